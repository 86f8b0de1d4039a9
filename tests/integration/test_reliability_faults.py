"""Faults stay contained: a killed FPM master costs only its own account, and
`fpmctl start` brings it back; a PHP worker that crashes costs only its own
request.

Real httpd with mod_wlfcgi, real php-fpm instances made by fpmctl; every
other account is kept under load with wrk while the fault happens.
"""
import os
import re
import threading
import time

import pytest

from wlf.loadrun import Farm, WHO_PHP, run_wrk
from wlf.sandbox import Sandbox, children, pid_alive, wait_until

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

PID_PHP = "<?php echo getmypid();\n"
SLOW_PHP = "<?php usleep(800000); " + WHO_PHP[len("<?php "):]
SCRIPTS = {
    "pid.php": PID_PHP,
    "slow.php": SLOW_PHP,
    "kill9.php": "<?php posix_kill(getmypid(), 9); echo 'survived';\n",
    "segv.php": "<?php posix_kill(getmypid(), 11); echo 'survived';\n",
}


def pool_down_log(name):
    """What httpd logs when NAME's pool does not take a request."""
    return [
        rf"WLF00024: account {name}: PHP pool not answering on "
        rf".*/{name}\.[ab]\.sock",
        rf"\[proxy:error\].*(AH00957|AH02454): (FCGI|fcgi): attempt to "
        rf"connect to Unix domain socket .*/{name}\.[ab]\.sock",
        r"\[proxy_fcgi:error\].*AH01079: failed to make connection to "
        r"backend",
    ]


WORKER_DIED_LOG = [
    r"WLF00028: account \w+: a PHP worker ended the request for ",
    r"\[proxy_fcgi:error\].*AH01067: Failed to read FastCGI header",
    r"\[proxy_fcgi:error\].*AH01075: Error dispatching request to",
]


@pytest.fixture(scope="module")
def farm(httpd_factory):
    sb = Sandbox()
    try:
        f = Farm(sb, httpd_factory(), n=4, prefix="kf", scripts=SCRIPTS)
        yield f
        f.httpd.stop()
    finally:
        sb.close()


def assert_serves(farm, name):
    r = farm.get(name)
    assert r.status == 200 and r.text == farm.user(name), (name, r)


def idle_master(farm, name):
    """NAME's live master once it has no worker left (pm = ondemand; the
    worker that answered fpmctl's ping idles out after idle_timeout=1)."""
    r = farm.sb.fpmctl("set", name, "idle_timeout=1")
    assert r.rc == 0, r
    pid = farm.sb.master_pid(name)
    assert pid
    wait_until(lambda: children(pid) == [], timeout=15,
               what=f"{name}'s workers idle out")
    return pid


# ------------------------------------------------------- killed master --

def test_killed_master_gives_503_for_that_account_only(farm, expect_log):
    sb = farm.sb
    victim = "kf00"
    others = [n for n in farm.names if n != victim]
    expect_log(*pool_down_log(victim))
    master = idle_master(farm, victim)
    seen = {}

    def fault():
        time.sleep(1.0)
        os.kill(master, 9)
        wait_until(lambda: not pid_alive(master), what="master gone")
        # every request of the account: 503 with Retry-After
        for _ in range(5):
            r = farm.get(victim)
            assert r.status == 503, r
            assert r.header("Retry-After") == "10", r.headers
            assert farm.user(victim) not in r.text
        # fpmctl says what happened
        st = sb.fpmctl("status", victim)
        seen["status"] = st
        seen["json"] = sb.json("status", victim)
        seen["all"] = sb.fpmctl("status")
        # direct mode: fpmctl start brings it back
        seen["start"] = sb.fpmctl("start", victim)
        assert_serves(farm, victim)
        seen["after"] = sb.fpmctl("status", victim)
        time.sleep(1.0)

    res = run_wrk(farm, 5, pace_ms=5, names=others, during=fault)
    print("\n" + res.table())
    assert res.failures() == 0, res.table()
    assert min(r["requests"] for r in res.per_account.values()) > 100, \
        res.table()

    st = seen["status"]
    assert st.rc == 1, st
    assert re.search(rf"^{victim}: dead \(pid {master}\): .*pid file .* "
                     rf"names pid {master}, which is not", st.out, re.M), st
    assert seen["json"][0]["state"] == "dead", seen["json"]
    everyone = seen["all"]
    assert everyone.rc == 1, everyone
    for name in others:
        assert re.search(rf"^{name}: running ", everyone.out, re.M), everyone
    assert seen["start"].rc == 0, seen["start"]
    assert re.search(rf"{victim}: started \(slot [ab], pid \d+\)",
                     seen["start"].out), seen["start"]
    assert seen["after"].rc == 0 and "running" in seen["after"].out
    new = sb.master_pid(victim)
    assert new and new != master


