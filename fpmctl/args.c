/*
 * args.c - command-line parsing.
 */
#include "args.h"

#include <stdio.h>
#include <string.h>

/* The global options, for suggestions when one is mistyped. */
static const char *const global_options[] = {
    "--config", "--json", "--dry-run", "--quiet", "--verbose", "--yes",
    "--help", "--version", NULL };

/* Optimal string alignment distance of a and b (both short). */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t d[FPM_NEAREST_MAX + 1][FPM_NEAREST_MAX + 1];

    if (la > FPM_NEAREST_MAX || lb > FPM_NEAREST_MAX)
        return (size_t)-1;
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v)
                v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
                a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    }
    return d[la][lb];
}

const char *fpm_nearest(const char *word, const char *const *candidates)
{
    const char *best = NULL, *prefixed = NULL;
    size_t best_d = (size_t)-1, len = strlen(word);
    int n_prefixed = 0;

    for (size_t i = 0; candidates[i]; i++) {
        size_t d = edit_distance(word, candidates[i]);
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
        if (len >= 2 && strncmp(candidates[i], word, len) == 0) {
            prefixed = candidates[i];
            n_prefixed++;
        }
    }
    /* a typo: at most 2 edits, and fewer than half the word */
    if (best && best_d <= 2 && best_d * 2 < len)
        return best;
    /* the start of exactly one */
    return n_prefixed == 1 ? prefixed : NULL;
}

/* "unknown option" with the nearest of `candidates` as a hint. */
static int unknown_option(wlf_err *err, const char *arg,
                          const char *const *candidates, const char *see)
{
    char word[FPM_NEAREST_MAX + 1];
    const char *near;

    wlf_copy(word, sizeof(word), arg);
    word[strcspn(word, "=")] = '\0';
    near = fpm_nearest(word, candidates);
    if (near)
        return wlf_fail(err, arg, "unknown option; did you mean %s?%s",
                        near, see);
    return wlf_fail(err, arg, "unknown option%s", see);
}

/* -c FILE, -cFILE, --config FILE, --config=FILE at argv[*i]: 1 taken
 * (*i moved past FILE), 0 not -c, -1 on error. */
static int take_config(int argc, char **argv, int *i, fpm_globals *g,
                       wlf_err *err)
{
    const char *a = argv[*i];

    if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0) {
        if (*i + 1 >= argc)
            return wlf_fail(err, "-c", "needs a file name");
        g->config = argv[++*i];
    }
    else if (strncmp(a, "--config=", 9) == 0)
        g->config = a + 9;
    else if (strncmp(a, "-c", 2) == 0)
        g->config = a + 2;
    else
        return 0;
    if (g->config[0] == '\0')
        return wlf_fail(err, "-c", "needs a file name");
    return 1;
}

/* The options allowed before and after the command: 1 taken, 0 not
 * one of them, -1 on error. */
static int take_output_flag(const char *a, fpm_globals *g, wlf_err *err)
{
    if (strcmp(a, "--json") == 0)
        g->json = 1;
    else if (strcmp(a, "--dry-run") == 0)
        g->dry_run = 1;
    else if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
        if (g->verbosity > 0)
            return wlf_fail(err, "-q", "cannot be combined with -v");
        g->verbosity = -1;
    }
    else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0) {
        if (g->verbosity < 0)
            return wlf_fail(err, "-v", "cannot be combined with -q");
        g->verbosity = 1;
    }
    else if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0)
        g->help = 1;
    else if (strcmp(a, "-y") == 0 || strcmp(a, "--yes") == 0)
        g->yes = 1;
    else
        return 0;
    return 1;
}

