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
