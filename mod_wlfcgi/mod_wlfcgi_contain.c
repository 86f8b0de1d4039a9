/*
 * mod_wlfcgi_contain.c - what a customer's .htaccess may choose, and
 * whose files httpd sends.
 *
 *   post_config         collects the SetHandler/ForceType values of every
 *                       section of the server configuration (the admin's)
 *                       and the modules whose .htaccess use is watched
 *   post_perdir_config  which of those modules the request's .htaccess
 *                       files configured; mod_lua from .htaccess: 403;
 *                       Options ExecCGI / Includes with exec switched on
 *                       by a .htaccess: off again for this request; what
 *                       translation (the server and vhost config) decided
 *   fixups, around      the handler and content type just before and
 *   core's              just after core's SetHandler/ForceType fixup
 *   wlfcgi_contain_check  (from the routing fixup, after mod_rewrite's):
 *                       a proxy target or handler a .htaccess may have
 *                       chosen, the owner of the file or directory
 *   insert_filter,      the owner of every file httpd actually opened for
 *   WLFCGI_OWNER        a static response, before a byte of it leaves
 *
 * The decisions are wlf_contain.c's; this file gathers the facts.
 */
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_hash.h"
#include "apr_portable.h"
#include "apr_strings.h"
#include "ap_expr.h"
#include "util_filter.h"
#include "mod_proxy.h"

#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mod_wlfcgi_private.h"
#include "wlf_contain.h"
#include "wlf_log.h"

APLOG_USE_MODULE(wlfcgi);

#define WLF_OWNER_FILTER    "WLFCGI_OWNER"
/* directories on the way to a file that are looked at, at most */
#define WLF_WAY_MAX         64
/* the Options that run a customer's code as httpd's user */
#define WLF_EXEC_OPTS       (OPT_EXECCGI | OPT_INC_WITH_EXEC)
/* modules whose configuration in a .htaccess is refused outright: their
 * directives there run code as httpd's user */
static const char *const refused_modules[] = {
    "mod_lua.c", "mod_perl.c", "mod_python.c", NULL
};

/*
 * Modules that open a file named in their per-directory configuration at
 * request time, as httpd's user (which reads every account's files): a
 * password or group file named in a .htaccess made eve's vhost an oracle
 * for another account's passwords, or the admin's tools'. The name is
 * the first member of their records, whose layout has not changed since
 * httpd 2.2 (mod_authn_file.c, mod_authz_groupfile.c: one pointer;
 * mod_authn_dbm.c, mod_authz_dbm.c: two, the DBM type second). Single
 * files are opened here, checked on the descriptor, and the module is
 * handed /proc/self/fd/N: it opens exactly what was checked.
 */
typedef struct {
    const char *path;
} wlf_named_file;

static const struct {
    const char *module;
    const char *directive;
    size_t rec_size;
    int one_file;                   /* DBM files have several names */
} named_files[] = {
    { "mod_authn_file.c", "AuthUserFile", sizeof(char *), 1 },
    { "mod_authz_groupfile.c", "AuthGroupFile", sizeof(char *), 1 },
    { "mod_authn_dbm.c", "AuthDBMUserFile", 2 * sizeof(char *), 0 },
    { "mod_authz_dbm.c", "AuthDBMGroupFile", 2 * sizeof(char *), 0 },
};
#define WLF_NAMED_FILES (sizeof(named_files) / sizeof(named_files[0]))

typedef struct {
    apr_hash_t *admin_values;       /* SetHandler/ForceType pointers and
                                       named_files records of the server
                                       configuration */
    module *mime, *rewrite;
    apr_array_header_t *refused;    /* module * */
    module *named[WLF_NAMED_FILES]; /* or NULL: not loaded */
} wlf_contain_global;

static int named_files_check(request_rec *r, wlf_srv_conf *c);

static wlf_contain_global *cg;

wlf_req *wlfcgi_req_get(request_rec *r)
{
    return ap_get_module_config(r->request_config, &wlfcgi_module);
}

wlf_req *wlfcgi_req(request_rec *r)
{
    wlf_req *rq = wlfcgi_req_get(r);

    if (rq == NULL) {
        rq = apr_pcalloc(r->pool, sizeof(*rq));
        ap_set_module_config(r->request_config, &wlfcgi_module, rq);
    }
    return rq;
}

/* ------------------------------------------------------------------ */
/* start-up                                                            */

static void add_admin_value(const void *p)
{
    const void **key;

    if (p == NULL)
        return;
    key = apr_palloc(apr_hash_pool_get(cg->admin_values), sizeof(*key));
    *key = p;
    apr_hash_set(cg->admin_values, key, sizeof(*key), "");
}

