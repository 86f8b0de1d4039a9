/*
 * mod_wlfcgi.c - httpd glue: directives, start-up, routing, enforcement,
 * upload limits and the status page. The decisions themselves live in the
 * pure wlf_*.c files; this file connects them to httpd and mod_proxy.
 *
 * Request path (everything per vhost was resolved at start-up):
 *
 *   fixups (LAST)      a script file of a mapped vhost gets the handler
 *                      proxy:unix:<dir>/NAME.sock|fcgi://wlf-NAME, whatever
 *                      .htaccess set; a script in an unmapped vhost is
 *                      refused instead of being sent as source.
 *   mod_proxy          turns the handler into a proxy request and calls
 *   pre_request        (ours, REALLY_FIRST) for every proxied request:
 *                      - bound for another account's socket or a forged
 *                        wlf- worker name: 403;
 *                      - bound for the vhost's own account: hand out the
 *                        worker of the live slot (one readlink), scrub
 *                        PHP_VALUE/PHP_ADMIN_VALUE, send our own
 *                        PHP_ADMIN_VALUE with the upload limit, refuse a
 *                        Content-Length over the limit (413) or count a
 *                        chunked body, and put the vhost's own
 *                        mod_proxy_fcgi config back in place so that
 *                        .htaccess ProxyFCGISetEnvIf never runs.
 *   request_status     503 from our worker: add Retry-After, log which
 *                      account and socket.
 */
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "ap_mpm.h"
#include "apr_hash.h"
#include "apr_reslist.h"
#include "apr_thread_cond.h"
#include "apr_thread_mutex.h"
#include "apr_thread_proc.h"
#include "apr_strings.h"
#include "util_filter.h"
#include "mod_proxy.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wlf_config.h"
#include "wlf_fcgi.h"
#include "wlf_log.h"
#include "wlf_map.h"
#include "wlf_policy.h"
#include "wlf_reuse.h"
#include "wlf_size.h"
#include "wlf_status.h"
#include "wlf_upload.h"

#define WLF_VERSION         "0.1"
#define WLF_STATUS_HANDLER  "wlfcgi-status"
#define WLF_LIMIT_FILTER    "WLFCGI_BODY_LIMIT"
#define WLF_GATHER_FILTER   "WLFCGI_BODY_GATHER"
/* FastCGI records carry at most 65535 bytes: one record per read */
#define WLF_IO_BUFFER       65535
/* bodies from this size on are read in large pieces (see gather_filter) */
#define WLF_GATHER_FROM     (256 * 1024)
#define WLF_RETRY_AFTER     "10"
#define WLF_PING_MS         500

module AP_MODULE_DECLARE_DATA wlfcgi_module;

/* ------------------------------------------------------------------ */
/* configuration records                                               */

/* One account, resolved at start-up. */
typedef struct {
    const char *name;
    const char *link;           /* <dir>/NAME.sock -> NAME.a.sock|.b.sock */
    const char *slot_sock[2];   /* <dir>/NAME.a.sock, <dir>/NAME.b.sock */
    const char *handler;        /* proxy:unix:<link>|fcgi://wlf-NAME */
    int worker_index[2];        /* in the main server's proxy workers */
    proxy_worker *worker[2];
    long long max_upload;       /* the account's effective max_upload */
    long long upload_ceiling;   /* ... and upload_ceiling */
    long long max_children;
    long long max_execution_time;
    const char *php_admin;      /* PHP_ADMIN_VALUE for max_upload */
    const char *fpm_pm;         /* the account's pm: "ondemand", "static" */
    wlf_reuse_plan reuse;
    int on_demand;              /* activation = on-demand */
    const char *slot_pid[2];    /* <dir>/NAME.a.pid, <dir>/NAME.b.pid */
} wlf_acct;

typedef struct {
    const char *config_file;        /* WLFcgiConfig (main server) */
    const char *account_name;       /* WLFcgiAccount (vhost) */
    const char *account_where;      /* "file:line" of it */
    apr_array_header_t *exts;       /* WLFcgiExtensions; NULL: inherit */
    int exts_none;                  /* "WLFcgiExtensions none": hands off */
    /* resolved at start-up */
    wlf_acct *acct;                 /* NULL: the vhost has no account */
    const char **ext_list;
    int n_ext;
} wlf_srv_conf;

typedef struct {
    long long max_upload;           /* WLFcgiMaxUpload, or UNSET */
    const char *php_admin;          /* PHP_ADMIN_VALUE for it */
} wlf_dir_conf;

/* A WLFcgiMaxUpload seen while reading the config, for the ceiling check */
typedef struct {
    server_rec *s;
    long long bytes;
    const char *text;
    const char *where;
} wlf_upload_decl;

/* Everything loaded from the account database for one config generation;
 * lives in pconf, so a graceful restart starts from scratch. */
typedef struct {
    wlf_config cfg;
    wlf_account_list accounts;
    wlf_account_list skipped;       /* valid files skipped for domain clashes */
    apr_hash_t *by_name;            /* NAME -> wlf_acct */
    apr_array_header_t *accts;      /* the same, as wlf_acct *, by name */
    const char *sock_dir;           /* socket dir, symlinks resolved */
    module *fcgi_module;            /* mod_proxy_fcgi */
    int n_conf_slots;               /* per-dir vector entries in use */
} wlf_global;

typedef struct {
    wlf_acct *acct;                 /* account the request was sent to */
    char slot;
} wlf_req;

typedef struct {
    long long limit;
    long long seen;
    wlf_acct *acct;
} wlf_limit_ctx;

static wlf_global *wlf_g;
static apr_array_header_t *wlf_upload_decls;
static const char *const default_exts[] = { ".php" };

static wlf_srv_conf *srv_conf(server_rec *s)
{
    return ap_get_module_config(s->module_config, &wlfcgi_module);
}

static void *create_srv_conf(apr_pool_t *p, server_rec *s)
{
    return apr_pcalloc(p, sizeof(wlf_srv_conf));
}

static void *merge_srv_conf(apr_pool_t *p, void *basev, void *addv)
{
    wlf_srv_conf *base = basev, *add = addv;
    wlf_srv_conf *c = apr_pcalloc(p, sizeof(*c));

    c->config_file = add->config_file ? add->config_file : base->config_file;
    /* never inherited: a mapping belongs to one vhost */
    c->account_name = add->account_name;
    c->account_where = add->account_where;
    c->exts = add->exts ? add->exts : base->exts;
    c->exts_none = add->exts ? add->exts_none : base->exts_none;
    return c;
}

