/*
 * wlf_model.c - the global configuration and the accounts in memory.
 */
#include "wlf_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "wlf_paths.h"
#include "wlf_size.h"

/* ini settings an admin may set with php_admin.<key> unless wlfcgi.conf
 * lists its own. Limits that wlfcgi manages itself are not here. */
static const char *const builtin_php_admin_allowed[] = {
    "memory_limit", "max_input_time", "max_input_vars", "max_input_nesting_level",
    "display_errors", "display_startup_errors", "log_errors", "error_reporting",
    "html_errors", "date.timezone", "default_charset", "default_socket_timeout",
    "allow_url_fopen", "allow_url_include", "disable_functions",
    "disable_classes", "open_basedir", "short_open_tag", "output_buffering",
    "zlib.output_compression", "expose_php", "file_uploads", "max_file_uploads",
    "realpath_cache_size", "realpath_cache_ttl", "session.gc_maxlifetime",
    "session.cookie_secure", "session.cookie_httponly", "session.cookie_samesite",
    "session.use_strict_mode", "session.name", "mail.add_x_header",
    "sendmail_path", "user_ini.filename", "user_ini.cache_ttl",
    "auto_prepend_file", "auto_append_file", "include_path",
    "pcre.backtrack_limit", "pcre.recursion_limit", "pcre.jit",
    "opcache.enable", "opcache.jit", "opcache.jit_buffer_size",
    "opcache.file_update_protection", "opcache.save_comments",
};

#define N_BUILTIN_PHP_ADMIN (sizeof(builtin_php_admin_allowed) / \
                             sizeof(builtin_php_admin_allowed[0]))

/* ------------------------------------------------------------------ */
/* lists of strings                                                    */

void wlf_strlist_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

int wlf_strlist_push(char ***v, size_t *n, const char *s)
{
    char **nv = realloc(*v, (*n + 1) * sizeof(char *));

    if (nv == NULL)
        return -1;
    *v = nv;
    if ((nv[*n] = strdup(s)) == NULL)
        return -1;
    (*n)++;
    return 0;
}

int wlf_strdup_pair(const char *a, const char *b, char **ca, char **cb)
{
    *ca = strdup(a);
    *cb = strdup(b);
    if (*ca && *cb)
        return 0;
    free(*ca);
    free(*cb);
    *ca = *cb = NULL;
    return -1;
}

/* strdup that keeps NULL; *ok drops to 0 when a copy failed */
static char *copy_or_null(const char *s, int *ok)
{
    char *c;

    if (s == NULL)
        return NULL;
    if ((c = strdup(s)) == NULL)
        *ok = 0;
    return c;
}

/* ------------------------------------------------------------------ */
/* global configuration                                                */

const char *wlf_service_name(wlf_service service)
{
    return service == WLF_SERVICE_SYSTEMD ? "systemd" : "direct";
}

int wlf_service_parse(const char *name, wlf_service *service)
{
    if (strcmp(name, "direct") == 0)
        *service = WLF_SERVICE_DIRECT;
    else if (strcmp(name, "systemd") == 0)
        *service = WLF_SERVICE_SYSTEMD;
    else
        return -1;
    return 0;
}

void wlf_config_builtin(wlf_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->service = WLF_SERVICE_DIRECT;
    cfg->min_uid = 1000;
    cfg->lock_timeout = 10;
    cfg->start_timeout = 10;
    cfg->drain_time = 1000;
    cfg->upload_min_rate = 1 * WLF_MIB;
    wlf_settings_builtin(&cfg->defaults);
}

int wlf_config_builtin_limits(wlf_config *cfg, const char *prefix)
{
    size_t n = strlen(prefix) + sizeof("/etc/systemd/system");

    if (cfg->unit_dir == NULL) {
        if ((cfg->unit_dir = malloc(n)) == NULL)
            return -1;
        snprintf(cfg->unit_dir, n, "%s/etc/systemd/system", prefix);
    }
    if (cfg->cgroup_subtree == NULL &&
        (cfg->cgroup_subtree = strdup("wlfcgi")) == NULL)
        return -1;
    return 0;
}

void wlf_config_free(wlf_config *cfg)
{
    free(cfg->file);
    free(cfg->httpd_group);
    free(cfg->accounts_dir);
    free(cfg->socket_dir);
    free(cfg->state_dir);
    free(cfg->log_dir);
    free(cfg->unit_dir);
    free(cfg->cgroup_subtree);
    free(cfg->php_default);
    for (size_t i = 0; i < cfg->n_php_versions; i++) {
        free(cfg->php_versions[i].version);
        free(cfg->php_versions[i].fpm);
    }
    free(cfg->php_versions);
    wlf_strlist_free(cfg->php_admin_allowed, cfg->n_php_admin_allowed);
    wlf_settings_free(&cfg->defaults);
    memset(cfg, 0, sizeof(*cfg));
}