typedef int (*section_visit)(ap_conf_vector_t *v,
                             const core_dir_config *cd);

/* Call `visit` on section `v` and then on the <Files>/<If> sections
 * inside it (32 levels deep at most) until one returns non-zero: that
 * value, else 0. */
static int walk_sections(ap_conf_vector_t *v, section_visit visit,
                         int depth)
{
    core_dir_config *cd = v ? ap_get_core_module_config(v) : NULL;
    apr_array_header_t *lists[2];
    int found;

    if (cd == NULL || depth > 32)
        return 0;
    if ((found = visit(v, cd)) != 0)
        return found;
    lists[0] = cd->sec_file;
    lists[1] = cd->sec_if;
    for (int l = 0; l < 2; l++) {
        if (lists[l] == NULL)
            continue;
        for (int i = 0; i < lists[l]->nelts; i++) {
            found = walk_sections(APR_ARRAY_IDX(lists[l], i,
                                                ap_conf_vector_t *),
                                  visit, depth + 1);
            if (found != 0)
                return found;
        }
    }
    return 0;
}

/* The handlers and types one section of the server configuration sets */
static int collect_values(ap_conf_vector_t *v, const core_dir_config *cd)
{
    add_admin_value(cd->expr_handler);
    add_admin_value(cd->mime_type);
    add_admin_value(cd->handler);
    for (size_t i = 0; i < WLF_NAMED_FILES; i++)
        if (cg->named[i])
            add_admin_value(ap_get_module_config(v, cg->named[i]));
    return 0;
}

/* A section of the server configuration and the sections inside it */
static void collect_section(ap_conf_vector_t *v)
{
    walk_sections(v, collect_values, 0);
}

static void collect_list(apr_array_header_t *a)
{
    if (a == NULL)
        return;
    for (int i = 0; i < a->nelts; i++)
        collect_section(APR_ARRAY_IDX(a, i, ap_conf_vector_t *));
}

void wlfcgi_contain_post_config(apr_pool_t *pconf, server_rec *main_s)
{
    cg = apr_pcalloc(pconf, sizeof(*cg));
    cg->admin_values = apr_hash_make(pconf);
    cg->mime = ap_find_linked_module("mod_mime.c");
    cg->rewrite = ap_find_linked_module("mod_rewrite.c");
    cg->refused = apr_array_make(pconf, 2, sizeof(module *));
    for (int i = 0; refused_modules[i]; i++) {
        module *m = ap_find_linked_module(refused_modules[i]);
        if (m)
            APR_ARRAY_PUSH(cg->refused, module *) = m;
    }
    for (size_t i = 0; i < WLF_NAMED_FILES; i++)
        cg->named[i] = ap_find_linked_module(named_files[i].module);
    for (server_rec *s = main_s; s; s = s->next) {
        core_server_config *sc = ap_get_core_module_config(s->module_config);
        proxy_server_conf *pc = ap_get_module_config(s->module_config,
                                                     &proxy_module);

        collect_section(s->lookup_defaults);
        collect_list(sc->sec_dir);
        collect_list(sc->sec_url);
        if (pc)
            collect_list(pc->sec_proxy);
    }
}

/* ------------------------------------------------------------------ */
/* what the .htaccess files of a request configured                    */

/* Options that let the section's files run as code */
static int enables_exec(ap_conf_vector_t *v, const core_dir_config *cd)
{
    (void)v;
    if (!(cd->opts & OPT_UNSET) && (cd->opts & WLF_EXEC_OPTS))
        return 1;
    return (cd->opts_add & WLF_EXEC_OPTS) != 0;
}

/* Did the .htaccess of directory `dir` ("/a/b/") take part in the
 * request for `filename` ("/a/b/c", or the directory "/a/b" itself)? */
static int htaccess_applies(const char *dir, const char *filename)
{
    size_t n = strlen(dir);

    if (filename == NULL)
        return 1;
    if (strncmp(filename, dir, n) == 0)
        return 1;
    return n > 1 && dir[n - 1] == '/' && strncmp(filename, dir, n - 1) == 0
           && filename[n - 1] == '\0';
}

