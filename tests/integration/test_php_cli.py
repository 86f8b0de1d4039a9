"""`fpmctl php NAME [ARGS...]`: the account's PHP on the command line, as
the account's user, with its ini settings, open_basedir and temp
directories, exiting with PHP's status. Real PHP CLI through fpmctl."""
import json
import os
import pty
import select
import shutil
import signal
import subprocess
import time

from wlf import FPMCTL


def test_runs_as_the_account_with_its_settings(sandbox):
    sb = sandbox
    alice = sb.add_account("alice")
    sb.fpmctl("set", "alice", "php_admin.memory_limit=123M", check=True)
    acctdir = os.path.join(sb.paths["state"], "accounts", "alice")
    r = sb.fpmctl("php", "alice", "-r",
                  'echo json_encode([posix_geteuid(), posix_getegid(), '
                  'ini_get("open_basedir"), ini_get("memory_limit"), '
                  'sys_get_temp_dir(), ini_get("upload_tmp_dir"), '
                  'session_save_path(), getenv("TMPDIR"), '
                  'getenv("WLFCGI_CONFIG")]);')
    assert r.rc == 0, r
    uid, gid, basedir, mem, tmp, upload, sessions, tmpdir, leaked = \
        json.loads(r.out)
    assert (uid, gid) == (alice.uid, alice.gid)
    assert basedir == f"{alice.home}/:{acctdir}/"
    assert mem == "123M"
    assert tmp == tmpdir == f"{acctdir}/tmp"
    assert upload == f"{acctdir}/upload"
    assert sessions == f"{acctdir}/sessions"
    # nothing of root's environment
    assert leaked is False


def test_exits_with_phps_status_and_passes_arguments(sandbox):
    sb = sandbox
    sb.add_account("alice")
    script = sb.write_php("alice", "<?php fwrite(STDERR, 'err:' . $argv[1]);"
                          " echo fgets(STDIN); exit((int)$argv[2]);",
                          filename="cron.php")
    r = sb.fpmctl("php", "alice", script, "hello", "7", input="from-stdin")
    assert r.rc == 7, r
    assert r.out == "from-stdin" and r.err == "err:hello"
    # php's own options stay php's (-v is not fpmctl's verbose)
    r = sb.fpmctl("php", "alice", "-v")
    assert r.rc == 0 and r.out.startswith("PHP "), r
    assert sb.fpmctl("php", "alice", "-r", "exit(3);").rc == 3


def test_open_basedir_holds(sandbox):
    sb = sandbox
    sb.add_account("alice")
    r = sb.fpmctl("php", "alice", "-r",
                  'var_dump(@file_get_contents("/etc/hostname"));')
    assert r.rc == 0 and "bool(false)" in r.out, r


def test_options_that_drop_the_settings_are_refused(sandbox):
    sb = sandbox
    sb.add_account("alice")
    for opt in (["-n"], ["-d", "open_basedir="], ["-dopen_basedir="],
                ["-c", "/tmp/x.ini"], ["--define", "a=b"],
                ["-z", "/tmp/x.so"], ["--no-php-ini"]):
        r = sb.fpmctl("php", "alice", *opt, "-r", "echo 'ran';")
        assert r.rc == 2 and "ran" not in r.out, (opt, r)
    # after the script they are the script's own arguments
    script = sb.write_php("alice", "<?php echo implode(' ', $argv);")
    r = sb.fpmctl("php", "alice", script, "-d", "x")
    assert r.rc == 0 and r.out.endswith(" -d x"), r


def test_unknown_or_suspended_account_runs_nothing(sandbox):
    sb = sandbox
    sb.add_account("alice")
    assert sb.fpmctl("php", "nobody", "-r", "echo 1;").rc == 3
    assert sb.fpmctl("php").rc == 2
    sb.fpmctl("suspend", "alice", check=True)
    r = sb.fpmctl("php", "alice", "-r", "echo 'ran';")
    assert r.rc == 1 and "suspended" in r.err and r.out == "", r


