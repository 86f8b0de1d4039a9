/* Unit tests for the shared library: sizes, validation, the settings
 * table, the account loader, model and writer, the helpers (buffer, JSON
 * string, clock, dirname) and the FastCGI record code. One case per
 * behaviour. */
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
#include "wlf_buf.h"
#include "wlf_config.h"
#include "wlf_fcgi.h"
#include "wlf_size.h"
#include "wlf_sys.h"
#include "wlf_validate.h"
#include "unit_accounts.h"

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

/* ---- sizes ---- */

static void assert_size(const char *text, long long want)
{
    long long v;
    wlf_err e;

    if (wlf_size_parse(text, "x", &v, &e) != 0)
        fail_msg("%s: %s", text, e.msg);
    assert_int_equal(v, want);
}

static void test_size_suffixes_are_binary_and_any_case(void **state)
{
    (void)state;
    assert_size("512", 512);
    assert_size("8M", 8 << 20);
    assert_size("3g", 3LL << 30);
    assert_size("8MiB", 8 << 20);
    assert_size("1T", 1LL << 40);
}

static void test_size_refuses_what_is_not_a_size(void **state)
{
    const char *bad[] = { "-1", "", "8 M", "12X", "8MB", "1gb", NULL };
    long long v;
    wlf_err e;

    (void)state;
    for (int i = 0; bad[i]; i++) {
        if (wlf_size_parse(bad[i], "max_upload", &v, &e) != -1)
            fail_msg("accepted '%s'", bad[i]);
        assert_string_equal(e.field, "max_upload");
    }
}

static void test_size_with_a_decimal_looking_unit_says_what_to_write(
    void **state)
{
    long long v;
    wlf_err e;

    (void)state;
    assert_int_equal(wlf_size_parse("8MB", "max_upload", &v, &e), -1);
    assert_string_equal(e.msg, "'8MB' is ambiguous: sizes are binary, write "
                        "8M or 8MiB");
    assert_size("512B", 512);
}

static void test_size_refuses_overflow(void **state)
{
    long long v;
    wlf_err e;

    (void)state;
    assert_int_equal(wlf_size_parse("99999999999999999999G", "x", &v, &e),
                     -1);
    assert_int_equal(wlf_size_parse("2000000T", "x", &v, &e), -1);
}

static void test_size_format_is_the_shortest_exact_form(void **state)
{
    char buf[32];

    (void)state;
    assert_string_equal(wlf_size_format(8 << 20, buf, sizeof(buf)), "8M");
    assert_string_equal(wlf_size_format(1536, buf, sizeof(buf)), "1536");
    assert_string_equal(wlf_size_format(3LL << 30, buf, sizeof(buf)), "3G");
    assert_string_equal(wlf_size_format(0, buf, sizeof(buf)), "0");
}

/* ---- validation ---- */

static void test_account_names_that_are_valid(void **state)
{
    wlf_err e;

    (void)state;
    assert_int_equal(wlf_valid_account_name("alice", &e), 0);
    assert_int_equal(wlf_valid_account_name("a-b_c9", &e), 0);
    assert_int_equal(wlf_valid_account_name(
                         "abcdefghijklmnopqrstuvwxyz012345", &e), 0);
}

static void test_account_names_refused_with_a_one_line_error(void **state)
{
    wlf_err e;
    const char *bad[] = { "", "a/b", "..", "a\nb", "a=b", "a[b", "a]b",
                          "a;b", "a b", "1abc", "-abc", "Alice",
                          "abcdefghijklmnopqrstuvwxyz0123456", NULL };

    (void)state;
    for (int i = 0; bad[i]; i++) {
        assert_int_equal(wlf_valid_account_name(bad[i], &e), -1);
        assert_string_equal(e.field, "name");
        assert_null(strchr(e.msg, '\n'));
    }
}

static void test_domains_that_are_valid(void **state)
{
    wlf_err e;

    (void)state;
    assert_int_equal(wlf_valid_domain("alice.example", &e), 0);
    assert_int_equal(wlf_valid_domain("*.alice.example", &e), 0);
    assert_int_equal(wlf_valid_domain("localhost", &e), 0);
}

static void test_domains_refused(void **state)
{
    const char *bad[] = { "a..b", "-a.b", "a-.b", "a.b.", "a_b.c", "a.*.c",
                          "a b", NULL };
    wlf_err e;

    (void)state;
    for (int i = 0; bad[i]; i++)
        if (wlf_valid_domain(bad[i], &e) != -1)
            fail_msg("accepted '%s'", bad[i]);
}

static void test_domain_wildcards_match_subdomains_only(void **state)
{
    (void)state;
    assert_true(wlf_domain_matches("*.a.example", "www.a.example"));
    assert_false(wlf_domain_matches("*.a.example", "a.example"));
    assert_true(wlf_domain_matches("a.example", "A.Example"));
}

/* A validator's verdict on each value: 0 valid, -1 refused. */
typedef struct {
    const char *value;
    int verdict;
} verdict;

static void assert_verdicts(int (*valid)(const char *, const char *,
                                         wlf_err *),
                            const verdict *v)
{
    wlf_err e;

    for (; v->value; v++)
        if (valid(v->value, "x", &e) != v->verdict)
            fail_msg("'%s': expected %d", v->value, v->verdict);
}

static void test_ini_values_cannot_break_quotes_or_expand(void **state)
{
    static const verdict v[] = {
        { "256M", 0 }, { "/srv/a:/tmp", 0 }, { "a\nb", -1 },
        { "a\"b", -1 }, { "${HOME}", -1 }, { NULL, 0 } };

    (void)state;
    assert_verdicts(wlf_valid_ini_value, v);
}

static void test_ini_keys_are_directive_names(void **state)
{
    static const verdict v[] = {
        { "session.gc_maxlifetime", 0 }, { "a[b]", -1 }, { NULL, 0 } };

    (void)state;
    assert_verdicts(wlf_valid_ini_key, v);
}

static void test_absolute_paths_without_dot_dot(void **state)
{
    static const verdict v[] = {
        { "/srv/www", 0 }, { "srv", -1 }, { "/srv/../etc", -1 },
        { "/srv/..", -1 }, { NULL, 0 } };

    (void)state;
    assert_verdicts(wlf_valid_abs_path, v);
}

/* ---- the settings table ---- */

