"""On-demand accounts in direct mode: `fpmctl serve` holds their sockets,
the first request starts the master and is served by it, idle masters are
stopped, max_running caps them, and every fpmctl command keeps working.

Each test starts its own `fpmctl serve` and stops it with SIGTERM; the
sandbox's default activation is on-demand.
"""
import grp
import os
import random
import re
import socket
import stat
import subprocess
import threading
import time

import pytest

from wlf.sandbox import pid_alive, wait_until

HELLO = "<?php echo 'hello from ', posix_getpwuid(posix_geteuid())['name'];"


def fpm_masters(sb, name=None):
    """Pids of php-fpm masters running a config of this sandbox (of one
    account if name is given)."""
    return sb.fpm_masters(re.escape(f"{name}.") if name else "")


def httpd_group(sb):
    with open(sb.conf) as f:
        return re.search(r'(?m)^httpd_group = "([^"]+)";', f.read()).group(1)


def state(sb, name):
    return sb.json("show", name)["state"]


@pytest.fixture
def od(sandbox_factory):
    """A direct-mode sandbox whose accounts are on-demand (idle_stop 2 s)
    with fpmctl serve running."""
    sb = sandbox_factory(config={"start_timeout": 5})
    sb.set_defaults(activation="on-demand", idle_stop=2)
    sb.start_serve()
    return sb


def test_first_request_starts_the_master_and_is_served(od):
    alice = od.add_account("alice")
    assert fpm_masters(od, "alice") == []
    assert state(od, "alice") == "idle"
    script = od.write_php("alice", HELLO)
    t0 = time.monotonic()
    r = od.request("alice", script)
    took = time.monotonic() - t0
    assert r.status == 200, r
    assert r.text == f"hello from {alice.user}"
    assert took < 5
    assert len(fpm_masters(od, "alice")) == 1
    assert state(od, "alice") == "running"
    assert "alice: starting php-fpm" in od.serve_output()


def test_add_account_starts_nothing_and_the_socket_is_httpds(od):
    t0 = time.monotonic()
    acct = od.add_account("dave")
    assert time.monotonic() - t0 < 5
    assert fpm_masters(od) == []
    sock = os.path.join(od.paths["sockets"], "dave.a.sock")
    st = os.stat(sock)
    assert stat.S_ISSOCK(st.st_mode)
    assert st.st_uid == 0
    assert st.st_gid == grp.getgrnam(httpd_group(od)).gr_gid
    assert stat.S_IMODE(st.st_mode) == 0o660
    assert os.readlink(od.socket("dave")) == "dave.a.sock"
    # the account's own user cannot talk to it (only root and httpd)
    probe = ("import socket,sys\ns=socket.socket(socket.AF_UNIX)\n"
             "try:\n s.connect(sys.argv[1]); print('connected')\n"
             "except PermissionError: print('denied')\n")
    out = subprocess.run(["setpriv", f"--reuid={acct.uid}",
                          f"--regid={acct.gid}", "--clear-groups",
                          "/usr/bin/python3", "-c", probe, od.socket("dave")],
                         capture_output=True, text=True)
    assert out.stdout.strip() == "denied", out
    assert fpm_masters(od) == [], "a refused probe must start nothing"


def test_idle_master_is_stopped_and_started_again(od):
    od.add_account("erin")
    script = od.write_php("erin", HELLO)
    assert od.request("erin", script).status == 200
    first = fpm_masters(od, "erin")
    assert len(first) == 1
    wait_until(lambda: not fpm_masters(od, "erin"), timeout=15,
               what="the idle master to be stopped")
    assert state(od, "erin") == "idle"
    assert "erin: stopping php-fpm" in od.serve_output()
    r = od.request("erin", script)
    assert r.status == 200 and r.text.startswith("hello from")
    assert fpm_masters(od, "erin") not in ([], first)


