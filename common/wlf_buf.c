/*
 * wlf_buf.c - a growable string and JSON string literals.
 */
#include "wlf_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int reserve(wlf_buf *b, size_t more)
{
    size_t ncap;
    char *ns;

    if (b->oom)
        return -1;
    if (b->len + more + 1 <= b->cap)
        return 0;
    ncap = b->cap ? b->cap * 2 : 1024;
    while (ncap < b->len + more + 1)
        ncap *= 2;
    if ((ns = realloc(b->s, ncap)) == NULL) {
        b->oom = 1;
        return -1;
    }
    b->s = ns;
    b->cap = ncap;
    return 0;
}

void wlf_buf_append(wlf_buf *b, const char *data, size_t len)
{
    if (reserve(b, len) < 0)
        return;
    memcpy(b->s + b->len, data, len);
    b->len += len;
    b->s[b->len] = '\0';
}

void wlf_buf_puts(wlf_buf *b, const char *s)
{
    wlf_buf_append(b, s, strlen(s));
}

void wlf_buf_printf(wlf_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->oom)
        return;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || reserve(b, (size_t)n) < 0) {
        b->oom = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void wlf_buf_json_string(wlf_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";

    wlf_buf_append(b, "\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        switch (c) {
        case '"':  wlf_buf_append(b, "\\\"", 2); break;
        case '\\': wlf_buf_append(b, "\\\\", 2); break;
        case '\n': wlf_buf_append(b, "\\n", 2); break;
        case '\r': wlf_buf_append(b, "\\r", 2); break;
        case '\t': wlf_buf_append(b, "\\t", 2); break;
        default:
            if (c < 0x20 || c == 0x7f) {
                char u[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
                wlf_buf_append(b, u, 6);
            }
            else {
                wlf_buf_append(b, s, 1);
            }
        }
    }
    wlf_buf_append(b, "\"", 1);
}

char *wlf_buf_finish(wlf_buf *b)
{
    char *s;

    if (b->oom) {
        wlf_buf_free(b);
        return NULL;
    }
    s = b->s ? b->s : strdup("");
    memset(b, 0, sizeof(*b));
    return s;
}

void wlf_buf_free(wlf_buf *b)
{
    free(b->s);
    memset(b, 0, sizeof(*b));
}
