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
    wlf_account_list kept;          /* and, in it, the skipped accounts */
    const char *msg;                /* the last mapping error */
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
    wlf_account_list left_out;
    wlf_err e;

    assert_int_equal(wlf_config_load_string(conf_text, "t", &f->cfg, &e), 0);
    make_list(&f->cfg, &f->kept, kept);
    /* as the loader returns them: the skipped ones in the same list */
    make_list(&f->cfg, &left_out, skipped);
    f->kept.skipped = left_out.items;
    f->kept.n_skipped = left_out.n;
    *state = f;
    return 0;
}

static int map_teardown(void **state)
{
    map_fixture *f = *state;
    wlf_account_list_free(&f->kept);
    wlf_config_free(&f->cfg);
    free(f);
    return 0;
}

/* Map a vhost with these names (NULL-terminated) and, unless NULL, this
 * WLFcgiAccount. Returns the account's name, NULL for none, or "ERROR"
 * with the message in *msg. */
static const char *map_names(map_fixture *f, int with_skipped,
                             const char *explicit_account, ...)
{
    static wlf_err e;
    const char *names[8];
    size_t n = 0;
    wlf_vhost_desc d;
    wlf_account_list list = f->kept;
    const wlf_account *a = NULL;
    char how[128];
    va_list ap;

    va_start(ap, explicit_account);
    while (n < 8 && (names[n] = va_arg(ap, const char *)) != NULL)
        n++;
    va_end(ap);
    d.label = "v.example:80 (t.conf:1)";
    d.names = names;
    d.n_names = n;
    d.explicit_account = explicit_account;
    if (!with_skipped)
        list.n_skipped = 0;
    if (wlf_map_vhost(&list, &d, &a, how, sizeof(how), &e) < 0) {
        f->msg = e.msg;
        return "ERROR";
    }
    return a ? a->name : NULL;
}

#define KEPT_ONLY 0
#define WITH_SKIPPED 1

/* ---- vhost mapping ---- */

static void test_map_exact_name(void **state)
{
    assert_string_equal(map_names(*state, KEPT_ONLY, NULL,
                                  "www.alice.example", NULL), "alice");
}

static void test_map_unknown_name_has_no_account(void **state)
{
    assert_null(map_names(*state, KEPT_ONLY, NULL, "nobody.test", NULL));
}

static void test_map_wildcard_and_exact_name_of_one_account(void **state)
{
    assert_string_equal(map_names(*state, KEPT_ONLY, NULL, "x.shop.example",
                                  "www.alice.example", NULL), "alice");
}

static void test_map_wildcard_domain_ignores_case(void **state)
{
    assert_string_equal(map_names(*state, KEPT_ONLY, NULL,
                                  "SHOP2.BOB.EXAMPLE", NULL), "bob");
}

static void test_map_wildcard_alias_equal_to_wildcard_domain(void **state)
{
    assert_string_equal(map_names(*state, KEPT_ONLY, NULL, "*.example",
                                  NULL), "bob");
}

static void test_map_names_of_two_accounts_conflict(void **state)
{
    map_fixture *f = *state;

    assert_string_equal(map_names(f, KEPT_ONLY, NULL, "alice.example",
                                  "bob.example", NULL), "ERROR");
    assert_non_null(strstr(f->msg, "alice"));
    assert_non_null(strstr(f->msg, "bob"));
    assert_non_null(strstr(f->msg, "v.example:80"));
}

static void test_map_name_under_anothers_wildcard_conflicts(void **state)
{
    map_fixture *f = *state;

    /* other.example falls under bob's *.example */
    assert_string_equal(map_names(f, KEPT_ONLY, NULL, "alice.example",
                                  "other.example", NULL), "ERROR");
    assert_non_null(strstr(f->msg, "bob"));
}

static void test_map_name_a_skipped_account_claims_conflicts(void **state)
{
    map_fixture *f = *state;

    /* alice.example is also claimed by carol, whose file was skipped */
    assert_string_equal(map_names(f, WITH_SKIPPED, NULL, "alice.example",
                                  NULL), "ERROR");
    assert_non_null(strstr(f->msg, "alice"));
    assert_non_null(strstr(f->msg, "carol"));
    /* without the skipped accounts alice simply owns it */
    assert_string_equal(map_names(f, KEPT_ONLY, NULL, "alice.example",
                                  NULL), "alice");
}

