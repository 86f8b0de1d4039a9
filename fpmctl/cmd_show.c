/*
 * cmd_show.c - fpmctl list, show and status: what accounts there are, how
 * they are configured, and how their instances are doing.
 *
 * The --json objects share stable fields: schema (FPM_JSON_SCHEMA), name,
 * user, group, home, domains, socket, slot, state, pid, max_children,
 * max_upload (bytes), max_upload_text, php and suspended. show adds every
 * effective setting (typed values), status what the pool's own status
 * page says (its start time in ISO 8601). fpmctl(8) documents them.
 */
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activation.h"
#include "args.h"
#include "fpmctl.h"
#include "instance.h"
#include "json.h"
#include "ops.h"
#include "render.h"
#include "resources.h"
#include "wlf_metrics.h"
#include "wlf_size.h"

const char cmd_list_usage[] = "list";
const char cmd_list_help[] =
    "List every account with its state (from pid files and /proc, for\n"
    "on-demand accounts also from fpmctl serve or the socket unit; use\n"
    "status to ask the instances themselves), live slot, pid, user, PHP\n"
    "version, max_children, max_upload and domains. An account whose file\n"
    "does not load is listed as broken (the reason on stderr) and makes\n"
    "list exit 1. Without accounts it says so. With --json: an array of\n"
    "objects with the fields name, user, group, home, domains, socket,\n"
    "slot, state, pid, max_children, max_upload (bytes), php and\n"
    "suspended (null, or since and reason); a broken one has name, state,\n"
    "file and error.\n";

const char cmd_show_usage[] = "show NAME";
const char cmd_show_help[] =
    "Show account NAME: identity, domains, files, the state of its\n"
    "instance, every setting with its effective value and whether the\n"
    "account overrides the global default, its php_admin and php_value\n"
    "settings, env entries and extensions, and the timeouts derived from\n"
    "them. --json gives the same as one object (the fields of list, plus\n"
    "settings, overrides, php_admin, php_value, env, extensions, timeouts,\n"
    "files; fpmctl(8) describes them).\n";

const char cmd_status_usage[] = "status [--openmetrics] [NAME...]";
const char cmd_status_help[] =
    "Ask each instance (all accounts without NAME) for its status page over\n"
    "FastCGI on its own socket (no httpd, no curl): state, pid, start time,\n"
    "accepted connections, active/idle/total processes, listen queue and\n"
    "how often max_children was reached; with limits, each limit and what\n"
    "the account uses (CPU seconds, memory, tasks).\n"
    "  --openmetrics  every listed account in one OpenMetrics text\n"
    "                 exposition for Prometheus (counters per account that\n"
    "                 do not go back at a reload); exit 0 even when an\n"
    "                 instance is down (wlfcgi_up says so).\n"
    "States: running; stopped; dead\n"
    "(pid file but no master, or the socket refuses); unresponsive (the\n"
    "master lives but did not answer within 3 s); suspended (fpmctl\n"
    "suspend); broken (the account file does not load: the reason\n"
    "follows). Exit 0 when every listed instance is running or suspended,\n"
    "1 otherwise, 3 for an unknown NAME.\n";

static void json_stable(jw *w, const fpm_ctx *ctx, const wlf_account *acct,
                        const wlf_settings *eff, const fpm_probe *p)
{
    char sock[PATH_MAX], size[32];

    jw_kint(w, "schema", FPM_JSON_SCHEMA);
    jw_kstr(w, "name", acct->name);
    jw_kstr(w, "user", acct->user);
    jw_kstr(w, "group", acct->group);
    jw_kstr(w, "home", acct->home);
    jw_key(w, "domains");
    jw_arr(w);
    for (size_t i = 0; i < acct->n_domains; i++)
        jw_str(w, acct->domains[i]);
    jw_arr_end(w);
    jw_kstr(w, "socket", wlf_path_socket(&ctx->cfg, acct->name, sock,
                                         sizeof(sock)));
    if (p->slot) {
        char s[2] = { p->slot, '\0' };
        jw_kstr(w, "slot", s);
    }
    else
        jw_kstr(w, "slot", NULL);
    jw_kstr(w, "state", fpm_state_name(p->state));
    jw_kstr(w, "activation", eff->num[WLF_S_ACTIVATION] ==
                             WLF_ACTIVATION_ON_DEMAND ? "on-demand"
                                                      : "always");
    jw_key(w, "pid");
    if (p->pid)
        jw_int(w, p->pid);
    else
        jw_null(w);
    jw_kint(w, "max_children", eff->num[WLF_S_MAX_CHILDREN]);
    jw_kint(w, "max_upload", eff->num[WLF_S_MAX_UPLOAD]);
    jw_kstr(w, "max_upload_text", wlf_size_format(eff->num[WLF_S_MAX_UPLOAD],
                                                  size, sizeof(size)));
    jw_kstr(w, "php", eff->str[WLF_S_PHP]);
    /* domains with a PHP version of their own */
    jw_key(w, "domain_php");
    jw_obj(w);
    for (size_t i = 0; i < acct->n_domain_php; i++)
        jw_kstr(w, acct->domain_php[i].domain, acct->domain_php[i].php);
    jw_obj_end(w);
    jw_key(w, "suspended");
    if (wlf_account_is_suspended(acct)) {
        jw_obj(w);
        jw_kstr(w, "since", acct->suspended_since);
        jw_kstr(w, "reason", acct->suspended_reason);
        jw_obj_end(w);
    }
    else
        jw_null(w);
}