static void summarize(request_rec *r, wlf_req *rq)
{
    for (const struct htaccess_result *h = r->htaccess; h; h = h->next) {
        unsigned before = rq->ht;

        if (h->htaccess == NULL || !htaccess_applies(h->dir, r->filename))
            continue;
        rq->ht |= WLF_HT_ANY;
        if (cg->mime && ap_get_module_config(h->htaccess, cg->mime))
            rq->ht |= WLF_HT_MIME;
        if (cg->rewrite && ap_get_module_config(h->htaccess, cg->rewrite))
            rq->ht |= WLF_HT_REWRITE;
        /* Options in the .htaccess itself or a <Files>/<If> inside it */
        if (walk_sections(h->htaccess, enables_exec, 0))
            rq->ht |= WLF_HT_OPTIONS;
        for (int i = 0; i < cg->refused->nelts; i++) {
            module *m = APR_ARRAY_IDX(cg->refused, i, module *);
            if (!(rq->ht & WLF_HT_REFUSED) &&
                ap_get_module_config(h->htaccess, m)) {
                rq->ht |= WLF_HT_REFUSED;
                rq->refused_module = m->name;
                rq->refused_dir = h->dir;
            }
        }
        /* the list starts with the deepest directory */
        if (rq->ht_dir == NULL && rq->ht != before)
            rq->ht_dir = h->dir;
        if (rq->ht_dir == NULL)
            rq->ht_dir = h->dir;
    }
}

static const char *where_in(request_rec *r, const wlf_req *rq)
{
    if (rq && rq->ht_dir)
        return rq->ht_dir;
    return r->filename ? r->filename : r->uri;
}

/* Switch the exec Options off in a copy of the request's core config */
static void mask_exec_options(request_rec *r)
{
    core_dir_config *cd = ap_get_core_module_config(r->per_dir_config);
    core_dir_config *copy;
    ap_conf_vector_t *v;

    if (!(cd->opts & WLF_EXEC_OPTS))
        return;
    /* r->per_dir_config may be shared (cached merges): change a copy */
    v = ap_create_per_dir_config(r->pool);
    memcpy(v, r->per_dir_config,
           sizeof(void *) * (size_t)wlf_g->n_conf_slots);
    copy = apr_pmemdup(r->pool, cd, sizeof(*cd));
    copy->opts &= (allow_options_t)~WLF_EXEC_OPTS;
    ap_set_core_module_config(v, copy);
    r->per_dir_config = v;
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, WLFLOG_OPTIONS_MASKED
                  ": vhost %s: a .htaccess under %s switched on ExecCGI or "
                  "Includes with exec; off for %s",
                  r->server->server_hostname,
                  where_in(r, wlfcgi_req_get(r)), r->uri);
}

int wlfcgi_contain_perdir(request_rec *r)
{
    wlf_srv_conf *c;
    wlf_req *rq;
    int rv;

    if (wlf_g == NULL || cg == NULL)
        return DECLINED;
    rq = wlfcgi_req(r);
    rq->proxy_translated = r->proxyreq && r->filename &&
                           strncmp(r->filename, "proxy:", 6) == 0;
    rq->h.translated = r->handler;
    rq->t.translated = r->content_type;
    rq->h.rewrite_server = apr_table_get(r->notes, "rewrite-forced-handler");
    rq->t.rewrite_server = apr_table_get(r->notes,
                                         "rewrite-forced-mimetype");
    summarize(r, rq);
    c = wlfcgi_srv_conf(r->server);
    if (c->exts_none)
        return DECLINED;
    /* before mod_speling's and mod_negotiation's look at the directory */
    if ((rv = wlfcgi_contain_parent(r, c)) != DECLINED)
        return rv;
    if (rq->ht == 0)
        return DECLINED;
    if (rq->ht & WLF_HT_REFUSED) {
        /* its hooks that still run for a refused request (mod_lua's
         * LuaHookLog) see the vhost's configuration, not the .htaccess */
        ap_conf_vector_t *v = ap_create_per_dir_config(r->pool);
        memcpy(v, r->per_dir_config,
               sizeof(void *) * (size_t)wlf_g->n_conf_slots);
        for (int i = 0; i < cg->refused->nelts; i++) {
            module *m = APR_ARRAY_IDX(cg->refused, i, module *);
            ap_set_module_config(v, m, ap_get_module_config(
                r->server->lookup_defaults, m));
        }
        r->per_dir_config = v;
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, WLFLOG_HTACCESS_REFUSED
                      ": vhost %s (account %s): the .htaccess in %s "
                      "configures %s, whose directives there run code as "
                      "httpd's user: %s refused",
                      r->server->server_hostname,
                      c->acct ? c->acct->name : "none", rq->refused_dir,
                      rq->refused_module, r->uri);
        return HTTP_FORBIDDEN;
    }
    if (rq->ht & WLF_HT_OPTIONS)
        mask_exec_options(r);
    return named_files_check(r, c);
}

