"""fpmctl: accounts get their own php-fpm masters, users, sockets and
caches; changes touch only their own account; plus init, show/list/status
--json, set/reset and remove-account."""
import grp
import json
import os
import re
import stat
import threading
import time

import pytest

from wlf import FPMCTL
from wlf.host import httpd_group
from wlf.sandbox import children, pid_alive, wait_until


def proc_status(pid):
    with open(f"/proc/{pid}/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f
                    if ":\t" in line)


def uid_of(pid):
    return int(proc_status(pid)["Uid"].split()[1])   # effective uid


# ---------------------------------------------------------------- init --

def test_init_writes_config_and_dirs_and_is_idempotent(sandbox_factory):
    # min_uid as init writes it, so the file is exactly init's
    sandbox = sandbox_factory(config={"min_uid": 1000})
    p = sandbox.paths
    with open(p["config"]) as f:
        text = f.read()
    assert 'service = "direct";' in text
    assert f'sockets  = "{p["sockets"]}";' in text
    expect = {p["accounts"]: 0o750, p["sockets"]: 0o750,
              p["state"]: 0o755, os.path.join(p["state"], "fpm"): 0o750,
              os.path.join(p["state"], "accounts"): 0o711,
              p["logs"]: 0o755}
    for d, mode in expect.items():
        st = os.lstat(d)
        assert stat.S_ISDIR(st.st_mode) and st.st_uid == 0, d
        assert stat.S_IMODE(st.st_mode) == mode, d
    # only root and httpd's group reach the sockets
    assert os.lstat(p["sockets"]).st_gid == \
        grp.getgrnam(httpd_group()).gr_gid

    before = sandbox.tree_snapshot()
    r = sandbox.fpmctl("init", "--prefix", sandbox.root, "--service",
                       "direct")
    assert r.rc == 0, r
    assert "already initialised" in r.out
    assert sandbox.tree_snapshot() == before

    # an existing, different config is kept ...
    sandbox.set_config(drain_time=250)
    with open(p["config"]) as f:
        edited = f.read()
    r = sandbox.fpmctl("init", "--prefix", sandbox.root, "--service",
                       "direct")
    assert r.rc == 1 and "--force" in r.err, r
    with open(p["config"]) as f:
        assert f.read() == edited
    # ... unless --force; and a damaged dir mode is repaired
    os.chmod(p["sockets"], 0o777)
    r = sandbox.fpmctl("init", "--prefix", sandbox.root, "--service",
                       "direct", "--force")
    assert r.rc == 0, r
    with open(p["config"]) as f:
        assert "drain_time = 1000;" in f.read()
    assert stat.S_IMODE(os.lstat(p["sockets"]).st_mode) == 0o750


def test_init_service_modes(sandbox_factory):
    sb = sandbox_factory(service="systemd")
    with open(sb.conf) as f:
        assert 'service = "systemd";' in f.read()
    # without --service: systemd only where systemd runs
    sb2 = sandbox_factory()
    r = sb2.fpmctl("init", "--prefix", sb2.root + "/x")
    assert r.rc == 0, r
    with open(sb2.root + "/x/etc/wlfcgi/wlfcgi.conf") as f:
        mode = "systemd" if os.path.isdir("/run/systemd/system") else "direct"
        assert f'service = "{mode}";' in f.read()


# ------------------------- own master, user, socket and caches per account --

@pytest.fixture(scope="module")
def two(module_sandbox):
    """alice and bob in one sandbox, shared by the tests below."""
    sb = module_sandbox
    sb.set_config(drain_time=200)
    sb.add_account("alice", domains=["alice.example", "www.alice.example"])
    sb.add_account("bob", domains=["bob.example"])
    return sb


