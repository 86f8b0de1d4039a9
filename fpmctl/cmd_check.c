/*
 * cmd_check.c - fpmctl check: everything that could keep an account from
 * working, listed at once.
 */
#include <dirent.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fpmctl.h"
#include "fsutil.h"
#include "instance.h"
#include "json.h"
#include "ops.h"
#include "render.h"
#include "resources.h"
#include "sidedoor.h"

const char cmd_check_usage[] = "check";
const char cmd_check_help[] =
    "Check the configuration and every account, and list every problem:\n"
    "wlfcgi.conf and each account file load; users and groups exist (uid\n"
    "not 0, at least min_uid) and cannot reach the sockets (not httpd's\n"
    "user, not in httpd's group); homes exist; directories are owned by\n"
    "root and not writable by others, the socket directory is root's with\n"
    "httpd's group and mode 0750; per-account tmp/upload/session dirs and\n"
    "php-error.log belong to the account's user; generated files are up to\n"
    "date; `php-fpm -t` accepts each account's configuration (rendered\n"
    "into a temporary directory); running instances' sockets are owned by\n"
    "root with the httpd group and mode 0660, and NAME.sock points at\n"
    "them. Also a problem: a php-fpm pool of the distribution that runs\n"
    "PHP with httpd's group (Fedora's and Debian's `www` pool) and runs or\n"
    "starts at boot or with httpd: its PHP can connect to every account's\n"
    "socket. Warnings, which do not change the exit status: such a pool\n"
    "that is merely stopped, a handler config that sends PHP to it, and\n"
    "data that removed accounts left (remove-account without --purge).\n"
    "Resource limits (cpu, memory, tasks, io_weight) must be enforceable\n"
    "on this host where accounts have them, and running instances must be\n"
    "inside their account's cgroup; a line before the verdict says how\n"
    "limits are enforced here, or that they are not and why.\n"
    "Exit 0 only when there is no problem. --json: {\"ok\": bool,\n"
    "\"accounts\": N, \"limits\": {\"enforced\": bool, \"how\": text},\n"
    "\"problems\": [{\"account\": ..., \"problem\": ...}],\n"
    "\"warnings\": [{\"account\": ..., \"warning\": ...}]} (account null\n"
    "for what is not an account's).\n";

typedef struct {
    char *account;      /* NULL: not an account's */
    char *msg;
} check_note;

typedef struct {
    fpm_ctx *ctx;
    jw w;
    size_t n;
    check_note *warnings;   /* printed after the problems in --json */
    size_t n_warnings;
} checker;

