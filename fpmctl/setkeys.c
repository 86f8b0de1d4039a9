/*
 * setkeys.c - parsing of `fpmctl set` items.
 */
#include "setkeys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wlf_buf.h"

const char *fpm_set_keys_help(void)
{
    static char buf[1024];

    if (buf[0] == '\0') {
        size_t off = 0;
        for (int i = 0; i < WLF_S_COUNT; i++)
            off += (size_t)snprintf(buf + off, sizeof(buf) - off, "%s, ",
                                    wlf_setting_defs[i].key);
        snprintf(buf + off, sizeof(buf) - off,
                 "domains, home, php_admin.<ini>, php_value.<ini>, "
                 "env.<NAME>, extensions, script_extensions, "
                 "php@<domain>");
    }
    return buf;
}

static int set_domains(wlf_account *acct, const char *value, wlf_err *err)
{
    wlf_account tmp;
    char *copy, *p, *tok;
    int rc = 0;

    wlf_account_init(&tmp);
    if ((copy = strdup(value)) == NULL)
        return wlf_fail(err, "domains", "out of memory");
    for (p = copy; (tok = strsep(&p, ",")) != NULL;) {
        while (*tok == ' ')
            tok++;
        for (char *e = tok + strlen(tok); e > tok && e[-1] == ' ';)
            *--e = '\0';
        if (*tok == '\0') {
            /* "" means no domains; an empty entry inside a list is a typo */
            if (value[0] != '\0') {
                rc = wlf_fail(err, "domains", "empty entry in '%.60s'",
                              value);
                break;
            }
            continue;
        }
        if (wlf_account_add_domain(&tmp, tok, err) < 0) {
            rc = -1;
            break;
        }
    }
    free(copy);
    if (rc == 0) {
        for (size_t i = 0; i < acct->n_domains; i++)
            free(acct->domains[i]);
        free(acct->domains);
        acct->domains = tmp.domains;
        acct->n_domains = tmp.n_domains;
        tmp.domains = NULL;
        tmp.n_domains = 0;
        /* a domain that goes takes its PHP version with it */
        wlf_account_prune_domain_php(acct);
    }
    wlf_account_free(&tmp);
    return rc;
}

static int same_as_default(const wlf_config *cfg, const wlf_settings *s,
                           int id)
{
    const wlf_settings *d = &cfg->defaults;

    if (wlf_setting_defs[id].type == WLF_T_STRING)
        return s->str[id] && d->str[id] && strcmp(s->str[id], d->str[id]) == 0;
    return s->num[id] == d->num[id];
}

/* extensions=a,b: the complete list, each from extensions_allowed */
static int set_extensions(const wlf_config *cfg, wlf_account *acct,
                          const char *value, wlf_err *err)
{
    char **v = NULL, *copy, *p, *tok;
    size_t n = 0;
    int rc = 0;

    if ((copy = strdup(value)) == NULL)
        return wlf_fail(err, "extensions", "out of memory");
    for (p = copy; rc == 0 && (tok = strsep(&p, ",")) != NULL;) {
        while (*tok == ' ')
            tok++;
        for (char *e = tok + strlen(tok); e > tok && e[-1] == ' ';)
            *--e = '\0';
        if (*tok == '\0' && value[0] == '\0')
            continue;
        if (wlf_valid_extension_name(tok, "extensions", err) < 0)
            rc = -1;
        else if (wlf_config_extension(cfg, tok) == NULL)
            rc = wlf_fail(err, "extensions", "'%s' is not in "
                          "extensions_allowed of wlfcgi.conf", tok);
        else if (wlf_strlist_push(&v, &n, tok) < 0)
            rc = wlf_fail(err, "extensions", "out of memory");
    }
    free(copy);
    if (rc < 0) {
        wlf_strlist_free(v, n);
        return -1;
    }
    wlf_strlist_free(acct->extensions, acct->n_extensions);
    acct->extensions = v;
    acct->n_extensions = n;
    return 0;
}

