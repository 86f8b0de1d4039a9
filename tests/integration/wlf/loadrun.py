"""Load and chaos for the reliability tests and bench/reload.sh.

A `Farm` is N accounts made with fpmctl in a Sandbox, each with a docroot
and a vhost on one real httpd with mod_wlfcgi (the Httpd harness). Its
`who.php` answers the Unix user PHP ran as, so a response can be checked
against the vhost it was sent to.

`run_wrk()` runs one wrk process per vhost (one thread, a few
connections), so every count is per account: requests, non-2xx answers,
bodies naming the wrong user, socket errors (connect, read, write,
timeout). Each wrk hands its full latency histogram (1 us buckets) to a
Lua `done()`, so the percentiles over all vhosts are exact, not averages
of per-process percentiles.

`Chaos` runs fpmctl against the sandbox while the load runs: `reload` of
random accounts every `period` seconds, one `set`, one `add-account` and
one `remove-account` of an account that gets no traffic, each timed and
checked.
"""
import json
import os
import pwd
import random
import shutil
import subprocess
import tempfile
import time

from .host import ensure_user, install

WRK = shutil.which("wrk") or "/usr/bin/wrk"

WHO_PHP = "<?php echo posix_getpwuid(posix_geteuid())['name'];\n"

# One wrk thread: count non-2xx and wrong bodies in response(), print
# one JSON line with the counts, wrk's error counters and the latency
# histogram (value, count pairs in microseconds) in done().
WRK_LUA = r"""
expected = nil
non2xx = 0
bad_body = 0
threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    expected = args[1]
end

function response(status, headers, body)
    if status < 200 or status > 299 then
        non2xx = non2xx + 1
    elseif body ~= expected then
        bad_body = bad_body + 1
    end
end

@DELAY@
function done(summary, latency, requests)
    local n, b = 0, 0
    for _, t in ipairs(threads) do
        n = n + t:get("non2xx")
        b = b + t:get("bad_body")
    end
    local e = summary.errors
    io.write(string.format('WLFRESULT {"requests": %d, "duration_us": %d, '
        .. '"non2xx": %d, "bad_body": %d, "connect": %d, "read": %d, '
        .. '"write": %d, "status": %d, "timeout": %d, "hist": [',
        summary.requests, summary.duration, n, b, e.connect, e.read,
        e.write, e.status, e.timeout))
    for i = 1, #latency do
        local v, c = latency(i)
        if i > 1 then io.write(",") end
        io.write(string.format("[%d,%d]", v, c))
    end
    io.write("]}\n")
end
"""


def _docroot(home):
    return os.path.join(home, "www")


def install_php(home, user, name, text):
    """Write a script into HOME/www (NAME may have one directory in
    front), owned by the account's user, with an
    mtime in the past (OPcache caches fresh files only after a while)."""
    d = _docroot(home)
    pw = pwd.getpwnam(user)
    path = os.path.join(d, name)
    for sub in dict.fromkeys((d, os.path.dirname(path))):
        os.makedirs(sub, exist_ok=True)
        os.chown(sub, pw.pw_uid, pw.pw_gid)
    return install(path, text, user, backdate=True)


