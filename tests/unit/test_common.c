/* Unit tests for the shared library: sizes, validation, the account
 * loader and writer, and the FastCGI record code. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "confwrite.h"
#include "wlf_config.h"
#include "wlf_fcgi.h"
#include "wlf_buf.h"
#include "wlf_size.h"
#include "wlf_sys.h"
#include "wlf_validate.h"

static const char *base_conf =
    "service = \"direct\";\n"
    "httpd_group = \"www-data\";\n"
    "min_uid = 1000;\n"
    "paths = { accounts = \"/tmp/x/etc/accounts.d\"; sockets = \"/tmp/x/run\";"
    " state = \"/tmp/x/lib\"; logs = \"/tmp/x/log\"; };\n"
    "php = { default = \"8.2\"; versions = ( { version = \"8.2\"; "
    "fpm = \"/usr/sbin/php-fpm8.2\"; }, { version = \"8.3\"; "
    "fpm = \"/usr/sbin/php-fpm8.3\"; } ); };\n"
    "defaults = { max_children = 7; max_upload = \"16M\"; };\n";

static void test_size_parse(void **state)
{
    long long v;
    wlf_err e;
    char buf[32];

    (void)state;
    assert_int_equal(wlf_size_parse("512", "x", &v, &e), 0);
    assert_int_equal(v, 512);
    assert_int_equal(wlf_size_parse("8M", "x", &v, &e), 0);
    assert_int_equal(v, 8 << 20);
    assert_int_equal(wlf_size_parse("3g", "x", &v, &e), 0);
    assert_int_equal(v, 3LL << 30);
    assert_int_equal(wlf_size_parse("8MiB", "x", &v, &e), 0);
    assert_int_equal(v, 8 << 20);
    assert_int_equal(wlf_size_parse("1T", "x", &v, &e), 0);
    assert_int_equal(v, 1LL << 40);
    assert_int_equal(wlf_size_parse("12X", "max_upload", &v, &e), -1);
    assert_string_equal(e.field, "max_upload");
    assert_int_equal(wlf_size_parse("-1", "x", &v, &e), -1);
    assert_int_equal(wlf_size_parse("", "x", &v, &e), -1);
    assert_int_equal(wlf_size_parse("8 M", "x", &v, &e), -1);
    assert_int_equal(wlf_size_parse("99999999999999999999G", "x", &v, &e),
                     -1);
    assert_int_equal(wlf_size_parse("2000000T", "x", &v, &e), -1);
    assert_string_equal(wlf_size_format(8 << 20, buf, sizeof(buf)), "8M");
    assert_string_equal(wlf_size_format(1536, buf, sizeof(buf)), "1536");
    assert_string_equal(wlf_size_format(3LL << 30, buf, sizeof(buf)), "3G");
    assert_string_equal(wlf_size_format(0, buf, sizeof(buf)), "0");
}

static void test_names(void **state)
{
    wlf_err e;
    const char *bad[] = { "", "a/b", "..", "a\nb", "a=b", "a[b", "a]b",
                          "a;b", "a b", "1abc", "-abc", "Alice",
                          "abcdefghijklmnopqrstuvwxyz0123456", NULL };
    (void)state;
    assert_int_equal(wlf_valid_account_name("alice", &e), 0);
    assert_int_equal(wlf_valid_account_name("a-b_c9", &e), 0);
    assert_int_equal(wlf_valid_account_name(
                         "abcdefghijklmnopqrstuvwxyz012345", &e), 0);
    for (int i = 0; bad[i]; i++) {
        assert_int_equal(wlf_valid_account_name(bad[i], &e), -1);
        assert_string_equal(e.field, "name");
        assert_null(strchr(e.msg, '\n'));
    }
}

static void test_domains(void **state)
{
    wlf_err e;
    (void)state;
    assert_int_equal(wlf_valid_domain("alice.example", &e), 0);
    assert_int_equal(wlf_valid_domain("*.alice.example", &e), 0);
    assert_int_equal(wlf_valid_domain("localhost", &e), 0);
    assert_int_equal(wlf_valid_domain("a..b", &e), -1);
    assert_int_equal(wlf_valid_domain("-a.b", &e), -1);
    assert_int_equal(wlf_valid_domain("a-.b", &e), -1);
    assert_int_equal(wlf_valid_domain("a.b.", &e), -1);
    assert_int_equal(wlf_valid_domain("a_b.c", &e), -1);
    assert_int_equal(wlf_valid_domain("a.*.c", &e), -1);
    assert_int_equal(wlf_valid_domain("a b", &e), -1);
    assert_true(wlf_domain_matches("*.a.example", "www.a.example"));
    assert_false(wlf_domain_matches("*.a.example", "a.example"));
    assert_true(wlf_domain_matches("a.example", "A.Example"));
}

static void test_ini_values(void **state)
{
    wlf_err e;
    (void)state;
    assert_int_equal(wlf_valid_ini_value("256M", "php_admin.memory_limit",
                                         &e), 0);
    assert_int_equal(wlf_valid_ini_value("/srv/a:/tmp", "x", &e), 0);
    assert_int_equal(wlf_valid_ini_value("a\nb", "x", &e), -1);
    assert_int_equal(wlf_valid_ini_value("a\"b", "x", &e), -1);
    assert_int_equal(wlf_valid_ini_value("${HOME}", "x", &e), -1);
    assert_int_equal(wlf_valid_ini_key("session.gc_maxlifetime", "x", &e),
                     0);
    assert_int_equal(wlf_valid_ini_key("a[b]", "x", &e), -1);
    assert_int_equal(wlf_valid_abs_path("/srv/www", "home", &e), 0);
    assert_int_equal(wlf_valid_abs_path("srv", "home", &e), -1);
    assert_int_equal(wlf_valid_abs_path("/srv/../etc", "home", &e), -1);
    assert_int_equal(wlf_valid_abs_path("/srv/..", "home", &e), -1);
}

static void test_config_load(void **state)
{
    wlf_config cfg;
    wlf_err e;

    (void)state;
    assert_int_equal(wlf_config_load_string(base_conf, "t", &cfg, &e), 0);
    assert_int_equal(cfg.service, WLF_SERVICE_DIRECT);
    assert_string_equal(cfg.httpd_group, "www-data");
    assert_int_equal(cfg.defaults.num[WLF_S_MAX_CHILDREN], 7);
    assert_int_equal(cfg.defaults.num[WLF_S_MAX_UPLOAD], 16 << 20);
    assert_int_equal(cfg.defaults.num[WLF_S_OPCACHE_MEMORY], 128 << 20);
    assert_string_equal(cfg.defaults.str[WLF_S_PHP], "8.2");
    assert_non_null(wlf_config_php(&cfg, "8.3"));
    assert_true(wlf_config_php_admin_allowed(&cfg, "memory_limit"));
    assert_false(wlf_config_php_admin_allowed(&cfg, "post_max_size"));
    wlf_config_free(&cfg);

    assert_int_equal(wlf_config_load_string("service = \"x\";", "t", &cfg,
                                            &e), -1);
    assert_int_equal(wlf_config_load_string("service = ", "t", &cfg, &e),
                     -1);
    assert_non_null(strstr(e.msg, "line"));
}

static void test_config_render_roundtrip(void **state)
{
    wlf_config cfg, again;
    wlf_err e;
    char *text;

    (void)state;
    assert_int_equal(wlf_config_init_defaults(&cfg, "/tmp/pfx",
                                              WLF_SERVICE_DIRECT,
                                              "www-data", &e), 0);
    assert_string_equal(cfg.socket_dir, "/tmp/pfx/run/wlfcgi");
    text = wlf_config_render(&cfg);
    assert_non_null(text);
    if (wlf_config_load_string(text, "rendered", &again, &e) != 0)
        fail_msg("%s: %s\n%s", e.field, e.msg, text);
    assert_string_equal(again.accounts_dir, "/tmp/pfx/etc/wlfcgi/accounts.d");
    assert_int_equal(again.defaults.num[WLF_S_APCU_MEMORY], 32 << 20);
    assert_int_equal(again.n_php_admin_allowed, cfg.n_php_admin_allowed);
    free(text);
    wlf_config_free(&again);
    wlf_config_free(&cfg);
}

static void test_account_roundtrip(void **state)
{
    wlf_config cfg;
    wlf_account a, b;
    wlf_settings eff;
    wlf_err e;
    char *text, *text2;

    (void)state;
    assert_int_equal(wlf_config_load_string(base_conf, "t", &cfg, &e), 0);
    wlf_account_init(&a);
    snprintf(a.name, sizeof(a.name), "alice");
    a.user = strdup("alice");
    a.group = strdup("alice");
    a.home = strdup("/home/alice");
    assert_int_equal(wlf_account_add_domain(&a, "Alice.Example", &e), 0);
    assert_int_equal(wlf_account_add_domain(&a, "*.alice.example", &e), 0);
    assert_int_equal(wlf_account_add_domain(&a, "alice.example", &e), -1);
    assert_int_equal(wlf_setting_parse(&a.settings, WLF_S_MAX_UPLOAD, "3G",
                                       &e), 0);
    assert_int_equal(wlf_setting_parse(&a.settings, WLF_S_PHP, "8.3", &e),
                     0);
    assert_int_equal(wlf_account_set_php_admin(&a, "memory_limit", "256M"),
                     0);
    assert_int_equal(wlf_account_check(&cfg, &a, &e), 0);
    text = wlf_account_render(&a);
    if (wlf_account_load_string(&cfg, text, "alice", &b, &e) != 0)
        fail_msg("%s: %s\n%s", e.field, e.msg, text);
    text2 = wlf_account_render(&b);
    assert_string_equal(text, text2);
    assert_string_equal(b.domains[0], "alice.example");
    assert_int_equal(wlf_account_effective(&cfg, &b, &eff), 0);
    assert_int_equal(eff.num[WLF_S_MAX_UPLOAD], 3LL << 30);
    assert_int_equal(eff.num[WLF_S_UPLOAD_CEILING], 3LL << 30);
    assert_int_equal(eff.num[WLF_S_MAX_CHILDREN], 7);
    assert_string_equal(eff.str[WLF_S_PHP], "8.3");
    wlf_settings_free(&eff);

    /* a name that does not match the file is refused */
    wlf_account_free(&b);
    assert_int_equal(wlf_account_load_string(&cfg, text, "bob", &b, &e), -1);
    assert_string_equal(e.field, "name");
    free(text);
    free(text2);

    /* unknown php version, disallowed php_admin key, typo'd key */
    assert_int_equal(wlf_account_load_string(&cfg,
        "name=\"alice\"; user=\"a\"; group=\"a\"; home=\"/h\"; php=\"7.0\";",
        "alice", &b, &e), -1);
    assert_string_equal(e.field, "php");
    assert_int_equal(wlf_account_load_string(&cfg,
        "name=\"alice\"; user=\"a\"; group=\"a\"; home=\"/h\"; "
        "php_admin = ( { name = \"post_max_size\"; value = \"1G\"; } );",
        "alice", &b, &e), -1);
    assert_string_equal(e.field, "php_admin.post_max_size");
    assert_int_equal(wlf_account_load_string(&cfg,
        "name=\"alice\"; user=\"a\"; group=\"a\"; home=\"/h\"; "
        "max_chidlren = 3;", "alice", &b, &e), -1);
    assert_string_equal(e.field, "max_chidlren");
    assert_int_equal(wlf_account_load_string(&cfg,
        "name=\"alice\"; user=\"a\"; group=\"a\"; home=\"/h\"; "
        "max_children = 0;", "alice", &b, &e), -1);
    assert_string_equal(e.field, "max_children");
    /* ':' would add an open_basedir entry */
    assert_int_equal(wlf_account_load_string(&cfg,
        "name=\"alice\"; user=\"a\"; group=\"a\"; home=\"/h:/\";",
        "alice", &b, &e), -1);
    assert_string_equal(e.field, "home");
    wlf_account_free(&a);
    wlf_config_free(&cfg);
}

