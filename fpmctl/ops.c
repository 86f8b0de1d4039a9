/*
 * ops.c - account-level operations: the change procedure and friends.
 */
#include "ops.h"

#include <dirent.h>
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
    {
        /* and those of the masters of its other PHP versions */
        wlf_instance inst[WLF_MAX_INSTANCES];
        size_t n = wlf_account_instances(cfg, acct, inst);
        for (size_t i = 1; i < n; i++)
            for (char slot = 'a'; slot <= 'b'; slot++) {
                wlf_path_fpm_log(cfg, acct->name, inst[i].version, slot, p,
                                 sizeof(p));
                if (fs_ensure_file(p, 0640, 0, gid, err) < 0)
                    return -1;
            }
    }
    return 0;
}

/*
 * Users and groups, enumerated once while /etc/passwd and /etc/group stay
 * the same, from the second identity check of a run on: getpwnam() and
 * getgrouplist() read the files each time, so checking thousands of
 * accounts (check, rebuild --all) was quadratic. Names the enumeration
 * lacks are looked up directly.
 */
typedef struct {
    char *name;
    uid_t uid;
    gid_t gid;
} id_rec;

typedef struct {
    gid_t gid;
    char *member;
} id_member;

static struct {
    int calls, loaded;
    struct stat pw_st, gr_st;
    id_rec *users, *groups;
    size_t n_users, n_groups;
    id_member *members;     /* (gid, user) of every group's member list */
    size_t n_members;
} ids;

static int cmp_id_rec(const void *a, const void *b)
{
    return strcmp(((const id_rec *)a)->name, ((const id_rec *)b)->name);
}

static int cmp_id_member(const void *a, const void *b)
{
    const id_member *x = a, *y = b;

    if (x->gid != y->gid)
        return x->gid < y->gid ? -1 : 1;
    return strcmp(x->member, y->member);
}

static void ids_free(void)
{
    for (size_t i = 0; i < ids.n_users; i++)
        free(ids.users[i].name);
    for (size_t i = 0; i < ids.n_groups; i++)
        free(ids.groups[i].name);
    for (size_t i = 0; i < ids.n_members; i++)
        free(ids.members[i].member);
    free(ids.users);
    free(ids.groups);
    free(ids.members);
    ids.users = ids.groups = NULL;
    ids.members = NULL;
    ids.n_users = ids.n_groups = ids.n_members = 0;
    ids.loaded = 0;
}

