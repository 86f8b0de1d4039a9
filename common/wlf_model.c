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

/* ini settings an admin may set with php_value.<key> unless wlfcgi.conf
 * lists its own: defaults a customer's .user.ini may change (their PHP
 * modes are PHP_INI_PERDIR or PHP_INI_ALL), nothing that confines. */
static const char *const builtin_php_value_allowed[] = {
    "memory_limit", "max_input_time", "max_input_vars",
    "max_input_nesting_level", "display_errors", "display_startup_errors",
    "log_errors", "error_reporting", "html_errors", "date.timezone",
    "default_charset", "default_socket_timeout", "short_open_tag",
    "output_buffering", "zlib.output_compression", "max_file_uploads",
    "session.gc_maxlifetime", "session.cookie_secure",
    "session.cookie_httponly", "session.cookie_samesite",
    "session.use_strict_mode", "session.name", "include_path",
    "auto_prepend_file", "auto_append_file", "pcre.backtrack_limit",
    "pcre.recursion_limit", "mbstring.language",
    "mbstring.internal_encoding", "precision", "serialize_precision",
};

#define N_BUILTIN_PHP_VALUE (sizeof(builtin_php_value_allowed) / \
                             sizeof(builtin_php_value_allowed[0]))

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
    cfg->max_running = 500;
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
    wlf_strlist_free(cfg->php_value_allowed, cfg->n_php_value_allowed);
    wlf_strlist_free(cfg->extensions_allowed, cfg->n_extensions_allowed);
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
        free(cfg->php_versions[i].cli);
    }
    free(cfg->php_versions);
    wlf_strlist_free(cfg->php_admin_allowed, cfg->n_php_admin_allowed);
    wlf_settings_free(&cfg->defaults);
    memset(cfg, 0, sizeof(*cfg));
}

/* .../sbin/php-fpm8.2 -> .../bin/php8.2; .../sbin/php-fpm -> .../bin/php
 * (Debian, Fedora, RHEL and Remi lay them out so) */
static char *cli_next_to(const char *fpm)
{
    const char *base = strrchr(fpm, '/');   /* fpm is an absolute path */
    const char *version = strncmp(base + 1, "php-fpm", 7) == 0 ? base + 8
                                                                : "";
    int dir = (int)(base - fpm);
    int sbin = dir >= 5 && strncmp(base - 5, "/sbin", 5) == 0;
    char *out;

    if (asprintf(&out, "%.*s%s/php%s", sbin ? dir - 5 : dir, fpm,
                 sbin ? "/bin" : "", version) < 0)
        return NULL;
    return out;
}

