"""Only the admin configures backends.

A proxy target that a customer's .htaccess may have chosen (RewriteRule
[P], SetHandler/AddHandler "proxy:...", [H=proxy:...], in <Files>, <If>,
...) may only be the vhost's own account; everything else gets 403 and one
WLF line before mod_proxy runs. Each attack is also run against the stock
httpd (no mod_wlfcgi, same files), where it works. Proxying the admin
configured keeps working, also with a .htaccess in the same directories.
"""
import os
import threading

import pytest

from wlf import host

HTTPD_USER = host.httpd_user()

REFUSED = r"WLF00030: vhost eve\.test \(account eve\): .*proxy target"


def backend(w, path="/"):
    return f"http://127.0.0.1:{w.backend.port}{path}"


def ran_as(r):
    """The Unix user a response's PHP ran as (info.php / whoami.phtml)."""
    try:
        return r.json()["user"]
    except ValueError:
        return None


WHOAMI = "<?php echo json_encode(['user' => posix_getpwuid(posix_geteuid())" \
         "['name'], 'open_basedir' => ini_get('open_basedir')]);\n"


def attacks(w):
    b = backend(w)
    tcp = f"fcgi://127.0.0.1:{w.loose.tcp_port}"
    www = f"unix:{w.loose.www_sock}|fcgi://localhost"
    return {
        # name: (.htaccess, file requested, what the stock httpd shows)
        "rewrite_p_http": ("RewriteEngine On\n"
                           f"RewriteRule ^static\\.txt$ {b}x [P]\n",
                           "static.txt", "INTERNAL-SECRET"),
        "sethandler_files_http": ('<Files "static.txt">\n'
                                  f'  SetHandler "proxy:{b}"\n</Files>\n',
                                  "static.txt", "INTERNAL-SECRET"),
        "addhandler_http": (f'AddHandler "proxy:{b}" .txt\n',
                            "static.txt", "INTERNAL-SECRET"),
        "rewrite_h_http": ("RewriteEngine On\n"
                           f"RewriteRule \\.txt$ - [H=proxy:{b}]\n",
                           "static.txt", "INTERNAL-SECRET"),
        "if_sethandler_http": ('<If "%{REQUEST_URI} =~ /static/">\n'
                               f'  SetHandler "proxy:{b}"\n</If>\n',
                               "static.txt", "INTERNAL-SECRET"),
        "filesmatch_tcp_fcgi": ('SetEnv PHP_ADMIN_VALUE "open_basedir=/"\n'
                                '<FilesMatch "\\.phtml$">\n'
                                f'  SetHandler "proxy:{tcp}"\n'
                                "</FilesMatch>\n",
                                "who.phtml", "wlft-legacy"),
        "rewrite_p_tcp_fcgi": ("RewriteEngine On\n"
                               f"RewriteRule ^who\\.phtml$ {tcp}%{{REQUEST_"
                               "FILENAME} [P]\n",
                               "who.phtml", "wlft-legacy"),
        "sethandler_www_pool": ('<Files "who.phtml">\n'
                                f'  SetHandler "proxy:{www}"\n</Files>\n',
                                "who.phtml", HTTPD_USER),
    }


@pytest.mark.parametrize("name", ["rewrite_p_http", "sethandler_files_http",
                                  "addhandler_http", "rewrite_h_http",
                                  "if_sethandler_http", "filesmatch_tcp_fcgi",
                                  "rewrite_p_tcp_fcgi",
                                  "sethandler_www_pool"])
def test_customer_proxy_target_refused(cworld, expect_log, name):
    expect_log(REFUSED)
    w = cworld
    text, fname, shows = attacks(w)[name]
    w.eve_dir(f"px_{name}", text, {"static.txt": "EVE-OK\n",
                                   "who.phtml": WHOAMI})
    stock, ours = w.both(f"/px_{name}/{fname}", "eve.test")
    assert stock.status == 200 and shows in stock.text, stock
    assert ours.status == 403, ours
    assert shows not in ours.text
    assert "INTERNAL-SECRET" not in ours.text
    assert w.httpd.wait_log(REFUSED + r".*px_" + name)
    # refused before mod_proxy: none of its DNS or connect errors
    assert not [ln for ln in w.httpd.new_log_lines() if "AH0" in ln]


def test_foreign_socket_through_a_link_in_the_docroot(cworld, expect_log):
    """A symlink of eve's to ann's socket: judged as written (a path
    outside the socket directory), never resolved, so never reached."""
    expect_log(REFUSED)
    w = cworld
    d = w.eve_dir("px_link")
    link = w.eve_link(os.path.join(d, "a.sock"), w.ann.socket)
    w.eve_dir("px_link", "RewriteEngine On\n"
              f"RewriteRule ^go$ unix:{link}|fcgi://localhost"
              f"{w.ann_www}/info.php [P]\n")
    w.eve_link(link, w.ann.socket)
    stock, ours = w.both("/px_link/go", "eve.test")
    assert ran_as(stock) == "wlft-ann", stock
    assert ours.status == 403 and "wlft-ann" not in ours.text