static void json_status(jw *w, const fpm_probe *p);

/* "instances": one object per PHP version the account runs, the
 * account's own first (its state is the account's: `primary`, which knows
 * an on-demand account's idle and starting); with ask_pool, each one's
 * status page too */
static void json_instances(jw *w, const fpm_ctx *ctx,
                           const wlf_account *acct, int ask_pool,
                           const fpm_probe *primary)
{
    wlf_instance inst[WLF_MAX_INSTANCES];
    size_t n = wlf_account_instances(&ctx->cfg, acct, inst);
    char sock[PATH_MAX];

    jw_key(w, "instances");
    jw_arr(w);
    for (size_t i = 0; i < n; i++) {
        fpm_probe p;
        if (inst[i].primary)
            p = *primary;
        else
            fpm_instance_probe_version(&ctx->cfg, acct->name,
                                       inst[i].version, ask_pool, &p);
        jw_obj(w);
        jw_kstr(w, "php", inst[i].version);
        jw_kstr(w, "key", inst[i].key);
        jw_kbool(w, "primary", inst[i].primary);
        jw_kstr(w, "socket", wlf_path_socket(&ctx->cfg, inst[i].key, sock,
                                             sizeof(sock)));
        if (p.slot) {
            char s[2] = { p.slot, '\0' };
            jw_kstr(w, "slot", s);
        }
        else
            jw_kstr(w, "slot", NULL);
        jw_kstr(w, "state", fpm_state_name(p.state));
        jw_key(w, "pid");
        if (p.pid)
            jw_int(w, p.pid);
        else
            jw_null(w);
        if (ask_pool)
            json_status(w, &p);
        jw_obj_end(w);
    }
    jw_arr_end(w);
}

/* show: a line per instance of another PHP version */
static void print_other_instances(const fpm_ctx *ctx, const wlf_account *acct)
{
    wlf_instance inst[WLF_MAX_INSTANCES];
    size_t n = wlf_account_instances(&ctx->cfg, acct, inst);
    char sock[PATH_MAX];

    for (size_t i = 1; i < n; i++) {
        fpm_probe p;
        fpm_instance_probe_version(&ctx->cfg, acct->name, inst[i].version,
                                   0, &p);
        printf("php %-8s %s, %s", inst[i].version,
               wlf_path_socket(&ctx->cfg, inst[i].key, sock, sizeof(sock)),
               fpm_state_name(p.state));
        if (p.slot && p.pid)
            printf(" (slot %c, pid %ld)", p.slot, (long)p.pid);
        printf("\n");
    }
}

/* "8.2", or "8.2+8.1" when domains run other versions */
static const char *versions_text(const fpm_ctx *ctx, const wlf_account *acct,
                                 char *buf, size_t len)
{
    wlf_instance inst[WLF_MAX_INSTANCES];
    size_t n = wlf_account_instances(&ctx->cfg, acct, inst), off = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < n && off < len; i++)
        off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? "+" : "",
                                inst[i].version ? inst[i].version : "?");
    return buf;
}

/* " since DATE: REASON" of a suspended account, for text output */
static const char *suspension(const wlf_account *acct, char *buf,
                              size_t len)
{
    snprintf(buf, len, " since %s%s%s", acct->suspended_since,
             acct->suspended_reason[0] ? ": " : "", acct->suspended_reason);
    return buf;
}

/* What serve says about every on-demand account (NULL, 0 without it). */
typedef struct {
    int runs;
    fpm_serve_state *v;
    size_t n;
} serve_view;