/* A temp directory with a wlfcgi.conf whose accounts dir is DIR/a. */
typedef struct {
    char dir[64];
    char accounts[96];
    wlf_config cfg;
} acct_dir;

static void acct_dir_make(acct_dir *d)
{
    char conf[1024];
    wlf_err e;

    snprintf(d->dir, sizeof(d->dir), "/tmp/wlf-unit-XXXXXX");
    assert_non_null(mkdtemp(d->dir));
    snprintf(d->accounts, sizeof(d->accounts), "%s/a", d->dir);
    assert_int_equal(mkdir(d->accounts, 0700), 0);
    snprintf(conf, sizeof(conf), "httpd_group = \"www-data\";\n"
             "paths = { accounts = \"%s\"; sockets = \"%s/r\"; "
             "state = \"%s/s\"; logs = \"%s/l\"; };\n"
             "php = { default = \"8.2\"; versions = ( { version = \"8.2\"; "
             "fpm = \"/usr/sbin/php-fpm8.2\"; } ); };\n", d->accounts,
             d->dir, d->dir, d->dir);
    if (wlf_config_load_string(conf, "t", &d->cfg, &e) != 0)
        fail_msg("%s: %s", e.field, e.msg);
}

/* accounts dir/NAME.conf for user NAME with `domain` (NULL: none) */
static void acct_dir_put(const acct_dir *d, const char *file,
                         const char *name, const char *domain)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", d->accounts, file);
    assert_non_null(f = fopen(path, "w"));
    fprintf(f, "name = \"%s\"; user = \"%s\"; group = \"%s\"; "
            "home = \"/home/%s\";\n", name, name, name, name);
    if (domain)
        fprintf(f, "domains = [ \"%s\" ];\n", domain);
    fclose(f);
}

