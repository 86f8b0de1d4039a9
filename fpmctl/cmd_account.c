/*
 * cmd_account.c - fpmctl add-account and remove-account.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "activation.h"
#include "args.h"
#include "fpmctl.h"
#include "fsutil.h"
#include "instance.h"
#include "ops.h"
#include "resources.h"
#include "wlf_metrics.h"

const char cmd_add_account_usage[] =
    "add-account NAME [--user U] [--group G] [--home DIR] [--domain D]... "
    "[--max-children N] [--max-upload SIZE] [--php VERSION]";
const char cmd_add_account_help[] =
    "Create account NAME and start its own php-fpm instance: one master\n"
    "with one pool [NAME] running as the account's user, listening on\n"
    "<sockets>/NAME.sock, with its own OpCache and APCu memory. An\n"
    "on-demand account (activation) is not started: its files are checked\n"
    "without php-fpm and its socket handed to fpmctl serve or its socket\n"
    "unit; its first request starts it.\n\n"
    "  --user U          Unix user the PHP workers run as (default: NAME);\n"
    "                    must exist, may not be root and needs a uid of at\n"
    "                    least min_uid (wlfcgi.conf)\n"
    "  --group G         their group (default: the user's primary group)\n"
    "  --home DIR        the account's files; base of open_basedir\n"
    "                    (default: the user's home directory; must exist)\n"
    "  --domain D        a host name of the account's sites; repeat for\n"
    "                    more (*.example.com allowed); no other account may\n"
    "                    own it\n"
    "  --max-children N  most PHP worker processes (pm.max_children)\n"
    "  --max-upload SIZE largest request body, e.g. 64M or 2G\n"
    "  --php VERSION     one of php.versions in wlfcgi.conf\n\n"
    "The user may not be root, httpd's own user or a member of httpd's\n"
    "group, and --group may not be httpd's group: PHP with that group\n"
    "could connect to every account's socket. A name whose earlier\n"
    "account was removed without --purge is refused until its data is\n"
    "gone (remove-account NAME --purge).\n\n"
    "User and group cannot be changed later (remove-account --purge and\n"
    "add the account again). Other settings are changed with `fpmctl set`.\n"
    "Invalid input is refused with exit 2 before anything is written; a\n"
    "failed start leaves nothing behind.\n";

const char cmd_remove_account_usage[] = "remove-account NAME [--purge]";
const char cmd_remove_account_help[] =
    "Stop the account's instances and remove its account file, its\n"
    "generated files and its socket link.\n\n"
    "  --purge   also remove its tmp, upload and session directories\n"
    "            (<state>/accounts/NAME) and its logs (<logs>/NAME)\n\n"
    "Without --purge those stay, and the name cannot be given to a new\n"
    "account until they are gone: add-account refuses it. For a name that\n"
    "was removed that way, remove-account NAME --purge deletes them.\n"
    "The account's home directory is never touched. A running account's\n"
    "sites stop serving PHP: that is said and asked first on a terminal;\n"
    "scripts add -y (--yes), without which nothing is changed (exit 2).\n";

enum { OPT_USER, OPT_GROUP, OPT_HOME, OPT_DOMAIN, OPT_MAX_CHILDREN,
       OPT_MAX_UPLOAD, OPT_PHP };

static const fpm_optdef add_opts[] = {
    [OPT_USER] = { "user", 'u', 1 },
    [OPT_GROUP] = { "group", 'g', 1 },
    [OPT_HOME] = { "home", 0, 1 },
    [OPT_DOMAIN] = { "domain", 'd', 1 },
    [OPT_MAX_CHILDREN] = { "max-children", 0, 1 },
    [OPT_MAX_UPLOAD] = { "max-upload", 0, 1 },
    [OPT_PHP] = { "php", 0, 1 },
    { NULL, 0, 0 }
};

#define MAX_ARGS 2048

/* Who runs the account: a user that exists, is not root and has a uid of
 * at least min_uid; a group other than root's; neither with httpd's group
 * (its PHP could reach every socket); an existing home. */