static void *create_dir_conf(apr_pool_t *p, char *dir)
{
    wlf_dir_conf *c = apr_pcalloc(p, sizeof(*c));

    c->max_upload = WLF_UPLOAD_UNSET;
    return c;
}

static void *merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    wlf_dir_conf *base = basev, *add = addv;
    wlf_dir_conf *c = apr_pcalloc(p, sizeof(*c));

    c->max_upload = wlf_upload_merge(base->max_upload, add->max_upload);
    c->php_admin = add->max_upload != WLF_UPLOAD_UNSET ? add->php_admin
                                                       : base->php_admin;
    return c;
}

/* ------------------------------------------------------------------ */
/* directives                                                          */

static const char *where_of(cmd_parms *cmd)
{
    return apr_psprintf(cmd->pool, "%s:%d", cmd->directive->filename,
                        cmd->directive->line_num);
}

static const char *cmd_config(cmd_parms *cmd, void *dummy, const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    if (err)
        return err;
    srv_conf(cmd->server)->config_file = ap_server_root_relative(cmd->pool,
                                                                 arg);
    if (srv_conf(cmd->server)->config_file == NULL)
        return apr_pstrcat(cmd->pool, "WLFcgiConfig: invalid path ", arg,
                           NULL);
    return NULL;
}

static const char *cmd_account(cmd_parms *cmd, void *dummy, const char *arg)
{
    wlf_srv_conf *c = srv_conf(cmd->server);
    wlf_err e;

    if (!cmd->server->is_virtual)
        return "WLFcgiAccount belongs inside a <VirtualHost>";
    if (c->account_name)
        return apr_psprintf(cmd->pool, "WLFcgiAccount given twice in this "
                            "vhost (%s and %s)", c->account_name, arg);
    if (wlf_valid_account_name(arg, &e) < 0)
        return apr_psprintf(cmd->pool, "WLFcgiAccount: %s", e.msg);
    c->account_name = arg;
    c->account_where = where_of(cmd);
    return NULL;
}

static const char *cmd_extensions(cmd_parms *cmd, void *dummy,
                                  const char *arg)
{
    wlf_srv_conf *c = srv_conf(cmd->server);
    wlf_err e;

    if (c->exts == NULL)
        c->exts = apr_array_make(cmd->pool, 2, sizeof(const char *));
    /* "none": the vhost's PHP is not wlfcgi's (a site not migrated yet,
     * still on mod_fcgid or mod_php): route nothing, refuse nothing */
    if (strcasecmp(arg, "none") == 0 || c->exts_none) {
        if (c->exts->nelts || (c->exts_none && strcasecmp(arg, "none")))
            return "WLFcgiExtensions: none cannot be combined with "
                   "extensions";
        c->exts_none = 1;
        return NULL;
    }
    if (wlf_ext_valid(arg, &e) < 0)
        return apr_psprintf(cmd->pool, "%s", e.msg);
    APR_ARRAY_PUSH(c->exts, const char *) = arg;
    return NULL;
}

static const char *cmd_max_upload(cmd_parms *cmd, void *dconf,
                                  const char *arg)
{
    wlf_dir_conf *d = dconf;
    wlf_upload_decl *decl;
    char buf[96];
    wlf_err e;

    if (wlf_size_parse(arg, "WLFcgiMaxUpload", &d->max_upload, &e) < 0)
        return apr_psprintf(cmd->pool, "WLFcgiMaxUpload: %s", e.msg);
    d->php_admin = apr_pstrdup(cmd->pool,
                               wlf_upload_php_admin(d->max_upload, buf,
                                                    sizeof(buf)));
    if (wlf_upload_decls) {
        decl = apr_array_push(wlf_upload_decls);
        decl->s = cmd->server;
        decl->bytes = d->max_upload;
        decl->text = arg;
        decl->where = where_of(cmd);
    }
    return NULL;
}

static const command_rec wlf_cmds[] = {
    AP_INIT_TAKE1("WLFcgiConfig", cmd_config, NULL, RSRC_CONF,
                  "the wlfcgi.conf file that lists paths and accounts"),
    AP_INIT_TAKE1("WLFcgiAccount", cmd_account, NULL, RSRC_CONF,
                  "the account this vhost's PHP runs as"),
    AP_INIT_ITERATE("WLFcgiExtensions", cmd_extensions, NULL, RSRC_CONF,
                    "file extensions that are PHP scripts (default .php); "
                    "none: leave this vhost's PHP alone"),
    AP_INIT_TAKE1("WLFcgiMaxUpload", cmd_max_upload, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "largest request body in this scope, e.g. 8M or 3G"),
    { NULL }
};

/* ------------------------------------------------------------------ */
/* start-up                                                            */

static int pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    wlf_g = NULL;
    wlf_upload_decls = apr_array_make(pconf, 4, sizeof(wlf_upload_decl));
    return OK;
}

static apr_status_t free_global(void *data)
{
    wlf_global *g = data;

    wlf_account_list_free(&g->accounts);
    wlf_account_list_free(&g->skipped);
    wlf_config_free(&g->cfg);
    if (wlf_g == g)
        wlf_g = NULL;
    return APR_SUCCESS;
}

static int first_pass(void)
{
    return ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG;
}

/* httpd reads its config twice when it starts; say things once, but
 * always when only testing the config (apachectl -t) */
static int should_report(void)
{
    return !first_pass() ||
           ap_state_query(AP_SQ_RUN_MODE) == AP_SQ_RM_CONFIG_TEST;
}

/* Re-read the files that wlf_accounts_load() skipped: the valid ones
 * were skipped because a domain clashes with an earlier account, and the
 * vhost mapping must see them to report the clash. */
static void load_skipped(wlf_global *g)
{
    for (size_t i = 0; i < g->accounts.n_errors; i++) {
        wlf_account a;
        wlf_err e;
        const wlf_load_error *le = &g->accounts.errors[i];

        if (should_report())
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0, NULL,
                         WLFLOG_ACCOUNT_SKIPPED ": account file %s skipped: "
                         "%s", le->file, le->msg);
        if (wlf_account_load(&g->cfg, le->file, &a, &e) < 0)
            continue;
        wlf_account *items = realloc(g->skipped.items,
                                     (g->skipped.n + 1) * sizeof(a));
        if (items == NULL) {
            wlf_account_free(&a);
            continue;
        }
        g->skipped.items = items;
        g->skipped.items[g->skipped.n++] = a;
    }
}

