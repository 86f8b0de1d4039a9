"""Hand-made php-fpm instances in the wlfcgi layout (docs/internals.md).

A stand-in until `fpmctl add-account` can make them: the same files and
paths, written here by hand, so that mod_wlfcgi's tests can run against
real FPM masters now. When fpmctl's sandbox fixtures are available the
tests use those instead (see wlf.accounts).

Layout under a prefix DIR (like `fpmctl init --prefix DIR`):
  DIR/etc/wlfcgi/wlfcgi.conf, DIR/etc/wlfcgi/accounts.d/NAME.conf
  DIR/run/wlfcgi/NAME.{a,b}.sock, NAME.{a,b}.pid, NAME.sock -> NAME.a.sock
  DIR/var/lib/wlfcgi/fpm/NAME.a/{php-fpm.conf,ini/}
  DIR/var/lib/wlfcgi/accounts/NAME/{tmp,upload,sessions}
  DIR/var/log/wlfcgi/NAME/{fpm.log,php-error.log}
One master per account and slot, pool user = account user, socket owner
root, group www-data, mode 0660, in a root:www-data 0750 directory (only
root and httpd reach the sockets).
"""
import glob
import grp
import os
import pwd
import shutil
import signal
import subprocess
import time

from . import fcgi

PHP_FPM = "/usr/sbin/php-fpm8.2"
HTTPD_GROUP = "www-data"


def ensure_user(name):
    """Create a system user for tests (idempotent)."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "-r", "-M", "-d", "/nonexistent",
                        "-s", "/usr/sbin/nologin", name], check=False,
                       capture_output=True)
        return pwd.getpwnam(name)


def _write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


class Account:
    def __init__(self, sandbox, name, user, domains, settings, home):
        self.sandbox = sandbox
        self.name = name
        self.user = user
        self.domains = list(domains)
        self.settings = dict(settings)
        self.home = home

    @property
    def link(self):
        return os.path.join(self.sandbox.socket_dir, f"{self.name}.sock")

    def slot_socket(self, slot):
        return os.path.join(self.sandbox.socket_dir,
                            f"{self.name}.{slot}.sock")

    def pid_file(self, slot):
        return os.path.join(self.sandbox.socket_dir, f"{self.name}.{slot}.pid")


class HandSandbox:
    """The wlfcgi file layout under one temp prefix, with FPM masters."""

    def __init__(self, prefix):
        self.prefix = prefix
        self.etc = os.path.join(prefix, "etc/wlfcgi")
        self.config = os.path.join(self.etc, "wlfcgi.conf")
        self.accounts_dir = os.path.join(self.etc, "accounts.d")
        self.socket_dir = os.path.join(prefix, "run/wlfcgi")
        self.state_dir = os.path.join(prefix, "var/lib/wlfcgi")
        self.log_dir = os.path.join(prefix, "var/log/wlfcgi")
        self.accounts = {}
        self.pids = set()
        for d in (self.accounts_dir, self.socket_dir, self.state_dir,
                  self.log_dir):
            os.makedirs(d, exist_ok=True)
        os.chown(self.socket_dir, 0, grp.getgrnam(HTTPD_GROUP).gr_gid)
        os.chmod(self.socket_dir, 0o750)
        self.write_global()

    def write_global(self, defaults=None):
        defaults = defaults or {}
        lines = "".join(f'  {k} = {self._value(v)};\n'
                        for k, v in defaults.items())
        _write(self.config, f"""# written by the test harness (hand-made layout)
