/*
 * cmd_php.c - fpmctl php NAME [ARGS...]: the account's PHP on the command
 * line (cron jobs, Composer), as its user, with its settings.
 *
 * fpmctl becomes the account's user (initgroups, setgid, setuid: what
 * php-fpm does for its workers) and execs the PHP CLI of the account's
 * version, so PHP's exit status, signals and terminal are the caller's.
 * The account's ini settings are given with -d (the instance's own ini
 * directory is root's and holds only what the master needs); options that
 * would drop or replace them are refused.
 */
#include <errno.h>
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
    "Exits with PHP's status. Unlike in php-fpm, max_execution_time is\n"
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

int cmd_php(fpm_ctx *ctx, int argc, char **argv)
{
    wlf_account acct;
    wlf_err err;
    struct passwd *pw;
    uid_t uid;
    gid_t gid;
    char **args, **env;
    const char *name, *bad;
    int rc;

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
    fpm_flush_stdout();
    fflush(NULL);
    /* the account's user, as php-fpm makes its workers */
    if (initgroups(acct.user, gid) < 0 || setgid(gid) < 0 ||
        setuid(uid) < 0 || setuid(0) == 0) {
        fpm_error("%s: cannot become user %s: %s", name, acct.user,
                  strerror(errno));
        _exit(FPM_EXIT_FAILED);
    }
    if (access(".", X_OK) != 0 && chdir(acct.home) < 0 && chdir("/") < 0) {
        fpm_error("%s: no usable working directory", name);
        _exit(FPM_EXIT_FAILED);
    }
    execve(args[0], args, env);
    fpm_error("%s: cannot run %s: %s", name, args[0], strerror(errno));
    _exit(127);
out:
    wlf_account_free(&acct);
    return rc;
}
