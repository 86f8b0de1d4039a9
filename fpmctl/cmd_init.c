/*
 * cmd_init.c - fpmctl init: write wlfcgi.conf and create the directories.
 */
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "confwrite.h"
#include "fpmctl.h"
#include "fsutil.h"
#include "ops.h"
#include "wlf_sys.h"

const char cmd_init_usage[] =
    "init [--prefix DIR] [--service direct|systemd] "
    "[--activation always|on-demand] [--force]";
const char cmd_init_help[] =
    "Write the global configuration and create every directory wlfcgi\n"
    "uses. With --prefix every path lies under DIR (DIR/etc/wlfcgi/\n"
    "wlfcgi.conf, DIR/run/wlfcgi, DIR/var/lib/wlfcgi, DIR/var/log/wlfcgi):\n"
    "that is what tests and the demo use. Without it the production paths\n"
    "are written. The file goes to -c FILE if given (WLFCGI_CONFIG is not\n"
    "used by init).\n\n"
    "  --prefix DIR     put everything under DIR (an absolute path)\n"
    "  --service MODE   how instances run: systemd (wlfcgi-fpm@ units) or\n"
    "                   direct (fpmctl starts php-fpm). Default: systemd\n"
    "                   when /run/systemd/system exists, else direct\n"
    "  --activation A   the default of every account: on-demand (its\n"
    "                   master starts with its first request and stops\n"
    "                   when idle) or always. Default: on-demand with\n"
    "                   systemd (socket units hold the sockets), always in\n"
    "                   direct mode (on-demand needs `fpmctl serve`)\n"
    "  --force          overwrite an existing wlfcgi.conf that differs\n\n"
    "The httpd group is apache when that group exists, else www-data.\n"
    "PHP versions are the php-fpm binaries found in /usr/sbin.\n"
    "Running init again with the same result only checks the directories\n"
    "and says so; a different existing file is kept (exit 1) unless\n"
    "--force is given.\n";

enum { OPT_PREFIX, OPT_SERVICE, OPT_ACTIVATION, OPT_FORCE };

static const fpm_optdef init_opts[] = {
    [OPT_PREFIX] = { "prefix", 0, 1 },
    [OPT_SERVICE] = { "service", 0, 1 },
    [OPT_ACTIVATION] = { "activation", 0, 1 },
    [OPT_FORCE] = { "force", 0, 0 },
    { NULL, 0, 0 }
};

/* *old: the wlfcgi.conf at path (NULL if none). An existing file that
 * differs from `text` is kept unless `force`: FPM_EXIT_FAILED. */
static int read_existing(const char *path, const char *text, int force,
                         char **old)
{
    if (fs_read_file(path, old, NULL) < 0 && errno != ENOENT) {
        fpm_error("%s: cannot read: %s", path, strerror(errno));
        return FPM_EXIT_FAILED;
    }
    if (*old && strcmp(*old, text) != 0 && !force) {
        fpm_error("%s exists and differs from what init would write; it is "
                  "kept (use init --force to overwrite it)", path);
        return FPM_EXIT_FAILED;
    }
    return FPM_EXIT_OK;
}

