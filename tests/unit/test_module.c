/* Unit tests for mod_wlfcgi's pure logic: vhost mapping, extensions,
 * socket policy, env scrubbing, upload limits, connection reuse sizing,
 * status rendering and the log tag registry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wlf_config.h"
#include "wlf_log.h"
#include "wlf_map.h"
#include "wlf_policy.h"
#include "wlf_reuse.h"
#include "wlf_status.h"
#include "wlf_upload.h"

static const char *conf_text =
    "service = \"direct\";\n"
    "httpd_group = \"www-data\";\n"
    "paths = { accounts = \"/nonexistent/a\"; sockets = \"/run/wlfcgi\";"
    " state = \"/nonexistent/s\"; logs = \"/nonexistent/l\"; };\n"
    "php = { default = \"8.2\"; versions = ( { version = \"8.2\"; "
    "fpm = \"/usr/sbin/php-fpm8.2\"; } ); };\n";

/* Build an account list from "name:domain,domain" specs. */
static void make_list(const wlf_config *cfg, wlf_account_list *list,
                      const char *const *specs)
{
    memset(list, 0, sizeof(*list));
    for (; *specs; specs++) {
        char text[512], name[40], domains[400], *d, *save = NULL;
        wlf_account a;
        wlf_err e;
        size_t len = strcspn(*specs, ":");

        memcpy(name, *specs, len);
        name[len] = '\0';
        snprintf(domains, sizeof(domains), "%s", *specs + len + 1);
        snprintf(text, sizeof(text), "name = \"%s\"; user = \"u%s\"; "
                 "group = \"u%s\"; home = \"/home/%s\";", name, name, name,
                 name);
        assert_int_equal(wlf_account_load_string(cfg, text, name, &a, &e), 0);
        for (d = strtok_r(domains, ",", &save); d;
             d = strtok_r(NULL, ",", &save))
            assert_int_equal(wlf_account_add_domain(&a, d, &e), 0);
        list->items = realloc(list->items, (list->n + 1) * sizeof(a));
        list->items[list->n++] = a;
    }
}

typedef struct {
    wlf_config cfg;
    wlf_account_list kept, skipped;
} map_fixture;

static int map_setup(void **state)
{
    static const char *const kept[] = {
        "alice:alice.example,www.alice.example,*.shop.example",
        "bob:bob.example,*.example",
        NULL };
    static const char *const skipped[] = { "carol:alice.example,carol.example",
                                           NULL };
    map_fixture *f = calloc(1, sizeof(*f));
    wlf_err e;

    assert_int_equal(wlf_config_load_string(conf_text, "t", &f->cfg, &e), 0);
    make_list(&f->cfg, &f->kept, kept);
    make_list(&f->cfg, &f->skipped, skipped);
    *state = f;
    return 0;
}

static int map_teardown(void **state)
{
    map_fixture *f = *state;
    wlf_account_list_free(&f->kept);
    wlf_account_list_free(&f->skipped);
    wlf_config_free(&f->cfg);
    free(f);
    return 0;
}

static int map_one(map_fixture *f, const char *explicit_account,
                   const char *const *names, size_t n, const char **acct,
                   wlf_err *e, int with_skipped)
{
    wlf_vhost_desc d = { "v.example:80 (t.conf:1)", names, n,
                         explicit_account };
    const wlf_account *a = NULL;
    char how[128];
    int rc = wlf_map_vhost(&f->kept, with_skipped ? &f->skipped : NULL, &d,
                           &a, how, sizeof(how), e);
    *acct = a ? a->name : NULL;
    return rc;
}

static void test_map_by_name(void **state)
{
    map_fixture *f = *state;
    const char *acct;
    wlf_err e;
    const char *n1[] = { "www.alice.example" };
    const char *n2[] = { "nobody.test" };
    const char *n3[] = { "x.shop.example", "www.alice.example" };
    const char *n4[] = { "SHOP2.BOB.EXAMPLE" };
    const char *n5[] = { "*.example" };

    assert_int_equal(map_one(f, NULL, n1, 1, &acct, &e, 0), 0);
    assert_string_equal(acct, "alice");
    assert_int_equal(map_one(f, NULL, n2, 1, &acct, &e, 0), 0);
    assert_null(acct);
    /* a wildcard of alice and an exact name of alice: one account */
    assert_int_equal(map_one(f, NULL, n3, 2, &acct, &e, 0), 0);
    assert_string_equal(acct, "alice");
    /* bob's *.example, case-insensitive */
    assert_int_equal(map_one(f, NULL, n4, 1, &acct, &e, 0), 0);
    assert_string_equal(acct, "bob");
    /* a wildcard ServerAlias equal to an account's wildcard domain */
    assert_int_equal(map_one(f, NULL, n5, 1, &acct, &e, 0), 0);
    assert_string_equal(acct, "bob");
}

