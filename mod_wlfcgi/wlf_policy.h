/*
 * wlf_policy.h - the per-request rules of mod_wlfcgi, without httpd:
 * which files are PHP, which unix sockets a vhost may talk to, which
 * environment variables never reach FPM.
 */
#ifndef WLF_POLICY_H
#define WLF_POLICY_H

#include <stddef.h>

#include "wlf_err.h"
#include "wlf_validate.h"

/* ---- extensions (WLFcgiExtensions) ---- */

#define WLF_EXT_MAX 16

/* ".php", ".phtml": a dot, then 1..15 of [A-Za-z0-9_-] */
int wlf_ext_valid(const char *ext, wlf_err *err);

/* Does file name `path` end in one of `exts` (case-insensitive, so that
 * "x.PHP" goes to FPM instead of out as source)? */
int wlf_ext_match(const char *const *exts, size_t n_exts, const char *path);

/* The first extension of `routed` (a vhost's WLFcgiExtensions) that is not
 * in `runs` (its account's script_extensions: what php-fpm runs), case
 * ignored; NULL when php-fpm runs every one. */
const char *wlf_ext_not_run(const char *const *routed, size_t n_routed,
                            const char *const *runs, size_t n_runs);

/* ---- unix sockets ---- */

typedef enum {
    WLF_SOCK_OUTSIDE,   /* not in the socket directory: not ours to judge */
    WLF_SOCK_OWN,       /* NAME.sock / NAME.a.sock / NAME.b.sock of `own`,
                           or the same of one of its instances of another
                           PHP version (NAME.vVERSION.sock, ...) */
    WLF_SOCK_FOREIGN,   /* the same for another account: refuse */
    WLF_SOCK_OTHER      /* something else inside the directory: refuse */
} wlf_sock_class;

/*
 * Classify `path` (already resolved: absolute, no symlinks) against the
 * resolved socket directory `dir`. `own` is the vhost's account or NULL.
 * For WLF_SOCK_OWN and WLF_SOCK_FOREIGN the account named by the file is
 * copied to `owner`.
 */
wlf_sock_class wlf_sock_classify(const char *path, const char *dir,
                                 const char *own, char *owner,
                                 size_t owner_len);

/*
 * mod_wlfcgi's worker names are fcgi://wlf-NAME (routing) and
 * fcgi://wlf-NAME.a/.b (the slots). If `host` is such a name, copy NAME
 * to `account` and return 1; else 0.
 */
int wlf_worker_host_account(const char *host, char *account,
                            size_t account_len);

/* ---- environment ---- */

/* FastCGI params only mod_wlfcgi may set (NULL-terminated). */
extern const char *const wlf_env_scrubbed[];

/* Is `name` one of them (case-insensitive, as httpd's tables are)? */
int wlf_env_is_scrubbed(const char *name);

#endif