/* script_extensions=.php,.phtml: the complete list; "default": .php */
static int set_script_exts(wlf_account *acct, const char *value,
                           wlf_err *err)
{
    wlf_account tmp;
    char *copy, *p, *tok;
    int rc = 0;

    wlf_account_init(&tmp);
    if (strcmp(value, "default") != 0) {
        if ((copy = strdup(value)) == NULL)
            return wlf_fail(err, "script_extensions", "out of memory");
        for (p = copy; rc == 0 && (tok = strsep(&p, ",")) != NULL;) {
            while (*tok == ' ')
                tok++;
            for (char *e = tok + strlen(tok); e > tok && e[-1] == ' ';)
                *--e = '\0';
            rc = wlf_account_add_script_ext(&tmp, tok, err);
        }
        free(copy);
    }
    if (rc == 0) {
        wlf_strlist_free(acct->script_exts, acct->n_script_exts);
        acct->script_exts = tmp.script_exts;
        acct->n_script_exts = tmp.n_script_exts;
        tmp.script_exts = NULL;
        tmp.n_script_exts = 0;
    }
    wlf_account_free(&tmp);
    return rc;
}

int fpm_set_apply(const wlf_config *cfg, wlf_account *acct, const char *item,
                  wlf_err *err)
{
    const char *eq = strchr(item, '=');
    char key[80];
    const char *value;
    size_t klen;
    int id, was_set;

    if (eq == NULL)
        return wlf_fail(err, "set", "'%.60s' is not KEY=VALUE", item);
    klen = (size_t)(eq - item);
    value = eq + 1;
    if (klen == 0)
        return wlf_fail(err, "set", "'%.60s' has no key", item);
    if (klen >= sizeof(key))
        return wlf_fail(err, "set", "key '%.40s...' is too long", item);
    memcpy(key, item, klen);
    key[klen] = '\0';
    for (size_t i = 0; i < klen; i++)
        if ((unsigned char)key[i] < 0x21 || key[i] == 0x7f)
            return wlf_fail(err, "set", "key contains a space or control "
                            "character");

    if (strcmp(key, "user") == 0 || strcmp(key, "group") == 0 ||
        strcmp(key, "name") == 0)
        return wlf_fail(err, key, "is fixed once the account exists; "
                        "remove-account and add-account it again");
    if (strcmp(key, "domains") == 0 || strcmp(key, "domain") == 0)
        return set_domains(acct, value, err);
    if (strcmp(key, "home") == 0) {
        char *h;
        if (wlf_valid_home(value, err) < 0)
            return -1;
        if ((h = strdup(value)) == NULL)
            return wlf_fail(err, "home", "out of memory");
        free(acct->home);
        acct->home = h;
        return 0;
    }
    if (strncmp(key, "php_admin.", 10) == 0 ||
        strncmp(key, "php_value.", 10) == 0) {
        int admin = key[4] == 'a';
        const char *ini = key + 10, *why;
        if (wlf_valid_ini_key(ini, key, err) < 0)
            return -1;
        if (value[0] != '\0' && (why = wlf_ini_key_managed(ini)) != NULL)
            return wlf_fail(err, key, "cannot be set per account: %s", why);
        if (!admin && value[0] != '\0' && wlf_ini_key_startup(ini))
            return wlf_fail(err, key, "PHP reads it once, when the "
                            "account's instance starts, so .user.ini "
                            "cannot change it: set php_admin.%s", ini);
        if (admin ? !wlf_config_php_admin_allowed(cfg, ini)
                  : !wlf_config_php_value_allowed(cfg, ini))
            return wlf_fail(err, key, "not in %s of wlfcgi.conf",
                            admin ? "php_admin_allowed" : "php_value_allowed");
        if (value[0] != '\0' && wlf_valid_ini_value(value, key, err) < 0)
            return -1;
        if ((admin ? wlf_account_set_php_admin(acct, ini,
                                               value[0] ? value : NULL)
                   : wlf_account_set_php_value(acct, ini,
                                               value[0] ? value : NULL)) < 0)
            return wlf_fail(err, key, "out of memory");
        return 0;
    }
    if (strncmp(key, "php@", 4) == 0) {
        char domain[WLF_DOMAIN_MAX + 2];
        int known = 0;
        snprintf(domain, sizeof(domain), "%s", key + 4);
        wlf_domain_lower(domain);
        if (wlf_valid_domain(domain, err) < 0)
            return wlf_fail(err, key, "'%.60s' is not a domain", key + 4);
        for (size_t i = 0; i < acct->n_domains; i++)
            known |= strcmp(acct->domains[i], domain) == 0;
        if (!known)
            return wlf_fail(err, key, "'%s' is not one of the account's "
                            "domains (set domains= first)", domain);
        if (value[0] == '\0' || strcmp(value, "default") == 0 ||
            strcmp(value, "off") == 0)
            value = NULL;
        else if (wlf_valid_php_version(value, err) < 0 ||
                 wlf_config_php(cfg, value) == NULL)
            return wlf_fail(err, key, "unknown PHP version '%.20s' "
                            "(php.versions in wlfcgi.conf lists the "
                            "available ones)", value);
        if (wlf_account_set_domain_php(acct, domain, value) < 0)
            return wlf_fail(err, key, "out of memory");
        return 0;
    }
    if (strncmp(key, "env.", 4) == 0) {
        const char *name = key + 4;
        if (wlf_valid_env_name(name, key, err) < 0)
            return -1;
        if (strcmp(name, "PATH") == 0 || strcmp(name, "TMPDIR") == 0)
            return wlf_fail(err, key, "cannot be set per account: wlfcgi "
                            "sets it");
        if (value[0] != '\0' && wlf_valid_ini_value(value, key, err) < 0)
            return -1;
        if (wlf_account_set_env(acct, name, value[0] ? value : NULL) < 0)
            return wlf_fail(err, key, "out of memory");
        return 0;
    }
    if (strcmp(key, "extensions") == 0)
        return set_extensions(cfg, acct, value, err);
    if (strcmp(key, "script_extensions") == 0)
        return set_script_exts(acct, value, err);
    id = wlf_setting_find(key);
    if (id < 0)
        return wlf_fail(err, key, "unknown setting (known: %s)",
                        fpm_set_keys_help());
    if (strcmp(value, "default") == 0 ||
        (strcmp(value, "off") == 0 &&
         wlf_setting_defs[id].type != WLF_T_BOOL)) {
        wlf_settings_unset(&acct->settings, id);
        return 0;
    }
    if (value[0] == '\0')
        return wlf_fail(err, key, "empty value (use %s=default to go back "
                        "to the global default)", key);
    was_set = acct->settings.is_set[id];
    if (wlf_setting_parse(&acct->settings, id, value, err) < 0)
        return -1;
    if (id == WLF_S_PHP && wlf_config_php(cfg, value) == NULL)
        return wlf_fail(err, "php", "unknown PHP version '%.20s' (php.versions "
                        "in wlfcgi.conf lists the available ones)", value);
    /* the value it has already, from the global default: no override
     * that would keep it there when the default changes */
    if (!was_set && same_as_default(cfg, &acct->settings, id))
        wlf_settings_unset(&acct->settings, id);
    return 0;
}

