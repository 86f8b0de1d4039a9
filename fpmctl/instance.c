/*
 * instance.c - start, verify, stop and switch php-fpm instance slots.
 */
#include "instance.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "activation.h"
#include "fsutil.h"
#include "proc.h"
#include "resources.h"
#include "wlf_sys.h"

#define PATH_ENV "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:" \
                 "/sbin:/bin"

void fpm_slot_set_dir(fpm_slot *s, const char *dir)
{
    wlf_copy(s->dir, sizeof(s->dir), dir);
    fs_path(s->conf, sizeof(s->conf), "%s/php-fpm.conf", dir);
    fs_path(s->ini_dir, sizeof(s->ini_dir), "%s/ini", dir);
    fs_path(s->ini, sizeof(s->ini), "%s/ini/wlfcgi.ini", dir);
    fs_path(s->bin, sizeof(s->bin), "%s/php-fpm", dir);
}

void fpm_slot_init_version(const wlf_config *cfg, const char *name,
                           const char *version, char slot, fpm_slot *s)
{
    char dir[PATH_MAX];

    memset(s, 0, sizeof(*s));
    wlf_copy(s->name, sizeof(s->name), name);
    wlf_copy(s->version, sizeof(s->version), version ? version : "");
    wlf_instance_key(name, s->version, s->key, sizeof(s->key));
    s->slot = slot;
    fpm_slot_set_dir(s, wlf_path_instance_dir(cfg, s->key, slot, dir,
                                              sizeof(dir)));
    wlf_path_slot_socket(cfg, s->key, slot, s->sock, sizeof(s->sock));
    wlf_path_slot_pid(cfg, s->key, slot, s->pidfile, sizeof(s->pidfile));
    /* each master its own log */
    wlf_path_fpm_log(cfg, name, s->version, slot, s->log, sizeof(s->log));
    snprintf(s->unit, sizeof(s->unit), "wlfcgi-fpm@%s.%c.service", s->key,
             slot);
    snprintf(s->socket_unit, sizeof(s->socket_unit),
             "wlfcgi-fpm@%s.%c.socket", s->key, slot);
}

void fpm_slot_init(const wlf_config *cfg, const char *name, char slot,
                   fpm_slot *s)
{
    fpm_slot_init_version(cfg, name, NULL, slot, s);
}

const char *fpm_systemctl(void)
{
    const char *s = getenv("WLFCGI_SYSTEMCTL");

    return s && *s ? s : "systemctl";
}

/* ---- files of a slot ---- */

/* *out: the link's target, NULL when there is no such link. Returns 0,
 * or -1 with errno set when it could not be read. */
static int read_link_opt(const char *path, char **out)
{
    char buf[PATH_MAX];
    ssize_t n = readlink(path, buf, sizeof(buf) - 1);

    *out = NULL;
    if (n < 0)
        return errno == ENOENT ? 0 : -1;
    buf[n] = '\0';
    if ((*out = strdup(buf)) == NULL) {
        errno = ENOMEM;
        return -1;
    }
    return 0;
}

/* *out: the file's text, NULL when there is no such file; as above. */
static int read_text_opt(const char *path, char **out)
{
    if (fs_read_file(path, out, NULL) < 0)
        return errno == ENOENT ? 0 : -1;
    return 0;
}

static char *read_link(const char *path)
{
    char *target;

    return read_link_opt(path, &target) == 0 ? target : NULL;
}

static char *read_text(const char *path)
{
    char *data;

    return read_text_opt(path, &data) == 0 ? data : NULL;
}

int fpm_slot_snapshot(const fpm_slot *s, fpm_snapshot *snap, wlf_err *err)
{
    const char *failed = NULL;

    memset(snap, 0, sizeof(*snap));
    if (read_text_opt(s->conf, &snap->conf) < 0)
        failed = s->conf;
    else if (read_text_opt(s->ini, &snap->ini) < 0)
        failed = s->ini;
    else if (read_link_opt(s->bin, &snap->bin) < 0)
        failed = s->bin;
    if (failed == NULL)
        return 0;
    wlf_fail(err, s->key, "cannot read %s to keep it: %s", failed,
             strerror(errno));
    fpm_snapshot_free(snap);
    return -1;
}