def test_foreign_socket_named_directly(cworld, expect_log):
    expect_log(r"WLF00020: vhost eve\.test \(account eve\) tried to reach "
               r"account ann's socket")
    w = cworld
    w.eve_dir("px_ann", "RewriteEngine On\n"
              f"RewriteRule ^go$ unix:{w.ann.socket}|fcgi://localhost"
              f"{w.ann_www}/info.php [P]\n")
    stock, ours = w.both("/px_ann/go", "eve.test")
    assert ran_as(stock) == "wlft-ann", stock
    assert ours.status == 403 and "wlft-ann" not in ours.text


def test_own_socket_spelled_exactly_is_allowed(cworld):
    """eve may proxy to her own socket; it goes through the module's own
    worker (a fixed path) with the environment scrubbed."""
    w = cworld
    w.eve_dir("px_own", 'SetEnv PHP_ADMIN_VALUE "open_basedir=/"\n'
              "RewriteEngine On\n"
              f"RewriteRule ^go$ unix:{w.eve.socket}|fcgi://localhost"
              f"{w.eve_www}/info.php [P]\n")
    r = w.get("/px_own/go", "eve.test")
    assert r.status == 200, r
    j = r.json()
    assert j["user"] == "wlft-eve"
    assert j["open_basedir"] not in ("", "/")
    assert j["php_admin_value"].startswith("upload_max_filesize=")


def test_garbage_proxy_handler_is_403_not_500(cworld, expect_log):
    expect_log(REFUSED)
    w = cworld
    w.eve_dir("px_garbage", '<Files "static.txt">\n'
              '  SetHandler "proxy:foo/bar"\n</Files>\n',
              {"static.txt": "EVE-OK\n"})
    r = w.get("/px_garbage/static.txt", "eve.test")
    assert r.status == 403, r
    assert w.httpd.wait_log(REFUSED + r".*proxy:foo/bar")


# ---- unmapped (parked) vhosts: no proxying from .htaccess at all ----

def test_unmapped_vhost_garbage_handler_never_sends_source(cworld,
                                                          expect_log):
    """mod_proxy declines a proxy: handler it cannot use; the core
    handler would then send the script as text."""
    expect_log(r"WLF00022: vhost parked\.test has no wlfcgi account")
    w = cworld
    w.eve_dir("parked/src", '<Files "src.php">\n'
              'SetHandler "proxy:foo/bar"\n</Files>\n',
              {"src.php": "<?php /* PARKED-SOURCE */ echo 'ran';\n"})
    stock, ours = w.both("/src/src.php", "parked.test")
    assert "PARKED-SOURCE" in stock.text
    assert "PARKED-SOURCE" not in ours.text and ours.status == 500


def test_distribution_php_handler_unused_by_unmapped_vhost(cworld,
                                                          expect_log):
    """Fedora's php-fpm package sends every .php to its www pool, which
    runs as httpd's user. A vhost without an account never runs PHP there
    (WLFcgiExtensions none would hand it back to that configuration)."""
    expect_log(r"WLF00022: vhost parked\.test has no wlfcgi account")
    w = cworld
    w.eve_dir("parked/www", None, {"who.php": WHOAMI})
    stock, ours = w.both("/www/who.php", "parked.test")
    assert ran_as(stock) == HTTPD_USER, stock
    assert ours.status == 500 and HTTPD_USER not in ours.text


@pytest.mark.parametrize("vhost", ["eve.test", "parked.test"])
@pytest.mark.parametrize("ext", ["phar", "phtml"])
def test_distribution_handler_runs_no_other_script(cworld, expect_log,
                                                    ext, vhost):
    """The distributions' handler sends more than .php to their www pool
    (Fedora: .phar; Debian: .phar and .phtml), and the module routes only
    the vhost's WLFcgiExtensions: eve's x.phar ran as httpd's user, which
    reaches every account's files and sockets. A server-config FastCGI
    handler for a file of a vhost must be the vhost's own account."""
    tag = (r"eve\.test \(account eve\)" if vhost == "eve.test"
           else r"parked\.test \(account none\)")
    expect_log(rf"WLF00038: vhost {tag}: the server configuration hands "
               rf".*x\.{ext} to the FastCGI server")
    w = cworld
    sub = f"dist_{ext}" if vhost == "eve.test" else f"parked/dist_{ext}"
    w.eve_dir(sub, None, {f"x.{ext}": WHOAMI})
    stock, ours = w.both(f"/dist_{ext}/x.{ext}", vhost)
    assert ran_as(stock) == HTTPD_USER, stock
    assert ours.status == 403 and HTTPD_USER not in ours.text, ours


def test_admin_fastcgi_handler_for_the_own_account(cworld, expect_log):
    """The admin may send other files to the vhost's own account himself
    (here: <Files> in <Directory>); its pool refuses what is not .php."""
    expect_log(r"AH01071: .*x\.phtml' has been denied \(see "
               r"security\.limit_extensions\)")
    w = cworld
    w.eve_dir("own_fcgi", None, {"x.phtml": WHOAMI})
    r = w.get("/own_fcgi/x.phtml", "eve.test")
    assert r.status == 403 and "Access denied" in r.text, r


