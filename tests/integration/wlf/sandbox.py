"""Sandboxes for wlfcgi integration tests: a pytest plugin module.

tests/integration/conftest.py loads it automatically. A sandbox is a
private wlfcgi installation made with ``fpmctl init --prefix DIR`` in a
short temp dir (unix socket paths must fit in 108 bytes), with real php-fpm
instances started by fpmctl. Everything it starts is stopped on teardown,
by pid, never by process name.

Fixtures
--------
``sandbox``
    A fresh sandbox for one test (direct service mode).
``module_sandbox``
    One sandbox shared by a test module: add accounts once, use them in
    many tests (cheaper; tests must not break its accounts).
``sandbox_factory``
    ``sandbox_factory(service="systemd", config={"drain_time": 200})``
    for tests that need options or several sandboxes; all are torn down
    when the test ends.
``wlft_user``
    ``wlft_user("alice")`` -> ``pwd.struct_passwd`` of Unix user
    ``wlft-alice`` (created if missing; uid >= 1000).

Typical use::

    def test_runs_as_user(sandbox):
        alice = sandbox.add_account("alice", domains=["alice.example"])
        r = sandbox.php("alice", "<?php echo posix_geteuid();")
        assert r.status == 200 and r.text == str(alice.uid)

Sandbox API (see the class for details): ``fpmctl(*args)`` -> Result
(rc, out, err; unpacks as a tuple), ``json(*args)``, ``add_account()``,
``socket(name)``, ``php(name, code)``, ``request(name, script)``,
``master_pid(name)``, ``worker_pids(pid)``, ``set_config(**ints)``,
``set_defaults(**settings)``, ``start_serve()``, ``stop_serve()``,
``register_account()``,
``add_php_version()``, ``tree_snapshot()``, ``paths``, ``env``,
``sysroot`` (an empty directory that ``fpmctl check`` takes for the
distribution's file system, ``$WLFCGI_SYSROOT``), ``close()``.
Module-level helpers: ``fcgi_request()`` (from wlf.fcgi),
``ensure_user()`` (from wlf.host), ``FPMCTL``.

Set WLFT_KEEP=1 to keep sandbox directories after the tests (instances are
stopped anyway).
"""
import collections
import hashlib
import json
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

import pytest

from wlf import FPMCTL
from wlf.fcgi import FcgiResponse, fcgi_request
from wlf.host import ensure_user, install

__all__ = ["Sandbox", "Account", "Result", "FcgiResponse", "fcgi_request",
           "ensure_user", "FPMCTL"]

# ------------------------------------------------------------- sandbox --


class Result(collections.namedtuple("Result", "rc out err")):
    """What an fpmctl run returned; unpacks as (rc, out, err)."""

    def __str__(self):
        return f"rc={self.rc}\n--- stdout\n{self.out}--- stderr\n{self.err}"


class Account:
    """An account added through Sandbox.add_account()."""

    def __init__(self, sandbox, name, user, home):
        self.sandbox, self.name, self.home = sandbox, name, home
        pw = pwd.getpwnam(user)
        self.user, self.uid, self.gid = user, pw.pw_uid, pw.pw_gid

    @property
    def socket(self):
        return self.sandbox.socket(self.name)

    def __repr__(self):
        return f"<Account {self.name} user={self.user}>"


def _proc_cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def _proc_ppid_state(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
        return int(rest[1]), rest[0]
    except (OSError, IndexError, ValueError):
        return None, None


def pid_alive(pid):
    """The process exists and is not a zombie."""
    ppid, state = _proc_ppid_state(pid)
    return state is not None and state not in ("Z", "X")


def children(pid):
    """Pids whose parent is ``pid``."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit() and _proc_ppid_state(int(d))[0] == pid:
            out.append(int(d))
    return out


def wait_until(predicate, timeout=10.0, interval=0.02, what="condition"):
    """Poll ``predicate`` until it returns true; fail after ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for "
                                 f"{what}")
        time.sleep(interval)


