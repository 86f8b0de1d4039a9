"""Per-account resource limits: cpu, memory, tasks (and io_weight) with
real php-fpm instances started by fpmctl in direct mode, enforced through
the kernel's cgroups, and the systemd mode's slices and drop-ins.

What this machine can enforce decides what runs: a limit whose cgroup
controller the host lacks is skipped with the reason (never passed
quietly). Each sandbox uses its own cgroup subtree (wlft_<random>), which
the fixture removes again.
"""
import os
import re
import shutil
import statistics
import subprocess
import threading
import time
import uuid

import pytest

from wlf import FPMCTL
from wlf.host import remove_cgroup
from wlf.sandbox import Sandbox, pid_alive, wait_until

CG = "/sys/fs/cgroup"


def host_layout():
    """{"mode": "v1"|"v2"|None, controller: mount} as fpmctl sees it."""
    mounts = {}
    v2 = None
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, right = line.split(" - ", 1)
            mnt = left.split()[4]
            fstype, _src, opts = right.split()[:3]
            if fstype == "cgroup2" and v2 is None:
                v2 = mnt
            elif fstype == "cgroup":
                for c in ("cpu", "cpuacct", "memory", "pids", "blkio"):
                    if c in opts.split(",") and c not in mounts:
                        mounts[c] = mnt
    if v2:
        try:
            ctrls = open(os.path.join(v2, "cgroup.controllers")).read().split()
        except OSError:
            ctrls = []
        if {"cpu", "memory", "pids"} <= set(ctrls):
            return {"mode": "v2", "cpu": v2, "cpuacct": v2, "memory": v2,
                    "pids": v2, "root": v2}
    if mounts:
        return dict(mounts, mode="v1")
    return {"mode": None}


LAYOUT = host_layout()


def need(controller):
    """Skip (with the reason) when this host cannot enforce a limit."""
    if LAYOUT["mode"] is None:
        pytest.skip("no usable cgroup hierarchy on this host: limits are "
                    "not enforced here (fpmctl set refuses them)")
    if controller not in LAYOUT:
        pytest.skip(f"this host has no cgroup {controller} controller: that "
                    f"limit is not enforced here")


