/* Unit tests for mod_wlfcgi's containment rules (wlf_contain): who made a
 * handler or proxy decision, which handlers a customer may pick, which
 * proxy targets are the vhost's own account, whose files httpd sends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <sys/stat.h>

#include "wlf_contain.h"

/* ---- attribution ---- */

static wlf_trace trace(const char *translated, const char *before,
                       const char *after, const char *final,
                       wlf_origin core)
{
    wlf_trace t = { translated, before, after, final, core, NULL };
    return t;
}

static void test_no_htaccess_is_admin(void **state)
{
    wlf_trace t = trace(NULL, "server-status", "server-status",
                        "server-status", WLF_BY_CUSTOMER);

    (void)state;
    /* whatever the trace says: no .htaccess took part */
    assert_int_equal(wlf_attribute(0, &t), WLF_BY_ADMIN);
}

static void test_sethandler_by_pointer_origin(void **state)
{
    /* SetHandler replaced what type checking chose: its origin counts */
    wlf_trace admin = trace(NULL, NULL, "server-status", "server-status",
                            WLF_BY_ADMIN);
    wlf_trace cust = trace(NULL, NULL, "server-status", "server-status",
                           WLF_BY_CUSTOMER);

    (void)state;
    assert_int_equal(wlf_attribute(WLF_HT_ANY, &admin), WLF_BY_ADMIN);
    assert_int_equal(wlf_attribute(WLF_HT_ANY, &cust), WLF_BY_CUSTOMER);
    /* mod_mime configured too: the SetHandler still decides */
    assert_int_equal(wlf_attribute(WLF_HT_ANY | WLF_HT_MIME, &admin),
                     WLF_BY_ADMIN);
}

static void test_addhandler_taint(void **state)
{
    /* core did not change it: type checking chose it (mod_mime) */
    wlf_trace t = trace(NULL, "cgi-script", "cgi-script", "cgi-script",
                        WLF_BY_ADMIN);

    (void)state;
    assert_int_equal(wlf_attribute(WLF_HT_ANY, &t), WLF_BY_ADMIN);
    assert_int_equal(wlf_attribute(WLF_HT_ANY | WLF_HT_MIME, &t),
                     WLF_BY_CUSTOMER);
    /* a customer's SetHandler that evaluates to the same value as
     * type checking: type checking's origin */
    t.core = WLF_BY_CUSTOMER;
    assert_int_equal(wlf_attribute(WLF_HT_ANY, &t), WLF_BY_ADMIN);
}

static void test_translated_value_is_admin(void **state)
{
    /* ScriptAlias set cgi-script at translation; mod_mime in .htaccess
     * does not make it the customer's */
    wlf_trace t = trace("cgi-script", "cgi-script", "cgi-script",
                        "cgi-script", WLF_BY_ADMIN);

    (void)state;
    assert_int_equal(wlf_attribute(WLF_HT_ANY | WLF_HT_MIME, &t),
                     WLF_BY_ADMIN);
}

static void test_rewrite_after_core(void **state)
{
    wlf_trace t = trace(NULL, NULL, NULL, "server-info", WLF_BY_ADMIN);

    (void)state;
    /* [H=] in a directory context: the customer's if .htaccess has
     * mod_rewrite directives */
    assert_int_equal(wlf_attribute(WLF_HT_ANY, &t), WLF_BY_ADMIN);
    assert_int_equal(wlf_attribute(WLF_HT_ANY | WLF_HT_REWRITE, &t),
                     WLF_BY_CUSTOMER);
    /* the same value a server-context rule asked for: the admin's */
    t.rewrite_server = "server-info";
    assert_int_equal(wlf_attribute(WLF_HT_ANY | WLF_HT_REWRITE, &t),
                     WLF_BY_ADMIN);
    /* an admin's SetHandler replaced by a customer's [H=] */
    t = trace(NULL, NULL, "proxy:http://backend/", "cgi-script",
              WLF_BY_ADMIN);
    assert_int_equal(wlf_attribute(WLF_HT_ANY | WLF_HT_REWRITE, &t),
                     WLF_BY_CUSTOMER);
    /* nothing left after a later fixup: nobody chose a handler */
    t = trace(NULL, "x", "x", NULL, WLF_BY_CUSTOMER);
    assert_int_equal(wlf_attribute(WLF_HT_ANY | WLF_HT_REWRITE, &t),
                     WLF_BY_ADMIN);
}