FAKE_SYSTEMCTL = r'''#!/usr/bin/python3
# A stand-in for systemctl in tests (no systemd here): starts and stops the
# wlfcgi-fpm@NAME.SLOT units the way rpm/wlfcgi-fpm@.service does, and logs
# every call to @LOG@. If @BREAK@ exists, "start" succeeds but starts
# nothing (an instance that never comes up).
import os, signal, subprocess, sys, time
STATE, LOG, BREAK = "@STATE@", "@LOG@", "@BREAK@"
args = sys.argv[1:]
with open(LOG, "a") as f:
    f.write(" ".join(args) + "\n")
verb = args[0] if args else ""
units = [a for a in args[1:] if not a.startswith("-")]
no_block = "--no-block" in args
rc = 0
for unit in units:
    if unit.endswith(".socket"):
        continue        # socket units (on-demand accounts): only logged
    inst = unit[len("wlfcgi-fpm@"):-len(".service")]
    d = os.path.join(STATE, "fpm", inst)
    name, slot = inst.rsplit(".", 1)
    if verb == "start":
        if os.path.exists(BREAK):
            continue
        env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
               "PHP_INI_SCAN_DIR": ":" + os.path.join(d, "ini")}
        r = subprocess.run([os.path.join(d, "php-fpm"), "--fpm-config",
                            os.path.join(d, "php-fpm.conf")], env=env,
                           stdin=subprocess.DEVNULL, capture_output=True,
                           start_new_session=True)
        if r.returncode:
            sys.stderr.write("Job for %s failed.\n" % unit)
            rc = 1
    elif verb == "stop":
        conf = os.path.join(d, "php-fpm.conf")
        pidfile = None
        for line in open(conf) if os.path.exists(conf) else []:
            if line.startswith("pid = "):
                pidfile = line.split('"')[1]
        try:
            pid = int(open(pidfile).read()) if pidfile else 0
        except (OSError, ValueError):
            pid = 0
        if pid:
            try:
                os.kill(pid, signal.SIGQUIT)
            except ProcessLookupError:
                pid = 0
        end = time.monotonic() + 10
        while pid and not no_block and time.monotonic() < end:
            try:
                st = open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1]
                if st.split()[0] in ("Z", "X"):
                    break
            except OSError:
                break
            time.sleep(0.02)
sys.exit(rc)
'''