class LimitSandbox(Sandbox):
    """A direct-mode sandbox whose account groups live under a subtree of
    its own; close() removes them."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.subtree = "wlft_" + uuid.uuid4().hex[:10]
        with open(self.conf) as f:
            text = f.read()
        text, n = re.subn(r'(?m)^cgroup_subtree = .*;$',
                          f'cgroup_subtree = "{self.subtree}";', text)
        assert n == 1
        with open(self.conf, "w") as f:
            f.write(text)

    def group(self, controller, name=None):
        base = os.path.join(LAYOUT[controller], self.subtree)
        return os.path.join(base, name) if name else base

    def cg_read(self, controller, name, file):
        with open(os.path.join(self.group(controller, name), file)) as f:
            return f.read().strip()

    def cg_procs(self, controller, name):
        return {int(p) for p in self.cg_read(controller, name,
                                             "cgroup.procs").split()}

    def close(self):
        super().close()
        if LAYOUT["mode"] is None:
            return
        for c in {LAYOUT[k] for k in ("cpu", "cpuacct", "memory", "pids",
                                      "blkio") if k in LAYOUT}:
            remove_cgroup(os.path.join(c, self.subtree))


@pytest.fixture
def lsb():
    sb = LimitSandbox()
    yield sb
    sb.close()


def cpu_seconds(sb, name):
    if LAYOUT["mode"] == "v2":
        for line in sb.cg_read("cpu", name, "cpu.stat").splitlines():
            k, v = line.split()
            if k == "usage_usec":
                return int(v) / 1e6
    return int(sb.cg_read("cpuacct", name, "cpuacct.usage")) / 1e9


# ------------------------------------------------------------ settings --

def test_set_writes_limits_and_moves_the_running_instance(lsb):
    need("pids")
    need("memory")
    need("cpu")
    sb = lsb
    sb.add_account("alice", args=["--max-children", "5"])
    master = sb.master_pid("alice")
    assert master
    r = sb.fpmctl("set", "alice", "cpu=50%", "memory=256M", "tasks=64")
    assert r.rc == 0, r
    # no new instance was needed: the running master moved into the group
    assert sb.master_pid("alice") == master
    assert master in sb.cg_procs("memory", "alice")
    assert master in sb.cg_procs("pids", "alice")
    assert master in sb.cg_procs("cpu", "alice")
    if LAYOUT["mode"] == "v1":
        assert sb.cg_read("cpu", "alice", "cpu.cfs_quota_us") == "50000"
        assert sb.cg_read("memory", "alice", "memory.limit_in_bytes") == \
            str(256 << 20)
    else:
        assert sb.cg_read("cpu", "alice", "cpu.max") == "50000 100000"
        assert sb.cg_read("memory", "alice", "memory.max") == str(256 << 20)
    assert sb.cg_read("pids", "alice", "pids.max") == "64"
    # a worker forked now is in the group too
    r = sb.php("alice", "<?php echo getmypid();")
    assert r.status == 200
    assert int(r.text) in sb.cg_procs("pids", "alice")

    show = sb.json("show", "alice")
    assert show["limits"] == {"cpu": 50, "memory": 256 << 20, "tasks": 64,
                              "io_weight": 0}
    assert show["usage"]["tasks"] >= 2
    assert show["usage"]["memory"] > 0
    assert show["settings"]["cpu"]["value"] == 50
    assert show["settings"]["cpu"]["text"] == "50%"
    r = sb.fpmctl("show", "alice")
    assert re.search(r"limits +cpu 50% \(used [0-9.]+ s\), memory 256M "
                     r"\(uses \d+M\), tasks 64 \(\d+ now\)", r.out), r.out
    r = sb.fpmctl("status", "alice")
    assert "  limits: cpu 50%" in r.out, r.out
    st = sb.json("status", "alice")[0]
    assert st["limits"]["tasks"] == 64 and st["usage"]["tasks"] >= 2

    # a reload starts the new master inside the group
    r = sb.fpmctl("reload", "alice")
    assert r.rc == 0, r
    new = sb.master_pid("alice")
    assert new != master and new in sb.cg_procs("memory", "alice")

    # back to no limit
    r = sb.fpmctl("set", "alice", "cpu=0", "memory=0", "tasks=0")
    assert r.rc == 0, r
    assert sb.cg_read("pids", "alice", "pids.max") == "max"
    if LAYOUT["mode"] == "v1":
        assert sb.cg_read("cpu", "alice", "cpu.cfs_quota_us") == "-1"
    assert sb.fpmctl("check").rc == 0


def test_a_master_woken_by_serve_is_inside_the_accounts_group(lsb):
    """An on-demand account with limits: setting them starts nothing, and
    the master fpmctl serve starts for the first request, with its
    workers, runs inside the account's group from its first instruction."""
    need("pids")
    sb = lsb
    sb.set_defaults(activation="on-demand", idle_stop=600)
    sb.start_serve()
    sb.add_account("odl")
    r = sb.fpmctl("set", "odl", "tasks=64")
    assert r.rc == 0, r
    assert sb.master_pid("odl") is None, "set started an idle account"
    assert sb.cg_read("pids", "odl", "pids.max") == "64"
    assert sb.cg_procs("pids", "odl") == set()
    r = sb.php("odl", "<?php echo getmypid();")
    assert r.status == 200, r
    assert "odl: starting php-fpm" in sb.serve_output()
    master = sb.master_pid("odl")
    assert master, "serve did not start the master"
    procs = sb.cg_procs("pids", "odl")
    assert master in procs and int(r.text) in procs, (master, r.text, procs)
    if "memory" in LAYOUT:
        r = sb.fpmctl("set", "odl", "memory=256M")
        assert r.rc == 0, r
        assert master in sb.cg_procs("memory", "odl")
    r = sb.fpmctl("check")
    assert r.rc == 0, r


def test_rebuild_puts_a_changed_default_into_force(lsb):
    """A default limit set in wlfcgi.conf reaches running instances with
    `fpmctl rebuild --all`, no reload needed; an account's own value
    wins over it."""
    need("pids")
    sb = lsb
    sb.add_account("alice")
    sb.add_account("bob")
    assert sb.fpmctl("set", "bob", "tasks=30").rc == 0
    masters = {n: sb.master_pid(n) for n in ("alice", "bob")}
    with open(sb.conf) as f:
        text = f.read()
    text, n = re.subn(r"(?m)^  tasks = 0;$", "  tasks = 40;", text)
    assert n == 1
    with open(sb.conf, "w") as f:
        f.write(text)
    r = sb.fpmctl("rebuild", "--all")
    assert r.rc == 0, r
    assert sb.cg_read("pids", "alice", "pids.max") == "40"
    assert sb.cg_read("pids", "bob", "pids.max") == "30"
    assert masters["alice"] in sb.cg_procs("pids", "alice")
    assert {n: sb.master_pid(n) for n in ("alice", "bob")} == masters


@pytest.mark.parametrize("item,field", [
    ("cpu=12X", "cpu"), ("cpu=1.5", "cpu"), ("memory=1M", "memory"),
    ("tasks=3", "tasks"), ("io_weight=20000", "io_weight"),
    ("memory=-5M", "memory")])
def test_bad_limits_are_refused_and_change_nothing(lsb, item, field):
    sb = lsb
    sb.add_account("alice", args=["--max-children", "5"])
    before = open(sb.account_file("alice")).read()
    r = sb.fpmctl("set", "alice", item)
    assert r.rc == 2 and f"fpmctl: {field}:" in r.err, r
    assert open(sb.account_file("alice")).read() == before


