/*
 * cmd_suspend.c - fpmctl suspend NAME [--reason TEXT], fpmctl resume NAME.
 *
 * A suspension lives in the account file (the one source of truth), so
 * start --all, rebuild and a reboot see it; the module sees it per
 * request in the NAME.sock link, which points at "NAME.suspended" while
 * the account is suspended (wlf_link_state()), so no restart of httpd is
 * needed either way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "confwrite.h"
#include "fpmctl.h"
#include "fsutil.h"
#include "activation.h"
#include "instance.h"
#include "ops.h"

const char cmd_suspend_usage[] = "suspend NAME [--reason TEXT]";
const char cmd_suspend_help[] =
    "Suspend account NAME: its PHP stops (requests in flight finish) and\n"
    "every site of the account answers 503 with the suspended page\n"
    "(WLFcgiSuspendedPage, mod_wlfcgi(8)), static files included, from\n"
    "the next request on; httpd needs no restart. The suspension is kept\n"
    "in the account file: start --all, reload, rebuild, set and a reboot\n"
    "leave the account suspended, and nothing starts its PHP until\n"
    "`fpmctl resume NAME`.\n\n"
    "  --reason TEXT   a note for admins (shown by list, show, status);\n"
    "                  visitors never see it. Suspending a suspended\n"
    "                  account again replaces the reason.\n";

const char cmd_resume_usage[] = "resume NAME";
const char cmd_resume_help[] =
    "Lift the suspension of account NAME: start its instance (checked as\n"
    "every start is) and switch its sites back to PHP. If the instance\n"
    "does not start, the account stays suspended and resume exits 1. An\n"
    "on-demand account is armed, not started: its socket listens again and\n"
    "its first request starts it.\n";

/* "2025-01-31T12:00:00Z" */
static void now_iso(char *buf, size_t len)
{
    time_t t = time(NULL);
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL ||
        strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(buf, len, "unknown");
}

static int write_account(const fpm_ctx *ctx, const wlf_account *acct,
                         wlf_err *err)
{
    char path[PATH_MAX];
    char *text = wlf_account_render(acct);
    int rc;

    if (text == NULL)
        return wlf_fail(err, acct->name, "out of memory");
    wlf_path_account_file(&ctx->cfg, acct->name, path, sizeof(path));
    rc = fs_write_atomic(path, text, strlen(text), 0640, err);
    free(text);
    return rc;
}

/* NAME and at most one option value out of argv */
static int one_name(int argc, char **argv, const fpm_optdef *opts,
                    const char *usage, const char **name, const char **opt)
{
    fpm_arg args[8];
    size_t n;
    wlf_err err;

    *name = NULL;
    if (opt)
        *opt = NULL;
    if (fpm_args_parse(argc, argv, opts, args, 8, &n, &err) < 0)
        return fpm_usage_error(usage, "%s: %s", err.field, err.msg);
    for (size_t i = 0; i < n; i++) {
        if (args[i].opt == 0 && opt)
            *opt = args[i].value;
        else if (*name)
            return fpm_usage_error(usage, "one account name only "
                                   "('%.40s' is extra)", args[i].value);
        else
            *name = args[i].value;
    }
    if (*name == NULL)
        return fpm_usage_error(usage, "name the account");
    return FPM_EXIT_OK;
}

