/* Unit tests for fpmctl's pure parts: FPM config rendering (and that
 * injected values cannot break out), timeout sizing, argument parsing,
 * `set` key parsing, the JSON writer and the parsers that find the
 * distribution's own php-fpm pools and PHP handlers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "json.h"
#include "render.h"
#include "setkeys.h"
#include "sidedoor.h"
#include "wlf_config.h"

static const char *conf_text =
    "service = \"direct\";\n"
    "httpd_group = \"www-data\";\n"
    "upload_min_rate = \"1M\";\n"
    "paths = { accounts = \"/srv/w/etc/accounts.d\"; sockets = \"/srv/w/run\";"
    " state = \"/srv/w/lib\"; logs = \"/srv/w/log\"; };\n"
    "php = { default = \"8.2\"; versions = ( { version = \"8.2\"; "
    "fpm = \"/usr/sbin/php-fpm8.2\"; }, { version = \"8.3\"; "
    "fpm = \"/usr/sbin/php-fpm8.3\"; } ); };\n";

static void load_cfg(wlf_config *cfg)
{
    wlf_err e;

    if (wlf_config_load_string(conf_text, "t", cfg, &e) != 0)
        fail_msg("config: %s: %s", e.field, e.msg);
}

static void make_account(wlf_account *a)
{
    wlf_account_init(a);
    snprintf(a->name, sizeof(a->name), "alice");
    a->user = strdup("alice");
    a->group = strdup("alice");
    a->home = strdup("/home/alice");
}

static int has_line(const char *text, const char *line)
{
    size_t n = strlen(line);

    for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
        if ((p == text || p[-1] == '\n') && (p[n] == '\n' || p[n] == '\0'))
            return 1;
    return 0;
}

#define assert_line(text, line) \
    do { if (!has_line(text, line)) fail_msg("missing line: %s\n---\n%s", \
                                             line, text); } while (0)

static void test_timeouts(void **state)
{
    wlf_config cfg;
    wlf_account a;
    wlf_settings eff;
    fpm_timeouts t;
    wlf_err e;

    (void)state;
    load_cfg(&cfg);
    make_account(&a);
    assert_int_equal(wlf_account_effective(&cfg, &a, &eff), 0);
    /* defaults: max_upload 8M at 1M/s -> 8 s; max_execution_time 30 */
    fpm_compute_timeouts(&eff, cfg.upload_min_rate, &t);
    assert_int_equal(t.upload_time, 8);
    assert_int_equal(t.max_input_time, 68);
    assert_int_equal(t.request_terminate_timeout, 98);
    wlf_settings_free(&eff);

    /* upload_ceiling 2G: a 1 MB/s client needs 2048 s, not cut off */
    assert_int_equal(wlf_setting_parse(&a.settings, WLF_S_UPLOAD_CEILING,
                                       "2G", &e), 0);
    assert_int_equal(wlf_account_effective(&cfg, &a, &eff), 0);
    fpm_compute_timeouts(&eff, cfg.upload_min_rate, &t);
    assert_int_equal(t.upload_time, 2048);
    assert_int_equal(t.request_terminate_timeout, 30 + 2048 + 60);
    /* a rate that does not divide: rounded up */
    fpm_compute_timeouts(&eff, 3 * 1024 * 1024, &t);
    assert_int_equal(t.upload_time, 683);
    wlf_settings_free(&eff);

    /* max_upload above the ceiling: the ceiling follows max_upload */
    assert_int_equal(wlf_setting_parse(&a.settings, WLF_S_MAX_UPLOAD, "4G",
                                       &e), 0);
    assert_int_equal(wlf_account_effective(&cfg, &a, &eff), 0);
    fpm_compute_timeouts(&eff, cfg.upload_min_rate, &t);
    assert_int_equal(t.upload_time, 4096);
    wlf_settings_free(&eff);
    wlf_account_free(&a);
    wlf_config_free(&cfg);
}

