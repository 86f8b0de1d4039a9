"""A PHP version per domain: `fpmctl set NAME php@DOMAIN=VERSION`.

Only PHP 8.2 is packaged on the machines these tests run on, so the
second version is an entry "alt" in php.versions of wlfcgi.conf that
points at the same php-fpm binary. What the tests check does not depend
on the binary: which instance (master, caches, socket, files) serves a
domain, as which user, and that changes never drop a request. A script
tells its instance by the ini file PHP read: each instance has its own
ini directory, <state>/fpm/KEY.SLOT/ini, with KEY = NAME for the
account's own version and NAME.vVERSION for another one. One test
names a wrapper of that binary as a version entry, to show that the
entry's own php-fpm is what runs its domains.

fpmctl tests use a fresh sandbox each; the module tests share one httpd:
  vera (wlft-vera)  vera.test, old.vera.test (alt), new.vera.test,
                    legacy.vera.test, mixed.vera.test + alias
                    alias.vera.test (pinned to alt: a startup warning)
  otto (wlft-otto)  otto.test (AllowOverride All: tries vera's sockets)
The on-demand test starts its own sandbox, fpmctl serve and httpd.
"""
import json
import os
import re
import threading
import time

import pytest

from wlf import host, php
from wlf.modworld import customer_site, install, make_accounts
from wlf.sandbox import pid_alive, wait_until

ALT = "alt"
PHP = host.php_fpm()

# which instance ran the script, as whom, with what in its APCu
WHICH = r"""<?php
header('Content-Type: application/json');
preg_match('~/fpm/([^/]+)\.([ab])/ini/wlfcgi\.ini~',
           (string)php_ini_scanned_files(), $m);
$u = posix_getpwuid(posix_geteuid());
$op = $_GET['op'] ?? '';
$out = ['instance' => $m[1] ?? null, 'slot' => $m[2] ?? null,
        'user' => $u['name'], 'pid' => getmypid()];
if ($op === 'store')
    $out['ok'] = apcu_store($_GET['k'], $_GET['v']);
elseif ($op === 'fetch')
    $out['value'] = apcu_fetch($_GET['k']);
echo json_encode($out);
"""


def listing(path):
    """What is in a directory, fpmctl's dot files (its drain locks) left
    out."""
    return sorted(n for n in os.listdir(path) if not n.startswith(".")) \
        if os.path.isdir(path) else []


def instance_of(r):
    """The instance key a WHICH response names."""
    assert r.status == 200, r
    return json.loads(r.body if isinstance(r.body, bytes) else r.text)


# ---------------------------------------------------------------- fpmctl --

@pytest.fixture
def vsb(sandbox):
    """A sandbox whose wlfcgi.conf knows a second version, "alt"."""
    sandbox.add_php_version(ALT, PHP)
    return sandbox


def test_one_version_account_keeps_todays_layout(vsb):
    """An account whose domains all run its own version has exactly the
    files of an account before per-domain versions existed; after a pin
    comes and goes it has them again."""
    sb = vsb
    sb.add_account("vera", domains=["vera.test", "old.vera.test"])
    socks, fpm = sb.paths["sockets"], os.path.join(sb.paths["state"], "fpm")
    assert listing(socks) == ["vera.a.pid", "vera.a.sock", "vera.sock"]
    assert listing(fpm) == ["vera.a", "vera.live"]
    text = open(os.path.join(sb.paths["accounts"], "vera.conf")).read()
    assert "domain_php" not in text

    r = sb.fpmctl("set", "vera", f"php@old.vera.test={ALT}")
    assert r.rc == 0, r
    assert f"vera: PHP {ALT} instance started" in r.out
    assert listing(socks) == ["vera.a.pid", "vera.a.sock", "vera.routes",
                              "vera.sock", "vera.valt.a.pid",
                              "vera.valt.a.sock", "vera.valt.sock"]
    assert os.readlink(os.path.join(socks, "vera.routes", "old.vera.test")) \
        == "../vera.valt.sock"
    assert listing(fpm) == ["vera.a", "vera.live", "vera.valt.a",
                            "vera.valt.live"]

    alt_master = sb.master_pid("vera.valt")
    r = sb.fpmctl("set", "vera", "php@old.vera.test=default")
    assert r.rc == 0, r
    assert f"PHP {ALT} instance retired" in r.out
    assert wait_until(lambda: not pid_alive(alt_master), 15)
    assert listing(socks) == ["vera.a.pid", "vera.a.sock", "vera.sock"]
    assert listing(fpm) == ["vera.a", "vera.live"]
    assert "domain_php" not in open(os.path.join(sb.paths["accounts"],
                                                 "vera.conf")).read()


