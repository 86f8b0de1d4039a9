#!/usr/bin/python3
"""Benchmark: what an account's OpCache and APCu cost in memory.

One account made by fpmctl in a private sandbox (direct mode, the default
cache sizes: OpCache 128M, APCu 32M). Memory is the PSS of the instance,
the sum over its php-fpm master and workers from /proc/PID/smaps_rollup,
so pages shared between them count once. Steps:

  1. idle master, no worker yet
  2. after one request (one worker, which stays for idle_timeout)
  3. APCu filled with 8, 16 and 24 MiB of random strings: PSS against
     what apcu_sma_info() reports as used
  4. OpCache filled with N generated scripts (included by one request):
     PSS against opcache_get_status()'s used_memory
  5. the caches' shared segments in the master and in the worker: their
     size (reserved) and their RSS (touched)

Usage: bench/caches.py [--scripts 1000] [--markdown]
Needs root and build/fpmctl.
"""
import argparse
import json
import os
import pwd
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

from wlf.host import pss_kib  # noqa: E402
from wlf.loadrun import loadavg  # noqa: E402
from wlf.sandbox import Sandbox, ensure_user, children  # noqa: E402

MIB = 1024 * 1024


def shared_maps(pid):
    """(size KiB, rss KiB) of each anonymous MAP_SHARED mapping of `pid`
    larger than 1 MiB: the OpCache and APCu segments."""
    out = []
    cur = None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            parts = line.split()
            if "-" in parts[0] and len(parts) >= 5 and ":" in parts[3]:
                perms = parts[1]
                name = parts[5] if len(parts) > 5 else ""
                cur = {"shared": perms[3] == "s",
                       "anon": name in ("", "/dev/zero") or
                       name.startswith("/SYSV") or
                       name.startswith("/dev/zero")}
                cur["name"] = name
                out.append(cur)
            elif cur is not None and parts[0] in ("Size:", "Rss:"):
                cur[parts[0][:-1].lower()] = int(parts[1])
    return [(m["size"], m["rss"], m["name"]) for m in out
            if m["shared"] and m.get("size", 0) > 1024]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scripts", type=int, default=1000)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("caches.py: needs root (it creates users and instances)")

    load0 = loadavg()
    user = ensure_user("wlft-bench").pw_name
    pw = pwd.getpwnam(user)
    rows = []
    # idle_timeout long enough that the worker stays for the whole run
    with Sandbox() as sb:
        acct = sb.add_account("cache", user=user,
                              args=["--max-children", "1"])
        sb.fpmctl("set", "cache", "idle_timeout=600", check=True)
        master = sb.master_pid("cache")

        def total_kib():
            pids = [master] + children(master)
            return sum(pss_kib(p) for p in pids), len(pids) - 1

        def php(code):
            r = sb.php("cache", code, timeout=120)
            if r.status != 200:
                sys.exit(f"PHP failed: {r}")
            return r.text

        time.sleep(0.5)
        idle, _ = total_kib()
        rows.append(("idle master, no worker", "%.1f MiB" % (idle / 1024),
                     "PSS of the master"))

        php("<?php echo 'ok';")
        one, workers = total_kib()
        rows.append(("after one request (%d worker)" % workers,
                     "%.1f MiB" % (one / 1024),
                     "master + worker; +%.1f MiB" % ((one - idle) / 1024)))

        # ---- APCu
        fill = """<?php
$n = (int)$_GET['n'];
for ($i = 0; $i < $n; $i++) {
    apcu_store("blob$i", random_bytes(%d));
}
$s = apcu_sma_info(true);
echo json_encode(['used' => $s['num_seg'] * $s['seg_size'] - $s['avail_mem'],
                  'size' => $s['num_seg'] * $s['seg_size']]);
""" % (MIB - 4096)
        base, _ = total_kib()
        base_used = json.loads(php(fill.replace("(int)$_GET['n']", "0")))
        for mib in (8, 16, 24):
            info = json.loads(php(fill.replace("(int)$_GET['n']", str(mib))))
            now, _ = total_kib()
            rows.append(("APCu holding %d MiB of strings" % mib,
                         "+%.1f MiB" % ((now - base) / 1024),
                         "apcu_sma_info used %.1f MiB of %.0f MiB"
                         % ((info["used"] - base_used["used"]) / MIB,
                            info["size"] / MIB)))
        after_apcu, _ = total_kib()

        # ---- OpCache
        d = os.path.join(acct.home, "lib")
        os.makedirs(d, exist_ok=True)
        past = time.time() - 60
        for i in range(args.scripts):
            p = os.path.join(d, f"s{i}.php")
            body = "".join(
                f"    public function m{j}($a) {{ return str_repeat("
                f"'{i}-{j}', 3) . strtoupper($a) . {j * i}; }}\n"
                for j in range(20))
            with open(p, "w") as f:
                f.write(f"<?php\nclass C{i} {{\n{body}}}\n")
            os.chown(p, pw.pw_uid, pw.pw_gid)
            os.utime(p, (past, past))
        src = sum(os.path.getsize(os.path.join(d, f)) for f in os.listdir(d))
        status = """<?php
%s
$s = opcache_get_status(false);
echo json_encode(['used' => $s['memory_usage']['used_memory'],
                  'scripts' => $s['opcache_statistics']['num_cached_scripts'],
                  'size' => (int)ini_get('opcache.memory_consumption')]);
"""
        before = json.loads(php(status % ""))
        incl = "foreach (glob(__DIR__ . '/lib/s*.php') as $f) include $f;"
        info = json.loads(php(status % incl))
        # a second pass: everything from the cache
        info = json.loads(php(status % incl))
        now, _ = total_kib()
        used = (info["used"] - before["used"]) / MIB
        rows.append(("OpCache holding %d scripts (%.1f MiB of source)"
                     % (info["scripts"] - before["scripts"], src / MIB),
                     "+%.1f MiB" % ((now - after_apcu) / 1024),
                     "opcache used_memory +%.1f MiB of %d MiB; %.1f KiB "
                     "per script" % (used, info["size"],
                                     used * 1024 / max(1, args.scripts))))

        # ---- the segments: reserved by the master, touched by workers
        for who, pid in (("master", master),
                         ("worker", children(master)[0])):
            for size, rss, name in sorted(shared_maps(pid), reverse=True):
                rows.append(("shared segment of %.0f MiB, in the %s"
                             % (size / 1024, who),
                             "%.1f MiB RSS" % (rss / 1024),
                             "anonymous MAP_SHARED (%s)" % name))
        total, workers = total_kib()
        rows.append(("instance at the end (%d worker)" % workers,
                     "%.1f MiB" % (total / 1024), "PSS, master + worker"))

    width = max(len(r[0]) for r in rows)
    print("account caches (OpCache 128M, APCu 32M; load average at start "
          "%s, at end %s)" % (load0, loadavg()))
    for what, value, note in rows:
        print(f"  {what:<{width}}  {value:>14}  {note}")
    if args.markdown:
        print()
        print("| Measurement | Result | Notes |")
        print("|---|---|---|")
        for what, value, note in rows:
            print(f"| {what} | {value} | {note} |")


if __name__ == "__main__":
    main()
