/*
 * wlf_load.c - the loader: libconfig files into the account database.
 * The only file that includes libconfig.h.
 */
#include "wlf_load.h"

#include <dirent.h>
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wlf_paths.h"
#include "wlf_size.h"

/* Read the members of a libconfig group that are settings; the others are
 * the caller's (only_keys() refuses unknown ones). */
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

typedef int (*parse_fn)(const config_t *lc, const char *where, void *out,
                        const void *ctx, wlf_err *err);

/*
 * libconfig reports a syntax error on the line where it noticed it: for a
 * quote left open, the line of the next quote; for a bracket left open,
 * past the end of the file. Admins look for the line they got wrong, so
 * these two are found by a scan of our own (no string of these files
 * spans lines); anything else keeps libconfig's line, but never one past
 * the last line with text. Returns the line; *why is set to a better
 * message where the scan found one.
 */
static int syntax_error_line(const char *text, int reported,
                             const char **why)
{
    int line = 1, last_text = 1, depth = 0, open_line[64];
    char open_char[64];
    static char msg[64];
    const char *p = text;

    *why = NULL;
    while (*p) {
        char c = *p;
        if (c == '\n') {
            line++;
            p++;
            continue;
        }
        if (c != ' ' && c != '\t' && c != '\r')
            last_text = line;
        if (c == '#' || (c == '/' && p[1] == '/')) {
            p += strcspn(p, "\n");
            continue;
        }
        if (c == '/' && p[1] == '*') {
            const char *end = strstr(p + 2, "*/");
            for (const char *q = p; *q && (end == NULL || q < end); q++)
                line += *q == '\n';
            p = end ? end + 2 : p + strlen(p);
            continue;
        }
        if (c == '"') {
            for (p++; *p && *p != '"' && *p != '\n'; p++)
                if (*p == '\\' && p[1] && p[1] != '\n')
                    p++;
            if (*p != '"') {
                *why = "the string that starts here is not closed on its "
                       "line (a \" missing?)";
                return line;
            }
            p++;
            continue;
        }
        if (c == '{' || c == '(' || c == '[') {
            if (depth < 64) {
                open_char[depth] = c;
                open_line[depth] = line;
            }
            depth++;
        }
        else if (c == '}' || c == ')' || c == ']') {
            char want = c == '}' ? '{' : c == ')' ? '(' : '[';
            if (depth == 0 || (depth <= 64 && open_char[depth - 1] != want)) {
                snprintf(msg, sizeof(msg), "unexpected '%c'", c);
                *why = msg;
                return line;
            }
            depth--;
        }
        p++;
    }
    if (depth > 0 && depth <= 64) {
        snprintf(msg, sizeof(msg), "'%c' is not closed",
                 open_char[depth - 1]);
        *why = msg;
        return open_line[depth - 1];
    }
    return reported > last_text ? last_text : reported;
}

/* The whole of a small file, or NULL. */
static char *read_small_file(const char *path)
{
    FILE *f = fopen(path, "r");
    char *buf;
    size_t n;

    if (f == NULL)
        return NULL;
    if ((buf = malloc(1 << 20)) == NULL) {
        fclose(f);
        return NULL;
    }
    n = fread(buf, 1, (1 << 20) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

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
        char *copy = path ? read_small_file(path) : NULL;
        const char *src = path ? copy : text, *why = NULL;
        int line = config_error_line(&lc);

        if (src)
            line = syntax_error_line(src, line, &why);
        if (why == NULL)
            why = config_error_text(&lc) ? config_error_text(&lc)
                                         : "syntax error";
        wlf_fail(err, where, "line %d: %s", line, why);
        free(copy);
        config_destroy(&lc);
        return -1;
    }
    rc = fn(&lc, where, out, ctx, err);
    config_destroy(&lc);
    return rc;
}

/* ------------------------------------------------------------------ */
/* the keys of each file                                               */

/* The member names of each group the loader reads: what only_keys()
 * accepts, and what wlf_load_keys() tells the docs. Settings
 * (wlf_setting_defs) are accepted besides where only_keys() says so. */
