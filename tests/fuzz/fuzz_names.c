/* libFuzzer target: name, domain, ini and path validation (wlf_validate). */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wlf_validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int only(const char *s, const char *allowed)
{
    for (; *s; s++)
        if (!strchr(allowed, *s))
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char text[300];
    wlf_err err;

    if (size >= sizeof(text))
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    if (wlf_valid_account_name(text, &err) == 0) {
        /* what passes is safe as a file, pool and unit name */
        if (strlen(text) == 0 || strlen(text) > WLF_NAME_MAX ||
            !only(text, "abcdefghijklmnopqrstuvwxyz0123456789-_") ||
            !islower((unsigned char)text[0]))
            abort();
    }
    if (wlf_valid_domain(text, &err) == 0) {
        if (!only(text, "abcdefghijklmnopqrstuvwxyz0123456789-.*") ||
            strstr(text, "..") || strchr(text + 1, '*'))
            abort();
        /* a valid domain always matches itself */
        if (text[0] != '*' && !wlf_domain_matches(text, text))
            abort();
    }
    if (wlf_valid_ini_value(text, "v", &err) == 0) {
        if (strpbrk(text, "\"\\$\n\r"))
            abort();
    }
    if (wlf_valid_abs_path(text, "p", &err) == 0) {
        if (text[0] != '/' || strstr(text, "/../") || strpbrk(text, "\n\" "))
            abort();
    }
    if (wlf_valid_unix_name(text, "user", &err) == 0) {
        if (strpbrk(text, "/:\n ") || strlen(text) > 32)
            abort();
    }
    return 0;
}