static void serve_view_load(fpm_ctx *ctx, serve_view *sv)
{
    wlf_err err;
    int fd = fpm_serve_conn(ctx);

    memset(sv, 0, sizeof(*sv));
    sv->runs = fd >= 0;
    if (fd >= 0 && fpm_serve_list(fd, &sv->v, &sv->n, &err) < 0)
        fpm_info(ctx, "%s", err.msg);
}

static void probe_account(const fpm_ctx *ctx, const serve_view *sv,
                          const wlf_account *a, int ask_pool, fpm_probe *p)
{
    fpm_account_probe(&ctx->cfg, a, ask_pool, p);
    if (fpm_is_on_demand(&ctx->cfg, a))
        fpm_probe_on_demand(&ctx->cfg, a->name,
                            fpm_serve_find(sv->v, sv->n, a->name), sv->runs,
                            p);
}

/* A setting's value as JSON: a number (sizes in bytes, cpu in percent of
 * one core), true/false, or a string (choices, the PHP version). */
static void json_setting(jw *w, const wlf_settings *s, int id)
{
    char buf[64];

    switch (wlf_setting_defs[id].type) {
    case WLF_T_INT:
    case WLF_T_SIZE:
    case WLF_T_PERCENT:         /* of one CPU core */
        jw_int(w, s->num[id]);
        break;
    case WLF_T_BOOL:
        jw_bool(w, s->num[id] != 0);
        break;
    case WLF_T_CHOICE:
    case WLF_T_STRING:
        jw_str(w, wlf_setting_format(s, id, buf, sizeof(buf)));
        break;
    }
}

/* ---- limits and usage ---- */

/* The cgroup layout is found once per run: it reads /proc/self/mountinfo,
 * which was most of `status` with thousands of accounts. */
static int account_usage(const fpm_ctx *ctx, const char *name,
                         wlf_cg_usage *u)
{
    static wlf_cg_layout lo;
    static int detected;

    if (!detected) {
        wlf_cgroup_detect_host(&lo);
        detected = 1;
    }
    return wlf_metrics_usage(ctx->cfg.service == WLF_SERVICE_SYSTEMD,
                             ctx->cfg.cgroup_subtree, &lo, name, u);
}

/* "cpu 50% (used 12.3 s), memory 1G (uses 45M), tasks 64 (7 now)" */
static void limits_text(const fpm_ctx *ctx, const char *name,
                        const wlf_settings *eff, char *buf, size_t len)
{
    wlf_limits l;
    wlf_cg_usage u;
    int have = account_usage(ctx, name, &u) == 0;
    char a[32], b[32];
    size_t off;

    fpm_limits_of(eff, &l);
    off = (size_t)snprintf(buf, len, "cpu %s", wlf_cpu_format(l.cpu, a,
                                                              sizeof(a)));
    if (have && u.cpu_usec >= 0 && off < len)
        off += (size_t)snprintf(buf + off, len - off, " (used %.1f s)",
                                (double)u.cpu_usec / 1e6);
    if (off < len)
        off += (size_t)snprintf(buf + off, len - off, ", memory %s",
                                wlf_size_format(l.memory, a, sizeof(a)));
    if (have && u.memory >= 0 && off < len) {
        long long mib = u.memory / (1024 * 1024);
        off += (size_t)snprintf(buf + off, len - off, " (uses %lldM", mib);
        if (u.oom_kills > 0 && off < len)
            off += (size_t)snprintf(buf + off, len - off, ", %lld killed "
                                    "for it", u.oom_kills);
        if (off < len)
            off += (size_t)snprintf(buf + off, len - off, ")");
    }
    if (off < len)
        off += (size_t)snprintf(buf + off, len - off, ", tasks %lld",
                                l.tasks);
    if (have && u.tasks >= 0 && off < len)
        off += (size_t)snprintf(buf + off, len - off, " (%lld now)",
                                u.tasks);
    if (off < len)
        snprintf(buf + off, len - off, ", io_weight %s%s",
                 l.io_weight ? (snprintf(b, sizeof(b), "%lld", l.io_weight),
                                b) : "0",
                 wlf_limits_any(&l) || have ? "" : " (no limits)");
}

static void json_limits(jw *w, const fpm_ctx *ctx, const char *name,
                        const wlf_settings *eff)
{
    wlf_limits l;
    wlf_cg_usage u;

    fpm_limits_of(eff, &l);
    jw_key(w, "limits");
    jw_obj(w);
    jw_kint(w, "cpu", l.cpu);
    jw_kint(w, "memory", l.memory);
    jw_kint(w, "tasks", l.tasks);
    jw_kint(w, "io_weight", l.io_weight);
    jw_obj_end(w);
    jw_key(w, "usage");
    if (account_usage(ctx, name, &u) < 0) {
        jw_null(w);
        return;
    }
    jw_obj(w);
    jw_key(w, "cpu_seconds");
    if (u.cpu_usec >= 0)
        jw_double(w, (double)u.cpu_usec / 1e6);
    else
        jw_null(w);
    jw_kint(w, "memory", u.memory);
    jw_kint(w, "tasks", u.tasks);
    jw_kint(w, "oom_kills", u.oom_kills);
    jw_obj_end(w);
}

