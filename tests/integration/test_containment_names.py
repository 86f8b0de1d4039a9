"""A removed name is a clean name.

`remove-account NAME` without --purge keeps the account's tmp, upload and
session directories and its logs. Whoever gets the name next must get
none of it: fpmctl cannot tell whether that is the same customer (Unix
users get renamed, uids reused), so add-account refuses the name, with a
message naming `remove-account NAME --purge`, until the data is gone; it
changes nothing, hands nothing over (the old PHP error log and sessions
stay with their owner). `fpmctl check` lists such leftovers as warnings,
and remove-account NAME --purge deletes them. A failed add-account leaves
nothing behind, so it can simply be tried again.
"""
import os
import shutil
import stat

from wlf.host import ensure_user


def leave_traces(sb, name):
    """A session file and a PHP error log line of the account's PHP."""
    r = sb.php(name, "<?php session_start(); $_SESSION['secret'] = 'old-"
               "customer'; error_log('old customer was here'); "
               "echo session_id();")
    assert r.status == 200, r
    sessions = os.path.join(sb.paths["state"], "accounts", name, "sessions")
    assert os.listdir(sessions) == ["sess_" + r.text]
    with open(os.path.join(sb.paths["logs"], name, "php-error.log")) as f:
        assert "old customer was here" in f.read()
    return r.text


def test_removed_name_is_refused_until_purged(sandbox):
    sb = sandbox
    bob = sb.add_account("bob")
    sid = leave_traces(sb, "bob")
    acctdir = os.path.join(sb.paths["state"], "accounts", "bob")
    logdir = os.path.join(sb.paths["logs"], "bob")
    errlog = os.path.join(logdir, "php-error.log")
    sb.fpmctl("remove-account", "bob", "--yes", check=True)
    assert os.path.isdir(acctdir) and os.path.isdir(logdir)

    # check: a warning (text and JSON), not a problem
    r = sb.fpmctl("check")
    assert r.rc == 0, r
    assert f"bob: warning: a removed account left its data in {acctdir}, " \
        f"{logdir}" in r.out, r
    assert "remove-account bob --purge" in r.out
    js = sb.json("check")
    assert js["ok"] is True and js["problems"] == []
    assert len(js["warnings"]) == 1 and js["warnings"][0]["account"] == \
        "bob" and acctdir in js["warnings"][0]["warning"]

    # another user gets the name: refused, nothing changed or handed over
    carol = ensure_user("wlft-carol")
    before = sb.tree_snapshot(exclude=("home",))   # the harness chowns it
    for user in (carol.pw_name, bob.user):      # the same user, too
        r = sb.add_account("bob", user=user, check=False)
        assert r.rc == 2, r
        assert r.err.startswith("fpmctl: name: a removed account 'bob' "
                                "left its data in"), r
        assert "`fpmctl remove-account bob --purge` deletes it" in r.err
        assert sb.tree_snapshot(exclude=("home",)) == before
    assert os.lstat(errlog).st_uid == bob.uid
    r = sb.fpmctl("--dry-run", "add-account", "bob", "--user",
                  carol.pw_name, "--home", sb.accounts["bob"].home)
    assert r.rc == 2 and "--purge" in r.err, r

    # remove-account without --purge says what is left; exit 3
    r = sb.fpmctl("remove-account", "bob")
    assert r.rc == 3 and "add --purge" in r.err and acctdir in r.err, r
    r = sb.fpmctl("--dry-run", "remove-account", "bob", "--purge")
    assert r.rc == 0 and "would delete" in r.out, r
    assert sb.tree_snapshot(exclude=("home",)) == before
    r = sb.fpmctl("remove-account", "bob", "--purge")
    assert r.rc == 0 and "purged what a removed account left" in r.out, r
    assert not os.path.exists(acctdir) and not os.path.exists(logdir)
    assert sb.fpmctl("remove-account", "bob", "--purge").rc == 3
    assert sb.json("check")["warnings"] == []

    # the next owner of the name starts clean
    sb.add_account("bob", user=carol.pw_name)
    sessions = os.path.join(acctdir, "sessions")
    assert os.listdir(sessions) == []
    assert os.lstat(sessions).st_uid == carol.pw_uid
    st = os.lstat(errlog)
    assert st.st_uid == carol.pw_uid and st.st_size == 0
    r = sb.php("bob", "<?php session_id('%s'); session_start(); "
               "echo json_encode($_SESSION), ' ', posix_geteuid();" % sid)
    assert r.text == f"[] {carol.pw_uid}", r