def test_two_accounts_two_masters_own_users(two):
    sb = two
    alice, bob = sb.accounts["alice"], sb.accounts["bob"]
    ma, mb = sb.master_pid("alice"), sb.master_pid("bob")
    assert ma and mb and ma != mb
    for acct, master in ((alice, ma), (bob, mb)):
        # the master is root's, its title names the account's own config
        assert uid_of(master) == 0
        with open(f"/proc/{master}/cmdline", "rb") as f:
            title = f.read().decode()
        assert f"/fpm/{acct.name}.a/php-fpm.conf" in title
        # PHP runs as the account's user, in a worker of its own master
        r = sb.php(acct.name, "<?php echo posix_geteuid(), ' ', "
                   "posix_getpwuid(posix_geteuid())['name'], ' ', "
                   "getmypid();")
        assert r.status == 200, r
        euid, user, wpid = r.text.split()
        assert int(euid) == acct.uid and user == acct.user
        assert int(wpid) in children(master)
        assert uid_of(int(wpid)) == acct.uid
        assert proc_status(int(wpid))["Gid"].split()[1] == str(acct.gid)
    # neither master's workers belong to the other
    assert not set(children(ma)) & set(children(mb))


def test_socket_owner_group_mode_and_link(two):
    sb = two
    www = grp.getgrnam(httpd_group()).gr_gid
    for name in ("alice", "bob"):
        acct = sb.accounts[name]
        assert os.readlink(sb.socket(name)) == f"{name}.a.sock"
        st = os.stat(sb.socket(name))          # follows the link
        assert stat.S_ISSOCK(st.st_mode)
        # root's, not the account's: its own PHP cannot connect
        # (test_containment_sockets.py)
        assert st.st_uid == 0 and st.st_gid == www
        assert stat.S_IMODE(st.st_mode) == 0o660
        # per-account dirs belong to the user, 0700, in a root-owned dir
        base = os.path.join(sb.paths["state"], "accounts", name)
        assert os.lstat(base).st_uid == 0
        for sub in ("tmp", "upload", "sessions"):
            st = os.lstat(os.path.join(base, sub))
            assert st.st_uid == acct.uid
            assert stat.S_IMODE(st.st_mode) == 0o700
        logdir = os.path.join(sb.paths["logs"], name)
        assert os.lstat(logdir).st_uid == 0
        assert os.lstat(os.path.join(logdir, "php-error.log")).st_uid \
            == acct.uid


def test_php_settings_of_the_pool(two):
    sb = two
    r = sb.php("alice", "<?php foreach (['open_basedir', 'upload_tmp_dir', "
               "'sys_temp_dir', 'session.save_path', 'post_max_size', "
               "'upload_max_filesize', 'max_execution_time', "
               "'max_input_time', 'apc.enabled', 'apc.shm_size', "
               "'opcache.enable', 'opcache.memory_consumption', "
               "'error_log'] as $k) echo $k, '=', ini_get($k), \"\\n\"; "
               "echo 'TMPDIR=', getenv('TMPDIR'), \"\\n\"; "
               "echo 'read=', var_export(@file_get_contents('/etc/passwd')"
               " !== false, true), \"\\n\";")
    assert r.status == 200, r
    got = dict(line.split("=", 1) for line in r.text.splitlines())
    acctdir = os.path.join(sb.paths["state"], "accounts", "alice")
    assert got["open_basedir"] == f"{sb.accounts['alice'].home}/:{acctdir}/"
    assert got["upload_tmp_dir"] == f"{acctdir}/upload"
    assert got["sys_temp_dir"] == f"{acctdir}/tmp"
    assert got["session.save_path"] == f"{acctdir}/sessions"
    assert got["TMPDIR"] == f"{acctdir}/tmp"
    assert got["post_max_size"] == got["upload_max_filesize"] == "8388608"
    assert got["max_execution_time"] == "30"
    assert got["max_input_time"] == "68"       # ceil(8M / 1M/s) + 60
    assert got["apc.enabled"] == "1" and got["apc.shm_size"] == "32M"
    assert got["opcache.enable"] == "1"
    assert got["opcache.memory_consumption"] == "128"
    assert got["error_log"].endswith("/alice/php-error.log")
    assert got["read"] == "false"              # open_basedir holds
    # only .php runs; the status and ping paths are FPM's, not files
    r = sb.request("alice", sb.write_php("alice", "<?php echo 1;",
                                         "x.txt"))
    assert r.status == 403 or b"Access denied" in r.body + r.stderr