static void acct_dir_remove(acct_dir *d)
{
    char cmd[128];

    wlf_config_free(&d->cfg);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->dir);
    assert_int_equal(system(cmd), 0);
}

static void test_account_files_are_sorted_names(void **state)
{
    acct_dir d;
    char **names;
    size_t n;
    wlf_err e;

    (void)state;
    acct_dir_make(&d);
    acct_dir_put(&d, "carol.conf", "carol", NULL);
    acct_dir_put(&d, "alice.conf", "alice", NULL);
    acct_dir_put(&d, "Bad Name.conf", "bad", NULL);
    acct_dir_put(&d, ".fpmctl-tmp-x.conf", "x", NULL);
    acct_dir_put(&d, "notes.txt", "y", NULL);
    assert_int_equal(wlf_account_files(&d.cfg, &names, &n, &e), 0);
    assert_int_equal(n, 3);
    assert_string_equal(names[0], "Bad Name");
    assert_string_equal(names[1], "alice");
    assert_string_equal(names[2], "carol");
    wlf_strlist_free(names, n);
    acct_dir_remove(&d);
}

static void test_accounts_load_keeps_clashing_accounts_apart(void **state)
{
    acct_dir d;
    wlf_account_list list;
    wlf_err e;

    (void)state;
    acct_dir_make(&d);
    acct_dir_put(&d, "alice.conf", "alice", "shop.example");
    acct_dir_put(&d, "bob.conf", "bob", "SHOP.example");
    acct_dir_put(&d, "carol.conf", "carol", "carol.example");
    acct_dir_put(&d, "dave.conf", "eve", NULL);
    assert_int_equal(wlf_accounts_load(&d.cfg, &list, &e), 0);
    assert_int_equal(list.n, 2);
    assert_string_equal(list.items[0].name, "alice");
    assert_string_equal(list.items[1].name, "carol");
    /* bob is valid, but its domain is alice's: skipped, not lost */
    assert_int_equal(list.n_skipped, 1);
    assert_string_equal(list.skipped[0].name, "bob");
    assert_string_equal(list.skipped[0].domains[0], "shop.example");
    assert_int_equal(list.n_errors, 2);
    assert_non_null(strstr(list.errors[0].file, "/bob.conf"));
    assert_non_null(strstr(list.errors[0].msg, "already owned by account "
                                               "'alice'"));
    assert_non_null(strstr(list.errors[1].file, "/dave.conf"));
    wlf_account_list_free(&list);
    acct_dir_remove(&d);
}

