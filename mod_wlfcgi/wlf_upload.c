/*
 * wlf_upload.c - upload limit resolution and request body verdicts.
 */
#include "wlf_upload.h"

#include <stdio.h>

long long wlf_upload_merge(long long outer, long long inner)
{
    return inner != WLF_UPLOAD_UNSET ? inner : outer;
}

long long wlf_upload_effective(long long scoped, long long account,
                               long long global_default)
{
    if (scoped != WLF_UPLOAD_UNSET)
        return scoped;
    if (account != WLF_UPLOAD_UNSET)
        return account;
    return global_default;
}

/* Strict decimal: digits only, no sign, no blanks, no overflow. */
static int parse_length(const char *s, long long *out)
{
    long long v = 0;

    if (*s == '\0')
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        if (v > (9223372036854775807LL - 9) / 10)
            return -1;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return 0;
}

wlf_body_verdict wlf_body_check(const char *content_length,
                                const char *transfer_encoding,
                                long long limit, long long *length)
{
    long long n;

    *length = -1;
    /* httpd drops Content-Length when Transfer-Encoding is present */
    if (transfer_encoding)
        return WLF_BODY_CHUNKED;
    if (content_length == NULL)
        return WLF_BODY_NONE;
    if (parse_length(content_length, &n) < 0)
        return WLF_BODY_BAD;
    *length = n;
    if (n == 0)
        return WLF_BODY_NONE;
    return n > limit ? WLF_BODY_TOO_LARGE : WLF_BODY_FITS;
}

const char *wlf_upload_php_admin(long long limit, char *buf, size_t len)
{
    snprintf(buf, len, "upload_max_filesize=%lld\npost_max_size=%lld",
             limit, limit);
    return buf;
}
