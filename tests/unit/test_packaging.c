/* The global configuration the RPM installs (rpm/wlfcgi.conf) must load
 * with the shared loader and be exactly what `fpmctl init --service
 * systemd` writes on a RHEL-family host: production paths, httpd group
 * "apache", the distribution's /usr/sbin/php-fpm, builtin defaults. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "confwrite.h"
#include "wlf_config.h"

#ifndef WLF_SRCDIR
#define WLF_SRCDIR "."
#endif

static const char *packaged_conf = WLF_SRCDIR "/rpm/wlfcgi.conf";

static void test_packaged_config_loads(void **state)
{
    wlf_config cfg;
    wlf_err err;
    char buf[64];

    (void)state;
    if (wlf_config_load(packaged_conf, &cfg, &err) < 0)
        fail_msg("%s: %s: %s", packaged_conf, err.field, err.msg);
    assert_int_equal(cfg.service, WLF_SERVICE_SYSTEMD);
    assert_string_equal(cfg.httpd_group, "apache");
    assert_string_equal(cfg.accounts_dir, "/etc/wlfcgi/accounts.d");
    assert_string_equal(cfg.socket_dir, "/run/wlfcgi");
    assert_string_equal(cfg.state_dir, "/var/lib/wlfcgi");
    assert_string_equal(cfg.log_dir, "/var/log/wlfcgi");
    assert_int_equal(cfg.n_php_versions, 1);
    assert_string_equal(cfg.php_default, "system");
    assert_string_equal(wlf_config_php(&cfg, "system")->fpm,
                        "/usr/sbin/php-fpm");
    /* nothing of ours may land where the system php-fpm looks */
    assert_null(strstr(cfg.accounts_dir, "php-fpm.d"));
    assert_null(strstr(cfg.state_dir, "php-fpm.d"));
    assert_string_equal(wlf_setting_format(&cfg.defaults, WLF_S_MAX_UPLOAD,
                                           buf, sizeof(buf)),
                        wlf_setting_defs[WLF_S_MAX_UPLOAD].builtin);
    wlf_config_free(&cfg);
}

/* Byte for byte what `fpmctl init --service systemd` writes on a RHEL
 * host (group apache, only /usr/sbin/php-fpm), so that init run after the
 * RPM finds nothing to change, and a setting added to the loader shows up
 * here. On a mismatch the expected text is left in
 * build/wlfcgi.conf.expected: review it and copy it to rpm/wlfcgi.conf. */
static void test_packaged_config_is_what_init_writes(void **state)
{
    wlf_config fresh;
    wlf_err err;
    char *want, *have = NULL;
    size_t len = 0;
    FILE *f;

    (void)state;
    assert_int_equal(wlf_config_init_defaults(&fresh, "", WLF_SERVICE_SYSTEMD,
                                              "apache", &err), 0);
    /* init probes this host's php-fpm binaries; RHEL has one */
    for (size_t i = 0; i < fresh.n_php_versions; i++) {
        free(fresh.php_versions[i].version);
        free(fresh.php_versions[i].fpm);
        free(fresh.php_versions[i].cli);
    }
    fresh.n_php_versions = 1;
    fresh.php_versions[0].version = strdup("system");
    fresh.php_versions[0].fpm = strdup("/usr/sbin/php-fpm");
    fresh.php_versions[0].cli = strdup("/usr/bin/php");
    free(fresh.php_default);
    fresh.php_default = strdup("system");
    wlf_settings_unset(&fresh.defaults, WLF_S_PHP);
    assert_int_equal(wlf_setting_parse(&fresh.defaults, WLF_S_PHP, "system",
                                       &err), 0);
    want = wlf_config_render(&fresh);
    assert_non_null(want);

    f = fopen(packaged_conf, "r");
    assert_non_null(f);
    assert_int_not_equal(getdelim(&have, &len, '\0', f), -1);
    fclose(f);
    if (strcmp(have, want) != 0) {
        FILE *out = fopen(WLF_SRCDIR "/build/wlfcgi.conf.expected", "w");
        if (out) {
            fputs(want, out);
            fclose(out);
        }
        fail_msg("%s differs from what `fpmctl init --service systemd` "
                 "writes on RHEL; see build/wlfcgi.conf.expected",
                 packaged_conf);
    }
    free(have);
    free(want);
    wlf_config_free(&fresh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_packaged_config_loads),
        cmocka_unit_test(test_packaged_config_is_what_init_writes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
