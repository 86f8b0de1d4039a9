"""mod_wlfcgi routing: each vhost's PHP runs in its account's FPM instance, as
the account's Unix user; APCu is shared by one account's sites and by no
other account; PATH_INFO, DirectoryIndex and the CGI variables are what a
stock SetHandler setup gives."""
import os
import re
import uuid


def test_each_vhost_runs_as_its_account(world):
    for host, user in (("alice.test", "wlft-alice"),
                       ("www.alice.test", "wlft-alice"),
                       ("alice2.test", "wlft-alice"),
                       ("bob.test", "wlft-bob")):
        r = world.get("/info.php", host)
        assert r.status == 200, (host, r)
        assert r.json()["user"] == user, host


def test_apcu_shared_by_alices_sites_invisible_to_bob(world):
    key = "k" + uuid.uuid4().hex[:8]
    r = world.get(f"/apcu.php?op=store&k={key}&v=alice-data", "alice.test")
    assert r.json()["ok"] is True
    # alice's other vhost, same account: sees it
    r = world.get(f"/apcu.php?op=fetch&k={key}", "alice2.test")
    assert r.json() == {**r.json(), "ok": True, "value": "alice-data"}
    # bob: neither the key nor its name
    r = world.get(f"/apcu.php?op=fetch&k={key}", "bob.test")
    assert r.json()["ok"] is False
    r = world.get("/apcu.php?op=keys", "bob.test")
    assert key not in r.json()["keys"]
    r = world.get("/apcu.php?op=keys", "alice2.test")
    assert key in r.json()["keys"]


def _cgi_view(r, docroot):
    """The CGI variables of an info.php answer, docroot made relative."""
    j = r.json()
    out = {}
    for k in ("script_name", "script_filename", "path_info",
              "path_translated", "query_string", "request_uri", "php_self",
              "https"):
        v = j[k]
        if isinstance(v, str):
            v = v.replace(docroot, "<root>")
        out[k] = v
    return out


def test_cgi_variables_as_in_the_stock_setup(world):
    """The same requests on a stock FilesMatch SetHandler vhost and on a
    mod_wlfcgi vhost give the same SCRIPT_NAME, SCRIPT_FILENAME,
    PATH_INFO, PATH_TRANSLATED, QUERY_STRING, REQUEST_URI, HTTPS."""
    alice_root = os.path.join(world.alice.home, "www")
    for path in ("/info.php", "/info.php/a/b", "/info.php?x=1&y=%20z",
                 "/info.php/a/b?q=1", "/dir/", "/dir/?x=2",
                 "/dir/index.php/p/i"):
        stock = world.get(path, "stock.test")
        ours = world.get(path, "alice.test")
        assert stock.status == 200, (path, stock)
        assert ours.status == 200, (path, ours)
        assert _cgi_view(ours, alice_root) == \
            _cgi_view(stock, world.stock_root), path
    # and the values themselves
    j = world.get("/info.php/a/b?x=1", "alice.test").json()
    assert j["script_name"] == "/info.php"
    assert j["script_filename"] == alice_root + "/info.php"
    assert j["path_info"] == "/a/b"
    assert j["query_string"] == "x=1"
    assert j["https"] is None
    assert j["document_root"] == alice_root


# $_SERVER entries that do not come from httpd: the pool's environment
# (fpmctl's pools set PATH and TMPDIR, php-fpm USER and HOME for the
# pool's user) and what differs from one request to the next
NOT_FROM_HTTPD = {"USER", "HOME", "PATH", "TMPDIR", "REMOTE_PORT",
                  "REQUEST_TIME", "REQUEST_TIME_FLOAT"}


def _server_view(r, docroot, host):
    """$_SERVER of a server.php answer: what httpd sent, with the docroot
    and the vhost's name made relative."""
    out = {}
    for k, v in r.json().items():
        if k in NOT_FROM_HTTPD:
            continue
        if isinstance(v, str):
            v = v.replace(docroot, "<root>").replace(host, "<host>")
        out[k] = v
    return out


