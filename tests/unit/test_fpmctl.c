/* Unit tests for fpmctl's pure parts: FPM config rendering (and that
 * injected values cannot break out), timeout sizing, argument parsing,
 * `set` key parsing, the slot layout, the JSON writer and the parsers that
 * find the distribution's own php-fpm pools and PHP handlers. One case per
 * behaviour. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "instance.h"
#include "json.h"
#include "phpcli.h"
#include "render.h"
#include "setkeys.h"
#include "unit_accounts.h"
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

/* Each case gets wlfcgi.conf above and a plain account alice. */
/*
 * What the rendering of the typical account (render_typical) contains,
 * one behaviour a case: test_rendered_lines() checks each line.
 */
typedef struct {
    int ini;                    /* in ini/wlfcgi.ini, else php-fpm.conf */
    const char *lines[12];
} rendered_case;

typedef struct {
    wlf_config cfg;
    wlf_account a;
    fpm_rendered r;
    const void *c;              /* the case of a test with cases */
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof(*f));

    f->c = *state;
    load_cfg(&f->cfg);
    unit_alice(&f->a, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;

    fpm_rendered_free(&f->r);
    wlf_account_free(&f->a);
    wlf_config_free(&f->cfg);
    free(f);
    return 0;
}

static void set(fx *f, const char *item)
{
    wlf_err e;

    if (fpm_set_apply(&f->cfg, &f->a, item, &e) != 0)
        fail_msg("%s: %s: %s", item, e.field, e.msg);
}

static void timeouts(fx *f, long long rate, fpm_timeouts *t)
{
    wlf_settings eff;

    assert_int_equal(wlf_account_effective(&f->cfg, &f->a, &eff), 0);
    fpm_compute_timeouts(&eff, rate ? rate : f->cfg.upload_min_rate, t);
    wlf_settings_free(&eff);
}

/* Render slot `slot` into f->r; the account as the case changed it. */
static void render(fx *f, char slot)
{
    wlf_err e;

    fpm_rendered_free(&f->r);
    if (fpm_render_all(&f->cfg, &f->a, slot, &f->r, &e) != 0)
        fail_msg("render: %s: %s", e.field, e.msg);
}

/* The account alice of test_render_*: 3 children, 64M, php 8.3, one
 * php_admin value. */
static void render_typical(fx *f)
{
    set(f, "max_children=3");
    set(f, "max_upload=64M");
    set(f, "php=8.3");
    set(f, "php_admin.memory_limit=256M");
    render(f, 'b');
}

/* Rendering must fail, naming `field`. */
static void assert_render_refused(fx *f, const char *field)
{
    fpm_rendered r;
    wlf_err e;

    assert_int_equal(fpm_render_all(&f->cfg, &f->a, 'a', &r, &e), -1);
    if (field)
        assert_string_equal(e.field, field);
}

/* ---- timeouts ---- */

static void test_timeouts_leave_room_for_the_default_upload(void **state)
{
    fpm_timeouts t;

    /* max_upload 8M at 1M/s -> 8 s; max_execution_time 30 */
    timeouts(*state, 0, &t);
    assert_int_equal(t.upload_time, 8);
    assert_int_equal(t.max_input_time, 68);
    assert_int_equal(t.request_terminate_timeout, 98);
}

static void test_timeouts_do_not_grow_with_a_slow_clients_upload(
    void **state)
{
    fpm_timeouts t;

    /* upload_ceiling 2G: a 1 MB/s client would need 2048 s; httpd spools
     * what takes longer than 30 s, and the worker reads 2G from httpd at
     * 64M/s (32 s) */
    set(*state, "upload_ceiling=2G");
    timeouts(*state, 0, &t);
    assert_int_equal(t.upload_time, WLF_STREAM_SECONDS);
    assert_int_equal(t.local_read_time, 32);
    assert_int_equal(t.request_terminate_timeout, 30 + 32 + 60);
    assert_int_equal(t.max_input_time, 32 + 60);
}

static void test_request_terminate_timeout_setting_wins(void **state)
{
    fpm_timeouts t;

    set(*state, "upload_ceiling=1G");
    set(*state, "request_terminate_timeout=45");
    timeouts(*state, 0, &t);
    assert_int_equal(t.request_terminate_timeout, 45);
    set(*state, "request_terminate_timeout=default");
    timeouts(*state, 0, &t);
    assert_int_equal(t.request_terminate_timeout, 30 + 30 + 60);
}

static void test_upload_time_rounds_an_uneven_rate_up(void **state)
{
    fpm_timeouts t;

    set(*state, "max_upload=64M");
    timeouts(*state, 3 * 1024 * 1024, &t);
    assert_int_equal(t.upload_time, 22);
}

static void test_upload_ceiling_follows_a_larger_max_upload(void **state)
{
    fpm_timeouts t;

    set(*state, "upload_ceiling=2G");
    set(*state, "max_upload=4G");
    timeouts(*state, 0, &t);
    assert_int_equal(t.local_read_time, 64);
}

/* ---- php-fpm.conf and the cache ini ---- */

static const rendered_case conf_global_section_is_the_slots = { 0, {
    "[global]",
    "pid = \"/srv/w/run/alice.b.pid\"",
    "error_log = \"/srv/w/log/alice/fpm.b.log\"",
    "daemonize = yes",
    NULL } };

static const rendered_case conf_pool_runs_as_the_account_on_its_socket = {
    0, {
    "[alice]",
    "user = \"alice\"",
    "group = \"alice\"",
    "listen = \"/srv/w/run/alice.b.sock\"",
    /* root's, not the account's: its own PHP must not connect */
    "listen.owner = \"root\"",
    "listen.group = \"www-data\"",
    "listen.mode = 0660",
    NULL } };

