/*
 * cmd_rebuild.c - fpmctl rebuild [NAME...|--all]: regenerate the derived
 * files from the account files and reload what changed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "activation.h"
#include "args.h"
#include "fpmctl.h"
#include "instance.h"
#include "ops.h"
#include "resources.h"

const char cmd_rebuild_usage[] = "rebuild NAME...|--all";
const char cmd_rebuild_help[] =
    "Render every derived file (php-fpm.conf, the cache ini, the php-fpm\n"
    "link) again from the account files and wlfcgi.conf, e.g. after\n"
    "changing a default in wlfcgi.conf or updating fpmctl. Only instances\n"
    "whose files changed are reloaded (the same way as `reload`); stopped\n"
    "accounts only get their files rewritten. Also re-creates missing\n"
    "per-account directories, and puts the accounts' limits (cpu, memory,\n"
    "tasks, io_weight) into force for running instances. On a terminal\n"
    "each account is shown as [i/n] NAME: what happened; otherwise only\n"
    "changes are printed, and \"nothing to change\" when there are none\n"
    "(also with --dry-run).\n";

static int apply_limits(fpm_ctx *ctx, const wlf_account *acct,
                        wlf_err *err)
{
    wlf_settings eff;
    wlf_limits l;

    if (wlf_account_effective(&ctx->cfg, acct, &eff) < 0)
        return wlf_fail(err, acct->name, "out of memory");
    fpm_limits_of(&eff, &l);
    wlf_settings_free(&eff);
    return fpm_limits_apply_now(ctx, acct->name, &l, err);
}

int cmd_rebuild(fpm_ctx *ctx, int argc, char **argv)
{
    size_t n_names;
    char **names;
    wlf_err err;
    int rc, worst = FPM_EXIT_OK, all = 0;
    size_t reloaded = 0, updated = 0, unchanged = 0, failed = 0;
    size_t would = 0;

    if ((rc = fpm_targets_from_args(ctx, argc, argv, cmd_rebuild_usage,
                                    &names, &n_names)))
        return rc;
    for (int i = 1; i < argc; i++)
        all |= strcmp(argv[i], "--all") == 0 || strcmp(argv[i], "-a") == 0;
    for (size_t i = 0; i < n_names; i++) {
        wlf_account acct;
        fpm_apply_result res;
        fpm_probe probe;
        char what[200], line[700];
        int changed = 1;

        if ((rc = fpm_account_load(ctx, names[i], &acct, &err)) != 0) {
            fpm_error("[%zu/%zu] %s: %s", i + 1, n_names, names[i],
                      fpm_err_text(&err, names[i], line, sizeof(line)));
            worst = FPM_EXIT_FAILED;
            failed++;
            continue;
        }
        if (ctx->dry_run) {
            fpm_instance_probe(&ctx->cfg, acct.name, 0, &probe);
            if (fpm_account_up_to_date(ctx, &acct)) {
                snprintf(what, sizeof(what), "unchanged");
                changed = 0;
            }
            else {
                snprintf(what, sizeof(what), "%s",
                         probe.state == FPM_RUNNING ? "would reload"
                         : "would rewrite its files (not running)");
                would++;
            }
        }
        else if (fpm_account_apply(ctx, &acct, 0, &res, &err) < 0) {
            fpm_error("[%zu/%zu] %s: failed; %s", i + 1, n_names, names[i],
                      fpm_err_text(&err, names[i], line, sizeof(line)));
            worst = FPM_EXIT_FAILED;
            failed++;
            wlf_account_free(&acct);
            continue;
        }
        else {
            switch (res.did) {
            case FPM_DID_RELOAD:
                snprintf(what, sizeof(what), "reloaded (slot %c, pid %ld)",
                         res.slot, (long)res.pid);
                reloaded++;
                break;
            case FPM_DID_FILES:
                snprintf(what, sizeof(what), "files updated (%s)",
                         fpm_is_on_demand(&ctx->cfg, &acct) ? "idle"
                                                            : "not running");
                updated++;
                break;
            default: {
                /* the primary is; another version's instance may not be */
                int others = res.n_retired > 0;
                for (size_t k = 1; k < res.n_instances; k++)
                    others |= res.instances[k].did != FPM_DID_NOTHING;
                snprintf(what, sizeof(what), "%s", others
                         ? "instances of other PHP versions changed"
                         : "unchanged");
                unchanged += !others;
                reloaded += others;
                changed = others;
                break;
            }
            }
            fpm_instance_probe(&ctx->cfg, acct.name, 0, &probe);
            /* limits are not in the instance's files: a default changed
             * in wlfcgi.conf reaches the running instance here */
            if (probe.state == FPM_RUNNING &&
                apply_limits(ctx, &acct, &err) < 0) {
                fpm_error("%s: limits: %s", names[i],
                          fpm_err_text(&err, names[i], line, sizeof(line)));
                worst = FPM_EXIT_FAILED;
            }
            /* directories a cleanup may have taken away (an idle
             * on-demand account may start any moment) */
            if ((probe.state == FPM_RUNNING ||
                 (fpm_is_on_demand(&ctx->cfg, &acct) &&
                  !fpm_is_stopped(&ctx->cfg, acct.name))) &&
                fpm_ensure_account_dirs(&ctx->cfg, &acct, &err) < 0) {
                fpm_error("%s: %s", names[i],
                          fpm_err_text(&err, names[i], line, sizeof(line)));
                worst = FPM_EXIT_FAILED;
            }
        }
        if (ctx->tty)
            fpm_say(ctx, "[%zu/%zu] %s: %s", i + 1, n_names, names[i], what);
        else if (changed || ctx->verbosity > 0)
            fpm_say(ctx, "%s: %s", names[i], what);
        if (!ctx->dry_run)
            fpm_say_instances(ctx, names[i], &res);
        wlf_account_free(&acct);
    }
    if (all && !ctx->dry_run) {
        /* the domain index is derived too */
        wlf_account_list list;
        if (wlf_accounts_load(&ctx->cfg, &list, &err) < 0 ||
            fpm_domain_index_build(&ctx->cfg, &list, &err) < 0) {
            fpm_error("domain index: %s", err.msg);
            worst = FPM_EXIT_FAILED;
        }
        wlf_account_list_free(&list);
    }
    if (n_names == 0)
        fpm_say(ctx, "rebuild: no accounts");
    else if (failed == 0 && reloaded + updated + would == 0)
        fpm_say(ctx, "rebuild: nothing to change");
    else if (ctx->tty && n_names > 1 && !ctx->dry_run)
        fpm_say(ctx, "rebuild: %zu reloaded, %zu updated, %zu unchanged, "
                "%zu failed", reloaded, updated, unchanged, failed);
    wlf_strlist_free(names, n_names);
    return worst;
}
