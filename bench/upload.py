#!/usr/bin/python3
"""Benchmark: large uploads through mod_wlfcgi, a stock httpd and nginx.

A PUT with a Content-Length, sent by `curl -T` from a real file of SIZE
MiB that sits in the page cache (written once, read once before the
first round; not sparse), to a PHP script that copies php://input to a
file (stream_copy_to_stream) and answers with the byte count. PHP itself
spools the body first (php://input), so the body is written to disk
twice in every set-up. The set-ups (bench/hosting.py):

  wlfcgi          httpd with mod_wlfcgi, account wlf
  stock           httpd without the module, FilesMatch SetHandler,
                  account stock
  nginx           nginx, client_max_body_size 0,
                  fastcgi_request_buffering off, account stock
  nginx-buffered  the same with nginx's default, request buffering on:
                  nginx reads the whole body (into a temporary file)
                  before it contacts FPM

Both accounts are made by fpmctl with its defaults (pm = ondemand) and
--max-upload of the body size (post_max_size in the pool, the module's
limit). With wlfcgi.conf's default upload_min_rate (1M) a body over 30
MiB is one a slow client could take longer than 30 s to send: the module
reads its first 16 MiB into a spool and streams the rest only if the
client sends it within the 30 s at the pace seen so far (else it reads
the whole body first, as nginx-buffered does), so that no PHP worker
waits long for a slow client; --stream raises upload_min_rate so that
every body is streamed, as with nginx unbuffered. Rounds are interleaved
(each starts with the next set-up); each prints MiB/s, the web server's
CPU seconds per GiB (user + system of all its processes), PHP's, how
often per GiB each side blocked (voluntary context switches: PHP waiting
for data, the server for room or for the client), and the largest web
server process' RSS (sampled every 100 ms) with its growth over the idle
value; then the medians and ratios.

Usage: bench/upload.py [--size MIB] [--rounds N] [--static] [--stream]
                       [--configs wlfcgi,stock,nginx,nginx-buffered]
  --static   pm = static, max_children 8 for both accounts (tuned)
  --stream   upload_min_rate 1G in wlfcgi.conf: the module streams bodies
             up to 30 GiB
Needs root and a build (make all).
"""
import argparse
import os
import subprocess
import sys
import threading
import time

from hosting import (Hosting, cpu_seconds, loadavg, log, median, ratio,
                     rss_kib, waits)
from wlf.php import SINK  # noqa: E402  (hosting put tests/ on the path)


CONFIGS = ("wlfcgi", "stock", "nginx", "nginx-buffered")


def make_source(path, mib):
    """A real file of `mib` MiB (no holes), read once so that it is in
    the page cache."""
    chunk = bytes(range(256)) * 4096         # 1 MiB, not all zeros
    with open(path, "wb") as f:
        for _ in range(mib):
            f.write(chunk)
    with open(path, "rb") as f:
        while f.read(1 << 22):
            pass


class RssSampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0, False

    def run(self):
        while not self.stop:
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=2048, help="MiB")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--static", action="store_true")
    ap.add_argument("--stream", action="store_true")
    ap.add_argument("--configs", default=",".join(CONFIGS))
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("upload.py: needs root")
    configs = args.configs.split(",")
    size = args.size * 1024 * 1024
    limit = f"{args.size + 1024}M"
    log(f"load average at start: {loadavg()}")
    h = Hosting(account_args=("--max-upload", limit),
                scripts={"sink.php": SINK}, static=False,
                config={"upload_min_rate": "1G"} if args.stream else None)
    try:
        if args.static:
            h.tune("pm=static", "max_children=8")
        h.start(nginx_http="client_max_body_size 0;",
                nginx_location=f"fastcgi_pass unix:{h.sb.socket('stock')};"
                               " fastcgi_request_buffering off;")
        src = os.path.join(h.work, "body.bin")
        make_source(src, args.size)
        small = os.path.join(h.work, "small.bin")
        with open(small, "wb") as f:
            f.write(b"x" * 1000)
        url = {"wlfcgi": (h.module.port, "wlf.bench", "/sink.php"),
               "stock": (h.stock.port, "stock.bench", "/sink.php"),
               "nginx": (h.nginx.port, "localhost", "/sink.php"),
               "nginx-buffered": (h.nginx.port, "localhost",
                                  "/buffered/sink.php")}
        server = {"wlfcgi": h.module, "stock": h.stock, "nginx": h.nginx,
                  "nginx-buffered": h.nginx}
        acct = {"wlfcgi": "wlf", "stock": "stock", "nginx": "stock",
                "nginx-buffered": "stock"}

        def put(c, path):
            port, vhost, script = url[c]
            r = subprocess.run(
                ["curl", "-s", "-T", path, "-H", "Expect:", "-H",
                 f"Host: {vhost}", "-w", "\n%{http_code}",
                 f"http://127.0.0.1:{port}{script}"],
                capture_output=True, text=True, timeout=3600)
            lines = r.stdout.strip().split("\n")
            return lines[-1], lines[0]

        for c in configs:
            code, got = put(c, small)
            if code != "200" or got != "1000":
                sys.exit(f"{c}: {code} {got!r}")
        log(f"{args.size} MiB PUT from a file in the page cache; pm = "
            f"{h.settings('wlf')['pm']}, max_children "
            f"{h.settings('wlf')['max_children']}; mod_wlfcgi "
            + ("streams the body" if args.stream else
               "spools 16 MiB, streams the rest if the client keeps pace "
               "(upload_min_rate 1M)"))
        res = {c: {"mibs": [], "cpu": [], "php": [], "peak": [],
                   "grow": [], "sw": [], "pw": []} for c in configs}
        for rnd in range(1, args.rounds + 1):
            # each round starts with the next set-up: none always runs
            # right after the same one
            k = (rnd - 1) % len(configs)
            for c in configs[k:] + configs[:k]:
                spid = server[c].pid
                fpm = h.fpm_master(acct[c])
                idle = rss_kib(spid)
                sampler = RssSampler(spid)
                sampler.start()
                c0, p0 = cpu_seconds(spid), cpu_seconds(fpm)
                w0, v0 = waits(spid), waits(fpm)
                t0 = time.monotonic()
                code, got = put(c, src)
                t1 = time.monotonic()
                c1, p1 = cpu_seconds(spid), cpu_seconds(fpm)
                w1, v1 = waits(spid), waits(fpm)
                sampler.stop = True
                sampler.join()
                if code != "200" or got != str(size):
                    sys.exit(f"{c}: status {code}, PHP got {got!r} of "
                             f"{size}")
                gib = size / (1 << 30)
                r = res[c]
                r["mibs"].append(args.size / (t1 - t0))
                r["cpu"].append((c1 - c0) / gib)
                r["php"].append((p1 - p0) / gib)
                r["sw"].append((w1 - w0) / gib)
                r["pw"].append((v1 - v0) / gib)
                peak = max(sampler.peak, idle)
                r["peak"].append(peak)
                r["grow"].append(peak - idle)
                log(f"round {rnd}  {c:14s} {r['mibs'][-1]:7.1f} MiB/s "
                    f"{t1 - t0:6.1f} s  server CPU {r['cpu'][-1]:5.2f} "
                    f"s/GiB  PHP CPU {r['php'][-1]:5.2f} s/GiB  waits/GiB "
                    f"server {r['sw'][-1]:.0f} PHP {r['pw'][-1]:.0f}  peak RSS "
                    f"{peak} KiB (+{peak - idle})  load {loadavg()}")
        log(f"\n== medians over {args.rounds} rounds")
        med = {}
        for c in configs:
            r = res[c]
            med[c] = median(r["mibs"])
            log(f"{c:14s} {med[c]:7.1f} MiB/s  ("
                + " / ".join(f"{x:.1f}" for x in r["mibs"])
                + f")  server CPU {median(r['cpu']):.2f} s/GiB  PHP CPU "
                f"{median(r['php']):.2f} s/GiB  waits/GiB server "
                f"{median(r['sw']):.0f} PHP {median(r['pw']):.0f}  peak RSS "
                f"{median(r['peak']):.0f} KiB, growth max "
                f"{max(r['grow'])} KiB")
        log("")
        if "nginx" in med and "wlfcgi" in med:
            log(f"mod_wlfcgi / nginx unbuffered : "
                f"{ratio(med['wlfcgi'], med['nginx']):.2f}  (target >= 1.00)")
            log(f"server CPU per GiB, mod_wlfcgi / nginx : "
                f"{ratio(median(res['wlfcgi']['cpu']), median(res['nginx']['cpu'])):.2f}"
                "  (target <= 1.00)")
        if "nginx-buffered" in med and "wlfcgi" in med:
            log(f"mod_wlfcgi / nginx buffered   : "
                f"{ratio(med['wlfcgi'], med['nginx-buffered']):.2f}")
        if "stock" in med and "wlfcgi" in med:
            log(f"mod_wlfcgi / stock SetHandler : "
                f"{ratio(med['wlfcgi'], med['stock']):.2f}")
        log(f"load average at end: {loadavg()}")
    finally:
        h.close()


if __name__ == "__main__":
    main()