static void test_setting_values_format_as_they_parse(void **state)
{
    wlf_settings s;
    wlf_err e;
    char buf[32];

    (void)state;
    memset(&s, 0, sizeof(s));
    assert_int_equal(wlf_setting_parse(&s, WLF_S_MAX_UPLOAD, "64M", &e), 0);
    assert_int_equal(wlf_setting_parse(&s, WLF_S_PM, "static", &e), 0);
    assert_int_equal(wlf_setting_parse(&s, WLF_S_OPCACHE_VALIDATE_TIMESTAMPS,
                                       "off", &e), 0);
    assert_int_equal(wlf_setting_parse(&s, WLF_S_PHP, "8.3", &e), 0);
    assert_string_equal(wlf_setting_format(&s, WLF_S_MAX_UPLOAD, buf,
                                           sizeof(buf)), "64M");
    assert_string_equal(wlf_setting_format(&s, WLF_S_PM, buf, sizeof(buf)),
                        "static");
    assert_string_equal(wlf_setting_format(&s,
                                           WLF_S_OPCACHE_VALIDATE_TIMESTAMPS,
                                           buf, sizeof(buf)), "false");
    assert_string_equal(wlf_setting_format(&s, WLF_S_PHP, buf, sizeof(buf)),
                        "8.3");
    wlf_settings_free(&s);
}

static void test_setting_out_of_range_names_its_bounds(void **state)
{
    wlf_settings s;
    wlf_err e;

    (void)state;
    memset(&s, 0, sizeof(s));
    assert_int_equal(wlf_setting_parse(&s, WLF_S_MAX_UPLOAD, "512", &e), -1);
    assert_string_equal(e.field, "max_upload");
    assert_non_null(strstr(e.msg, "between 1K and 1T"));
    assert_int_equal(wlf_setting_parse(&s, WLF_S_PM, "adaptive", &e), -1);
    assert_non_null(strstr(e.msg, "ondemand|static|dynamic"));
    assert_false(s.is_set[WLF_S_MAX_UPLOAD]);
    wlf_settings_free(&s);
}

static void test_every_setting_has_a_valid_builtin_default(void **state)
{
    wlf_settings s;
    wlf_err e;

    (void)state;
    for (int i = 0; i < WLF_S_COUNT; i++) {
        const wlf_setting_def *d = &wlf_setting_defs[i];
        assert_int_equal(wlf_setting_find(d->key), i);
        assert_non_null(d->doc);
        if (d->type == WLF_T_STRING)
            continue;
        memset(&s, 0, sizeof(s));
        if (wlf_setting_parse(&s, i, d->builtin, &e) != 0)
            fail_msg("%s: builtin '%s': %s", d->key, d->builtin, e.msg);
    }
    assert_int_equal(wlf_setting_find("nosuchkey"), -1);
}

/* ---- wlfcgi.conf ---- */

static void load_base(wlf_config *cfg)
{
    wlf_err e;

    if (wlf_config_load_string(base_conf, "t", cfg, &e) != 0)
        fail_msg("%s: %s", e.field, e.msg);
}

/* A file with a syntax error, and the line (and words) the message must
 * name: the line the admin got wrong. Cases of
 * test_syntax_error_line(). */
typedef struct {
    const char *text;
    const char *want;
} syntax_case;

static const syntax_case syntax_unclosed_quote_is_on_its_own_line = {
    "name = \"alice\";\nuser = \"a;\nhome = \"/h\";\n",
    "line 2: the string that starts here is not closed" };
static const syntax_case syntax_unclosed_bracket_is_where_it_opens = {
    "name = \"alice\";\ndomains = [ \"a.example\";\nhome = \"/h\";\n",
    "line 2: '[' is not closed" };
static const syntax_case syntax_unclosed_group_at_the_end_is_where_it_opens = {
    "name = \"alice\";\nphp_admin = ( { name = \"x\";\n\n\n",
    "line 2: '{' is not closed" };
static const syntax_case syntax_stray_closing_bracket_is_named = {
    "name = \"alice\";\n}\nhome = \"/h\";\n", "line 2: unexpected '}'" };
static const syntax_case syntax_other_errors_keep_libconfigs_line = {
    "name = \"alice\";\nmax_children = ;\nhome = \"/h\";\n",
    "line 2: syntax error" };
static const syntax_case syntax_quotes_in_comments_do_not_count = {
    "# a \"quoted\" word and a ( in a comment\nname = \"alice\";\n"
    "max_children = 5x;\n", "line 3: syntax error" };

static void test_syntax_error_line(void **state)
{
    const syntax_case *c = *state;
    wlf_config cfg;
    wlf_account a;
    wlf_err e;

    load_base(&cfg);
    assert_int_equal(wlf_account_load_string(&cfg, c->text, "alice", &a,
                                             &e), -1);
    if (strncmp(e.msg, c->want, strlen(c->want)) != 0)
        fail_msg("got '%s', want '%s...'", e.msg, c->want);
    wlf_config_free(&cfg);
}

static void test_config_loads_given_values_over_builtins(void **state)
{
    wlf_config cfg;

    (void)state;
    load_base(&cfg);
    assert_int_equal(cfg.service, WLF_SERVICE_DIRECT);
    assert_string_equal(cfg.httpd_group, "www-data");
    assert_int_equal(cfg.defaults.num[WLF_S_MAX_CHILDREN], 7);
    assert_int_equal(cfg.defaults.num[WLF_S_MAX_UPLOAD], 16 << 20);
    assert_int_equal(cfg.defaults.num[WLF_S_OPCACHE_MEMORY], 128 << 20);
    assert_string_equal(cfg.defaults.str[WLF_S_PHP], "8.2");
    assert_non_null(wlf_config_php(&cfg, "8.3"));
    wlf_config_free(&cfg);
}

static void test_config_without_php_admin_list_allows_builtin_keys(
    void **state)
{
    wlf_config cfg;

    (void)state;
    load_base(&cfg);
    assert_true(wlf_config_php_admin_allowed(&cfg, "memory_limit"));
    assert_false(wlf_config_php_admin_allowed(&cfg, "post_max_size"));
    wlf_config_free(&cfg);
}

static void test_config_errors_name_the_field_or_line(void **state)
{
    wlf_config cfg;
    wlf_err e;

    (void)state;
    assert_int_equal(wlf_config_load_string("service = \"x\";", "t", &cfg,
                                            &e), -1);
    assert_string_equal(e.field, "service");
    assert_int_equal(wlf_config_load_string("service = ", "t", &cfg, &e),
                     -1);
    assert_non_null(strstr(e.msg, "line"));
}

static void test_service_modes_have_one_spelling(void **state)
{
    wlf_service s;

    (void)state;
    assert_int_equal(wlf_service_parse("systemd", &s), 0);
    assert_int_equal(s, WLF_SERVICE_SYSTEMD);
    assert_string_equal(wlf_service_name(s), "systemd");
    assert_int_equal(wlf_service_parse("direct", &s), 0);
    assert_string_equal(wlf_service_name(s), "direct");
    assert_int_equal(wlf_service_parse("System", &s), -1);
}