static void test_render_conf(void **state)
{
    wlf_config cfg;
    wlf_account a;
    fpm_rendered r;
    wlf_err e;

    (void)state;
    load_cfg(&cfg);
    make_account(&a);
    assert_int_equal(wlf_setting_parse(&a.settings, WLF_S_MAX_CHILDREN, "3",
                                       &e), 0);
    assert_int_equal(wlf_setting_parse(&a.settings, WLF_S_MAX_UPLOAD, "64M",
                                       &e), 0);
    assert_int_equal(wlf_setting_parse(&a.settings, WLF_S_PHP, "8.3", &e), 0);
    assert_int_equal(wlf_account_set_php_admin(&a, "memory_limit", "256M"),
                     0);
    assert_int_equal(fpm_render_all(&cfg, &a, 'b', &r, &e), 0);

    assert_line(r.conf, "[global]");
    assert_line(r.conf, "pid = \"/srv/w/run/alice.b.pid\"");
    assert_line(r.conf, "error_log = \"/srv/w/log/alice/fpm.log\"");
    assert_line(r.conf, "daemonize = yes");
    assert_line(r.conf, "process_control_timeout = 154s");
    assert_line(r.conf, "[alice]");
    assert_line(r.conf, "user = \"alice\"");
    assert_line(r.conf, "group = \"alice\"");
    assert_line(r.conf, "listen = \"/srv/w/run/alice.b.sock\"");
    /* root's, not the account's: its own PHP must not connect */
    assert_line(r.conf, "listen.owner = \"root\"");
    assert_line(r.conf, "listen.group = \"www-data\"");
    assert_line(r.conf, "listen.mode = 0660");
    assert_line(r.conf, "pm = ondemand");
    assert_line(r.conf, "pm.max_children = 3");
    assert_line(r.conf, "pm.process_idle_timeout = 10s");
    assert_line(r.conf, "pm.max_requests = 0");
    assert_line(r.conf, "pm.status_path = " WLF_FPM_STATUS_PATH);
    assert_line(r.conf, "ping.path = " WLF_FPM_PING_PATH);
    assert_line(r.conf, "security.limit_extensions = .php");
    assert_line(r.conf, "clear_env = yes");
    assert_line(r.conf, "env[TMPDIR] = \"/srv/w/lib/accounts/alice/tmp\"");
    /* 30 + ceil(64M / 1M) + 60 */
    assert_line(r.conf, "request_terminate_timeout = 154s");
    assert_line(r.conf, "php_admin_value[open_basedir] = "
                "\"/home/alice/:/srv/w/lib/accounts/alice/\"");
    assert_line(r.conf, "php_admin_value[upload_tmp_dir] = "
                "\"/srv/w/lib/accounts/alice/upload\"");
    assert_line(r.conf, "php_admin_value[sys_temp_dir] = "
                "\"/srv/w/lib/accounts/alice/tmp\"");
    assert_line(r.conf, "php_admin_value[session.save_path] = "
                "\"/srv/w/lib/accounts/alice/sessions\"");
    assert_line(r.conf, "php_admin_value[error_log] = "
                "\"/srv/w/log/alice/php-error.log\"");
    assert_line(r.conf, "php_admin_value[log_errors] = \"1\"");
    assert_line(r.conf, "php_admin_value[post_max_size] = \"67108864\"");
    assert_line(r.conf, "php_admin_value[upload_max_filesize] = \"67108864\"");
    assert_line(r.conf, "php_admin_value[max_execution_time] = \"30\"");
    assert_line(r.conf, "php_admin_value[max_input_time] = \"124\"");
    assert_line(r.conf, "php_admin_value[memory_limit] = \"256M\"");
    assert_string_equal(r.bin, "/usr/sbin/php-fpm8.3");

    /* the cache ini: sizes in MiB (opcache) and M (APCu) */
    assert_line(r.ini, "opcache.enable=1");
    assert_line(r.ini, "opcache.memory_consumption=128");
    assert_line(r.ini, "opcache.interned_strings_buffer=8");
    assert_line(r.ini, "opcache.max_accelerated_files=10000");
    assert_line(r.ini, "opcache.validate_timestamps=1");
    assert_line(r.ini, "opcache.revalidate_freq=2");
    assert_line(r.ini, "apc.enabled=1");
    assert_line(r.ini, "apc.shm_size=32M");
    fpm_rendered_free(&r);

    /* rendering is deterministic: what rebuild compares */
    {
        fpm_rendered r2;
        assert_int_equal(fpm_render_all(&cfg, &a, 'b', &r, &e), 0);
        assert_int_equal(fpm_render_all(&cfg, &a, 'b', &r2, &e), 0);
        assert_string_equal(r.conf, r2.conf);
        fpm_rendered_free(&r2);
        fpm_rendered_free(&r);
    }
    /* slot a differs only in its socket and pid file */
    assert_int_equal(fpm_render_all(&cfg, &a, 'a', &r, &e), 0);
    assert_line(r.conf, "listen = \"/srv/w/run/alice.a.sock\"");
    fpm_rendered_free(&r);
    assert_int_equal(fpm_render_all(&cfg, &a, 'c', &r, &e), -1);

    /* an admin's php_admin.open_basedir replaces ours, not doubles it */
    assert_int_equal(wlf_account_set_php_admin(&a, "open_basedir",
                                               "/srv/shared"), 0);
    assert_int_equal(fpm_render_all(&cfg, &a, 'a', &r, &e), 0);
    assert_line(r.conf, "php_admin_value[open_basedir] = \"/srv/shared\"");
    assert_null(strstr(r.conf, "/home/alice/:"));
    fpm_rendered_free(&r);

    /* sizes that are not whole MiB round up; booleans as 0/1 */
    assert_int_equal(wlf_setting_parse(&a.settings, WLF_S_APCU_MEMORY,
                                       "1536K", &e), 0);
    assert_int_equal(wlf_setting_parse(&a.settings,
                                       WLF_S_OPCACHE_VALIDATE_TIMESTAMPS,
                                       "off", &e), 0);
    assert_int_equal(fpm_render_all(&cfg, &a, 'a', &r, &e), 0);
    assert_line(r.ini, "apc.shm_size=2M");
    assert_line(r.ini, "opcache.validate_timestamps=0");
    fpm_rendered_free(&r);
    wlf_account_free(&a);
    wlf_config_free(&cfg);
}

