/*
 * confwrite.c - wlfcgi.conf and account files as libconfig text.
 */
#include "confwrite.h"

#include <stdio.h>
#include <stdlib.h>

#include "wlf_buf.h"
#include "wlf_size.h"

/* libconfig string literal; values were validated, but escape anyway */
static void put_quoted(wlf_buf *b, const char *s)
{
    wlf_buf_append(b, "\"", 1);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            wlf_buf_append(b, "\\", 1);
        wlf_buf_append(b, s, 1);
    }
    wlf_buf_append(b, "\"", 1);
}

/* One entry of a list: `{ k1 = "v1"; k2 = "v2"; }`, a comma unless last */
static void put_entry(wlf_buf *b, const char *indent, const char *k1,
                      const char *v1, const char *k2, const char *v2,
                      int last)
{
    wlf_buf_printf(b, "%s{ %s = ", indent, k1);
    put_quoted(b, v1);
    wlf_buf_printf(b, "; %s = ", k2);
    put_quoted(b, v2);
    wlf_buf_printf(b, "; }%s\n", last ? "" : ",");
}

/* name = [ "a", "b" ]; one string a line */
static void put_list(wlf_buf *b, const char *name, char *const *v, size_t n)
{
    wlf_buf_printf(b, "%s = [%s", name, n ? "\n" : "");
    for (size_t i = 0; i < n; i++) {
        wlf_buf_printf(b, "  ");
        put_quoted(b, v[i]);
        wlf_buf_printf(b, "%s\n", i + 1 < n ? "," : "");
    }
    wlf_buf_printf(b, "];\n");
}

/* name = ( { name = "..."; value = "..."; }, ... ); if there are any */
static void put_pairs(wlf_buf *b, const char *name, const wlf_php_admin *v,
                      size_t n)
{
    if (n == 0)
        return;
    wlf_buf_printf(b, "%s = (\n", name);
    for (size_t i = 0; i < n; i++)
        put_entry(b, "  ", "name", v[i].key, "value", v[i].value, i + 1 == n);
    wlf_buf_printf(b, ");\n");
}

char *wlf_config_render(const wlf_config *cfg)
{
    wlf_buf b = { 0 };
    char v[64];

    wlf_buf_printf(&b, "# wlfcgi global configuration (libconfig syntax).\n"
                   "# Read by fpmctl and mod_wlfcgi. See fpmctl(8) and "
                   "docs/admin-guide.md.\n\n");
    wlf_buf_printf(&b, "# how instances run: \"systemd\" (wlfcgi-fpm@NAME.x "
                   "units) or \"direct\"\nservice = \"%s\";\n",
                   wlf_service_name(cfg->service));
    wlf_buf_printf(&b, "# group httpd runs as: owns every account's socket\n"
                   "httpd_group = ");
    put_quoted(&b, cfg->httpd_group);
    wlf_buf_printf(&b, ";\n# accounts may not run as a uid below this\n"
                   "min_uid = %lld;\n", cfg->min_uid);
    wlf_buf_printf(&b, "# seconds a second fpmctl waits for the lock\n"
                   "lock_timeout = %lld;\n", cfg->lock_timeout);
    wlf_buf_printf(&b, "# seconds a started instance has to answer a ping\n"
                   "start_timeout = %lld;\n", cfg->start_timeout);
    wlf_buf_printf(&b, "# ms an old instance keeps serving after a reload "
                   "switched to the new one\ndrain_time = %lld;\n",
                   cfg->drain_time);
    wlf_buf_printf(&b, "# slowest upload rate (bytes/s) that must not be cut "
                   "off by timeouts\nupload_min_rate = \"%s\";\n",
                   wlf_size_format(cfg->upload_min_rate, v, sizeof(v)));
    wlf_buf_printf(&b, "# resource limits (cpu, memory, tasks, io_weight): "
                   "the group under each cgroup\n# hierarchy (direct) or the "
                   "parent slice NAME.slice (systemd) of the accounts\n"
                   "cgroup_subtree = ");
    put_quoted(&b, cfg->cgroup_subtree ? cfg->cgroup_subtree : "wlfcgi");
    wlf_buf_printf(&b, ";\n");
    wlf_buf_printf(&b, "# on-demand masters that may run at once (0: no "
                   "limit); at the cap the\n# least recently used idle one "
                   "is stopped first\nmax_running = %lld;\n\n",
                   cfg->max_running);
    wlf_buf_printf(&b, "paths = {\n  accounts = ");
    put_quoted(&b, cfg->accounts_dir);
    wlf_buf_printf(&b, ";   # one NAME.conf per account\n  sockets  = ");
    put_quoted(&b, cfg->socket_dir);
    wlf_buf_printf(&b, ";   # NAME.sock for httpd\n  state    = ");
    put_quoted(&b, cfg->state_dir);
    wlf_buf_printf(&b, ";   # generated FPM files, per-account tmp dirs\n"
                   "  logs     = ");
    put_quoted(&b, cfg->log_dir);
    wlf_buf_printf(&b, ";\n  units    = ");
    put_quoted(&b, cfg->unit_dir ? cfg->unit_dir : "/etc/systemd/system");
    wlf_buf_printf(&b, ";   # systemd: generated account slices and "
              "drop-ins\n};\n\nphp = {\n  default = ");
    put_quoted(&b, cfg->php_default);
    wlf_buf_printf(&b, ";\n  versions = (\n");
    for (size_t i = 0; i < cfg->n_php_versions; i++) {
        const wlf_php_version *pv = &cfg->php_versions[i];
        wlf_buf_printf(&b, "    { version = ");
        put_quoted(&b, pv->version);
        wlf_buf_printf(&b, "; fpm = ");
        put_quoted(&b, pv->fpm);
        wlf_buf_printf(&b, ";\n      cli = ");
        put_quoted(&b, pv->cli);
        wlf_buf_printf(&b, "; }%s\n", i + 1 == cfg->n_php_versions ? ""
                                                                     : ",");
    }
    wlf_buf_printf(&b, "  );\n};\n\n# defaults for every account; "
                   "`fpmctl set NAME KEY=VALUE` overrides them\n"
                   "defaults = {\n");
    for (int i = 0; i < WLF_S_COUNT; i++) {
        const wlf_setting_def *d = &wlf_setting_defs[i];
        if (d->type == WLF_T_STRING)
            continue;
        wlf_buf_printf(&b, "  # %s\n  %s = ", d->doc, d->key);
        wlf_setting_format(&cfg->defaults, i, v, sizeof(v));
        if (d->type == WLF_T_SIZE || d->type == WLF_T_CHOICE ||
            d->type == WLF_T_PERCENT)
            wlf_buf_printf(&b, "\"%s\";\n", v);
        else
            wlf_buf_printf(&b, "%s;\n", v);
    }
    wlf_buf_printf(&b, "};\n\n# ini settings "
                   "`fpmctl set NAME php_admin.KEY=VALUE` may set\n");
    put_list(&b, "php_admin_allowed", cfg->php_admin_allowed,
             cfg->n_php_admin_allowed);
    wlf_buf_printf(&b, "\n# ini settings `fpmctl set NAME "
                   "php_value.KEY=VALUE` may set (defaults the\n# "
                   "customer's .user.ini may still change)\n");
    put_list(&b, "php_value_allowed", cfg->php_value_allowed,
             cfg->n_php_value_allowed);
    wlf_buf_printf(&b, "\n# extensions `fpmctl set NAME extensions=...` may "
                   "load for one account, in\n# this order (\"zend:NAME\" "
                   "for a zend_extension); disable them in the\n# "
                   "distribution's own ini files (phpdismod -s fpm NAME)\n");
    put_list(&b, "extensions_allowed", cfg->extensions_allowed,
             cfg->n_extensions_allowed);
    return wlf_buf_finish(&b);
}

