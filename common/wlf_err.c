#include "wlf_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int wlf_fail(wlf_err *err, const char *field, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL)
        return -1;
    snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    /* keep it one line whatever the caller passed in */
    for (char *p = err->msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    return -1;
}

void wlf_err_clear(wlf_err *err)
{
    if (err) {
        err->field[0] = '\0';
        err->msg[0] = '\0';
    }
}

const char *wlf_err_line(const wlf_err *err, char *buf, size_t len)
{
    if (err->field[0])
        snprintf(buf, len, "%s: %s", err->field, err->msg);
    else
        snprintf(buf, len, "%s", err->msg);
    return buf;
}

void wlf_copy(char *dst, size_t n, const char *src)
{
    size_t len = strlen(src);

    if (n == 0)
        return;
    if (len >= n)
        len = n - 1;
    memcpy(dst, src, len);
    dst[len] = '\0';
}