def test_caches_shared_in_account_isolated_between(two):
    sb = two
    store = sb.write_php("alice", "<?php apcu_store('secret', 'alice-data');"
                         " echo getmypid();", "store.php")
    slow = sb.write_php("alice", "<?php usleep(800000); echo getmypid();",
                        "slow.php")
    fetch = sb.write_php("alice", "<?php echo getmypid(), ' ', "
                         "var_export(apcu_fetch('secret'), true);",
                         "fetch.php")
    r = sb.request("alice", store)
    assert r.status == 200, r
    store_pid = int(r.text)
    # Busy workers make the next request go to another one: keep up to 4
    # of the 5 busy until the reader is not the worker that stored.
    for attempt in range(5):
        slow_out = []
        threads = [threading.Thread(target=lambda: slow_out.append(
            sb.request("alice", slow))) for _ in range(attempt + 1)]
        for t in threads:
            t.start()
        time.sleep(0.3)
        r = sb.request("alice", fetch)
        for t in threads:
            t.join()
        pid, value = r.text.split(" ", 1)
        assert value == "'alice-data'", r
        if int(pid) != store_pid:
            break
    assert int(pid) != store_pid, "never served by another worker"
    assert int(pid) not in {int(x.text) for x in slow_out}

    # bob's master has its own APCu and OpCache
    r = sb.php("bob", "<?php echo json_encode(["
               "'fetch' => apcu_fetch('secret'), "
               "'keys' => array_column(apcu_cache_info()['cache_list'] ?? [],"
               " 'info'), "
               "'scripts' => array_keys(opcache_get_status(true)['scripts']"
               " ?? [])]);")
    assert r.status == 200, r
    bob = json.loads(r.body)
    assert bob["fetch"] is False
    assert "secret" not in bob["keys"]
    assert not [s for s in bob["scripts"] if "/home/alice/" in s]
    assert [s for s in bob["scripts"] if "/home/bob/" in s]
    # while alice's OpCache does list her scripts
    r = sb.php("alice", "<?php echo json_encode(array_keys("
               "opcache_get_status(true)['scripts']));")
    assert store in json.loads(r.body)


def test_cache_sizes_are_per_master(two):
    sb = two
    probe = ("<?php echo ini_get('apc.shm_size'), ' ', "
             "apcu_sma_info(true)['seg_size'], ' ', "
             "ini_get('opcache.memory_consumption'), ' ', "
             "ini_get('opcache.max_accelerated_files');")
    bob0 = sb.php("bob", probe).text.split()
    r = sb.fpmctl("set", "alice", "apcu_memory=48M", "opcache_memory=64M",
                  "opcache_max_files=4000")
    assert r.rc == 0, r
    shm, seg, opc, files = sb.php("alice", probe).text.split()
    assert shm == "48M" and opc == "64" and files == "4000"
    assert 47 << 20 < int(seg) <= 48 << 20       # the real segment
    with open(os.path.join(sb.instance_dir("alice"), "ini",
                           "wlfcgi.ini")) as f:
        assert "apc.shm_size=48M\n" in f.read()
    assert sb.php("bob", probe).text.split() == bob0
    assert bob0[0] == "32M"
    r = sb.fpmctl("set", "alice", "apcu_memory=default",
                  "opcache_memory=default", "opcache_max_files=default")
    assert r.rc == 0, r
    assert sb.php("alice", probe).text.split()[0] == "32M"


