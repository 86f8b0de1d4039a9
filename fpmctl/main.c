/*
 * main.c - fpmctl: global options, the command table, dispatch.
 *
 *   fpmctl [-c FILE] [--json] [--dry-run] [-q|-v] [-y] COMMAND [ARGS]
 *
 * main() parses the global options, finds the command in fpm_commands,
 * loads wlfcgi.conf and takes the writer lock if the command's flags say
 * so, then calls it. For the docs tests, tab-separated, one per line:
 * `fpmctl --list-commands` prints the command table (name, flags, usage),
 * `--list-settings` the settings table (key, type, builtin default, doc),
 * `--list-keys` the keys of the files (file, key).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "fpmctl.h"
#include "fsutil.h"
#include "ops.h"

#define CONFIG_AND_LOCK (CMD_NEEDS_CONFIG | CMD_NEEDS_LOCK)

/* THE command table: one line per command, in the order of `--help`. */
static const fpm_command fpm_commands[] = {
    { "init",           cmd_init,           CMD_LOCKS_ITSELF,
      cmd_init_usage,           cmd_init_help },
    { "add-account",    cmd_add_account,    CONFIG_AND_LOCK,
      cmd_add_account_usage,    cmd_add_account_help },
    { "remove-account", cmd_remove_account, CONFIG_AND_LOCK,
      cmd_remove_account_usage, cmd_remove_account_help },
    { "list",           cmd_list,           CMD_NEEDS_CONFIG,
      cmd_list_usage,           cmd_list_help },
    { "show",           cmd_show,           CMD_NEEDS_CONFIG,
      cmd_show_usage,           cmd_show_help },
    { "set",            cmd_set,            CONFIG_AND_LOCK,
      cmd_set_usage,            cmd_set_help },
    { "start",          cmd_start,          CONFIG_AND_LOCK,
      cmd_start_usage,          cmd_start_help },
    { "stop",           cmd_stop,           CONFIG_AND_LOCK,
      cmd_stop_usage,           cmd_stop_help },
    { "restart",        cmd_restart,        CONFIG_AND_LOCK,
      cmd_restart_usage,        cmd_restart_help },
    { "reload",         cmd_reload,         CONFIG_AND_LOCK,
      cmd_reload_usage,         cmd_reload_help },
    { "suspend",        cmd_suspend,        CONFIG_AND_LOCK,
      cmd_suspend_usage,        cmd_suspend_help },
    { "resume",         cmd_resume,         CONFIG_AND_LOCK,
      cmd_resume_usage,         cmd_resume_help },
    { "php",            cmd_php,            CMD_NEEDS_CONFIG | CMD_RAW_ARGS,
      cmd_php_usage,            cmd_php_help },
    { "status",         cmd_status,         CMD_NEEDS_CONFIG,
      cmd_status_usage,         cmd_status_help },
    { "check",          cmd_check,          CMD_NEEDS_CONFIG,
      cmd_check_usage,          cmd_check_help },
    { "rebuild",        cmd_rebuild,        CONFIG_AND_LOCK,
      cmd_rebuild_usage,        cmd_rebuild_help },
    { "serve",          cmd_serve,          CMD_NEEDS_CONFIG,
      cmd_serve_usage,          cmd_serve_help },
};

#define N_COMMANDS (sizeof(fpm_commands) / sizeof(fpm_commands[0]))

static const fpm_command *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(fpm_commands[i].name, name) == 0)
            return &fpm_commands[i];
    return NULL;
}

static void list_commands(void)
{
    for (size_t i = 0; i < N_COMMANDS; i++) {
        const fpm_command *c = &fpm_commands[i];
        const char *flags = (c->flags & CMD_NEEDS_LOCK) ? "config,lock"
                            : (c->flags & CMD_LOCKS_ITSELF) ? "lock"
                            : (c->flags & CMD_NEEDS_CONFIG) ? "config" : "-";
        printf("%s\t%s\t%s\n", c->name, flags, c->usage);
    }
}

static void list_settings(void)
{
    for (int i = 0; i < WLF_S_COUNT; i++) {
        const wlf_setting_def *d = &wlf_setting_defs[i];
        printf("%s\t%s\t%s\t%s\n", d->key,
               d->type == WLF_T_CHOICE ? d->choices : wlf_type_name(d->type),
               d->builtin[0] ? d->builtin : "-", d->doc);
    }
}

