/*
 * confwrite.c - wlfcgi.conf and account files as libconfig text.
 */
#include "confwrite.h"

#include <stdio.h>
#include <stdlib.h>

#include "sbuf.h"
#include "wlf_size.h"

/* libconfig string literal; values were validated, but escape anyway */
static void sb_quoted(sbuf *b, const char *s)
{
    sb_printf(b, "\"");
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            sb_printf(b, "\\%c", *s);
        else
            sb_printf(b, "%c", *s);
    }
    sb_printf(b, "\"");
}

char *wlf_config_render(const wlf_config *cfg)
{
    sbuf b = { 0 };
    char v[64];

    sb_printf(&b, "# wlfcgi global configuration (libconfig syntax).\n"
              "# Read by fpmctl and mod_wlfcgi. See fpmctl(8) and "
              "docs/admin-guide.md.\n\n");
    sb_printf(&b, "# how instances run: \"systemd\" (wlfcgi-fpm@NAME.x units)"
              " or \"direct\"\nservice = \"%s\";\n",
              wlf_service_name(cfg->service));
    sb_printf(&b, "# group httpd runs as: owns every account's socket\n"
              "httpd_group = ");
    sb_quoted(&b, cfg->httpd_group);
    sb_printf(&b, ";\n# accounts may not run as a uid below this\n"
              "min_uid = %lld;\n", cfg->min_uid);
    sb_printf(&b, "# seconds a second fpmctl waits for the lock\n"
              "lock_timeout = %lld;\n", cfg->lock_timeout);
    sb_printf(&b, "# seconds a started instance has to answer a ping\n"
              "start_timeout = %lld;\n", cfg->start_timeout);
    sb_printf(&b, "# ms an old instance keeps serving after a reload "
              "switched to the new one\ndrain_time = %lld;\n",
              cfg->drain_time);
    sb_printf(&b, "# slowest upload rate (bytes/s) that must not be cut "
              "off by timeouts\nupload_min_rate = \"%s\";\n\n",
              wlf_size_format(cfg->upload_min_rate, v, sizeof(v)));
    sb_printf(&b, "paths = {\n  accounts = ");
    sb_quoted(&b, cfg->accounts_dir);
    sb_printf(&b, ";   # one NAME.conf per account\n  sockets  = ");
    sb_quoted(&b, cfg->socket_dir);
    sb_printf(&b, ";   # NAME.sock for httpd\n  state    = ");
    sb_quoted(&b, cfg->state_dir);
    sb_printf(&b, ";   # generated FPM files, per-account tmp dirs\n"
              "  logs     = ");
    sb_quoted(&b, cfg->log_dir);
    sb_printf(&b, ";\n};\n\nphp = {\n  default = ");
    sb_quoted(&b, cfg->php_default);
    sb_printf(&b, ";\n  versions = (\n");
    for (size_t i = 0; i < cfg->n_php_versions; i++) {
        sb_printf(&b, "    { version = ");
        sb_quoted(&b, cfg->php_versions[i].version);
        sb_printf(&b, "; fpm = ");
        sb_quoted(&b, cfg->php_versions[i].fpm);
        sb_printf(&b, "; }%s\n", i + 1 < cfg->n_php_versions ? "," : "");
    }
    sb_printf(&b, "  );\n};\n\n# defaults for every account; "
              "`fpmctl set NAME KEY=VALUE` overrides them\ndefaults = {\n");
    for (int i = 0; i < WLF_S_COUNT; i++) {
        const wlf_setting_def *d = &wlf_setting_defs[i];
        if (d->type == WLF_T_STRING)
            continue;
        sb_printf(&b, "  # %s\n  %s = ", d->doc, d->key);
        wlf_setting_format(&cfg->defaults, i, v, sizeof(v));
        if (d->type == WLF_T_SIZE || d->type == WLF_T_CHOICE)
            sb_printf(&b, "\"%s\";\n", v);
        else
            sb_printf(&b, "%s;\n", v);
    }
    sb_printf(&b, "};\n\n# ini settings `fpmctl set NAME php_admin.KEY=VALUE`"
              " may set\nphp_admin_allowed = [\n");
    for (size_t i = 0; i < cfg->n_php_admin_allowed; i++) {
        sb_printf(&b, "  ");
        sb_quoted(&b, cfg->php_admin_allowed[i]);
        sb_printf(&b, "%s\n", i + 1 < cfg->n_php_admin_allowed ? "," : "");
    }
    sb_printf(&b, "];\n");
    return sb_finish(&b);
}

char *wlf_account_render(const wlf_account *acct)
{
    sbuf b = { 0 };
    char v[64];

    sb_printf(&b, "# wlfcgi account %s. Managed by fpmctl: change it with "
              "`fpmctl set`.\n", acct->name);
    sb_printf(&b, "name = \"%s\";\nuser = ", acct->name);
    sb_quoted(&b, acct->user ? acct->user : "");
    sb_printf(&b, ";\ngroup = ");
    sb_quoted(&b, acct->group ? acct->group : "");
    sb_printf(&b, ";\nhome = ");
    sb_quoted(&b, acct->home ? acct->home : "");
    sb_printf(&b, ";\ndomains = [");
    for (size_t i = 0; i < acct->n_domains; i++) {
        sb_printf(&b, "%s", i ? ", " : " ");
        sb_quoted(&b, acct->domains[i]);
    }
    sb_printf(&b, "%s];\n", acct->n_domains ? " " : "");
    for (int i = 0; i < WLF_S_COUNT; i++) {
        if (!acct->settings.is_set[i])
            continue;
        wlf_setting_format(&acct->settings, i, v, sizeof(v));
        if (wlf_setting_defs[i].type == WLF_T_INT ||
            wlf_setting_defs[i].type == WLF_T_BOOL)
            sb_printf(&b, "%s = %s;\n", wlf_setting_defs[i].key, v);
        else
            sb_printf(&b, "%s = \"%s\";\n", wlf_setting_defs[i].key, v);
    }
    if (acct->n_php_admin) {
        sb_printf(&b, "php_admin = (\n");
        for (size_t i = 0; i < acct->n_php_admin; i++) {
            sb_printf(&b, "  { name = ");
            sb_quoted(&b, acct->php_admin[i].key);
            sb_printf(&b, "; value = ");
            sb_quoted(&b, acct->php_admin[i].value);
            sb_printf(&b, "; }%s\n", i + 1 < acct->n_php_admin ? "," : "");
        }
        sb_printf(&b, ");\n");
    }
    return sb_finish(&b);
}
