#!/usr/bin/python3
"""Benchmark: on-demand accounts at 100, 1,000 and 10,000 accounts.

Everything runs in private sandboxes (fpmctl init --prefix, direct mode,
activation = on-demand, default cache sizes) with `fpmctl serve` holding
the sockets. Each account has its own Unix user and group (wlft-NAME) and
home with a hello.php, as on a hosting server (accounts sharing a group
are a problem `check` reports for every pair). Making and removing
10,000 users with useradd/userdel takes the better part of an hour, so
the benchmark runs itself in a private mount namespace (unshare -m) in
which /etc/passwd and /etc/group are copies with these users added: the
host's user database is never touched and nothing is left behind. The
account files are written directly and rendered with `fpmctl rebuild
--all` (timed), so that 10,000 accounts take minutes, not hours.
Sections:

  scale   for each --scales N: serve's start and PSS with N idle accounts
          (everything wlfcgi runs: serve, no php-fpm), the first request
          to an idle account (FastCGI on NAME.sock; --samples random
          accounts) against the next one to the now running master,
          add-account p50, list / status / check, reload --all and
          rebuild --all with every account idle (checked: no php-fpm
          started), and httpd with a vhost per account: apachectl -t and
          the largest httpd child RSS against the same httpd with no
          accounts.
  cap     500 accounts, max_running 100, every account requested once in
          random order by 8 clients at once: every answer 200, and the
          most masters seen at any moment (sampled every 10 ms).
  reload  one on-demand account under wrk load through httpd (2
          connections, 5 ms pace), `fpmctl reload` every 2 s for
          --reload-seconds: failed requests (must be 0).

Usage: bench/ondemand.py [--scales 100,1000] [--samples 50]
                         [--only scale,cap,reload] [--cap-accounts 500]
                         [--max-running 100] [--reload-seconds 30]
                         [--json FILE]
The default (what `./build.sh bench` runs) stops at 1,000 accounts and
takes a few minutes; the full curve, `--scales 100,1000,10000` (or
WLF_BENCH_FULL=1 in the environment, also through ./build.sh bench),
takes about 15 minutes more on a 2-core machine.
Needs root, build/fpmctl and build/mod_wlfcgi.so.
"""
import argparse
import json
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

from wlf.fcgi import fcgi_request  # noqa: E402
from wlf.host import ensure_user, max_rss_kib, pss_kib  # noqa: E402
from wlf.httpd import HttpdFactory  # noqa: E402
from wlf.loadrun import Farm, loadavg, run_wrk  # noqa: E402
from wlf.sandbox import Sandbox  # noqa: E402

HELLO = "<?php echo 'hello';\n"
ACCOUNT = """# wlfcgi account {n}. Managed by fpmctl: change it with `fpmctl set`.
name = "{n}";
user = "{u}";
group = "{g}";
home = "{h}";
domains = [ "{n}.test" ];
"""


def timed(fn):
    t0 = time.monotonic()
    out = fn()
    return time.monotonic() - t0, out


def pct(values, p):
    v = sorted(values)
    if not v:
        return float("nan")
    k = min(len(v) - 1, max(0, int(round(p / 100.0 * (len(v) - 1)))))
    return v[k]


class OdSandbox:
    """A sandbox with N on-demand accounts and fpmctl serve."""

    def __init__(self, n, max_running=None, prefix="b"):
        self.sb = Sandbox(config={"drain_time": 200})
        try:
            self._fill(n, max_running, prefix)
        except BaseException:
            self.sb.close()
            raise

    def _fill(self, n, max_running, prefix):
        self.sb.set_defaults(activation="on-demand")
        if max_running is not None:
            self.sb.set_config(max_running=max_running)
        self.names = [f"{prefix}{i:05d}" for i in range(n)]
        self.homes = {}
        past = time.time() - 60
        for name in self.names:
            pw = ensure_user(f"wlft-{name}")
            home = self.sb.make_home(name, pw.pw_name)
            self.homes[name] = home
            script = os.path.join(home, "hello.php")
            with open(script, "w") as f:
                f.write(HELLO)
            os.chown(script, pw.pw_uid, pw.pw_gid)
            os.utime(script, (past, past))
            with open(self.sb.account_file(name), "w") as f:
                f.write(ACCOUNT.format(n=name, u=pw.pw_name,
                                       g=_group(pw.pw_gid), h=home))
            os.chmod(self.sb.account_file(name), 0o640)
        self.render_s, r = timed(lambda: self.sb.fpmctl(
            "-q", "rebuild", "--all", timeout=3600))
        if r.rc != 0:
            raise RuntimeError(f"rebuild --all failed:\n{r}")

    def start_serve(self):
        t, _ = timed(lambda: self.sb.start_serve(timeout=600))
        return t

    def request(self, name, timeout=30):
        p = {"GATEWAY_INTERFACE": "CGI/1.1", "REQUEST_METHOD": "GET",
             "SCRIPT_FILENAME": os.path.join(self.homes[name], "hello.php"),
             "SCRIPT_NAME": "/hello.php",
             "REQUEST_URI": "/hello.php", "QUERY_STRING": "",
             "SERVER_NAME": f"{name}.test", "SERVER_PORT": "80",
             "REMOTE_ADDR": "127.0.0.1", "SERVER_PROTOCOL": "HTTP/1.1"}
        return fcgi_request(self.sb.socket(name), p, b"", timeout)

    def close(self):
        self.sb.close()