static void test_init_defaults_put_every_path_under_the_prefix(void **state)
{
    wlf_config cfg;
    wlf_err e;

    (void)state;
    assert_int_equal(wlf_config_init_defaults(&cfg, "/tmp/pfx",
                                              WLF_SERVICE_DIRECT,
                                              "www-data", &e), 0);
    assert_string_equal(cfg.accounts_dir, "/tmp/pfx/etc/wlfcgi/accounts.d");
    assert_string_equal(cfg.socket_dir, "/tmp/pfx/run/wlfcgi");
    assert_string_equal(cfg.state_dir, "/tmp/pfx/var/lib/wlfcgi");
    assert_string_equal(cfg.log_dir, "/tmp/pfx/var/log/wlfcgi");
    wlf_config_free(&cfg);
}

static void test_init_defaults_refuse_a_prefix_too_long_for_sockets(
    void **state)
{
    wlf_config cfg;
    wlf_err e;
    char prefix[WLF_SOCKET_DIR_MAX + 2];

    (void)state;
    memset(prefix, 'p', sizeof(prefix) - 1);
    prefix[0] = '/';
    prefix[sizeof(prefix) - 1] = '\0';
    assert_int_equal(wlf_config_init_defaults(&cfg, prefix,
                                              WLF_SERVICE_DIRECT,
                                              "www-data", &e), -1);
    assert_string_equal(e.field, "prefix");
}

