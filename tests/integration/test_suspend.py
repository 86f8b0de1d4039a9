"""Suspending an account: its PHP stops and stays stopped through start
--all, reload, rebuild, set and a reboot; its sites answer 503 with the
suspended page (static files too) from the next request on, without a
restart of httpd; resume brings it back. Real php-fpm through fpmctl, real
httpd with the module."""
import glob
import os
import shutil

import pytest

from wlf.modworld import install
from wlf.sandbox import Sandbox, pid_alive

SUSPENDED_LOG = r"WLF00029: account carol is suspended: 503 for "


def state(sb, name):
    return sb.json("show", name)["state"]


def metrics_state(text, name):
    """The state wlfcgi_state sets to 1 for account `name`."""
    on = [line.split('wlfcgi_state="')[1].split('"')[0]
          for line in text.splitlines()
          if line.startswith(f'wlfcgi_state{{account="{name}",')
          and line.endswith("} 1")]
    assert len(on) == 1, text
    return on[0]


def openmetrics_state(sb, name):
    r = sb.fpmctl("status", "--openmetrics")
    assert r.rc == 0, r
    return metrics_state(r.out, name)


def test_suspend_stops_php_and_survives_start_all_reload_rebuild(sandbox):
    sb = sandbox
    sb.add_account("alice")
    sb.add_account("bob")
    master = sb.master_pid("alice")
    assert sb.php("alice", "<?php echo 'up';").text == "up"

    r = sb.fpmctl("suspend", "alice", "--reason", "unpaid invoice 42")
    assert r.rc == 0, r
    assert "alice: suspended (unpaid invoice 42)" in r.out
    assert not pid_alive(master)
    # nothing can connect through the link: it leads nowhere
    assert os.readlink(sb.socket("alice")) == "alice.suspended"
    with pytest.raises(OSError):
        sb.php("alice", "<?php echo 'up';")
    j = sb.json("show", "alice")
    assert j["state"] == "suspended"
    assert j["suspended"]["reason"] == "unpaid invoice 42"
    assert j["suspended"]["since"].endswith("Z")
    with open(sb.account_file("alice")) as f:
        assert 'reason = "unpaid invoice 42"' in f.read()
    assert openmetrics_state(sb, "alice") == "suspended"
    assert openmetrics_state(sb, "bob") == "running"
    # the other account is untouched
    assert sb.php("bob", "<?php echo 'bob';").text == "bob"
    assert sb.json("show", "bob")["suspended"] is None

    # what an admin or the boot does next leaves it suspended
    r = sb.fpmctl("start", "--all")
    assert r.rc == 0, r
    assert "alice: suspended since" in r.out
    r = sb.fpmctl("start", "alice")
    assert r.rc == 1 and "fpmctl resume alice" in r.err, r
    for args in (("restart", "alice"), ("reload", "alice"),
                 ("rebuild", "--all"), ("set", "alice", "max_children=3"),
                 ("reload", "--all"), ("restart", "--all")):
        sb.fpmctl(*args)
        assert state(sb, "alice") == "suspended", args
        assert sb.master_pid("alice", "a") is None
        assert sb.master_pid("alice", "b") is None
    r = sb.fpmctl("set", "alice", "max_children=4")
    assert "takes effect at resume" in r.out, r
    # status: down on purpose is not a failure
    r = sb.fpmctl("status")
    assert r.rc == 0 and "alice: suspended since" in r.out, r
    assert [a["state"] for a in sb.json("list")] == ["suspended", "running"]
    # stop keeps the suspended link
    sb.fpmctl("stop", "alice", check=True)
    assert os.readlink(sb.socket("alice")) == "alice.suspended"
    assert sb.fpmctl("check").out.count("alice") == 0

    r = sb.fpmctl("resume", "alice")
    assert r.rc == 0 and "alice: resumed" in r.out, r
    assert sb.php("alice", "<?php echo 'back';").text == "back"
    assert sb.json("show", "alice")["suspended"] is None
    assert openmetrics_state(sb, "alice") == "running"
    assert sb.json("show", "alice")["settings"]["max_children"]["value"] \
        == 4
    assert sb.fpmctl("resume", "alice").out == "alice: not suspended\n"