void fpm_snapshot_free(fpm_snapshot *snap)
{
    free(snap->conf);
    free(snap->ini);
    free(snap->bin);
    memset(snap, 0, sizeof(*snap));
}

static int same_text(const char *path, const char *text)
{
    char *cur = read_text(path);
    int same = cur && strcmp(cur, text) == 0;

    free(cur);
    return same;
}

static int same_link(const char *path, const char *target)
{
    char *cur = read_link(path);
    int same = cur && strcmp(cur, target) == 0;

    free(cur);
    return same;
}

int fpm_slot_matches(const fpm_slot *s, const fpm_rendered *r)
{
    return same_text(s->conf, r->conf) && same_text(s->ini, r->ini) &&
           same_link(s->bin, r->bin);
}

int fpm_slot_write(const fpm_slot *s, const fpm_rendered *r, wlf_err *err)
{
    /* only root reads these: the master starts as root */
    if (fs_ensure_dir(s->dir, 0750, 0, 0, err) < 0 ||
        fs_ensure_dir(s->ini_dir, 0750, 0, 0, err) < 0)
        return -1;
    if (!same_link(s->bin, r->bin) &&
        fs_symlink_atomic(r->bin, s->bin, err) < 0)
        return -1;
    if (!same_text(s->ini, r->ini) &&
        fs_write_atomic(s->ini, r->ini, strlen(r->ini), 0640, err) < 0)
        return -1;
    if (!same_text(s->conf, r->conf) &&
        fs_write_atomic(s->conf, r->conf, strlen(r->conf), 0640, err) < 0)
        return -1;
    return 0;
}

int fpm_slot_restore(const fpm_slot *s, const fpm_snapshot *snap,
                     wlf_err *err)
{
    int rc = 0;

    if (snap->bin ? (!same_link(s->bin, snap->bin) &&
                     fs_symlink_atomic(snap->bin, s->bin, err) < 0)
                  : fs_remove(s->bin, err) < 0)
        rc = -1;
    if (snap->ini ? (!same_text(s->ini, snap->ini) &&
                     fs_write_atomic(s->ini, snap->ini, strlen(snap->ini),
                                     0640, err) < 0)
                  : fs_remove(s->ini, err) < 0)
        rc = -1;
    if (snap->conf ? (!same_text(s->conf, snap->conf) &&
                      fs_write_atomic(s->conf, snap->conf,
                                      strlen(snap->conf), 0640, err) < 0)
                   : fs_remove(s->conf, err) < 0)
        rc = -1;
    if (!snap->bin && !snap->ini && !snap->conf) {
        rmdir(s->ini_dir);
        rmdir(s->dir);
    }
    return rc;
}

int fpm_slot_remove(const fpm_slot *s, wlf_err *err)
{
    return fs_remove_tree(s->dir, err);
}

/* ---- running php-fpm ---- */

static int text_complaint(char *text, char *msg, size_t len);

static void slot_env(const fpm_slot *s, char *scan, size_t len,
                     char *envp[3])
{
    /* the leading ':' keeps the distribution's scan dir and adds ours
     * last, so our cache sizes win */
    snprintf(scan, len, "PHP_INI_SCAN_DIR=:%s", s->ini_dir);
    envp[0] = (char *)PATH_ENV;
    envp[1] = scan;
    envp[2] = NULL;
}

int fpm_slot_test(const fpm_slot *s, wlf_err *err)
{
    char scan[PATH_MAX + 32], line[400];
    char *envp[3];
    char *argv[] = { (char *)s->bin, (char *)"-t", (char *)"--fpm-config",
                     (char *)s->conf, NULL };
    proc_result r;
    long long log_from = fpm_file_size(s->log);

    slot_env(s, scan, sizeof(scan), envp);
    if (proc_run(argv, envp, 30000, &r, err) < 0)
        return -1;
    if (r.status != 0 || r.timed_out) {
        proc_pick_line(r.out, "ERROR:", line, sizeof(line));
        wlf_fail(err, s->key, "php-fpm -t rejected the configuration: %s",
                 line);
        proc_result_free(&r);
        return -1;
    }
    /* php-fpm -t loads the extensions and the ini files and only warns
     * (an extension missing or loaded twice), on standard error or in
     * its log: what the master would say when it starts */
    if (text_complaint(r.out, line, sizeof(line)) ||
        fpm_log_complaint(s->log, log_from, line, sizeof(line))) {
        proc_result_free(&r);
        return wlf_fail(err, s->name, "php-fpm -t: %s", line);
    }
    proc_result_free(&r);
    return 0;
}