/* status --openmetrics: every listed account in one exposition */
static int print_openmetrics(fpm_ctx *ctx, char **names, size_t n)
{
    wlf_acct_metrics *ms = calloc(n ? n : 1, sizeof(*ms));
    wlf_cg_layout lo;
    size_t k = 0;
    char *text;
    int rc = FPM_EXIT_OK;

    if (ms == NULL) {
        fpm_error("out of memory");
        return FPM_EXIT_FAILED;
    }
    wlf_cgroup_detect_host(&lo);
    for (size_t i = 0; i < n; i++) {
        wlf_account acct;
        wlf_err err;
        int r = fpm_account_load(ctx, names[i], &acct, &err);
        if (r != 0) {
            fpm_report(&err, r);
            rc = FPM_EXIT_FAILED;
            continue;
        }
        wlf_metrics_account(&ctx->cfg, &acct, &lo, 1000, &ms[k++]);
        wlf_account_free(&acct);
    }
    if ((text = wlf_metrics_render(ms, k)) == NULL) {
        fpm_error("out of memory");
        rc = FPM_EXIT_FAILED;
    }
    else {
        fpm_print(text);
        free(text);
    }
    free(ms);
    return rc;
}

/* Print the document; -1 (said on stderr) when it ran out of memory. */
static int print_json(jw *w)
{
    char *out = jw_finish(w);

    if (out == NULL) {
        fpm_error("out of memory");
        return -1;
    }
    fpm_print(out);
    free(out);
    return 0;
}

static void join_domains(const wlf_account *acct, char *buf, size_t len)
{
    size_t off = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < acct->n_domains && off < len; i++)
        off += (size_t)snprintf(buf + off, len - off, "%s%s", i ? "," : "",
                                acct->domains[i]);
    if (acct->n_domains == 0)
        snprintf(buf, len, "-");
}

/* An account file that does not load: listed as broken, not left out. */
static void list_broken(const fpm_ctx *ctx, jw *w, const wlf_load_error *e)
{
    if (ctx->json) {
        jw_obj(w);
        jw_kint(w, "schema", FPM_JSON_SCHEMA);
        jw_kstr(w, "name", e->name);
        jw_kstr(w, "state", FPM_STATE_BROKEN);
        jw_kstr(w, "file", e->file);
        jw_kstr(w, "error", fpm_load_error_why(e));
        jw_obj_end(w);
    }
    else
        printf("%-16s %-12s %-4s %-8s %-16s %-8s %-8s %-10s %s\n", e->name,
               FPM_STATE_BROKEN, "-", "-", "-", "-", "-", "-", "-");
}

static int list_account(const fpm_ctx *ctx, const serve_view *sv, jw *w,
                        const wlf_account *a)
{
    wlf_settings eff;
    fpm_probe p;
    char up[32], doms[512], pid[16], slot[2] = { '-', '\0' }, php[96];

    if (wlf_account_effective(&ctx->cfg, a, &eff) < 0) {
        fpm_error("%s: out of memory", a->name);
        return -1;
    }
    probe_account(ctx, sv, a, 0, &p);
    if (ctx->json) {
        jw_obj(w);
        json_stable(w, ctx, a, &eff, &p);
        json_instances(w, ctx, a, 0, &p);
        jw_obj_end(w);
    }
    else {
        join_domains(a, doms, sizeof(doms));
        snprintf(pid, sizeof(pid), "%ld", (long)p.pid);
        if (p.slot)
            slot[0] = p.slot;
        printf("%-16s %-12s %-4s %-8s %-16s %-8s %-8lld %-10s %s\n",
               a->name, fpm_state_name(p.state), slot,
               p.pid ? pid : "-", a->user,
               versions_text(ctx, a, php, sizeof(php)),
               eff.num[WLF_S_MAX_CHILDREN],
               wlf_size_format(eff.num[WLF_S_MAX_UPLOAD], up,
                               sizeof(up)), doms);
    }
    wlf_settings_free(&eff);
    return 0;
}