def test_killed_master_with_workers_orphans_are_cleared(farm, expect_log):
    """kill -9 of a master whose workers are alive: php-fpm's workers do
    not notice, and keep answering on the socket they inherited. Users
    then see either their own site or a 503 (never another account, never
    an error page of another kind); `fpmctl status` says the instance is
    dead, and `fpmctl start` clears the orphans and starts a new master."""
    sb = farm.sb
    victim = "kf01"
    expect_log(*pool_down_log(victim))
    master = idle_master(farm, victim)
    # two workers: two requests at once
    threads = [threading.Thread(target=farm.get, args=(victim, "/slow.php"))
               for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    workers = children(master)
    assert len(workers) >= 1, workers
    os.kill(master, 9)
    wait_until(lambda: not pid_alive(master), what="master gone")
    for _ in range(5):
        r = farm.get(victim)
        assert (r.status == 200 and r.text == farm.user(victim)) or \
            (r.status == 503 and r.header("Retry-After") == "10"), r
    for name in farm.names:
        if name != victim:
            assert_serves(farm, name)
    st = sb.fpmctl("status", victim)
    assert st.rc == 1 and f"{victim}: dead (pid {master})" in st.out, st
    r = sb.fpmctl("start", victim)
    assert r.rc == 0, r
    new = sb.master_pid(victim)
    assert new and new != master
    wait_until(lambda: not any(pid_alive(w) for w in workers),
               what="orphaned workers gone")
    r = farm.get(victim, "/pid.php")
    assert r.status == 200
    assert int(r.text) in children(new), (r.text, children(new))


def test_systemd_unit_restarts_a_dead_master():
    """Systemd mode: the unit restarts a master that died (a kill -9, a
    crash), and stopping what is left of the unit (KillMode=mixed: SIGKILL
    for the orphaned workers) comes first."""
    with open(os.path.join(ROOT, "rpm", "wlfcgi-fpm@.service")) as f:
        unit = f.read()
    settings = dict(re.findall(r"^(\w+)=(.*)$", unit, re.M))
    assert settings["Restart"] == "on-failure"
    assert int(settings["RestartSec"].rstrip("s")) <= 5
    assert settings["KillMode"] == "mixed"
    assert settings["KillSignal"] == "SIGQUIT"
    with open(os.path.join(ROOT, "docs", "reliability.md")) as f:
        doc = f.read()
    assert "Restart=on-failure" in doc


# -------------------------------------------------------- worker crash --

@pytest.mark.parametrize("script,signal_name", [("kill9.php", "SIGKILL"),
                                                 ("segv.php", "SIGSEGV")])
def test_worker_crash_costs_only_its_request(farm, expect_log, script,
                                             signal_name):
    sb = farm.sb
    victim, other = "kf02", "kf03"
    expect_log(*WORKER_DIED_LOG)
    master = sb.master_pid(victim)
    log = os.path.join(sb.paths["logs"], victim,
                       f"fpm.{sb.live_slot(victim)}.log")
    log_from = os.path.getsize(log)
    results = {}

    def slow(name, key):
        results[key] = farm.get(name, "/slow.php")

    # requests in flight on the same account and on another one
    threads = [threading.Thread(target=slow, args=(n, f"{n}-{i}"))
               for i, n in enumerate((victim, victim, other))]
    for t in threads:
        t.start()
    time.sleep(0.3)
    crash = farm.get(victim, "/" + script)
    for t in threads:
        t.join()

    # the crashing request fails, and says "try again later"
    assert crash.status == 503, crash
    assert crash.header("Retry-After") == "10"
    assert b"survived" not in crash.body
    # nothing else noticed
    for key, r in results.items():
        name = key.split("-")[0]
        assert r.status == 200 and r.text == farm.user(name), (key, r)
    for _ in range(3):
        assert_serves(farm, victim)
    assert sb.master_pid(victim) == master
    with open(log) as f:
        f.seek(log_from)
        text = f.read()
    assert re.search(rf"child \d+ exited on signal \d+ \({signal_name}\)",
                     text), text


def test_worker_crash_is_not_logged_as_pool_down(farm, expect_log):
    """A worker that dies in a request is WLF00028, not 'pool down'."""
    victim = "kf02"
    expect_log(*WORKER_DIED_LOG)
    farm.httpd.log_mark()
    assert farm.get(victim, "/kill9.php").status == 503
    time.sleep(0.2)
    lines = farm.httpd.new_log_lines()
    assert not [ln for ln in lines if "PHP pool not answering" in ln], lines
    assert [ln for ln in lines if f"WLF00028: account {victim}:" in ln], \
        lines