def test_every_server_entry_as_in_the_stock_setup(world):
    """Every $_SERVER entry httpd gives PHP is the stock setup's, with the
    same names and values, for plain requests, PATH_INFO, query strings,
    request headers and a POST body; the only addition is the module's
    own PHP_ADMIN_VALUE with the upload limit."""
    alice_root = os.path.join(world.alice.home, "www")
    limit = str(8 << 20)
    for path, kw in (("/server.php", {}),
                     ("/server.php/a/b", {}),
                     ("/server.php?x=1&y=%20z", {}),
                     ("/server.php/a/b?q=1", {}),
                     ("/server.php", {"headers": {
                         "Accept-Language": "de", "X-Custom": "1",
                         "Cookie": "a=b"}}),
                     ("/server.php", {"method": "POST", "body": b"k=v",
                                      "headers": {"Content-Type":
                                                  "application/x-www-form-"
                                                  "urlencoded"}})):
        stock = world.get(path, "stock.test", **kw)
        ours = world.get(path, "alice.test", **kw)
        assert stock.status == 200 and ours.status == 200, (path, stock,
                                                            ours)
        theirs = _server_view(stock, world.stock_root, "stock.test")
        mine = _server_view(ours, alice_root, "alice.test")
        assert mine.pop("PHP_ADMIN_VALUE") == \
            f"upload_max_filesize={limit}\npost_max_size={limit}"
        assert mine == theirs, path


def test_directory_index(world):
    r = world.get("/dir/", "alice.test")
    assert r.status == 200
    j = r.json()
    assert j["user"] == "wlft-alice"
    assert j["script_name"] == "/dir/index.php"
    r = world.get("/", "bob.test")
    assert r.status == 200 and r.json()["user"] == "wlft-bob"
    # without the slash: httpd's own redirect, as stock
    r = world.get("/dir", "alice.test")
    assert r.status == 301


def test_missing_script_is_httpds_404(world):
    r = world.get("/nope.php", "alice.test")
    assert r.status == 404
    assert "Primary script unknown" not in r.text
    assert "File not found" not in r.text      # FPM's own 404 body
    assert "<title>404 Not Found</title>" in r.text
    r = world.get("/nope.php/x", "alice.test")
    assert r.status == 404


def test_only_script_files_are_routed(world, expect_log):
    expect_log(r"AH01071: Got error 'Access to the script .*UPPER\.PHP' "
               r"has been denied \(see security\.limit_extensions\)")
    r = world.get("/static.txt", "alice.test")
    assert r.status == 200 and r.text == "ok"
    # upper-case extension: still PHP, never served as source
    d = os.path.join(world.alice.home, "www")
    src = os.path.join(d, "UPPER.PHP")
    with open(src, "w") as f:
        f.write("<?php /* UPPER-SOURCE */ echo 'x';")
    try:
        r = world.get("/UPPER.PHP", "alice.test")
        assert "UPPER-SOURCE" not in r.text
        assert r.status in (200, 403), r   # FPM's limit_extensions may refuse
    finally:
        os.unlink(src)


def test_unmapped_vhost_never_leaks_source(world, expect_log):
    expect_log(r"WLF00022: vhost nobody\.test has no wlfcgi account")
    r = world.get("/src.php", "nobody.test")
    assert "SECRET-SOURCE" not in r.text
    assert r.status == 500
    r = world.get("/", "nobody.test")
    assert "SECRET-INDEX" not in r.text
    assert world.httpd.wait_log(r"WLF00022: vhost nobody\.test has no "
                                r"wlfcgi account: refusing PHP file "
                                r".*/src\.php")