static const char *const config_keys[] = {
    "service", "httpd_group", "min_uid", "lock_timeout", "start_timeout",
    "drain_time", "upload_min_rate", "max_running", "cgroup_subtree",
    "paths", "php", "defaults", "php_admin_allowed", "php_value_allowed",
    "extensions_allowed", NULL };
static const char *const config_path_keys[] = {
    "accounts", "sockets", "state", "logs", "units", NULL };
static const char *const config_php_keys[] = { "default", "versions", NULL };
static const char *const php_version_keys[] = { "version", "fpm", "cli",
                                                NULL };
static const char *const account_keys[] = {
    "name", "user", "group", "home", "domains", "php_admin", "php_value",
    "env", "extensions", "script_extensions", "suspended", "domain_php",
    NULL };
static const char *const php_admin_keys[] = { "name", "value", NULL };
static const char *const suspended_keys[] = { "since", "reason", NULL };
static const char *const domain_php_keys[] = { "domain", "php", NULL };

static const struct {
    const char *file;
    const char *prefix;         /* where the group is: "paths.", ... */
    const char *const *keys;
} key_groups[] = {
    { "wlfcgi.conf", "", config_keys },
    { "wlfcgi.conf", "paths.", config_path_keys },
    { "wlfcgi.conf", "php.", config_php_keys },
    { "wlfcgi.conf", "php.versions[].", php_version_keys },
    { "account", "", account_keys },
    { "account", "php_admin[].", php_admin_keys },
    { "account", "php_value[].", php_admin_keys },
    { "account", "env[].", php_admin_keys },
    { "account", "suspended.", suspended_keys },
    { "account", "domain_php[].", domain_php_keys },
};

void wlf_load_keys(wlf_key_fn fn, void *arg)
{
    char key[96];

    for (size_t i = 0; i < sizeof(key_groups) / sizeof(key_groups[0]); i++)
        for (const char *const *k = key_groups[i].keys; *k; k++) {
            snprintf(key, sizeof(key), "%s%s", key_groups[i].prefix, *k);
            fn(key_groups[i].file, key, arg);
        }
}

/* ------------------------------------------------------------------ */
/* libconfig helpers                                                   */

static const char *lookup_string(const config_setting_t *g, const char *key)
{
    const char *v = NULL;
    config_setting_t *m = config_setting_get_member(g, key);

    if (m && config_setting_type(m) == CONFIG_TYPE_STRING)
        v = config_setting_get_string(m);
    return v;
}

typedef int (*pair_fn)(void *obj, const char *first, const char *second,
                       const char *where, wlf_err *err);

/* Each entry { keys[0] = "..."; keys[1] = "..."; } of `list` given to
 * add(); `field` names the list in messages. */
static int each_pair(const config_setting_t *list, const char *const *keys,
                     const char *field, const char *where, pair_fn add,
                     void *obj, wlf_err *err)
{
    int n = config_setting_length(list);

    for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(list,
                                                            (unsigned)i);
        const char *first = NULL, *second = NULL;
        if (config_setting_is_group(e)) {
            first = lookup_string(e, keys[0]);
            second = lookup_string(e, keys[1]);
        }
        if (first == NULL || second == NULL)
            return wlf_fail(err, field, "%s, line %d: each entry needs %s "
                            "and %s strings", where,
                            config_setting_source_line(e), keys[0], keys[1]);
        if (add(obj, first, second, where, err) < 0)
            return -1;
    }
    return 0;
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
             wlf_parse_int(config_setting_get_string(m), &v) < 0)
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
/* wlfcgi.conf                                                         */

static int add_php(void *cfg, const char *version, const char *fpm,
                   const char *where, wlf_err *err)
{
    return wlf_config_add_php(cfg, version, fpm, where, err);
}

typedef int (*string_fn)(void *obj, const char *s, wlf_err *err);

