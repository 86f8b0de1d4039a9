/*
 * mod_wlfcgi.c - the module record, its hooks, and start-up: load the
 * account database, map every vhost to its account, define the accounts'
 * proxy workers, and in each threaded child the janitor that closes idle
 * FastCGI connections. The other glue files (mod_wlfcgi_private.h lists
 * them) hold the directives, the request path, the body filters and the
 * status page; the decisions themselves live in the pure wlf_*.c files.
 */
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "ap_mpm.h"
#include "apr_atomic.h"
#include "apr_hash.h"
#include "apr_reslist.h"
#include "apr_thread_cond.h"
#include "apr_thread_mutex.h"
#include "apr_thread_proc.h"
#include "apr_strings.h"
#include "mod_proxy.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mod_wlfcgi_private.h"
#include "wlf_config.h"
#include "wlf_log.h"
#include "wlf_map.h"
#include "wlf_policy.h"
#include "wlf_reuse.h"
#include "wlf_upload.h"

/*
 * How much of a request body mod_proxy_fcgi moves per round, in records
 * of at most 65535 bytes. It polls the FPM socket before each round, and
 * a Unix socket polls writable only once at most a quarter of its send
 * buffer (208 KiB) is queued: PHP then has at most 52 KiB left while
 * httpd reads the next round from the client. With one record per round
 * PHP ran dry about once per record and waited for httpd; 512 KiB rounds
 * keep it fed (fewer waits than behind nginx) while the buffer, one per
 * request, stays within httpd's MaxMemFree for reuse.
 */
#define WLF_IO_BUFFER       (512 * 1024)

wlf_global *wlf_g;
static const char *const default_exts[] = { ".php" };

/* ------------------------------------------------------------------ */
/* start-up                                                            */

int wlfcgi_proxy_loaded(void)
{
    return &proxy_module != NULL && proxy_hook_pre_request != NULL &&
           ap_proxy_define_worker_ex != NULL &&
           ap_proxy_initialize_worker != NULL;
}

static int pre_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp)
{
    wlf_g = NULL;
    if (!wlfcgi_proxy_loaded()) {
        /* its symbols were missing when httpd loaded us: they do not come
         * later, so nothing of the module could work */
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                     WLFLOG_PROXY_ORDER ": mod_wlfcgi was loaded before "
                     "mod_proxy: put \"LoadModule wlfcgi_module ...\" after "
                     "\"LoadModule proxy_module ...\" and \"LoadModule "
                     "proxy_fcgi_module ...\" (Debian: a2enmod proxy_fcgi "
                     "wlfcgi; the packaged load files are in that order)");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    wlfcgi_config_pre_config(pconf);
    return OK;
}

static apr_status_t free_global(void *data)
{
    wlf_global *g = data;

    wlf_account_list_free(&g->accounts);
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

/* Account files the loader left out: broken ones, and valid ones whose
 * domains clash with an earlier account (those still take part in the
 * vhost mapping, which reports the clash) */
static void report_skipped(const wlf_global *g)
{
    if (!should_report())
        return;
    for (size_t i = 0; i < g->accounts.n_errors; i++)
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0, NULL,
                     WLFLOG_ACCOUNT_SKIPPED ": account file %s skipped: %s",
                     g->accounts.errors[i].file, g->accounts.errors[i].msg);
}

/* The uid of user `name`; 0 if there is no such user. `users` (user
 * name -> uid_t, or NULL) is asked first. */