static const rendered_case conf_pool_manager_and_private_pages = { 0, {
    "pm = ondemand",
    "pm.max_children = 3",
    "pm.process_idle_timeout = 10s",
    "pm.max_requests = 0",
    "pm.status_path = " WLF_FPM_STATUS_PATH,
    "ping.path = " WLF_FPM_PING_PATH,
    "security.limit_extensions = .php .PHP",
    "clear_env = yes",
    NULL } };

static const rendered_case conf_timeouts_cover_the_slowest_upload = { 0, {
    /* 30 + min(ceil(64M / 1M), 30) + 60 */
    "request_terminate_timeout = 120s",
    "process_control_timeout = 120s",
    "php_admin_value[max_input_time] = \"90\"",
    "php_admin_value[max_execution_time] = \"30\"",
    NULL } };

static const rendered_case conf_confines_php_to_the_account = { 0, {
    "php_admin_value[open_basedir] = "
    "\"/home/alice/:/srv/w/lib/accounts/alice/\"",
    "env[TMPDIR] = \"/srv/w/lib/accounts/alice/tmp\"",
    "php_admin_value[upload_tmp_dir] = \"/srv/w/lib/accounts/alice/upload\"",
    "php_admin_value[sys_temp_dir] = \"/srv/w/lib/accounts/alice/tmp\"",
    "php_admin_value[session.save_path] = "
    "\"/srv/w/lib/accounts/alice/sessions\"",
    "php_admin_value[error_log] = \"/srv/w/log/alice/php-error.log\"",
    "php_admin_value[log_errors] = \"1\"",
    NULL } };

static const rendered_case conf_upload_limits_are_in_bytes = { 0, {
    "php_admin_value[post_max_size] = \"67108864\"",
    "php_admin_value[upload_max_filesize] = \"67108864\"",
    NULL } };

static const rendered_case conf_has_the_accounts_php_admin_values = { 0, {
    "php_admin_value[memory_limit] = \"256M\"",
    NULL } };

/* sizes in MiB (opcache) and M (APCu) */
static const rendered_case ini_sizes_the_caches_of_the_master = { 1, {
    "opcache.enable=1",
    "opcache.memory_consumption=128",
    "opcache.interned_strings_buffer=8",
    "opcache.max_accelerated_files=10000",
    "opcache.validate_timestamps=1",
    "opcache.revalidate_freq=2",
    "apc.enabled=1",
    "apc.shm_size=32M",
    NULL } };

static int setup_rendered(void **state)
{
    setup(state);
    render_typical(*state);
    return 0;
}

static void test_rendered_lines(void **state)
{
    fx *f = *state;
    const rendered_case *c = f->c;
    const char *text = c->ini ? f->r.ini : f->r.conf;

    for (const char *const *l = c->lines; *l; l++)
        assert_line(text, *l);
}

static void test_conf_static_pool_keeps_its_workers(void **state)
{
    fx *f = *state;

    set(f, "pm=static");
    render(f, 'a');
    assert_line(f->r.conf, "pm = static");
    assert_line(f->r.conf, "pm.max_children = 5");
    assert_null(strstr(f->r.conf, "pm.process_idle_timeout"));
}

static void test_conf_dynamic_pool_keeps_spare_workers(void **state)
{
    fx *f = *state;

    set(f, "pm=dynamic");
    set(f, "max_children=8");
    set(f, "min_spare_servers=2");
    set(f, "max_spare_servers=4");
    set(f, "start_servers=3");
    render(f, 'a');
    assert_line(f->r.conf, "pm = dynamic");
    assert_line(f->r.conf, "pm.max_children = 8");
    assert_line(f->r.conf, "pm.min_spare_servers = 2");
    assert_line(f->r.conf, "pm.max_spare_servers = 4");
    assert_line(f->r.conf, "pm.start_servers = 3");
    assert_null(strstr(f->r.conf, "pm.process_idle_timeout"));
    set(f, "start_servers=0");
    render(f, 'a');
    assert_null(strstr(f->r.conf, "pm.start_servers"));
}

static void test_conf_dynamic_spares_php_fpm_refuses_are_refused(
    void **state)
{
    fx *f = *state;

    set(f, "pm=dynamic");
    set(f, "max_children=2");
    assert_render_refused(f, "max_spare_servers");
    set(f, "max_spare_servers=2");
    set(f, "min_spare_servers=3");
    assert_render_refused(f, "min_spare_servers");
    set(f, "min_spare_servers=1");
    set(f, "start_servers=5");
    assert_render_refused(f, "start_servers");
    /* the same values are fine for a pool that does not use them */
    set(f, "pm=ondemand");
    render(f, 'a');
}

static void test_conf_recycling_and_slow_log(void **state)
{
    fx *f = *state;

    set(f, "max_requests=500");
    set(f, "slowlog_timeout=5");
    render(f, 'a');
    assert_line(f->r.conf, "pm.max_requests = 500");
    assert_line(f->r.conf, "slowlog = \"/srv/w/log/alice/slow.log\"");
    assert_line(f->r.conf, "request_slowlog_timeout = 5s");
    set(f, "slowlog_timeout=0");
    render(f, 'a');
    assert_null(strstr(f->r.conf, "slowlog"));
}

static void test_conf_php_values_env_and_script_extensions(void **state)
{
    fx *f = *state;

    set(f, "php_value.memory_limit=99M");
    set(f, "env.APP_ENV=production");
    set(f, "script_extensions=.php,.phtml");
    render(f, 'a');
    assert_line(f->r.conf, "php_value[memory_limit] = \"99M\"");
    assert_line(f->r.conf, "env[APP_ENV] = \"production\"");
    assert_line(f->r.conf, "security.limit_extensions = .php .PHP .phtml "
                ".PHTML");
}

