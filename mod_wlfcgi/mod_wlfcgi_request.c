/*
 * mod_wlfcgi_request.c - the request path.
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
 *                        Content-Length over the limit (413), read a
 *                        chunked body (up to the limit) or a long one
 *                        whole before FPM sees it, and put the vhost's own
 *                        mod_proxy_fcgi config back in place so that
 *                        .htaccess ProxyFCGISetEnvIf never runs.
 *   request_status     503 from our worker: add Retry-After, log which
 *                      account and socket.
 *
 * Everything per vhost was resolved at start-up (mod_wlfcgi.c).
 */
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_strings.h"
#include "mod_proxy.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mod_wlfcgi_private.h"
#include "wlf_fcgi.h"
#include "wlf_log.h"
#include "wlf_policy.h"
#include "wlf_upload.h"

/* log lines are the module's: "LogLevel wlfcgi:..." applies to them */
APLOG_USE_MODULE(wlfcgi);

#define WLF_RETRY_AFTER     "10"

static int is_routable(request_rec *r, wlf_srv_conf *c)
{
    return r->finfo.filetype == APR_REG && r->filename &&
           wlf_ext_match(c->ext_list, (size_t)c->n_ext, r->filename);
}

int wlfcgi_misdirected(request_rec *r)
{
    wlf_acct *owner, *vhost_acct;
    char *host;

    if (wlf_g == NULL || wlf_g->shadowed == NULL || r->hostname == NULL)
        return DECLINED;
    host = apr_pstrdup(r->pool, r->hostname);
    ap_str_tolower(host);
    owner = apr_hash_get(wlf_g->shadowed, host, APR_HASH_KEY_STRING);
    vhost_acct = wlfcgi_srv_conf(r->server)->acct;
    if (owner == NULL || vhost_acct == NULL || owner == vhost_acct)
        return DECLINED;
    /* exact names win: never the wildcard owner's site for it */
    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, WLFLOG_MISDIRECTED
                  ": %s is account %s's, but httpd gave it to vhost %s of "
                  "account %s (vhost order, see WLF00017): 421", host,
                  owner->name, r->server->server_hostname
                                   ? r->server->server_hostname : "(none)",
                  vhost_acct->name);
    return HTTP_MISDIRECTED_REQUEST;
}

