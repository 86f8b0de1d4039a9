/*
 * wlf_paths.c - derived paths.
 */
#include "wlf_paths.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

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