def test_set_reloads_only_its_account(two):
    sb = two
    alice0, bob0 = sb.master_pid("alice"), sb.master_pid("bob")
    slot0 = sb.live_slot("alice")
    r = sb.fpmctl("set", "alice", "max_children=3")
    assert r.rc == 0, r
    lines = r.out.splitlines()
    assert lines[0].startswith("alice: max_children 5 -> 3; reloaded")
    # the module sizes its connection reuse from max_children
    assert lines[1:] == ["alice: httpd sees this at its next graceful "
                         "restart (apachectl graceful)"]
    alice1 = sb.master_pid("alice")
    assert alice1 and alice1 != alice0
    assert sb.live_slot("alice") != slot0
    assert sb.master_pid("bob") == bob0
    with open(os.path.join(sb.instance_dir("alice"), "php-fpm.conf")) as f:
        assert "pm.max_children = 3\n" in f.read()
    assert sb.json("show", "alice")["max_children"] == 3
    # the old master drains and goes; nothing of it stays
    wait_until(lambda: not pid_alive(alice0), 10, what="old master exit")
    assert sb.php("alice", "<?php echo 'ok';").text == "ok"
    # setting the same again changes nothing
    r = sb.fpmctl("set", "alice", "max_children=3")
    assert r.rc == 0 and r.out == "alice: unchanged\n"
    assert sb.master_pid("alice") == alice1


def test_domain_change_needs_no_reload(two):
    sb = two
    pid = sb.master_pid("alice")
    # www.alice.example goes: a running account asks first
    r = sb.fpmctl("set", "alice", "domains=alice.example,shop.alice.example")
    assert r.rc == 2, r
    assert r.err == ("fpmctl: alice: www.alice.example will no longer be "
                     "alice's: after httpd's next graceful restart its PHP "
                     "requests fail (500) unless another account takes it; "
                     "nothing was changed: add -y (--yes) to go ahead\n")
    r = sb.fpmctl("set", "alice", "domains=alice.example,shop.alice.example",
                  "--yes")
    assert r.rc == 0, r
    assert "reloaded" not in r.out
    assert sb.master_pid("alice") == pid
    assert sb.json("show", "alice")["domains"] == [
        "alice.example", "shop.alice.example"]
    # bob's domain stays bob's
    r = sb.fpmctl("set", "alice", "domains=bob.example")
    assert r.rc == 2 and "domain: 'bob.example' is already owned by account "\
        "'bob'" in r.err


STABLE = {"name", "user", "group", "home", "domains", "socket", "slot",
          "state", "pid", "max_children", "max_upload", "php"}


def test_json_output(two):
    sb = two
    lst = sb.json("list")
    assert [a["name"] for a in lst] == ["alice", "bob"]
    for a in lst:
        assert STABLE <= set(a), a
        assert a["state"] == "running" and a["pid"] == sb.master_pid(
            a["name"])
        assert a["socket"] == sb.socket(a["name"])
        assert isinstance(a["max_upload"], int)
    show = sb.json("show", "bob")
    assert STABLE <= set(show)
    assert show["user"] == "wlft-bob" and show["domains"] == ["bob.example"]
    for key in ("max_children", "idle_timeout", "max_upload",
                "upload_ceiling", "max_execution_time", "opcache_memory",
                "opcache_interned_strings", "opcache_max_files",
                "opcache_validate_timestamps", "opcache_revalidate_freq",
                "apcu_memory", "php"):
        assert set(show["settings"][key]) == {"value", "text", "default",
                                              "override"}
    assert show["timeouts"]["request_terminate_timeout"] == 98
    st = sb.json("status")
    assert [s["name"] for s in st] == ["alice", "bob"]
    for s in st:
        assert STABLE <= set(s)
        for k in ("start_time", "accepted_conn", "active_processes",
                  "idle_processes", "total_processes", "listen_queue",
                  "max_children_reached"):
            assert k in s, (k, s)
        assert s["state"] == "running" and s["pool"] == s["name"]
        assert s["accepted_conn"] >= 1
    # the human forms are one line per fact and mention the same pids
    r = sb.fpmctl("status", "alice")
    assert r.rc == 0 and f"pid {sb.master_pid('alice')}" in r.out
    r = sb.fpmctl("list")
    assert r.rc == 0 and re.search(r"^bob\s+running\s+a\s+\d+", r.out, re.M)