def test_each_version_has_its_own_instance_and_caches(vsb):
    """The pinned version runs in a master of its own, as the account's
    user, with its own APCu; the account file says which domain runs
    what, and list, show and status say it too."""
    sb = vsb
    vera = sb.add_account("vera", domains=["vera.test", "old.vera.test"])
    assert sb.fpmctl("set", "vera", f"php@old.vera.test={ALT}").rc == 0
    text = open(os.path.join(sb.paths["accounts"], "vera.conf")).read()
    assert re.search(r'domain_php = \(\n  \{ domain = "old\.vera\.test"; '
                     r'php = "alt"; \}\n\);', text), text

    alt_sock = os.path.join(sb.paths["sockets"], "vera.valt.sock")
    script = sb.write_php("vera", WHICH, "which.php")
    own = instance_of(sb.request("vera", script,
                                 params={"QUERY_STRING": "op=store&k=x&v=1"}))
    alt = instance_of(sb.request("vera", script, sock=alt_sock,
                                 params={"QUERY_STRING": "op=fetch&k=x"}))
    assert own["instance"] == "vera" and alt["instance"] == "vera.valt"
    assert own["user"] == alt["user"] == vera.user
    assert own["ok"] is True and alt["value"] is False
    assert sb.master_pid("vera") != sb.master_pid("vera.valt")

    r = sb.fpmctl("list")
    assert re.search(r"\nvera +running +a +\d+ +wlft-vera +\S+\+alt ", r.out)
    show = sb.json("show", "vera")
    assert show["domain_php"] == {"old.vera.test": ALT}
    assert [(i["key"], i["state"], i["primary"]) for i in show["instances"]] \
        == [("vera", "running", True), ("vera.valt", "running", False)]
    r = sb.fpmctl("show", "vera")
    assert "  php@old.vera.test = alt\n" in r.out
    assert re.search(r"\nphp alt +\S+/vera\.valt\.sock, running \(slot a, "
                     r"pid \d+\)\n", r.out), r.out
    r = sb.fpmctl("status", "vera")
    assert r.rc == 0, r
    assert re.search(r"\nvera \(PHP alt\): running \(slot a, pid \d+\)",
                     r.out), r.out


def test_invalid_pins_are_refused_and_change_nothing(vsb):
    sb = vsb
    sb.add_account("vera", domains=["vera.test"])
    conf = os.path.join(sb.paths["accounts"], "vera.conf")
    before = open(conf).read()
    for item, says in (("php@vera.test=7.0", "unknown PHP version '7.0'"),
                       ("php@other.test=alt", "'other.test' is not one of "
                        "the account's domains"),
                       ("php@not_a_domain=alt", "is not a domain")):
        r = sb.fpmctl("set", "vera", item)
        assert r.rc == 2, r
        assert says in r.err and r.err.count("\n") == 1, r.err
    assert open(conf).read() == before
    assert listing(sb.paths["sockets"]) == ["vera.a.pid", "vera.a.sock",
                                            "vera.sock"]


def test_version_labels_that_read_as_slots_are_refused(vsb):
    """A label ending in .a or .b would make NAME.v8.a.sock read as slot
    a of NAME.v8: wlfcgi.conf with one does not load."""
    sb = vsb
    sb.add_php_version("8.a", PHP)
    r = sb.fpmctl("list")
    assert r.rc == 1, r
    assert "'8.a': a PHP version label may not end in '.a' or '.b'" in r.err


def test_a_domain_removed_takes_its_version_along(vsb):
    sb = vsb
    sb.add_account("vera", domains=["vera.test", "old.vera.test"])
    assert sb.fpmctl("set", "vera", f"php@old.vera.test={ALT}").rc == 0
    r = sb.fpmctl("set", "-y", "vera", "domains=vera.test")
    assert r.rc == 0, r
    assert "php@old.vera.test alt -> (gone with the domain)" in r.out
    assert sb.json("show", "vera")["domain_php"] == {}
    assert "vera.routes" not in listing(sb.paths["sockets"])