/* ------------------------------------------------------------------ */
/* around core's SetHandler/ForceType fixup                            */

/* Note the handler and content type on one side of core's fixup; the
 * verdict compares the two to tell who set them. */
static int note_core_fixup(request_rec *r, int after)
{
    wlf_req *rq;

    if (wlf_g == NULL || (rq = wlfcgi_req_get(r)) == NULL || rq->ht == 0)
        return DECLINED;
    if (after) {
        rq->h.after_core = r->handler;
        rq->t.after_core = r->content_type;
    } else {
        rq->h.before_core = r->handler;
        rq->t.before_core = r->content_type;
    }
    return DECLINED;
}

int wlfcgi_contain_before_core(request_rec *r)
{
    return note_core_fixup(r, 0);
}

int wlfcgi_contain_after_core(request_rec *r)
{
    return note_core_fixup(r, 1);
}

/* ------------------------------------------------------------------ */
/* the verdicts                                                        */

static wlf_origin value_origin(const void *p)
{
    if (p == NULL || apr_hash_get(cg->admin_values, &p, sizeof(p)))
        return WLF_BY_ADMIN;
    return WLF_BY_CUSTOMER;
}

/* Who may have chosen the handler httpd will run (or, without one, the
 * content type it dispatches on) */
wlf_origin wlfcgi_handler_origin(request_rec *r)
{
    wlf_req *rq = wlfcgi_req_get(r);
    core_dir_config *cd = ap_get_core_module_config(r->per_dir_config);
    wlf_trace t;

    if (rq == NULL || rq->ht == 0 || cg == NULL)
        return WLF_BY_ADMIN;
    if (r->handler) {
        t = rq->h;
        t.final = r->handler;
        t.core = value_origin(cd->expr_handler);
    }
    else {
        t = rq->t;
        t.final = r->content_type;
        t.core = value_origin(cd->mime_type);
    }
    return wlf_attribute(rq->ht, &t);
}

static void own_of(wlf_srv_conf *c, wlf_own *own, const char **socks)
{
    own->name = c->acct ? c->acct->name : NULL;
    own->socket_dir = wlf_g->cfg.socket_dir;
    own->sockets = socks;
    own->n_sockets = 0;
    if (c->acct) {
        socks[0] = c->acct->link;
        socks[1] = c->acct->slot_sock[0];
        socks[2] = c->acct->slot_sock[1];
        own->n_sockets = 3;
    }
}

/* The socket path of a proxy URL ("unix:PATH|...") or `uds` */
static const char *target_path(request_rec *r, const char *url,
                               const char *uds)
{
    const char *bar;

    if (uds || ap_cstr_casecmpn(url, "unix:", 5) != 0)
        return uds ? uds : url;
    bar = ap_strchr_c(url, '|');
    return bar ? apr_pstrmemdup(r->pool, url + 5, (apr_size_t)(bar - url - 5))
               : url;
}

/* The host of a proxy URL ("[unix:PATH|]scheme://HOST[:port]/...") */
static const char *target_host(request_rec *r, const char *url)
{
    const char *bar = ap_strchr_c(url, '|');
    const char *h = ap_strstr_c(bar ? bar + 1 : url, "://");

    if (h == NULL)
        return url;
    h += 3;
    return apr_pstrmemdup(r->pool, h, strcspn(h, "/:?#"));
}

/* A proxy target a .htaccess may have chosen: OK for the vhost's own
 * account (the module then connects through its own worker), else 403 */
static int judge_target(request_rec *r, wlf_srv_conf *c, wlf_req *rq,
                        const char *url, const char *uds)
{
    const char *socks[3];
    char acct[WLF_NAME_MAX + 8];
    wlf_own own;
    const char *vhost = r->server->server_hostname;
    const char *own_name = c->acct ? c->acct->name : "none";

    own_of(c, &own, socks);
    switch (wlf_target_classify(url, uds, &own, acct, sizeof(acct))) {
    case WLF_TARGET_OWN:
        rq->customer_proxy = 1;
        return DECLINED;
    case WLF_TARGET_FOREIGN:
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, WLFLOG_FOREIGN_SOCKET
                      ": vhost %s (account %s) tried to reach account %s's "
                      "socket %s (set in %s): refused", vhost, own_name,
                      acct, target_path(r, url, uds), where_in(r, rq));
        break;
    case WLF_TARGET_RESERVED:
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, WLFLOG_FORGED_WORKER
                      ": vhost %s (account %s) used the reserved worker name "
                      "%s (set in %s): refused", vhost, own_name,
                      target_host(r, url), where_in(r, rq));
        break;
    case WLF_TARGET_SOCKDIR:
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, WLFLOG_FORGED_WORKER
                      ": vhost %s: %s lies in the wlfcgi socket directory "
                      "but is no account socket (set in %s): refused",
                      vhost, target_path(r, url, uds), where_in(r, rq));
        break;
    case WLF_TARGET_OTHER:
    default:
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, WLFLOG_PROXY_REFUSED
                      ": vhost %s (account %s): proxy target proxy:%s%s%s, "
                      "chosen in %s, is not the vhost's own account: "
                      "refused", vhost, own_name, url, uds ? " via " : "",
                      uds ? uds : "", where_in(r, rq));
        break;
    }
    return HTTP_FORBIDDEN;
}