static void problem(checker *c, const char *account, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void warning(checker *c, const char *account, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void warning(checker *c, const char *account, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    check_note *w;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (!c->ctx->json) {
        if (account)
            printf("%s: warning: %s\n", account, msg);
        else
            printf("warning: %s\n", msg);
        c->n_warnings++;
        return;
    }
    w = realloc(c->warnings, (c->n_warnings + 1) * sizeof(*w));
    if (w == NULL)
        return;
    c->warnings = w;
    w[c->n_warnings].account = account ? strdup(account) : NULL;
    w[c->n_warnings].msg = strdup(msg);
    c->n_warnings++;
}

/* --json keeps them until the problems are written */
static void free_warnings(checker *c)
{
    for (size_t i = 0; c->warnings && i < c->n_warnings; i++) {
        free(c->warnings[i].account);
        free(c->warnings[i].msg);
    }
    free(c->warnings);
    c->warnings = NULL;
}

static void problem(checker *c, const char *account, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    c->n++;
    if (c->ctx->json) {
        jw_obj(&c->w);
        jw_kstr(&c->w, "account", account);
        jw_kstr(&c->w, "problem", msg);
        jw_obj_end(&c->w);
    }
    else if (account)
        printf("%s: %s\n", account, msg);
    else
        printf("%s\n", msg);
}

/* root-owned directory nobody else can write to */
static void check_root_dir(checker *c, const char *account, const char *path,
                           mode_t want)
{
    struct stat st;

    if (lstat(path, &st) < 0) {
        problem(c, account, "%s: %s", path, strerror(errno));
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        problem(c, account, "%s: not a directory", path);
        return;
    }
    if (st.st_uid != 0)
        problem(c, account, "%s: owned by uid %lu, not root", path,
                (unsigned long)st.st_uid);
    if (st.st_mode & 022)
        problem(c, account, "%s: writable by group or others (mode %04o)",
                path, (unsigned)(st.st_mode & 07777));
    else if ((st.st_mode & 07777) != want)
        problem(c, account, "%s: mode %04o, expected %04o", path,
                (unsigned)(st.st_mode & 07777), (unsigned)want);
}

static void check_user_path(checker *c, const char *account, const char *path,
                            uid_t uid, int dir, mode_t want)
{
    struct stat st;

    if (lstat(path, &st) < 0) {
        problem(c, account, "%s: %s", path, strerror(errno));
        return;
    }
    if (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) {
        problem(c, account, "%s: not a %s", path, dir ? "directory"
                                                      : "regular file");
        return;
    }
    if (st.st_uid != uid)
        problem(c, account, "%s: owned by uid %lu, not the account's user "
                "(uid %lu)", path, (unsigned long)st.st_uid,
                (unsigned long)uid);
    if ((st.st_mode & 07777) != want)
        problem(c, account, "%s: mode %04o, expected %04o", path,
                (unsigned)(st.st_mode & 07777), (unsigned)want);
}

/*
 * The account's logs are its group's to read and nobody else's: the
 * directory and what the masters write (root's, 0640), and no other
 * account shares that group (it could read them too).
 */
static void check_log_group(checker *c, const wlf_account_list *list,
                            const wlf_account *acct, const char *dir)
{
    static const char *const files[] = { "", "fpm.a.log", "fpm.b.log",
                                         "slow.log" };
    struct group *gr = getgrnam(acct->group);
    char p[PATH_MAX + 16];
    struct stat st;

    for (size_t i = 0; gr && i < sizeof(files) / sizeof(files[0]); i++) {
        fs_path(p, sizeof(p), "%s/%s", dir, files[i]);
        if (lstat(p, &st) < 0)
            continue;       /* made at the next start */
        if (st.st_gid != gr->gr_gid)
            problem(c, acct->name, "%s: group gid %lu, expected the "
                    "account's group %s (fpmctl rebuild %s)", p,
                    (unsigned long)st.st_gid, acct->group, acct->name);
        if (i > 0 && (st.st_uid != 0 || (st.st_mode & 07777) != 0640))
            problem(c, acct->name, "%s: expected root's, mode 0640 (owner "
                    "uid %lu, mode %04o)", p, (unsigned long)st.st_uid,
                    (unsigned)(st.st_mode & 07777));
    }
    for (size_t i = 0; i < list->n; i++)
        if (strcmp(list->items[i].name, acct->name) != 0 &&
            strcmp(list->items[i].group, acct->group) == 0)
            problem(c, acct->name, "shares group %s with account %s: each "
                    "can read the other's logs", acct->group,
                    list->items[i].name);
}

/* php-fpm -t on a fresh rendering, in a private temp directory */
static void check_fpm_test(checker *c, const wlf_account *acct)
{
    const wlf_config *cfg = &c->ctx->cfg;
    char tmpl[] = "/tmp/fpmctl-check-XXXXXX", dir[PATH_MAX];
    fpm_slot s;
    fpm_rendered r;
    wlf_err err;
    char slot = fpm_live_slot(cfg, acct->name);

    if (fpm_render_all(cfg, acct, slot ? slot : 'a', &r, &err) < 0) {
        problem(c, acct->name, "cannot render: %s", err.msg);
        return;
    }
    if (mkdtemp(tmpl) == NULL) {
        problem(c, acct->name, "cannot create a temp dir: %s",
                strerror(errno));
        fpm_rendered_free(&r);
        return;
    }
    fpm_slot_init(cfg, acct->name, slot ? slot : 'a', &s);
    fs_path(dir, sizeof(dir), "%s/i", tmpl);
    fpm_slot_set_dir(&s, dir);
    if (fpm_slot_write(&s, &r, &err) < 0)
        problem(c, acct->name, "%s", err.msg);
    else if (fpm_slot_test(&s, &err) < 0)
        problem(c, acct->name, "%s", err.msg);
    if (fs_remove_tree(tmpl, &err) < 0)
        problem(c, acct->name, "%s", err.msg);
    fpm_rendered_free(&r);
}

/* Limits the account has must be enforceable, and a running master must
 * be inside its group. */
static void check_limits(checker *c, const wlf_account *acct)
{
    const wlf_config *cfg = &c->ctx->cfg;
    wlf_settings eff;
    wlf_limits l;
    wlf_err err;
    wlf_cg_layout lo;
    fpm_cg_join join;

    if (wlf_account_effective(cfg, acct, &eff) < 0)
        return;
    fpm_limits_of(&eff, &l);
    wlf_settings_free(&eff);
    if (!wlf_limits_any(&l))
        return;
    if (fpm_limits_supported(c->ctx, &l, &err) < 0) {
        problem(c, acct->name, "limits are not enforced: %s: %s", err.field,
                err.msg);
        return;
    }
    if (cfg->service != WLF_SERVICE_DIRECT)
        return;
    wlf_cgroup_detect_host(&lo);
    memset(&join, 0, sizeof(join));
    for (int i = 0; i < WLF_CG_COUNT; i++) {
        char dir[PATH_MAX];
        if (wlf_cgroup_dir(&lo, (wlf_cg_ctrl)i, cfg->cgroup_subtree,
                           acct->name, dir, sizeof(dir)) && join.n == 0) {
            fs_path(join.files[0], PATH_MAX, "%s/cgroup.procs", dir);
            join.n = 1;
        }
    }
    for (char slot = 'a'; slot <= 'b'; slot++) {
        fpm_slot s;
        pid_t pid;
        fpm_slot_init(cfg, acct->name, slot, &s);
        if ((pid = fpm_slot_pid(&s)) != 0 && !fpm_cgroup_holds(&join, pid))
            problem(c, acct->name, "master %ld (slot %c) runs outside the "
                    "account's cgroup: its limits do not hold (fpmctl "
                    "reload %s)", (long)pid, slot, acct->name);
    }
}

static void check_account(checker *c, const wlf_account_list *list,
                          const wlf_account *acct, gid_t httpd_gid,
                          int have_httpd_gid)
{
    const wlf_config *cfg = &c->ctx->cfg;
    struct passwd *pw = getpwnam(acct->user);
    int have_user = pw != NULL, have_group = getgrnam(acct->group) != NULL;
    uid_t uid = pw ? pw->pw_uid : 0;
    char dir[PATH_MAX], p[PATH_MAX + 32];
    struct stat st;
    fpm_probe probe;
    wlf_err err;

    if (!have_user)
        problem(c, acct->name, "user '%s' does not exist", acct->user);
    else if (uid == 0 || (long long)uid < cfg->min_uid)
        problem(c, acct->name, "user '%s' has uid %lu (root, or below "
                "min_uid %lld)", acct->user, (unsigned long)uid,
                cfg->min_uid);
    if (!have_group)
        problem(c, acct->name, "group '%s' does not exist", acct->group);
    if (have_user && have_group && have_httpd_gid &&
        fpm_check_worker_identity(cfg, acct->user, acct->group, &err) < 0)
        problem(c, acct->name, "%s", err.msg);
    if (fpm_check_home(acct->home, &err) < 0)
        problem(c, acct->name, "home %s is not an existing directory",
                acct->home);

    wlf_path_account_dir(cfg, acct->name, dir, sizeof(dir));
    check_root_dir(c, acct->name, dir, 0711);
    if (have_user) {
        static const char *const sub[] = { "tmp", "upload", "sessions" };
        for (int i = 0; i < 3; i++) {
            fs_path(p, sizeof(p), "%s/%s", dir, sub[i]);
            check_user_path(c, acct->name, p, uid, 1, 0700);
        }
    }
    wlf_path_log_dir(cfg, acct->name, dir, sizeof(dir));
    check_root_dir(c, acct->name, dir, 0750);
    if (have_user) {
        fs_path(p, sizeof(p), "%s/php-error.log", dir);
        check_user_path(c, acct->name, p, uid, 0, 0640);
    }
    if (have_group)
        check_log_group(c, list, acct, dir);
    if (!fpm_account_up_to_date(c->ctx, acct))
        problem(c, acct->name, "generated files differ from the account "
                "file (run fpmctl rebuild %s)", acct->name);
    check_fpm_test(c, acct);

    check_limits(c, acct);
    fpm_instance_probe(cfg, acct->name, 1, &probe);
    if (wlf_account_is_suspended(acct)) {
        char link[PATH_MAX];
        wlf_path_socket(cfg, acct->name, link, sizeof(link));
        if (probe.state == FPM_RUNNING)
            problem(c, acct->name, "is suspended, but its PHP runs (slot "
                    "%c, pid %ld): fpmctl suspend %s stops it", probe.slot,
                    (long)probe.pid, acct->name);
        else if (wlf_link_state(link) != WLF_LINK_SUSPENDED)
            problem(c, acct->name, "is suspended, but %s does not say so: "
                    "its sites do not show the suspended page (fpmctl start "
                    "%s puts the link back)", link, acct->name);
    }
    if (probe.state == FPM_DEAD || probe.state == FPM_UNRESPONSIVE)
        problem(c, acct->name, "instance is %s: %s",
                fpm_state_name(probe.state), probe.error);
    if (probe.state == FPM_RUNNING && probe.slot) {
        fpm_slot s;
        char link[PATH_MAX];
        fpm_slot_init(cfg, acct->name, probe.slot, &s);
        if (stat(s.sock, &st) < 0 || !S_ISSOCK(st.st_mode))
            problem(c, acct->name, "%s is not a socket", s.sock);
        else {
            /* the account's own PHP must not be able to connect */
            if (st.st_uid != 0)
                problem(c, acct->name, "%s: owner uid %lu, expected "
                        FPM_SOCKET_OWNER ": the account's PHP may connect "
                        "(fpmctl rebuild %s, or reload it if its files are "
                        "up to date)", s.sock, (unsigned long)st.st_uid,
                        acct->name);
            if (have_httpd_gid && st.st_gid != httpd_gid)
                problem(c, acct->name, "%s: group gid %lu, expected %s",
                        s.sock, (unsigned long)st.st_gid, cfg->httpd_group);
            if ((st.st_mode & 0777) != 0660)
                problem(c, acct->name, "%s: mode %04o, expected 0660",
                        s.sock, (unsigned)(st.st_mode & 0777));
        }
        wlf_path_socket(cfg, acct->name, link, sizeof(link));
        if (wlf_slot_of_link(link) != probe.slot)
            problem(c, acct->name, "%s does not point at the running "
                    "instance (slot %c)", link, probe.slot);
    }
}

static void door_report(void *ctx, int is_problem, const char *msg)
{
    if (is_problem)
        problem(ctx, NULL, "%s", msg);
    else
        warning(ctx, NULL, "%s", msg);
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Add a name found in a wlfcgi directory whose account file is gone. */
static void add_orphan(const wlf_config *cfg, char ***names, size_t *n,
                       const char *entry, size_t len)
{
    char name[WLF_NAME_MAX + 1], path[PATH_MAX];
    wlf_err err;
    char **v;

    if (len == 0 || len > WLF_NAME_MAX)
        return;
    snprintf(name, sizeof(name), "%.*s", (int)len, entry);
    if (wlf_valid_account_name(name, &err) < 0)
        return;
    wlf_path_account_file(cfg, name, path, sizeof(path));
    if (access(path, F_OK) == 0)
        return;
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*names)[i], name) == 0)
            return;
    if ((v = realloc(*names, (*n + 1) * sizeof(*v))) == NULL)
        return;
    *names = v;
    if ((v[*n] = strdup(name)) != NULL)
        (*n)++;
}