static void test_map_conflicts(void **state)
{
    map_fixture *f = *state;
    const char *acct;
    wlf_err e;
    const char *two[] = { "alice.example", "bob.example" };
    const char *wild[] = { "alice.example", "other.example" };
    const char *a[] = { "alice.example" };
    const char *c[] = { "carol.example" };

    assert_int_equal(map_one(f, NULL, two, 2, &acct, &e, 0), -1);
    assert_non_null(strstr(e.msg, "alice"));
    assert_non_null(strstr(e.msg, "bob"));
    assert_non_null(strstr(e.msg, "v.example:80"));
    /* other.example falls under bob's *.example: still two accounts */
    assert_int_equal(map_one(f, NULL, wild, 2, &acct, &e, 0), -1);
    assert_non_null(strstr(e.msg, "bob"));
    /* alice.example is also claimed by carol, whose file was skipped */
    assert_int_equal(map_one(f, NULL, a, 1, &acct, &e, 1), -1);
    assert_non_null(strstr(e.msg, "alice"));
    assert_non_null(strstr(e.msg, "carol"));
    /* carol.example is carol's exactly (bob only has *.example), but
     * carol was skipped */
    assert_int_equal(map_one(f, NULL, c, 1, &acct, &e, 1), -1);
    assert_non_null(strstr(e.msg, "carol"));
    /* without the skipped list alice simply owns it */
    assert_int_equal(map_one(f, NULL, a, 1, &acct, &e, 0), 0);
    assert_string_equal(acct, "alice");
}

static void test_map_explicit(void **state)
{
    map_fixture *f = *state;
    const char *acct;
    wlf_err e;
    const char *none[] = { "dev.internal" };
    const char *bobs[] = { "dev.internal", "bob.example" };

    assert_int_equal(map_one(f, "alice", none, 1, &acct, &e, 1), 0);
    assert_string_equal(acct, "alice");
    assert_int_equal(map_one(f, "zed", none, 1, &acct, &e, 1), -1);
    assert_non_null(strstr(e.msg, "zed"));
    assert_non_null(strstr(e.msg, "v.example:80"));
    assert_non_null(strstr(e.msg, "no such account"));
    assert_int_equal(map_one(f, "carol", none, 1, &acct, &e, 1), -1);
    assert_non_null(strstr(e.msg, "skipped"));
    /* explicit alice, but a name of bob's */
    assert_int_equal(map_one(f, "alice", bobs, 2, &acct, &e, 1), -1);
    assert_non_null(strstr(e.msg, "alice"));
    assert_non_null(strstr(e.msg, "bob"));
    /* explicit account that also owns the names */
    assert_int_equal(map_one(f, "bob", bobs, 2, &acct, &e, 1), 0);
    assert_string_equal(acct, "bob");
}

static void test_extensions(void **state)
{
    const char *exts[] = { ".php", ".phtml" };
    wlf_err e;

    (void)state;
    assert_int_equal(wlf_ext_valid(".php", &e), 0);
    assert_int_equal(wlf_ext_valid(".php-8_2", &e), 0);
    assert_int_equal(wlf_ext_valid("php", &e), -1);
    assert_int_equal(wlf_ext_valid(".", &e), -1);
    assert_int_equal(wlf_ext_valid(".p/hp", &e), -1);
    assert_int_equal(wlf_ext_valid(".p hp", &e), -1);
    assert_int_equal(wlf_ext_valid(".abcdefghijklmnop", &e), -1);
    assert_int_equal(wlf_ext_valid(NULL, &e), -1);
    assert_true(wlf_ext_match(exts, 2, "/var/www/index.php"));
    assert_true(wlf_ext_match(exts, 2, "/var/www/INDEX.PHP"));
    assert_true(wlf_ext_match(exts, 2, "/var/www/a.phtml"));
    assert_false(wlf_ext_match(exts, 2, "/var/www/a.php.txt"));
    assert_false(wlf_ext_match(exts, 2, "/var/www/aphp"));
    /* a file named just ".php" is a script too (php-fpm runs it) */
    assert_true(wlf_ext_match(exts, 2, "/var/www/.php"));
    assert_true(wlf_ext_match(exts, 2, ".php"));
    assert_true(wlf_ext_match(exts, 2, "x.php"));
    assert_false(wlf_ext_match(exts, 2, ""));
    assert_false(wlf_ext_match(exts, 2, NULL));
    assert_false(wlf_ext_match(exts, 0, "/a.php"));
}

