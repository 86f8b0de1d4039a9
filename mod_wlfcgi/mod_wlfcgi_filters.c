/*
 * mod_wlfcgi_filters.c - request bodies sent to an account: a body of
 * unknown length, or one a slow client may take long to send, is read
 * whole (up to the upload limit) before mod_proxy_fcgi contacts FPM (413
 * with one log line, or handed on with its length), and large bodies are
 * read in large pieces.
 */
#include "httpd.h"
#include "http_log.h"
#include "http_request.h"
#include "apr_buckets.h"
#include "util_filter.h"
#include "http_protocol.h"
#include "apr_file_io.h"
#include "apr_strings.h"

#include <sys/uio.h>

#include "mod_wlfcgi_private.h"
#include "wlf_log.h"

/* log lines are the module's: "LogLevel wlfcgi:..." applies to them */
APLOG_USE_MODULE(wlfcgi);

#define WLF_SPOOLED_FILTER  "WLFCGI_BODY_SPOOLED"
#define WLF_GATHER_FILTER   "WLFCGI_BODY_GATHER"
/* bodies from this size on are read in large pieces (see gather_filter) */
#define WLF_GATHER_FROM     (256 * 1024)

/* A body spooled in memory up to this size, in a temp file beyond it */
#define WLF_SPOOL_MEM       (64 * 1024)
/* How much of it is read per round (the gather filter collects what has
 * arrived), and written to the file with one writev */
#define WLF_SPOOL_ROUND     (512 * 1024)
#define WLF_SPOOL_IOV       128

typedef struct {
    apr_bucket_brigade *spooled;
    int rest_streams;           /* the body goes on in the connection */
} spooled_ctx;

/*
 * Hands on a body read by wlfcgi_spool_body(): the spooled buckets
 * (memory or one temp file), then EOS when it was read in full, or the
 * rest of it from the connection when the client kept pace.
 */
static apr_status_t spooled_filter(ap_filter_t *f, apr_bucket_brigade *bb,
                                   ap_input_mode_t mode,
                                   apr_read_type_e block,
                                   apr_off_t readbytes)
{
    spooled_ctx *ctx = f->ctx;
    apr_bucket_brigade *src;
    apr_bucket *after;
    apr_status_t rv;

    if (ctx == NULL || (src = ctx->spooled) == NULL) {
        /* added by name (SetInputFilter in a .htaccess), not by
         * wlfcgi_spool_body(): nothing was spooled, pass through */
        ap_remove_input_filter(f);
        return ap_get_brigade(f->next, bb, mode, block, readbytes);
    }
    if (mode != AP_MODE_READBYTES)
        return ap_get_brigade(f->next, bb, mode, block, readbytes);
    if (APR_BRIGADE_EMPTY(src)) {
        if (ctx->rest_streams)
            return ap_get_brigade(f->next, bb, mode, block, readbytes);
        APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(
            f->c->bucket_alloc));
        return APR_SUCCESS;
    }
    rv = apr_brigade_partition(src, readbytes, &after);
    if (rv != APR_SUCCESS && rv != APR_INCOMPLETE)
        return rv;
    while (APR_BRIGADE_FIRST(src) != after) {
        apr_bucket *e = APR_BRIGADE_FIRST(src);
        APR_BUCKET_REMOVE(e);
        APR_BRIGADE_INSERT_TAIL(bb, e);
    }
    return APR_SUCCESS;
}

static apr_status_t spool_to_file(request_rec *r, apr_file_t **file,
                                  apr_bucket_brigade *mem)
{
    const char *dir;
    char *template;
    apr_status_t rv;

    if (*file == NULL) {
        if ((rv = apr_temp_dir_get(&dir, r->pool)) != APR_SUCCESS ||
            (rv = apr_filepath_merge(&template, dir, "wlfcgi.body.XXXXXX",
                                     APR_FILEPATH_NATIVE, r->pool)) !=
                APR_SUCCESS ||
            (rv = apr_file_mktemp(file, template, 0, r->pool)) !=
                APR_SUCCESS)
            return rv;
    }
    /* one writev per round of reading, not one write per 8000 bytes */
    for (apr_bucket *e = APR_BRIGADE_FIRST(mem);
         e != APR_BRIGADE_SENTINEL(mem);) {
        struct iovec vec[WLF_SPOOL_IOV];
        int n = 0;

        for (; n < WLF_SPOOL_IOV && e != APR_BRIGADE_SENTINEL(mem);
             e = APR_BUCKET_NEXT(e)) {
            const char *data;
            apr_size_t len;

            if ((rv = apr_bucket_read(e, &data, &len, APR_BLOCK_READ)) !=
                    APR_SUCCESS)
                return rv;
            if (len == 0)
                continue;
            vec[n].iov_base = (void *)data;
            vec[n++].iov_len = len;
        }
        if (n && (rv = apr_file_writev_full(*file, vec, (apr_size_t)n,
                                            NULL)) != APR_SUCCESS)
            return rv;
    }
    apr_brigade_cleanup(mem);
    return APR_SUCCESS;
}