static int user_uid(apr_hash_t *users, const char *name, uid_t *uid)
{
    struct passwd pw, *res = NULL;
    char buf[4096];
    const uid_t *known;

    if (name == NULL)
        return 0;
    if (users && (known = apr_hash_get(users, name, APR_HASH_KEY_STRING))) {
        *uid = *known;
        return 1;
    }
    if (getpwnam_r(name, &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
        return 0;
    *uid = pw.pw_uid;
    return 1;
}

/* Every user NSS lists, read once (at start-up, one thread): a
 * getpwnam() per account reads /etc/passwd up to the user each time,
 * which made starting httpd with thousands of accounts quadratic. */
static apr_hash_t *all_users(apr_pool_t *p)
{
    apr_hash_t *users = apr_hash_make(p);
    struct passwd *pw;

    setpwent();
    while ((pw = getpwent()) != NULL) {
        uid_t *uid = apr_palloc(p, sizeof(*uid));
        *uid = pw->pw_uid;
        if (apr_hash_get(users, pw->pw_name, APR_HASH_KEY_STRING) == NULL)
            apr_hash_set(users, apr_pstrdup(p, pw->pw_name),
                         APR_HASH_KEY_STRING, uid);
    }
    endpwent();
    return users;
}

static wlf_acct *make_acct(apr_pool_t *p, wlf_global *g,
                           const wlf_account *a)
{
    wlf_acct *x = apr_pcalloc(p, sizeof(*x));
    wlf_settings eff;
    wlf_instance inst[WLF_MAX_INSTANCES];
    size_t n_inst = wlf_account_instances(&g->cfg, a, inst);
    char buf[PATH_MAX], pm[16];

    x->name = apr_pstrdup(p, a->name);
    /* one instance per PHP version in use, [0] the account's own; then
     * the other configured versions: a domain pinned to one after httpd
     * started is served through a worker of its own too (workers are
     * defined on first use) */
    for (size_t v = 0; v < g->cfg.n_php_versions &&
                       n_inst < WLF_MAX_INSTANCES; v++) {
        const char *ver = g->cfg.php_versions[v].version;
        int known = 0;
        for (size_t i = 0; i < n_inst && !known; i++)
            known = inst[i].version && strcmp(inst[i].version, ver) == 0;
        if (known)
            continue;
        memset(&inst[n_inst], 0, sizeof(inst[n_inst]));
        inst[n_inst].version = ver;
        wlf_instance_key(a->name, ver, inst[n_inst].key,
                         sizeof(inst[n_inst].key));
        n_inst++;
    }
    x->inst = apr_pcalloc(p, n_inst * sizeof(*x->inst));
    x->n_inst = (int)wlf_account_instances(&g->cfg, a, inst);
    x->n_known = (int)n_inst;
    for (size_t i = 0; i < n_inst; i++) {
        wlf_inst *in = &x->inst[i];
        in->key = apr_pstrdup(p, inst[i].key);
        in->version = apr_pstrdup(p, inst[i].version ? inst[i].version
                                                     : "");
        in->link = apr_pstrdup(p, wlf_path_socket(&g->cfg, in->key, buf,
                                                  sizeof(buf)));
        for (int k = 0; k < 2; k++) {
            in->slot_sock[k] = apr_pstrdup(p, wlf_path_slot_socket(
                &g->cfg, in->key, (char)('a' + k), buf, sizeof(buf)));
        }
    }
    x->link = x->inst[0].link;
    x->slot_sock[0] = x->inst[0].slot_sock[0];
    x->slot_sock[1] = x->inst[0].slot_sock[1];
    /* no slash after the host: mod_proxy appends r->filename, and
     * SCRIPT_FILENAME must come out exactly as in a stock SetHandler */
    x->handler = apr_psprintf(p, "proxy:unix:%s|fcgi://wlf-%s", x->link,
                              a->name);
    if (wlf_account_effective(&g->cfg, a, &eff) < 0)
        return NULL;
    x->max_upload = eff.num[WLF_S_MAX_UPLOAD];
    x->upload_ceiling = eff.num[WLF_S_UPLOAD_CEILING];
    x->max_children = eff.num[WLF_S_MAX_CHILDREN];
    x->max_execution_time = eff.num[WLF_S_MAX_EXECUTION_TIME];
    x->max_requests = eff.num[WLF_S_MAX_REQUESTS];
    x->stream_max = wlf_stream_max(&eff, g->cfg.upload_min_rate);
    x->stream_seconds = wlf_stream_seconds(&eff);
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

/* Without WLFcgiConfig the module does nothing, unless a vhost asks for
 * an account: that cannot work, so httpd does not start. */
static int check_unconfigured(apr_pool_t *ptemp, server_rec *main_s)
{
    for (server_rec *s = main_s; s; s = s->next) {
        if (wlfcgi_srv_conf(s)->account_name) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                         WLFLOG_MAP_UNKNOWN ": vhost %s: WLFcgiAccount %s, "
                         "but no WLFcgiConfig is set", vhost_label(ptemp, s),
                         wlfcgi_srv_conf(s)->account_name);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    /* also under apachectl -t: a set-up that forgot it looks fine there */
    if (should_report()) {
        const char *where = wlfcgi_first_upload_decl();
        int test = ap_state_query(AP_SQ_RUN_MODE) == AP_SQ_RM_CONFIG_TEST;
        ap_log_error(APLOG_MARK, (test ? APLOG_STARTUP : 0) | APLOG_WARNING,
                     0, test ? NULL : main_s,
                     WLFLOG_NOT_CONFIGURED ": mod_wlfcgi is loaded but "
                     "WLFcgiConfig is not set, so it does nothing: no vhost "
                     "is mapped to an account%s%s%s; add \"WLFcgiConfig "
                     "/etc/wlfcgi/wlfcgi.conf\" to the main server config",
                     where ? ", and WLFcgiMaxUpload at " : "",
                     where ? where : "", where ? " has no effect" : "");
    }
    return OK;
}

/* wlfcgi.conf and every account file, into *out (NULL on failure) */
static int load_database(apr_pool_t *pconf, const char *config_file,
                         wlf_global **out)
{
    wlf_global *g = apr_pcalloc(pconf, sizeof(*g));
    char line[700];
    wlf_err e;

    *out = NULL;
    if (wlf_config_load(config_file, &g->cfg, &e) < 0) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                     WLFLOG_CONFIG_LOAD ": WLFcgiConfig %s: %s",
                     config_file, wlf_err_line(&e, line, sizeof(line)));
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    apr_pool_cleanup_register(pconf, g, free_global, apr_pool_cleanup_null);
    if (wlf_accounts_load(&g->cfg, &g->accounts, &e) < 0) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                     WLFLOG_CONFIG_LOAD ": WLFcgiConfig %s: %s",
                     config_file, wlf_err_line(&e, line, sizeof(line)));
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    report_skipped(g);
    g->fcgi_module = ap_find_linked_module("mod_proxy_fcgi.c");
    *out = g;
    return OK;
}

/* The socket directory as the kernel sees it, for comparing resolved
 * paths in pre_request */
static void resolve_socket_dir(apr_pool_t *pconf, wlf_global *g)
{
    char real[PATH_MAX];

    if (realpath(g->cfg.socket_dir, real) != NULL) {
        g->sock_dir = apr_pstrdup(pconf, real);
        return;
    }
    g->sock_dir = apr_pstrdup(pconf, g->cfg.socket_dir);
    if (should_report())
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, errno, NULL,
                     WLFLOG_SOCKET_DIR ": socket directory %s: cannot "
                     "resolve it; comparing paths as written",
                     g->cfg.socket_dir);
}