int wlf_config_set_php_cli(wlf_config *cfg, const char *version,
                           const char *cli, wlf_err *err)
{
    wlf_php_version *v = (wlf_php_version *)wlf_config_php(cfg, version);
    char *c;

    if (v == NULL)
        return wlf_fail(err, "php.versions", "unknown version '%s'",
                        version);
    if (wlf_valid_abs_path(cli, "php.versions", err) < 0)
        return -1;
    if ((c = strdup(cli)) == NULL)
        return wlf_fail(err, "php.versions", "out of memory");
    free(v->cli);
    v->cli = c;
    return 0;
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
    if (cfg->n_php_versions >= WLF_MAX_PHP_VERSIONS)
        return wlf_fail(err, "php.versions", "%s: more than %d versions",
                        where, WLF_MAX_PHP_VERSIONS);
    nv = realloc(cfg->php_versions,
                 (cfg->n_php_versions + 1) * sizeof(*nv));
    if (nv == NULL)
        return wlf_fail(err, "php.versions", "out of memory");
    cfg->php_versions = nv;
    v = &nv[cfg->n_php_versions];
    v->version = strdup(version);
    v->fpm = strdup(fpm);
    v->cli = cli_next_to(fpm);
    if (v->version == NULL || v->fpm == NULL || v->cli == NULL) {
        free(v->version);
        free(v->fpm);
        free(v->cli);
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

int wlf_config_allow_php_value(wlf_config *cfg, const char *key,
                               wlf_err *err)
{
    if (wlf_strlist_push(&cfg->php_value_allowed, &cfg->n_php_value_allowed,
                         key) < 0)
        return wlf_fail(err, "php_value_allowed", "out of memory");
    return 0;
}

int wlf_config_allow_builtin_php_value(wlf_config *cfg, wlf_err *err)
{
    for (size_t i = 0; i < N_BUILTIN_PHP_VALUE; i++)
        if (wlf_config_allow_php_value(cfg, builtin_php_value_allowed[i],
                                       err) < 0)
            return -1;
    return 0;
}

int wlf_config_php_value_allowed(const wlf_config *cfg, const char *key)
{
    for (size_t i = 0; i < cfg->n_php_value_allowed; i++)
        if (strcmp(cfg->php_value_allowed[i], key) == 0)
            return 1;
    return 0;
}

int wlf_config_allow_extension(wlf_config *cfg, const char *entry,
                               wlf_err *err)
{
    const char *name = strncmp(entry, "zend:", 5) == 0 ? entry + 5 : entry;

    if (wlf_valid_extension_name(name, "extensions_allowed", err) < 0)
        return -1;
    if (wlf_config_extension(cfg, name))
        return wlf_fail(err, "extensions_allowed", "'%s' is listed twice",
                        name);
    if (wlf_strlist_push(&cfg->extensions_allowed,
                         &cfg->n_extensions_allowed, entry) < 0)
        return wlf_fail(err, "extensions_allowed", "out of memory");
    return 0;
}

const char *wlf_config_extension(const wlf_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n_extensions_allowed; i++) {
        const char *e = cfg->extensions_allowed[i];
        if (strcmp(strncmp(e, "zend:", 5) == 0 ? e + 5 : e, name) == 0)
            return e;
    }
    return NULL;
}

const char *wlf_ini_key_managed(const char *key)
{
    static const struct {
        const char *key;
        const char *why;
    } managed[] = {
        { "post_max_size", "wlfcgi sends it with every request: set "
          "max_upload, or WLFcgiMaxUpload for a location" },
        { "upload_max_filesize", "wlfcgi sends it with every request: set "
          "max_upload, or WLFcgiMaxUpload for a location" },
        { "max_execution_time", "set max_execution_time" },
        { "upload_tmp_dir", "wlfcgi points it at the account's own "
          "directory" },
        { "sys_temp_dir", "wlfcgi points it at the account's own "
          "directory" },
        { "session.save_path", "wlfcgi points it at the account's own "
          "directory" },
        { "error_log", "wlfcgi writes PHP's errors to the account's "
          "php-error.log" },
        { "extension", "set extensions= (from extensions_allowed)" },
        { "zend_extension", "set extensions= (from extensions_allowed)" },
        { "extension_dir", "the version's php-fpm has its own" },
        { "opcache.memory_consumption", "set opcache_memory" },
        { "opcache.interned_strings_buffer", "set "
          "opcache_interned_strings" },
        { "opcache.max_accelerated_files", "set opcache_max_files" },
        { "opcache.validate_timestamps", "set "
          "opcache_validate_timestamps" },
        { "opcache.revalidate_freq", "set opcache_revalidate_freq" },
        { "apc.shm_size", "set apcu_memory" },
    };

    for (size_t i = 0; i < sizeof(managed) / sizeof(managed[0]); i++)
        if (strcmp(managed[i].key, key) == 0)
            return managed[i].why;
    return NULL;
}

int wlf_ini_key_startup(const char *key)
{
    static const char *const startup[] = {
        "opcache.jit_buffer_size", "opcache.preload", "opcache.preload_user",
        "opcache.huge_code_pages", "opcache.file_cache",
        "opcache.file_cache_only", "opcache.file_cache_consistency_checks",
        "opcache.lockfile_path", "opcache.max_wasted_percentage",
        "opcache.force_restart_timeout", "opcache.log_verbosity_level",
        "opcache.error_log", "apc.shm_segments", "apc.entries_hint",
        "apc.gc_ttl", "apc.serializer", "apc.preload_path",
        "apc.mmap_file_mask", "apc.slam_defense",
    };

    for (size_t i = 0; i < sizeof(startup) / sizeof(startup[0]); i++)
        if (strcmp(startup[i], key) == 0)
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
        wlf_config_allow_builtin_php_admin(cfg, err) < 0 ||
        wlf_config_allow_builtin_php_value(cfg, err) < 0)
        goto fail;
    /* a systemd host holds idle accounts' sockets in socket units, at no
     * cost: there an account's master starts with its first request */
    if (service == WLF_SERVICE_SYSTEMD)
        cfg->defaults.num[WLF_S_ACTIVATION] = WLF_ACTIVATION_ON_DEMAND;
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

static void pairs_free(wlf_php_admin *v, size_t n);

void wlf_account_free(wlf_account *acct)
{
    free(acct->user);
    free(acct->group);
    free(acct->home);
    wlf_strlist_free(acct->domains, acct->n_domains);
    wlf_settings_free(&acct->settings);
    pairs_free(acct->php_admin, acct->n_php_admin);
    pairs_free(acct->php_value, acct->n_php_value);
    pairs_free(acct->env, acct->n_env);
    wlf_strlist_free(acct->extensions, acct->n_extensions);
    wlf_strlist_free(acct->script_exts, acct->n_script_exts);
    free(acct->suspended_since);
    free(acct->suspended_reason);
    for (size_t i = 0; i < acct->n_domain_php; i++) {
        free(acct->domain_php[i].domain);
        free(acct->domain_php[i].php);
    }
    free(acct->domain_php);
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
    dst->suspended = src->suspended;
    dst->suspended_since = copy_or_null(src->suspended_since, &ok);
    dst->suspended_reason = copy_or_null(src->suspended_reason, &ok);
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
    for (size_t i = 0; i < src->n_domain_php; i++)
        if (wlf_account_set_domain_php(dst, src->domain_php[i].domain,
                                       src->domain_php[i].php) < 0)
            goto oom;
    for (size_t i = 0; i < src->n_php_value; i++)
        if (wlf_account_set_php_value(dst, src->php_value[i].key,
                                      src->php_value[i].value) < 0)
            goto oom;
    for (size_t i = 0; i < src->n_env; i++)
        if (wlf_account_set_env(dst, src->env[i].key,
                                src->env[i].value) < 0)
            goto oom;
    for (size_t i = 0; i < src->n_extensions; i++)
        if (wlf_strlist_push(&dst->extensions, &dst->n_extensions,
                             src->extensions[i]) < 0)
            goto oom;
    for (size_t i = 0; i < src->n_script_exts; i++)
        if (wlf_strlist_push(&dst->script_exts, &dst->n_script_exts,
                             src->script_exts[i]) < 0)
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

/* Set, replace or (value NULL) remove KEY in a list of pairs */
static int pairs_set(wlf_php_admin **list, size_t *count, const char *key,
                     const char *value)
{
    wlf_php_admin *v = *list, *n;
    char *k, *val;

    for (size_t i = 0; i < *count; i++) {
        if (strcmp(v[i].key, key) != 0)
            continue;
        if (value == NULL) {
            free(v[i].key);
            free(v[i].value);
            memmove(&v[i], &v[i + 1], (*count - i - 1) * sizeof(*v));
            (*count)--;
            return 0;
        }
        if ((val = strdup(value)) == NULL)
            return -1;
        free(v[i].value);
        v[i].value = val;
        return 0;
    }
    if (value == NULL)
        return 0;
    if ((n = realloc(v, (*count + 1) * sizeof(*n))) == NULL)
        return -1;
    *list = n;
    if (wlf_strdup_pair(key, value, &k, &val) < 0)
        return -1;
    n[*count].key = k;
    n[*count].value = val;
    (*count)++;
    return 0;
}

int wlf_account_set_domain_php(wlf_account *acct, const char *domain,
                               const char *php)
{
    char d[WLF_DOMAIN_MAX + 2];
    wlf_domain_php *n;
    char *k, *v;

    snprintf(d, sizeof(d), "%s", domain);
    wlf_domain_lower(d);
    for (size_t i = 0; i < acct->n_domain_php; i++) {
        if (strcmp(acct->domain_php[i].domain, d) != 0)
            continue;
        if (php == NULL) {
            free(acct->domain_php[i].domain);
            free(acct->domain_php[i].php);
            memmove(&acct->domain_php[i], &acct->domain_php[i + 1],
                    (acct->n_domain_php - i - 1) * sizeof(*n));
            acct->n_domain_php--;
            return 0;
        }
        if ((v = strdup(php)) == NULL)
            return -1;
        free(acct->domain_php[i].php);
        acct->domain_php[i].php = v;
        return 0;
    }
    if (php == NULL)
        return 0;
    n = realloc(acct->domain_php, (acct->n_domain_php + 1) * sizeof(*n));
    if (n == NULL)
        return -1;
    acct->domain_php = n;
    if (wlf_strdup_pair(d, php, &k, &v) < 0)
        return -1;
    n[acct->n_domain_php].domain = k;
    n[acct->n_domain_php].php = v;
    acct->n_domain_php++;
    return 0;
}

const char *wlf_account_domain_php(const wlf_account *acct,
                                   const char *domain)
{
    for (size_t i = 0; i < acct->n_domain_php; i++)
        if (strcasecmp(acct->domain_php[i].domain, domain) == 0)
            return acct->domain_php[i].php;
    return NULL;
}

static int has_domain(const wlf_account *acct, const char *domain)
{
    for (size_t i = 0; i < acct->n_domains; i++)
        if (strcmp(acct->domains[i], domain) == 0)
            return 1;
    return 0;
}

size_t wlf_account_prune_domain_php(wlf_account *acct)
{
    size_t gone = 0;

    for (size_t i = 0; i < acct->n_domain_php;) {
        if (has_domain(acct, acct->domain_php[i].domain)) {
            i++;
            continue;
        }
        /* removing a pin never allocates */
        (void)wlf_account_set_domain_php(acct, acct->domain_php[i].domain,
                                         NULL);
        gone++;
    }
    return gone;
}

const char *wlf_account_php(const wlf_config *cfg, const wlf_account *acct)
{
    if (acct->settings.is_set[WLF_S_PHP] && acct->settings.str[WLF_S_PHP])
        return acct->settings.str[WLF_S_PHP];
    if (cfg->defaults.is_set[WLF_S_PHP] && cfg->defaults.str[WLF_S_PHP])
        return cfg->defaults.str[WLF_S_PHP];
    return cfg->php_default;
}

int wlf_account_domain_for_host(const wlf_account *acct, const char *host)
{
    int wild = -1;
    size_t wild_len = 0;

    for (size_t d = 0; d < acct->n_domains; d++) {
        const char *p = acct->domains[d];
        if (p[0] != '*') {
            if (strcasecmp(p, host) == 0)
                return (int)d;
        }
        else if (wlf_domain_matches(p, host) && strlen(p) > wild_len) {
            wild = (int)d;
            wild_len = strlen(p);
        }
    }
    return wild;
}

size_t wlf_account_instances(const wlf_config *cfg, const wlf_account *acct,
                             wlf_instance *out)
{
    const char *own = wlf_account_php(cfg, acct);
    size_t n = 1;

    memset(out, 0, sizeof(*out));
    out[0].version = own;
    out[0].primary = 1;
    wlf_instance_key(acct->name, NULL, out[0].key, sizeof(out[0].key));
    for (size_t v = 0; v < cfg->n_php_versions; v++) {
        const char *ver = cfg->php_versions[v].version;
        int used = 0;
        if (own && strcmp(ver, own) == 0)
            continue;
        for (size_t i = 0; i < acct->n_domain_php && !used; i++)
            used = strcmp(acct->domain_php[i].php, ver) == 0;
        if (!used)
            continue;
        memset(&out[n], 0, sizeof(out[n]));
        out[n].version = ver;
        wlf_instance_key(acct->name, ver, out[n].key, sizeof(out[n].key));
        n++;
    }
    return n;
}

const wlf_instance *wlf_instance_for_domain(const wlf_config *cfg,
                                            const wlf_account *acct,
                                            const wlf_instance *inst,
                                            size_t n, const char *domain)
{
    const char *pin = wlf_account_domain_php(acct, domain);

    (void)cfg;
    for (size_t i = 1; pin && i < n; i++)
        if (strcmp(inst[i].version, pin) == 0)
            return &inst[i];
    return &inst[0];
}

static void pairs_free(wlf_php_admin *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(v[i].key);
        free(v[i].value);
    }
    free(v);
}

const char *wlf_pairs_get(const wlf_php_admin *v, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].key, key) == 0)
            return v[i].value;
    return NULL;
}