static void test_written_config_loads_back(void **state)
{
    wlf_config cfg, again;
    wlf_err e;
    char *text;

    (void)state;
    assert_int_equal(wlf_config_init_defaults(&cfg, "/tmp/pfx",
                                              WLF_SERVICE_DIRECT,
                                              "www-data", &e), 0);
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

/* ---- accounts: model, writer, loader ---- */

/* An account file of alice with one more line that it must refuse,
 * naming `field`. */
typedef struct {
    const char *line;
    const char *field;
} refused_case;

typedef struct {
    wlf_config cfg;
    wlf_account a;
    const refused_case *refused;
} acct_fx;

static int acct_setup(void **state)
{
    acct_fx *fx = calloc(1, sizeof(*fx));
    wlf_err e;

    fx->refused = *state;     /* test_account_refused()'s case, if any */
    load_base(&fx->cfg);
    unit_alice(&fx->a, 1);
    assert_int_equal(wlf_setting_parse(&fx->a.settings, WLF_S_MAX_UPLOAD,
                                       "3G", &e), 0);
    *state = fx;
    return 0;
}

static int acct_teardown(void **state)
{
    acct_fx *fx = *state;

    wlf_account_free(&fx->a);
    wlf_config_free(&fx->cfg);
    free(fx);
    return 0;
}

/* Cases of test_account_refused(), one behaviour each. */

static const refused_case account_unknown_php_version_refused = {
    "php = \"7.0\";", "php" };
static const refused_case account_php_admin_key_not_allowed_refused = {
    "php_admin = ( { name = \"post_max_size\"; value = \"1G\"; } );",
    "php_admin.post_max_size" };
static const refused_case account_misspelt_key_refused = {
    "max_chidlren = 3;", "max_chidlren" };
static const refused_case account_setting_out_of_range_refused = {
    "max_children = 0;", "max_children" };
static const refused_case account_version_of_a_foreign_domain_refused = {
    "domain_php = ( { domain = \"x.example\"; php = \"8.3\"; } );",
    "php@x.example" };
static const refused_case account_domain_version_unknown_refused = {
    "domains = [ \"x.example\" ];\n"
    "domain_php = ( { domain = \"x.example\"; php = \"7.0\"; } );",
    "php@x.example" };
static const refused_case account_suspension_without_its_fields_refused = {
    "suspended = true;", "suspended" };
static const refused_case account_suspension_with_other_fields_refused = {
    "suspended = { since = \"x\"; note = \"y\"; };", "note" };

static void test_account_refused(void **state)
{
    acct_fx *fx = *state;
    char text[512];
    wlf_account b;
    wlf_err e;

    snprintf(text, sizeof(text), "name=\"alice\"; user=\"a\"; group=\"a\"; "
             "home=\"/h\";\n%s\n", fx->refused->line);
    assert_int_equal(wlf_account_load_string(&fx->cfg, text, "alice", &b, &e),
                     -1);
    assert_string_equal(e.field, fx->refused->field);
}

static void test_account_domains_are_lower_case_and_unique(void **state)
{
    acct_fx *fx = *state;
    wlf_err e;

    assert_int_equal(wlf_account_add_domain(&fx->a, "Shop.Example", &e), 0);
    assert_string_equal(fx->a.domains[2], "shop.example");
    assert_int_equal(wlf_account_add_domain(&fx->a, "SHOP.example", &e), -1);
    assert_string_equal(e.field, "domain");
    assert_int_equal(fx->a.n_domains, 3);
}

static void test_account_php_admin_set_replace_remove(void **state)
{
    acct_fx *fx = *state;

    assert_int_equal(wlf_account_set_php_admin(&fx->a, "memory_limit",
                                               "512M"), 0);
    assert_int_equal(fx->a.n_php_admin, 1);
    assert_string_equal(fx->a.php_admin[0].value, "512M");
    assert_int_equal(wlf_account_set_php_admin(&fx->a, "memory_limit", NULL),
                     0);
    assert_int_equal(fx->a.n_php_admin, 0);
}

static void test_domain_php_set_replace_remove_and_prune(void **state)
{
    acct_fx *fx = *state;

    /* alice's domains: alice.example, *.alice.example */
    assert_int_equal(wlf_account_set_domain_php(&fx->a, "*.ALICE.example",
                                                "8.2"), 0);
    assert_string_equal(wlf_account_domain_php(&fx->a, "*.alice.example"),
                        "8.2");
    assert_int_equal(wlf_account_set_domain_php(&fx->a, "*.alice.example",
                                                "8.3"), 0);
    assert_int_equal(fx->a.n_domain_php, 1);
    assert_string_equal(fx->a.domain_php[0].php, "8.3");
    assert_null(wlf_account_domain_php(&fx->a, "alice.example"));
    /* the domain goes: its version too */
    free(fx->a.domains[1]);
    fx->a.n_domains = 1;
    assert_int_equal(wlf_account_prune_domain_php(&fx->a), 1);
    assert_int_equal(fx->a.n_domain_php, 0);
}

static void test_instances_are_one_per_version_in_use(void **state)
{
    acct_fx *fx = *state;
    wlf_instance inst[WLF_MAX_INSTANCES];
    size_t n;

    /* alice runs 8.3; a pin to 8.3 needs no instance of its own */
    assert_int_equal(wlf_account_instances(&fx->cfg, &fx->a, inst), 1);
    assert_string_equal(inst[0].key, "alice");
    assert_true(inst[0].primary);
    assert_int_equal(wlf_account_set_domain_php(&fx->a, "alice.example",
                                                "8.3"), 0);
    assert_int_equal(wlf_account_instances(&fx->cfg, &fx->a, inst), 1);
    assert_int_equal(wlf_account_set_domain_php(&fx->a, "*.alice.example",
                                                "8.2"), 0);
    n = wlf_account_instances(&fx->cfg, &fx->a, inst);
    assert_int_equal(n, 2);
    assert_string_equal(inst[1].key, "alice.v8.2");
    assert_string_equal(inst[1].version, "8.2");
    assert_false(inst[1].primary);
    assert_string_equal(wlf_instance_for_domain(&fx->cfg, &fx->a, inst, n,
                                                "*.alice.example")->key,
                        "alice.v8.2");
    assert_string_equal(wlf_instance_for_domain(&fx->cfg, &fx->a, inst, n,
                                                "alice.example")->key,
                        "alice");
}

static void test_domain_for_host_prefers_exact_then_longest_wildcard(
    void **state)
{
    acct_fx *fx = *state;
    wlf_err e;

    /* alice.example, *.alice.example and now *.example */
    assert_int_equal(wlf_account_add_domain(&fx->a, "*.example", &e), 0);
    assert_int_equal(wlf_account_domain_for_host(&fx->a, "alice.example"),
                     0);
    assert_int_equal(wlf_account_domain_for_host(&fx->a, "x.alice.example"),
                     1);
    assert_int_equal(wlf_account_domain_for_host(&fx->a, "bob.example"), 2);
    assert_int_equal(wlf_account_domain_for_host(&fx->a, "other.test"), -1);
}

static void test_written_account_loads_back_identically(void **state)
{
    acct_fx *fx = *state;
    wlf_account b;
    wlf_err e;
    char *text, *again;

    assert_int_equal(wlf_account_set_domain_php(&fx->a, "*.alice.example",
                                                "8.2"), 0);
    assert_int_equal(wlf_account_check(&fx->cfg, &fx->a, &e), 0);
    text = wlf_account_render(&fx->a);
    assert_non_null(strstr(text, "domain_php = (\n  { domain = "
                                 "\"*.alice.example\"; php = \"8.2\"; }"));
    if (wlf_account_load_string(&fx->cfg, text, "alice", &b, &e) != 0)
        fail_msg("%s: %s\n%s", e.field, e.msg, text);
    again = wlf_account_render(&b);
    assert_string_equal(text, again);
    free(text);
    free(again);
    wlf_account_free(&b);
}

static void test_suspended_account_loads_back_with_its_reason(void **state)
{
    acct_fx *fx = *state;
    wlf_account b;
    wlf_err e;
    char *text;

    assert_int_equal(wlf_account_is_suspended(&fx->a), 0);
    assert_int_equal(wlf_account_suspend(&fx->a, "2025-01-31T12:00:00Z",
                                         "unpaid \"invoice\" 42", &e), 0);
    text = wlf_account_render(&fx->a);
    if (wlf_account_load_string(&fx->cfg, text, "alice", &b, &e) != 0)
        fail_msg("%s: %s\n%s", e.field, e.msg, text);
    assert_true(wlf_account_is_suspended(&b));
    assert_string_equal(b.suspended_since, "2025-01-31T12:00:00Z");
    assert_string_equal(b.suspended_reason, "unpaid \"invoice\" 42");
    wlf_account_resume(&b);
    assert_int_equal(wlf_account_is_suspended(&b), 0);
    free(text);
    wlf_account_free(&b);
}

static void test_suspension_reason_is_one_short_line(void **state)
{
    acct_fx *fx = *state;
    char longer[WLF_REASON_MAX + 2];
    wlf_err e;

    memset(longer, 'x', sizeof(longer) - 1);
    longer[sizeof(longer) - 1] = '\0';
    assert_int_equal(wlf_account_suspend(&fx->a, "now", "a\nb", &e), -1);
    assert_string_equal(e.field, "suspended.reason");
    assert_int_equal(wlf_account_suspend(&fx->a, "now", longer, &e), -1);
    assert_int_equal(wlf_account_is_suspended(&fx->a), 0);
}

static void test_account_copy_is_equal_and_independent(void **state)
{
    acct_fx *fx = *state;
    wlf_account b;
    char *want, *got;

    assert_int_equal(wlf_account_copy(&b, &fx->a), 0);
    want = wlf_account_render(&fx->a);
    got = wlf_account_render(&b);
    assert_string_equal(want, got);
    assert_ptr_not_equal(b.domains[0], fx->a.domains[0]);
    free(want);
    free(got);
    wlf_account_free(&b);
}

static void test_effective_settings_are_overrides_on_defaults(void **state)
{
    acct_fx *fx = *state;
    wlf_settings eff;

    assert_int_equal(wlf_account_effective(&fx->cfg, &fx->a, &eff), 0);
    assert_int_equal(eff.num[WLF_S_MAX_UPLOAD], 3LL << 30);
    assert_int_equal(eff.num[WLF_S_MAX_CHILDREN], 7);
    assert_string_equal(eff.str[WLF_S_PHP], "8.3");
    wlf_settings_free(&eff);
}

static void test_upload_ceiling_is_never_below_max_upload(void **state)
{
    acct_fx *fx = *state;
    wlf_settings eff;
    wlf_err e;

    /* a ceiling below the account's own max_upload (3G) */
    assert_int_equal(wlf_setting_parse(&fx->a.settings, WLF_S_UPLOAD_CEILING,
                                       "1G", &e), 0);
    assert_int_equal(wlf_account_effective(&fx->cfg, &fx->a, &eff), 0);
    assert_int_equal(eff.num[WLF_S_UPLOAD_CEILING], 3LL << 30);
    wlf_settings_free(&eff);
}

static void test_account_name_must_match_its_file(void **state)
{
    acct_fx *fx = *state;
    wlf_account b;
    wlf_err e;
    char *text = wlf_account_render(&fx->a);

    assert_int_equal(wlf_account_load_string(&fx->cfg, text, "bob", &b, &e),
                     -1);
    assert_string_equal(e.field, "name");
    free(text);
}

static void test_account_home_with_colon_refused(void **state)
{
    acct_fx *fx = *state;
    wlf_account b;
    wlf_err e;
    char text[] = "name=\"alice\"; user=\"a\"; group=\"a\"; home=\"/h:/\";";

    /* ':' would add an open_basedir entry */
    assert_int_equal(wlf_account_load_string(&fx->cfg, text, "alice", &b,
                                             &e), -1);
    assert_string_equal(e.field, "home");
    assert_int_equal(wlf_valid_home("/", &e), -1);
    assert_int_equal(wlf_valid_home("/srv/alice", &e), 0);
}

/* ---- the account list ---- */

/* A temp directory with a wlfcgi.conf whose accounts dir is DIR/a. */
typedef struct {
    char dir[64];
    char accounts[96];
    wlf_config cfg;
} acct_dir;

static int dir_setup(void **state)
{
    acct_dir *d = calloc(1, sizeof(*d));
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
    *state = d;
    return 0;
}

static int dir_teardown(void **state)
{
    acct_dir *d = *state;
    char cmd[128];

    wlf_config_free(&d->cfg);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->dir);
    assert_int_equal(system(cmd), 0);
    free(d);
    return 0;
}