static void join_domains(wlf_buf *b, const wlf_account *a)
{
    if (a->n_domains == 0)
        wlf_buf_printf(b, "(none)");
    for (size_t i = 0; i < a->n_domains; i++)
        wlf_buf_printf(b, "%s%s", i ? "," : "", a->domains[i]);
}

/* "PREFIX.KEY old -> new" for each KEY that differs; returns the new
 * count of items */
static int diff_pairs(wlf_buf *b, int n, const char *prefix,
                      const wlf_php_admin *v1, size_t n1,
                      const wlf_php_admin *v2, size_t n2)
{
    for (size_t i = 0; i < n1; i++) {
        const char *now = wlf_pairs_get(v2, n2, v1[i].key);
        if (now == NULL || strcmp(now, v1[i].value) != 0)
            wlf_buf_printf(b, "%s%s.%s %s -> %s", n++ ? ", " : "", prefix,
                           v1[i].key, v1[i].value, now ? now : "(unset)");
    }
    for (size_t i = 0; i < n2; i++)
        if (wlf_pairs_get(v1, n1, v2[i].key) == NULL)
            wlf_buf_printf(b, "%s%s.%s (unset) -> %s", n++ ? ", " : "",
                           prefix, v2[i].key, v2[i].value);
    return n;
}

static int same_list(char *const *a, size_t na, char *const *b, size_t nb)
{
    if (na != nb)
        return 0;
    for (size_t i = 0; i < na; i++)
        if (strcmp(a[i], b[i]) != 0)
            return 0;
    return 1;
}