static void test_perdir_proxy(void **state)
{
    (void)state;
    assert_int_equal(wlf_attribute_perdir_proxy(WLF_HT_ANY), WLF_BY_ADMIN);
    assert_int_equal(wlf_attribute_perdir_proxy(WLF_HT_ANY | WLF_HT_REWRITE),
                     WLF_BY_CUSTOMER);
}

/* ---- handlers ---- */

static void test_effective_handler(void **state)
{
    char buf[64];

    (void)state;
    assert_string_equal(wlf_handler_effective("cgi-script", "text/html", buf,
                                              sizeof(buf)), "cgi-script");
    assert_string_equal(wlf_handler_effective(NULL,
                                              "text/html; charset=utf-8",
                                              buf, sizeof(buf)),
                        "text/html");
    assert_string_equal(wlf_handler_effective(NULL, "server-status  ; x",
                                              buf, sizeof(buf)),
                        "server-status");
    assert_string_equal(wlf_handler_effective(NULL, NULL, buf, sizeof(buf)),
                        "default-handler");
}

static void test_handler_classes(void **state)
{
    static const char *const refused[] = {
        "server-status", "server-info", "balancer-manager", "ldap-status",
        "http2-status", "md-status", "wlfcgi-status", "cgi-script",
        "lua-script", "heartbeat", "fcgid-script", "perl-script",
        "application/x-httpd-cgi", "application/x-httpd-status",
        "application/x-httpd-php", "APPLICATION/X-HTTPD-PHP",
        "httpd/anything", "reflector", "dav-handler", "something-new",
        NULL
    };
    static const char *const content[] = {
        "default-handler", "none", "type-map", "send-as-is", "imap-file",
        "server-parsed", "redirect-handler", "httpd/unix-directory",
        "httpd/send-as-is", "application/x-type-map",
        "application/x-httpd-imap", "text/x-server-parsed-html",
        "Server-Parsed", "text/html", "image/png", "application/json",
        "font/woff2", "", NULL
    };
    static const char *const extra[] = { "cgi-script" };

    (void)state;
    for (const char *const *p = refused; *p; p++)
        assert_int_equal(wlf_handler_classify(*p, NULL, 0),
                         WLF_HANDLER_REFUSED);
    for (const char *const *p = content; *p; p++)
        assert_int_equal(wlf_handler_classify(*p, NULL, 0),
                         WLF_HANDLER_CONTENT);
    assert_int_equal(wlf_handler_classify(NULL, NULL, 0),
                     WLF_HANDLER_CONTENT);
    assert_int_equal(wlf_handler_classify("proxy:foo/bar", NULL, 0),
                     WLF_HANDLER_PROXY);
    assert_int_equal(wlf_handler_classify("proxy:fcgi://127.0.0.1:9000",
                                          NULL, 0), WLF_HANDLER_PROXY);
    /* what mod_proxy would not take for a proxy handler */
    assert_int_equal(wlf_handler_classify("PROXY:x", NULL, 0),
                     WLF_HANDLER_REFUSED);
    /* the admin's additions */
    assert_int_equal(wlf_handler_classify("cgi-script", extra, 1),
                     WLF_HANDLER_CONTENT);
    assert_int_equal(wlf_handler_classify("server-status", extra, 1),
                     WLF_HANDLER_REFUSED);
}

/* ---- proxy targets ---- */

static const char *const bob_socks[] = {
    "/run/wlfcgi/bob.sock", "/run/wlfcgi/bob.a.sock", "/run/wlfcgi/bob.b.sock"
};
static const wlf_own bob = { "bob", bob_socks, 3, "/run/wlfcgi" };
static const wlf_own nobody = { NULL, NULL, 0, "/run/wlfcgi" };

static wlf_target_class classify(const char *url, const char *uds,
                                 const wlf_own *own, const char *want_acct)
{
    char acct[40];
    wlf_target_class c = wlf_target_classify(url, uds, own, acct,
                                             sizeof(acct));

    assert_string_equal(acct, want_acct);
    return c;
}