/* accounts dir/FILE for account NAME with `domain` (NULL: none) */
static void put_account(const acct_dir *d, const char *file,
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

static void test_account_files_are_the_sorted_names(void **state)
{
    acct_dir *d = *state;
    char **names;
    size_t n;
    wlf_err e;

    put_account(d, "carol.conf", "carol", NULL);
    put_account(d, "alice.conf", "alice", NULL);
    put_account(d, "Bad Name.conf", "bad", NULL);
    put_account(d, ".fpmctl-tmp-x.conf", "x", NULL);
    put_account(d, "notes.txt", "y", NULL);
    assert_int_equal(wlf_account_files(&d->cfg, &names, &n, &e), 0);
    assert_int_equal(n, 3);
    assert_string_equal(names[0], "Bad Name");
    assert_string_equal(names[1], "alice");
    assert_string_equal(names[2], "carol");
    wlf_strlist_free(names, n);
}

static void test_accounts_load_lists_files_that_do_not_load(void **state)
{
    acct_dir *d = *state;
    wlf_account_list list;
    wlf_err e;

    put_account(d, "alice.conf", "alice", NULL);
    put_account(d, "dave.conf", "eve", NULL);       /* name of another */
    assert_int_equal(wlf_accounts_load(&d->cfg, &list, &e), 0);
    assert_int_equal(list.n, 1);
    assert_int_equal(list.n_errors, 1);
    assert_non_null(strstr(list.errors[0].file, "/dave.conf"));
    assert_non_null(strstr(list.errors[0].msg, "does not match"));
    wlf_account_list_free(&list);
}

static void test_accounts_load_keeps_a_clashing_account_apart(void **state)
{
    acct_dir *d = *state;
    wlf_account_list list;
    wlf_err e;

    put_account(d, "alice.conf", "alice", "shop.example");
    put_account(d, "bob.conf", "bob", "SHOP.example");
    put_account(d, "carol.conf", "carol", "carol.example");
    assert_int_equal(wlf_accounts_load(&d->cfg, &list, &e), 0);
    assert_int_equal(list.n, 2);
    assert_string_equal(list.items[0].name, "alice");
    assert_string_equal(list.items[1].name, "carol");
    /* bob is valid, but its domain is alice's: skipped, not lost */
    assert_int_equal(list.n_skipped, 1);
    assert_string_equal(list.skipped[0].name, "bob");
    assert_string_equal(list.skipped[0].domains[0], "shop.example");
    assert_int_equal(list.n_errors, 1);
    assert_non_null(strstr(list.errors[0].file, "/bob.conf"));
    assert_non_null(strstr(list.errors[0].msg, "already owned by account "
                                               "'alice'"));
    assert_null(wlf_accounts_find(&list, "bob"));
    wlf_account_list_free(&list);
}

/* What wlf_accounts_shadowed() reported, one "b:foo<a:*.foo" a line. */
static void note_shadow(const wlf_account *owner, const char *domain,
                        const wlf_account *wild_owner, const char *wildcard,
                        void *arg)
{
    char *out = arg;
    size_t n = strlen(out);

    snprintf(out + n, 512 - n, "%s:%s<%s:%s\n", owner->name, domain,
             wild_owner->name, wildcard);
}

static void test_exact_domains_inside_anothers_wildcard_are_found(
    void **state)
{
    acct_dir *d = *state;
    wlf_account_list list;
    wlf_account change;
    wlf_err e;
    char out[512] = "";

    put_account(d, "a.conf", "a", "*.shop.example");
    put_account(d, "b.conf", "b", "foo.shop.example");
    put_account(d, "c.conf", "c", "shop.example");  /* not inside */
    assert_int_equal(wlf_accounts_load(&d->cfg, &list, &e), 0);
    wlf_accounts_shadowed(&list, NULL, note_shadow, out);
    assert_string_equal(out, "b:foo.shop.example<a:*.shop.example\n");
    /* what a change would make: c takes a name under a's wildcard */
    unit_alice(&change, 0);
    snprintf(change.name, sizeof(change.name), "c");
    assert_int_equal(wlf_account_add_domain(&change, "bar.shop.example",
                                            &e), 0);
    out[0] = '\0';
    wlf_accounts_shadowed(&list, &change, note_shadow, out);
    assert_string_equal(out, "b:foo.shop.example<a:*.shop.example\n"
                             "c:bar.shop.example<a:*.shop.example\n");
    /* or a new account, not in the list yet */
    snprintf(change.name, sizeof(change.name), "zed");
    out[0] = '\0';
    wlf_accounts_shadowed(&list, &change, note_shadow, out);
    assert_string_equal(out, "b:foo.shop.example<a:*.shop.example\n"
                             "zed:bar.shop.example<a:*.shop.example\n");
    wlf_account_free(&change);
    /* a new account whose wildcard covers others' exact names */
    unit_alice(&change, 0);
    snprintf(change.name, sizeof(change.name), "wide");
    assert_int_equal(wlf_account_add_domain(&change, "*.example", &e), 0);
    out[0] = '\0';
    wlf_accounts_shadowed(&list, &change, note_shadow, out);
    assert_string_equal(out, "b:foo.shop.example<a:*.shop.example\n"
                             "b:foo.shop.example<wide:*.example\n"
                             "c:shop.example<wide:*.example\n");
    wlf_account_free(&change);
    wlf_account_list_free(&list);
}

static void test_accounts_load_fails_without_its_directory(void **state)
{
    acct_dir *d = *state;
    wlf_account_list list;
    wlf_err e;

    assert_int_equal(rmdir(d->accounts), 0);
    assert_int_equal(wlf_accounts_load(&d->cfg, &list, &e), -1);
    assert_string_equal(e.field, "paths.accounts");
    assert_int_equal(list.n + list.n_skipped + list.n_errors, 0);
}

static void test_host_matching_prefers_exact_then_longest_wildcard(
    void **state)
{
    acct_dir *d = *state;
    wlf_account_list list;
    wlf_err e;

    put_account(d, "alice.conf", "alice", "*.example");
    put_account(d, "bob.conf", "bob", "*.shop.example");
    put_account(d, "carol.conf", "carol", "www.shop.example");
    assert_int_equal(wlf_accounts_load(&d->cfg, &list, &e), 0);
    assert_string_equal(wlf_accounts_match_host(&list, "WWW.shop.example")
                            ->name, "carol");
    assert_string_equal(wlf_accounts_match_host(&list, "a.shop.example")
                            ->name, "bob");
    assert_string_equal(wlf_accounts_match_host(&list, "a.example")->name,
                        "alice");
    assert_null(wlf_accounts_match_host(&list, "example"));
    assert_string_equal(wlf_accounts_find_domain(&list, "*.EXAMPLE")->name,
                        "alice");
    wlf_account_list_free(&list);
}

/* With many accounts the loader's index answers: the same as a scan. */
static void test_account_index_agrees_with_a_scan(void **state)
{
    acct_dir *d = *state;
    wlf_account_list list;
    struct wlf_account_index *ix;
    wlf_err e;
    char file[64], name[64], dom[64], host[64];

    for (int i = 0; i < 300; i++) {
        snprintf(file, sizeof(file), "a%03d.conf", i);
        snprintf(name, sizeof(name), "a%03d", i);
        if (i % 50 == 0)
            snprintf(dom, sizeof(dom), "*.w%03d.example", i);
        else
            snprintf(dom, sizeof(dom), "a%03d.EXAMPLE", i);
        put_account(d, file, name, dom);
    }
    put_account(d, "zz.conf", "zz", "A007.example");     /* a clash */
    assert_int_equal(wlf_accounts_load(&d->cfg, &list, &e), 0);
    assert_int_equal(list.n, 300);
    assert_int_equal(list.n_skipped, 1);
    assert_non_null(list.index);
    for (int i = 0; i < 320; i++) {
        const wlf_account *fast[4], *slow[4];
        snprintf(name, sizeof(name), "a%03d", i);
        snprintf(host, sizeof(host), i % 3 ? "A%03d.example" : "x.w%03d.example",
                 i);
        snprintf(dom, sizeof(dom), "a%03d.example", i);
        fast[0] = wlf_accounts_find(&list, name);
        fast[1] = wlf_accounts_match_host(&list, host);
        fast[2] = wlf_accounts_find_domain(&list, dom);
        fast[3] = wlf_accounts_find_domain(&list, "*.W050.example");
        ix = list.index;
        list.index = NULL;
        slow[0] = wlf_accounts_find(&list, name);
        slow[1] = wlf_accounts_match_host(&list, host);
        slow[2] = wlf_accounts_find_domain(&list, dom);
        slow[3] = wlf_accounts_find_domain(&list, "*.W050.example");
        list.index = ix;
        for (int k = 0; k < 4; k++)
            assert_ptr_equal(fast[k], slow[k]);
    }
    assert_string_equal(wlf_accounts_match_host(&list, "x.w050.example")
                            ->name, "a050");
    wlf_account_list_free(&list);
}

/* ---- derived paths ---- */

static void test_paths_derive_from_the_four_directories(void **state)
{
    wlf_config cfg;
    char buf[256];

    (void)state;
    load_base(&cfg);
    assert_string_equal(wlf_path_socket(&cfg, "alice", buf, sizeof(buf)),
                        "/tmp/x/run/alice.sock");
    assert_string_equal(wlf_path_slot_socket(&cfg, "alice", 'b', buf,
                                             sizeof(buf)),
                        "/tmp/x/run/alice.b.sock");
    assert_string_equal(wlf_path_slot_pid(&cfg, "alice", 'a', buf,
                                          sizeof(buf)),
                        "/tmp/x/run/alice.a.pid");
    assert_string_equal(wlf_path_instance_dir(&cfg, "alice", 'a', buf,
                                              sizeof(buf)),
                        "/tmp/x/lib/fpm/alice.a");
    assert_string_equal(wlf_path_account_dir(&cfg, "alice", buf,
                                             sizeof(buf)),
                        "/tmp/x/lib/accounts/alice");
    assert_string_equal(wlf_path_log_dir(&cfg, "alice", buf, sizeof(buf)),
                        "/tmp/x/log/alice");
    assert_string_equal(wlf_path_account_file(&cfg, "alice", buf,
                                              sizeof(buf)),
                        "/tmp/x/etc/accounts.d/alice.conf");
    wlf_config_free(&cfg);
}

static void test_instance_keys_name_account_and_version(void **state)
{
    char key[64], name[40], version[20];
    wlf_config cfg;

    (void)state;
    assert_string_equal(wlf_instance_key("alice", NULL, key, sizeof(key)),
                        "alice");
    assert_string_equal(wlf_instance_key("alice", "8.1", key, sizeof(key)),
                        "alice.v8.1");
    assert_int_equal(wlf_instance_key_parse("alice.v8.1", name, sizeof(name),
                                            version, sizeof(version)), 0);
    assert_string_equal(name, "alice");
    assert_string_equal(version, "8.1");
    assert_int_equal(wlf_instance_key_parse("alice", name, sizeof(name),
                                            version, sizeof(version)), 0);
    assert_string_equal(version, "");
    /* a slot, a routes directory, garbage: no keys */
    assert_int_equal(wlf_instance_key_parse("alice.a", name, sizeof(name),
                                            version, sizeof(version)), -1);
    assert_int_equal(wlf_instance_key_parse("alice.routes", name,
                                            sizeof(name), version,
                                            sizeof(version)), -1);
    assert_int_equal(wlf_instance_key_parse("Alice.v8", name, sizeof(name),
                                            version, sizeof(version)), -1);
    /* a route's target */
    assert_int_equal(wlf_route_target_key("alice", "../alice.v8.1.sock", key,
                                          sizeof(key)), 0);
    assert_string_equal(key, "alice.v8.1");
    assert_int_equal(wlf_route_target_key("alice", "/run/x.sock", key,
                                          sizeof(key)), -1);
    assert_int_equal(wlf_route_target_key("alice", "../a/b.sock", key,
                                          sizeof(key)), -1);
    /* never another account's instance, nor an odd key */
    assert_int_equal(wlf_route_target_key("alice", "../bob.v8.1.sock", key,
                                          sizeof(key)), -1);
    assert_int_equal(wlf_route_target_key("alice", "../alicex.v8.sock", key,
                                          sizeof(key)), -1);
    assert_int_equal(wlf_route_target_key("alice", "../alice.x.sock", key,
                                          sizeof(key)), -1);
    /* sockets must fit in sun_path */
    memset(&cfg, 0, sizeof(cfg));
    cfg.socket_dir = (char *)"/run/wlfcgi";
    assert_true(wlf_instance_key_fits(&cfg, "alice.v8.1"));
    cfg.socket_dir = (char *)"/a/very/long/socket/directory/that/is/just/"
                             "about/sixty-four/bytes/long";
    assert_false(wlf_instance_key_fits(
        &cfg, "an-account-name-of-32-characters.v8.3-zts-debug1"));
}

static void test_version_labels_ending_like_a_slot_are_refused(void **state)
{
    wlf_err e;

    (void)state;
    assert_int_equal(wlf_valid_php_version("8.2", &e), 0);
    assert_int_equal(wlf_valid_php_version("8.a1", &e), 0);
    assert_int_equal(wlf_valid_php_version("8.a", &e), -1);
    assert_int_equal(wlf_valid_php_version("x.b", &e), -1);
    assert_string_equal(e.field, "php");
}

static void test_slot_of_link_reads_our_links_only(void **state)
{
    char dir[] = "/tmp/wlf-link-XXXXXX", link[64];

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(link, sizeof(link), "%s/alice.sock", dir);
    assert_int_equal(wlf_slot_of_link(link), 0);
    assert_int_equal(symlink("alice.b.sock", link), 0);
    assert_int_equal(wlf_slot_of_link(link), 'b');
    assert_int_equal(unlink(link), 0);
    assert_int_equal(symlink("alice.c.sock", link), 0);
    assert_int_equal(wlf_slot_of_link(link), 0);
    assert_int_equal(unlink(link), 0);
    assert_int_equal(rmdir(dir), 0);
}

static void test_suspended_link_is_no_slot(void **state)
{
    char dir[] = "/tmp/wlf-link-XXXXXX", link[64], target[64];

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(link, sizeof(link), "%s/alice.sock", dir);
    assert_int_equal(wlf_link_state(link), 0);
    assert_int_equal(symlink(wlf_suspended_target("alice", target,
                                                  sizeof(target)), link), 0);
    assert_string_equal(target, "alice.suspended");
    assert_int_equal(wlf_link_state(link), WLF_LINK_SUSPENDED);
    assert_int_equal(wlf_slot_of_link(link), 0);
    assert_int_equal(unlink(link), 0);
    assert_int_equal(symlink("alice.a.sock", link), 0);
    assert_int_equal(wlf_link_state(link), 'a');
    assert_int_equal(unlink(link), 0);
    assert_int_equal(rmdir(dir), 0);
}

/* ---- helpers ---- */

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

static void test_json_string_escapes_quotes_and_controls(void **state)
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
}