int wlf_config_add_php(wlf_config *cfg, const char *version, const char *fpm,
                       const char *where, wlf_err *err)
{
    wlf_php_version *nv, *v;

    if (wlf_valid_php_version(version, err) < 0 ||
        wlf_valid_abs_path(fpm, "php.versions", err) < 0)
        return -1;
    if (wlf_config_php(cfg, version))
        return wlf_fail(err, "php.versions", "%s: version %s is listed twice",
                        where, version);
    nv = realloc(cfg->php_versions,
                 (cfg->n_php_versions + 1) * sizeof(*nv));
    if (nv == NULL)
        return wlf_fail(err, "php.versions", "out of memory");
    cfg->php_versions = nv;
    v = &nv[cfg->n_php_versions];
    v->version = strdup(version);
    v->fpm = strdup(fpm);
    if (v->version == NULL || v->fpm == NULL) {
        free(v->version);
        free(v->fpm);
        return wlf_fail(err, "php.versions", "out of memory");
    }
    cfg->n_php_versions++;
    return 0;
}

const wlf_php_version *wlf_config_php(const wlf_config *cfg,
                                      const char *version)
{
    if (version == NULL)
        return NULL;
    for (size_t i = 0; i < cfg->n_php_versions; i++)
        if (strcmp(cfg->php_versions[i].version, version) == 0)
            return &cfg->php_versions[i];
    return NULL;
}

int wlf_config_allow_php_admin(wlf_config *cfg, const char *key,
                               wlf_err *err)
{
    if (wlf_strlist_push(&cfg->php_admin_allowed, &cfg->n_php_admin_allowed,
                         key) < 0)
        return wlf_fail(err, "php_admin_allowed", "out of memory");
    return 0;
}

int wlf_config_allow_builtin_php_admin(wlf_config *cfg, wlf_err *err)
{
    for (size_t i = 0; i < N_BUILTIN_PHP_ADMIN; i++)
        if (wlf_config_allow_php_admin(cfg, builtin_php_admin_allowed[i],
                                       err) < 0)
            return -1;
    return 0;
}

int wlf_config_php_admin_allowed(const wlf_config *cfg, const char *key)
{
    for (size_t i = 0; i < cfg->n_php_admin_allowed; i++)
        if (strcmp(cfg->php_admin_allowed[i], key) == 0)
            return 1;
    return 0;
}

/* prefix + path, malloc'd */
static char *prefixed(const char *prefix, const char *path)
{
    char *s;

    if (asprintf(&s, "%s%s", prefix, path) < 0)
        return NULL;
    return s;
}

int wlf_config_init_defaults(wlf_config *cfg, const char *prefix,
                             wlf_service service, const char *httpd_group,
                             wlf_err *err)
{
    static const char *const fpm_candidates[][2] = {
        { "8.2", "/usr/sbin/php-fpm8.2" },
        { "8.3", "/usr/sbin/php-fpm8.3" },
        { "8.1", "/usr/sbin/php-fpm8.1" },
        { "8.4", "/usr/sbin/php-fpm8.4" },
    };

    wlf_config_builtin(cfg);
    cfg->service = service;
    if (wlf_valid_unix_name(httpd_group, "httpd_group", err) < 0)
        return -1;
    cfg->httpd_group = strdup(httpd_group);
    cfg->accounts_dir = prefixed(prefix, "/etc/wlfcgi/accounts.d");
    cfg->socket_dir = prefixed(prefix, "/run/wlfcgi");
    cfg->state_dir = prefixed(prefix, "/var/lib/wlfcgi");
    cfg->log_dir = prefixed(prefix, "/var/log/wlfcgi");
    if (!cfg->httpd_group || !cfg->accounts_dir || !cfg->socket_dir ||
        !cfg->state_dir || !cfg->log_dir ||
        wlf_config_builtin_limits(cfg, prefix) < 0) {
        wlf_fail(err, "init", "out of memory");
        goto fail;
    }
    if (wlf_valid_abs_path(cfg->socket_dir, "prefix", err) < 0)
        goto fail;
    if (strlen(cfg->socket_dir) > WLF_SOCKET_DIR_MAX) {
        wlf_fail(err, "prefix", "'%s' is too long: socket paths must fit in "
                 "108 bytes", prefix);
        goto fail;
    }
    /* Debian installs php-fpmX.Y; RHEL has a single /usr/sbin/php-fpm. */
    for (size_t i = 0; i < sizeof(fpm_candidates) / sizeof(fpm_candidates[0]);
         i++) {
        if (access(fpm_candidates[i][1], X_OK) == 0 &&
            wlf_config_add_php(cfg, fpm_candidates[i][0],
                               fpm_candidates[i][1], "init", err) < 0)
            goto fail;
    }
    if (cfg->n_php_versions == 0 &&
        wlf_config_add_php(cfg, "system", "/usr/sbin/php-fpm", "init",
                           err) < 0)
        goto fail;
    if ((cfg->php_default = strdup(cfg->php_versions[0].version)) == NULL) {
        wlf_fail(err, "init", "out of memory");
        goto fail;
    }
    if (wlf_setting_parse(&cfg->defaults, WLF_S_PHP, cfg->php_default,
                          err) < 0 ||
        wlf_config_allow_builtin_php_admin(cfg, err) < 0)
        goto fail;
    return 0;
fail:
    wlf_config_free(cfg);
    return -1;
}

