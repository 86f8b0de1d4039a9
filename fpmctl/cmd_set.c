/*
 * cmd_set.c - fpmctl set NAME KEY=VALUE...
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
#include "setkeys.h"

const char cmd_set_usage[] = "set NAME KEY=VALUE...";
const char cmd_set_help[] =
    "Change settings of account NAME. The change is checked (php-fpm -t),\n"
    "started in the account's idle instance slot and verified with a\n"
    "FastCGI ping before requests switch to it; the old instance finishes\n"
    "its requests. Only this account is touched. If anything fails, the\n"
    "old instance keeps serving and the account file stays as it was.\n\n"
    "Keys:\n"
    "  max_children=N            PHP worker processes (pm.max_children)\n"
    "  idle_timeout=SECONDS      idle worker lifetime (pm=ondemand)\n"
    "  pm=ondemand|static|dynamic  fork workers as needed; keep\n"
    "                            max_children running (httpd reuses\n"
    "                            connections); or keep spare workers\n"
    "  start_servers=N  min_spare_servers=N  max_spare_servers=N\n"
    "                            pm=dynamic's workers (start_servers=0:\n"
    "                            halfway between the spare counts)\n"
    "  max_requests=N            replace a worker after N requests (0:\n"
    "                            never; httpd then reuses no connection)\n"
    "  slowlog_timeout=SECONDS   stack of requests running longer to\n"
    "                            <logs>/NAME/slow.log (0: off)\n"
    "  request_terminate_timeout=SECONDS  kill a request's worker after\n"
    "                            it (0: max_execution_time + 60 s)\n"
    "  max_upload=SIZE           largest request body (8M, 2G, ...)\n"
    "  upload_ceiling=SIZE       largest body any location may allow\n"
    "  max_execution_time=SECONDS\n"
    "  opcache_memory=SIZE  opcache_interned_strings=SIZE\n"
    "  opcache_max_files=N  opcache_validate_timestamps=on|off\n"
    "  opcache_revalidate_freq=SECONDS  apcu_memory=SIZE\n"
    "  php=VERSION               one of php.versions in wlfcgi.conf\n"
    "  activation=always|on-demand  run the master all the time, or start\n"
    "                            it with the first request (an idle account\n"
    "                            made always is started)\n"
    "  idle_stop=SECONDS         on-demand: stop the master after this long\n"
    "                            without a request (0: never)\n"
    "  cpu=PERCENT               CPU of the whole account, in % of one\n"
    "                            core (50%, 150%); 0 = no limit\n"
    "  memory=SIZE               RAM+swap of the whole account, workers\n"
    "                            included (1G); 0 = no limit\n"
    "  tasks=N                   processes + threads; 0 = no limit\n"
    "  io_weight=N               disk time share, 1-10000; 0 = not set\n"
    "  domains=a.example,b.example   the complete list (\"\" for none);\n"
    "                            taking names from a running account is\n"
    "                            asked first (-y for scripts)\n"
    "  home=/path                base of open_basedir; must exist\n"
    "  php_admin.KEY=VALUE       an extra php_admin_value (KEY from\n"
    "                            php_admin_allowed); empty VALUE removes it;\n"
    "                            what PHP reads only at start-up goes to\n"
    "                            the instance's own ini file\n"
    "  php_value.KEY=VALUE       a php_value: a default the customer's\n"
    "                            .user.ini may change (php_value_allowed)\n"
    "  env.NAME=VALUE            an env[NAME] of the pool and fpmctl php\n"
    "  extensions=redis,...      extensions from extensions_allowed\n"
    "  script_extensions=.php,.phtml  what php-fpm may run\n"
    "                            (security.limit_extensions)\n"
    "  php@DOMAIN=VERSION        the PHP version of one of the account's\n"
    "                            domains (=default: the account's); it runs\n"
    "                            in an instance of its own, and httpd follows\n"
    "                            at once\n\n"
    "KEY=default resets a setting to the global default of wlfcgi.conf;\n"
    "KEY=off does too, except for on/off settings, where it means off.\n"
    "The value an account has from the default stores no override. SIZE\n"
    "counts in powers of 1024: 8M or 8MiB (8MB is refused as ambiguous).\n"
    "user and group cannot be changed. A change that needs no new instance\n"
    "(domains) only rewrites the account file. httpd reads accounts when it\n"
    "starts: it sees changes of domains, max_upload, upload_ceiling, pm,\n"
    "max_children, max_execution_time and max_requests at its next\n"
    "graceful restart.\n"
    "Refused (exit 2) while the account's user is a member of httpd's\n"
    "group: its PHP could connect to every account's socket.\n"
    "Limits (cpu, memory, tasks, io_weight) apply to the running instance\n"
    "at once; where this host cannot enforce one, set refuses it and says\n"
    "why.\n";

/* The effective limits of an account. */
static void limits_of(const wlf_config *cfg, const wlf_account *a,
                      wlf_limits *l)
{
    wlf_settings eff;

    memset(l, 0, sizeof(*l));
    if (wlf_account_effective(cfg, a, &eff) < 0)
        return;
    fpm_limits_of(&eff, l);
    wlf_settings_free(&eff);
}