/* Values that got past validation still cannot leave their line. */
static void test_render_injection(void **state)
{
    wlf_config cfg;
    wlf_account a;
    fpm_rendered r;
    wlf_err e;
    const char *bad_values[] = {
        "256M\"\nphp_admin_value[open_basedir] = \"/",
        "x\nuser = root",
        "a\\",
        "${HOME}",
        "$pool",
        "a\rb",
        "tab\there",
        NULL
    };

    (void)state;
    load_cfg(&cfg);
    for (int i = 0; bad_values[i]; i++) {
        make_account(&a);
        wlf_account_set_php_admin(&a, "memory_limit", bad_values[i]);
        assert_int_equal(fpm_render_all(&cfg, &a, 'a', &r, &e), -1);
        assert_string_equal(e.field, "php_admin.memory_limit");
        wlf_account_free(&a);
    }
    /* a bad ini key */
    make_account(&a);
    wlf_account_set_php_admin(&a, "x] = 1\nuser", "1");
    assert_int_equal(fpm_render_all(&cfg, &a, 'a', &r, &e), -1);
    wlf_account_free(&a);
    /* user, group and home are quoted and checked as well */
    make_account(&a);
    free(a.user);
    a.user = strdup("alice\"\nuser = \"root");
    assert_int_equal(fpm_render_all(&cfg, &a, 'a', &r, &e), -1);
    assert_string_equal(e.field, "user");
    wlf_account_free(&a);
    make_account(&a);
    free(a.home);
    a.home = strdup("/home/alice:/");
    assert_int_equal(fpm_render_all(&cfg, &a, 'a', &r, &e), -1);
    wlf_account_free(&a);
    make_account(&a);
    snprintf(a.name, sizeof(a.name), "a]\n[x");
    assert_int_equal(fpm_render_all(&cfg, &a, 'a', &r, &e), -1);
    wlf_account_free(&a);
    /* a Samba-style machine account name ending in '$' is fine */
    make_account(&a);
    free(a.user);
    a.user = strdup("host$");
    assert_int_equal(fpm_render_all(&cfg, &a, 'a', &r, &e), 0);
    assert_line(r.conf, "user = \"host$\"");
    fpm_rendered_free(&r);
    wlf_account_free(&a);

    assert_true(fpm_safe_quoted("/srv/a b/c"));
    assert_false(fpm_safe_quoted("a\"b"));
    assert_false(fpm_safe_quoted("a$b"));
    assert_false(fpm_safe_quoted(NULL));
    wlf_config_free(&cfg);
}

