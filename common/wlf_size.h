/*
 * wlf_size.h - byte sizes as admins write them: "512", "64K", "8M", "3G", "1T".
 *
 * Suffixes are binary (K = 1024) and case-insensitive; "iB" may follow
 * them ("8MiB") and "B" a plain number ("512B"). "8MB" is refused as
 * ambiguous (PHP reads it as 8 bytes), as is anything else, negative
 * numbers and values that do not fit in 63 bits.
 */
#ifndef WLF_SIZE_H
#define WLF_SIZE_H

#include <stddef.h>

#include "wlf_err.h"

#define WLF_SIZE_MAX_BYTES (1LL << 50) /* 1 PiB: far beyond any sane limit */

#define WLF_KIB 1024LL
#define WLF_MIB (1024LL * 1024)
#define WLF_GIB (1024LL * 1024 * 1024)
#define WLF_TIB (1024LL * 1024 * 1024 * 1024)

/* Parse text into *bytes. Returns 0, or -1 with err set (field = `field`). */
int wlf_size_parse(const char *text, const char *field, long long *bytes,
                   wlf_err *err);

/* Shortest exact form: 8388608 -> "8M", 1536 -> "1536", 3221225472 -> "3G" */
const char *wlf_size_format(long long bytes, char *buf, size_t len);

#endif