def test_requests_while_the_master_stops_are_not_lost(od):
    """Requests keep coming while the idle check stops the master: each is
    answered, by the old master or the next one."""
    od.set_defaults(idle_stop=1)
    od.add_account("frank")
    script = od.write_php("frank", HELLO)
    failures, answered = [], 0
    end = time.monotonic() + 8
    while time.monotonic() < end:
        try:
            r = od.request("frank", script, timeout=15)
            if r.status != 200:
                failures.append(r.status)
            answered += 1
        except OSError as e:
            failures.append(repr(e))
        # pauses long enough for the master to be stopped now and then
        time.sleep(random.choice((0.0, 0.05, 1.3)))
    assert failures == []
    assert answered > 5
    assert od.serve_output().count("frank: starting php-fpm") >= 2


def test_stop_is_not_undone_by_requests_and_start_arms_again(od):
    od.add_account("gina")
    script = od.write_php("gina", HELLO)
    assert od.request("gina", script).status == 200
    r = od.fpmctl("stop", "gina")
    assert r.rc == 0 and "gina: stopped" in r.out
    assert fpm_masters(od, "gina") == []
    assert not os.path.exists(od.socket("gina"))
    with pytest.raises(OSError):
        od.request("gina", script, timeout=2)
    assert state(od, "gina") == "stopped"
    time.sleep(0.3)
    assert fpm_masters(od, "gina") == []
    r = od.fpmctl("start", "gina")
    assert r.rc == 0 and "idle" in r.out, r
    assert fpm_masters(od, "gina") == []
    assert od.request("gina", script).status == 200


def test_reload_set_rebuild_never_start_an_idle_account(od):
    od.add_account("hank")
    for cmd in (("reload", "hank"), ("set", "hank", "max_children=3"),
                ("rebuild", "hank"), ("reload", "--all"),
                ("rebuild", "--all"), ("restart", "hank")):
        r = od.fpmctl(*cmd)
        assert r.rc == 0, (cmd, r)
        assert fpm_masters(od, "hank") == [], cmd
        assert state(od, "hank") == "idle", cmd
    with open(os.path.join(od.instance_dir("hank"), "php-fpm.conf")) as f:
        assert "pm.max_children = 3" in f.read()
    script = od.write_php("hank", "<?php echo ini_get('max_execution_time');")
    assert od.request("hank", script).status == 200


