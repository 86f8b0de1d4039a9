"""Start-up checks: a mapping conflict or an unknown WLFcgiAccount makes
`httpd -t` fail with a message naming both sides; directives are checked
where they are written."""
import os
import shutil
import tempfile

import pytest


def vhost(port, name, aliases=(), extra="", root="/tmp"):
    al = "".join(f"  ServerAlias {a}\n" for a in aliases)
    return (f"<VirtualHost 127.0.0.1:{port}>\n  ServerName {name}\n{al}"
            f"  DocumentRoot {root}\n{extra}</VirtualHost>\n")


def log_line(out, tag):
    """The first line of httpd's output that carries log tag `tag`."""
    return [ln for ln in out.splitlines() if tag in ln][0]


def refused(result, tag):
    """httpd -t failed; the line of its output with log tag `tag`."""
    rc, out = result
    assert rc != 0, out
    return log_line(out, tag)


@pytest.fixture
def conf(world, httpd_factory):
    """Write a config around the world's accounts and run httpd -t."""
    h = httpd_factory()

    def check(body, config=None):
        h.write(f"WLFcgiConfig {config or world.sandbox.config}\n"
                + body.replace("PORT", str(h.port)))
        return h.configtest()
    check.httpd = h
    return check


def test_valid_config_passes(conf):
    rc, out = conf(vhost("PORT", "alice.test", ["www.alice.test"])
                   + vhost("PORT", "bob.test"))
    assert rc == 0, out
    assert "Syntax OK" in out


def test_two_accounts_claim_one_vhost(conf):
    line = refused(conf(vhost("PORT", "alice.test", ["bob.test"])),
                   "WLF00003")
    assert "alice.test" in line and "bob.test" in line
    assert "account alice" in line and "account bob" in line
    assert "httpd.conf" in line         # where the vhost is defined


def test_unknown_account(conf):
    line = refused(conf(vhost("PORT", "dev.test",
                              extra="  WLFcgiAccount zed\n")), "WLF00004")
    assert "WLFcgiAccount zed" in line and "no such account" in line
    assert "dev.test" in line


def test_explicit_account_against_anothers_name(conf):
    line = refused(conf(vhost("PORT", "bob.test",
                              extra="  WLFcgiAccount alice\n")), "WLF00003")
    assert "alice" in line and "bob" in line


def test_explicit_mapping_of_an_unlisted_name(conf):
    rc, out = conf(vhost("PORT", "dev.internal",
                         extra="  WLFcgiAccount alice\n"))
    assert rc == 0, out


def test_domain_claimed_by_two_account_files(conf, world):
    """fpmctl never writes this, but a hand edit can: the vhost that uses
    the name must not start, and the message names both accounts."""
    tmp = tempfile.mkdtemp(prefix="wlf", dir="/tmp")
    try:
        acc = os.path.join(tmp, "accounts.d")
        os.makedirs(acc)
        with open(world.sandbox.config) as f:
            text = f.read().replace(world.sandbox.accounts_dir, acc)
        cfg = os.path.join(tmp, "wlfcgi.conf")
        with open(cfg, "w") as f:
            f.write(text)
        for name in ("xena", "yuri"):
            with open(os.path.join(acc, f"{name}.conf"), "w") as f:
                f.write(f'name = "{name}"; user = "wlft-{name}"; '
                        f'group = "wlft-{name}"; home = "/home/{name}"; '
                        'domains = [ "shared.test" ];\n')
        rc, out = conf(vhost("PORT", "shared.test"), config=cfg)
        line = refused((rc, out), "WLF00003")
        assert "xena" in line and "yuri" in line and "shared.test" in line
        # the skipped file is reported too
        assert "WLF00002" in out and "yuri.conf" in out
        # a config without a vhost using that name starts (with a warning)
        rc, out = conf(vhost("PORT", "other.test"), config=cfg)
        assert rc == 0, out
        assert "WLF00002" in out
    finally:
        shutil.rmtree(tmp)