static void test_socket_policy(void **state)
{
    char owner[40];

    (void)state;
    assert_int_equal(wlf_sock_classify("/run/wlfcgi/alice.sock", "/run/wlfcgi",
                                       "alice", owner, sizeof(owner)),
                     WLF_SOCK_OWN);
    assert_string_equal(owner, "alice");
    assert_int_equal(wlf_sock_classify("/run/wlfcgi/alice.b.sock",
                                       "/run/wlfcgi/", "alice", owner,
                                       sizeof(owner)), WLF_SOCK_OWN);
    assert_int_equal(wlf_sock_classify("/run/wlfcgi/bob.a.sock", "/run/wlfcgi",
                                       "alice", owner, sizeof(owner)),
                     WLF_SOCK_FOREIGN);
    assert_string_equal(owner, "bob");
    assert_int_equal(wlf_sock_classify("/run/wlfcgi/bob.sock", "/run/wlfcgi",
                                       NULL, owner, sizeof(owner)),
                     WLF_SOCK_FOREIGN);
    assert_int_equal(wlf_sock_classify("/run/wlfcgi/bob.a.pid", "/run/wlfcgi",
                                       "alice", owner, sizeof(owner)),
                     WLF_SOCK_OTHER);
    assert_int_equal(wlf_sock_classify("/run/wlfcgi/x/alice.sock",
                                       "/run/wlfcgi", "alice", owner,
                                       sizeof(owner)), WLF_SOCK_OTHER);
    assert_int_equal(wlf_sock_classify("/run/wlfcgi/.sock", "/run/wlfcgi",
                                       "alice", owner, sizeof(owner)),
                     WLF_SOCK_OTHER);
    assert_int_equal(wlf_sock_classify("/run/wlfcgi/Alice.sock",
                                       "/run/wlfcgi", "alice", owner,
                                       sizeof(owner)), WLF_SOCK_OTHER);
    assert_int_equal(wlf_sock_classify("/run/wlfcgi/alice.c.sock",
                                       "/run/wlfcgi", "alice", owner,
                                       sizeof(owner)), WLF_SOCK_OTHER);
    assert_int_equal(wlf_sock_classify("/run/wlfcgi2/alice.sock",
                                       "/run/wlfcgi", "alice", owner,
                                       sizeof(owner)), WLF_SOCK_OUTSIDE);
    assert_int_equal(wlf_sock_classify("/run/wlfcgi", "/run/wlfcgi",
                                       "alice", owner, sizeof(owner)),
                     WLF_SOCK_OUTSIDE);
    assert_int_equal(wlf_sock_classify("/tmp/php.sock", "/run/wlfcgi",
                                       "alice", owner, sizeof(owner)),
                     WLF_SOCK_OUTSIDE);
}

static void test_worker_host(void **state)
{
    char a[40];

    (void)state;
    assert_true(wlf_worker_host_account("wlf-alice", a, sizeof(a)));
    assert_string_equal(a, "alice");
    assert_true(wlf_worker_host_account("WLF-Alice.a", a, sizeof(a)));
    assert_string_equal(a, "alice");
    assert_true(wlf_worker_host_account("wlf-bob:8000", a, sizeof(a)));
    assert_string_equal(a, "bob");
    assert_false(wlf_worker_host_account("localhost", a, sizeof(a)));
    assert_false(wlf_worker_host_account("wlf-", a, sizeof(a)));
    assert_false(wlf_worker_host_account("wlfx-alice", a, sizeof(a)));
    assert_false(wlf_worker_host_account(NULL, a, sizeof(a)));
}

static void test_env_rules(void **state)
{
    (void)state;
    assert_true(wlf_env_is_scrubbed("PHP_VALUE"));
    assert_true(wlf_env_is_scrubbed("php_admin_value"));
    assert_false(wlf_env_is_scrubbed("PHP_VALUES"));
    assert_false(wlf_env_is_scrubbed("HTTP_PHP_VALUE"));
    assert_non_null(wlf_env_scrubbed[0]);
}