static void test_startup_settings_go_to_the_instance_ini(void **state)
{
    fx *f = *state;

    set(f, "php_admin.opcache.jit_buffer_size=16M");
    set(f, "php_admin.memory_limit=256M");
    render(f, 'a');
    assert_line(f->r.ini, "opcache.jit_buffer_size = \"16M\"");
    assert_null(strstr(f->r.conf, "jit_buffer_size"));
    assert_line(f->r.conf, "php_admin_value[memory_limit] = \"256M\"");
    assert_null(strstr(f->r.ini, "memory_limit"));
}

static void test_managed_settings_are_refused_with_the_reason(void **state)
{
    fx *f = *state;
    wlf_err e;

    assert_int_equal(fpm_set_apply(&f->cfg, &f->a,
                                   "php_admin.post_max_size=1G", &e), -1);
    assert_non_null(strstr(e.msg, "max_upload"));
    assert_int_equal(fpm_set_apply(&f->cfg, &f->a,
                                   "php_value.opcache.preload=/x.php", &e),
                     -1);
    assert_non_null(strstr(e.msg, "php_admin.opcache.preload"));
    assert_int_equal(fpm_set_apply(&f->cfg, &f->a, "env.TMPDIR=/tmp", &e),
                     -1);
    assert_int_equal(fpm_set_apply(&f->cfg, &f->a, "env.1X=y", &e), -1);
    assert_int_equal(fpm_set_apply(&f->cfg, &f->a, "extensions=redis", &e),
                     -1);
    assert_non_null(strstr(e.msg, "extensions_allowed"));
}

static void test_extensions_load_in_the_allow_lists_order(void **state)
{
    fx *f = *state;
    wlf_err e;

    assert_int_equal(wlf_config_allow_extension(&f->cfg, "igbinary", &e), 0);
    assert_int_equal(wlf_config_allow_extension(&f->cfg, "redis", &e), 0);
    assert_int_equal(wlf_config_allow_extension(&f->cfg, "zend:xdebug", &e),
                     0);
    assert_int_equal(wlf_config_allow_extension(&f->cfg, "../x", &e), -1);
    set(f, "extensions=xdebug,redis,igbinary");
    render(f, 'a');
    assert_non_null(strstr(f->r.ini, "extension=igbinary\nextension=redis\n"
                           "zend_extension=xdebug\n"));
}

static void test_instance_runs_the_accounts_php_version(void **state)
{
    fx *f = *state;

    render_typical(f);
    assert_string_equal(f->r.bin, "/usr/sbin/php-fpm8.3");
}

static void test_ini_rounds_sizes_up_and_writes_booleans_as_digits(
    void **state)
{
    fx *f = *state;

    set(f, "apcu_memory=1536K");
    set(f, "opcache_validate_timestamps=off");
    render(f, 'a');
    assert_line(f->r.ini, "apc.shm_size=2M");
    assert_line(f->r.ini, "opcache.validate_timestamps=0");
}

static void test_rendering_is_deterministic(void **state)
{
    fx *f = *state;
    fpm_rendered again;
    wlf_err e;

    /* what rebuild compares */
    render_typical(f);
    assert_int_equal(fpm_render_all(&f->cfg, &f->a, 'b', &again, &e), 0);
    assert_string_equal(f->r.conf, again.conf);
    assert_string_equal(f->r.ini, again.ini);
    fpm_rendered_free(&again);
}

static void test_slots_differ_in_socket_and_pid_file_only(void **state)
{
    fx *f = *state;
    fpm_rendered b;
    wlf_err e;

    render(f, 'a');
    assert_line(f->r.conf, "listen = \"/srv/w/run/alice.a.sock\"");
    assert_int_equal(fpm_render_all(&f->cfg, &f->a, 'b', &b, &e), 0);
    assert_string_equal(f->r.ini, b.ini);
    assert_int_equal(strlen(f->r.conf), strlen(b.conf));
    fpm_rendered_free(&b);
}

static void test_unknown_slot_is_refused(void **state)
{
    fx *f = *state;
    fpm_rendered c;
    wlf_err e;

    assert_int_equal(fpm_render_all(&f->cfg, &f->a, 'c', &c, &e), -1);
    assert_string_equal(e.field, "slot");
}

static void test_admin_open_basedir_replaces_ours(void **state)
{
    fx *f = *state;

    set(f, "php_admin.open_basedir=/srv/shared");
    render(f, 'a');
    assert_line(f->r.conf, "php_admin_value[open_basedir] = \"/srv/shared\"");
    assert_null(strstr(f->r.conf, "/home/alice/:"));
}

/* ---- values that got past validation still cannot leave their line ---- */

static void test_php_admin_values_cannot_leave_their_line(void **state)
{
    fx *f = *state;
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

    for (int i = 0; bad_values[i]; i++) {
        assert_int_equal(wlf_account_set_php_admin(&f->a, "memory_limit",
                                                   bad_values[i]), 0);
        assert_render_refused(f, "php_admin.memory_limit");
    }
}

static void test_php_admin_keys_cannot_leave_their_line(void **state)
{
    fx *f = *state;

    assert_int_equal(wlf_account_set_php_admin(&f->a, "x] = 1\nuser", "1"),
                     0);
    assert_render_refused(f, NULL);
}

/* An identity field of the account set to `value`, which rendering must
 * refuse naming the field; cases of test_identity_refused(). */
typedef struct {
    const char *field;          /* "user", "home" or "name" */
    const char *value;
} identity_case;

static const identity_case user_cannot_leave_its_quotes = {
    "user", "alice\"\nuser = \"root" };
static const identity_case home_with_colon_cannot_widen_open_basedir = {
    "home", "/home/alice:/" };
