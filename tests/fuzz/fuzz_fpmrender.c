/* libFuzzer target: `fpmctl set` items and the php-fpm.conf renderer.
 * Input: KEY=VALUE items, one per line. Whatever `set` accepts and the
 * account check lets through must render, and no value may leave its
 * line: every line is a comment, one of the two sections, or
 * `key = value` with quotes only around the whole value. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"
#include "setkeys.h"
#include "wlf_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *global_conf =
    "httpd_group = \"www-data\";\n"
    "paths = { accounts = \"/nonexistent/a\"; sockets = \"/nonexistent/r\";"
    " state = \"/nonexistent/s\"; logs = \"/nonexistent/l\"; };\n"
    "php = { default = \"8.2\"; versions = ( { version = \"8.2\"; "
    "fpm = \"/usr/sbin/php-fpm8.2\"; }, { version = \"8.3\"; "
    "fpm = \"/usr/sbin/php-fpm8.3\"; } ); };\n";

static void check_line(const char *line, size_t len)
{
    const char *eq, *q;
    size_t quotes = 0;

    if (len == 0 || line[0] == ';')
        return;
    if (line[0] == '[') {
        if (!((len == 8 && memcmp(line, "[global]", 8) == 0) ||
              (len == 7 && memcmp(line, "[alice]", 7) == 0)))
            abort();
        return;
    }
    eq = memchr(line, '=', len);
    if (eq == NULL || eq == line)
        abort();
    for (q = eq; q < line + len; q++)
        if (*q == '"')
            quotes++;
    /* "key = value" or key = "value": nothing after the closing quote */
    if (quotes != 0 && (quotes != 2 || eq[1] != ' ' || eq[2] != '"' ||
                        line[len - 1] != '"'))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static wlf_config cfg;
    static int loaded;
    wlf_account acct;
    wlf_err err;
    fpm_rendered r;
    char *text, *item, *p;

    if (!loaded) {
        if (wlf_config_load_string(global_conf, "fuzz", &cfg, &err) != 0)
            abort();
        loaded = 1;
    }
    if (size > 8192)
        return 0;
    text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    wlf_account_init(&acct);
    memcpy(acct.name, "alice", 6);
    acct.user = strdup("alice");
    acct.group = strdup("alice");
    acct.home = strdup("/home/alice");
    for (p = text; (item = strsep(&p, "\n")) != NULL;)
        if (*item)
            fpm_set_apply(&cfg, &acct, item, &err);
    if (wlf_account_check(&cfg, &acct, &err) == 0) {
        char *diff;
        if (fpm_render_all(&cfg, &acct, 'b', &r, &err) != 0)
            abort();
        for (const char *l = r.conf; *l;) {
            const char *eol = strchr(l, '\n');
            size_t n = eol ? (size_t)(eol - l) : strlen(l);
            check_line(l, n);
            l += n + (eol ? 1 : 0);
        }
        fpm_rendered_free(&r);
        diff = fpm_account_diff(&cfg, &acct, &acct);
        if (diff == NULL || diff[0] != '\0')
            abort();
        free(diff);
    }
    wlf_account_free(&acct);
    free(text);
    return 0;
}
