"""On-demand accounts at scale: the short version of bench/ondemand.py.

Runs the benchmark itself with tens of accounts (each with its own Unix
user, group and home; in the benchmark's private mount namespace, so the
host's user database is not touched): 40 idle accounts under fpmctl
serve, 10 first requests, 20 add-accounts, list / status / check,
reload --all and rebuild --all, httpd with a vhost per account; 60
accounts requested once each in random order by 8 clients with
max_running 10; one running account under load reloaded every 2 s.
What must hold exactly: every request of the cap run answers 200 and
never more than 10 masters run, no reload fails a request, reload --all
and rebuild --all start nothing. The timings get the issue's targets
with slack for a shared 2-core machine (the measured figures are in
docs/BENCHMARKS.md); the figures are printed (pytest -s shows them).
"""
import json
import os
import subprocess

BENCH = os.path.join(os.path.dirname(__file__), "..", "..", "bench",
                     "ondemand.py")


def test_ondemand_benchmark_with_tens_of_accounts(tmp_path):
    out = tmp_path / "ondemand.json"
    r = subprocess.run(
        [BENCH, "--scales", "40", "--samples", "10", "--cap-accounts", "60",
         "--max-running", "10", "--reload-seconds", "8", "--json",
         str(out)],
        capture_output=True, text=True, timeout=900)
    print(r.stdout[-6000:])
    assert r.returncode == 0, r.stdout[-4000:] + r.stderr[-4000:]
    res = json.loads(out.read_text())

    (row,) = res["scale"]
    assert row["n"] == 40 and row["masters_idle"] == 0
    assert row["masters_after"] == 0        # reload/rebuild --all woke none
    assert row["serve_pss_kib"] < 32 * 1024
    # targets 150 ms / 50 ms / 2 s / 60 s / 5 s; slack for a busy machine
    assert row["extra_p50"] < 1000
    assert row["add_p50_ms"] < 500
    for key in ("list_s", "status_s", "check_s", "apachectl_t_s"):
        assert row[key] < 10, key
    for key in ("reload_all_s", "rebuild_all_s"):
        assert row[key] < 30, key
    base_rss = res["httpd_no_accounts"]["child_rss_kib"]
    assert row["child_rss_kib"] - base_rss < 64 * 1024

    (cap,) = res["cap"]
    assert cap["statuses"] == {"200": 60}
    assert 1 <= cap["peak_masters"] <= 10
    assert cap["lru_stops"] > 0

    (rl,) = res["reload"]
    assert rl["reloads"] >= 3 and rl["reloads_failed"] == 0
    assert rl["requests"] > 100 and rl["failed"] == 0