static void test_upload_limits(void **state)
{
    long long len;
    char buf[128];

    (void)state;
    assert_int_equal(wlf_upload_merge(WLF_UPLOAD_UNSET, 5), 5);
    assert_int_equal(wlf_upload_merge(7, WLF_UPLOAD_UNSET), 7);
    assert_int_equal(wlf_upload_merge(7, 3), 3);
    assert_int_equal(wlf_upload_effective(1, 2, 3), 1);
    assert_int_equal(wlf_upload_effective(WLF_UPLOAD_UNSET, 2, 3), 2);
    assert_int_equal(wlf_upload_effective(WLF_UPLOAD_UNSET, WLF_UPLOAD_UNSET,
                                          3), 3);

    assert_int_equal(wlf_body_check(NULL, NULL, 100, &len), WLF_BODY_NONE);
    assert_int_equal(wlf_body_check("0", NULL, 100, &len), WLF_BODY_NONE);
    assert_int_equal(wlf_body_check("100", NULL, 100, &len), WLF_BODY_FITS);
    assert_int_equal(len, 100);
    assert_int_equal(wlf_body_check("101", NULL, 100, &len),
                     WLF_BODY_TOO_LARGE);
    assert_int_equal(wlf_body_check("20971520", NULL, 8388608, &len),
                     WLF_BODY_TOO_LARGE);
    assert_int_equal(wlf_body_check("5", "chunked", 1, &len),
                     WLF_BODY_CHUNKED);
    assert_int_equal(len, -1);
    assert_int_equal(wlf_body_check("-1", NULL, 100, &len), WLF_BODY_BAD);
    assert_int_equal(wlf_body_check("1x", NULL, 100, &len), WLF_BODY_BAD);
    assert_int_equal(wlf_body_check("", NULL, 100, &len), WLF_BODY_BAD);
    assert_int_equal(wlf_body_check("99999999999999999999", NULL, 100, &len),
                     WLF_BODY_BAD);
    assert_int_equal(wlf_body_check("4294967296", NULL, 3LL << 30, &len),
                     WLF_BODY_TOO_LARGE);

    assert_string_equal(wlf_upload_php_admin(8388608, buf, sizeof(buf)),
                        "upload_max_filesize=8388608\n"
                        "post_max_size=8388608");
}

static void test_reuse_plan(void **state)
{
    wlf_reuse_plan p;

    (void)state;
    /* event, ServerLimit 16, default max_children 5: off */
    wlf_reuse_plan_for(5, 30, 25, 16, "static", &p);
    assert_false(p.enabled);
    assert_non_null(strstr(p.why, "max_children 5"));
    /* 17 children, 16 processes: one connection each, one spare */
    wlf_reuse_plan_for(17, 30, 25, 16, "static", &p);
    assert_true(p.enabled);
    assert_int_equal(p.hmax, 1);
    assert_int_equal(p.pinned, 16);
    assert_int_equal(p.ttl, WLF_REUSE_TTL_MAX);
    /* the benchmark set-up: 2 processes of 32 threads, 72 children */
    wlf_reuse_plan_for(72, 30, 32, 2, "static", &p);
    assert_true(p.enabled);
    assert_int_equal(p.hmax, 32);         /* capped at the thread count */
    assert_true(p.pinned <= 72 - WLF_REUSE_SPARE);
    wlf_reuse_plan_for(40, 30, 32, 2, "static", &p);
    assert_int_equal(p.hmax, 19);
    assert_true(p.pinned <= 40 - WLF_REUSE_SPARE);
    /* prefork: one connection per process */
    wlf_reuse_plan_for(300, 30, 1, 256, "static", &p);
    assert_true(p.enabled);
    assert_int_equal(p.hmax, 1);
    assert_int_equal(p.pinned, 256);
    wlf_reuse_plan_for(256, 30, 1, 256, "static", &p);
    assert_false(p.enabled);
    /* max_children=1: never */
    wlf_reuse_plan_for(1, 30, 25, 1, "static", &p);
    assert_false(p.enabled);
    /* idle time below the shortest request timeout */
    wlf_reuse_plan_for(100, 3, 25, 2, "static", &p);
    assert_true(p.enabled);
    assert_int_equal(p.ttl, 2);
    wlf_reuse_plan_for(100, 1, 25, 2, "static", &p);
    assert_false(p.enabled);
    assert_non_null(strstr(p.why, "max_execution_time"));
    /* the account's pm setting decides first */
    wlf_reuse_plan_for(72, 30, 32, 2, "ondemand", &p);
    assert_false(p.enabled);
    assert_non_null(strstr(p.why, "pm = ondemand"));
    wlf_reuse_plan_for(72, 30, 32, 2, NULL, &p);
    assert_false(p.enabled);
    /* accounts have no pm = dynamic; anything but static is off */
    wlf_reuse_plan_for(72, 30, 32, 2, "dynamic", &p);
    assert_false(p.enabled);
    /* exhaustive: the bound always holds */
    for (int mc = 1; mc < 200; mc += 7)
        for (int procs = 1; procs < 40; procs += 3)
            for (int th = 1; th < 70; th += 11) {
                wlf_reuse_plan_for(mc, 30, th, procs, "static", &p);
                if (p.enabled) {
                    long long per = th > 1 ? p.hmax : 1;
                    assert_true((long long)procs * per <= mc - 1);
                    assert_true(p.hmax >= 1 && p.hmax <= th);
                }
            }
}