static const identity_case pool_name_cannot_open_a_section = {
    "name", "a]\n[x" };

static void test_identity_refused(void **state)
{
    fx *f = *state;
    const identity_case *c = f->c;
    char **field = strcmp(c->field, "user") == 0 ? &f->a.user : &f->a.home;

    if (strcmp(c->field, "name") == 0)
        snprintf(f->a.name, sizeof(f->a.name), "%s", c->value);
    else {
        free(*field);
        *field = strdup(c->value);
    }
    assert_render_refused(f, c->field);
}

static void test_machine_account_user_ending_in_dollar_is_fine(void **state)
{
    fx *f = *state;

    /* a Samba-style machine account name */
    free(f->a.user);
    f->a.user = strdup("host$");
    render(f, 'a');
    assert_line(f->r.conf, "user = \"host$\"");
}

static void test_safe_quoted_refuses_quotes_and_inner_dollars(void **state)
{
    (void)state;
    assert_true(fpm_safe_quoted("/srv/a b/c"));
    assert_false(fpm_safe_quoted("a\"b"));
    assert_false(fpm_safe_quoted("a$b"));
    assert_false(fpm_safe_quoted(NULL));
}

/* ---- global options ---- */

static void test_global_options_before_the_command(void **state)
{
    fpm_globals g;
    wlf_err e;
    char *v1[] = { "fpmctl", "-c", "/x.conf", "--json", "-q", "show", "a",
                   NULL };
    char *v2[] = { "fpmctl", "--config=/y.conf", "--dry-run", "-v", "list",
                   NULL };

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
}

static void test_quiet_and_verbose_exclude_each_other(void **state)
{
    fpm_globals g;
    wlf_err e;
    char *v[] = { "fpmctl", "-q", "-v", "list", NULL };
    char *after[] = { "status", "-q", "-v", NULL };

    (void)state;
    assert_int_equal(fpm_globals_parse(4, v, &g, &e), -1);
    memset(&g, 0, sizeof(g));
    assert_int_equal(fpm_globals_extract(3, after, &g, &e), -1);
}

static void test_unknown_global_option_is_named(void **state)
{
    fpm_globals g;
    wlf_err e;
    char *v[] = { "fpmctl", "--bogus", "list", NULL };

    (void)state;
    assert_int_equal(fpm_globals_parse(3, v, &g, &e), -1);
    assert_string_equal(e.field, "--bogus");
}

static void test_config_option_needs_a_file(void **state)
{
    fpm_globals g;
    wlf_err e;
    char *v[] = { "fpmctl", "-c", NULL };

    (void)state;
    assert_int_equal(fpm_globals_parse(2, v, &g, &e), -1);
    assert_string_equal(e.field, "-c");
}

static void test_no_command_leaves_the_index_at_argc(void **state)
{
    fpm_globals g;
    wlf_err e;
    char *v[] = { "fpmctl", NULL };

    (void)state;
    assert_int_equal(fpm_globals_parse(1, v, &g, &e), 0);
    assert_int_equal(g.command_index, 1);
}

static void test_output_flags_after_the_command_are_taken_out(void **state)
{
    fpm_globals g;
    wlf_err e;
    char *v[] = { "show", "alice", "--json", "-v", "--", "--json", NULL };

    (void)state;
    memset(&g, 0, sizeof(g));
    assert_int_equal(fpm_globals_extract(6, v, &g, &e), 4);
    assert_string_equal(v[1], "alice");
    assert_string_equal(v[2], "--");
    assert_string_equal(v[3], "--json");     /* after "--": an operand */
    assert_true(g.json);
    assert_int_equal(g.verbosity, 1);
}

static void test_config_option_after_the_command_is_taken_out(void **state)
{
    fpm_globals g;
    wlf_err e;
    char *v[] = { "list", "-c", "/x.conf", "--json", NULL };
    char *v2[] = { "show", "alice", "--config=/y.conf", NULL };
    char *bad[] = { "list", "-c", NULL };

    (void)state;
    memset(&g, 0, sizeof(g));
    assert_int_equal(fpm_globals_extract(4, v, &g, &e), 1);
    assert_string_equal(g.config, "/x.conf");
    assert_true(g.json);
    assert_int_equal(fpm_globals_extract(3, v2, &g, &e), 2);
    assert_string_equal(g.config, "/y.conf");
    assert_string_equal(v2[1], "alice");
    assert_int_equal(fpm_globals_extract(2, bad, &g, &e), -1);
    assert_string_equal(e.field, "-c");
}

static void test_a_mistyped_global_option_gets_a_hint(void **state)
{
    fpm_globals g;
    wlf_err e;
    char *v[] = { "fpmctl", "--dryrun", "list", NULL };

    (void)state;
    assert_int_equal(fpm_globals_parse(3, v, &g, &e), -1);
    assert_string_equal(e.field, "--dryrun");
    assert_non_null(strstr(e.msg, "did you mean --dry-run?"));
}

/* ---- the nearest word ---- */

static const char *const command_names[] = {
    "init", "add-account", "remove-account", "list", "show", "set", "start",
    "stop", "restart", "reload", "status", "check", "rebuild", NULL };

static void test_nearest_finds_typos(void **state)
{
    (void)state;
    assert_string_equal(fpm_nearest("stauts", command_names), "status");
    assert_string_equal(fpm_nearest("lst", command_names), "list");
    assert_string_equal(fpm_nearest("relaod", command_names), "reload");
    assert_string_equal(fpm_nearest("rebiuld", command_names), "rebuild");
}

static void test_nearest_finds_the_only_word_with_that_start(void **state)
{
    (void)state;
    assert_string_equal(fpm_nearest("remove", command_names),
                        "remove-account");
    assert_string_equal(fpm_nearest("add", command_names), "add-account");
    /* "re" starts several: no guess */
    assert_null(fpm_nearest("re", command_names));
}