static int same_stat(const struct stat *a, const struct stat *b)
{
    return a->st_ino == b->st_ino && a->st_dev == b->st_dev &&
           a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
           a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static int push_rec(id_rec **v, size_t *n, size_t *cap, const char *name,
                    uid_t uid, gid_t gid)
{
    if (*n == *cap) {
        size_t ncap = *cap ? *cap * 2 : 256;
        id_rec *nv = realloc(*v, ncap * sizeof(*nv));
        if (nv == NULL)
            return -1;
        *v = nv;
        *cap = ncap;
    }
    if (((*v)[*n].name = strdup(name)) == NULL)
        return -1;
    (*v)[*n].uid = uid;
    (*v)[*n].gid = gid;
    (*n)++;
    return 0;
}

static int ids_load(void)
{
    struct passwd *pw;
    struct group *gr;
    size_t cap_u = 0, cap_g = 0, cap_m = 0;
    int rc = 0;

    setpwent();
    while (rc == 0 && (pw = getpwent()) != NULL)
        rc = push_rec(&ids.users, &ids.n_users, &cap_u, pw->pw_name,
                      pw->pw_uid, pw->pw_gid);
    endpwent();
    setgrent();
    while (rc == 0 && (gr = getgrent()) != NULL) {
        rc = push_rec(&ids.groups, &ids.n_groups, &cap_g, gr->gr_name, 0,
                      gr->gr_gid);
        for (char **m = gr->gr_mem; rc == 0 && m && *m; m++) {
            if (ids.n_members == cap_m) {
                size_t ncap = cap_m ? cap_m * 2 : 64;
                id_member *nv = realloc(ids.members, ncap * sizeof(*nv));
                if (nv == NULL) {
                    rc = -1;
                    break;
                }
                ids.members = nv;
                cap_m = ncap;
            }
            if ((ids.members[ids.n_members].member = strdup(*m)) == NULL)
                rc = -1;
            else
                ids.members[ids.n_members++].gid = gr->gr_gid;
        }
    }
    endgrent();
    if (rc < 0) {
        ids_free();
        return -1;
    }
    qsort(ids.users, ids.n_users, sizeof(id_rec), cmp_id_rec);
    qsort(ids.groups, ids.n_groups, sizeof(id_rec), cmp_id_rec);
    qsort(ids.members, ids.n_members, sizeof(id_member), cmp_id_member);
    ids.loaded = 1;
    return 0;
}

/* The enumeration, (re)read if the files changed; 0 if there is none. */
static int ids_current(void)
{
    struct stat pw_st, gr_st;

    if (stat("/etc/passwd", &pw_st) < 0 || stat("/etc/group", &gr_st) < 0) {
        ids_free();
        return 0;
    }
    if (ids.loaded && same_stat(&pw_st, &ids.pw_st) &&
        same_stat(&gr_st, &ids.gr_st))
        return 1;
    ids_free();
    if (ids_load() < 0)
        return 0;
    ids.pw_st = pw_st;
    ids.gr_st = gr_st;
    return 1;
}

static const id_rec *ids_find(const id_rec *v, size_t n, const char *name)
{
    id_rec key = { (char *)name, 0, 0 };

    return bsearch(&key, v, n, sizeof(id_rec), cmp_id_rec);
}

/* Is `user` listed as a member of a group with gid `gid`? */
static int ids_member(const char *user, gid_t gid)
{
    id_member key = { gid, (char *)user };

    return bsearch(&key, ids.members, ids.n_members, sizeof(id_member),
                   cmp_id_member) != NULL;
}

/* user's groups as initgroups() would give them: is httpd's among them? */
static int in_group_list(const char *user, gid_t gid, gid_t httpd_gid,
                         wlf_err *err)
{
    gid_t *groups = NULL;
    int n = 64, found = 0;

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
    for (int i = 0; i < n; i++)
        if (groups[i] == httpd_gid)
            found = 1;
    free(groups);
    return found;
}

int fpm_check_worker_identity(const wlf_config *cfg, const char *user,
                              const char *group, wlf_err *err)
{
    struct passwd *pw;
    struct group *gr;
    const id_rec *u = NULL, *g = NULL;
    gid_t httpd_gid = (gid_t)-1, gid;
    uid_t uid;
    gid_t pw_gid;
    int member;

    if (fpm_httpd_gid(cfg, &httpd_gid, err) < 0)
        return -1;
    if (++ids.calls > 1 && ids_current()) {
        u = ids_find(ids.users, ids.n_users, user);
        if (u && group)
            g = ids_find(ids.groups, ids.n_groups, group);
    }
    if (u) {
        uid = u->uid;
        pw_gid = u->gid;
    }
    else {
        errno = 0;
        if ((pw = getpwnam(user)) == NULL)
            return wlf_fail(err, "user", "no such user '%s'", user);
        uid = pw->pw_uid;
        pw_gid = pw->pw_gid;
    }
    if (uid == 0)
        return wlf_fail(err, "user", "'%s' has uid 0; PHP may not run as "
                        "root", user);
    if (pw_gid == httpd_gid)
        return wlf_fail(err, "user", "'%s' has httpd's group '%s' as its "
                        "primary group (httpd's own user?): its PHP could "
                        "connect to every account's socket", user,
                        cfg->httpd_group);
    if (group == NULL)
        gid = pw_gid;
    else if (g)
        gid = g->gid;
    else if ((gr = getgrnam(group)) == NULL)
        return wlf_fail(err, "group", "no such group '%s'", group);
    else
        gid = gr->gr_gid;
    if (gid == httpd_gid)
        return wlf_fail(err, "group", "'%s' is httpd's group: PHP running "
                        "with it could connect to every account's socket",
                        cfg->httpd_group);
    /* the workers get initgroups(user, gid): these groups exactly */
    member = u ? ids_member(user, httpd_gid)
               : in_group_list(user, gid, httpd_gid, err);
    if (member < 0)
        return -1;
    if (member)
        return wlf_fail(err, "user", "'%s' is a member of httpd's group "
                        "'%s': its PHP could connect to every account's "
                        "socket (take it out: gpasswd -d %s %s)", user,
                        cfg->httpd_group, user, cfg->httpd_group);
    return 0;
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

/* The files of instance `version` of acct (its live slot, else 'a')
 * match the rendering? */
static int instance_up_to_date(const fpm_ctx *ctx, const wlf_account *acct,
                               const char *version)
{
    fpm_slot s;
    fpm_rendered r;
    wlf_err err;
    char key[FPM_KEY_MAX + 1], slot;
    int same;

    wlf_instance_key(acct->name, version, key, sizeof(key));
    slot = fpm_live_slot(&ctx->cfg, key);
    fpm_slot_init_version(&ctx->cfg, acct->name, version, slot ? slot : 'a',
                          &s);
    if (fpm_render_instance(&ctx->cfg, acct, version, s.slot, &r, &err) < 0)
        return 0;
    same = fpm_slot_matches(&s, &r);
    fpm_rendered_free(&r);
    return same;
}

static int routes_up_to_date(const wlf_config *cfg, const wlf_account *acct,
                             const wlf_instance *inst, size_t n);

/* Does the account's primary instance run (the account "runs")? */
static int primary_runs(const wlf_config *cfg, const char *name)
{
    fpm_slot p;
    char live = fpm_live_slot(cfg, name);

    fpm_slot_init(cfg, name, live ? live : 'a', &p);
    return fpm_slot_pid(&p) != 0;
}

/* An on-demand account whose primary is armed: its first request starts
 * it (NAME.sock names a slot, and `fpmctl stop` did not mark it stopped) */
static int primary_armed(const wlf_config *cfg, const char *name)
{
    char link[PATH_MAX];

    return !fpm_is_stopped(cfg, name) &&
           wlf_slot_of_link(wlf_path_socket(cfg, name, link,
                                            sizeof(link))) != 0;
}

/* Versions on disk that acct does not run (any more) */
static size_t stray_versions(const fpm_ctx *ctx, const wlf_account *acct,
                             const wlf_instance *inst, size_t n_inst,
                             char (*out)[WLF_VERSION_MAX + 1])
{
    char found[WLF_MAX_INSTANCES][WLF_VERSION_MAX + 1];
    size_t n = fpm_instances_on_disk(&ctx->cfg, acct->name, found,
                                     WLF_MAX_INSTANCES), k = 0;

    for (size_t i = 0; i < n; i++) {
        int needed = 0;
        for (size_t j = 1; j < n_inst && !needed; j++)
            needed = strcmp(inst[j].version, found[i]) == 0;
        if (!needed)
            wlf_copy(out[k++], sizeof(out[0]), found[i]);
    }
    return k;
}

int fpm_account_up_to_date(const fpm_ctx *ctx, const wlf_account *acct)
{
    wlf_instance inst[WLF_MAX_INSTANCES];
    char stray[WLF_MAX_INSTANCES][WLF_VERSION_MAX + 1];
    size_t n = wlf_account_instances(&ctx->cfg, acct, inst);

    if (stray_versions(ctx, acct, inst, n, stray) > 0)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!instance_up_to_date(ctx, acct, inst[i].primary ? NULL
                                                           : inst[i].version))
            return 0;
    /* a running account's routes too */
    return !(primary_runs(&ctx->cfg, acct->name) ||
             (fpm_is_on_demand(&ctx->cfg, acct) &&
              primary_armed(&ctx->cfg, acct->name))) ||
           routes_up_to_date(&ctx->cfg, acct, inst, n);
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
 * an instance's first start: the start itself is the test. */
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

/* One instance of the account in a change. */
typedef struct {
    char version[WLF_VERSION_MAX + 1];  /* "" for the primary */
    fpm_slot old_slot, new_slot;
    pid_t old_pid, new_pid;
    int running;            /* its master ran before the change */
    int touched;            /* new_slot's files were rewritten */
    int started;            /* a new master runs in new_slot */
    int od;                 /* the primary of an on-demand account */
    int arm;                /* od, not running: armed at the switch */
    int sock_fd;            /* od: the new slot's socket, bound here */
    fpm_rendered r;
    fpm_snapshot snap;
} inst_change;

/*
 * The one-instance change of docs/internals.md ("Two slots"), up to the
 * switch: render into the idle slot, php-fpm -t, and if `run`, start the
 * new master and check it. Nothing is switched here; an instance whose
 * files are up to date (and that runs if it is to) is left alone. The
 * primary of an on-demand account that does not run is only written (its
 * first request starts it); `start` arms it at the switch.
 */
static int instance_prepare(fpm_ctx *ctx, const wlf_account *acct,
                            const wlf_limits *lim, int run, int start,
                            int swap, inst_change *c, wlf_err *err)
{
    const wlf_config *cfg = &ctx->cfg;
    const char *name = acct->name;
    char live, next;
    fpm_slot *ns = &c->new_slot;

    fpm_slot_init_version(cfg, name, c->version, 'a', &c->old_slot);
    live = fpm_live_slot(cfg, c->old_slot.key);
    fpm_slot_init_version(cfg, name, c->version, live ? live : 'a',
                          &c->old_slot);
    c->old_pid = fpm_slot_pid(&c->old_slot);
    c->running = c->old_pid != 0;
    if (!swap && (c->running || !(c->od ? start : run)) &&
        instance_up_to_date(ctx, acct, c->version))
        return 0;

    next = c->running ? fpm_other_slot(c->old_slot.slot) : c->old_slot.slot;
    fpm_slot_init_version(cfg, name, c->version, next, ns);
    if (fpm_render_instance(cfg, acct, c->version, next, &c->r, err) < 0)
        return -1;
    if (fpm_ensure_base_dirs(cfg, 0, err) < 0 ||
        fpm_ensure_log_dir(cfg, name, err) < 0)
        return -1;
    fs_sweep_temps(ns->dir);
    fs_sweep_temps(ns->ini_dir);
    fpm_info(ctx, "%s: rendering slot %c in %s", ns->key, next, ns->dir);
    if (fpm_slot_snapshot(ns, &c->snap, err) < 0)
        return -1;
    c->touched = 1;
    if (fpm_slot_write(ns, &c->r, err) < 0)
        return -1;
    if (c->od && !c->running) {
        /* nothing starts now: check what php-fpm -t would, without it */
        fpm_info(ctx, "%s: checking slot %c without php-fpm -t", ns->key,
                 next);
        if (validate_without_fpm(cfg, acct, ns, &c->r, err) < 0)
            return -1;
        c->arm = start;
        return 0;
    }
    if (!c->running && run) {
        /* the first start: php-fpm checks the same files as it starts,
         * and says as much as -t would (its exit status, standard error,
         * the log); a failed start is undone, and no instance of this
         * one serves meanwhile. A second full php-fpm start-up for -t
         * would double the time until PHP answers. */
        fpm_info(ctx, "%s: checking slot %c without php-fpm -t (the start "
                 "checks it)", ns->key, next);
        if (validate_without_fpm(cfg, acct, ns, &c->r, err) < 0)
            return -1;
    }
    else {
        fpm_info(ctx, "%s: php-fpm -t --fpm-config %s", ns->key, ns->conf);
        if (fpm_slot_test(ns, err) < 0)
            return -1;
    }
    if (!run)
        return 0;

    /* never start workers that could reach the sockets (a user added to
     * httpd's group after the account was made) */
    if (fpm_check_worker_identity(cfg, acct->user, acct->group, err) < 0 ||
        fpm_ensure_account_dirs(cfg, acct, err) < 0)
        return -1;
    /* the idle slot may still hold an instance that is draining, or one a
     * killed fpmctl left behind */
    if (clear_slot(ctx, acct, ns, err) < 0)
        return -1;
    if (!c->running) {
        fpm_slot other;
        fpm_slot_init_version(cfg, name, c->version, fpm_other_slot(next),
                              &other);
        if (clear_slot(ctx, acct, &other, err) < 0)
            return -1;
    }
    c->started = 1;
    /* on-demand: the new slot's socket exists before its master, held by
     * its socket unit, or bound here and handed over */
    if (c->od && cfg->service == WLF_SERVICE_SYSTEMD &&
        fpm_slot_start_socket_unit(ctx, ns, err) < 0)
        return -1;
    if (c->od && cfg->service == WLF_SERVICE_DIRECT &&
        (c->sock_fd = fpm_listen_socket(cfg, ns->sock, NULL, err)) < 0)
        return -1;
    return fpm_slot_start_with(ctx, ns, lim, c->sock_fd, &c->new_pid, err);
}

/* Put an instance back as it was before instance_prepare(). */
static void instance_undo(fpm_ctx *ctx, inst_change *c)
{
    wlf_err e2;
    char line[700];
    int was;

    if (c->started) {
        fpm_info(ctx, "%s: stopping the new instance in slot %c",
                 c->new_slot.key, c->new_slot.slot);
        if (fpm_slot_stop(ctx, &c->new_slot, 2000, &was, &e2) < 0)
            fpm_error("%s: undoing the change: %s", c->new_slot.key,
                      fpm_err_text(&e2, c->new_slot.name, line,
                                   sizeof(line)));
    }
    if (c->touched && fpm_slot_restore(&c->new_slot, &c->snap, &e2) < 0)
        fpm_error("%s: undoing the change: %s", c->new_slot.key,
                  fpm_err_text(&e2, c->new_slot.name, line, sizeof(line)));
}

/* Switch an instance that got a new master to it (or arm the primary of
 * an on-demand account). */
static int instance_switch(fpm_ctx *ctx, const wlf_account *acct,
                           int serve, inst_change *c, wlf_err *err)
{
    const wlf_config *cfg = &ctx->cfg;

    if (c->arm) {
        /* armed, not started. The socket is bound by serve when the
         * account is let go (direct mode) or by the slot's socket unit;
         * the first request starts the instance. */
        if (fpm_ensure_account_dirs(cfg, acct, err) < 0 ||
            fpm_set_stopped(cfg, acct->name, 0, err) < 0 ||
            (cfg->service == WLF_SERVICE_SYSTEMD &&
             fpm_slot_start_socket_unit(ctx, &c->new_slot, err) < 0) ||
            fpm_switch_live(cfg, acct->name, c->new_slot.slot, err) < 0)
            return -1;
        return 0;
    }
    if (!c->started)
        return 0;
    if (c->running)
        warm_up(ctx, acct, &c->new_slot, c->old_pid);
    fpm_info(ctx, "%s: switching %s.sock to slot %c", c->new_slot.key,
             c->new_slot.key, c->new_slot.slot);
    if (fpm_switch_live(&ctx->cfg, c->new_slot.key, c->new_slot.slot,
                        err) < 0)
        return -1;
    if (c->od && serve && c->sock_fd >= 0) {
        /* serve keeps the socket from now on, also once this master is
         * stopped for idleness */
        char cmd[WLF_NAME_MAX + 48], reply[256];
        wlf_err e2;
        snprintf(cmd, sizeof(cmd), "adopt %s %c %ld", acct->name,
                 c->new_slot.slot, (long)c->new_pid);
        if (fpm_serve_call(fpm_serve_conn(ctx), cmd, c->sock_fd, reply,
                           sizeof(reply), &e2) < 0)
            fpm_info(ctx, "%s: %s", acct->name, e2.msg);
    }
    if (c->running) {
        fpm_queue_quit(ctx, acct->name, c->version, c->old_slot.slot,
                       c->old_pid);
        fpm_info(ctx, "%s: old master %ld (slot %c) quits after %lld ms",
                 c->old_slot.key, (long)c->old_pid, c->old_slot.slot,
                 ctx->cfg.drain_time);
    }
    return 0;
}

/* ---- routes: <sockets>/NAME.routes/DOMAIN -> ../KEY.sock ---- */

static int route_set(const wlf_config *cfg, const char *name,
                     const char *domain, const char *key, wlf_err *err)
{
    char dir[PATH_MAX], path[PATH_MAX], target[FPM_KEY_MAX + 16], cur[256];
    gid_t httpd_gid = (gid_t)-1;
    ssize_t n;

    wlf_path_route(cfg, name, domain, path, sizeof(path));
    snprintf(target, sizeof(target), "../%s.sock", key);
    n = readlink(path, cur, sizeof(cur) - 1);
    if (n >= 0 && (size_t)n == strlen(target) &&
        memcmp(cur, target, (size_t)n) == 0)
        return 0;
    /* httpd reads the routes (search permission is all readlink needs) */
    if (fpm_httpd_gid(cfg, &httpd_gid, err) < 0 ||
        fs_ensure_dir(wlf_path_routes(cfg, name, dir, sizeof(dir)),
                      FPM_SOCKET_DIR_MODE, 0, httpd_gid, err) < 0)
        return -1;
    return fs_symlink_atomic(target, path, err);
}

/* Remove the routes of domains acct does not pin (acct NULL: all, and
 * the directory). */
static int routes_prune(const wlf_config *cfg, const char *name,
                        const wlf_account *acct, wlf_err *err)
{
    char dir[PATH_MAX], path[PATH_MAX];
    DIR *d;
    struct dirent *de;
    int rc = 0;

    wlf_path_routes(cfg, name, dir, sizeof(dir));
    if ((d = opendir(dir)) == NULL)
        return 0;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' && (de->d_name[1] == '\0' ||
                                     strcmp(de->d_name, "..") == 0))
            continue;
        if (acct && wlf_account_domain_php(acct, de->d_name))
            continue;
        if (fs_path(path, sizeof(path), "%s/%s", dir, de->d_name) < 0 ||
            fs_remove(path, err) < 0)
            rc = -1;
    }
    closedir(d);
    if (acct == NULL || acct->n_domain_php == 0)
        rmdir(dir);
    return rc;
}

