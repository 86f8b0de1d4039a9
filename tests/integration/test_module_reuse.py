"""Connection reuse: kept-alive FastCGI connections are reused and never
pin more FPM workers than the account's max_children.

Reuse needs an account with pm = static (see docs/module.md): these tests
run one account, "rhea", made by fpmctl with pm = static and
max_children 5. httpd: mpm_event, ServerLimit 2, 16 threads, so the
module keeps at most (5 - 1) / 2 = 2 connections per process: 4 in all,
and one FPM worker always stays free.
"""
import http.client
import os
import threading
import time

import pytest

from wlf import fcgi, php
from wlf.modworld import install, make_accounts

MAX_CONNS = 4


@pytest.fixture(scope="module")
def rhea(httpd_factory):
    sb = make_accounts()
    acct = sb.add_account("rhea", "wlft-rhea", ["rhea.test"],
                          max_children=5, pm="static")
    root = os.path.join(acct.home, "www")
    install(os.path.join(root, "hello.php"), php.HELLO, acct.user)
    install(os.path.join(root, "info.php"), php.INFO, acct.user)
    install(os.path.join(root, "slow.php"),
            "<?php usleep(50000); echo 'ok';", acct.user)
    h = httpd_factory()
    h.write(f"""
WLFcgiConfig {sb.config}
<VirtualHost 127.0.0.1:{h.port}>
  ServerName rhea.test
  DocumentRoot {root}
  <Directory {root}>
    Require all granted
  </Directory>
</VirtualHost>
""")
    h.start()
    yield sb, acct, h
    h.stop()
    sb.close()


def fpm_connections(sock):
    """Inodes of the connections the instance has accepted (their FPM
    side carries the listening path in /proc/net/unix, state 03)."""
    out = set()
    with open("/proc/net/unix") as f:
        for line in f:
            p = line.split()
            if len(p) >= 8 and p[5] == "03" and p[7] == sock:
                out.add(p[6])
    return out


def live_socket(acct):
    return os.path.join(os.path.dirname(acct.link), os.readlink(acct.link))


def run_load(h, path, clients, seconds, sample=None):
    """`clients` keep-alive clients for `seconds`; returns the statuses and
    calls sample() every 100 ms meanwhile.

    mpm_event closes idle keep-alive connections when all its threads are
    busy (here: waiting for one of the few FastCGI connections), and a
    request sent at that moment meets a closed connection without any
    response. Like a browser, the client sends such a GET again on a new
    connection; a request httpd had read would have been answered (with a
    5xx if the module or FPM failed), so nothing is hidden."""
    results = []
    stop = threading.Event()

    def one(c):
        c.request("GET", path, headers={"Host": "rhea.test"})
        r = c.getresponse()
        return r.status, r.read()

    def client():
        c = http.client.HTTPConnection("127.0.0.1", h.port, timeout=30)
        while not stop.is_set():
            try:
                results.append(one(c))
            except http.client.RemoteDisconnected:
                c.close()
                c = http.client.HTTPConnection("127.0.0.1", h.port,
                                               timeout=30)
                try:
                    results.append(one(c))
                except Exception as e:          # noqa: BLE001
                    results.append((0, repr(e).encode()))
            except Exception as e:              # noqa: BLE001
                results.append((0, repr(e).encode()))
                c.close()
                c = http.client.HTTPConnection("127.0.0.1", h.port,
                                               timeout=30)
        c.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    end = time.time() + seconds
    while time.time() < end:
        if sample:
            sample()
        time.sleep(0.1)
    stop.set()
    for t in threads:
        t.join()
    return results


def test_reuse_plan_logged(rhea):
    _, _, h = rhea
    want = ("WLF00006: account rhea: reuse on: 2 connections per httpd "
            "process, at most 4 of max_children 5")
    # the children log it as they start, maybe after the port answers
    deadline = time.time() + 10
    while want not in h.read_log() and time.time() < deadline:
        time.sleep(0.05)
    assert want in h.read_log()


def test_connections_are_reused_and_bounded(rhea):
    sb, acct, h = rhea
    sock = live_socket(acct)
    samples = []
    pings = []

    def sample():
        samples.append(fpm_connections(sock))
        # the spare worker: a ping through the same socket gets through
        t0 = time.time()
        try:
            fcgi.ping(sock, timeout=2)
            pings.append(time.time() - t0)
        except OSError:
            pings.append(None)

    res = run_load(h, "/slow.php", 24, 3.0, sample)
    bad = [x for x in res if x[0] != 200]
    assert res and bad == [], bad[:3]
    assert max(len(s) for s in samples) <= MAX_CONNS
    # the same connections carry request after request
    mid = samples[len(samples) // 3], samples[2 * len(samples) // 3]
    assert mid[0] & mid[1]
    assert None not in pings and max(pings) < 1.0, pings


def test_idle_connections_are_closed(rhea):
    """After the last request, idle connections are closed within the
    ttl (2 s) plus one janitor round: no FPM worker stays held."""
    sb, acct, h = rhea
    sock = live_socket(acct)
    run_load(h, "/hello.php", 4, 1.0)
    assert fpm_connections(sock)
    deadline = time.time() + 6
    while time.time() < deadline and fpm_connections(sock):
        time.sleep(0.1)
    assert fpm_connections(sock) == set()


def test_reload_under_load_drops_nothing(rhea):
    """fpmctl's reload procedure (start the idle slot, switch NAME.sock,
    drain 1 s, quit the old master) twice while keep-alive clients keep
    requesting: nothing fails, the new instance serves, and the old
    master quits soon (its idle connections are closed, it does not wait
    process_control_timeout for them)."""
    sb, acct, h = rhea
    results = []
    done = threading.Event()
    quit_times = []

    def reloads():
        try:
            for _ in range(2):
                time.sleep(0.5)
                t0 = time.time()
                pid = sb.reload("rhea")         # waits for the old master
                quit_times.append(time.time() - t0)
                r = h.get("/info.php", host="rhea.test")
                with open(f"/proc/{r.json()['pid']}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                results.append(ppid == pid)
        finally:
            done.set()

    t = threading.Thread(target=reloads)
    t.start()
    res = []
    while not done.is_set():
        res += run_load(h, "/hello.php", 4, 0.5)
    t.join()
    bad = [x for x in res if x[0] != 200 or x[1] != b"ok"]
    assert len(res) > 100 and bad == [], bad[:3]
    assert results == [True, True]
    # starting the new slot, drain 1 s, ttl 2 s, a janitor round: well
    # below the 30 s process_control_timeout the old master would
    # otherwise wait for the FPM workers held by idle connections
    assert max(quit_times) < 10, quit_times