static int resolve_identity(const wlf_config *cfg, wlf_account *acct,
                            const char *group_opt, const char *home_opt,
                            wlf_err *err)
{
    struct passwd *pw;
    struct group *gr;

    if (wlf_valid_unix_name(acct->user, "user", err) < 0)
        return -1;
    if ((pw = getpwnam(acct->user)) == NULL)
        return wlf_fail(err, "user", "no such user '%s'", acct->user);
    if (pw->pw_uid == 0)
        return wlf_fail(err, "user", "'%s' has uid 0; PHP may not run as "
                        "root", acct->user);
    if ((long long)pw->pw_uid < cfg->min_uid)
        return wlf_fail(err, "user", "'%s' has uid %lu, below min_uid %lld "
                        "of wlfcgi.conf", acct->user,
                        (unsigned long)pw->pw_uid, cfg->min_uid);
    if (group_opt) {
        if (wlf_valid_unix_name(group_opt, "group", err) < 0)
            return -1;
        if ((gr = getgrnam(group_opt)) == NULL)
            return wlf_fail(err, "group", "no such group '%s'", group_opt);
    }
    else if ((gr = getgrgid(pw->pw_gid)) == NULL)
        return wlf_fail(err, "group", "the primary group %lu of '%s' has no "
                        "name", (unsigned long)pw->pw_gid, acct->user);
    if (gr->gr_gid == 0)
        return wlf_fail(err, "group", "'%s' is gid 0; PHP may not run with "
                        "root's group", gr->gr_name);
    if ((acct->group = strdup(gr->gr_name)) == NULL ||
        (acct->home = strdup(home_opt ? home_opt : pw->pw_dir)) == NULL)
        return wlf_fail(err, "user", "out of memory");
    /* after the copies: it looks up users and groups itself */
    if (fpm_check_worker_identity(cfg, acct->user, acct->group, err) < 0)
        return -1;
    return fpm_check_home(acct->home, err);
}