int cmd_list(fpm_ctx *ctx, int argc, char **argv)
{
    wlf_account_list list;
    serve_view sv;
    wlf_err err;
    jw w = { 0 };
    int rc = FPM_EXIT_OK;
    const char **ops;
    size_t n_ops, i = 0, j = 0;

    if ((rc = fpm_operands(argc, argv, cmd_list_usage, 0, &ops, &n_ops)))
        return rc;
    free(ops);
    if (wlf_accounts_load(&ctx->cfg, &list, &err) < 0)
        return fpm_report(&err, FPM_EXIT_FAILED);
    serve_view_load(ctx, &sv);
    if (ctx->json)
        jw_arr(&w);
    else if (list.n || list.n_errors)
        /* STATE fits the longest state, "unresponsive" */
        printf("%-16s %-12s %-4s %-8s %-16s %-8s %-8s %-10s %s\n", "NAME",
               "STATE", "SLOT", "PID", "USER", "PHP", "CHILDREN",
               "MAX_UPLOAD", "DOMAINS");
    /* both lists are sorted by name: merge them */
    while (i < list.n || j < list.n_errors) {
        if (j < list.n_errors &&
            (i == list.n ||
             strcmp(list.errors[j].name, list.items[i].name) < 0))
            list_broken(ctx, &w, &list.errors[j++]);
        else if (list_account(ctx, &sv, &w, &list.items[i++]) < 0)
            rc = FPM_EXIT_FAILED;
    }
    if (ctx->json) {
        jw_arr_end(&w);
        if (print_json(&w) < 0)
            rc = FPM_EXIT_FAILED;
    }
    else if (list.n == 0 && list.n_errors == 0)
        printf("no accounts (`fpmctl add-account NAME --user USER` adds "
               "one)\n");
    fpm_flush_stdout();
    for (j = 0; j < list.n_errors; j++)
        fpm_error("%s", fpm_load_error_text(&list.errors[j]));
    if (list.n_errors)
        rc = FPM_EXIT_FAILED;
    wlf_account_list_free(&list);
    free(sv.v);
    return rc;
}

static void json_pairs(jw *w, const char *key, const wlf_php_admin *v,
                       size_t n)
{
    jw_key(w, key);
    jw_obj(w);
    for (size_t i = 0; i < n; i++)
        jw_kstr(w, v[i].key, v[i].value);
    jw_obj_end(w);
}

static void text_pairs(const char *title, const wlf_php_admin *v, size_t n)
{
    if (n == 0)
        return;
    printf("%s:\n", title);
    for (size_t i = 0; i < n; i++)
        printf("  %s = %s\n", v[i].key, v[i].value);
}

