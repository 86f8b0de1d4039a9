"""fpmctl's command line as an admin meets it on the first day: a missing
configuration, a user who is not root, options after the command, typos,
and commands with nothing to act on. Each answer is one line that says
what to do, with the documented exit code."""
import os
import pwd
import subprocess
import time

import pytest

from wlf import FPMCTL


def run(*args, env=None, user=None):
    """fpmctl ARGS without $WLFCGI_CONFIG; as `user` (all of its ids) if
    given."""
    e = dict(os.environ)
    e.pop("WLFCGI_CONFIG", None)
    e.update(env or {})
    ids = {}
    if user:
        pw = pwd.getpwnam(user)
        ids = dict(user=pw.pw_uid, group=pw.pw_gid, extra_groups=[],
                   cwd="/")
    r = subprocess.run([FPMCTL, *args], capture_output=True, text=True,
                       env=e, timeout=60, **ids)
    return r.returncode, r.stdout, r.stderr


def test_missing_configuration_is_one_line_with_the_fix(tmp_path):
    conf = str(tmp_path / "wlfcgi.conf")
    rc, out, err = run("-c", conf, "list")
    assert rc == 2 and out == ""
    assert err.count("\n") == 1 and err.count(conf) == 1, err
    assert "fpmctl init" in err and "-c FILE" in err


@pytest.mark.parametrize("args", [("set", "alice", "max_children=3"),
                                  ("reload", "--all"),
                                  ("remove-account", "alice"),
                                  ("init", "--prefix", "/tmp/wlft-x")])
def test_changes_by_another_user_say_root_is_needed(sandbox, wlft_user,
                                                    args):
    sandbox.add_account("alice")
    user = wlft_user("bob").pw_name
    before = sandbox.tree_snapshot()
    rc, out, err = run("-c", sandbox.conf, *args, user=user)
    assert rc == 2, err
    assert err == f"fpmctl: {args[0]} must be run as root\n"
    assert sandbox.tree_snapshot() == before
    assert not os.path.exists("/tmp/wlft-x")


def test_reading_without_read_access_says_root_is_needed(sandbox,
                                                         wlft_user):
    sandbox.add_account("alice")
    user = wlft_user("bob").pw_name
    for args in (["list"], ["show", "alice"], ["status"], ["check"],
                 ["--dry-run", "set", "alice", "max_children=3"]):
        rc, out, err = run("-c", sandbox.conf, *args, user=user)
        cmd = args[1] if args[0] == "--dry-run" else args[0]
        assert rc == 2 and out == "", (args, err)
        assert err == (f"fpmctl: {cmd} must be run as root (cannot read "
                       f"{sandbox.paths['accounts']})\n"), args
    os.chmod(sandbox.conf, 0o600)
    rc, out, err = run("-c", sandbox.conf, "list", user=user)
    assert (rc, err) == (2, f"fpmctl: list must be run as root (cannot "
                            f"read {sandbox.conf})\n")


@pytest.mark.parametrize("args,option", [
    (["status", "--prometheus"], "--prometheus"),
    (["status", "alice", "--prometheus"], "--prometheus"),
    (["list", "--long"], "--long"),
    (["show", "-x", "alice"], "-x"),
    (["check", "--fix"], "--fix"),
])
def test_unknown_options_are_refused_as_options(module_sandbox, args,
                                                option):
    if "alice" not in module_sandbox.accounts:
        module_sandbox.add_account("alice")
    rc, out, err = module_sandbox.fpmctl(*args)
    assert rc == 2 and out == ""
    assert err == (f"fpmctl: {option}: unknown option (see fpmctl "
                   f"{args[0]} --help)\n")