/* Does a change touch what mod_wlfcgi reads at httpd's start? */
static int module_sees(const wlf_config *cfg, const wlf_account *a,
                       const wlf_account *b)
{
    static const int ids[] = { WLF_S_MAX_UPLOAD, WLF_S_UPLOAD_CEILING,
                               WLF_S_PM, WLF_S_MAX_CHILDREN,
                               WLF_S_MAX_EXECUTION_TIME, WLF_S_MAX_REQUESTS };
    wlf_settings ea, eb;
    /* not php, php@DOMAIN: routing follows the links at once */
    int differ = a->n_domains != b->n_domains;

    for (size_t i = 0; !differ && i < a->n_domains; i++)
        differ = strcmp(a->domains[i], b->domains[i]) != 0;
    if (wlf_account_effective(cfg, a, &ea) < 0)
        return 1;
    if (wlf_account_effective(cfg, b, &eb) < 0) {
        wlf_settings_free(&ea);
        return 1;
    }
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
        differ |= ea.num[ids[i]] != eb.num[ids[i]];
    wlf_settings_free(&ea);
    wlf_settings_free(&eb);
    return differ;
}

/* Domains a running account loses: their vhosts lose its PHP at httpd's
 * next graceful restart. Say so, ask (or -y). */
static int confirm_unmapping(fpm_ctx *ctx, const wlf_account *old,
                             const wlf_account *acct)
{
    char gone[1000] = "", what[1400];
    size_t off = 0, n = 0;
    fpm_probe p;

    for (size_t i = 0; i < old->n_domains && off < sizeof(gone); i++) {
        int kept = 0;
        for (size_t j = 0; j < acct->n_domains; j++)
            kept |= strcmp(old->domains[i], acct->domains[j]) == 0;
        if (!kept) {
            off += (size_t)snprintf(gone + off, sizeof(gone) - off, "%s%s",
                                    n ? ", " : "", old->domains[i]);
            n++;
        }
    }
    if (n == 0)
        return FPM_EXIT_OK;
    fpm_instance_probe(&ctx->cfg, acct->name, 0, &p);
    if (p.state != FPM_RUNNING)
        return FPM_EXIT_OK;
    snprintf(what, sizeof(what), "%s will no longer be %s's: after httpd's "
             "next graceful restart %s PHP requests fail (500) unless "
             "another account takes %s", gone, acct->name,
             n > 1 ? "their" : "its", n > 1 ? "them" : "it");
    return fpm_confirm(ctx, acct->name, what, "Change the domains?");
}