int cmd_add_account(fpm_ctx *ctx, int argc, char **argv)
{
    static fpm_arg args[MAX_ARGS];
    size_t n;
    wlf_err err;
    wlf_account acct;
    const char *name = NULL, *user = NULL, *group = NULL, *home = NULL;
    char path[PATH_MAX], sock[PATH_MAX], left[2 * PATH_MAX + 8];
    fpm_apply_result res;
    wlf_settings eff;
    int rc = FPM_EXIT_USAGE;

    if (fpm_args_parse(argc, argv, add_opts, args, MAX_ARGS, &n, &err) < 0)
        return fpm_usage_error(cmd_add_account_usage, "%s: %s", err.field,
                               err.msg);
    wlf_account_init(&acct);
    for (size_t i = 0; i < n; i++) {
        if (args[i].opt == -1) {
            if (name) {
                wlf_account_free(&acct);
                return fpm_usage_error(cmd_add_account_usage, "one account "
                                       "name only ('%.40s' is extra)",
                                       args[i].value);
            }
            name = args[i].value;
        }
    }
    if (name == NULL)
        return fpm_usage_error(cmd_add_account_usage, "name the account");
    if (wlf_valid_account_name(name, &err) < 0)
        goto invalid;
    wlf_copy(acct.name, sizeof(acct.name), name);

    for (size_t i = 0; i < n; i++) {
        const char *v = args[i].value;
        switch (args[i].opt) {
        case OPT_USER: user = v; break;
        case OPT_GROUP: group = v; break;
        case OPT_HOME: home = v; break;
        case OPT_DOMAIN:
            if (wlf_account_add_domain(&acct, v, &err) < 0)
                goto invalid;
            break;
        case OPT_MAX_CHILDREN:
            if (wlf_setting_parse(&acct.settings, WLF_S_MAX_CHILDREN, v,
                                  &err) < 0)
                goto invalid;
            break;
        case OPT_MAX_UPLOAD:
            if (wlf_setting_parse(&acct.settings, WLF_S_MAX_UPLOAD, v,
                                  &err) < 0)
                goto invalid;
            break;
        case OPT_PHP:
            if (wlf_setting_parse(&acct.settings, WLF_S_PHP, v, &err) < 0)
                goto invalid;
            if (wlf_config_php(&ctx->cfg, v) == NULL) {
                wlf_fail(&err, "php", "unknown PHP version '%s' (php.versions"
                         " in wlfcgi.conf lists the available ones)", v);
                goto invalid;
            }
            break;
        default:
            break;
        }
    }
    if ((acct.user = strdup(user ? user : name)) == NULL) {
        fpm_error("out of memory");
        rc = FPM_EXIT_FAILED;
        goto out;
    }
    if (resolve_identity(&ctx->cfg, &acct, group, home, &err) < 0 ||
        wlf_account_check(&ctx->cfg, &acct, &err) < 0)
        goto invalid;

    /* under the lock from here on: nobody adds the same name or domain */
    wlf_path_account_file(&ctx->cfg, name, path, sizeof(path));
    if (access(path, F_OK) == 0) {
        wlf_fail(&err, "name", "account '%s' already exists", name);
        goto invalid;
    }
    /* A name is handed on clean: the sessions, uploads and PHP error log
     * of a removed account are never given to whoever gets its name next
     * (fpmctl cannot tell whether that is the same customer). */
    if (fpm_leftover_data(&ctx->cfg, name, left, sizeof(left))) {
        wlf_fail(&err, "name", "a removed account '%s' left its data in %s;"
                 " `fpmctl remove-account %s --purge` deletes it (or move it"
                 " away first)", name, left, name);
        goto invalid;
    }
    if (fpm_check_domains(ctx, &acct, &err) < 0)
        goto invalid;
    fpm_warn_shadowed(ctx, &acct, NULL);

    wlf_path_socket(&ctx->cfg, name, sock, sizeof(sock));
    if (wlf_account_effective(&ctx->cfg, &acct, &eff) < 0) {
        rc = FPM_EXIT_FAILED;
        goto out;
    }
    if (ctx->dry_run) {
        fpm_say(ctx, "would add account %s (user %s, group %s, home %s, "
                "php %s) and start it on %s", name, acct.user, acct.group,
                acct.home, eff.str[WLF_S_PHP], sock);
        wlf_settings_free(&eff);
        rc = FPM_EXIT_OK;
        goto out;
    }
    if (fpm_account_apply(ctx, &acct, FPM_APPLY_WRITE_ACCOUNT |
                          FPM_APPLY_START, &res, &err) < 0) {
        wlf_err e2;
        wlf_settings_free(&eff);
        rc = fpm_report(&err, FPM_EXIT_FAILED);
        /* none of it existed before: leave the name as clean as it was */
        fpm_purge_account_data(&ctx->cfg, name, &e2);
        fpm_drain_forget(ctx, name);
        goto out;
    }
    fpm_domain_index_update(ctx, NULL, &acct);
    if (res.did == FPM_DID_ARMED) {
        fpm_say(ctx, "%s: added (user %s, php %s, socket %s, on-demand: "
                "idle until its first request)", name, acct.user,
                eff.str[WLF_S_PHP], sock);
        if (!res.serve)
            fpm_error("%s: note: fpmctl serve is not running; requests get "
                      "503 until it runs", name);
    }
    else
        fpm_say(ctx, "%s: added (user %s, php %s, socket %s, pid %ld)",
                name, acct.user, eff.str[WLF_S_PHP], sock, (long)res.pid);
    wlf_settings_free(&eff);
    rc = FPM_EXIT_OK;
    goto out;

invalid:
    rc = fpm_report(&err, FPM_EXIT_USAGE);
out:
    wlf_account_free(&acct);
    return rc;
}

enum { OPT_PURGE };