static void test_map_name_only_a_skipped_account_claims_fails(void **state)
{
    map_fixture *f = *state;

    /* carol.example is carol's exactly (bob only has *.example) */
    assert_string_equal(map_names(f, WITH_SKIPPED, NULL, "carol.example",
                                  NULL), "ERROR");
    assert_non_null(strstr(f->msg, "carol"));
}

static void test_map_explicit_account_needs_no_name(void **state)
{
    assert_string_equal(map_names(*state, WITH_SKIPPED, "alice",
                                  "dev.internal", NULL), "alice");
}

static void test_map_explicit_unknown_account_fails(void **state)
{
    map_fixture *f = *state;

    assert_string_equal(map_names(f, WITH_SKIPPED, "zed", "dev.internal",
                                  NULL), "ERROR");
    assert_non_null(strstr(f->msg, "zed"));
    assert_non_null(strstr(f->msg, "v.example:80"));
    assert_non_null(strstr(f->msg, "no such account"));
}

static void test_map_explicit_skipped_account_says_skipped(void **state)
{
    map_fixture *f = *state;

    assert_string_equal(map_names(f, WITH_SKIPPED, "carol", "dev.internal",
                                  NULL), "ERROR");
    assert_non_null(strstr(f->msg, "skipped"));
}

static void test_map_explicit_account_against_anothers_name(void **state)
{
    map_fixture *f = *state;

    assert_string_equal(map_names(f, WITH_SKIPPED, "alice", "dev.internal",
                                  "bob.example", NULL), "ERROR");
    assert_non_null(strstr(f->msg, "alice"));
    assert_non_null(strstr(f->msg, "bob"));
    /* the account that also owns the names */
    assert_string_equal(map_names(f, WITH_SKIPPED, "bob", "dev.internal",
                                  "bob.example", NULL), "bob");
}

/* ---- extensions ---- */

static void test_extension_syntax(void **state)
{
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
}

static const char *exts[] = { ".php", ".phtml" };

static void test_extension_fpm_would_deny_is_named(void **state)
{
    const char *runs[] = { ".php", ".phtml" };
    const char *fine[] = { ".PHP", ".phtml" };
    const char *bad[] = { ".php", ".php5" };

    (void)state;
    assert_null(wlf_ext_not_run(fine, 2, runs, 2));
    assert_string_equal(wlf_ext_not_run(bad, 2, runs, 2), ".php5");
}

static void test_extension_match_ignores_case(void **state)
{
    (void)state;
    assert_true(wlf_ext_match(exts, 2, "/var/www/index.php"));
    assert_true(wlf_ext_match(exts, 2, "/var/www/INDEX.PHP"));
    assert_true(wlf_ext_match(exts, 2, "/var/www/a.phtml"));
}

static void test_extension_match_needs_the_suffix(void **state)
{
    (void)state;
    assert_false(wlf_ext_match(exts, 2, "/var/www/a.php.txt"));
    assert_false(wlf_ext_match(exts, 2, "/var/www/aphp"));
    assert_false(wlf_ext_match(exts, 2, ""));
    assert_false(wlf_ext_match(exts, 2, NULL));
    assert_false(wlf_ext_match(exts, 0, "/a.php"));
}

static void test_extension_file_named_just_dot_php_is_a_script(void **state)
{
    (void)state;
    /* php-fpm runs it, so it must never go out as source */
    assert_true(wlf_ext_match(exts, 2, "/var/www/.php"));
    assert_true(wlf_ext_match(exts, 2, ".php"));
    assert_true(wlf_ext_match(exts, 2, "x.php"));
}

/* ---- unix sockets ---- */

static char sock_owner[40];

static wlf_sock_class classify(const char *path, const char *own)
{
    sock_owner[0] = '\0';
    return wlf_sock_classify(path, "/run/wlfcgi", own, sock_owner,
                             sizeof(sock_owner));
}

static void test_socket_own_link_and_slots(void **state)
{
    (void)state;
    assert_int_equal(classify("/run/wlfcgi/alice.sock", "alice"),
                     WLF_SOCK_OWN);
    assert_string_equal(sock_owner, "alice");
    assert_int_equal(wlf_sock_classify("/run/wlfcgi/alice.b.sock",
                                       "/run/wlfcgi/", "alice", sock_owner,
                                       sizeof(sock_owner)), WLF_SOCK_OWN);
}