/* ------------------------------------------------------------------ */
/* accounts                                                            */

void wlf_account_init(wlf_account *acct)
{
    memset(acct, 0, sizeof(*acct));
}

void wlf_account_free(wlf_account *acct)
{
    free(acct->user);
    free(acct->group);
    free(acct->home);
    wlf_strlist_free(acct->domains, acct->n_domains);
    wlf_settings_free(&acct->settings);
    for (size_t i = 0; i < acct->n_php_admin; i++) {
        free(acct->php_admin[i].key);
        free(acct->php_admin[i].value);
    }
    free(acct->php_admin);
    memset(acct, 0, sizeof(*acct));
}

int wlf_account_copy(wlf_account *dst, const wlf_account *src)
{
    int ok = 1;

    wlf_account_init(dst);
    memcpy(dst->name, src->name, sizeof(dst->name));
    dst->user = copy_or_null(src->user, &ok);
    dst->group = copy_or_null(src->group, &ok);
    dst->home = copy_or_null(src->home, &ok);
    if (!ok || wlf_settings_copy(&dst->settings, &src->settings) < 0)
        goto oom;
    for (size_t i = 0; i < src->n_domains; i++)
        if (wlf_strlist_push(&dst->domains, &dst->n_domains,
                             src->domains[i]) < 0)
            goto oom;
    for (size_t i = 0; i < src->n_php_admin; i++)
        if (wlf_account_set_php_admin(dst, src->php_admin[i].key,
                                      src->php_admin[i].value) < 0)
            goto oom;
    return 0;
oom:
    wlf_account_free(dst);
    return -1;
}

int wlf_account_add_domain(wlf_account *acct, const char *domain,
                           wlf_err *err)
{
    char d[WLF_DOMAIN_MAX + 2];

    if (strlen(domain) > WLF_DOMAIN_MAX)
        return wlf_valid_domain(domain, err);
    snprintf(d, sizeof(d), "%s", domain);
    wlf_domain_lower(d);
    if (wlf_valid_domain(d, err) < 0)
        return -1;
    for (size_t i = 0; i < acct->n_domains; i++)
        if (strcmp(acct->domains[i], d) == 0)
            return wlf_fail(err, "domain", "'%s' is listed twice", d);
    if (acct->n_domains >= 1000)
        return wlf_fail(err, "domain", "more than 1000 domains");
    if (wlf_strlist_push(&acct->domains, &acct->n_domains, d) < 0)
        return wlf_fail(err, "domain", "out of memory");
    return 0;
}

int wlf_account_set_php_admin(wlf_account *acct, const char *key,
                              const char *value)
{
    wlf_php_admin *n;
    char *k, *v;

    for (size_t i = 0; i < acct->n_php_admin; i++) {
        if (strcmp(acct->php_admin[i].key, key) != 0)
            continue;
        if (value == NULL) {
            free(acct->php_admin[i].key);
            free(acct->php_admin[i].value);
            memmove(&acct->php_admin[i], &acct->php_admin[i + 1],
                    (acct->n_php_admin - i - 1) * sizeof(wlf_php_admin));
            acct->n_php_admin--;
            return 0;
        }
        if ((v = strdup(value)) == NULL)
            return -1;
        free(acct->php_admin[i].value);
        acct->php_admin[i].value = v;
        return 0;
    }
    if (value == NULL)
        return 0;
    n = realloc(acct->php_admin, (acct->n_php_admin + 1) * sizeof(*n));
    if (n == NULL)
        return -1;
    acct->php_admin = n;
    if (wlf_strdup_pair(key, value, &k, &v) < 0)
        return -1;
    n[acct->n_php_admin].key = k;
    n[acct->n_php_admin].value = v;
    acct->n_php_admin++;
    return 0;
}

int wlf_valid_home(const char *home, wlf_err *err)
{
    if (home == NULL)
        return wlf_fail(err, "home", "missing");
    if (wlf_valid_abs_path(home, "home", err) < 0)
        return -1;
    if (strcmp(home, "/") == 0)
        return wlf_fail(err, "home", "may not be /");
    /* ':' separates open_basedir entries: it would widen the account's */
    if (strchr(home, ':'))
        return wlf_fail(err, "home", "'%.40s' may not contain ':'", home);
    return 0;
}