def test_remove_account_removes_its_group(lsb):
    need("pids")
    sb = lsb
    sb.add_account("alice")
    assert sb.fpmctl("set", "alice", "tasks=50").rc == 0
    assert os.path.isdir(sb.group("pids", "alice"))
    assert sb.fpmctl("remove-account", "alice", "--yes").rc == 0
    assert not os.path.exists(sb.group("pids", "alice"))


# --------------------------------------------------------- enforcement --

SPIN = "<?php $e = microtime(true) + %s; $n = 0;\n" \
       "while (microtime(true) < $e) { $n++; } echo 'spun';"


def spin_load(sb, name, script, n, seconds):
    """n requests spinning `seconds` each, at once; returns the threads."""
    def one():
        sb.request(name, script, timeout=seconds + 20)
    ts = [threading.Thread(target=one) for _ in range(n)]
    for t in ts:
        t.start()
    return ts


def latencies(sb, name, script, seconds):
    out = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = time.monotonic()
        r = sb.request(name, script, timeout=10)
        assert r.status == 200 and r.text == "ok"
        out.append(time.monotonic() - t0)
    return out


def cpu_idle_ticks():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return v[3] + v[4], sum(v)        # idle + iowait, all


def test_cpu_limit_holds_a_spinning_account_to_its_share(lsb, capsys):
    """alice spins two workers (two cores' worth) with cpu=50%: she gets
    about half a core, and bob's requests keep their latency. Without the
    limit the same load takes well over a core. This machine is shared:
    where other work left too little idle CPU to tell, the test checks
    that the limit held and skips, with the numbers, instead of claiming
    the rest."""
    need("cpu")
    need("cpuacct")
    sb = lsb
    sb.add_account("alice", args=["--max-children", "4"])
    sb.add_account("bob", args=["--max-children", "4"])
    assert sb.fpmctl("set", "alice", "cpu=50%").rc == 0
    spin = sb.write_php("alice", SPIN % 3)
    hello = sb.write_php("bob", "<?php echo 'ok';")
    sb.request("alice", sb.write_php("alice", "<?php echo 1;"))
    base = latencies(sb, "bob", hello, 1.0)
    ncpu = os.cpu_count() or 1

    def measure():
        c0, t0 = cpu_seconds(sb, "alice"), time.monotonic()
        i0, a0 = cpu_idle_ticks()
        ts = spin_load(sb, "alice", spin, 2, 3)
        time.sleep(0.3)
        loaded = latencies(sb, "bob", hello, 2.2)
        for t in ts:
            t.join()
        i1, a1 = cpu_idle_ticks()
        used = (cpu_seconds(sb, "alice") - c0) / (time.monotonic() - t0)
        # cores nobody used meanwhile: what alice could have had more
        spare = ncpu * (i1 - i0) / max(1, a1 - a0)
        return used, loaded, spare

    limited, loaded, spare_l = measure()
    assert sb.fpmctl("set", "alice", "cpu=0").rc == 0
    unlimited, _, spare_u = measure()
    med_base, med_load = statistics.median(base), statistics.median(loaded)
    busy = open("/proc/loadavg").read().split()[0]
    with capsys.disabled():
        print(f"\n  alice cpu=50%: {limited:.2f} cores ({spare_l:.2f} left "
              f"idle); cpu=0: {unlimited:.2f} cores ({spare_u:.2f} idle); "
              f"bob median latency {med_base * 1000:.1f} ms quiet, "
              f"{med_load * 1000:.1f} ms while alice spins (limited); "
              f"load {busy}")
    # the limit holds whatever else runs
    assert limited <= 0.6, limited
    # she got her half core where the machine had it to give
    if limited + spare_l >= 0.6:
        assert limited >= 0.35, (limited, spare_l)
    # the hole without the limit: two spinning workers take clearly more
    # than the cap allows when the machine has room for them (the idle
    # share is sampled, so leave the noise some slack)
    if unlimited + spare_u >= 1.0:
        assert unlimited >= 0.65, (unlimited, spare_u)
    assert med_load <= med_base * 3 + 0.02, (med_base, med_load)
    if limited + spare_l < 0.6 or unlimited + spare_u < 1.0:
        pytest.skip(f"the limit held ({limited:.2f} cores at cpu=50%), but "
                    f"this machine was too busy (load {busy}, no idle CPU) "
                    f"to show the half-core share and the unlimited "
                    f"contrast ({unlimited:.2f} cores at cpu=0)")