int wlf_account_set_php_admin(wlf_account *acct, const char *key,
                              const char *value)
{
    return pairs_set(&acct->php_admin, &acct->n_php_admin, key, value);
}

int wlf_account_set_php_value(wlf_account *acct, const char *key,
                              const char *value)
{
    return pairs_set(&acct->php_value, &acct->n_php_value, key, value);
}

int wlf_account_set_env(wlf_account *acct, const char *name,
                        const char *value)
{
    return pairs_set(&acct->env, &acct->n_env, name, value);
}

const char *const *wlf_account_script_exts(const wlf_account *acct,
                                           size_t *n)
{
    static const char *const php[] = { ".php", NULL };

    if (acct->n_script_exts == 0) {
        *n = 1;
        return php;
    }
    *n = acct->n_script_exts;
    return (const char *const *)acct->script_exts;
}

int wlf_account_add_script_ext(wlf_account *acct, const char *ext,
                               wlf_err *err)
{
    size_t len = strlen(ext);

    if (len < 2 || len > 16 || ext[0] != '.')
        return wlf_fail(err, "script_extensions", "'%.20s' is not an "
                        "extension like .php", ext);
    for (size_t i = 1; i < len; i++)
        if (!((ext[i] >= 'a' && ext[i] <= 'z') ||
              (ext[i] >= '0' && ext[i] <= '9') || ext[i] == '_' ||
              ext[i] == '-'))
            return wlf_fail(err, "script_extensions", "'%.20s' is not an "
                            "extension like .php (lower case)", ext);
    for (size_t i = 0; i < acct->n_script_exts; i++)
        if (strcmp(acct->script_exts[i], ext) == 0)
            return wlf_fail(err, "script_extensions", "'%s' is listed "
                            "twice", ext);
    if (acct->n_script_exts >= 16)
        return wlf_fail(err, "script_extensions", "more than 16");
    if (wlf_strlist_push(&acct->script_exts, &acct->n_script_exts, ext) < 0)
        return wlf_fail(err, "script_extensions", "out of memory");
    return 0;
}