static void test_accounts_load_fails_without_directory(void **state)
{
    acct_dir d;
    wlf_account_list list;
    wlf_err e;

    (void)state;
    acct_dir_make(&d);
    assert_int_equal(rmdir(d.accounts), 0);
    assert_int_equal(wlf_accounts_load(&d.cfg, &list, &e), -1);
    assert_string_equal(e.field, "paths.accounts");
    assert_int_equal(list.n + list.n_skipped + list.n_errors, 0);
    acct_dir_remove(&d);
}

static void test_buf_grows_past_its_first_block(void **state)
{
    wlf_buf b = { 0 };
    char *out;

    (void)state;
    for (int i = 0; i < 1000; i++)
        wlf_buf_printf(&b, "%04d,", i);
    wlf_buf_puts(&b, "end");
    out = wlf_buf_finish(&b);
    assert_non_null(out);
    assert_int_equal(strlen(out), 5003);
    assert_memory_equal(out, "0000,0001,", 10);
    assert_string_equal(out + 5000, "end");
    assert_null(b.s);
    free(out);
}

static void test_buf_empty_finishes_as_empty_string(void **state)
{
    wlf_buf b = { 0 };
    char *out;

    (void)state;
    out = wlf_buf_finish(&b);
    assert_non_null(out);
    assert_string_equal(out, "");
    free(out);
}

