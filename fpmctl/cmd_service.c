/*
 * cmd_service.c - fpmctl start, stop, restart, reload [NAME...|--all].
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activation.h"
#include "args.h"
#include "fpmctl.h"
#include "instance.h"
#include "ops.h"

const char cmd_start_usage[] = "start NAME...|--all";
const char cmd_start_help[] =
    "Start the accounts' instances that are not running (one per PHP\n"
    "version the account's domains use), from their\n"
    "account files (the live slot recorded in <state>/fpm/NAME.live), and\n"
    "point <sockets>/NAME.sock at them. At boot, wlfcgi.service runs\n"
    "`fpmctl start --all`. Running instances are left alone. On-demand\n"
    "accounts are armed, not started: their socket listens (fpmctl serve\n"
    "or the socket unit) and the first request starts them. Suspended\n"
    "accounts are neither started nor armed (their link is put back to say\n"
    "so); named explicitly, that makes start exit 1: `fpmctl resume`\n"
    "starts them.\n";

const char cmd_stop_usage[] = "stop NAME...|--all";
const char cmd_stop_help[] =
    "Stop the accounts' instances (of every PHP version) gracefully:\n"
    "php-fpm gets SIGQUIT and\n"
    "finishes the requests in flight (up to the request timeout); one that\n"
    "does not exit by then gets SIGTERM, then SIGKILL. NAME.sock is removed,\n"
    "so httpd answers 503 for the account until it is started again; an\n"
    "on-demand account is not started by requests until fpmctl start (a\n"
    "suspended account's link stays: its sites keep the suspended page).\n";

const char cmd_restart_usage[] = "restart NAME...|--all";
const char cmd_restart_help[] =
    "Stop and start the accounts' instances: a cold start with empty\n"
    "caches. Requests arriving meanwhile fail; use reload to change\n"
    "without a gap.\n";

const char cmd_reload_usage[] = "reload NAME...|--all";
const char cmd_reload_help[] =
    "Start a new instance (one per PHP version in use) of each account\n"
    "from its account file in the\n"
    "idle slot, check it (php-fpm -t, FastCGI ping, startup errors),\n"
    "switch NAME.sock to it and let the old instance finish its requests\n"
    "(it is told to quit after drain_time ms). No request is dropped or\n"
    "delayed. If the new instance fails, the old one keeps serving and\n"
    "reload exits 1 quoting php-fpm. php-fpm's own reload (SIGUSR2) is\n"
    "never used. An account that is not running (an idle on-demand one\n"
    "too) only gets its files checked and rewritten.\n";

typedef enum { DO_START, DO_STOP, DO_RESTART, DO_RELOAD } service_op;

/*
 * start or restart of a suspended account: it stays suspended. A master
 * that runs anyway (started by hand) is stopped, and the link is put
 * back, which a reboot took away. Named explicitly, that is a failure:
 * the account was asked to run and does not.
 */
static int keep_suspended(fpm_ctx *ctx, const wlf_account *acct,
                          int explicit)
{
    wlf_err err;
    char line[700];
    int was_running;

    if (!ctx->dry_run &&
        (fpm_account_stop(ctx, acct->name,
                          fpm_stop_wait_ms(&ctx->cfg, acct), &was_running,
                          &err) < 0 ||
         fpm_link_suspended(&ctx->cfg, acct->name, &err) < 0)) {
        fpm_error("%s: suspended, but: %s", acct->name,
                  fpm_err_text(&err, acct->name, line, sizeof(line)));
        return FPM_EXIT_FAILED;
    }
    if (explicit) {
        fpm_error("%s: suspended since %s%s%s: not started (fpmctl resume "
                  "%s lifts it)", acct->name, acct->suspended_since,
                  acct->suspended_reason[0] ? ": " : "",
                  acct->suspended_reason, acct->name);
        return FPM_EXIT_FAILED;
    }
    fpm_say(ctx, "%s: suspended since %s%s%s; not started", acct->name,
            acct->suspended_since, acct->suspended_reason[0] ? ": " : "",
            acct->suspended_reason);
    return FPM_EXIT_OK;
}