static void test_dirname_too_long_is_refused_not_cut(void **state)
{
    char buf[16];

    (void)state;
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

/* ---- FastCGI ---- */

static void test_fcgi_pairs_are_length_prefixed(void **state)
{
    unsigned char buf[256];
    char longname[200];

    (void)state;
    assert_int_equal(wlf_fcgi_encode_pair(buf, sizeof(buf), "A", "bc"), 5);
    assert_int_equal(buf[0], 1);
    assert_int_equal(buf[1], 2);
    /* 128 bytes and more take a four-byte length */
    memset(longname, 'n', 150);
    longname[150] = '\0';
    assert_int_equal(wlf_fcgi_encode_pair(buf, sizeof(buf), longname, ""),
                     4 + 1 + 150);
    assert_int_equal(buf[0], 0x80);
    assert_int_equal(buf[3], 150);
    /* what does not fit is refused */
    assert_int_equal(wlf_fcgi_encode_pair(buf, 100, longname, ""), 0);
}

/* stdout "pong", then END_REQUEST: 28 bytes */
static void pong_response(unsigned char *buf)
{
    wlf_fcgi_header(buf, WLF_FCGI_STDOUT, 1, 4);
    memcpy(buf + 8, "pong", 4);
    wlf_fcgi_header(buf + 12, WLF_FCGI_END_REQUEST, 1, 8);
    memset(buf + 20, 0, 8);
}

static void test_fcgi_partial_record_waits_for_more(void **state)
{
    unsigned char buf[28];
    wlf_fcgi_record rec;

    (void)state;
    pong_response(buf);
    assert_int_equal(wlf_fcgi_parse_record(buf, 5, &rec), 0);
    assert_int_equal(wlf_fcgi_parse_record(buf, 11, &rec), 0);
    assert_int_equal(wlf_fcgi_parse_record(buf, 12, &rec), 12);
    assert_int_equal(rec.type, WLF_FCGI_STDOUT);
}

static void test_fcgi_collects_stdout_until_end_request(void **state)
{
    unsigned char buf[28];
    wlf_fcgi_response resp;

    (void)state;
    pong_response(buf);
    memset(&resp, 0, sizeof(resp));
    assert_int_equal(wlf_fcgi_collect(buf, 28, &resp), 0);
    assert_string_equal(resp.out, "pong");
    wlf_fcgi_response_free(&resp);
    /* without the END_REQUEST the response is not complete */
    assert_int_equal(wlf_fcgi_collect(buf, 20, &resp), 1);
    wlf_fcgi_response_free(&resp);
}

static void test_fcgi_other_protocol_version_is_refused(void **state)
{
    unsigned char buf[28];
    wlf_fcgi_record rec;

    (void)state;
    pong_response(buf);
    buf[0] = 2;
    assert_int_equal(wlf_fcgi_parse_record(buf, 28, &rec), -1);
}

static void test_fcgi_status_header_and_body(void **state)
{
    const char page[] = "Status: 404 Not Found\r\nX: y\r\n\r\nnope";
    const char *body;
    size_t body_len;

    (void)state;
    assert_int_equal(wlf_fcgi_http_status(page, strlen(page), &body,
                                          &body_len), 404);
    assert_int_equal(body_len, 4);
    assert_memory_equal(body, "nope", 4);
    assert_int_equal(wlf_fcgi_http_status("\r\nok", 4, &body, &body_len),
                     200);
}

static void test_fpm_status_page_is_parsed(void **state)
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
}