def test_set_and_reset_to_default(two):
    sb = two
    default = sb.json("show", "bob")["settings"]["max_upload"]["default"]
    r = sb.fpmctl("set", "bob", "max_upload=64M")
    assert r.rc == 0, r
    s = sb.json("show", "bob")
    assert s["max_upload"] == 64 << 20
    assert s["settings"]["max_upload"] == {
        "value": 64 << 20, "text": "64M", "default": default,
        "override": True}
    assert "max_upload" in s["overrides"]
    assert sb.php("bob", "<?php echo ini_get('post_max_size');").text \
        == str(64 << 20)
    r = sb.fpmctl("set", "bob", "max_upload=off")
    assert r.rc == 0, r
    assert "max_upload 64M -> 8M (default)" in r.out
    s = sb.json("show", "bob")
    assert s["settings"]["max_upload"] == {
        "value": default, "text": "8M", "default": default,
        "override": False}
    assert s["max_upload"] == 8 << 20 and "max_upload" not in s["overrides"]
    with open(sb.account_file("bob")) as f:
        assert "max_upload" not in f.read()
    assert sb.php("bob", "<?php echo ini_get('post_max_size');").text \
        == str(8 << 20)


def test_help_texts_and_command_table(two):
    sb = two
    r = sb.fpmctl("--list-commands")
    names = [line.split("\t")[0] for line in r.out.splitlines()]
    assert r.rc == 0 and "add-account" in names and "reload" in names, r
    for n in names:
        r = sb.fpmctl(n, "--help")
        assert r.rc == 0 and r.out.startswith(f"usage: fpmctl {n}"), r
    r = sb.fpmctl("--help")
    assert r.rc == 0 and "Exit codes" in r.out
    r = sb.fpmctl("frobnicate")
    assert r.rc == 2 and "unknown command" in r.err


# ------------------------------------------------- remove, dead, check --

def test_remove_account_and_purge(sandbox):
    sb = sandbox
    alice = sb.add_account("alice")
    marker = os.path.join(alice.home, "keep.txt")
    with open(marker, "w") as f:
        f.write("mine")
    master = sb.master_pid("alice")
    acctdir = os.path.join(sb.paths["state"], "accounts", "alice")
    logdir = os.path.join(sb.paths["logs"], "alice")

    before = sb.tree_snapshot(exclude=("var/log",))
    r = sb.fpmctl("remove-account", "alice")
    assert r.rc == 2 and r.err.startswith(
        f"fpmctl: alice: is running (slot a, pid {master}); remove-account "
        "stops it, and its PHP requests fail"), r
    assert r.err.endswith("nothing was changed: add -y (--yes) to go "
                          "ahead\n")
    assert pid_alive(master)
    assert sb.tree_snapshot(exclude=("var/log",)) == before
    r = sb.fpmctl("-y", "remove-account", "alice")
    assert r.rc == 0 and r.out.startswith("alice: removed"), r
    assert not pid_alive(master)
    assert not os.path.lexists(sb.socket("alice"))
    assert not os.path.exists(sb.account_file("alice"))
    assert not os.path.exists(os.path.join(sb.paths["state"], "fpm",
                                           "alice.a"))
    assert os.listdir(sb.paths["sockets"]) == []
    assert os.path.isdir(acctdir) and os.path.isdir(logdir)
    assert open(marker).read() == "mine"
    assert sb.fpmctl("show", "alice").rc == 3

    # the data keeps the name from being used again (also by the same
    # user: test_containment_names.py) until it is purged
    r = sb.add_account("alice", check=False)
    assert r.rc == 2 and "remove-account alice --purge" in r.err, r
    r = sb.fpmctl("remove-account", "alice", "--purge")
    assert r.rc == 0 and "purged" in r.out, r
    assert not os.path.exists(acctdir) and not os.path.exists(logdir)
    sb.add_account("alice")
    r = sb.fpmctl("remove-account", "alice", "--purge", "--yes")
    assert r.rc == 0 and "purged" in r.out, r
    assert not os.path.exists(acctdir) and not os.path.exists(logdir)
    assert open(marker).read() == "mine" and os.path.isdir(alice.home)
    assert sb.fpmctl("remove-account", "alice").rc == 3