@pytest.fixture
def mem_httpd(lsb, httpd_factory):
    """httpd with the module in front of lsb's accounts: vhost NAME.test
    for account NAME, DocumentRoot its home."""
    def make(*names):
        h = httpd_factory()
        vhosts = "".join(f"""
<VirtualHost 127.0.0.1:{h.port}>
  ServerName {n}.test
  DocumentRoot {lsb.accounts[n].home}
  <Directory {lsb.accounts[n].home}>
    Require all granted
  </Directory>
</VirtualHost>
""" for n in names)
        h.write(f"WLFcgiConfig {lsb.conf}\n{vhosts}")
        h.start()
        return h
    return make


def test_memory_limit_kills_the_worker_not_the_master(lsb, mem_httpd,
                                                      expect_log):
    """A script that allocates past memory= is killed by the kernel: the
    client gets a 5xx at once (no hang), the master and the account's
    next requests live on. Without the limit the same script succeeds."""
    need("memory")
    expect_log(r"WLF00028: account alice: a PHP worker ended the request "
               r"for /hog\.php without an answer",
               # mod_proxy_fcgi's own lines about the cut connection
               r"AH01067: Failed to read FastCGI header",
               r"AH01075: Error dispatching request")
    sb = lsb
    alice = sb.add_account("alice", domains=["alice.test"],
                           args=["--max-children", "2"])
    assert sb.fpmctl("set", "alice", "memory=96M").rc == 0
    hog = "<?php ini_set('memory_limit', '-1'); $a = [];\n" \
          "for ($i = 0; $i < 300; $i++) { $a[] = str_repeat('x', 1 << 20); }\n" \
          "echo 'survived ', count($a);"
    with open(os.path.join(alice.home, "hog.php"), "w") as f:
        f.write(hog)
    with open(os.path.join(alice.home, "hi.php"), "w") as f:
        f.write("<?php echo 'hi';")
    h = mem_httpd("alice")
    master = sb.master_pid("alice")
    assert h.get("/hi.php", host="alice.test").status == 200
    t0 = time.monotonic()
    r = h.get("/hog.php", host="alice.test")
    took = time.monotonic() - t0
    assert 500 <= r.status < 600 and "survived" not in r.text, r
    assert took < 10, took
    assert sb.master_pid("alice") == master
    assert h.get("/hi.php", host="alice.test").text == "hi"
    st = sb.json("show", "alice")
    assert st["usage"]["oom_kills"] >= 1, st["usage"]
    # the hole: the same script without the limit takes its 300M
    assert sb.fpmctl("set", "alice", "memory=0").rc == 0
    r = h.get("/hog.php", host="alice.test")
    assert r.status == 200 and r.text == "survived 300", r