def test_cron_from_a_directory_the_user_cannot_enter(sandbox):
    """root's cron starts in /root: PHP then starts in the account's home."""
    sb = sandbox
    alice = sb.add_account("alice")
    r = subprocess.run([FPMCTL, "php", "alice",
                        "-r", "echo getcwd();"], cwd="/root", env=sb.env,
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout == alice.home, r


# ---- the caller's terminal stays the caller's ----

# A program the customer's PHP starts pushes a command into the input of
# the terminal it runs on (TIOCSTI): run on root's own terminal, root's
# shell reads and runs it after fpmctl has ended.
INJECT = r"""<?php
exec("python3 -c " . escapeshellarg(
    "import fcntl, termios\n" .
    "for c in 'echo INJECTED\\n':\n" .
    "    fcntl.ioctl(0, termios.TIOCSTI, c.encode())") . " 2>&1", $out, $rc);
echo "php ran rc=$rc", PHP_EOL;
"""

# A helper the customer's PHP leaves behind, in a session of its own (no
# job control stops it), keeps the terminal PHP was given and reads what
# is typed there after fpmctl has ended: root's next password, say.
KEYLOG = r"""<?php
exec("exec 3<&0; setsid sh -c 'read -r line; echo \"[\$line]\" > "
     . __DIR__ . "/stolen.txt' <&3 >/dev/null 2>&1 &");
echo "php ran", PHP_EOL;
"""


def legacy_tiocsti():
    """False where the kernel allows TIOCSTI only to CAP_SYS_ADMIN."""
    try:
        with open("/proc/sys/dev/tty/legacy_tiocsti") as f:
            return f.read().strip() != "0"
    except OSError:
        return True


def on_terminal(command, env, typed=b"", after=None, timeout=20):
    """Run `command` in bash on a new pseudo-terminal (as an admin's
    login shell would), type `typed` into it (once `after` was shown, if
    given); what the terminal shows."""
    pid, fd = pty.fork()
    if pid == 0:
        os.execvpe("bash", ["bash", "-c", command], env)
    if typed and after is None:
        os.write(fd, typed)
    out, deadline = b"", time.time() + timeout
    while time.time() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.2)
        if not ready:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                pid = None
                break
            continue
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        out += data
        if typed and after is not None and after.encode() in out:
            os.write(fd, typed)
            typed = b""
    if pid is not None:
        try:
            os.kill(pid, 9)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
    os.close(fd)
    return out.decode(errors="replace")


def test_php_cannot_type_into_the_callers_terminal(sandbox):
    """What `su`/`runuser` without --pty allow (shown with runuser), and
    what fpmctl php allowed too: the account's PHP pushes `echo INJECTED`
    into the terminal, and the caller's next read gets it. fpmctl runs
    PHP on a pseudo-terminal of its own."""
    sb = sandbox
    alice = sb.add_account("alice")
    script = sb.write_php("alice", INJECT, filename="inject.php")
    after = "; read -t 3 line; echo \"CALLER READ:[$line]\""
    if shutil.which("runuser") and legacy_tiocsti():
        stock = on_terminal(f"runuser -u {alice.user} -- php {script}"
                            + after, sb.env)
        assert "CALLER READ:[echo INJECTED]" in stock, stock
    ours = on_terminal(f"{FPMCTL} php alice {script}" + after, sb.env)
    assert "php ran rc=0" in ours, ours
    assert "CALLER READ:[]" in ours, ours


