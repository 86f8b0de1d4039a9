/* The global configuration the RPM installs (rpm/wlfcgi.conf) must load
 * with the shared loader and say exactly what `fpmctl init --service
 * systemd` would on a RHEL-family host: production paths, httpd group
 * "apache", the distribution's /usr/sbin/php-fpm, builtin defaults. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Same settings as a freshly initialised production config: compare the
 * canonical renderings, so any setting added to the loader later and not
 * to the packaged file (or the other way round) shows up here. */
static void test_packaged_config_is_init_default(void **state)
{
    wlf_config loaded, fresh;
    wlf_err err;
    char *a, *b;

    (void)state;
    if (wlf_config_load(packaged_conf, &loaded, &err) < 0)
        fail_msg("%s: %s: %s", packaged_conf, err.field, err.msg);
    assert_int_equal(wlf_config_init_defaults(&fresh, "", WLF_SERVICE_SYSTEMD,
                                              "apache", &err), 0);
    /* init probes this host's php-fpm binaries; RHEL has one */
    for (size_t i = 0; i < fresh.n_php_versions; i++) {
        free(fresh.php_versions[i].version);
        free(fresh.php_versions[i].fpm);
    }
    fresh.n_php_versions = 1;
    fresh.php_versions[0].version = strdup("system");
    fresh.php_versions[0].fpm = strdup("/usr/sbin/php-fpm");
    free(fresh.php_default);
    fresh.php_default = strdup("system");
    wlf_settings_unset(&fresh.defaults, WLF_S_PHP);
    assert_int_equal(wlf_setting_parse(&fresh.defaults, WLF_S_PHP, "system",
                                       &err), 0);

    a = wlf_config_render(&loaded);
    b = wlf_config_render(&fresh);
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(a, b);
    free(a);
    free(b);
    wlf_config_free(&loaded);
    wlf_config_free(&fresh);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_packaged_config_loads),
        cmocka_unit_test(test_packaged_config_is_init_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