int wlfcgi_fixups(request_rec *r)
{
    wlf_srv_conf *c;
    wlf_req *rq;
    int rv;

    if (wlf_g == NULL)
        return DECLINED;
    c = wlfcgi_srv_conf(r->server);
    /* for the status handler, in vhosts of every kind */
    if ((rq = wlfcgi_req_get(r)) != NULL && rq->ht)
        rq->by_customer = wlfcgi_handler_origin(r) == WLF_BY_CUSTOMER;
    if (c->exts_none)
        return DECLINED;
    if (!r->proxyreq && is_routable(r, c)) {
        if (c->acct) {
            /* a script is a file httpd hands on too */
            if ((rv = wlfcgi_contain_owner(r, c)) != DECLINED)
                return rv;
            /* replaces whatever .htaccess or the config set (SetHandler,
             * RewriteRule [H=]): PHP of this vhost runs in its account */
            r->handler = c->acct->handler;
            return OK;
        }
        /* no account: whatever handler is set, it could send the script
         * out as source (a proxy: handler mod_proxy declines) or run it
         * somewhere no account owns (a distribution's www pool) */
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, WLFLOG_UNMAPPED_PHP
                      ": vhost %s has no wlfcgi account: refusing PHP file "
                      "%s (map the vhost with WLFcgiAccount or add its name "
                      "to an account's domains; a site on its own PHP "
                      "set-up: WLFcgiExtensions none)",
                      r->server->server_hostname, r->filename);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if ((rv = wlfcgi_contain_check(r, c)) != DECLINED ||
        (rv = wlfcgi_contain_fastcgi(r, c)) != DECLINED)
        return rv;
    return wlfcgi_contain_owner(r, c);
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

wlf_inst *wlfcgi_pick_instance(apr_pool_t *p, const wlf_srv_conf *c,
                               int primary_known, char *slot,
                               const char **sock)
{
    const wlf_acct *a = c->acct;
    wlf_inst *in = &a->inst[0];
    char target[PATH_MAX], key[128];
    ssize_t n;

    /* a domain with a PHP version of its own has a route to its
     * instance's link; every other one goes to the account's NAME.sock */
    if (c->route && (n = readlink(c->route, target,
                                  sizeof(target) - 1)) > 0) {
        target[n] = '\0';
        if (wlf_route_target_key(a->name, target, key, sizeof(key)) == 0) {
            wlf_inst *made;
            for (int i = 0; i < a->n_known; i++)
                if (strcmp(a->inst[i].key, key) == 0) {
                    in = &a->inst[i];
                    goto found;
                }
            /* a version configured since httpd's start: no workers */
            made = apr_pcalloc(p, sizeof(*made));
            made->transient = 1;
            made->key = apr_pstrdup(p, key);
            made->link = apr_psprintf(p, "%s/%s.sock", wlf_g->cfg.socket_dir,
                                      key);
            made->slot_sock[0] = apr_psprintf(p, "%s/%s.a.sock",
                                              wlf_g->cfg.socket_dir, key);
            made->slot_sock[1] = apr_psprintf(p, "%s/%s.b.sock",
                                              wlf_g->cfg.socket_dir, key);
            in = made;
        }
    }
found:
    if (in == &a->inst[0] && primary_known)
        *slot = *slot == WLF_LINK_SUSPENDED ? 0 : *slot;
    else
        *slot = wlf_slot_of_link(in->link);
    *sock = *slot ? in->slot_sock[*slot - 'a'] : NULL;
    return in;
}

static int send_to_account(request_rec *r, wlf_acct *a, proxy_worker **worker,
                           proxy_server_conf *conf)
{
    const char *php_admin, *client_uri, *sock;
    long long limit = wlfcgi_request_upload_limit(r, a, &php_admin,
                                                  &client_uri);
    long long length;
    wlf_body_verdict body;
    wlf_srv_conf *c = wlfcgi_srv_conf(r->server);
    wlf_inst *in;
    /* for request_status(): which account a 503 is about */
    wlf_req *rq = wlfcgi_req(r);
    /* the link translate_name read for this request and vhost, if it did:
     * one readlink per request */
    char slot = rq->link_read && c->acct == a ? rq->link_state
                                                : wlf_link_state(a->link);

    /* suspended since translate_name looked (a subrequest, an internal
     * redirect, another vhost's link) */
    if (slot == WLF_LINK_SUSPENDED)
        return wlfcgi_suspended_answer(r, a);

    /* a is the vhost's own account: requests for others were refused */
    in = wlfcgi_pick_instance(r->pool, c, 1, &slot, &sock);
    rq->acct = a;
    rq->slot = slot;
    rq->link = in->link;
    rq->sock = sock;
    if (slot == 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, WLFLOG_NO_LIVE_SLOT
                      ": account %s: no live instance (%s is missing or not "
                      "a link to %s.a.sock or %s.b.sock)", a->name, in->link,
                      in->key, in->key);
        return HTTP_SERVICE_UNAVAILABLE;
    }

    body = wlf_body_check(apr_table_get(r->headers_in, "Content-Length"),
                          apr_table_get(r->headers_in, "Transfer-Encoding"),
                          limit, &length);
    switch (body) {
    case WLF_BODY_TOO_LARGE:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, WLFLOG_BODY_TOO_LARGE
                      ": account %s: Content-Length %" APR_INT64_T_FMT
                      " is over the upload limit %" APR_INT64_T_FMT
                      " of %s%s%s", a->name, (apr_int64_t)length,
                      (apr_int64_t)limit, client_uri,
                      strcmp(client_uri, r->uri) ? ", served as " : "",
                      strcmp(client_uri, r->uri) ? r->uri : "");
        return HTTP_REQUEST_ENTITY_TOO_LARGE;
    case WLF_BODY_BAD:
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, WLFLOG_BAD_LENGTH
                      ": invalid Content-Length");
        return HTTP_BAD_REQUEST;
    default:
        break;
    }
    /* Read whole before FPM is contacted: a chunked body (PHP needs a
     * CONTENT_LENGTH, and one over the limit is refused before PHP sees
     * any of it), and a body a client sending upload_min_rate may take
     * longer than wlf_stream_seconds() to send (no FPM worker waits long
     * for a slow client, so the request timeout need not cover it),
     * unless the client shows that it sends the rest within that time */
    if (body == WLF_BODY_CHUNKED ||
        (body == WLF_BODY_FITS && length > a->stream_max)) {
        int rv = wlfcgi_spool_body(r, limit, body == WLF_BODY_FITS ?
                                   length : -1, a, client_uri);
        if (rv != OK)
            return rv;
    }
    else {
        wlfcgi_gather_body(r, length);
    }

    for (size_t i = 0; wlf_env_scrubbed[i]; i++)
        apr_table_unset(r->subprocess_env, wlf_env_scrubbed[i]);
    /* on every request, so that no earlier request's limit lingers in
     * the FPM worker */
    apr_table_setn(r->subprocess_env, "PHP_ADMIN_VALUE", php_admin);
    /* mod_proxy sets this for a stock SetHandler (its default worker
     * keeps no connections) and it reaches PHP as a FastCGI parameter:
     * scripts see the same $_SERVER here. mod_proxy_fcgi ignores it. */
    apr_table_setn(r->subprocess_env, "proxy-nokeepalive", "1");
    use_vhost_fcgi_conf(r);
    if (!in->transient) {
        if ((*worker = wlfcgi_worker_ready(r, a, in, slot - 'a')) == NULL)
            return HTTP_INTERNAL_SERVER_ERROR;
        return OK;
    }
    /* an instance of a version configured after httpd's start has no
     * worker of its own: mod_proxy's default one, connecting to the
     * slot's socket */
    if (conf == NULL || conf->reverse == NULL) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, WLFLOG_NO_LIVE_SLOT
                      ": account %s: instance %s has no proxy worker; "
                      "restart httpd gracefully", a->name, in->key);
        return HTTP_SERVICE_UNAVAILABLE;
    }
    apr_table_setn(r->notes, "uds_path", sock);
    *worker = conf->reverse;
    return OK;
}

