/*
 * wlf_sys.c - clock and path helpers.
 */
#include "wlf_sys.h"

#include <string.h>
#include <time.h>

long long wlf_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int wlf_dirname(const char *path, char *buf, size_t len, const char **base)
{
    const char *slash = strrchr(path, '/');
    const char *dir = slash == NULL ? "." : "/";
    size_t n = slash == NULL || slash == path ? 1 : (size_t)(slash - path);

    if (slash != NULL && slash != path)
        dir = path;
    if (base)
        *base = slash ? slash + 1 : path;
    if (n + 1 > len) {
        if (len)
            buf[0] = '\0';
        return -1;
    }
    memcpy(buf, dir, n);
    buf[n] = '\0';
    return 0;
}
