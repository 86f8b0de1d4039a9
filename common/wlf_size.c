#include "wlf_size.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

int wlf_size_parse(const char *text, const char *field, long long *bytes,
                   wlf_err *err)
{
    const char *p = text;
    unsigned long long value = 0;
    int shift = 0;

    if (text == NULL || *text == '\0')
        return wlf_fail(err, field, "empty size");
    if (!isdigit((unsigned char)*p))
        return wlf_fail(err, field, "invalid size '%.40s': expected a number "
                        "with an optional K, M, G or T suffix", text);
    while (isdigit((unsigned char)*p)) {
        value = value * 10 + (unsigned)(*p - '0');
        if (value > (unsigned long long)WLF_SIZE_MAX_BYTES)
            return wlf_fail(err, field, "size '%.40s' is too large", text);
        p++;
    }
    switch (toupper((unsigned char)*p)) {
    case 'K': shift = 10; p++; break;
    case 'M': shift = 20; p++; break;
    case 'G': shift = 30; p++; break;
    case 'T': shift = 40; p++; break;
    default: break;
    }
    if (shift && (*p == 'i' || *p == 'I') && (p[1] == 'B' || p[1] == 'b'))
        p += 2;
    else if (shift && (*p == 'B' || *p == 'b') && p[1] == '\0')
        /* "8MB": 8 MiB here, 8 bytes to PHP (it ignores what follows the
         * M), 8 000 000 to a disk vendor: refused rather than guessed */
        return wlf_fail(err, field, "'%.40s' is ambiguous: sizes are "
                        "binary, write %.*s or %.*siB", text,
                        (int)(p - text), text, (int)(p - text), text);
    else if (*p == 'B' || *p == 'b')
        p++;
    if (*p != '\0')
        return wlf_fail(err, field, "invalid size '%.40s': expected a number "
                        "with an optional K, M, G or T suffix", text);
    if (value > ((unsigned long long)WLF_SIZE_MAX_BYTES >> shift))
        return wlf_fail(err, field, "size '%.40s' is too large", text);
    *bytes = (long long)(value << shift);
    return 0;
}

const char *wlf_size_format(long long bytes, char *buf, size_t len)
{
    static const char units[] = "KMGT";
    int unit = -1;

    if (bytes > 0) {
        while (unit < 3 && (bytes & 1023) == 0) {
            bytes >>= 10;
            unit++;
        }
    }
    if (unit < 0)
        snprintf(buf, len, "%lld", bytes);
    else
        snprintf(buf, len, "%lld%c", bytes, units[unit]);
    return buf;
}
