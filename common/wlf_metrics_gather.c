/*
 * wlf_metrics_gather.c - reading an account's numbers: the status pages of
 * its masters, its counters file. Used by fpmctl and mod_wlfcgi alike.
 */
#include "wlf_metrics.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wlf_config.h"
#include "wlf_fcgi.h"

const char *wlf_counters_path(const char *state_dir, const char *name,
                              char *buf, size_t len)
{
    snprintf(buf, len, "%s/metrics/%s.counters", state_dir, name);
    return buf;
}

void wlf_counters_read(const char *path, wlf_counters *c)
{
    FILE *f = fopen(path, "re");
    char buf[1024];
    size_t n;

    memset(c, 0, sizeof(c[0]));
    if (f == NULL)
        return;
    n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    if (wlf_counters_parse(buf, c) < 0)
        memset(c, 0, sizeof(c[0]));
}

static long long read_pid(const char *path)
{
    FILE *f = fopen(path, "re");
    long long pid = 0;

    if (f == NULL)
        return 0;
    if (fscanf(f, "%lld", &pid) != 1)
        pid = 0;
    fclose(f);
    return pid;
}

void wlf_metrics_gather(const char *socket_dir, const char *state_dir,
                        const char *name, const char *const *keys,
                        size_t n_keys, int timeout_ms, wlf_acct_metrics *m)
{
    wlf_master_seen *seen = calloc(2 * (n_keys ? n_keys : 1), sizeof(*seen));
    wlf_counters ret;
    size_t n = 0, n_silent = 0;
    long long silent[2 * WLF_MAX_INSTANCES];
    char link[512], path[512];
    char live;
    time_t now = time(NULL);

    if (seen == NULL || n_keys > WLF_MAX_INSTANCES) {
        /* no memory to look: say nothing rather than something low */
        free(seen);
        memset(&ret, 0, sizeof(ret));
        wlf_metrics_fold(m, NULL, 0, &ret);
        m->counts_known = 0;
        return;
    }
    snprintf(link, sizeof(link), "%s/%s.sock", socket_dir, keys[0]);
    live = wlf_slot_of_link(link);
    /* every slot of every instance (the account's own PHP version's,
     * keys[0], and those of other versions): one account's numbers */
    for (size_t k = 0; k < 2 * n_keys; k++) {
        char slot = k % 2 ? 'b' : 'a';
        const char *key = keys[k / 2];
        wlf_err err;
        wlf_master_seen *s = &seen[n];
        snprintf(path, sizeof(path), "%s/%s.%c.pid", socket_dir, key, slot);
        memset(s, 0, sizeof(*s));
        if ((s->pid = read_pid(path)) <= 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s.%c.sock", socket_dir, key, slot);
        if (access(path, F_OK) != 0 ||
            wlf_fpm_status_fetch(path, WLF_FPM_STATUS_PATH, timeout_ms,
                                 &s->status, &err) < 0) {
            /* alive (EPERM: a root master seen by httpd's user) but
             * silent: its counts are unknown this time */
            if (kill((pid_t)s->pid, 0) == 0 || errno == EPERM)
                silent[n_silent++] = s->pid;
            continue;
        }
        s->started = s->status.start_since >= 0
                         ? (long long)now - s->status.start_since : 0;
        s->live = k < 2 && slot == live;
        n++;
    }
    /* after the masters: a master retired meanwhile is in the file */
    wlf_counters_read(wlf_counters_path(state_dir, name, path, sizeof(path)),
                      &ret);
    wlf_metrics_fold(m, seen, n, &ret);
    free(seen);
    /* a silent master that fpmctl retired (it is quitting after a switch
     * or a stop) is in the file already; any other one is not */
    for (size_t i = 0; i < n_silent; i++) {
        int retired = 0;
        for (size_t j = 0; j < ret.n_retired; j++)
            retired |= ret.retired[j].pid == silent[i];
        if (!retired)
            m->counts_known = 0;
    }
}

int wlf_metrics_usage(int systemd, const char *subtree,
                      const wlf_cg_layout *lo, const char *name,
                      wlf_cg_usage *u)
{
    char parent[64], slice[160];

    if (!systemd)
        return wlf_cgroup_usage(lo, subtree, name, u);
    /* systemd nests <subtree>-NAME.slice in <subtree>.slice */
    snprintf(parent, sizeof(parent), "%s.slice", subtree);
    wlf_slice_name(subtree, name, slice, sizeof(slice));
    return wlf_cgroup_usage(lo, parent, slice, u);
}

/* Suspended by fpmctl suspend? The NAME.sock link is what httpd goes by
 * (the module's account list may predate a suspend or a resume); the
 * account file answers when the link is missing. */
static int account_suspended(const wlf_config *cfg, const wlf_account *acct)
{
    char link[PATH_MAX];
    char st = wlf_link_state(wlf_path_socket(cfg, acct->name, link,
                                             sizeof(link)));

    return st == WLF_LINK_SUSPENDED ||
           (st == 0 && wlf_account_is_suspended(acct));
}

void wlf_metrics_account(const wlf_config *cfg, const wlf_account *acct,
                         const wlf_cg_layout *lo, int timeout_ms,
                         wlf_acct_metrics *m)
{
    wlf_settings eff;
    wlf_instance inst[WLF_MAX_INSTANCES];
    const char *keys[WLF_MAX_INSTANCES];
    size_t n_inst = wlf_account_instances(cfg, acct, inst);
    int on_demand = 0;
    char stopped[512];

    for (size_t i = 0; i < n_inst; i++)
        keys[i] = inst[i].key;
    memset(m, 0, sizeof(*m));
    wlf_copy(m->name, sizeof(m->name), acct->name);
    m->max_children = -1;
    if (wlf_account_effective(cfg, acct, &eff) == 0) {
        m->max_children = eff.num[WLF_S_MAX_CHILDREN];
        on_demand = eff.num[WLF_S_ACTIVATION] == WLF_ACTIVATION_ON_DEMAND;
        wlf_settings_limits(&eff, &m->limits.cpu, &m->limits.memory,
                            &m->limits.tasks, &m->limits.io_weight);
        wlf_settings_free(&eff);
    }
    wlf_metrics_gather(cfg->socket_dir, cfg->state_dir, acct->name, keys,
                       n_inst, timeout_ms, m);
    if (account_suspended(cfg, acct))
        m->state = WLF_ACCT_SUSPENDED;
    else
        m->state = m->up || m->total >= 0 ? WLF_ACCT_RUNNING
                                          : WLF_ACCT_STOPPED;
    /* an on-demand account without a master is idle (its first request
     * starts it) unless `fpmctl stop` marked it stopped */
    wlf_path_stopped(cfg, acct->name, stopped, sizeof(stopped));
    if (m->state == WLF_ACCT_STOPPED && on_demand &&
        access(stopped, F_OK) != 0)
        m->state = WLF_ACCT_IDLE;
    /* only its own version is on demand: the instances of other versions
     * its domains use run while it idles */
    if (m->state == WLF_ACCT_RUNNING && on_demand && n_inst > 1) {
        char pid[512];
        int primary = 0;
        for (char slot = 'a'; slot <= 'b' && !primary; slot++)
            primary = access(wlf_path_slot_pid(cfg, acct->name, slot, pid,
                                               sizeof(pid)), F_OK) == 0;
        if (!primary)
            m->state = WLF_ACCT_IDLE;
    }
    m->have_usage = wlf_metrics_usage(cfg->service == WLF_SERVICE_SYSTEMD,
                                      cfg->cgroup_subtree, lo, acct->name,
                                      &m->usage) == 0;
}

char *wlf_metrics_page(const wlf_config *cfg, const wlf_account_list *list,
                       const char *only, int timeout_ms)
{
    wlf_acct_metrics *ms = calloc(list->n ? list->n : 1, sizeof(*ms));
    wlf_cg_layout lo;
    size_t k = 0;
    char *text;

    if (ms == NULL)
        return NULL;
    wlf_cgroup_detect_host(&lo);
    for (size_t i = 0; i < list->n; i++) {
        if (only && strcmp(list->items[i].name, only) != 0)
            continue;
        wlf_metrics_account(cfg, &list->items[i], &lo, timeout_ms, &ms[k++]);
    }
    text = wlf_metrics_render(ms, k);
    free(ms);
    return text;
}
