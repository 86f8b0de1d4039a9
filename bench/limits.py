#!/usr/bin/python3
"""Benchmark: what resource limits cost, and how long one scrape of every
account's metrics takes.

In a private sandbox (fpmctl init --prefix, direct mode, the account
groups under a cgroup subtree of its own):

  1. request latency with and without limits: two accounts serving the
     same hello-world script over FastCGI (their own sockets, no httpd),
     one without limits, one with cpu/memory/tasks set far above what it
     uses (cpu=400%, memory=2G, tasks=1000): the cost of being in a
     limited cgroup, not of hitting a limit. Rounds alternate between the
     two; medians and 99th percentiles over all requests, and requests
     per second with 4 client threads.
  2. one scrape of N accounts (default 1000, all running, each with
     limits so usage is read too): `fpmctl status --openmetrics` and
     httpd's `/wlfcgi-status?openmetrics`, each cold (every ondemand
     worker gone: php-fpm forks one per account to answer its status
     page) and warm (right after), --scrapes times each.

Usage: bench/limits.py [--accounts 1000] [--requests 1000] [--rounds 5]
Needs root, build/fpmctl, build/mod_wlfcgi.so and a writable cgroup
hierarchy (cgroup v2 with cpu/memory/pids, or v1 ones).
"""
import argparse
import http.client
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

from wlf import host  # noqa: E402
from wlf.sandbox import Sandbox  # noqa: E402
from wlf.httpd import Httpd  # noqa: E402


def pct(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * p / 100))]


def set_subtree(sb):
    sub = "wlfb_" + uuid.uuid4().hex[:8]
    with open(sb.conf) as f:
        text = f.read()
    text = re.sub(r'(?m)^cgroup_subtree = .*;$', f'cgroup_subtree = "{sub}";',
                  text)
    with open(sb.conf, "w") as f:
        f.write(text)
    return sub


def remove_groups(sub):
    for root in {"/sys/fs/cgroup"} | {os.path.join("/sys/fs/cgroup", d)
                                      for d in os.listdir("/sys/fs/cgroup")}:
        host.remove_cgroup(os.path.join(root, sub))


