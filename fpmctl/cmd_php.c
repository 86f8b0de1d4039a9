/*
 * cmd_php.c - fpmctl php NAME [ARGS...]: the account's PHP on the command
 * line (cron jobs, Composer), as its user, with its settings.
 *
 * A child of fpmctl becomes the account's user (initgroups, setgid,
 * setuid: what php-fpm does for its workers) and execs the PHP CLI of the
 * account's version, in a session of its own: the caller (root) keeps its
 * terminal. Where the caller has one, PHP gets a pseudo-terminal that
 * fpmctl relays (ptyrun.c): a program the customer's PHP starts could
 * otherwise push keystrokes into root's shell (TIOCSTI) or keep reading
 * them after fpmctl ended. fpmctl exits with PHP's status. PHP runs
 * within the account's limits, as its masters do: in its cgroup (direct
 * mode) or in a scope in its slice (systemd mode).
 * The account's ini settings are given with -d (the instance's own ini
 * directory is root's and holds only what the master needs); options that
 * would drop or replace them are refused.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fpmctl.h"
#include "fsutil.h"
#include "ops.h"
#include "phpcli.h"
#include "ptyrun.h"
#include "resources.h"

const char cmd_php_usage[] = "php NAME [ARGS...]";
const char cmd_php_help[] =
    "Run the account's PHP version on the command line, as the account's\n"
    "user, with its settings: the php_admin and php_value settings of the\n"
    "account, its open_basedir, upload, session and temp directories\n"
    "(TMPDIR too), its env entries and extensions, for cron jobs and\n"
    "Composer. ARGS go\n"
    "to php as they are (a script and its arguments, -r CODE, -l, ...);\n"
    "options that would drop or replace those settings (-n, -c, -d, -z)\n"
    "are refused. HOME is the user's home directory; the working directory\n"
    "stays, unless the user cannot enter it (then: the account's home).\n"
    "PHP runs in a session of its own: on a terminal, a pseudo-terminal\n"
    "that fpmctl relays, never the caller's own (^Z does not suspend it).\n"
    "It runs within the account's limits (cgroup, or a scope in its\n"
    "slice in systemd mode). Exits\n"
    "with PHP's status (killed by a signal: fpmctl ends by the same one).\n"
    "Unlike in php-fpm, max_execution_time is\n"
    "PHP's CLI default (no limit), and errors go to standard error. A\n"
    "suspended account's PHP does not run.\n\n"
    "  fpmctl php alice /home/alice/www/cron.php --quiet\n"
    "  fpmctl php alice /usr/local/bin/composer install -d /home/alice/www\n";

/* Environment of the PHP process: nothing of root's but these */
static char **build_env(const fpm_ctx *ctx, const wlf_account *acct,
                        const struct passwd *pw)
{
    static const char *const keep[] = { "TERM", "LANG", "LANGUAGE",
                                        "COLUMNS", "LINES", NULL };
    char acctdir[PATH_MAX];
    char **env = calloc(32, sizeof(char *));
    size_t n = 0;
    int ok = 1;

    if (env == NULL)
        return NULL;
    wlf_path_account_dir(&ctx->cfg, acct->name, acctdir, sizeof(acctdir));
    ok &= asprintf(&env[n++], "PATH=/usr/local/bin:/usr/bin:/bin") > 0;
    ok &= asprintf(&env[n++], "HOME=%s", pw->pw_dir) > 0;
    ok &= asprintf(&env[n++], "USER=%s", pw->pw_name) > 0;
    ok &= asprintf(&env[n++], "LOGNAME=%s", pw->pw_name) > 0;
    ok &= asprintf(&env[n++], "TMPDIR=%s/tmp", acctdir) > 0;
    for (size_t i = 0; keep[i]; i++) {
        const char *v = getenv(keep[i]);
        if (v)
            ok &= asprintf(&env[n++], "%s=%s", keep[i], v) > 0;
    }
    for (char **e = environ; *e && n < 30; e++)
        if (strncmp(*e, "LC_", 3) == 0)
            ok &= (env[n++] = strdup(*e)) != NULL;
    /* the pool's env[] entries; later ones win in getenv() order */
    for (size_t i = 0; i < acct->n_env && ok; i++) {
        char **bigger = realloc(env, (n + 2) * sizeof(char *));
        if (bigger == NULL)
            return NULL;
        env = bigger;
        ok &= asprintf(&env[n++], "%s=%s", acct->env[i].key,
                       acct->env[i].value) > 0;
        env[n] = NULL;
    }
    if (!ok)
        return NULL;
    return env;
}

typedef struct {
    const char *name, *user, *home;
    uid_t uid;
    gid_t gid;
    char **args, **env;
    const fpm_cg_join *join;
} php_child;