class Sandbox:
    """A private wlfcgi installation under a temp dir.

    service: "direct" or "systemd" (systemd mode uses a fake systemctl that
    logs its calls to ``self.systemctl_log``; see ``systemctl_calls()``).
    config: top-level integer settings of wlfcgi.conf to change after init,
    e.g. {"drain_time": 200, "start_timeout": 5, "lock_timeout": 2}.
    min_uid is 100 unless given (see DEFAULT_CONFIG).
    """

    # Test users may already exist as system users (uid < 1000) when other
    # suites made them with useradd -r; sandboxes accept uids from 100.
    # Tests of the min_uid check set it explicitly.
    DEFAULT_CONFIG = {"min_uid": 100}

    def __init__(self, service="direct", config=None):
        if not os.access(FPMCTL, os.X_OK):
            raise RuntimeError(f"{FPMCTL} is missing: run make first")
        self.root = tempfile.mkdtemp(prefix="wlf", dir="/tmp")
        os.chmod(self.root, 0o755)
        self.conf = os.path.join(self.root, "etc/wlfcgi/wlfcgi.conf")
        self.env = dict(os.environ, WLFCGI_CONFIG=self.conf)
        self.env.pop("WLFCGI_SYSTEMCTL", None)
        # `fpmctl check` looks for the distribution's own php-fpm pools
        # under WLFCGI_SYSROOT: an empty one, so that this machine's
        # php-fpm packages do not show up in every sandbox's check
        self.sysroot = os.path.join(self.root, "sysroot")
        os.makedirs(self.sysroot)
        self.env["WLFCGI_SYSROOT"] = self.sysroot
        self.accounts = {}
        self.service = service
        self.systemctl_log = os.path.join(self.root, "systemctl.log")
        self.serve, self.serve_log = None, None
        self._closed = False
        # accounts run always unless a test asks for on-demand
        # (set_defaults(activation="on-demand")); init would pick
        # on-demand for systemd mode
        r = self.fpmctl("init", "--prefix", self.root, "--service", service,
                        "--activation", "always")
        if r.rc != 0:
            self.close()
            raise RuntimeError(f"fpmctl init failed: {r}")
        if service == "systemd":
            self._install_fake_systemctl()
        self.set_config(**dict(self.DEFAULT_CONFIG, **(config or {})))

    # -- layout --
    @property
    def paths(self):
        """Directories of the sandbox (as init wrote them)."""
        return {
            "config": self.conf,
            "accounts": os.path.join(self.root, "etc/wlfcgi/accounts.d"),
            "sockets": os.path.join(self.root, "run/wlfcgi"),
            "state": os.path.join(self.root, "var/lib/wlfcgi"),
            "logs": os.path.join(self.root, "var/log/wlfcgi"),
            "homes": os.path.join(self.root, "home"),
        }

    def socket(self, name):
        """<sockets>/NAME.sock, the link httpd uses."""
        return os.path.join(self.paths["sockets"], f"{name}.sock")

    def account_file(self, name):
        return os.path.join(self.paths["accounts"], f"{name}.conf")

    def live_slot(self, name):
        """'a' or 'b' (the target of NAME.sock), or None."""
        try:
            target = os.readlink(self.socket(name))
        except OSError:
            return None
        m = re.fullmatch(re.escape(name) + r"\.([ab])\.sock", target)
        return m.group(1) if m else None

    def instance_dir(self, name, slot=None):
        slot = slot or self.live_slot(name)
        return os.path.join(self.paths["state"], "fpm", f"{name}.{slot}")

    def fpm_masters(self, pattern=""):
        """Pids of this sandbox's php-fpm masters whose config path after
        <state>/fpm/ matches the regex `pattern` (all of them with "").
        A worker just forked still bears its master's title: left out."""
        want = re.compile(re.escape(os.path.join(self.paths["state"], "fpm",
                                                 "")) + pattern)
        found = {}
        for d in os.listdir("/proc"):
            if not d.isdigit():
                continue
            cmd = _proc_cmdline(d)
            if cmd.startswith("php-fpm: master process") and want.search(cmd):
                ppid = _proc_ppid_state(d)[0]
                if ppid is not None:
                    found[int(d)] = ppid
        return [p for p, pp in found.items() if pp not in found]

    # -- running fpmctl --
    def fpmctl(self, *args, timeout=120, input=None, env=None, check=False):
        """Run build/fpmctl with this sandbox's config; return Result.
        check=True fails the test (with the output) unless it exits 0."""
        e = dict(self.env)
        if env:
            e.update(env)
        r = subprocess.run([FPMCTL, *map(str, args)], capture_output=True,
                           text=True, timeout=timeout, input=input, env=e)
        res = Result(r.returncode, r.stdout, r.stderr)
        if check and res.rc != 0:
            raise AssertionError(f"fpmctl {' '.join(map(str, args))} "
                                 f"failed:\n{res}")
        return res

    def json(self, *args):
        """Run fpmctl --json ARGS and return the parsed output."""
        r = self.fpmctl("--json", *args)
        try:
            return json.loads(r.out)
        except ValueError:
            raise AssertionError(f"not JSON from fpmctl {args}:\n{r}")

    # -- config --
    def set_config(self, **values):
        """Change top-level integer settings of wlfcgi.conf (drain_time,
        start_timeout, lock_timeout, min_uid, ...)."""
        with open(self.conf) as f:
            text = f.read()
        for k, v in values.items():
            text, n = re.subn(rf"(?m)^{k} = .*;$", f"{k} = {int(v)};", text)
            if n != 1:
                raise KeyError(k)
        with open(self.conf, "w") as f:
            f.write(text)

    def set_defaults(self, **values):
        """Change settings in the defaults section of wlfcgi.conf:
        set_defaults(activation="on-demand", idle_stop=2). Strings are
        quoted, numbers not."""
        with open(self.conf) as f:
            text = f.read()
        for k, v in values.items():
            val = f'"{v}"' if isinstance(v, str) else str(int(v))
            text, n = re.subn(rf"(?m)^  {k} = .*;$", f"  {k} = {val};", text)
            if n != 1:
                raise KeyError(k)
        with open(self.conf, "w") as f:
            f.write(text)

    # -- fpmctl serve (on-demand accounts in direct mode) --
    def start_serve(self, *args, timeout=10.0):
        """Start `fpmctl -v serve` in the background (its log goes to
        ``self.serve_log``) and wait until it answers on its control
        socket. Stopped with SIGTERM by stop_serve() or close()."""
        if self.serve is not None and self.serve.poll() is None:
            raise RuntimeError("fpmctl serve already runs")
        self.serve_log = os.path.join(self.root, "serve.log")
        log = open(self.serve_log, "a")
        self.serve = subprocess.Popen([FPMCTL, "-v", *args, "serve"],
                                      env=self.env, stdout=log, stderr=log,
                                      stdin=subprocess.DEVNULL)
        log.close()
        ctl = os.path.join(self.paths["sockets"], ".serve.ctl")
        deadline = time.monotonic() + timeout
        while True:
            if self.serve.poll() is not None:
                raise AssertionError("fpmctl serve exited with "
                                     f"{self.serve.returncode}:\n"
                                     + self.serve_output())
            try:
                # answered once serve has armed every account
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.settimeout(max(0.1, deadline - time.monotonic()))
                s.connect(ctl)
                s.sendall(b"state -\n")
                reply = s.recv(512)
                s.close()
                if reply:
                    return self.serve
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("fpmctl serve did not come up:\n"
                                     + self.serve_output())
            time.sleep(0.02)

    def stop_serve(self, timeout=60.0):
        """SIGTERM to fpmctl serve; wait for it; return its exit code."""
        if self.serve is None:
            return None
        if self.serve.poll() is None:
            self.serve.send_signal(signal.SIGTERM)
            try:
                self.serve.wait(timeout)
            except subprocess.TimeoutExpired:
                self.serve.kill()
                self.serve.wait()
        rc, self.serve = self.serve.returncode, None
        return rc

    def serve_output(self):
        """What fpmctl serve logged so far."""
        try:
            with open(self.serve_log) as f:
                return f.read()
        except (OSError, TypeError):
            return ""

    def add_php_version(self, version, fpm):
        """Add { version, fpm } to php.versions of wlfcgi.conf."""
        with open(self.conf) as f:
            text = f.read()
        text, n = re.subn(r"(versions = \(\n(?:.*\n)*?)(  \);)",
                          lambda m: m.group(1).rstrip("\n").rstrip(",")
                          + f',\n    {{ version = "{version}"; '
                            f'fpm = "{fpm}"; }}\n' + m.group(2), text,
                          count=1)
        assert n == 1, "php.versions not found"
        with open(self.conf, "w") as f:
            f.write(text)

    def _install_fake_systemctl(self):
        path = os.path.join(self.root, "bin", "systemctl")
        os.makedirs(os.path.dirname(path))
        with open(path, "w") as f:
            f.write(FAKE_SYSTEMCTL
                    .replace("@STATE@", self.paths["state"])
                    .replace("@LOG@", self.systemctl_log)
                    .replace("@BREAK@", os.path.join(self.root,
                                                     "systemctl.break")))
        os.chmod(path, 0o755)
        self.env["WLFCGI_SYSTEMCTL"] = path

    def systemctl_calls(self):
        """The fake systemctl's calls so far, one string each."""
        try:
            with open(self.systemctl_log) as f:
                return f.read().splitlines()
        except FileNotFoundError:
            return []

    def break_systemctl(self, broken=True):
        """While broken, the fake `systemctl start` starts nothing."""
        p = os.path.join(self.root, "systemctl.break")
        if broken:
            open(p, "w").close()
        elif os.path.exists(p):
            os.unlink(p)

    # -- accounts --
    def make_home(self, name, user):
        """<root>/home/NAME owned by user, 0755."""
        home = os.path.join(self.paths["homes"], name)
        os.makedirs(home, exist_ok=True)
        pw = pwd.getpwnam(user)
        os.chown(home, pw.pw_uid, pw.pw_gid)
        os.chmod(home, 0o755)
        return home

    def add_account(self, name, user=None, domains=(), args=(), check=True):
        """Create user wlft-NAME (or `user`), a home in the sandbox and the
        account (fpmctl add-account). Returns an Account; with check=False
        a failed add returns the Result instead."""
        user = user or f"wlft-{name}"
        ensure_user(user)
        home = self.make_home(name, user)
        cmd = ["add-account", name, "--user", user, "--home", home]
        for d in domains:
            cmd += ["--domain", d]
        r = self.fpmctl(*cmd, *args)
        if r.rc != 0:
            if check:
                raise AssertionError(f"add-account {name} failed:\n{r}")
            return r
        acct = Account(self, name, user, home)
        self.accounts[name] = acct
        return acct

    def register_account(self, name, user, home):
        """Make an account added by other means (a raw fpmctl run) known to
        php()/write_php(); returns its Account."""
        acct = Account(self, name, user, home)
        self.accounts[name] = acct
        return acct

    def write_php(self, name, code, filename=None):
        """Write a script into the account's home (owned by its user) and
        return its path. Its mtime is set a minute back, so OPcache caches
        it at once (opcache.file_update_protection skips fresh files)."""
        acct = self.accounts[name]
        filename = filename or \
            "t-" + hashlib.sha1(code.encode()).hexdigest()[:12] + ".php"
        return install(os.path.join(acct.home, filename), code, acct.user,
                       backdate=True)

    def request(self, name, script, params=None, stdin=b"", method=None,
                sock=None, timeout=10.0):
        """Run an existing script through the account's socket (NAME.sock
        unless `sock` is given) and return the FcgiResponse."""
        p = {
            "GATEWAY_INTERFACE": "CGI/1.1",
            "SERVER_SOFTWARE": "wlft",
            "SERVER_PROTOCOL": "HTTP/1.1",
            "SERVER_NAME": "localhost",
            "SERVER_PORT": "80",
            "REMOTE_ADDR": "127.0.0.1",
            "REQUEST_METHOD": method or ("POST" if stdin else "GET"),
            "SCRIPT_FILENAME": script,
            "SCRIPT_NAME": "/" + os.path.basename(script),
            "REQUEST_URI": "/" + os.path.basename(script),
            "DOCUMENT_ROOT": os.path.dirname(script),
            "QUERY_STRING": "",
            "CONTENT_LENGTH": str(len(stdin)),
        }
        if stdin:
            p["CONTENT_TYPE"] = "application/octet-stream"
        p.update(params or {})
        return fcgi_request(sock or self.socket(name), p, stdin, timeout)

    def php(self, name, code, **kw):
        """Write `code` as a script in the account's home and run it
        through the account's socket. Returns the FcgiResponse."""
        return self.request(name, self.write_php(name, code), **kw)

    # -- processes --
    def master_pid(self, name, slot=None):
        """Pid of the account's live (or given slot's) php-fpm master, or
        None if it is not running."""
        slot = slot or self.live_slot(name)
        if slot is None:
            return None
        try:
            with open(os.path.join(self.paths["sockets"],
                                   f"{name}.{slot}.pid")) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            return None
        return pid if pid_alive(pid) else None

    worker_pids = staticmethod(children)

    def tree_snapshot(self, exclude=()):
        """{relative path: (kind, mode, uid, gid, content hash or link)} of
        the whole sandbox, to prove a command changed nothing."""
        snap = {}
        for dirpath, dirnames, filenames in os.walk(self.root):
            for n in dirnames + filenames:
                p = os.path.join(dirpath, n)
                rel = os.path.relpath(p, self.root)
                if any(rel.startswith(x) for x in exclude):
                    continue
                st = os.lstat(p)
                if stat.S_ISLNK(st.st_mode):
                    what = ("link", os.readlink(p))
                elif stat.S_ISREG(st.st_mode):
                    with open(p, "rb") as f:
                        what = ("file", hashlib.sha256(f.read()).hexdigest())
                else:
                    what = (stat.S_IFMT(st.st_mode), None)
                snap[rel] = (what, st.st_mode, st.st_uid, st.st_gid)
        return snap

    # -- teardown --
    def _our_pids(self):
        """Processes this sandbox started: masters named by our pid files
        or running a config under our root, and whatever holds one of our
        sockets (workers, also orphaned ones)."""
        pids = set()
        sockdir = self.paths["sockets"]
        if os.path.isdir(sockdir):
            for n in os.listdir(sockdir):
                if n.endswith(".pid"):
                    try:
                        pid = int(open(os.path.join(sockdir, n)).read())
                    except (OSError, ValueError):
                        continue
                    if self.root in _proc_cmdline(pid):
                        pids.add(pid)
        inodes = set()
        try:
            with open("/proc/net/unix") as f:
                for line in f:
                    parts = line.split()
                    if len(parts) >= 8 and parts[7].startswith(self.root + "/"):
                        inodes.add(parts[6])
        except OSError:
            pass
        for d in os.listdir("/proc"):
            if not d.isdigit() or int(d) == os.getpid():
                continue
            pid = int(d)
            cmd = _proc_cmdline(pid)
            if "php-fpm" in cmd and self.root + "/" in cmd:
                pids.add(pid)
                continue
            if inodes:
                try:
                    for fd in os.listdir(f"/proc/{d}/fd"):
                        link = os.readlink(f"/proc/{d}/fd/{fd}")
                        if link.startswith("socket:[") and \
                                link[8:-1] in inodes:
                            pids.add(pid)
                            break
                except OSError:
                    pass
        return pids

    def close(self):
        """Stop every instance (fpmctl stop --all, then SIGKILL by pid for
        anything left) and remove the sandbox (unless WLFT_KEEP=1)."""
        if self._closed:
            return
        self._closed = True
        self.stop_serve()
        if os.path.exists(self.conf):
            try:
                self.fpmctl("-q", "stop", "--all", timeout=120)
            except subprocess.TimeoutExpired:
                pass
        for _ in range(3):
            pids = {p for p in self._our_pids() if pid_alive(p)}
            if not pids:
                break
            for p in pids:
                for c in children(p):
                    _kill(c)
                _kill(p)
            time.sleep(0.1)
        if os.environ.get("WLFT_KEEP"):
            sys.stderr.write(f"\nkept sandbox {self.root}\n")
        else:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


# ------------------------------------------------------------ fixtures --

@pytest.fixture
def sandbox():
    """A fresh sandbox (direct mode) for one test."""
    sb = Sandbox()
    try:
        yield sb
    finally:
        sb.close()


@pytest.fixture(scope="module")
def module_sandbox():
    """One sandbox shared by all tests of a module."""
    sb = Sandbox()
    try:
        yield sb
    finally:
        sb.close()


@pytest.fixture
def sandbox_factory():
    """make(service="direct", config=None) -> Sandbox; torn down after the
    test."""
    made = []

    def make(**kw):
        sb = Sandbox(**kw)
        made.append(sb)
        return sb
    try:
        yield make
    finally:
        for sb in made:
            sb.close()


@pytest.fixture
def wlft_user():
    """ensure("alice") -> passwd entry of Unix user wlft-alice."""
    def ensure(name):
        return ensure_user(name if name.startswith("wlft-")
                           else f"wlft-{name}")
    return ensure