def test_start_stop_reload_status_act_on_every_instance(vsb):
    sb = vsb
    sb.add_account("vera", domains=["vera.test", "old.vera.test"])
    assert sb.fpmctl("set", "vera", f"php@old.vera.test={ALT}").rc == 0
    own, alt = sb.master_pid("vera"), sb.master_pid("vera.valt")

    r = sb.fpmctl("reload", "vera")
    assert r.rc == 0, r
    assert "vera: reloaded (slot b" in r.out
    assert f"vera: PHP {ALT} instance reloaded (slot b" in r.out
    assert wait_until(lambda: not pid_alive(own) and not pid_alive(alt), 15)

    # an instance that died makes status fail; start brings it back
    os.kill(sb.master_pid("vera.valt"), 9)
    assert wait_until(lambda: sb.master_pid("vera.valt") is None, 5)
    assert sb.fpmctl("status", "vera").rc == 1
    r = sb.fpmctl("start", "vera")
    assert r.rc == 0, r
    assert "vera: already running" in r.out
    assert f"vera: PHP {ALT} instance started" in r.out
    assert sb.fpmctl("status", "vera").rc == 0

    r = sb.fpmctl("stop", "vera")
    assert r.rc == 0 and "vera: stopped" in r.out, r
    assert sb.master_pid("vera") is None
    assert sb.master_pid("vera.valt") is None
    assert [n for n in listing(sb.paths["sockets"])
            if not n.endswith(".pid")] == []
    r = sb.fpmctl("start", "vera")
    assert r.rc == 0, r
    assert sb.master_pid("vera") and sb.master_pid("vera.valt")
    assert os.path.islink(os.path.join(sb.paths["sockets"], "vera.routes",
                                       "old.vera.test"))
    assert sb.fpmctl("check").rc == 0

    r = sb.fpmctl("remove-account", "-y", "vera")
    assert r.rc == 0, r
    assert listing(sb.paths["sockets"]) == []
    assert listing(os.path.join(sb.paths["state"], "fpm")) == []


def test_systemd_units_of_every_instance_share_the_accounts_slice(
        sandbox_factory):
    """systemd mode: the other version's instance is its own unit,
    wlfcgi-fpm@NAME.vVERSION.SLOT, and its units get the account's slice
    like the primary's: one budget for the whole account."""
    sb = sandbox_factory(service="systemd")
    sb.add_php_version(ALT, PHP)
    sb.add_account("vera", domains=["vera.test", "old.vera.test"])
    r = sb.fpmctl("set", "vera", f"php@old.vera.test={ALT}", "memory=1G")
    assert r.rc == 0, r
    assert "start wlfcgi-fpm@vera.valt.a.service" in sb.systemctl_calls()
    units = os.path.join(sb.root, "etc/systemd/system")
    for key in ("vera", "vera.valt"):
        for slot in "ab":
            d = os.path.join(units, f"wlfcgi-fpm@{key}.{slot}.service.d",
                             "50-wlfcgi-limits.conf")
            assert "Slice=wlfcgi-vera.slice\n" in open(d).read()
    assert sb.fpmctl("remove-account", "-y", "vera").rc == 0
    assert not [n for n in os.listdir(units) if "vera" in n]


def test_systemd_on_demand_account_starts_its_pinned_versions_unit(
        sandbox_factory):
    """systemd mode, on-demand: the account's own version is armed with
    its socket unit, the pinned version's instance is an ordinary unit
    started at once (no socket unit: it is not on demand); stop stops
    both, the primary's socket unit too."""
    sb = sandbox_factory(service="systemd")
    sb.set_defaults(activation="on-demand")
    sb.add_php_version(ALT, PHP)
    sb.add_account("vera", domains=["vera.test", "old.vera.test"])
    before = len(sb.systemctl_calls())
    assert sb.fpmctl("set", "vera", f"php@old.vera.test={ALT}").rc == 0
    calls = sb.systemctl_calls()[before:]
    assert "start wlfcgi-fpm@vera.valt.a.service" in calls, calls
    assert not [c for c in calls if "vera.valt" in c and ".socket" in c], \
        calls
    assert not [c for c in calls if c.startswith("start wlfcgi-fpm@vera.a")
                and c.endswith(".service")], calls
    conf = open(os.path.join(sb.paths["state"], "fpm", "vera.valt.a",
                             "php-fpm.conf")).read()
    assert re.search(r'(?m)^listen = ".*/vera\.valt\.a\.sock"$', conf), conf
    before = len(sb.systemctl_calls())
    assert sb.fpmctl("stop", "vera").rc == 0
    calls = sb.systemctl_calls()[before:]
    assert "stop wlfcgi-fpm@vera.a.service wlfcgi-fpm@vera.a.socket" in \
        calls, calls
    assert "stop wlfcgi-fpm@vera.valt.a.service" in calls, calls