static void test_buf_json_string_escapes_quotes_and_controls(void **state)
{
    wlf_buf b = { 0 };
    char *out;

    (void)state;
    wlf_buf_json_string(&b, "a\"b\\c\n\r\t\x01\x7f\xc3\xa4");
    out = wlf_buf_finish(&b);
    assert_string_equal(out, "\"a\\\"b\\\\c\\n\\r\\t\\u0001\\u007f"
                        "\xc3\xa4\"");
    free(out);
}

static void test_dirname_of_paths(void **state)
{
    char buf[16];
    const char *base;

    (void)state;
    assert_int_equal(wlf_dirname("/etc/wlfcgi/wlfcgi.conf", buf,
                                 sizeof(buf), &base), 0);
    assert_string_equal(buf, "/etc/wlfcgi");
    assert_string_equal(base, "wlfcgi.conf");
    assert_int_equal(wlf_dirname("/x", buf, sizeof(buf), &base), 0);
    assert_string_equal(buf, "/");
    assert_string_equal(base, "x");
    assert_int_equal(wlf_dirname("wlfcgi.conf", buf, sizeof(buf), &base),
                     0);
    assert_string_equal(buf, ".");
    assert_string_equal(base, "wlfcgi.conf");
    assert_int_equal(wlf_dirname("/a/b/", buf, sizeof(buf), NULL), 0);
    assert_string_equal(buf, "/a/b");
    /* a directory that does not fit is refused, not cut short */
    assert_int_equal(wlf_dirname("/0123456789abcdef/x", buf, sizeof(buf),
                                 NULL), -1);
    assert_string_equal(buf, "");
}

static void test_clock_is_monotonic(void **state)
{
    long long a = wlf_now_ms(), b = wlf_now_ms();

    (void)state;
    assert_true(a > 0);
    assert_true(b >= a);
}

