/* libFuzzer target: the account file loader and writer (wlf_config). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "confwrite.h"
#include "wlf_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *global_conf =
    "httpd_group = \"www-data\";\n"
    "paths = { accounts = \"/nonexistent/a\"; sockets = \"/nonexistent/r\";"
    " state = \"/nonexistent/s\"; logs = \"/nonexistent/l\"; };\n"
    "php = { default = \"8.2\"; versions = ( { version = \"8.2\"; "
    "fpm = \"/usr/sbin/php-fpm8.2\"; } ); };\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static wlf_config cfg;
    static int loaded;
    wlf_account acct, again;
    wlf_err err;
    char *text, *out, *out2;

    if (!loaded) {
        if (wlf_config_load_string(global_conf, "fuzz", &cfg, &err) != 0)
            abort();
        loaded = 1;
    }
    if (size > 65536)
        return 0;
    text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';

    /* libconfig's @include would read real files: not what we fuzz */
    if (strstr(text, "@include") == NULL &&
        wlf_account_load_string(&cfg, text, "alice", &acct, &err) == 0) {
        /* anything that loads must render and load back identically */
        out = wlf_account_render(&acct);
        if (out == NULL ||
            wlf_account_load_string(&cfg, out, "alice", &again, &err) != 0)
            abort();
        out2 = wlf_account_render(&again);
        if (out2 == NULL || strcmp(out, out2) != 0)
            abort();
        free(out);
        free(out2);
        wlf_account_free(&again);
        wlf_account_free(&acct);
    }
    /* the global config parser too */
    {
        wlf_config c;
        if (strstr(text, "@include") == NULL &&
            wlf_config_load_string(text, "fuzz", &c, &err) == 0) {
            char *r = wlf_config_render(&c);
            wlf_config again_cfg;
            if (r == NULL ||
                wlf_config_load_string(r, "again", &again_cfg, &err) != 0)
                abort();
            wlf_config_free(&again_cfg);
            free(r);
            wlf_config_free(&c);
        }
    }
    free(text);
    return 0;
}