/* Each string of array or list g given to add(); `field` names it */
static int each_string(const config_setting_t *g, const char *field,
                       const char *where, string_fn add, void *obj,
                       wlf_err *err)
{
    int n = config_setting_length(g);

    if (!config_setting_is_array(g) && !config_setting_is_list(g))
        return wlf_fail(err, field, "%s: must be a list of strings", where);
    for (int i = 0; i < n; i++) {
        const char *s = config_setting_get_string_elem(g, i);
        if (s == NULL)
            return wlf_fail(err, field, "%s: entry %d is not a string",
                            where, i + 1);
        if (add(obj, s, err) < 0) {
            char msg[sizeof(err->msg)];
            snprintf(msg, sizeof(msg), "%s", err->msg);
            return wlf_fail(err, field, "%s: entry %d: %s", where, i + 1,
                            msg);
        }
    }
    return 0;
}

static int allow_php_admin(void *cfg, const char *k, wlf_err *err)
{
    if (wlf_valid_ini_key(k, "php_admin_allowed", err) < 0)
        return -1;
    return wlf_config_allow_php_admin(cfg, k, err);
}

static int allow_php_value(void *cfg, const char *k, wlf_err *err)
{
    if (wlf_valid_ini_key(k, "php_value_allowed", err) < 0)
        return -1;
    return wlf_config_allow_php_value(cfg, k, err);
}

static int allow_extension(void *cfg, const char *e, wlf_err *err)
{
    return wlf_config_allow_extension(cfg, e, err);
}

static int add_extension(void *acct, const char *e, wlf_err *err)
{
    wlf_account *a = acct;

    if (wlf_strlist_push(&a->extensions, &a->n_extensions, e) < 0)
        return wlf_fail(err, "extensions", "out of memory");
    return 0;
}

static int add_script_ext(void *acct, const char *e, wlf_err *err)
{
    return wlf_account_add_script_ext(acct, e, err);
}