/* Point the routes of the pinned domains served by `inst` (primary or
 * not, as asked) at their instance. */
static int routes_update(const wlf_config *cfg, const wlf_account *acct,
                         const wlf_instance *inst, size_t n, int primary,
                         wlf_err *err)
{
    for (size_t i = 0; i < acct->n_domain_php; i++) {
        const char *domain = acct->domain_php[i].domain;
        const wlf_instance *to = wlf_instance_for_domain(cfg, acct, inst, n,
                                                         domain);
        if (to->primary == primary &&
            route_set(cfg, acct->name, domain, to->key, err) < 0)
            return -1;
    }
    return 0;
}

/* Are the routes on disk those of acct? */
static int routes_up_to_date(const wlf_config *cfg, const wlf_account *acct,
                             const wlf_instance *inst, size_t n)
{
    char dir[PATH_MAX], path[PATH_MAX], cur[256], target[FPM_KEY_MAX + 16];
    size_t found = 0;
    DIR *d;
    struct dirent *de;

    for (size_t i = 0; i < acct->n_domain_php; i++) {
        const wlf_instance *to = wlf_instance_for_domain(
            cfg, acct, inst, n, acct->domain_php[i].domain);
        ssize_t len;
        wlf_path_route(cfg, acct->name, acct->domain_php[i].domain, path,
                       sizeof(path));
        snprintf(target, sizeof(target), "../%s.sock", to->key);
        len = readlink(path, cur, sizeof(cur) - 1);
        if (len < 0 || (size_t)len != strlen(target) ||
            memcmp(cur, target, (size_t)len) != 0)
            return 0;
    }
    /* and nothing else */
    if ((d = opendir(wlf_path_routes(cfg, acct->name, dir,
                                     sizeof(dir)))) == NULL)
        return 1;
    while ((de = readdir(d)) != NULL)
        found += de->d_name[0] != '.';
    closedir(d);
    return found == acct->n_domain_php;
}