def latency(sb, args):
    sb.add_account("free", args=["--max-children", "4"])
    sb.add_account("lim", args=["--max-children", "4"])
    r = sb.fpmctl("set", "lim", "cpu=400%", "memory=2G", "tasks=1000")
    if r.rc != 0:
        print(f"cannot set limits here: {r.err.strip()}")
        return
    scripts = {n: sb.write_php(n, "<?php echo 'ok';") for n in
               ("free", "lim")}
    samples = {"free": [], "lim": []}
    rates = {"free": [], "lim": []}
    for n in scripts:                       # warm both
        for _ in range(50):
            sb.request(n, scripts[n])
    for rnd in range(args.rounds):
        order = ("free", "lim") if rnd % 2 == 0 else ("lim", "free")
        for n in order:
            for _ in range(args.requests):
                t0 = time.perf_counter()
                resp = sb.request(n, scripts[n])
                samples[n].append(time.perf_counter() - t0)
                assert resp.status == 200
            done = [0]

            def client():
                for _ in range(args.requests // 4):
                    sb.request(n, scripts[n])
                    done[0] += 1
            ts = [threading.Thread(target=client) for _ in range(4)]
            t0 = time.perf_counter()
            for t in ts:
                t.start()
            for t in ts:
                t.join()
            rates[n].append(done[0] / (time.perf_counter() - t0))
    print(f"latency, {args.rounds} alternating rounds of {args.requests} "
          f"sequential requests per account (FastCGI, hello world):")
    print(f"  {'account':<22} {'median ms':>10} {'p99 ms':>8} "
          f"{'req/s (4 clients)':>18}")
    for n, label in (("free", "no limits"),
                     ("lim", "cpu/memory/tasks set")):
        print(f"  {label:<22} {statistics.median(samples[n]) * 1000:>10.3f} "
              f"{pct(samples[n], 99) * 1000:>8.3f} "
              f"{statistics.median(rates[n]):>18.0f}")
    print(f"  ratio limited/free median latency: "
          f"{statistics.median(samples['lim']) / statistics.median(samples['free']):.3f}")


def scrape(sb, args):
    """N accounts, all running, each with limits."""
    n = args.accounts
    sb.add_account("a00000")
    tmpl = open(sb.account_file("a00000")).read()
    tmpl += 'cpu = "200%";\nmemory = "1G";\ntasks = 200;\n'
    home = sb.accounts["a00000"].home
    names = [f"a{i:05d}" for i in range(1, n)]
    for name in names:
        with open(sb.account_file(name), "w") as f:
            f.write(tmpl.replace('name = "a00000";', f'name = "{name}";'))
        os.chmod(sb.account_file(name), 0o640)
    t0 = time.monotonic()
    r = sb.fpmctl("-q", "start", "--all", timeout=3600)
    print(f"\nscrape: {n} accounts started in {time.monotonic() - t0:.0f} s "
          f"(rc {r.rc}{': ' + r.err.strip()[:200] if r.rc else ''})")
    # A status page is served by a worker: for a pm=ondemand account with
    # no worker left (idle_timeout, 10 s) the scrape makes php-fpm fork
    # one, which then stays idle_timeout seconds. So each scrape is timed
    # cold (every worker gone) and warm (right after the cold one).
    idle = 12

    def fpmctl_scrape():
        r = sb.fpmctl("status", "--openmetrics", timeout=600)
        return r.out

    hroot = tempfile.mkdtemp(prefix="wlfbh", dir="/tmp")
    os.chmod(hroot, 0o755)
    h = Httpd(hroot)
    h.write(f"""WLFcgiConfig {sb.conf}
<Location "/wlfcgi-status">
    SetHandler wlfcgi-status
    Require all granted
</Location>
""")

    def httpd_scrape():
        c = http.client.HTTPConnection("127.0.0.1", h.port, timeout=600)
        c.request("GET", "/wlfcgi-status?openmetrics")
        resp = c.getresponse()
        body = resp.read().decode()
        c.close()
        assert resp.status == 200, resp.status
        return body

    try:
        h.start(timeout=120)
        for label, fn in (("fpmctl status --openmetrics", fpmctl_scrape),
                          ("httpd /wlfcgi-status?openmetrics", httpd_scrape)):
            cold, warm = [], []
            for _ in range(args.scrapes):
                time.sleep(idle)
                load = open("/proc/loadavg").read().split()[0]
                t0 = time.monotonic()
                out = fn()
                cold.append(time.monotonic() - t0)
                t0 = time.monotonic()
                fn()
                warm.append(time.monotonic() - t0)
                up = len(re.findall(r"(?m)^wlfcgi_up.* 1$", out))
                print(f"  {label}: cold {cold[-1]:.2f} s, warm "
                      f"{warm[-1]:.2f} s ({up} of {n} up, "
                      f"{len(out) / 1024:.0f} KiB, load {load})")
            print(f"  {label}: median cold {statistics.median(cold):.2f} s, "
                  f"warm {statistics.median(warm):.2f} s")
    finally:
        h.stop()
        shutil.rmtree(hroot, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=1000)
    ap.add_argument("--requests", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--scrapes", type=int, default=3)
    ap.add_argument("--skip-latency", action="store_true")
    ap.add_argument("--skip-scrape", action="store_true")
    args = ap.parse_args()
    if os.getuid() != 0:
        sys.exit("bench/limits.py needs root")
    for part, skip in ((latency, args.skip_latency),
                       (scrape, args.skip_scrape)):
        if skip:
            continue
        sb = Sandbox(config={"drain_time": 100})
        sub = set_subtree(sb)
        try:
            part(sb, args)
        finally:
            sb.close()
            remove_groups(sub)


if __name__ == "__main__":
    main()
