/*
 * render.c - php-fpm.conf and the cache ini of an account instance.
 */
#include "render.h"

#include "fsutil.h"

#include <ctype.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wlf_buf.h"

#define MIB (1024LL * 1024)

void fpm_compute_timeouts(const wlf_settings *eff, long long upload_min_rate,
                          fpm_timeouts *t)
{
    long long u = eff->num[WLF_S_UPLOAD_CEILING];

    if (u < eff->num[WLF_S_MAX_UPLOAD])
        u = eff->num[WLF_S_MAX_UPLOAD];
    if (upload_min_rate < 1)
        upload_min_rate = 1;
    t->upload_time = (u + upload_min_rate - 1) / upload_min_rate;
    /* mod_wlfcgi spools a body that could take longer than
     * wlf_stream_seconds() at upload_min_rate before PHP gets it: the
     * worker then reads it from httpd at local speed */
    t->local_read_time = (u + FPM_LOCAL_RATE - 1) / FPM_LOCAL_RATE;
    if (t->upload_time > wlf_stream_seconds(eff))
        t->upload_time = wlf_stream_seconds(eff);
    if (t->local_read_time < t->upload_time)
        t->local_read_time = t->upload_time;
    t->max_input_time = t->local_read_time + 60;
    if (eff->num[WLF_S_REQUEST_TERMINATE_TIMEOUT] > 0)
        t->request_terminate_timeout =
            eff->num[WLF_S_REQUEST_TERMINATE_TIMEOUT];
    else
        t->request_terminate_timeout = eff->num[WLF_S_MAX_EXECUTION_TIME] +
                                       t->local_read_time + 60;
    /* php-fpm keeps seconds in an int */
    if (t->request_terminate_timeout > INT_MAX)
        t->request_terminate_timeout = INT_MAX;
    if (t->max_input_time > INT_MAX)
        t->max_input_time = INT_MAX;
}

int fpm_safe_quoted(const char *s)
{
    size_t len;

    if (s == NULL)
        return 0;
    len = strlen(s);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c == '"' || c == '\\')
            return 0;
        if (c == '$' && i + 1 != len)
            return 0;
    }
    return 1;
}

/* `key = "value"`, refusing anything that could leave the quotes */
static int put_quoted(wlf_buf *b, const char *key, const char *value,
                      wlf_err *err)
{
    if (!fpm_safe_quoted(value))
        return wlf_fail(err, key, "value cannot be written safely to the "
                        "php-fpm configuration");
    wlf_buf_printf(b, "%s = \"%s\"\n", key, value);
    return 0;
}

static int put_admin(wlf_buf *b, const char *key, const char *value,
                     wlf_err *err)
{
    char k[128];

    snprintf(k, sizeof(k), "php_admin_value[%s]", key);
    return put_quoted(b, k, value, err);
}

/*
 * `LINE[key] = "value"` for each pair (startup 0: the keys PHP reads at any
 * time, as pool lines), or `key = "value"` (startup 1: those PHP reads
 * only when the master starts, for its ini file).
 */
static int put_pairs(wlf_buf *b, const char *what, const char *line,
                     const wlf_php_admin *v, size_t n, int startup,
                     wlf_err *err)
{
    for (size_t i = 0; i < n; i++) {
        char field[96], k[160];
        snprintf(field, sizeof(field), "%s.%.64s", what, v[i].key);
        if ((strcmp(what, "env") == 0
                 ? wlf_valid_env_name(v[i].key, field, err)
                 : wlf_valid_ini_key(v[i].key, field, err)) < 0)
            return -1;
        if (strcmp(what, "env") != 0 &&
            wlf_ini_key_startup(v[i].key) != startup)
            continue;
        if (!fpm_safe_quoted(v[i].value))
            return wlf_fail(err, field, "value cannot be written safely to "
                            "the php-fpm configuration");
        if (startup)
            snprintf(k, sizeof(k), "%s", v[i].key);
        else
            snprintf(k, sizeof(k), "%s[%s]", line, v[i].key);
        if (put_quoted(b, k, v[i].value, err) < 0)
            return -1;
    }
    return 0;
}

static int admin_overrides(const wlf_account *acct, const char *key)
{
    for (size_t i = 0; i < acct->n_php_admin; i++)
        if (strcmp(acct->php_admin[i].key, key) == 0)
            return 1;
    return 0;
}

