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
#include "util_filter.h"
#include "mod_proxy.h"

#include <string.h>
#include <sys/stat.h>

#include "mod_wlfcgi_private.h"
#include "wlf_contain.h"
#include "wlf_log.h"

APLOG_USE_MODULE(wlfcgi);

#define WLF_OWNER_FILTER    "WLFCGI_OWNER"
/* the Options that run a customer's code as httpd's user */
#define WLF_EXEC_OPTS       (OPT_EXECCGI | OPT_INC_WITH_EXEC)
/* modules whose configuration in a .htaccess is refused outright: their
 * directives there run code as httpd's user */
static const char *const refused_modules[] = {
    "mod_lua.c", "mod_perl.c", "mod_python.c", NULL
};

typedef struct {
    apr_hash_t *admin_values;       /* SetHandler/ForceType pointers of the
                                       server configuration */
    module *mime, *rewrite;
    apr_array_header_t *refused;    /* module * */
} wlf_contain_global;

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

/* A section of the server configuration and the sections inside it */
static void collect_section(ap_conf_vector_t *v, int depth)
{
    core_dir_config *cd;
    apr_array_header_t *lists[2];

    if (v == NULL || depth > 32)
        return;
    cd = ap_get_core_module_config(v);
    if (cd == NULL)
        return;
    add_admin_value(cd->expr_handler);
    add_admin_value(cd->mime_type);
    add_admin_value(cd->handler);
    lists[0] = cd->sec_file;
    lists[1] = cd->sec_if;
    for (int l = 0; l < 2; l++) {
        if (lists[l] == NULL)
            continue;
        for (int i = 0; i < lists[l]->nelts; i++)
            collect_section(APR_ARRAY_IDX(lists[l], i, ap_conf_vector_t *),
                            depth + 1);
    }
}

static void collect_list(apr_array_header_t *a)
{
    if (a == NULL)
        return;
    for (int i = 0; i < a->nelts; i++)
        collect_section(APR_ARRAY_IDX(a, i, ap_conf_vector_t *), 0);
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
    for (server_rec *s = main_s; s; s = s->next) {
        core_server_config *sc = ap_get_core_module_config(s->module_config);
        proxy_server_conf *pc = ap_get_module_config(s->module_config,
                                                     &proxy_module);

        collect_section(s->lookup_defaults, 0);
        collect_list(sc->sec_dir);
        collect_list(sc->sec_url);
        if (pc)
            collect_list(pc->sec_proxy);
    }
}

/* ------------------------------------------------------------------ */
/* what the .htaccess files of a request configured                    */

static int enables_exec(const core_dir_config *cd)
{
    if (!(cd->opts & OPT_UNSET) && (cd->opts & WLF_EXEC_OPTS))
        return 1;
    return (cd->opts_add & WLF_EXEC_OPTS) != 0;
}

/* Options in the .htaccess itself or in a <Files>/<If> inside it */
static int section_enables_exec(ap_conf_vector_t *v, int depth)
{
    core_dir_config *cd = v ? ap_get_core_module_config(v) : NULL;
    apr_array_header_t *lists[2];

    if (cd == NULL || depth > 32)
        return 0;
    if (enables_exec(cd))
        return 1;
    lists[0] = cd->sec_file;
    lists[1] = cd->sec_if;
    for (int l = 0; l < 2; l++) {
        if (lists[l] == NULL)
            continue;
        for (int i = 0; i < lists[l]->nelts; i++)
            if (section_enables_exec(APR_ARRAY_IDX(lists[l], i,
                                                   ap_conf_vector_t *),
                                     depth + 1))
                return 1;
    }
    return 0;
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
        if (section_enables_exec(h->htaccess, 0))
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
    if (rq->ht == 0)
        return DECLINED;
    c = wlfcgi_srv_conf(r->server);
    if (c->exts_none)
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
    return DECLINED;
}

/* ------------------------------------------------------------------ */
/* around core's SetHandler/ForceType fixup                            */

