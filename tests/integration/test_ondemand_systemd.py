"""On-demand accounts in systemd mode: the socket template
(rpm/wlfcgi-fpm@.socket) next to the instance template, checked by
systemd-analyze, and the hand-over of the listening socket (LISTEN_FDS, fd
3) to php-fpm run exactly as the unit's ExecStart runs it, with
systemd-socket-activate (no systemd PID 1 here)."""
import os
import re
import shutil
import signal
import stat
import subprocess
import tempfile

from wlf.sandbox import wait_until

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
UNITS = ["wlfcgi-fpm@.service", "wlfcgi-fpm@.socket", "wlfcgi.service",
         "wlfcgi-serve.service"]


def unit_text(name):
    with open(os.path.join(TOP, "rpm", name)) as f:
        return f.read()


def test_units_pass_systemd_analyze_verify():
    root = tempfile.mkdtemp(prefix="wlfu", dir="/tmp")
    try:
        udir = os.path.join(root, "usr/lib/systemd/system")
        os.makedirs(udir)
        for unit in os.listdir("/lib/systemd/system"):
            src = os.path.join("/lib/systemd/system", unit)
            if os.path.isfile(src) and not os.path.islink(src):
                shutil.copy2(src, udir)
        for unit in UNITS:
            shutil.copy2(os.path.join(TOP, "rpm", unit), udir)
        # what ExecStart names: /bin/sh, the instance's php-fpm, fpmctl
        for path in ("bin/sh", "var/lib/wlfcgi/fpm/alice.b/php-fpm",
                     "usr/sbin/fpmctl"):
            p = os.path.join(root, path)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "w") as f:
                f.write("#!/bin/sh\n")
            os.chmod(p, 0o755)
        man = os.path.join(root, "man/man8")
        os.makedirs(man)
        shutil.copy2(os.path.join(TOP, "fpmctl/fpmctl.8"), man)
        p = subprocess.run(["systemd-analyze", "verify", "--root", root,
                            "wlfcgi-fpm@alice.b.socket",
                            "wlfcgi-fpm@alice.b.service", "wlfcgi.service",
                            "wlfcgi-serve.service"],
                           capture_output=True, text=True, cwd=root,
                           env=dict(os.environ,
                                    MANPATH=os.path.join(root, "man")))
        assert p.returncode == 0 and p.stdout + p.stderr == "", \
            p.stdout + p.stderr
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_socket_unit_is_only_httpds_and_outlives_its_master():
    sock = unit_text("wlfcgi-fpm@.socket")
    assert re.search(r"(?m)^ListenStream=/run/wlfcgi/%i\.sock$", sock)
    assert re.search(r"(?m)^SocketUser=root$", sock)
    assert re.search(r"(?m)^SocketMode=0660$", sock)
    assert "Accept=yes" not in sock
    svc = unit_text("wlfcgi-fpm@.service")
    # the key php-fpm is told is the listen line fpmctl renders
    assert "FPM_SOCKETS=/run/wlfcgi/%i.fd=3" in svc


def exec_start(name, sb):
    """The instance unit's ExecStart as argv, for instance `name` of the
    sandbox: %i, the unit's paths moved into the sandbox, $$ unescaped."""
    line = re.search(r"(?m)^ExecStart=(.*)$",
                     unit_text("wlfcgi-fpm@.service")).group(1)
    line = line.replace("%i", name).replace("$$", "$")
    line = line.replace("/run/wlfcgi/", sb.paths["sockets"] + "/")
    line = line.replace("/var/lib/wlfcgi/", sb.paths["state"] + "/")
    m = re.fullmatch(r"/bin/sh -c '(.*)'", line)
    assert m, line
    return ["/bin/sh", "-c", m.group(1)]