/* account name as section name: only what wlf_valid_account_name allows */
static int plain_name(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_'))
            return 0;
    return 1;
}

char *fpm_render_conf(const wlf_config *cfg, const wlf_account *acct,
                      const wlf_settings *eff, char slot, wlf_err *err)
{
    return fpm_render_instance_conf(cfg, acct, NULL, eff, slot, err);
}

char *fpm_render_instance_conf(const wlf_config *cfg,
                               const wlf_account *acct, const char *version,
                               const wlf_settings *eff, char slot,
                               wlf_err *err)
{
    /* the account's own directories under <state>/accounts/NAME: they
     * survive a slot switch (a systemd unit's PrivateTmp would not) */
    static const struct {
        const char *key, *dir;
    } own_dirs[] = {
        { "upload_tmp_dir", "upload" },
        { "sys_temp_dir", "tmp" },
        { "session.save_path", "sessions" },
    };
    wlf_buf b = { 0 };
    char sock[PATH_MAX], pid[PATH_MAX], logdir[PATH_MAX], acctdir[PATH_MAX];
    char acctfile[PATH_MAX], v[PATH_MAX * 2 + 8], num[32], fpmlog[PATH_MAX];
    char key[WLF_NAME_MAX + 3 + WLF_VERSION_MAX];
    fpm_timeouts t;
    const char *name = acct->name;

    if (slot != 'a' && slot != 'b') {
        wlf_fail(err, "slot", "unknown instance slot '%c'", slot);
        return NULL;
    }
    if (!plain_name(name)) {
        wlf_fail(err, "name", "account name cannot be used as a pool name");
        return NULL;
    }
    if (version && *version && wlf_valid_php_version(version, err) < 0)
        return NULL;
    fpm_compute_timeouts(eff, cfg->upload_min_rate, &t);
    /* the instance's own files: NAME.SLOT, or NAME.vVERSION.SLOT */
    wlf_instance_key(name, version, key, sizeof(key));
    wlf_path_slot_socket(cfg, key, slot, sock, sizeof(sock));
    wlf_path_slot_pid(cfg, key, slot, pid, sizeof(pid));
    wlf_path_fpm_log(cfg, name, version, slot, fpmlog, sizeof(fpmlog));
    wlf_path_log_dir(cfg, name, logdir, sizeof(logdir));
    wlf_path_account_dir(cfg, name, acctdir, sizeof(acctdir));
    wlf_path_account_file(cfg, name, acctfile, sizeof(acctfile));
    if (!fpm_safe_quoted(acctfile)) {
        wlf_fail(err, "paths.accounts", "path cannot be written safely");
        return NULL;
    }

    wlf_buf_printf(&b, "; php-fpm instance %s.%c of wlfcgi account %s.\n"
                   "; Generated by fpmctl from %s.\n"
                   "; Do not edit: change the account with `fpmctl set`; "
                   "`fpmctl rebuild` rewrites this.\n\n", key, slot, name,
                   acctfile);
    wlf_buf_printf(&b, "[global]\n");
    if (put_quoted(&b, "pid", pid, err) < 0)
        goto fail;
    /* each slot's master its own log: no line of the old instance is
     * taken for one of the new during a switch */
    if (put_quoted(&b, "error_log", fpmlog, err) < 0)
        goto fail;
    wlf_buf_printf(&b, "log_level = notice\n"
                   "daemonize = yes\n"
                   "; a graceful stop (SIGQUIT) lets requests run as long as "
                   "they may\n"
                   "process_control_timeout = %llds\n\n",
                   t.request_terminate_timeout);

    wlf_buf_printf(&b, "[%s]\n", name);
    if (put_quoted(&b, "user", acct->user, err) < 0 ||
        put_quoted(&b, "group", acct->group, err) < 0)
        goto fail;
    /* only the primary instance is started on demand; another version's
     * runs while the account is started */
    if (eff->num[WLF_S_ACTIVATION] == WLF_ACTIVATION_ON_DEMAND &&
        !(version && *version)) {
        /* the socket exists before the master and outlives it: php-fpm
         * inherits it (FPM_SOCKETS=<this key>=fd) and unlinks this key,
         * never the socket's own path, when it exits */
        fs_path(v, sizeof(v), "%s/%s.%c.fd", cfg->socket_dir, name, slot);
        wlf_buf_printf(&b, "; on-demand: %s is bound by fpmctl (root, group "
                  "%s, 0660) and\n; handed to this master; the key below "
                  "names it in FPM_SOCKETS\n", sock, cfg->httpd_group);
        if (put_quoted(&b, "listen", v, err) < 0)
            goto fail;
    }
    else {
        if (put_quoted(&b, "listen", sock, err) < 0)
            goto fail;
        /* Whoever can connect controls the pool's admin settings
         * (PHP_ADMIN_VALUE): httpd and root only, never the account's
         * own PHP, so the socket is not the account user's. */
        wlf_buf_puts(&b, "listen.owner = \"" FPM_SOCKET_OWNER "\"\n");
        if (put_quoted(&b, "listen.group", cfg->httpd_group, err) < 0)
            goto fail;
        wlf_buf_printf(&b, "listen.mode = 0660\n");
    }
    if (wlf_settings_check_pm(eff, err) < 0)
        goto fail;
    switch (eff->num[WLF_S_PM]) {
    case WLF_PM_STATIC:
        wlf_buf_printf(&b, "; static: httpd may keep connections to these "
                  "workers open (reuse)\n"
                  "pm = static\n"
                  "pm.max_children = %lld\n", eff->num[WLF_S_MAX_CHILDREN]);
        break;
    case WLF_PM_DYNAMIC:
        wlf_buf_printf(&b, "pm = dynamic\n"
                  "pm.max_children = %lld\n"
                  "pm.min_spare_servers = %lld\n"
                  "pm.max_spare_servers = %lld\n",
                  eff->num[WLF_S_MAX_CHILDREN],
                  eff->num[WLF_S_MIN_SPARE_SERVERS],
                  eff->num[WLF_S_MAX_SPARE_SERVERS]);
        if (eff->num[WLF_S_START_SERVERS] > 0)
            wlf_buf_printf(&b, "pm.start_servers = %lld\n",
                           eff->num[WLF_S_START_SERVERS]);
        break;
    default:
        wlf_buf_printf(&b, "pm = ondemand\n"
                  "pm.max_children = %lld\n"
                  "pm.process_idle_timeout = %llds\n",
                  eff->num[WLF_S_MAX_CHILDREN],
                  eff->num[WLF_S_IDLE_TIMEOUT]);
        break;
    }
    wlf_buf_printf(&b, "%s"
              "pm.max_requests = %lld\n"
              "pm.status_path = " WLF_FPM_STATUS_PATH "\n"
              "ping.path = " WLF_FPM_PING_PATH "\n"
              "; startup errors of workers (rejected php_admin values) go "
              "to error_log\n"
              "catch_workers_output = yes\n"
              "clear_env = yes\n"
              "env[PATH] = \"/usr/local/bin:/usr/bin:/bin\"\n",
              eff->num[WLF_S_MAX_REQUESTS] ? "; recycled workers close "
              "their connections: httpd keeps none open (no reuse)\n"
              : "; no recycling: httpd may keep connections to workers "
              "open\n", eff->num[WLF_S_MAX_REQUESTS]);
    {
        /* what mod_wlfcgi routes to the account (it matches file names
         * case-insensitively, php-fpm does not) */
        size_t n_ext;
        const char *const *ext = wlf_account_script_exts(acct, &n_ext);
        wlf_buf_printf(&b, "security.limit_extensions =");
        for (size_t i = 0; i < n_ext; i++) {
            char up[32];
            size_t k;
            for (k = 0; ext[i][k] && k < sizeof(up) - 1; k++)
                up[k] = (char)toupper((unsigned char)ext[i][k]);
            up[k] = '\0';
            if (strchr(ext[i], ' ') || strchr(ext[i], '\n')) {
                wlf_fail(err, "script_extensions", "invalid extension");
                goto fail;
            }
            wlf_buf_printf(&b, " %s %s", ext[i], up);
        }
        wlf_buf_printf(&b, "\n");
    }
    if (eff->num[WLF_S_SLOWLOG_TIMEOUT] > 0) {
        fs_path(v, sizeof(v), "%s/slow.log", logdir);
        if (put_quoted(&b, "slowlog", v, err) < 0)
            goto fail;
        wlf_buf_printf(&b, "request_slowlog_timeout = %llds\n"
                       "request_slowlog_trace_depth = 20\n",
                       eff->num[WLF_S_SLOWLOG_TIMEOUT]);
    }
    fs_path(v, sizeof(v), "%s/tmp", acctdir);
    if (put_quoted(&b, "env[TMPDIR]", v, err) < 0)
        goto fail;
    if (eff->num[WLF_S_REQUEST_TERMINATE_TIMEOUT] > 0)
        wlf_buf_printf(&b, "; request_terminate_timeout of the account\n");
    else
        wlf_buf_printf(&b, "; max_execution_time + reading the largest body "
                       "from httpd (%llds) + 60s\n", t.local_read_time);
    wlf_buf_printf(&b, "request_terminate_timeout = %llds\n",
                   t.request_terminate_timeout);

    /* what wlfcgi manages; an admin's php_admin.<key> replaces ours */
    if (!admin_overrides(acct, "open_basedir")) {
        fs_path(v, sizeof(v), "%s/:%s/", acct->home, acctdir);
        if (strchr(acct->home, ':')) {
            wlf_fail(err, "home", "may not contain ':'");
            goto fail;
        }
        if (put_admin(&b, "open_basedir", v, err) < 0)
            goto fail;
    }
    for (size_t i = 0; i < sizeof(own_dirs) / sizeof(own_dirs[0]); i++) {
        fs_path(v, sizeof(v), "%s/%s", acctdir, own_dirs[i].dir);
        if (put_admin(&b, own_dirs[i].key, v, err) < 0)
            goto fail;
    }
    fs_path(v, sizeof(v), "%s/php-error.log", logdir);
    if (put_admin(&b, "error_log", v, err) < 0)
        goto fail;
    if (!admin_overrides(acct, "log_errors") &&
        put_admin(&b, "log_errors", "1", err) < 0)
        goto fail;
    /* bytes: PHP knows no T suffix */
    snprintf(num, sizeof(num), "%lld", eff->num[WLF_S_MAX_UPLOAD]);
    if (put_admin(&b, "post_max_size", num, err) < 0 ||
        put_admin(&b, "upload_max_filesize", num, err) < 0)
        goto fail;
    snprintf(num, sizeof(num), "%lld", eff->num[WLF_S_MAX_EXECUTION_TIME]);
    if (put_admin(&b, "max_execution_time", num, err) < 0)
        goto fail;
    if (!admin_overrides(acct, "max_input_time")) {
        snprintf(num, sizeof(num), "%lld", t.max_input_time);
        if (put_admin(&b, "max_input_time", num, err) < 0)
            goto fail;
    }
    if (acct->n_php_admin)
        wlf_buf_printf(&b, "; fpmctl set %s php_admin.KEY=VALUE (those PHP "
                       "reads at the master's start are in its ini file)\n",
                       name);
    if (put_pairs(&b, "php_admin", "php_admin_value", acct->php_admin,
                  acct->n_php_admin, 0, err) < 0)
        goto fail;
    if (acct->n_php_value)
        wlf_buf_printf(&b, "; fpmctl set %s php_value.KEY=VALUE: defaults a "
                       ".user.ini may change\n", name);
    if (put_pairs(&b, "php_value", "php_value", acct->php_value,
                  acct->n_php_value, 0, err) < 0)
        goto fail;
    if (acct->n_env)
        wlf_buf_printf(&b, "; fpmctl set %s env.NAME=VALUE\n", name);
    if (put_pairs(&b, "env", "env", acct->env, acct->n_env, 0, err) < 0)
        goto fail;
    {
        char *out = wlf_buf_finish(&b);
        if (out == NULL)
            wlf_fail(err, "render", "out of memory");
        return out;
    }
fail:
    wlf_buf_free(&b);
    return NULL;
}