pid_t fpm_slot_pidfile(const fpm_slot *s)
{
    char *data;
    long pid;

    if (fs_read_file(s->pidfile, &data, NULL) < 0)
        return 0;
    pid = strtol(data, NULL, 10);
    free(data);
    return pid > 1 ? (pid_t)pid : 0;
}

/* Is pid the master of this slot? Its title names our config file. */
static int is_slot_master(const fpm_slot *s, pid_t pid)
{
    char cmd[PATH_MAX + 128];
    const char *title = "php-fpm: master process (";
    const char *rest;
    char argv_form[PATH_MAX + 32];

    if (!proc_alive(pid) || proc_cmdline(pid, cmd, sizeof(cmd)) < 0)
        return 0;
    /* before php-fpm sets its title: the argv we (or the unit) gave */
    snprintf(argv_form, sizeof(argv_form), "--fpm-config %s", s->conf);
    if (strstr(cmd, argv_form))
        return 1;
    if (strncmp(cmd, title, strlen(title)) != 0)
        return 0;
    rest = cmd + strlen(title);
    /* the title may be cut short; what is there must be our path */
    size_t n = strcspn(rest, ")");
    return n > 0 && strncmp(rest, s->conf, n) == 0;
}

pid_t fpm_slot_pid(const fpm_slot *s)
{
    pid_t pid = fpm_slot_pidfile(s);

    return pid && is_slot_master(s, pid) ? pid : 0;
}

long long fpm_file_size(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? (long long)st.st_size : 0;
}

/*
 * Lines php-fpm logged since `from` that say the new instance is not
 * right: FPM errors, and PHP startup messages of its workers (with
 * catch_workers_output, e.g. a php_admin value PHP refused). Returns 1 and
 * the line in msg when there is one.
 */
static int text_complaint(char *text, char *msg, size_t len)
{
    static const char *const bad[] = {
        "ERROR:", "ALERT:", "PHP Warning:", "PHP Fatal error:",
        "PHP Parse error:", "PHP Startup:", NULL
    };
    char *p;
    size_t n;
    int found = 0;

    for (p = text; p && *p && !found;) {
        char *eol = strchr(p, '\n');
        if (eol)
            *eol = '\0';
        for (int i = 0; bad[i]; i++) {
            char *hit = strstr(p, bad[i]);
            char *inner;
            if (hit == NULL)
                continue;
            /* a worker's line: keep what it said, not FPM's wrapping */
            inner = strstr(p, "said into stderr: \"");
            if (inner) {
                hit = strstr(inner, bad[i]);
                if (hit == NULL)
                    hit = inner + strlen("said into stderr: \"");
            }
            snprintf(msg, len, "%s", hit);
            n = strlen(msg);
            if (inner && n && msg[n - 1] == '"')
                msg[n - 1] = '\0';
            found = 1;
            break;
        }
        p = eol ? eol + 1 : NULL;
    }
    return found;
}

int fpm_log_complaint(const char *log, long long from, char *msg,
                      size_t len)
{
    char *data;
    size_t n;
    int found;

    if (fs_read_file(log, &data, &n) < 0)
        return 0;
    if (from > (long long)n)
        from = 0;   /* rotated meanwhile */
    found = text_complaint(data + from, msg, len);
    free(data);
    return found;
}

int fpm_slot_start(const fpm_ctx *ctx, const fpm_slot *s, int inherit_fd,
                   pid_t *pid_out, wlf_err *err)
{
    return fpm_slot_start_with(ctx, s, NULL, inherit_fd, pid_out, err);
}