static void test_fpm_start_time_as_iso_8601(void **state)
{
    char out[40];

    (void)state;
    assert_int_equal(wlf_fpm_time_iso8601("03/Dec/2026:10:42:29 +0000", out,
                                          sizeof(out)), 0);
    assert_string_equal(out, "2026-12-03T10:42:29+00:00");
    assert_int_equal(wlf_fpm_time_iso8601("29/Feb/2028:23:59:59 -0530", out,
                                          sizeof(out)), 0);
    assert_string_equal(out, "2028-02-29T23:59:59-05:30");
    assert_int_equal(wlf_fpm_time_iso8601("03/Xyz/2026:10:42:29 +0000", out,
                                          sizeof(out)), -1);
    assert_string_equal(out, "");
    assert_int_equal(wlf_fpm_time_iso8601("1700000000", out, sizeof(out)),
                     -1);
    assert_int_equal(wlf_fpm_time_iso8601("03/Dec/2026:10:42:29 +0000 x",
                                          out, sizeof(out)), -1);
}

static void test_fpm_status_without_pool_line_is_refused(void **state)
{
    wlf_fpm_status st;

    (void)state;
    assert_int_equal(wlf_fpm_status_parse("x", 1, &st), -1);
    assert_int_equal(st.accepted_conn, -1);
}

#define ACCT_TEST(f) cmocka_unit_test_setup_teardown(f, acct_setup, \
                                                     acct_teardown)
#define REFUSED_TEST(c) { "test_" #c, test_account_refused, acct_setup, \
                          acct_teardown, (void *)&c }
#define DIR_TEST(f) cmocka_unit_test_setup_teardown(f, dir_setup, \
                                                    dir_teardown)
#define SYNTAX_TEST(c) { "test_" #c, test_syntax_error_line, NULL, NULL, \
                         (void *)&c }

/* A client that sends the rest of its body within the stream time gets
 * it streamed; one that is slower, or has sent too little to tell, is
 * spooled */