static long long ceil_mib(long long bytes)
{
    return (bytes + MIB - 1) / MIB;
}

char *fpm_render_ini(const wlf_config *cfg, const wlf_account *acct,
                     const wlf_settings *eff, wlf_err *err)
{
    wlf_buf b = { 0 };
    char *out;

    if (!plain_name(acct->name)) {
        wlf_fail(err, "name", "invalid account name");
        return NULL;
    }
    wlf_buf_printf(&b, "; OpCache and APCu of wlfcgi account %s, read by its "
                   "php-fpm master\n"
                   "; (PHP_INI_SCAN_DIR). Shared memory is sized per master, "
                   "never per pool.\n"
                   "; Generated by fpmctl; do not edit.\n", acct->name);
    wlf_buf_printf(&b, "opcache.enable=1\n"
                   "opcache.memory_consumption=%lld\n"
                   "opcache.interned_strings_buffer=%lld\n"
                   "opcache.max_accelerated_files=%lld\n"
                   "opcache.validate_timestamps=%d\n"
                   "opcache.revalidate_freq=%lld\n"
                   "apc.enabled=1\n"
                   "apc.shm_size=%lldM\n",
                   ceil_mib(eff->num[WLF_S_OPCACHE_MEMORY]),
                   ceil_mib(eff->num[WLF_S_OPCACHE_INTERNED_STRINGS]),
                   eff->num[WLF_S_OPCACHE_MAX_FILES],
                   eff->num[WLF_S_OPCACHE_VALIDATE_TIMESTAMPS] ? 1 : 0,
                   eff->num[WLF_S_OPCACHE_REVALIDATE_FREQ],
                   ceil_mib(eff->num[WLF_S_APCU_MEMORY]));
    /* php_admin values PHP reads only when the master starts: here the
     * master reads them, so they work per account (a php_admin_value
     * would be taken by the workers and ignored) */
    for (size_t i = 0, first = 1; i < acct->n_php_admin; i++)
        if (wlf_ini_key_startup(acct->php_admin[i].key) && first) {
            wlf_buf_printf(&b, "; fpmctl set %s php_admin.KEY=VALUE, read "
                           "when the master starts\n", acct->name);
            first = 0;
        }
    if (put_pairs(&b, "php_admin", NULL, acct->php_admin,
                  acct->n_php_admin, 1, err) < 0) {
        wlf_buf_free(&b);
        return NULL;
    }
    /* extensions the admin allows, in extensions_allowed's order */
    if (acct->n_extensions)
        wlf_buf_printf(&b, "; fpmctl set %s extensions=...\n", acct->name);
    for (size_t i = 0; i < cfg->n_extensions_allowed; i++) {
        const char *e = cfg->extensions_allowed[i];
        int zend = strncmp(e, "zend:", 5) == 0;
        const char *name = zend ? e + 5 : e;
        for (size_t j = 0; j < acct->n_extensions; j++) {
            if (strcmp(acct->extensions[j], name) != 0)
                continue;
            if (wlf_valid_extension_name(name, "extensions", err) < 0) {
                wlf_buf_free(&b);
                return NULL;
            }
            wlf_buf_printf(&b, "%s=%s\n", zend ? "zend_extension"
                                                : "extension", name);
        }
    }
    out = wlf_buf_finish(&b);
    if (out == NULL)
        wlf_fail(err, "render", "out of memory");
    return out;
}