static void print_key(const char *file, const char *key, void *arg)
{
    (void)arg;
    printf("%s\t%s\n", file, key);
}

static void general_help(FILE *out)
{
    fprintf(out,
        "usage: fpmctl [-c FILE] [--json] [--dry-run] [-q|-v] [-y] COMMAND "
        "[ARGS]\n\n"
        "Manage per-account PHP-FPM instances (one master per account).\n\n"
        "Commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(out, "  %s\n", fpm_commands[i].usage);
    fprintf(out,
        "\nGlobal options (before or after COMMAND):\n"
        "  -c, --config FILE  configuration (default: $WLFCGI_CONFIG, else\n"
        "                     " FPM_DEFAULT_CONFIG ")\n"
        "  --json             machine-readable output (list, show, status,\n"
        "                     check)\n"
        "  --dry-run          show what would change; change nothing\n"
        "  -q, --quiet        no output on success\n"
        "  -v, --verbose      tell each step\n"
        "  -y, --yes          no questions: go ahead with what stops\n"
        "                     serving sites\n"
        "  -h, --help         this, or with COMMAND its help\n"
        "  --version          fpmctl's version\n\n"
        "`fpmctl COMMAND --help` explains a command; fpmctl(8) has it "
        "all.\n"
        "Exit codes: 0 ok, 1 failed, 2 usage or invalid input, "
        "3 no such account,\n4 lock timeout.\n");
}

/* Commands that change anything are root's: they run php-fpm as other
 * users and write root-only files. Others may read what they can. */
static int check_user(const fpm_command *cmd, const fpm_ctx *ctx)
{
    if (geteuid() == 0)
        return FPM_EXIT_OK;
    if ((cmd->flags & CMD_LOCKS_ITSELF) ||
        ((cmd->flags & CMD_NEEDS_LOCK) && !ctx->dry_run)) {
        fpm_error("%s must be run as root", cmd->name);
        return FPM_EXIT_USAGE;
    }
    return FPM_EXIT_OK;
}

/* A missing or unreadable wlfcgi.conf in one line that says what to do. */
static int config_readable(const fpm_command *cmd, const char *path)
{
    if (access(path, R_OK) == 0)
        return FPM_EXIT_OK;
    if (errno == ENOENT) {
        fpm_error("no configuration %s: run `fpmctl init` to write one, "
                  "or name another with -c FILE", path);
        return FPM_EXIT_USAGE;
    }
    if (errno == EACCES && geteuid() != 0) {
        fpm_error("%s must be run as root (cannot read %s)", cmd->name,
                  path);
        return FPM_EXIT_USAGE;
    }
    return FPM_EXIT_OK;         /* the loader says what else is wrong */
}

static int accounts_readable(const fpm_command *cmd, const fpm_ctx *ctx)
{
    if (geteuid() == 0 || access(ctx->cfg.accounts_dir, R_OK | X_OK) == 0 ||
        errno != EACCES)
        return FPM_EXIT_OK;
    fpm_error("%s must be run as root (cannot read %s)", cmd->name,
              ctx->cfg.accounts_dir);
    return FPM_EXIT_USAGE;
}

static int run(int argc, char **argv)
{
    fpm_globals g;
    fpm_ctx ctx;
    const fpm_command *cmd;
    wlf_err err;
    int cmd_argc, rc;
    char **cmd_argv;

    if (fpm_globals_parse(argc, argv, &g, &err) < 0) {
        fpm_report(&err, FPM_EXIT_USAGE);
        fprintf(stderr, "usage: fpmctl [-c FILE] [--json] [--dry-run] "
                "[-q|-v] [-y] COMMAND [ARGS]\n");
        return FPM_EXIT_USAGE;
    }
    if (g.version) {
        printf("fpmctl %s\n", FPMCTL_VERSION);
        return FPM_EXIT_OK;
    }
    if (g.list_commands || g.list_settings || g.list_keys) {
        if (g.list_commands)
            list_commands();
        if (g.list_settings)
            list_settings();
        if (g.list_keys)
            wlf_load_keys(print_key, NULL);
        return FPM_EXIT_OK;
    }
    if (g.command_index >= argc) {
        general_help(g.help ? stdout : stderr);
        return g.help ? FPM_EXIT_OK : FPM_EXIT_USAGE;
    }
    if (strcmp(argv[g.command_index], "help") == 0) {
        if (g.command_index + 1 < argc &&
            (cmd = find_command(argv[g.command_index + 1])) != NULL) {
            printf("usage: fpmctl %s\n\n%s", cmd->usage, cmd->help);
            return FPM_EXIT_OK;
        }
        general_help(stdout);
        return FPM_EXIT_OK;
    }
    if ((cmd = find_command(argv[g.command_index])) == NULL) {
        const char *names[N_COMMANDS + 1], *near;
        for (size_t i = 0; i < N_COMMANDS; i++)
            names[i] = fpm_commands[i].name;
        names[N_COMMANDS] = NULL;
        near = fpm_nearest(argv[g.command_index], names);
        if (near)
            fpm_error("unknown command '%.40s'; did you mean '%s'? (see "
                      "fpmctl --help)", argv[g.command_index], near);
        else
            fpm_error("unknown command '%.40s' (see fpmctl --help)",
                      argv[g.command_index]);
        return FPM_EXIT_USAGE;
    }
    cmd_argc = argc - g.command_index;
    cmd_argv = argv + g.command_index;
    g.help = 0;
    if (!(cmd->flags & CMD_RAW_ARGS))
        cmd_argc = fpm_globals_extract(cmd_argc, cmd_argv, &g, &err);
    else if (cmd_argc > 1 && (strcmp(cmd_argv[1], "--help") == 0 ||
                              strcmp(cmd_argv[1], "-h") == 0))
        g.help = 1;     /* `fpmctl php --help`; after NAME it is php's */
    if (cmd_argc < 0)
        return fpm_report(&err, FPM_EXIT_USAGE);
    if (g.help) {
        printf("usage: fpmctl %s\n\n%s", cmd->usage, cmd->help);
        return FPM_EXIT_OK;
    }

    memset(&ctx, 0, sizeof(ctx));
    ctx.lock_fd = -1;
    ctx.json = g.json;
    ctx.dry_run = g.dry_run;
    ctx.yes = g.yes;
    ctx.verbosity = g.verbosity;
    ctx.tty = isatty(STDOUT_FILENO);
    ctx.config_path = g.config;
    if (ctx.config_path == NULL && !(cmd->flags & CMD_LOCKS_ITSELF)) {
        const char *env = getenv("WLFCGI_CONFIG");
        ctx.config_path = env && *env ? env : FPM_DEFAULT_CONFIG;
    }
    signal(SIGPIPE, SIG_IGN);
    fs_install_signal_cleanup();

    if ((rc = check_user(cmd, &ctx)) != FPM_EXIT_OK)
        return rc;
    if (cmd->flags & CMD_NEEDS_CONFIG) {
        if ((rc = config_readable(cmd, ctx.config_path)) != FPM_EXIT_OK)
            return rc;
        if (wlf_config_load(ctx.config_path, &ctx.cfg, &err) < 0)
            return fpm_report(&err, FPM_EXIT_FAILED);
        ctx.have_cfg = 1;
        if ((rc = accounts_readable(cmd, &ctx)) != FPM_EXIT_OK) {
            wlf_config_free(&ctx.cfg);
            return rc;
        }
    }
    if ((cmd->flags & CMD_NEEDS_LOCK) && !ctx.dry_run &&
        (rc = fpm_take_lock(&ctx, ctx.config_path)) != 0) {
        wlf_config_free(&ctx.cfg);
        return rc;
    }
    rc = cmd->fn(&ctx, cmd_argc, cmd_argv);
    fpm_release_lock(&ctx);
    /* the drainer must not keep serve's connection (and our holds) open */
    if (ctx.serve_tried && ctx.serve_fd >= 0)
        close(ctx.serve_fd);
    /* waited in vain for another fpmctl: the lock's exit code */
    if (rc == FPM_EXIT_FAILED && ctx.drain_timed_out)
        rc = FPM_EXIT_LOCKED;
    fpm_run_pending(&ctx);
    free(ctx.pending);
    if (ctx.have_cfg)
        wlf_config_free(&ctx.cfg);
    if (ctx.lock_fd >= 0)
        close(ctx.lock_fd);
    return rc;
}

int main(int argc, char **argv)
{
    /* like git: output that did not reach its file is a failure */
    return fpm_finish_output(run(argc, argv));
}