/* Whose files the vhost may send in the request's scope */
static void owners_of(request_rec *r, const wlf_srv_conf *c, wlf_owners *o)
{
    wlf_dir_conf *d = ap_get_module_config(r->per_dir_config,
                                           &wlfcgi_module);

    o->has_owner = c->has_owner;
    o->owner = c->owner_uid;
    o->extra = d->allow_owners ? (const uid_t *)d->allow_owners->elts
                               : NULL;
    o->n_extra = d->allow_owners ? (size_t)d->allow_owners->nelts : 0;
}

/* The directories on the way to `real` (absolute, no links), from "/"
 * down to the one that holds it: open to everyone (wlf_way_open)? */
static int way_open(const char *real, const wlf_owners *o)
{
    wlf_node nodes[WLF_WAY_MAX];
    char buf[PATH_MAX];
    size_t n = 0, len = strlen(real);

    if (real[0] != '/' || len >= sizeof(buf))
        return 0;
    memcpy(buf, real, len + 1);
    for (size_t i = 0; i < len; i++) {
        struct stat st;
        char next;

        if (buf[i] != '/')
            continue;
        /* "/", "/home/", "/home/ann/", ... */
        next = buf[i + 1];
        buf[i + 1] = '\0';
        if (n == WLF_WAY_MAX || stat(buf, &st) != 0)
            return 0;
        nodes[n].uid = st.st_uid;
        nodes[n].mode = st.st_mode;
        n++;
        buf[i + 1] = next;
    }
    return wlf_way_open(nodes, n, o);
}

/* May the vhost send the file or directory at `path`, whose owner and
 * mode httpd found? (APR's permission bits are laid out as the kernel's:
 * APR_FPROT_WREAD is S_IROTH.) */
static int may_send(const wlf_owners *o, uid_t owner, mode_t mode,
                    const char *path)
{
    char real[PATH_MAX];

    switch (wlf_file_owner(owner, mode, o)) {
    case WLF_FILE_ALLOWED:
        return 1;
    case WLF_FILE_IF_OPEN_WAY:
        return realpath(path, real) != NULL && way_open(real, o);
    case WLF_FILE_REFUSED:
    default:
        return 0;
    }
}

static const char *whose(const wlf_srv_conf *c)
{
    return c->acct ? "the account's user" : "the document root's owner";
}

static void log_foreign(request_rec *r, const wlf_srv_conf *c,
                        const char *what, const char *path, uid_t owner)
{
    if (owner == 0)
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, WLFLOG_FOREIGN_FILE
                      ": vhost %s (account %s): %s%s is owned by uid 0 and "
                      "not open to every local user (mode, or a directory "
                      "on the way): refused", r->server->server_hostname,
                      c->acct ? c->acct->name : "none", what, path);
    else
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, WLFLOG_FOREIGN_FILE
                      ": vhost %s (account %s): %s%s is owned by uid %ld, "
                      "not by %s: refused", r->server->server_hostname,
                      c->acct ? c->acct->name : "none", what, path,
                      (long)owner, whose(c));
}

static apr_status_t close_fd(void *data)
{
    close((int)(intptr_t)data);
    return APR_SUCCESS;
}

/* Hand the module a copy of its record that names `path` instead */
static void rename_named_file(request_rec *r, size_t i, const char *path)
{
    module *m = cg->named[i];
    ap_conf_vector_t *v = ap_create_per_dir_config(r->pool);
    wlf_named_file *rec = apr_pmemdup(r->pool, ap_get_module_config(
        r->per_dir_config, m), named_files[i].rec_size);

    rec->path = path;
    /* r->per_dir_config may be shared (cached merges): change a copy */
    memcpy(v, r->per_dir_config,
           sizeof(void *) * (size_t)wlf_g->n_conf_slots);
    ap_set_module_config(v, m, rec);
    r->per_dir_config = v;
}