static void test_socket_of_an_accounts_other_php_version(void **state)
{
    (void)state;
    assert_int_equal(classify("/run/wlfcgi/alice.v8.1.sock", "alice"),
                     WLF_SOCK_OWN);
    assert_int_equal(classify("/run/wlfcgi/alice.v8.1.b.sock", "alice"),
                     WLF_SOCK_OWN);
    assert_int_equal(classify("/run/wlfcgi/bob.v8.1.a.sock", "alice"),
                     WLF_SOCK_FOREIGN);
    assert_string_equal(sock_owner, "bob");
    /* no version key, no account socket */
    assert_int_equal(classify("/run/wlfcgi/alice.x8.1.sock", "alice"),
                     WLF_SOCK_OTHER);
}

static void test_socket_of_another_account_is_foreign(void **state)
{
    (void)state;
    assert_int_equal(classify("/run/wlfcgi/bob.a.sock", "alice"),
                     WLF_SOCK_FOREIGN);
    assert_string_equal(sock_owner, "bob");
    /* every account's socket is foreign to a vhost without one */
    assert_int_equal(classify("/run/wlfcgi/bob.sock", NULL),
                     WLF_SOCK_FOREIGN);
}

static void test_socket_dir_files_that_are_no_account_socket(void **state)
{
    (void)state;
    assert_int_equal(classify("/run/wlfcgi/bob.a.pid", "alice"),
                     WLF_SOCK_OTHER);
    assert_int_equal(classify("/run/wlfcgi/x/alice.sock", "alice"),
                     WLF_SOCK_OTHER);
    assert_int_equal(classify("/run/wlfcgi/.sock", "alice"), WLF_SOCK_OTHER);
    assert_int_equal(classify("/run/wlfcgi/Alice.sock", "alice"),
                     WLF_SOCK_OTHER);
    assert_int_equal(classify("/run/wlfcgi/alice.c.sock", "alice"),
                     WLF_SOCK_OTHER);
}

static void test_socket_outside_the_dir_is_not_judged(void **state)
{
    (void)state;
    assert_int_equal(classify("/run/wlfcgi2/alice.sock", "alice"),
                     WLF_SOCK_OUTSIDE);
    assert_int_equal(classify("/run/wlfcgi", "alice"), WLF_SOCK_OUTSIDE);
    assert_int_equal(classify("/tmp/php.sock", "alice"), WLF_SOCK_OUTSIDE);
}

/* ---- reserved worker names ---- */

static void test_worker_names_wlf_dash_are_reserved(void **state)
{
    char a[40];

    (void)state;
    assert_true(wlf_worker_host_account("wlf-alice", a, sizeof(a)));
    assert_string_equal(a, "alice");
    assert_true(wlf_worker_host_account("WLF-Alice.a", a, sizeof(a)));
    assert_string_equal(a, "alice");
    assert_true(wlf_worker_host_account("wlf-bob:8000", a, sizeof(a)));
    assert_string_equal(a, "bob");
}

static void test_worker_names_of_others_are_not(void **state)
{
    char a[40];

    (void)state;
    assert_false(wlf_worker_host_account("localhost", a, sizeof(a)));
    assert_false(wlf_worker_host_account("wlf-", a, sizeof(a)));
    assert_false(wlf_worker_host_account("wlfx-alice", a, sizeof(a)));
    assert_false(wlf_worker_host_account(NULL, a, sizeof(a)));
}

/* ---- environment ---- */

static void test_env_php_value_and_admin_value_are_scrubbed(void **state)
{
    (void)state;
    assert_true(wlf_env_is_scrubbed("PHP_VALUE"));
    assert_true(wlf_env_is_scrubbed("php_admin_value"));
    assert_false(wlf_env_is_scrubbed("PHP_VALUES"));
    assert_false(wlf_env_is_scrubbed("HTTP_PHP_VALUE"));
    assert_non_null(wlf_env_scrubbed[0]);
}

/* ---- upload limits ---- */

static void test_upload_inner_scope_wins(void **state)
{
    (void)state;
    assert_int_equal(wlf_upload_merge(WLF_UPLOAD_UNSET, 5), 5);
    assert_int_equal(wlf_upload_merge(7, WLF_UPLOAD_UNSET), 7);
    assert_int_equal(wlf_upload_merge(7, 3), 3);
}

