"""fpmctl when things go wrong: broken changes are contained, bad input
changes nothing, rollback when a new instance does not answer, lock
timeouts, --dry-run, the systemd mode's calls and rollback (with a fake
systemctl), and output that cannot be written."""
import fcntl
import os
import subprocess
import time

import pytest

from wlf.host import php_fpm
from wlf.sandbox import FPMCTL, pid_alive, wait_until


@pytest.fixture
def pair(sandbox):
    sandbox.set_config(drain_time=100, start_timeout=3)
    sandbox.add_account("alice", domains=["alice.example"])
    sandbox.add_account("bob", domains=["bob.example"])
    return sandbox


def serving(sb, name):
    return sb.php(name, "<?php echo 'serving ', getmypid();").text


def read(path):
    with open(path, "rb") as f:
        return f.read()


# ------------------------------------ a broken change is rolled back --

def test_hand_broken_account_file_fails_reload_keeps_serving(pair):
    sb = pair
    a0, b0 = sb.master_pid("alice"), sb.master_pid("bob")
    with open(sb.account_file("alice"), "a") as f:
        f.write("max_children = ;\n")
    r = sb.fpmctl("reload", "alice")
    assert r.rc == 1, r
    assert len(r.err.splitlines()) == 1
    assert "alice.conf" in r.err and "line" in r.err
    assert sb.master_pid("alice") == a0
    assert serving(sb, "alice").startswith("serving")
    assert sb.master_pid("bob") == b0
    # other accounts go on working and can still be changed
    r = sb.fpmctl("set", "bob", "max_children=2")
    assert r.rc == 0, r
    # list reports the broken file and exits 1
    r = sb.fpmctl("list")
    assert r.rc == 1 and "alice.conf" in r.err and "bob" in r.out


def test_hand_edited_unknown_user_fails_with_php_fpm_message(pair):
    sb = pair
    a0 = sb.master_pid("alice")
    path = sb.account_file("alice")
    text = read(path).replace(b'user = "wlft-alice"',
                              b'user = "wlft-nosuchuser"')
    with open(path, "wb") as f:
        f.write(text)
    r = sb.fpmctl("reload", "alice")
    assert r.rc == 1, r
    # php-fpm's own words
    assert "cannot get uid for user 'wlft-nosuchuser'" in r.err, r
    assert "keeps serving" in r.err
    assert sb.master_pid("alice") == a0
    assert serving(sb, "alice").startswith("serving")
    assert read(path) == text


def test_php_admin_value_php_rejects_is_rolled_back(pair):
    sb = pair
    a0, b0 = sb.master_pid("alice"), sb.master_pid("bob")
    slot = sb.live_slot("alice")
    before = read(sb.account_file("alice"))
    r = sb.fpmctl("set", "alice", "php_admin.memory_limit=1x")
    assert r.rc == 1, r
    # the line PHP wrote when the new instance's worker applied it
    assert 'Invalid "memory_limit" setting' in r.err, r
    assert len(r.err.splitlines()) == 1
    assert read(sb.account_file("alice")) == before
    assert sb.master_pid("alice") == a0 and sb.live_slot("alice") == slot
    other = "b" if slot == "a" else "a"
    assert sb.master_pid("alice", other) is None
    assert serving(sb, "alice").startswith("serving")
    assert sb.master_pid("bob") == b0
    # a value PHP accepts goes through
    r = sb.fpmctl("set", "alice", "php_admin.memory_limit=96M")
    assert r.rc == 0, r
    assert sb.php("alice", "<?php echo ini_get('memory_limit');").text \
        == "96M"


HANG = """#!/bin/sh
# php-fpm whose instances never answer fpmctl's ping: -t passes, but the
# running instance has its ping page somewhere else.
for a; do [ "$prev" = --fpm-config ] && conf=$a; prev=$a; done
case " $* " in *" -t "*) exec {fpm} "$@";; esac
sed -i 's|^ping.path = .*|ping.path = /wlft-elsewhere|' "$conf"
exec {fpm} "$@"
"""


def test_rollback_when_new_instance_does_not_answer(pair):
    sb = pair
    wrapper = os.path.join(sb.root, "php-fpm-hang")
    with open(wrapper, "w") as f:
        f.write(HANG.format(fpm=php_fpm()))
    os.chmod(wrapper, 0o755)
    sb.add_php_version("8.2-hang", wrapper)
    sb.set_config(start_timeout=2)
    a0, slot = sb.master_pid("alice"), sb.live_slot("alice")
    before = read(sb.account_file("alice"))
    t0 = time.monotonic()
    r = sb.fpmctl("set", "alice", "php=8.2-hang")
    took = time.monotonic() - t0
    assert r.rc == 1, r
    assert "did not answer a FastCGI ping within 2 s" in r.err, r
    assert took < 8
    assert read(sb.account_file("alice")) == before
    assert sb.live_slot("alice") == slot and sb.master_pid("alice") == a0
    other = "b" if slot == "a" else "a"
    assert sb.master_pid("alice", other) is None
    assert not os.path.exists(os.path.join(sb.paths["sockets"],
                                           f"alice.{other}.sock"))
    assert serving(sb, "alice").startswith("serving")
    assert sb.fpmctl("show", "alice").rc == 0