def test_running_account_reloads_without_a_failed_request(od):
    od.add_account("ivy")
    od.set_defaults(idle_stop=0)
    script = od.write_php("ivy", "<?php usleep(20000); echo 'ok';")
    assert od.request("ivy", script).status == 200
    stop, failures, count = threading.Event(), [], [0]

    def load():
        while not stop.is_set():
            try:
                r = od.request("ivy", script, timeout=20)
                if r.status != 200 or r.text != "ok":
                    failures.append((r.status, r.text))
            except OSError as e:
                failures.append(repr(e))
            count[0] += 1

    threads = [threading.Thread(target=load) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        slots = set()
        for i in range(4):
            r = od.fpmctl("reload", "ivy")
            assert r.rc == 0 and "reloaded" in r.out, r
            slots.add(od.live_slot("ivy"))
            time.sleep(1.5)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert failures == []
    assert count[0] > 20
    assert slots == {"a", "b"}
    # serve holds the new slot's socket: idle stop keeps it answering
    assert state(od, "ivy") == "running"


def test_max_running_caps_masters_and_every_request_is_served(od):
    od.set_config(max_running=2)
    od.stop_serve()
    od.start_serve()
    names = [f"m{i}" for i in range(6)]
    scripts = {}
    for n in names:
        od.add_account(n)
        scripts[n] = od.write_php(n, HELLO)
    peak, stop = [0], threading.Event()

    def watch():
        while not stop.is_set():
            peak[0] = max(peak[0], len(fpm_masters(od)))
            time.sleep(0.01)

    w = threading.Thread(target=watch)
    w.start()
    try:
        order = names * 3
        random.Random(7).shuffle(order)
        for n in order:
            r = od.request(n, scripts[n], timeout=20)
            assert r.status == 200, (n, r)
    finally:
        stop.set()
        w.join()
    assert 1 <= peak[0] <= 2
    assert "max_running" in od.serve_output()


def test_at_the_cap_with_every_master_busy_a_request_gets_503(od):
    """max_running 1 and the one master busy with a long request: a
    request to another account waits start_timeout (2 s here), then gets
    a 503 with Retry-After from serve; the busy request completes."""
    od.set_config(max_running=1, start_timeout=2)
    od.stop_serve()
    od.start_serve()
    od.add_account("busy")
    od.add_account("late")
    slow = od.write_php("busy", "<?php sleep(4); echo 'done';")
    fast = od.write_php("late", HELLO)
    result = {}
    t = threading.Thread(target=lambda: result.update(
        busy=od.request("busy", slow, timeout=20)))
    t.start()
    wait_until(lambda: fpm_masters(od, "busy"), what="busy's master")
    time.sleep(1.2)      # its request is in flight, past LRU_MIN_IDLE
    t0 = time.monotonic()
    r = od.request("late", fast, timeout=20)
    waited = time.monotonic() - t0
    t.join()
    assert r.status == 503, r
    assert r.headers.get("retry-after") == "10"
    assert "503 Service Unavailable" in r.text
    assert 1.5 <= waited < 6
    assert result["busy"].status == 200 and result["busy"].text == "done"
    assert fpm_masters(od, "late") == []


def test_failed_start_answers_503_and_says_why(od):
    od.add_php_version("9.9", "/bin/false")
    od.add_account("jack", args=["--php", "9.9"])
    script = od.write_php("jack", HELLO)
    r = od.request("jack", script, timeout=20)
    assert r.status == 503, r
    assert r.headers.get("retry-after") == "10"
    wait_until(lambda: "jack: php-fpm" in od.serve_output() and
               "while starting" in od.serve_output(), timeout=10,
               what="serve to report the failed start")


def test_a_request_sent_after_the_failed_start_still_gets_the_503(od):
    """A client that connected but sends its request only once serve has
    seen the start fail (here: 0.3 s later) reads the 503; serve waits
    for the request before it answers and closes (otherwise the client's
    write fails with EPIPE and it never sees the answer)."""
    from wlf import fcgi
    od.add_php_version("9.9", "/bin/false")
    od.add_account("late", args=["--php", "9.9"])
    script = od.write_php("late", HELLO)
    params = {"REQUEST_METHOD": "GET", "SCRIPT_FILENAME": script,
              "SCRIPT_NAME": "/x.php", "REQUEST_URI": "/x.php",
              "QUERY_STRING": "", "SERVER_NAME": "localhost",
              "SERVER_PORT": "80", "REMOTE_ADDR": "127.0.0.1",
              "SERVER_PROTOCOL": "HTTP/1.1", "GATEWAY_INTERFACE": "CGI/1.1"}
    request = (fcgi._record(1, bytes([0, 1, 0, 0, 0, 0, 0, 0])) +
               fcgi._record(4, fcgi._pairs(params)) + fcgi._record(4) +
               fcgi._record(5))
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(20)
        s.connect(od.socket("late"))
        time.sleep(0.3)
        s.sendall(request)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    assert b"Status: 503" in answer and b"Retry-After: 10" in answer, answer
    assert b"could not be started" in answer


def test_sigterm_stops_what_serve_started_and_itself(od):
    for n in ("k1", "k2"):
        od.add_account(n)
        assert od.request(n, od.write_php(n, HELLO)).status == 200
    masters = fpm_masters(od)
    assert len(masters) == 2
    t0 = time.monotonic()
    assert od.stop_serve() == 0
    assert time.monotonic() - t0 < 15
    assert not any(pid_alive(p) for p in masters)
    assert not os.path.exists(os.path.join(od.paths["sockets"], "k1.a.sock"))
    assert not os.path.exists(os.path.join(od.paths["sockets"],
                                           ".serve.ctl"))
    r = od.fpmctl("status", "k1")
    assert "serve is not running" in r.out


def test_serve_restart_takes_over_running_masters(od):
    """A master that runs when serve starts (a reload made it while serve
    was down) is adopted: its socket outlives it."""
    od.add_account("lena")
    script = od.write_php("lena", HELLO)
    od.stop_serve()
    od.set_defaults(idle_stop=1)
    assert od.fpmctl("start", "lena").rc == 1   # no serve: says so
    od.start_serve()
    assert od.request("lena", script).status == 200
    pid = fpm_masters(od, "lena")
    assert pid
    os.kill(od.serve.pid, 9)        # serve dies; the master lives on
    od.serve.wait()
    od.serve = None
    od.start_serve()
    assert pid_alive(pid[0])
    wait_until(lambda: not pid_alive(pid[0]), timeout=15,
               what="the adopted master to be stopped when idle")
    assert od.request("lena", script).status == 200


def test_remove_account_lets_go_of_its_socket(od):
    od.add_account("mia")
    sock = os.path.join(od.paths["sockets"], "mia.a.sock")
    assert os.path.exists(sock)
    assert od.fpmctl("remove-account", "mia").rc == 0
    wait_until(lambda: not os.path.exists(sock), timeout=5,
               what="serve to drop mia's socket")
    assert not os.path.exists(od.socket("mia"))


def test_switching_activation_keeps_the_account_answering(od):
    od.add_account("nina")
    script = od.write_php("nina", HELLO)
    r = od.fpmctl("set", "nina", "activation=always")
    assert r.rc == 0 and "started" in r.out, r
    assert len(fpm_masters(od, "nina")) == 1
    assert state(od, "nina") == "running"
    assert od.request("nina", script).status == 200
    r = od.fpmctl("set", "nina", "activation=on-demand")
    assert r.rc == 0, r
    assert od.request("nina", script).status == 200
    wait_until(lambda: not fpm_masters(od, "nina"), timeout=15,
               what="the on-demand master to be stopped when idle")
    assert od.request("nina", script).status == 200


def test_list_status_show_name_the_states(od):
    od.add_account("olga")
    od.add_account("paul")
    od.fpmctl("stop", "paul", check=True)
    rows = {a["name"]: a for a in od.json("list")}
    assert rows["olga"]["state"] == "idle"
    assert rows["olga"]["activation"] == "on-demand"
    assert rows["paul"]["state"] == "stopped"
    r = od.fpmctl("status", "olga")
    assert r.rc == 0 and "olga: idle" in r.out
    assert od.request("olga", od.write_php("olga", HELLO)).status == 200
    assert od.json("status", "olga")[0]["state"] == "running"
    assert fpm_masters(od, "paul") == []


def test_check_in_every_state_of_an_on_demand_account(od):
    """check takes each on-demand account as it is, and wakes none: idle
    (its socket held by serve, checked like a running instance's, never
    connected to) is fine, running is checked like an always account,
    stopped is reported as stopped (a warning), suspended is fine; with
    nothing holding the idle socket, check fails."""
    for n in ("idla", "runa", "stoa", "susa"):
        od.add_account(n)
    od.fpmctl("stop", "stoa", check=True)
    od.fpmctl("suspend", "susa", check=True)
    assert od.request("runa", od.write_php("runa", HELLO)).status == 200
    gid = grp.getgrnam(httpd_group(od)).gr_gid
    for n in ("idla", "runa"):
        st = os.stat(os.path.join(od.paths["sockets"], f"{n}.sock"))
        assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == \
            (0, gid, 0o660), n
    r = od.fpmctl("check")
    out = r.out + r.err
    assert r.rc == 0 and "no problems" in out, out
    warnings = [ln for ln in out.splitlines() if ": warning:" in ln]
    assert warnings == ["stoa: warning: stopped (fpmctl stop): requests get "
                        "503 until `fpmctl start stoa`"], out
    j = od.json("check")
    assert j["ok"] and j["problems"] == [], j
    assert [w["account"] for w in j["warnings"]] == ["stoa"], j
    # running: checked like an always account (its socket's mode)
    runa_sock = os.path.join(od.paths["sockets"], "runa.a.sock")
    os.chmod(runa_sock, 0o666)
    try:
        r = od.fpmctl("check")
        assert r.rc == 1, r
        assert f"runa: {runa_sock}: mode 0666, expected 0660" in r.out, r
    finally:
        os.chmod(runa_sock, 0o660)
    # idle: its held socket checked the same way, without waking it
    idla_sock = os.path.join(od.paths["sockets"], "idla.a.sock")
    os.chmod(idla_sock, 0o666)
    try:
        r = od.fpmctl("check")
        assert r.rc == 1, r
        assert f"idla: {idla_sock}: mode 0666, expected 0660" in r.out, r
    finally:
        os.chmod(idla_sock, 0o660)
    for n in ("idla", "stoa", "susa"):
        assert fpm_masters(od, n) == [], f"check woke {n}"
    assert state(od, "idla") == "idle"
    # nothing holds the idle socket: requests would get 503
    od.stop_serve()
    r = od.fpmctl("check")
    assert r.rc == 1, r
    assert "idla: on-demand: fpmctl serve is not running" in r.out, r


def test_a_suspended_account_is_never_started_and_resume_arms_it(od):
    """Suspended, an on-demand account has no socket serve holds: nothing
    a client does starts it, nor do start --all, reload, rebuild, set or
    a restart of serve. resume makes it idle; its next request starts
    it."""
    od.add_account("sue")
    script = od.write_php("sue", HELLO)
    assert od.request("sue", script).status == 200
    master = fpm_masters(od, "sue")
    assert len(master) == 1
    r = od.fpmctl("suspend", "sue", "--reason", "test")
    assert r.rc == 0 and "sue: suspended (test)" in r.out, r
    assert not pid_alive(master[0])
    assert os.readlink(od.socket("sue")) == "sue.suspended"
    slot_sock = os.path.join(od.paths["sockets"], "sue.a.sock")

    def nothing_listens():
        assert not os.path.exists(slot_sock)
        with pytest.raises(OSError):
            od.request("sue", script, timeout=2)
        with pytest.raises(OSError):
            od.request("sue", script, timeout=2, sock=slot_sock)
        assert fpm_masters(od, "sue") == []
        assert state(od, "sue") == "suspended"

    nothing_listens()
    assert {a["name"]: a["state"] for a in od.json("list")}["sue"] == \
        "suspended"
    for cmd in (("start", "--all"), ("reload", "sue"), ("rebuild", "--all"),
                ("set", "sue", "max_children=3"),
                ("set", "sue", "activation=always"),
                ("set", "sue", "activation=on-demand"), ("restart", "--all")):
        od.fpmctl(*cmd)
        nothing_listens()
    od.stop_serve()
    od.start_serve()
    nothing_listens()
    assert "0 running, 0 stopped, 1 suspended" in od.serve_output()
    r = od.fpmctl("resume", "sue")
    assert r.rc == 0 and "sue: resumed; idle" in r.out, r
    assert fpm_masters(od, "sue") == []
    assert state(od, "sue") == "idle"
    assert os.path.exists(slot_sock)
    r = od.request("sue", script)
    assert r.status == 200 and r.text.startswith("hello from"), r
    assert len(fpm_masters(od, "sue")) == 1


# ------------------------------------------------------------ with httpd --

def od_vhosts(sb, port, names):
    out = [f"WLFcgiConfig {sb.conf}"]
    for n in names:
        home = sb.accounts[n].home
        out.append(f"""
<VirtualHost 127.0.0.1:{port}>
  ServerName {n}.test
  WLFcgiAccount {n}
  DocumentRoot {home}
  <Directory {home}>
    AllowOverride None
    Require all granted
  </Directory>
</VirtualHost>""")
    out.append(f"""
<VirtualHost 127.0.0.1:{port}>
  ServerName admin.test
  DocumentRoot {sb.root}
  <Location /wlfcgi-status>
    SetHandler wlfcgi-status
    Require all granted
  </Location>
</VirtualHost>""")
    return "\n".join(out)


def test_through_httpd_wake_up_status_page_and_stop(od, httpd_factory,
                                                     expect_log):
    """The first request through httpd wakes the account and is answered
    by it; the status page says idle/running without starting anything;
    after fpmctl stop httpd answers 503 with Retry-After."""
    expect_log(r"WLF00023: account quinn: no live instance")
    q = od.add_account("quinn")
    od.write_php("quinn", HELLO, filename="hello.php")
    h = httpd_factory()
    h.write(od_vhosts(od, h.port, ["quinn"]))
    h.start()
    try:
        j = h.get("/wlfcgi-status?json", host="admin.test").json()
        v = {x["vhost"]: x for x in j["vhosts"]}["quinn.test"]
        assert v["state"] == "idle" and v["answers"] is True, v
        text = h.get("/wlfcgi-status", host="admin.test").text
        assert " idle " in [ln for ln in text.splitlines()
                            if ln.startswith("quinn.test")][0]
        # OpenMetrics: idle, from httpd and fpmctl alike, and no wake-up
        idle = 'wlfcgi_state{account="quinn",wlfcgi_state="idle"} 1'
        assert idle in h.get("/wlfcgi-status?openmetrics",
                             host="admin.test").text
        assert idle in od.fpmctl("status", "--openmetrics").out
        assert fpm_masters(od, "quinn") == [], "the status page woke it"
        r = h.get("/hello.php", host="quinn.test")
        assert r.status == 200 and r.text == f"hello from {q.user}", r
        assert len(fpm_masters(od, "quinn")) == 1
        j = h.get("/wlfcgi-status?json", host="admin.test").json()
        v = {x["vhost"]: x for x in j["vhosts"]}["quinn.test"]
        assert v["state"] == "running", v
        assert od.fpmctl("stop", "quinn").rc == 0
        r = h.get("/hello.php", host="quinn.test")
        assert r.status == 503 and r.header("Retry-After") == "10", r
        assert fpm_masters(od, "quinn") == []
        j = h.get("/wlfcgi-status?json", host="admin.test").json()
        v = {x["vhost"]: x for x in j["vhosts"]}["quinn.test"]
        assert v["state"] == "stopped" and v["answers"] is False, v
        assert 'wlfcgi_state{account="quinn",wlfcgi_state="stopped"} 1' \
            in od.fpmctl("status", "--openmetrics").out
    finally:
        h.stop()


def test_through_httpd_a_suspended_account_gets_the_page_not_php(
        od, httpd_factory, expect_log):
    """A request to a suspended on-demand account gets the module's
    suspended page and starts nothing; after resume the next request wakes
    the account."""
    expect_log(r"WLF00029: account rosa is suspended")
    r_acct = od.add_account("rosa")
    od.write_php("rosa", HELLO, filename="hello.php")
    od.fpmctl("suspend", "rosa", check=True)
    h = httpd_factory()
    h.write(od_vhosts(od, h.port, ["rosa"]))
    h.start()
    try:
        r = h.get("/hello.php", host="rosa.test")
        assert r.status == 503 and "This site is suspended" in r.text, r
        assert r.header("Retry-After") == "3600"
        assert fpm_masters(od, "rosa") == []
        j = h.get("/wlfcgi-status?json", host="admin.test").json()
        v = {x["vhost"]: x for x in j["vhosts"]}["rosa.test"]
        assert v["state"] == "suspended" and v["suspended"] is True, v
        assert 'wlfcgi_state{account="rosa",wlfcgi_state="suspended"} 1' \
            in h.get("/wlfcgi-status?openmetrics", host="admin.test").text
        assert fpm_masters(od, "rosa") == []
        od.fpmctl("resume", "rosa", check=True)
        assert fpm_masters(od, "rosa") == []
        r = h.get("/hello.php", host="rosa.test")
        assert r.status == 200 and r.text == f"hello from {r_acct.user}", r
        assert len(fpm_masters(od, "rosa")) == 1
    finally:
        h.stop()
