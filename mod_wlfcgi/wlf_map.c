/*
 * wlf_map.c - vhost to account mapping and conflict detection.
 */
#include "wlf_map.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "wlf_validate.h"

/* The domain pattern of `acct` that matches `host` best (exact first). */
static const char *matching_domain(const wlf_account *acct, const char *host)
{
    const char *wild = NULL;

    for (size_t d = 0; d < acct->n_domains; d++) {
        const char *p = acct->domains[d];
        if (p[0] != '*' && strcasecmp(p, host) == 0)
            return p;
        if (p[0] == '*' && wlf_domain_matches(p, host) &&
            (wild == NULL || strlen(p) > strlen(wild)))
            wild = p;
    }
    return wild;
}

/* How strongly a pattern claims a host: exact names beat wildcards, and
 * longer wildcards beat shorter ones (as in wlf_accounts_match_host). */
static size_t specificity(const char *pattern)
{
    return pattern[0] == '*' ? strlen(pattern) : (size_t)-1;
}

/* A skipped account that claims `host` at least as strongly as `owner`
 * does (or at all, when nobody kept it): had its file not been skipped,
 * the vhost might have been its. */
static const wlf_account *rival_claim(const wlf_account_list *accounts,
                                      const wlf_account *owner,
                                      const char *host)
{
    const char *owned = owner ? matching_domain(owner, host) : NULL;

    for (size_t i = 0; i < accounts->n_skipped; i++) {
        const char *p = matching_domain(&accounts->skipped[i], host);
        if (p == NULL)
            continue;
        if (owned == NULL || specificity(p) >= specificity(owned))
            return &accounts->skipped[i];
    }
    return NULL;
}

static int was_skipped(const wlf_account_list *accounts, const char *name)
{
    for (size_t i = 0; i < accounts->n_skipped; i++)
        if (strcmp(accounts->skipped[i].name, name) == 0)
            return 1;
    return 0;
}

int wlf_map_vhost(const wlf_account_list *accounts,
                  const wlf_vhost_desc *vhost,
                  const wlf_account **out, char *how, size_t how_len,
                  wlf_err *err)
{
    const wlf_account *chosen = NULL;
    const char *chosen_by = NULL;

    *out = NULL;
    if (how_len)
        how[0] = '\0';
    if (vhost->explicit_account) {
        chosen = wlf_accounts_find(accounts, vhost->explicit_account);
        if (chosen == NULL)
            return wlf_fail(err, "WLFcgiAccount", "vhost %s: WLFcgiAccount "
                            "%s: %s", vhost->label, vhost->explicit_account,
                            was_skipped(accounts, vhost->explicit_account)
                                ? "the account was skipped because one of "
                                  "its domains belongs to another account"
                                : "no such account");
        chosen_by = "WLFcgiAccount";
        snprintf(how, how_len, "WLFcgiAccount %s", chosen->name);
    }

    for (size_t i = 0; i < vhost->n_names; i++) {
        const char *name = vhost->names[i];
        const wlf_account *a, *rival;

        if (name == NULL || name[0] == '\0')
            continue;
        a = wlf_accounts_match_host(accounts, name);
        rival = rival_claim(accounts, a, name);
        if (rival && (a == NULL || strcmp(rival->name, a->name) != 0)) {
            if (a)
                return wlf_fail(err, name, "vhost %s: name %s is claimed by "
                                "accounts %s and %s", vhost->label, name,
                                a->name, rival->name);
            /* only the skipped account wants it: still ambiguous, since
             * its domains clash with another account's */
            return wlf_fail(err, name, "vhost %s: name %s is claimed by "
                            "account %s, which was skipped because its "
                            "domains clash with another account's",
                            vhost->label, name, rival->name);
        }
        if (a == NULL)
            continue;
        if (chosen == NULL) {
            chosen = a;
            chosen_by = name;
            snprintf(how, how_len, "name %s", name);
        }
        else if (chosen != a) {
            if (vhost->explicit_account)
                return wlf_fail(err, name, "vhost %s: WLFcgiAccount %s, but "
                                "its name %s belongs to account %s",
                                vhost->label, chosen->name, name, a->name);
            return wlf_fail(err, name, "vhost %s: name %s belongs to "
                            "account %s, name %s to account %s",
                            vhost->label, chosen_by, chosen->name, name,
                            a->name);
        }
    }
    *out = chosen;
    return 0;
}