def test_missing_config_file(conf):
    line = refused(conf(vhost("PORT", "alice.test"),
                        config="/nonexistent/w.conf"), "WLF00001")
    assert "/nonexistent/w.conf" in line


def test_directive_contexts(conf):
    rc, out = conf("WLFcgiAccount alice\n")
    assert rc != 0 and "WLFcgiAccount belongs inside a <VirtualHost>" in out
    rc, out = conf(vhost("PORT", "alice.test",
                         extra="  WLFcgiAccount alice\n  WLFcgiAccount alice\n"))
    assert rc != 0 and "given twice" in out
    rc, out = conf(vhost("PORT", "alice.test",
                         extra="  WLFcgiAccount ../x\n"))
    assert rc != 0 and "WLFcgiAccount" in out
    rc, out = conf("WLFcgiExtensions php\n")
    assert rc != 0 and "extension like .php" in out
    rc, out = conf("WLFcgiMaxUpload 12X\n")
    assert rc != 0 and "WLFcgiMaxUpload" in out
    rc, out = conf(vhost("PORT", "alice.test",
                         extra="  <Location /x>\n    WLFcgiConfig /y\n"
                               "  </Location>\n"))
    assert rc != 0 and "WLFcgiConfig" in out


def test_upload_ceiling_warning(conf):
    """A location allowing more than the account's upload_ceiling: httpd
    starts, but says what to run (alice's ceiling is 5G)."""
    rc, out = conf(vhost("PORT", "alice.test",
                         extra="  <Location /video>\n"
                               "    WLFcgiMaxUpload 8G\n  </Location>\n"))
    assert rc == 0, out
    line = log_line(out, "WLF00005")
    assert "account alice" in line and "5G" in line
    assert "fpmctl set alice upload_ceiling=8G" in line
    rc, out = conf(vhost("PORT", "alice.test",
                         extra="  <Location /video>\n"
                               "    WLFcgiMaxUpload 5G\n  </Location>\n"))
    assert rc == 0 and "WLF00005" not in out


def test_max_upload_not_allowed_in_htaccess(world, expect_log):
    expect_log(r"WLFcgiMaxUpload not allowed here")
    world.write_htaccess(world.bob, "ht_upload", "WLFcgiMaxUpload 1G\n")
    r = world.get("/ht_upload/info.php", "bob.test")
    assert r.status == 500


def test_extensions_directive(world, httpd_factory):
    """WLFcgiExtensions replaces the list: .phtml is routed, and run by
    the account's php-fpm, which runs what its script_extensions say (a
    vhost that routes what it would deny does not start: test_account_
    php_settings.py)."""
    h = httpd_factory()
    root = os.path.join(world.alice.home, "www")
    h.write(f"WLFcgiConfig {world.sandbox.config}\n"
            + vhost(h.port, "alice.test", root=root,
                    extra=f"  WLFcgiExtensions .phtml\n"
                          f"  <Directory {root}>\n    Require all granted\n"
                          "  </Directory>\n"))
    src = os.path.join(root, "ext.phtml")
    with open(src, "w") as f:
        f.write("<?php echo 'ran-' . posix_getpwuid(posix_geteuid())['name'];")
    world.sandbox.set("alice", script_extensions=".php,.phtml")
    try:
        h.start()
        r = h.get("/ext.phtml", host="alice.test")
        assert r.status == 200 and r.text == "ran-wlft-alice", r
    finally:
        h.stop()
        os.unlink(src)
        world.sandbox.set("alice", script_extensions="default")