int wlfcgi_pre_request(proxy_worker **worker, proxy_balancer **balancer,
                       request_rec *r, proxy_server_conf *conf, char **url)
{
    wlf_srv_conf *c;
    wlf_acct *own;
    wlf_req *rq;
    const char *uds, *host;
    char owner[WLF_NAME_MAX + 1], real[PATH_MAX];
    struct stat st;
    int resolved;

    if (wlf_g == NULL)
        return DECLINED;
    c = wlfcgi_srv_conf(r->server);
    own = c->acct;
    rq = wlfcgi_req_get(r);
    /* a .htaccess proxied to the vhost's own account (checked in the
     * fixup, as written): our worker, whose socket path is fixed, is
     * the only one it gets */
    if (rq && rq->customer_proxy) {
        if (own && *balancer == NULL)
            return send_to_account(r, own, worker, conf);
        return HTTP_FORBIDDEN;
    }
    if (*balancer != NULL)
        return DECLINED;
    if (*url && ap_cstr_casecmpn(*url, "balancer:", 9) == 0)
        return DECLINED;
    uds = apr_table_get(r->notes, "uds_path");

    if (uds) {
        /* the routed case: the exact path we put in the handler */
        if (own && strcmp(uds, own->link) == 0)
            return send_to_account(r, own, worker, conf);
        /* anything else is resolved first: symlinks in a docroot,
         * "..", another spelling of the socket directory */
        resolved = realpath(uds, real) != NULL;
        switch (wlf_sock_classify(resolved ? real : uds, wlf_g->sock_dir,
                                  own ? own->name : NULL, owner,
                                  sizeof(owner))) {
        case WLF_SOCK_OWN:
            return send_to_account(r, own, worker, conf);
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
            return send_to_account(r, own, worker, conf);
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, WLFLOG_FORGED_WORKER
                      ": vhost %s (account %s) used the reserved worker name "
                      "%s: refused", r->server->server_hostname,
                      own ? own->name : "none", host);
        return HTTP_FORBIDDEN;
    }
    return DECLINED;
}

int wlfcgi_request_status(int *status, request_rec *r)
{
    wlf_req *rq = ap_get_module_config(r->request_config, &wlfcgi_module);

    if (rq == NULL || rq->acct == NULL ||
        *status != HTTP_SERVICE_UNAVAILABLE)
        return DECLINED;
    apr_table_setn(r->err_headers_out, "Retry-After", WLF_RETRY_AFTER);
    if (rq->slot == 0)
        return OK;
    /* a pool that is down refuses connections; one that still accepts
     * them lost a worker in the middle of this request. (An on-demand
     * account's primary without a master is not probed: that would start
     * one.) */
    if ((!rq->acct->on_demand || strcmp(rq->link, rq->acct->link) != 0 ||
         access(rq->acct->slot_pid[rq->slot - 'a'], F_OK) == 0) &&
        wlf_socket_accepts(rq->sock))
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, WLFLOG_WORKER_GONE
                      ": account %s: a PHP worker ended the request for %s "
                      "without an answer (crashed, killed, or over "
                      "request_terminate_timeout; see the account's "
                      "fpm.a.log or fpm.b.log); 503", rq->acct->name,
                      r->uri);
    else
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, WLFLOG_POOL_DOWN
                      ": account %s: PHP pool not answering on %s (live "
                      "slot of %s); 503 with Retry-After " WLF_RETRY_AFTER,
                      rq->acct->name, rq->sock, rq->link);
    return OK;
}