# ---------------------------------------------------------------- httpd --

def vhosts(world, port):
    v, o = world["vera"], world["otto"]
    extra = "  WLFcgiExtensions .php\n"
    return "".join([
        f"\nWLFcgiConfig {world['sb'].config}\n",
        customer_site(port, "vera.test", v.root, extra),
        customer_site(port, "old.vera.test", v.root, extra),
        customer_site(port, "new.vera.test", v.root, extra),
        customer_site(port, "legacy.vera.test", v.root, extra),
        customer_site(port, "mixed.vera.test", v.root, extra,
                      alias="alias.vera.test"),
        customer_site(port, "otto.test", o.root, extra),
        f"""
<VirtualHost 127.0.0.1:{port}>
  ServerName admin.test
  DocumentRoot {o.root}
  <Location /wlfcgi-status>
    SetHandler wlfcgi-status
    Require all granted
  </Location>
</VirtualHost>
"""])


@pytest.fixture(scope="module")
def world(httpd_factory):
    sb = make_accounts()
    sb.sb.add_php_version(ALT, PHP)
    sb.sb.add_php_version("8.2-bis", PHP)
    vera = sb.add_account("vera", "wlft-vera",
                          ["vera.test", "old.vera.test", "new.vera.test",
                           "legacy.vera.test", "mixed.vera.test",
                           "alias.vera.test"])
    otto = sb.add_account("otto", "wlft-otto", ["otto.test"])
    sb.set("vera", **{"php@old.vera.test": ALT,
                      "php@alias.vera.test": ALT})
    w = {"sb": sb, "vera": vera, "otto": otto}
    for a in (vera, otto):
        a.root = os.path.join(a.home, "www")
        install(os.path.join(a.root, "which.php"), WHICH, a.user)
        install(os.path.join(a.root, "info.php"), php.INFO, a.user)
    h = httpd_factory()
    h.write(vhosts(w, h.port))
    h.start()
    w["httpd"] = h
    yield w
    h.stop()
    sb.close()


def which(w, host, query=""):
    r = w["httpd"].get("/which.php" + (("?" + query) if query else ""),
                       host=host)
    return instance_of(r)


def test_each_domain_runs_in_its_versions_instance(world):
    assert which(world, "vera.test")["instance"] == "vera"
    assert which(world, "old.vera.test")["instance"] == "vera.valt"
    # an alias of a vhost runs what the vhost's ServerName runs
    assert which(world, "alias.vera.test")["instance"] == "vera"
    for host in ("vera.test", "old.vera.test"):
        assert which(world, host)["user"] == "wlft-vera"


def test_caches_are_per_instance(world):
    assert which(world, "vera.test", "op=store&k=cv&v=1")["ok"] is True
    assert which(world, "legacy.vera.test", "op=fetch&k=cv")["value"] == "1"
    assert which(world, "old.vera.test", "op=fetch&k=cv")["value"] is False


def test_vhost_names_with_different_versions_get_a_startup_warning(world):
    log = world["httpd"].read_log()
    assert re.search(r"WLF00019: vhost mixed\.vera\.test:\d+ .*: "
                     r"mixed\.vera\.test runs PHP 8\.2 .*alias\.vera\.test "
                     r"belongs to domain alias\.vera\.test with PHP alt",
                     log), log[-2000:]


def hammer(w, host, stop, seen, errors):
    """Requests to `host` until stop is set; every answer's instance and
    slot goes into seen, anything but a 200 into errors."""
    while not stop.is_set():
        r = w["httpd"].get("/which.php", host=host)
        if r.status != 200:
            errors.append((host, r.status, r.text[:200]))
            continue
        j = json.loads(r.body)
        seen.append((j["instance"], j["slot"]))


