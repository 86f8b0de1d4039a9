/*
 * sidedoor.h - PHP that runs with httpd's group outside wlfcgi.
 *
 * Distributions ship php-fpm with a pool of their own (`www`) that runs
 * as httpd's user: Fedora/EL in /etc/php-fpm.d (started along with httpd
 * by a drop-in of httpd.service, and served to every vhost by
 * conf.d/php.conf), Debian in /etc/php/VERSION/fpm/pool.d (enabled at
 * boot; conf-available/phpVERSION-fpm.conf sends PHP there once enabled).
 * PHP in such a pool has httpd's group, so it can connect to every
 * account's socket and take over any account. `fpmctl check` looks for
 * these doors with the functions below.
 *
 * The parsers are pure (unit-tested); fpm_side_doors() reads the files.
 * Every system path is looked up under $WLFCGI_SYSROOT (default "/"), so
 * tests can point it at a fake distribution.
 */
#ifndef FPM_SIDEDOOR_H
#define FPM_SIDEDOOR_H

#include <stddef.h>

#include "wlf_config.h"

typedef struct {
    char name[64];      /* the pool's [section] */
    char user[64];      /* "" when the section does not set it */
    char group[64];
} fpm_pool_identity;

/*
 * The pools of a php-fpm configuration file (ini syntax: [name] sections,
 * `key = value`, ';' and '#' comments). [global] is not a pool. Fills at
 * most `max` and returns how many pools the text has.
 */
size_t fpm_parse_pools(const char *text, fpm_pool_identity *pools,
                       size_t max);

/*
 * The first line of httpd configuration text that hands requests to a
 * proxy handler (`SetHandler "proxy:…"`, `AddHandler "proxy:…"`), not
 * commented out; copied (trimmed) to line. Returns 1 if there is one.
 */
int fpm_find_proxy_handler(const char *text, char *line, size_t len);

/*
 * Does systemd unit or drop-in text pull in `unit` (Wants=, Requires=,
 * BindsTo=, Upholds=)?
 */
int fpm_unit_text_wants(const char *text, const char *unit);

/* What fpm_side_doors() found: a problem (the door is open now or opens at
 * the next boot or httpd start) or a warning (it would open if started,
 * or a handler points PHP at such a pool). */
typedef void (*fpm_door_report)(void *ctx, int is_problem, const char *msg);

/* Look for doors on this machine (under $WLFCGI_SYSROOT). */
void fpm_side_doors(const wlf_config *cfg, fpm_door_report report,
                    void *ctx);

#endif
