"""What this machine has, found the way the build and the programs find it,
so that the suites run on Debian and RPM systems alike.

- httpd: its binary, module directory and compiled-in modules from
  ``apxs -q`` (SBINDIR, TARGET, LIBEXECDIR) and ``httpd -l``, as the demo
  (docs/demo/demo.sh) and bench/lib.sh find them. Debian calls it
  apache2, RHEL httpd.
- php-fpm and httpd's group: what ``fpmctl init`` itself writes into a
  fresh wlfcgi.conf (the default PHP version's binary; ``httpd_group``).
  httpd runs as the user of the same name on both families (www-data,
  apache).
- test users: ``ensure_user()``, the one way the harness makes them, and
  ``install()``, which writes files they own.
"""
import functools
import grp
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time

from . import FPMCTL, fcgi


@functools.lru_cache(maxsize=None)
def apxs(var):
    """``apxs -q VAR``."""
    exe = shutil.which("apxs") or shutil.which("apxs2")
    if exe is None:
        raise RuntimeError("apxs not found (install httpd-devel / "
                           "apache2-dev: ./build.sh deps)")
    return subprocess.run([exe, "-q", var], capture_output=True, text=True,
                          check=True).stdout.strip()


@functools.lru_cache(maxsize=None)
def httpd():
    """The httpd binary (apache2 on Debian, httpd on RHEL)."""
    return os.path.join(apxs("SBINDIR"), apxs("TARGET"))


@functools.lru_cache(maxsize=None)
def module_dir():
    """Where httpd's shared modules live."""
    return apxs("LIBEXECDIR")


@functools.lru_cache(maxsize=None)
def builtin_modules():
    """Names of the modules compiled into httpd ("unixd", "so", ...)."""
    out = subprocess.run([httpd(), "-l"], capture_output=True, text=True,
                         check=True).stdout
    return frozenset(re.findall(r"^\s*(?:mod_)?(\w+)\.c$", out, re.M))


@functools.lru_cache(maxsize=None)
def _init_defaults():
    """What `fpmctl init` writes on this machine: php.versions' default
    binary and httpd_group."""
    with tempfile.TemporaryDirectory(prefix="wlfi", dir="/tmp") as d:
        conf = os.path.join(d, "etc/wlfcgi/wlfcgi.conf")
        subprocess.run([FPMCTL, "-q", "-c", conf, "init", "--prefix", d,
                        "--service", "direct"], capture_output=True,
                       text=True, check=True)
        with open(conf) as f:
            text = f.read()
    default = re.search(r'^\s*default = "([^"]+)";', text, re.M).group(1)
    fpm = re.search(rf'version = "{re.escape(default)}"; fpm = "([^"]+)";',
                    text).group(1)
    group = re.search(r'^httpd_group = "([^"]+)";', text, re.M).group(1)
    return fpm, group


def php_fpm():
    """The php-fpm binary fpmctl uses for accounts by default."""
    return _init_defaults()[0]


def start_php_fpm(conf, pid_file, sock):
    """Start a daemonizing php-fpm master from `conf` and wait (10 s at
    most) until its pool on `sock` answers a ping; the master's pid."""
    subprocess.run([php_fpm(), "--fpm-config", conf], check=True,
                   capture_output=True, timeout=30)
    with open(pid_file) as f:
        pid = int(f.read())
    deadline = time.time() + 10
    while True:
        try:
            fcgi.ping(sock)
            return pid
        except OSError:
            if time.time() > deadline:
                raise
            time.sleep(0.02)


def quit_php_fpm(pid):
    """Ask a php-fpm master to finish; one already gone is fine."""
    try:
        os.kill(pid, signal.SIGQUIT)
    except ProcessLookupError:
        pass


def max_rss_kib(pids):
    """Largest VmRSS (KiB) among these processes; gone ones are skipped."""
    best = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        best = max(best, int(line.split()[1]))
        except OSError:
            pass
    return best


def pss_kib(pid):
    """Proportional set size (KiB) of a process; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def stop_process(proc, steps):
    """Stop the child `proc` (a Popen): send each (signal, seconds to
    wait) of `steps` in turn until it has exited."""
    if proc is None or proc.poll() is not None:
        return
    for sig, wait in steps:
        os.kill(proc.pid, sig)
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


def remove_cgroup(base):
    """Remove the cgroup dir `base` and the groups in it, each retried for
    5 s (a group whose last process just exited stays busy for a moment);
    one that is not there is fine."""
    if not os.path.isdir(base):
        return
    for d in os.listdir(base):
        p = os.path.join(base, d)
        if os.path.isdir(p):
            for _ in range(50):
                try:
                    os.rmdir(p)
                    break
                except OSError:
                    time.sleep(0.1)
    try:
        os.rmdir(base)
    except OSError:
        pass


def httpd_group():
    """The group httpd runs as (owns every account's socket)."""
    return _init_defaults()[1]


def httpd_user():
    """The user httpd runs as: named like its group on Debian and RHEL."""
    return httpd_group()


def ensure_user(name, tries=20):
    """Return the passwd entry of Unix user ``name``, creating it (no home,
    no login, its own group) if missing. Safe when several test runs
    create the same user at once."""
    if not name.startswith(("wlft-", "wlfdemo-")):
        raise ValueError("test users are called wlft-*")
    for _ in range(tries):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            pass
        try:
            grp.getgrnam(name)
            group_args = ["-g", name]      # a leftover group of that name
        except KeyError:
            group_args = ["-U"]
        r = subprocess.run(["useradd", "-M", *group_args, "-s",
                            "/usr/sbin/nologin", "-d", "/nonexistent", name],
                           capture_output=True, text=True)
        # 9: exists (another run was faster); 10: passwd locked: retry
        if r.returncode not in (0, 9, 10):
            raise RuntimeError(f"useradd {name}: {r.stderr.strip()}")
        if r.returncode == 10:
            time.sleep(0.2)
    return pwd.getpwnam(name)


def install(path, text, user=None, mode=0o644, backdate=False):
    """Write `text` to `path` (making its directory), owned by `user` if
    given, and return the path. backdate: an mtime a minute back, so that
    OPcache caches the script at once (opcache.file_update_protection
    skips fresh files)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    if user:
        pw = pwd.getpwnam(user)
        os.chown(path, pw.pw_uid, pw.pw_gid)
    if backdate:
        past = time.time() - 60
        os.utime(path, (past, past))
    return path