def test_php_cli_runs_inside_the_accounts_limits(lsb):
    """`fpmctl php` (cron jobs, Composer) runs in the account's group, as
    its masters do: a script that allocates past memory= is killed, and
    fpmctl ends as PHP did. Without the limit the same script succeeds
    (the hole while `fpmctl php` ran where fpmctl runs). A group that
    does not exist yet (limits set, no master started since boot) is
    made for it."""
    need("memory")
    need("pids")
    sb = lsb
    sb.add_account("alice")
    assert sb.fpmctl("set", "alice", "memory=96M", "tasks=50").rc == 0
    where = "echo shell_exec('cat /proc/self/cgroup');"
    hog = "ini_set('memory_limit', '-1'); $a = [];" \
          "for ($i = 0; $i < 300; $i++) { $a[] = str_repeat('x', 1 << 20); }" \
          "echo 'survived ', count($a);"
    r = sb.fpmctl("php", "alice", "-r", where)
    assert r.rc == 0, r
    assert f"/{sb.subtree}/alice\n" in r.out, r.out
    r = subprocess.run([FPMCTL, "php", "alice", "-r", hog], env=sb.env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == -9 and "survived" not in r.stdout, r
    st = sb.json("show", "alice")
    assert st["usage"]["oom_kills"] >= 1, st["usage"]
    # the group is gone (a reboot): made again, with the limits
    assert sb.fpmctl("stop", "alice").rc == 0
    for c in {"memory", "pids"}:
        os.rmdir(sb.group(c, "alice"))
    r = sb.fpmctl("php", "alice", "-r", where)
    assert r.rc == 0 and f"/{sb.subtree}/alice\n" in r.out, r
    assert sb.cg_read("pids", "alice", "pids.max") == "50"
    # the hole: without the limit the same script takes its 300M
    assert sb.fpmctl("set", "alice", "memory=0").rc == 0
    r = subprocess.run([FPMCTL, "php", "alice", "-r", hog], env=sb.env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0 and r.stdout == "survived 300", r


def test_fork_bomb_stops_at_tasks(lsb):
    """A script forking helpers through exec() stops at tasks= (fork
    fails); the account's process count never passes it. Without the
    limit the same script starts them all."""
    need("pids")
    sb = lsb
    sb.add_account("alice", args=["--max-children", "3"])
    # a bounded bomb: 40 background sleepers from one shell
    bomb = "<?php exec('for i in $(seq 40); do sleep 2 & done 2>&1; " \
           "echo started $(ps -o comm= --ppid $$ | grep -c sleep)', " \
           "$out, $rc);\necho implode(' ', $out);"
    script = sb.write_php("alice", bomb)
    assert sb.fpmctl("set", "alice", "tasks=10").rc == 0
    r = sb.request("alice", script, timeout=30)
    assert r.status == 200, r
    assert re.search(r"fork|Resource temporarily unavailable", r.text), \
        r.text
    peak = int(sb.cg_read("pids", "alice", "pids.max"))
    assert peak == 10
    events = sb.cg_read("pids", "alice", "pids.events")
    assert int(events.split()[-1]) > 0, events      # "max N": refused forks
    # the account still serves
    assert sb.php("alice", "<?php echo 'alive';").text == "alive"
    # the hole: without the limit all 40 start
    assert sb.fpmctl("set", "alice", "tasks=0").rc == 0
    time.sleep(2.2)
    r = sb.request("alice", script, timeout=30)
    assert r.status == 200 and r.text.endswith("started 40"), r.text


def test_io_weight_is_written_where_blkio_has_weights(lsb):
    """io_weight goes to the v1 blkio.bfq.weight (1-1000) or the v2
    io.weight. The kernel applies it only to disks whose I/O scheduler is
    BFQ (v1) or with BFQ/io.cost (v2): say so when no disk here has it."""
    sb = lsb
    sb.add_account("alice")
    if LAYOUT["mode"] == "v1" and "blkio" not in LAYOUT:
        pytest.skip("no cgroup v1 blkio hierarchy: io_weight is not "
                    "enforced here")
    r = sb.fpmctl("set", "alice", "io_weight=500")
    assert r.rc == 0, r
    if LAYOUT["mode"] == "v1":
        weight = os.path.join(LAYOUT["blkio"], sb.subtree, "alice",
                              "blkio.bfq.weight")
        if not os.path.exists(weight):
            pytest.skip("this kernel's blkio has no BFQ weights: io_weight "
                        "is not enforced here")
        assert open(weight).read().split()[-1] == "500"
    else:
        p = os.path.join(LAYOUT["root"], sb.subtree, "alice", "io.weight")
        if not os.path.exists(p):
            pytest.skip("no io controller in this cgroup v2 tree: io_weight "
                        "is not enforced here")
        assert "default 500" in open(p).read()
    scheds = {}
    for d in os.listdir("/sys/block"):
        try:
            s = open(f"/sys/block/{d}/queue/scheduler").read()
        except OSError:
            continue
        m = re.search(r"\[([\w-]+)\]", s)
        if m and not d.startswith(("loop", "zram", "ram")):
            scheds[d] = m.group(1)
    if "bfq" not in scheds.values():
        pytest.skip(f"io_weight was written, but no disk here uses the BFQ "
                    f"scheduler ({scheds}): the kernel does not enforce it "
                    f"on this machine")


def test_set_refuses_limits_where_no_cgroup_works(lsb):
    """On a host without usable cgroups (here: fpmctl in a mount namespace
    with the cgroup mounts taken away), set refuses with the reason and
    check reports that limits are not enforced."""
    if not shutil.which("unshare"):
        pytest.skip("unshare(1) is missing")
    sb = lsb
    sb.add_account("alice")
    before = open(sb.account_file("alice")).read()
    from wlf import FPMCTL, host

    def bare(*args):
        script = ("for m in $(awk '$3 ~ /^cgroup/ {print $2}' /proc/mounts "
                  "| sort -r); do umount -l \"$m\"; done; exec \"$@\"")
        return subprocess.run(["unshare", "--mount", "--propagation",
                               "private", "sh", "-c", script, "sh", FPMCTL,
                               *args], env=sb.env, capture_output=True,
                              text=True, timeout=60)
    r = bare("set", "alice", "cpu=50%")
    assert r.returncode == 2, r
    assert "fpmctl: cpu: cannot be enforced on this host: no cgroup " \
           "hierarchy is mounted" in r.stderr, r.stderr
    assert open(sb.account_file("alice")).read() == before
    r = bare("check")
    assert "limits are not enforced: no cgroup hierarchy" in r.stdout, r
    # an account that has limits is a problem there
    assert sb.fpmctl("set", "alice", "cpu=50%").rc == 0
    r = bare("check")
    assert r.returncode == 1
    assert "alice: limits are not enforced: cpu: cannot be enforced" \
        in r.stdout, r.stdout


# ------------------------------------------------------------- metrics --

def parse_openmetrics(text):
    """Samples by (name, account[, state]) with Prometheus's own parser."""
    from prometheus_client.openmetrics.parser import \
        text_string_to_metric_families
    out = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            key = (s.name, s.labels.get("account"))
            if "wlfcgi_state" in s.labels:
                key += (s.labels["wlfcgi_state"],)
            out[key] = s.value
    return out


def test_status_openmetrics_counts_survive_reloads(lsb):
    """One exposition for every account; the real parser accepts it; the
    per-account counters keep growing across reloads (slot switches) and
    a stop/start, and usage appears where limits are on."""
    pytest.importorskip("prometheus_client",
                        reason="python3-prometheus-client is not installed")
    sb = lsb
    sb.set_config(drain_time=100)
    sb.add_account("alice", args=["--max-children", "3"])
    sb.add_account("bob")
    sb.add_account("carol")
    assert sb.fpmctl("stop", "carol").rc == 0
    if LAYOUT["mode"]:
        assert sb.fpmctl("set", "alice", "memory=512M", "cpu=150%").rc == 0
    hi = sb.write_php("alice", "<?php echo 'hi';")
    for _ in range(5):
        assert sb.request("alice", hi).status == 200
    r = sb.fpmctl("status", "--openmetrics")
    assert r.rc == 0, r
    assert r.out.endswith("# EOF\n")
    m = parse_openmetrics(r.out)
    # the status pages themselves count as requests too: at least ours
    first = m[("wlfcgi_requests_total", "alice")]
    assert first >= 5
    assert m[("wlfcgi_up", "alice")] == 1 and m[("wlfcgi_up", "carol")] == 0
    assert m[("wlfcgi_state", "carol", "stopped")] == 1
    assert m[("wlfcgi_state", "alice", "running")] == 1
    assert m[("wlfcgi_max_children", "alice")] == 3
    assert m[("wlfcgi_workers", "alice")] >= 1
    assert ("wlfcgi_workers", "carol") not in m
    assert m[("wlfcgi_start_time_seconds", "alice")] > time.time() - 600
    if LAYOUT["mode"]:
        assert m[("wlfcgi_memory_limit_bytes", "alice")] == 512 << 20
        assert m[("wlfcgi_cpu_limit", "alice")] == 1.5
        assert m[("wlfcgi_memory_bytes", "alice")] > 0
        assert m[("wlfcgi_tasks", "alice")] >= 2
        assert ("wlfcgi_cpu_seconds_total", "alice") in m
        assert ("wlfcgi_memory_bytes", "bob") not in m

    seen = [first]
    for step in ("reload", "reload", "stop-start"):
        for _ in range(3):
            assert sb.request("alice", hi).status == 200
        if step == "reload":
            assert sb.fpmctl("reload", "alice").rc == 0
        else:
            assert sb.fpmctl("stop", "alice").rc == 0
            assert sb.fpmctl("start", "alice").rc == 0
        # scrape right after the switch (old master draining) and later
        for _ in range(2):
            m = parse_openmetrics(sb.fpmctl("status", "--openmetrics").out)
            seen.append(m[("wlfcgi_requests_total", "alice")])
            time.sleep(0.3)
    assert seen == sorted(seen), seen
    assert seen[-1] >= first + 9, seen
    # one NAME: only that account
    m = parse_openmetrics(sb.fpmctl("status", "--openmetrics", "bob").out)
    assert {k[1] for k in m} == {"bob"}


# ------------------------------------------------------------- systemd --

def test_systemd_mode_writes_a_slice_per_account(sandbox_factory, tmp_path):
    """systemd mode: one slice per account with CPUQuota=, MemoryMax=,
    TasksMax=, IOWeight=; a drop-in puts both instance units in it; the
    running instance is replaced so it starts in the slice;
    systemd-analyze verify accepts the units."""
    sb = sandbox_factory(service="systemd")
    sb.add_account("my-site", args=["--max-children", "4"])
    units = os.path.join(sb.root, "etc/systemd/system")
    before = sb.master_pid("my-site")
    r = sb.fpmctl("set", "my-site", "cpu=50%", "memory=1G", "tasks=64",
                  "io_weight=200")
    assert r.rc == 0, r
    slice_name = "wlfcgi-my\\x2dsite.slice"
    text = open(os.path.join(units, slice_name)).read()
    for line in ("CPUQuota=50%", f"MemoryMax={1 << 30}", "MemorySwapMax=0",
                 "TasksMax=64", "IOWeight=200"):
        assert "\n" + line + "\n" in text, text
    for slot in "ab":
        d = os.path.join(units, f"wlfcgi-fpm@my-site.{slot}.service.d",
                         "50-wlfcgi-limits.conf")
        assert f"Slice={slice_name}\n" in open(d).read()
    calls = sb.systemctl_calls()
    assert "daemon-reload" in calls
    # the instance was replaced: the new one starts inside the slice
    assert sb.master_pid("my-site") != before
    # a limits-only change later needs no new instance
    pid = sb.master_pid("my-site")
    assert sb.fpmctl("set", "my-site", "cpu=150%").rc == 0
    assert "\nCPUQuota=150%\n" in open(os.path.join(units, slice_name)).read()
    assert sb.master_pid("my-site") == pid
    assert sb.json("show", "my-site")["limits"]["cpu"] == 150

    # systemd-analyze verify in a scratch root: host units, our template,
    # the generated slice and drop-ins, a stand-in php-fpm
    root = str(tmp_path)
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is missing")
    shutil.copytree("/lib/systemd/system", root + "/usr/lib/systemd/system",
                    symlinks=True)
    here = os.path.dirname(os.path.abspath(__file__))
    rpm = os.path.join(here, "..", "..", "rpm")
    shutil.copytree(units, root + "/etc/systemd/system", symlinks=True)
    for u in ("wlfcgi-fpm@.service", "wlfcgi.service"):
        shutil.copy(os.path.join(rpm, u), root + "/etc/systemd/system/")
    os.makedirs(root + "/usr/share/man/man8")
    shutil.copy(os.path.join(here, "..", "..", "fpmctl", "fpmctl.8"),
                root + "/usr/share/man/man8/")
    os.makedirs(root + "/usr/sbin")
    with open(root + "/usr/sbin/fpmctl", "w") as f:
        f.write("#!/bin/sh\nexit 0\n")
    os.chmod(root + "/usr/sbin/fpmctl", 0o755)
    inst = root + "/var/lib/wlfcgi/fpm/my-site.a"
    os.makedirs(inst)
    with open(inst + "/php-fpm", "w") as f:
        f.write("#!/bin/sh\nexit 0\n")
    os.chmod(inst + "/php-fpm", 0o755)
    # the instance's ExecStart is a /bin/sh line (FPM_SOCKETS for a socket
    # activated on-demand slot)
    os.makedirs(root + "/bin", exist_ok=True)
    with open(root + "/bin/sh", "w") as f:
        f.write("#!/bin/sh\n")
    os.chmod(root + "/bin/sh", 0o755)
    p = subprocess.run(["systemd-analyze", "verify", "--root", root,
                        slice_name, "wlfcgi-fpm@my-site.a.service"],
                       capture_output=True, text=True, cwd=root,
                       env=dict(os.environ, MANPATH=root + "/usr/share/man"))
    assert p.returncode == 0 and p.stdout + p.stderr == "", \
        p.stdout + p.stderr


FAKE_BUSCTL = r"""#!/usr/bin/python3
# A stand-in for busctl (no systemd here): StartTransientUnit of a scope
# moves its PIDs into a cgroup named like the scope, as systemd does.
import os, sys
LOG, CG, BREAK = "@LOG@", "@CG@", "@BREAK@"
a = sys.argv[1:]
with open(LOG, "a") as f:
    f.write(" ".join(a) + "\n")
if os.path.exists(BREAK):
    sys.stderr.write("Call failed: Access denied\n")
    sys.exit(1)
unit, pid = a[6], a[12]
d = os.path.join(CG, unit)
os.makedirs(d, exist_ok=True)
with open(os.path.join(d, "cgroup.procs"), "w") as f:
    f.write(pid)
print('o "/org/freedesktop/systemd1/job/1"')
"""


def test_php_cli_in_systemd_mode_runs_in_a_scope_in_the_slice(
        sandbox_factory, tmp_path):
    """systemd mode: `fpmctl php` of an account with a slice runs in a
    scope of its own in that slice (StartTransientUnit with PHP's pid,
    before PHP runs); without limits it needs none; when the scope
    cannot be made, PHP does not run."""
    need("pids")
    sb = sandbox_factory(service="systemd")
    alice = sb.add_account("alice")
    log, brk = tmp_path / "busctl.log", tmp_path / "break"
    cg = os.path.join(LAYOUT["pids"], "wlft_" + uuid.uuid4().hex[:10])
    fake = tmp_path / "busctl"
    fake.write_text(FAKE_BUSCTL.replace("@LOG@", str(log))
                    .replace("@CG@", cg).replace("@BREAK@", str(brk)))
    fake.chmod(0o755)
    env = dict(sb.env, WLFCGI_BUSCTL=str(fake))
    where = "echo shell_exec('cat /proc/self/cgroup'), " \
            "posix_getpwuid(posix_geteuid())['name'];"

    def php():
        return subprocess.run([FPMCTL, "php", "alice", "-r", where],
                              env=env, capture_output=True, text=True,
                              timeout=60)
    try:
        r = php()
        assert r.returncode == 0 and r.stdout.endswith(alice.user), r
        assert not log.exists()
        assert sb.fpmctl("set", "alice", "memory=96M").rc == 0
        r = php()
        assert r.returncode == 0 and r.stdout.endswith(alice.user), r
        call = log.read_text().split()
        assert call[:7] == ["call", "org.freedesktop.systemd1",
                            "/org/freedesktop/systemd1",
                            "org.freedesktop.systemd1.Manager",
                            "StartTransientUnit", "ssa(sv)a(sa(sv))",
                            call[6]], call
        assert re.fullmatch(r"wlfcgi-php-alice-\d+\.scope", call[6]), call
        assert call[9:16] == ["PIDs", "au", "1", call[12], "Slice", "s",
                              "wlfcgi-alice.slice"], call
        # PHP itself (and what it starts) ran in the scope
        assert f"/{call[6]}\n" in r.stdout, r.stdout
        brk.write_text("")
        r = php()
        assert r.returncode == 1 and alice.user not in r.stdout, r
        assert "cannot start a scope in wlfcgi-alice.slice: Call failed" \
            in r.stderr, r
    finally:
        if os.path.isdir(cg):
            for d in os.listdir(cg):
                p = os.path.join(cg, d)
                for _ in range(50):
                    try:
                        os.rmdir(p)
                        break
                    except OSError:
                        time.sleep(0.1)
            os.rmdir(cg)


def test_module_serves_openmetrics_and_a_customer_gets_none(
        lsb, httpd_factory, expect_log):
    """The status handler with ?openmetrics gives the same exposition over
    HTTP (every account, counters across a reload); set by a customer in
    .htaccess it is refused: it must not become a window onto accounts."""
    expect_log(r"WLF00031: vhost alice\.test \(account alice\)")
    pytest.importorskip("prometheus_client",
                        reason="python3-prometheus-client is not installed")
    sb = lsb
    sb.set_config(drain_time=100)
    alice = sb.add_account("alice", domains=["alice.test"])
    sb.add_account("bob", domains=["bob.test"])
    with open(os.path.join(alice.home, ".htaccess"), "w") as f:
        f.write("SetHandler wlfcgi-status\n")
    h = httpd_factory()
    vhosts = "".join(f"""
<VirtualHost 127.0.0.1:{h.port}>
  ServerName {n}.test
  DocumentRoot {sb.accounts[n].home}
  <Directory {sb.accounts[n].home}>
    AllowOverride FileInfo
    Require all granted
  </Directory>
</VirtualHost>
""" for n in ("alice", "bob"))
    h.write(f"""WLFcgiConfig {sb.conf}
<VirtualHost 127.0.0.1:{h.port}>
  ServerName admin.test
  <Location "/wlfcgi-status">
    SetHandler wlfcgi-status
    Require all granted
  </Location>
</VirtualHost>
{vhosts}""")
    h.start()
    for _ in range(4):
        sb.php("bob", "<?php echo 1;")
    r = h.get("/wlfcgi-status?openmetrics", host="admin.test")
    assert r.status == 200, r
    assert r.header("Content-Type").startswith(
        "application/openmetrics-text; version=1.0.0")
    m = parse_openmetrics(r.text)
    assert {k[1] for k in m} == {"alice", "bob"}
    first = m[("wlfcgi_requests_total", "bob")]
    assert first >= 4 and m[("wlfcgi_up", "bob")] == 1
    assert sb.fpmctl("reload", "bob").rc == 0
    time.sleep(0.5)
    m = parse_openmetrics(h.get("/wlfcgi-status?openmetrics",
                                host="admin.test").text)
    assert m[("wlfcgi_requests_total", "bob")] >= first
    # alice's .htaccess cannot switch the page on
    r = h.get("/x?openmetrics", host="alice.test")
    assert r.status == 403, r
    assert "bob" not in r.text and "wlfcgi_" not in r.text


def test_busy_account_leaves_a_gap_not_a_lower_counter(lsb):
    """php-fpm answers its status page with a worker: while all of an
    account's workers are busy the scrape gets no answer in time. Its
    counters are then left out (a gap Prometheus tolerates), never shown
    lower than before; the other accounts are unaffected."""
    pytest.importorskip("prometheus_client",
                        reason="python3-prometheus-client is not installed")
    sb = lsb
    sb.add_account("alice", args=["--max-children", "1"])
    sb.add_account("bob")
    slow = sb.write_php("alice", "<?php sleep(3); echo 'slept';")
    hi = sb.write_php("alice", "<?php echo 'hi';")
    for _ in range(3):
        sb.request("alice", hi)
    before = parse_openmetrics(sb.fpmctl("status", "--openmetrics").out)
    t = threading.Thread(target=lambda: sb.request("alice", slow, timeout=20))
    t.start()
    time.sleep(0.5)
    r = sb.fpmctl("status", "--openmetrics")
    during = parse_openmetrics(r.out)
    t.join()
    assert ("wlfcgi_requests_total", "alice") not in during, r.out
    assert ("wlfcgi_requests_total", "bob") in during
    assert during[("wlfcgi_up", "alice")] == 0
    after = parse_openmetrics(sb.fpmctl("status", "--openmetrics").out)
    assert after[("wlfcgi_requests_total", "alice")] > \
        before[("wlfcgi_requests_total", "alice")]