static int one_account(fpm_ctx *ctx, service_op op, const char *name,
                       int explicit)
{
    wlf_account acct;
    wlf_err err;
    fpm_apply_result res;
    fpm_probe probe;
    int load_rc, was_running, od, held;
    char line[700];

    load_rc = fpm_account_load(ctx, name, &acct, &err);
    od = load_rc == FPM_EXIT_OK && fpm_is_on_demand(&ctx->cfg, &acct);
    if (op == DO_STOP) {
        if (ctx->dry_run) {
            fpm_instance_probe(&ctx->cfg, name, 0, &probe);
            fpm_say(ctx, "%s: would stop (%s)", name,
                    fpm_state_name(probe.state));
            load_rc = FPM_EXIT_OK;
            goto out;
        }
        held = fpm_serve_lock(ctx, name, &err);
        if (held < 0 ||
            fpm_account_stop(ctx, name, fpm_stop_wait_ms(&ctx->cfg,
                             load_rc == FPM_EXIT_OK ? &acct : NULL),
                             &was_running, &err) < 0 ||
            /* on-demand: requests must not start it again */
            (od && fpm_set_stopped(&ctx->cfg, name, 1, &err) < 0)) {
            fpm_error("%s: stop failed: %s", name,
                      fpm_err_text(&err, name, line, sizeof(line)));
            load_rc = FPM_EXIT_FAILED;
        }
        else {
            fpm_say(ctx, "%s: %s", name, was_running ? "stopped"
                    : od ? "stopped (requests do not start it until "
                           "fpmctl start)" : "not running");
            load_rc = FPM_EXIT_OK;
        }
        if (held > 0)
            fpm_serve_unlock(ctx, name);
        goto out;
    }
    if (load_rc != FPM_EXIT_OK) {
        fpm_error("%s: %s", name,
                  fpm_err_text(&err, name, line, sizeof(line)));
        goto out;
    }
    fpm_account_probe(&ctx->cfg, &acct, 0, &probe);
    if (wlf_account_is_suspended(&acct) && op != DO_RELOAD) {
        load_rc = keep_suspended(ctx, &acct, explicit);
        goto out;
    }
    if (ctx->dry_run) {
        static const char *const verbs[] = { "start", "stop", "restart",
                                             "reload" };
        if (op == DO_START && probe.state == FPM_RUNNING)
            fpm_say(ctx, "%s: already running (slot %c, pid %ld)", name,
                    probe.slot, (long)probe.pid);
        else if (op == DO_RELOAD && probe.state != FPM_RUNNING)
            fpm_say(ctx, "%s: not running; would check and rewrite its "
                    "files", name);
        else
            fpm_say(ctx, "%s: would %s", name, verbs[op]);
        goto out;
    }
    if (op == DO_START && probe.state == FPM_RUNNING) {
        /* after a crash the link may be gone while the master lives */
        if (fpm_account_relink(ctx, &acct, &err) < 0) {
            load_rc = fpm_report(&err, FPM_EXIT_FAILED);
            goto out;
        }
        /* instances of other PHP versions that do not run start now */
        if (fpm_account_apply(ctx, &acct, FPM_APPLY_START, &res,
                              &err) < 0) {
            fpm_error("%s: start failed: %s", name,
                      fpm_err_text(&err, name, line, sizeof(line)));
            load_rc = FPM_EXIT_FAILED;
            goto out;
        }
        fpm_say(ctx, "%s: already running (slot %c, pid %ld)", name,
                probe.slot, (long)probe.pid);
        fpm_say_instances(ctx, name, &res);
        goto out;
    }
    if (op == DO_RESTART) {
        held = fpm_serve_lock(ctx, name, &err);
        if (held < 0 ||
            fpm_account_stop(ctx, name, fpm_stop_wait_ms(&ctx->cfg, &acct),
                             &was_running, &err) < 0) {
            fpm_error("%s: stop failed: %s", name,
                      fpm_err_text(&err, name, line, sizeof(line)));
            load_rc = FPM_EXIT_FAILED;
            if (held > 0)
                fpm_serve_unlock(ctx, name);
            goto out;
        }
        if (held > 0)
            fpm_serve_unlock(ctx, name);
    }
    if (fpm_account_apply(ctx, &acct, op == DO_RELOAD ? FPM_APPLY_SWAP
                                                      : FPM_APPLY_START,
                          &res, &err) < 0) {
        fpm_err_text(&err, name, line, sizeof(line));
        if (op == DO_RELOAD && probe.state == FPM_RUNNING)
            fpm_error("%s: reload failed; the running instance (slot %c, "
                      "pid %ld) keeps serving: %s", name, probe.slot,
                      (long)probe.pid, line);
        else
            fpm_error("%s: %s failed: %s", name, op == DO_RELOAD ? "reload"
                      : "start", line);
        load_rc = FPM_EXIT_FAILED;
        goto out;
    }
    switch (res.did) {
    case FPM_DID_RELOAD:
        fpm_say(ctx, "%s: reloaded (slot %c, pid %ld)", name, res.slot,
                (long)res.pid);
        break;
    case FPM_DID_START:
        fpm_say(ctx, "%s: %s (slot %c, pid %ld)", name,
                op == DO_RESTART ? "restarted" : "started", res.slot,
                (long)res.pid);
        break;
    case FPM_DID_ARMED:
        if (!res.serve) {
            fpm_error("%s: on-demand, but fpmctl serve is not running: "
                      "nothing answers on its socket until it does", name);
            load_rc = FPM_EXIT_FAILED;
            break;
        }
        fpm_say(ctx, "%s: %s; idle (on-demand: its first request starts "
                "it)", name, op == DO_RESTART ? "restarted" : "started");
        break;
    default:
        if (wlf_account_is_suspended(&acct))
            fpm_say(ctx, "%s: suspended; files checked", name);
        else if (od)
            fpm_say(ctx, "%s: idle; files checked (its next start uses "
                    "them)", name);
        else
            fpm_say(ctx, "%s: not running; files checked", name);
        break;
    }
    fpm_say_instances(ctx, name, &res);
out:
    wlf_account_free(&acct);
    return load_rc;
}