int fpm_slot_start_with(const fpm_ctx *ctx, const fpm_slot *s,
                        const wlf_limits *limits, int inherit_fd,
                        pid_t *pid_out, wlf_err *err)
{
    const wlf_config *cfg = &ctx->cfg;
    long long t0 = wlf_now_ms();
    long long deadline = t0 + cfg->start_timeout * 1000;
    long long log_from = fpm_file_size(s->log);
    char line[400];
    proc_result r;
    wlf_err perr;
    pid_t pid = 0;
    fpm_cg_join join;

    *pid_out = 0;
    /* every master of the account starts inside its limits */
    if (fpm_limits_enter(ctx, s->name, s->key, limits, &join, err) < 0)
        return -1;
    if (cfg->service == WLF_SERVICE_SYSTEMD) {
        char *argv[] = { (char *)fpm_systemctl(), (char *)"start",
                         (char *)s->unit, NULL };
        fpm_info(ctx, "%s: systemctl start %s", s->key, s->unit);
        if (proc_run(argv, NULL, (int)(cfg->start_timeout * 1000 + 5000),
                     &r, err) < 0)
            return -1;
        if (r.status != 0 || r.timed_out) {
            proc_pick_line(r.out, NULL, line, sizeof(line));
            proc_result_free(&r);
            if (fpm_log_complaint(s->log, log_from, line, sizeof(line)))
                return wlf_fail(err, s->key, "php-fpm did not start: %s",
                                line);
            return wlf_fail(err, s->key, "systemctl start %s failed: %s",
                            s->unit, line);
        }
        proc_result_free(&r);
    }
    else {
        char scan[PATH_MAX + 32], sockets[PATH_MAX + 64];
        char *envp[4];
        char *argv[] = { (char *)s->bin, (char *)"--fpm-config",
                         (char *)s->conf, NULL };
        slot_env(s, scan, sizeof(scan), envp);
        if (inherit_fd >= 0) {
            /* on-demand: php-fpm takes the socket we bound (activation.h) */
            envp[2] = (char *)fpm_inherit_env(cfg, s->name, s->slot,
                                              inherit_fd, sockets,
                                              sizeof(sockets));
            envp[3] = NULL;
        }
        fpm_info(ctx, "%s: starting %s --fpm-config %s", s->key, s->bin,
                 s->conf);
        if (proc_run_fd_in(argv, envp, join.n ? join.join : NULL,
                           inherit_fd, (int)(cfg->start_timeout * 1000), &r,
                           err) < 0)
            return -1;
        if (r.status != 0 || r.timed_out) {
            proc_pick_line(r.out, "ERROR:", line, sizeof(line));
            if (r.timed_out)
                snprintf(line, sizeof(line), "no answer within %lld s",
                         cfg->start_timeout);
            else if (strstr(r.out, "ERROR:") == NULL)
                fpm_log_complaint(s->log, log_from, line, sizeof(line));
            proc_result_free(&r);
            return wlf_fail(err, s->key, "php-fpm did not start: %s", line);
        }
        /* what php-fpm -t would have warned about (an extension missing
         * or loaded twice) the master says on standard error as well */
        if (text_complaint(r.out, line, sizeof(line))) {
            proc_result_free(&r);
            return wlf_fail(err, s->name, "php-fpm: %s", line);
        }
        proc_result_free(&r);
    }

    /* the new master must answer on its own socket */
    wlf_err_clear(&perr);
    for (;;) {
        long long left = deadline - wlf_now_ms();
        if (left <= 0)
            return wlf_fail(err, s->key, "the new instance did not answer "
                            "a FastCGI ping within %lld s (%s)",
                            cfg->start_timeout, perr.msg[0] ? perr.msg
                                                            : "no answer");
        if (wlf_fcgi_ping(s->sock, WLF_FPM_PING_PATH,
                          (int)(left < 2000 ? left : 2000), &perr) == 0)
            break;
        proc_sleep_ms(5);
    }
    fpm_info(ctx, "%s: slot %c answered a FastCGI ping after %lld ms",
             s->key, s->slot, wlf_now_ms() - t0);
    /* the worker that answered has applied the php_admin values; give the
     * master a moment to log what it said at startup */
    proc_sleep_ms(20);
    if (fpm_log_complaint(s->log, log_from, line, sizeof(line)))
        return wlf_fail(err, s->key, "php-fpm: %s", line);
    while ((pid = fpm_slot_pid(s)) == 0 && wlf_now_ms() < deadline)
        proc_sleep_ms(5);
    if (pid == 0)
        return wlf_fail(err, s->key, "the new instance wrote no usable pid "
                        "file %s", s->pidfile);
    *pid_out = pid;
    return 0;
}

