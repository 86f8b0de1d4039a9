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
#include <sys/wait.h>
#include <unistd.h>

#include "activation.h"
#include "fpmctl.h"
#include "fsutil.h"
#include "instance.h"
#include "json.h"
#include "ops.h"
#include "proc.h"
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
    "them. On-demand accounts: an idle one's held socket is checked the\n"
    "same way (never connected to: that would start it); nothing holding\n"
    "it, a failed start, or a suspended one's socket listening is a\n"
    "problem; one stopped by fpmctl stop is a warning. Also a problem: a\n"
    "php-fpm pool of the distribution that runs PHP with httpd's group\n"
    "(Fedora's and Debian's `www` pool) and runs or starts at boot or\n"
    "with httpd: its PHP can connect to every account's socket.\n"
    "Warnings, which do not change the exit status: such a pool that is\n"
    "merely stopped, a handler config that sends PHP to it, and data that\n"
    "removed accounts left (remove-account without --purge).\n"
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

/* Users and groups by name, read once: with thousands of accounts, one
 * getpwnam() each would read /etc/passwd thousands of times. */
typedef struct {
    char *name;
    struct passwd pw;
    struct group gr;
} id_entry;

typedef struct {
    id_entry *v;
    size_t n;
} id_map;

typedef struct {
    fpm_ctx *ctx;
    jw w;
    size_t n;
    char **tested;              /* binary + ini php-fpm -t has run with */
    size_t n_tested;
    int no_fpm_test;            /* the helper half: the parent runs it */
    /* the last worker identity checked (accounts often share a user):
     * its group list comes from reading all groups */
    char id_user[64], id_group[64];
    int id_rc;
    wlf_err id_err;
    FILE *capture;              /* the helper half: problems go here */
    id_map users, groups;
    check_note *warnings;   /* printed after the problems in --json */
    const wlf_account_list *list;
    size_t *by_group;       /* list indices sorted by group */
    int serve_runs;         /* fpmctl serve answered */
    fpm_serve_state *serve_v;   /* what it says of each account */
    size_t serve_n;
    size_t n_warnings;
} checker;

static int cmp_id(const void *a, const void *b)
{
    return strcmp(((const id_entry *)a)->name, ((const id_entry *)b)->name);
}

static void id_push(id_map *m, const char *name, const struct passwd *pw,
                    const struct group *gr)
{
    id_entry *nv = realloc(m->v, (m->n + 1) * sizeof(*nv));

    if (nv == NULL)
        return;
    m->v = nv;
    memset(&nv[m->n], 0, sizeof(nv[m->n]));
    if ((nv[m->n].name = strdup(name)) == NULL)
        return;
    if (pw) {
        nv[m->n].pw.pw_uid = pw->pw_uid;
        nv[m->n].pw.pw_gid = pw->pw_gid;
        nv[m->n].pw.pw_name = nv[m->n].name;
    }
    if (gr) {
        nv[m->n].gr.gr_gid = gr->gr_gid;
        nv[m->n].gr.gr_name = nv[m->n].name;
    }
    m->n++;
}

static void load_ids(checker *c)
{
    struct passwd *pw;
    struct group *gr;

    setpwent();
    while ((pw = getpwent()) != NULL)
        id_push(&c->users, pw->pw_name, pw, NULL);
    endpwent();
    setgrent();
    while ((gr = getgrent()) != NULL)
        id_push(&c->groups, gr->gr_name, NULL, gr);
    endgrent();
    qsort(c->users.v, c->users.n, sizeof(id_entry), cmp_id);
    qsort(c->groups.v, c->groups.n, sizeof(id_entry), cmp_id);
}

static void free_ids(id_map *m)
{
    for (size_t i = 0; i < m->n; i++)
        free(m->v[i].name);
    free(m->v);
}

/* From the map; a name it lacks (a directory NSS does not enumerate) is
 * looked up directly. */
static const struct passwd *user_by_name(checker *c, const char *name)
{
    id_entry key = { (char *)name, { 0 }, { 0 } };
    id_entry *e = bsearch(&key, c->users.v, c->users.n, sizeof(id_entry),
                          cmp_id);

    return e ? &e->pw : getpwnam(name);
}

static const struct group *group_by_name(checker *c, const char *name)
{
    id_entry key = { (char *)name, { 0 }, { 0 } };
    id_entry *e = bsearch(&key, c->groups.v, c->groups.n, sizeof(id_entry),
                          cmp_id);

    return e ? &e->gr : getgrnam(name);
}