int wlfcgi_contain_before_core(request_rec *r)
{
    wlf_req *rq;

    if (wlf_g == NULL || (rq = wlfcgi_req_get(r)) == NULL || rq->ht == 0)
        return DECLINED;
    rq->h.before_core = r->handler;
    rq->t.before_core = r->content_type;
    return DECLINED;
}

int wlfcgi_contain_after_core(request_rec *r)
{
    wlf_req *rq;

    if (wlf_g == NULL || (rq = wlfcgi_req_get(r)) == NULL || rq->ht == 0)
        return DECLINED;
    rq->h.after_core = r->handler;
    rq->t.after_core = r->content_type;
    return DECLINED;
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

static int owner_allowed(request_rec *r, wlf_acct *a, uid_t owner,
                         mode_t mode)
{
    wlf_dir_conf *d = ap_get_module_config(r->per_dir_config,
                                           &wlfcgi_module);

    return wlf_owner_allowed(owner, mode, a->uid,
                             d->allow_owners
                                 ? (const uid_t *)d->allow_owners->elts
                                 : NULL,
                             d->allow_owners
                                 ? (size_t)d->allow_owners->nelts : 0);
}

/* The file or directory httpd stat'ed for this request */
int wlfcgi_contain_owner(request_rec *r, wlf_srv_conf *c)
{
    if (c->acct == NULL || r->proxyreq ||
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
    /* APR's permission bits are laid out as the kernel's (APR_FPROT_WREAD
     * is S_IROTH) */
    if (owner_allowed(r, c->acct, r->finfo.user,
                      (mode_t)r->finfo.protection))
        return DECLINED;
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, WLFLOG_FOREIGN_FILE
                  ": vhost %s (account %s): %s is owned by uid %ld, not by "
                  "the account's user: refused", r->server->server_hostname,
                  c->acct->name, r->filename, (long)r->finfo.user);
    /* a directory listing's entry: not even as forbidden (ShowForbidden
     * would still show its size and date) */
    if (r->main)
        r->finfo.filetype = APR_NOFILE;
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
    wlf_acct *acct;
    apr_os_file_t checked;          /* last descriptor found fine */
    int have_checked;
} owner_ctx;

static apr_status_t owner_filter(ap_filter_t *f, apr_bucket_brigade *bb)
{
    owner_ctx *ctx = f->ctx;
    request_rec *r = f->r;

    for (apr_bucket *e = APR_BRIGADE_FIRST(bb);
         e != APR_BRIGADE_SENTINEL(bb); e = APR_BUCKET_NEXT(e)) {
        apr_bucket_file *fb;
        apr_os_file_t fd;
        struct stat st;

        if (!APR_BUCKET_IS_FILE(e))
            continue;
        fb = e->data;
        if (apr_os_file_get(&fd, fb->fd) != APR_SUCCESS)
            continue;
        if (ctx->have_checked && fd == ctx->checked)
            continue;
        if (fstat(fd, &st) == 0 &&
            owner_allowed(r, ctx->acct, st.st_uid, st.st_mode)) {
            ctx->checked = fd;
            ctx->have_checked = 1;
            continue;
        }
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, WLFLOG_FOREIGN_OPENED
                      ": vhost %s (account %s): the file httpd opened for %s "
                      "is owned by uid %ld, not by the account's user (it "
                      "changed after it was checked): refused",
                      r->server->server_hostname, ctx->acct->name,
                      r->filename, (long)st.st_uid);
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
    if (c->acct == NULL || c->exts_none ||
        (r->handler && strncmp(r->handler, "proxy:", 6) == 0))
        return;
    ctx = apr_pcalloc(r->pool, sizeof(*ctx));
    ctx->acct = c->acct;
    ap_add_output_filter(WLF_OWNER_FILTER, ctx, r, r->connection);
}

void wlfcgi_contain_register(void)
{
    /* before every resource filter (INCLUDES, SUBSTITUTE, ...), which
     * would read the file buckets into memory first */
    ap_register_output_filter(WLF_OWNER_FILTER, owner_filter, NULL,
                              (ap_filter_type)(AP_FTYPE_RESOURCE - 5));
}