static void test_nearest_does_not_guess_wildly(void **state)
{
    (void)state;
    assert_null(fpm_nearest("frobnicate", command_names));
    assert_null(fpm_nearest("x", command_names));
    assert_null(fpm_nearest("", command_names));
}

/* ---- a command's options ---- */

static const fpm_optdef add_like[] = {
    { "user", 'u', 1 },
    { "domain", 'd', 1 },
    { "purge", 0, 0 },
    { NULL, 0, 0 }
};

static void test_args_long_short_attached_and_operands(void **state)
{
    fpm_arg out[16];
    size_t n;
    wlf_err e;
    char *v[] = { "add-account", "alice", "--user", "wlft-a", "-d", "a.ex",
                  "--domain=b.ex", "-dc.ex", "--purge", "--", "-x", NULL };

    (void)state;
    assert_int_equal(fpm_args_parse(11, v, add_like, out, 16, &n, &e), 0);
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
    assert_string_equal(out[6].value, "-x");     /* after "--" */
}

/* Arguments the add-like options refuse, naming `field` (NULL: any);
 * cases of test_args_refused(), one behaviour each. */
typedef struct {
    char *argv[6];
    const char *field;
} args_refused_case;

static const args_refused_case args_unknown_option_is_named = {
    { "x", "--nope", NULL }, "--nope" };
static const args_refused_case args_option_without_its_value_is_refused = {
    { "x", "--user", NULL }, "--user" };
static const args_refused_case args_value_for_a_flag_is_refused = {
    { "x", "--purge=1", NULL }, "--purge=1" };
/* more than the 3 places test_args_refused() has */
static const args_refused_case args_more_than_room_are_refused = {
    { "x", "a", "b", "c", "d", NULL }, "arguments" };

static void test_args_refused(void **state)
{
    const args_refused_case *c = *state;
    fpm_arg out[3];
    size_t n;
    wlf_err e;
    int argc = 0;

    while (c->argv[argc])
        argc++;
    assert_int_equal(fpm_args_parse(argc, (char **)c->argv, add_like, out, 3,
                                    &n, &e), -1);
    assert_string_equal(e.field, c->field);
}

static void test_args_of_set_are_operands_only(void **state)
{
    static const fpm_optdef none[] = { { NULL, 0, 0 } };
    fpm_arg out[4];
    size_t n;
    wlf_err e;
    char *v[] = { "set", "--", "alice", "max_children=3", NULL };
    char *bad[] = { "set", "-x", "max_children=3", NULL };

    (void)state;
    assert_int_equal(fpm_args_parse(4, v, none, out, 4, &n, &e), 0);
    assert_int_equal(n, 2);
    assert_string_equal(out[0].value, "alice");
    assert_string_equal(out[1].value, "max_children=3");
    assert_int_equal(fpm_args_parse(3, bad, none, out, 4, &n, &e), -1);
    assert_string_equal(e.field, "-x");
}

/* ---- `set` items ---- */

static void test_set_changes_settings(void **state)
{
    fx *f = *state;

    set(f, "max_children=3");
    set(f, "max_upload=2G");
    set(f, "php=8.3");
    assert_int_equal(f->a.settings.num[WLF_S_MAX_CHILDREN], 3);
    assert_int_equal(f->a.settings.num[WLF_S_MAX_UPLOAD], 2LL << 30);
    assert_string_equal(f->a.settings.str[WLF_S_PHP], "8.3");
}

static void test_set_to_the_default_it_has_pins_no_override(void **state)
{
    fx *f = *state;

    set(f, "max_upload=8M");            /* wlfcgi.conf's default */
    set(f, "php=8.2");
    set(f, "opcache_validate_timestamps=on");
    assert_false(f->a.settings.is_set[WLF_S_MAX_UPLOAD]);
    assert_false(f->a.settings.is_set[WLF_S_PHP]);
    assert_false(f->a.settings.is_set[WLF_S_OPCACHE_VALIDATE_TIMESTAMPS]);
    /* an override already there keeps being one */
    set(f, "max_children=3");
    set(f, "max_children=5");
    assert_true(f->a.settings.is_set[WLF_S_MAX_CHILDREN]);
}

static void test_set_off_on_an_on_off_setting_means_false(void **state)
{
    fx *f = *state;

    /* not "back to the default" */
    set(f, "opcache_validate_timestamps=off");
    assert_true(f->a.settings.is_set[WLF_S_OPCACHE_VALIDATE_TIMESTAMPS]);
    assert_int_equal(f->a.settings.num[WLF_S_OPCACHE_VALIDATE_TIMESTAMPS], 0);
}

static void test_set_default_and_off_go_back_to_the_global_default(
    void **state)
{
    fx *f = *state;

    set(f, "max_children=3");
    set(f, "max_upload=2G");
    set(f, "max_upload=off");
    set(f, "max_children=default");
    assert_false(f->a.settings.is_set[WLF_S_MAX_UPLOAD]);
    assert_false(f->a.settings.is_set[WLF_S_MAX_CHILDREN]);
}

static void test_set_domains_is_the_complete_lower_case_list(void **state)
{
    fx *f = *state;

    set(f, "domains=A.example, b.example");
    assert_int_equal(f->a.n_domains, 2);
    assert_string_equal(f->a.domains[0], "a.example");
    assert_string_equal(f->a.domains[1], "b.example");
    set(f, "domains=");
    assert_int_equal(f->a.n_domains, 0);
}

static void test_set_php_admin_adds_and_empty_removes(void **state)
{
    fx *f = *state;

    set(f, "php_admin.memory_limit=256M");
    assert_int_equal(f->a.n_php_admin, 1);
    set(f, "php_admin.memory_limit=");
    assert_int_equal(f->a.n_php_admin, 0);
}