def test_status_of_killed_master_is_dead_and_start_recovers(sandbox):
    sb = sandbox
    sb.add_account("alice")
    assert sb.php("alice", "<?php echo 'up';").text == "up"
    master = sb.master_pid("alice")
    workers = children(master)
    assert workers
    os.kill(master, 9)
    wait_until(lambda: not pid_alive(master), what="master gone")
    r = sb.fpmctl("status", "alice")
    assert r.rc == 1 and "alice: dead" in r.out, r
    st = sb.json("status", "alice")[0]
    assert st["state"] == "dead" and st["pid"] == master
    assert sb.json("list")[0]["state"] == "dead"
    r = sb.fpmctl("check")
    assert r.rc == 1 and "instance is dead" in r.out
    # start cleans up (also the orphaned workers) and serves again
    r = sb.fpmctl("start", "alice")
    assert r.rc == 0 and "alice: started" in r.out, r
    assert not any(pid_alive(w) for w in workers)
    assert sb.php("alice", "<?php echo 'back';").text == "back"
    assert sb.json("status", "alice")[0]["state"] == "running"


def test_stop_start_restart(sandbox):
    sb = sandbox
    sb.add_account("alice")
    m0 = sb.master_pid("alice")
    r = sb.fpmctl("stop", "alice")
    assert r.rc == 0 and r.out == "alice: stopped\n", r
    assert not pid_alive(m0) and not os.path.lexists(sb.socket("alice"))
    assert sb.json("status", "alice")[0]["state"] == "stopped"
    assert sb.fpmctl("stop", "alice").out == "alice: not running\n"
    # set on a stopped account: files only; start picks them up
    r = sb.fpmctl("set", "alice", "max_children=2")
    assert r.rc == 0 and "not running" in r.out, r
    assert sb.master_pid("alice") is None
    r = sb.fpmctl("start", "--all")
    assert r.rc == 0 and "alice: started" in r.out, r
    assert sb.php("alice", "<?php echo 1;").text == "1"
    assert sb.fpmctl("start", "alice").out.startswith(
        "alice: already running")
    m1 = sb.master_pid("alice")
    r = sb.fpmctl("restart", "alice")
    assert r.rc == 0 and "restarted" in r.out
    # -q: nothing on success; -v: every step on stderr
    r = sb.fpmctl("-q", "reload", "alice")
    assert r.rc == 0 and r.out == "" and r.err == "", r
    r = sb.fpmctl("reload", "alice", "-v")
    assert r.rc == 0 and r.out.startswith("alice: reloaded"), r
    for step in ("php-fpm -t", "answered a FastCGI ping",
                 "switching alice.sock", "quits after"):
        assert step in r.err, (step, r)
    m1 = sb.master_pid("alice")
    r = sb.fpmctl("restart", "alice")
    assert r.rc == 0 and "restarted" in r.out
    assert sb.master_pid("alice") not in (None, m1)
    assert sb.fpmctl("start").rc == 2           # name or --all
    assert sb.fpmctl("start", "nobody").rc == 3


def test_check_lists_every_problem(sandbox):
    sb = sandbox
    alice = sb.add_account("alice")
    sb.add_account("bob")
    r = sb.fpmctl("check")
    assert r.rc == 0 and r.out.splitlines()[-1].startswith("ok:"), r
    checked = sb.json("check")
    assert checked.pop("limits")["how"]
    assert checked == {"schema": 1, "problems": [], "warnings": [],
                       "ok": True, "accounts": 2}
    tmp = os.path.join(sb.paths["state"], "accounts", "alice", "tmp")
    os.chmod(tmp, 0o777)
    os.chown(os.path.join(sb.paths["logs"], "bob", "php-error.log"), 0, 0)
    with open(os.path.join(sb.paths["accounts"], "carol.conf"), "w") as f:
        f.write("name = \"carol\";\nuser = ")
    os.chmod(sb.paths["accounts"], 0o757)
    r = sb.fpmctl("check")
    assert r.rc == 1, r
    assert f"alice: {tmp}: mode 0777, expected 0700" in r.out
    assert "bob: " in r.out and "php-error.log: owned by uid 0" in r.out
    assert "carol.conf" in r.out
    assert "writable by group or others" in r.out
    problems = sb.json("check")["problems"]
    assert len(problems) == 4, problems
    os.chmod(tmp, 0o700)
    del alice