static const fpm_optdef remove_opts[] = {
    [OPT_PURGE] = { "purge", 0, 0 },
    { NULL, 0, 0 }
};

/* Generated files, links, sockets or pid files under NAME. */
static int has_instance_files(const wlf_config *cfg, const char *name)
{
    char p[PATH_MAX];
    struct stat st;
    int found = 0;

    fpm_live_path(cfg, name, p, sizeof(p));
    found |= lstat(p, &st) == 0;
    wlf_path_socket(cfg, name, p, sizeof(p));
    found |= lstat(p, &st) == 0;
    for (char slot = 'a'; slot <= 'b'; slot++) {
        fpm_slot s;
        fpm_slot_init(cfg, name, slot, &s);
        found |= lstat(s.dir, &st) == 0 || lstat(s.sock, &st) == 0 ||
                 lstat(s.pidfile, &st) == 0;
    }
    {
        /* instances of its other PHP versions */
        char v[1][WLF_VERSION_MAX + 1];
        found |= fpm_instances_on_disk(cfg, name, v, 1) > 0;
    }
    return found;
}

/*
 * remove-account of a name that has no account file: --purge deletes what
 * an earlier remove-account without --purge left (and whatever an
 * interrupted run left of its instances); otherwise exit 3, saying so.
 */
static int remove_leftovers(fpm_ctx *ctx, const char *name, int purge,
                            const wlf_err *no_account)
{
    char left[2 * PATH_MAX + 8], what[sizeof(left) + 32];
    wlf_err err;
    int was_running, rc = FPM_EXIT_OK;

    if (fpm_leftover_data(&ctx->cfg, name, left, sizeof(left)) == 0) {
        if (!has_instance_files(&ctx->cfg, name))
            return fpm_report(no_account, FPM_EXIT_NO_ACCOUNT);
        snprintf(what, sizeof(what), "instance files");
    }
    else
        snprintf(what, sizeof(what), "its data in %s", left);
    if (!purge) {
        fpm_error("%s: no such account; a removed account left %s (add "
                  "--purge to delete it)", name, what);
        return FPM_EXIT_NO_ACCOUNT;
    }
    if (ctx->dry_run) {
        fpm_say(ctx, "%s: would delete what a removed account left: %s",
                name, what);
        return FPM_EXIT_OK;
    }
    if (fpm_account_stop(ctx, name, 2000, &was_running, &err) < 0)
        return fpm_report(&err, FPM_EXIT_FAILED);
    if (fpm_account_remove_instances(ctx, name, &err) < 0)
        rc = fpm_report(&err, FPM_EXIT_FAILED);
    fpm_drain_forget(ctx, name);
    if (fpm_purge_account_data(&ctx->cfg, name, &err) < 0)
        return fpm_report(&err, FPM_EXIT_FAILED);
    if (rc == FPM_EXIT_OK)
        fpm_say(ctx, "%s: purged what a removed account left: %s", name,
                what);
    return rc;
}

/* A running account's sites stop serving PHP: say so, ask (or -y) */
static int confirm_removal(fpm_ctx *ctx, const char *name,
                           const wlf_account *acct)
{
    fpm_probe p;
    char what[1400], doms[1000] = "";
    size_t off = 0;

    fpm_instance_probe(&ctx->cfg, name, 0, &p);
    if (p.state != FPM_RUNNING)
        return FPM_EXIT_OK;
    for (size_t i = 0; acct && i < acct->n_domains && off < sizeof(doms);
         i++)
        off += (size_t)snprintf(doms + off, sizeof(doms) - off, "%s%s",
                                i ? ", " : "", acct->domains[i]);
    snprintf(what, sizeof(what), "is running (slot %c, pid %ld)%s%s; "
             "remove-account stops it, and %s PHP requests fail (503, after "
             "httpd's next graceful restart 500)", p.slot, (long)p.pid,
             doms[0] ? " for " : "", doms, doms[0] ? "their" : "its");
    return fpm_confirm(ctx, name, what, "Remove it?");
}