service = "direct";
httpd_group = "{HTTPD_GROUP}";
min_uid = 100;
paths = {{
  accounts = "{self.accounts_dir}";
  sockets = "{self.socket_dir}";
  state = "{self.state_dir}";
  logs = "{self.log_dir}";
}};
php = {{ default = "8.2"; versions = ( {{ version = "8.2"; fpm = "{PHP_FPM}"; }} ); }};
defaults = {{
{lines}}};
""")

    @staticmethod
    def _value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int):
            return str(v)
        return f'"{v}"'

    # ---- accounts ----
    def add_account(self, name, user, domains=(), start=True, pm="ondemand",
                    **settings):
        """pm: FPM's process manager for the account's instances (fpmctl
        renders ondemand; connection reuse needs static or dynamic)."""
        ensure_user(user)
        home = os.path.join(self.prefix, "home", name)
        acct = Account(self, name, user, domains, settings, home)
        acct.pm = pm
        self.accounts[name] = acct
        pw = pwd.getpwnam(user)
        for d in (home, os.path.join(home, "www")):
            os.makedirs(d, exist_ok=True)
            os.chown(d, pw.pw_uid, pw.pw_gid)
            os.chmod(d, 0o755)
        adir = os.path.join(self.state_dir, "accounts", name)
        for sub in ("", "tmp", "upload", "sessions"):
            p = os.path.join(adir, sub)
            os.makedirs(p, exist_ok=True)
            os.chown(p, pw.pw_uid, pw.pw_gid)
            os.chmod(p, 0o700 if sub else 0o711)
        ldir = os.path.join(self.log_dir, name)
        os.makedirs(ldir, exist_ok=True)
        os.chown(ldir, pw.pw_uid, pw.pw_gid)
        self.write_account(acct)
        if start:
            self.start(name)
        return acct

    def write_account(self, acct):
        doms = ", ".join(f'"{d}"' for d in acct.domains)
        sets = "".join(f"{k} = {self._value(v)};\n"
                       for k, v in acct.settings.items())
        if acct.pm != "ondemand":
            sets += f'pm = "{acct.pm}";\n'   # the module reads it here
        _write(os.path.join(self.accounts_dir, f"{acct.name}.conf"),
               f"""name = "{acct.name}";
user = "{acct.user}";
group = "{acct.user}";
home = "{acct.home}";
domains = [ {doms} ];
{sets}""")

    def set(self, name, **settings):
        """Like `fpmctl set NAME k=v` (the value "off" removes k); only the
        account file changes: the module reads it, FPM is not reloaded."""
        acct = self.accounts[name]
        for k, v in settings.items():
            if v == "off":
                acct.settings.pop(k, None)
            else:
                acct.settings[k] = v
        self.write_account(acct)

    def _effective(self, acct, key, default):
        return acct.settings.get(key, default)

    def _fpm_conf(self, acct, slot):
        s = self.settings_of(acct)
        spare = ("pm.start_servers = 1\npm.min_spare_servers = 1\n"
                 f"pm.max_spare_servers = {s['max_children']}"
                 if acct.pm == "dynamic" else "")
        adir = os.path.join(self.state_dir, "accounts", acct.name)
        ldir = os.path.join(self.log_dir, acct.name)
        return f"""[global]
pid = {acct.pid_file(slot)}
error_log = {ldir}/fpm.log
daemonize = yes
process_control_timeout = 30s

