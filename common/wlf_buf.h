/*
 * wlf_buf.h - a growable string for rendering text and JSON, and the one
 * JSON string escaper of the project.
 *
 * Running out of memory is remembered and reported once by
 * wlf_buf_finish(), so renderers do not check every append.
 */
#ifndef WLF_BUF_H
#define WLF_BUF_H

#include <stddef.h>

typedef struct {
    char *s;            /* NUL-terminated once anything was appended */
    size_t len, cap;
    int oom;
} wlf_buf;

void wlf_buf_append(wlf_buf *b, const char *data, size_t len);
void wlf_buf_puts(wlf_buf *b, const char *s);
void wlf_buf_printf(wlf_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Append s as a JSON string literal, quotes included (RFC 8259): '"', '\'
 * and control characters are escaped; bytes >= 0x80 pass through (file
 * and user names are the admin's UTF-8).
 */
void wlf_buf_json_string(wlf_buf *b, const char *s);

/* The text (malloc'd, "" when empty), or NULL after running out of
 * memory. Either way b is empty afterwards. */
char *wlf_buf_finish(wlf_buf *b);
/* Drop the text (a renderer that gives up). */
void wlf_buf_free(wlf_buf *b);

#endif