/* An instance the account does not run any more: its link and live
 * record go, its masters quit after drain_time, its files go. */
static int instance_retire(fpm_ctx *ctx, const char *name,
                           const char *version, int *had_master,
                           wlf_err *err)
{
    const wlf_config *cfg = &ctx->cfg;
    char path[PATH_MAX];
    fpm_slot s;
    int rc = 0;

    *had_master = 0;
    fpm_slot_init_version(cfg, name, version, 'a', &s);
    if (fpm_unlink_socket(cfg, s.key, err) < 0 ||
        fs_remove(fpm_live_path(cfg, s.key, path, sizeof(path)), err) < 0)
        rc = -1;
    for (char slot = 'a'; slot <= 'b'; slot++) {
        pid_t pid;
        fpm_slot_init_version(cfg, name, version, slot, &s);
        if ((pid = fpm_slot_pid(&s)) != 0) {
            *had_master = 1;
            fpm_queue_quit(ctx, name, version, slot, pid);
        }
        if (fpm_slot_remove(&s, err) < 0)
            rc = -1;
    }
    return rc;
}

static void note_instance(fpm_apply_result *res, const inst_change *c,
                          fpm_did did)
{
    fpm_instance_result *o;

    if (res->n_instances >= WLF_MAX_INSTANCES)
        return;
    o = &res->instances[res->n_instances++];
    wlf_copy(o->version, sizeof(o->version), c->version);
    o->did = did;
    o->slot = c->started || c->arm ? c->new_slot.slot : c->old_slot.slot;
    o->pid = c->started ? c->new_pid : c->old_pid;
}