static wlf_acct *make_acct(apr_pool_t *p, wlf_global *g,
                           const wlf_account *a)
{
    wlf_acct *x = apr_pcalloc(p, sizeof(*x));
    wlf_settings eff;
    char buf[PATH_MAX], pm[16];

    x->name = apr_pstrdup(p, a->name);
    x->link = apr_pstrdup(p, wlf_path_socket(&g->cfg, a->name, buf,
                                             sizeof(buf)));
    x->slot_sock[0] = apr_pstrdup(p, wlf_path_slot_socket(&g->cfg, a->name,
                                                          'a', buf,
                                                          sizeof(buf)));
    x->slot_sock[1] = apr_pstrdup(p, wlf_path_slot_socket(&g->cfg, a->name,
                                                          'b', buf,
                                                          sizeof(buf)));
    /* no slash after the host: mod_proxy appends r->filename, and
     * SCRIPT_FILENAME must come out exactly as in a stock SetHandler */
    x->handler = apr_psprintf(p, "proxy:unix:%s|fcgi://wlf-%s", x->link,
                              a->name);
    x->worker_index[0] = x->worker_index[1] = -1;
    if (wlf_account_effective(&g->cfg, a, &eff) < 0)
        return NULL;
    x->max_upload = eff.num[WLF_S_MAX_UPLOAD];
    x->upload_ceiling = eff.num[WLF_S_UPLOAD_CEILING];
    x->max_children = eff.num[WLF_S_MAX_CHILDREN];
    x->max_execution_time = eff.num[WLF_S_MAX_EXECUTION_TIME];
    x->fpm_pm = apr_pstrdup(p, wlf_setting_format(&eff, WLF_S_PM, pm,
                                                  sizeof(pm)));
    x->on_demand = eff.num[WLF_S_ACTIVATION] == WLF_ACTIVATION_ON_DEMAND;
    for (int k = 0; k < 2; k++)
        x->slot_pid[k] = apr_pstrdup(p, wlf_path_slot_pid(&g->cfg, a->name,
                                                          (char)('a' + k),
                                                          buf, sizeof(buf)));
    wlf_settings_free(&eff);
    x->php_admin = apr_pstrdup(p, wlf_upload_php_admin(x->max_upload, buf,
                                                       sizeof(buf)));
    return x;
}

static const char *vhost_label(apr_pool_t *p, server_rec *s)
{
    unsigned port = s->addrs ? s->addrs->host_port : s->port;

    return apr_psprintf(p, "%s:%u (%s:%d)",
                        s->server_hostname ? s->server_hostname : "(none)",
                        port, s->defn_name ? s->defn_name : "?",
                        s->defn_line_number);
}

/* ServerName first, then every ServerAlias (plain and wildcard) */
static const char **vhost_names(apr_pool_t *p, server_rec *s, size_t *n)
{
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(const char *));
    apr_array_header_t *lists[2] = { s->names, s->wild_names };

    if (s->server_hostname)
        APR_ARRAY_PUSH(a, const char *) = s->server_hostname;
    for (int l = 0; l < 2; l++) {
        if (lists[l] == NULL)
            continue;
        for (int i = 0; i < lists[l]->nelts; i++)
            APR_ARRAY_PUSH(a, const char *) =
                APR_ARRAY_IDX(lists[l], i, const char *);
    }
    *n = (size_t)a->nelts;
    return (const char **)a->elts;
}

static void warn_upload_ceilings(apr_pool_t *p, server_rec *main_s)
{
    apr_hash_t *said = apr_hash_make(p);
    wlf_upload_decl *d = (wlf_upload_decl *)wlf_upload_decls->elts;

    for (server_rec *s = main_s; s; s = s->next) {
        wlf_acct *a = srv_conf(s)->acct;
        if (a == NULL)
            continue;
        for (int i = 0; i < wlf_upload_decls->nelts; i++) {
            const char *key;
            char ceil[32];
            /* sections of the main server apply to every vhost */
            if (d[i].s != s && d[i].s != main_s)
                continue;
            if (d[i].bytes <= a->upload_ceiling)
                continue;
            key = apr_psprintf(p, "%d/%s", i, a->name);
            if (apr_hash_get(said, key, APR_HASH_KEY_STRING))
                continue;
            apr_hash_set(said, key, APR_HASH_KEY_STRING, "");
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0, NULL,
                         WLFLOG_UPLOAD_CEILING ": WLFcgiMaxUpload %s (%s) "
                         "applies to account %s, whose upload_ceiling is "
                         "%s: FPM's request timeout is sized for that, so "
                         "slow uploads near %s may be cut off; run `fpmctl "
                         "set %s upload_ceiling=%s`", d[i].text, d[i].where,
                         a->name,
                         wlf_size_format(a->upload_ceiling, ceil,
                                         sizeof(ceil)),
                         d[i].text, a->name, d[i].text);
        }
    }
}

/*
 * check_config runs after the vhosts are set up and also for
 * `apachectl -t`: every error that should stop httpd is found here.
 */