def _group(gid):
    import grp
    return grp.getgrgid(gid).gr_name


# ------------------------------------------------------------------ scale --

def vhosts(sb, names, port):
    out = [f"WLFcgiConfig {sb.conf}\n",
           "StartServers 2\nServerLimit 2\nThreadsPerChild 25\n"
           "MaxRequestWorkers 50\n"]
    for n in names:
        out.append(f"<VirtualHost 127.0.0.1:{port}>\n  ServerName {n}.test\n"
                   f"  DocumentRoot {sb.root}\n</VirtualHost>\n")
    return "".join(out)


def httpd_figures(factory, sb, names):
    """(apachectl -t seconds, largest child RSS KiB) for an httpd with one
    vhost per account."""
    h = factory()
    h.write(vhosts(sb, names, h.port))
    t, (rc, out) = timed(h.configtest)
    if rc != 0:
        raise RuntimeError(f"apachectl -t failed:\n{out[-2000:]}")
    h.start(timeout=300)
    try:
        # both children up (with 10,000 vhosts they take a while)
        deadline = time.monotonic() + 120
        while len(h.children()) < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
        # requests for a file that is not there (404, nothing woken)
        # through the module's per-request path in both children
        rnd = random.Random(7)
        for _ in range(40):
            h.request("/none.txt", host=f"{rnd.choice(names)}.test"
                      if names else "127.0.0.1")
        time.sleep(1.0)
        rss = max_rss_kib(h.children())
    finally:
        h.stop()
    return t, rss


def scale(n, samples, factory, out):
    print(f"--- {n} on-demand accounts (load {loadavg()})", flush=True)
    od = OdSandbox(n)
    row = {"n": n, "render_s": od.render_s}
    try:
        row["serve_start_s"] = od.start_serve()
        time.sleep(0.5)
        row["serve_pss_kib"] = pss_kib(od.sb.serve.pid)
        row["masters_idle"] = len(od.sb.fpm_masters())
        # first request to an idle account vs the next one
        cold, warm, extra = [], [], []
        for name in random.Random(n).sample(od.names, min(samples, n)):
            tc, r1 = timed(lambda: od.request(name))
            tw, r2 = timed(lambda: od.request(name))
            if r1.status != 200 or r2.status != 200 or \
                    r1.body != b"hello":
                raise RuntimeError(f"{name}: {r1} / {r2}")
            cold.append(tc * 1000)
            warm.append(tw * 1000)
            extra.append((tc - tw) * 1000)
        row.update(cold_p50=pct(cold, 50), warm_p50=pct(warm, 50),
                   extra_p50=pct(extra, 50), extra_p99=pct(extra, 99),
                   extra_max=max(extra), samples=len(extra))
        od.sb.stop_serve()
        od.start_serve()        # idle again: the rest starts nothing
        # add-account with N accounts there
        adds = []
        for i in range(20):
            name = f"add{i:02d}"
            user = ensure_user(f"wlft-{name}").pw_name
            home = od.sb.make_home(name, user)
            t, r = timed(lambda: od.sb.fpmctl(
                "add-account", name, "--user", user, "--home", home,
                "--domain", f"{name}.test"))
            if r.rc != 0:
                raise RuntimeError(f"add-account failed:\n{r}")
            adds.append(t * 1000)
        row["add_p50_ms"] = pct(adds, 50)
        row["add_max_ms"] = max(adds)
        for cmd in ("list", "status", "check"):
            t, r = timed(lambda: od.sb.fpmctl(cmd, timeout=3600))
            if r.rc != 0:
                raise RuntimeError(f"{cmd} failed:\n{r.out[-2000:]}"
                                   f"{r.err[-2000:]}")
            row[f"{cmd}_s"] = t
        for cmd in (("reload", "--all"), ("rebuild", "--all")):
            t, r = timed(lambda: od.sb.fpmctl("-q", *cmd, timeout=3600))
            if r.rc != 0:
                raise RuntimeError(f"{cmd} failed:\n{r}")
            row[f"{cmd[0]}_all_s"] = t
        row["masters_after"] = len(od.sb.fpm_masters())
        row["apachectl_t_s"], row["child_rss_kib"] = httpd_figures(
            factory, od.sb, od.names)
    finally:
        od.close()
    out.append(row)
    print(row, flush=True)