def test_a_pin_takes_effect_at_once_and_drops_nothing(world):
    """No httpd restart: the route is read per request. Requests running
    meanwhile all get answers."""
    sb = world["sb"]
    stop, seen, errors = threading.Event(), [], []
    t = threading.Thread(target=hammer, args=(world, "new.vera.test", stop,
                                              seen, errors))
    t.start()
    try:
        time.sleep(0.3)
        sb.set("vera", **{"php@new.vera.test": ALT})
        assert which(world, "new.vera.test")["instance"] == "vera.valt"
        time.sleep(0.3)
        sb.set("vera", **{"php@new.vera.test": "default"})
        assert which(world, "new.vera.test")["instance"] == "vera"
        time.sleep(0.3)
    finally:
        stop.set()
        t.join()
    assert not errors, errors[:5]
    assert {i for i, _ in seen} == {"vera", "vera.valt"}


def test_account_version_change_never_runs_a_pinned_domain_elsewhere(
        world, expect_log):
    """vera moves from 8.2 to 8.2-bis while legacy.vera.test is pinned to
    8.2: that domain goes to a new instance vera.v8.2 before the primary
    switches to 8.2-bis, so no request of it is ever served by the
    primary's new master; and back."""
    sb, h = world["sb"], world["httpd"]
    sb.set("vera", **{"php@legacy.vera.test": "8.2"})
    old_slot = which(world, "vera.test")["slot"]
    stop, seen, errors = threading.Event(), [], []
    threads = [threading.Thread(target=hammer, args=(world, host, stop, s,
                                                     errors))
               for host, s in (("legacy.vera.test", seen),
                               ("vera.test", []))]
    for t in threads:
        t.start()
    try:
        time.sleep(0.3)
        sb.set("vera", php="8.2-bis")
        time.sleep(0.5)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors, errors[:5]
    new_primary = ("vera", "b" if old_slot == "a" else "a")
    assert new_primary not in seen, seen
    assert ("vera.v8.2", "a") in seen
    assert which(world, "vera.test")["instance"] == "vera"
    assert which(world, "legacy.vera.test")["instance"] == "vera.v8.2"
    # the status page says which version each vhost runs (the account's
    # own as of httpd's start: it is told at the next graceful restart)
    j = h.get("/wlfcgi-status?json", host="admin.test").json()
    assert {v["vhost"]: v["php"] for v in j["vhosts"]}["vera.test"] == "8.2"
    expect_log(r"WLF00019: vhost mixed\.vera\.test")
    h.graceful()
    j = h.get("/wlfcgi-status?json", host="admin.test").json()
    by = {v["vhost"]: v for v in j["vhosts"]}
    assert by["legacy.vera.test"]["php"] == "8.2"
    assert by["legacy.vera.test"]["socket"].endswith("/vera.v8.2.sock")
    assert by["vera.test"]["php"] == "8.2-bis"
    assert by["old.vera.test"]["php"] == ALT
    assert by["legacy.vera.test"]["answers"] is True
    # back to how it was
    sb.set("vera", php="default", **{"php@legacy.vera.test": "default"})
    assert which(world, "legacy.vera.test")["instance"] == "vera"


STEAL_SPELLINGS = {
    "sethandler": 'SetHandler "proxy:unix:{sock}|fcgi://localhost"\n',
    "slot": 'SetHandler "proxy:unix:{slot}|fcgi://localhost"\n',
    "worker_name": 'SetHandler "proxy:fcgi://wlf-vera.valt/"\n',
    "rewrite_h": 'RewriteEngine On\n'
                 'RewriteRule \\.inc$ - [H=proxy:unix:{sock}|fcgi://x]\n',
    "addhandler": 'AddHandler "proxy:unix:{sock}|fcgi://localhost" .inc\n',
}