char *wlf_account_render(const wlf_account *acct)
{
    wlf_buf b = { 0 };
    char v[64];

    wlf_buf_printf(&b, "# wlfcgi account %s. Managed by fpmctl: change it "
                   "with `fpmctl set`.\n", acct->name);
    wlf_buf_printf(&b, "name = \"%s\";\nuser = ", acct->name);
    put_quoted(&b, acct->user ? acct->user : "");
    wlf_buf_printf(&b, ";\ngroup = ");
    put_quoted(&b, acct->group ? acct->group : "");
    wlf_buf_printf(&b, ";\nhome = ");
    put_quoted(&b, acct->home ? acct->home : "");
    wlf_buf_printf(&b, ";\ndomains = [");
    for (size_t i = 0; i < acct->n_domains; i++) {
        wlf_buf_printf(&b, "%s", i ? ", " : " ");
        put_quoted(&b, acct->domains[i]);
    }
    wlf_buf_printf(&b, "%s];\n", acct->n_domains ? " " : "");
    for (int i = 0; i < WLF_S_COUNT; i++) {
        if (!acct->settings.is_set[i])
            continue;
        wlf_setting_format(&acct->settings, i, v, sizeof(v));
        if (wlf_setting_defs[i].type == WLF_T_INT ||
            wlf_setting_defs[i].type == WLF_T_BOOL)
            wlf_buf_printf(&b, "%s = %s;\n", wlf_setting_defs[i].key, v);
        else
            wlf_buf_printf(&b, "%s = \"%s\";\n", wlf_setting_defs[i].key, v);
    }
    put_pairs(&b, "php_admin", acct->php_admin, acct->n_php_admin);
    put_pairs(&b, "php_value", acct->php_value, acct->n_php_value);
    put_pairs(&b, "env", acct->env, acct->n_env);
    if (acct->n_extensions)
        put_list(&b, "extensions", acct->extensions, acct->n_extensions);
    if (acct->n_script_exts)
        put_list(&b, "script_extensions", acct->script_exts,
                 acct->n_script_exts);
    if (wlf_account_is_suspended(acct)) {
        wlf_buf_printf(&b, "# fpmctl suspend: no PHP runs, the sites answer "
                       "503; fpmctl resume lifts it\nsuspended = { since = ");
        put_quoted(&b, acct->suspended_since ? acct->suspended_since : "");
        wlf_buf_printf(&b, "; reason = ");
        put_quoted(&b, acct->suspended_reason ? acct->suspended_reason : "");
        wlf_buf_printf(&b, "; };\n");
    }
    if (acct->n_domain_php) {
        wlf_buf_printf(&b, "# domains with a PHP version of their own "
                       "(fpmctl set NAME php@DOMAIN=VERSION)\n"
                       "domain_php = (\n");
        for (size_t i = 0; i < acct->n_domain_php; i++)
            put_entry(&b, "  ", "domain", acct->domain_php[i].domain, "php",
                      acct->domain_php[i].php,
                      i + 1 == acct->n_domain_php);
        wlf_buf_printf(&b, ");\n");
    }
    return wlf_buf_finish(&b);
}