/* One wlf_acct per loaded account, by name */
static int make_accounts(apr_pool_t *pconf, wlf_global *g,
                         const char *config_file)
{
    apr_pool_t *tmp = NULL;
    apr_hash_t *users = NULL;

    g->by_name = apr_hash_make(pconf);
    g->accts = apr_array_make(pconf, (int)g->accounts.n + 1,
                              sizeof(wlf_acct *));
    if (g->accounts.n > 16 && apr_pool_create(&tmp, pconf) == APR_SUCCESS)
        users = all_users(tmp);
    for (size_t i = 0; i < g->accounts.n; i++) {
        wlf_acct *a = make_acct(pconf, g, &g->accounts.items[i]);
        if (a == NULL) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                         WLFLOG_ACCOUNT_SETTINGS ": account %s: out of "
                         "memory while working out its settings",
                         g->accounts.items[i].name);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        /* whose files its vhosts may send; without a user (deleted
         * after fpmctl added it) nobody's but root's readable ones */
        if (!user_uid(users, g->accounts.items[i].user, &a->uid)) {
            a->uid = (uid_t)-1;
            if (should_report())
                ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0,
                             NULL, WLFLOG_ACCOUNT_USER ": account %s: no "
                             "such user '%s': its vhosts send no file of "
                             "its own (fpmctl check)", a->name,
                             g->accounts.items[i].user);
        }
        /* mod_proxy keeps a worker's socket path in 96 bytes */
        for (int k = 0; k < a->n_inst; k++) {
            if (strlen(a->inst[k].slot_sock[0]) <
                PROXY_WORKER_MAX_NAME_SIZE)
                continue;
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                         WLFLOG_WORKER_DEFINE ": account %s: socket path %s "
                         "is longer than mod_proxy allows (%d bytes); use a "
                         "shorter paths.sockets in %s", a->name,
                         a->inst[k].slot_sock[0],
                         PROXY_WORKER_MAX_NAME_SIZE - 1, config_file);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        apr_hash_set(g->by_name, a->name, APR_HASH_KEY_STRING, a);
        APR_ARRAY_PUSH(g->accts, wlf_acct *) = a;
    }
    if (tmp)        /* on an error return, pconf's clearing frees it */
        apr_pool_destroy(tmp);
    return OK;
}