static void problem(checker *c, const char *account, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void warning(checker *c, const char *account, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The helper half's problems (P) and warnings (W), one line each. */
static void capture_line(FILE *cap, char kind, const char *account,
                         char *msg)
{
    /* account names have no newline; messages lose theirs */
    for (char *p = msg; *p; p++)
        if (*p == '\n')
            *p = ' ';
    fprintf(cap, "%c\t%s\t%s\n", kind, account ? account : "", msg);
}

static void warning(checker *c, const char *account, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    check_note *w;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (c->capture) {
        capture_line(c->capture, 'W', account, msg);
        return;
    }
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
    if (c->capture) {
        capture_line(c->capture, 'P', account, msg);
        return;
    }
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

/* The accounts sorted by group (then by their place in the list), so
 * that accounts sharing a group are found without comparing every pair. */
static const wlf_account_list *sort_list;

static int cmp_by_group(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int d = strcmp(sort_list->items[i].group, sort_list->items[j].group);

    return d ? d : (i > j) - (i < j);
}

static void index_groups(checker *c, const wlf_account_list *list)
{
    c->list = list;
    c->by_group = list->n ? malloc(list->n * sizeof(size_t)) : NULL;
    if (c->by_group == NULL)
        return;
    for (size_t i = 0; i < list->n; i++)
        c->by_group[i] = i;
    sort_list = list;
    qsort(c->by_group, list->n, sizeof(size_t), cmp_by_group);
}

static int cmp_group_key(const void *key, const void *elem)
{
    return strcmp(key, sort_list->items[*(const size_t *)elem].group);
}

/*
 * The account's logs are its group's to read and nobody else's: the
 * directory and what the masters write (root's, 0640), and no other
 * account shares that group (it could read them too).
 */
static void check_log_group(checker *c, const wlf_account *acct,
                            const struct group *gr, const char *dir)
{
    static const char *const files[] = { "", "fpm.a.log", "fpm.b.log",
                                         "slow.log" };
    const wlf_account_list *list = c->list;
    char p[PATH_MAX + 16];
    struct stat st;
    wlf_instance inst[WLF_MAX_INSTANCES];
    size_t n_inst = wlf_account_instances(&c->ctx->cfg, acct, inst);
    size_t n_files = sizeof(files) / sizeof(files[0]);
    size_t *hit, lo, hi;

    /* besides, the master logs of its other PHP versions' instances */
    for (size_t i = 0; i < n_files + 2 * (n_inst - 1); i++) {
        if (i < n_files)
            fs_path(p, sizeof(p), "%s/%s", dir, files[i]);
        else
            wlf_path_fpm_log(&c->ctx->cfg, acct->name,
                             inst[1 + (i - n_files) / 2].version,
                             (i - n_files) % 2 ? 'b' : 'a', p, sizeof(p));
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
    if (c->by_group == NULL)
        return;
    sort_list = list;
    hit = bsearch(acct->group, c->by_group, list->n, sizeof(size_t),
                  cmp_group_key);
    if (hit == NULL)
        return;
    lo = hi = (size_t)(hit - c->by_group);
    while (lo > 0 && strcmp(list->items[c->by_group[lo - 1]].group,
                            acct->group) == 0)
        lo--;
    while (hi + 1 < list->n && strcmp(list->items[c->by_group[hi + 1]].group,
                                      acct->group) == 0)
        hi++;
    for (size_t k = lo; k <= hi; k++) {
        const wlf_account *other = &list->items[c->by_group[k]];
        if (strcmp(other->name, acct->name) != 0)
            problem(c, acct->name, "shares group %s with account %s: each "
                    "can read the other's logs", acct->group, other->name);
    }
}

/* php-fpm -t on a fresh rendering of the account's instance of `version`
 * (NULL: its own), in a private temp directory */
static void check_fpm_test(checker *c, const wlf_account *acct,
                           const char *version, char slot,
                           const fpm_rendered *r)
{
    char tmpl[] = "/tmp/fpmctl-check-XXXXXX", dir[PATH_MAX];
    fpm_slot s;
    wlf_err err;

    if (mkdtemp(tmpl) == NULL) {
        problem(c, acct->name, "cannot create a temp dir: %s",
                strerror(errno));
        return;
    }
    fpm_slot_init_version(&c->ctx->cfg, acct->name, version, slot, &s);
    fs_path(dir, sizeof(dir), "%s/i", tmpl);
    fpm_slot_set_dir(&s, dir);
    if (fpm_slot_write(&s, r, &err) < 0)
        problem(c, acct->name, "%s", err.msg);
    else if (fpm_slot_test(&s, &err) < 0)
        problem(c, acct->name, "%s", err.msg);
    if (fs_remove_tree(tmpl, &err) < 0)
        problem(c, acct->name, "%s", err.msg);
}

/* binary + the ini's settings (its comments name the account) */
static void ini_key(char *key, const char *bin, const char *ini)
{
    size_t n = strlen(bin);

    memcpy(key, bin, n);
    key[n++] = '\n';
    for (const char *p = ini; *p;) {
        size_t len = strcspn(p, "\n");
        if (*p != ';') {
            memcpy(key + n, p, len);
            n += len;
            key[n++] = '\n';
        }
        p += len + (p[len] == '\n');
    }
    key[n] = '\0';
}

/*
 * The account's rendering: up to date on disk, and what php-fpm -t would
 * say. php-fpm -t itself runs once per php-fpm binary and start-up ini
 * (what it checks beyond fpmctl's own validation, php.ini and the
 * extensions, is the same for every account with the same binary and
 * ini; it accepts any php_admin value), so that check stays fast with
 * thousands of accounts.
 */
static int check_rendering(checker *c, const wlf_account *acct,
                           const char *version, const struct passwd *pw,
                           const struct group *gr)
{
    const wlf_config *cfg = &c->ctx->cfg;
    char slot;
    fpm_rendered r;
    fpm_slot s;
    wlf_err err;
    char *key;
    int tested = 0, same;

    fpm_slot_init_version(cfg, acct->name, version, 'a', &s);
    slot = fpm_live_slot(cfg, s.key);
    slot = slot ? slot : 'a';
    if (fpm_render_instance(cfg, acct, version, slot, &r, &err) < 0) {
        problem(c, acct->name, "cannot render: %s", err.msg);
        return 1;
    }
    fpm_slot_init_version(cfg, acct->name, version, slot, &s);
    same = fpm_slot_matches(&s, &r);
    if (pw && gr &&
        fpm_validate_rendering(cfg, acct, slot, &r, pw->pw_uid, gr->gr_gid,
                               &err) < 0)
        problem(c, acct->name, "%s", err.msg);
    if (c->no_fpm_test || (key = malloc(strlen(r.bin) + strlen(r.ini) + 3))
                          == NULL) {
        fpm_rendered_free(&r);
        return same;
    }
    ini_key(key, r.bin, r.ini);
    for (size_t i = 0; i < c->n_tested && !tested; i++)
        tested = strcmp(c->tested[i], key) == 0;
    if (!tested) {
        char **nv = realloc(c->tested, (c->n_tested + 1) * sizeof(*nv));
        if (nv) {
            c->tested = nv;
            nv[c->n_tested++] = key;
            key = NULL;
        }
        check_fpm_test(c, acct, version, slot, &r);
    }
    free(key);
    fpm_rendered_free(&r);
    return same;
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
    {
        /* every instance, those of other PHP versions too */
        wlf_instance inst[WLF_MAX_INSTANCES];
        size_t n = wlf_account_instances(cfg, acct, inst);
        for (size_t k = 0; k < 2 * n; k++) {
            char slot = k % 2 ? 'b' : 'a';
            fpm_slot s;
            pid_t pid;
            fpm_slot_init_version(cfg, acct->name, inst[k / 2].primary
                                  ? NULL : inst[k / 2].version, slot, &s);
            if ((pid = fpm_slot_pid(&s)) != 0 &&
                !fpm_cgroup_holds(&join, pid))
                problem(c, acct->name, "master %ld (%s, slot %c) runs "
                        "outside the account's cgroup: its limits do not "
                        "hold (fpmctl reload %s)", (long)pid, s.key, slot,
                        acct->name);
        }
    }
}

/*
 * The socket of a slot that serves (a running master's, or the one an
 * idle on-demand account's holder listens on): only root and httpd may
 * connect, and NAME.sock points at it. Looked at, never connected to: a
 * connection to an idle account's socket would start it.
 */
static void check_slot_socket(checker *c, const wlf_account *acct,
                              const char *version, char slot,
                              const char *what, gid_t httpd_gid,
                              int have_httpd_gid)
{
    const wlf_config *cfg = &c->ctx->cfg;
    fpm_slot s;
    struct stat st;
    char link[PATH_MAX];

    fpm_slot_init_version(cfg, acct->name, version, slot, &s);
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
    wlf_path_socket(cfg, s.key, link, sizeof(link));
    if (wlf_slot_of_link(link) != slot)
        problem(c, acct->name, "%s does not point at %s (slot %c)", link,
                what, slot);
}

/* A running instance of another PHP version: like the primary's */
static void check_instance(checker *c, const wlf_account *acct,
                           const char *version, gid_t httpd_gid,
                           int have_httpd_gid)
{
    fpm_probe probe;
    fpm_slot s;

    fpm_instance_probe_version(&c->ctx->cfg, acct->name, version, 1, &probe);
    fpm_slot_init_version(&c->ctx->cfg, acct->name, version, 'a', &s);
    if (probe.state == FPM_DEAD || probe.state == FPM_UNRESPONSIVE)
        problem(c, acct->name, "instance %s is %s: %s", s.key,
                fpm_state_name(probe.state), probe.error);
    if (probe.state == FPM_RUNNING && probe.slot)
        check_slot_socket(c, acct, version, probe.slot,
                          "the running instance", httpd_gid, have_httpd_gid);
}

/*
 * An on-demand account, in each of its states: idle (no master, its
 * socket held) is how it should be and its socket is checked without
 * connecting; starting is fine; running is checked like any running
 * instance (by the caller); stopped by `fpmctl stop` is said, not a
 * problem; nothing holding its socket, or a start that failed, is one.
 */
static void check_on_demand(checker *c, const wlf_account *acct,
                            fpm_probe *probe, gid_t httpd_gid,
                            int have_httpd_gid)
{
    const wlf_config *cfg = &c->ctx->cfg;

    fpm_probe_on_demand(cfg, acct->name,
                        fpm_serve_find(c->serve_v, c->serve_n, acct->name),
                        c->serve_runs, probe);
    switch (probe->state) {
    case FPM_IDLE:
        check_slot_socket(c, acct, NULL, probe->slot ? probe->slot : 'a',
                          "its held socket", httpd_gid, have_httpd_gid);
        break;
    case FPM_STOPPED:
        if (fpm_is_stopped(cfg, acct->name))
            warning(c, acct->name, "stopped (fpmctl stop): requests get "
                    "503 until `fpmctl start %s`", acct->name);
        else if (probe->error[0])
            problem(c, acct->name, "%s", probe->error);
        break;
    case FPM_DEAD:
        if (probe->pid == 0) {
            /* a failed start (the pid file case is reported below) */
            problem(c, acct->name, "%s", probe->error);
            probe->state = FPM_STOPPED;
        }
        break;
    case FPM_SUSPENDED: {
        /* nothing may hold it: a connection would start the account */
        fpm_slot s;
        struct stat st;
        unsigned long inodes[4];
        char slot = fpm_live_slot(cfg, acct->name);
        fpm_slot_init(cfg, acct->name, slot ? slot : 'a', &s);
        if (lstat(s.sock, &st) == 0 && S_ISSOCK(st.st_mode) &&
            proc_unix_listeners(s.sock, inodes, 4) > 0)
            problem(c, acct->name, "is suspended, but %s listens: a "
                    "connection would start it (fpmctl suspend %s)",
                    s.sock, acct->name);
        break;
    }
    default:
        break;
    }
}

static void check_account(checker *c, const wlf_account *acct,
                          gid_t httpd_gid, int have_httpd_gid)
{
    const wlf_config *cfg = &c->ctx->cfg;
    const struct passwd *pw = user_by_name(c, acct->user);
    const struct group *gr = group_by_name(c, acct->group);
    int have_user = pw != NULL, have_group = gr != NULL;
    uid_t uid = pw ? pw->pw_uid : 0;
    char dir[PATH_MAX], p[PATH_MAX + 32];
    fpm_probe probe;
    wlf_instance inst[WLF_MAX_INSTANCES];
    size_t n_inst = wlf_account_instances(cfg, acct, inst);
    char on_disk[1][WLF_VERSION_MAX + 1];
    int same = 1;
    wlf_err err;

    if (!have_user)
        problem(c, acct->name, "user '%s' does not exist", acct->user);
    else if (uid == 0 || (long long)uid < cfg->min_uid)
        problem(c, acct->name, "user '%s' has uid %lu (root, or below "
                "min_uid %lld)", acct->user, (unsigned long)uid,
                cfg->min_uid);
    if (!have_group)
        problem(c, acct->name, "group '%s' does not exist", acct->group);
    if (have_user && have_group && have_httpd_gid) {
        if (strcmp(c->id_user, acct->user) != 0 ||
            strcmp(c->id_group, acct->group) != 0) {
            c->id_rc = fpm_check_worker_identity(cfg, acct->user,
                                                 acct->group, &c->id_err);
            wlf_copy(c->id_user, sizeof(c->id_user), acct->user);
            wlf_copy(c->id_group, sizeof(c->id_group), acct->group);
        }
        if (c->id_rc < 0)
            problem(c, acct->name, "%s", c->id_err.msg);
    }
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
        check_log_group(c, acct, gr, dir);
    /* each PHP version the account runs: its rendering */
    for (size_t i = 0; i < n_inst; i++)
        same &= check_rendering(c, acct, inst[i].primary ? NULL
                                                      : inst[i].version,
                                pw, gr);
    /* and with versions besides its own, or left over: the routes and
     * the instances no domain needs any more */
    if (same && (n_inst > 1 || fpm_instances_on_disk(cfg, acct->name,
                                                      on_disk, 1) > 0))
        same = fpm_account_up_to_date(c->ctx, acct);
    if (!same)
        problem(c, acct->name, "generated files differ from the account "
                "file (run fpmctl rebuild %s)", acct->name);

    check_limits(c, acct);
    fpm_account_probe(cfg, acct, 1, &probe);
    if (fpm_is_on_demand(cfg, acct))
        check_on_demand(c, acct, &probe, httpd_gid, have_httpd_gid);
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
    if (probe.state == FPM_RUNNING && probe.slot)
        check_slot_socket(c, acct, NULL, probe.slot, "the running instance",
                          httpd_gid, have_httpd_gid);
    /* the instances of its other PHP versions */
    for (size_t i = 1; i < n_inst; i++)
        check_instance(c, acct, inst[i].version, httpd_gid, have_httpd_gid);
}

/*
 * Every account, in order. With thousands of them a helper process checks
 * the second half meanwhile (check is mostly system calls; 10,000
 * accounts take about a second of CPU): its problems come back through a
 * temp file and are reported after the first half's, so the output is the
 * same as one process would give. php-fpm -t runs in this process only.
 */
#define CHECK_SPLIT_FROM 1000

static void check_accounts(checker *c, const wlf_account_list *list,
                           gid_t httpd_gid, int have_httpd_gid)
{
    size_t half = list->n >= CHECK_SPLIT_FROM ? list->n / 2 : list->n;
    FILE *cap = half < list->n ? tmpfile() : NULL;
    pid_t pid = -1;
    char line[1024];

    if (cap) {
        fflush(NULL);
        pid = fork();
    }
    if (pid == 0) {
        c->capture = cap;
        c->no_fpm_test = 1;
        for (size_t i = half; i < list->n; i++)
            check_account(c, &list->items[i], httpd_gid, have_httpd_gid);
        _exit(fflush(cap) == 0 ? 0 : 1);
    }
    if (pid < 0) {      /* no helper: all here */
        if (cap)
            fclose(cap);
        cap = NULL;
        half = list->n;
    }
    for (size_t i = 0; i < half; i++)
        check_account(c, &list->items[i], httpd_gid, have_httpd_gid);
    if (cap == NULL)
        return;
    {
        int status = 0;
        if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0) {
            /* the helper failed: check its half here instead */
            fclose(cap);
            for (size_t i = half; i < list->n; i++)
                check_account(c, &list->items[i], httpd_gid,
                              have_httpd_gid);
            return;
        }
    }
    rewind(cap);
    while (fgets(line, sizeof(line), cap)) {
        char *acct = line + 2, *tab = strchr(acct, '\t');
        size_t len = strlen(line);
        if (len && line[len - 1] == '\n')
            line[--len] = '\0';
        if (len < 2 || line[1] != '\t' || tab == NULL)
            continue;
        *tab = '\0';
        if (line[0] == 'W')
            warning(c, acct[0] ? acct : NULL, "%s", tab + 1);
        else
            problem(c, acct[0] ? acct : NULL, "%s", tab + 1);
    }
    fclose(cap);
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
    if (list.n)
        load_ids(&c);
    index_groups(&c, &list);
    {
        /* what fpmctl serve holds, asked once (on-demand accounts) */
        int fd = fpm_serve_conn(ctx);
        c.serve_runs = fd >= 0;
        if (fd >= 0 && fpm_serve_list(fd, &c.serve_v, &c.serve_n, &err) < 0)
            problem(&c, NULL, "%s", err.msg);
    }
    check_accounts(&c, &list, httpd_gid, have_httpd_gid);
    free_ids(&c.users);
    free_ids(&c.groups);
    free(c.by_group);
    free(c.serve_v);
    for (size_t i = 0; i < c.n_tested; i++)
        free(c.tested[i]);
    free(c.tested);
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
