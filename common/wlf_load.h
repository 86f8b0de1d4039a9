/*
 * wlf_load.h - the loader: reads wlfcgi.conf and accounts.d/NAME.conf
 * (libconfig) into the structures of wlf_model.h, validating everything.
 *
 * Both programs load the account database with these functions and
 * nothing else, so they can never disagree about what an account is. This
 * is the only file that knows libconfig; only the API shared by libconfig
 * 1.5 (Debian 12, RHEL 8) and 1.7 (RHEL 9) is used.
 */
#ifndef WLF_LOAD_H
#define WLF_LOAD_H

#include <stddef.h>

#include "wlf_err.h"
#include "wlf_model.h"

/* Load and validate wlfcgi.conf. On error *cfg is left empty. */
int wlf_config_load(const char *path, wlf_config *cfg, wlf_err *err);
/* The same from a string (tests, fuzzing); `name` is used in messages. */
int wlf_config_load_string(const char *text, const char *name,
                           wlf_config *cfg, wlf_err *err);

/*
 * Parse one account file. The account name must match the file name
 * (NAME.conf). Everything is validated against cfg (php versions, allowed
 * php_admin keys, ranges); users are not looked up here.
 */
int wlf_account_load(const wlf_config *cfg, const char *path,
                     wlf_account *acct, wlf_err *err);
int wlf_account_load_string(const wlf_config *cfg, const char *text,
                            const char *name, wlf_account *acct,
                            wlf_err *err);

/*
 * The NAME of every accounts_dir/NAME.conf, sorted, whether it loads or
 * not (dot files, such as fpmctl's temp files, are not account files).
 * Free with wlf_strlist_free(). Returns 0, or -1 with err set when the
 * directory cannot be read completely.
 */
int wlf_account_files(const wlf_config *cfg, char ***names, size_t *n,
                      wlf_err *err);

/*
 * Load every account file, sorted by name. Files that fail are listed in
 * list->errors and left out; a domain claimed by two accounts is reported
 * there too (for the later one, by name order), and the later account is
 * left out of list->items but kept in list->skipped. Returns -1 (and an
 * empty list) when the directory cannot be read or memory runs out: a
 * list that is returned holds every account file.
 */
int wlf_accounts_load(const wlf_config *cfg, wlf_account_list *list,
                      wlf_err *err);

/*
 * Every member name the loader accepts, for the docs (`fpmctl
 * --list-keys`): fn(file, key, arg) with file "wlfcgi.conf" or "account"
 * and key as "service", "paths.accounts" or "php.versions[].fpm" (a
 * member of each entry of a list). Groups come before their members.
 * The settings of wlf_setting_defs are accepted besides: at the top of an
 * account file and in wlfcgi.conf's defaults group.
 */
typedef void (*wlf_key_fn)(const char *file, const char *key, void *arg);
void wlf_load_keys(wlf_key_fn fn, void *arg);

#endif