# ---------------------------------------- bad input changes nothing --

LONG = "a" * 33


def corpus(home):
    """(fpmctl args, field the error must name): every kind of bad input
    add-account and set refuse."""
    add = ["add-account"]
    ok = ["--user", "wlft-carol", "--home", home]
    return [
        (add + ["a/b"] + ok, "name"),
        (add + [".."] + ok, "name"),
        (add + ["a\nb"] + ok, "name"),
        (add + ["a=b"] + ok, "name"),
        (add + ["a[b"] + ok, "name"),
        (add + ["a]b"] + ok, "name"),
        (add + ["a;b"] + ok, "name"),
        (add + ["a b"] + ok, "name"),
        (add + [""] + ok, "name"),
        (add + [LONG] + ok, "name"),
        (add + ["1abc"] + ok, "name"),
        (add + ok + ["--", "-abc"], "name"),
        (add + ["Carol"] + ok, "name"),
        (add + ["alice"] + ok, "name"),             # exists
        (add + ["carol", "--user", "wlft-nosuchuser", "--home", home],
         "user"),
        (add + ["carol", "--user", "root", "--home", home], "user"),
        (add + ["carol", "--user", "daemon", "--home", home], "user"),
        (add + ["carol", "--max-upload", "12X"] + ok, "max_upload"),
        (add + ["carol", "--max-upload", "-1"] + ok, "max_upload"),
        (add + ["carol", "--max-upload", "99999999999999999999G"] + ok,
         "max_upload"),
        (add + ["carol", "--max-children", "0"] + ok, "max_children"),
        (add + ["carol", "--domain", "alice.example"] + ok, "domain"),
        (add + ["carol", "--domain", "bad..example"] + ok, "domain"),
        (add + ["carol", "--domain", "a b.example"] + ok, "domain"),
        (add + ["carol", "--domain", "c.example\n"] + ok, "domain"),
        (add + ["carol", "--php", "7.0"] + ok, "php"),
        (add + ["carol", "--group", "wlft-nosuchgroup"] + ok, "group"),
        (add + ["carol", "--user", "wlft-carol", "--home", home + "/missing"],
         "home"),
        (add + ["carol", "--user", "wlft-carol", "--home", "relative"],
         "home"),
        (["set", "alice", "nosuchkey=1"], "nosuchkey"),
        (["set", "alice", "php_admin.post_max_size=1G"],
         "php_admin.post_max_size"),
        (["set", "alice", "php_admin.memory_limit=1\n2"],
         "php_admin.memory_limit"),
        (["set", "alice", 'php_admin.memory_limit=1"2'],
         "php_admin.memory_limit"),
        (["set", "alice", "php_admin.memory_limit=${HOME}"],
         "php_admin.memory_limit"),
        (["set", "alice", "max_upload=12X"], "max_upload"),
        (["set", "alice", "max_upload=-1"], "max_upload"),
        (["set", "alice", "max_upload=99999999999999999999G"], "max_upload"),
        (["set", "alice", "max_children=abc"], "max_children"),
        (["set", "alice", "domains=bob.example"], "domain"),
        (["set", "alice", "domains=a..b"], "domain"),
        (["set", "alice", "user=root"], "user"),
        (["set", "alice", "php=9.9"], "php"),
        (["set", "alice", "home=" + home + "/missing"], "home"),
        (["set", "alice", "max_children=2", "bogus"], "set"),
        (["set", "a/b", "max_children=2"], "name"),
        (["remove-account", "../x"], "name"),
        (["show", "a\nb"], "name"),
    ]


def test_bad_input_corpus_exit_2_and_nothing_changes(pair):
    sb = pair
    from wlf.sandbox import ensure_user
    ensure_user("wlft-carol")
    home = sb.make_home("carol", "wlft-carol")
    cases = corpus(home)
    assert len(cases) >= 30
    # idle, so that not even a log line appears on its own
    sb.fpmctl("stop", "--all", check=True)
    before = sb.tree_snapshot()
    for args, field in cases:
        r = sb.fpmctl(*args)
        what = f"{args!r}: {r}"
        assert r.rc == 2, what
        assert r.out == "", what
        lines = r.err.splitlines()
        assert len(lines) == 1, what
        assert lines[0].startswith(f"fpmctl: {field}: "), what
        assert sb.tree_snapshot() == before, what