def test_listen_fds_hand_over_to_php_fpm(sandbox):
    """systemd-socket-activate listens like the socket unit, and on the
    first connection runs the unit's ExecStart with the socket as fd 3:
    php-fpm answers that connection, as the account's user; when it
    exits, the socket file is still there (php-fpm unlinked the key)."""
    sb = sandbox
    sb.set_defaults(activation="on-demand")
    alice = sb.add_account("alice")
    script = sb.write_php("alice", "<?php echo 'hi ', "
                          "posix_getpwuid(posix_geteuid())['name'];")
    path = os.path.join(sb.paths["sockets"], "alice.a.sock")
    if os.path.exists(path):
        os.unlink(path)
    ini = os.path.join(sb.instance_dir("alice", "a"), "ini")
    act = subprocess.Popen(
        ["systemd-socket-activate", "-l", path,
         "-E", f"PHP_INI_SCAN_DIR=:{ini}", *exec_start("alice.a", sb)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        start_new_session=True)
    try:
        wait_until(lambda: os.path.exists(path), what="the socket")
        assert stat.S_ISSOCK(os.stat(path).st_mode)
        r = sb.request("alice", script, sock=path, timeout=20)
        assert r.status == 200 and r.text == f"hi {alice.user}", r
        # the activator exec'd php-fpm: same pid, now the master
        with open(f"/proc/{act.pid}/cmdline", "rb") as f:
            assert f.read().startswith(b"php-fpm: master process")
        os.kill(act.pid, signal.SIGQUIT)
        act.wait(20)
        out = act.stdout.read().decode(errors="replace")
        key = os.path.join(sb.paths["sockets"], "alice.a.fd")
        assert f'using inherited socket fd=3, "{key}"' in out, out
        assert os.path.exists(path), "php-fpm removed the socket file"
    finally:
        if act.poll() is None:
            os.killpg(act.pid, signal.SIGKILL)
            act.wait()
        if os.path.exists(path):
            os.unlink(path)


def test_fpmctl_arms_with_the_socket_unit_and_starts_no_instance(
        sandbox_factory):
    """systemd mode (fake systemctl): add-account of an on-demand account
    starts its slot's socket unit, no instance; stop stops both units."""
    sb = sandbox_factory(service="systemd")
    sb.set_defaults(activation="on-demand")
    r = sb.add_account("alice")
    calls = sb.systemctl_calls()
    assert "start wlfcgi-fpm@alice.a.socket" in calls, calls
    assert not any(c.startswith("start") and c.endswith(".service")
                   for c in calls), calls
    sb.fpmctl("stop", "alice", check=True)
    assert "stop wlfcgi-fpm@alice.a.service wlfcgi-fpm@alice.a.socket" in \
        sb.systemctl_calls()
    assert r.name == "alice"


def test_suspend_stops_the_socket_unit_and_resume_starts_only_it(
        sandbox_factory):
    """systemd mode: a suspended on-demand account's socket unit is
    stopped (no connection can start it), start --all leaves it so, and
    resume starts the socket unit again, not the instance."""
    sb = sandbox_factory(service="systemd")
    sb.set_defaults(activation="on-demand")
    sb.add_account("sue")
    before = len(sb.systemctl_calls())
    sb.fpmctl("suspend", "sue", check=True)
    calls = sb.systemctl_calls()[before:]
    assert "stop wlfcgi-fpm@sue.a.service wlfcgi-fpm@sue.a.socket" in \
        calls, calls
    assert os.readlink(sb.socket("sue")) == "sue.suspended"
    before = len(sb.systemctl_calls())
    sb.fpmctl("start", "--all", check=True)
    sb.fpmctl("rebuild", "--all", check=True)
    calls = sb.systemctl_calls()[before:]
    assert not any(c.startswith("start") for c in calls), calls
    assert sb.json("show", "sue")["state"] == "suspended"
    before = len(sb.systemctl_calls())
    r = sb.fpmctl("resume", "sue")
    assert r.rc == 0 and "resumed; idle" in r.out, r
    calls = sb.systemctl_calls()[before:]
    assert "start wlfcgi-fpm@sue.a.socket" in calls, calls
    assert not any(c.startswith("start") and c.endswith(".service")
                   for c in calls), calls
    assert os.readlink(sb.socket("sue")) == "sue.a.sock"


def test_serve_in_systemd_mode_stops_idle_masters_systemd_started(
        sandbox_factory):
    """serve holds nothing in systemd mode; a master the socket unit
    started (here: the fake systemctl) is noticed by its pid file and
    stopped once idle; SIGTERM leaves running masters to systemd."""
    sb = sandbox_factory(service="systemd")
    sb.set_defaults(activation="on-demand", idle_stop=1)
    sb.add_account("bob")
    sb.start_serve()
    subprocess.run([sb.env["WLFCGI_SYSTEMCTL"], "start",
                    "wlfcgi-fpm@bob.a.service"], check=True)
    pid = wait_until(lambda: sb.master_pid("bob", "a"), what="bob's master")
    wait_until(lambda: "bob: stopping php-fpm" in sb.serve_output(),
               timeout=15, what="serve to stop the idle master")
    wait_until(lambda: not os.path.exists(f"/proc/{pid}/cmdline") or
               sb.master_pid("bob", "a") is None, timeout=10,
               what="the master to exit")
    subprocess.run([sb.env["WLFCGI_SYSTEMCTL"], "start",
                    "wlfcgi-fpm@bob.a.service"], check=True)
    pid = wait_until(lambda: sb.master_pid("bob", "a"), what="a new master")
    assert sb.stop_serve() == 0
    assert sb.master_pid("bob", "a") == pid, "serve stopped a unit's master"