/* The extensions routed in vhost c: its WLFcgiExtensions, else what its
 * account's php-fpm runs (script_extensions), else .php. One that the
 * account's php-fpm would refuse ("Access denied") stops httpd. */
static int resolve_extensions(wlf_srv_conf *c, const wlf_account *acct,
                              const char *label)
{
    const char *const *runs = NULL;
    const char *bad;
    size_t n_runs = 0;

    if (acct)
        runs = wlf_account_script_exts(acct, &n_runs);
    if (c->exts_none) {
        c->ext_list = NULL;
        c->n_ext = 0;
    }
    else if (c->exts && c->exts->nelts) {
        c->ext_list = (const char **)c->exts->elts;
        c->n_ext = c->exts->nelts;
        if (acct && (bad = wlf_ext_not_run(c->ext_list, (size_t)c->n_ext,
                                           runs, n_runs)) != NULL) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                         WLFLOG_EXT_NOT_RUN ": vhost %s: WLFcgiExtensions "
                         "%s: account %s's php-fpm does not run it "
                         "(security.limit_extensions); run `fpmctl set %s "
                         "script_extensions=...` with it", label, bad,
                         acct->name, acct->name);
            return -1;
        }
    }
    else if (runs) {
        c->ext_list = (const char **)runs;
        c->n_ext = (int)n_runs;
    }
    else {
        c->ext_list = (const char **)default_exts;
        c->n_ext = 1;
    }
    return 0;
}

/* Whose files vhost s sends: its account's user; a vhost without an
 * account (a parked domain) its document root's owner, unless that is
 * root (then only root's files that everyone may read) */
static void resolve_owner(server_rec *s, wlf_srv_conf *c)
{
    core_server_config *sc = ap_get_core_module_config(s->module_config);
    struct stat st;

    c->has_owner = 0;
    if (c->acct) {
        c->has_owner = c->acct->uid != (uid_t)-1;
        c->owner_uid = c->acct->uid;
    }
    else if (sc->ap_document_root &&
             stat(sc->ap_document_root, &st) == 0 && st.st_uid != 0) {
        c->has_owner = 1;
        c->owner_uid = st.st_uid;
    }
}

/*
 * The domain entry of acct a vhost serves: the one that maps its
 * ServerName, else the first ServerAlias that maps. Its route (a link
 * fpmctl makes when the domain has a PHP version of its own) is read per
 * request, so versions change without a restart. Names that map to
 * entries with different versions are reported: the vhost runs one.
 */
static void resolve_domain(apr_pool_t *pconf, wlf_global *g,
                           const wlf_account *acct, const wlf_vhost_desc *d,
                           wlf_srv_conf *c)
{
    char buf[PATH_MAX];
    const char *own = wlf_account_php(&g->cfg, acct), *chosen = NULL;
    int first = -1;

    c->domain = NULL;
    c->route = NULL;
    for (size_t i = 0; i < d->n_names; i++) {
        int e = wlf_account_domain_for_host(acct, d->names[i]);
        const char *v;
        if (e < 0)
            continue;
        v = wlf_account_domain_php(acct, acct->domains[e]);
        v = v ? v : own;
        if (first < 0) {
            first = e;
            chosen = v;
        }
        else if (chosen && v && strcmp(chosen, v) != 0 && should_report())
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0, NULL,
                         WLFLOG_VHOST_VERSIONS ": vhost %s: %s runs PHP %s "
                         "(domain %s), but its name %s belongs to domain %s "
                         "with PHP %s; the vhost runs %s for all its names "
                         "(fpmctl set %s php@%s=...)", d->label,
                         d->names[0], chosen, acct->domains[first],
                         d->names[i], acct->domains[e], v, chosen,
                         acct->name, acct->domains[e]);
    }
    if (first < 0)
        return;
    c->domain = apr_pstrdup(pconf, acct->domains[first]);
    c->route = apr_pstrdup(pconf, wlf_path_route(&g->cfg, acct->name,
                                                 c->domain, buf,
                                                 sizeof(buf)));
}