def test_unmapped_vhost_proxies_nothing(cworld, expect_log):
    expect_log(r"WLF00030: vhost parked\.test \(account none\): .*proxy "
               r"target")
    w = cworld
    w.eve_dir("parked/px", "RewriteEngine On\n"
              f"RewriteRule ^go$ {backend(w, '/parked')} [P]\n")
    stock, ours = w.both("/px/go", "parked.test")
    assert "INTERNAL-SECRET" in stock.text
    assert ours.status == 403 and "INTERNAL-SECRET" not in ours.text


def test_unmapped_vhost_cannot_use_an_account_socket(cworld, expect_log):
    """parked.test is eve's domain but has no account: not even eve's
    socket is its own."""
    expect_log(r"WLF00020: vhost parked\.test \(account none\) tried to "
               r"reach account eve's socket")
    w = cworld
    w.eve_dir("parked/own", "RewriteEngine On\n"
              f"RewriteRule ^go$ unix:{w.eve.socket}|fcgi://localhost"
              f"{w.eve_www}/info.php [P]\n")
    stock, ours = w.both("/own/go", "parked.test")
    assert ran_as(stock) == "wlft-eve"
    assert ours.status == 403


# ---- the rename race ----

def test_rename_race_never_reaches_another_account(cworld, expect_log):
    """eve points a [P] at d/ann.a.sock and flips d between a directory
    of her own and a link to the socket directory while requests run. A
    module that checks the path and lets mod_proxy connect to it later
    loses this race now and then; judged as written, it never can."""
    expect_log(REFUSED)
    w = cworld
    slot = w.sb.live_slot("ann")
    d = os.path.join(w.eve_www, "px_race", "d")
    w.eve_dir("px_race", "RewriteEngine On\n"
              f"RewriteRule ^go$ unix:{d}/ann.{slot}.sock|fcgi://localhost"
              f"{w.ann_www}/info.php [P]\n")
    empty = w.eve_dir("px_race/empty")
    w.eve_link(d, empty)
    stop = threading.Event()

    def flip():
        targets = (empty, w.sb.paths["sockets"])
        i = 0
        tmp = d + ".tmp"
        while not stop.is_set():
            if os.path.lexists(tmp):
                os.unlink(tmp)
            os.symlink(targets[i % 2], tmp)
            os.replace(tmp, d)
            i += 1

    t = threading.Thread(target=flip)
    t.start()
    try:
        stock_ann = 0
        for _ in range(150):
            if ran_as(w.get("/px_race/go", "eve.test", stock=True)) == \
                    "wlft-ann":
                stock_ann += 1
        ours = [w.get("/px_race/go", "eve.test") for _ in range(300)]
    finally:
        stop.set()
        t.join()
    assert stock_ann > 0, "the stock setup should lose the race"
    assert all(r.status == 403 for r in ours), \
        {r.status for r in ours}
    assert not any("wlft-ann" in r.text for r in ours)


# ---- what the admin configured keeps working ----

ADMIN_PATHS = ["/backend/x", "/rw/x", "/loc/x", "/admdir/x", "/x.bk"]


@pytest.mark.parametrize("path", ADMIN_PATHS)
def test_admin_proxying_works_next_to_a_busy_htaccess(cworld, path):
    """ProxyPass, a vhost RewriteRule [P], SetHandler proxy: in
    <Location>, <Directory> and <FilesMatch>: the admin's, also where
    eve's .htaccess configures mod_rewrite, mod_mime and handlers."""
    w = cworld
    root_ht = os.path.join(w.eve_www, ".htaccess")
    adm_ht = os.path.join(w.eve_www, "admdir", ".htaccess")
    try:
        for p in (root_ht, adm_ht):
            with open(p, "w") as f:
                f.write("RewriteEngine On\nRewriteRule ^nothing$ - [L]\n"
                        "AddType text/plain .foo\n"
                        "AddHandler default-handler .bar\n")
        r = w.get(path, "eve.test")
        assert r.status == 200, r
        assert "INTERNAL-SECRET" in r.text
    finally:
        for p in (root_ht, adm_ht):
            if os.path.exists(p):
                os.unlink(p)


def test_customer_cannot_retarget_the_admins_proxy(cworld, expect_log):
    """A .htaccess in the admin's proxied directory naming its own
    target: the customer's SetHandler, refused."""
    expect_log(REFUSED)
    w = cworld
    ht = os.path.join(w.eve_www, "admdir", ".htaccess")
    try:
        with open(ht, "w") as f:
            f.write(f'SetHandler "proxy:{backend(w, "/evil/")}"\n')
        stock, ours = w.both("/admdir/x", "eve.test")
        assert "INTERNAL-SECRET /evil/" in stock.text
        assert ours.status == 403
    finally:
        os.unlink(ht)