int cmd_show(fpm_ctx *ctx, int argc, char **argv)
{
    wlf_account acct;
    wlf_settings eff;
    wlf_err err;
    fpm_probe p;
    serve_view sv;
    fpm_timeouts t;
    char buf[PATH_MAX], v[64];
    int rc;
    const char **ops;
    size_t n_ops;

    if ((rc = fpm_operands(argc, argv, cmd_show_usage, 1, &ops, &n_ops)))
        return rc;
    if (n_ops != 1) {
        free(ops);
        return fpm_usage_error(cmd_show_usage, "name one account");
    }
    rc = fpm_account_load(ctx, ops[0], &acct, &err);
    free(ops);
    if (rc != FPM_EXIT_OK)
        return fpm_report(&err, rc);
    if (wlf_account_effective(&ctx->cfg, &acct, &eff) < 0) {
        wlf_account_free(&acct);
        fpm_error("out of memory");
        return FPM_EXIT_FAILED;
    }
    serve_view_load(ctx, &sv);
    probe_account(ctx, &sv, &acct, 1, &p);
    free(sv.v);
    fpm_compute_timeouts(&eff, ctx->cfg.upload_min_rate, &t);

    if (ctx->json) {
        jw w = { 0 };
        jw_obj(&w);
        json_stable(&w, ctx, &acct, &eff, &p);
        if (p.error[0])
            jw_kstr(&w, "error", p.error);
        jw_key(&w, "settings");
        jw_obj(&w);
        for (int i = 0; i < WLF_S_COUNT; i++) {
            jw_key(&w, wlf_setting_defs[i].key);
            jw_obj(&w);
            jw_key(&w, "value");
            json_setting(&w, &eff, i);
            jw_kstr(&w, "text", wlf_setting_format(&eff, i, v, sizeof(v)));
            jw_key(&w, "default");
            json_setting(&w, &ctx->cfg.defaults, i);
            jw_kbool(&w, "override", acct.settings.is_set[i]);
            jw_obj_end(&w);
        }
        jw_obj_end(&w);
        jw_key(&w, "overrides");
        jw_arr(&w);
        for (int i = 0; i < WLF_S_COUNT; i++)
            if (acct.settings.is_set[i])
                jw_str(&w, wlf_setting_defs[i].key);
        jw_arr_end(&w);
        json_pairs(&w, "php_admin", acct.php_admin, acct.n_php_admin);
        json_pairs(&w, "php_value", acct.php_value, acct.n_php_value);
        json_pairs(&w, "env", acct.env, acct.n_env);
        jw_key(&w, "extensions");
        jw_arr(&w);
        for (size_t i = 0; i < acct.n_extensions; i++)
            jw_str(&w, acct.extensions[i]);
        jw_arr_end(&w);
        json_limits(&w, ctx, acct.name, &eff);
        json_instances(&w, ctx, &acct, 0, &p);
        jw_key(&w, "timeouts");
        jw_obj(&w);
        jw_kint(&w, "request_terminate_timeout", t.request_terminate_timeout);
        jw_kint(&w, "max_input_time", t.max_input_time);
        jw_kint(&w, "process_control_timeout", t.request_terminate_timeout);
        jw_obj_end(&w);
        jw_key(&w, "files");
        jw_obj(&w);
        jw_kstr(&w, "account", wlf_path_account_file(&ctx->cfg, acct.name,
                                                     buf, sizeof(buf)));
        if (p.slot) {
            jw_kstr(&w, "instance", wlf_path_instance_dir(&ctx->cfg,
                    acct.name, p.slot, buf, sizeof(buf)));
        }
        jw_kstr(&w, "logs", wlf_path_log_dir(&ctx->cfg, acct.name, buf,
                                             sizeof(buf)));
        jw_kstr(&w, "tmp", wlf_path_account_dir(&ctx->cfg, acct.name, buf,
                                                sizeof(buf)));
        jw_obj_end(&w);
        jw_obj_end(&w);
        if (print_json(&w) < 0)
            rc = FPM_EXIT_FAILED;
    }
    else {
        char doms[1024];
        struct passwd *pw = getpwnam(acct.user);
        join_domains(&acct, doms, sizeof(doms));
        printf("account      %s\n", acct.name);
        if (pw)
            printf("user         %s (uid %lu)\n", acct.user,
                   (unsigned long)pw->pw_uid);
        else
            printf("user         %s (no such user!)\n", acct.user);
        printf("group        %s\n", acct.group);
        printf("home         %s\n", acct.home);
        printf("domains      %s\n", doms);
        for (size_t i = 0; i < acct.n_domain_php; i++)
            printf("  php@%s = %s\n", acct.domain_php[i].domain,
                   acct.domain_php[i].php);
        printf("socket       %s\n", wlf_path_socket(&ctx->cfg, acct.name,
                                                    buf, sizeof(buf)));
        if (p.slot)
            printf("state        %s (slot %c, pid %ld)\n",
                   fpm_state_name(p.state), p.slot, (long)p.pid);
        else
            printf("state        %s\n", fpm_state_name(p.state));
        if (wlf_account_is_suspended(&acct))
            printf("suspended   %s\n",
                   suspension(&acct, buf, sizeof(buf)));
        if (p.error[0])
            printf("             %s\n", p.error);
        print_other_instances(ctx, &acct);
        limits_text(ctx, acct.name, &eff, buf, sizeof(buf));
        printf("limits       %s\n", buf);
        printf("settings (* = set for this account, else wlfcgi.conf "
               "default):\n");
        for (int i = 0; i < WLF_S_COUNT; i++)
            printf("  %-28s %-10s%s\n", wlf_setting_defs[i].key,
                   wlf_setting_format(&eff, i, v, sizeof(v)),
                   acct.settings.is_set[i] ? " *" : "");
        text_pairs("php_admin", acct.php_admin, acct.n_php_admin);
        text_pairs("php_value", acct.php_value, acct.n_php_value);
        text_pairs("env", acct.env, acct.n_env);
        if (acct.n_extensions) {
            printf("extensions:\n ");
            for (size_t i = 0; i < acct.n_extensions; i++)
                printf(" %s", acct.extensions[i]);
            printf("\n");
        }
        printf("timeouts:\n"
               "  request_terminate_timeout    %llds\n"
               "  max_input_time               %llds\n",
               t.request_terminate_timeout, t.max_input_time);
        printf("files:\n  account      %s\n", wlf_path_account_file(
                   &ctx->cfg, acct.name, buf, sizeof(buf)));
        if (p.slot)
            printf("  instance     %s\n", wlf_path_instance_dir(
                       &ctx->cfg, acct.name, p.slot, buf, sizeof(buf)));
        printf("  logs         %s\n", wlf_path_log_dir(&ctx->cfg, acct.name,
                                                       buf, sizeof(buf)));
    }
    wlf_settings_free(&eff);
    wlf_account_free(&acct);
    return rc;
}

