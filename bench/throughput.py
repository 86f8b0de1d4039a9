#!/usr/bin/python3
"""Benchmark: hello-world PHP throughput, mod_wlfcgi against stock set-ups.

Two accounts made by fpmctl with identical settings (bench/hosting.py):
`wlf`, served by an httpd with mod_wlfcgi, and `stock`, served by a
second httpd without the module (FilesMatch SetHandler
"proxy:unix:...|fcgi://localhost") and by nginx. Both httpds run the same
MPM settings (--mpm: "bench" = mpm_event, 2 processes x 32 threads, all
started; "debian" = the distribution's mpm_event.conf). The script is
<?php echo 'ok'; and the static file holds 2 bytes.

Two phases, each with its rounds interleaved over the set-ups (each
round starts with the next one):

  default  the accounts as `fpmctl add-account` makes them (pm = ondemand,
           max_children 5); nginx with a plain fastcgi_pass (a new
           connection per request, what goes with ondemand pools)
  tuned    `fpmctl set pm=static max_children=N` for both accounts (the
           module's httpd restarted gracefully to read it); nginx with
           `upstream { keepalive 16; }` and fastcgi_keep_conn on

wrk -t2 -c32 runs each set-up for SECONDS after a 2 s warm-up per phase;
client and servers share the machine's cores. Per set-up and round:
req/s, latency p50/p99, and the CPU time per request of the web server
(all its processes), of PHP (the account's master and workers, reaped
ones included) and of wrk, from /proc/PID/stat and os.times(). Then the
medians and the ratios of the medians.

Usage: bench/throughput.py [--seconds 10] [--rounds 5] [--mpm bench]
                           [--children 72] [--phases default,tuned]
Needs root and a build (make all).
"""
import argparse
import os
import sys
import threading
import time
import urllib.request

from hosting import (Hosting, cpu_seconds, loadavg, log, median, ratio, wrk)
from wlf.php import HELLO  # noqa: E402  (hosting put tests/ on the path)


def conns_to(sock_paths):
    """Inodes of the connected FPM-side sockets of these listening paths
    (/proc/net/unix: state 03, the path carried by accepted sockets)."""
    out = set()
    with open("/proc/net/unix") as f:
        next(f)
        for line in f:
            p = line.split()
            if len(p) >= 8 and p[5] == "03" and p[7] in sock_paths:
                out.add(p[6])
    return out


def get(port, host, path):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                 headers={"Host": host})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read().decode()