static void test_set_php_at_domain_pins_and_default_unpins(void **state)
{
    fx *f = *state;
    wlf_account before;
    char *diff;

    set(f, "domains=a.example,b.example");
    assert_int_equal(wlf_account_copy(&before, &f->a), 0);
    set(f, "php@A.example=8.3");
    assert_string_equal(wlf_account_domain_php(&f->a, "a.example"), "8.3");
    diff = fpm_account_diff(&f->cfg, &before, &f->a);
    assert_string_equal(diff, "php@a.example (the account's) -> 8.3");
    free(diff);
    set(f, "php@a.example=default");
    assert_int_equal(f->a.n_domain_php, 0);
    /* a domain that goes takes its version along, and says so */
    set(f, "php@b.example=8.3");
    wlf_account_free(&before);
    assert_int_equal(wlf_account_copy(&before, &f->a), 0);
    set(f, "domains=a.example");
    assert_int_equal(f->a.n_domain_php, 0);
    diff = fpm_account_diff(&f->cfg, &before, &f->a);
    assert_non_null(strstr(diff, "php@b.example 8.3 -> (gone with the "
                                 "domain)"));
    free(diff);
    wlf_account_free(&before);
}

static void test_set_home(void **state)
{
    fx *f = *state;

    set(f, "home=/srv/alice");
    assert_string_equal(f->a.home, "/srv/alice");
}

static void test_set_bad_items_name_their_field(void **state)
{
    fx *f = *state;
    wlf_err e;
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
        { "php@no.example=8.3", "php@no.example" },
        { "php@a..b=8.3", "php@a..b" },
        { "max_children", "set" },
        { "=3", "set" },
        { NULL, NULL }
    };

    for (int i = 0; bad[i].item; i++) {
        if (fpm_set_apply(&f->cfg, &f->a, bad[i].item, &e) != -1)
            fail_msg("accepted: %s", bad[i].item);
        if (strcmp(e.field, bad[i].field) != 0)
            fail_msg("%s: field %s, expected %s", bad[i].item, e.field,
                     bad[i].field);
        assert_null(strchr(e.msg, '\n'));
    }
}

static void test_diff_says_what_changed_from_what_to_what(void **state)
{
    fx *f = *state;
    wlf_account before;
    char *diff;

    assert_int_equal(wlf_account_copy(&before, &f->a), 0);
    set(f, "max_children=3");
    set(f, "max_upload=2G");
    set(f, "domains=a.example,b.example");
    set(f, "php_admin.memory_limit=256M");
    set(f, "home=/srv/alice");
    diff = fpm_account_diff(&f->cfg, &before, &f->a);
    assert_non_null(strstr(diff, "max_children 5 -> 3"));
    assert_non_null(strstr(diff, "max_upload 8M -> 2G"));
    assert_non_null(strstr(diff, "domains (none) -> a.example,b.example"));
    assert_non_null(strstr(diff, "php_admin.memory_limit (unset) -> 256M"));
    assert_non_null(strstr(diff, "home /home/alice -> /srv/alice"));
    free(diff);
    wlf_account_free(&before);
}

static void test_diff_of_an_unchanged_account_is_empty(void **state)
{
    fx *f = *state;
    char *diff = fpm_account_diff(&f->cfg, &f->a, &f->a);

    assert_string_equal(diff, "");
    free(diff);
}

/* ---- slots ---- */

static void test_instance_of_another_version_has_its_own_files(void **state)
{
    fx *f = *state;
    fpm_slot s;
    fpm_rendered r;
    wlf_err e;

    fpm_slot_init_version(&f->cfg, "alice", "8.3", 'a', &s);
    assert_string_equal(s.key, "alice.v8.3");
    assert_string_equal(s.name, "alice");
    assert_string_equal(s.dir, "/srv/w/lib/fpm/alice.v8.3.a");
    assert_string_equal(s.sock, "/srv/w/run/alice.v8.3.a.sock");
    assert_string_equal(s.pidfile, "/srv/w/run/alice.v8.3.a.pid");
    assert_string_equal(s.log, "/srv/w/log/alice/fpm.v8.3.a.log");
    assert_string_equal(s.unit, "wlfcgi-fpm@alice.v8.3.a.service");
    /* its rendering: its own socket, pid file and log and binary; the
     * account's pool, user and directories */
    assert_int_equal(fpm_render_instance(&f->cfg, &f->a, "8.3", 'a', &r, &e),
                     0);
    assert_line(r.conf, "pid = \"/srv/w/run/alice.v8.3.a.pid\"");
    assert_line(r.conf, "error_log = \"/srv/w/log/alice/fpm.v8.3.a.log\"");
    assert_line(r.conf, "listen = \"/srv/w/run/alice.v8.3.a.sock\"");
    assert_line(r.conf, "[alice]");
    assert_line(r.conf, "user = \"alice\"");
    assert_line(r.conf, "php_admin_value[upload_tmp_dir] = "
                        "\"/srv/w/lib/accounts/alice/upload\"");
    assert_string_equal(r.bin, "/usr/sbin/php-fpm8.3");
    fpm_rendered_free(&r);
    /* the primary's is what it always was */
    assert_int_equal(fpm_render_instance(&f->cfg, &f->a, NULL, 'a', &r, &e),
                     0);
    assert_line(r.conf, "listen = \"/srv/w/run/alice.a.sock\"");
    assert_line(r.conf, "error_log = \"/srv/w/log/alice/fpm.a.log\"");
    assert_string_equal(r.bin, "/usr/sbin/php-fpm8.2");
    fpm_rendered_free(&r);
}