/* Map every vhost to its account; every conflict is logged before
 * httpd is stopped, so that one start shows them all */
static int map_vhosts(apr_pool_t *pconf, apr_pool_t *ptemp, wlf_global *g,
                      server_rec *main_s)
{
    int failed = 0;

    for (server_rec *s = main_s; s; s = s->next) {
        wlf_srv_conf *c = wlfcgi_srv_conf(s);
        wlf_vhost_desc d;
        const wlf_account *acct = NULL;
        char how[160];
        wlf_err e;

        d.label = vhost_label(ptemp, s);
        d.names = vhost_names(ptemp, s, &d.n_names);
        d.explicit_account = c->account_name;
        if (wlf_map_vhost(&g->accounts, &d, &acct, how, sizeof(how),
                          &e) < 0) {
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
        if (acct)
            resolve_domain(pconf, g, acct, &d, c);
        if (resolve_extensions(c, acct, d.label) < 0) {
            failed = 1;
            continue;
        }
        resolve_owner(s, c);
        if (!first_pass())
            ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, main_s,
                         WLFLOG_VHOST_MAPPED ": vhost %s: %s%s%s", d.label,
                         c->acct ? "account " : "no account",
                         c->acct ? c->acct->name : "",
                         c->acct ? apr_pstrcat(ptemp, " (by ", how, ")",
                                               NULL) : "");
    }
    return failed ? HTTP_INTERNAL_SERVER_ERROR : OK;
}

/* For the shadow table: owner's wlf_acct under the lower-case domain */
typedef struct {
    apr_pool_t *p;
    wlf_global *g;
} shadow_build;

static void note_shadowed(const wlf_account *owner, const char *domain,
                          const wlf_account *wild_owner,
                          const char *wildcard, void *arg)
{
    shadow_build *sb = arg;
    char *key = apr_pstrdup(sb->p, domain);

    (void)wild_owner;
    (void)wildcard;
    ap_str_tolower(key);
    if (sb->g->shadowed == NULL)
        sb->g->shadowed = apr_hash_make(sb->p);
    apr_hash_set(sb->g->shadowed, key, APR_HASH_KEY_STRING,
                 apr_hash_get(sb->g->by_name, owner->name,
                              APR_HASH_KEY_STRING));
}

/* Does a name of vhost s (exact, or a ServerAlias pattern) take host? */
static const char *vhost_takes(apr_pool_t *p, server_rec *s,
                               const char *host)
{
    size_t n;
    const char **names = vhost_names(p, s, &n);

    for (size_t i = 0; i < n; i++) {
        if (names[i] == NULL)
            continue;
        if (strcasecmp(names[i], host) == 0 ||
            (strpbrk(names[i], "*?") &&
             apr_fnmatch(names[i], host, APR_FNM_CASE_BLIND) == APR_SUCCESS))
            return names[i];
    }
    return NULL;
}

/* Exact names win over wildcards in the account map, but httpd gives a
 * request to the first vhost (in configuration order) with a matching
 * name: where that is a vhost of another account, say so */