static int parse_config(const config_t *lc, const char *where, void *out,
                        const void *ctx, wlf_err *err)
{
    wlf_config *cfg = out;
    const config_setting_t *root = config_root_setting(lc), *g;
    char *service = NULL, *rate = NULL;
    int rc;

    (void)ctx;
    if (only_keys(root, config_keys, 0, where, err) < 0)
        return -1;
    if (get_string(root, "service", where, 0, &service, err) < 0)
        return -1;
    if (service) {
        rc = wlf_service_parse(service, &cfg->service);
        free(service);
        if (rc < 0)
            return wlf_fail(err, "service", "%s: must be \"direct\" or "
                            "\"systemd\"", where);
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
                err) < 0 ||
        get_int(root, "max_running", where, 0, 1000000, &cfg->max_running,
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
        if (cfg->upload_min_rate < 1 * WLF_KIB)
            return wlf_fail(err, "upload_min_rate", "must be at least 1K");
    }

    if (get_string(root, "cgroup_subtree", where, 0, &cfg->cgroup_subtree,
                   err) < 0)
        return -1;

    g = config_setting_get_member(root, "paths");
    if (g == NULL || !config_setting_is_group(g))
        return wlf_fail(err, "paths", "%s: missing paths group", where);
    if (only_keys(g, config_path_keys, 0, where, err) < 0 ||
        get_string(g, "accounts", where, 1, &cfg->accounts_dir, err) < 0 ||
        get_string(g, "sockets", where, 1, &cfg->socket_dir, err) < 0 ||
        get_string(g, "state", where, 1, &cfg->state_dir, err) < 0 ||
        get_string(g, "logs", where, 1, &cfg->log_dir, err) < 0 ||
        wlf_valid_abs_path(cfg->accounts_dir, "paths.accounts", err) < 0 ||
        wlf_valid_abs_path(cfg->socket_dir, "paths.sockets", err) < 0 ||
        wlf_valid_abs_path(cfg->state_dir, "paths.state", err) < 0 ||
        wlf_valid_abs_path(cfg->log_dir, "paths.logs", err) < 0 ||
        get_string(g, "units", where, 0, &cfg->unit_dir, err) < 0)
        return -1;
    if (wlf_config_builtin_limits(cfg, "") < 0)
        return wlf_fail(err, "paths.units", "out of memory");
    if (wlf_valid_abs_path(cfg->unit_dir, "paths.units", err) < 0 ||
        wlf_valid_cgroup_subtree(cfg->cgroup_subtree, err) < 0)
        return -1;
    /* sun_path is 108 bytes: NAME(32).x.sock must still fit */
    if (strlen(cfg->socket_dir) > WLF_SOCKET_DIR_MAX)
        return wlf_fail(err, "paths.sockets", "'%s' is longer than 64 "
                        "characters; socket paths would not fit",
                        cfg->socket_dir);

    g = config_setting_get_member(root, "php");
    if (g == NULL || !config_setting_is_group(g))
        return wlf_fail(err, "php", "%s: missing php group", where);
    if (only_keys(g, config_php_keys, 0, where, err) < 0 ||
        get_string(g, "default", where, 1, &cfg->php_default, err) < 0)
        return -1;
    {
        const config_setting_t *vs = config_setting_get_member(g, "versions");
        int n = vs ? config_setting_length(vs) : 0;
        if (vs == NULL || !config_setting_is_list(vs) || n == 0)
            return wlf_fail(err, "php.versions", "%s: must list at least one "
                            "{ version = \"...\"; fpm = \"...\"; }", where);
        if (each_pair(vs, php_version_keys, "php.versions", where, add_php,
                      cfg, err) < 0)
            return -1;
        /* optional: the CLI of that version, else the one next to it */
        for (int i = 0; i < n; i++) {
            const config_setting_t *e = config_setting_get_elem(vs,
                                                                (unsigned)i);
            const char *cli = lookup_string(e, "cli");
            if (cli && wlf_config_set_php_cli(cfg, lookup_string(e,
                                              "version"), cli, err) < 0)
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
        if (each_string(g, "php_admin_allowed", where, allow_php_admin, cfg,
                        err) < 0)
            return -1;
    }
    else if (wlf_config_allow_builtin_php_admin(cfg, err) < 0)
        return -1;
    g = config_setting_get_member(root, "php_value_allowed");
    if (g) {
        if (each_string(g, "php_value_allowed", where, allow_php_value, cfg,
                        err) < 0)
            return -1;
    }
    else if (wlf_config_allow_builtin_php_value(cfg, err) < 0)
        return -1;
    g = config_setting_get_member(root, "extensions_allowed");
    if (g && each_string(g, "extensions_allowed", where, allow_extension,
                         cfg, err) < 0)
        return -1;
    return 0;
}

/* path NULL: parse text; `where` names it in messages and in cfg->file */
static int load_config(const char *path, const char *text, const char *where,
                       wlf_config *cfg, wlf_err *err)
{
    wlf_config_builtin(cfg);
    if (with_libconfig(path, text, where, parse_config, cfg, NULL, err) < 0)
        goto fail;
    if ((cfg->file = strdup(where)) == NULL) {
        wlf_fail(err, where, "out of memory");
        goto fail;
    }
    return 0;
fail:
    wlf_config_free(cfg);
    return -1;
}

int wlf_config_load_string(const char *text, const char *name,
                           wlf_config *cfg, wlf_err *err)
{
    return load_config(NULL, text, name, cfg, err);
}

int wlf_config_load(const char *path, wlf_config *cfg, wlf_err *err)
{
    return load_config(path, NULL, path, cfg, err);
}

typedef struct {
    const wlf_config *cfg;
    const char *name;
} account_ctx;

static int add_php_admin(void *acct, const char *key, const char *value,
                         const char *where, wlf_err *err)
{
    if (wlf_account_set_php_admin(acct, key, value) < 0)
        return wlf_fail(err, "php_admin", "out of memory");
    return 0;
}

static int add_domain_php(void *acct, const char *domain, const char *php,
                          const char *where, wlf_err *err)
{
    if (wlf_account_set_domain_php(acct, domain, php) < 0)
        return wlf_fail(err, "domain_php", "out of memory");
    return 0;
}

static int add_php_value(void *acct, const char *key, const char *value,
                         const char *where, wlf_err *err)
{
    if (wlf_account_set_php_value(acct, key, value) < 0)
        return wlf_fail(err, "php_value", "out of memory");
    return 0;
}

static int add_env(void *acct, const char *key, const char *value,
                   const char *where, wlf_err *err)
{
    if (wlf_account_set_env(acct, key, value) < 0)
        return wlf_fail(err, "env", "out of memory");
    return 0;
}

static int parse_account(const config_t *lc, const char *where, void *out,
                         const void *vctx, wlf_err *err)
{
    const account_ctx *ctx = vctx;
    wlf_account *acct = out;
    const config_setting_t *root = config_root_setting(lc), *g;
    char *name = NULL;

    if (only_keys(root, account_keys, 1, where, err) < 0)
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
        if (!config_setting_is_list(g))
            return wlf_fail(err, "php_admin", "%s: must be a list of "
                            "{ name = \"...\"; value = \"...\"; }", where);
        if (each_pair(g, php_admin_keys, "php_admin", where, add_php_admin,
                      acct, err) < 0)
            return -1;
    }
    g = config_setting_get_member(root, "domain_php");
    if (g) {
        if (!config_setting_is_list(g))
            return wlf_fail(err, "domain_php", "%s: must be a list of "
                            "{ domain = \"...\"; php = \"...\"; }", where);
        if (each_pair(g, domain_php_keys, "domain_php", where,
                      add_domain_php, acct, err) < 0)
            return -1;
    }
    g = config_setting_get_member(root, "php_value");
    if (g) {
        if (!config_setting_is_list(g))
            return wlf_fail(err, "php_value", "%s: must be a list of "
                            "{ name = \"...\"; value = \"...\"; }", where);
        if (each_pair(g, php_admin_keys, "php_value", where, add_php_value,
                      acct, err) < 0)
            return -1;
    }
    g = config_setting_get_member(root, "env");
    if (g) {
        if (!config_setting_is_list(g))
            return wlf_fail(err, "env", "%s: must be a list of "
                            "{ name = \"...\"; value = \"...\"; }", where);
        if (each_pair(g, php_admin_keys, "env", where, add_env, acct,
                      err) < 0)
            return -1;
    }
    g = config_setting_get_member(root, "extensions");
    if (g && each_string(g, "extensions", where, add_extension, acct,
                         err) < 0)
        return -1;
    g = config_setting_get_member(root, "script_extensions");
    if (g && each_string(g, "script_extensions", where, add_script_ext, acct,
                         err) < 0)
        return -1;
    g = config_setting_get_member(root, "suspended");
    if (g) {
        const char *since, *reason;
        if (only_keys(g, suspended_keys, 0, where, err) < 0)
            return -1;
        if (!config_setting_is_group(g) ||
            (since = lookup_string(g, "since")) == NULL ||
            (reason = lookup_string(g, "reason")) == NULL)
            return wlf_fail(err, "suspended", "%s, line %d: must be "
                            "{ since = \"...\"; reason = \"...\"; }", where,
                            config_setting_source_line(g));
        if (wlf_account_suspend(acct, since, reason, err) < 0)
            return -1;
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

/* ------------------------------------------------------------------ */
/* the account list                                                    */

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int wlf_account_files(const wlf_config *cfg, char ***names, size_t *n,
                      wlf_err *err)
{
    DIR *dir;
    struct dirent *de;
    char **v = NULL;
    size_t cnt = 0;

    *names = NULL;
    *n = 0;
    if ((dir = opendir(cfg->accounts_dir)) == NULL)
        return wlf_fail(err, "paths.accounts", "cannot read %s: %s",
                        cfg->accounts_dir, strerror(errno));
    for (;;) {
        size_t len;
        char name[NAME_MAX + 1];

        errno = 0;
        if ((de = readdir(dir)) == NULL)
            break;
        len = strlen(de->d_name);
        /* fpmctl's temp and lock files start with a dot */
        if (de->d_name[0] == '.' || len <= 5 ||
            strcmp(de->d_name + len - 5, ".conf") != 0)
            continue;
        snprintf(name, sizeof(name), "%.*s", (int)(len - 5), de->d_name);
        if (wlf_strlist_push(&v, &cnt, name) < 0) {
            closedir(dir);
            wlf_strlist_free(v, cnt);
            return wlf_fail(err, "paths.accounts", "out of memory");
        }
    }
    if (errno != 0) {
        int e = errno;
        closedir(dir);
        wlf_strlist_free(v, cnt);
        return wlf_fail(err, "paths.accounts", "cannot read %s: %s",
                        cfg->accounts_dir, strerror(e));
    }
    closedir(dir);
    if (cnt)
        qsort(v, cnt, sizeof(*v), cmp_names);
    *names = v;
    *n = cnt;
    return 0;
}

static int add_load_error(wlf_account_list *list, const char *name,
                          const char *file, const char *msg)
{
    wlf_load_error e, *n;

    wlf_copy(e.name, sizeof(e.name), name);
    if (wlf_strdup_pair(file, msg, &e.file, &e.msg) < 0)
        return -1;
    n = realloc(list->errors, (list->n_errors + 1) * sizeof(*n));
    if (n == NULL) {
        free(e.file);
        free(e.msg);
        return -1;
    }
    list->errors = n;
    n[list->n_errors++] = e;
    return 0;
}

/* Append acct (moved, not copied) to *v; -1 when out of memory. */
static int add_account(wlf_account **v, size_t *n, wlf_account *acct)
{
    /* room doubles at every power of two: 10,000 accounts are not
     * copied 10,000 times */
    if (*n == 0 || (*n >= 8 && (*n & (*n - 1)) == 0)) {
        wlf_account *nv = realloc(*v, (*n ? *n * 2 : 8) * sizeof(*nv));
        if (nv == NULL)
            return -1;
        *v = nv;
    }
    (*v)[(*n)++] = *acct;
    return 0;
}

/* The first domain of acct that an account already in list owns. */
static const wlf_account *domain_clash(const wlf_account_list *list,
                                       const wlf_account *acct,
                                       const char **domain)
{
    for (size_t d = 0; d < acct->n_domains; d++) {
        const wlf_account *o = wlf_accounts_find_domain(list,
                                                        acct->domains[d]);
        if (o) {
            *domain = acct->domains[d];
            return o;
        }
    }
    return NULL;
}

/* Load one file into list: items, skipped or errors. -1: out of memory. */
static int load_into(const wlf_config *cfg, const char *name,
                     wlf_account_list *list)
{
    char path[PATH_MAX], msg[700];
    wlf_account acct;
    wlf_err e;
    const wlf_account *owner;
    const char *domain;

    wlf_path_account_file(cfg, name, path, sizeof(path));
    if (wlf_account_load(cfg, path, &acct, &e) < 0)
        return add_load_error(list, name, path,
                              wlf_err_line(&e, msg, sizeof(msg)));
    if ((owner = domain_clash(list, &acct, &domain)) != NULL) {
        snprintf(msg, sizeof(msg), "domain '%s' of account '%s' is "
                 "already owned by account '%s'; account '%s' skipped",
                 domain, acct.name, owner->name, acct.name);
        if (add_load_error(list, name, path, msg) == 0 &&
            add_account(&list->skipped, &list->n_skipped, &acct) == 0)
            return 0;
    }
    else if (add_account(&list->items, &list->n, &acct) == 0) {
        /* no index (out of memory) only means slower lookups */
        wlf_account_index_add(list);
        return 0;
    }
    wlf_account_free(&acct);
    return -1;
}

int wlf_accounts_load(const wlf_config *cfg, wlf_account_list *list,
                      wlf_err *err)
{
    char **names;
    size_t n_names;
    int rc = 0;

    memset(list, 0, sizeof(*list));
    if (wlf_account_files(cfg, &names, &n_names, err) < 0)
        return -1;
    for (size_t i = 0; i < n_names && rc == 0; i++)
        if (load_into(cfg, names[i], list) < 0) {
            wlf_account_list_free(list);
            rc = wlf_fail(err, "accounts", "out of memory");
        }
    wlf_strlist_free(names, n_names);
    return rc;
}
