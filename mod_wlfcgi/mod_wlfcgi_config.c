/*
 * mod_wlfcgi_config.c - the module's configuration: per-server and
 * per-directory records, the WLFcgi* directives, and the one place that
 * says which upload limit holds for a request.
 */
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "apr_hash.h"
#include "apr_strings.h"

#include <pwd.h>
#include <strings.h>

#include "mod_wlfcgi_private.h"
#include "wlf_log.h"
#include "wlf_policy.h"
#include "wlf_size.h"
#include "wlf_upload.h"
#include "wlf_validate.h"

/* log lines are the module's: "LogLevel wlfcgi:..." applies to them */
APLOG_USE_MODULE(wlfcgi);

/* A WLFcgiMaxUpload seen while reading the config, for the ceiling check */
typedef struct {
    server_rec *s;
    long long bytes;
    const char *text;
    const char *where;
} wlf_upload_decl;

static apr_array_header_t *wlf_upload_decls;

wlf_srv_conf *wlfcgi_srv_conf(server_rec *s)
{
    return ap_get_module_config(s->module_config, &wlfcgi_module);
}

void *wlfcgi_create_srv_conf(apr_pool_t *p, server_rec *s)
{
    return apr_pcalloc(p, sizeof(wlf_srv_conf));
}

void *wlfcgi_merge_srv_conf(apr_pool_t *p, void *basev, void *addv)
{
    wlf_srv_conf *base = basev, *add = addv;
    wlf_srv_conf *c = apr_pcalloc(p, sizeof(*c));

    c->config_file = add->config_file ? add->config_file : base->config_file;
    /* never inherited: a mapping belongs to one vhost */
    c->account_name = add->account_name;
    c->account_where = add->account_where;
    c->exts = add->exts ? add->exts : base->exts;
    c->exts_none = add->exts ? add->exts_none : base->exts_none;
    c->suspended_file = add->suspended_file ? add->suspended_file
                                            : base->suspended_file;
    c->allow_handlers = add->allow_handlers ? add->allow_handlers
                                            : base->allow_handlers;
    return c;
}

void *wlfcgi_create_dir_conf(apr_pool_t *p, char *dir)
{
    wlf_dir_conf *c = apr_pcalloc(p, sizeof(*c));

    c->max_upload = WLF_UPLOAD_UNSET;
    return c;
}

void *wlfcgi_merge_dir_conf(apr_pool_t *p, void *basev, void *addv)
{
    wlf_dir_conf *base = basev, *add = addv;
    wlf_dir_conf *c = apr_pcalloc(p, sizeof(*c));

    c->max_upload = wlf_upload_merge(base->max_upload, add->max_upload);
    c->php_admin = add->max_upload != WLF_UPLOAD_UNSET ? add->php_admin
                                                       : base->php_admin;
    c->allow_owners = add->allow_owners ? add->allow_owners
                                        : base->allow_owners;
    return c;
}

long long wlfcgi_upload_limit(const wlf_dir_conf *d, const wlf_acct *a,
                              const char **php_admin)
{
    int scoped = d->max_upload != WLF_UPLOAD_UNSET;

    if (php_admin)
        *php_admin = scoped ? d->php_admin : a->php_admin;
    /* the account's value is its effective one: never UNSET */
    return wlf_upload_effective(d->max_upload, a->max_upload,
                                a->max_upload);
}

/*
 * Upload limits belong to the URL the client sent. A front controller's
 * .htaccess sends /wp-json/... on to /index.php by an internal redirect
 * (a new request_rec, r->prev the old one); ErrorDocument does the same;
 * DirectoryIndex and MultiViews overwrite the request's own per-dir
 * config with a subrequest's (ap_internal_fast_redirect, in type_checker
 * and fixups). So the scope is taken where the client's request has its
 * complete per-dir config and nothing has redirected it yet: right after
 * the walks, in post_perdir_config. A rewrite can then neither lower the
 * admin's limit for the URL nor raise it to another URL's.
 */
int wlfcgi_note_client_scope(request_rec *r)
{
    wlf_req *rq;

    if (wlf_g == NULL || r->main || r->prev ||
        wlfcgi_srv_conf(r->server)->acct == NULL)
        return DECLINED;
    rq = wlfcgi_req(r);
    if (rq->client_scope == NULL) {
        rq->client_scope = ap_get_module_config(r->per_dir_config,
                                                &wlfcgi_module);
        rq->client_uri = r->uri;
    }
    return DECLINED;
}

