/*
 * phpcli.h - `fpmctl php`: the command line of the account's PHP CLI.
 * Pure (no system calls), so it is unit-tested.
 */
#ifndef FPM_PHPCLI_H
#define FPM_PHPCLI_H

#include "wlf_config.h"

/*
 * The first of php's own options in args (before the script, "--" or -f)
 * that would drop or replace the account's settings: -n, -c, -d, -z and
 * their long forms. NULL when there is none.
 */
const char *fpm_php_refused_option(int argc, char *const *args);

/*
 * argv for execve(): the CLI of the account's PHP version, one
 * "-d KEY=VALUE" for each setting of the account (those php-fpm gets as
 * php_admin_value and php_value, its directories and extensions), then
 * args. NULL-terminated, malloc'd (free with fpm_php_argv_free); NULL
 * with err on failure.
 */
char **fpm_php_argv(const wlf_config *cfg, const wlf_account *acct,
                    int argc, char *const *args, wlf_err *err);
void fpm_php_argv_free(char **argv);

#endif