static void test_slot_files_lie_in_its_directory(void **state)
{
    fx *f = *state;
    fpm_slot s;

    fpm_slot_init(&f->cfg, "alice", 'b', &s);
    assert_string_equal(s.dir, "/srv/w/lib/fpm/alice.b");
    assert_string_equal(s.conf, "/srv/w/lib/fpm/alice.b/php-fpm.conf");
    assert_string_equal(s.ini, "/srv/w/lib/fpm/alice.b/ini/wlfcgi.ini");
    assert_string_equal(s.sock, "/srv/w/run/alice.b.sock");
    assert_string_equal(s.unit, "wlfcgi-fpm@alice.b.service");
    /* check renders into a temp dir with the same layout */
    fpm_slot_set_dir(&s, "/tmp/check/i");
    assert_string_equal(s.conf, "/tmp/check/i/php-fpm.conf");
    assert_string_equal(s.ini_dir, "/tmp/check/i/ini");
    assert_string_equal(s.ini, "/tmp/check/i/ini/wlfcgi.ini");
    assert_string_equal(s.bin, "/tmp/check/i/php-fpm");
    assert_string_equal(s.sock, "/srv/w/run/alice.b.sock");
}

/* ---- JSON ---- */

static void test_json_writer_places_commas_and_escapes(void **state)
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

/* Fedora's www.conf, shortened, with what php-fpm also accepts */
static const char *const fedora_www =
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

static void test_pool_parser_finds_each_pools_user_and_group(void **state)
{
    fpm_pool_identity p[2];

    assert_int_equal(fpm_parse_pools(fedora_www, p, 2), 3);
    assert_string_equal(p[0].name, "www");
    assert_string_equal(p[0].user, "apache");
    assert_string_equal(p[0].group, "apache");
    assert_string_equal(p[1].name, "other");
    assert_string_equal(p[1].user, "wlft-x");
    assert_string_equal(p[1].group, "wlft x");
}

static void test_pool_parser_skips_global_and_broken_sections(void **state)
{
    fpm_pool_identity p[2];

    assert_int_equal(fpm_parse_pools("", p, 2), 0);
    assert_int_equal(fpm_parse_pools("user = x\n[global]\nuser = y\n"
                                     "[a\nuser = z\n", p, 2), 0);
}

static void test_proxy_handler_of_fedoras_php_conf_is_found(void **state)
{
    char line[256];
    const char *php_conf =
        "<Files \".user.ini\">\n    Require all denied\n</Files>\n"
        "AddType text/html .php\n"
        "<IfModule !mod_php.c>\n"
        "    <FilesMatch \\.(php|phar)$>\n"
        "        SetHandler \"proxy:unix:/run/php-fpm/www.sock|fcgi://"
        "localhost\"\n"
        "    </FilesMatch>\n"
        "</IfModule>\n";

    assert_int_equal(fpm_find_proxy_handler(php_conf, line, sizeof(line)),
                     1);
    assert_string_equal(line, "SetHandler \"proxy:unix:/run/php-fpm/www.sock"
                        "|fcgi://localhost\"");
    assert_int_equal(fpm_find_proxy_handler(
        "\taddhandler proxy:fcgi://127.0.0.1:9000 .php", line,
        sizeof(line)), 1);
}

static void test_commented_or_other_handlers_are_no_proxy(void **state)
{
    char line[256];

    assert_int_equal(fpm_find_proxy_handler(
        "#SetHandler \"proxy:unix:/x|fcgi://l\"\n"
        "SetHandler application/x-httpd-php\n"
        "SetHandler\n", line, sizeof(line)), 0);
}

static void test_unit_text_wants_the_unit_by_its_exact_name(void **state)
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

/* ---- fpmctl php ---- */

static void test_php_options_that_drop_settings_are_found(void **state)
{
    char *n[] = { "-n", "-r", "echo 1;" };
    char *d[] = { "-l", "-dopen_basedir=", "x.php" };
    char *lng[] = { "--define=a=b" };
    char *after[] = { "x.php", "-d", "a=b" };
    char *code[] = { "-r", "-d", "--", "-n" };
    char *file[] = { "-f", "x.php", "-n" };

    (void)state;
    assert_string_equal(fpm_php_refused_option(3, n), "-n");
    assert_string_equal(fpm_php_refused_option(3, d), "-dopen_basedir=");
    assert_string_equal(fpm_php_refused_option(1, lng), "--define=a=b");
    /* a script's own arguments, code and what follows -- or -f FILE */
    assert_null(fpm_php_refused_option(3, after));
    assert_null(fpm_php_refused_option(4, code));
    assert_null(fpm_php_refused_option(3, file));
}

static void test_php_argv_carries_the_accounts_settings(void **state)
{
    fx *f = *state;
    char *args[] = { "cron.php", "x" };
    char **v;
    wlf_err e;
    char all[4096] = "";

    set(f, "php=8.3");
    set(f, "php_admin.memory_limit=256M");
    v = fpm_php_argv(&f->cfg, &f->a, 2, args, &e);
    assert_non_null(v);
    /* the CLI next to the version's php-fpm */
    assert_string_equal(v[0], "/usr/bin/php8.3");
    for (char **a = v + 1; *a; a++) {
        strncat(all, *a, sizeof(all) - strlen(all) - 2);
        strcat(all, " ");
    }
    assert_non_null(strstr(all, "-d open_basedir=/home/alice/:"
                           "/srv/w/lib/accounts/alice/ "));
    assert_non_null(strstr(all, "-d sys_temp_dir=/srv/w/lib/accounts/alice/"
                           "tmp "));
    assert_non_null(strstr(all, "-d memory_limit=256M "));
    assert_non_null(strstr(all, "cron.php x "));
    fpm_php_argv_free(v);
}

