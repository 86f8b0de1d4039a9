/* libFuzzer target: mod_wlfcgi's request-facing rules, which see what
 * clients and .htaccess files send (wlf_upload, wlf_policy) and what the
 * module reads at start-up (wlf_reuse: the pm line of php-fpm.conf).
 *
 * The input is split at NUL bytes into fields: Content-Length,
 * Transfer-Encoding, a socket path, a proxy worker host, an extension,
 * a file name, and the rest as php-fpm.conf text. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wlf_policy.h"
#include "wlf_reuse.h"
#include "wlf_upload.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define N_FIELDS 7

static int all_digits(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return 0;
    return 1;
}

static void check_body(const char *cl, const char *te)
{
    static const long long limits[] = { 0, 1, 1024, 8LL << 20,
                                        9223372036854775807LL };
    for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
        long long len = 12345;
        wlf_body_verdict v = wlf_body_check(cl[0] ? cl : NULL,
                                            te[0] ? te : NULL, limits[i],
                                            &len);
        switch (v) {
        case WLF_BODY_CHUNKED:
            /* whatever the length says: counted while it streams */
            if (!te[0] || len != -1)
                abort();
            break;
        case WLF_BODY_NONE:
            if (te[0] || (cl[0] && len != 0))
                abort();
            break;
        case WLF_BODY_FITS:
        case WLF_BODY_TOO_LARGE:
            /* only a plain decimal gets through, and it is what it says */
            if (te[0] || !all_digits(cl) || len < 1 ||
                (v == WLF_BODY_FITS) != (len <= limits[i]) ||
                strtoll(cl, NULL, 10) != len)
                abort();
            break;
        case WLF_BODY_BAD:
            if (te[0] || !cl[0] || (all_digits(cl) && strlen(cl) < 18))
                abort();
            break;
        }
    }
}

static void check_socket(const char *path)
{
    static const char *const dirs[] = { "/run/wlfcgi", "/run/wlfcgi/",
                                        "/", "" };
    static const char *const owns[] = { "alice", NULL };
    char owner[64];

    for (size_t d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
        for (size_t o = 0; o < 2; o++) {
            wlf_sock_class c = wlf_sock_classify(path, dirs[d], owns[o],
                                                 owner, sizeof(owner));
            if (strlen(owner) >= sizeof(owner))
                abort();
            switch (c) {
            case WLF_SOCK_OWN:
                if (!owns[o] || strcmp(owner, owns[o]) != 0)
                    abort();
                /* fall through */
            case WLF_SOCK_FOREIGN:
                /* the file names a valid account, inside the directory */
                if (wlf_valid_account_name(owner, NULL) < 0 ||
                    strstr(path, "/../") || strstr(path, owner) == NULL)
                    abort();
                if (c == WLF_SOCK_FOREIGN && owns[o] &&
                    strcmp(owner, owns[o]) == 0)
                    abort();
                break;
            case WLF_SOCK_OTHER:
            case WLF_SOCK_OUTSIDE:
                break;
            }
        }
    }
}

static void check_worker_host(const char *host)
{
    char account[64];

    if (wlf_worker_host_account(host, account, sizeof(account))) {
        /* everything that starts with wlf- is reserved */
        if (strncasecmp(host, "wlf-", 4) != 0 || account[0] == '\0' ||
            strlen(account) > WLF_NAME_MAX)
            abort();
        for (const char *p = account; *p; p++)
            if (isupper((unsigned char)*p) || strchr(".:/", *p))
                abort();
    }
    else if (strncasecmp(host, "wlf-", 4) == 0 && host[4] &&
             !strchr(".:/", host[4]) && strcspn(host + 4, ".:/") <=
             WLF_NAME_MAX) {
        abort();
    }
}

static void check_ext(const char *ext, const char *file)
{
    const char *exts[] = { ".php", ext };
    size_t elen = strlen(ext), flen = strlen(file);
    int valid = wlf_ext_valid(ext, NULL) == 0;
    int match = wlf_ext_match(exts, valid ? 2 : 1, file);

    /* a file whose name ends in a configured extension, in any case, is
     * PHP ("dir/.php", a hidden file with no name before it, is not) */
    if (valid && flen > elen && file[flen - elen - 1] != '/' &&
        strcasecmp(file + flen - elen, ext) == 0 && !match)
        abort();
    if (flen > 4 && file[flen - 5] != '/' &&
        strcasecmp(file + flen - 4, ".php") == 0 && !match)
        abort();
    /* and nothing else is */
    if (match && !(flen > 4 && strcasecmp(file + flen - 4, ".php") == 0) &&
        !(valid && flen > elen && strcasecmp(file + flen - elen, ext) == 0))
        abort();
    (void)wlf_env_is_scrubbed(file);
}

static void check_pm(const char *text)
{
    char out[32];

    memset(out, 'x', sizeof(out));
    if (wlf_fpm_conf_pm(text, out, sizeof(out)) == 0 &&
        (memchr(out, '\0', sizeof(out)) == NULL || out[0] == '\0'))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + N_FIELDS + 1);
    const char *field[N_FIELDS];
    size_t f = 0, start = 0;

    if (buf == NULL)
        return 0;
    memcpy(buf, data, size);
    memset(buf + size, 0, N_FIELDS + 1);
    /* fields 0..N-2 end at a NUL; the last one takes the rest */
    for (size_t i = 0; i <= size && f < N_FIELDS - 1; i++) {
        if (buf[i] == '\0') {
            field[f++] = buf + start;
            start = i + 1;
        }
    }
    while (f < N_FIELDS - 1)
        field[f++] = buf + size + 1;        /* "" */
    field[N_FIELDS - 1] = start <= size ? buf + start : buf + size;

    check_body(field[0], field[1]);
    check_socket(field[2]);
    check_worker_host(field[3]);
    check_ext(field[4], field[5]);
    check_pm(field[6]);
    free(buf);
    return 0;
}
