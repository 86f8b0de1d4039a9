/*
 * mod_wlfcgi_status.c - the status page (SetHandler wlfcgi-status): vhost,
 * account, socket, whether the live instance answers a FastCGI ping, and
 * the upload limit that holds; as text, HTML (?html, or for a browser)
 * or JSON (?json).
 */
#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_main.h"
#include "http_protocol.h"
#include "apr_hash.h"
#include "apr_strings.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mod_wlfcgi_private.h"
#include "wlf_log.h"
#include "wlf_fcgi.h"
#include "wlf_metrics.h"
#include "wlf_status.h"

/* log lines are the module's: "LogLevel wlfcgi:..." applies to them */
APLOG_USE_MODULE(wlfcgi);

#define WLF_VERSION         "0.1"
#define WLF_STATUS_HANDLER  "wlfcgi-status"
#define WLF_PING_MS         500

typedef struct {
    int answers;
    const char *error;
    const char *state;
} ping_result;

/* Ping instance `in` of account a (its live slot `sock`), once a page;
 * never the primary of an idle on-demand account */
static ping_result *ping_instance(request_rec *r, apr_hash_t *cache,
                                  const wlf_acct *a, const wlf_inst *in,
                                  const char *sock)
{
    const char *link = in->link;
    ping_result *pr = apr_hash_get(cache, link, APR_HASH_KEY_STRING);
    struct stat st;
    char slot, path[512];
    wlf_err e;

    if (pr)
        return pr;
    pr = apr_pcalloc(r->pool, sizeof(*pr));
    pr->state = "down";
    slot = wlf_link_state(link);
    if (slot == WLF_LINK_SUSPENDED) {
        pr->state = "suspended";
        pr->error = "suspended (fpmctl suspend): its sites get the "
                    "suspended page";
    }
    else if (a->on_demand &&
             stat(wlf_path_stopped(&wlf_g->cfg, a->name, path, sizeof(path)),
                  &st) == 0) {
        /* not activated by requests until fpmctl start */
        pr->state = "stopped";
        pr->error = "stopped by fpmctl stop: requests get 503 until "
                    "fpmctl start";
    }
    else if (slot == 0 || sock == NULL) {
        pr->error = apr_psprintf(r->pool, "%s is missing or points to no "
                                 "slot", link);
    }
    else if (a->on_demand && in == &a->inst[0] &&
             stat(a->slot_pid[slot - 'a'], &st) != 0) {
        /* no master: a ping would start one. The socket is held (by
         * fpmctl serve or a socket unit) if its file is there */
        if (stat(sock, &st) == 0 && S_ISSOCK(st.st_mode)) {
            pr->answers = 1;
            pr->state = "idle";
        }
        else
            pr->error = apr_psprintf(r->pool, "on-demand, and nothing holds "
                                     "%s (is fpmctl serve running?)", sock);
    }
    else if (wlf_fcgi_ping(sock, WLF_FPM_PING_PATH, WLF_PING_MS, &e) == 0) {
        pr->answers = 1;
        pr->state = "running";
    }
    else {
        pr->error = apr_pstrdup(r->pool, e.msg);
    }
    apr_hash_set(cache, link, APR_HASH_KEY_STRING, pr);
    return pr;
}

/* The PHP version of instance in: its label, else from its key */
static const char *version_of(const wlf_inst *in)
{
    const char *v = strstr(in->key, ".v");

    if (in->version && *in->version)
        return in->version;
    return v ? v + 2 : NULL;
}

/* ServerAlias names of s, plain ones first, then wildcards */
static const char *const *server_aliases(apr_pool_t *p, server_rec *s,
                                         size_t *n)
{
    apr_array_header_t *lists[2] = { s->names, s->wild_names };
    apr_array_header_t *a = apr_array_make(p, 4, sizeof(const char *));

    for (int l = 0; l < 2; l++)
        for (int i = 0; lists[l] && i < lists[l]->nelts; i++)
            APR_ARRAY_PUSH(a, const char *) =
                APR_ARRAY_IDX(lists[l], i, const char *);
    *n = (size_t)a->nelts;
    return (const char *const *)a->elts;
}

