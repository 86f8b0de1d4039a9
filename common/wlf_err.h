/*
 * wlf_err.h - error reporting shared by fpmctl and mod_wlfcgi.
 *
 * Every failing function of the shared library fills a wlf_err: a one-line
 * message and, for bad input, the name of the field that was wrong, so that
 * callers can print "fpmctl: max_upload: ..." or log "WLF00012 ...".
 */
#ifndef WLF_ERR_H
#define WLF_ERR_H

#include <stddef.h>

typedef struct wlf_err {
    char field[64];   /* offending field or file, "" when not applicable */
    char msg[512];    /* one line, no trailing newline */
} wlf_err;

/* Set err (may be NULL) and return -1, so callers can `return wlf_fail(...)` */
int wlf_fail(wlf_err *err, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

void wlf_err_clear(wlf_err *err);

/* "field: msg" or just "msg" into buf */
const char *wlf_err_line(const wlf_err *err, char *buf, size_t len);

/* Copy src into dst of size n, truncating; always NUL-terminates. */
void wlf_copy(char *dst, size_t n, const char *src);

#endif