static void test_upload_scope_then_account_then_default(void **state)
{
    (void)state;
    assert_int_equal(wlf_upload_effective(1, 2, 3), 1);
    assert_int_equal(wlf_upload_effective(WLF_UPLOAD_UNSET, 2, 3), 2);
    assert_int_equal(wlf_upload_effective(WLF_UPLOAD_UNSET, WLF_UPLOAD_UNSET,
                                          3), 3);
}

static void test_body_within_the_limit_fits(void **state)
{
    long long len;

    (void)state;
    assert_int_equal(wlf_body_check(NULL, NULL, 100, &len), WLF_BODY_NONE);
    assert_int_equal(wlf_body_check("0", NULL, 100, &len), WLF_BODY_NONE);
    assert_int_equal(wlf_body_check("100", NULL, 100, &len), WLF_BODY_FITS);
    assert_int_equal(len, 100);
}

static void test_body_over_the_limit_is_too_large(void **state)
{
    long long len;

    (void)state;
    assert_int_equal(wlf_body_check("101", NULL, 100, &len),
                     WLF_BODY_TOO_LARGE);
    assert_int_equal(wlf_body_check("20971520", NULL, 8388608, &len),
                     WLF_BODY_TOO_LARGE);
    assert_int_equal(wlf_body_check("4294967296", NULL, 3LL << 30, &len),
                     WLF_BODY_TOO_LARGE);
}

static void test_body_chunked_is_counted_later(void **state)
{
    long long len;

    (void)state;
    assert_int_equal(wlf_body_check("5", "chunked", 1, &len),
                     WLF_BODY_CHUNKED);
    assert_int_equal(len, -1);
}

static void test_body_unparseable_length_is_bad(void **state)
{
    long long len;

    (void)state;
    assert_int_equal(wlf_body_check("-1", NULL, 100, &len), WLF_BODY_BAD);
    assert_int_equal(wlf_body_check("1x", NULL, 100, &len), WLF_BODY_BAD);
    assert_int_equal(wlf_body_check("", NULL, 100, &len), WLF_BODY_BAD);
    assert_int_equal(wlf_body_check("99999999999999999999", NULL, 100, &len),
                     WLF_BODY_BAD);
}

static void test_upload_limit_sent_to_fpm(void **state)
{
    char buf[128];

    (void)state;
    assert_string_equal(wlf_upload_php_admin(8388608, buf, sizeof(buf)),
                        "upload_max_filesize=8388608\n"
                        "post_max_size=8388608");
}

/* ---- connection reuse ---- */

static wlf_reuse_plan plan;

static int reuse(long long max_children, long long max_execution_time,
                 int threads, int processes, const char *pm)
{
    wlf_reuse_plan_for(max_children, max_execution_time, threads,
                       processes, pm, &plan);
    return plan.enabled;
}

static void test_reuse_off_when_children_too_few(void **state)
{
    (void)state;
    /* event, ServerLimit 16, default max_children 5 */
    assert_false(reuse(5, 30, 25, 16, "static"));
    assert_non_null(strstr(plan.why, "max_children 5"));
    assert_false(reuse(1, 30, 25, 1, "static"));
}

static void test_reuse_one_connection_each_keeps_one_spare(void **state)
{
    (void)state;
    /* 17 children, 16 processes */
    assert_true(reuse(17, 30, 25, 16, "static"));
    assert_int_equal(plan.hmax, 1);
    assert_int_equal(plan.pinned, 16);
    assert_int_equal(plan.ttl, WLF_REUSE_TTL_MAX);
}

static void test_reuse_capped_at_threads_and_children(void **state)
{
    (void)state;
    /* the benchmark set-up: 2 processes of 32 threads */
    assert_true(reuse(72, 30, 32, 2, "static"));
    assert_int_equal(plan.hmax, 32);
    assert_true(plan.pinned <= 72 - WLF_REUSE_SPARE);
    assert_true(reuse(40, 30, 32, 2, "static"));
    assert_int_equal(plan.hmax, 19);
    assert_true(plan.pinned <= 40 - WLF_REUSE_SPARE);
}

static void test_reuse_prefork_one_connection_per_process(void **state)
{
    (void)state;
    assert_true(reuse(300, 30, 1, 256, "static"));
    assert_int_equal(plan.hmax, 1);
    assert_int_equal(plan.pinned, 256);
    assert_false(reuse(256, 30, 1, 256, "static"));
}