static void join_list(wlf_buf *b, char *const *v, size_t n)
{
    if (n == 0)
        wlf_buf_printf(b, "(none)");
    for (size_t i = 0; i < n; i++)
        wlf_buf_printf(b, "%s%s", i ? "," : "", v[i]);
}

char *fpm_account_diff(const wlf_config *cfg, const wlf_account *before,
                       const wlf_account *after)
{
    wlf_buf b = { 0 };
    wlf_settings e1, e2;
    int n = 0, same_domains;

    if (wlf_account_effective(cfg, before, &e1) < 0)
        return NULL;
    if (wlf_account_effective(cfg, after, &e2) < 0) {
        wlf_settings_free(&e1);
        return NULL;
    }
    for (int i = 0; i < WLF_S_COUNT; i++) {
        char v1[64], v2[64];
        wlf_setting_format(&e1, i, v1, sizeof(v1));
        wlf_setting_format(&e2, i, v2, sizeof(v2));
        if (strcmp(v1, v2) == 0 &&
            before->settings.is_set[i] == after->settings.is_set[i])
            continue;
        wlf_buf_printf(&b, "%s%s %s -> %s%s", n++ ? ", " : "",
                       wlf_setting_defs[i].key, v1, v2,
                       after->settings.is_set[i] ? "" : " (default)");
    }
    same_domains = before->n_domains == after->n_domains;
    for (size_t i = 0; same_domains && i < before->n_domains; i++)
        same_domains = strcmp(before->domains[i], after->domains[i]) == 0;
    if (!same_domains) {
        wlf_buf_printf(&b, "%sdomains ", n++ ? ", " : "");
        join_domains(&b, before);
        wlf_buf_printf(&b, " -> ");
        join_domains(&b, after);
    }
    if (strcmp(before->home ? before->home : "",
               after->home ? after->home : "") != 0)
        wlf_buf_printf(&b, "%shome %s -> %s", n++ ? ", " : "",
                       before->home ? before->home : "", after->home);
    n = diff_pairs(&b, n, "php_admin", before->php_admin,
                   before->n_php_admin, after->php_admin, after->n_php_admin);
    n = diff_pairs(&b, n, "php_value", before->php_value,
                   before->n_php_value, after->php_value, after->n_php_value);
    n = diff_pairs(&b, n, "env", before->env, before->n_env, after->env,
                   after->n_env);
    if (!same_list(before->script_exts, before->n_script_exts,
                   after->script_exts, after->n_script_exts)) {
        wlf_buf_printf(&b, "%sscript_extensions ", n++ ? ", " : "");
        join_list(&b, before->script_exts, before->n_script_exts);
        wlf_buf_printf(&b, " -> ");
        join_list(&b, after->script_exts, after->n_script_exts);
    }
    if (!same_list(before->extensions, before->n_extensions,
                   after->extensions, after->n_extensions)) {
        wlf_buf_printf(&b, "%sextensions ", n++ ? ", " : "");
        join_list(&b, before->extensions, before->n_extensions);
        wlf_buf_printf(&b, " -> ");
        join_list(&b, after->extensions, after->n_extensions);
    }
    for (size_t i = 0; i < before->n_domain_php; i++) {
        const wlf_domain_php *p = &before->domain_php[i];
        const char *v2 = wlf_account_domain_php(after, p->domain);
        int still = 0;
        for (size_t d = 0; d < after->n_domains; d++)
            still |= strcmp(after->domains[d], p->domain) == 0;
        if (v2 == NULL || strcmp(v2, p->php) != 0)
            wlf_buf_printf(&b, "%sphp@%s %s -> %s", n++ ? ", " : "",
                           p->domain, p->php, v2 ? v2 : still
                           ? "(the account's)" : "(gone with the domain)");
    }
    for (size_t i = 0; i < after->n_domain_php; i++) {
        const wlf_domain_php *p = &after->domain_php[i];
        if (wlf_account_domain_php(before, p->domain) == NULL)
            wlf_buf_printf(&b, "%sphp@%s (the account's) -> %s",
                           n++ ? ", " : "", p->domain, p->php);
    }
    wlf_settings_free(&e1);
    wlf_settings_free(&e2);
    return wlf_buf_finish(&b);
}