def baseline_httpd(factory):
    sb = Sandbox()
    try:
        return httpd_figures(factory, sb, [])
    finally:
        sb.close()


# -------------------------------------------------------------------- cap --

def cap(out, n=500, max_running=100, clients=8):
    print(f"--- {n} accounts, max_running {max_running}, {clients} clients "
          f"(load {loadavg()})", flush=True)
    od = OdSandbox(n, max_running=max_running, prefix="c")
    try:
        od.start_serve()
        order = list(od.names)
        random.Random(500).shuffle(order)
        lock = threading.Lock()
        statuses, times, peak, stop = {}, [], [0], threading.Event()

        def watch():
            while not stop.is_set():
                peak[0] = max(peak[0], len(od.sb.fpm_masters()))
                time.sleep(0.01)

        def client():
            while True:
                with lock:
                    if not order:
                        return
                    name = order.pop()
                try:
                    t, r = timed(lambda: od.request(name, timeout=60))
                    st = r.status
                except OSError as e:
                    t, st = 0, repr(e)
                with lock:
                    statuses[st] = statuses.get(st, 0) + 1
                    times.append(t * 1000)

        w = threading.Thread(target=watch)
        w.start()
        t0 = time.monotonic()
        ts = [threading.Thread(target=client) for _ in range(clients)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        took = time.monotonic() - t0
        stop.set()
        w.join()
        log = od.sb.serve_output()
        row = {"accounts": n, "max_running": max_running,
               "clients": clients, "statuses": statuses,
               "peak_masters": peak[0], "seconds": took,
               "p50_ms": pct(times, 50), "p99_ms": pct(times, 99),
               "max_ms": max(times),
               "lru_stops": log.count("least recently used")}
    finally:
        od.close()
    out.append(row)
    print(row, flush=True)


# ----------------------------------------------------------------- reload --

def reload_under_load(factory, seconds, out):
    print(f"--- reload every 2 s under load, {seconds} s (load {loadavg()})",
          flush=True)
    sb = Sandbox(config={"drain_time": 1000})
    sb.set_defaults(activation="on-demand", idle_stop=0)
    sb.start_serve()
    h = factory()
    try:
        farm = Farm(sb, h, n=1, prefix="rod")
        name = farm.names[0]
        assert farm.get(name).status == 200     # woken up
        reloads = []

        def chaos():
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                time.sleep(2)
                t, r = timed(lambda: sb.fpmctl("reload", name))
                reloads.append((r.rc, t))

        res = run_wrk(farm, seconds + 3, connections=2, pace_ms=5,
                      during=chaos)
        s = res.summary()
        row = {"seconds": seconds, "reloads": len(reloads),
               "reloads_failed": sum(1 for rc, _ in reloads if rc),
               "requests": s["requests"], "failed": s["failures"],
               "p50_ms": s["p50_ms"], "p99_ms": s["p99_ms"],
               "max_ms": s["max_ms"]}
    finally:
        h.stop()
        sb.close()
    out.append(row)
    print(row, flush=True)


# ------------------------------------------------------------- users --

PRIVATE_USERS = "WLF_BENCH_PRIVATE_USERS"
FIRST_ID = 3000000


def bench_users(scales, only, cap_accounts):
    names = [f"wlft-add{i:02d}" for i in range(20)]
    if "scale" in only:
        names += [f"wlft-b{i:05d}" for i in range(max(scales, default=0))]
    if "cap" in only:
        names += [f"wlft-c{i:05d}" for i in range(cap_accounts)]
    if "reload" in only:
        names.append("wlft-rod00")
    return names


def rerun_with_private_users(names, argv=None):
    """Run this script again in a private mount namespace in which /etc is
    a copy whose passwd and group have `names` added (each with its own
    group; nologin, no home). The whole directory, because useradd on the
    host renames a new /etc/passwd into place, which would detach a bind
    mount of the file alone. Returns the exit code."""
    tmp = tempfile.mkdtemp(prefix="wlf-bench-users-")
    try:
        etc = os.path.join(tmp, "etc")
        subprocess.run(["cp", "-a", "/etc", etc], check=True)
        with open(os.path.join(etc, "passwd")) as f:
            passwd = f.read()
        with open(os.path.join(etc, "group")) as f:
            group = f.read()
        have = {line.split(":")[0] for line in passwd.splitlines()}
        taken_ids = set()
        for line in passwd.splitlines() + group.splitlines():
            parts = line.split(":")
            if len(parts) > 2 and parts[2].isdigit():
                taken_ids.add(int(parts[2]))
        uid, pw_add, gr_add = FIRST_ID, [], []
        for name in names:
            if name in have:
                continue
            while uid in taken_ids:
                uid += 1
            pw_add.append(f"{name}:x:{uid}:{uid}:wlfcgi bench:/nonexistent:"
                          "/usr/sbin/nologin\n")
            gr_add.append(f"{name}:x:{uid}:\n")
            uid += 1
        for fn, text, add in (("passwd", passwd, pw_add),
                              ("group", group, gr_add)):
            with open(os.path.join(etc, fn), "a") as f:
                f.write("" if text.endswith("\n") else "\n")
                f.write("".join(add))
        env = dict(os.environ, **{PRIVATE_USERS: tmp})
        script = 'mount --bind "$1" /etc && shift && exec "$@"'
        return subprocess.call(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c",
             script, "sh", etc,
             *(argv or [sys.executable, os.path.abspath(__file__),
                        *sys.argv[1:]])], env=env)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ------------------------------------------------------------------- main --