static void test_globals(void **state)
{
    fpm_globals g;
    wlf_err e;
    char *v1[] = { "fpmctl", "-c", "/x.conf", "--json", "-q", "show", "a",
                   NULL };
    char *v2[] = { "fpmctl", "--config=/y.conf", "--dry-run", "-v", "list",
                   NULL };
    char *v3[] = { "fpmctl", "-q", "-v", "list", NULL };
    char *v4[] = { "fpmctl", "--bogus", "list", NULL };
    char *v5[] = { "fpmctl", "-c", NULL };
    char *v6[] = { "fpmctl", NULL };

    (void)state;
    assert_int_equal(fpm_globals_parse(7, v1, &g, &e), 0);
    assert_string_equal(g.config, "/x.conf");
    assert_true(g.json);
    assert_int_equal(g.verbosity, -1);
    assert_int_equal(g.command_index, 5);
    assert_int_equal(fpm_globals_parse(5, v2, &g, &e), 0);
    assert_string_equal(g.config, "/y.conf");
    assert_true(g.dry_run);
    assert_int_equal(g.verbosity, 1);
    assert_int_equal(g.command_index, 4);
    assert_int_equal(fpm_globals_parse(4, v3, &g, &e), -1);
    assert_int_equal(fpm_globals_parse(3, v4, &g, &e), -1);
    assert_string_equal(e.field, "--bogus");
    assert_int_equal(fpm_globals_parse(2, v5, &g, &e), -1);
    assert_int_equal(fpm_globals_parse(1, v6, &g, &e), 0);
    assert_int_equal(g.command_index, 1);
}

static void test_globals_extract(void **state)
{
    fpm_globals g;
    wlf_err e;
    char *v[] = { "show", "alice", "--json", "-v", "--", "--json", NULL };
    char *q[] = { "status", "-q", "-v", NULL };
    int n;

    (void)state;
    memset(&g, 0, sizeof(g));
    n = fpm_globals_extract(6, v, &g, &e);
    assert_int_equal(n, 4);
    assert_string_equal(v[1], "alice");
    assert_string_equal(v[2], "--");
    assert_string_equal(v[3], "--json");     /* after "--": an operand */
    assert_true(g.json);
    assert_int_equal(g.verbosity, 1);
    memset(&g, 0, sizeof(g));
    assert_int_equal(fpm_globals_extract(3, q, &g, &e), -1);
}

static void test_args(void **state)
{
    static const fpm_optdef defs[] = {
        { "user", 'u', 1 },
        { "domain", 'd', 1 },
        { "purge", 0, 0 },
        { NULL, 0, 0 }
    };
    fpm_arg out[16];
    size_t n;
    wlf_err e;
    char *v1[] = { "add-account", "alice", "--user", "wlft-a", "-d", "a.ex",
                   "--domain=b.ex", "-dc.ex", "--purge", "--", "-x", NULL };
    char *v2[] = { "x", "--nope", NULL };
    char *v3[] = { "x", "--user", NULL };
    char *v4[] = { "x", "--purge=1", NULL };

    (void)state;
    assert_int_equal(fpm_args_parse(11, v1, defs, out, 16, &n, &e), 0);
    assert_int_equal(n, 7);
    assert_int_equal(out[0].opt, -1);
    assert_string_equal(out[0].value, "alice");
    assert_int_equal(out[1].opt, 0);
    assert_string_equal(out[1].value, "wlft-a");
    assert_string_equal(out[2].value, "a.ex");
    assert_string_equal(out[3].value, "b.ex");
    assert_string_equal(out[4].value, "c.ex");
    assert_int_equal(out[5].opt, 2);
    assert_int_equal(out[6].opt, -1);
    assert_string_equal(out[6].value, "-x");
    assert_int_equal(fpm_args_parse(2, v2, defs, out, 16, &n, &e), -1);
    assert_string_equal(e.field, "--nope");
    assert_int_equal(fpm_args_parse(2, v3, defs, out, 16, &n, &e), -1);
    assert_int_equal(fpm_args_parse(2, v4, defs, out, 16, &n, &e), -1);
    /* more arguments than room */
    assert_int_equal(fpm_args_parse(11, v1, defs, out, 3, &n, &e), -1);
}