[{acct.name}]
user = {acct.user}
group = {acct.user}
listen = {acct.slot_socket(slot)}
listen.owner = root
listen.group = {HTTPD_GROUP}
listen.mode = 0660
listen.backlog = 4096
pm = {acct.pm}
pm.max_children = {s['max_children']}
{spare}
pm.process_idle_timeout = 10s
ping.path = {fcgi.PING_PATH}
pm.status_path = {fcgi.STATUS_PATH}
request_terminate_timeout = {s['request_terminate_timeout']}
catch_workers_output = yes
access.log = {ldir}/access.{slot}.log
access.format = "%{{%H:%M:%S}}t %{{mili}}d ms pid %p %m %r %s"
security.limit_extensions = .php
php_admin_value[open_basedir] = {acct.home}:{adir}
php_admin_value[upload_tmp_dir] = {adir}/upload
php_admin_value[sys_temp_dir] = {adir}/tmp
php_admin_value[session.save_path] = {adir}/sessions
php_admin_value[error_log] = {ldir}/php-error.log
php_admin_value[log_errors] = On
php_admin_value[memory_limit] = 64M
php_admin_value[disable_functions] = exec,system,passthru,shell_exec
php_admin_value[max_input_time] = -1
php_admin_value[max_execution_time] = {s['max_execution_time']}
php_admin_value[upload_max_filesize] = {s['max_upload']}
php_admin_value[post_max_size] = {s['max_upload']}
"""

    def settings_of(self, acct):
        s = {"max_children": 5, "max_upload": "8M",
             "max_execution_time": 30}
        s.update(acct.settings)
        # the timeout must cover an upload at the account's ceiling
        s.setdefault("request_terminate_timeout", "600s")
        return s

    def _ini_dir(self, acct, slot):
        """Every extension of the distribution but calendar, so that an
        injected extension=calendar.so is visible."""
        d = os.path.join(self.state_dir, "fpm", f"{acct.name}.{slot}", "ini")
        os.makedirs(d, exist_ok=True)
        for f in glob.glob("/etc/php/8.2/fpm/conf.d/*.ini"):
            if "calendar" in os.path.basename(f):
                continue
            shutil.copy(f, d)
        with open(os.path.join(d, "99-wlfcgi.ini"), "w") as f:
            f.write("apc.enabled=1\napc.shm_size=16M\n"
                    "opcache.memory_consumption=32\n")
        return d

    def start(self, name, slot=None):
        acct = self.accounts[name]
        if slot is None:
            try:
                slot = os.readlink(acct.link).split(".")[1]
            except OSError:
                slot = "a"
        idir = os.path.join(self.state_dir, "fpm", f"{name}.{slot}")
        os.makedirs(idir, exist_ok=True)
        conf = os.path.join(idir, "php-fpm.conf")
        _write(conf, self._fpm_conf(acct, slot))
        env = dict(os.environ, PHP_INI_SCAN_DIR=self._ini_dir(acct, slot))
        subprocess.run([PHP_FPM, "--fpm-config", conf], env=env, check=True,
                       capture_output=True, timeout=30)
        with open(acct.pid_file(slot)) as f:
            pid = int(f.read().strip())
        self.pids.add(pid)
        sock = acct.slot_socket(slot)
        deadline = time.time() + 10
        while True:
            try:
                fcgi.ping(sock)
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.02)
        self.switch(name, slot)
        return pid

    def switch(self, name, slot):
        acct = self.accounts[name]
        tmp = acct.link + ".new"
        if os.path.lexists(tmp):
            os.unlink(tmp)
        os.symlink(f"{name}.{slot}.sock", tmp)
        os.rename(tmp, acct.link)

    def master_pid(self, name, slot="a"):
        try:
            with open(self.accounts[name].pid_file(slot)) as f:
                return int(f.read().strip())
        except (OSError, ValueError):
            return None

    def stop(self, name, slot="a", sig=signal.SIGQUIT):
        pid = self.master_pid(name, slot)
        if pid is None or pid not in self.pids:
            return
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass
        deadline = time.time() + 15
        while time.time() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.02)
        self.pids.discard(pid)

    def kill_master(self, name):
        """Stop the live master behind everybody's back: the link stays."""
        self.stop(name, os.readlink(self.accounts[name].link).split(".")[1])

    def reload(self, name, drain=1.0):
        """What fpmctl's reload does: start the idle slot, switch the link
        to it, let the old one drain, stop it. Returns the new master's
        pid."""
        old = os.readlink(self.accounts[name].link).split(".")[1]
        new = "b" if old == "a" else "a"
        pid = self.start(name, new)
        time.sleep(drain)
        self.stop(name, old)
        return pid

    def restart(self, name, slot="a"):
        self.stop(name, slot)
        return self.start(name, slot)

    def remove_account(self, name):
        acct = self.accounts.pop(name, None)
        if acct is None:
            return
        self.accounts[name] = acct
        for slot in ("a", "b"):
            self.stop(name, slot)
        del self.accounts[name]
        for p in (os.path.join(self.accounts_dir, f"{name}.conf"), acct.link):
            if os.path.lexists(p):
                os.unlink(p)

    def close(self):
        for name in list(self.accounts):
            for slot in ("a", "b"):
                self.stop(name, slot)
        for pid in list(self.pids):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