static void test_reuse_idle_time_below_request_timeout(void **state)
{
    (void)state;
    assert_true(reuse(100, 3, 25, 2, "static"));
    assert_int_equal(plan.ttl, 2);
    assert_false(reuse(100, 1, 25, 2, "static"));
    assert_non_null(strstr(plan.why, "max_execution_time"));
}

static void test_reuse_only_with_pm_static(void **state)
{
    (void)state;
    assert_false(reuse(72, 30, 32, 2, "ondemand"));
    assert_non_null(strstr(plan.why, "pm = ondemand"));
    assert_false(reuse(72, 30, 32, 2, NULL));
    /* pm = dynamic forks its spares once a second: off too */
    assert_false(reuse(72, 30, 32, 2, "dynamic"));
}

static void test_reuse_off_for_recycled_workers(void **state)
{
    (void)state;
    assert_true(reuse(72, 30, 32, 2, "static"));
    wlf_reuse_check_recycling(0, &plan);
    assert_true(plan.enabled);
    wlf_reuse_check_recycling(500, &plan);
    assert_false(plan.enabled);
    assert_non_null(strstr(plan.why, "max_requests"));
}

static void test_reuse_never_pins_more_than_children_less_one(void **state)
{
    (void)state;
    for (int mc = 1; mc < 200; mc += 7)
        for (int procs = 1; procs < 40; procs += 3)
            for (int th = 1; th < 70; th += 11) {
                if (!reuse(mc, 30, th, procs, "static"))
                    continue;
                assert_true((long long)procs * (th > 1 ? plan.hmax : 1)
                            <= mc - 1);
                assert_true(plan.hmax >= 1 && plan.hmax <= th);
            }
}

/* ---- status page ---- */

static wlf_status_entry status_entries[2];
static wlf_status_page status_page;

/* Every string of the NULL-terminated list appears in text. */
static void assert_contains(const char *text, ...)
{
    const char *want;
    va_list ap;

    assert_non_null(text);
    va_start(ap, text);
    while ((want = va_arg(ap, const char *)) != NULL)
        if (strstr(text, want) == NULL)
            fail_msg("\"%s\" missing from:\n%s", want, text);
    va_end(ap);
}

static int status_setup(void **state)
{
    static const wlf_status_entry e[2] = {
        { "alice.example", 80, "alice", "/run/wlfcgi/alice.sock",
          "/run/wlfcgi/alice.a.sock", 1, NULL, 8 << 20, 4, "running", 0,
          NULL, 0, "8.2", "alice.example" },
        { "odd\"name", 0, NULL, NULL, NULL, -1, "line\nbreak", 0, 0, NULL, 0,
          NULL, 0, NULL, NULL },
    };
    wlf_status_page p = { "/etc/wlfcgi/wlfcgi.conf", "0.1", 3,
                          status_entries, 2 };

    (void)state;
    memcpy(status_entries, e, sizeof(e));
    status_page = p;
    return 0;
}

static void test_status_text_lists_vhost_socket_limit(void **state)
{
    char *t = wlf_status_text(&status_page);

    (void)state;
    assert_contains(t, "alice.example:80", "alice.a.sock", "yes", "8M",
                    NULL);
    free(t);
}

static void test_status_json_escapes_and_nulls(void **state)
{
    char *j = wlf_status_json(&status_page);

    (void)state;
    assert_contains(j, "\"account\":\"alice\"", "\"answers\":true",
                    "\"max_upload\":8388608", "\"vhost\":\"odd\\\"name\"",
                    "\"error\":\"line\\nbreak\"", "\"answers\":null",
                    "\"accounts\":3", "\"suspended\":false", NULL);
    free(j);
}

static void test_status_of_a_suspended_account(void **state)
{
    char *t, *j;

    (void)state;
    status_entries[0].suspended = 1;
    t = wlf_status_text(&status_page);
    j = wlf_status_json(&status_page);
    assert_contains(t, "(suspended)", NULL);
    assert_contains(j, "\"suspended\":true", NULL);
    free(t);
    free(j);
}

static void test_status_of_an_instance_that_does_not_answer(void **state)
{
    char *t, *j;

    (void)state;
    status_entries[0].answers = 0;
    status_entries[0].error = "connect: Connection refused";
    status_entries[0].live = NULL;
    t = wlf_status_text(&status_page);
    j = wlf_status_json(&status_page);
    assert_contains(t, "NO", "no live instance", NULL);
    assert_contains(j, "\"answers\":false", "\"live_socket\":null", NULL);
    free(t);
    free(j);
}