static int not_a_file(request_rec *r, wlf_srv_conf *c, size_t i,
                      const char *path)
{
    /* a FIFO: the module's blocking open would hold the thread until a
     * writer came, and a customer could hold every thread of httpd */
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, WLFLOG_FOREIGN_FILE
                  ": vhost %s (account %s): the %s %s is not a regular "
                  "file: refused", r->server->server_hostname,
                  c->acct ? c->acct->name : "none",
                  named_files[i].directive, path);
    return HTTP_FORBIDDEN;
}

/* A password or group file a .htaccess named: a regular file of the
 * vhost's owner (or root's, open to everyone), else 403 */
static int named_files_check(request_rec *r, wlf_srv_conf *c)
{
    static const char *const dbm_names[] = { "", ".pag", ".dir", ".db" };
    wlf_owners o;

    for (size_t i = 0; i < WLF_NAMED_FILES; i++) {
        const wlf_named_file *rec;
        struct stat st;
        char self[64];
        int fd;

        if (cg->named[i] == NULL ||
            (rec = ap_get_module_config(r->per_dir_config,
                                        cg->named[i])) == NULL ||
            rec->path == NULL || value_origin(rec) == WLF_BY_ADMIN)
            continue;
        owners_of(r, c, &o);
        if (!named_files[i].one_file) {
            /* every file of that name the DBM library may open */
            for (size_t k = 0; k < 4; k++) {
                const char *p = apr_pstrcat(r->pool, rec->path,
                                            dbm_names[k], NULL);
                if (stat(p, &st) != 0)
                    continue;
                if (!S_ISREG(st.st_mode))
                    return not_a_file(r, c, i, p);
                if (!may_send(&o, st.st_uid, st.st_mode, p)) {
                    log_foreign(r, c, apr_pstrcat(
                        r->pool, "the ", named_files[i].directive, " ",
                        NULL), p, st.st_uid);
                    return HTTP_FORBIDDEN;
                }
            }
            continue;
        }
        fd = open(rec->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
            continue;       /* the module says why it cannot open it */
        apr_pool_cleanup_register(r->pool, (void *)(intptr_t)fd, close_fd,
                                  apr_pool_cleanup_null);
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
            return not_a_file(r, c, i, rec->path);
        apr_snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
        if (!may_send(&o, st.st_uid, st.st_mode, self)) {
            log_foreign(r, c, apr_pstrcat(r->pool, "the ",
                                          named_files[i].directive, " ",
                                          NULL), rec->path, st.st_uid);
            return HTTP_FORBIDDEN;
        }
        rename_named_file(r, i, apr_pstrdup(r->pool, self));
    }
    return DECLINED;
}

/* The file or directory httpd stat'ed for this request */
int wlfcgi_contain_owner(request_rec *r, wlf_srv_conf *c)
{
    wlf_owners o;

    if (c->exts_none || r->proxyreq ||
        (r->finfo.filetype != APR_REG && r->finfo.filetype != APR_DIR))
        return DECLINED;
    if (!(r->finfo.valid & APR_FINFO_USER) ||
        !(r->finfo.valid & APR_FINFO_PROT)) {
        apr_finfo_t fi;
        if (apr_stat(&fi, r->filename, APR_FINFO_USER | APR_FINFO_PROT |
                     APR_FINFO_TYPE, r->pool) != APR_SUCCESS)
            return HTTP_FORBIDDEN;
        r->finfo.user = fi.user;
        r->finfo.protection = fi.protection;
        r->finfo.valid |= APR_FINFO_USER | APR_FINFO_PROT;
    }
    owners_of(r, c, &o);
    if (may_send(&o, r->finfo.user, (mode_t)r->finfo.protection,
                 r->filename))
        return DECLINED;
    log_foreign(r, c, "", r->filename, r->finfo.user);
    /* a directory listing's entry: not even as forbidden (ShowForbidden
     * would still show its size and date) */
    if (r->main)
        r->finfo.filetype = APR_NOFILE;
    return HTTP_FORBIDDEN;
}

/* A request for something that does not exist reads nothing but its
 * directory, which mod_speling lists (names in a 300 or 301) and
 * MultiViews searches: that directory must be one the vhost may show.
 * Main requests only: a subrequest's missing file shows nothing. */
int wlfcgi_contain_parent(request_rec *r, wlf_srv_conf *c)
{
    wlf_owners o;
    struct stat st;
    char *dir;

    if (c->exts_none || r->main || r->proxyreq ||
        r->finfo.filetype != APR_NOFILE || r->filename == NULL ||
        r->filename[0] != '/')
        return DECLINED;
    dir = ap_make_dirstr_parent(r->pool, r->filename);
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return DECLINED;
    owners_of(r, c, &o);
    if (may_send(&o, st.st_uid, st.st_mode, dir))
        return DECLINED;
    log_foreign(r, c, "the directory of ", r->filename, st.st_uid);
    return HTTP_FORBIDDEN;
}

/* A handler of the server configuration that sends a file of the vhost
 * to a FastCGI server other than the vhost's account would run it there:
 * a distribution's php-fpm pool (Fedora's php.conf sends .phar there,
 * Debian's .phtml and .phar) runs a customer's script as httpd's user,
 * which reaches every account. Handlers a .htaccess chose were judged by
 * wlfcgi_contain_check() already. */
int wlfcgi_contain_fastcgi(request_rec *r, wlf_srv_conf *c)
{
    const char *socks[3];
    const char *target;
    char acct[WLF_NAME_MAX + 8];
    wlf_req *rq = wlfcgi_req_get(r);
    wlf_own own;

    if (c->exts_none || r->proxyreq || r->finfo.filetype != APR_REG ||
        r->handler == NULL || strncmp(r->handler, "proxy:", 6) != 0 ||
        (rq && rq->customer_proxy))
        return DECLINED;
    target = r->handler + 6;
    if (!wlf_target_runs_files(target))
        return DECLINED;
    own_of(c, &own, socks);
    if (wlf_target_classify(target, NULL, &own, acct, sizeof(acct)) ==
        WLF_TARGET_OWN)
        return DECLINED;
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, WLFLOG_FOREIGN_FASTCGI
                  ": vhost %s (account %s): the server configuration "
                  "hands %s to the FastCGI server %s, which is not the "
                  "vhost's account: refused (a distribution's php-fpm "
                  "handler? list the extension in WLFcgiExtensions, or "
                  "remove the handler)", r->server->server_hostname,
                  c->acct ? c->acct->name : "none", r->filename, target);
    return HTTP_FORBIDDEN;
}

