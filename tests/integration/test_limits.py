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
            base = os.path.join(c, self.subtree)
            if not os.path.isdir(base):
                continue
            for d in os.listdir(base):
                p = os.path.join(base, d)
                if os.path.isdir(p):
                    for _ in range(50):
                        try:
                            os.rmdir(p)
                            break
                        except OSError:
                            time.sleep(0.1)
            try:
                os.rmdir(base)
            except OSError:
                pass


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
    assert show["settings"]["cpu"]["value"] == "50%"
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
    assert sb.fpmctl("remove-account", "alice").rc == 0
    assert not os.path.exists(sb.group("pids", "alice"))
