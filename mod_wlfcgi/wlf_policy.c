/*
 * wlf_policy.c - extension matching, socket policy, env scrub rules.
 */
#include "wlf_policy.h"
#include "wlf_paths.h"

#include <string.h>
#include <strings.h>

int wlf_ext_valid(const char *ext, wlf_err *err)
{
    size_t len = ext ? strlen(ext) : 0;

    if (len < 2 || len > WLF_EXT_MAX - 1 || ext[0] != '.')
        return wlf_fail(err, "WLFcgiExtensions", "'%.20s' is not an "
                        "extension like .php", ext ? ext : "");
    for (size_t i = 1; i < len; i++) {
        char c = ext[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return wlf_fail(err, "WLFcgiExtensions", "'%.20s' is not an "
                            "extension like .php", ext);
    }
    return 0;
}

const char *wlf_ext_not_run(const char *const *routed, size_t n_routed,
                            const char *const *runs, size_t n_runs)
{
    for (size_t i = 0; i < n_routed; i++) {
        int found = 0;
        for (size_t j = 0; j < n_runs && !found; j++)
            found = strcasecmp(routed[i], runs[j]) == 0;
        if (!found)
            return routed[i];
    }
    return NULL;
}

int wlf_ext_match(const char *const *exts, size_t n_exts, const char *path)
{
    size_t plen = path ? strlen(path) : 0;

    for (size_t i = 0; i < n_exts; i++) {
        size_t elen = strlen(exts[i]);
        /* "/.php" too: php-fpm runs it, and httpd would otherwise send
         * it out as source */
        if (plen >= elen && strcasecmp(path + plen - elen, exts[i]) == 0)
            return 1;
    }
    return 0;
}

/* NAME from "KEY.sock", "KEY.a.sock", "KEY.b.sock", where KEY is an
 * instance key: NAME, or NAME.vVERSION for the account's instance of
 * another PHP version; 0 if not that */
static int account_of_socket_file(const char *base, char *name,
                                  size_t name_len)
{
    size_t len = strlen(base);
    char buf[WLF_NAME_MAX + WLF_VERSION_MAX + 8];
    char acct[WLF_NAME_MAX + 1], version[WLF_VERSION_MAX + 1];

    if (len <= 5 || strcmp(base + len - 5, ".sock") != 0)
        return 0;
    len -= 5;
    if (len >= 3 && base[len - 2] == '.' &&
        (base[len - 1] == 'a' || base[len - 1] == 'b'))
        len -= 2;
    if (len == 0 || len >= sizeof(buf))
        return 0;
    memcpy(buf, base, len);
    buf[len] = '\0';
    if (wlf_instance_key_parse(buf, acct, sizeof(acct), version,
                               sizeof(version)) < 0)
        return 0;
    wlf_copy(name, name_len, acct);
    return 1;
}

wlf_sock_class wlf_sock_classify(const char *path, const char *dir,
                                 const char *own, char *owner,
                                 size_t owner_len)
{
    size_t dlen = strlen(dir);
    const char *base;
    char name[WLF_NAME_MAX + 1];

    while (dlen > 1 && dir[dlen - 1] == '/')
        dlen--;
    if (owner_len)
        owner[0] = '\0';
    if (strncmp(path, dir, dlen) != 0 || path[dlen] != '/')
        return WLF_SOCK_OUTSIDE;
    base = path + dlen + 1;
    if (strchr(base, '/') != NULL ||
        !account_of_socket_file(base, name, sizeof(name)))
        return WLF_SOCK_OTHER;
    wlf_copy(owner, owner_len, name);
    if (own && strcmp(own, name) == 0)
        return WLF_SOCK_OWN;
    return WLF_SOCK_FOREIGN;
}

int wlf_worker_host_account(const char *host, char *account,
                            size_t account_len)
{
    size_t len;
    char buf[WLF_NAME_MAX + 1];

    if (host == NULL || strncasecmp(host, "wlf-", 4) != 0)
        return 0;
    host += 4;
    len = strcspn(host, ".:/");
    if (len == 0 || len > WLF_NAME_MAX)
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = host[i];
        buf[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    buf[len] = '\0';
    /* anything that starts with wlf- is reserved, even if it is no valid
     * account name: report what there is */
    wlf_copy(account, account_len, buf);
    return 1;
}

const char *const wlf_env_scrubbed[] = {
    "PHP_VALUE",
    "PHP_ADMIN_VALUE",
    NULL
};

int wlf_env_is_scrubbed(const char *name)
{
    for (size_t i = 0; wlf_env_scrubbed[i]; i++)
        if (strcasecmp(wlf_env_scrubbed[i], name) == 0)
            return 1;
    return 0;
}