static void test_fcgi_records(void **state)
{
    unsigned char buf[256];
    wlf_fcgi_record rec;
    wlf_fcgi_response resp;
    size_t n;
    const char *body;
    size_t body_len;
    const char page[] = "Status: 404 Not Found\r\nX: y\r\n\r\nnope";

    (void)state;
    n = wlf_fcgi_encode_pair(buf, sizeof(buf), "A", "bc");
    assert_int_equal(n, 5);
    assert_int_equal(buf[0], 1);
    assert_int_equal(buf[1], 2);

    /* stdout "pong", then end request */
    wlf_fcgi_header(buf, WLF_FCGI_STDOUT, 1, 4);
    memcpy(buf + 8, "pong", 4);
    wlf_fcgi_header(buf + 12, WLF_FCGI_END_REQUEST, 1, 8);
    memset(buf + 20, 0, 8);
    assert_int_equal(wlf_fcgi_parse_record(buf, 5, &rec), 0);
    assert_int_equal(wlf_fcgi_parse_record(buf, 11, &rec), 0);
    assert_int_equal(wlf_fcgi_parse_record(buf, 12, &rec), 12);
    assert_int_equal(rec.type, WLF_FCGI_STDOUT);
    memset(&resp, 0, sizeof(resp));
    assert_int_equal(wlf_fcgi_collect(buf, 28, &resp), 0);
    assert_string_equal(resp.out, "pong");
    wlf_fcgi_response_free(&resp);
    assert_int_equal(wlf_fcgi_collect(buf, 20, &resp), 1);
    wlf_fcgi_response_free(&resp);
    buf[0] = 2;
    assert_int_equal(wlf_fcgi_parse_record(buf, 28, &rec), -1);

    assert_int_equal(wlf_fcgi_http_status(page, strlen(page), &body,
                                          &body_len), 404);
    assert_int_equal(body_len, 4);
    assert_memory_equal(body, "nope", 4);
}

static void test_fpm_status_parse(void **state)
{
    const char text[] =
        "pool:                 alice\n"
        "process manager:      ondemand\n"
        "start time:           29/Nov/2026:15:34:12 +0000\n"
        "start since:          42\n"
        "accepted conn:        7\n"
        "listen queue:         0\n"
        "max listen queue:     1\n"
        "listen queue len:     4096\n"
        "idle processes:       1\n"
        "active processes:     2\n"
        "total processes:      3\n"
        "max active processes: 2\n"
        "max children reached: 0\n"
        "slow requests:        0\n";
    wlf_fpm_status st;

    (void)state;
    assert_int_equal(wlf_fpm_status_parse(text, strlen(text), &st), 0);
    assert_string_equal(st.pool, "alice");
    assert_string_equal(st.process_manager, "ondemand");
    assert_int_equal(st.accepted_conn, 7);
    assert_int_equal(st.total_processes, 3);
    assert_int_equal(st.listen_queue_len, 4096);
    assert_int_equal(wlf_fpm_status_parse("x", 1, &st), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_size_parse),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_domains),
        cmocka_unit_test(test_ini_values),
        cmocka_unit_test(test_config_load),
        cmocka_unit_test(test_config_render_roundtrip),
        cmocka_unit_test(test_account_roundtrip),
        cmocka_unit_test(test_account_files_are_sorted_names),
        cmocka_unit_test(test_accounts_load_keeps_clashing_accounts_apart),
        cmocka_unit_test(test_accounts_load_fails_without_directory),
        cmocka_unit_test(test_buf_grows_past_its_first_block),
        cmocka_unit_test(test_buf_empty_finishes_as_empty_string),
        cmocka_unit_test(test_buf_json_string_escapes_quotes_and_controls),
        cmocka_unit_test(test_dirname_of_paths),
        cmocka_unit_test(test_clock_is_monotonic),
        cmocka_unit_test(test_fcgi_records),
        cmocka_unit_test(test_fpm_status_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