/* An idle on-demand account: its socket accepts, no master runs. */
static void test_status_of_an_idle_on_demand_account(void **state)
{
    char *t, *j;

    (void)state;
    status_entries[0].state = "idle";
    t = wlf_status_text(&status_page);
    j = wlf_status_json(&status_page);
    assert_contains(t, " idle ", NULL);
    assert_contains(j, "\"state\":\"idle\"", "\"answers\":true", NULL);
    free(t);
    free(j);
}

static void test_status_lists_server_aliases(void **state)
{
    static const char *const aliases[] = { "www.alice.example",
                                           "*.shop.alice.example" };
    char *t, *j, *h;

    (void)state;
    status_entries[0].aliases = aliases;
    status_entries[0].n_aliases = 2;
    t = wlf_status_text(&status_page);
    j = wlf_status_json(&status_page);
    h = wlf_status_html(&status_page);
    assert_contains(t, "\n  alias www.alice.example, *.shop.alice.example\n",
                    NULL);
    assert_contains(j, "\"aliases\":[\"www.alice.example\","
                    "\"*.shop.alice.example\"]", "\"aliases\":[]", NULL);
    assert_contains(h, "<td>www.alice.example<br>*.shop.alice.example</td>",
                    NULL);
    free(t);
    free(j);
    free(h);
}

static void test_status_says_no_live_instance_once(void **state)
{
    char *t, *h;

    (void)state;
    status_entries[0].answers = 0;
    status_entries[0].live = NULL;
    status_entries[0].error = "/run/wlfcgi/alice.sock is missing or points "
                              "to no slot";
    t = wlf_status_text(&status_page);
    h = wlf_status_html(&status_page);
    assert_contains(t, "-> (no live instance: /run/wlfcgi/alice.sock is "
                    "missing or points to no slot)\n", NULL);
    assert_null(strstr(strstr(t, "no live instance") + 1,
                       "no live instance"));
    assert_contains(h, "(no live instance: /run/wlfcgi/alice.sock", NULL);
    free(t);
    free(h);
}

static void test_status_html_is_escaped(void **state)
{
    char *h = wlf_status_html(&status_page);

    (void)state;
    assert_contains(h, "<!DOCTYPE html>", "<td>odd&quot;name</td>",
                    "<td>alice.example:80</td>", "<td>alice</td>",
                    "line\nbreak", "href=\"?json\"", NULL);
    assert_null(strstr(h, "odd\"name"));
    free(h);
}

static void test_status_json_has_a_schema(void **state)
{
    char *j = wlf_status_json(&status_page);

    (void)state;
    assert_int_equal(strncmp(j, "{\"schema\":1,", 12), 0);
    free(j);
}

static void test_status_form_follows_the_query_then_accept(void **state)
{
    (void)state;
    assert_int_equal(wlf_status_form_of("json", NULL), WLF_STATUS_JSON);
    assert_int_equal(wlf_status_form_of("json&x=1", "text/html"),
                     WLF_STATUS_JSON);
    assert_int_equal(wlf_status_form_of("html", NULL), WLF_STATUS_HTML);
    assert_int_equal(wlf_status_form_of("openmetrics", NULL),
                     WLF_STATUS_OPENMETRICS);
    assert_int_equal(wlf_status_form_of("text", "text/html,*/*"),
                     WLF_STATUS_TEXT);
    assert_int_equal(wlf_status_form_of(NULL, "text/html,application/"
                     "xhtml+xml"), WLF_STATUS_HTML);
    assert_int_equal(wlf_status_form_of(NULL, "*/*"), WLF_STATUS_TEXT);
    assert_int_equal(wlf_status_form_of(NULL, NULL), WLF_STATUS_TEXT);
    assert_int_equal(wlf_status_form_of("jsonx", NULL), WLF_STATUS_TEXT);
}

/* ---- log tags ---- */