/* Was the slot rendered for an on-demand account (its listen line names
 * an inherited socket's key, <sockets>/NAME.SLOT.fd)? Then systemd mode
 * has a socket unit for it as well. */
static int slot_is_on_demand(const fpm_slot *s)
{
    char *conf = read_text(s->conf), *line;
    int od = 0;

    if (conf && (line = strstr(conf, "\nlisten = \"")) != NULL) {
        char *eol = strchr(line + 1, '\n');
        od = eol && eol - line > 5 && strncmp(eol - 4, ".fd\"", 4) == 0;
    }
    free(conf);
    return od;
}

static void kill_all(pid_t *pids, size_t n, int sig)
{
    for (size_t i = 0; i < n; i++)
        if (pids[i] > 1)
            kill(pids[i], sig);
}

int fpm_slot_stop(const fpm_ctx *ctx, const fpm_slot *s, long long wait_ms,
                  int *was_running, wlf_err *err)
{
    pid_t pid = fpm_slot_pid(s);
    pid_t kids[512];
    size_t n;

    *was_running = pid != 0;
    if (pid)
        fpm_retire_counters(&ctx->cfg, s->name, s->sock, pid);
    if (ctx->cfg.service == WLF_SERVICE_SYSTEMD) {
        char *argv[] = { (char *)fpm_systemctl(), (char *)"stop",
                         (char *)s->unit, NULL, NULL };
        if (slot_is_on_demand(s))
            argv[3] = (char *)s->socket_unit;
        proc_result r;
        fpm_info(ctx, "%s: systemctl stop %s%s%s", s->key, s->unit,
                 argv[3] ? " " : "", argv[3] ? argv[3] : "");
        if (proc_run(argv, NULL, (int)(wait_ms + 5000), &r, err) == 0) {
            if (r.status != 0) {
                char line[300];
                fpm_info(ctx, "%s: systemctl stop %s: %s", s->key, s->unit,
                         proc_pick_line(r.out, NULL, line, sizeof(line)));
            }
            proc_result_free(&r);
        }
        /* whatever systemd did, the master must be gone; if not, the
         * direct way below finishes the job */
        if (pid)
            proc_wait_gone(pid, 1000);
    }
    if (pid && proc_alive(pid)) {
        fpm_info(ctx, "%s: SIGQUIT to master %ld of slot %c", s->key,
                 (long)pid, s->slot);
        kill(pid, SIGQUIT);
        if (!proc_wait_gone(pid, wait_ms)) {
            n = proc_children(pid, kids, 512);
            fpm_info(ctx, "%s: master %ld still running after %lld ms; "
                     "SIGTERM", s->key, (long)pid, wait_ms);
            kill(pid, SIGTERM);
            if (!proc_wait_gone(pid, 2000)) {
                n = proc_children(pid, kids, 512);
                kill(pid, SIGKILL);
                kill_all(kids, n, SIGKILL);
                proc_wait_gone(pid, 2000);
            }
        }
    }
    /* workers whose master died keep accepting on the old socket */
    n = proc_socket_holders(s->sock, kids, 512);
    if (n) {
        fpm_info(ctx, "%s: killing %zu orphaned worker(s) of slot %c",
                 s->key, n, s->slot);
        kill_all(kids, n, SIGKILL);
        for (size_t i = 0; i < n; i++)
            proc_wait_gone(kids[i], 2000);
    }
    if (fpm_slot_pid(s) != 0)
        return wlf_fail(err, s->key, "master of slot %c did not exit",
                        s->slot);
    /* a master that was killed leaves these behind */
    if (fs_remove(s->pidfile, err) < 0 || fs_remove(s->sock, err) < 0)
        return -1;
    return 0;
}