def test_suspension_survives_a_reboot(sandbox):
    """/run is a tmpfs: after a reboot the links are gone, the account
    file is what remembers. `start --all` at boot starts the others and
    puts the suspended link back; nothing starts the suspended one."""
    sb = sandbox
    sb.add_account("alice")
    sb.add_account("bob")
    sb.fpmctl("suspend", "alice", check=True)
    sb.fpmctl("stop", "--all", check=True)
    for p in glob.glob(os.path.join(sb.paths["sockets"], "*")):
        os.unlink(p)            # the reboot
    assert state(sb, "alice") == "suspended"
    # no link: the account file says it
    assert openmetrics_state(sb, "alice") == "suspended"
    r = sb.fpmctl("start", "--all")
    assert r.rc == 0, r
    assert sb.master_pid("bob")
    assert os.readlink(sb.socket("alice")) == "alice.suspended"
    assert sb.master_pid("alice", "a") is None
    assert sb.master_pid("alice", "b") is None
    sb.fpmctl("resume", "alice", check=True)
    assert sb.php("alice", "<?php echo 'back';").text == "back"


def test_failed_resume_leaves_the_account_suspended(sandbox):
    sb = sandbox
    sb.add_account("alice", args=("--max-children", "2"))
    sb.fpmctl("suspend", "alice", check=True)
    # a php_admin value PHP refuses: the new instance reports it
    with open(sb.account_file("alice")) as f:
        text = f.read()
    with open(sb.account_file("alice"), "w") as f:
        f.write(text + 'php_admin = ( { name = "memory_limit"; '
                       'value = "12Q"; } );\n')
    r = sb.fpmctl("resume", "alice")
    assert r.rc == 1 and "still suspended" in r.err, r
    assert state(sb, "alice") == "suspended"
    assert os.readlink(sb.socket("alice")) == "alice.suspended"
    assert sb.json("show", "alice")["suspended"] is not None


def test_suspend_input_is_checked(sandbox):
    sb = sandbox
    sb.add_account("alice")
    r = sb.fpmctl("suspend", "alice", "--reason", "two\nlines")
    assert r.rc == 2 and "suspended.reason" in r.err, r
    assert state(sb, "alice") == "running"
    assert sb.fpmctl("suspend", "nobody").rc == 3
    assert sb.fpmctl("suspend").rc == 2
    assert sb.fpmctl("resume", "alice", "bob").rc == 2
    r = sb.fpmctl("--dry-run", "suspend", "alice")
    assert r.rc == 0 and "would stop its PHP" in r.out
    assert state(sb, "alice") == "running"


# ------------------------------------------------------------ with httpd --

PAGE = "<html><body>CUSTOM-SUSPENDED-PAGE ÄÖ</body></html>\n"


@pytest.fixture(scope="module")
def site(httpd_factory):
    """carol (carol.test, www.carol.test with its own suspended page) and
    dave (dave.test), each with a static file, a PHP script and an
    .htaccess that redirects /old to elsewhere."""
    sb = Sandbox()
    httpd = None
    try:
        carol = sb.add_account("carol", domains=["carol.test",
                                                 "www.carol.test"])
        dave = sb.add_account("dave", domains=["dave.test"])
        for a in (carol, dave):
            root = os.path.join(a.home, "www")
            install(os.path.join(root, "static.txt"), "static-" + a.name,
                    a.user)
            install(os.path.join(root, "index.php"),
                    "<?php echo 'php-' . posix_getpwuid(posix_geteuid())"
                    "['name'];", a.user)
            install(os.path.join(root, ".htaccess"),
                    "RewriteEngine On\nRewriteRule ^old$ "
                    "http://elsewhere.example/ [R=302,L]\n", a.user)
        page = os.path.join(sb.root, "suspended.html")
        install(page, PAGE)
        httpd = httpd_factory()
        vhosts = ""
        for name, host, extra in (
                ("carol", "carol.test", ""),
                ("carol", "www.carol.test",
                 f"WLFcgiSuspendedPage {page}"),
                ("dave", "dave.test", "")):
            root = os.path.join(sb.accounts[name].home, "www")
            vhosts += f"""
<VirtualHost 127.0.0.1:{httpd.port}>
  ServerName {host}
  DocumentRoot {root}
  {extra}
  <Directory {root}>
    AllowOverride All
    Require all granted
  </Directory>
</VirtualHost>
"""
        httpd.write(f"WLFcgiConfig {sb.conf}\n{vhosts}"
                    f"<VirtualHost 127.0.0.1:{httpd.port}>\n"
                    f"  ServerName admin.test\n"
                    f"  <Location /wlfcgi-status>\n"
                    f"    SetHandler wlfcgi-status\n"
                    f"    Require all granted\n"
                    f"  </Location>\n</VirtualHost>\n")
        httpd.start()
        yield sb, httpd
    finally:
        if httpd:
            httpd.stop()
        sb.close()


