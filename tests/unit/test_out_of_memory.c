/* Running out of memory is reported, never ignored: for every allocation
 * that the account database code (loader, model, writer) and fpmctl's
 * renderer make, a run in which exactly that allocation fails must either
 * fail with "out of memory" or produce the complete result, never a
 * shorter account list or a cut-off file.
 *
 * The allocation functions are replaced in this test program; only calls
 * from the program's own code fail (libconfig's scanner exits on a failed
 * allocation, which is libconfig's business). Not under ASan, which
 * replaces them itself. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "confwrite.h"
#include "render.h"
#include "wlf_config.h"

#if defined(__SANITIZE_ADDRESS__)
#define INJECTING 0
#else
#define INJECTING 1
#endif

static long fail_at;    /* 0: nothing fails; else the allocation (from 1)
                           of the program's own code that fails */
static long n_allocs;   /* allocations of the program's own code so far */

#if INJECTING
extern void *__libc_malloc(size_t n);
extern void *__libc_realloc(void *p, size_t n);
extern void *__libc_calloc(size_t n, size_t size);
extern char __executable_start[], etext[];

static int should_fail(const void *caller)
{
    if (fail_at == 0 || (const char *)caller < __executable_start ||
        (const char *)caller >= etext)
        return 0;
    if (++n_allocs != fail_at)
        return 0;
    errno = ENOMEM;
    return 1;
}

void *malloc(size_t n)
{
    return should_fail(__builtin_return_address(0)) ? NULL
                                                     : __libc_malloc(n);
}

void *realloc(void *p, size_t n)
{
    return should_fail(__builtin_return_address(0)) ? NULL
                                                     : __libc_realloc(p, n);
}

void *calloc(size_t n, size_t size)
{
    return should_fail(__builtin_return_address(0)) ? NULL
                                                     : __libc_calloc(n, size);
}

char *strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d;

    if (should_fail(__builtin_return_address(0)))
        return NULL;
    if ((d = __libc_malloc(n)) != NULL)
        memcpy(d, s, n);
    return d;
}
#endif

/* Fail the n-th allocation from now on (0: none). */
static void fail_allocation(long n)
{
    n_allocs = 0;
    fail_at = n;
}

/* After a run with fail_allocation(n): did that allocation happen? */
static int allocation_failed(void)
{
    int failed = fail_at != 0 && n_allocs >= fail_at;

    fail_at = 0;
    return failed;
}

#define CONF_TEXT \
    "httpd_group = \"www-data\";\n" \
    "paths = { accounts = \"%s\"; sockets = \"/tmp/wlf-oom/r\";" \
    " state = \"/tmp/wlf-oom/s\"; logs = \"/tmp/wlf-oom/l\"; };\n" \
    "php = { default = \"8.2\"; versions = ( { version = \"8.2\"; " \
    "fpm = \"/usr/sbin/php-fpm8.2\"; }, { version = \"8.3\"; " \
    "fpm = \"/usr/sbin/php-fpm8.3\"; } ); };\n" \
    "defaults = { max_children = 7; };\n" \
    "php_admin_allowed = [ \"memory_limit\", \"display_errors\" ];\n"

static void make_config(const char *accounts, wlf_config *cfg, char **text)
{
    wlf_err e;

    assert_true(asprintf(text, CONF_TEXT, accounts) > 0);
    if (wlf_config_load_string(*text, "t", cfg, &e) != 0)
        fail_msg("%s: %s", e.field, e.msg);
}

static void make_account(wlf_account *a)
{
    wlf_err e;

    wlf_account_init(a);
    snprintf(a->name, sizeof(a->name), "alice");
    a->user = strdup("alice");
    a->group = strdup("alice");
    a->home = strdup("/home/alice");
    assert_int_equal(wlf_account_add_domain(a, "alice.example", &e), 0);
    assert_int_equal(wlf_account_add_domain(a, "*.alice.example", &e), 0);
    assert_int_equal(wlf_setting_parse(&a->settings, WLF_S_PHP, "8.3", &e),
                     0);
    assert_int_equal(wlf_setting_parse(&a->settings, WLF_S_MAX_UPLOAD, "1G",
                                       &e), 0);
    assert_int_equal(wlf_account_set_php_admin(a, "memory_limit", "256M"),
                     0);
}

static void test_config_load_fails_whole_or_not_at_all(void **state)
{
    wlf_config ref, cfg;
    char *text, *want;
    wlf_err e;
    long n;

    (void)state;
    make_config("/tmp/wlf-oom/a", &ref, &text);
    want = wlf_config_render(&ref);
    for (n = 1;; n++) {
        char *got;
        int rc;

        fail_allocation(n);
        rc = wlf_config_load_string(text, "t", &cfg, &e);
        if (!allocation_failed()) {
            assert_int_equal(rc, 0);
            wlf_config_free(&cfg);
            break;
        }
        if (rc < 0) {
            assert_non_null(strstr(e.msg, "out of memory"));
            continue;
        }
        got = wlf_config_render(&cfg);
        assert_string_equal(got, want);
        free(got);
        wlf_config_free(&cfg);
    }
    assert_true(n > 10);
    free(want);
    free(text);
    wlf_config_free(&ref);
}