def test_global_options_work_after_the_command(sandbox):
    sandbox.add_account("alice")
    env = {"WLFCGI_CONFIG": "/nonexistent/wlfcgi.conf"}
    rc, out, err = run("list", "--json", "-c", sandbox.conf, env=env)
    assert rc == 0, err
    assert "alice" in out and out.startswith("[")
    rc, out, err = run("show", "alice", f"--config={sandbox.conf}", "-q",
                       env=env)
    assert rc == 0 and "account      alice" in out
    before = sandbox.tree_snapshot()
    rc, out, err = run("set", "alice", "max_children=3", "--dry-run", "-c",
                       sandbox.conf, env=env)
    assert rc == 0 and "would change max_children 5 -> 3" in out, err
    assert sandbox.tree_snapshot() == before


@pytest.mark.parametrize("typo,meant", [
    ("stauts", "status"), ("lsit", "list"), ("relaod", "reload"),
    ("remove", "remove-account"), ("add", "add-account"),
])
def test_a_mistyped_command_gets_the_nearest_one(typo, meant):
    rc, out, err = run(typo)
    assert rc == 2
    assert err == (f"fpmctl: unknown command '{typo}'; did you mean "
                   f"'{meant}'? (see fpmctl --help)\n")


def test_an_unknown_command_far_from_any_gets_no_guess():
    rc, out, err = run("frobnicate")
    assert (rc, err) == (2, "fpmctl: unknown command 'frobnicate' (see "
                            "fpmctl --help)\n")


def test_a_mistyped_option_gets_the_nearest_one(module_sandbox):
    rc, out, err = module_sandbox.fpmctl("remove-account", "alice",
                                         "--prge")
    assert rc == 2
    assert err.startswith("fpmctl: --prge: unknown option; did you mean "
                          "--purge?")
    rc, out, err = run("--jsno", "list")
    assert rc == 2 and "did you mean --json?" in err


def test_list_without_accounts_says_so(sandbox):
    r = sandbox.fpmctl("list")
    assert r.rc == 0 and r.err == ""
    assert r.out.startswith("no accounts")
    assert sandbox.json("list") == []


def test_rebuild_with_nothing_to_change_says_so(sandbox):
    r = sandbox.fpmctl("--dry-run", "rebuild", "--all")
    assert (r.rc, r.out) == (0, "rebuild: no accounts\n")
    sandbox.add_account("alice")
    sandbox.add_account("bob")
    r = sandbox.fpmctl("--dry-run", "rebuild", "--all")
    assert (r.rc, r.out, r.err) == (0, "rebuild: nothing to change\n", "")
    r = sandbox.fpmctl("rebuild", "--all")
    assert (r.rc, r.out, r.err) == (0, "rebuild: nothing to change\n", "")
    with open(sandbox.conf) as f:
        text = f.read()
    with open(sandbox.conf, "w") as f:
        f.write(text.replace("  max_children = 5;", "  max_children = 6;"))
    r = sandbox.fpmctl("--dry-run", "rebuild", "--all")
    assert r.rc == 0 and "nothing to change" not in r.out
    assert "alice: would reload" in r.out


def test_a_size_in_decimal_looking_units_is_refused(sandbox):
    sandbox.add_account("alice")
    before = sandbox.tree_snapshot()
    r = sandbox.fpmctl("set", "alice", "max_upload=8MB")
    assert r.rc == 2
    assert r.err == ("fpmctl: max_upload: '8MB' is ambiguous: sizes are "
                     "binary, write 8M or 8MiB\n")
    assert sandbox.tree_snapshot() == before
    r = sandbox.fpmctl("set", "alice", "max_upload=16MiB")
    assert r.rc == 0 and "max_upload 8M -> 16M" in r.out


def test_setting_the_value_it_has_pins_no_override(sandbox):
    sandbox.add_account("alice")
    before = sandbox.tree_snapshot()
    for item in ("max_upload=8M", "max_upload=8388608", "php=8.2",
                 "pm=ondemand"):
        r = sandbox.fpmctl("set", "alice", item)
        assert (r.rc, r.out) == (0, "alice: unchanged\n"), item
    assert sandbox.tree_snapshot() == before
    settings = sandbox.json("show", "alice")["settings"]
    assert not any(s["override"] for s in settings.values())


