/*
 * args.h - command-line parsing for fpmctl, kept pure for unit tests.
 *
 *   fpmctl [-c FILE] [--json] [--dry-run] [-q|-v] [-y] COMMAND [ARGS]
 *
 * The global options (-c FILE, --json, --dry-run, -q, -v, -y) are also
 * accepted after the command name, as admins type them there. Each
 * command then parses its own options with fpm_args_parse(). Mistyped
 * commands and options get the nearest known one as a hint.
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
    int yes;                /* -y / --yes: no questions, go ahead */
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
 * Take -c FILE, --json, --dry-run, -q/--quiet, -v/--verbose, -y/--yes and
 * -h/--help
 * out of a command's arguments (argv[1..argc), up to a "--"), setting them
 * in g. argv is compacted in place; returns the new argc, or -1 with err
 * set.
 */
int fpm_globals_extract(int argc, char **argv, fpm_globals *g, wlf_err *err);

/* Longest word fpm_nearest() compares; most options a command has. */
#define FPM_NEAREST_MAX 40
#define FPM_MAX_OPTS 16

/*
 * The candidate (NULL-terminated list) `word` most likely meant: one at
 * most 2 edits away (fewer than half of word's length), else the only one
 * that starts with word; NULL when none is close.
 */
const char *fpm_nearest(const char *word, const char *const *candidates);

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