int wlfcgi_status_handler(request_rec *r)
{
    apr_array_header_t *entries;
    apr_hash_t *cache;
    wlf_status_page page;
    wlf_req *rq;
    char *out;
    wlf_status_form form;

    if (r->handler == NULL || strcmp(r->handler, WLF_STATUS_HANDLER) != 0)
        return DECLINED;
    if (r->method_number != M_GET)
        return HTTP_METHOD_NOT_ALLOWED;
    form = wlf_status_form_of(r->args, apr_table_get(r->headers_in,
                                                     "Accept"));
    if (wlf_g == NULL) {
        ap_set_content_type(r, "text/plain; charset=utf-8");
        ap_rputs("mod_wlfcgi: not configured (no WLFcgiConfig)\n", r);
        return OK;
    }
    /* it names every account: only where the server configuration
     * asked for it, never from a .htaccess (in a vhost of any kind) */
    rq = wlfcgi_req_get(r);
    if (rq && rq->by_customer) {
        wlf_acct *a = wlfcgi_srv_conf(r->server)->acct;
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, WLFLOG_HANDLER_REFUSED
                      ": vhost %s (account %s): the .htaccess in %s chose the "
                      "handler " WLF_STATUS_HANDLER ", which a customer may "
                      "not use: %s refused", r->server->server_hostname,
                      a ? a->name : "none",
                      rq->ht_dir ? rq->ht_dir : r->filename, r->uri);
        return HTTP_FORBIDDEN;
    }
    if (form == WLF_STATUS_OPENMETRICS) {
        /* the same exposition as fpmctl status --openmetrics */
        out = wlf_metrics_page(&wlf_g->cfg, &wlf_g->accounts, NULL,
                               WLF_PING_MS);
        if (out == NULL)
            return HTTP_INTERNAL_SERVER_ERROR;
        ap_set_content_type(r, WLF_OPENMETRICS_TYPE);
        apr_table_setn(r->headers_out, "Cache-Control", "no-store");
        if (!r->header_only)
            ap_rputs(out, r);
        free(out);
        return OK;
    }
    entries = apr_array_make(r->pool, 8, sizeof(wlf_status_entry));
    cache = apr_hash_make(r->pool);
    for (server_rec *s = ap_server_conf; s; s = s->next) {
        wlf_srv_conf *c = wlfcgi_srv_conf(s);
        wlf_status_entry *e;
        wlf_dir_conf *d;

        e = apr_array_push(entries);
        memset(e, 0, sizeof(*e));
        e->vhost = s->server_hostname ? s->server_hostname : "(none)";
        e->aliases = server_aliases(r->pool, s, &e->n_aliases);
        e->port = s->addrs ? s->addrs->host_port : s->port;
        e->answers = -1;
        if (c->acct) {
            char slot;
            const char *sock;
            /* the instance the vhost's domain runs in now */
            const wlf_inst *in = wlfcgi_pick_instance(r->pool, c, 0, &slot,
                                                      &sock);
            ping_result *pr = ping_instance(r, cache, c->acct, in, sock);
            e->account = c->acct->name;
            e->php = version_of(in);
            e->domain = c->domain;
            e->socket = in->link;
            e->live = sock;
            e->answers = pr->answers;
            e->error = pr->error;
            e->state = pr->state;
            d = ap_get_module_config(s->lookup_defaults, &wlfcgi_module);
            e->max_upload = wlfcgi_upload_limit(d, c->acct, NULL);
            e->reuse_hmax = c->acct->reuse.enabled ? c->acct->reuse.hmax : 0;
            e->suspended = wlf_link_state(c->acct->link) ==
                           WLF_LINK_SUSPENDED;
        }
    }
    page.config = wlf_g->cfg.file;
    page.version = WLF_VERSION;
    page.n_accounts = wlf_g->accounts.n;
    page.entries = (const wlf_status_entry *)entries->elts;
    page.n_entries = (size_t)entries->nelts;
    switch (form) {
    case WLF_STATUS_JSON:
        out = wlf_status_json(&page);
        ap_set_content_type(r, "application/json");
        break;
    case WLF_STATUS_HTML:
        out = wlf_status_html(&page);
        ap_set_content_type(r, "text/html; charset=utf-8");
        break;
    default:
        out = wlf_status_text(&page);
        ap_set_content_type(r, "text/plain; charset=utf-8");
        break;
    }
    if (out == NULL)
        return HTTP_INTERNAL_SERVER_ERROR;
    /* the form may follow Accept */
    apr_table_mergen(r->headers_out, "Vary", "Accept");
    apr_table_setn(r->headers_out, "Cache-Control", "no-store");
    if (!r->header_only)
        ap_rputs(out, r);
    free(out);
    return OK;
}
