/*
 * phpcli.c - the command line of `fpmctl php`.
 */
#include "phpcli.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* php's options that take a value (the next argument, or attached) */
static const char value_opts[] = "cdzfrBRFEtS";

const char *fpm_php_refused_option(int argc, char *const *args)
{
    static const char *const refused_long[] = {
        "--php-ini", "--no-php-ini", "--define", "--zend-extension", NULL
    };

    for (int i = 0; i < argc; i++) {
        const char *a = args[i];
        if (a[0] != '-' || a[1] == '\0' || strcmp(a, "--") == 0)
            return NULL;            /* the script, stdin, or its args */
        if (a[1] == '-') {
            for (const char *const *r = refused_long; *r; r++) {
                size_t n = strlen(*r);
                if (strncmp(a, *r, n) == 0 && (a[n] == '\0' || a[n] == '='))
                    return a;
            }
            /* --rf NAME and friends take a value */
            if (strlen(a) == 4 && a[2] == 'r' && strchr("fcezi", a[3]))
                i++;
            continue;
        }
        if (strchr("cdnz", a[1]))
            return a;
        if (a[1] == 'f')
            return NULL;            /* -f FILE: what follows is the script's */
        if (strchr(value_opts, a[1]) && a[2] == '\0')
            i++;
    }
    return NULL;
}

void fpm_php_argv_free(char **argv)
{
    if (argv == NULL)
        return;
    for (char **a = argv; *a; a++)
        free(*a);
    free(argv);
}

static int has_admin(const wlf_account *acct, const char *key)
{
    for (size_t i = 0; i < acct->n_php_admin; i++)
        if (strcmp(acct->php_admin[i].key, key) == 0)
            return 1;
    return 0;
}

char **fpm_php_argv(const wlf_config *cfg, const wlf_account *acct,
                    int argc, char *const *args, wlf_err *err)
{
    char acctdir[PATH_MAX];
    const wlf_php_version *php;
    wlf_settings eff;
    size_t cap = 16 + 2 * (acct->n_php_admin + acct->n_php_value +
                           acct->n_extensions) + (size_t)argc, n = 0;
    char **v;
    int ok = 1;

    if (wlf_account_effective(cfg, acct, &eff) < 0) {
        wlf_fail(err, "php", "out of memory");
        return NULL;
    }
    php = wlf_config_php(cfg, eff.str[WLF_S_PHP]);
    wlf_settings_free(&eff);
    if (php == NULL) {
        wlf_fail(err, "php", "unknown PHP version");
        return NULL;
    }
    if ((v = calloc(cap, sizeof(*v))) == NULL) {
        wlf_fail(err, "php", "out of memory");
        return NULL;
    }
    wlf_path_account_dir(cfg, acct->name, acctdir, sizeof(acctdir));
#define ADD_D(...) do { \
        ok &= (v[n++] = strdup("-d")) != NULL; \
        ok &= asprintf(&v[n++], __VA_ARGS__) >= 0; \
    } while (0)
    ok &= (v[n++] = strdup(php->cli)) != NULL;
    /* what php-fpm's pool sets, in the same order (render.c) */
    if (!has_admin(acct, "open_basedir"))
        ADD_D("open_basedir=%s/:%s/", acct->home, acctdir);
    ADD_D("upload_tmp_dir=%s/upload", acctdir);
    ADD_D("sys_temp_dir=%s/tmp", acctdir);
    ADD_D("session.save_path=%s/sessions", acctdir);
    for (size_t i = 0; i < acct->n_php_admin; i++)
        ADD_D("%s=%s", acct->php_admin[i].key, acct->php_admin[i].value);
    for (size_t i = 0; i < acct->n_php_value; i++)
        if (!has_admin(acct, acct->php_value[i].key))
            ADD_D("%s=%s", acct->php_value[i].key, acct->php_value[i].value);
    /* the account's extensions, in extensions_allowed's order */
    for (size_t i = 0; i < cfg->n_extensions_allowed; i++) {
        const char *e = cfg->extensions_allowed[i];
        int zend = strncmp(e, "zend:", 5) == 0;
        for (size_t j = 0; j < acct->n_extensions; j++)
            if (strcmp(acct->extensions[j], zend ? e + 5 : e) == 0)
                ADD_D("%s=%s", zend ? "zend_extension" : "extension",
                      acct->extensions[j]);
    }
#undef ADD_D
    for (int i = 0; i < argc; i++)
        ok &= (v[n++] = strdup(args[i])) != NULL;
    if (!ok) {
        fpm_php_argv_free(v);
        wlf_fail(err, "php", "out of memory");
        return NULL;
    }
    return v;
}