int cmd_remove_account(fpm_ctx *ctx, int argc, char **argv)
{
    fpm_arg args[16];
    size_t n;
    wlf_err err;
    wlf_account acct;
    const char *name = NULL;
    int purge = 0, was_running, loaded, held = 0, rc = FPM_EXIT_OK;
    char path[PATH_MAX];

    if (fpm_args_parse(argc, argv, remove_opts, args, 16, &n, &err) < 0)
        return fpm_usage_error(cmd_remove_account_usage, "%s: %s", err.field,
                               err.msg);
    for (size_t i = 0; i < n; i++) {
        if (args[i].opt == OPT_PURGE)
            purge = 1;
        else if (name)
            return fpm_usage_error(cmd_remove_account_usage, "one account "
                                   "name only");
        else
            name = args[i].value;
    }
    if (name == NULL)
        return fpm_usage_error(cmd_remove_account_usage, "name the account");
    switch (fpm_account_load(ctx, name, &acct, &err)) {
    case FPM_EXIT_OK:
        loaded = 1;
        break;
    case FPM_EXIT_FAILED:
        /* a broken account file can still be removed */
        loaded = 0;
        break;
    case FPM_EXIT_NO_ACCOUNT:
        return remove_leftovers(ctx, name, purge, &err);
    default:
        return fpm_report(&err, FPM_EXIT_USAGE);
    }
    if (ctx->dry_run) {
        fpm_say(ctx, "would stop %s and remove its account file and "
                "generated files%s", name, purge ? ", its tmp/upload/session "
                "directories and its logs" : "");
        goto out;
    }
    if ((rc = confirm_removal(ctx, name, loaded ? &acct : NULL)) !=
        FPM_EXIT_OK)
        goto out;
    /* fpmctl serve lets go of the account only once its files are gone */
    if ((held = fpm_serve_lock(ctx, name, &err)) < 0 ||
        fpm_account_stop(ctx, name, fpm_stop_wait_ms(&ctx->cfg,
                                                     loaded ? &acct : NULL),
                         &was_running, &err) < 0) {
        rc = fpm_report(&err, FPM_EXIT_FAILED);
        goto out;
    }
    /* a suspended account's link stayed */
    if (fpm_unlink_socket(&ctx->cfg, name, &err) < 0) {
        rc = fpm_report(&err, FPM_EXIT_FAILED);
        goto out;
    }
    wlf_path_account_file(&ctx->cfg, name, path, sizeof(path));
    if (fs_remove(path, &err) < 0) {
        rc = fpm_report(&err, FPM_EXIT_FAILED);
        goto out;
    }
    /* the live records go with the instances below */
    if (fpm_set_stopped(&ctx->cfg, name, 0, &err) < 0)
        rc = fpm_report(&err, FPM_EXIT_FAILED);
    if (loaded)
        fpm_domain_index_update(ctx, &acct, NULL);
    if (fpm_limits_remove(ctx, name, &err) < 0)
        rc = fpm_report(&err, FPM_EXIT_FAILED);
    wlf_counters_path(ctx->cfg.state_dir, name, path, sizeof(path));
    if (fs_remove(path, &err) < 0)
        rc = fpm_report(&err, FPM_EXIT_FAILED);
    if (fpm_account_remove_instances(ctx, name, &err) < 0)
        rc = fpm_report(&err, FPM_EXIT_FAILED);
    fpm_drain_forget(ctx, name);
    if (purge && fpm_purge_account_data(&ctx->cfg, name, &err) < 0)
        rc = fpm_report(&err, FPM_EXIT_FAILED);
    if (rc == FPM_EXIT_OK)
        fpm_say(ctx, "%s: removed%s%s", name,
                was_running ? " (instance stopped)" : "",
                purge ? "; tmp, upload, session directories and logs purged"
                      : "");
out:
    if (held > 0)
        fpm_serve_unlock(ctx, name);
    if (loaded)
        wlf_account_free(&acct);
    return rc;
}