/* Proxy targets and handlers a .htaccess may have chosen; from the
 * routing fixup, for requests it does not route itself. */
int wlfcgi_contain_check(request_rec *r, wlf_srv_conf *c)
{
    wlf_req *rq = wlfcgi_req_get(r);
    char buf[256];
    const char *name;
    wlf_handler_class cls;

    if (c->exts_none || rq == NULL)
        return DECLINED;
    if (r->proxyreq && r->filename && strncmp(r->filename, "proxy:", 6) == 0) {
        /* decided at translation (ProxyPass, a server-context [P]) */
        if (rq->proxy_translated ||
            wlf_attribute_perdir_proxy(rq->ht) == WLF_BY_ADMIN)
            return DECLINED;
        return judge_target(r, c, rq, r->filename + 6,
                            apr_table_get(r->notes, "uds_path"));
    }
    if (rq->ht == 0)
        return DECLINED;
    name = wlf_handler_effective(r->handler, r->content_type, buf,
                                 sizeof(buf));
    cls = wlf_handler_classify(name,
                               c->allow_handlers
                                   ? (const char *const *)
                                     c->allow_handlers->elts : NULL,
                               c->allow_handlers
                                   ? (size_t)c->allow_handlers->nelts : 0);
    if (cls == WLF_HANDLER_CONTENT || !rq->by_customer)
        return DECLINED;
    if (cls == WLF_HANDLER_PROXY)
        return judge_target(r, c, rq, name + 6, NULL);
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, WLFLOG_HANDLER_REFUSED
                  ": vhost %s (account %s): the .htaccess in %s chose the "
                  "handler %s, which a customer may not use: %s refused",
                  r->server->server_hostname,
                  c->acct ? c->acct->name : "none", where_in(r, rq), name,
                  r->uri);
    return HTTP_FORBIDDEN;
}

/* ------------------------------------------------------------------ */
/* the file httpd opened                                               */

typedef struct {
    wlf_srv_conf *c;
    apr_os_file_t checked;          /* last descriptor found fine */
    int have_checked;
} owner_ctx;

