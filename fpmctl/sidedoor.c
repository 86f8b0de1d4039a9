/*
 * sidedoor.c - the distribution's own php-fpm pools and PHP handlers that
 * run PHP with httpd's group (see sidedoor.h).
 */
#include "sidedoor.h"

#include <ctype.h>
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fsutil.h"
#include "ops.h"
#include "proc.h"

/* ---- parsers (pure) ---- */

static char *trim(char *s)
{
    char *end;

    while (*s == ' ' || *s == '\t')
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

/* Next line of text into buf (cut to fit); NULL at the end. */
static const char *next_line(const char *text, char *buf, size_t len)
{
    const char *eol;
    size_t n;

    if (text == NULL || *text == '\0')
        return NULL;
    eol = strchr(text, '\n');
    n = eol ? (size_t)(eol - text) : strlen(text);
    snprintf(buf, len, "%.*s", (int)(n < len ? n : len - 1), text);
    return eol ? eol + 1 : text + n;
}

/* An ini value: "quoted", 'quoted', or bare up to a ';' comment. */
static void ini_value(char *v, char *out, size_t len)
{
    char *end;

    v = trim(v);
    if ((*v == '"' || *v == '\'') && (end = strchr(v + 1, *v)) != NULL) {
        snprintf(out, len, "%.*s", (int)(end - v - 1), v + 1);
        return;
    }
    if ((end = strchr(v, ';')) != NULL)
        *end = '\0';
    snprintf(out, len, "%s", trim(v));
}

size_t fpm_parse_pools(const char *text, fpm_pool_identity *pools,
                       size_t max)
{
    char buf[1024];
    size_t n = 0;
    int in_pool = 0;

    while ((text = next_line(text, buf, sizeof(buf))) != NULL) {
        char *p = trim(buf), *eq, *key;
        if (*p == '\0' || *p == ';' || *p == '#')
            continue;
        if (*p == '[') {
            char *end = strchr(p, ']');
            if (end == NULL)
                continue;
            *end = '\0';
            p = trim(p + 1);
            in_pool = strcasecmp(p, "global") != 0;
            if (!in_pool)
                continue;
            if (n < max) {
                memset(&pools[n], 0, sizeof(pools[n]));
                snprintf(pools[n].name, sizeof(pools[n].name), "%s", p);
            }
            n++;
            continue;
        }
        if (!in_pool || n > max || (eq = strchr(p, '=')) == NULL)
            continue;
        *eq = '\0';
        key = trim(p);
        if (strcmp(key, "user") == 0)
            ini_value(eq + 1, pools[n - 1].user, sizeof(pools[n - 1].user));
        else if (strcmp(key, "group") == 0)
            ini_value(eq + 1, pools[n - 1].group,
                      sizeof(pools[n - 1].group));
    }
    return n;
}

int fpm_find_proxy_handler(const char *text, char *line, size_t len)
{
    char buf[2048];

    while ((text = next_line(text, buf, sizeof(buf))) != NULL) {
        char *p = trim(buf), *arg;
        size_t w = strcspn(p, " \t");
        if (*p == '#' || p[w] == '\0')
            continue;
        if (!((w == 10 && strncasecmp(p, "SetHandler", w) == 0) ||
              (w == 10 && strncasecmp(p, "AddHandler", w) == 0)))
            continue;
        arg = trim(p + w);
        if (*arg == '"' || *arg == '\'')
            arg++;
        if (strncasecmp(arg, "proxy:", 6) == 0) {
            snprintf(line, len, "%s", p);
            return 1;
        }
    }
    return 0;
}

int fpm_unit_text_wants(const char *text, const char *unit)
{
    static const char *const keys[] = { "Wants", "Requires", "BindsTo",
                                        "Upholds", "Requisite", NULL };
    char buf[2048];

    while ((text = next_line(text, buf, sizeof(buf))) != NULL) {
        char *p = trim(buf), *eq, *tok, *save;
        int dep = 0;
        if (*p == '#' || *p == ';' || (eq = strchr(p, '=')) == NULL)
            continue;
        *eq = '\0';
        for (int i = 0; keys[i]; i++)
            dep |= strcmp(trim(p), keys[i]) == 0;
        if (!dep)
            continue;
        for (tok = strtok_r(eq + 1, " \t", &save); tok;
             tok = strtok_r(NULL, " \t", &save))
            if (strcmp(tok, unit) == 0)
                return 1;
    }
    return 0;
}

/* ---- this machine ---- */

/* One php-fpm of the distribution: where its pools and handler live. */
typedef struct {
    char pool_dir[PATH_MAX];
    char unit[96];
    char pidfile[PATH_MAX];
    char handler[PATH_MAX];     /* httpd config that sends PHP to it */
} distro_fpm;

typedef struct {
    const wlf_config *cfg;
    const char *root;           /* $WLFCGI_SYSROOT without a final '/' */
    fpm_door_report report;
    void *ctx;
} door_scan;

static char *read_small(const char *path)
{
    char *text;
    size_t n;

    if (fs_read_file(path, &text, &n) < 0)
        return NULL;
    return text;
}

/* running (pid), 2 enabled, 3 started with httpd (`why` names the
 * drop-in), 0 not, -1 masked */
static int unit_state(const door_scan *s, const distro_fpm *d, pid_t *pid,
                      char *why, size_t len)
{
    static const char *const unitdirs[] = {
        "etc/systemd/system", "run/systemd/system", "usr/lib/systemd/system",
        "lib/systemd/system", NULL
    };
    char p[PATH_MAX], target[PATH_MAX];
    char *text;
    glob_t g;
    long v;
    int masked = 0, state = 0;

    *pid = 0;
    if ((text = read_small(d->pidfile)) != NULL) {
        char cmd[256];
        v = strtol(text, NULL, 10);
        free(text);
        if (v > 1 && proc_alive((pid_t)v) &&
            proc_cmdline((pid_t)v, cmd, sizeof(cmd)) == 0 &&
            strncmp(cmd, "php-fpm", 7) == 0) {
            *pid = (pid_t)v;
            return 1;
        }
    }
    for (int i = 0; i < 2; i++) {
        struct stat st;
        ssize_t n;
        fs_path(p, sizeof(p), "%s/%s/%s", s->root, unitdirs[i], d->unit);
        if (lstat(p, &st) < 0)
            continue;
        n = readlink(p, target, sizeof(target) - 1);
        if (n >= 0)
            target[n] = '\0';
        if ((n >= 0 && strcmp(target, "/dev/null") == 0) ||
            (S_ISREG(st.st_mode) && st.st_size == 0))
            masked = 1;
    }
    if (masked)
        return -1;
    fs_path(p, sizeof(p), "%s/etc/systemd/system/*.wants/%s", s->root,
            d->unit);
    if (glob(p, GLOB_NOSORT, NULL, &g) == 0 && g.gl_pathc > 0)
        state = 2;
    globfree(&g);
    if (state)
        return state;
    for (int i = 0; unitdirs[i] && !state; i++) {
        fs_path(p, sizeof(p), "%s/%s/{httpd,apache2}.service.d/*.conf",
                s->root, unitdirs[i]);
        if (glob(p, GLOB_BRACE, NULL, &g) != 0)
            continue;
        for (size_t j = 0; j < g.gl_pathc && !state; j++) {
            if ((text = read_small(g.gl_pathv[j])) == NULL)
                continue;
            if (fpm_unit_text_wants(text, d->unit)) {
                snprintf(why, len, "%s", g.gl_pathv[j]);
                state = 3;
            }
            free(text);
        }
        globfree(&g);
    }
    return state;
}

static void scan_pools(const door_scan *s, const distro_fpm *d)
{
    char p[PATH_MAX], why[PATH_MAX] = "", state_text[PATH_MAX + 256];
    char msg[3 * PATH_MAX + 2048];
    fpm_pool_identity pools[16];
    glob_t g;
    pid_t pid;
    int state = -2;

    fs_path(p, sizeof(p), "%s/*.conf", d->pool_dir);
    if (glob(p, 0, NULL, &g) != 0)
        return;
    for (size_t i = 0; i < g.gl_pathc; i++) {
        char *text = read_small(g.gl_pathv[i]);
        size_t n;
        if (text == NULL)
            continue;
        n = fpm_parse_pools(text, pools, 16);
        free(text);
        for (size_t j = 0; j < n && j < 16; j++) {
            wlf_err err;
            if (pools[j].user[0] == '\0' || getpwnam(pools[j].user) == NULL)
                continue;   /* php-fpm would not start it */
            if (fpm_check_worker_identity(s->cfg, pools[j].user,
                                          pools[j].group[0] ? pools[j].group
                                                            : NULL,
                                          &err) == 0)
                continue;
            if (state == -2) {
                state = unit_state(s, d, &pid, why, sizeof(why));
                switch (state) {
                case 1:
                    snprintf(state_text, sizeof(state_text), "%s is running "
                             "(pid %ld)", d->unit, (long)pid);
                    break;
                case 2:
                    snprintf(state_text, sizeof(state_text), "%s is enabled "
                             "(starts at boot)", d->unit);
                    break;
                case 3:
                    snprintf(state_text, sizeof(state_text), "%s starts "
                             "along with httpd (%s)", d->unit, why);
                    break;
                default:
                    snprintf(state_text, sizeof(state_text), "%s is "
                             "stopped, but nothing keeps it from being "
                             "started", d->unit);
                    break;
                }
            }
            if (state == -1)
                continue;   /* masked and not running: closed for good */
            snprintf(msg, sizeof(msg), "side door: php-fpm pool '%s' in %s "
                     "runs PHP as user %s, and %s; %s. Unless something needs "
                     "that pool: systemctl mask --now %s", pools[j].name,
                     g.gl_pathv[i], pools[j].user, err.msg, state_text,
                     d->unit);
            s->report(s->ctx, state > 0, msg);
        }
    }
    globfree(&g);
    if (state == -2 || state == -1)
        return;     /* no such pool, or it cannot start */
    /* the handler that sends PHP there, for vhosts the module leaves alone */
    {
        struct stat st;
        char line[512];
        char *text;
        if (stat(d->handler, &st) < 0 || !S_ISREG(st.st_mode) ||
            (text = read_small(d->handler)) == NULL)
            return;
        if (fpm_find_proxy_handler(text, line, sizeof(line))) {
            snprintf(msg, sizeof(msg), "%s hands PHP files to %s's own pool "
                     "(%s) in every vhost mod_wlfcgi does not route "
                     "(WLFcgiExtensions none)", d->handler, d->unit, line);
            s->report(s->ctx, 0, msg);
        }
        free(text);
    }
}

/* /etc/php/8.2/fpm/pool.d -> "8.2" (the component after `prefix`) */
static int component_after(const char *path, const char *prefix, char *out,
                           size_t len)
{
    size_t pl = strlen(prefix), n;

    if (strncmp(path, prefix, pl) != 0)
        return -1;
    n = strcspn(path + pl, "/");
    if (n == 0 || n >= len || n > 32)
        return -1;
    snprintf(out, len, "%.*s", (int)n, path + pl);
    return 0;
}

/* Where one distribution's per-version php-fpm keeps its unit, pid file
 * and httpd handler, given the version `v` found in the pool path. */
typedef void (*version_layout)(distro_fpm *d, const char *root,
                               const char *v);

static void debian_layout(distro_fpm *d, const char *root, const char *v)
{
    snprintf(d->unit, sizeof(d->unit), "php%s-fpm.service", v);
    fs_path(d->pidfile, sizeof(d->pidfile), "%s/run/php/php%s-fpm.pid",
            root, v);
    fs_path(d->handler, sizeof(d->handler),
            "%s/etc/apache2/conf-enabled/php%s-fpm.conf", root, v);
}

static void remi_layout(distro_fpm *d, const char *root, const char *v)
{
    snprintf(d->unit, sizeof(d->unit), "%s-php-fpm.service", v);
    fs_path(d->pidfile, sizeof(d->pidfile),
            "%s/var/opt/remi/%s/run/php-fpm/php-fpm.pid", root, v);
    fs_path(d->handler, sizeof(d->handler),
            "%s/etc/httpd/conf.d/%s-php.conf", root, v);
}

/* Scan every pool dir <root><base><version><pool_sub>, one php-fpm per
 * version. */
static void scan_versions(const door_scan *s, const char *root,
                          const char *base, const char *pool_sub,
                          version_layout layout)
{
    char p[PATH_MAX], prefix[PATH_MAX], v[40];
    distro_fpm d;
    glob_t g;

    fs_path(p, sizeof(p), "%s%s*%s", root, base, pool_sub);
    fs_path(prefix, sizeof(prefix), "%s%s", root, base);
    if (glob(p, GLOB_ONLYDIR, NULL, &g) == 0) {
        for (size_t i = 0; i < g.gl_pathc; i++) {
            if (component_after(g.gl_pathv[i], prefix, v, sizeof(v)) < 0)
                continue;
            memset(&d, 0, sizeof(d));
            snprintf(d.pool_dir, sizeof(d.pool_dir), "%s", g.gl_pathv[i]);
            layout(&d, root, v);
            scan_pools(s, &d);
        }
    }
    globfree(&g);
}

void fpm_side_doors(const wlf_config *cfg, fpm_door_report report,
                    void *ctx)
{
    char root[PATH_MAX];
    const char *env = getenv("WLFCGI_SYSROOT");
    door_scan s = { cfg, root, report, ctx };
    distro_fpm d;
    struct stat st;

    snprintf(root, sizeof(root), "%s", env ? env : "");
    for (size_t l = strlen(root); l > 0 && root[l - 1] == '/';)
        root[--l] = '\0';

    /* Fedora, RHEL and relatives */
    memset(&d, 0, sizeof(d));
    fs_path(d.pool_dir, sizeof(d.pool_dir), "%s/etc/php-fpm.d", root);
    if (stat(d.pool_dir, &st) == 0 && S_ISDIR(st.st_mode)) {
        snprintf(d.unit, sizeof(d.unit), "php-fpm.service");
        fs_path(d.pidfile, sizeof(d.pidfile), "%s/run/php-fpm/php-fpm.pid",
                root);
        fs_path(d.handler, sizeof(d.handler), "%s/etc/httpd/conf.d/php.conf",
                root);
        scan_pools(&s, &d);
    }
    /* Debian, Ubuntu: one php-fpm per PHP version */
    scan_versions(&s, root, "/etc/php/", "/fpm/pool.d", debian_layout);
    /* Remi's parallel PHP versions on EL (php81-php-fpm, ...) */
    scan_versions(&s, root, "/etc/opt/remi/", "/php-fpm.d", remi_layout);
}