@pytest.mark.parametrize("spelling", list(STEAL_SPELLINGS))
def test_another_account_cannot_reach_a_version_instance(world, expect_log,
                                                         spelling):
    """otto's .htaccess hands a file to vera's other version's instance (a
    .php file would run in his own account anyway), through its socket, a
    slot socket, its worker's name or a rewrite: 403, never her PHP, as
    for her own version's socket."""
    sock = os.path.join(world["sb"].socket_dir, "vera.valt.sock")
    slot = os.path.join(world["sb"].socket_dir, "vera.valt.a.sock")
    d = os.path.join(world["otto"].root, "steal_" + spelling)
    install(os.path.join(d, ".htaccess"),
            STEAL_SPELLINGS[spelling].format(sock=sock, slot=slot),
            world["otto"].user)
    install(os.path.join(d, "which.inc"), WHICH, world["otto"].user)
    expect_log(r"WLF000(20|21|30|31)")
    r = world["httpd"].get(f"/steal_{spelling}/which.inc", host="otto.test")
    assert r.status == 403, r
    assert b"vera" not in r.body


def test_every_instance_runs_in_the_accounts_cgroup():
    """Direct mode: the other version's master starts in the account's
    cgroup too, so its limits hold for the account as a whole."""
    from test_limits import LimitSandbox, need
    need("pids")
    sb = LimitSandbox()
    try:
        sb.add_php_version(ALT, PHP)
        sb.add_account("vera", domains=["vera.test", "old.vera.test"])
        r = sb.fpmctl("set", "vera", "tasks=64", f"php@old.vera.test={ALT}")
        assert r.rc == 0, r
        procs = sb.cg_procs("pids", "vera")
        assert sb.master_pid("vera") in procs
        assert sb.master_pid("vera.valt") in procs
        assert sb.fpmctl("check").rc == 0
    finally:
        sb.close()


def test_a_failing_version_changes_nothing(vsb):
    """A version whose php-fpm does not work: the change fails as a whole,
    for a domain and for the account (while a domain stays on 8.2, which
    would need an instance of its own): files, routes and masters stay as
    they were."""
    sb = vsb
    sb.add_php_version("broken", "/bin/false")
    sb.add_account("vera", domains=["vera.test", "old.vera.test",
                                    "legacy.vera.test"])
    assert sb.fpmctl("set", "vera", f"php@old.vera.test={ALT}",
                     "php@legacy.vera.test=8.2").rc == 0
    socks = sb.paths["sockets"]
    conf = os.path.join(sb.paths["accounts"], "vera.conf")
    before = (open(conf).read(), listing(socks),
              listing(os.path.join(sb.paths["state"], "fpm")),
              sb.master_pid("vera"), sb.master_pid("vera.valt"))

    r = sb.fpmctl("set", "vera", "php@old.vera.test=broken")
    assert r.rc == 1 and "vera: not changed" in r.err, r
    r = sb.fpmctl("set", "vera", "php=broken")
    assert r.rc == 1 and "vera: not changed" in r.err, r
    assert not os.path.exists(os.path.join(socks, "vera.v8.2.sock"))
    after = (open(conf).read(), listing(socks),
             listing(os.path.join(sb.paths["state"], "fpm")),
             sb.master_pid("vera"), sb.master_pid("vera.valt"))
    assert after == before
    assert os.readlink(os.path.join(socks, "vera.routes",
                                    "legacy.vera.test")) == "../vera.sock"
    assert sb.fpmctl("status", "vera").rc == 0


def test_a_domain_runs_the_binary_of_its_version_entry(vsb):
    """The version entry's own php-fpm runs the pinned domain: a second
    entry, "marked", names a wrapper of the packaged binary that sets an
    ini value of its own (-d); PHP of the pinned domain sees it, PHP of the
    account's other domain does not, and both run as the account's
    user."""
    sb = vsb
    wrapper = os.path.join(sb.root, "php-fpm-marked")
    with open(wrapper, "w") as f:
        f.write(f'#!/bin/sh\nexec {PHP} -d highlight.html=#0a1b2c "$@"\n')
    os.chmod(wrapper, 0o755)
    sb.add_php_version("marked", wrapper)
    vera = sb.add_account("vera", domains=["vera.test", "old.vera.test"])
    assert sb.fpmctl("set", "vera", "php@old.vera.test=marked").rc == 0
    script = sb.write_php("vera", "<?php echo ini_get('highlight.html'), "
                          "' ', posix_getpwuid(posix_geteuid())['name'];")
    socks = sb.paths["sockets"]
    assert os.readlink(os.path.join(socks, "vera.routes",
                                    "old.vera.test")) == "../vera.vmarked.sock"
    pinned = sb.request("vera", script,
                        sock=os.path.join(socks, "vera.vmarked.sock"))
    own = sb.request("vera", script)
    assert pinned.status == 200 and pinned.text == f"#0a1b2c {vera.user}", \
        pinned
    assert own.status == 200 and own.text == f"#000000 {vera.user}", own
    show = sb.json("show", "vera")
    assert {i["php"]: i["key"] for i in show["instances"]} == \
        {"8.2": "vera", "marked": "vera.vmarked"}, show["instances"]