def test_rebuild_reloads_only_what_changed(sandbox):
    sb = sandbox
    sb.set_config(drain_time=100)
    sb.add_account("alice", args=["--max-children", "4"])
    sb.add_account("bob")
    a0, b0 = sb.master_pid("alice"), sb.master_pid("bob")
    r = sb.fpmctl("rebuild", "--all")
    assert (r.rc, r.out) == (0, "rebuild: nothing to change\n"), r
    assert (sb.master_pid("alice"), sb.master_pid("bob")) == (a0, b0)
    # a new global default changes bob's instance, not alice's override
    with open(sb.conf) as f:
        text = f.read()
    with open(sb.conf, "w") as f:
        f.write(text.replace("max_children = 5;", "max_children = 6;"))
    r = sb.fpmctl("--dry-run", "rebuild", "--all")
    assert r.rc == 0 and r.out == "bob: would reload\n", r
    r = sb.fpmctl("rebuild", "--all")
    assert r.rc == 0 and r.out.startswith("bob: reloaded"), r
    assert sb.master_pid("alice") == a0
    assert sb.master_pid("bob") not in (None, b0)
    with open(os.path.join(sb.instance_dir("bob"), "php-fpm.conf")) as f:
        assert "pm.max_children = 6\n" in f.read()
    # progress on a terminal
    import pty
    import subprocess
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(FPMCTL, [FPMCTL, "rebuild", "--all"], sb.env)
    out = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.waitpid(pid, 0)
    assert b"[1/2] alice: unchanged" in out and b"[2/2] bob: unchanged" in out
    del subprocess


def test_start_relinks_an_instance_whose_switch_was_interrupted(sandbox):
    """fpmctl killed after the new master answered but before NAME.sock
    and NAME.live were written: start finds the master and links it."""
    sb = sandbox
    sb.add_account("alice")
    master = sb.master_pid("alice")
    os.unlink(sb.socket("alice"))
    os.unlink(os.path.join(sb.paths["state"], "fpm", "alice.live"))
    assert sb.json("list")[0]["state"] == "running"
    r = sb.fpmctl("start", "alice")
    assert r.rc == 0 and r.out.startswith(
        f"alice: already running (slot a, pid {master})"), r
    assert os.readlink(sb.socket("alice")) == "alice.a.sock"
    assert sb.php("alice", "<?php echo 'linked';").text == "linked"


def test_pm_static_keeps_max_children_running(sandbox):
    """pm=static: FPM keeps max_children workers (httpd may then reuse its
    connections); back to ondemand with pm=default. The change reloads the
    instance and tells the admin httpd needs a graceful restart."""
    sb = sandbox
    sb.add_account("alice", args=["--max-children", "3"])
    assert sb.json("show", "alice")["settings"]["pm"]["value"] == "ondemand"
    r = sb.fpmctl("set", "alice", "pm=static")
    assert r.rc == 0, r
    assert "pm" in r.out and "graceful restart" in r.out, r
    with open(os.path.join(sb.instance_dir("alice"), "php-fpm.conf")) as f:
        conf = f.read()
    assert "\npm = static\n" in conf and "pm.max_children = 3\n" in conf
    assert "process_idle_timeout" not in conf
    pid = sb.master_pid("alice")
    deadline = time.time() + 5
    kids = []
    while time.time() < deadline and len(kids) < 3:
        kids = [p for p in os.listdir("/proc") if p.isdigit()
                and _ppid(int(p)) == pid]
        time.sleep(0.05)
    assert len(kids) == 3
    assert sb.php("alice", "<?php echo 'ok';").text == "ok"
    j = sb.json("show", "alice")["settings"]["pm"]
    assert j == {**j, "value": "static", "override": True}
    r = sb.fpmctl("set", "alice", "pm=adaptive")
    assert r.rc == 2 and "pm" in r.err, r
    assert sb.fpmctl("set", "alice", "pm=default").rc == 0
    with open(os.path.join(sb.instance_dir("alice"), "php-fpm.conf")) as f:
        assert "\npm = ondemand\n" in f.read()


def _ppid(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None