def test_status_page(world):
    r = world.get("/wlfcgi-status", "admin.test")
    assert r.status == 200
    assert world.sandbox.config in r.text
    lines = {ln.split()[0]: ln for ln in r.text.splitlines() if ln.strip()}
    port = world.httpd.port
    alice = lines[f"alice.test:{port}"]
    assert " alice " in alice and " yes " in alice
    assert world.alice.link in alice
    assert re.search(r"alice\.[ab]\.sock", alice)
    assert " 8M " in alice
    assert " bob " in lines[f"bob.test:{port}"]
    j = world.get("/wlfcgi-status?json", "admin.test").json()
    by = {v["vhost"]: v for v in j["vhosts"]}
    assert by["alice.test"]["account"] == "alice"
    assert by["alice.test"]["answers"] is True
    assert by["alice.test"]["max_upload"] == 8 << 20
    assert by["alice.test"]["socket"] == world.alice.link
    assert re.search(r"/alice\.[ab]\.sock$", by["alice.test"]["live_socket"])
    # alice: 5 children, 2 httpd processes -> 2 connections each, if her
    # account says pm = static; bob: ondemand (and 1 child)
    alice_reuse = 2 if world.alice.pm == "static" else 0
    assert by["alice.test"]["reuse_connections"] == alice_reuse
    assert by["bob.test"]["reuse_connections"] == 0
    # and why (the start-up log): bob's FPM runs ondemand
    log = world.httpd.read_log()
    if alice_reuse:
        assert "WLF00006: account alice: reuse on: 2 connections per " \
            "httpd process, at most 4 of max_children 5" in log
    else:
        assert f"WLF00006: account alice: reuse off: the account runs " \
            f"pm = {world.alice.pm}" in log
    assert "WLF00006: account bob: reuse off: the account runs " \
        "pm = ondemand" in log
    assert by["nobody.test"]["account"] is None
    assert by["nobody.test"]["answers"] is None
    assert j["accounts"] == 2


def test_status_page_lists_aliases_and_has_an_html_view(world):
    port = world.httpd.port
    text = world.get("/wlfcgi-status", "admin.test").text
    rows = text.splitlines()
    i = next(i for i, ln in enumerate(rows)
             if ln.startswith(f"alice.test:{port} "))
    assert rows[i + 1] == "  alias www.alice.test"
    j = world.get("/wlfcgi-status?json", "admin.test").json()
    assert j["schema"] == 1
    by = {v["vhost"]: v for v in j["vhosts"]}
    assert by["alice.test"]["aliases"] == ["www.alice.test"]
    assert by["bob.test"]["aliases"] == []
    # a browser gets HTML; ?html and ?text choose
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    r = world.get("/wlfcgi-status", "admin.test", headers=browser)
    assert r.status == 200
    assert r.header("Content-Type") == "text/html; charset=utf-8"
    assert "Accept" in r.header("Vary")
    assert r.text.startswith("<!DOCTYPE html>")
    php = by["alice.test"]["php"]       # php.default of this machine
    assert f"<td>alice.test:{port}</td><td>www.alice.test</td>" \
        f"<td>alice</td><td>{php}</td><td>yes</td><td>8M</td>" in r.text
    assert world.get("/wlfcgi-status?html", "admin.test").text == r.text
    r = world.get("/wlfcgi-status?text", "admin.test", headers=browser)
    assert r.header("Content-Type").startswith("text/plain")
    assert r.text.startswith("mod_wlfcgi ")


def test_status_page_never_from_a_customers_htaccess(world, expect_log):
    """It names every account: a .htaccess cannot switch it on."""
    expect_log(r"WLF00031: vhost bob\.test \(account bob\): .* "
               r"wlfcgi-status")
    world.write_htaccess(world.bob, "st", "SetHandler wlfcgi-status\n")
    r = world.get("/st/?json", "bob.test")
    assert r.status == 403 and "alice" not in r.text


def test_file_named_dot_php_runs_never_leaks(world):
    r = world.get("/.php", "alice.test")
    assert r.status == 200, r
    assert r.json()["user"] == "wlft-alice"


def test_extensions_none_leaves_a_vhost_alone(world):
    """WLFcgiExtensions none: the vhost's own PHP set-up (here a stock
    SetHandler) serves it, even though the vhost is alice's."""
    r = world.get("/info.php", "legacy.test")
    assert r.status == 200, r
    assert r.json()["user"] == world.stock.user
    assert r.json()["user"] != "wlft-alice"