static void test_init_defaults_fail_whole_or_not_at_all(void **state)
{
    wlf_config ref, cfg;
    char *want;
    wlf_err e;
    long n;

    (void)state;
    assert_int_equal(wlf_config_init_defaults(&ref, "/tmp/wlf-oom",
                                              WLF_SERVICE_DIRECT, "www-data",
                                              &e), 0);
    want = wlf_config_render(&ref);
    for (n = 1;; n++) {
        int rc;

        fail_allocation(n);
        rc = wlf_config_init_defaults(&cfg, "/tmp/wlf-oom",
                                      WLF_SERVICE_DIRECT, "www-data", &e);
        if (!allocation_failed()) {
            assert_int_equal(rc, 0);
            wlf_config_free(&cfg);
            break;
        }
        if (rc < 0) {
            assert_non_null(strstr(e.msg, "out of memory"));
            continue;
        }
        {
            char *got = wlf_config_render(&cfg);
            assert_string_equal(got, want);
            free(got);
        }
        wlf_config_free(&cfg);
    }
    assert_true(n > 10);
    free(want);
    wlf_config_free(&ref);
}

static void test_account_copy_fails_whole_or_not_at_all(void **state)
{
    wlf_account a, b;
    char *want;
    long n;

    (void)state;
    make_account(&a);
    want = wlf_account_render(&a);
    for (n = 1;; n++) {
        int rc;

        fail_allocation(n);
        rc = wlf_account_copy(&b, &a);
        if (!allocation_failed()) {
            assert_int_equal(rc, 0);
            wlf_account_free(&b);
            break;
        }
        if (rc < 0) {
            /* nothing half-copied is left behind */
            assert_null(b.user);
            assert_int_equal(b.n_domains + b.n_php_admin, 0);
            continue;
        }
        {
            char *got = wlf_account_render(&b);
            assert_string_equal(got, want);
            free(got);
        }
        wlf_account_free(&b);
    }
    assert_true(n > 5);
    free(want);
    wlf_account_free(&a);
}

static void test_writer_and_renderer_never_cut_a_file_short(void **state)
{
    wlf_config cfg;
    wlf_account a;
    fpm_rendered ref;
    char *text, *want;
    wlf_err e;
    long n;

    (void)state;
    make_config("/tmp/wlf-oom/a", &cfg, &text);
    make_account(&a);
    want = wlf_account_render(&a);
    assert_int_equal(fpm_render_all(&cfg, &a, 'a', &ref, &e), 0);
    for (n = 1;; n++) {
        char *got;
        fpm_rendered r;
        int rc;

        fail_allocation(n);
        got = wlf_account_render(&a);
        rc = fpm_render_all(&cfg, &a, 'b', &r, &e);
        if (!allocation_failed()) {
            assert_non_null(got);
            assert_int_equal(rc, 0);
            free(got);
            fpm_rendered_free(&r);
            break;
        }
        if (got)
            assert_string_equal(got, want);
        free(got);
        if (rc < 0) {
            assert_non_null(strstr(e.msg, "out of memory"));
            continue;
        }
        assert_string_equal(r.ini, ref.ini);
        assert_string_equal(r.bin, ref.bin);
        assert_non_null(strstr(r.conf, "php_admin_value[memory_limit] = "
                                       "\"256M\"\n"));
        fpm_rendered_free(&r);
    }
    assert_true(n > 5);
    fpm_rendered_free(&ref);
    free(want);
    free(text);
    wlf_account_free(&a);
    wlf_config_free(&cfg);
}

static void put_account(const char *dir, const char *name, const char *domain)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s.conf", dir, name);
    assert_non_null(f = fopen(path, "w"));
    fprintf(f, "name = \"%s\"; user = \"%s\"; group = \"%s\"; "
            "home = \"/home/%s\"; domains = [ \"%s\" ];\n"
            "php_admin = ( { name = \"memory_limit\"; value = \"1G\"; } );\n",
            name, name, name, name, domain);
    fclose(f);
}

static void test_accounts_load_never_returns_a_shorter_list(void **state)
{
    char dir[] = "/tmp/wlf-oom-XXXXXX", cmd[64], *text;
    wlf_config cfg;
    wlf_account_list list;
    wlf_err e;
    long n;

    (void)state;
    assert_non_null(mkdtemp(dir));
    put_account(dir, "alice", "shop.example");
    put_account(dir, "bob", "shop.example");       /* clashes with alice */
    put_account(dir, "carol", "carol.example");
    put_account(dir, "dave", "bad..example");       /* does not load */
    make_config(dir, &cfg, &text);
    for (n = 1;; n++) {
        int rc;

        fail_allocation(n);
        rc = wlf_accounts_load(&cfg, &list, &e);
        if (!allocation_failed()) {
            assert_int_equal(rc, 0);
            assert_int_equal(list.n, 2);
            assert_int_equal(list.n_skipped, 1);
            assert_int_equal(list.n_errors, 2);
            wlf_account_list_free(&list);
            break;
        }
        if (rc < 0) {
            if (strstr(e.msg, "out of memory") == NULL)
                fail_msg("allocation %ld: %s", n, e.msg);
            assert_int_equal(list.n + list.n_skipped + list.n_errors, 0);
            continue;
        }
        /* every file is there: loaded, or listed with why it is not */
        assert_int_equal(list.n + list.n_errors, 4);
        wlf_account_list_free(&list);
    }
    assert_true(n > 20);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(text);
    wlf_config_free(&cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_load_fails_whole_or_not_at_all),
        cmocka_unit_test(test_init_defaults_fail_whole_or_not_at_all),
        cmocka_unit_test(test_account_copy_fails_whole_or_not_at_all),
        cmocka_unit_test(test_writer_and_renderer_never_cut_a_file_short),
        cmocka_unit_test(test_accounts_load_never_returns_a_shorter_list),
    };
    if (!INJECTING) {
        printf("out-of-memory tests need the allocator of a build "
               "without ASan; skipped\n");
        return 0;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
