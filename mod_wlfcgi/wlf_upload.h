/*
 * wlf_upload.h - upload limits: which limit holds for a request, whether
 * its body may be read at all, and what FPM is told.
 *
 * The effective limit is the innermost WLFcgiMaxUpload that applies (a
 * <Location> over a <Directory> over the vhost over the server), else the
 * account's max_upload, else the global default from wlfcgi.conf.
 */
#ifndef WLF_UPLOAD_H
#define WLF_UPLOAD_H

#include <stddef.h>

#define WLF_UPLOAD_UNSET (-1LL)

/* Merge two scopes: the inner one wins where it says something. */
long long wlf_upload_merge(long long outer, long long inner);

/* The limit for a request: `scoped` from WLFcgiMaxUpload (or UNSET),
 * then the account's own max_upload (or UNSET), then the default. */
long long wlf_upload_effective(long long scoped, long long account,
                               long long global_default);

typedef enum {
    WLF_BODY_NONE,      /* no body announced */
    WLF_BODY_FITS,      /* Content-Length within the limit */
    WLF_BODY_TOO_LARGE, /* Content-Length over the limit: 413 now */
    WLF_BODY_CHUNKED,   /* no length: count while it streams */
    WLF_BODY_BAD        /* unparseable Content-Length: 400 */
} wlf_body_verdict;

/* Judge a request from its Content-Length and Transfer-Encoding headers
 * (either may be NULL). *length gets the announced length, or -1. */
wlf_body_verdict wlf_body_check(const char *content_length,
                                const char *transfer_encoding,
                                long long limit, long long *length);

/* The PHP_ADMIN_VALUE sent with every PHP request:
 * "upload_max_filesize=N\npost_max_size=N" (N in bytes). */
const char *wlf_upload_php_admin(long long limit, char *buf, size_t len);

#endif
