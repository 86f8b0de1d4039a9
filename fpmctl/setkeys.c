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
                 "domains, home, php_admin.<ini>");
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
    int id;

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
    if (strncmp(key, "php_admin.", 10) == 0) {
        const char *ini = key + 10;
        if (wlf_valid_ini_key(ini, key, err) < 0)
            return -1;
        if (!wlf_config_php_admin_allowed(cfg, ini))
            return wlf_fail(err, key, "not in php_admin_allowed of "
                            "wlfcgi.conf");
        if (value[0] != '\0' && wlf_valid_ini_value(value, key, err) < 0)
            return -1;
        if (wlf_account_set_php_admin(acct, ini,
                                      value[0] ? value : NULL) < 0)
            return wlf_fail(err, key, "out of memory");
        return 0;
    }
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
    if (wlf_setting_parse(&acct->settings, id, value, err) < 0)
        return -1;
    if (id == WLF_S_PHP && wlf_config_php(cfg, value) == NULL)
        return wlf_fail(err, "php", "unknown PHP version '%.20s' (php.versions "
                        "in wlfcgi.conf lists the available ones)", value);
    return 0;
}

static void join_domains(wlf_buf *b, const wlf_account *a)
{
    if (a->n_domains == 0)
        wlf_buf_printf(b, "(none)");
    for (size_t i = 0; i < a->n_domains; i++)
        wlf_buf_printf(b, "%s%s", i ? "," : "", a->domains[i]);
}

static const char *admin_value(const wlf_account *a, const char *key)
{
    for (size_t i = 0; i < a->n_php_admin; i++)
        if (strcmp(a->php_admin[i].key, key) == 0)
            return a->php_admin[i].value;
    return NULL;
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
    for (size_t i = 0; i < before->n_php_admin; i++) {
        const char *k = before->php_admin[i].key;
        const char *v2 = admin_value(after, k);
        if (v2 == NULL || strcmp(v2, before->php_admin[i].value) != 0)
            wlf_buf_printf(&b, "%sphp_admin.%s %s -> %s", n++ ? ", " : "", k,
                           before->php_admin[i].value, v2 ? v2 : "(unset)");
    }
    for (size_t i = 0; i < after->n_php_admin; i++) {
        const char *k = after->php_admin[i].key;
        if (admin_value(before, k) == NULL)
            wlf_buf_printf(&b, "%sphp_admin.%s (unset) -> %s", n++ ? ", " : "",
                           k, after->php_admin[i].value);
    }
    wlf_settings_free(&e1);
    wlf_settings_free(&e2);
    return wlf_buf_finish(&b);
}