int wlf_account_check(const wlf_config *cfg, const wlf_account *acct,
                      wlf_err *err)
{
    wlf_settings eff;
    long long need;

    if (wlf_account_effective(cfg, acct, &eff) < 0)
        return wlf_fail(err, "settings", "out of memory");
    /* the master and max_children workers must fit */
    need = eff.num[WLF_S_MAX_CHILDREN] + 2;
    if (eff.num[WLF_S_TASKS] != 0 && eff.num[WLF_S_TASKS] < need) {
        wlf_settings_free(&eff);
        return wlf_fail(err, "tasks", "must be 0 (no limit) or at least "
                        "max_children + 2 = %lld (the master, the workers "
                        "and one to spare)", need);
    }
    wlf_settings_free(&eff);
    if (wlf_valid_account_name(acct->name, err) < 0)
        return -1;
    if (acct->user == NULL)
        return wlf_fail(err, "user", "missing");
    if (wlf_valid_unix_name(acct->user, "user", err) < 0)
        return -1;
    if (acct->group == NULL)
        return wlf_fail(err, "group", "missing");
    if (wlf_valid_unix_name(acct->group, "group", err) < 0)
        return -1;
    if (wlf_valid_home(acct->home, err) < 0)
        return -1;
    for (size_t i = 0; i < acct->n_domains; i++) {
        if (wlf_valid_domain(acct->domains[i], err) < 0)
            return -1;
        for (size_t j = 0; j < i; j++)
            if (strcmp(acct->domains[i], acct->domains[j]) == 0)
                return wlf_fail(err, "domain", "'%s' is listed twice",
                                acct->domains[i]);
    }
    if (acct->settings.is_set[WLF_S_PHP] &&
        wlf_config_php(cfg, acct->settings.str[WLF_S_PHP]) == NULL)
        return wlf_fail(err, "php", "unknown PHP version '%s' (wlfcgi.conf "
                        "lists the available ones)",
                        acct->settings.str[WLF_S_PHP]);
    for (size_t i = 0; i < acct->n_php_admin; i++) {
        char field[96];
        snprintf(field, sizeof(field), "php_admin.%.64s",
                 acct->php_admin[i].key);
        if (wlf_valid_ini_key(acct->php_admin[i].key, field, err) < 0 ||
            wlf_valid_ini_value(acct->php_admin[i].value, field, err) < 0)
            return -1;
        if (!wlf_config_php_admin_allowed(cfg, acct->php_admin[i].key))
            return wlf_fail(err, field, "not in php_admin_allowed of "
                            "wlfcgi.conf");
    }
    return 0;
}

int wlf_account_effective(const wlf_config *cfg, const wlf_account *acct,
                          wlf_settings *out)
{
    return wlf_settings_effective(&cfg->defaults, &acct->settings, out);
}

/* ------------------------------------------------------------------ */
/* the account list                                                    */

void wlf_account_list_free(wlf_account_list *list)
{
    for (size_t i = 0; i < list->n; i++)
        wlf_account_free(&list->items[i]);
    free(list->items);
    for (size_t i = 0; i < list->n_skipped; i++)
        wlf_account_free(&list->skipped[i]);
    free(list->skipped);
    for (size_t i = 0; i < list->n_errors; i++) {
        free(list->errors[i].file);
        free(list->errors[i].msg);
    }
    free(list->errors);
    memset(list, 0, sizeof(*list));
}

const wlf_account *wlf_accounts_find(const wlf_account_list *list,
                                     const char *name)
{
    for (size_t i = 0; i < list->n; i++)
        if (strcmp(list->items[i].name, name) == 0)
            return &list->items[i];
    return NULL;
}

const wlf_account *wlf_accounts_find_domain(const wlf_account_list *list,
                                            const char *domain)
{
    for (size_t i = 0; i < list->n; i++)
        for (size_t d = 0; d < list->items[i].n_domains; d++)
            if (strcasecmp(list->items[i].domains[d], domain) == 0)
                return &list->items[i];
    return NULL;
}

const wlf_account *wlf_accounts_match_host(const wlf_account_list *list,
                                           const char *host)
{
    const wlf_account *wild = NULL;
    size_t wild_len = 0;

    for (size_t i = 0; i < list->n; i++) {
        for (size_t d = 0; d < list->items[i].n_domains; d++) {
            const char *p = list->items[i].domains[d];
            if (p[0] != '*') {
                if (strcasecmp(p, host) == 0)
                    return &list->items[i];
            }
            /* the longest wildcard wins: *.a.example over *.example */
            else if (wlf_domain_matches(p, host) && strlen(p) > wild_len) {
                wild = &list->items[i];
                wild_len = strlen(p);
            }
        }
    }
    return wild;
}