static void test_targets(void **state)
{
    (void)state;
    /* the own socket, spelled exactly, or lexically the same */
    assert_int_equal(classify("unix:/run/wlfcgi/bob.sock|fcgi://localhost/x",
                              NULL, &bob, ""), WLF_TARGET_OWN);
    assert_int_equal(classify("unix:/run/wlfcgi/bob.a.sock|fcgi://localhost",
                              NULL, &bob, ""), WLF_TARGET_OWN);
    assert_int_equal(classify("unix:/run//wlfcgi/./bob.sock|fcgi://x",
                              NULL, &bob, ""), WLF_TARGET_OWN);
    /* as mod_proxy left it after canonicalising [P]: path in uds */
    assert_int_equal(classify("fcgi://localhost/home/bob/www/x.php",
                              "/run/wlfcgi/bob.sock", &bob, ""),
                     WLF_TARGET_OWN);
    assert_int_equal(classify("fcgi://wlf-bob/x", NULL, &bob, ""),
                     WLF_TARGET_OWN);
    assert_int_equal(classify("unix:/tmp/x.sock|fcgi://wlf-bob.b/", NULL,
                              &bob, ""), WLF_TARGET_OWN);
    /* own socket, wrong protocol */
    assert_int_equal(classify("unix:/run/wlfcgi/bob.sock|http://localhost/",
                              NULL, &bob, ""), WLF_TARGET_OTHER);
    /* other accounts */
    assert_int_equal(classify("unix:/run/wlfcgi/alice.sock|fcgi://localhost",
                              NULL, &bob, "alice"), WLF_TARGET_FOREIGN);
    assert_int_equal(classify("unix:/run/wlfcgi/../wlfcgi/alice.a.sock"
                              "|fcgi://localhost", NULL, &bob, "alice"),
                     WLF_TARGET_FOREIGN);
    assert_int_equal(classify("unix:/nonexistent/x.sock|fcgi://wlf-alice.a",
                              NULL, &bob, "alice"), WLF_TARGET_RESERVED);
    assert_int_equal(classify("fcgi://WLF-Alice/", NULL, &bob, "alice"),
                     WLF_TARGET_RESERVED);
    assert_int_equal(classify("unix:/run/wlfcgi/alice.a.pid|fcgi://x", NULL,
                              &bob, ""), WLF_TARGET_SOCKDIR);
    /* anything else */
    assert_int_equal(classify("fcgi://127.0.0.1:9000/x", NULL, &bob, ""),
                     WLF_TARGET_OTHER);
    assert_int_equal(classify("http://127.0.0.1:8080/", NULL, &bob, ""),
                     WLF_TARGET_OTHER);
    assert_int_equal(classify("unix:/home/bob/www/a.sock|fcgi://localhost",
                              NULL, &bob, ""), WLF_TARGET_OTHER);
    assert_int_equal(classify("unix:/run/php/php8.2-fpm.sock|fcgi://x",
                              NULL, &bob, ""), WLF_TARGET_OTHER);
    assert_int_equal(classify("foo/bar", NULL, &bob, ""), WLF_TARGET_OTHER);
    assert_int_equal(classify("unix:/run/wlfcgi/bob.sock", NULL, &bob, ""),
                     WLF_TARGET_OTHER);
    assert_int_equal(classify("unix:run/wlfcgi/bob.sock|fcgi://x", NULL,
                              &bob, ""), WLF_TARGET_OTHER);
    assert_int_equal(classify(NULL, NULL, &bob, ""), WLF_TARGET_OTHER);
    /* an unmapped vhost has no own account */
    assert_int_equal(classify("unix:/run/wlfcgi/bob.sock|fcgi://localhost",
                              NULL, &nobody, "bob"), WLF_TARGET_FOREIGN);
    assert_int_equal(classify("fcgi://wlf-bob/", NULL, &nobody, "bob"),
                     WLF_TARGET_RESERVED);
    assert_int_equal(classify("fcgi://127.0.0.1:9000/", NULL, NULL, ""),
                     WLF_TARGET_OTHER);
}

static void test_lexical_paths(void **state)
{
    char buf[64];

    (void)state;
    assert_string_equal(wlf_path_lexical("/a//b/./c/../d", buf, sizeof(buf)),
                        "/a/b/d");
    assert_string_equal(wlf_path_lexical("/../..", buf, sizeof(buf)), "/");
    assert_string_equal(wlf_path_lexical("/a/b/", buf, sizeof(buf)), "/a/b");
    assert_string_equal(wlf_path_lexical("rel/../x", buf, sizeof(buf)),
                        "rel/../x");
    assert_null(wlf_path_lexical("/abcdef", buf, 4));
}

static void test_targets_that_run_files(void **state)
{
    (void)state;
    assert_true(wlf_target_runs_files("unix:/run/php-fpm/www.sock|"
                                      "fcgi://localhost"));
    assert_true(wlf_target_runs_files("FCGI://127.0.0.1:9000/"));
    assert_false(wlf_target_runs_files("http://127.0.0.1:8080/"));
    assert_false(wlf_target_runs_files("unix:/run/app.sock|http://x/"));
    assert_false(wlf_target_runs_files("unix:/run/broken.sock"));
    assert_false(wlf_target_runs_files("fcgi-not://x/"));
    assert_false(wlf_target_runs_files(NULL));
}