def test_a_domain_inside_anothers_wildcard_is_warned_about(sandbox,
                                                           wlft_user):
    sb = sandbox
    sb.add_account("wild", domains=["*.shop.test"])
    user = wlft_user("exact").pw_name
    r = sb.fpmctl("add-account", "exact", "--user", user, "--home",
                  sb.make_home("exact", user), "--domain", "foo.shop.test")
    assert r.rc == 0 and r.out.startswith("exact: added"), r
    assert r.err == (
        "fpmctl: warning: foo.shop.test (account exact) lies inside "
        "*.shop.test (account wild): it is exact's, as exact names win; "
        "httpd gives a request to the first vhost whose name matches, so "
        "exact's vhost for foo.shop.test must come before wild's for "
        "*.shop.test (mod_wlfcgi says so at start-up and answers 421 "
        "otherwise)\n")
    # once is enough: a change that leaves the overlap as it was is quiet
    r = sb.fpmctl("set", "exact", "domains=foo.shop.test,exact.test")
    assert r.rc == 0 and r.err == "", r
    # the other way round: a new wildcard over an existing name
    sb.add_account("other", domains=["bar.mall.test"])
    r = sb.fpmctl("set", "wild", "domains=*.shop.test,*.mall.test")
    assert r.rc == 0
    assert r.err.startswith("fpmctl: warning: bar.mall.test (account "
                            "other) lies inside *.mall.test (account wild)")
    assert r.err.count("\n") == 1


def on_a_terminal(sb, args, answer):
    """fpmctl ARGS with stdin and stderr on a pseudo-terminal, typing
    `answer` once it asked; returns (rc, what it wrote there)."""
    import pty
    import select
    master, slave = pty.openpty()
    p = subprocess.Popen([FPMCTL, *args], stdin=slave, stderr=slave,
                         stdout=subprocess.PIPE, env=sb.env)
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 30
    try:
        while b"[y/N] " not in seen and time.monotonic() < deadline:
            if select.select([master], [], [], 0.5)[0]:
                seen += os.read(master, 4096)
        os.write(master, answer.encode() + b"\n")
        p.wait(60)
        while select.select([master], [], [], 0.2)[0]:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(master)
    return p.returncode, seen.decode(errors="replace")


def test_removing_a_running_account_asks_on_a_terminal(sandbox):
    sb = sandbox
    sb.add_account("alice", domains=["alice.test", "www.alice.test"])
    pid = sb.master_pid("alice")
    rc, said = on_a_terminal(sb, ["remove-account", "alice"], "n")
    assert rc == 1, said
    assert (f"alice: is running (slot a, pid {pid}) for alice.test, "
            "www.alice.test; remove-account stops it, and their PHP "
            "requests fail") in said
    assert "Remove it? [y/N] " in said and "aborted; nothing was changed" \
        in said
    assert sb.master_pid("alice") == pid
    rc, said = on_a_terminal(sb, ["set", "alice", "domains=alice.test"], "y")
    assert rc == 0, said
    assert "www.alice.test will no longer be alice's" in said
    assert sb.json("show", "alice")["domains"] == ["alice.test"]
    rc, said = on_a_terminal(sb, ["remove-account", "alice"], "y")
    assert rc == 0, said
    assert sb.master_pid("alice") is None
    assert not os.path.exists(sb.account_file("alice"))


def test_a_stopped_account_goes_without_questions(sandbox):
    sb = sandbox
    sb.add_account("alice", domains=["alice.test", "www.alice.test"])
    sb.fpmctl("stop", "alice", check=True)
    r = sb.fpmctl("set", "alice", "domains=alice.test")
    assert r.rc == 0 and r.err == "", r
    r = sb.fpmctl("remove-account", "alice")
    assert r.rc == 0 and r.out.startswith("alice: removed"), r
