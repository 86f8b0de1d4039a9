/*
 * mod_wlfcgi_filters.c - input filters on the request bodies sent to an
 * account: one stops a body of unknown length at the upload limit, the
 * other reads large bodies in large pieces.
 */
#include "httpd.h"
#include "http_log.h"
#include "http_request.h"
#include "apr_buckets.h"
#include "util_filter.h"

#include "mod_wlfcgi_private.h"
#include "wlf_log.h"

/* log lines are the module's: "LogLevel wlfcgi:..." applies to them */
APLOG_USE_MODULE(wlfcgi);

#define WLF_LIMIT_FILTER    "WLFCGI_BODY_LIMIT"
#define WLF_GATHER_FILTER   "WLFCGI_BODY_GATHER"
/* bodies from this size on are read in large pieces (see gather_filter) */
#define WLF_GATHER_FROM     (256 * 1024)

typedef struct {
    long long limit;
    long long seen;
    const wlf_acct *acct;
} wlf_limit_ctx;

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
 * Make the buckets of bb survive the next read from the filters below
 * (a no-op for the heap buckets of a plain socket; transient ones are
 * copied) and add their length to *have. Returns 0, or -1 when a bucket's
 * length is unknown: then gathering stops.
 */
static int hold_buckets(apr_bucket_brigade *bb, apr_pool_t *p,
                        apr_off_t *have)
{
    for (apr_bucket *e = APR_BRIGADE_FIRST(bb);
         e != APR_BRIGADE_SENTINEL(bb); e = APR_BUCKET_NEXT(e)) {
        if (e->length == (apr_size_t)-1 ||
            apr_bucket_setaside(e, p) != APR_SUCCESS)
            return -1;
        *have += (apr_off_t)e->length;
    }
    return 0;
}

/*
 * httpd reads a request body from the socket 8000 bytes at a time, and
 * mod_proxy_fcgi sends each piece it gets as one FastCGI record, after a
 * poll: three system calls per 8000 bytes. For large bodies this filter
 * hands mod_proxy_fcgi whatever has arrived already, up to what it asks
 * for (our workers' io_buffer_size): the first read blocks as asked, the
 * rest only take what is there. Data is never held back: it moves on as
 * soon as no more is waiting.
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
    if (hold_buckets(bb, f->r->pool, &have) < 0)
        return APR_SUCCESS;
    while (!APR_BRIGADE_EMPTY(bb) &&
           !APR_BUCKET_IS_EOS(APR_BRIGADE_LAST(bb)) &&
           have + 8000 <= readbytes) {
        rv = ap_get_brigade(f->next, more, AP_MODE_READBYTES,
                            APR_NONBLOCK_READ, readbytes - have);
        if (rv != APR_SUCCESS || APR_BRIGADE_EMPTY(more)) {
            /* nothing more waiting, or an error the next call will
             * report again: deliver what we have */
            apr_brigade_cleanup(more);
            break;
        }
        rv = hold_buckets(more, f->r->pool, &have);
        APR_BRIGADE_CONCAT(bb, more);
        if (rv < 0)
            break;
    }
    return APR_SUCCESS;
}

void wlfcgi_limit_body(request_rec *r, long long limit, const wlf_acct *a)
{
    wlf_limit_ctx *ctx = apr_pcalloc(r->pool, sizeof(*ctx));

    ctx->limit = limit;
    ctx->acct = a;
    ap_add_input_filter(WLF_LIMIT_FILTER, ctx, r, r->connection);
}

void wlfcgi_gather_body(request_rec *r, long long length)
{
    /* a chunked body may be large too */
    if (length < 0 ? apr_table_get(r->headers_in, "Transfer-Encoding") != NULL
                   : length >= WLF_GATHER_FROM)
        ap_add_input_filter(WLF_GATHER_FILTER, NULL, r, r->connection);
}

void wlfcgi_register_filters(void)
{
    ap_register_input_filter(WLF_LIMIT_FILTER, limit_filter, NULL,
                             AP_FTYPE_RESOURCE);
    ap_register_input_filter(WLF_GATHER_FILTER, gather_filter, NULL,
                             AP_FTYPE_RESOURCE);
}