def markdown(scales, base, caps, reloads):
    lines = []
    if scales:
        lines += ["| accounts | serve PSS | serve start | render (rebuild) "
                  "| first request: extra p50 / p99 / max (cold p50, warm "
                  "p50) | add-account p50 (max) | list | status | check | "
                  "reload --all | rebuild --all | masters after | "
                  "apachectl -t | httpd child RSS (+ vs 0 accounts) |",
                  "|" + "---|" * 14]
        for r in scales:
            lines.append(
                f"| {r['n']:,} | {r['serve_pss_kib'] / 1024:.1f} MiB | "
                f"{r['serve_start_s']:.2f} s | {r['render_s']:.1f} s | "
                f"{r['extra_p50']:.0f} / {r['extra_p99']:.0f} / "
                f"{r['extra_max']:.0f} ms ({r['cold_p50']:.0f}, "
                f"{r['warm_p50']:.1f}; n={r['samples']}) | "
                f"{r['add_p50_ms']:.0f} ms ({r['add_max_ms']:.0f}) | "
                f"{r['list_s']:.2f} s | {r['status_s']:.2f} s | "
                f"{r['check_s']:.2f} s | {r['reload_all_s']:.1f} s | "
                f"{r['rebuild_all_s']:.1f} s | {r['masters_after']} | "
                f"{r['apachectl_t_s']:.2f} s | "
                f"{r['child_rss_kib'] / 1024:.1f} MiB "
                f"(+{(r['child_rss_kib'] - base[1]) / 1024:.1f}) |")
        lines.append(f"\nhttpd with no accounts: apachectl -t "
                     f"{base[0]:.2f} s, child RSS {base[1] / 1024:.1f} MiB")
    for r in caps:
        lines.append(f"\ncap: {r}")
    for r in reloads:
        lines.append(f"\nreload under load: {r}")
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scales", default="100,1000,10000"
                    if os.environ.get("WLF_BENCH_FULL") else "100,1000")
    ap.add_argument("--samples", type=int, default=50)
    ap.add_argument("--only", default="scale,cap,reload")
    ap.add_argument("--reload-seconds", type=int, default=30)
    ap.add_argument("--cap-accounts", type=int, default=500)
    ap.add_argument("--max-running", type=int, default=100)
    ap.add_argument("--json", metavar="FILE",
                    help="also write the results to FILE as JSON")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("ondemand.py: needs root")
    only = set(args.only.split(","))
    scales_n = [int(x) for x in args.scales.split(",") if x]
    if not os.environ.get(PRIVATE_USERS):
        return rerun_with_private_users(
            bench_users(scales_n, only, args.cap_accounts))
    factory = HttpdFactory()
    scales, caps, reloads, base = [], [], [], (0, 0)
    try:
        if "scale" in only:
            base = baseline_httpd(factory)
            print(f"httpd, no accounts: apachectl -t {base[0]:.2f} s, "
                  f"child RSS {base[1]} KiB", flush=True)
            for n in scales_n:
                scale(n, args.samples, factory, scales)
        if "cap" in only:
            cap(caps, args.cap_accounts, args.max_running)
        if "reload" in only:
            reload_under_load(factory, args.reload_seconds, reloads)
    finally:
        factory.close()
    print(markdown(scales, base, caps, reloads))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"httpd_no_accounts": {"apachectl_t_s": base[0],
                                             "child_rss_kib": base[1]},
                       "scale": scales, "cap": caps, "reload": reloads},
                      f, indent=1, default=str)
    bad = [r for r in caps if set(r["statuses"]) != {200} or
           r["peak_masters"] > r["max_running"]]
    bad += [r for r in reloads if r["failed"] or r["reloads_failed"]]
    bad += [r for r in scales if r["masters_after"]]
    return 1 if bad else 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())
