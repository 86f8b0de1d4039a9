"""Benchmark: reloads under load (the long form of
tests/integration/test_reliability_reload.py). Run by bench/reload.sh.

Ten accounts made by fpmctl in a private sandbox (direct mode, defaults:
pm = ondemand, 5 children, drain_time 1000 ms), each with a vhost on one
httpd with mod_wlfcgi (mpm_event, 2 x 32 threads); one wrk per vhost, 2
connections each, every connection pausing PACE ms before each request
(0: as fast as it can). The PHP page answers the Unix user it ran as,
and every answer is checked against its vhost.

1. warm-up, 2 s;
2. baseline: SECONDS + 5 without any change;
3. the same load for SECONDS + 5; in its first SECONDS fpmctl reloads
   1-3 random accounts of the first eight every 2 s, runs one `set`
   (max_children, a php_admin value), one `add-account` and one
   `remove-account` of an account without load (the 5 s at the end let
   the last commands and drains finish under load). The last two
   accounts are never changed: the same run shows what reloads cost
   against accounts that had none.

Prints requests, failures (non-2xx, wrong user, connect/read/write
errors, timeouts) and latency percentiles for both runs, per account
counts and every fpmctl command with its duration. `--markdown` adds the
rows for docs/BENCHMARKS.md. Latency percentiles include wrk's own
correction for coordinated omission; max is the slowest real request.
Exit status 1 if any request or command failed.
"""
import argparse
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

from wlf.httpd import HttpdFactory  # noqa: E402
from wlf.loadrun import (Farm, group_percentile, loadavg,  # noqa: E402
                         reload_scenario, scenario_report)
from wlf.sandbox import Sandbox  # noqa: E402

CONTROLS = 2


def row(label, r):
    s = r.summary()
    return (f"| {label} | {s['requests']} ({s['req_per_s']}/s) | "
            f"{s['failures']} | {s['p50_ms']:.1f} | {s['p99_ms']:.1f} | "
            f"{s['p999_ms']:.1f} | {s['max_ms']:.1f} |")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--baseline-seconds", type=int, default=None)
    ap.add_argument("--pace", type=int, default=5,
                    help="ms each connection waits before a request")
    ap.add_argument("--connections", type=int, default=2)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true",
                    help="show fpmctl -v output of every command")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("bench/reload.py needs root (test users, sockets)")
    seed = args.seed if args.seed is not None else int(time.time())
    start_load = loadavg()
    sb = Sandbox()
    httpds = HttpdFactory()
    try:
        farm = Farm(sb, httpds(), n=10, extra=["rlidle"])
        base, res, chaos, _ = reload_scenario(
            farm, args.seconds, args.baseline_seconds or args.seconds + 5,
            pace_ms=args.pace, connections=args.connections,
            controls=CONTROLS, seed=seed, remove_name="rlidle",
            verbose=args.verbose)
        controls = farm.names[-CONTROLS:]
        print(f"load average at start {start_load}, at end {loadavg()}")
        print(scenario_report(base, res, chaos, controls))
        if args.markdown:
            reloaded = sorted(chaos.reloaded)
            p99r, maxr = group_percentile(res, reloaded, 99)
            p99c, maxc = group_percentile(res, controls, 99)
            print("\n| Run | requests | failed | p50 ms | p99 ms | "
                  "p99.9 ms | max ms |")
            print("|---|---|---|---|---|---|---|")
            print(row("without reloads", base))
            print(row("with reloads", res))
            print(f"\nSame run with reloads: accounts changed "
                  f"({len(reloaded)}) p99 {p99r:.1f} ms, max {maxr:.1f} "
                  f"ms; never changed ({len(controls)}) p99 {p99c:.1f} ms, "
                  f"max {maxc:.1f} ms; {len(chaos.commands('reload'))} "
                  f"reload commands.")
        failed = base.failures() + res.failures() + len(chaos.failed())
        return 1 if failed else 0
    finally:
        sb.close()
        httpds.close()


if __name__ == "__main__":
    sys.exit(main())
