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
UNITS = ["wlfcgi-fpm@.service", "wlfcgi-fpm@.socket", "wlfcgi.service"]


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
                            "wlfcgi-fpm@alice.b.service", "wlfcgi.service"],
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
