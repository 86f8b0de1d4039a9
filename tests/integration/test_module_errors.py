"""Errors an admin or customer can act on (a pool that is down, a missing
live-slot link), the live-slot switch, and graceful restarts picking up
new accounts."""
import os
import threading
import time

POOL_DOWN_LOG = [
    r"WLF00024: account alice: PHP pool not answering on "
    r".*/alice\.[ab]\.sock",
    # mod_proxy's own lines for the failed connect
    r"\[proxy:error\].*(AH00957|AH02454): (FCGI|fcgi): attempt to connect "
    r"to Unix domain socket .*/alice\.[ab]\.sock",
    r"\[proxy_fcgi:error\].*AH01079: failed to make connection to backend",
]


def test_stopped_pool_gives_503_for_that_account_only(world, expect_log):
    expect_log(*POOL_DOWN_LOG)
    sb = world.sandbox
    # fill alice's connection pools first: they must not get in the way
    for _ in range(10):
        assert world.get("/hello.php", "alice.test").status == 200
    live = os.path.join(sb.socket_dir, os.readlink(world.alice.link))
    sb.kill_master("alice")
    try:
        for host in ("alice.test", "www.alice.test", "alice2.test"):
            r = world.get("/info.php", host)
            assert r.status == 503, (host, r)
            assert r.header("Retry-After") == "10"
        r = world.get("/info.php", "bob.test")
        assert r.status == 200 and r.json()["user"] == "wlft-bob"
        # static files of alice's vhost are not affected
        assert world.get("/static.txt", "alice.test").status == 200
        assert world.httpd.wait_log(
            r"WLF00024: account alice: PHP pool not answering on " + live)
        # the status page shows the stopped socket
        j = world.get("/wlfcgi-status?json", "admin.test").json()
        by = {v["vhost"]: v for v in j["vhosts"]}
        assert by["alice.test"]["answers"] is False
        assert os.path.basename(live) in (by["alice.test"]["error"] or "")
        assert by["bob.test"]["answers"] is True
        text = world.get("/wlfcgi-status", "admin.test").text
        line = [ln for ln in text.splitlines()
                if ln.startswith("alice.test:")][0]
        assert " NO " in line
    finally:
        sb.start("alice")
    # usable at once: no retry interval, stale pooled connections dropped
    for _ in range(20):
        r = world.get("/info.php", "alice.test")
        assert r.status == 200, r


def test_missing_link_gives_503(world, expect_log):
    expect_log(r"WLF00023: account alice: no live instance \(.*alice\.sock "
               r"is missing")
    link = world.alice.link
    target = os.readlink(link)
    os.unlink(link)
    try:
        r = world.get("/info.php", "alice.test")
        assert r.status == 503
        assert r.header("Retry-After") == "10"
        assert world.get("/info.php", "bob.test").status == 200
        # the status page says why, once
        text = world.get("/wlfcgi-status", "admin.test").text
        line = [ln for ln in text.splitlines()
                if ln.startswith("alice.test:")][0]
        assert line.endswith(f"-> (no live instance: {link} is missing or "
                             "points to no slot)"), line
        assert line.count("no live instance") == 1
    finally:
        os.symlink(target, link)
    assert world.get("/info.php", "alice.test").status == 200


def test_slot_switch_under_load_drops_nothing(world):
    """A reload (start the idle slot, switch the link, let the old one
    drain, tell it to quit: fpmctl's procedure) while requests keep coming
    over keep-alive connections: every request succeeds, and the new ones
    run in the new instance. Twice, so both slots serve once."""
    sb = world.sandbox
    results = []
    stop = threading.Event()

    def load():
        import http.client
        c = http.client.HTTPConnection("127.0.0.1", world.httpd.port,
                                       timeout=10)
        while not stop.is_set():
            try:
                c.request("GET", "/hello.php", headers={"Host": "alice.test"})
                r = c.getresponse()
                results.append((r.status, r.read()))
            except Exception as e:          # noqa: BLE001 (record any)
                results.append((0, repr(e).encode()))
                c.close()
                c = http.client.HTTPConnection("127.0.0.1",
                                               world.httpd.port, timeout=10)
        c.close()

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    try:
        for _ in range(2):
            time.sleep(0.5)
            pid = sb.reload("alice")
            time.sleep(0.5)
            r = world.get("/info.php", "alice.test")
            assert r.status == 200
            # served by a worker of the new instance's master
            with open(f"/proc/{r.json()['pid']}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            assert ppid == pid
    finally:
        stop.set()
        for t in threads:
            t.join()
    bad = [x for x in results if x[0] != 200 or x[1] != b"ok"]
    assert len(results) > 100
    assert bad == [], bad[:5]
    assert world.get("/info.php", "alice.test").status == 200


def test_graceful_restart_picks_up_new_accounts(world, httpd_factory,
                                                expect_log):
    expect_log(r"WLF00022: vhost carol\.test has no wlfcgi account")
    from wlf.modworld import install_scripts
    h = httpd_factory()
    croot = os.path.join(world.sandbox.prefix, "home", "carol", "www")
    h.write(f"""
WLFcgiConfig {world.sandbox.config}
<VirtualHost 127.0.0.1:{h.port}>
  ServerName carol.test
  DocumentRoot {croot}
  <Directory {croot}>
    Require all granted
  </Directory>
</VirtualHost>
""")
    os.makedirs(croot, exist_ok=True)
    with open(os.path.join(croot, "info.php"), "w") as f:
        f.write("<?php /* CAROL-SOURCE */ echo 'x';")
    h.start()
    try:
        r = h.get("/info.php", host="carol.test")
        assert r.status == 500 and "CAROL-SOURCE" not in r.text
        carol = world.sandbox.add_account("carol", "wlft-carol",
                                          ["carol.test"], max_children=2)
        install_scripts(carol)
        h.graceful()
        r = h.get("/info.php", host="carol.test")
        assert r.status == 200, r
        assert r.json()["user"] == "wlft-carol"
    finally:
        h.stop()
        world.sandbox.remove_account("carol")