int fpm_slot_start_socket_unit(const fpm_ctx *ctx, const fpm_slot *s,
                               wlf_err *err)
{
    char *argv[] = { (char *)fpm_systemctl(), (char *)"start",
                     (char *)s->socket_unit, NULL };
    char line[400];
    proc_result r;

    fpm_info(ctx, "%s: systemctl start %s", s->name, s->socket_unit);
    if (proc_run(argv, NULL, 30000, &r, err) < 0)
        return -1;
    if (r.status != 0 || r.timed_out) {
        proc_pick_line(r.out, NULL, line, sizeof(line));
        proc_result_free(&r);
        return wlf_fail(err, s->name, "systemctl start %s failed: %s",
                        s->socket_unit, line);
    }
    proc_result_free(&r);
    return 0;
}

void fpm_slot_quit(const fpm_ctx *ctx, const fpm_slot *s, pid_t pid)
{
    /* its counts go to the account's totals before it goes */
    if (pid > 1 && fpm_slot_pid(s) == pid)
        fpm_retire_counters(&ctx->cfg, s->name, s->sock, pid);
    if (ctx->cfg.service == WLF_SERVICE_SYSTEMD) {
        char *argv[] = { (char *)fpm_systemctl(), (char *)"stop",
                         (char *)"--no-block", (char *)s->unit, NULL, NULL };
        if (slot_is_on_demand(s))
            argv[4] = (char *)s->socket_unit;
        proc_result r;
        wlf_err err;
        if (proc_run(argv, NULL, 10000, &r, &err) == 0)
            proc_result_free(&r);
        return;
    }
    /* only if that pid is still this slot's master */
    if (pid > 1 && fpm_slot_pid(s) == pid)
        kill(pid, SIGQUIT);
}

/* ---- the live slot ---- */

const char *fpm_live_path(const wlf_config *cfg, const char *name, char *buf,
                          size_t len)
{
    snprintf(buf, len, "%s/fpm/%s.live", cfg->state_dir, name);
    return buf;
}

char fpm_live_slot(const wlf_config *cfg, const char *name)
{
    char path[PATH_MAX], target[PATH_MAX];
    char slot;
    ssize_t n;
    size_t nlen = strlen(name);

    wlf_path_socket(cfg, name, path, sizeof(path));
    if ((slot = wlf_slot_of_link(path)) != 0)
        return slot;
    /* NAME.live -> "NAME.a" */
    fpm_live_path(cfg, name, path, sizeof(path));
    n = readlink(path, target, sizeof(target) - 1);
    if (n < 0)
        return 0;
    target[n] = '\0';
    if ((size_t)n == nlen + 2 && strncmp(target, name, nlen) == 0 &&
        target[nlen] == '.' && (target[nlen + 1] == 'a' ||
                                target[nlen + 1] == 'b'))
        return target[nlen + 1];
    return 0;
}

int fpm_switch_live(const wlf_config *cfg, const char *name, char slot,
                    wlf_err *err)
{
    char path[PATH_MAX], target[WLF_NAME_MAX + 16];

    /* relative, in the same directory: what wlf_slot_of_link() reads */
    snprintf(target, sizeof(target), "%s.%c.sock", name, slot);
    wlf_path_socket(cfg, name, path, sizeof(path));
    if (fs_symlink_atomic(target, path, err) < 0)
        return -1;
    snprintf(target, sizeof(target), "%s.%c", name, slot);
    fpm_live_path(cfg, name, path, sizeof(path));
    /* already so (serve arming thousands of accounts at boot): no write */
    if (same_link(path, target))
        return 0;
    return fs_symlink_atomic(target, path, err);
}

int fpm_link_suspended(const wlf_config *cfg, const char *name,
                       wlf_err *err)
{
    char path[PATH_MAX], target[WLF_NAME_MAX + 16];

    wlf_path_socket(cfg, name, path, sizeof(path));
    return fs_symlink_atomic(wlf_suspended_target(name, target,
                                                  sizeof(target)),
                             path, err);
}

int fpm_unlink_socket(const wlf_config *cfg, const char *name, wlf_err *err)
{
    char path[PATH_MAX];

    wlf_path_socket(cfg, name, path, sizeof(path));
    return fs_remove(path, err);
}

/* ---- state ---- */

const char *fpm_state_name(fpm_state st)
{
    switch (st) {
    case FPM_RUNNING: return "running";
    case FPM_DEAD: return "dead";
    case FPM_UNRESPONSIVE: return "unresponsive";
    case FPM_IDLE: return "idle";
    case FPM_STARTING: return "starting";
    case FPM_SUSPENDED: return "suspended";
    case FPM_STOPPED: break;
    }
    return "stopped";
}