static void test_set_keys(void **state)
{
    wlf_config cfg;
    wlf_account a;
    wlf_err e;
    char *diff;
    wlf_account before;

    (void)state;
    load_cfg(&cfg);
    make_account(&a);
    wlf_account_copy(&before, &a);

    assert_int_equal(fpm_set_apply(&cfg, &a, "max_children=3", &e), 0);
    assert_int_equal(a.settings.num[WLF_S_MAX_CHILDREN], 3);
    assert_int_equal(fpm_set_apply(&cfg, &a, "max_upload=2G", &e), 0);
    assert_int_equal(fpm_set_apply(&cfg, &a, "php=8.3", &e), 0);
    assert_int_equal(fpm_set_apply(&cfg, &a, "opcache_validate_timestamps=off",
                                   &e), 0);
    /* off on an on/off setting means false, not "default" */
    assert_true(a.settings.is_set[WLF_S_OPCACHE_VALIDATE_TIMESTAMPS]);
    assert_int_equal(a.settings.num[WLF_S_OPCACHE_VALIDATE_TIMESTAMPS], 0);
    assert_int_equal(fpm_set_apply(&cfg, &a, "domains=A.example, b.example",
                                   &e), 0);
    assert_int_equal(a.n_domains, 2);
    assert_string_equal(a.domains[0], "a.example");
    assert_int_equal(fpm_set_apply(&cfg, &a, "php_admin.memory_limit=256M",
                                   &e), 0);
    assert_int_equal(a.n_php_admin, 1);
    assert_int_equal(fpm_set_apply(&cfg, &a, "home=/srv/alice", &e), 0);
    assert_string_equal(a.home, "/srv/alice");

    diff = fpm_account_diff(&cfg, &before, &a);
    assert_non_null(strstr(diff, "max_children 5 -> 3"));
    assert_non_null(strstr(diff, "max_upload 8M -> 2G"));
    assert_non_null(strstr(diff, "domains (none) -> a.example,b.example"));
    assert_non_null(strstr(diff, "php_admin.memory_limit (unset) -> 256M"));
    assert_non_null(strstr(diff, "home /home/alice -> /srv/alice"));
    free(diff);

    /* back to the defaults */
    assert_int_equal(fpm_set_apply(&cfg, &a, "max_upload=off", &e), 0);
    assert_false(a.settings.is_set[WLF_S_MAX_UPLOAD]);
    assert_int_equal(fpm_set_apply(&cfg, &a, "max_children=default", &e), 0);
    assert_false(a.settings.is_set[WLF_S_MAX_CHILDREN]);
    assert_int_equal(fpm_set_apply(&cfg, &a, "php_admin.memory_limit=", &e),
                     0);
    assert_int_equal(a.n_php_admin, 0);
    assert_int_equal(fpm_set_apply(&cfg, &a, "domains=", &e), 0);
    assert_int_equal(a.n_domains, 0);

    /* every kind of bad item names its field */
    struct { const char *item, *field; } bad[] = {
        { "max_upload=12X", "max_upload" },
        { "max_upload=-1", "max_upload" },
        { "max_upload=99999999999999999999G", "max_upload" },
        { "max_children=0", "max_children" },
        { "max_children=abc", "max_children" },
        { "max_children=", "max_children" },
        { "php=7.0", "php" },
        { "php=../x", "php" },
        { "nosuchkey=1", "nosuchkey" },
        { "user=root", "user" },
        { "group=root", "group" },
        { "php_admin.post_max_size=1G", "php_admin.post_max_size" },
        { "php_admin.memory_limit=1\n2", "php_admin.memory_limit" },
        { "php_admin.memory_limit=\"x\"", "php_admin.memory_limit" },
        { "php_admin.Bad=1", "php_admin.Bad" },
        { "domains=a..b", "domain" },
        { "domains=a.example,a.example", "domain" },
        { "domains=a.example,,b.example", "domains" },
        { "home=relative", "home" },
        { "home=/a/../b", "home" },
        { "home=/a:/b", "home" },
        { "home=/", "home" },
        { "max_children", "set" },
        { "=3", "set" },
        { NULL, NULL }
    };
    for (int i = 0; bad[i].item; i++) {
        if (fpm_set_apply(&cfg, &a, bad[i].item, &e) != -1)
            fail_msg("accepted: %s", bad[i].item);
        if (strcmp(e.field, bad[i].field) != 0)
            fail_msg("%s: field %s, expected %s", bad[i].item, e.field,
                     bad[i].field);
        assert_null(strchr(e.msg, '\n'));
    }
    diff = fpm_account_diff(&cfg, &a, &a);
    assert_string_equal(diff, "");
    free(diff);
    wlf_account_free(&before);
    wlf_account_free(&a);
    wlf_config_free(&cfg);
}