/* In the child: the account's limits and user, as php-fpm's workers */
static void become_and_exec(void *data)
{
    php_child *p = data;

    for (size_t i = 0; i < p->join->n; i++) {
        /* "0": the writer itself */
        int fd = open(p->join->files[i], O_WRONLY | O_CLOEXEC);
        if (fd < 0 || write(fd, "0", 1) != 1) {
            fpm_error("%s: cannot enter the account's cgroup %s: %s",
                      p->name, p->join->files[i], strerror(errno));
            _exit(FPM_EXIT_FAILED);
        }
        close(fd);
    }
    if (initgroups(p->user, p->gid) < 0 || setgid(p->gid) < 0 ||
        setuid(p->uid) < 0 || setuid(0) == 0) {
        fpm_error("%s: cannot become user %s: %s", p->name, p->user,
                  strerror(errno));
        _exit(FPM_EXIT_FAILED);
    }
    if (access(".", X_OK) != 0 && chdir(p->home) < 0 && chdir("/") < 0) {
        fpm_error("%s: no usable working directory", p->name);
        _exit(FPM_EXIT_FAILED);
    }
    execve(p->args[0], p->args, p->env);
    fpm_error("%s: cannot run %s: %s", p->name, p->args[0],
              strerror(errno));
    _exit(127);
}

/* systemd mode: in a scope in the account's slice, before PHP runs */
typedef struct {
    const fpm_ctx *ctx;
    const char *name, *slice;
    int failed;
} scope_place;

static int place_in_scope(pid_t pid, void *data)
{
    scope_place *sp = data;
    wlf_err err;

    wlf_err_clear(&err);
    if (fpm_scope_place(sp->ctx, sp->name, sp->slice, pid, &err) < 0) {
        fpm_report(&err, FPM_EXIT_FAILED);
        sp->failed = 1;
        return -1;
    }
    return 0;
}

int cmd_php(fpm_ctx *ctx, int argc, char **argv)
{
    wlf_account acct;
    wlf_err err;
    struct passwd *pw;
    uid_t uid;
    gid_t gid;
    char **args, **env;
    const char *name, *bad;
    fpm_cg_join join;
    char slice[160];
    int rc, lock_rc;

    /* everything after NAME belongs to php, --help and -q included */
    if (argc < 2)
        return fpm_usage_error(cmd_php_usage, "name the account");
    name = argv[1];
    if ((rc = fpm_account_load(ctx, name, &acct, &err)) != FPM_EXIT_OK)
        return fpm_report(&err, rc);
    if (wlf_account_is_suspended(&acct)) {
        fpm_error("%s: suspended since %s: its PHP does not run", name,
                  acct.suspended_since);
        rc = FPM_EXIT_FAILED;
        goto out;
    }
    if ((bad = fpm_php_refused_option(argc - 2, argv + 2)) != NULL) {
        rc = fpm_usage_error(cmd_php_usage, "php option %s would replace "
                             "the account's settings; it is not allowed",
                             bad);
        goto out;
    }
    if (fpm_account_ids(&acct, &uid, &gid, &err) < 0 ||
        (pw = getpwnam(acct.user)) == NULL) {
        if (err.msg[0] == '\0')
            wlf_fail(&err, "user", "no such user '%s'", acct.user);
        rc = fpm_report(&err, FPM_EXIT_FAILED);
        goto out;
    }
    if (uid == 0 || gid == 0) {
        fpm_error("%s: PHP may not run as root", name);
        rc = FPM_EXIT_FAILED;
        goto out;
    }
    if ((args = fpm_php_argv(&ctx->cfg, &acct, argc - 2, argv + 2,
                             &err)) == NULL) {
        rc = fpm_report(&err, FPM_EXIT_FAILED);
        goto out;
    }
    if ((env = build_env(ctx, &acct, pw)) == NULL) {
        fpm_error("out of memory");
        rc = FPM_EXIT_FAILED;
        goto out;
    }
    /* inside the account's limits, as its masters: a cron job does not
     * get more memory or CPU than the account */
    if (fpm_limits_for_process(ctx, name, &join, slice, sizeof(slice),
                               &lock_rc, &err) < 0) {
        rc = lock_rc ? lock_rc : fpm_report(&err, FPM_EXIT_FAILED);
        goto free_args;
    }
    fpm_flush_stdout();
    fflush(NULL);
    {
        php_child child = { name, acct.user, acct.home, uid, gid, args,
                            env, &join };
        scope_place sp = { ctx, name, slice, 0 };
        int status = fpm_run_detached(become_and_exec, &child,
                                      slice[0] ? place_in_scope : NULL,
                                      &sp);
        if (sp.failed) {
            rc = FPM_EXIT_FAILED;
        }
        else if (status < 0) {
            /* never PHP on root's own terminal instead */
            fpm_error("%s: cannot start PHP in a session of its own: %s",
                      name, strerror(errno));
            rc = FPM_EXIT_FAILED;
        }
        else {
            rc = fpm_end_like(status);
        }
    }
free_args:
    fpm_php_argv_free(args);
    for (char **e = env; *e; e++)
        free(*e);
    free(env);
out:
    wlf_account_free(&acct);
    return rc;
}