int fpm_globals_parse(int argc, char **argv, fpm_globals *g, wlf_err *err)
{
    int i;

    memset(g, 0, sizeof(*g));
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (a[0] != '-' || a[1] == '\0')
            break;
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        int taken = take_config(argc, argv, &i, g, err);

        if (taken < 0)
            return -1;
        if (taken)
            continue;
        if (strcmp(a, "--version") == 0)
            g->version = 1;
        else if (strcmp(a, "--list-commands") == 0)
            g->list_commands = 1;
        else if (strcmp(a, "--list-settings") == 0)
            g->list_settings = 1;
        else if (strcmp(a, "--list-keys") == 0)
            g->list_keys = 1;
        else {
            taken = take_output_flag(a, g, err);
            if (taken < 0)
                return -1;
            if (taken == 0)
                return unknown_option(err, a, global_options,
                                      " (see fpmctl --help)");
        }
    }
    g->command_index = i;
    return 0;
}

int fpm_globals_extract(int argc, char **argv, fpm_globals *g, wlf_err *err)
{
    int in, out = 1, done = 0;

    for (in = 1; in < argc; in++) {
        const char *a = argv[in];
        int taken = 1;

        if (done) {
            argv[out++] = argv[in];
            continue;
        }
        if (strcmp(a, "--") == 0) {
            done = 1;
            argv[out++] = argv[in];
            continue;
        }
        taken = take_config(argc, argv, &in, g, err);
        if (taken == 0)
            taken = take_output_flag(a, g, err);
        if (taken < 0)
            return -1;
        if (!taken)
            argv[out++] = argv[in];
    }
    if (out < argc)
        argv[out] = NULL;
    return out;
}

static const fpm_optdef *find_long(const fpm_optdef *defs, const char *name,
                                   size_t len, int *idx)
{
    for (int i = 0; defs[i].name; i++) {
        if (strlen(defs[i].name) == len &&
            strncmp(defs[i].name, name, len) == 0) {
            *idx = i;
            return &defs[i];
        }
    }
    return NULL;
}

static const fpm_optdef *find_short(const fpm_optdef *defs, char c, int *idx)
{
    for (int i = 0; defs[i].name; i++) {
        if (defs[i].short_name && defs[i].short_name == c) {
            *idx = i;
            return &defs[i];
        }
    }
    return NULL;
}

int fpm_args_parse(int argc, char **argv, const fpm_optdef *defs,
                   fpm_arg *out, size_t cap, size_t *n, wlf_err *err)
{
    int only_operands = 0;

    *n = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const fpm_optdef *d = NULL;
        const char *value = NULL;
        int idx = -1;

        if (*n >= cap)
            return wlf_fail(err, "arguments", "too many arguments");
        if (only_operands || a[0] != '-' || a[1] == '\0') {
            out[(*n)++] = (fpm_arg){ -1, a };
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_operands = 1;
            continue;
        }
        if (a[1] == '-') {
            const char *eq = strchr(a + 2, '=');
            size_t len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
            d = find_long(defs, a + 2, len, &idx);
            if (d == NULL) {
                const char *names[FPM_MAX_OPTS + 1];
                char buf[FPM_MAX_OPTS][FPM_NEAREST_MAX + 1];
                size_t k = 0;
                for (; k < FPM_MAX_OPTS && defs[k].name; k++) {
                    snprintf(buf[k], sizeof(buf[k]), "--%s", defs[k].name);
                    names[k] = buf[k];
                }
                names[k] = NULL;
                return unknown_option(err, a, names, "");
            }
            if (eq) {
                if (!d->takes_value)
                    return wlf_fail(err, a, "takes no value");
                value = eq + 1;
            }
        }
        else {
            d = find_short(defs, a[1], &idx);
            if (d == NULL)
                return wlf_fail(err, a, "unknown option");
            if (a[2] != '\0') {
                if (!d->takes_value)
                    return wlf_fail(err, a, "unknown option");
                value = a + 2;
            }
        }
        if (d->takes_value && value == NULL) {
            if (i + 1 >= argc)
                return wlf_fail(err, a, "needs a value");
            value = argv[++i];
        }
        out[(*n)++] = (fpm_arg){ idx, value };
    }
    return 0;
}
