#!/usr/bin/python3
"""Benchmark: per-account php-fpm instances made by fpmctl.

Measures, in a private sandbox (fpmctl init --prefix, direct mode, the
default cache sizes: OpCache 128M, APCu 32M):

  1. add-account until the socket serves PHP: median of 20 (target 500 ms)
  2. the time to add 200 accounts, one after the other
  3. idle PSS per instance (php-fpm master, no workers left) from
     /proc/PID/smaps_rollup (target 8 MiB), and how much MemAvailable
     dropped per instance (noisy on a shared machine)
  4. reload of one account: median of 10 `fpmctl reload` runs, each until
     the command returned with the new instance serving

Usage: bench/accounts.py [--accounts 200] [--samples 20] [--add-only]
Prints a table; `--markdown` prints the rows for docs/BENCHMARKS.md.
Needs root and build/fpmctl.
"""
import argparse
import os
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

from wlf.loadrun import loadavg  # noqa: E402
from wlf.sandbox import Sandbox, ensure_user, children  # noqa: E402


def pss_kib(pid):
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            if line.startswith("Pss:"):
                return int(line.split()[1])
    return 0


def mem_available_kib():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1])
    return 0


def ms(seconds):
    return seconds * 1000.0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--accounts", type=int, default=200)
    ap.add_argument("--samples", type=int, default=20)
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--add-only", action="store_true",
                    help="only the add-account samples (part 1)")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("accounts.py: needs root (it creates users and instances)")

    load0 = loadavg()
    user = ensure_user("wlft-bench").pw_name
    rows = []
    with Sandbox(config={"drain_time": 100}) as sb:
        home = sb.make_home("bench", user)
        script = os.path.join(home, "hello.php")
        with open(script, "w") as f:
            f.write("<?php echo 'ok';")
        os.chown(script, *pwd_ids(user))

        def add(name):
            r = sb.fpmctl("add-account", name, "--user", user, "--home", home)
            if r.rc != 0:
                sys.exit(f"add-account {name} failed:\n{r}")

        def serves(name):
            return sb.request(name, script).body == b"ok"

        # 1. add-account -> serving
        times = []
        for i in range(args.samples):
            name = f"s{i:03d}"
            t0 = time.monotonic()
            add(name)
            if not serves(name):
                sys.exit(f"{name} does not serve")
            times.append(time.monotonic() - t0)
        med = statistics.median(times)
        rows.append(("add-account until PHP answers (median of %d)"
                     % args.samples, "%.0f ms" % ms(med),
                     "min %.0f, max %.0f ms; target <= 100 ms"
                     % (ms(min(times)), ms(max(times)))))
        for i in range(args.samples):
            sb.fpmctl("remove-account", f"s{i:03d}", "--purge", "--yes")
        if args.add_only:
            args.accounts = 0
            rows.append(("the samples (ms)", "",
                         " ".join("%.0f" % ms(t) for t in times)))
            report(rows, args, load0)
            return

        # 2. 200 accounts, one after the other
        avail0 = mem_available_kib()
        t0 = time.monotonic()
        for i in range(args.accounts):
            add(f"a{i:03d}")
        total = time.monotonic() - t0
        rows.append(("add %d accounts, sequentially" % args.accounts,
                     "%.1f s" % total, "%.0f ms per account"
                     % ms(total / args.accounts)))
        for i in range(0, args.accounts, max(1, args.accounts // 10)):
            if not serves(f"a{i:03d}"):
                sys.exit(f"a{i:03d} does not serve")

        # 3. idle memory: wait until every worker left (idle_timeout 10 s)
        masters = [sb.master_pid(f"a{i:03d}") for i in range(args.accounts)]
        deadline = time.monotonic() + 30
        while any(children(m) for m in masters) and \
                time.monotonic() < deadline:
            time.sleep(0.5)
        left = sum(len(children(m)) for m in masters)
        pss = [pss_kib(m) for m in masters]
        avail1 = mem_available_kib()
        rows.append(("idle PSS per instance (median over %d masters, "
                     "%d workers left)" % (len(pss), left),
                     "%.1f MiB" % (statistics.median(pss) / 1024),
                     "total %.0f MiB; max %.1f MiB; target <= 8 MiB"
                     % (sum(pss) / 1024, max(pss) / 1024)))
        rows.append(("MemAvailable drop per instance",
                     "%.1f MiB" % ((avail0 - avail1) / 1024 / args.accounts),
                     "shared machine: indicative only"))

        # 4. reload of one account
        rl = []
        for _ in range(10):
            time.sleep(0.15)        # the previous drainer holds the lock
            t0 = time.monotonic()
            r = sb.fpmctl("reload", "a000")
            took = time.monotonic() - t0
            if r.rc != 0 or not serves("a000"):
                sys.exit(f"reload failed:\n{r}")
            rl.append(took)
        rows.append(("reload one account (median of 10)",
                     "%.0f ms" % ms(statistics.median(rl)),
                     "min %.0f, max %.0f ms; new instance serving when it "
                     "returns" % (ms(min(rl)), ms(max(rl)))))

    report(rows, args, load0)


def report(rows, args, load0):
    width = max(len(r[0]) for r in rows)
    print("fpmctl account instances (%d accounts, default cache sizes; "
          "load average at start %s, at end %s)"
          % (args.accounts, load0, loadavg()))
    for what, value, note in rows:
        print(f"  {what:<{width}}  {value:>10}  {note}")
    if args.markdown:
        print()
        print("| Measurement | Result | Notes |")
        print("|---|---|---|")
        for what, value, note in rows:
            print(f"| {what} | {value} | {note} |")


def pwd_ids(user):
    import pwd
    pw = pwd.getpwnam(user)
    return pw.pw_uid, pw.pw_gid


if __name__ == "__main__":
    main()