static void test_status_render(void **state)
{
    wlf_status_entry e[2] = {
        { "alice.example", 80, "alice", "/run/wlfcgi/alice.sock",
          "/run/wlfcgi/alice.a.sock", 1, NULL, 8 << 20, 4, "running" },
        { "odd\"name", 0, NULL, NULL, NULL, -1, "line\nbreak", 0, 0, NULL },
    };
    wlf_status_page p = { "/etc/wlfcgi/wlfcgi.conf", "0.1", 3, e, 2 };
    char *t = wlf_status_text(&p), *j = wlf_status_json(&p);
    char q[64];

    (void)state;
    assert_non_null(t);
    assert_non_null(strstr(t, "alice.example:80"));
    assert_non_null(strstr(t, "alice.a.sock"));
    assert_non_null(strstr(t, "yes"));
    assert_non_null(strstr(t, "8M"));
    assert_non_null(j);
    assert_non_null(strstr(j, "\"account\":\"alice\""));
    assert_non_null(strstr(j, "\"answers\":true"));
    assert_non_null(strstr(j, "\"max_upload\":8388608"));
    assert_non_null(strstr(j, "\"vhost\":\"odd\\\"name\""));
    assert_non_null(strstr(j, "\"error\":\"line\\nbreak\""));
    assert_non_null(strstr(j, "\"answers\":null"));
    assert_non_null(strstr(j, "\"accounts\":3"));
    free(t);
    free(j);

    e[0].answers = 0;
    e[0].error = "connect: Connection refused";
    e[0].live = NULL;
    t = wlf_status_text(&p);
    j = wlf_status_json(&p);
    assert_non_null(strstr(t, "NO"));
    assert_non_null(strstr(t, "no live instance"));
    assert_non_null(strstr(j, "\"answers\":false"));
    assert_non_null(strstr(j, "\"live_socket\":null"));
    free(t);
    free(j);

    /* an idle on-demand account: its socket accepts, no master runs */
    e[0].answers = 1;
    e[0].error = NULL;
    e[0].live = "/run/wlfcgi/alice.a.sock";
    e[0].state = "idle";
    t = wlf_status_text(&p);
    j = wlf_status_json(&p);
    assert_non_null(strstr(t, " idle "));
    assert_non_null(strstr(j, "\"state\":\"idle\""));
    assert_non_null(strstr(j, "\"answers\":true"));
    free(t);
    free(j);

    assert_int_equal(wlf_json_quote(q, sizeof(q), "a\x01"), 9);
    assert_string_equal(q, "\"a\\u0001\"");
    /* truncation still terminates */
    assert_int_equal(wlf_json_quote(q, 4, "abcdef"), 8);
    assert_string_equal(q, "\"ab");
}

static void test_log_registry(void **state)
{
    (void)state;
    assert_true(wlf_log_codes_count > 10);
    for (size_t i = 0; i < wlf_log_codes_count; i++) {
        const char *t = wlf_log_codes[i].tag;
        assert_int_equal(strlen(t), 8);
        assert_memory_equal(t, "WLF", 3);
        assert_true(strlen(wlf_log_codes[i].meaning) > 20);
        assert_non_null(wlf_log_codes[i].level);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(t, wlf_log_codes[j].tag);
        /* listed in ascending order, as in the man page */
        if (i)
            assert_true(strcmp(wlf_log_codes[i - 1].tag, t) < 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_map_by_name, map_setup,
                                        map_teardown),
        cmocka_unit_test_setup_teardown(test_map_conflicts, map_setup,
                                        map_teardown),
        cmocka_unit_test_setup_teardown(test_map_explicit, map_setup,
                                        map_teardown),
        cmocka_unit_test(test_extensions),
        cmocka_unit_test(test_socket_policy),
        cmocka_unit_test(test_worker_host),
        cmocka_unit_test(test_env_rules),
        cmocka_unit_test(test_upload_limits),
        cmocka_unit_test(test_reuse_plan),
        cmocka_unit_test(test_status_render),
        cmocka_unit_test(test_log_registry),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
