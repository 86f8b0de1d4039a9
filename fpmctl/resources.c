/*
 * resources.c - resource limits of accounts and their counters file.
 */
#include "resources.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fsutil.h"
#include "instance.h"
#include "ops.h"
#include "proc.h"
#include "wlf_metrics.h"
#include "wlf_sys.h"

void fpm_limits_of(const wlf_settings *eff, wlf_limits *l)
{
    wlf_settings_limits(eff, &l->cpu, &l->memory, &l->tasks, &l->io_weight);
}

void fpm_account_limits(const wlf_config *cfg, const char *name,
                        wlf_limits *l)
{
    char path[PATH_MAX];
    wlf_account acct;
    wlf_settings eff;
    wlf_err err;

    memset(l, 0, sizeof(*l));
    wlf_path_account_file(cfg, name, path, sizeof(path));
    if (wlf_account_load(cfg, path, &acct, &err) < 0)
        return;
    if (wlf_account_effective(cfg, &acct, &eff) == 0) {
        fpm_limits_of(&eff, l);
        wlf_settings_free(&eff);
    }
    wlf_account_free(&acct);
}

static int systemd_reload(const fpm_ctx *ctx, wlf_err *err)
{
    char *argv[] = { (char *)fpm_systemctl(), (char *)"daemon-reload", NULL };
    proc_result r;
    int rc = 0;

    fpm_info(ctx, "systemctl daemon-reload");
    if (proc_run(argv, NULL, 60000, &r, err) < 0)
        return -1;
    if (r.status != 0) {
        char line[300];
        rc = wlf_fail(err, "cgroup", "systemctl daemon-reload failed: %s",
                      proc_pick_line(r.out, NULL, line, sizeof(line)));
    }
    proc_result_free(&r);
    return rc;
}

/* The keys of the account's instances: NAME, and NAME.vV for each other
 * version it has on disk. */
typedef struct {
    char keys[WLF_MAX_INSTANCES][FPM_KEY_MAX + 1];
    const char *ptrs[WLF_MAX_INSTANCES];
    char versions[WLF_MAX_INSTANCES][WLF_VERSION_MAX + 1];
    size_t n;
} instance_keys;

static void keys_on_disk(const wlf_config *cfg, const char *name,
                         instance_keys *k)
{
    size_t nv = fpm_instances_on_disk(cfg, name, k->versions + 1,
                                      WLF_MAX_INSTANCES - 1);

    k->versions[0][0] = '\0';
    k->n = nv + 1;
    for (size_t i = 0; i < k->n; i++) {
        wlf_instance_key(name, k->versions[i], k->keys[i],
                         sizeof(k->keys[i]));
        k->ptrs[i] = k->keys[i];
    }
}

static int write_slice(const fpm_ctx *ctx, const char *name,
                       const char *const *keys, size_t n_keys,
                       const wlf_limits *l, int *new_dropin, wlf_err *err)
{
    int changed;

    if (fpm_slice_write(ctx->cfg.unit_dir, ctx->cfg.cgroup_subtree, name,
                        keys, n_keys, l, &changed, new_dropin, err) < 0)
        return -1;
    return changed ? systemd_reload(ctx, err) : 0;
}

static int slice_exists(const fpm_ctx *ctx, const char *name)
{
    char slice[160], path[PATH_MAX];

    wlf_slice_name(ctx->cfg.cgroup_subtree, name, slice, sizeof(slice));
    return fs_path(path, sizeof(path), "%s/%s", ctx->cfg.unit_dir,
                   slice) == 0 && access(path, F_OK) == 0;
}

