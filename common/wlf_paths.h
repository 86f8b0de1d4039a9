/*
 * wlf_paths.h - derived paths: the one place that knows where an account's
 * socket, pid file, instance directory, tmp directories, logs and account
 * file are, given wlfcgi.conf's four directories.
 */
#ifndef WLF_PATHS_H
#define WLF_PATHS_H

#include <stddef.h>

#include "wlf_model.h"

/* sun_path holds 108 bytes: DIR/NAME(32).a.sock must fit */
#define WLF_SOCKET_DIR_MAX 64

/*
 * Per instance the functions below take its key where they say NAME: the
 * account name for the primary instance, NAME.vVERSION for an instance of
 * another PHP version of the account (wlf_model.h: wlf_account_instances).
 */

/* KEY of account `name`'s instance of `version` (NULL: the primary) */
const char *wlf_instance_key(const char *name, const char *version,
                             char *buf, size_t len);
/* Split KEY into the account name (the text before its first '.') and
 * the version ("" for the primary). 0, or -1 if it is no key. */
int wlf_instance_key_parse(const char *key, char *name, size_t name_len,
                           char *version, size_t version_len);
/* Does <socket_dir>/KEY.a.sock fit in sun_path? */
int wlf_instance_key_fits(const wlf_config *cfg, const char *key);

/* <socket_dir>/NAME.sock: a symlink to the live instance's socket */
const char *wlf_path_socket(const wlf_config *cfg, const char *name,
                            char *buf, size_t len);
/* <socket_dir>/NAME.<slot>.sock, slot 'a' or 'b' */
const char *wlf_path_slot_socket(const wlf_config *cfg, const char *name,
                                 char slot, char *buf, size_t len);
/* <socket_dir>/NAME.<slot>.pid */
const char *wlf_path_slot_pid(const wlf_config *cfg, const char *name,
                              char slot, char *buf, size_t len);
/* <socket_dir>/NAME.stopped: an on-demand account stopped by fpmctl stop
 * (requests do not start it). Beside the pid files, where httpd sees it. */
const char *wlf_path_stopped(const wlf_config *cfg, const char *name,
                             char *buf, size_t len);
/* <state_dir>/fpm/NAME.<slot>: rendered php-fpm.conf, ini/, php-fpm link */
const char *wlf_path_instance_dir(const wlf_config *cfg, const char *name,
                                  char slot, char *buf, size_t len);
/* <state_dir>/accounts/NAME: tmp/, upload/, sessions/ owned by the user */
const char *wlf_path_account_dir(const wlf_config *cfg, const char *name,
                                 char *buf, size_t len);
/* <log_dir>/NAME/fpm.SLOT.log: the log of a slot's master (version NULL
 * or "": the primary instance), else fpm.vVERSION.SLOT.log */
const char *wlf_path_fpm_log(const wlf_config *cfg, const char *name,
                             const char *version, char slot, char *buf,
                             size_t len);
/* <socket_dir>/NAME.routes: the routes of the account's pinned domains */
const char *wlf_path_routes(const wlf_config *cfg, const char *name,
                            char *buf, size_t len);
/* <socket_dir>/NAME.routes/DOMAIN -> ../KEY.sock */
const char *wlf_path_route(const wlf_config *cfg, const char *name,
                           const char *domain, char *buf, size_t len);
/* The KEY a route's target ("../KEY.sock") names: 0, or -1 when it is not
 * an instance key of account NAME (a route never leads to another
 * account's instance, whatever its link says). */
int wlf_route_target_key(const char *name, const char *target, char *key,
                         size_t len);
/* <log_dir>/NAME */
const char *wlf_path_log_dir(const wlf_config *cfg, const char *name,
                             char *buf, size_t len);
/* <accounts_dir>/NAME.conf */
const char *wlf_path_account_file(const wlf_config *cfg, const char *name,
                                  char *buf, size_t len);

/* sun_path: a socket path and its NUL */
#define WLF_SUN_PATH 108

/*
 * What a NAME.sock symlink says, with one readlink (no file read): 'a' or
 * 'b' (the live slot), WLF_LINK_SUSPENDED (the account is suspended: the
 * link points at "NAME.suspended", which is never created, so nothing can
 * connect through it), or 0 when it is missing or not one of ours. This
 * is how mod_wlfcgi decides per request, without a restart of httpd.
 */
#define WLF_LINK_SUSPENDED 's'
char wlf_link_state(const char *link_path);

/* The live slot of a NAME.sock symlink: 'a', 'b', or 0 (missing, not
 * ours, or suspended). */
char wlf_slot_of_link(const char *link_path);

/* "NAME.suspended": the target of NAME.sock while NAME is suspended */
const char *wlf_suspended_target(const char *name, char *buf, size_t len);

#endif
