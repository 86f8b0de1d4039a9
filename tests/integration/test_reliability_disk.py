"""A full disk: fpmctl fails clearly, writes no half file, leaves no temp
file, and the accounts keep serving.

The config directory (or the derived instance directory) of a sandbox
is moved onto a small tmpfs mounted in its place, which is then filled:
with data (writes fail with ENOSPC) or with inodes (creating a file
fails with ENOSPC). The mount is always undone.
"""
import contextlib
import glob
import os
import shutil
import subprocess

import pytest

from wlf.host import php_fpm
from wlf.sandbox import ensure_user, wait_until

ENOSPC_TEXT = os.strerror(28)           # "No space left on device"


@contextlib.contextmanager
def full_tmpfs(path, fill="data"):
    """Put `path` on a 1 MiB tmpfs (same contents, modes, owners) and fill
    it; yields the function that frees the space again."""
    save = path.rstrip("/") + ".before-tmpfs"
    shutil.copytree(path, save, symlinks=True)
    opts = "size=1m,mode=0755" + (",nr_inodes=64" if fill == "inodes"
                                  else "")
    subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "wlft-full", path],
                   check=True)
    try:
        subprocess.run(["cp", "-a", save + "/.", path], check=True)
        fillers = os.path.join(path, ".wlft-fill")
        os.mkdir(fillers)
        if fill == "data":
            fd = os.open(os.path.join(fillers, "data"),
                         os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                while True:
                    os.write(fd, b"\0" * 65536)
            except OSError as e:
                assert e.errno == 28, e
            try:                            # the last partial page too
                while True:
                    os.write(fd, b"\0")
            except OSError as e:
                assert e.errno == 28, e
            finally:
                os.close(fd)
        else:
            i = 0
            try:
                while True:
                    open(os.path.join(fillers, str(i)), "w").close()
                    i += 1
            except OSError as e:
                assert e.errno == 28, e

        def free():
            shutil.rmtree(fillers)
        yield free
    finally:
        r = subprocess.run(["umount", path], capture_output=True)
        if r.returncode != 0:
            subprocess.run(["umount", "-l", path], check=False)
        shutil.rmtree(save, ignore_errors=True)


def temp_files(sb):
    """fpmctl's temp files anywhere in the sandbox."""
    out = []
    for dirpath, _, files in os.walk(sb.root):
        out += [os.path.join(dirpath, f) for f in files
                if f.startswith(".fpmctl-tmp")]
    return out


def account_files(sb):
    d = sb.paths["accounts"]
    out = {}
    for n in sorted(os.listdir(d)):
        with open(os.path.join(d, n), "rb") as f:
            out[n] = f.read()
    return out


def assert_consistent(sb, names):
    """Every account file loads (list and show succeed), every rendered
    php-fpm.conf passes php-fpm -t, no temp file is left."""
    assert temp_files(sb) == []
    listed = [a["name"] for a in sb.json("list")]
    assert listed == sorted(names), listed
    for name in names:
        assert sb.fpmctl("show", name).rc == 0, name
    for conf in glob.glob(os.path.join(sb.paths["state"], "fpm", "*",
                                       "php-fpm.conf")):
        d = os.path.dirname(conf)
        t = subprocess.run([php_fpm(), "-t", "--fpm-config", conf],
                           env={"PATH": "/usr/sbin:/usr/bin:/bin",
                                "PHP_INI_SCAN_DIR": ":" + d + "/ini"},
                           capture_output=True, text=True)
        assert t.returncode == 0, (conf, t.stderr)


def serving(sb, names):
    """{name: master pid} after checking each account answers as itself."""
    out = {}
    for name in names:
        r = sb.php(name, "<?php echo posix_getpwuid(posix_geteuid())"
                         "['name'];")
        assert r.status == 200 and r.text == sb.accounts[name].user, r
        out[name] = sb.master_pid(name)
    return out


def new_account_args(sb, name):
    user = ensure_user(f"wlft-{name}").pw_name
    return ["add-account", name, "--user", user,
            "--home", sb.make_home(name, user)]


def no_instance_of(sb, name):
    assert not os.path.lexists(sb.socket(name))
    for slot in "ab":
        assert sb.master_pid(name, slot) is None


@pytest.mark.parametrize("fill", ["data", "inodes"])
def test_full_config_dir(sandbox, fill):
    sb = sandbox
    sb.add_account("fa")
    sb.add_account("fb")
    before = serving(sb, ["fa", "fb"])
    files = account_files(sb)
    etc = os.path.dirname(sb.conf)
    with full_tmpfs(etc, fill) as free:
        # a new account: refused, said why, nothing left behind
        r = sb.fpmctl(*new_account_args(sb, "fc"))
        assert r.rc == 1, r
        assert ENOSPC_TEXT in r.err and "fc" in r.err, r
        assert len(r.err.strip().splitlines()) == 1, r
        no_instance_of(sb, "fc")
        # a change of an existing account: refused, the old instance
        # keeps serving
        r = sb.fpmctl("set", "fa", "max_children=7")
        assert r.rc == 1, r
        assert ENOSPC_TEXT in r.err and "fa" in r.err, r
        wait_until(lambda: sb.master_pid(
            "fa", "b" if sb.live_slot("fa") == "a" else "a") is None,
            what="the new instance of fa stopped")
        assert account_files(sb) == files
        assert_consistent(sb, ["fa", "fb"])
        assert serving(sb, ["fa", "fb"]) == before
        # reload needs no space in the config dir
        r = sb.fpmctl("reload", "fb")
        assert r.rc == 0, r
        # with space again, the same commands work
        free()
        r = sb.fpmctl(*new_account_args(sb, "fc"))
        assert r.rc == 0, r
        r = sb.fpmctl("set", "fa", "max_children=7")
        assert r.rc == 0, r
        sb.register_account("fc", "wlft-fc", sb.make_home("fc", "wlft-fc"))
        serving(sb, ["fa", "fb", "fc"])
        assert_consistent(sb, ["fa", "fb", "fc"])


def test_full_instance_dir(sandbox):
    """The derived files (php-fpm.conf, ini) cannot be written."""
    sb = sandbox
    sb.add_account("fa")
    before = serving(sb, ["fa"])
    files = account_files(sb)
    fpm_dir = os.path.join(sb.paths["state"], "fpm")
    with full_tmpfs(fpm_dir, "data") as free:
        r = sb.fpmctl(*new_account_args(sb, "fc"))
        assert r.rc == 1, r
        assert ENOSPC_TEXT in r.err, r
        no_instance_of(sb, "fc")
        for cmd in (["set", "fa", "max_children=7"], ["reload", "fa"]):
            r = sb.fpmctl(*cmd)
            assert r.rc == 1, (cmd, r)
            assert ENOSPC_TEXT in r.err and "fa" in r.err, (cmd, r)
        assert account_files(sb) == files
        assert_consistent(sb, ["fa"])
        assert serving(sb, ["fa"]) == before
        free()
        assert sb.fpmctl("reload", "fa").rc == 0
        serving(sb, ["fa"])
        assert_consistent(sb, ["fa"])