/* Names with something in `dir` (NAME, NAME.a, NAME.a.sock, NAME.live...) */
static void orphans_in(const wlf_config *cfg, const char *dir, char ***names,
                       size_t *n)
{
    DIR *d = opendir(dir);
    struct dirent *de;

    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        add_orphan(cfg, names, n, de->d_name, strcspn(de->d_name, "."));
    }
    closedir(d);
}

/*
 * What removed accounts left behind: their data (remove-account without
 * --purge) and anything an interrupted run left of their instances. The
 * name cannot be given to a new account until it is gone.
 */
static void check_leftovers(checker *c)
{
    const wlf_config *cfg = &c->ctx->cfg;
    char **names = NULL, p[PATH_MAX], left[2 * PATH_MAX + 8];
    size_t n = 0;

    fs_path(p, sizeof(p), "%s/accounts", cfg->state_dir);
    orphans_in(cfg, p, &names, &n);
    orphans_in(cfg, cfg->log_dir, &names, &n);
    fs_path(p, sizeof(p), "%s/fpm", cfg->state_dir);
    orphans_in(cfg, p, &names, &n);
    orphans_in(cfg, cfg->socket_dir, &names, &n);
    if (n > 1)
        qsort(names, n, sizeof(*names), cmp_name);
    for (size_t i = 0; i < n; i++) {
        if (fpm_leftover_data(cfg, names[i], left, sizeof(left)))
            warning(c, names[i], "a removed account left its data in %s; "
                    "the name cannot be used again until `fpmctl "
                    "remove-account %s --purge` deletes it", left, names[i]);
        else
            warning(c, names[i], "a removed account left instance files "
                    "(in %s/fpm or %s); `fpmctl remove-account %s --purge` "
                    "deletes them", cfg->state_dir, cfg->socket_dir,
                    names[i]);
        free(names[i]);
    }
    free(names);
}