# ------------------------------------------------------------ on-demand --

def masters_of(sb, key):
    """Pids of the php-fpm masters of instance KEY (NAME or NAME.vV) of
    this sandbox."""
    return sb.fpm_masters(re.escape(key) + r"\.[ab]/")


def test_on_demand_account_starts_only_its_own_version_on_demand(
        sandbox_factory, httpd_factory, expect_log):
    """An on-demand account with a pinned domain: its own version is
    started by its first request and stopped when idle, as always; the
    pinned version's instance runs while the account is started (armed),
    serves its domain as the account's user without waking the other,
    and goes with stop, and with the pin."""
    expect_log(r"WLF00023: account vera: no live instance")
    sb = sandbox_factory(config={"start_timeout": 5})
    sb.set_defaults(activation="on-demand", idle_stop=2)
    sb.add_php_version(ALT, PHP)
    sb.start_serve()
    vera = sb.add_account("vera", domains=["vera.test", "old.vera.test"])
    vera.root = os.path.join(vera.home, "www")
    install(os.path.join(vera.root, "which.php"), WHICH, vera.user)
    assert masters_of(sb, "vera") == []
    assert sb.fpmctl("set", "vera", f"php@old.vera.test={ALT}").rc == 0
    assert masters_of(sb, "vera") == [], "the pin woke the account"
    assert len(masters_of(sb, "vera.valt")) == 1
    st = {i["php"]: i["state"]
          for i in sb.json("status", "vera")[0]["instances"]}
    assert st == {"8.2": "idle", ALT: "running"}, st
    assert sb.fpmctl("status", "vera").rc == 0
    assert 'wlfcgi_state{account="vera",wlfcgi_state="idle"} 1' in \
        sb.fpmctl("status", "--openmetrics").out
    # check tests both renderings and wakes nothing
    r = sb.fpmctl("check")
    assert r.rc == 0 and "no problems" in r.out + r.err, r
    assert masters_of(sb, "vera") == [], "check woke the account"

    h = httpd_factory()
    extra = "  WLFcgiExtensions .php\n"
    h.write(f"\nWLFcgiConfig {sb.conf}\n" +
            customer_site(h.port, "vera.test", vera.root, extra) +
            customer_site(h.port, "old.vera.test", vera.root, extra))
    h.start()
    try:
        def which_of(host):
            return instance_of(h.get("/which.php", host=host))
        old = which_of("old.vera.test")
        assert old["instance"] == "vera.valt" and old["user"] == vera.user
        assert masters_of(sb, "vera") == [], "the pinned domain woke it"
        own = which_of("vera.test")
        assert own["instance"] == "vera" and own["user"] == vera.user
        assert len(masters_of(sb, "vera")) == 1
        # idle: only the account's own version is stopped
        wait_until(lambda: not masters_of(sb, "vera"), timeout=15,
                   what="the idle primary to be stopped")
        assert len(masters_of(sb, "vera.valt")) == 1
        assert which_of("old.vera.test")["instance"] == "vera.valt"
        # stop: everything, and requests do not start anything
        assert sb.fpmctl("stop", "vera").rc == 0
        assert masters_of(sb, "vera.valt") == []
        for host in ("vera.test", "old.vera.test"):
            assert h.get("/which.php", host=host).status == 503
        assert masters_of(sb, "vera") == []
        # start arms the account's own version and starts the pinned one
        assert sb.fpmctl("start", "vera").rc == 0
        assert masters_of(sb, "vera") == []
        assert len(masters_of(sb, "vera.valt")) == 1
        assert which_of("old.vera.test")["instance"] == "vera.valt"
        # the pin goes: its instance finishes and quits
        assert sb.fpmctl("set", "vera", "php@old.vera.test=default").rc == 0
        wait_until(lambda: not masters_of(sb, "vera.valt"), timeout=15,
                   what="the unpinned version's master to quit")
        assert which_of("old.vera.test")["instance"] == "vera"
    finally:
        h.stop()