static fpm_did instance_did(const inst_change *c)
{
    if (c->arm)
        return FPM_DID_ARMED;
    if (c->started)
        return c->running ? FPM_DID_RELOAD : FPM_DID_START;
    return c->touched ? FPM_DID_FILES : FPM_DID_NOTHING;
}

/* The account's part of a change, while fpmctl serve (if it runs) leaves
 * the account alone. */
static int apply_held(fpm_ctx *ctx, const wlf_account *acct, int flags,
                      int serve, fpm_apply_result *res, wlf_err *err)
{
    const wlf_config *cfg = &ctx->cfg;
    const char *name = acct->name;
    wlf_instance inst[WLF_MAX_INSTANCES];
    inst_change *ch;
    char stray[WLF_MAX_INSTANCES][WLF_VERSION_MAX + 1];
    size_t n, n_stray;
    char *acct_text = NULL, *old_text = NULL;
    wlf_limits lim;
    int run, rc = -1, wrote_account = 0, switched = 0, any = 0;
    int od = fpm_is_on_demand(cfg, acct);

    memset(res, 0, sizeof(*res));
    /* an earlier run may still let an old instance of this account
     * drain: every instance of it waits for that */
    if (fpm_wait_drain(ctx, name, err) < 0)
        return -1;
    res->serve = serve;
    /* nothing starts or arms a suspended account: resume lifts it first */
    if (wlf_account_is_suspended(acct))
        flags &= ~FPM_APPLY_START;
    /* serve holds the sockets of on-demand accounts: one that is not
     * on-demand (any more) gets them back from serve first */
    if (serve && !od) {
        char reply[256];
        char cmd[WLF_NAME_MAX + 16];
        snprintf(cmd, sizeof(cmd), "release %s", name);
        if (fpm_serve_call(fpm_serve_conn(ctx), cmd, -1, reply,
                           sizeof(reply), err) < 0)
            return -1;
    }
    n = wlf_account_instances(cfg, acct, inst);
    n_stray = stray_versions(ctx, acct, inst, n, stray);
    if ((ch = calloc(n, sizeof(*ch))) == NULL)
        return wlf_fail(err, name, "out of memory");
    for (size_t i = 0; i < n; i++) {
        wlf_copy(ch[i].version, sizeof(ch[i].version),
                 inst[i].primary ? "" : inst[i].version);
        ch[i].sock_fd = -1;
    }
    /* only the primary is started on demand: the instances of other
     * versions run whenever the account is started or armed */
    ch[0].od = od;
    {
        wlf_settings eff;
        if (wlf_account_effective(cfg, acct, &eff) < 0) {
            free(ch);
            return wlf_fail(err, name, "out of memory");
        }
        fpm_limits_of(&eff, &lim);
        wlf_settings_free(&eff);
    }

    if ((flags & FPM_APPLY_WRITE_ACCOUNT) &&
        (acct_text = wlf_account_render(acct)) == NULL) {
        free(ch);
        return wlf_fail(err, name, "out of memory");
    }
    if (read_account_text(cfg, name, &old_text, err) < 0)
        goto out;

    /* the account runs when its primary instance does (or is to start,
     * or is armed for on-demand activation): then every instance it needs
     * runs */
    run = primary_runs(cfg, name) || (flags & FPM_APPLY_START) ||
          (od && primary_armed(cfg, name));
    /* or another version's instance runs (an on-demand account made
     * always-on while its own version idled) */
    for (size_t i = 1; i < n && !run; i++) {
        fpm_slot s;
        char live;
        fpm_slot_init_version(cfg, name, inst[i].version, 'a', &s);
        live = fpm_live_slot(cfg, s.key);
        fpm_slot_init_version(cfg, name, inst[i].version, live ? live : 'a',
                              &s);
        run = fpm_slot_pid(&s) != 0;
    }

    /* 1. every instance up to its switch; all or none */
    for (size_t i = 0; i < n; i++) {
        if (instance_prepare(ctx, acct, &lim, run, flags & FPM_APPLY_START,
                             flags & FPM_APPLY_SWAP, &ch[i], err) < 0) {
            for (size_t j = 0; j <= i; j++)
                instance_undo(ctx, &ch[j]);
            goto out;
        }
        any |= ch[i].touched;
    }
    /* 2. the account file */
    if (acct_text && !(old_text && strcmp(old_text, acct_text) == 0)) {
        fpm_info(ctx, "%s: writing the account file", name);
        if (write_account_text(cfg, name, acct_text, err) < 0) {
            for (size_t j = 0; j < n; j++)
                instance_undo(ctx, &ch[j]);
            goto out;
        }
        wrote_account = 1;
    }
    if (!run) {
        /* nothing runs: files only; instances no longer needed go */
        for (size_t k = 0; k < n_stray; k++) {
            int had;
            if (instance_retire(ctx, name, stray[k], &had, err) < 0)
                goto out;
        }
        for (size_t i = 0; i < n; i++)
            note_instance(res, &ch[i], instance_did(&ch[i]));
        res->did = any ? FPM_DID_FILES : FPM_DID_NOTHING;
        res->slot = fpm_live_slot(cfg, name);
        rc = 0;
        goto out;
    }

    /* 3. the other versions' instances, then the routes to them */
    for (size_t i = 1; i < n; i++) {
        if (instance_switch(ctx, acct, serve, &ch[i], err) < 0)
            goto switch_failed;
        switched |= ch[i].started;
    }
    if (routes_update(cfg, acct, inst, n, 0, err) < 0)
        goto switch_failed;
    /* 4. the primary, the routes to it, and away with unpinned ones */
    if (instance_switch(ctx, acct, serve, &ch[0], err) < 0)
        goto switch_failed;
    switched |= ch[0].started;
    if (routes_update(cfg, acct, inst, n, 1, err) < 0 ||
        routes_prune(cfg, name, acct, err) < 0)
        goto switch_failed;
    /* 5. instances no domain needs any more */
    for (size_t k = 0; k < n_stray; k++) {
        int had;
        if (instance_retire(ctx, name, stray[k], &had, err) < 0)
            goto out;
        if (res->n_retired < WLF_MAX_INSTANCES)
            wlf_copy(res->retired[res->n_retired++], sizeof(res->retired[0]),
                     stray[k]);
    }

    for (size_t i = 0; i < n; i++)
        note_instance(res, &ch[i], instance_did(&ch[i]));
    res->did = res->instances[0].did;
    res->slot = res->instances[0].slot;
    res->pid = res->instances[0].pid;
    res->old_pid = ch[0].started && ch[0].running ? ch[0].old_pid : 0;
    if (ch[0].arm && cfg->service == WLF_SERVICE_SYSTEMD)
        res->serve = 1;         /* systemd holds the socket */
    rc = 0;
    goto out;

switch_failed:
    if (!switched) {
        /* nothing serves from the new masters yet: undo it all */
        for (size_t j = 0; j < n; j++)
            instance_undo(ctx, &ch[j]);
        if (wrote_account) {
            wlf_err e2;
            char line[700];
            if (write_account_text(cfg, name, old_text, &e2) < 0)
                fpm_error("%s: undoing the change: %s", name,
                          fpm_err_text(&e2, name, line, sizeof(line)));
        }
    }
    /* else the new masters serve already: they stay; a later reload
     * finishes what is left */
out:
    for (size_t i = 0; i < n; i++) {
        if (ch[i].sock_fd >= 0)
            close(ch[i].sock_fd);
        fpm_rendered_free(&ch[i].r);
        fpm_snapshot_free(&ch[i].snap);
    }
    free(ch);
    free(acct_text);
    free(old_text);
    return rc;
}

