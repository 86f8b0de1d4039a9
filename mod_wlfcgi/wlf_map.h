/*
 * wlf_map.h - which account a vhost belongs to.
 *
 * A vhost is mapped explicitly (WLFcgiAccount NAME) or by its names
 * (ServerName, ServerAlias) against the accounts' domains, with the shared
 * matching rules of wlf_accounts_match_host(). Anything ambiguous is an
 * error that stops httpd from starting, with a message that names both
 * claimants: a silent guess would run one customer's PHP as another.
 *
 * Pure logic, no httpd: mod_wlfcgi.c feeds it every server_rec at
 * start-up.
 */
#ifndef WLF_MAP_H
#define WLF_MAP_H

#include <stddef.h>

#include "wlf_config.h"
#include "wlf_err.h"

typedef struct {
    const char *label;              /* "alice.example:80 (site.conf:12)" */
    const char *const *names;       /* ServerName, then ServerAlias entries */
    size_t n_names;
    const char *explicit_account;   /* WLFcgiAccount, or NULL */
} wlf_vhost_desc;

/*
 * Map one vhost against what wlf_accounts_load() returned: the accounts
 * it kept, and those it skipped (valid files left out because one of
 * their domains is owned by an earlier account): a vhost name that both
 * claim is a conflict, not a silent win for the first.
 *
 * Returns 0 with *out set (NULL: the vhost has no account), or -1 with
 * err->msg naming the vhost and both accounts (conflict) or the unknown
 * account. *how says why ("WLFcgiAccount", "ServerName x", ...).
 */
int wlf_map_vhost(const wlf_account_list *accounts,
                  const wlf_vhost_desc *vhost,
                  const wlf_account **out, char *how, size_t how_len,
                  wlf_err *err);

#endif
