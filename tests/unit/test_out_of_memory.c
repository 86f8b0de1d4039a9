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
#include "unit_accounts.h"

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

/* What the subjects work on: a wlfcgi.conf whose accounts directory holds
 * four account files, and an account in memory. */
typedef struct world world;

/*
 * One subject: attempt() does the work (its result kept in the world),
 * describe() turns that result into text and frees it; both run once
 * without a failure for the expected text. Any failure is in attempt().
 */
typedef struct {
    int (*attempt)(world *w, wlf_err *err);
    char *(*describe)(world *w);
    long at_least;              /* allocations a run makes */
} subject;

struct world {
    const subject *subject;
    char dir[32];
    char *conf_text;
    wlf_config cfg;
    wlf_account acct;
    union {                     /* what attempt() made */
        wlf_config cfg;
        wlf_account acct;
        wlf_account_list list;
        fpm_rendered files;
        char *text;
    } out;
};

#define CONF_TEXT \
    "httpd_group = \"www-data\";\n" \
    "paths = { accounts = \"%s\"; sockets = \"/tmp/wlf-oom/r\";" \
    " state = \"/tmp/wlf-oom/s\"; logs = \"/tmp/wlf-oom/l\"; };\n" \
    "php = { default = \"8.2\"; versions = ( { version = \"8.2\"; " \
    "fpm = \"/usr/sbin/php-fpm8.2\"; }, { version = \"8.3\"; " \
    "fpm = \"/usr/sbin/php-fpm8.3\"; } ); };\n" \
    "defaults = { max_children = 7; };\n" \
    "php_admin_allowed = [ \"memory_limit\", \"display_errors\" ];\n"

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

static int setup(void **state)
{
    world *w = calloc(1, sizeof(*w));
    wlf_err e;

    w->subject = *state;
    snprintf(w->dir, sizeof(w->dir), "/tmp/wlf-oom-XXXXXX");
    assert_non_null(mkdtemp(w->dir));
    put_account(w->dir, "alice", "shop.example");
    put_account(w->dir, "bob", "shop.example");     /* clashes with alice */
    put_account(w->dir, "carol", "carol.example");
    put_account(w->dir, "dave", "bad..example");     /* does not load */
    assert_true(asprintf(&w->conf_text, CONF_TEXT, w->dir) > 0);
    if (wlf_config_load_string(w->conf_text, "t", &w->cfg, &e) != 0)
        fail_msg("%s: %s", e.field, e.msg);

    unit_alice(&w->acct, 1);
    *state = w;
    return 0;
}

static int teardown(void **state)
{
    world *w = *state;
    char cmd[64];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", w->dir);
    assert_int_equal(system(cmd), 0);
    free(w->conf_text);
    wlf_account_free(&w->acct);
    wlf_config_free(&w->cfg);
    free(w);
    return 0;
}

/* Fail each allocation of attempt() in turn: every run fails with "out of
 * memory" or gives what a run without failures gives. */
static void test_each_allocation_fails(void **state)
{
    world *w = *state;
    const subject *t = w->subject;
    char *want, *got;
    wlf_err e;
    long n;

    assert_int_equal(t->attempt(w, &e), 0);
    want = t->describe(w);
    for (n = 1;; n++) {
        int rc, failed;

        fail_allocation(n);
        rc = t->attempt(w, &e);
        failed = allocation_failed();
        if (rc < 0) {
            assert_true(failed);
            if (strstr(e.msg, "out of memory") == NULL)
                fail_msg("allocation %ld: %s: %s", n, e.field, e.msg);
            continue;
        }
        got = t->describe(w);
        assert_string_equal(got, want);
        free(got);
        if (!failed)
            break;
    }
    free(want);
    /* the runs did reach the code under test */
    assert_true(n - 1 >= t->at_least);
}

/* ---- the subjects ---- */

static int load_config(world *w, wlf_err *err)
{
    return wlf_config_load_string(w->conf_text, "t", &w->out.cfg, err);
}

static int init_defaults(world *w, wlf_err *err)
{
    return wlf_config_init_defaults(&w->out.cfg, "/tmp/wlf-oom",
                                    WLF_SERVICE_DIRECT, "www-data", err);
}

static char *config_written(world *w)
{
    char *text = wlf_config_render(&w->out.cfg);

    wlf_config_free(&w->out.cfg);
    return text;
}

static int copy_account(world *w, wlf_err *err)
{
    if (wlf_account_copy(&w->out.acct, &w->acct) == 0)
        return 0;
    /* nothing half-copied is left behind */
    assert_null(w->out.acct.user);
    assert_int_equal(w->out.acct.n_domains + w->out.acct.n_php_admin, 0);
    return wlf_fail(err, "copy", "out of memory");
}

static char *account_written(world *w)
{
    char *text = wlf_account_render(&w->out.acct);

    wlf_account_free(&w->out.acct);
    return text;
}

static int write_account(world *w, wlf_err *err)
{
    if ((w->out.text = wlf_account_render(&w->acct)) == NULL)
        return wlf_fail(err, "render", "out of memory");
    return 0;
}

static char *the_text(world *w)
{
    return w->out.text;
}

static int render_instance(world *w, wlf_err *err)
{
    return fpm_render_all(&w->cfg, &w->acct, 'b', &w->out.files, err);
}

static char *files_rendered(world *w)
{
    char *text;

    assert_true(asprintf(&text, "%s\n--\n%s\n--\n%s", w->out.files.conf,
                         w->out.files.ini, w->out.files.bin) > 0);
    fpm_rendered_free(&w->out.files);
    return text;
}

static int load_accounts(world *w, wlf_err *err)
{
    int rc = wlf_accounts_load(&w->cfg, &w->out.list, err);

    if (rc < 0)
        assert_int_equal(w->out.list.n + w->out.list.n_skipped +
                         w->out.list.n_errors, 0);
    return rc;
}

/* Every file is there: loaded, or listed with why it is not. Which of
 * them loaded differs when a failure hit one file's own loading. */
static char *files_accounted_for(world *w)
{
    char *text;

    assert_true(asprintf(&text, "%zu files", w->out.list.n +
                         w->out.list.n_errors) > 0);
    wlf_account_list_free(&w->out.list);
    return text;
}

/* test_NAME: the subject attempt/describe, at least n allocations */
#define OOM_TEST(name, attempt, describe, n) \
    { "test_" #name, test_each_allocation_fails, setup, teardown, \
      &(subject){ attempt, describe, n } }

int main(void)
{
    const struct CMUnitTest tests[] = {
        OOM_TEST(config_load_fails_whole_or_not_at_all, load_config,
                 config_written, 10),
        OOM_TEST(init_defaults_fail_whole_or_not_at_all, init_defaults,
                 config_written, 10),
        OOM_TEST(account_copy_fails_whole_or_not_at_all, copy_account,
                 account_written, 5),
        OOM_TEST(account_writer_never_cuts_a_file_short, write_account,
                 the_text, 1),
        OOM_TEST(instance_renderer_never_cuts_a_file_short, render_instance,
                 files_rendered, 5),
        OOM_TEST(accounts_load_never_returns_a_shorter_list, load_accounts,
                 files_accounted_for, 20),
    };
    if (!INJECTING) {
        printf("out-of-memory tests need the allocator of a build "
               "without ASan; skipped\n");
        return 0;
    }
    return cmocka_run_group_tests(tests, NULL, NULL);
}