def test_min_uid_is_configurable(sandbox_factory, wlft_user):
    sb = sandbox_factory(config={"min_uid": 60000})
    pw = wlft_user("carol")
    home = sb.make_home("carol", pw.pw_name)
    before = sb.tree_snapshot()
    r = sb.fpmctl("add-account", "carol", "--user", pw.pw_name, "--home",
                  home)
    assert r.rc == 2 and "below min_uid 60000" in r.err, r
    assert r.err.startswith("fpmctl: user: ")
    assert sb.tree_snapshot() == before


# ------------------------------------------------------ lock, dry-run --

def test_lock_timeout_exit_4(pair):
    sb = pair
    sb.set_config(lock_timeout=1)
    before = sb.tree_snapshot(exclude=("var/log",))
    lock = os.path.join(os.path.dirname(sb.conf), ".lock")
    with open(lock) as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        t0 = time.monotonic()
        r = sb.fpmctl("set", "alice", "max_children=2")
        took = time.monotonic() - t0
        r2 = sb.fpmctl("add-account", "zed", "--user", "wlft-alice",
                       "--home", "/tmp")
    assert r.rc == 4 and r2.rc == 4, (r, r2)
    assert 1.0 <= took < 4, took
    assert f"fpmctl: lock: pid {os.getpid()} (" in r.err
    assert f") holds {lock} and did not release it within 1 s" in r.err
    assert "lock_timeout" in r.err and len(r.err.splitlines()) == 1
    assert sb.tree_snapshot(exclude=("var/log",)) == before
    # readers do not need the lock
    with open(lock) as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        assert sb.fpmctl("list").rc == 0
        assert sb.fpmctl("status", "alice").rc == 0
    assert sb.fpmctl("set", "alice", "max_children=2").rc == 0


def test_lock_timeout_names_the_holders_command(pair):
    sb = pair
    sb.set_config(lock_timeout=1)
    lock = os.path.join(os.path.dirname(sb.conf), ".lock")
    holder = subprocess.Popen(["flock", lock, "sleep", "30"])
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with open("/proc/locks") as f:
                if f" {holder.pid} " in f.read():
                    break
            time.sleep(0.02)
        r = sb.fpmctl("set", "alice", "max_children=2")
    finally:
        holder.kill()
        holder.wait()
    assert r.rc == 4
    assert r.err == (f"fpmctl: lock: pid {holder.pid} (flock {lock} sleep "
                     f"30) holds {lock} and did not release it within 1 s "
                     "(lock_timeout in wlfcgi.conf); try again later\n")


def test_a_change_does_not_wait_for_another_accounts_drain(pair):
    """The old instance of a change drains for drain_time after fpmctl
    returned; a change of another account goes ahead meanwhile, one of
    the same account waits for it."""
    sb = pair
    sb.set_config(drain_time=3000)
    t0 = time.monotonic()
    sb.fpmctl("set", "alice", "max_children=2", check=True)
    t1 = time.monotonic()
    sb.fpmctl("set", "bob", "max_children=2", check=True)
    t2 = time.monotonic()
    assert t2 - t1 < 2.0, (t1 - t0, t2 - t1)
    sb.fpmctl("set", "alice", "max_children=3", check=True)
    t3 = time.monotonic()
    assert t3 - t0 >= 3.0, (t1 - t0, t2 - t1, t3 - t2)
    # and one whose drain outlasts lock_timeout is refused with exit 4,
    # naming the drainer
    sb.set_config(lock_timeout=1, drain_time=4000)
    sb.fpmctl("set", "bob", "max_children=3", check=True)
    r = sb.fpmctl("set", "bob", "max_children=4")
    assert r.rc == 4, r
    assert r.err.startswith("fpmctl: bob: not changed: an old instance of "
                            "a previous change is still draining: pid ")
    assert "(fpmctl set bob max_children=3) holds " in r.err


def test_dry_run_changes_nothing(pair):
    sb = pair
    from wlf.sandbox import ensure_user
    ensure_user("wlft-carol")
    home = sb.make_home("carol", "wlft-carol")
    pids = (sb.master_pid("alice"), sb.master_pid("bob"))
    before = sb.tree_snapshot(exclude=("var/log", "run"))
    for args, expect in [
        (["add-account", "carol", "--user", "wlft-carol", "--home", home],
         "would add account carol"),
        (["set", "alice", "max_children=2"],
         "alice: would change max_children 5 -> 2"),
        (["reload", "alice"], "alice: would reload"),
        (["stop", "--all"], "alice: would stop (running)"),
        (["restart", "bob"], "bob: would restart"),
        (["remove-account", "bob", "--purge"], "would stop bob"),
        (["rebuild", "--all"], ""),
    ]:
        r = sb.fpmctl("--dry-run", *args)
        assert r.rc == 0, r
        assert expect in r.out, (args, r)
    # the sandbox's config differs from init's: refused, even dry
    r = sb.fpmctl("--dry-run", "init", "--prefix", sb.root)
    assert r.rc == 1 and "is kept" in r.err, r
    assert sb.tree_snapshot(exclude=("var/log", "run")) == before
    assert (sb.master_pid("alice"), sb.master_pid("bob")) == pids