int fpm_account_remove_instances(const fpm_ctx *ctx, const char *name,
                                 wlf_err *err)
{
    char versions[WLF_MAX_INSTANCES][WLF_VERSION_MAX + 1];
    size_t n = 1 + fpm_instances_on_disk(&ctx->cfg, name, versions + 1,
                                         WLF_MAX_INSTANCES - 1);
    char path[PATH_MAX];
    int rc = 0;

    versions[0][0] = '\0';
    for (size_t i = 0; i < n; i++) {
        fpm_slot s;
        for (char slot = 'a'; slot <= 'b'; slot++) {
            fpm_slot_init_version(&ctx->cfg, name, versions[i], slot, &s);
            if (fpm_slot_remove(&s, err) < 0)
                rc = -1;
        }
        if (fs_remove(fpm_live_path(&ctx->cfg, s.key, path, sizeof(path)),
                      err) < 0)
            rc = -1;
    }
    return rc;
}

void fpm_say_instances(const fpm_ctx *ctx, const char *name,
                       const fpm_apply_result *res)
{
    for (size_t i = 1; i < res->n_instances; i++) {
        const fpm_instance_result *o = &res->instances[i];
        switch (o->did) {
        case FPM_DID_RELOAD:
        case FPM_DID_START:
            fpm_say(ctx, "%s: PHP %s instance %s (slot %c, pid %ld)", name,
                    o->version, o->did == FPM_DID_START ? "started"
                                                        : "reloaded",
                    o->slot, (long)o->pid);
            break;
        case FPM_DID_FILES:
            fpm_say(ctx, "%s: PHP %s instance: files updated (not "
                    "running)", name, o->version);
            break;
        default:
            break;
        }
    }
    for (size_t i = 0; i < res->n_retired; i++)
        fpm_say(ctx, "%s: PHP %s instance retired: no domain uses it any "
                "more", name, res->retired[i]);
}