static int check_config(apr_pool_t *pconf, apr_pool_t *plog,
                        apr_pool_t *ptemp, server_rec *main_s)
{
    wlf_srv_conf *mc = srv_conf(main_s);
    wlf_global *g;
    wlf_err e;
    char real[PATH_MAX];
    int failed = 0;

    if (mc->config_file == NULL) {
        for (server_rec *s = main_s; s; s = s->next) {
            if (srv_conf(s)->account_name) {
                ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0,
                             NULL, WLFLOG_MAP_UNKNOWN ": vhost %s: "
                             "WLFcgiAccount %s, but no WLFcgiConfig is set",
                             vhost_label(ptemp, s),
                             srv_conf(s)->account_name);
                return HTTP_INTERNAL_SERVER_ERROR;
            }
        }
        if (!first_pass())
            ap_log_error(APLOG_MARK, APLOG_WARNING, 0, main_s,
                         WLFLOG_NOT_CONFIGURED ": mod_wlfcgi is loaded but "
                         "WLFcgiConfig is not set; it does nothing");
        return OK;
    }
    if (ap_find_linked_module("mod_proxy_fcgi.c") == NULL) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                     WLFLOG_NO_PROXY_FCGI ": mod_wlfcgi needs mod_proxy_fcgi; "
                     "load it before mod_wlfcgi");
        return HTTP_INTERNAL_SERVER_ERROR;
    }

    g = apr_pcalloc(pconf, sizeof(*g));
    if (wlf_config_load(mc->config_file, &g->cfg, &e) < 0) {
        char line[700];
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                     WLFLOG_CONFIG_LOAD ": WLFcgiConfig %s: %s",
                     mc->config_file, wlf_err_line(&e, line, sizeof(line)));
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_pool_cleanup_register(pconf, g, free_global, apr_pool_cleanup_null);
    if (wlf_accounts_load(&g->cfg, &g->accounts, &e) < 0) {
        char line[700];
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                     WLFLOG_CONFIG_LOAD ": WLFcgiConfig %s: %s",
                     mc->config_file, wlf_err_line(&e, line, sizeof(line)));
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    load_skipped(g);
    g->fcgi_module = ap_find_linked_module("mod_proxy_fcgi.c");

    /* the directory as the kernel sees it, for comparing resolved paths */
    if (realpath(g->cfg.socket_dir, real) != NULL) {
        g->sock_dir = apr_pstrdup(pconf, real);
    }
    else {
        g->sock_dir = apr_pstrdup(pconf, g->cfg.socket_dir);
        if (should_report())
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, errno,
                         NULL, WLFLOG_SOCKET_DIR ": socket directory %s: "
                         "cannot resolve it; comparing paths as written",
                         g->cfg.socket_dir);
    }

    g->by_name = apr_hash_make(pconf);
    g->accts = apr_array_make(pconf, (int)g->accounts.n + 1,
                              sizeof(wlf_acct *));
    for (size_t i = 0; i < g->accounts.n; i++) {
        wlf_acct *a = make_acct(pconf, g, &g->accounts.items[i]);
        if (a == NULL)
            return HTTP_INTERNAL_SERVER_ERROR;
        /* mod_proxy keeps a worker's socket path in 96 bytes */
        if (strlen(a->slot_sock[0]) >= PROXY_WORKER_MAX_NAME_SIZE) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                         WLFLOG_WORKER_DEFINE ": account %s: socket path %s "
                         "is longer than mod_proxy allows (%d bytes); use a "
                         "shorter paths.sockets in %s", a->name,
                         a->slot_sock[0], PROXY_WORKER_MAX_NAME_SIZE - 1,
                         mc->config_file);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        apr_hash_set(g->by_name, a->name, APR_HASH_KEY_STRING, a);
        APR_ARRAY_PUSH(g->accts, wlf_acct *) = a;
    }

    for (server_rec *s = main_s; s; s = s->next) {
        wlf_srv_conf *c = srv_conf(s);
        wlf_vhost_desc d;
        const wlf_account *acct = NULL;
        char how[160];

        d.label = vhost_label(ptemp, s);
        d.names = vhost_names(ptemp, s, &d.n_names);
        d.explicit_account = c->account_name;
        if (wlf_map_vhost(&g->accounts, &g->skipped, &d, &acct, how,
                          sizeof(how), &e) < 0) {
            int unknown = c->account_name && acct == NULL &&
                          strcmp(e.field, "WLFcgiAccount") == 0;
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                         "%s: %s%s%s", unknown ? WLFLOG_MAP_UNKNOWN
                                               : WLFLOG_MAP_CONFLICT, e.msg,
                         c->account_where ? " (WLFcgiAccount at " : "",
                         c->account_where
                             ? apr_pstrcat(ptemp, c->account_where, ")",
                                           NULL)
                             : "");
            failed = 1;
            continue;
        }
        c->acct = acct ? apr_hash_get(g->by_name, acct->name,
                                      APR_HASH_KEY_STRING)
                       : NULL;
        if (c->exts_none) {
            c->ext_list = NULL;
            c->n_ext = 0;
        }
        else if (c->exts && c->exts->nelts) {
            c->ext_list = (const char **)c->exts->elts;
            c->n_ext = c->exts->nelts;
        }
        else {
            c->ext_list = (const char **)default_exts;
            c->n_ext = 1;
        }
        if (!first_pass())
            ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, main_s,
                         WLFLOG_VHOST_MAPPED ": vhost %s: %s%s%s", d.label,
                         c->acct ? "account " : "no account",
                         c->acct ? c->acct->name : "",
                         c->acct ? apr_pstrcat(ptemp, " (by ", how, ")",
                                               NULL) : "");
    }
    if (failed)
        return HTTP_INTERNAL_SERVER_ERROR;
    if (ap_state_query(AP_SQ_RUN_MODE) == AP_SQ_RM_CONFIG_TEST)
        warn_upload_ceilings(ptemp, main_s);
    wlf_g = g;
    return OK;
}


/* Highest module index in use + 1: how much of a per-dir config vector
 * has to be copied. */
static int conf_slots_in_use(void)
{
    int n = 0;

    for (module *m = ap_top_module; m; m = m->next)
        if (m->module_index + 1 > n)
            n = m->module_index + 1;
    return n;
}

/*
 * Define the two slot workers of every account in the main server's
 * proxy config, here in post_config: vhosts were merged already, so they
 * do not get copies (each copy would get its own connection pool per
 * process, multiplying the connections the reuse sizing allows), and
 * mod_proxy's child_init still initialises them (connection pool,
 * reslist) in every child. (Vhosts without proxy directives share the
 * main server's proxy config record, array included; those with their
 * own got a copy of the array at merge time, before this runs. Either
 * way each worker exists once, with one connection pool per process.)
 */