long long wlfcgi_request_upload_limit(request_rec *r, const wlf_acct *a,
                                      const char **php_admin,
                                      const char **client_uri)
{
    request_rec *first = r;
    const wlf_dir_conf *d;
    wlf_req *rq;

    /* internal redirects chain through prev, subrequests through main,
     * in any mix (an ErrorDocument of a subrequest) */
    for (;;) {
        if (first->main)
            first = first->main;
        else if (first->prev)
            first = first->prev;
        else
            break;
    }
    rq = wlfcgi_req_get(first);
    if (rq && rq->client_scope) {
        d = rq->client_scope;
        *client_uri = rq->client_uri;
    }
    else {
        /* the client's request ended before its walks were done (an
         * error, then an ErrorDocument): its config is as far as it got */
        d = ap_get_module_config(first->per_dir_config, &wlfcgi_module);
        *client_uri = first->uri;
    }
    return wlfcgi_upload_limit(d, a, php_admin);
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
    wlf_srv_conf *c;

    if (err)
        return err;
    c = wlfcgi_srv_conf(cmd->server);
    c->config_file = ap_server_root_relative(cmd->pool, arg);
    if (c->config_file == NULL)
        return apr_pstrcat(cmd->pool, "WLFcgiConfig: invalid path ", arg,
                           NULL);
    return NULL;
}

static const char *cmd_account(cmd_parms *cmd, void *dummy, const char *arg)
{
    wlf_srv_conf *c = wlfcgi_srv_conf(cmd->server);
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
    wlf_srv_conf *c = wlfcgi_srv_conf(cmd->server);
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

static const char *cmd_suspended_page(cmd_parms *cmd, void *dummy,
                                      const char *arg)
{
    wlf_srv_conf *c = wlfcgi_srv_conf(cmd->server);

    c->suspended_file = ap_server_root_relative(cmd->pool, arg);
    if (c->suspended_file == NULL)
        return apr_pstrcat(cmd->pool, "WLFcgiSuspendedPage: invalid path ",
                           arg, NULL);
    return NULL;
}

static const char *cmd_allow_handlers(cmd_parms *cmd, void *dummy,
                                      const char *arg)
{
    wlf_srv_conf *c = wlfcgi_srv_conf(cmd->server);

    if (c->allow_handlers == NULL)
        c->allow_handlers = apr_array_make(cmd->pool, 2,
                                           sizeof(const char *));
    APR_ARRAY_PUSH(c->allow_handlers, const char *) = arg;
    return NULL;
}

static const char *cmd_allow_owners(cmd_parms *cmd, void *dconf,
                                    const char *arg)
{
    wlf_dir_conf *d = dconf;
    struct passwd pw, *res = NULL;
    char buf[4096];

    if (getpwnam_r(arg, &pw, buf, sizeof(buf), &res) != 0 || res == NULL)
        return apr_psprintf(cmd->pool, "WLFcgiAllowOwners: no such user "
                            "'%s'", arg);
    if (d->allow_owners == NULL)
        d->allow_owners = apr_array_make(cmd->pool, 2, sizeof(uid_t));
    APR_ARRAY_PUSH(d->allow_owners, uid_t) = pw.pw_uid;
    return NULL;
}

const command_rec wlfcgi_cmds[] = {
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
    AP_INIT_TAKE1("WLFcgiSuspendedPage", cmd_suspended_page, NULL,
                  RSRC_CONF, "the HTML page a suspended account's sites "
                  "answer with (503)"),
    AP_INIT_ITERATE("WLFcgiAllowHandlers", cmd_allow_handlers, NULL,
                    RSRC_CONF,
                    "handlers a customer's .htaccess may choose besides the "
                    "content handlers (e.g. cgi-script where suexec runs "
                    "CGI as the customer)"),
    AP_INIT_ITERATE("WLFcgiAllowOwners", cmd_allow_owners, NULL,
                    RSRC_CONF | ACCESS_CONF,
                    "users besides the account's whose files httpd may "
                    "send in this scope (a shared directory)"),
    { NULL }
};

/* ------------------------------------------------------------------ */
/* WLFcgiMaxUpload against the accounts' upload_ceiling                */

void wlfcgi_config_pre_config(apr_pool_t *pconf)
{
    wlf_upload_decls = apr_array_make(pconf, 4, sizeof(wlf_upload_decl));
}

const char *wlfcgi_first_upload_decl(void)
{
    if (wlf_upload_decls == NULL || wlf_upload_decls->nelts == 0)
        return NULL;
    return ((wlf_upload_decl *)wlf_upload_decls->elts)[0].where;
}

void wlfcgi_warn_upload_ceilings(apr_pool_t *p, server_rec *main_s)
{
    apr_hash_t *said = apr_hash_make(p);
    wlf_upload_decl *d = (wlf_upload_decl *)wlf_upload_decls->elts;

    for (server_rec *s = main_s; s; s = s->next) {
        wlf_acct *a = wlfcgi_srv_conf(s)->acct;
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