class Farm:
    """N accounts (NAME = prefix + number, user wlft-NAME, domain
    NAME.test) plus `extra` accounts that get a vhost but no load, and an
    httpd with one vhost per account."""

    def __init__(self, sandbox, httpd, n=10, prefix="rl", extra=(),
                 scripts=None):
        self.sb = sandbox
        self.httpd = httpd
        self.names = [f"{prefix}{i:02d}" for i in range(n)]
        self.extra = list(extra)
        scripts = dict(scripts or {})
        scripts.setdefault("who.php", WHO_PHP)
        for name in self.names + self.extra:
            acct = sandbox.add_account(name, domains=[f"{name}.test"])
            for fn, text in scripts.items():
                install_php(acct.home, acct.user, fn, text)
        httpd.write(self.vhosts())
        httpd.start()

    def user(self, name):
        return self.sb.accounts[name].user

    def host(self, name):
        return f"{name}.test"

    # more httpd threads than wrk connections, all started at once: the
    # event MPM closes kept-alive connections while all its threads are
    # busy (wrk counts each as a read error), and spawning a process
    # under load would show up as latency
    MPM = ("StartServers 2\nServerLimit 2\nThreadsPerChild 32\n"
           "MaxRequestWorkers 64\nMinSpareThreads 16\nMaxSpareThreads 64\n")

    def vhosts(self):
        port = self.httpd.port
        out = [self.MPM, f"WLFcgiConfig {self.sb.conf}\n"]
        for name in self.names + self.extra:
            root = _docroot(self.sb.accounts[name].home)
            out.append(f"""
<VirtualHost 127.0.0.1:{port}>
  ServerName {name}.test
  DocumentRoot {root}
  <Directory {root}>
    AllowOverride None
    Require all granted
  </Directory>
</VirtualHost>
""")
        return "".join(out)

    def get(self, name, path="/who.php", **kw):
        return self.httpd.get(path, host=self.host(name), **kw)


# ------------------------------------------------------------------ wrk --

class WrkResult:
    """Per-account counts and the merged latency histogram of one run."""

    def __init__(self, per_account, seconds):
        self.per_account = per_account      # name -> dict (see WRK_LUA)
        self.seconds = seconds
        hist = {}
        for r in per_account.values():
            for v, c in r["hist"]:
                hist[v] = hist.get(v, 0) + c
        self.hist = sorted(hist.items())

    @property
    def requests(self):
        return sum(r["requests"] for r in self.per_account.values())

    def failures(self, name=None):
        """non-2xx + wrong bodies + socket errors (of one account)."""
        rows = [self.per_account[name]] if name else \
            self.per_account.values()
        return sum(r["non2xx"] + r["bad_body"] + r["connect"] + r["read"] +
                   r["write"] + r["timeout"] for r in rows)

    def percentile(self, p):
        """Latency percentile over every request of every vhost, ms."""
        total = sum(c for _, c in self.hist)
        if not total:
            return None
        want = total * p / 100.0
        seen = 0
        for v, c in self.hist:
            seen += c
            if seen >= want:
                return v / 1000.0
        return self.hist[-1][0] / 1000.0

    @property
    def max_ms(self):
        return self.hist[-1][0] / 1000.0 if self.hist else None

    def summary(self):
        return {
            "requests": self.requests,
            "req_per_s": round(self.requests / self.seconds, 1),
            "failures": self.failures(),
            "p50_ms": self.percentile(50),
            "p99_ms": self.percentile(99),
            "p999_ms": self.percentile(99.9),
            "max_ms": self.max_ms,
        }

    def table(self):
        """One line per account, for reports and assertion messages."""
        lines = ["account  requests  non2xx  bad_body  connect  read  "
                 "write  timeout"]
        for name, r in sorted(self.per_account.items()):
            lines.append(f"{name:8} {r['requests']:9} {r['non2xx']:7} "
                         f"{r['bad_body']:9} {r['connect']:8} {r['read']:5} "
                         f"{r['write']:6} {r['timeout']:8}")
        return "\n".join(lines)


