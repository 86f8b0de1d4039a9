/*
 * wlf_config.c - loading, validating and writing the account database.
 */
#include "wlf_config.h"

#include <dirent.h>
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "wlf_size.h"

#define KIB 1024LL
#define MIB (1024LL * 1024)
#define GIB (1024LL * 1024 * 1024)
#define TIB (1024LL * 1024 * 1024 * 1024)

const wlf_setting_def wlf_setting_defs[WLF_S_COUNT] = {
    [WLF_S_MAX_CHILDREN] = { "max_children", WLF_T_INT, 1, 5000, "5",
        "most PHP worker processes of the account (pm.max_children)" },
    [WLF_S_IDLE_TIMEOUT] = { "idle_timeout", WLF_T_INT, 1, 86400, "10",
        "seconds an idle worker lives (pm.process_idle_timeout)" },
    [WLF_S_PM] = { "pm", WLF_T_CHOICE, 0, 1, "ondemand",
        "ondemand (fork workers as needed) or static (keep max_children; "
        "httpd reuses connections)", "ondemand|static" },
    [WLF_S_MAX_UPLOAD] = { "max_upload", WLF_T_SIZE, 1 * KIB, 1 * TIB, "8M",
        "largest request body (post_max_size, upload_max_filesize)" },
    [WLF_S_UPLOAD_CEILING] = { "upload_ceiling", WLF_T_SIZE, 0, 1 * TIB, "0",
        "largest body any location may allow (WLFcgiMaxUpload); sizes "
        "the request timeout; 0 = max_upload" },
    [WLF_S_MAX_EXECUTION_TIME] = { "max_execution_time", WLF_T_INT, 1, 86400,
        "30", "seconds a script may run, not counting its upload" },
    [WLF_S_OPCACHE_MEMORY] = { "opcache_memory", WLF_T_SIZE, 8 * MIB,
        16 * GIB, "128M", "OpCache shared memory of the account "
        "(opcache.memory_consumption)" },
    [WLF_S_OPCACHE_INTERNED_STRINGS] = { "opcache_interned_strings",
        WLF_T_SIZE, 1 * MIB, 1 * GIB, "8M",
        "OpCache interned strings buffer (opcache.interned_strings_buffer)" },
    [WLF_S_OPCACHE_MAX_FILES] = { "opcache_max_files", WLF_T_INT, 200,
        1000000, "10000", "scripts OpCache can hold "
        "(opcache.max_accelerated_files)" },
    [WLF_S_OPCACHE_VALIDATE_TIMESTAMPS] = { "opcache_validate_timestamps",
        WLF_T_BOOL, 0, 1, "true", "check scripts for changes "
        "(opcache.validate_timestamps)" },
    [WLF_S_OPCACHE_REVALIDATE_FREQ] = { "opcache_revalidate_freq", WLF_T_INT,
        0, 86400, "2", "seconds between those checks "
        "(opcache.revalidate_freq)" },
    [WLF_S_APCU_MEMORY] = { "apcu_memory", WLF_T_SIZE, 1 * MIB, 16 * GIB,
        "32M", "APCu shared memory of the account (apc.shm_size)" },
    [WLF_S_PHP] = { "php", WLF_T_STRING, 0, 0, "",
        "PHP version, one of php.versions in wlfcgi.conf" },
};

/* ini settings an admin may set with php_admin.<key> unless wlfcgi.conf
 * lists its own. Limits that wlfcgi manages itself are not here. */