int fpm_limits_enter(const fpm_ctx *ctx, const char *name, const char *key,
                     const wlf_limits *known, fpm_cg_join *join,
                     wlf_err *err)
{
    const wlf_config *cfg = &ctx->cfg;
    wlf_cg_layout lo;
    wlf_limits l;
    int new_dropin;

    memset(join, 0, sizeof(*join));
    if (known)
        l = *known;
    else
        fpm_account_limits(cfg, name, &l);
    if (cfg->service == WLF_SERVICE_SYSTEMD) {
        /* the unit's drop-in puts it in the slice; systemd does the rest */
        if (!wlf_limits_any(&l) && !slice_exists(ctx, name))
            return 0;
        return write_slice(ctx, name, &key, 1, &l, &new_dropin, err);
    }
    wlf_cgroup_detect_host(&lo);
    if (lo.mode == WLF_CG_NONE) {
        if (wlf_limits_any(&l))
            fpm_error("%s: limits are not enforced: %s", name, lo.why);
        return 0;
    }
    if (!wlf_limits_any(&l) &&
        !fpm_cgroup_exists(&lo, cfg->cgroup_subtree, name))
        return 0;
    fpm_info(ctx, "%s: the new master starts in cgroup %s/%s", name,
             cfg->cgroup_subtree, name);
    return fpm_cgroup_apply(&lo, cfg->cgroup_subtree, name, &l, join, err);
}

int fpm_limits_for_process(fpm_ctx *ctx, const char *name,
                           fpm_cg_join *join, char *slice, size_t len,
                           int *lock_rc, wlf_err *err)
{
    const wlf_config *cfg = &ctx->cfg;
    int systemd = cfg->service == WLF_SERVICE_SYSTEMD;
    wlf_cg_layout lo;
    wlf_limits l;
    int rc;

    memset(join, 0, sizeof(*join));
    slice[0] = '\0';
    *lock_rc = 0;
    fpm_account_limits(cfg, name, &l);
    if (!systemd) {
        wlf_cgroup_detect_host(&lo);
        if (lo.mode == WLF_CG_NONE) {
            if (wlf_limits_any(&l))
                fpm_error("%s: limits are not enforced: %s", name, lo.why);
            return 0;
        }
    }
    /* the writers keep an existing group's (slice's) limits current,
     * under the lock: a PHP run need not wait for them */
    if (systemd ? slice_exists(ctx, name)
                : fpm_cgroup_join_of(&lo, cfg->cgroup_subtree, name,
                                     join) > 0) {
        if (systemd)
            wlf_slice_name(cfg->cgroup_subtree, name, slice, len);
        return 0;
    }
    if (!wlf_limits_any(&l))
        return 0;
    if ((*lock_rc = fpm_take_lock(ctx, ctx->config_path)) != 0)
        return -1;
    /* read again: a writer may have changed them while we waited */
    rc = fpm_limits_enter(ctx, name, name, NULL, join, err);
    close(ctx->lock_fd);
    ctx->lock_fd = -1;
    if (rc == 0 && systemd)
        wlf_slice_name(cfg->cgroup_subtree, name, slice, len);
    return rc;
}

static const char *busctl(void)
{
    const char *s = getenv("WLFCGI_BUSCTL");

    return s && *s ? s : "busctl";
}