int wlf_account_is_suspended(const wlf_account *acct)
{
    return acct->suspended != 0;
}

int wlf_account_suspend(wlf_account *acct, const char *since,
                        const char *reason, wlf_err *err)
{
    char *s, *r;

    if (wlf_valid_text(since, "suspended.since", 32, err) < 0 ||
        wlf_valid_text(reason, "suspended.reason", WLF_REASON_MAX, err) < 0)
        return -1;
    s = strdup(since);
    r = strdup(reason);
    if (s == NULL || r == NULL) {
        free(s);
        free(r);
        return wlf_fail(err, "suspended", "out of memory");
    }
    wlf_account_resume(acct);
    acct->suspended = 1;
    acct->suspended_since = s;
    acct->suspended_reason = r;
    return 0;
}

void wlf_account_resume(wlf_account *acct)
{
    free(acct->suspended_since);
    free(acct->suspended_reason);
    acct->suspended_since = NULL;
    acct->suspended_reason = NULL;
    acct->suspended = 0;
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
    if (acct->suspended &&
        (wlf_valid_text(acct->suspended_since, "suspended.since", 32,
                        err) < 0 ||
         wlf_valid_text(acct->suspended_reason, "suspended.reason",
                        WLF_REASON_MAX, err) < 0))
        return -1;
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
    for (size_t i = 0; i < acct->n_domain_php; i++) {
        const wlf_domain_php *p = &acct->domain_php[i];
        char field[WLF_DOMAIN_MAX + 8], key[WLF_NAME_MAX + 3 +
                                            WLF_VERSION_MAX];
        snprintf(field, sizeof(field), "php@%s", p->domain);
        if (!has_domain(acct, p->domain))
            return wlf_fail(err, field, "'%s' is not one of the account's "
                            "domains", p->domain);
        if (wlf_config_php(cfg, p->php) == NULL)
            return wlf_fail(err, field, "unknown PHP version '%.20s' "
                            "(wlfcgi.conf lists the available ones)",
                            p->php);
        for (size_t j = 0; j < i; j++)
            if (strcmp(acct->domain_php[j].domain, p->domain) == 0)
                return wlf_fail(err, field, "set twice");
        wlf_instance_key(acct->name, p->php, key, sizeof(key));
        if (strcmp(p->php, wlf_account_php(cfg, acct) ?
                   wlf_account_php(cfg, acct) : "") != 0 &&
            !wlf_instance_key_fits(cfg, key))
            return wlf_fail(err, field, "the socket of instance %s would "
                            "not fit in the 108 bytes of a socket path "
                            "(a shorter version label or socket directory "
                            "would)", key);
    }
    for (size_t i = 0; i < acct->n_php_value; i++) {
        char field[96];
        snprintf(field, sizeof(field), "php_value.%.64s",
                 acct->php_value[i].key);
        if (wlf_valid_ini_key(acct->php_value[i].key, field, err) < 0 ||
            wlf_valid_ini_value(acct->php_value[i].value, field, err) < 0)
            return -1;
        if (!wlf_config_php_value_allowed(cfg, acct->php_value[i].key))
            return wlf_fail(err, field, "not in php_value_allowed of "
                            "wlfcgi.conf");
    }
    for (size_t i = 0; i < acct->n_env; i++) {
        char field[96];
        snprintf(field, sizeof(field), "env.%.64s", acct->env[i].key);
        if (wlf_valid_env_name(acct->env[i].key, field, err) < 0 ||
            wlf_valid_ini_value(acct->env[i].value, field, err) < 0)
            return -1;
    }
    for (size_t i = 0; i < acct->n_extensions; i++) {
        if (wlf_valid_extension_name(acct->extensions[i], "extensions",
                                     err) < 0)
            return -1;
        if (wlf_config_extension(cfg, acct->extensions[i]) == NULL)
            return wlf_fail(err, "extensions", "'%s' is not in "
                            "extensions_allowed of wlfcgi.conf",
                            acct->extensions[i]);
        for (size_t j = 0; j < i; j++)
            if (strcmp(acct->extensions[i], acct->extensions[j]) == 0)
                return wlf_fail(err, "extensions", "'%s' is listed twice",
                                acct->extensions[i]);
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

/*
 * The account index: open-addressing hash tables from name and from
 * (lower-case) exact domain to an item's position, plus the wildcard
 * patterns, so that the module maps 10,000 vhosts against 10,000 accounts
 * and the loader finds domain clashes without comparing every pair.
 */
typedef struct {
    const char *key;            /* a domain: the item's own string (they
                                   stay put); a name: a copy (the names
                                   live in the items, which move) */
    size_t item;
} wlf_ix_slot;

typedef struct {
    wlf_ix_slot *slots;
    size_t cap, used;           /* cap: a power of two */
} wlf_ix_table;

struct wlf_account_index {
    size_t n_items;             /* list->n it describes */
    wlf_ix_table names, domains;
    wlf_ix_slot *wild;          /* "*.example.com" patterns */
    size_t n_wild;
};

static size_t ix_hash(const char *s, int fold)
{
    size_t h = 14695981039346656037ULL;

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (fold && c >= 'A' && c <= 'Z')
            c = (unsigned char)(c - 'A' + 'a');
        h = (h ^ c) * 1099511628211ULL;
    }
    return h;
}

static int ix_equal(const char *a, const char *b, int fold)
{
    return fold ? strcasecmp(a, b) == 0 : strcmp(a, b) == 0;
}

/* The item of key, or (size_t)-1. */
static size_t ix_get(const wlf_ix_table *t, const char *key, int fold)
{
    if (t->cap == 0)
        return (size_t)-1;
    for (size_t i = ix_hash(key, fold) & (t->cap - 1);; i = (i + 1) &
         (t->cap - 1)) {
        if (t->slots[i].key == NULL)
            return (size_t)-1;
        if (ix_equal(t->slots[i].key, key, fold))
            return t->slots[i].item;
    }
}

static int ix_put(wlf_ix_table *t, const char *key, size_t item, int fold)
{
    size_t i;

    if ((t->used + 1) * 2 > t->cap) {
        wlf_ix_table bigger = { NULL, t->cap ? t->cap * 2 : 64, 0 };
        if ((bigger.slots = calloc(bigger.cap, sizeof(wlf_ix_slot))) == NULL)
            return -1;
        for (size_t k = 0; k < t->cap; k++)
            if (t->slots[k].key)
                ix_put(&bigger, t->slots[k].key, t->slots[k].item, fold);
        free(t->slots);
        *t = bigger;
    }
    for (i = ix_hash(key, fold) & (t->cap - 1); t->slots[i].key;
         i = (i + 1) & (t->cap - 1))
        if (ix_equal(t->slots[i].key, key, fold))
            return 0;           /* the first one keeps it */
    t->slots[i].key = key;
    t->slots[i].item = item;
    t->used++;
    return 0;
}

static void index_free(struct wlf_account_index *ix)
{
    if (ix == NULL)
        return;
    for (size_t i = 0; i < ix->names.cap; i++)
        free((char *)ix->names.slots[i].key);
    free(ix->names.slots);
    free(ix->domains.slots);
    free(ix->wild);
    free(ix);
}

int wlf_account_index_add(wlf_account_list *list)
{
    struct wlf_account_index *ix = list->index;
    const wlf_account *a;
    size_t item;

    if (list->n == 0)
        return 0;
    item = list->n - 1;
    a = &list->items[item];
    if (ix == NULL) {
        if (item != 0 || (ix = calloc(1, sizeof(*ix))) == NULL)
            return item == 0 ? -1 : 0;   /* no index: lookups scan */
        list->index = ix;
    }
    if (ix->n_items != item)
        goto fail;              /* the list changed behind the index */
    {
        char *name = strdup(a->name);
        if (name == NULL || ix_get(&ix->names, name, 0) != (size_t)-1 ||
            ix_put(&ix->names, name, item, 0) < 0) {
            free(name);
            goto fail;
        }
    }
    for (size_t d = 0; d < a->n_domains; d++) {
        const char *p = a->domains[d];
        if (p[0] == '*') {
            wlf_ix_slot *nw = realloc(ix->wild, (ix->n_wild + 1) *
                                                sizeof(*nw));
            if (nw == NULL)
                goto fail;
            ix->wild = nw;
            nw[ix->n_wild].key = p;
            nw[ix->n_wild++].item = item;
        }
        else if (ix_put(&ix->domains, p, item, 1) < 0)
            goto fail;
    }
    ix->n_items = list->n;
    return 0;
fail:
    index_free(ix);
    list->index = NULL;
    return -1;
}

/* The index, if it describes the list as it is. */
static const struct wlf_account_index *index_of(const wlf_account_list *l)
{
    return l->index && l->index->n_items == l->n ? l->index : NULL;
}

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
    index_free(list->index);
    memset(list, 0, sizeof(*list));
}

