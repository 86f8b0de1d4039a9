"""fpmctl under pressure: 20 concurrent add-account runs, kill -9 at
random moments of add and set, and a reload under load that drops no
request (a quick version)."""
import glob
import os
import random
import signal
import subprocess
import threading
import time

from wlf import FPMCTL
from wlf.host import php_fpm
from wlf.sandbox import ensure_user, pid_alive


def fpm_test(sb, instance_dir):
    """php-fpm -t on a rendered instance, as fpmctl runs it."""
    env = {"PATH": "/usr/sbin:/usr/bin:/bin",
           "PHP_INI_SCAN_DIR": ":" + os.path.join(instance_dir, "ini")}
    return subprocess.run([php_fpm(), "-t", "--fpm-config",
                           os.path.join(instance_dir, "php-fpm.conf")],
                          env=env, capture_output=True, text=True)


def assert_all_files_parse(sb):
    """Every account file loads (list exits 0 only then), every generated
    FPM config passes php-fpm -t, and no temp file looks like a config."""
    r = sb.fpmctl("list", "--json")
    assert r.rc == 0, r
    names = [a["name"] for a in sb.json("list")]
    for conf in glob.glob(os.path.join(sb.paths["state"], "fpm", "*",
                                       "php-fpm.conf")):
        t = fpm_test(sb, os.path.dirname(conf))
        assert t.returncode == 0, (conf, t.stderr)
        with open(os.path.join(os.path.dirname(conf), "ini",
                               "wlfcgi.ini")) as f:
            assert "apc.shm_size=" in f.read()
    for d in (sb.paths["accounts"], os.path.join(sb.paths["state"], "fpm")):
        for n in os.listdir(d):
            if n.endswith(".conf"):
                assert not n.startswith("."), n
    return names


def test_20_concurrent_adds(sandbox):
    sb = sandbox
    # they queue for the lock one after the other: ~0.2 s each, more on a
    # busy machine, so give the last one more than the default 10 s
    sb.set_config(lock_timeout=120)
    users = [ensure_user(f"wlft-c{i:02d}") for i in range(20)]
    procs = []
    for i, pw in enumerate(users):
        home = sb.make_home(f"c{i:02d}", pw.pw_name)
        procs.append(subprocess.Popen(
            [FPMCTL, "add-account", f"c{i:02d}", "--user", pw.pw_name,
             "--home", home, "--domain", f"c{i:02d}.example"],
            env=sb.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True))
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    names = assert_all_files_parse(sb)
    assert names == [f"c{i:02d}" for i in range(20)]
    pids = set()
    for i, pw in enumerate(users):
        name = f"c{i:02d}"
        sb.register_account(name, pw.pw_name, sb.make_home(name, pw.pw_name))
        r = sb.php(name, "<?php echo posix_geteuid();")
        assert r.status == 200 and r.text == str(pw.pw_uid), (name, r)
        pids.add(sb.master_pid(name))
    assert len(pids) == 20 and None not in pids
    assert sb.fpmctl("check").rc == 0


def test_kill_9_at_random_moments(sandbox):
    sb = sandbox
    sb.set_config(drain_time=50)
    seed = int(os.environ.get("WLFT_SEED", time.time()))
    rnd = random.Random(seed)
    pw = ensure_user("wlft-alice")
    home = sb.make_home("k", pw.pw_name)
    sb.add_account("base", user=pw.pw_name)
    killed, added = 0, []
    for i in range(200):
        if killed >= 50:
            break
        if rnd.random() < 0.5 or not added:
            name = f"k{i:03d}"
            args = ["add-account", name, "--user", pw.pw_name, "--home",
                    home, "--max-children", str(rnd.randint(1, 9))]
            added.append(name)
        else:
            target = rnd.choice(["base"] + added)
            args = ["set", target, f"max_children={rnd.randint(1, 9)}",
                    f"php_admin.memory_limit={rnd.randint(64, 256)}M"]
        p = subprocess.Popen([FPMCTL, *args], env=sb.env,
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL,
                             start_new_session=True)
        # add/set take 100-200 ms here: kill anywhere in there
        time.sleep(rnd.uniform(0, 0.2))
        if p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)
            killed += 1
        p.wait()
    assert killed >= 50, (killed, seed)
    names = assert_all_files_parse(sb)
    assert "base" in names
    # and everything comes back: start every account, each one serves
    r = sb.fpmctl("start", "--all", timeout=300)
    assert r.rc == 0, r
    assert sb.fpmctl("rebuild", "--all").rc == 0
    for name in names:
        if name != "base":
            sb.register_account(name, pw.pw_name, home)
        r = sb.php(name, "<?php echo 'ok';")
        assert r.text == "ok", (name, r, seed)


def test_reload_under_load_drops_nothing(sandbox):
    sb = sandbox
    sb.set_config(drain_time=300)
    sb.add_account("alice", args=["--max-children", "8"])
    script = sb.write_php("alice", "<?php usleep(30000); echo 'ok';")
    stop = threading.Event()
    results, errors = [], []

    def client():
        while not stop.is_set():
            try:
                r = sb.request("alice", script, timeout=10)
                results.append(r.status == 200 and r.text == "ok")
            except OSError as e:
                errors.append(repr(e))

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    masters = [sb.master_pid("alice")]
    try:
        for _ in range(3):
            time.sleep(0.3)
            r = sb.fpmctl("reload", "alice")
            assert r.rc == 0, r
            masters.append(sb.master_pid("alice"))
        time.sleep(0.6)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert len(set(masters)) == 4, masters
    assert errors == []
    assert len(results) > 50 and all(results), (len(results),
                                                results.count(False))
    # the old masters drained and left
    time.sleep(0.5)
    assert [m for m in masters[:-1] if pid_alive(m)] == []