static void test_json(void **state)
{
    jw w;
    char *out;

    (void)state;
    memset(&w, 0, sizeof(w));
    jw_obj(&w);
    jw_kstr(&w, "name", "a\"b\\c\n\x01");
    jw_kint(&w, "n", -5);
    jw_key(&w, "list");
    jw_arr(&w);
    jw_str(&w, "x");
    jw_int(&w, 1);
    jw_null(&w);
    jw_obj(&w);
    jw_obj_end(&w);
    jw_arr_end(&w);
    jw_kbool(&w, "ok", 1);
    jw_kstr(&w, "nothing", NULL);
    jw_kstr(&w, "utf8", "\xc3\xa4");
    jw_obj_end(&w);
    out = jw_finish(&w);
    assert_string_equal(out, "{\"name\":\"a\\\"b\\\\c\\n\\u0001\",\"n\":-5,"
                        "\"list\":[\"x\",1,null,{}],\"ok\":true,"
                        "\"nothing\":null,\"utf8\":\"\xc3\xa4\"}\n");
    free(out);
}

static void test_parse_pools(void **state)
{
    /* Fedora's www.conf, shortened, with what php-fpm also accepts */
    const char *text =
        "; Start a new pool named 'www'.\n"
        "[www]\n"
        "; RPM: apache user chosen to provide access to the same directories"
        " as httpd\n"
        "user = apache\n"
        "; RPM: Keep a group allowed to write in log dir.\n"
        "group = apache ; a comment\n"
        "listen = /run/php-fpm/www.sock\n"
        ";user = nobody\n"
        "[global]\n"
        "user = ignored\n"
        "  [ other ]\n"
        "user=\"wlft-x\"\n"
        "group = 'wlft x'\n"
        "[third]\n"
        "# user = commented\n";
    fpm_pool_identity p[2];

    assert_int_equal(fpm_parse_pools(text, p, 2), 3);
    assert_string_equal(p[0].name, "www");
    assert_string_equal(p[0].user, "apache");
    assert_string_equal(p[0].group, "apache");
    assert_string_equal(p[1].name, "other");
    assert_string_equal(p[1].user, "wlft-x");
    assert_string_equal(p[1].group, "wlft x");
    assert_int_equal(fpm_parse_pools("", p, 2), 0);
    assert_int_equal(fpm_parse_pools("user = x\n[a\n", p, 2), 0);
}

static void test_proxy_handler(void **state)
{
    char line[256];
    /* Fedora's conf.d/php.conf, shortened */
    const char *fedora =
        "<Files \".user.ini\">\n    Require all denied\n</Files>\n"
        "AddType text/html .php\n"
        "<IfModule !mod_php.c>\n"
        "    <FilesMatch \\.(php|phar)$>\n"
        "        SetHandler \"proxy:unix:/run/php-fpm/www.sock|fcgi://"
        "localhost\"\n"
        "    </FilesMatch>\n"
        "</IfModule>\n";

    assert_int_equal(fpm_find_proxy_handler(fedora, line, sizeof(line)), 1);
    assert_string_equal(line, "SetHandler \"proxy:unix:/run/php-fpm/www.sock"
                        "|fcgi://localhost\"");
    assert_int_equal(fpm_find_proxy_handler(
        "#SetHandler \"proxy:unix:/x|fcgi://l\"\n"
        "SetHandler application/x-httpd-php\n"
        "SetHandler\n", line, sizeof(line)), 0);
    assert_int_equal(fpm_find_proxy_handler(
        "\taddhandler proxy:fcgi://127.0.0.1:9000 .php", line,
        sizeof(line)), 1);
}

static void test_unit_wants(void **state)
{
    const char *dropin = "[Unit]\n# Wants=nothing.service\n"
                         "Wants=php-fpm.service\n";

    assert_true(fpm_unit_text_wants(dropin, "php-fpm.service"));
    assert_false(fpm_unit_text_wants(dropin, "php-fpm"));
    assert_false(fpm_unit_text_wants(dropin, "nothing.service"));
    assert_true(fpm_unit_text_wants("Requires=a.service php8.2-fpm.service",
                                    "php8.2-fpm.service"));
    assert_false(fpm_unit_text_wants("After=php-fpm.service",
                                     "php-fpm.service"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_timeouts),
        cmocka_unit_test(test_render_conf),
        cmocka_unit_test(test_render_injection),
        cmocka_unit_test(test_globals),
        cmocka_unit_test(test_globals_extract),
        cmocka_unit_test(test_args),
        cmocka_unit_test(test_set_keys),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_parse_pools),
        cmocka_unit_test(test_proxy_handler),
        cmocka_unit_test(test_unit_wants),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