def run_wrk(farm, seconds, connections=2, timeout=10, during=None,
            pace_ms=0, names=None):
    """One wrk per vhost of `farm.names` for `seconds`; `during()` (if
    given) runs in this thread meanwhile; `names`: only these accounts'
    vhosts. pace_ms: each connection waits
    that long before each request (an offered load below saturation, so
    that latency is not just queueing); 0: as fast as possible.
    Returns a WrkResult."""
    tmp = tempfile.mkdtemp(prefix="wlfw", dir="/tmp")
    try:
        lua = os.path.join(tmp, "count.lua")
        delay = (f"function delay()\n    return {int(pace_ms)}\nend\n"
                 if pace_ms else "")
        with open(lua, "w") as f:
            f.write(WRK_LUA.replace("@DELAY@", delay))
        procs = {}
        for name in names or farm.names:
            procs[name] = subprocess.Popen(
                [WRK, "-t1", f"-c{connections}", f"-d{seconds}s",
                 f"--timeout={timeout}s", "-s", lua,
                 "-H", f"Host: {farm.host(name)}",
                 f"http://127.0.0.1:{farm.httpd.port}/who.php",
                 "--", farm.user(name)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        t0 = time.monotonic()
        try:
            if during:
                during()
        finally:
            results = {}
            for name, p in procs.items():
                out, err = p.communicate(timeout=seconds + timeout + 60)
                line = [ln for ln in out.splitlines()
                        if ln.startswith("WLFRESULT ")]
                if p.returncode != 0 or not line:
                    raise RuntimeError(f"wrk for {name} failed "
                                       f"(rc {p.returncode}):\n{out}\n{err}")
                results[name] = json.loads(line[0][len("WLFRESULT "):])
        elapsed = max(r["duration_us"] for r in results.values()) / 1e6
        return WrkResult(results, elapsed or (time.monotonic() - t0))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- chaos --

class Chaos:
    """fpmctl changes while the load runs, for `seconds`: every `period`
    seconds `fpmctl reload` of 1-3 random accounts of `targets`; at 15 %,
    35 % and 55 % of the run one `fpmctl set` of a target (under load),
    one `add-account` (`add_name`, a new account) and one `remove-account`
    (`remove_name`, an account without load). fpmctl commands never
    overlap (they would wait for each other's lock anyway). No reload
    starts in the last `period` / 2 seconds. Every command's start and
    end time (s since the start), rc, duration and output is kept in
    `self.log`."""

    def __init__(self, farm, seconds, targets=None, period=2.0, seed=None,
                 add_name="rladd", remove_name=None, verbose=False):
        self.farm = farm
        self.sb = farm.sb
        self.seconds = seconds
        self.targets = list(targets or farm.names)
        self.period = period
        self.seed = seed if seed is not None else int(time.time())
        self.rnd = random.Random(self.seed)
        self.add_name = add_name
        self.remove_name = remove_name
        self.set_name = None
        self.log = []           # (start, end, args, rc, ms, output)
        self.reloaded = set()
        self.verbose = verbose

    def _run(self, t0, *args):
        t = time.monotonic()
        r = self.sb.fpmctl(*(("-v",) if self.verbose else ()), *args)
        end = time.monotonic()
        self.log.append((round(t - t0, 2), round(end - t0, 2), args, r.rc,
                         round((end - t) * 1000.0),
                         (r.out + r.err).strip()))
        return r

    def __call__(self):
        t0 = time.monotonic()
        plan = [(i * self.period, "reload")
                for i in range(1, int(self.seconds / self.period) + 1)
                if i * self.period <= self.seconds - self.period / 2]
        plan += [(self.seconds * 0.15, "set"), (self.seconds * 0.35, "add"),
                 (self.seconds * 0.55, "remove")]
        plan.sort()
        for k, (at, what) in enumerate(plan):
            now = time.monotonic() - t0
            if what == "reload":
                # commands take longer on a busy machine: a reload that is
                # already overdue for the next event is left out, so that
                # the set/add/remove still happen while the load runs
                if now > self.seconds - self.period / 2 or (
                        k + 1 < len(plan) and plan[k + 1][0] <= now):
                    continue
            if at > now:
                time.sleep(at - now)
            if what == "reload":
                picked = self.rnd.sample(self.targets, self.rnd.randint(
                    1, min(3, len(self.targets))))
                self.reloaded.update(picked)
                self._run(t0, "reload", *picked)
            elif what == "set":
                self.set_name = self.rnd.choice(self.targets)
                self.reloaded.add(self.set_name)    # set starts a new master
                self._run(t0, "set", self.set_name, "max_children=7",
                          "php_admin.memory_limit=96M")
            elif what == "add":
                user = ensure_user(f"wlft-{self.add_name}")
                home = self.sb.make_home(self.add_name, user.pw_name)
                self._run(t0, "add-account", self.add_name, "--user",
                          user.pw_name, "--home", home)
                self.sb.register_account(self.add_name, user.pw_name, home)
            elif what == "remove" and self.remove_name:
                self._run(t0, "remove-account", self.remove_name, "--yes")
        rest = t0 + self.seconds - time.monotonic()
        if rest > 0:
            time.sleep(rest)

    def failed(self):
        return [e for e in self.log if e[3] != 0]

    def commands(self, verb):
        return [e for e in self.log if e[2][0] == verb]

    def report(self):
        return "\n".join(
            f"t={t:6.2f}-{end:6.2f}s fpmctl {' '.join(a)} -> rc {rc} in "
            f"{ms} ms" + (f": {out}" if rc or self.verbose else "")
            for t, end, a, rc, ms, out in self.log)


# ------------------------------------------------------------- scenario --

def group_percentile(result, names, p):
    """Latency percentile (ms) over the requests of some accounts."""
    sub = WrkResult({n: result.per_account[n] for n in names},
                    result.seconds)
    return sub.percentile(p), sub.max_ms


def reload_scenario(farm, seconds, baseline_seconds, pace_ms=5,
                    connections=2, controls=2, seed=None, remove_name=None,
                    verbose=False, timeout=5, tail=5):
    """Reloads under load, as the tests and bench/reload.sh run them: a
    short warm-up, a baseline run without changes, then the same load
    with Chaos on all accounts but the last `controls` (never reloaded:
    the same run then shows what reloads cost against accounts that had
    none). Commands start during the first `seconds`; the load goes on
    `tail` seconds longer, so that the last ones (and the old instances'
    drain) finish under load too. A request that takes `timeout` s
    counts as failed. Returns
    (baseline WrkResult, chaos WrkResult, Chaos, masters before)."""
    run_wrk(farm, 2, pace_ms=pace_ms, connections=connections)
    base = run_wrk(farm, baseline_seconds, pace_ms=pace_ms,
                   connections=connections, timeout=timeout)
    masters = {n: farm.sb.master_pid(n) for n in farm.names}
    targets = farm.names[:len(farm.names) - controls]
    chaos = Chaos(farm, seconds, targets=targets, seed=seed,
                  remove_name=remove_name, verbose=verbose)
    res = run_wrk(farm, seconds + tail, pace_ms=pace_ms,
                  connections=connections, during=chaos, timeout=timeout)
    return base, res, chaos, masters


def scenario_report(base, res, chaos, controls):
    """The figures of one reload_scenario() as text."""
    reloaded = sorted(chaos.reloaded)
    lines = [f"seed {chaos.seed}; load average {loadavg()}"]
    for label, r in (("without reloads", base), ("with reloads", res)):
        s = r.summary()
        lines.append(f"{label:16}: {s['requests']} requests in "
                     f"{r.seconds:.1f} s ({s['req_per_s']}/s), "
                     f"{s['failures']} failed; latency p50 {s['p50_ms']} "
                     f"ms, p99 {s['p99_ms']} ms, p99.9 {s['p999_ms']} ms, "
                     f"max {s['max_ms']} ms")
    p99r, maxr = group_percentile(res, reloaded, 99)
    p99c, maxc = group_percentile(res, controls, 99)
    lines.append(f"same run, accounts reloaded ({len(reloaded)}): p99 "
                 f"{p99r} ms, max {maxr} ms; never reloaded "
                 f"({', '.join(controls)}): p99 {p99c} ms, max {maxc} ms")
    lines.append(res.table())
    lines.append(chaos.report())
    return "\n".join(lines)


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])
