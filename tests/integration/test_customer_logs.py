"""Customers read their own logs: each slot's master log, the slow log and
PHP's error log of their account are readable by the account's user and
by no other account, which cannot even list the directory; the customer
cannot write what root writes, nor make root write elsewhere. Real
php-fpm through fpmctl; reads and writes as the users themselves."""
import os
import subprocess

from wlf.sandbox import wait_until


def as_user(user, *cmd):
    return subprocess.run(["runuser", "-u", user, "--", *cmd],
                          capture_output=True, text=True, timeout=30)


def test_account_reads_its_logs_and_no_other_account_does(sandbox):
    sb = sandbox
    alice = sb.add_account("alice")
    bob = sb.add_account("bob")
    logs = os.path.join(sb.paths["logs"], "alice")
    live = sb.live_slot("alice")
    sb.php("alice", "<?php error_log('ALICE-ERROR'); "
                    "file_put_contents('php://stderr', 'ALICE-STDERR'); echo 'ok';")
    master_log = os.path.join(logs, f"fpm.{live}.log")
    # the master's own lines, and what the script wrote to stderr
    r = wait_until(lambda: (lambda r: r if "ALICE-STDERR" in r.stdout
                            else None)(as_user(alice.user, "cat",
                                               master_log)),
                   what="alice's stderr line in her master's log")
    assert "ready to handle connections" in r.stdout
    r = as_user(alice.user, "cat", os.path.join(logs, "php-error.log"))
    assert r.returncode == 0 and "ALICE-ERROR" in r.stdout, r
    r = as_user(alice.user, "ls", logs)
    assert r.returncode == 0 and "slow.log" in r.stdout, r
    # bob: nothing of alice's, not even the names
    for f in ("", f"fpm.{live}.log", "php-error.log", "slow.log"):
        assert as_user(bob.user, "cat", os.path.join(logs, f)).returncode \
            != 0, f
    assert as_user(bob.user, "ls", logs).returncode != 0
    # and no line of bob's in alice's logs
    sb.php("bob", "<?php file_put_contents('php://stderr', 'BOB-STDERR'); error_log('BOB-ERR');")
    bob_log = os.path.join(sb.paths["logs"], "bob",
                           f"fpm.{sb.live_slot('bob')}.log")
    wait_until(lambda: "BOB-STDERR" in open(bob_log).read(),
               what="bob's line in bob's log")
    for f in os.listdir(logs):
        assert "BOB" not in open(os.path.join(logs, f)).read(), f
    assert sb.fpmctl("check").rc == 0


def test_customer_cannot_write_or_redirect_roots_logs(sandbox):
    sb = sandbox
    alice = sb.add_account("alice")
    logs = os.path.join(sb.paths["logs"], "alice")
    live = sb.live_slot("alice")
    for f in (f"fpm.{live}.log", "slow.log"):
        p = os.path.join(logs, f)
        r = as_user(alice.user, "sh", "-c", f"echo ERROR: forged >> {p}")
        assert r.returncode != 0, f
        assert "forged" not in open(p).read()
    # no link can replace a log: the directory is root's
    victim = os.path.join(alice.home, "victim")
    r = as_user(alice.user, "ln", "-sf", victim,
                os.path.join(logs, f"fpm.{'b' if live == 'a' else 'a'}.log"))
    assert r.returncode != 0
    r = as_user(alice.user, "mv", os.path.join(logs, "php-error.log"),
                os.path.join(logs, "x.log"))
    assert r.returncode != 0
    sb.fpmctl("reload", "alice", check=True)
    assert not os.path.exists(victim)


def test_each_slot_has_its_own_master_log(sandbox):
    """Lines of the old and the new instance never mix: a reload's new
    master writes its own file."""
    sb = sandbox
    sb.add_account("alice")
    old = sb.live_slot("alice")
    old_pid = sb.master_pid("alice")
    sb.fpmctl("reload", "alice", check=True)
    new = sb.live_slot("alice")
    assert new != old
    new_pid = sb.master_pid("alice")
    logs = os.path.join(sb.paths["logs"], "alice")
    new_log = open(os.path.join(logs, f"fpm.{new}.log")).read()
    assert f"fpm is running, pid {new_pid}" in new_log
    assert f"pid {old_pid}" not in new_log
    wait_until(lambda: "exiting, bye-bye" in
               open(os.path.join(logs, f"fpm.{old}.log")).read(),
               what="the old master's exit in its own log")
    assert "bye-bye" not in new_log


def test_check_reports_two_accounts_sharing_a_group(sandbox):
    """The logs are the account group's to read: a group given to two
    accounts lets each read the other's, and check says so."""
    sb = sandbox
    sb.add_account("alice")
    sb.add_account("bob", args=("--group", "wlft-alice"))
    r = sb.fpmctl("check")
    assert r.rc == 1 and "shares group wlft-alice with account" in r.out \
        + r.err, r