static void json_status(jw *w, const fpm_probe *p)
{
    const wlf_fpm_status *s = &p->status;
    char iso[40];

    if (!p->have_status) {
        if (p->error[0])
            jw_kstr(w, "error", p->error);
        return;
    }
    jw_kstr(w, "pool", s->pool);
    jw_kstr(w, "process_manager", s->process_manager);
    jw_kstr(w, "start_time", wlf_fpm_time_iso8601(s->start_time, iso,
                                                  sizeof(iso)) == 0
                             ? iso : NULL);
    jw_kint(w, "start_since", s->start_since);
    jw_kint(w, "accepted_conn", s->accepted_conn);
    jw_kint(w, "listen_queue", s->listen_queue);
    jw_kint(w, "max_listen_queue", s->max_listen_queue);
    jw_kint(w, "listen_queue_len", s->listen_queue_len);
    jw_kint(w, "idle_processes", s->idle_processes);
    jw_kint(w, "active_processes", s->active_processes);
    jw_kint(w, "total_processes", s->total_processes);
    jw_kint(w, "max_active_processes", s->max_active_processes);
    jw_kint(w, "max_children_reached", s->max_children_reached);
    jw_kint(w, "slow_requests", s->slow_requests);
}

/* status: a line per instance of another PHP version (quiet: only
 * look); whether all of them run */
static int others_running(const fpm_ctx *ctx, const wlf_account *acct,
                          int quiet)
{
    wlf_instance inst[WLF_MAX_INSTANCES];
    size_t n = wlf_account_instances(&ctx->cfg, acct, inst);
    int all = 1;

    for (size_t i = 1; i < n; i++) {
        fpm_probe p;
        fpm_instance_probe_version(&ctx->cfg, acct->name, inst[i].version,
                                   !quiet, &p);
        if (p.state != FPM_RUNNING)
            all = 0;
        if (quiet)
            continue;
        if (p.have_status)
            printf("%s (PHP %s): running (slot %c, pid %ld) since %s (%lld "
                   "s), accepted conn %lld, processes %lld active / %lld "
                   "idle / %lld total\n", acct->name, inst[i].version,
                   p.slot, (long)p.pid, p.status.start_time,
                   p.status.start_since, p.status.accepted_conn,
                   p.status.active_processes, p.status.idle_processes,
                   p.status.total_processes);
        else if (p.state == FPM_STOPPED)
            printf("%s (PHP %s): stopped\n", acct->name, inst[i].version);
        else
            printf("%s (PHP %s): %s (pid %ld): %s\n", acct->name,
                   inst[i].version, fpm_state_name(p.state), (long)p.pid,
                   p.error);
    }
    return all;
}

/* An account whose file does not load: shown, not left out. */
static void status_broken(const fpm_ctx *ctx, jw *w, const char *name,
                          const wlf_err *err)
{
    char file[PATH_MAX], line[700];
    const char *why;

    wlf_path_account_file(&ctx->cfg, name, file, sizeof(file));
    why = strcmp(err->field, file) == 0 ? err->msg
          : wlf_err_line(err, line, sizeof(line));
    if (ctx->json) {
        jw_obj(w);
        jw_kint(w, "schema", FPM_JSON_SCHEMA);
        jw_kstr(w, "name", name);
        jw_kstr(w, "state", FPM_STATE_BROKEN);
        jw_kstr(w, "file", file);
        jw_kstr(w, "error", why);
        jw_obj_end(w);
    }
    else
        printf("%s: %s: %s: %s\n", name, FPM_STATE_BROKEN, file, why);
}