def test_php_cannot_read_the_callers_terminal_afterwards(sandbox):
    """A helper left behind reads the line root types after the command
    ended: with runuser it gets it; with fpmctl its terminal was fpmctl's
    pseudo-terminal, hung up when PHP ended."""
    sb = sandbox
    alice = sb.add_account("alice")
    script = sb.write_php("alice", KEYLOG, filename="keylog.php")
    stolen = os.path.join(alice.home, "stolen.txt")
    rest = "; echo CALLER-DONE; sleep 2"
    for cmd, leaks in ((["runuser", "-u", alice.user, "--", "php"], True),
                       ([FPMCTL, "php", "alice"], False)):
        if leaks and not shutil.which("runuser"):
            continue
        if os.path.exists(stolen):
            os.unlink(stolen)
        out = on_terminal(" ".join(cmd + [script]) + rest, sb.env,
                          typed=b"root-secret\n", after="CALLER-DONE")
        assert "php ran" in out, out
        deadline = time.time() + 5
        while not os.path.exists(stolen) and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(0.1)
        got = open(stolen).read() if os.path.exists(stolen) else ""
        assert ("root-secret" in got) == leaks, (cmd, got, out)


def test_php_on_a_terminal_is_interactive(sandbox):
    """PHP still gets a terminal: it reads what is typed, knows it is a
    terminal, gets the caller's window size, and fpmctl exits with its
    status."""
    sb = sandbox
    sb.add_account("alice")
    script = sb.write_php("alice", "<?php echo posix_isatty(STDIN) ? "
                          "'tty ' : 'notty ', 'got:', trim(fgets(STDIN)), "
                          "' size:', exec('stty size'), PHP_EOL; exit(5);",
                          filename="ask.php")
    out = on_terminal(f"stty rows 33 cols 77; {FPMCTL} php alice {script};"
                      f" echo \"rc=$?\"", sb.env, typed=b"hello\n")
    assert "tty got:hello size:33 77" in out and "rc=5" in out, out


def test_ctrl_c_reaches_php_and_ends_fpmctl_alike(sandbox):
    """^C typed on the terminal interrupts PHP (through its own
    terminal); fpmctl then ends by the same signal, so the caller's shell
    sees an interrupted command."""
    sb = sandbox
    sb.add_account("alice")
    out = on_terminal(f"{FPMCTL} php alice -r \"echo 'up', PHP_EOL; "
                      f"sleep(30);\"; echo \"rc=$?\"", sb.env,
                      typed=b"\x03", after="up")
    assert "rc=130" in out, out


def test_php_without_a_terminal_has_none(sandbox):
    """Redirected streams, started from a terminal: PHP cannot open the
    caller's terminal through /dev/tty either, and gets no descriptor of
    the caller's but 0, 1 and 2 (here: 7, the caller's file)."""
    sb = sandbox
    sb.add_account("alice")
    script = sb.write_php("alice", "<?php var_dump(@fopen('/dev/tty', "
                          "'r'), @fopen('php://fd/7', 'r'));",
                          filename="tty.php")
    out = on_terminal(f"{FPMCTL} php alice {script} </dev/null 2>&1 "
                      f"7</etc/hostname | cat", sb.env)
    assert out.split() == ["bool(false)", "bool(false)"], out


def test_signals_reach_php(sandbox):
    """SIGTERM to fpmctl reaches PHP; fpmctl ends by it as PHP did."""
    sb = sandbox
    sb.add_account("alice")
    p = subprocess.Popen([FPMCTL, "php", "alice", "-r",
                          "pcntl_signal(SIGTERM, function () { "
                          "echo 'term', PHP_EOL; exit(7); }); "
                          "echo 'up', PHP_EOL; "
                          "for ($i = 0; $i < 300; $i++) { usleep(100000); "
                          "pcntl_signal_dispatch(); }"], env=sb.env,
                         stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline() == "up\n"
    p.send_signal(signal.SIGTERM)
    assert p.wait(10) == 7
    assert p.stdout.read() == "term\n"
    p = subprocess.Popen([FPMCTL, "php", "alice", "-r",
                          "echo 'up', PHP_EOL; sleep(30);"], env=sb.env,
                         stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline() == "up\n"
    p.send_signal(signal.SIGTERM)
    assert p.wait(10) == -signal.SIGTERM