int fpm_render_all(const wlf_config *cfg, const wlf_account *acct, char slot,
                   fpm_rendered *out, wlf_err *err)
{
    return fpm_render_instance(cfg, acct, NULL, slot, out, err);
}

int fpm_render_instance(const wlf_config *cfg, const wlf_account *acct,
                        const char *version, char slot, fpm_rendered *out,
                        wlf_err *err)
{
    wlf_settings eff;
    const wlf_php_version *php;
    const char *want;

    memset(out, 0, sizeof(*out));
    if (wlf_account_effective(cfg, acct, &eff) < 0)
        return wlf_fail(err, "render", "out of memory");
    want = version && *version ? version : eff.str[WLF_S_PHP];
    php = wlf_config_php(cfg, want);
    if (php == NULL) {
        wlf_fail(err, "php", "unknown PHP version '%s'", want ? want : "");
        wlf_settings_free(&eff);
        return -1;
    }
    out->conf = fpm_render_instance_conf(cfg, acct, version, &eff, slot,
                                         err);
    if (out->conf)
        out->ini = fpm_render_ini(cfg, acct, &eff, err);
    if (out->ini && (out->bin = strdup(php->fpm)) == NULL)
        wlf_fail(err, "render", "out of memory");
    wlf_settings_free(&eff);
    if (out->bin == NULL) {
        fpm_rendered_free(out);
        return -1;
    }
    return 0;
}

void fpm_rendered_free(fpm_rendered *r)
{
    free(r->conf);
    free(r->ini);
    free(r->bin);
    memset(r, 0, sizeof(*r));
}
