/*
 * cmd_check.c - fpmctl check: everything that could keep an account from
 * working, listed at once.
 */
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
#include "render.h"

const char cmd_check_usage[] = "check";
const char cmd_check_help[] =
    "Check the configuration and every account, and list every problem:\n"
    "wlfcgi.conf and each account file load; users and groups exist (uid\n"
    "not 0, at least min_uid); homes exist; directories are owned by root\n"
    "and not writable by others; per-account tmp/upload/session dirs and\n"
    "php-error.log belong to the account's user; generated files are up to\n"
    "date; `php-fpm -t` accepts each account's configuration (rendered\n"
    "into a temporary directory); running instances' sockets are owned by\n"
    "the user with the httpd group and mode 0660, and NAME.sock points at\n"
    "them. Exit 0 only when there is no problem. --json: {\"ok\": bool,\n"
    "\"accounts\": N, \"problems\": [{\"account\": ..., \"problem\": ...}]}.\n";

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
    char **tested;              /* php-fpm binaries php-fpm -t has run */
    size_t n_tested;
    int no_fpm_test;            /* the helper half: the parent runs it */
    FILE *capture;              /* the helper half: problems go here */
    id_map users, groups;
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

static void problem(checker *c, const char *account, const char *fmt, ...)
{
    char msg[800];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (c->capture) {
        /* one line each; account names and messages have no newline */
        for (char *p = msg; *p; p++)
            if (*p == '\n')
                *p = ' ';
        fprintf(c->capture, "%s\t%s\n", account ? account : "", msg);
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

/* php-fpm -t on a fresh rendering, in a private temp directory */
static void check_fpm_test(checker *c, const wlf_account *acct, char slot,
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
    fpm_slot_init(&c->ctx->cfg, acct->name, slot, &s);
    fs_path(dir, sizeof(dir), "%s/i", tmpl);
    fpm_slot_set_dir(&s, dir);
    if (fpm_slot_write(&s, r, &err) < 0)
        problem(c, acct->name, "%s", err.msg);
    else if (fpm_slot_test(&s, &err) < 0)
        problem(c, acct->name, "%s", err.msg);
    if (fs_remove_tree(tmpl, &err) < 0)
        problem(c, acct->name, "%s", err.msg);
}

/*
 * The account's rendering: up to date on disk, and what php-fpm -t would
 * say. php-fpm -t itself runs once per php-fpm binary (what it checks
 * beyond fpmctl's own validation, php.ini and the extensions, is the same
 * for every account of that binary; it accepts any php_admin value), so
 * that check stays fast with thousands of accounts.
 */
static void check_rendering(checker *c, const wlf_account *acct,
                            const struct passwd *pw, const struct group *gr)
{
    const wlf_config *cfg = &c->ctx->cfg;
    char slot = fpm_live_slot(cfg, acct->name);
    fpm_rendered r;
    fpm_slot s;
    wlf_err err;
    int tested = 0;

    slot = slot ? slot : 'a';
    if (fpm_render_all(cfg, acct, slot, &r, &err) < 0) {
        problem(c, acct->name, "cannot render: %s", err.msg);
        return;
    }
    fpm_slot_init(cfg, acct->name, slot, &s);
    if (!fpm_slot_matches(&s, &r))
        problem(c, acct->name, "generated files differ from the account "
                "file (run fpmctl rebuild %s)", acct->name);
    if (pw && gr &&
        fpm_validate_rendering(cfg, acct, slot, &r, pw->pw_uid, gr->gr_gid,
                               &err) < 0)
        problem(c, acct->name, "%s", err.msg);
    for (size_t i = 0; i < c->n_tested && !tested; i++)
        tested = strcmp(c->tested[i], r.bin) == 0;
    if (!tested && !c->no_fpm_test) {
        char **nv = realloc(c->tested, (c->n_tested + 1) * sizeof(*nv));
        if (nv) {
            c->tested = nv;
            if ((nv[c->n_tested] = strdup(r.bin)) != NULL)
                c->n_tested++;
        }
        check_fpm_test(c, acct, slot, &r);
    }
    fpm_rendered_free(&r);
}

static void check_account(checker *c, const wlf_account *acct,
                          gid_t httpd_gid, int have_httpd_gid)
{
    const wlf_config *cfg = &c->ctx->cfg;
    const struct passwd *pw = user_by_name(c, acct->user);
    const struct group *gr = group_by_name(c, acct->group);
    char dir[PATH_MAX], p[PATH_MAX + 32];
    struct stat st;
    fpm_probe probe;
    wlf_err err;

    if (pw == NULL)
        problem(c, acct->name, "user '%s' does not exist", acct->user);
    else if (pw->pw_uid == 0 || (long long)pw->pw_uid < cfg->min_uid)
        problem(c, acct->name, "user '%s' has uid %lu (root, or below "
                "min_uid %lld)", acct->user, (unsigned long)pw->pw_uid,
                cfg->min_uid);
    if (gr == NULL)
        problem(c, acct->name, "group '%s' does not exist", acct->group);
    if (fpm_check_home(acct->home, &err) < 0)
        problem(c, acct->name, "home %s is not an existing directory",
                acct->home);

    wlf_path_account_dir(cfg, acct->name, dir, sizeof(dir));
    check_root_dir(c, acct->name, dir, 0711);
    if (pw) {
        static const char *const sub[] = { "tmp", "upload", "sessions" };
        for (int i = 0; i < 3; i++) {
            fs_path(p, sizeof(p), "%s/%s", dir, sub[i]);
            check_user_path(c, acct->name, p, pw->pw_uid, 1, 0700);
        }
    }
    wlf_path_log_dir(cfg, acct->name, dir, sizeof(dir));
    check_root_dir(c, acct->name, dir, 0755);
    if (pw) {
        fs_path(p, sizeof(p), "%s/php-error.log", dir);
        check_user_path(c, acct->name, p, pw->pw_uid, 0, 0640);
    }
    check_rendering(c, acct, pw, gr);

    fpm_instance_probe(cfg, acct->name, 1, &probe);
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
            /* an on-demand socket is bound by fpmctl (or systemd), as
             * root; php-fpm gives its own to the account's user */
            uid_t want = fpm_is_on_demand(cfg, acct) ? 0 : pw ? pw->pw_uid
                                                              : 0;
            if (pw && st.st_uid != want)
                problem(c, acct->name, "%s: owner uid %lu, expected %s",
                        s.sock, (unsigned long)st.st_uid,
                        want == 0 ? "root" : acct->user);
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
        char *tab = strchr(line, '\t');
        size_t len = strlen(line);
        if (len && line[len - 1] == '\n')
            line[--len] = '\0';
        if (tab == NULL)
            continue;
        *tab = '\0';
        problem(c, line[0] ? line : NULL, "%s", tab + 1);
    }
    fclose(cap);
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

    memset(&c, 0, sizeof(c));
    c.ctx = ctx;
    if (argc > 1)
        return fpm_usage_error(cmd_check_usage, "unexpected argument "
                               "'%.40s'", argv[1]);
    if (ctx->json) {
        jw_obj(&c.w);
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
    check_root_dir(&c, NULL, cfg->socket_dir, 0755);
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
        problem(&c, NULL, "%s", fpm_load_error_text(&list.errors[i]));
    if (list.n)
        load_ids(&c);
    check_accounts(&c, &list, httpd_gid, have_httpd_gid);
    free_ids(&c.users);
    free_ids(&c.groups);
    for (size_t i = 0; i < c.n_tested; i++)
        free(c.tested[i]);
    free(c.tested);

    if (ctx->json) {
        char *out;
        jw_arr_end(&c.w);
        jw_kbool(&c.w, "ok", c.n == 0);
        jw_kint(&c.w, "accounts", (long long)list.n);
        jw_obj_end(&c.w);
        if ((out = jw_finish(&c.w)) == NULL) {
            fpm_error("out of memory");
            wlf_account_list_free(&list);
            return FPM_EXIT_FAILED;
        }
        fpm_print(out);
        free(out);
    }
    else if (c.n == 0)
        fpm_say(ctx, "ok: %s and %zu account(s), no problems", cfg->file,
                list.n);
    else
        printf("%zu problem(s)\n", c.n);
    wlf_account_list_free(&list);
    return c.n ? FPM_EXIT_FAILED : FPM_EXIT_OK;
}