def test_suspended_sites_answer_503_with_the_page_at_once(site, expect_log):
    sb, httpd = site
    expect_log(SUSPENDED_LOG)
    assert httpd.get("/", host="carol.test").text == "php-wlft-carol"
    assert httpd.get("/static.txt", host="carol.test").status == 200
    assert httpd.get("/old", host="carol.test").status == 302
    generation = httpd.generation()

    sb.fpmctl("suspend", "carol", "--reason", "abuse ticket 7", check=True)
    try:
        for path in ("/", "/index.php", "/static.txt", "/old", "/missing"):
            r = httpd.get(path, host="carol.test")
            assert r.status == 503, (path, r)
            assert r.header("Retry-After") == "3600"
            assert "This site is suspended" in r.text
            # the admin's reason is not for visitors
            assert "abuse" not in r.text
        r = httpd.get("/static.txt", host="www.carol.test")
        assert r.status == 503 and r.text == PAGE
        assert "iso-8859-1" not in r.header("Content-Type")
        # the neighbour is untouched
        assert httpd.get("/", host="dave.test").text == "php-wlft-dave"
        assert httpd.get("/static.txt", host="dave.test").text == \
            "static-dave"
        assert httpd.wait_log(SUSPENDED_LOG + "/static.txt")
        st = httpd.get("/wlfcgi-status?json", host="admin.test").json()
        by = {v["vhost"]: v for v in st["vhosts"]}
        assert by["carol.test"]["suspended"] is True
        assert by["dave.test"]["suspended"] is False
        # httpd's account list predates the suspension: the link counts
        om = httpd.get("/wlfcgi-status?openmetrics", host="admin.test").text
        assert metrics_state(om, "carol") == "suspended"
        assert metrics_state(om, "dave") == "running"
        # a graceful restart reads the account file again: still suspended
        httpd.graceful()
        assert httpd.get("/static.txt", host="carol.test").status == 503
        generation += 1
    finally:
        sb.fpmctl("resume", "carol", check=True)
    assert httpd.get("/", host="carol.test").text == "php-wlft-carol"
    assert httpd.get("/static.txt", host="carol.test").text == \
        "static-carol"
    # the account list read at the graceful restart still says suspended
    om = httpd.get("/wlfcgi-status?openmetrics", host="admin.test").text
    assert metrics_state(om, "carol") == "running"
    assert httpd.generation() == generation


def test_a_customer_socket_handler_cannot_reach_a_suspended_pool(
        site, expect_log):
    """Suspended means no PHP at all, also through the account's own
    slot sockets: they are gone with the instances."""
    sb, httpd = site
    expect_log(r"WLF00029: account dave is suspended")
    sb.fpmctl("suspend", "dave", check=True)
    try:
        assert not glob.glob(os.path.join(sb.paths["sockets"], "dave.*.sock"))
        r = httpd.get("/index.php", host="dave.test")
        assert r.status == 503 and "php-" not in r.text
    finally:
        sb.fpmctl("resume", "dave", check=True)


def test_unreadable_suspended_page_stops_httpd(httpd_factory, tmp_path):
    sb = Sandbox()
    try:
        h = httpd_factory()
        h.write(f"WLFcgiConfig {sb.conf}\n"
                f"WLFcgiSuspendedPage {tmp_path}/missing.html\n")
        rc, out = h.configtest()
        assert rc != 0
        assert "WLF00016" in out and "missing.html" in out
    finally:
        sb.close()
        shutil.rmtree(str(tmp_path), ignore_errors=True)


def test_suspend_and_resume_in_systemd_mode(sandbox_factory):
    """The units are stopped and started as every change does it; the
    link says suspended in between."""
    sb = sandbox_factory(service="systemd")
    sb.add_account("alice")
    sb.fpmctl("suspend", "alice", check=True)
    assert os.readlink(sb.socket("alice")) == "alice.suspended"
    assert any(c.startswith("stop") and "wlfcgi-fpm@alice." in c
               for c in sb.systemctl_calls())
    assert sb.master_pid("alice", "a") is None
    assert sb.master_pid("alice", "b") is None
    sb.fpmctl("start", "--all", check=True)
    assert state(sb, "alice") == "suspended"
    sb.fpmctl("resume", "alice", check=True)
    assert sb.php("alice", "<?php echo 'back';").text == "back"