static void test_client_pace_decides_streaming(void **state)
{
    const long long mib = 1024 * 1024, gib = 1024 * mib;

    (void)state;
    /* 2 GiB at 160 MiB/s: 16 MiB in 0.1 s, the rest in about 12.7 s */
    assert_int_equal(wlf_client_keeps_pace(16 * mib, 2 * gib, 100000, 30),
                     1);
    /* too little to tell the client's pace from kernel buffers */
    assert_int_equal(wlf_client_keeps_pace(8 * mib, 2 * gib, 1000, 30), 0);
    /* 2 GiB at 16 MiB/s would take 128 s: spooled */
    assert_int_equal(wlf_client_keeps_pace(16 * mib, 2 * gib, 1000000, 30),
                     0);
    /* at the edge: the rest in exactly the time left */
    assert_int_equal(wlf_client_keeps_pace(16 * mib, 32 * mib, 15000000,
                                           30), 1);
    assert_int_equal(wlf_client_keeps_pace(16 * mib, 33 * mib, 15000000,
                                           30), 0);
    /* the stream time has passed already */
    assert_int_equal(wlf_client_keeps_pace(16 * mib, 17 * mib, 30000000,
                                           30), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_size_suffixes_are_binary_and_any_case),
        cmocka_unit_test(test_size_refuses_what_is_not_a_size),
        cmocka_unit_test(
            test_size_with_a_decimal_looking_unit_says_what_to_write),
        cmocka_unit_test(test_size_refuses_overflow),
        cmocka_unit_test(test_size_format_is_the_shortest_exact_form),
        cmocka_unit_test(test_account_names_that_are_valid),
        cmocka_unit_test(test_account_names_refused_with_a_one_line_error),
        cmocka_unit_test(test_domains_that_are_valid),
        cmocka_unit_test(test_domains_refused),
        cmocka_unit_test(test_domain_wildcards_match_subdomains_only),
        cmocka_unit_test(test_ini_values_cannot_break_quotes_or_expand),
        cmocka_unit_test(test_ini_keys_are_directive_names),
        cmocka_unit_test(test_absolute_paths_without_dot_dot),
        cmocka_unit_test(test_setting_values_format_as_they_parse),
        cmocka_unit_test(test_setting_out_of_range_names_its_bounds),
        cmocka_unit_test(test_every_setting_has_a_valid_builtin_default),
        cmocka_unit_test(test_config_loads_given_values_over_builtins),
        cmocka_unit_test(
            test_config_without_php_admin_list_allows_builtin_keys),
        cmocka_unit_test(test_config_errors_name_the_field_or_line),
        SYNTAX_TEST(syntax_unclosed_quote_is_on_its_own_line),
        SYNTAX_TEST(syntax_unclosed_bracket_is_where_it_opens),
        SYNTAX_TEST(syntax_unclosed_group_at_the_end_is_where_it_opens),
        SYNTAX_TEST(syntax_stray_closing_bracket_is_named),
        SYNTAX_TEST(syntax_other_errors_keep_libconfigs_line),
        SYNTAX_TEST(syntax_quotes_in_comments_do_not_count),
        cmocka_unit_test(test_service_modes_have_one_spelling),
        cmocka_unit_test(test_init_defaults_put_every_path_under_the_prefix),
        cmocka_unit_test(
            test_init_defaults_refuse_a_prefix_too_long_for_sockets),
        cmocka_unit_test(test_written_config_loads_back),
        ACCT_TEST(test_account_domains_are_lower_case_and_unique),
        ACCT_TEST(test_account_php_admin_set_replace_remove),
        ACCT_TEST(test_written_account_loads_back_identically),
        ACCT_TEST(test_suspended_account_loads_back_with_its_reason),
        ACCT_TEST(test_suspension_reason_is_one_short_line),
        ACCT_TEST(test_account_copy_is_equal_and_independent),
        ACCT_TEST(test_effective_settings_are_overrides_on_defaults),
        ACCT_TEST(test_upload_ceiling_is_never_below_max_upload),
        ACCT_TEST(test_account_name_must_match_its_file),
        REFUSED_TEST(account_unknown_php_version_refused),
        REFUSED_TEST(account_php_admin_key_not_allowed_refused),
        REFUSED_TEST(account_misspelt_key_refused),
        REFUSED_TEST(account_setting_out_of_range_refused),
        REFUSED_TEST(account_version_of_a_foreign_domain_refused),
        REFUSED_TEST(account_domain_version_unknown_refused),
        ACCT_TEST(test_domain_php_set_replace_remove_and_prune),
        ACCT_TEST(test_instances_are_one_per_version_in_use),
        ACCT_TEST(test_domain_for_host_prefers_exact_then_longest_wildcard),
        REFUSED_TEST(account_suspension_without_its_fields_refused),
        REFUSED_TEST(account_suspension_with_other_fields_refused),
        ACCT_TEST(test_account_home_with_colon_refused),
        DIR_TEST(test_account_files_are_the_sorted_names),
        DIR_TEST(test_accounts_load_lists_files_that_do_not_load),
        DIR_TEST(test_accounts_load_keeps_a_clashing_account_apart),
        DIR_TEST(test_exact_domains_inside_anothers_wildcard_are_found),
        DIR_TEST(test_accounts_load_fails_without_its_directory),
        DIR_TEST(test_host_matching_prefers_exact_then_longest_wildcard),
        DIR_TEST(test_account_index_agrees_with_a_scan),
        cmocka_unit_test(test_paths_derive_from_the_four_directories),
        cmocka_unit_test(test_instance_keys_name_account_and_version),
        cmocka_unit_test(test_version_labels_ending_like_a_slot_are_refused),
        cmocka_unit_test(test_slot_of_link_reads_our_links_only),
        cmocka_unit_test(test_suspended_link_is_no_slot),
        cmocka_unit_test(test_buf_grows_past_its_first_block),
        cmocka_unit_test(test_buf_empty_finishes_as_empty_string),
        cmocka_unit_test(test_json_string_escapes_quotes_and_controls),
        cmocka_unit_test(test_dirname_of_paths),
        cmocka_unit_test(test_dirname_too_long_is_refused_not_cut),
        cmocka_unit_test(test_clock_is_monotonic),
        cmocka_unit_test(test_fcgi_pairs_are_length_prefixed),
        cmocka_unit_test(test_fcgi_partial_record_waits_for_more),
        cmocka_unit_test(test_fcgi_collects_stdout_until_end_request),
        cmocka_unit_test(test_fcgi_other_protocol_version_is_refused),
        cmocka_unit_test(test_fcgi_status_header_and_body),
        cmocka_unit_test(test_fpm_status_page_is_parsed),
        cmocka_unit_test(test_fpm_start_time_as_iso_8601),
        cmocka_unit_test(test_fpm_status_without_pool_line_is_refused),
        cmocka_unit_test(test_client_pace_decides_streaming),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