int cmd_check(fpm_ctx *ctx, int argc, char **argv)
{
    const wlf_config *cfg = &ctx->cfg;
    checker c;
    wlf_account_list list;
    wlf_err err;
    struct group *hg;
    gid_t httpd_gid = 0;
    int have_httpd_gid = 0;
    char p[PATH_MAX];
    struct stat st;
    const char **ops;
    size_t n_ops;
    int rc;
    char how[700];
    int enforced;

    memset(&c, 0, sizeof(c));
    c.ctx = ctx;
    if ((rc = fpm_operands(argc, argv, cmd_check_usage, 0, &ops, &n_ops)))
        return rc;
    free(ops);
    enforced = fpm_limits_describe(ctx, how, sizeof(how));
    if (ctx->json) {
        jw_obj(&c.w);
        jw_kint(&c.w, "schema", FPM_JSON_SCHEMA);
        jw_key(&c.w, "limits");
        jw_obj(&c.w);
        jw_kbool(&c.w, "enforced", enforced);
        jw_kstr(&c.w, "how", how);
        jw_obj_end(&c.w);
        jw_key(&c.w, "problems");
        jw_arr(&c.w);
    }

    if ((hg = getgrnam(cfg->httpd_group)) == NULL)
        problem(&c, NULL, "httpd_group '%s' does not exist",
                cfg->httpd_group);
    else {
        httpd_gid = hg->gr_gid;
        have_httpd_gid = 1;
    }
    for (size_t i = 0; i < cfg->n_php_versions; i++)
        if (access(cfg->php_versions[i].fpm, X_OK) != 0)
            problem(&c, NULL, "php %s: %s is not an executable file",
                    cfg->php_versions[i].version, cfg->php_versions[i].fpm);
    check_root_dir(&c, NULL, cfg->accounts_dir, 0750);
    check_root_dir(&c, NULL, cfg->socket_dir, FPM_SOCKET_DIR_MODE);
    if (have_httpd_gid && lstat(cfg->socket_dir, &st) == 0 &&
        st.st_gid != httpd_gid)
        problem(&c, NULL, "%s: group gid %lu, expected %s (only root and "
                "httpd may reach the sockets)", cfg->socket_dir,
                (unsigned long)st.st_gid, cfg->httpd_group);
    check_root_dir(&c, NULL, cfg->state_dir, 0755);
    fs_path(p, sizeof(p), "%s/fpm", cfg->state_dir);
    check_root_dir(&c, NULL, p, 0750);
    fs_path(p, sizeof(p), "%s/accounts", cfg->state_dir);
    check_root_dir(&c, NULL, p, 0711);
    check_root_dir(&c, NULL, cfg->log_dir, 0755);

    if (wlf_accounts_load(cfg, &list, &err) < 0) {
        problem(&c, NULL, "%s", err.msg);
        memset(&list, 0, sizeof(list));
    }
    for (size_t i = 0; i < list.n_errors; i++)
        problem(&c, list.errors[i].name, "%s",
                fpm_load_error_text(&list.errors[i]));
    for (size_t i = 0; i < list.n; i++)
        check_account(&c, &list, &list.items[i], httpd_gid,
                      have_httpd_gid);
    check_leftovers(&c);
    if (have_httpd_gid)
        fpm_side_doors(cfg, door_report, &c);

    if (ctx->json) {
        char *out;
        jw_arr_end(&c.w);
        jw_key(&c.w, "warnings");
        jw_arr(&c.w);
        for (size_t i = 0; i < c.n_warnings; i++) {
            jw_obj(&c.w);
            jw_kstr(&c.w, "account", c.warnings[i].account);
            jw_kstr(&c.w, "warning", c.warnings[i].msg);
            jw_obj_end(&c.w);
        }
        jw_arr_end(&c.w);
        jw_kbool(&c.w, "ok", c.n == 0);
        jw_kint(&c.w, "accounts", (long long)list.n);
        jw_obj_end(&c.w);
        if ((out = jw_finish(&c.w)) == NULL) {
            fpm_error("out of memory");
            free_warnings(&c);
            wlf_account_list_free(&list);
            return FPM_EXIT_FAILED;
        }
        fpm_print(out);
        free(out);
    }
    else {
        /* the verdict comes last, so scripts can read the last line */
        if (ctx->verbosity >= 0)
            printf("%s%s\n", enforced ? "limits: " : "", how);
        if (c.n == 0)
            fpm_say(ctx, "ok: %s and %zu account(s), no problems%s",
                    cfg->file, list.n,
                    c.n_warnings ? " (see the warnings)" : "");
        else
            printf("%zu problem(s)\n", c.n);
    }
    free_warnings(&c);
    wlf_account_list_free(&list);
    return c.n ? FPM_EXIT_FAILED : FPM_EXIT_OK;
}