int cmd_set(fpm_ctx *ctx, int argc, char **argv)
{
    static const fpm_optdef no_opts[] = { { NULL, 0, 0 } };
    fpm_arg *args;
    size_t n;
    wlf_account old, acct;
    wlf_err err;
    const char *name;
    char *diff = NULL;
    fpm_apply_result res;
    wlf_limits old_lim, new_lim;
    int rc, flags = FPM_APPLY_WRITE_ACCOUNT, limits_changed;

    /* NAME KEY=VALUE...: operands only; "--" before NAME is allowed */
    if ((args = calloc((size_t)argc, sizeof(*args))) == NULL) {
        fpm_error("out of memory");
        return FPM_EXIT_FAILED;
    }
    if (fpm_args_parse(argc, argv, no_opts, args, (size_t)argc, &n,
                       &err) < 0) {
        free(args);
        return fpm_usage_error(cmd_set_usage, "%s: %s", err.field, err.msg);
    }
    if (n < 2) {
        free(args);
        return fpm_usage_error(cmd_set_usage, n < 1 ? "name the account"
                               : "give at least one KEY=VALUE");
    }
    name = args[0].value;
    if ((rc = fpm_account_load(ctx, name, &old, &err)) != FPM_EXIT_OK) {
        free(args);
        return fpm_report(&err, rc);
    }
    if (wlf_account_copy(&acct, &old) < 0) {
        free(args);
        wlf_account_free(&old);
        fpm_error("out of memory");
        return FPM_EXIT_FAILED;
    }
    rc = FPM_EXIT_USAGE;
    for (size_t i = 1; i < n; i++)
        if (fpm_set_apply(&ctx->cfg, &acct, args[i].value, &err) < 0)
            goto invalid;
    if (strcmp(acct.home, old.home) != 0 &&
        fpm_check_home(acct.home, &err) < 0)
        goto invalid;
    /* also the user: it may have joined httpd's group since it was added */
    if (wlf_account_check(&ctx->cfg, &acct, &err) < 0 ||
        fpm_check_domains(ctx, &acct, &err) < 0 ||
        fpm_check_worker_identity(&ctx->cfg, acct.user, acct.group,
                                  &err) < 0)
        goto invalid;
    {
        wlf_settings eff;
        int bad;
        if (wlf_account_effective(&ctx->cfg, &acct, &eff) < 0) {
            fpm_error("out of memory");
            rc = FPM_EXIT_FAILED;
            goto out;
        }
        bad = wlf_settings_check_pm(&eff, &err) < 0;
        wlf_settings_free(&eff);
        if (bad)
            goto invalid;
    }

    limits_of(&ctx->cfg, &old, &old_lim);
    limits_of(&ctx->cfg, &acct, &new_lim);
    limits_changed = memcmp(&old_lim, &new_lim, sizeof(old_lim)) != 0;
    if (limits_changed && fpm_limits_supported(ctx, &new_lim, &err) < 0)
        goto invalid;

    if ((diff = fpm_account_diff(&ctx->cfg, &old, &acct)) == NULL) {
        rc = FPM_EXIT_FAILED;
        fpm_error("out of memory");
        goto out;
    }
    if (diff[0] == '\0') {
        fpm_say(ctx, "%s: unchanged", name);
        rc = FPM_EXIT_OK;
        goto out;
    }
    fpm_warn_shadowed(ctx, &acct, &old);
    if ((rc = confirm_unmapping(ctx, &old, &acct)) != FPM_EXIT_OK)
        goto out;
    if (ctx->dry_run) {
        fpm_say(ctx, "%s: would change %s%s", name, diff,
                fpm_account_up_to_date(ctx, &acct) ? ""
                : "; would start a new instance with it");
        rc = FPM_EXIT_OK;
        goto out;
    }
    /* an idle on-demand account answers requests; made `always`, it
     * must be running to go on doing so */
    if (fpm_is_on_demand(&ctx->cfg, &old) &&
        !fpm_is_on_demand(&ctx->cfg, &acct) &&
        !fpm_is_stopped(&ctx->cfg, name) && !wlf_account_is_suspended(&acct))
        flags |= FPM_APPLY_START;
    /* systemd: an instance outside the account's slice must be replaced
     * for limits to reach it */
    if (limits_changed && wlf_limits_any(&new_lim) &&
        fpm_limits_need_new_instance(ctx, name))
        flags |= FPM_APPLY_SWAP;
    if (fpm_account_apply(ctx, &acct, flags, &res, &err) < 0) {
        char line[700];
        fpm_error("%s: not changed: %s", name,
                  fpm_err_text(&err, name, line, sizeof(line)));
        rc = FPM_EXIT_FAILED;
        goto out;
    }
    fpm_domain_index_update(ctx, &old, &acct);
    if (limits_changed && fpm_limits_apply_now(ctx, name, &new_lim,
                                               &err) < 0) {
        char line[700];
        wlf_err e2;
        fpm_error("%s: the account file has the new limits, but they are "
                  "not in force: %s", name,
                  fpm_err_text(&err, name, line, sizeof(line)));
        fpm_limits_apply_now(ctx, name, &old_lim, &e2);
        rc = FPM_EXIT_FAILED;
        goto out;
    }
    switch (res.did) {
    case FPM_DID_RELOAD:
        fpm_say(ctx, "%s: %s; reloaded (slot %c, pid %ld)", name, diff,
                res.slot, (long)res.pid);
        break;
    case FPM_DID_FILES:
        if (wlf_account_is_suspended(&acct))
            fpm_say(ctx, "%s: %s (suspended; takes effect at resume)", name,
                    diff);
        else if (fpm_is_on_demand(&ctx->cfg, &acct))
            fpm_say(ctx, "%s: %s (idle; its next start uses it)", name,
                    diff);
        else
            fpm_say(ctx, "%s: %s (not running; takes effect at start)",
                    name, diff);
        break;
    case FPM_DID_START:
        fpm_say(ctx, "%s: %s; started (slot %c, pid %ld)", name, diff,
                res.slot, (long)res.pid);
        break;
    default:
        fpm_say(ctx, "%s: %s", name, diff);
        break;
    }
    fpm_say_instances(ctx, name, &res);
    if (module_sees(&ctx->cfg, &old, &acct))
        fpm_say(ctx, "%s: httpd sees this at its next graceful restart "
                "(apachectl graceful)", name);
    rc = FPM_EXIT_OK;
    goto out;

invalid:
    rc = fpm_report(&err, FPM_EXIT_USAGE);
out:
    free(args);
    free(diff);
    wlf_account_free(&acct);
    wlf_account_free(&old);
    return rc;
}
