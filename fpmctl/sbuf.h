/*
 * sbuf.h - a growable string for rendering text and JSON.
 *
 * Running out of memory is remembered and reported once by sb_finish(), so
 * renderers do not check every append.
 */
#ifndef FPM_SBUF_H
#define FPM_SBUF_H

#include <stddef.h>

typedef struct {
    char *s;
    size_t len, cap;
    int oom;
} sbuf;

void sb_printf(sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sb_append(sbuf *b, const char *data, size_t len);
/* The text (malloc'd, NUL-terminated, "" when empty), or NULL after OOM. */
char *sb_finish(sbuf *b);

#endif