/* Point each running instance's link at its master again (after a
 * crash the link may be gone while the master lives). */
int fpm_account_relink(const fpm_ctx *ctx, const wlf_account *acct,
                       wlf_err *err)
{
    wlf_instance inst[WLF_MAX_INSTANCES];
    size_t n = wlf_account_instances(&ctx->cfg, acct, inst);

    for (size_t i = 0; i < n; i++) {
        fpm_probe p;
        fpm_instance_probe_version(&ctx->cfg, acct->name,
                                   inst[i].primary ? NULL : inst[i].version,
                                   0, &p);
        if (p.state == FPM_RUNNING &&
            fpm_switch_live(&ctx->cfg, inst[i].key, p.slot, err) < 0)
            return -1;
    }
    return 0;
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
    char versions[WLF_MAX_INSTANCES][WLF_VERSION_MAX + 1];
    size_t n = 1 + fpm_instances_on_disk(&ctx->cfg, name, versions + 1,
                                         WLF_MAX_INSTANCES - 1);
    char link[PATH_MAX];
    int any = 0, rc = 0;

    *was_running = 0;
    if (fpm_wait_drain(ctx, name, err) < 0)
        return -1;
    /* every instance: the primary and those of other PHP versions; the
     * routes go first, so that every domain falls back to NAME.sock */
    versions[0][0] = '\0';
    if (routes_prune(&ctx->cfg, name, NULL, err) < 0)
        rc = -1;
    for (size_t i = 0; i < n; i++) {
        fpm_slot s;
        for (char slot = 'a'; slot <= 'b'; slot++) {
            int was = 0;
            fpm_slot_init_version(&ctx->cfg, name, versions[i], slot, &s);
            if (fpm_slot_stop(ctx, &s, wait_ms, &was, err) < 0)
                rc = -1;
            any |= was;
        }
        /* a suspended account's link keeps saying so: its sites keep
         * the suspended page */
        wlf_path_socket(&ctx->cfg, s.key, link, sizeof(link));
        if (wlf_link_state(link) != WLF_LINK_SUSPENDED &&
            fpm_unlink_socket(&ctx->cfg, s.key, err) < 0)
            rc = -1;
    }
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

void fpm_queue_quit(fpm_ctx *ctx, const char *name, const char *version,
                    char slot, pid_t pid)
{
    fpm_pending_quit *n = realloc(ctx->pending, (ctx->n_pending + 1) *
                                                sizeof(*n));
    fpm_slot s;

    if (n == NULL) {
        /* no memory to wait: tell it now rather than never */
        fpm_slot_init_version(&ctx->cfg, name, version, slot, &s);
        fpm_slot_quit(ctx, &s, pid);
        return;
    }
    ctx->pending = n;
    wlf_copy(n[ctx->n_pending].name, sizeof(n->name), name);
    wlf_copy(n[ctx->n_pending].version, sizeof(n->version),
             version ? version : "");
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
        fpm_slot_init_version(&ctx->cfg, ctx->pending[i].name,
                              ctx->pending[i].version, ctx->pending[i].slot,
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

/* Does the domain index name `domain` for an account other than `name`? */
static int indexed_for_other(const wlf_config *cfg, const char *domain,
                             const char *name)
{
    char p[PATH_MAX], owner[WLF_NAME_MAX + 2];
    ssize_t n;

    domain_index_path(cfg, domain, p, sizeof(p));
    n = readlink(p, owner, sizeof(owner) - 1);
    if (n < 0)
        return errno != ENOENT;     /* unsure: maybe */
    owner[n] = '\0';
    return strcmp(owner, name) != 0;
}

/*
 * From a complete domain index, by name only: could one of acct's exact
 * domains lie inside another account's wildcard (the wildcards it could
 * lie in are looked up), or one of its wildcards cover another account's
 * name (the index is listed)? 0 only when surely not, so that adding an
 * account among thousands does not load every one of them.
 */
static int may_shadow(const wlf_config *cfg, const wlf_account *acct)
{
    char dir[PATH_MAX], wild[WLF_DOMAIN_MAX + 2];
    DIR *d;
    struct dirent *e;
    int has_wild = 0, maybe = 0;

    if (!domain_index_complete(cfg))
        return 1;
    for (size_t i = 0; i < acct->n_domains; i++) {
        const char *dom = acct->domains[i];
        if (dom[0] == '*') {
            has_wild = 1;
            continue;
        }
        for (const char *dot = strchr(dom, '.'); dot;
             dot = strchr(dot + 1, '.')) {
            snprintf(wild, sizeof(wild), "*%s", dot);
            if (indexed_for_other(cfg, wild, acct->name))
                return 1;
        }
    }
    if (!has_wild)
        return 0;
    domain_index_path(cfg, NULL, dir, sizeof(dir));
    if ((d = opendir(dir)) == NULL)
        return 1;
    while (!maybe && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || e->d_name[0] == '*')
            continue;
        for (size_t i = 0; i < acct->n_domains && !maybe; i++)
            if (acct->domains[i][0] == '*' &&
                wlf_domain_matches(acct->domains[i], e->d_name) &&
                indexed_for_other(cfg, e->d_name, acct->name))
                maybe = 1;
    }
    closedir(d);
    return maybe;
}

void fpm_warn_shadowed(const fpm_ctx *ctx, const wlf_account *acct,
                       const wlf_account *before)
{
    wlf_account_list list;
    wlf_err err;
    shadow_ctx c = { acct, before };

    if (acct->n_domains == 0 || !may_shadow(&ctx->cfg, acct) ||
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