static void check_vhost_order(apr_pool_t *pconf, apr_pool_t *ptemp,
                              wlf_global *g, server_rec *main_s)
{
    shadow_build sb = { pconf, g };
    apr_hash_index_t *hi;
    apr_array_header_t *order;

    g->shadowed = NULL;
    wlf_accounts_shadowed(&g->accounts, NULL, note_shadowed, &sb);
    if (g->shadowed == NULL)
        return;
    /* httpd links each <VirtualHost> in front of the ones read before:
     * the chain runs backwards through the configuration */
    order = apr_array_make(ptemp, 8, sizeof(server_rec *));
    for (server_rec *s = main_s->next; s; s = s->next)
        APR_ARRAY_PUSH(order, server_rec *) = s;
    for (hi = apr_hash_first(ptemp, g->shadowed); hi;
         hi = apr_hash_next(hi)) {
        const void *key;
        void *val;
        const char *host, *name = NULL;
        wlf_acct *owner;
        server_rec *s;

        apr_hash_this(hi, &key, NULL, &val);
        host = key;
        owner = val;
        s = NULL;
        for (int i = order->nelts - 1; i >= 0 && s == NULL; i--) {
            server_rec *v = APR_ARRAY_IDX(order, i, server_rec *);
            if ((name = vhost_takes(ptemp, v, host)) != NULL)
                s = v;
        }
        if (s == NULL || owner == NULL || wlfcgi_srv_conf(s)->acct == NULL ||
            wlfcgi_srv_conf(s)->acct == owner || !should_report())
            continue;
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_WARNING, 0, NULL,
                     WLFLOG_VHOST_ORDER ": %s is account %s's, but httpd "
                     "gives its requests to vhost %s of account %s (by %s), "
                     "the first vhost whose name matches: they are refused "
                     "(421) until a vhost of account %s for %s comes before "
                     "it", host, owner->name, vhost_label(ptemp, s),
                     wlfcgi_srv_conf(s)->acct->name, name, owner->name,
                     host);
    }
}

/*
 * check_config runs after the vhosts are set up and also for
 * `apachectl -t`: every error that should stop httpd is found here.
 */
static int check_config(apr_pool_t *pconf, apr_pool_t *plog,
                        apr_pool_t *ptemp, server_rec *main_s)
{
    const char *config_file = wlfcgi_srv_conf(main_s)->config_file;
    wlf_global *g;
    int rv;

    if (config_file == NULL)
        return check_unconfigured(ptemp, main_s);
    if (ap_find_linked_module("mod_proxy_fcgi.c") == NULL) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                     WLFLOG_NO_PROXY_FCGI ": mod_wlfcgi needs mod_proxy_fcgi; "
                     "load it before mod_wlfcgi");
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if ((rv = load_database(pconf, config_file, &g)) != OK)
        return rv;
    resolve_socket_dir(pconf, g);
    if ((rv = make_accounts(pconf, g, config_file)) != OK ||
        (rv = map_vhosts(pconf, ptemp, g, main_s)) != OK ||
        (rv = wlfcgi_load_suspended_pages(pconf, main_s)) != OK)
        return rv;
    check_vhost_order(pconf, ptemp, g, main_s);
    if (ap_state_query(AP_SQ_RUN_MODE) == AP_SQ_RM_CONFIG_TEST)
        wlfcgi_warn_upload_ceilings(ptemp, main_s);
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

/* Slot k's worker of instance `in` of account a in pool p, tuned for FPM
 * and for the account's reuse plan; NULL and *why when mod_proxy refuses
 * it. */
static proxy_worker *define_slot_worker(apr_pool_t *p, const wlf_acct *a,
                                        const wlf_inst *in, int k,
                                        const char **why)
{
    proxy_worker *w;
    const char *url = apr_psprintf(p, "unix:%s|fcgi://wlf-%s.%c/",
                                   in->slot_sock[k], in->key, 'a' + k);

    /* in no proxy config: mod_proxy neither shares nor initialises it in
     * every child */
    if ((*why = ap_proxy_define_worker_ex(p, &w, NULL, NULL, url,
                                          AP_PROXY_WORKER_IS_PREFIX)))
        return NULL;
    /* a restarted instance must be usable at once */
    w->s->retry = 0;
    w->s->retry_set = 1;
    /* bodies in rounds of several FastCGI records */
    w->s->io_buffer_size = WLF_IO_BUFFER;
    w->s->io_buffer_size_set = 1;
    w->s->disablereuse_set = 1;
    if (a->reuse.enabled) {
        w->s->disablereuse = 0;
        w->s->hmax = a->reuse.hmax;
        /* smax 0 + ttl: every idle connection older than ttl is closed
         * on the next release, and never handed out */
        w->s->smax = 0;
        w->s->min = 0;
        w->s->ttl = apr_time_from_sec(a->reuse.ttl);
    }
    else {
        w->s->disablereuse = 1;
    }
    return w;
}