static int post_config(apr_pool_t *pconf, apr_pool_t *plog,
                       apr_pool_t *ptemp, server_rec *main_s)
{
    proxy_server_conf *pc;
    apr_hash_index_t *hi;
    int threads = 1, processes = 1;

    if (wlf_g == NULL)
        return OK;
    pc = ap_get_module_config(main_s->module_config, &proxy_module);
    ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads);
    ap_mpm_query(AP_MPMQ_HARD_LIMIT_DAEMONS, &processes);
    wlf_g->n_conf_slots = conf_slots_in_use();

    for (hi = apr_hash_first(ptemp, wlf_g->by_name); hi;
         hi = apr_hash_next(hi)) {
        wlf_acct *a = apr_hash_this_val(hi);

        wlf_reuse_plan_for(a->max_children, a->max_execution_time, threads,
                           processes, a->fpm_pm, &a->reuse);
        for (int k = 0; k < 2; k++) {
            proxy_worker *w;
            const char *url = apr_psprintf(ptemp, "unix:%s|fcgi://wlf-%s.%c/",
                                           a->slot_sock[k], a->name,
                                           'a' + k);
            const char *err = ap_proxy_define_worker_ex(
                pconf, &w, NULL, pc, url, AP_PROXY_WORKER_IS_PREFIX);
            if (err) {
                ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0,
                             NULL, WLFLOG_WORKER_DEFINE ": account %s: "
                             "cannot define proxy worker %s: %s", a->name,
                             url, err);
                return HTTP_INTERNAL_SERVER_ERROR;
            }
            /* the address of w moves as the array grows: keep the index */
            a->worker_index[k] = (int)(w - (proxy_worker *)pc->workers->elts);
            /* a restarted instance must be usable at once */
            w->s->retry = 0;
            w->s->retry_set = 1;
            /* body and response in pieces of one FastCGI record */
            w->s->io_buffer_size = WLF_IO_BUFFER;
            w->s->io_buffer_size_set = 1;
            w->s->disablereuse_set = 1;
            if (a->reuse.enabled) {
                w->s->disablereuse = 0;
                w->s->hmax = a->reuse.hmax;
                /* smax 0 + ttl: every idle connection older than ttl is
                 * closed on the next release, and never handed out */
                w->s->smax = 0;
                w->s->min = 0;
                w->s->ttl = apr_time_from_sec(a->reuse.ttl);
            }
            else {
                w->s->disablereuse = 1;
            }
        }
        if (!first_pass())
            ap_log_error(APLOG_MARK, APLOG_INFO, 0, main_s,
                         WLFLOG_REUSE_PLAN ": account %s: %s (%d threads, "
                         "ServerLimit %d)", a->name, a->reuse.why, threads,
                         processes);
    }
    /* now that the array no longer grows, the addresses are final */
    for (hi = apr_hash_first(ptemp, wlf_g->by_name); hi;
         hi = apr_hash_next(hi)) {
        wlf_acct *a = apr_hash_this_val(hi);
        for (int k = 0; k < 2; k++)
            a->worker[k] = &((proxy_worker *)pc->workers->elts)
                               [a->worker_index[k]];
    }
    if (!first_pass())
        warn_upload_ceilings(ptemp, main_s);
    return OK;
}

/* ------------------------------------------------------------------ */
/* requests                                                            */

static int is_routable(request_rec *r, wlf_srv_conf *c)
{
    return r->finfo.filetype == APR_REG && r->filename &&
           wlf_ext_match(c->ext_list, (size_t)c->n_ext, r->filename);
}

static int fixups(request_rec *r)
{
    wlf_srv_conf *c;

    if (wlf_g == NULL || r->proxyreq)
        return DECLINED;
    c = srv_conf(r->server);
    if (c->ext_list == NULL || !is_routable(r, c))
        return DECLINED;
    if (c->acct) {
        /* replaces whatever .htaccess or the config set (SetHandler,
         * RewriteRule [H=]): PHP of this vhost runs in its account */
        r->handler = c->acct->handler;
        return OK;
    }
    /* no account: an admin's own proxy handler may serve it; anything
     * else would send the script out as source */
    if (r->handler && strncmp(r->handler, "proxy:", 6) == 0)
        return DECLINED;
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, WLFLOG_UNMAPPED_PHP
                  ": vhost %s has no wlfcgi account: refusing PHP file %s "
                  "(map the vhost with WLFcgiAccount or add its name to an "
                  "account's domains)", r->server->server_hostname,
                  r->filename);
    return HTTP_INTERNAL_SERVER_ERROR;
}

/* Host part of a proxy URL "scheme://host[:port]/..." (in r->pool) */
static const char *url_host(request_rec *r, const char *url)
{
    const char *h = ap_strstr_c(url, "://");
    size_t len;

    if (h == NULL)
        return NULL;
    h += 3;
    len = strcspn(h, "/:?#");
    return apr_pstrmemdup(r->pool, h, len);
}

/* Run the vhost's own mod_proxy_fcgi config (server and vhost level
 * only): ProxyFCGISetEnvIf and ProxyFCGIBackendType from .htaccess or
 * <Directory> sections are applied by mod_proxy_fcgi after every hook,
 * so they are taken out of this request's per-dir config. */
static void use_vhost_fcgi_conf(request_rec *r)
{
    module *m = wlf_g->fcgi_module;
    void *want = ap_get_module_config(r->server->lookup_defaults, m);
    ap_conf_vector_t *v;

    if (ap_get_module_config(r->per_dir_config, m) == want)
        return;
    /* r->per_dir_config may be shared (a cached merge, or the server's
     * own defaults): change a copy */
    v = ap_create_per_dir_config(r->pool);
    memcpy(v, r->per_dir_config, sizeof(void *) * (size_t)wlf_g->n_conf_slots);
    ap_set_module_config(v, m, want);
    r->per_dir_config = v;
}

static int send_to_account(request_rec *r, wlf_acct *a, proxy_worker **worker)
{
    wlf_dir_conf *d = ap_get_module_config(r->per_dir_config, &wlfcgi_module);
    long long limit = d->max_upload != WLF_UPLOAD_UNSET ? d->max_upload
                                                        : a->max_upload;
    const char *php_admin = d->max_upload != WLF_UPLOAD_UNSET ? d->php_admin
                                                              : a->php_admin;
    long long length;
    char slot = wlf_slot_of_link(a->link);
    /* for request_status(): which account a 503 is about */
    wlf_req *rq = apr_pcalloc(r->pool, sizeof(*rq));

    rq->acct = a;
    rq->slot = slot;
    ap_set_module_config(r->request_config, &wlfcgi_module, rq);
    if (slot == 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, WLFLOG_NO_LIVE_SLOT
                      ": account %s: no live instance (%s is missing or not "
                      "a link to %s.a.sock or %s.b.sock)", a->name, a->link,
                      a->name, a->name);
        return HTTP_SERVICE_UNAVAILABLE;
    }

    switch (wlf_body_check(apr_table_get(r->headers_in, "Content-Length"),
                           apr_table_get(r->headers_in, "Transfer-Encoding"),
                           limit, &length)) {
    case WLF_BODY_TOO_LARGE:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, WLFLOG_BODY_TOO_LARGE
                      ": account %s: Content-Length %" APR_INT64_T_FMT
                      " is over the upload limit %" APR_INT64_T_FMT " of %s",
                      a->name, (apr_int64_t)length, (apr_int64_t)limit,
                      r->uri);
        return HTTP_REQUEST_ENTITY_TOO_LARGE;
    case WLF_BODY_BAD:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, WLFLOG_BAD_LENGTH
                      ": invalid Content-Length");
        return HTTP_BAD_REQUEST;
    case WLF_BODY_CHUNKED: {
        wlf_limit_ctx *ctx = apr_pcalloc(r->pool, sizeof(*ctx));
        ctx->limit = limit;
        ctx->acct = a;
        ap_add_input_filter(WLF_LIMIT_FILTER, ctx, r, r->connection);
        /* mod_proxy_fcgi then spools the body (memory, then a temp
         * file) and sends CONTENT_LENGTH; without it PHP reads nothing */
        apr_table_setn(r->subprocess_env, "proxy-sendcl", "1");
        break;
    }
    default:
        break;
    }
    if (length < 0 ? apr_table_get(r->headers_in, "Transfer-Encoding") != NULL
                   : length >= WLF_GATHER_FROM)
        ap_add_input_filter(WLF_GATHER_FILTER, NULL, r, r->connection);

    for (size_t i = 0; wlf_env_scrubbed[i]; i++)
        apr_table_unset(r->subprocess_env, wlf_env_scrubbed[i]);
    /* on every request, so that no earlier request's limit lingers in
     * the FPM worker */
    apr_table_setn(r->subprocess_env, "PHP_ADMIN_VALUE", php_admin);
    use_vhost_fcgi_conf(r);
    *worker = a->worker[slot - 'a'];
    return OK;
}