#define FX_TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
#define ARGS_REFUSED_TEST(c) { "test_" #c, test_args_refused, NULL, NULL, \
                               (void *)&c }
#define IDENTITY_TEST(c) { "test_" #c, test_identity_refused, setup, \
                           teardown, (void *)&c }
#define RENDERED_TEST(c) { "test_" #c, test_rendered_lines, setup_rendered, \
                           teardown, (void *)&c }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_php_options_that_drop_settings_are_found),
        FX_TEST(test_php_argv_carries_the_accounts_settings),
        FX_TEST(test_timeouts_leave_room_for_the_default_upload),
        FX_TEST(test_timeouts_do_not_grow_with_a_slow_clients_upload),
        FX_TEST(test_request_terminate_timeout_setting_wins),
        FX_TEST(test_upload_time_rounds_an_uneven_rate_up),
        FX_TEST(test_upload_ceiling_follows_a_larger_max_upload),
        RENDERED_TEST(conf_global_section_is_the_slots),
        RENDERED_TEST(conf_pool_runs_as_the_account_on_its_socket),
        RENDERED_TEST(conf_pool_manager_and_private_pages),
        FX_TEST(test_conf_static_pool_keeps_its_workers),
        FX_TEST(test_conf_dynamic_pool_keeps_spare_workers),
        FX_TEST(test_conf_dynamic_spares_php_fpm_refuses_are_refused),
        FX_TEST(test_conf_recycling_and_slow_log),
        FX_TEST(test_conf_php_values_env_and_script_extensions),
        FX_TEST(test_startup_settings_go_to_the_instance_ini),
        FX_TEST(test_managed_settings_are_refused_with_the_reason),
        FX_TEST(test_extensions_load_in_the_allow_lists_order),
        RENDERED_TEST(conf_timeouts_cover_the_slowest_upload),
        RENDERED_TEST(conf_confines_php_to_the_account),
        RENDERED_TEST(conf_upload_limits_are_in_bytes),
        RENDERED_TEST(conf_has_the_accounts_php_admin_values),
        FX_TEST(test_instance_runs_the_accounts_php_version),
        RENDERED_TEST(ini_sizes_the_caches_of_the_master),
        FX_TEST(test_ini_rounds_sizes_up_and_writes_booleans_as_digits),
        FX_TEST(test_rendering_is_deterministic),
        FX_TEST(test_slots_differ_in_socket_and_pid_file_only),
        FX_TEST(test_unknown_slot_is_refused),
        FX_TEST(test_admin_open_basedir_replaces_ours),
        FX_TEST(test_php_admin_values_cannot_leave_their_line),
        FX_TEST(test_php_admin_keys_cannot_leave_their_line),
        IDENTITY_TEST(user_cannot_leave_its_quotes),
        IDENTITY_TEST(home_with_colon_cannot_widen_open_basedir),
        IDENTITY_TEST(pool_name_cannot_open_a_section),
        FX_TEST(test_machine_account_user_ending_in_dollar_is_fine),
        cmocka_unit_test(test_safe_quoted_refuses_quotes_and_inner_dollars),
        cmocka_unit_test(test_global_options_before_the_command),
        cmocka_unit_test(test_quiet_and_verbose_exclude_each_other),
        cmocka_unit_test(test_unknown_global_option_is_named),
        cmocka_unit_test(test_config_option_needs_a_file),
        cmocka_unit_test(test_no_command_leaves_the_index_at_argc),
        cmocka_unit_test(test_output_flags_after_the_command_are_taken_out),
        cmocka_unit_test(test_config_option_after_the_command_is_taken_out),
        cmocka_unit_test(test_a_mistyped_global_option_gets_a_hint),
        cmocka_unit_test(test_nearest_finds_typos),
        cmocka_unit_test(test_nearest_finds_the_only_word_with_that_start),
        cmocka_unit_test(test_nearest_does_not_guess_wildly),
        cmocka_unit_test(test_args_long_short_attached_and_operands),
        ARGS_REFUSED_TEST(args_unknown_option_is_named),
        ARGS_REFUSED_TEST(args_option_without_its_value_is_refused),
        ARGS_REFUSED_TEST(args_value_for_a_flag_is_refused),
        ARGS_REFUSED_TEST(args_more_than_room_are_refused),
        cmocka_unit_test(test_args_of_set_are_operands_only),
        FX_TEST(test_set_changes_settings),
        FX_TEST(test_set_to_the_default_it_has_pins_no_override),
        FX_TEST(test_set_off_on_an_on_off_setting_means_false),
        FX_TEST(test_set_default_and_off_go_back_to_the_global_default),
        FX_TEST(test_set_domains_is_the_complete_lower_case_list),
        FX_TEST(test_set_php_admin_adds_and_empty_removes),
        FX_TEST(test_set_php_at_domain_pins_and_default_unpins),
        FX_TEST(test_set_home),
        FX_TEST(test_set_bad_items_name_their_field),
        FX_TEST(test_diff_says_what_changed_from_what_to_what),
        FX_TEST(test_diff_of_an_unchanged_account_is_empty),
        FX_TEST(test_slot_files_lie_in_its_directory),
        FX_TEST(test_instance_of_another_version_has_its_own_files),
        cmocka_unit_test(test_json_writer_places_commas_and_escapes),
        cmocka_unit_test(test_pool_parser_finds_each_pools_user_and_group),
        cmocka_unit_test(test_pool_parser_skips_global_and_broken_sections),
        cmocka_unit_test(test_proxy_handler_of_fedoras_php_conf_is_found),
        cmocka_unit_test(test_commented_or_other_handlers_are_no_proxy),
        cmocka_unit_test(test_unit_text_wants_the_unit_by_its_exact_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