void fpm_instance_probe(const wlf_config *cfg, const char *name,
                        int ask_pool, fpm_probe *p)
{
    fpm_instance_probe_version(cfg, name, NULL, ask_pool, p);
}

void fpm_instance_probe_version(const wlf_config *cfg, const char *name,
                                const char *version, int ask_pool,
                                fpm_probe *p)
{
    fpm_slot s;
    wlf_err err;
    pid_t stale;

    memset(p, 0, sizeof(*p));
    p->state = FPM_STOPPED;
    fpm_slot_init_version(cfg, name, version, 'a', &s);
    p->slot = fpm_live_slot(cfg, s.key);
    if (p->slot == 0) {
        /* nothing recorded (a first start was interrupted): whichever
         * slot has a master */
        fpm_slot_init_version(cfg, name, version, 'b', &s);
        p->slot = fpm_slot_pid(&s) ? 'b' : 'a';
        if (p->slot == 'a') {
            fpm_slot_init_version(cfg, name, version, 'a', &s);
            if (fpm_slot_pid(&s) == 0 && fpm_slot_pidfile(&s) == 0)
                p->slot = 0;
        }
    }
    fpm_slot_init_version(cfg, name, version, p->slot ? p->slot : 'a', &s);
    /* the pid file once: list and check read it for every account */
    stale = fpm_slot_pidfile(&s);
    p->pid = stale && is_slot_master(&s, stale) ? stale : 0;
    if (p->pid == 0) {
        char link[PATH_MAX];
        if (wlf_link_state(wlf_path_socket(cfg, name, link, sizeof(link)))
            == WLF_LINK_SUSPENDED)
            p->state = FPM_SUSPENDED;
        if (stale) {
            p->state = FPM_DEAD;
            p->pid = stale;
            fs_path(p->error, sizeof(p->error), "pid file %s names pid %ld, "
                     "which is not this instance's running master",
                     s.pidfile, (long)stale);
        }
        return;
    }
    if (p->pid == 0)
        return;
    p->state = FPM_RUNNING;
    if (!ask_pool)
        return;
    if (wlf_fpm_status_fetch(s.sock, WLF_FPM_STATUS_PATH, 3000, &p->status,
                             &err) == 0) {
        p->have_status = 1;
        return;
    }
    wlf_copy(p->error, sizeof(p->error), err.msg);
    p->state = strstr(err.msg, "timed out") || strstr(err.msg, "no answer")
                   ? FPM_UNRESPONSIVE : FPM_DEAD;
}

size_t fpm_instances_on_disk(const wlf_config *cfg, const char *name,
                             char (*versions)[WLF_VERSION_MAX + 1],
                             size_t max)
{
    /* what an instance of KEY leaves: in <state>/fpm and in <sockets> */
    static const char *const state[] = { ".live", ".a", ".b" };
    static const char *const run[] = { ".sock", ".a.sock", ".b.sock",
                                       ".a.pid", ".b.pid" };
    size_t n = 0;

    /* one lstat per candidate, not a scan of directories that hold every
     * account's files; versions no longer in php.versions are left to
     * `fpmctl check`, which reports whatever names it finds there */
    for (size_t v = 0; v < cfg->n_php_versions && n < max; v++) {
        char key[FPM_KEY_MAX + 1], path[PATH_MAX];
        struct stat st;
        int found = 0;

        wlf_instance_key(name, cfg->php_versions[v].version, key,
                         sizeof(key));
        for (size_t i = 0; i < 3 && !found; i++)
            found = fs_path(path, sizeof(path), "%s/fpm/%s%s",
                            cfg->state_dir, key, state[i]) == 0 &&
                    lstat(path, &st) == 0;
        for (size_t i = 0; i < 5 && !found; i++)
            found = fs_path(path, sizeof(path), "%s/%s%s", cfg->socket_dir,
                            key, run[i]) == 0 && lstat(path, &st) == 0;
        if (found)
            wlf_copy(versions[n++], sizeof(versions[0]),
                     cfg->php_versions[v].version);
    }
    return n;
}
