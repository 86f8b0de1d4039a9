/*
 * setkeys.h - `fpmctl set NAME KEY=VALUE...`: what each KEY means.
 *
 *   <setting>=VALUE        a key of wlf_setting_defs (max_children, ...)
 *   <setting>=default      back to the global default from wlfcgi.conf;
 *                          "off" does the same, except for on/off settings
 *                          (opcache_validate_timestamps) where it means false
 *   domains=a.example,b    the complete domain list ("" for none)
 *   home=/path             base of open_basedir
 *   php_admin.<ini>=VALUE  an extra php_admin_value; an empty VALUE removes it
 *   php@<domain>=VERSION   the PHP version of one of the account's domains;
 *                          "default" (or "off", "") goes back to the
 *                          account's; domains= without it drops it too
 *
 * user and group are fixed once the account exists. Pure: nothing is looked
 * up on the system here (the caller checks that home exists).
 */
#ifndef FPM_SETKEYS_H
#define FPM_SETKEYS_H

#include "wlf_config.h"

/* Apply one KEY=VALUE item to acct. Returns 0, or -1 with err naming the
 * field; acct may then be partly changed (callers work on a copy). */
int fpm_set_apply(const wlf_config *cfg, wlf_account *acct, const char *item,
                  wlf_err *err);

/*
 * What differs between two versions of an account, for one status line:
 * "max_children 5 -> 3, php_admin.memory_limit (unset) -> 256M".
 * "" when nothing does. malloc'd; NULL on OOM.
 */
char *fpm_account_diff(const wlf_config *cfg, const wlf_account *before,
                       const wlf_account *after);

/* The keys `set` accepts, comma separated, for messages and --help. */
const char *fpm_set_keys_help(void);

#endif