/* ---- owners ---- */

static void test_owners(void **state)
{
    const uid_t extra[] = { 2000 };
    const wlf_owners acct = { 1, 1001, NULL, 0 };
    const wlf_owners listed = { 1, 1001, extra, 1 };
    const wlf_owners no_owner = { 0, 0, NULL, 0 };

    (void)state;
    assert_int_equal(wlf_file_owner(1001, 0600, &acct), WLF_FILE_ALLOWED);
    assert_int_equal(wlf_file_owner(1002, 0644, &acct), WLF_FILE_REFUSED);
    assert_int_equal(wlf_file_owner(0, 0644, &acct), WLF_FILE_IF_OPEN_WAY);
    assert_int_equal(wlf_file_owner(0, 0755 | S_IFDIR, &acct),
                     WLF_FILE_IF_OPEN_WAY);
    /* root's, but only httpd's group may read it: a password file */
    assert_int_equal(wlf_file_owner(0, 0640, &acct), WLF_FILE_REFUSED);
    assert_int_equal(wlf_file_owner(2000, 0600, &listed), WLF_FILE_ALLOWED);
    assert_int_equal(wlf_file_owner(2001, 0644, &listed), WLF_FILE_REFUSED);
    /* a vhost without an owner: nobody's files but root's public ones */
    assert_int_equal(wlf_file_owner(1001, 0644, &no_owner), WLF_FILE_REFUSED);
    assert_int_equal(wlf_file_owner(0, 0644, &no_owner),
                     WLF_FILE_IF_OPEN_WAY);
    assert_int_equal(wlf_file_owner(0, 0600, &no_owner), WLF_FILE_REFUSED);
}

static void test_way_to_roots_files(void **state)
{
    const wlf_owners acct = { 1, 1001, NULL, 0 };
    const wlf_owners no_owner = { 0, 0, NULL, 0 };
    /* / , /home, /home/ann (0750, ann's), /home/ann/logs (root's) */
    wlf_node way[] = {
        { 0, S_IFDIR | 0755 }, { 0, S_IFDIR | 0755 },
        { 1002, S_IFDIR | 0750 }, { 0, S_IFDIR | 0755 },
    };
    /* /srv/www (root's, httpd's group only), /srv/www/eve (the
     * account's), /srv/www/eve/www (root's) */
    wlf_node under_own[] = {
        { 0, S_IFDIR | 0755 }, { 0, S_IFDIR | 0750 },
        { 1001, S_IFDIR | 0750 }, { 0, S_IFDIR | 0755 },
    };

    (void)state;
    /* another account's private home on the way: not for everyone */
    assert_false(wlf_way_open(way, 4, &acct));
    assert_false(wlf_way_open(way, 4, &no_owner));
    /* everyone may pass */
    way[2].mode = S_IFDIR | 0711;
    assert_true(wlf_way_open(way, 4, &acct));
    assert_true(wlf_way_open(way, 4, &no_owner));
    /* a root directory only httpd's group may pass (the socket
     * directory, the metrics directory) */
    way[3].mode = S_IFDIR | 0750;
    assert_false(wlf_way_open(way, 4, &acct));
    /* inside the vhost owner's own directory: theirs, whatever is
     * above it */
    assert_true(wlf_way_open(under_own, 4, &acct));
    assert_false(wlf_way_open(under_own, 4, &no_owner));
    /* nothing looked at, or not a directory: not open */
    assert_false(wlf_way_open(way, 0, &acct));
    under_own[3].mode = S_IFREG | 0755;
    assert_false(wlf_way_open(under_own, 4, &acct));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_htaccess_is_admin),
        cmocka_unit_test(test_sethandler_by_pointer_origin),
        cmocka_unit_test(test_addhandler_taint),
        cmocka_unit_test(test_translated_value_is_admin),
        cmocka_unit_test(test_rewrite_after_core),
        cmocka_unit_test(test_perdir_proxy),
        cmocka_unit_test(test_effective_handler),
        cmocka_unit_test(test_handler_classes),
        cmocka_unit_test(test_targets),
        cmocka_unit_test(test_lexical_paths),
        cmocka_unit_test(test_targets_that_run_files),
        cmocka_unit_test(test_owners),
        cmocka_unit_test(test_way_to_roots_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