int fpm_scope_place(const fpm_ctx *ctx, const char *name,
                    const char *slice, pid_t pid, wlf_err *err)
{
    char unit[160], pidtext[24], line[300], procfile[64], want[170];
    char *argv[] = { (char *)busctl(), (char *)"call",
                     (char *)"org.freedesktop.systemd1",
                     (char *)"/org/freedesktop/systemd1",
                     (char *)"org.freedesktop.systemd1.Manager",
                     (char *)"StartTransientUnit", (char *)"ssa(sv)a(sa(sv))",
                     unit, (char *)"fail", (char *)"3",
                     (char *)"PIDs", (char *)"au", (char *)"1", pidtext,
                     (char *)"Slice", (char *)"s", (char *)slice,
                     (char *)"CollectMode", (char *)"s",
                     (char *)"inactive-or-failed", (char *)"0", NULL };
    long long deadline = wlf_now_ms() + 10000;
    proc_result r;

    snprintf(unit, sizeof(unit), "wlfcgi-php-%s-%ld.scope", name,
             (long)pid);
    snprintf(pidtext, sizeof(pidtext), "%ld", (long)pid);
    fpm_info(ctx, "%s: PHP (pid %ld) runs in %s in %s", name, (long)pid,
             unit, slice);
    if (proc_run(argv, NULL, 30000, &r, err) < 0)
        return -1;
    if (r.status != 0 || r.timed_out) {
        wlf_fail(err, name, "cannot start a scope in %s: %s", slice,
                 proc_pick_line(r.out, NULL, line, sizeof(line)));
        proc_result_free(&r);
        return -1;
    }
    proc_result_free(&r);
    /* the job that moves it runs after the call returned */
    snprintf(procfile, sizeof(procfile), "/proc/%ld/cgroup", (long)pid);
    snprintf(want, sizeof(want), "/%s\n", unit);
    for (;;) {
        char *data;
        int found;
        if (fs_read_file(procfile, &data, NULL) < 0)
            return wlf_fail(err, name, "PHP ended before it was in %s",
                            unit);
        found = strstr(data, want) != NULL;
        free(data);
        if (found)
            return 0;
        if (wlf_now_ms() > deadline)
            return wlf_fail(err, name, "PHP was not moved into %s within "
                            "10 s", unit);
        proc_sleep_ms(5);
    }
}

int fpm_limits_supported(const fpm_ctx *ctx, const wlf_limits *l,
                         wlf_err *err)
{
    static const char *const keys[] = { "cpu", "memory", "tasks",
                                        "io_weight" };
    const long long vals[] = { l->cpu, l->memory, l->tasks, l->io_weight };
    wlf_cg_layout lo;
    const char *why;

    if (ctx->cfg.service == WLF_SERVICE_SYSTEMD)
        return 0;
    wlf_cgroup_detect_host(&lo);
    for (int i = 0; i < 4; i++)
        if (vals[i] && !wlf_cgroup_can(&lo, keys[i], &why))
            return wlf_fail(err, keys[i], "cannot be enforced on this host: "
                            "%s", why);
    return 0;
}

int fpm_limits_need_new_instance(const fpm_ctx *ctx, const char *name)
{
    char path[PATH_MAX];
    char slot = fpm_live_slot(&ctx->cfg, name);

    if (ctx->cfg.service != WLF_SERVICE_SYSTEMD || slot == 0)
        return 0;
    return fs_path(path, sizeof(path), "%s/wlfcgi-fpm@%s.%c.service.d/"
                   "50-wlfcgi-limits.conf", ctx->cfg.unit_dir, name,
                   slot) < 0 || access(path, F_OK) != 0;
}

int fpm_limits_apply_now(const fpm_ctx *ctx, const char *name,
                         const wlf_limits *l, wlf_err *err)
{
    const wlf_config *cfg = &ctx->cfg;
    wlf_cg_layout lo;
    fpm_cg_join join;
    int new_dropin;
    instance_keys k = { 0 };

    keys_on_disk(cfg, name, &k);
    if (cfg->service == WLF_SERVICE_SYSTEMD)
        return write_slice(ctx, name, k.ptrs, k.n, l, &new_dropin, err);
    wlf_cgroup_detect_host(&lo);
    if (lo.mode == WLF_CG_NONE)
        return wlf_limits_any(l) ? wlf_fail(err, "cgroup", "limits cannot "
                                            "be enforced here: %s", lo.why)
                                 : 0;
    if (!wlf_limits_any(l) && !fpm_cgroup_exists(&lo, cfg->cgroup_subtree,
                                                 name))
        return 0;
    if (fpm_cgroup_apply(&lo, cfg->cgroup_subtree, name, l, &join, err) < 0)
        return -1;
    /* a master started before the account had limits, and its workers,
     * of every instance of the account */
    for (size_t i = 0; i < k.n * 2; i++) {
        char slot = i % 2 ? 'b' : 'a';
        fpm_slot s;
        pid_t pids[513];
        size_t n;
        fpm_slot_init_version(cfg, name, k.versions[i / 2], slot, &s);
        if ((pids[0] = fpm_slot_pid(&s)) == 0 ||
            fpm_cgroup_holds(&join, pids[0]))
            continue;
        n = 1 + proc_children(pids[0], pids + 1, 512);
        fpm_info(ctx, "%s: moving master %ld of slot %c and %zu worker(s) "
                 "into its cgroup", s.key, (long)pids[0], slot, n - 1);
        if (fpm_cgroup_move(&join, pids, n, err) < 0)
            return -1;
    }
    return 0;
}