static int pre_request(proxy_worker **worker, proxy_balancer **balancer,
                       request_rec *r, proxy_server_conf *conf, char **url)
{
    wlf_srv_conf *c;
    wlf_acct *own;
    const char *uds, *host;
    char owner[WLF_NAME_MAX + 1], real[PATH_MAX];
    struct stat st;
    int resolved;

    if (wlf_g == NULL || *balancer != NULL)
        return DECLINED;
    if (*url && ap_cstr_casecmpn(*url, "balancer:", 9) == 0)
        return DECLINED;
    c = srv_conf(r->server);
    own = c->acct;
    uds = apr_table_get(r->notes, "uds_path");

    if (uds) {
        /* the routed case: the exact path we put in the handler */
        if (own && strcmp(uds, own->link) == 0)
            return send_to_account(r, own, worker);
        /* anything else is resolved first: symlinks in a docroot,
         * "..", another spelling of the socket directory */
        resolved = realpath(uds, real) != NULL;
        switch (wlf_sock_classify(resolved ? real : uds, wlf_g->sock_dir,
                                  own ? own->name : NULL, owner,
                                  sizeof(owner))) {
        case WLF_SOCK_OWN:
            return send_to_account(r, own, worker);
        case WLF_SOCK_FOREIGN:
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, WLFLOG_FOREIGN_SOCKET
                          ": vhost %s (account %s) tried to reach account "
                          "%s's socket %s: refused",
                          r->server->server_hostname,
                          own ? own->name : "none", owner, uds);
            return HTTP_FORBIDDEN;
        case WLF_SOCK_OTHER:
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, WLFLOG_FORGED_WORKER
                          ": vhost %s: %s lies in the wlfcgi socket "
                          "directory but is no account socket: refused",
                          r->server->server_hostname, uds);
            return HTTP_FORBIDDEN;
        case WLF_SOCK_OUTSIDE:
            if (resolved) {
                /* connect to what was checked, not to a path whose
                 * symlinks could be switched in the meantime */
                apr_table_set(r->notes, "uds_path", real);
            }
            else if (lstat(uds, &st) == 0 && S_ISLNK(st.st_mode)) {
                /* a dangling link could be pointed anywhere later */
                ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                              WLFLOG_FORGED_WORKER ": vhost %s: socket "
                              "path %s is a link that leads nowhere: "
                              "refused", r->server->server_hostname, uds);
                return HTTP_FORBIDDEN;
            }
            break;
        }
    }

    /* wlf-NAME is our namespace: a name lookup would find our workers
     * (and their sockets) no matter what socket the request named */
    host = *url ? url_host(r, *url) : NULL;
    if (wlf_worker_host_account(host, owner, sizeof(owner))) {
        if (own && strcmp(owner, own->name) == 0)
            return send_to_account(r, own, worker);
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, WLFLOG_FORGED_WORKER
                      ": vhost %s (account %s) used the reserved worker name "
                      "%s: refused", r->server->server_hostname,
                      own ? own->name : "none", host);
        return HTTP_FORBIDDEN;
    }
    return DECLINED;
}

static int request_status(int *status, request_rec *r)
{
    wlf_req *rq = ap_get_module_config(r->request_config, &wlfcgi_module);

    if (rq == NULL || *status != HTTP_SERVICE_UNAVAILABLE)
        return DECLINED;
    apr_table_setn(r->err_headers_out, "Retry-After", WLF_RETRY_AFTER);
    if (rq->slot == 0)
        return OK;
    /* a pool that is down refuses connections; one that still accepts
     * them lost a worker in the middle of this request. (An on-demand
     * account without a master is not probed: that would start one.) */
    if ((!rq->acct->on_demand ||
         access(rq->acct->slot_pid[rq->slot - 'a'], F_OK) == 0) &&
        wlf_socket_accepts(rq->acct->slot_sock[rq->slot - 'a']))
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, WLFLOG_WORKER_GONE
                      ": account %s: a PHP worker ended the request for %s "
                      "without an answer (crashed, killed, or over "
                      "request_terminate_timeout; see the account's "
                      "fpm.log); 503", rq->acct->name, r->uri);
    else
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, WLFLOG_POOL_DOWN
                      ": account %s: PHP pool not answering on %s (live "
                      "slot of %s); 503 with Retry-After " WLF_RETRY_AFTER,
                      rq->acct->name, rq->acct->slot_sock[rq->slot - 'a'],
                      rq->acct->link);
    return OK;
}

static apr_status_t limit_filter(ap_filter_t *f, apr_bucket_brigade *bb,
                                 ap_input_mode_t mode, apr_read_type_e block,
                                 apr_off_t readbytes)
{
    wlf_limit_ctx *ctx = f->ctx;
    apr_status_t rv = ap_get_brigade(f->next, bb, mode, block, readbytes);
    apr_off_t len = 0;

    if (rv != APR_SUCCESS || mode != AP_MODE_READBYTES)
        return rv;
    apr_brigade_length(bb, 1, &len);
    ctx->seen += len;
    if (ctx->seen > ctx->limit) {
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, f->r,
                      WLFLOG_CHUNKED_TOO_LARGE ": account %s: chunked body "
                      "passed the upload limit %" APR_INT64_T_FMT " of %s",
                      ctx->acct->name, (apr_int64_t)ctx->limit, f->r->uri);
        apr_brigade_cleanup(bb);
        ap_remove_input_filter(f);
        return APR_ENOSPC;      /* mod_proxy maps it to 413 */
    }
    return APR_SUCCESS;
}


