/*
 * wlf_sys.h - small helpers both programs need in exactly one form: the
 * monotonic clock and the directory part of a path.
 */
#ifndef WLF_SYS_H
#define WLF_SYS_H

#include <stddef.h>

/* CLOCK_MONOTONIC in milliseconds: for timeouts and elapsed times. */
long long wlf_now_ms(void);

/*
 * The directory part of `path` into buf: "." when it has no '/', "/" for
 * "/x", else everything before the last '/'. *base (if not NULL) points
 * at what follows that '/'. Returns 0, or -1 (buf empty) when it does not
 * fit in len.
 */
int wlf_dirname(const char *path, char *buf, size_t len, const char **base);

#endif