int fpm_limits_remove(const fpm_ctx *ctx, const char *name, wlf_err *err)
{
    wlf_cg_layout lo;
    int changed;

    if (ctx->cfg.service == WLF_SERVICE_SYSTEMD) {
        if (fpm_slice_remove(ctx->cfg.unit_dir, ctx->cfg.cgroup_subtree,
                             name, &changed, err) < 0)
            return -1;
        return changed ? systemd_reload(ctx, err) : 0;
    }
    wlf_cgroup_detect_host(&lo);
    if (lo.mode == WLF_CG_NONE)
        return 0;
    return fpm_cgroup_remove(&lo, ctx->cfg.cgroup_subtree, name, err);
}

int fpm_limits_describe(const fpm_ctx *ctx, char *buf, size_t len)
{
    wlf_cg_layout lo;
    size_t off;

    if (ctx->cfg.service == WLF_SERVICE_SYSTEMD) {
        snprintf(buf, len, "systemd slices %s-NAME.slice (CPUQuota=, "
                 "MemoryMax=, TasksMax=, IOWeight=)", ctx->cfg.cgroup_subtree);
        return 1;
    }
    wlf_cgroup_detect_host(&lo);
    if (lo.mode == WLF_CG_NONE) {
        snprintf(buf, len, "limits are not enforced: %s", lo.why);
        return 0;
    }
    off = (size_t)snprintf(buf, len, "cgroup %s:", lo.mode == WLF_CG_V2
                                                   ? "v2" : "v1");
    for (int c = 0; c < WLF_CG_COUNT && off < len; c++)
        if (lo.root[c][0] && !(lo.mode == WLF_CG_V2 && c == WLF_CG_CPUACCT))
            off += (size_t)snprintf(buf + off, len - off, " %s",
                                    wlf_cg_ctrl_name((wlf_cg_ctrl)c));
    if (off < len)
        snprintf(buf + off, len - off, " under %s/",
                 ctx->cfg.cgroup_subtree);
    return 1;
}

/* ---- counters ---- */

static int ensure_metrics_dir(const wlf_config *cfg, wlf_err *err)
{
    char dir[PATH_MAX];
    struct group *g = getgrnam(cfg->httpd_group);

    /* httpd's status handler reads it; accounts' users do not */
    fs_path(dir, sizeof(dir), "%s/metrics", cfg->state_dir);
    return fs_ensure_dir(dir, 0750, 0, g ? g->gr_gid : 0, err);
}

void fpm_retire_counters(const wlf_config *cfg, const char *name,
                         const char *sock, pid_t pid)
{
    wlf_fpm_status st;
    wlf_counters c;
    wlf_fpm_counts final;
    wlf_err err;
    char path[PATH_MAX], *text;

    if (pid <= 0 || wlf_fpm_status_fetch(sock, WLF_FPM_STATUS_PATH, 1000,
                                         &st, &err) < 0)
        return;
    if (ensure_metrics_dir(cfg, &err) < 0)
        return;
    wlf_counters_path(cfg->state_dir, name, path, sizeof(path));
    wlf_counters_read(path, &c);
    final.requests = st.accepted_conn;
    final.slow_requests = st.slow_requests;
    final.max_children_reached = st.max_children_reached;
    wlf_counters_retire(&c, pid, (long long)time(NULL) - st.start_since,
                        &final);
    if ((text = wlf_counters_render(&c)) != NULL) {
        fs_write_atomic(path, text, strlen(text), 0644, &err);
        free(text);
    }
}