static apr_status_t owner_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    owner_ctx *ctx = f->ctx;
    request_rec *r = f->r;

    if (ctx == NULL) {
        /* added by name (SetOutputFilter in a .htaccess), not by
         * wlfcgi_contain_insert_filter(), which adds its own where it
         * applies */
        ap_remove_output_filter(f);
        return ap_pass_brigade(f->next, bb);
    }
    for (apr_bucket *e = APR_BRIGADE_FIRST(bb);
         e != APR_BRIGADE_SENTINEL(bb); e = APR_BUCKET_NEXT(e)) {
        apr_bucket_file *fb;
        apr_os_file_t fd;
        struct stat st;
        long owner = -1;
        int ok = 0;

        if (!APR_BUCKET_IS_FILE(e))
            continue;
        fb = e->data;
        if (apr_os_file_get(&fd, fb->fd) != APR_SUCCESS)
            continue;
        if (ctx->have_checked && fd == ctx->checked)
            continue;
        if (fstat(fd, &st) == 0) {
            wlf_owners o;
            char self[64];

            owner = (long)st.st_uid;
            /* the file as the kernel found it: what its name is now,
             * wherever the request's path led when it was opened */
            apr_snprintf(self, sizeof(self), "/proc/self/fd/%d", fd);
            owners_of(r, ctx->c, &o);
            ok = may_send(&o, st.st_uid, st.st_mode, self);
        }
        if (ok) {
            ctx->checked = fd;
            ctx->have_checked = 1;
            continue;
        }
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, WLFLOG_FOREIGN_OPENED
                      ": vhost %s (account %s): the file httpd opened for %s "
                      "is owned by uid %ld, not by %s, or not open to every "
                      "local user (it changed after it was checked): "
                      "refused", r->server->server_hostname,
                      ctx->c->acct ? ctx->c->acct->name : "none",
                      r->filename, owner, whose(ctx->c));
        apr_brigade_cleanup(bb);
        ap_remove_output_filter(f);
        if (r->main == NULL) {
            /* headers not sent yet: the client gets a 403 */
            APR_BRIGADE_INSERT_TAIL(bb, ap_bucket_error_create(
                HTTP_FORBIDDEN, NULL, r->pool, f->c->bucket_alloc));
            APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(
                f->c->bucket_alloc));
            ap_pass_brigade(f->next, bb);
        }
        return AP_FILTER_ERROR;
    }
    return ap_pass_brigade(f->next, bb);
}

void wlfcgi_contain_insert_filter(request_rec *r)
{
    wlf_srv_conf *c;
    owner_ctx *ctx;

    if (wlf_g == NULL || r->proxyreq || r->finfo.filetype != APR_REG)
        return;
    c = wlfcgi_srv_conf(r->server);
    if (c->exts_none ||
        (r->handler && strncmp(r->handler, "proxy:", 6) == 0))
        return;
    ctx = apr_pcalloc(r->pool, sizeof(*ctx));
    ctx->c = c;
    ap_add_output_filter(WLF_OWNER_FILTER, ctx, r, r->connection);
}

/*
 * ap_expr's file() and filesize() read any file as httpd's user, which
 * reads every account's: %{file:/home/ann/www/config.php} in a
 * .htaccess Header, SetEnvIfExpr, <If>, RewriteCond expr, ... sent it to
 * the customer. httpd 2.4.68 refuses them in .htaccess itself
 * (CVE-2026-44119); before that nothing did. Expressions parsed while
 * the MPM runs are those of .htaccess files (mod_include's are
 * restricted anyway): these two functions are refused there, whatever
 * httpd's version. The file tests (-f, -s, ...) stay: they tell no more
 * than a symlink's 403 or 404 does.
 */
static int expr_lookup(ap_expr_lookup_parms *parms)
{
    if (wlf_g == NULL || parms->type != AP_EXPR_FUNC_STRING ||
        (strcasecmp(parms->name, "file") != 0 &&
         strcasecmp(parms->name, "filesize") != 0) ||
        ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_RUN_MPM)
        return DECLINED;
    *parms->err = apr_psprintf(parms->ptemp, WLFLOG_EXPR_FILE ": %s() "
                               "reads files as httpd's user, which reads "
                               "every account's: not available in "
                               ".htaccess", parms->name);
    return HTTP_FORBIDDEN;
}

void wlfcgi_contain_register(void)
{
    ap_hook_expr_lookup(expr_lookup, NULL, NULL, APR_HOOK_REALLY_FIRST);
    /* before every resource filter (INCLUDES, SUBSTITUTE, ...), which
     * would read the file buckets into memory first */
    ap_register_output_filter(WLF_OWNER_FILTER, owner_filter, NULL,
                              (ap_filter_type)(AP_FTYPE_RESOURCE - 5));
}