int cmd_status(fpm_ctx *ctx, int argc, char **argv)
{
    char **names;
    size_t n;
    static const fpm_optdef status_opts[] = {
        { "openmetrics", 0, 0 },
        { NULL, 0, 0 }
    };
    int rc, all_running = 1, openmetrics = 0;
    serve_view sv;
    jw w = { 0 };
    fpm_arg *args;
    const char **ops = NULL;
    size_t n_ops = 0, n_args;
    wlf_err perr;

    if ((args = calloc((size_t)argc, sizeof(*args))) == NULL ||
        (ops = calloc((size_t)argc, sizeof(*ops))) == NULL) {
        free(args);
        fpm_error("out of memory");
        return FPM_EXIT_FAILED;
    }
    /* operands and --openmetrics, in any order */
    if (fpm_args_parse(argc, argv, status_opts, args, (size_t)argc,
                       &n_args, &perr) < 0) {
        free(args);
        free(ops);
        return fpm_usage_error(cmd_status_usage, "%s: %s", perr.field,
                               perr.msg);
    }
    for (size_t i = 0; i < n_args; i++) {
        if (args[i].opt == 0)
            openmetrics = 1;
        else
            ops[n_ops++] = args[i].value;
    }
    free(args);
    rc = fpm_targets(ctx, ops, n_ops, n_ops == 0, cmd_status_usage, &names,
                     &n);
    free(ops);
    if (rc)
        return rc;
    if (openmetrics) {
        rc = print_openmetrics(ctx, names, n);
        wlf_strlist_free(names, n);
        return rc;
    }
    serve_view_load(ctx, &sv);
    if (ctx->json)
        jw_arr(&w);
    for (size_t i = 0; i < n; i++) {
        wlf_account acct;
        wlf_settings eff;
        wlf_err err;
        fpm_probe p;

        if ((rc = fpm_account_load(ctx, names[i], &acct, &err)) != 0) {
            all_running = 0;
            if (rc == FPM_EXIT_FAILED)
                status_broken(ctx, &w, names[i], &err);
            else
                fpm_report(&err, rc);
            continue;
        }
        if (wlf_account_effective(&ctx->cfg, &acct, &eff) < 0) {
            fpm_error("%s: out of memory", acct.name);
            wlf_account_free(&acct);
            all_running = 0;
            continue;
        }
        probe_account(ctx, &sv, &acct, 1, &p);
        /* idle and starting are how an on-demand account is fine; a
         * suspended account is down on purpose */
        if (p.state != FPM_RUNNING && p.state != FPM_IDLE &&
            p.state != FPM_STARTING && p.state != FPM_SUSPENDED)
            all_running = 0;
        if (!others_running(ctx, &acct, 1))
            all_running = 0;
        if (ctx->json) {
            jw_obj(&w);
            json_stable(&w, ctx, &acct, &eff, &p);
            json_status(&w, &p);
            json_limits(&w, ctx, acct.name, &eff);
            json_instances(&w, ctx, &acct, 1, &p);
            jw_obj_end(&w);
        }
        else if (p.have_status) {
            const wlf_fpm_status *s = &p.status;
            printf("%s: running (slot %c, pid %ld) since %s (%lld s)\n"
                   "  accepted conn %lld, processes %lld active / %lld idle "
                   "/ %lld total (max_children %lld), listen queue %lld "
                   "(max %lld), max children reached %lld\n",
                   acct.name, p.slot, (long)p.pid, s->start_time,
                   s->start_since, s->accepted_conn, s->active_processes,
                   s->idle_processes, s->total_processes,
                   eff.num[WLF_S_MAX_CHILDREN], s->listen_queue,
                   s->max_listen_queue, s->max_children_reached);
        }
        else if (p.state == FPM_IDLE)
            printf("%s: idle (on-demand, slot %c: its first request starts "
                   "php-fpm)\n", acct.name, p.slot ? p.slot : 'a');
        else if (p.state == FPM_STARTING)
            printf("%s: starting (on-demand, slot %c)\n", acct.name,
                   p.slot ? p.slot : 'a');
        else if (p.state == FPM_STOPPED && p.error[0])
            printf("%s: stopped (%s)\n", acct.name, p.error);
        else if (p.state == FPM_STOPPED)
            printf("%s: stopped\n", acct.name);
        else if (p.state == FPM_SUSPENDED) {
            char why[300];
            printf("%s: suspended%s\n", acct.name,
                   suspension(&acct, why, sizeof(why)));
        }
        else
            printf("%s: %s (pid %ld): %s\n", acct.name,
                   fpm_state_name(p.state), (long)p.pid, p.error);
        if (!ctx->json) {
            char lim[400];
            others_running(ctx, &acct, 0);
            limits_text(ctx, acct.name, &eff, lim, sizeof(lim));
            printf("  limits: %s\n", lim);
        }
        wlf_settings_free(&eff);
        wlf_account_free(&acct);
    }
    if (ctx->json) {
        jw_arr_end(&w);
        if (print_json(&w) < 0)
            all_running = 0;
    }
    wlf_strlist_free(names, n);
    free(sv.v);
    return all_running ? FPM_EXIT_OK : FPM_EXIT_FAILED;
}