const wlf_account *wlf_accounts_find(const wlf_account_list *list,
                                     const char *name)
{
    const struct wlf_account_index *ix = index_of(list);

    if (ix) {
        size_t i = ix_get(&ix->names, name, 0);
        return i == (size_t)-1 ? NULL : &list->items[i];
    }
    for (size_t i = 0; i < list->n; i++)
        if (strcmp(list->items[i].name, name) == 0)
            return &list->items[i];
    return NULL;
}

const wlf_account *wlf_accounts_find_domain(const wlf_account_list *list,
                                            const char *domain)
{
    const struct wlf_account_index *ix = index_of(list);

    if (ix) {
        size_t i;
        if (domain[0] != '*') {
            i = ix_get(&ix->domains, domain, 1);
            return i == (size_t)-1 ? NULL : &list->items[i];
        }
        for (i = 0; i < ix->n_wild; i++)
            if (strcasecmp(ix->wild[i].key, domain) == 0)
                return &list->items[ix->wild[i].item];
        return NULL;
    }
    for (size_t i = 0; i < list->n; i++)
        for (size_t d = 0; d < list->items[i].n_domains; d++)
            if (strcasecmp(list->items[i].domains[d], domain) == 0)
                return &list->items[i];
    return NULL;
}

/* The i-th account of list with `changed` in place of its namesake;
 * i == list->n: `changed` itself when the list has no such account. */