static const char *const default_php_admin_allowed[] = {
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

/* ------------------------------------------------------------------ */
/* small helpers                                                       */

static char *xstrdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void strlist_free(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static int strlist_push(char ***v, size_t *n, const char *s)
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

/* growable string for rendering */
typedef struct {
    char *s;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (b->oom)
        return;
    for (;;) {
        size_t room = b->cap - b->len;
        va_start(ap, fmt);
        n = vsnprintf(b->s ? b->s + b->len : NULL, room, fmt, ap);
        va_end(ap);
        if (n < 0) {
            b->oom = 1;
            return;
        }
        if ((size_t)n < room) {
            b->len += (size_t)n;
            return;
        }
        size_t ncap = (b->cap ? b->cap * 2 : 1024) + (size_t)n;
        char *ns = realloc(b->s, ncap);
        if (ns == NULL) {
            b->oom = 1;
            return;
        }
        b->s = ns;
        b->cap = ncap;
    }
}

static char *sb_finish(sbuf *b)
{
    if (b->oom) {
        free(b->s);
        return NULL;
    }
    if (b->s == NULL)
        return strdup("");
    return b->s;
}

/* libconfig string literal; values were validated, but escape anyway */
static void sb_quoted(sbuf *b, const char *s)
{
    sb_printf(b, "\"");
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            sb_printf(b, "\\%c", *s);
        else
            sb_printf(b, "%c", *s);
    }
    sb_printf(b, "\"");
}

/* ------------------------------------------------------------------ */
/* settings                                                            */

int wlf_setting_find(const char *key)
{
    for (int i = 0; i < WLF_S_COUNT; i++)
        if (strcmp(wlf_setting_defs[i].key, key) == 0)
            return i;
    return -1;
}

static int parse_int(const char *text, long long *out)
{
    char *end;
    long long v;

    if (text[0] == '\0' || !(text[0] == '-' || (text[0] >= '0' &&
                                                text[0] <= '9')))
        return -1;
    errno = 0;
    v = strtoll(text, &end, 10);
    if (errno || *end != '\0')
        return -1;
    *out = v;
    return 0;
}

static int store_number(wlf_settings *s, int id, long long v, wlf_err *err)
{
    const wlf_setting_def *d = &wlf_setting_defs[id];
    char a[32], b[32];

    if (v < d->min || v > d->max) {
        if (d->type == WLF_T_SIZE)
            return wlf_fail(err, d->key, "must be between %s and %s",
                            wlf_size_format(d->min, a, sizeof(a)),
                            wlf_size_format(d->max, b, sizeof(b)));
        return wlf_fail(err, d->key, "must be between %lld and %lld",
                        d->min, d->max);
    }
    s->num[id] = v;
    s->is_set[id] = 1;
    return 0;
}

int wlf_setting_parse(wlf_settings *s, int id, const char *text, wlf_err *err)
{
    const wlf_setting_def *d = &wlf_setting_defs[id];
    long long v;

    switch (d->type) {
    case WLF_T_INT:
        if (parse_int(text, &v) < 0)
            return wlf_fail(err, d->key, "'%.40s' is not a whole number",
                            text);
        return store_number(s, id, v, err);
    case WLF_T_SIZE:
        if (text[0] == '-')
            return wlf_fail(err, d->key, "size may not be negative");
        if (wlf_size_parse(text, d->key, &v, err) < 0)
            return -1;
        return store_number(s, id, v, err);
    case WLF_T_BOOL:
        if (!strcasecmp(text, "true") || !strcasecmp(text, "yes") ||
            !strcasecmp(text, "on") || !strcmp(text, "1"))
            v = 1;
        else if (!strcasecmp(text, "false") || !strcasecmp(text, "no") ||
                 !strcasecmp(text, "off") || !strcmp(text, "0"))
            v = 0;
        else
            return wlf_fail(err, d->key, "'%.40s' is not true or false",
                            text);
        return store_number(s, id, v, err);
    case WLF_T_CHOICE: {
        const char *c = d->choices;
        for (v = 0; *c; v++) {
            size_t n = strcspn(c, "|");
            if (strlen(text) == n && strncmp(text, c, n) == 0)
                return store_number(s, id, v, err);
            c += n + (c[n] == '|');
        }
        return wlf_fail(err, d->key, "'%.40s' is not one of %s", text,
                        d->choices);
    }
    case WLF_T_STRING: {
        char *copy;
        if (wlf_valid_php_version(text, err) < 0)
            return -1;
        if ((copy = strdup(text)) == NULL)
            return wlf_fail(err, d->key, "out of memory");
        free(s->str[id]);
        s->str[id] = copy;
        s->is_set[id] = 1;
        return 0;
    }
    }
    return wlf_fail(err, d->key, "unknown setting type");
}

const char *wlf_setting_format(const wlf_settings *s, int id, char *buf,
                               size_t len)
{
    switch (wlf_setting_defs[id].type) {
    case WLF_T_INT:
        snprintf(buf, len, "%lld", s->num[id]);
        break;
    case WLF_T_SIZE:
        wlf_size_format(s->num[id], buf, len);
        break;
    case WLF_T_BOOL:
        snprintf(buf, len, "%s", s->num[id] ? "true" : "false");
        break;
    case WLF_T_CHOICE: {
        const char *c = wlf_setting_defs[id].choices;
        for (long long i = 0; i < s->num[id] && *c; i++)
            c += strcspn(c, "|") + (c[strcspn(c, "|")] == '|');
        snprintf(buf, len, "%.*s", (int)strcspn(c, "|"), c);
        break;
    }
    case WLF_T_STRING:
        snprintf(buf, len, "%s", s->str[id] ? s->str[id] : "");
        break;
    }
    return buf;
}

void wlf_settings_unset(wlf_settings *s, int id)
{
    free(s->str[id]);
    s->str[id] = NULL;
    s->num[id] = 0;
    s->is_set[id] = 0;
}

void wlf_settings_free(wlf_settings *s)
{
    for (int i = 0; i < WLF_S_COUNT; i++)
        free(s->str[i]);
    memset(s, 0, sizeof(*s));
}

int wlf_settings_copy(wlf_settings *dst, const wlf_settings *src)
{
    memset(dst, 0, sizeof(*dst));
    memcpy(dst->is_set, src->is_set, sizeof(dst->is_set));
    memcpy(dst->num, src->num, sizeof(dst->num));
    for (int i = 0; i < WLF_S_COUNT; i++) {
        if (src->str[i] && (dst->str[i] = strdup(src->str[i])) == NULL) {
            wlf_settings_free(dst);
            return -1;
        }
    }
    return 0;
}

/* Read settings from a libconfig group; unknown members are errors unless
 * `allow_other` says the caller handles them. */
static int settings_from_group(const config_setting_t *group,
                               wlf_settings *s, const char *where,
                               wlf_err *err)
{
    int n = config_setting_length(group);

    for (int i = 0; i < n; i++) {
        const config_setting_t *m = config_setting_get_elem(group, (unsigned)i);
        const char *key = config_setting_name(m);
        int id = key ? wlf_setting_find(key) : -1;
        char num[32];
        const char *text;

        if (id < 0)
            continue;
        switch (config_setting_type(m)) {
        case CONFIG_TYPE_STRING:
            text = config_setting_get_string(m);
            break;
        case CONFIG_TYPE_INT:
        case CONFIG_TYPE_INT64:
            snprintf(num, sizeof(num), "%lld", config_setting_get_int64(m));
            text = num;
            break;
        case CONFIG_TYPE_BOOL:
            text = config_setting_get_bool(m) ? "true" : "false";
            break;
        default:
            return wlf_fail(err, key, "%s, line %d: unexpected value type",
                            where, config_setting_source_line(m));
        }
        if (wlf_setting_parse(s, id, text, err) < 0) {
            char msg[sizeof(err->msg)];
            snprintf(msg, sizeof(msg), "%s", err->msg);
            return wlf_fail(err, key, "%s, line %d: %s", where,
                            config_setting_source_line(m), msg);
        }
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* libconfig plumbing                                                  */

typedef int (*parse_fn)(const config_t *lc, const char *where, void *out,
                        const void *ctx, wlf_err *err);

static int with_libconfig(const char *path, const char *text,
                          const char *where, parse_fn fn, void *out,
                          const void *ctx, wlf_err *err)
{
    config_t lc;
    int rc;

    config_init(&lc);
    if (path) {
        rc = config_read_file(&lc, path);
        if (rc != CONFIG_TRUE && config_error_type(&lc) == CONFIG_ERR_FILE_IO) {
            int e = errno;
            config_destroy(&lc);
            return wlf_fail(err, where, "cannot read %s: %s", path,
                            e ? strerror(e) : "I/O error");
        }
    }
    else {
        rc = config_read_string(&lc, text);
    }
    if (rc != CONFIG_TRUE) {
        wlf_fail(err, where, "line %d: %s", config_error_line(&lc),
                 config_error_text(&lc) ? config_error_text(&lc)
                                        : "syntax error");
        config_destroy(&lc);
        return -1;
    }
    rc = fn(&lc, where, out, ctx, err);
    config_destroy(&lc);
    return rc;
}

static const char *lookup_string(const config_setting_t *g, const char *key)
{
    const char *v = NULL;
    config_setting_t *m = config_setting_get_member(g, key);

    if (m && config_setting_type(m) == CONFIG_TYPE_STRING)
        v = config_setting_get_string(m);
    return v;
}

/* Accept only the listed member names in group g (typos are errors). */
static int only_keys(const config_setting_t *g, const char *const *keys,
                     int settings_too, const char *where, wlf_err *err)
{
    int n = config_setting_length(g);

    for (int i = 0; i < n; i++) {
        const config_setting_t *m = config_setting_get_elem(g, (unsigned)i);
        const char *name = config_setting_name(m);
        int ok = 0;

        if (name == NULL)
            continue;
        for (const char *const *k = keys; *k; k++)
            if (strcmp(*k, name) == 0)
                ok = 1;
        if (settings_too && wlf_setting_find(name) >= 0)
            ok = 1;
        if (!ok)
            return wlf_fail(err, name, "%s, line %d: unknown setting", where,
                            config_setting_source_line(m));
    }
    return 0;
}

static int get_string(const config_setting_t *g, const char *key,
                      const char *where, int required, char **out,
                      wlf_err *err)
{
    config_setting_t *m = config_setting_get_member(g, key);

    if (m == NULL) {
        if (required)
            return wlf_fail(err, key, "%s: missing", where);
        return 0;
    }
    if (config_setting_type(m) != CONFIG_TYPE_STRING)
        return wlf_fail(err, key, "%s, line %d: must be a string", where,
                        config_setting_source_line(m));
    free(*out);
    if ((*out = strdup(config_setting_get_string(m))) == NULL)
        return wlf_fail(err, key, "out of memory");
    return 0;
}

static int get_int(const config_setting_t *g, const char *key,
                   const char *where, long long min, long long max,
                   long long *out, wlf_err *err)
{
    config_setting_t *m = config_setting_get_member(g, key);
    long long v;

    if (m == NULL)
        return 0;
    if (config_setting_type(m) == CONFIG_TYPE_INT ||
        config_setting_type(m) == CONFIG_TYPE_INT64)
        v = config_setting_get_int64(m);
    else if (config_setting_type(m) != CONFIG_TYPE_STRING ||
             parse_int(config_setting_get_string(m), &v) < 0)
        return wlf_fail(err, key, "%s, line %d: must be a whole number",
                        where, config_setting_source_line(m));
    if (v < min || v > max)
        return wlf_fail(err, key, "%s, line %d: must be between %lld and "
                        "%lld", where, config_setting_source_line(m), min,
                        max);
    *out = v;
    return 0;
}

/* ------------------------------------------------------------------ */
/* global configuration                                                */

static void builtin_defaults(wlf_settings *s)
{
    for (int i = 0; i < WLF_S_COUNT; i++)
        if (wlf_setting_defs[i].type != WLF_T_STRING)
            wlf_setting_parse(s, i, wlf_setting_defs[i].builtin, NULL);
}

void wlf_config_free(wlf_config *cfg)
{
    free(cfg->file);
    free(cfg->httpd_group);
    free(cfg->accounts_dir);
    free(cfg->socket_dir);
    free(cfg->state_dir);
    free(cfg->log_dir);
    free(cfg->php_default);
    for (size_t i = 0; i < cfg->n_php_versions; i++) {
        free(cfg->php_versions[i].version);
        free(cfg->php_versions[i].fpm);
    }
    free(cfg->php_versions);
    strlist_free(cfg->php_admin_allowed, cfg->n_php_admin_allowed);
    wlf_settings_free(&cfg->defaults);
    memset(cfg, 0, sizeof(*cfg));
}

static void config_zero(wlf_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->service = WLF_SERVICE_DIRECT;
    cfg->min_uid = 1000;
    cfg->lock_timeout = 10;
    cfg->start_timeout = 10;
    cfg->drain_time = 1000;
    cfg->upload_min_rate = 1 * MIB;
    builtin_defaults(&cfg->defaults);
}

static int add_php_version(wlf_config *cfg, const char *version,
                           const char *fpm, const char *where, wlf_err *err)
{
    wlf_php_version *nv;

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
    nv[cfg->n_php_versions].version = strdup(version);
    nv[cfg->n_php_versions].fpm = strdup(fpm);
    cfg->n_php_versions++;
    return 0;
}

static int parse_config(const config_t *lc, const char *where, void *out,
                        const void *ctx, wlf_err *err)
{
    static const char *const top_keys[] = {
        "service", "httpd_group", "min_uid", "lock_timeout", "start_timeout",
        "drain_time", "upload_min_rate", "paths", "php", "defaults",
        "php_admin_allowed", NULL };
    static const char *const path_keys[] = {
        "accounts", "sockets", "state", "logs", NULL };
    static const char *const php_keys[] = { "default", "versions", NULL };
    wlf_config *cfg = out;
    const config_setting_t *root = config_root_setting(lc), *g;
    char *service = NULL, *rate = NULL;
    int rc;

    (void)ctx;
    if (only_keys(root, top_keys, 0, where, err) < 0)
        return -1;
    if (get_string(root, "service", where, 0, &service, err) < 0)
        return -1;
    if (service) {
        if (strcmp(service, "direct") == 0)
            cfg->service = WLF_SERVICE_DIRECT;
        else if (strcmp(service, "systemd") == 0)
            cfg->service = WLF_SERVICE_SYSTEMD;
        else {
            free(service);
            return wlf_fail(err, "service", "%s: must be \"direct\" or "
                            "\"systemd\"", where);
        }
        free(service);
    }
    if (get_string(root, "httpd_group", where, 1, &cfg->httpd_group, err) < 0
        || wlf_valid_unix_name(cfg->httpd_group, "httpd_group", err) < 0)
        return -1;
    if (get_int(root, "min_uid", where, 1, 4294967294LL, &cfg->min_uid,
                err) < 0 ||
        get_int(root, "lock_timeout", where, 0, 3600, &cfg->lock_timeout,
                err) < 0 ||
        get_int(root, "start_timeout", where, 1, 600, &cfg->start_timeout,
                err) < 0 ||
        get_int(root, "drain_time", where, 0, 600000, &cfg->drain_time,
                err) < 0)
        return -1;
    if (get_string(root, "upload_min_rate", where, 0, &rate, err) < 0)
        return -1;
    if (rate) {
        rc = wlf_size_parse(rate, "upload_min_rate", &cfg->upload_min_rate,
                            err);
        free(rate);
        if (rc < 0)
            return -1;
        if (cfg->upload_min_rate < 1 * KIB)
            return wlf_fail(err, "upload_min_rate", "must be at least 1K");
    }

    g = config_setting_get_member(root, "paths");
    if (g == NULL || !config_setting_is_group(g))
        return wlf_fail(err, "paths", "%s: missing paths group", where);
    if (only_keys(g, path_keys, 0, where, err) < 0 ||
        get_string(g, "accounts", where, 1, &cfg->accounts_dir, err) < 0 ||
        get_string(g, "sockets", where, 1, &cfg->socket_dir, err) < 0 ||
        get_string(g, "state", where, 1, &cfg->state_dir, err) < 0 ||
        get_string(g, "logs", where, 1, &cfg->log_dir, err) < 0 ||
        wlf_valid_abs_path(cfg->accounts_dir, "paths.accounts", err) < 0 ||
        wlf_valid_abs_path(cfg->socket_dir, "paths.sockets", err) < 0 ||
        wlf_valid_abs_path(cfg->state_dir, "paths.state", err) < 0 ||
        wlf_valid_abs_path(cfg->log_dir, "paths.logs", err) < 0)
        return -1;
    /* sun_path is 108 bytes: NAME(32).x.sock must still fit */
    if (strlen(cfg->socket_dir) > WLF_SOCKET_DIR_MAX)
        return wlf_fail(err, "paths.sockets", "'%s' is longer than 64 "
                        "characters; socket paths would not fit",
                        cfg->socket_dir);

    g = config_setting_get_member(root, "php");
    if (g == NULL || !config_setting_is_group(g))
        return wlf_fail(err, "php", "%s: missing php group", where);
    if (only_keys(g, php_keys, 0, where, err) < 0 ||
        get_string(g, "default", where, 1, &cfg->php_default, err) < 0)
        return -1;
    {
        const config_setting_t *vs = config_setting_get_member(g, "versions");
        int n = vs ? config_setting_length(vs) : 0;
        if (vs == NULL || !config_setting_is_list(vs) || n == 0)
            return wlf_fail(err, "php.versions", "%s: must list at least one "
                            "{ version = \"...\"; fpm = \"...\"; }", where);
        for (int i = 0; i < n; i++) {
            const config_setting_t *e = config_setting_get_elem(vs,
                                                                (unsigned)i);
            const char *v = config_setting_is_group(e)
                                ? lookup_string(e, "version") : NULL;
            const char *f = config_setting_is_group(e)
                                ? lookup_string(e, "fpm") : NULL;
            if (v == NULL || f == NULL)
                return wlf_fail(err, "php.versions", "%s, line %d: each "
                                "entry needs version and fpm strings", where,
                                config_setting_source_line(e));
            if (add_php_version(cfg, v, f, where, err) < 0)
                return -1;
        }
    }
    if (wlf_config_php(cfg, cfg->php_default) == NULL)
        return wlf_fail(err, "php.default", "%s: version '%s' is not in "
                        "php.versions", where, cfg->php_default);
    if (wlf_setting_parse(&cfg->defaults, WLF_S_PHP, cfg->php_default,
                          err) < 0)
        return -1;

    g = config_setting_get_member(root, "defaults");
    if (g) {
        static const char *const none[] = { NULL };
        if (!config_setting_is_group(g))
            return wlf_fail(err, "defaults", "%s: must be a group", where);
        if (only_keys(g, none, 1, where, err) < 0 ||
            settings_from_group(g, &cfg->defaults, where, err) < 0)
            return -1;
        if (config_setting_get_member(g, "php"))
            return wlf_fail(err, "defaults.php", "%s: set php.default "
                            "instead", where);
    }

    g = config_setting_get_member(root, "php_admin_allowed");
    if (g) {
        int n = config_setting_length(g);
        if (!config_setting_is_array(g) && !config_setting_is_list(g))
            return wlf_fail(err, "php_admin_allowed", "%s: must be a list of "
                            "strings", where);
        for (int i = 0; i < n; i++) {
            const char *k = config_setting_get_string_elem(g, i);
            if (k == NULL ||
                wlf_valid_ini_key(k, "php_admin_allowed", err) < 0)
                return wlf_fail(err, "php_admin_allowed", "%s: entry %d is "
                                "not an ini directive name", where, i + 1);
            if (strlist_push(&cfg->php_admin_allowed,
                             &cfg->n_php_admin_allowed, k) < 0)
                return wlf_fail(err, "php_admin_allowed", "out of memory");
        }
    }
    else {
        size_t n = sizeof(default_php_admin_allowed) /
                   sizeof(default_php_admin_allowed[0]);
        for (size_t i = 0; i < n; i++)
            if (strlist_push(&cfg->php_admin_allowed,
                             &cfg->n_php_admin_allowed,
                             default_php_admin_allowed[i]) < 0)
                return wlf_fail(err, "php_admin_allowed", "out of memory");
    }
    return 0;
}

int wlf_config_load_string(const char *text, const char *name,
                           wlf_config *cfg, wlf_err *err)
{
    config_zero(cfg);
    if (with_libconfig(NULL, text, name, parse_config, cfg, NULL, err) < 0) {
        wlf_config_free(cfg);
        return -1;
    }
    cfg->file = strdup(name);
    return 0;
}

int wlf_config_load(const char *path, wlf_config *cfg, wlf_err *err)
{
    config_zero(cfg);
    if (with_libconfig(path, NULL, path, parse_config, cfg, NULL, err) < 0) {
        wlf_config_free(cfg);
        return -1;
    }
    cfg->file = strdup(path);
    return 0;
}

int wlf_config_init_defaults(wlf_config *cfg, const char *prefix,
                             wlf_service service, const char *httpd_group,
                             wlf_err *err)
{
    char buf[4096];
    const char *fpm_candidates[][2] = {
        { "8.2", "/usr/sbin/php-fpm8.2" },
        { "8.3", "/usr/sbin/php-fpm8.3" },
        { "8.1", "/usr/sbin/php-fpm8.1" },
        { "8.4", "/usr/sbin/php-fpm8.4" },
    };

    config_zero(cfg);
    cfg->service = service;
    if (wlf_valid_unix_name(httpd_group, "httpd_group", err) < 0)
        return -1;
    cfg->httpd_group = strdup(httpd_group);
#define PREFIXED(field, path) \
    do { snprintf(buf, sizeof(buf), "%s%s", prefix, path); \
         cfg->field = strdup(buf); } while (0)
    PREFIXED(accounts_dir, "/etc/wlfcgi/accounts.d");
    PREFIXED(socket_dir, "/run/wlfcgi");
    PREFIXED(state_dir, "/var/lib/wlfcgi");
    PREFIXED(log_dir, "/var/log/wlfcgi");
#undef PREFIXED
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
            add_php_version(cfg, fpm_candidates[i][0], fpm_candidates[i][1],
                            "init", err) < 0)
            goto fail;
    }
    if (cfg->n_php_versions == 0 &&
        add_php_version(cfg, "system", "/usr/sbin/php-fpm", "init", err) < 0)
        goto fail;
    cfg->php_default = strdup(cfg->php_versions[0].version);
    wlf_setting_parse(&cfg->defaults, WLF_S_PHP, cfg->php_default, NULL);
    for (size_t i = 0; i < sizeof(default_php_admin_allowed) /
                           sizeof(default_php_admin_allowed[0]); i++)
        strlist_push(&cfg->php_admin_allowed, &cfg->n_php_admin_allowed,
                     default_php_admin_allowed[i]);
    return 0;
fail:
    wlf_config_free(cfg);
    return -1;
}

char *wlf_config_render(const wlf_config *cfg)
{
    sbuf b = { 0 };
    char v[64];

    sb_printf(&b, "# wlfcgi global configuration (libconfig syntax).\n"
              "# Read by fpmctl and mod_wlfcgi. See fpmctl(8) and "
              "docs/admin-guide.md.\n\n");
    sb_printf(&b, "# how instances run: \"systemd\" (wlfcgi-fpm@NAME.x units)"
              " or \"direct\"\nservice = \"%s\";\n",
              cfg->service == WLF_SERVICE_SYSTEMD ? "systemd" : "direct");
    sb_printf(&b, "# group httpd runs as: owns every account's socket\n"
              "httpd_group = ");
    sb_quoted(&b, cfg->httpd_group);
    sb_printf(&b, ";\n# accounts may not run as a uid below this\n"
              "min_uid = %lld;\n", cfg->min_uid);
    sb_printf(&b, "# seconds a second fpmctl waits for the lock\n"
              "lock_timeout = %lld;\n", cfg->lock_timeout);
    sb_printf(&b, "# seconds a started instance has to answer a ping\n"
              "start_timeout = %lld;\n", cfg->start_timeout);
    sb_printf(&b, "# ms an old instance keeps serving after a reload "
              "switched to the new one\ndrain_time = %lld;\n",
              cfg->drain_time);
    sb_printf(&b, "# slowest upload rate (bytes/s) that must not be cut "
              "off by timeouts\nupload_min_rate = \"%s\";\n\n",
              wlf_size_format(cfg->upload_min_rate, v, sizeof(v)));
    sb_printf(&b, "paths = {\n  accounts = ");
    sb_quoted(&b, cfg->accounts_dir);
    sb_printf(&b, ";   # one NAME.conf per account\n  sockets  = ");
    sb_quoted(&b, cfg->socket_dir);
    sb_printf(&b, ";   # NAME.sock for httpd\n  state    = ");
    sb_quoted(&b, cfg->state_dir);
    sb_printf(&b, ";   # generated FPM files, per-account tmp dirs\n"
              "  logs     = ");
    sb_quoted(&b, cfg->log_dir);
    sb_printf(&b, ";\n};\n\nphp = {\n  default = ");
    sb_quoted(&b, cfg->php_default);
    sb_printf(&b, ";\n  versions = (\n");
    for (size_t i = 0; i < cfg->n_php_versions; i++) {
        sb_printf(&b, "    { version = ");
        sb_quoted(&b, cfg->php_versions[i].version);
        sb_printf(&b, "; fpm = ");
        sb_quoted(&b, cfg->php_versions[i].fpm);
        sb_printf(&b, "; }%s\n", i + 1 < cfg->n_php_versions ? "," : "");
    }
    sb_printf(&b, "  );\n};\n\n# defaults for every account; "
              "`fpmctl set NAME KEY=VALUE` overrides them\ndefaults = {\n");
    for (int i = 0; i < WLF_S_COUNT; i++) {
        const wlf_setting_def *d = &wlf_setting_defs[i];
        if (d->type == WLF_T_STRING)
            continue;
        sb_printf(&b, "  # %s\n  %s = ", d->doc, d->key);
        wlf_setting_format(&cfg->defaults, i, v, sizeof(v));
        if (d->type == WLF_T_SIZE || d->type == WLF_T_CHOICE)
            sb_printf(&b, "\"%s\";\n", v);
        else
            sb_printf(&b, "%s;\n", v);
    }
    sb_printf(&b, "};\n\n# ini settings `fpmctl set NAME php_admin.KEY=VALUE`"
              " may set\nphp_admin_allowed = [\n");
    for (size_t i = 0; i < cfg->n_php_admin_allowed; i++) {
        sb_printf(&b, "  ");
        sb_quoted(&b, cfg->php_admin_allowed[i]);
        sb_printf(&b, "%s\n", i + 1 < cfg->n_php_admin_allowed ? "," : "");
    }
    sb_printf(&b, "];\n");
    return sb_finish(&b);
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

int wlf_config_php_admin_allowed(const wlf_config *cfg, const char *key)
{
    for (size_t i = 0; i < cfg->n_php_admin_allowed; i++)
        if (strcmp(cfg->php_admin_allowed[i], key) == 0)
            return 1;
    return 0;
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
    strlist_free(acct->domains, acct->n_domains);
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
    wlf_account_init(dst);
    memcpy(dst->name, src->name, sizeof(dst->name));
    dst->user = xstrdup(src->user);
    dst->group = xstrdup(src->group);
    dst->home = xstrdup(src->home);
    if (wlf_settings_copy(&dst->settings, &src->settings) < 0)
        goto oom;
    for (size_t i = 0; i < src->n_domains; i++)
        if (strlist_push(&dst->domains, &dst->n_domains,
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
    if (strlist_push(&acct->domains, &acct->n_domains, d) < 0)
        return wlf_fail(err, "domain", "out of memory");
    return 0;
}

int wlf_account_set_php_admin(wlf_account *acct, const char *key,
                              const char *value)
{
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
        char *v = strdup(value);
        if (v == NULL)
            return -1;
        free(acct->php_admin[i].value);
        acct->php_admin[i].value = v;
        return 0;
    }
    if (value == NULL)
        return 0;
    wlf_php_admin *n = realloc(acct->php_admin,
                               (acct->n_php_admin + 1) * sizeof(*n));
    if (n == NULL)
        return -1;
    acct->php_admin = n;
    n[acct->n_php_admin].key = strdup(key);
    n[acct->n_php_admin].value = strdup(value);
    if (!n[acct->n_php_admin].key || !n[acct->n_php_admin].value)
        return -1;
    acct->n_php_admin++;
    return 0;
}

int wlf_account_check(const wlf_config *cfg, const wlf_account *acct,
                      wlf_err *err)
{
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
    if (acct->home == NULL)
        return wlf_fail(err, "home", "missing");
    if (wlf_valid_abs_path(acct->home, "home", err) < 0)
        return -1;
    if (strcmp(acct->home, "/") == 0)
        return wlf_fail(err, "home", "may not be /");
    /* ':' separates open_basedir entries: it would widen the account's */
    if (strchr(acct->home, ':'))
        return wlf_fail(err, "home", "'%.40s' may not contain ':'",
                        acct->home);
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

typedef struct {
    const wlf_config *cfg;
    const char *name;
} account_ctx;

static int parse_account(const config_t *lc, const char *where, void *out,
                         const void *vctx, wlf_err *err)
{
    static const char *const keys[] = {
        "name", "user", "group", "home", "domains", "php_admin", NULL };
    const account_ctx *ctx = vctx;
    wlf_account *acct = out;
    const config_setting_t *root = config_root_setting(lc), *g;
    char *name = NULL;

    if (only_keys(root, keys, 1, where, err) < 0)
        return -1;
    if (get_string(root, "name", where, 1, &name, err) < 0)
        return -1;
    if (strcmp(name, ctx->name) != 0) {
        wlf_fail(err, "name", "%s: name \"%.40s\" does not match the file "
                 "name", where, name);
        free(name);
        return -1;
    }
    free(name);
    snprintf(acct->name, sizeof(acct->name), "%s", ctx->name);
    if (get_string(root, "user", where, 1, &acct->user, err) < 0 ||
        get_string(root, "group", where, 1, &acct->group, err) < 0 ||
        get_string(root, "home", where, 1, &acct->home, err) < 0)
        return -1;

    g = config_setting_get_member(root, "domains");
    if (g) {
        int n = config_setting_length(g);
        if (!config_setting_is_array(g) && !config_setting_is_list(g))
            return wlf_fail(err, "domains", "%s: must be a list of strings",
                            where);
        for (int i = 0; i < n; i++) {
            const char *d = config_setting_get_string_elem(g, i);
            if (d == NULL)
                return wlf_fail(err, "domains", "%s: entry %d is not a "
                                "string", where, i + 1);
            if (wlf_account_add_domain(acct, d, err) < 0)
                return -1;
        }
    }
    if (settings_from_group(root, &acct->settings, where, err) < 0)
        return -1;

    g = config_setting_get_member(root, "php_admin");
    if (g) {
        int n = config_setting_length(g);
        if (!config_setting_is_list(g))
            return wlf_fail(err, "php_admin", "%s: must be a list of "
                            "{ name = \"...\"; value = \"...\"; }", where);
        for (int i = 0; i < n; i++) {
            const config_setting_t *e = config_setting_get_elem(g,
                                                                (unsigned)i);
            const char *k = config_setting_is_group(e)
                                ? lookup_string(e, "name") : NULL;
            const char *v = config_setting_is_group(e)
                                ? lookup_string(e, "value") : NULL;
            if (k == NULL || v == NULL)
                return wlf_fail(err, "php_admin", "%s, line %d: each entry "
                                "needs name and value strings", where,
                                config_setting_source_line(e));
            if (wlf_account_set_php_admin(acct, k, v) < 0)
                return wlf_fail(err, "php_admin", "out of memory");
        }
    }
    if (wlf_account_check(ctx->cfg, acct, err) < 0) {
        wlf_err inner = *err;
        return wlf_fail(err, inner.field, "%s: %s", where, inner.msg);
    }
    return 0;
}

int wlf_account_load_string(const wlf_config *cfg, const char *text,
                            const char *name, wlf_account *acct,
                            wlf_err *err)
{
    account_ctx ctx = { cfg, name };

    wlf_account_init(acct);
    if (wlf_valid_account_name(name, err) < 0)
        return -1;
    if (with_libconfig(NULL, text, name, parse_account, acct, &ctx,
                       err) < 0) {
        wlf_account_free(acct);
        return -1;
    }
    return 0;
}

int wlf_account_load(const wlf_config *cfg, const char *path,
                     wlf_account *acct, wlf_err *err)
{
    char name[WLF_NAME_MAX + 8];
    const char *base = strrchr(path, '/');
    size_t len;
    account_ctx ctx = { cfg, name };

    wlf_account_init(acct);
    base = base ? base + 1 : path;
    len = strlen(base);
    if (len < 6 || len - 5 > WLF_NAME_MAX ||
        strcmp(base + len - 5, ".conf") != 0)
        return wlf_fail(err, path, "account files are named NAME.conf");
    memcpy(name, base, len - 5);
    name[len - 5] = '\0';
    if (wlf_valid_account_name(name, err) < 0) {
        char msg[sizeof(err->msg)];
        snprintf(msg, sizeof(msg), "%s", err->msg);
        return wlf_fail(err, path, "%s", msg);
    }
    if (with_libconfig(path, NULL, path, parse_account, acct, &ctx,
                       err) < 0) {
        wlf_account_free(acct);
        return -1;
    }
    return 0;
}

char *wlf_account_render(const wlf_account *acct)
{
    sbuf b = { 0 };
    char v[64];

    sb_printf(&b, "# wlfcgi account %s. Managed by fpmctl: change it with "
              "`fpmctl set`.\n", acct->name);
    sb_printf(&b, "name = \"%s\";\nuser = ", acct->name);
    sb_quoted(&b, acct->user ? acct->user : "");
    sb_printf(&b, ";\ngroup = ");
    sb_quoted(&b, acct->group ? acct->group : "");
    sb_printf(&b, ";\nhome = ");
    sb_quoted(&b, acct->home ? acct->home : "");
    sb_printf(&b, ";\ndomains = [");
    for (size_t i = 0; i < acct->n_domains; i++) {
        sb_printf(&b, "%s", i ? ", " : " ");
        sb_quoted(&b, acct->domains[i]);
    }
    sb_printf(&b, "%s];\n", acct->n_domains ? " " : "");
    for (int i = 0; i < WLF_S_COUNT; i++) {
        if (!acct->settings.is_set[i])
            continue;
        wlf_setting_format(&acct->settings, i, v, sizeof(v));
        if (wlf_setting_defs[i].type == WLF_T_INT ||
            wlf_setting_defs[i].type == WLF_T_BOOL)
            sb_printf(&b, "%s = %s;\n", wlf_setting_defs[i].key, v);
        else
            sb_printf(&b, "%s = \"%s\";\n", wlf_setting_defs[i].key, v);
    }
    if (acct->n_php_admin) {
        sb_printf(&b, "php_admin = (\n");
        for (size_t i = 0; i < acct->n_php_admin; i++) {
            sb_printf(&b, "  { name = ");
            sb_quoted(&b, acct->php_admin[i].key);
            sb_printf(&b, "; value = ");
            sb_quoted(&b, acct->php_admin[i].value);
            sb_printf(&b, "; }%s\n", i + 1 < acct->n_php_admin ? "," : "");
        }
        sb_printf(&b, ");\n");
    }
    return sb_finish(&b);
}

int wlf_account_effective(const wlf_config *cfg, const wlf_account *acct,
                          wlf_settings *out)
{
    if (wlf_settings_copy(out, &cfg->defaults) < 0)
        return -1;
    for (int i = 0; i < WLF_S_COUNT; i++) {
        if (!acct->settings.is_set[i])
            continue;
        out->num[i] = acct->settings.num[i];
        if (acct->settings.str[i]) {
            char *s = strdup(acct->settings.str[i]);
            if (s == NULL) {
                wlf_settings_free(out);
                return -1;
            }
            free(out->str[i]);
            out->str[i] = s;
        }
    }
    /* the ceiling is never below the account's own limit */
    if (out->num[WLF_S_UPLOAD_CEILING] < out->num[WLF_S_MAX_UPLOAD])
        out->num[WLF_S_UPLOAD_CEILING] = out->num[WLF_S_MAX_UPLOAD];
    return 0;
}

/* ------------------------------------------------------------------ */
/* the account list                                                    */

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_load_error(wlf_account_list *list, const char *file,
                          const char *msg)
{
    wlf_load_error *n = realloc(list->errors,
                                (list->n_errors + 1) * sizeof(*n));
    if (n == NULL)
        return -1;
    list->errors = n;
    n[list->n_errors].file = strdup(file);
    n[list->n_errors].msg = strdup(msg);
    list->n_errors++;
    return 0;
}

int wlf_accounts_load(const wlf_config *cfg, wlf_account_list *list,
                      wlf_err *err)
{
    DIR *dir;
    struct dirent *de;
    char **names = NULL;
    size_t n_names = 0;

    memset(list, 0, sizeof(*list));
    if ((dir = opendir(cfg->accounts_dir)) == NULL)
        return wlf_fail(err, "paths.accounts", "cannot read %s: %s",
                        cfg->accounts_dir, strerror(errno));
    while ((de = readdir(dir)) != NULL) {
        size_t len = strlen(de->d_name);
        /* fpmctl's temp and lock files do not end in .conf */
        if (len > 5 && strcmp(de->d_name + len - 5, ".conf") == 0 &&
            de->d_name[0] != '.')
            strlist_push(&names, &n_names, de->d_name);
    }
    closedir(dir);
    qsort(names, n_names, sizeof(char *), cmp_names);

    for (size_t i = 0; i < n_names; i++) {
        char path[4096];
        wlf_account acct;
        wlf_err e;
        const char *clash = NULL, *clash_domain = NULL;

        snprintf(path, sizeof(path), "%s/%s", cfg->accounts_dir, names[i]);
        if (wlf_account_load(cfg, path, &acct, &e) < 0) {
            char line[700];
            add_load_error(list, path, wlf_err_line(&e, line, sizeof(line)));
            continue;
        }
        for (size_t d = 0; d < acct.n_domains && !clash; d++) {
            const wlf_account *o = wlf_accounts_find_domain(list,
                                                            acct.domains[d]);
            if (o) {
                clash = o->name;
                clash_domain = acct.domains[d];
            }
        }
        if (clash) {
            char msg[512];
            snprintf(msg, sizeof(msg), "domain '%s' of account '%s' is "
                     "already owned by account '%s'; account '%s' skipped",
                     clash_domain, acct.name, clash, acct.name);
            add_load_error(list, path, msg);
            wlf_account_free(&acct);
            continue;
        }
        wlf_account *items = realloc(list->items,
                                     (list->n + 1) * sizeof(*items));
        if (items == NULL) {
            wlf_account_free(&acct);
            strlist_free(names, n_names);
            return wlf_fail(err, "accounts", "out of memory");
        }
        list->items = items;
        list->items[list->n++] = acct;
    }
    strlist_free(names, n_names);
    return 0;
}

void wlf_account_list_free(wlf_account_list *list)
{
    for (size_t i = 0; i < list->n; i++)
        wlf_account_free(&list->items[i]);
    free(list->items);
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

/* ------------------------------------------------------------------ */
/* paths                                                               */

const char *wlf_path_socket(const wlf_config *cfg, const char *name,
                            char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s.sock", cfg->socket_dir, name);
    return buf;
}

const char *wlf_path_slot_socket(const wlf_config *cfg, const char *name,
                                 char slot, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s.%c.sock", cfg->socket_dir, name, slot);
    return buf;
}

const char *wlf_path_slot_pid(const wlf_config *cfg, const char *name,
                              char slot, char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s.%c.pid", cfg->socket_dir, name, slot);
    return buf;
}

const char *wlf_path_instance_dir(const wlf_config *cfg, const char *name,
                                  char slot, char *buf, size_t len)
{
    snprintf(buf, len, "%s/fpm/%s.%c", cfg->state_dir, name, slot);
    return buf;
}

const char *wlf_path_account_dir(const wlf_config *cfg, const char *name,
                                 char *buf, size_t len)
{
    snprintf(buf, len, "%s/accounts/%s", cfg->state_dir, name);
    return buf;
}

const char *wlf_path_log_dir(const wlf_config *cfg, const char *name,
                             char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s", cfg->log_dir, name);
    return buf;
}

const char *wlf_path_account_file(const wlf_config *cfg, const char *name,
                                  char *buf, size_t len)
{
    snprintf(buf, len, "%s/%s.conf", cfg->accounts_dir, name);
    return buf;
}

char wlf_slot_of_link(const char *link_path)
{
    char target[512];
    ssize_t n = readlink(link_path, target, sizeof(target) - 1);

    /* target is "NAME.a.sock" or "NAME.b.sock" (relative, same dir) */
    if (n < 7)
        return 0;
    target[n] = '\0';
    if (strcmp(target + n - 5, ".sock") != 0 || target[n - 7] != '.')
        return 0;
    if (target[n - 6] == 'a' || target[n - 6] == 'b')
        return target[n - 6];
    return 0;
}