def test_loaded_before_mod_proxy_says_how_to_fix_the_order(conf, world):
    """A LoadModule order mistake gets the module's own message, not
    dlopen's 'undefined symbol: proxy_module'."""
    h = conf.httpd
    h.write(f"WLFcgiConfig {world.sandbox.config}\n")
    with open(h.conf) as f:
        lines = f.read().splitlines()
    ours = next(ln for ln in lines if ln.startswith("LoadModule wlfcgi_"))
    lines.remove(ours)
    first = next(i for i, ln in enumerate(lines)
                 if ln.startswith("LoadModule proxy_module"))
    lines.insert(first, ours)
    with open(h.conf, "w") as f:
        f.write("\n".join(lines) + "\n")
    line = refused(h.configtest(), "WLF00018")
    assert "mod_wlfcgi was loaded before mod_proxy" in line
    assert 'after "LoadModule proxy_module' in line
    assert "undefined symbol" not in h.configtest()[1]


def test_a_set_up_without_wlfcgi_config_is_warned_at_configtest(conf):
    """httpd -t passes (a module loaded for later is no error), but says
    that nothing is mapped and which directives have no effect."""
    h = conf.httpd
    h.write(vhost(h.port, "alice.test",
                  extra="  <Location /upload>\n    WLFcgiMaxUpload 64M\n"
                        "  </Location>\n"))
    rc, out = h.configtest()
    assert rc == 0 and "Syntax OK" in out, out
    line = log_line(out, "WLF00011")
    assert "WLFcgiConfig is not set, so it does nothing" in line
    assert f"WLFcgiMaxUpload at {h.conf}:" in line
    assert 'add "WLFcgiConfig /etc/wlfcgi/wlfcgi.conf"' in line


def shop_vhost(port, name, aliases, root):
    return vhost(port, name, aliases, root=root,
                 extra=f"  <Directory {root}>\n    Require all granted\n"
                       "  </Directory>\n")


def test_an_exact_domain_inside_anothers_wildcard_is_its_owners(
        sandbox_factory, httpd_factory, expect_log):
    """foo.shop.test is account exact's, *.shop.test account wild's: exact
    names win. httpd hands a request to the first vhost whose name
    matches, so with wild's vhost first the module warns at start-up and
    refuses foo.shop.test there (421) instead of running wild's PHP for
    it; in the right order each gets its own."""
    sb = sandbox_factory()
    wild = sb.add_account("wild", domains=["shop.test", "*.shop.test"])
    exact = sb.add_account("exact", domains=["foo.shop.test"])
    script = "<?php echo posix_getpwuid(posix_geteuid())['name'];"
    for acct in (wild, exact):
        sb.write_php(acct.name, script, "who.php")
    h = httpd_factory()
    wild_vh = shop_vhost("PORT", "shop.test", ["*.shop.test"], wild.home)
    exact_vh = shop_vhost("PORT", "foo.shop.test", [], exact.home)
    head = f"WLFcgiConfig {sb.conf}\n"

    h.write((head + wild_vh + exact_vh).replace("PORT", str(h.port)))
    rc, out = h.configtest()
    assert rc == 0, out
    line = log_line(out, "WLF00017")
    assert "foo.shop.test is account exact's, but httpd gives its " \
        "requests to vhost shop.test" in line
    assert "of account wild (by *.shop.test)" in line
    expect_log(r"WLF00017: foo\.shop\.test is account exact's")
    h.start()
    try:
        expect_log(r"WLF00037: foo\.shop\.test is account exact's, but "
                   r"httpd gave it to vhost shop\.test of account wild")
        r = h.get("/who.php", host="foo.shop.test")
        assert r.status == 421 and "wlft-wild" not in r.text
        r = h.get("/who.php", host="bar.shop.test")
        assert r.status == 200 and r.text == "wlft-wild"
    finally:
        h.stop()

    h.write((head + exact_vh + wild_vh).replace("PORT", str(h.port)))
    rc, out = h.configtest()
    assert rc == 0 and "WLF00017" not in out, out
    h.start()
    try:
        r = h.get("/who.php", host="foo.shop.test")
        assert r.status == 200 and r.text == "wlft-exact"
        r = h.get("/who.php", host="bar.shop.test")
        assert r.status == 200 and r.text == "wlft-wild"
    finally:
        h.stop()
