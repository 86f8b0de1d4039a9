/*
 * mod_wlfcgi_suspend.c - the sites of a suspended account.
 *
 * `fpmctl suspend NAME` points NAME.sock at "NAME.suspended"
 * (wlf_link_state()). Every request of a vhost mapped to that account is
 * then answered here, before anything else of httpd's or the customer's
 * (translate_name, REALLY_FIRST: before mod_rewrite, Alias, Redirect and
 * every .htaccess), with 503, Retry-After and the suspended page: static
 * files, redirects and PHP alike. The link is read once per request (and
 * the state kept for the PHP request's choice of slot), so a suspension
 * and a resume take effect at the next request, without a restart of
 * httpd.
 *
 * The page is the vhost's WLFcgiSuspendedPage (read at start-up, so the
 * request path reads no file), else the built-in one.
 */
#include "httpd.h"
#include "http_config.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "apr_file_io.h"
#include "apr_strings.h"

#include "mod_wlfcgi_private.h"
#include "wlf_log.h"

/* log lines are the module's: "LogLevel wlfcgi:..." applies to them */
APLOG_USE_MODULE(wlfcgi);

/* a suspension lasts hours or days: ask robots to come back later, not
 * to drop the site */
#define WLF_SUSPENDED_RETRY_AFTER   "3600"
#define WLF_SUSPENDED_PAGE_MAX      (256 * 1024)

static const char default_page[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"robots\" content=\"noindex\">\n"
    "<title>Site suspended</title>\n"
    "</head>\n"
    "<body>\n"
    "<h1>This site is suspended</h1>\n"
    "<p>The hosting account of this site is suspended. If this is your "
    "site, please contact your hosting provider.</p>\n"
    "</body>\n"
    "</html>\n";

static const char *read_page(apr_pool_t *p, const char *file,
                             const char **why)
{
    apr_file_t *f;
    apr_finfo_t fi;
    apr_status_t rv;
    char *text, msg[120];
    apr_size_t got;

    if ((rv = apr_file_open(&f, file, APR_FOPEN_READ, 0, p)) != APR_SUCCESS)
        goto fail;
    if ((rv = apr_file_info_get(&fi, APR_FINFO_SIZE, f)) != APR_SUCCESS) {
        apr_file_close(f);
        goto fail;
    }
    if (fi.size > WLF_SUSPENDED_PAGE_MAX) {
        apr_file_close(f);
        *why = "larger than 256 KiB";
        return NULL;
    }
    /* ap_custom_response() takes text that starts with '/' or looks like
     * a URL for a redirect: a leading newline keeps it a page */
    text = apr_palloc(p, (apr_size_t)fi.size + 2);
    rv = apr_file_read_full(f, text + 1, (apr_size_t)fi.size, &got);
    apr_file_close(f);
    if (rv != APR_SUCCESS)
        goto fail;
    text[1 + got] = '\0';
    if (text[1] == '/' || ap_is_url(text + 1)) {
        text[0] = '\n';
        return text;
    }
    return text + 1;
fail:
    *why = apr_pstrdup(p, apr_strerror(rv, msg, sizeof(msg)));
    return NULL;
}

int wlfcgi_load_suspended_pages(apr_pool_t *pconf, server_rec *main_s)
{
    const char *builtin = default_page;
    apr_hash_t *seen = apr_hash_make(pconf);

    for (server_rec *s = main_s; s; s = s->next) {
        wlf_srv_conf *c = wlfcgi_srv_conf(s);
        const char *page, *why = NULL;

        if (c->suspended_file == NULL) {
            c->suspended_page = builtin;
            continue;
        }
        /* vhosts inherit the main server's: read each file once */
        page = apr_hash_get(seen, c->suspended_file, APR_HASH_KEY_STRING);
        if (page == NULL &&
            (page = read_page(pconf, c->suspended_file, &why)) == NULL) {
            ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, 0, NULL,
                         WLFLOG_SUSPENDED_PAGE ": WLFcgiSuspendedPage %s: "
                         "cannot read it: %s", c->suspended_file, why);
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        apr_hash_set(seen, c->suspended_file, APR_HASH_KEY_STRING, page);
        c->suspended_page = page;
    }
    return OK;
}

int wlfcgi_suspended_answer(request_rec *r, const wlf_acct *a)
{
    wlf_srv_conf *c = wlfcgi_srv_conf(r->server);

    ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, WLFLOG_SUSPENDED
                  ": account %s is suspended: 503 for %s", a->name, r->uri);
    apr_table_setn(r->err_headers_out, "Retry-After",
                   WLF_SUSPENDED_RETRY_AFTER);
    apr_table_setn(r->err_headers_out, "Cache-Control", "no-store");
    /* the page says its charset in a <meta> tag; httpd would otherwise
     * claim iso-8859-1 for an error page */
    apr_table_setn(r->subprocess_env, "suppress-error-charset", "1");
    ap_custom_response(r, HTTP_SERVICE_UNAVAILABLE, c->suspended_page);
    return HTTP_SERVICE_UNAVAILABLE;
}

int wlfcgi_suspended_check(request_rec *r)
{
    wlf_srv_conf *c;
    wlf_req *rq;

    /* the initial request only: a suspension that began meanwhile is
     * caught where the request would reach PHP */
    if (wlf_g == NULL || r->main || r->prev || r->proxyreq)
        return DECLINED;
    c = wlfcgi_srv_conf(r->server);
    if (c->acct == NULL)
        return DECLINED;
    rq = wlfcgi_req(r);
    rq->link_state = wlf_link_state(c->acct->link);
    rq->link_read = 1;
    if (rq->link_state != WLF_LINK_SUSPENDED)
        return DECLINED;
    return wlfcgi_suspended_answer(r, c->acct);
}