# ------------------------------------------------------ systemd mode --

def test_systemd_mode_calls_and_rollback(sandbox_factory):
    sb = sandbox_factory(service="systemd",
                         config={"drain_time": 100, "start_timeout": 2})
    acct = sb.add_account("alice")
    assert sb.systemctl_calls() == ["start wlfcgi-fpm@alice.a.service"]
    r = sb.php("alice", "<?php echo posix_geteuid();")
    assert r.text == str(acct.uid)
    a0 = sb.master_pid("alice")

    # a change starts the other slot's unit, then stops the old one
    assert sb.fpmctl("set", "alice", "max_children=2").rc == 0
    assert sb.systemctl_calls()[1] == "start wlfcgi-fpm@alice.b.service"
    wait_until(lambda: len(sb.systemctl_calls()) >= 3, 5, what="stop call")
    assert sb.systemctl_calls()[2] == \
        "stop --no-block wlfcgi-fpm@alice.a.service"
    wait_until(lambda: not pid_alive(a0), 5, what="old master exit")
    b0 = sb.master_pid("alice")
    assert sb.live_slot("alice") == "b" and b0

    # a unit that starts but never answers: stopped again, b keeps serving
    before = read(sb.account_file("alice"))
    sb.break_systemctl()
    n = len(sb.systemctl_calls())
    r = sb.fpmctl("set", "alice", "max_children=3")
    assert r.rc == 1 and "did not answer a FastCGI ping" in r.err, r
    assert sb.systemctl_calls()[n:] == ["start wlfcgi-fpm@alice.a.service",
                                        "stop wlfcgi-fpm@alice.a.service"]
    assert read(sb.account_file("alice")) == before
    assert sb.master_pid("alice") == b0
    assert serving(sb, "alice").startswith("serving")

    # a unit that fails to start: the same, with systemctl's message
    sb.break_systemctl(False)
    sb.set_config(start_timeout=2)
    n = len(sb.systemctl_calls())
    r = sb.fpmctl("stop", "alice")
    assert r.rc == 0, r
    assert sorted(sb.systemctl_calls()[n:]) == [
        "stop wlfcgi-fpm@alice.a.service", "stop wlfcgi-fpm@alice.b.service"]
    assert not pid_alive(b0)
    r = sb.fpmctl("start", "alice")
    assert r.rc == 0 and sb.systemctl_calls()[-1] == \
        "start wlfcgi-fpm@alice.b.service", r
    assert serving(sb, "alice").startswith("serving")


# ------------------------------------------------- output that is lost --

def run_to(sb, args, stdout):
    return subprocess.run([FPMCTL, *args], stdout=stdout,
                          stderr=subprocess.PIPE, env=sb.env, text=True,
                          timeout=60)


def test_output_that_cannot_be_written_fails_the_command(sandbox):
    """Like git: a command whose output did not reach its file (here a
    full disk) says so and exits 1 instead of reporting success."""
    sb = sandbox
    sb.add_account("alice")
    for args in (["list"], ["--json", "list"], ["show", "alice"],
                 ["--json", "show", "alice"], ["status", "alice"],
                 ["check"], ["--list-commands"], ["--help"]):
        with open("/dev/full", "w") as full:
            r = run_to(sb, args, full)
        assert r.returncode == 1, (args, r)
        assert r.stderr == ("fpmctl: cannot write to standard output: "
                            "No space left on device\n"), (args, r)
    # where the output arrives, the same commands succeed
    assert sb.fpmctl("list").rc == 0
    assert sb.fpmctl("show", "alice").rc == 0


def test_a_change_whose_report_is_lost_exits_1_but_is_done(sandbox):
    """The change itself is made; only its report is lost, and the exit
    status says that something went wrong."""
    sb = sandbox
    sb.add_account("alice")
    with open("/dev/full", "w") as full:
        r = run_to(sb, ["set", "alice", "max_children=3"], full)
    assert r.returncode == 1, r
    assert "cannot write to standard output" in r.stderr, r
    assert sb.json("show", "alice")["max_children"] == 3


def test_a_reader_that_went_away_fails_quietly(sandbox):
    """fpmctl list | head: the closed pipe makes the exit status 1, with
    no message (the reader wanted no more)."""
    sb = sandbox
    sb.add_account("alice")
    rd, wr = os.pipe()
    os.close(rd)
    try:
        r = run_to(sb, ["list"], wr)
    finally:
        os.close(wr)
    assert r.returncode == 1 and r.stderr == "", r