static void test_log_tags_unique_ascending_explained(void **state)
{
    (void)state;
    assert_true(wlf_log_codes_count > 10);
    for (size_t i = 0; i < wlf_log_codes_count; i++) {
        const char *t = wlf_log_codes[i].tag;
        assert_int_equal(strlen(t), 8);
        assert_memory_equal(t, "WLF", 3);
        assert_true(strlen(wlf_log_codes[i].meaning) > 20);
        assert_non_null(wlf_log_codes[i].level);
        /* ascending (so unique), as in the man page */
        if (i)
            assert_true(strcmp(wlf_log_codes[i - 1].tag, t) < 0);
    }
}

#define MAP_TEST(t) cmocka_unit_test_setup_teardown(t, map_setup, map_teardown)
#define STATUS_TEST(t) cmocka_unit_test_setup(t, status_setup)

int main(void)
{
    const struct CMUnitTest tests[] = {
        MAP_TEST(test_map_exact_name),
        MAP_TEST(test_map_unknown_name_has_no_account),
        MAP_TEST(test_map_wildcard_and_exact_name_of_one_account),
        MAP_TEST(test_map_wildcard_domain_ignores_case),
        MAP_TEST(test_map_wildcard_alias_equal_to_wildcard_domain),
        MAP_TEST(test_map_names_of_two_accounts_conflict),
        MAP_TEST(test_map_name_under_anothers_wildcard_conflicts),
        MAP_TEST(test_map_name_a_skipped_account_claims_conflicts),
        MAP_TEST(test_map_name_only_a_skipped_account_claims_fails),
        MAP_TEST(test_map_explicit_account_needs_no_name),
        MAP_TEST(test_map_explicit_unknown_account_fails),
        MAP_TEST(test_map_explicit_skipped_account_says_skipped),
        MAP_TEST(test_map_explicit_account_against_anothers_name),
        cmocka_unit_test(test_extension_syntax),
        cmocka_unit_test(test_extension_fpm_would_deny_is_named),
        cmocka_unit_test(test_extension_match_ignores_case),
        cmocka_unit_test(test_extension_match_needs_the_suffix),
        cmocka_unit_test(test_extension_file_named_just_dot_php_is_a_script),
        cmocka_unit_test(test_socket_own_link_and_slots),
        cmocka_unit_test(test_socket_of_an_accounts_other_php_version),
        cmocka_unit_test(test_socket_of_another_account_is_foreign),
        cmocka_unit_test(test_socket_dir_files_that_are_no_account_socket),
        cmocka_unit_test(test_socket_outside_the_dir_is_not_judged),
        cmocka_unit_test(test_worker_names_wlf_dash_are_reserved),
        cmocka_unit_test(test_worker_names_of_others_are_not),
        cmocka_unit_test(test_env_php_value_and_admin_value_are_scrubbed),
        cmocka_unit_test(test_upload_inner_scope_wins),
        cmocka_unit_test(test_upload_scope_then_account_then_default),
        cmocka_unit_test(test_body_within_the_limit_fits),
        cmocka_unit_test(test_body_over_the_limit_is_too_large),
        cmocka_unit_test(test_body_chunked_is_counted_later),
        cmocka_unit_test(test_body_unparseable_length_is_bad),
        cmocka_unit_test(test_upload_limit_sent_to_fpm),
        cmocka_unit_test(test_reuse_off_when_children_too_few),
        cmocka_unit_test(test_reuse_one_connection_each_keeps_one_spare),
        cmocka_unit_test(test_reuse_capped_at_threads_and_children),
        cmocka_unit_test(test_reuse_prefork_one_connection_per_process),
        cmocka_unit_test(test_reuse_idle_time_below_request_timeout),
        cmocka_unit_test(test_reuse_only_with_pm_static),
        cmocka_unit_test(test_reuse_off_for_recycled_workers),
        cmocka_unit_test(test_reuse_never_pins_more_than_children_less_one),
        STATUS_TEST(test_status_text_lists_vhost_socket_limit),
        STATUS_TEST(test_status_json_escapes_and_nulls),
        STATUS_TEST(test_status_of_an_instance_that_does_not_answer),
        STATUS_TEST(test_status_of_an_idle_on_demand_account),
        STATUS_TEST(test_status_of_a_suspended_account),
        STATUS_TEST(test_status_lists_server_aliases),
        STATUS_TEST(test_status_says_no_live_instance_once),
        STATUS_TEST(test_status_html_is_escaped),
        STATUS_TEST(test_status_json_has_a_schema),
        cmocka_unit_test(test_status_form_follows_the_query_then_accept),
        cmocka_unit_test(test_log_tags_unique_ascending_explained),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
