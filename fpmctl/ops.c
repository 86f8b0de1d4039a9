/*
 * ops.c - account-level operations: the change procedure and friends.
 */
#include "ops.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "activation.h"
#include "args.h"
#include "confwrite.h"
#include "fsutil.h"
#include "instance.h"
#include "proc.h"
#include "render.h"
#include "resources.h"
#include "wlf_fcgi.h"
#include "wlf_sys.h"

int fpm_account_load(const fpm_ctx *ctx, const char *name, wlf_account *acct,
                     wlf_err *err)
{
    char path[PATH_MAX];
    struct stat st;

    wlf_account_init(acct);
    if (wlf_valid_account_name(name, err) < 0)
        return FPM_EXIT_USAGE;
    wlf_path_account_file(&ctx->cfg, name, path, sizeof(path));
    if (stat(path, &st) < 0 && errno == ENOENT) {
        wlf_fail(err, name, "no such account (no %s)", path);
        return FPM_EXIT_NO_ACCOUNT;
    }
    if (wlf_account_load(&ctx->cfg, path, acct, err) < 0)
        return FPM_EXIT_FAILED;
    return FPM_EXIT_OK;
}

int fpm_account_ids(const wlf_account *acct, uid_t *uid, gid_t *gid,
                    wlf_err *err)
{
    struct passwd *pw;
    struct group *gr;

    errno = 0;
    if ((pw = getpwnam(acct->user)) == NULL)
        return wlf_fail(err, "user", "no such user '%s'", acct->user);
    if ((gr = getgrnam(acct->group)) == NULL)
        return wlf_fail(err, "group", "no such group '%s'", acct->group);
    *uid = pw->pw_uid;
    *gid = gr->gr_gid;
    return 0;
}

int fpm_check_home(const char *home, wlf_err *err)
{
    struct stat st;

    if (wlf_valid_home(home, err) < 0)
        return -1;
    if (stat(home, &st) < 0 || !S_ISDIR(st.st_mode))
        return wlf_fail(err, "home", "'%.60s' is not an existing directory",
                        home);
    return 0;
}

