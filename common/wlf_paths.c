/*
 * wlf_paths.c - derived paths.
 */
#include "wlf_paths.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "wlf_validate.h"

static const char *path(char *buf, size_t len, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* snprintf that returns buf, for the one-line functions below */
static const char *path(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    return buf;
}

const char *wlf_instance_key(const char *name, const char *version,
                             char *buf, size_t len)
{
    if (version == NULL || *version == '\0')
        return path(buf, len, "%s", name);
    return path(buf, len, "%s.v%s", name, version);
}

int wlf_instance_key_parse(const char *key, char *name, size_t name_len,
                           char *version, size_t version_len)
{
    const char *dot = strchr(key, '.');
    size_t n = dot ? (size_t)(dot - key) : strlen(key);
    char buf[WLF_NAME_MAX + 1];

    if (n == 0 || n > WLF_NAME_MAX)
        return -1;
    memcpy(buf, key, n);
    buf[n] = '\0';
    if (wlf_valid_account_name(buf, NULL) < 0)
        return -1;
    if (dot && (dot[1] != 'v' || wlf_valid_php_version(dot + 2, NULL) < 0))
        return -1;
    wlf_copy(name, name_len, buf);
    wlf_copy(version, version_len, dot ? dot + 2 : "");
    return 0;
}

int wlf_instance_key_fits(const wlf_config *cfg, const char *key)
{
    /* <dir>/KEY.a.sock and its NUL */
    return strlen(cfg->socket_dir) + 1 + strlen(key) + 7 + 1 <= WLF_SUN_PATH;
}

const char *wlf_path_socket(const wlf_config *cfg, const char *name,
                            char *buf, size_t len)
{
    return path(buf, len, "%s/%s.sock", cfg->socket_dir, name);
}

const char *wlf_path_slot_socket(const wlf_config *cfg, const char *name,
                                 char slot, char *buf, size_t len)
{
    return path(buf, len, "%s/%s.%c.sock", cfg->socket_dir, name, slot);
}

const char *wlf_path_slot_pid(const wlf_config *cfg, const char *name,
                              char slot, char *buf, size_t len)
{
    return path(buf, len, "%s/%s.%c.pid", cfg->socket_dir, name, slot);
}

const char *wlf_path_stopped(const wlf_config *cfg, const char *name,
                             char *buf, size_t len)
{
    return path(buf, len, "%s/%s.stopped", cfg->socket_dir, name);
}

const char *wlf_path_instance_dir(const wlf_config *cfg, const char *name,
                                  char slot, char *buf, size_t len)
{
    return path(buf, len, "%s/fpm/%s.%c", cfg->state_dir, name, slot);
}

const char *wlf_path_account_dir(const wlf_config *cfg, const char *name,
                                 char *buf, size_t len)
{
    return path(buf, len, "%s/accounts/%s", cfg->state_dir, name);
}

const char *wlf_path_fpm_log(const wlf_config *cfg, const char *name,
                             const char *version, char slot, char *buf,
                             size_t len)
{
    if (version == NULL || *version == '\0')
        return path(buf, len, "%s/%s/fpm.%c.log", cfg->log_dir, name, slot);
    return path(buf, len, "%s/%s/fpm.v%s.%c.log", cfg->log_dir, name,
                version, slot);
}

const char *wlf_path_routes(const wlf_config *cfg, const char *name,
                            char *buf, size_t len)
{
    return path(buf, len, "%s/%s.routes", cfg->socket_dir, name);
}

const char *wlf_path_route(const wlf_config *cfg, const char *name,
                           const char *domain, char *buf, size_t len)
{
    return path(buf, len, "%s/%s.routes/%s", cfg->socket_dir, name, domain);
}

int wlf_route_target_key(const char *name, const char *target, char *key,
                         size_t len)
{
    size_t n = strlen(target);
    char owner[WLF_NAME_MAX + 1], version[32];

    /* "../KEY.sock" */
    if (strncmp(target, "../", 3) != 0 || n <= 3 + 5 ||
        strcmp(target + n - 5, ".sock") != 0 || n - 8 >= len ||
        memchr(target + 3, '/', n - 3) != NULL)
        return -1;
    memcpy(key, target + 3, n - 8);
    key[n - 8] = '\0';
    if (wlf_instance_key_parse(key, owner, sizeof(owner), version,
                               sizeof(version)) < 0 ||
        strcmp(owner, name) != 0)
        return -1;
    return 0;
}

const char *wlf_path_log_dir(const wlf_config *cfg, const char *name,
                             char *buf, size_t len)
{
    return path(buf, len, "%s/%s", cfg->log_dir, name);
}

const char *wlf_path_account_file(const wlf_config *cfg, const char *name,
                                  char *buf, size_t len)
{
    return path(buf, len, "%s/%s.conf", cfg->accounts_dir, name);
}

const char *wlf_suspended_target(const char *name, char *buf, size_t len)
{
    snprintf(buf, len, "%s.suspended", name);
    return buf;
}

char wlf_link_state(const char *link_path)
{
    static const char suspended[] = ".suspended";
    char target[512];
    ssize_t n = readlink(link_path, target, sizeof(target) - 1);

    /* target is "NAME.a.sock" or "NAME.b.sock" (relative, same dir), or
     * "NAME.suspended" */
    if (n < 7)
        return 0;
    target[n] = '\0';
    if ((size_t)n > sizeof(suspended) - 1 &&
        strcmp(target + n - (sizeof(suspended) - 1), suspended) == 0)
        return WLF_LINK_SUSPENDED;
    if (strcmp(target + n - 5, ".sock") != 0 || target[n - 7] != '.')
        return 0;
    if (target[n - 6] == 'a' || target[n - 6] == 'b')
        return target[n - 6];
    return 0;
}

char wlf_slot_of_link(const char *link_path)
{
    char s = wlf_link_state(link_path);

    return s == 'a' || s == 'b' ? s : 0;
}