def run_phase(h, name, configs, args):
    url = {"wlfcgi": (h.module, "wlf.bench", "/hello.php"),
           "stock": (h.stock, "stock.bench", "/hello.php"),
           "nginx": (h.nginx, "localhost", "/hello.php"),
           "static": (h.module, "wlf.bench", "/hello.txt")}
    pool = {"wlfcgi": "wlf", "stock": "stock", "nginx": "stock",
            "static": None}
    slots = [os.path.join(h.sb.paths["sockets"], f"wlf.{s}.sock")
             for s in "ab"]
    s = h.settings("wlf")
    log(f"\n== phase {name}: pm = {s['pm']}, max_children "
        f"{s['max_children']} (both accounts); load {loadavg()}")
    for c in configs:
        srv, host, path = url[c]
        body = get(srv.port, host, path)
        if body != "ok":
            sys.exit(f"{c} answered {body!r}")
    for c in configs:
        srv, host, path = url[c]
        wrk(f"http://127.0.0.1:{srv.port}{path}", host, 2)
    res = {c: {"rps": [], "ws": [], "php": [], "cli": []} for c in configs}
    for rnd in range(1, args.rounds + 1):
        # each round starts with the next set-up: none always runs right
        # after the same one
        k = (rnd - 1) % len(configs)
        for c in configs[k:] + configs[:k]:
            srv, host, path = url[c]
            fpm = h.fpm_master(pool[c]) if pool[c] else None
            samples = []
            if c == "wlfcgi":
                def sample(at):
                    time.sleep(at)
                    samples.append(conns_to(slots))
                ts = [threading.Thread(target=sample,
                                       args=(args.seconds * k / 3,))
                      for k in (1, 2)]
                for t in ts:
                    t.start()
            w0 = cpu_seconds(srv.pid)
            p0 = cpu_seconds(fpm) if fpm else 0
            rps, reqs, errs, p50, p99, cli = wrk(
                f"http://127.0.0.1:{srv.port}{path}", host, args.seconds)
            w1 = cpu_seconds(srv.pid)
            p1 = cpu_seconds(fpm) if fpm else 0
            note = ""
            if c == "wlfcgi":
                for t in ts:
                    t.join()
                note = (f"  FastCGI conns {len(samples[0])}/"
                        f"{len(samples[1])}, same in both "
                        f"{len(samples[0] & samples[1])}")
            r = res[c]
            r["rps"].append(rps)
            r["ws"].append((w1 - w0) / reqs * 1e6)
            r["php"].append((p1 - p0) / reqs * 1e6)
            r["cli"].append(cli / reqs * 1e6)
            log(f"round {rnd}  {c:7s} {rps:9.0f} req/s  p50 {p50:>7s} "
                f"p99 {p99:>7s}  CPU/req: server {r['ws'][-1]:4.0f} us, "
                f"php {r['php'][-1]:4.0f} us, wrk {r['cli'][-1]:3.0f} us"
                f"{note}  {errs}  load {loadavg()}")
    log(f"\n-- phase {name}: medians over {args.rounds} rounds of "
        f"{args.seconds} s (wrk -t2 -c32)")
    log("| set-up | req/s (median) | the rounds | server CPU/req | "
        "PHP CPU/req | wrk CPU/req |")
    log("|---|---|---|---|---|---|")
    med = {}
    for c in configs:
        r = res[c]
        med[c] = median(r["rps"])
        log(f"| {c} | {med[c]:.0f} | "
            + " / ".join(f"{x:.0f}" for x in r["rps"])
            + f" | {median(r['ws']):.0f} us | {median(r['php']):.0f} us | "
            f"{median(r['cli']):.0f} us |")
    log("")
    if "stock" in med:
        log(f"mod_wlfcgi / stock SetHandler : "
            f"{ratio(med['wlfcgi'], med['stock']):.2f}")
        tot = {c: median(res[c]["ws"]) + median(res[c]["php"])
               for c in ("wlfcgi", "stock")}
        log(f"server + PHP CPU per request, mod_wlfcgi / stock : "
            f"{ratio(tot['wlfcgi'], tot['stock']):.2f}")
    if "nginx" in med:
        log(f"mod_wlfcgi / nginx          : "
            f"{ratio(med['wlfcgi'], med['nginx']):.2f}")
    if "static" in med:
        log(f"mod_wlfcgi / httpd static   : "
            f"{ratio(med['wlfcgi'], med['static']):.2f}")
    return med


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--mpm", default="bench", choices=("bench", "debian"))
    ap.add_argument("--children", type=int, default=72,
                    help="max_children of the tuned phase")
    ap.add_argument("--phases", default="default,tuned")
    ap.add_argument("--configs", default="wlfcgi,stock,nginx,static")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("throughput.py: needs root")
    configs = args.configs.split(",")
    phases = args.phases.split(",")
    log(f"load average at start: {loadavg()}")
    h = Hosting(mpm=args.mpm, scripts={"hello.php": HELLO})
    try:
        h.start()
        summary = {}
        for ph in phases:
            if ph == "tuned":
                h.tune("pm=static", f"max_children={args.children}")
                h.nginx.write(
                    h.docroot["stock"],
                    f"upstream php {{ server unix:{h.sb.socket('stock')}; "
                    "keepalive 16; }",
                    "fastcgi_pass php; fastcgi_keep_conn on;")
                h.nginx.reload()
            summary[ph] = run_phase(h, ph, configs, args)
        log("\n== summary: mod_wlfcgi / stock (median req/s)")
        for ph, med in summary.items():
            if "stock" in med:
                log(f"{ph:8s} {ratio(med['wlfcgi'], med['stock']):.2f}  "
                    f"({med['wlfcgi']:.0f} / {med['stock']:.0f} req/s)")
        log(f"load average at end: {loadavg()}")
    finally:
        h.close()


if __name__ == "__main__":
    main()