/*
 * httpd reads a request body from the socket 8000 bytes at a time, and
 * mod_proxy_fcgi sends each piece it gets as one FastCGI record, after a
 * poll: three system calls per 8000 bytes. For large bodies this filter
 * hands mod_proxy_fcgi whatever has arrived already, up to the 64 KiB it
 * asks for (our workers' io_buffer_size): the first read blocks as asked,
 * the rest only take what is there. Data is never held back: it moves on
 * as soon as no more is waiting.
 */
static apr_status_t gather_filter(ap_filter_t *f, apr_bucket_brigade *bb,
                                  ap_input_mode_t mode, apr_read_type_e block,
                                  apr_off_t readbytes)
{
    apr_bucket_brigade *more;
    apr_status_t rv;
    apr_off_t have = 0;

    rv = ap_get_brigade(f->next, bb, mode, block, readbytes);
    if (rv != APR_SUCCESS || mode != AP_MODE_READBYTES ||
        readbytes < 2 * 8000)
        return rv;
    more = f->ctx;
    if (more == NULL)
        f->ctx = more = apr_brigade_create(f->r->pool,
                                           f->c->bucket_alloc);
    while (!APR_BRIGADE_EMPTY(bb) &&
           !APR_BUCKET_IS_EOS(APR_BRIGADE_LAST(bb))) {
        if (apr_brigade_length(bb, 1, &have) != APR_SUCCESS ||
            have + 8000 > readbytes)
            break;
        /* keep what we have valid across the next read (no-op for the
         * heap buckets of a plain socket; copies transient ones) */
        for (apr_bucket *e = APR_BRIGADE_FIRST(bb);
             e != APR_BRIGADE_SENTINEL(bb); e = APR_BUCKET_NEXT(e))
            apr_bucket_setaside(e, f->r->pool);
        rv = ap_get_brigade(f->next, more, AP_MODE_READBYTES,
                            APR_NONBLOCK_READ, readbytes - have);
        if (rv != APR_SUCCESS || APR_BRIGADE_EMPTY(more)) {
            /* nothing more waiting, or an error the next call will
             * report again: deliver what we have */
            apr_brigade_cleanup(more);
            break;
        }
        APR_BRIGADE_CONCAT(bb, more);
    }
    return APR_SUCCESS;
}

/* ------------------------------------------------------------------ */
/* idle connection janitor (threaded MPMs)                             */

/*
 * Idle pooled connections are only closed when their reslist is
 * maintained, which mod_proxy does when a connection is released. With
 * no traffic (or after fpmctl switched the live slot, when nothing is
 * sent to the old slot's worker any more) they would stay open for the
 * life of the httpd process, each keeping an FPM worker busy "reading
 * headers": a stopping FPM master would then wait process_control_timeout
 * for them. Once a second this thread maintains every reuse-enabled
 * worker, which closes the connections idle for longer than the ttl
 * (smax is 0), so no FPM worker stays held more than ttl + 1 s after its
 * last request.
 */
#if APR_HAS_THREADS
typedef struct {
    apr_thread_mutex_t *lock;
    apr_thread_cond_t *wake;
    apr_thread_t *thread;
    int stop;
} wlf_janitor;

static void release_idle(proxy_worker *w)
{
    if (w && w->cp && w->cp->res)
        apr_reslist_maintain(w->cp->res);
}

static void *APR_THREAD_FUNC janitor_main(apr_thread_t *t, void *data)
{
    wlf_janitor *j = data;
    wlf_acct **accts = (wlf_acct **)wlf_g->accts->elts;
    int n = wlf_g->accts->nelts;

    apr_thread_mutex_lock(j->lock);
    while (!j->stop) {
        apr_thread_cond_timedwait(j->wake, j->lock, apr_time_from_sec(1));
        if (j->stop)
            break;
        apr_thread_mutex_unlock(j->lock);
        for (int i = 0; i < n; i++) {
            if (!accts[i]->reuse.enabled)
                continue;
            release_idle(accts[i]->worker[0]);
            release_idle(accts[i]->worker[1]);
        }
        apr_thread_mutex_lock(j->lock);
    }
    apr_thread_mutex_unlock(j->lock);
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

static apr_status_t janitor_stop(void *data)
{
    wlf_janitor *j = data;
    apr_status_t rv;

    apr_thread_mutex_lock(j->lock);
    j->stop = 1;
    apr_thread_cond_signal(j->wake);
    apr_thread_mutex_unlock(j->lock);
    apr_thread_join(&rv, j->thread);
    return APR_SUCCESS;
}
#endif

static void child_init(apr_pool_t *pchild, server_rec *s)
{
#if APR_HAS_THREADS
    wlf_janitor *j;
    int threads = 1, any = 0;

    if (wlf_g == NULL)
        return;
    ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads);
    for (int i = 0; i < wlf_g->accts->nelts; i++)
        any |= APR_ARRAY_IDX(wlf_g->accts, i, wlf_acct *)->reuse.enabled;
    /* prefork keeps one connection per process and worker: no reslist */
    if (threads <= 1 || !any)
        return;
    j = apr_pcalloc(pchild, sizeof(*j));
    if (apr_thread_mutex_create(&j->lock, APR_THREAD_MUTEX_DEFAULT,
                                pchild) != APR_SUCCESS ||
        apr_thread_cond_create(&j->wake, pchild) != APR_SUCCESS ||
        apr_thread_create(&j->thread, NULL, janitor_main, j,
                          pchild) != APR_SUCCESS)
        return;
    /* a pre-cleanup: the thread must be gone before pchild's subpools,
     * where mod_proxy keeps the connection pools, are destroyed */
    apr_pool_pre_cleanup_register(pchild, j, janitor_stop);
#else
    (void)pchild;
    (void)s;
#endif
}

/* ------------------------------------------------------------------ */
/* status page                                                         */

typedef struct {
    int answers;
    const char *error;
    const char *state;
} ping_result;