def test_check_reports_instance_files_of_a_removed_name(sandbox):
    """An interrupted run may leave generated files without an account
    file: check says so, remove-account --purge clears them."""
    sb = sandbox
    sb.add_account("dora")
    sb.fpmctl("stop", "dora", check=True)
    os.unlink(sb.account_file("dora"))     # as if removal was interrupted
    inst = os.path.join(sb.paths["state"], "fpm", "dora.a")
    assert os.path.isdir(inst)
    js = sb.json("check")
    assert [w["account"] for w in js["warnings"]] == ["dora"]
    assert "--purge" in js["warnings"][0]["warning"]
    sb.fpmctl("remove-account", "dora", "--purge", check=True)
    assert not os.path.exists(inst)
    assert sb.json("check")["warnings"] == []
    # only instance files, no data: reported and purged the same way
    sb.add_account("dora")
    sb.fpmctl("stop", "dora", check=True)
    os.unlink(sb.account_file("dora"))
    shutil.rmtree(os.path.join(sb.paths["state"], "accounts", "dora"))
    shutil.rmtree(os.path.join(sb.paths["logs"], "dora"))
    js = sb.json("check")
    assert len(js["warnings"]) == 1 and "instance files" in \
        js["warnings"][0]["warning"]
    r = sb.fpmctl("remove-account", "dora", "--purge")
    assert r.rc == 0 and "instance files" in r.out, r
    assert sb.json("check")["warnings"] == []


def test_failed_add_leaves_the_name_clean(sandbox):
    sb = sandbox
    # the start fails (the first start is php-fpm's test): after the
    # account's directories and its php-error.log were made
    fake = os.path.join(sb.root, "fake-php-fpm")
    with open(fake, "w") as f:
        f.write('#!/bin/sh\nfor a; do [ "$a" = -t ] && exit 0; done\n'
                'echo "ERROR: this php-fpm never starts" >&2\nexit 78\n')
    os.chmod(fake, 0o755)
    # starts, but warns as php-fpm -t would have: refused too
    warns = os.path.join(sb.root, "warning-php-fpm")
    with open(warns, "w") as f:
        f.write('#!/bin/sh\necho \'PHP Warning:  Module "calendar" is '
                'already loaded in Unknown on line 0\' >&2\nexit 0\n')
    os.chmod(warns, 0o755)
    sb.add_php_version("fails", fake)
    sb.add_php_version("warns", warns)
    sb.add_php_version("broken", "/bin/false")
    user = ensure_user("wlft-erin")
    home = sb.make_home("erin", user.pw_name)
    before = sb.tree_snapshot()
    for php, said in (("broken", "php-fpm did not start"),
                      ("fails", "this php-fpm never starts"),
                      ("warns", "already loaded")):
        r = sb.fpmctl("add-account", "erin", "--user", user.pw_name,
                      "--home", home, "--php", php)
        assert r.rc == 1 and said in r.err, r
        assert sb.tree_snapshot() == before, php
    # so it can be tried again at once
    sb.add_account("erin", user=user.pw_name)
    st = os.lstat(os.path.join(sb.paths["logs"], "erin", "php-error.log"))
    assert st.st_uid == user.pw_uid and stat.S_ISREG(st.st_mode)