int cmd_init(fpm_ctx *ctx, int argc, char **argv)
{
    fpm_arg args[16];
    size_t n;
    wlf_err err;
    char prefix[PATH_MAX] = "", path[PATH_MAX], dir[PATH_MAX];
    const char *service_arg = NULL, *activation_arg = NULL, *group;
    int force = 0, rc;
    wlf_service service;
    wlf_config cfg;
    char *text = NULL, *old = NULL;
    struct stat st;

    if (fpm_args_parse(argc, argv, init_opts, args, 16, &n, &err) < 0)
        return fpm_usage_error(cmd_init_usage, "%s: %s", err.field, err.msg);
    for (size_t i = 0; i < n; i++) {
        switch (args[i].opt) {
        case OPT_PREFIX:
            if (wlf_valid_abs_path(args[i].value, "prefix", &err) < 0)
                return fpm_report(&err, FPM_EXIT_USAGE);
            wlf_copy(prefix, sizeof(prefix), args[i].value);
            /* "/srv/x/" -> "/srv/x"; "/" -> "" */
            for (size_t l = strlen(prefix); l > 0 && prefix[l - 1] == '/';)
                prefix[--l] = '\0';
            break;
        case OPT_SERVICE:
            service_arg = args[i].value;
            break;
        case OPT_ACTIVATION:
            activation_arg = args[i].value;
            break;
        case OPT_FORCE:
            force = 1;
            break;
        default:
            return fpm_usage_error(cmd_init_usage, "unexpected argument "
                                   "'%.40s'", args[i].value);
        }
    }
    if (service_arg == NULL)
        service = stat("/run/systemd/system", &st) == 0
                      ? WLF_SERVICE_SYSTEMD : WLF_SERVICE_DIRECT;
    else if (wlf_service_parse(service_arg, &service) < 0) {
        wlf_fail(&err, "service", "'%.20s' is not direct or systemd",
                 service_arg);
        return fpm_report(&err, FPM_EXIT_USAGE);
    }
    group = getgrnam("apache") ? "apache" : "www-data";

    if (wlf_config_init_defaults(&cfg, prefix, service, group, &err) < 0)
        return fpm_report(&err, FPM_EXIT_USAGE);
    if (activation_arg &&
        wlf_setting_parse(&cfg.defaults, WLF_S_ACTIVATION, activation_arg,
                          &err) < 0) {
        wlf_config_free(&cfg);
        return fpm_report(&err, FPM_EXIT_USAGE);
    }
    if ((text = wlf_config_render(&cfg)) == NULL) {
        wlf_config_free(&cfg);
        fpm_error("out of memory");
        return FPM_EXIT_FAILED;
    }
    if (ctx->config_path)
        wlf_copy(path, sizeof(path), ctx->config_path);
    else
        fs_path(path, sizeof(path), "%s/etc/wlfcgi/wlfcgi.conf", prefix);
    wlf_dirname(path, dir, sizeof(dir), NULL);
    if ((rc = read_existing(path, text, force, &old)) != FPM_EXIT_OK)
        goto out;
    if (ctx->dry_run) {
        if (old && strcmp(old, text) == 0)
            fpm_say(ctx, "%s is already initialised; would check the "
                    "directories", path);
        else
            fpm_say(ctx, "would %s %s (service %s, httpd group %s) and "
                    "create the directories under %s",
                    old ? "overwrite" : "write", path,
                    wlf_service_name(service),
                    group, prefix[0] ? prefix : "/");
        rc = FPM_EXIT_OK;
        goto out;
    }

    /* the lock lives next to wlfcgi.conf, so that directory comes first */
    if (access(dir, F_OK) != 0 && fs_ensure_dir(dir, 0755, 0, 0, &err) < 0) {
        rc = fpm_report(&err, FPM_EXIT_FAILED);
        goto out;
    }
    if ((rc = fpm_take_lock(ctx, path)) != 0)
        goto out;
    /* read again under the lock: another init may have been faster */
    free(old);
    if ((rc = read_existing(path, text, force, &old)) != FPM_EXIT_OK)
        goto out;
    if (!(old && strcmp(old, text) == 0) &&
        fs_write_atomic(path, text, strlen(text), 0644, &err) < 0) {
        rc = fpm_report(&err, FPM_EXIT_FAILED);
        goto out;
    }
    if (fpm_ensure_base_dirs(&cfg, 1, &err) < 0) {
        rc = fpm_report(&err, FPM_EXIT_FAILED);
        goto out;
    }
    if (old && strcmp(old, text) == 0)
        fpm_say(ctx, "%s is already initialised; directories checked", path);
    else
        fpm_say(ctx, "wrote %s (service %s, httpd group %s, php %s)", path,
                wlf_service_name(service), group,
                cfg.php_default);
    rc = FPM_EXIT_OK;
out:
    free(old);
    free(text);
    wlf_config_free(&cfg);
    return rc;
}