/*
 * Plan connection reuse for every account. Its two slot workers are not
 * defined here: a child defines and initialises a worker when it first
 * sends a request to it (wlfcgi_worker_ready). Workers in mod_proxy's
 * config records would be initialised by every child at start (two APR
 * pools each, and a reslist on threaded MPMs), and even defined ones cost
 * 4 KiB each in every process (proxy_worker_shared): with 10,000 accounts
 * about 300 and 80 MiB per child, whether a child ever serves an account
 * or not. Each worker still exists once per process, with one connection
 * pool, as the reuse sizing assumes.
 */
static int post_config(apr_pool_t *pconf, apr_pool_t *plog,
                       apr_pool_t *ptemp, server_rec *main_s)
{
    apr_hash_index_t *hi;
    int threads = 1, processes = 1;

    if (wlf_g == NULL)
        return OK;
    ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads);
    ap_mpm_query(AP_MPMQ_HARD_LIMIT_DAEMONS, &processes);
    wlf_g->n_conf_slots = conf_slots_in_use();

    for (hi = apr_hash_first(ptemp, wlf_g->by_name); hi;
         hi = apr_hash_next(hi)) {
        wlf_acct *a = apr_hash_this_val(hi);

        wlf_reuse_plan_for(a->max_children, a->max_execution_time, threads,
                           processes, a->fpm_pm, &a->reuse);
        wlf_reuse_check_recycling(a->max_requests, &a->reuse);
        if (!first_pass())
            ap_log_error(APLOG_MARK, APLOG_INFO, 0, main_s,
                         WLFLOG_REUSE_PLAN ": account %s: %s (%d threads, "
                         "ServerLimit %d)", a->name, a->reuse.why, threads,
                         processes);
    }
    wlfcgi_contain_post_config(pconf, main_s);
    if (!first_pass())
        wlfcgi_warn_upload_ceilings(ptemp, main_s);
    return OK;
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
    /* NULL: this child has not used the worker, it has no connections */
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
            for (int k = 0; k < 2 * accts[i]->n_known; k++)
                release_idle(apr_atomic_casptr(
                    (volatile void **)&accts[i]->inst[k / 2].worker[k % 2],
                    NULL, NULL));
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

/* this child's pool, where its workers live, and the lock that makes
 * one thread define each */
static apr_pool_t *child_pool;
#if APR_HAS_THREADS
static apr_thread_mutex_t *worker_lock;
#endif

proxy_worker *wlfcgi_worker_ready(request_rec *r, const wlf_acct *a,
                                  wlf_inst *in, int k)
{
    proxy_worker *w = apr_atomic_casptr((volatile void **)&in->worker[k],
                                        NULL, NULL);
    apr_pool_t *p = child_pool ? child_pool : r->server->process->pool;
    const char *why = NULL;
    apr_status_t rv = APR_SUCCESS;

    if (w)
        return w;       /* published only once initialised */
#if APR_HAS_THREADS
    if (worker_lock)
        apr_thread_mutex_lock(worker_lock);
#endif
    if ((w = in->worker[k]) == NULL) {
        /* mod_proxy's own initialisation (as for workers added at run
         * time): connection pool, reslist */
        if ((w = define_slot_worker(p, a, in, k, &why)) != NULL &&
            (rv = ap_proxy_initialize_worker(w, r->server, p)) ==
                APR_SUCCESS)
            apr_atomic_xchgptr((volatile void **)&in->worker[k], w);
        else
            w = NULL;
    }
#if APR_HAS_THREADS
    if (worker_lock)
        apr_thread_mutex_unlock(worker_lock);
#endif
    if (w == NULL)
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, WLFLOG_WORKER_DEFINE
                      ": account %s: cannot set up the proxy worker of "
                      "%s slot %c: %s", a->name, in->key, 'a' + k,
                      why ? why : "initialisation failed");
    return w;
}