int wlfcgi_spool_body(request_rec *r, long long limit, long long length,
                      const wlf_acct *a, const char *client_uri)
{
    apr_bucket_alloc_t *ba = r->connection->bucket_alloc;
    apr_bucket_brigade *in = apr_brigade_create(r->pool, ba);
    apr_bucket_brigade *mem = apr_brigade_create(r->pool, ba);
    spooled_ctx *ctx = apr_pcalloc(r->pool, sizeof(*ctx));
    apr_file_t *file = NULL;
    apr_off_t total = 0, in_mem = 0;
    apr_time_t start = apr_time_now();
    apr_status_t rv;
    int eos = 0;

    ctx->spooled = apr_brigade_create(r->pool, ba);

    /* read from the client in large pieces, as mod_proxy_fcgi would */
    ap_add_input_filter(WLF_GATHER_FILTER, NULL, r, r->connection);
    while (!eos) {
        apr_off_t len = 0;

        rv = ap_get_brigade(r->input_filters, in, AP_MODE_READBYTES,
                            APR_BLOCK_READ, WLF_SPOOL_ROUND);
        if (rv != APR_SUCCESS) {
            /* a client that went away or sent broken chunks: httpd's
             * own filter said why */
            apr_brigade_cleanup(in);
            return ap_map_http_request_error(rv, HTTP_BAD_REQUEST);
        }
        if (!APR_BRIGADE_EMPTY(in) &&
            APR_BUCKET_IS_EOS(APR_BRIGADE_LAST(in))) {
            eos = 1;
            apr_bucket_delete(APR_BRIGADE_LAST(in));
        }
        apr_brigade_length(in, 1, &len);
        total += len;
        if (total > limit) {
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r,
                          WLFLOG_CHUNKED_TOO_LARGE ": account %s: chunked "
                          "body passed the upload limit %" APR_INT64_T_FMT
                          " of %s", a->name, (apr_int64_t)limit,
                          client_uri);
            apr_brigade_cleanup(in);
            apr_brigade_cleanup(mem);
            return HTTP_REQUEST_ENTITY_TOO_LARGE;
        }
        /* keep what was read valid across the next read */
        for (apr_bucket *e = APR_BRIGADE_FIRST(in);
             e != APR_BRIGADE_SENTINEL(in); e = APR_BUCKET_NEXT(e))
            apr_bucket_setaside(e, r->pool);
        APR_BRIGADE_CONCAT(mem, in);
        in_mem += len;
        if (file || in_mem > WLF_SPOOL_MEM) {
            if ((rv = spool_to_file(r, &file, mem)) != APR_SUCCESS) {
                ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r,
                              WLFLOG_SPOOL_FAILED ": account %s: cannot "
                              "spool the body of %s to a temporary "
                              "file (TMPDIR)", a->name, r->uri);
                return HTTP_INTERNAL_SERVER_ERROR;
            }
            in_mem = 0;
        }
        if (!eos && length >= 0 &&
            wlf_client_keeps_pace(total, length, apr_time_now() - start,
                                  a->stream_seconds)) {
            /* it sends the rest within the time a worker may wait: no
             * more of it needs to go through the spool */
            ctx->rest_streams = 1;
            break;
        }
    }
    if (file) {
        apr_off_t at = 0;

        if (!APR_BRIGADE_EMPTY(mem) &&
            (rv = spool_to_file(r, &file, mem)) != APR_SUCCESS)
            return HTTP_INTERNAL_SERVER_ERROR;
        apr_file_seek(file, APR_SET, &at);
        apr_brigade_insert_file(ctx->spooled, file, 0, total, r->pool);
    }
    else {
        APR_BRIGADE_CONCAT(ctx->spooled, mem);
    }
    ap_add_input_filter(WLF_SPOOLED_FILTER, ctx, r, r->connection);
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, "account %s: %s after %"
                  APR_OFF_T_FMT " bytes in %" APR_TIME_T_FMT " us",
                  a->name, ctx->rest_streams ? "the rest of the body "
                  "streams" : "body spooled", total, apr_time_now() - start);
    if (ctx->rest_streams)
        return OK;
    /* now the length is known: mod_proxy_fcgi streams the body and PHP
     * gets its CONTENT_LENGTH */
    apr_table_setn(r->headers_in, "Content-Length",
                   apr_off_t_toa(r->pool, total));
    apr_table_unset(r->headers_in, "Transfer-Encoding");
    return OK;
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

void wlfcgi_gather_body(request_rec *r, long long length)
{
    /* not for a spooled body: wlfcgi_spool_body() read it through this
     * filter, which stays in place above the spooled one */
    if (length >= WLF_GATHER_FROM)
        ap_add_input_filter(WLF_GATHER_FILTER, NULL, r, r->connection);
}

void wlfcgi_register_filters(void)
{
    ap_register_input_filter(WLF_SPOOLED_FILTER, spooled_filter, NULL,
                             AP_FTYPE_RESOURCE);
    ap_register_input_filter(WLF_GATHER_FILTER, gather_filter, NULL,
                             AP_FTYPE_RESOURCE);
}
