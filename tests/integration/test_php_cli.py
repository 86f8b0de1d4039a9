"""`fpmctl php NAME [ARGS...]`: the account's PHP on the command line, as
the account's user, with its ini settings, open_basedir and temp
directories, exiting with PHP's status. Real PHP CLI through fpmctl."""
import json
import os
import subprocess

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