static int run_op(fpm_ctx *ctx, service_op op, const char *usage, int argc,
                  char **argv)
{
    size_t n_names;
    char **names;
    int rc, all = 0, worst = FPM_EXIT_OK;

    if ((rc = fpm_targets_from_args(ctx, argc, argv, usage, &names,
                                    &n_names)))
        return rc;
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--all") == 0 || strcmp(argv[i], "-a") == 0)
            all = 1;
    for (size_t i = 0; i < n_names; i++) {
        rc = one_account(ctx, op, names[i], !all);
        if (rc > worst)
            worst = rc;
    }
    wlf_strlist_free(names, n_names);
    /* with several accounts, "failed" sums it up */
    if (worst != FPM_EXIT_OK && n_names > 1)
        worst = FPM_EXIT_FAILED;
    return worst;
}

int cmd_start(fpm_ctx *ctx, int argc, char **argv)
{
    return run_op(ctx, DO_START, cmd_start_usage, argc, argv);
}

int cmd_stop(fpm_ctx *ctx, int argc, char **argv)
{
    return run_op(ctx, DO_STOP, cmd_stop_usage, argc, argv);
}

int cmd_restart(fpm_ctx *ctx, int argc, char **argv)
{
    return run_op(ctx, DO_RESTART, cmd_restart_usage, argc, argv);
}

int cmd_reload(fpm_ctx *ctx, int argc, char **argv)
{
    return run_op(ctx, DO_RELOAD, cmd_reload_usage, argc, argv);
}
