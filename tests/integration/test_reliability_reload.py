"""Reloads drop nothing: the short version of bench/reload.sh.

Ten accounts made by fpmctl, each with a vhost on one real httpd with
mod_wlfcgi; one wrk per vhost (2 connections, each pausing 5 ms between
requests: about half of what this machine can serve, so that latency is
not all queueing) checks that every answer is 2xx and names the vhost's
own Unix user. After a baseline without changes, the same load runs for
25 s; in its first 20 s fpmctl reloads 1-3 random accounts of the first
eight every 2 s, changes one of them with `set`, adds one account and
removes one that gets no load. No request may fail, none may take 5 s
(wrk's timeout), and the accounts that were changed must keep about the
latency of the two that never were (p99 within 250 ms here; the goal of
100 ms and the measured figures are in docs/BENCHMARKS.md). The figures
are printed (pytest -s shows them).
"""
import os
import threading
import time

import pytest

from wlf.loadrun import (Farm, group_percentile, reload_scenario,
                         scenario_report)
from wlf.sandbox import pid_alive

SECONDS = int(os.environ.get("WLFT_RELOAD_SECONDS", "20"))
BASELINE_SECONDS = 8
CONTROLS = 2


def test_reloads_under_load_drop_nothing(sandbox, httpd_factory):
    sb = sandbox
    farm = Farm(sb, httpd_factory(), n=10, extra=["rlidle"])
    seed = int(os.environ.get("WLFT_SEED", time.time()))
    base, res, chaos, masters = reload_scenario(
        farm, SECONDS, BASELINE_SECONDS, controls=CONTROLS, seed=seed,
        remove_name="rlidle")
    controls = farm.names[-CONTROLS:]
    report = scenario_report(base, res, chaos, controls)
    print("\n" + report)

    # every fpmctl command worked, and did so while the load ran (the
    # load runs 5 s longer than the commands start; on a busy machine a
    # command takes seconds, so how many reloads fit varies)
    assert chaos.failed() == [], report
    assert len(chaos.commands("reload")) >= 2, report
    for verb in ("set", "add-account", "remove-account"):
        cmds = chaos.commands(verb)
        assert len(cmds) == 1, (verb, report)
    assert max(end for _, end, *_ in chaos.log) < res.seconds, report

    # no request failed, on any account, and every account had load
    assert base.failures() == 0, base.table()
    assert res.failures() == 0, report
    for name, r in res.per_account.items():
        assert r["requests"] > 20 * SECONDS, (name, report)

    # the reloaded accounts kept the latency of the others
    reloaded = sorted(chaos.reloaded)
    p99_r, _ = group_percentile(res, reloaded, 99)
    p99_c, _ = group_percentile(res, controls, 99)
    # (a looser bound than the goal of 100 ms: on a machine shared with
    # other test runs, CPU starvation makes fresh workers slow to start;
    # docs/BENCHMARKS.md has the measured figures)
    assert p99_r <= p99_c + 250, report

    # the changes are real: new masters, the old ones drained and gone
    for name in reloaded:
        assert sb.master_pid(name) != masters[name], (name, report)
    for name in controls:
        assert sb.master_pid(name) == masters[name], name
    time.sleep(1.5)             # drain_time (1 s) of the last reload
    old = [p for n, p in masters.items() if n in reloaded and pid_alive(p)]
    assert old == [], report
    show = sb.json("show", chaos.set_name)
    assert show["max_children"] == 7, show
    assert show["php_admin"]["memory_limit"] == "96M", show
    r = sb.php("rladd", "<?php echo posix_getpwuid(posix_geteuid())"
                        "['name'];")
    assert r.status == 200 and r.text == "wlft-rladd"
    assert "rlidle" not in [a["name"] for a in sb.json("list")]
    assert not os.path.lexists(sb.socket("rlidle"))


# a request that takes 1 s even when a signal interrupts usleep()
SLOW_PHP = """<?php
$end = microtime(true) + 1.0;
while (($left = $end - microtime(true)) > 0) {
    usleep((int)($left * 1000000));
}
echo posix_getpwuid(posix_geteuid())['name'];
"""


def test_reload_of_a_saturated_pool_drops_no_queued_request(
        sandbox, httpd_factory, expect_log):
    """max_children busy and more requests queued on the old socket when
    the reload switches: the old master may only be told to quit once the
    requests httpd queued there were accepted (SIGQUIT closes the
    listening socket, and the kernel resets every connection still in its
    backlog: httpd answers 503)."""
    # the lines httpd logs if a queued request is reset (then the
    # assertions below fail and show them)
    expect_log(r"AH01075|AH01067|WLF00024")
    sb = sandbox
    farm = Farm(sb, httpd_factory(), n=1, prefix="sat",
                scripts={"slow.php": SLOW_PHP})
    name = farm.names[0]
    assert sb.fpmctl("set", name, "max_children=2").rc == 0
    results = {}

    def get(i):
        results[i] = farm.get(name, "/slow.php", timeout=30)

    threads = [threading.Thread(target=get, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
        time.sleep(0.02)
    time.sleep(0.3)     # 2 running, 6 waiting in the old socket's backlog
    r = sb.fpmctl("reload", name)
    assert r.rc == 0, r
    for t in threads:
        t.join()
    bad = {i: r for i, r in results.items()
           if r.status != 200 or r.text != farm.user(name)}
    assert bad == {}, (bad, farm.httpd.new_log_lines())


# runs 8 s and says when it started, so the reloads surely come while
# it runs in the first slot (a loaded machine may delay its start)
LONG_PHP = SLOW_PHP.replace("+ 1.0;", "+ 8.0;").replace(
    "<?php\n", "<?php\ntouch(__DIR__ . '/long.started');\n", 1)


def test_second_reload_keeps_a_long_request_of_the_first(sandbox):
    """Two reloads of one account within the run time of one request: the
    second needs the slot the first one left, whose master still finishes
    that request."""
    sb = sandbox
    sb.set_config(start_timeout=2, drain_time=100)
    acct = sb.add_account("longrq")
    script = sb.write_php("longrq", LONG_PHP)
    result = {}

    def long_request():
        try:
            result["r"] = sb.request("longrq", script, timeout=30)
        except OSError as e:
            result["r"] = e

    started = os.path.join(os.path.dirname(script), "long.started")
    t = threading.Thread(target=long_request)
    t.start()
    for _ in range(100):
        if os.path.exists(started):
            break
        time.sleep(0.05)
    assert os.path.exists(started), "the long request never started"
    assert sb.fpmctl("reload", "longrq").rc == 0
    time.sleep(0.5)
    live = sb.live_slot("longrq")
    # the draining master removes its pid file and socket when it is done
    keep_out = ("run", "var/log")
    before = sb.tree_snapshot(exclude=keep_out)
    # the slot it needs is busy: refused after start_timeout, not cut off
    rc, out, err = sb.fpmctl("reload", "longrq")
    assert rc == 1, (out, err)
    assert "still finishing requests" in err and "try again" in err, err
    assert sb.live_slot("longrq") == live
    t.join()
    r = result["r"]
    assert not isinstance(r, OSError), r
    assert r.status == 200 and r.text == acct.user, r
    assert sb.tree_snapshot(exclude=keep_out) == before
    # once it finished, the same reload goes through
    assert sb.fpmctl("reload", "longrq").rc == 0
    assert sb.php("longrq", "<?php echo 'ok';").text == "ok"