static int base_dir(const char *path, mode_t mode, int fix, wlf_err *err)
{
    struct stat st;

    if (!fix && lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    return fs_ensure_dir(path, mode, 0, 0, err);
}

int fpm_httpd_gid(const wlf_config *cfg, gid_t *gid, wlf_err *err)
{
    struct group *gr;

    errno = 0;
    if ((gr = getgrnam(cfg->httpd_group)) == NULL)
        return wlf_fail(err, "httpd_group", "no such group '%s' (the group "
                        "httpd runs as, in wlfcgi.conf)", cfg->httpd_group);
    *gid = gr->gr_gid;
    return 0;
}

int fpm_ensure_base_dirs(const wlf_config *cfg, int fix, wlf_err *err)
{
    char p[PATH_MAX];
    gid_t httpd_gid = (gid_t)-1;

    if (fpm_httpd_gid(cfg, &httpd_gid, err) < 0)
        return -1;
    /* account files: root only; mod_wlfcgi reads them as root at start */
    if (base_dir(cfg->accounts_dir, 0750, fix, err) < 0 ||
        /* Only root and httpd's group may even reach the sockets: a second
         * barrier behind the sockets' own mode. Always put right, since a
         * directory made by an older version was open to everybody. */
        fs_ensure_dir(cfg->socket_dir, FPM_SOCKET_DIR_MODE, 0, httpd_gid,
                      err) < 0 ||
        base_dir(cfg->state_dir, 0755, fix, err) < 0 ||
        base_dir(cfg->log_dir, 0755, fix, err) < 0)
        return -1;
    fs_path(p, sizeof(p), "%s/fpm", cfg->state_dir);
    if (base_dir(p, 0750, fix, err) < 0)
        return -1;
    /* users reach their own dirs below, but cannot list the accounts */
    fs_path(p, sizeof(p), "%s/accounts", cfg->state_dir);
    return base_dir(p, 0711, fix, err);
}

int fpm_ensure_log_dir(const wlf_config *cfg, const char *name, wlf_err *err)
{
    char p[PATH_MAX];
    struct stat st;

    wlf_path_log_dir(cfg, name, p, sizeof(p));
    /* its group is the account's once fpm_ensure_account_dirs() ran */
    if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
        return 0;
    return fs_ensure_dir(p, 0750, 0, 0, err);
}

int fpm_ensure_account_dirs(const wlf_config *cfg, const wlf_account *acct,
                            wlf_err *err)
{
    static const char *const subdirs[] = { "tmp", "upload", "sessions" };
    static const char *const master_logs[] = { "fpm.a.log", "fpm.b.log",
                                               "slow.log" };
    char dir[PATH_MAX], p[PATH_MAX + 32];
    uid_t uid;
    gid_t gid;

    if (fpm_account_ids(acct, &uid, &gid, err) < 0)
        return -1;
    wlf_path_account_dir(cfg, acct->name, dir, sizeof(dir));
    /* root-owned: the user cannot swap the subdirectories for symlinks */
    if (fs_ensure_dir(dir, 0711, 0, 0, err) < 0)
        return -1;
    for (size_t i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
        fs_path(p, sizeof(p), "%s/%s", dir, subdirs[i]);
        if (fs_ensure_dir(p, 0700, uid, gid, err) < 0)
            return -1;
    }
    /* the account's logs: root's directory (no link or file of the
     * user's can appear in it), readable by the account's group only */
    wlf_path_log_dir(cfg, acct->name, dir, sizeof(dir));
    if (fs_ensure_dir(dir, 0750, 0, gid, err) < 0)
        return -1;
    /* PHP's errors: its workers write them, as the user */
    fs_path(p, sizeof(p), "%s/php-error.log", dir);
    if (fs_ensure_file(p, 0640, uid, gid, err) < 0)
        return -1;
    /* what the masters write (as root): made here, so that php-fpm finds
     * them with the account's group instead of creating them 0600 */
    for (size_t i = 0; i < sizeof(master_logs) / sizeof(master_logs[0]);
         i++) {
        fs_path(p, sizeof(p), "%s/%s", dir, master_logs[i]);
        if (fs_ensure_file(p, 0640, 0, gid, err) < 0)
            return -1;
    }
    return 0;
}

int fpm_check_worker_identity(const wlf_config *cfg, const char *user,
                              const char *group, wlf_err *err)
{
    struct passwd *pw;
    struct group *gr;
    gid_t httpd_gid = (gid_t)-1, gid, *groups = NULL;
    int n = 64, rc = 0;

    if (fpm_httpd_gid(cfg, &httpd_gid, err) < 0)
        return -1;
    errno = 0;
    if ((pw = getpwnam(user)) == NULL)
        return wlf_fail(err, "user", "no such user '%s'", user);
    if (pw->pw_uid == 0)
        return wlf_fail(err, "user", "'%s' has uid 0; PHP may not run as "
                        "root", user);
    if (pw->pw_gid == httpd_gid)
        return wlf_fail(err, "user", "'%s' has httpd's group '%s' as its "
                        "primary group (httpd's own user?): its PHP could "
                        "connect to every account's socket", user,
                        cfg->httpd_group);
    if (group == NULL)
        gid = pw->pw_gid;
    else if ((gr = getgrnam(group)) == NULL)
        return wlf_fail(err, "group", "no such group '%s'", group);
    else
        gid = gr->gr_gid;
    if (gid == httpd_gid)
        return wlf_fail(err, "group", "'%s' is httpd's group: PHP running "
                        "with it could connect to every account's socket",
                        cfg->httpd_group);
    /* the workers get initgroups(user, gid): these groups exactly */
    for (int tries = 0;; tries++) {
        int want = n;
        free(groups);
        if ((groups = malloc((size_t)n * sizeof(*groups))) == NULL)
            return wlf_fail(err, "user", "out of memory");
        if (getgrouplist(user, gid, groups, &want) >= 0) {
            n = want;
            break;
        }
        if (tries == 2 || want <= n) {
            free(groups);
            return wlf_fail(err, "user", "cannot list the groups of '%s'",
                            user);
        }
        n = want;
    }
    for (int i = 0; i < n && rc == 0; i++)
        if (groups[i] == httpd_gid)
            rc = wlf_fail(err, "user", "'%s' is a member of httpd's group "
                          "'%s': its PHP could connect to every account's "
                          "socket (take it out: gpasswd -d %s %s)", user,
                          cfg->httpd_group, user, cfg->httpd_group);
    free(groups);
    return rc;
}

/* ---- data a removed account left behind ---- */

size_t fpm_leftover_data(const wlf_config *cfg, const char *name,
                         char *list, size_t len)
{
    char paths[2][PATH_MAX];
    size_t found = 0, used = 0;
    struct stat st;

    if (len)
        list[0] = '\0';
    wlf_path_account_dir(cfg, name, paths[0], sizeof(paths[0]));
    wlf_path_log_dir(cfg, name, paths[1], sizeof(paths[1]));
    for (int i = 0; i < 2; i++) {
        if (lstat(paths[i], &st) < 0)
            continue;
        if (len > used) {
            int w = snprintf(list + used, len - used, "%s%s",
                             found ? ", " : "", paths[i]);
            if (w > 0)
                used += (size_t)w < len - used ? (size_t)w : len - used - 1;
        }
        found++;
    }
    return found;
}

int fpm_purge_account_data(const wlf_config *cfg, const char *name,
                           wlf_err *err)
{
    char path[PATH_MAX];
    int rc = 0;

    wlf_path_account_dir(cfg, name, path, sizeof(path));
    if (fs_remove_tree(path, err) < 0)
        rc = -1;
    wlf_path_log_dir(cfg, name, path, sizeof(path));
    if (fs_remove_tree(path, err) < 0)
        rc = -1;
    return rc;
}

long long fpm_stop_wait_ms(const wlf_config *cfg, const wlf_account *acct)
{
    wlf_settings eff;
    fpm_timeouts t;

    if (acct == NULL || wlf_account_effective(cfg, acct, &eff) < 0)
        return 30000;
    fpm_compute_timeouts(&eff, cfg->upload_min_rate, &t);
    wlf_settings_free(&eff);
    /* php-fpm gives its workers process_control_timeout, then kills them;
     * a stop that waits for more than a day is a hung one */
    if (t.request_terminate_timeout > 86400)
        t.request_terminate_timeout = 86400;
    return (t.request_terminate_timeout + 5) * 1000;
}

int fpm_account_up_to_date(const fpm_ctx *ctx, const wlf_account *acct)
{
    char slot = fpm_live_slot(&ctx->cfg, acct->name);
    fpm_slot s;
    fpm_rendered r;
    wlf_err err;
    int same;

    fpm_slot_init(&ctx->cfg, acct->name, slot ? slot : 'a', &s);
    if (fpm_render_all(&ctx->cfg, acct, s.slot, &r, &err) < 0)
        return 0;
    same = fpm_slot_matches(&s, &r);
    fpm_rendered_free(&r);
    return same;
}

/* *text: the account file as it is (NULL when there is none), to put
 * back if the change fails. */
static int read_account_text(const wlf_config *cfg, const char *name,
                             char **text, wlf_err *err)
{
    char path[PATH_MAX];

    wlf_path_account_file(cfg, name, path, sizeof(path));
    if (fs_read_file(path, text, NULL) < 0 && errno != ENOENT)
        return wlf_fail(err, name, "cannot read %s: %s", path,
                        strerror(errno));
    return 0;
}

static int write_account_text(const wlf_config *cfg, const char *name,
                              const char *text, wlf_err *err)
{
    char path[PATH_MAX];

    wlf_path_account_file(cfg, name, path, sizeof(path));
    if (text == NULL)
        return fs_remove(path, err);
    return fs_write_atomic(path, text, strlen(text), 0640, err);
}

/*
 * Make slot s free for a new instance. An instance still there is one
 * that drains (told to quit by an earlier change, finishing its requests)
 * or one a killed fpmctl left behind. It is asked to quit and given
 * start_timeout; its requests are never cut off: if it is still busy
 * after that, the change fails and can be tried again later.
 */
static int clear_slot(fpm_ctx *ctx, const wlf_account *acct,
                      const fpm_slot *s, wlf_err *err)
{
    pid_t pid = fpm_slot_pid(s);
    int was_running;

    if (pid == 0 && fpm_slot_pidfile(s) == 0 && access(s->sock, F_OK) != 0)
        return 0;
    if (pid && proc_alive(pid)) {
        fpm_info(ctx, "%s: slot %c still holds master %ld; waiting for it "
                 "to finish its requests", s->name, s->slot, (long)pid);
        fpm_slot_quit(ctx, s, pid);
        if (!proc_wait_gone(pid, ctx->cfg.start_timeout * 1000))
            return wlf_fail(err, s->name, "the previous instance (master "
                            "%ld, slot %c) is still finishing requests; "
                            "nothing was changed: try again once it has "
                            "(it may take up to %lld s)", (long)pid,
                            s->slot, fpm_stop_wait_ms(&ctx->cfg, acct) /
                                         1000);
    }
    fpm_info(ctx, "%s: clearing slot %c", s->name, s->slot);
    return fpm_slot_stop(ctx, s, 2000, &was_running, err);
}

/*
 * pm = ondemand forks workers as requests come. Right after a switch the
 * new instance would fork them all at once under full load (and the
 * first requests wait for them), so fork as many as the old instance
 * runs before the switch.
 */
static void warm_up(fpm_ctx *ctx, const wlf_account *acct,
                    const fpm_slot *new_slot, pid_t old_pid)
{
    pid_t kids[512];
    wlf_settings eff;
    long long n;
    wlf_err e;

    if (wlf_account_effective(&ctx->cfg, acct, &eff) < 0)
        return;
    n = (long long)proc_children(old_pid, kids, 512);
    if (n > eff.num[WLF_S_MAX_CHILDREN])
        n = eff.num[WLF_S_MAX_CHILDREN];
    if (eff.num[WLF_S_PM] == WLF_PM_ONDEMAND && n > 1) {
        int got = wlf_fcgi_warm(new_slot->sock, WLF_FPM_PING_PATH, (int)n,
                                2000, &e);
        fpm_info(ctx, "%s: %d of %lld workers forked before the switch",
                 acct->name, got, n);
    }
    wlf_settings_free(&eff);
}

int fpm_validate_rendering(const wlf_config *cfg, const wlf_account *acct,
                           char slot, const fpm_rendered *r, uid_t uid,
                           gid_t gid, wlf_err *err)
{
    struct sockaddr_un sa;
    char key[PATH_MAX], sock[PATH_MAX];

    if (access(r->bin, X_OK) != 0)
        return wlf_fail(err, "php", "%s is not an executable php-fpm",
                        r->bin);
    if (uid == 0 || gid == 0)
        return wlf_fail(err, "user", "php-fpm refuses to run a pool as "
                        "root");
    wlf_path_slot_socket(cfg, acct->name, slot, sock, sizeof(sock));
    fpm_inherit_key(cfg, acct->name, slot, key, sizeof(key));
    if (strlen(sock) >= sizeof(sa.sun_path) ||
        strlen(key) >= sizeof(sa.sun_path))
        return wlf_fail(err, "paths.sockets", "socket path %s is too long",
                        sock);
    if (r->conf == NULL || strstr(r->conf, "\n[global]\n") == NULL ||
        r->ini == NULL)
        return wlf_fail(err, "render", "incomplete rendering");
    return 0;
}

/* An on-demand account that is not running is only written: its first
 * request starts it, so php-fpm -t is not run on the way. Neither before
 * the first start of an account: the start itself is the test. */
static int validate_without_fpm(const wlf_config *cfg,
                                const wlf_account *acct,
                                const fpm_slot *s, const fpm_rendered *r,
                                wlf_err *err)
{
    uid_t uid;
    gid_t gid;

    if (fpm_account_ids(acct, &uid, &gid, err) < 0 ||
        fpm_validate_rendering(cfg, acct, s->slot, r, uid, gid, err) < 0)
        return -1;
    if (access(s->conf, R_OK) != 0 || access(s->ini, R_OK) != 0)
        return wlf_fail(err, "render", "%s was not written", s->conf);
    return 0;
}

/* The account's part of a change, while fpmctl serve (if it runs) leaves
 * the account alone. */
static int apply_held(fpm_ctx *ctx, const wlf_account *acct, int flags,
                      int serve, fpm_apply_result *res, wlf_err *err)
{
    const wlf_config *cfg = &ctx->cfg;
    const char *name = acct->name;
    char live = fpm_live_slot(cfg, name), next;
    fpm_slot old_slot, new_slot;
    fpm_rendered r;
    fpm_snapshot snap = { 0 };
    char *acct_text = NULL, *old_text = NULL;
    pid_t old_pid, new_pid = 0;
    int running, rc = -1, started = 0, wrote_account = 0, sock_fd = -1;
    int od = fpm_is_on_demand(cfg, acct);

    memset(res, 0, sizeof(*res));
    if (fpm_wait_drain(ctx, name, err) < 0)
        return -1;
    res->serve = serve;
    /* nothing starts or arms a suspended account: resume lifts it first */
    if (wlf_account_is_suspended(acct))
        flags &= ~FPM_APPLY_START;
    fpm_slot_init(cfg, name, live ? live : 'a', &old_slot);
    old_pid = fpm_slot_pid(&old_slot);
    running = old_pid != 0;

    if ((flags & FPM_APPLY_WRITE_ACCOUNT) &&
        (acct_text = wlf_account_render(acct)) == NULL)
        return wlf_fail(err, name, "out of memory");
    if (read_account_text(cfg, name, &old_text, err) < 0)
        goto out;

    /* serve holds the sockets of on-demand accounts: one that is not
     * on-demand (any more) gets them back from serve first */
    if (serve && !od) {
        char reply[256];
        char cmd[WLF_NAME_MAX + 16];
        snprintf(cmd, sizeof(cmd), "release %s", name);
        if (fpm_serve_call(fpm_serve_conn(ctx), cmd, -1, reply,
                           sizeof(reply), err) < 0)
            goto out;
    }

    /* the instance files already say this (a domain change, say): at most
     * the account file changes, no instance needs to */
    if (!(flags & FPM_APPLY_SWAP) &&
        (running || !(flags & FPM_APPLY_START)) &&
        fpm_account_up_to_date(ctx, acct)) {
        if (acct_text && !(old_text && strcmp(old_text, acct_text) == 0) &&
            write_account_text(cfg, name, acct_text, err) < 0)
            goto out;
        res->did = FPM_DID_NOTHING;
        res->slot = live;
        res->pid = old_pid;
        rc = 0;
        goto out;
    }

    next = running ? fpm_other_slot(old_slot.slot) : old_slot.slot;
    fpm_slot_init(cfg, name, next, &new_slot);
    if (fpm_render_all(cfg, acct, next, &r, err) < 0)
        goto out;
    if (fpm_ensure_base_dirs(cfg, 0, err) < 0 ||
        fpm_ensure_log_dir(cfg, name, err) < 0)
        goto out_render;
    fs_sweep_temps(new_slot.dir);
    fs_sweep_temps(new_slot.ini_dir);

    fpm_info(ctx, "%s: rendering slot %c in %s", name, next, new_slot.dir);
    if (fpm_slot_snapshot(&new_slot, &snap, err) < 0)
        goto out_render;
    if (fpm_slot_write(&new_slot, &r, err) < 0)
        goto restore;
    if (od && !running) {
        /* nothing starts now: check what php-fpm -t would, without it */
        fpm_info(ctx, "%s: checking slot %c without php-fpm -t", name, next);
        if (validate_without_fpm(cfg, acct, &new_slot, &r, err) < 0)
            goto restore;
    }
    else if (!running && (flags & FPM_APPLY_START)) {
        /* the first start: php-fpm checks the same files as it starts,
         * and says as much as -t would (its exit status, standard error,
         * the log); a failed start is undone below, and no instance of
         * the account serves meanwhile. A second full php-fpm start-up
         * for -t would double the time until PHP answers. */
        fpm_info(ctx, "%s: checking slot %c without php-fpm -t (the start "
                 "checks it)", name, next);
        if (validate_without_fpm(cfg, acct, &new_slot, &r, err) < 0)
            goto restore;
    }
    else {
        fpm_info(ctx, "%s: php-fpm -t --fpm-config %s", name, new_slot.conf);
        if (fpm_slot_test(&new_slot, err) < 0)
            goto restore;
    }

    if (!running && (!(flags & FPM_APPLY_START) || od)) {
        if (acct_text && write_account_text(cfg, name, acct_text, err) < 0)
            goto restore;
        res->did = FPM_DID_FILES;
        res->slot = live;
        if (od && (flags & FPM_APPLY_START)) {
            /* on-demand: armed, not started. The socket is bound by serve
             * when the account is let go (direct mode) or by the slot's
             * socket unit; the first request starts the instance. */
            if (fpm_ensure_account_dirs(cfg, acct, err) < 0 ||
                fpm_set_stopped(cfg, name, 0, err) < 0 ||
                (cfg->service == WLF_SERVICE_SYSTEMD &&
                 fpm_slot_start_socket_unit(ctx, &new_slot, err) < 0) ||
                fpm_switch_live(cfg, name, next, err) < 0)
                goto restore;
            res->did = FPM_DID_ARMED;
            res->slot = next;
            if (cfg->service == WLF_SERVICE_SYSTEMD)
                res->serve = 1;     /* systemd holds the socket */
        }
        rc = 0;
        goto out_render;
    }

    /* never start workers that could reach the sockets (a user added to
     * httpd's group after the account was made) */
    if (fpm_check_worker_identity(cfg, acct->user, acct->group, err) < 0 ||
        fpm_ensure_account_dirs(cfg, acct, err) < 0)
        goto restore;
    /* the idle slot may still hold an instance that is draining, or one a
     * killed fpmctl left behind */
    if (clear_slot(ctx, acct, &new_slot, err) < 0)
        goto restore;
    if (!running) {
        fpm_slot other;
        fpm_slot_init(cfg, name, fpm_other_slot(next), &other);
        if (clear_slot(ctx, acct, &other, err) < 0)
            goto restore;
    }
    started = 1;
    /* on-demand: the new slot's socket exists before its master, held by
     * its socket unit, or bound here and handed over */
    if (od && cfg->service == WLF_SERVICE_SYSTEMD &&
        fpm_slot_start_socket_unit(ctx, &new_slot, err) < 0)
        goto restore;
    if (od && cfg->service == WLF_SERVICE_DIRECT &&
        (sock_fd = fpm_listen_socket(cfg, new_slot.sock, NULL, err)) < 0)
        goto restore;
    {
        wlf_settings eff;
        wlf_limits lim;
        if (wlf_account_effective(cfg, acct, &eff) < 0) {
            wlf_fail(err, name, "out of memory");
            goto restore;
        }
        fpm_limits_of(&eff, &lim);
        wlf_settings_free(&eff);
        if (fpm_slot_start_with(ctx, &new_slot, &lim, sock_fd, &new_pid,
                                err) < 0)
            goto restore;
    }
    if (acct_text) {
        fpm_info(ctx, "%s: writing the account file", name);
        if (write_account_text(cfg, name, acct_text, err) < 0)
            goto restore;
        wrote_account = 1;
    }
    if (running)
        warm_up(ctx, acct, &new_slot, old_pid);
    fpm_info(ctx, "%s: switching %s.sock to slot %c", name, name, next);
    if (fpm_switch_live(cfg, name, next, err) < 0)
        goto restore;
    if (od && serve && sock_fd >= 0) {
        /* serve keeps the socket from now on, also once this master is
         * stopped for idleness */
        char cmd[WLF_NAME_MAX + 48], reply[256];
        wlf_err e2;
        snprintf(cmd, sizeof(cmd), "adopt %s %c %ld", name, next,
                 (long)new_pid);
        if (fpm_serve_call(fpm_serve_conn(ctx), cmd, sock_fd, reply,
                           sizeof(reply), &e2) < 0)
            fpm_info(ctx, "%s: %s", name, e2.msg);
    }
    if (running) {
        fpm_queue_quit(ctx, name, old_slot.slot, old_pid);
        fpm_info(ctx, "%s: old master %ld (slot %c) quits after %lld ms",
                 name, (long)old_pid, old_slot.slot, cfg->drain_time);
    }
    res->did = running ? FPM_DID_RELOAD : FPM_DID_START;
    res->slot = next;
    res->pid = new_pid;
    res->old_pid = running ? old_pid : 0;
    rc = 0;
    goto out_render;

restore:
    {
        /* the change failed (err says why); what cannot be undone is said
         * too, on a line of its own */
        wlf_err e2;
        char line[700];
        int was;
        if (started) {
            fpm_info(ctx, "%s: stopping the new instance in slot %c", name,
                     next);
            if (fpm_slot_stop(ctx, &new_slot, 2000, &was, &e2) < 0)
                fpm_error("%s: undoing the change: %s", name,
                          fpm_err_text(&e2, name, line, sizeof(line)));
        }
        if (wrote_account && write_account_text(cfg, name, old_text,
                                                &e2) < 0)
            fpm_error("%s: undoing the change: %s", name,
                      fpm_err_text(&e2, name, line, sizeof(line)));
        if (fpm_slot_restore(&new_slot, &snap, &e2) < 0)
            fpm_error("%s: undoing the change: %s", name,
                      fpm_err_text(&e2, name, line, sizeof(line)));
    }
out_render:
    fpm_rendered_free(&r);
out:
    if (sock_fd >= 0)
        close(sock_fd);
    fpm_snapshot_free(&snap);
    free(acct_text);
    free(old_text);
    return rc;
}

int fpm_account_apply(fpm_ctx *ctx, const wlf_account *acct, int flags,
                      fpm_apply_result *res, wlf_err *err)
{
    int serve = fpm_serve_lock(ctx, acct->name, err), rc;

    if (serve < 0)
        return -1;
    rc = apply_held(ctx, acct, flags, serve, res, err);
    if (serve)
        fpm_serve_unlock(ctx, acct->name);
    return rc;
}

int fpm_account_stop(fpm_ctx *ctx, const char *name, long long wait_ms,
                     int *was_running, wlf_err *err)
{
    char link[PATH_MAX];
    int any = 0, rc = 0;

    *was_running = 0;
    if (fpm_wait_drain(ctx, name, err) < 0)
        return -1;
    for (char slot = 'a'; slot <= 'b'; slot++) {
        fpm_slot s;
        int was = 0;
        fpm_slot_init(&ctx->cfg, name, slot, &s);
        if (fpm_slot_stop(ctx, &s, wait_ms, &was, err) < 0)
            rc = -1;
        any |= was;
    }
    /* a suspended account's link keeps saying so: its sites keep the
     * suspended page */
    wlf_path_socket(&ctx->cfg, name, link, sizeof(link));
    if (wlf_link_state(link) != WLF_LINK_SUSPENDED &&
        fpm_unlink_socket(&ctx->cfg, name, err) < 0)
        rc = -1;
    *was_running = any;
    return rc;
}

static void drain_path(const wlf_config *cfg, const char *name, char *path,
                       size_t len)
{
    /* a dot file: no account name, and check's leftover scan skips it */
    fs_path(path, len, "%s/fpm/.%s.drain", cfg->state_dir, name);
}

int fpm_wait_drain(fpm_ctx *ctx, const char *name, wlf_err *err)
{
    char path[PATH_MAX], dir[PATH_MAX];
    fpm_drain_lock *n;
    int fd, timed_out;

    for (size_t i = 0; i < ctx->n_drains; i++)
        if (strcmp(ctx->drains[i].name, name) == 0)
            return 0;
    fs_path(dir, sizeof(dir), "%s/fpm", ctx->cfg.state_dir);
    if (access(dir, F_OK) != 0)
        return 0;               /* no instance ever: nothing drains */
    n = realloc(ctx->drains, (ctx->n_drains + 1) * sizeof(*n));
    if (n == NULL)
        return wlf_fail(err, name, "out of memory");
    ctx->drains = n;
    drain_path(&ctx->cfg, name, path, sizeof(path));
    fpm_info(ctx, "%s: waiting for an earlier change's drain", name);
    if ((fd = fs_lock(path, ctx->cfg.lock_timeout, &timed_out, err)) < 0) {
        char msg[sizeof(err->msg)];
        snprintf(msg, sizeof(msg), "%s", err->msg);
        ctx->drain_timed_out = timed_out;
        return wlf_fail(err, name, "an old instance of a previous change "
                        "is still draining: %s", msg);
    }
    wlf_copy(n[ctx->n_drains].name, sizeof(n->name), name);
    n[ctx->n_drains].fd = fd;
    ctx->n_drains++;
    return 0;
}

void fpm_drain_forget(fpm_ctx *ctx, const char *name)
{
    char path[PATH_MAX];
    wlf_err err;

    drain_path(&ctx->cfg, name, path, sizeof(path));
    (void)fs_remove(path, &err);
}

void fpm_account_probe(const wlf_config *cfg, const wlf_account *acct,
                       int ask_pool, fpm_probe *p)
{
    fpm_instance_probe(cfg, acct->name, ask_pool, p);
    /* also before `start --all` put the link back after a reboot */
    if (p->state == FPM_STOPPED && wlf_account_is_suspended(acct))
        p->state = FPM_SUSPENDED;
}

void fpm_queue_quit(fpm_ctx *ctx, const char *name, char slot, pid_t pid)
{
    fpm_pending_quit *n = realloc(ctx->pending, (ctx->n_pending + 1) *
                                                sizeof(*n));
    fpm_slot s;

    if (n == NULL) {
        /* no memory to wait: tell it now rather than never */
        fpm_slot_init(&ctx->cfg, name, slot, &s);
        fpm_slot_quit(ctx, &s, pid);
        return;
    }
    ctx->pending = n;
    wlf_copy(n[ctx->n_pending].name, sizeof(n->name), name);
    n[ctx->n_pending].slot = slot;
    n[ctx->n_pending].pid = pid;
    n[ctx->n_pending].due_ms = wlf_now_ms() + ctx->cfg.drain_time;
    ctx->n_pending++;
}

static void quit_all(fpm_ctx *ctx)
{
    for (size_t i = 0; i < ctx->n_pending; i++) {
        fpm_slot s;
        wlf_err err;
        proc_sleep_ms(ctx->pending[i].due_ms - wlf_now_ms());
        fpm_slot_init(&ctx->cfg, ctx->pending[i].name, ctx->pending[i].slot,
                      &s);
        /* A SIGQUIT closes the listening socket, and the kernel resets
         * every connection still waiting in its backlog: requests httpd
         * queued there before the switch, while all max_children were
         * busy. The backlog is accepted in order, so once a ping sent
         * now is answered none of them is left. A pool busy with long
         * requests gets its SIGQUIT after start_timeout anyway. */
        if (fpm_slot_pid(&s) == ctx->pending[i].pid)
            (void)wlf_fcgi_ping(s.sock, WLF_FPM_PING_PATH,
                                (int)(ctx->cfg.start_timeout * 1000), &err);
        fpm_slot_quit(ctx, &s, ctx->pending[i].pid);
    }
}

static int is_pending(const fpm_ctx *ctx, const char *name)
{
    for (size_t i = 0; i < ctx->n_pending; i++)
        if (strcmp(ctx->pending[i].name, name) == 0)
            return 1;
    return 0;
}

static void release_drains(fpm_ctx *ctx, int keep_pending)
{
    for (size_t i = 0; i < ctx->n_drains; i++)
        if (!(keep_pending && is_pending(ctx, ctx->drains[i].name)))
            close(ctx->drains[i].fd);
    if (!keep_pending) {
        free(ctx->drains);
        ctx->drains = NULL;
        ctx->n_drains = 0;
    }
}

void fpm_run_pending(fpm_ctx *ctx)
{
    pid_t pid;
    int fd;

    if (ctx->n_pending == 0) {
        release_drains(ctx, 0);
        return;
    }
    fpm_flush_stdout();
    fflush(NULL);
    pid = fork();
    if (pid != 0) {
        if (pid < 0)
            quit_all(ctx);      /* cannot fork: wait here instead */
        /* the child's copies keep the drain locks it needs */
        release_drains(ctx, 0);
        return;
    }
    /* the drainer: detached and silent. It lets go of the writer lock,
     * so changes of other accounts go ahead, and keeps the drain locks
     * of its accounts: no change of theirs can reuse an old slot before
     * its master was told to quit */
    if (ctx->lock_fd >= 0) {
        close(ctx->lock_fd);
        ctx->lock_fd = -1;
    }
    release_drains(ctx, 1);
    setsid();
    if ((fd = open("/dev/null", O_RDWR)) >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        if (fd > 2)
            close(fd);
    }
    quit_all(ctx);
    _exit(0);
}

int fpm_take_lock(fpm_ctx *ctx, const char *config_path)
{
    char dir[PATH_MAX], path[PATH_MAX + 8];
    wlf_err err;
    int timed_out;

    wlf_dirname(config_path, dir, sizeof(dir), NULL);
    fs_path(path, sizeof(path), "%s/.lock", dir);
    ctx->lock_fd = fs_lock(path, ctx->have_cfg ? ctx->cfg.lock_timeout : 10,
                           &timed_out, &err);
    if (ctx->lock_fd < 0)
        return fpm_report(&err, timed_out ? FPM_EXIT_LOCKED
                                          : FPM_EXIT_FAILED);
    /* We are the only writer now: temp files lying around are leftovers
     * of a writer that was killed. That one left its marker behind; only
     * then are the directories listed (with 10,000 accounts they hold
     * 70,000 entries: 40 ms per command). */
    fs_path(ctx->dirty_marker, sizeof(ctx->dirty_marker),
            "%s/.fpmctl-dirty", dir);
    if (access(ctx->dirty_marker, F_OK) == 0) {
        fs_sweep_temps(dir);
        if (ctx->have_cfg) {
            char p[PATH_MAX];
            fs_sweep_temps(ctx->cfg.accounts_dir);
            fs_sweep_temps(ctx->cfg.socket_dir);
            fs_path(p, sizeof(p), "%s/fpm", ctx->cfg.state_dir);
            fs_sweep_temps(p);
            fs_path(p, sizeof(p), "%s/domains", ctx->cfg.state_dir);
            fs_sweep_temps(p);
        }
    }
    else {
        int fd = open(ctx->dirty_marker, O_WRONLY | O_CREAT | O_CLOEXEC,
                      0600);
        if (fd >= 0)
            close(fd);
    }
    return 0;
}

void fpm_release_lock(fpm_ctx *ctx)
{
    /* every temp file was renamed or removed: nothing to sweep next time */
    if (ctx->lock_fd >= 0 && ctx->dirty_marker[0])
        unlink(ctx->dirty_marker);
}

int fpm_targets(const fpm_ctx *ctx, const char *const *operands, size_t n_ops,
                int all, const char *usage, char ***names, size_t *n)
{
    wlf_err err;
    char **v;

    *names = NULL;
    *n = 0;
    if (all && n_ops)
        return fpm_usage_error(usage, "name accounts or use --all, not both");
    if (!all && n_ops == 0)
        return fpm_usage_error(usage, "name at least one account, or use "
                               "--all");
    if (all) {
        if (wlf_account_files(&ctx->cfg, names, n, &err) < 0)
            return fpm_report(&err, FPM_EXIT_FAILED);
        return FPM_EXIT_OK;
    }
    /* check every name before acting on any */
    for (size_t i = 0; i < n_ops; i++) {
        char path[PATH_MAX];
        if (wlf_valid_account_name(operands[i], &err) < 0)
            return fpm_report(&err, FPM_EXIT_USAGE);
        wlf_path_account_file(&ctx->cfg, operands[i], path, sizeof(path));
        if (access(path, F_OK) != 0) {
            fpm_error("%s: no such account", operands[i]);
            return FPM_EXIT_NO_ACCOUNT;
        }
    }
    if ((v = calloc(n_ops ? n_ops : 1, sizeof(*v))) == NULL)
        return FPM_EXIT_FAILED;
    for (size_t i = 0; i < n_ops; i++) {
        /* the same name twice is done once */
        int dup = 0;
        for (size_t j = 0; j < *n; j++)
            dup |= strcmp(v[j], operands[i]) == 0;
        if (!dup && (v[*n] = strdup(operands[i])) == NULL) {
            wlf_strlist_free(v, *n);
            *n = 0;
            fpm_error("out of memory");
            return FPM_EXIT_FAILED;
        }
        *n += !dup;
    }
    *names = v;
    return FPM_EXIT_OK;
}

int fpm_operands(int argc, char **argv, const char *usage, size_t max,
                 const char ***ops, size_t *n)
{
    static const fpm_optdef no_opts[] = { { NULL, 0, 0 } };
    fpm_arg *args;
    size_t n_args;
    wlf_err err;

    *ops = NULL;
    *n = 0;
    if ((args = calloc((size_t)argc, sizeof(*args))) == NULL ||
        (*ops = calloc((size_t)argc, sizeof(**ops))) == NULL) {
        free(args);
        fpm_error("out of memory");
        return FPM_EXIT_FAILED;
    }
    if (fpm_args_parse(argc, argv, no_opts, args, (size_t)argc, &n_args,
                       &err) < 0) {
        free(args);
        free(*ops);
        *ops = NULL;
        return fpm_usage_error(usage, "%s: %s", err.field, err.msg);
    }
    for (size_t i = 0; i < n_args; i++)
        (*ops)[(*n)++] = args[i].value;
    free(args);
    if (*n > max) {
        int rc = fpm_usage_error(usage, "unexpected argument '%.40s'",
                                 (*ops)[max]);
        free(*ops);
        *ops = NULL;
        *n = 0;
        return rc;
    }
    return FPM_EXIT_OK;
}

int fpm_targets_from_args(const fpm_ctx *ctx, int argc, char **argv,
                          const char *usage, char ***names, size_t *n)
{
    static const fpm_optdef all_opts[] = {
        { "all", 'a', 0 },
        { NULL, 0, 0 }
    };
    fpm_arg *args;
    const char **ops;
    size_t n_args, n_ops = 0;
    wlf_err err;
    int all = 0, rc;

    *names = NULL;
    *n = 0;
    args = calloc((size_t)argc, sizeof(*args));
    ops = calloc((size_t)argc, sizeof(*ops));
    if (args == NULL || ops == NULL) {
        free(args);
        free(ops);
        fpm_error("out of memory");
        return FPM_EXIT_FAILED;
    }
    if (fpm_args_parse(argc, argv, all_opts, args, (size_t)argc, &n_args,
                       &err) < 0)
        rc = fpm_usage_error(usage, "%s: %s", err.field, err.msg);
    else {
        for (size_t i = 0; i < n_args; i++) {
            if (args[i].opt == 0)
                all = 1;
            else
                ops[n_ops++] = args[i].value;
        }
        rc = fpm_targets(ctx, ops, n_ops, all, usage, names, n);
    }
    free(args);
    free(ops);
    return rc;
}

/*
 * <state>/domains: one symlink per domain, DOMAIN -> NAME of the account
 * that owns it, so that add-account and set need not load every account
 * file to keep domains unique. Derived like <state>/fpm: it is written
 * from the account files whenever it is missing or incomplete (no
 * .complete marker) and by `fpmctl rebuild --all`; an entry is trusted
 * only after the account it names was read and still lists the domain.
 */
static void domain_index_path(const wlf_config *cfg, const char *domain,
                              char *buf, size_t len)
{
    if (domain)
        fs_path(buf, len, "%s/domains/%s", cfg->state_dir, domain);
    else
        fs_path(buf, len, "%s/domains", cfg->state_dir);
}

static int domain_index_complete(const wlf_config *cfg)
{
    char p[PATH_MAX];

    fs_path(p, sizeof(p), "%s/domains/.complete", cfg->state_dir);
    return access(p, F_OK) == 0;
}

/* No fsync: the index is derived, and a complete one is written again
 * whenever it is missing; one write per entry keeps thousands cheap. */
static void domain_index_set(const wlf_config *cfg, const char *domain,
                             const char *name)
{
    char p[PATH_MAX], tmp[PATH_MAX];

    domain_index_path(cfg, domain, p, sizeof(p));
    if (name == NULL) {
        unlink(p);
        return;
    }
    if (symlink(name, p) == 0 || errno != EEXIST)
        return;
    /* replace it atomically: a new link under a temp name, renamed */
    if (fs_path(tmp, sizeof(tmp), "%s/domains/" FPM_TEMP_PREFIX "%ld",
                cfg->state_dir, (long)getpid()) < 0)
        return;
    unlink(tmp);
    if (symlink(name, tmp) < 0 || rename(tmp, p) < 0)
        unlink(tmp);
}

int fpm_domain_index_build(const wlf_config *cfg, const wlf_account_list *l,
                           wlf_err *err)
{
    char dir[PATH_MAX], p[PATH_MAX];

    domain_index_path(cfg, NULL, dir, sizeof(dir));
    fs_path(p, sizeof(p), "%s/.complete", dir);
    if (fs_remove(p, err) < 0 || fs_remove_tree(dir, err) < 0 ||
        fs_ensure_dir(dir, 0750, 0, 0, err) < 0)
        return -1;
    for (size_t i = 0; i < l->n; i++)
        for (size_t d = 0; d < l->items[i].n_domains; d++)
            domain_index_set(cfg, l->items[i].domains[d], l->items[i].name);
    if (fs_sync_dir(dir) < 0)
        return wlf_fail(err, dir, "cannot sync: %s", strerror(errno));
    return fs_write_atomic(p, "", 0, 0640, err);
}

void fpm_domain_index_update(const fpm_ctx *ctx, const wlf_account *old,
                             const wlf_account *acct)
{
    const wlf_config *cfg = &ctx->cfg;

    if (!domain_index_complete(cfg))
        return;     /* the next check writes it whole */
    for (size_t i = 0; old && i < old->n_domains; i++) {
        char p[PATH_MAX], target[WLF_NAME_MAX + 2];
        ssize_t n;
        domain_index_path(cfg, old->domains[i], p, sizeof(p));
        n = readlink(p, target, sizeof(target) - 1);
        if (n > 0 && (target[n] = '\0', strcmp(target, old->name) == 0))
            domain_index_set(cfg, old->domains[i], NULL);
    }
    for (size_t i = 0; acct && i < acct->n_domains; i++)
        domain_index_set(cfg, acct->domains[i], acct->name);
}

/* Does account `owner` (from the index) really list `domain`? */
static int owns_domain(const fpm_ctx *ctx, const char *owner,
                       const char *domain)
{
    wlf_account o;
    wlf_err err;
    int owns = 0;

    if (fpm_account_load(ctx, owner, &o, &err) != FPM_EXIT_OK) {
        wlf_account_free(&o);
        return 0;
    }
    for (size_t i = 0; i < o.n_domains && !owns; i++)
        owns = strcasecmp(o.domains[i], domain) == 0;
    wlf_account_free(&o);
    return owns;
}

typedef struct {
    const wlf_account *acct, *before;
} shadow_ctx;

static int had_domain(const wlf_account *a, const char *domain)
{
    for (size_t i = 0; a && i < a->n_domains; i++)
        if (strcmp(a->domains[i], domain) == 0)
            return 1;
    return 0;
}

static void warn_shadow(const wlf_account *owner, const char *domain,
                        const wlf_account *wild_owner, const char *wildcard,
                        void *arg)
{
    const shadow_ctx *c = arg;
    const char *mine;

    if (strcmp(owner->name, c->acct->name) == 0)
        mine = domain;
    else if (strcmp(wild_owner->name, c->acct->name) == 0)
        mine = wildcard;
    else
        return;
    if (had_domain(c->before, mine))
        return;
    fpm_error("warning: %s (account %s) lies inside %s (account %s): it is "
              "%s's, as exact names win; httpd gives a request to the first "
              "vhost whose name matches, so %s's vhost for %s must come "
              "before %s's for %s (mod_wlfcgi says so at start-up and "
              "answers 421 otherwise)", domain, owner->name, wildcard,
              wild_owner->name, owner->name, owner->name, domain,
              wild_owner->name, wildcard);
}

void fpm_warn_shadowed(const fpm_ctx *ctx, const wlf_account *acct,
                       const wlf_account *before)
{
    wlf_account_list list;
    wlf_err err;
    shadow_ctx c = { acct, before };

    if (acct->n_domains == 0 ||
        wlf_accounts_load(&ctx->cfg, &list, &err) < 0)
        return;
    wlf_accounts_shadowed(&list, acct, warn_shadow, &c);
    wlf_account_list_free(&list);
}

int fpm_check_domains(const fpm_ctx *ctx, const wlf_account *acct,
                      wlf_err *err)
{
    wlf_account_list list;
    int rc = 0;

    if (acct->n_domains == 0)
        return 0;
    if (domain_index_complete(&ctx->cfg)) {
        for (size_t i = 0; i < acct->n_domains; i++) {
            char p[PATH_MAX], owner[WLF_NAME_MAX + 2];
            ssize_t n;
            domain_index_path(&ctx->cfg, acct->domains[i], p, sizeof(p));
            n = readlink(p, owner, sizeof(owner) - 1);
            if (n <= 0)
                continue;
            owner[n] = '\0';
            if (strcmp(owner, acct->name) != 0 &&
                owns_domain(ctx, owner, acct->domains[i]))
                return wlf_fail(err, "domain", "'%s' is already owned by "
                                "account '%s'", acct->domains[i], owner);
        }
        return 0;
    }
    if (wlf_accounts_load(&ctx->cfg, &list, err) < 0)
        return -1;
    for (size_t i = 0; i < acct->n_domains && rc == 0; i++) {
        const wlf_account *o = wlf_accounts_find_domain(&list,
                                                        acct->domains[i]);
        if (o && strcmp(o->name, acct->name) != 0)
            rc = wlf_fail(err, "domain", "'%s' is already owned by account "
                          "'%s'", acct->domains[i], o->name);
    }
    /* under the writer lock (and not in a dry run): make the index for
     * the next change */
    if (ctx->lock_fd >= 0) {
        wlf_err e2;
        fpm_domain_index_build(&ctx->cfg, &list, &e2);
    }
    wlf_account_list_free(&list);
    return rc;
}
