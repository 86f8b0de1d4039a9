/*
 * args.h - command-line parsing for fpmctl, kept pure for unit tests.
 *
 *   fpmctl [-c FILE] [--json] [--dry-run] [-q|-v] COMMAND [ARGS]
 *
 * The flag-type global options (--json, --dry-run, -q, -v) are also
 * accepted after the command name, as admins type them there; -c only
 * before it. Each command then parses its own options with fpm_args_parse().
 */
#ifndef FPM_ARGS_H
#define FPM_ARGS_H

#include <stddef.h>

#include "wlf_err.h"

typedef struct {
    const char *config;     /* -c FILE / --config FILE, NULL if not given */
    int json;
    int dry_run;
    int verbosity;          /* -1 quiet, 0 normal, 1 verbose */
    int help;               /* -h / --help */
    int version;
    int list_commands;      /* hidden, for the docs tests: the command */
    int list_settings;      /* table, the settings table, the keys of */
    int list_keys;          /* wlfcgi.conf and account files */
    int command_index;      /* argv index of COMMAND, or argc if none */
} fpm_globals;

/*
 * Parse the global options before COMMAND. Returns 0, or -1 with err set
 * (unknown option, missing FILE, -q together with -v).
 */
int fpm_globals_parse(int argc, char **argv, fpm_globals *g, wlf_err *err);

/*
 * Take --json, --dry-run, -q/--quiet, -v/--verbose and -h/--help out of a
 * command's arguments (argv[1..argc), up to a "--"), setting them in g.
 * argv is compacted in place; returns the new argc.
 */
int fpm_globals_extract(int argc, char **argv, fpm_globals *g, wlf_err *err);

typedef struct {
    const char *name;       /* long name without "--" */
    char short_name;        /* 0 if none */
    int takes_value;
} fpm_optdef;

typedef struct {
    int opt;                /* index into the defs, -1 for an operand */
    const char *value;      /* option value or the operand */
} fpm_arg;

/*
 * Parse a command's argv[1..argc) against defs (terminated by a NULL
 * name): "--name value", "--name=value", "-x value", "-xvalue", operands
 * anywhere, "--" ends options. Results in order into out[cap]; *n is the
 * count. Returns 0, or -1 with err naming the option.
 */
int fpm_args_parse(int argc, char **argv, const fpm_optdef *defs,
                   fpm_arg *out, size_t cap, size_t *n, wlf_err *err);

#endif