static ping_result *ping_account(request_rec *r, apr_hash_t *cache,
                                 wlf_acct *a)
{
    ping_result *pr = apr_hash_get(cache, a->name, APR_HASH_KEY_STRING);
    struct stat st;
    char slot;
    wlf_err e;

    if (pr)
        return pr;
    pr = apr_pcalloc(r->pool, sizeof(*pr));
    pr->state = "down";
    slot = wlf_slot_of_link(a->link);
    if (slot == 0) {
        pr->error = apr_psprintf(r->pool, "no live instance: %s is missing "
                                 "or no slot link", a->link);
    }
    else if (a->on_demand && stat(a->slot_pid[slot - 'a'], &st) != 0) {
        /* no master: a ping would start one. The socket is held (by
         * fpmctl serve or a socket unit) if its file is there */
        if (stat(a->slot_sock[slot - 'a'], &st) == 0 && S_ISSOCK(st.st_mode)) {
            pr->answers = 1;
            pr->state = "idle";
        }
        else
            pr->error = apr_psprintf(r->pool, "on-demand, and nothing holds "
                                     "%s (is fpmctl serve running?)",
                                     a->slot_sock[slot - 'a']);
    }
    else if (wlf_fcgi_ping(a->slot_sock[slot - 'a'], WLF_FPM_PING_PATH,
                           WLF_PING_MS, &e) == 0) {
        pr->answers = 1;
        pr->state = "running";
    }
    else {
        pr->error = apr_pstrdup(r->pool, e.msg);
    }
    apr_hash_set(cache, a->name, APR_HASH_KEY_STRING, pr);
    return pr;
}

static int status_handler(request_rec *r)
{
    apr_array_header_t *entries;
    apr_hash_t *cache;
    wlf_status_page page;
    wlf_acct *viewer;
    char *out;
    int json;

    if (r->handler == NULL || strcmp(r->handler, WLF_STATUS_HANDLER) != 0)
        return DECLINED;
    if (r->method_number != M_GET)
        return HTTP_METHOD_NOT_ALLOWED;
    json = r->args && (strcmp(r->args, "json") == 0 ||
                       strncmp(r->args, "json&", 5) == 0);
    if (wlf_g == NULL) {
        ap_set_content_type(r, "text/plain; charset=utf-8");
        ap_rputs("mod_wlfcgi: not configured (no WLFcgiConfig)\n", r);
        return OK;
    }
    /* in a customer's vhost (.htaccess can set any handler) show only
     * that customer's vhosts */
    viewer = srv_conf(r->server)->acct;
    entries = apr_array_make(r->pool, 8, sizeof(wlf_status_entry));
    cache = apr_hash_make(r->pool);
    for (server_rec *s = ap_server_conf; s; s = s->next) {
        wlf_srv_conf *c = srv_conf(s);
        wlf_status_entry *e;
        wlf_dir_conf *d;

        if (viewer && c->acct != viewer)
            continue;
        e = apr_array_push(entries);
        memset(e, 0, sizeof(*e));
        e->vhost = s->server_hostname ? s->server_hostname : "(none)";
        e->port = s->addrs ? s->addrs->host_port : s->port;
        e->answers = -1;
        if (c->acct) {
            ping_result *pr = ping_account(r, cache, c->acct);
            char slot = wlf_slot_of_link(c->acct->link);
            e->account = c->acct->name;
            e->socket = c->acct->link;
            e->live = slot ? c->acct->slot_sock[slot - 'a'] : NULL;
            e->answers = pr->answers;
            e->error = pr->error;
            e->state = pr->state;
            d = ap_get_module_config(s->lookup_defaults, &wlfcgi_module);
            e->max_upload = wlf_upload_effective(d->max_upload,
                                                 c->acct->max_upload,
                                                 c->acct->max_upload);
            e->reuse_hmax = c->acct->reuse.enabled ? c->acct->reuse.hmax : 0;
        }
    }
    page.config = wlf_g->cfg.file;
    page.version = WLF_VERSION;
    page.n_accounts = viewer ? 1 : wlf_g->accounts.n;
    page.entries = (const wlf_status_entry *)entries->elts;
    page.n_entries = (size_t)entries->nelts;
    out = json ? wlf_status_json(&page) : wlf_status_text(&page);
    if (out == NULL)
        return HTTP_INTERNAL_SERVER_ERROR;
    ap_set_content_type(r, json ? "application/json"
                                : "text/plain; charset=utf-8");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (!r->header_only)
        ap_rputs(out, r);
    free(out);
    return OK;
}

/* ------------------------------------------------------------------ */

static void register_hooks(apr_pool_t *p)
{
    /* mod_rewrite applies [H=] in a fixup of its own at APR_HOOK_LAST:
     * ours must come after it to have the last word */
    static const char *const after_rewrite[] = { "mod_rewrite.c", NULL };
    static const char *const after_proxy[] = { "mod_proxy.c", NULL };

    ap_hook_pre_config(pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(check_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* after mod_proxy's post_config; workers must exist before
     * mod_proxy's child_init, which every post_config precedes */
    ap_hook_post_config(post_config, NULL, NULL, APR_HOOK_LAST);
    ap_hook_child_init(child_init, after_proxy, NULL, APR_HOOK_MIDDLE);
    ap_hook_fixups(fixups, after_rewrite, NULL, APR_HOOK_LAST);
    ap_hook_handler(status_handler, NULL, NULL, APR_HOOK_MIDDLE);
    /* before mod_proxy_balancer: we must see every proxied request */
    proxy_hook_pre_request(pre_request, NULL, NULL, APR_HOOK_REALLY_FIRST);
    APR_OPTIONAL_HOOK(proxy, request_status, request_status, NULL, NULL,
                      APR_HOOK_MIDDLE);
    ap_register_input_filter(WLF_LIMIT_FILTER, limit_filter, NULL,
                             AP_FTYPE_RESOURCE);
    ap_register_input_filter(WLF_GATHER_FILTER, gather_filter, NULL,
                             AP_FTYPE_RESOURCE);
}

AP_DECLARE_MODULE(wlfcgi) = {
    STANDARD20_MODULE_STUFF,
    create_dir_conf,
    merge_dir_conf,
    create_srv_conf,
    merge_srv_conf,
    wlf_cmds,
    register_hooks,
    /* every vhost gets its own server config (httpd would otherwise hand
     * vhosts without WLFcgi directives the main server's record, and the
     * per-vhost account would be shared) */
    AP_MODULE_FLAG_ALWAYS_MERGE
};