int cmd_suspend(fpm_ctx *ctx, int argc, char **argv)
{
    static const fpm_optdef opts[] = {
        { "reason", 'r', 1 },
        { NULL, 0, 0 }
    };
    const char *name, *reason;
    wlf_account acct, old;
    wlf_err err;
    char since[32], line[700];
    int rc, was_running = 0, again, held;

    if ((rc = one_name(argc, argv, opts, cmd_suspend_usage, &name,
                       &reason)) != FPM_EXIT_OK)
        return rc;
    if ((rc = fpm_account_load(ctx, name, &old, &err)) != FPM_EXIT_OK)
        return fpm_report(&err, rc);
    again = wlf_account_is_suspended(&old);
    if (wlf_account_copy(&acct, &old) < 0) {
        wlf_account_free(&old);
        fpm_error("out of memory");
        return FPM_EXIT_FAILED;
    }
    now_iso(since, sizeof(since));
    if (wlf_account_suspend(&acct, again ? old.suspended_since : since,
                            reason ? reason : again ? old.suspended_reason
                                                    : "", &err) < 0) {
        rc = fpm_report(&err, FPM_EXIT_USAGE);
        goto out;
    }
    if (ctx->dry_run) {
        fpm_say(ctx, "%s: would %s", name, again ? "stay suspended"
                : "stop its PHP and answer its sites with the suspended "
                  "page");
        rc = FPM_EXIT_OK;
        goto out;
    }
    /* the file first: whatever happens next, nothing starts it again;
     * then the link, so the sites answer "suspended" at once; then the
     * instances stop, finishing what they have. fpmctl serve leaves an
     * on-demand account alone meanwhile and, let go, holds nothing of it
     * (no socket, so no request can start it). */
    held = fpm_serve_lock(ctx, name, &err);
    if (held < 0 || write_account(ctx, &acct, &err) < 0 ||
        fpm_link_suspended(&ctx->cfg, name, &err) < 0 ||
        fpm_account_stop(ctx, name, fpm_stop_wait_ms(&ctx->cfg, &acct),
                         &was_running, &err) < 0) {
        fpm_error("%s: suspend failed: %s", name,
                  fpm_err_text(&err, name, line, sizeof(line)));
        if (held > 0)
            fpm_serve_unlock(ctx, name);
        rc = FPM_EXIT_FAILED;
        goto out;
    }
    if (held > 0)
        fpm_serve_unlock(ctx, name);
    fpm_say(ctx, "%s: suspended%s%s%s", name,
            acct.suspended_reason[0] ? " (" : "", acct.suspended_reason,
            acct.suspended_reason[0] ? ")" : "");
    if (!again)
        fpm_say(ctx, "%s: %s; its sites answer 503 with the suspended "
                "page", name, was_running ? "PHP stopped" : "PHP was not "
                "running");
    rc = FPM_EXIT_OK;
out:
    wlf_account_free(&acct);
    wlf_account_free(&old);
    return rc;
}

int cmd_resume(fpm_ctx *ctx, int argc, char **argv)
{
    static const fpm_optdef opts[] = { { NULL, 0, 0 } };
    const char *name;
    wlf_account acct;
    wlf_err err;
    fpm_apply_result res;
    char line[700];
    int rc;

    if ((rc = one_name(argc, argv, opts, cmd_resume_usage, &name,
                       NULL)) != FPM_EXIT_OK)
        return rc;
    if ((rc = fpm_account_load(ctx, name, &acct, &err)) != FPM_EXIT_OK)
        return fpm_report(&err, rc);
    if (!wlf_account_is_suspended(&acct)) {
        fpm_say(ctx, "%s: not suspended", name);
        rc = FPM_EXIT_OK;
        goto out;
    }
    wlf_account_resume(&acct);
    if (ctx->dry_run) {
        fpm_say(ctx, "%s: would start its instance and serve its sites "
                "again", name);
        rc = FPM_EXIT_OK;
        goto out;
    }
    /* the account file is written once the new instance answers, and
     * the link switches to it after that: if it fails, the account is
     * still suspended, link and file */
    if (fpm_account_apply(ctx, &acct, FPM_APPLY_WRITE_ACCOUNT |
                          FPM_APPLY_START | FPM_APPLY_SWAP, &res,
                          &err) < 0) {
        fpm_error("%s: still suspended: %s", name,
                  fpm_err_text(&err, name, line, sizeof(line)));
        rc = FPM_EXIT_FAILED;
        goto out;
    }
    rc = FPM_EXIT_OK;
    if (res.did == FPM_DID_ARMED && !res.serve) {
        fpm_error("%s: resumed; on-demand, but fpmctl serve is not "
                  "running: nothing answers on its socket until it does",
                  name);
        rc = FPM_EXIT_FAILED;
    }
    else if (res.did == FPM_DID_ARMED)
        fpm_say(ctx, "%s: resumed; idle (on-demand: its first request "
                "starts it)", name);
    else
        fpm_say(ctx, "%s: resumed (slot %c, pid %ld)", name, res.slot,
                (long)res.pid);
out:
    wlf_account_free(&acct);
    return rc;
}