static const wlf_account *shadow_item(const wlf_account_list *list,
                                      const wlf_account *changed, size_t i,
                                      int changed_listed)
{
    if (i == list->n)
        return changed && !changed_listed ? changed : NULL;
    if (changed && strcmp(list->items[i].name, changed->name) == 0)
        return changed;
    return &list->items[i];
}

void wlf_accounts_shadowed(const wlf_account_list *list,
                           const wlf_account *changed, wlf_shadow_fn fn,
                           void *arg)
{
    int listed = changed && wlf_accounts_find(list, changed->name) != NULL;

    for (size_t i = 0; i <= list->n; i++) {
        const wlf_account *b = shadow_item(list, changed, i, listed);
        for (size_t d = 0; b && d < b->n_domains; d++) {
            const char *domain = b->domains[d];
            if (domain[0] == '*')
                continue;
            for (size_t j = 0; j <= list->n; j++) {
                const wlf_account *a = shadow_item(list, changed, j, listed);
                if (a == NULL || a == b || strcmp(a->name, b->name) == 0)
                    continue;
                for (size_t w = 0; w < a->n_domains; w++)
                    if (a->domains[w][0] == '*' &&
                        wlf_domain_matches(a->domains[w], domain))
                        fn(b, domain, a, a->domains[w], arg);
            }
        }
    }
}

const wlf_account *wlf_accounts_match_host(const wlf_account_list *list,
                                           const char *host)
{
    const struct wlf_account_index *ix = index_of(list);
    const wlf_account *wild = NULL;
    size_t wild_len = 0;

    if (ix) {
        size_t i = ix_get(&ix->domains, host, 1);
        if (i != (size_t)-1)
            return &list->items[i];
        /* the longest wildcard wins: *.a.example over *.example */
        for (size_t k = 0; k < ix->n_wild; k++) {
            const char *p = ix->wild[k].key;
            if (wlf_domain_matches(p, host) && strlen(p) > wild_len) {
                wild = &list->items[ix->wild[k].item];
                wild_len = strlen(p);
            }
        }
        return wild;
    }
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
