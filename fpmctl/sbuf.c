/*
 * sbuf.c - a growable string.
 */
#include "sbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int sb_reserve(sbuf *b, size_t more)
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

void sb_append(sbuf *b, const char *data, size_t len)
{
    if (sb_reserve(b, len) < 0)
        return;
    memcpy(b->s + b->len, data, len);
    b->len += len;
    b->s[b->len] = '\0';
}

void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->oom)
        return;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || sb_reserve(b, (size_t)n) < 0) {
        b->oom = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

char *sb_finish(sbuf *b)
{
    char *s;

    if (b->oom) {
        free(b->s);
        memset(b, 0, sizeof(*b));
        return NULL;
    }
    s = b->s ? b->s : strdup("");
    memset(b, 0, sizeof(*b));
    return s;
}