static void child_init(apr_pool_t *pchild, server_rec *s)
{
    child_pool = pchild;
#if APR_HAS_THREADS
    if (apr_thread_mutex_create(&worker_lock, APR_THREAD_MUTEX_DEFAULT,
                                pchild) != APR_SUCCESS)
        worker_lock = NULL;     /* then prefork-like: one thread */
#endif
#if APR_HAS_THREADS
    wlf_janitor *j;
    apr_status_t rv;
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
    if ((rv = apr_thread_mutex_create(&j->lock, APR_THREAD_MUTEX_DEFAULT,
                                      pchild)) != APR_SUCCESS ||
        (rv = apr_thread_cond_create(&j->wake, pchild)) != APR_SUCCESS ||
        (rv = apr_thread_create(&j->thread, NULL, janitor_main, j,
                                pchild)) != APR_SUCCESS) {
        /* the child still serves; only idle connections stay open */
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, WLFLOG_JANITOR_START
                     ": cannot start the thread that closes idle FastCGI "
                     "connections in this httpd process; they stay open "
                     "until reused, holding FPM workers");
        return;
    }
    /* a pre-cleanup: the thread must be gone before pchild's subpools,
     * where mod_proxy keeps the connection pools, are destroyed */
    apr_pool_pre_cleanup_register(pchild, j, janitor_stop);
#else
    (void)pchild;
    (void)s;
#endif
}

/* ------------------------------------------------------------------ */

static void register_hooks(apr_pool_t *p)
{
    /* mod_rewrite applies [H=] in a fixup of its own at APR_HOOK_LAST:
     * ours must come after it to have the last word */
    static const char *const after_rewrite[] = { "mod_rewrite.c", NULL };
    static const char *const after_proxy[] = { "mod_proxy.c", NULL };
    /* core applies SetHandler/ForceType in a REALLY_FIRST fixup: the
     * handler and type just before and just after it tell who chose them */
    static const char *const core[] = { "core.c", NULL };

    ap_hook_pre_config(pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(check_config, NULL, NULL, APR_HOOK_MIDDLE);
    /* after mod_proxy's post_config; workers must exist before
     * mod_proxy's child_init, which every post_config precedes */
    ap_hook_post_config(post_config, NULL, NULL, APR_HOOK_LAST);
    ap_hook_child_init(child_init, after_proxy, NULL, APR_HOOK_MIDDLE);
    /* before mod_rewrite, mod_alias and every .htaccess: a suspended
     * site answers nothing else */
    ap_hook_translate_name(wlfcgi_suspended_check, NULL, NULL,
                           APR_HOOK_REALLY_FIRST);
    ap_hook_post_perdir_config(wlfcgi_contain_perdir, NULL, NULL,
                               APR_HOOK_REALLY_FIRST);
    /* the client's own request, before any redirect (upload limits) */
    ap_hook_post_perdir_config(wlfcgi_note_client_scope, NULL, NULL,
                               APR_HOOK_REALLY_FIRST);
    ap_hook_fixups(wlfcgi_contain_before_core, NULL, core,
                   APR_HOOK_REALLY_FIRST);
    ap_hook_fixups(wlfcgi_contain_after_core, core, NULL,
                   APR_HOOK_REALLY_FIRST);
    ap_hook_fixups(wlfcgi_fixups, after_rewrite, NULL, APR_HOOK_LAST);
    ap_hook_post_read_request(wlfcgi_misdirected, NULL, NULL,
                              APR_HOOK_MIDDLE);
    ap_hook_insert_filter(wlfcgi_contain_insert_filter, NULL, NULL,
                          APR_HOOK_MIDDLE);
    ap_hook_handler(wlfcgi_status_handler, NULL, NULL, APR_HOOK_MIDDLE);
    /* before mod_proxy_balancer: we must see every proxied request;
     * without mod_proxy, pre_config says what to do */
    if (wlfcgi_proxy_loaded())
        proxy_hook_pre_request(wlfcgi_pre_request, NULL, NULL,
                               APR_HOOK_REALLY_FIRST);
    APR_OPTIONAL_HOOK(proxy, request_status, wlfcgi_request_status, NULL,
                      NULL, APR_HOOK_MIDDLE);
    wlfcgi_register_filters();
    wlfcgi_contain_register();
}

AP_DECLARE_MODULE(wlfcgi) = {
    STANDARD20_MODULE_STUFF,
    wlfcgi_create_dir_conf,
    wlfcgi_merge_dir_conf,
    wlfcgi_create_srv_conf,
    wlfcgi_merge_srv_conf,
    wlfcgi_cmds,
    register_hooks,
    /* every vhost gets its own server config (httpd would otherwise hand
     * vhosts without WLFcgi directives the main server's record, and the
     * per-vhost account would be shared) */
    AP_MODULE_FLAG_ALWAYS_MERGE
};
