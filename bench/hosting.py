"""The set-up the throughput and upload benchmarks share: accounts made by
fpmctl the way a hoster makes them, and the three web servers that send
PHP to them.

- A private wlfcgi installation (``fpmctl init --prefix``, direct mode)
  with two accounts of identical settings: ``wlf``, served by an httpd
  with mod_wlfcgi, and ``stock``, served by a second httpd without the
  module (``<FilesMatch \\.php$> SetHandler "proxy:unix:...|fcgi://
  localhost"``, the hand-written set-up hosters use) and by nginx
  (``fastcgi_pass unix:...``). The accounts start with fpmctl's defaults
  (``pm = ondemand``, 5 children); ``tune()`` switches both to the same
  other settings with ``fpmctl set``.
- Both httpds run the same MPM configuration; nginx runs 2 workers.
- CPU time is read from ``/proc/PID/stat`` (user + system, including
  the reaped children of a master), so the time of processes that ended
  during a run counts too.

Everything started here is stopped by pid; nothing is killed by name.
Needs root (users, sockets owned by them) and a build (make all).
"""
import os
import pwd
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "integration"))

from wlf import MODULE, host  # noqa: E402
from wlf.httpd import free_port  # noqa: E402
# loadavg: for the scripts that import it from here
from wlf.loadrun import loadavg  # noqa: E402,F401
from wlf.sandbox import Sandbox, ensure_user, children  # noqa: E402

HZ = os.sysconf("SC_CLK_TCK")
USER = "wlft-bench"

# The MPM both httpds run. "bench": 2 processes of 32 threads, all started
# at once (as the earlier runs in docs/BENCHMARKS.md); "debian": the
# distribution's mpm_event.conf (ServerLimit 16 by default, 25 threads).
MPMS = {
    "bench": "StartServers 2\nServerLimit 2\nThreadsPerChild 32\n"
             "MaxRequestWorkers 64\nMinSpareThreads 64\n"
             "MaxSpareThreads 64\n",
    "debian": "StartServers 2\nMinSpareThreads 25\nMaxSpareThreads 75\n"
              "ThreadLimit 64\nThreadsPerChild 25\nMaxRequestWorkers 150\n"
              "MaxConnectionsPerChild 0\n",
}


def log(*a):
    print(*a, flush=True)


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def ratio(a, b):
    return a / b if b else float("nan")


def _stat(pid):
    """(ppid, utime + stime, cutime + cstime) in ticks, or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            rest = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(rest[1]), int(rest[11]) + int(rest[12]), \
        int(rest[13]) + int(rest[14])


def tree(pid):
    """pid and all its descendants."""
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = _stat(int(d))
            if st:
                kids.setdefault(st[0], []).append(int(d))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(kids.get(p, []))
    return out


def cpu_seconds(pid):
    """CPU seconds used by the process tree under pid, the reaped
    children of its processes included."""
    total = 0
    for p in tree(pid):
        st = _stat(p)
        if st:
            total += st[1] + st[2]
    return total / HZ


def waits(pid):
    """Voluntary context switches of every thread in the tree under pid:
    how often its processes blocked (for data, for room, for the disk).
    Reaped processes are not counted."""
    total = 0
    for p in tree(pid):
        try:
            for t in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{t}/status") as f:
                    for line in f:
                        if line.startswith("voluntary_ctxt_switches:"):
                            total += int(line.split()[1])
        except OSError:
            pass
    return total


def rss_kib(pid):
    """Largest VmRSS among the processes of the tree under pid."""
    return host.max_rss_kib(tree(pid))


def _ids(user):
    pw = pwd.getpwnam(user)
    return pw.pw_uid, pw.pw_gid


def install(path, text, user, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    os.chown(path, *_ids(user))
    past = time.time() - 60         # OPcache caches files older than 2 s
    os.utime(path, (past, past))


class Httpd:
    """An httpd in the foreground, its own process group; with or without
    mod_wlfcgi."""

    def __init__(self, root, name, body, mpm, with_module, modules=()):
        self.dir = os.path.join(root, name)
        os.makedirs(self.dir)
        self.port = free_port()
        self.conf = os.path.join(self.dir, "httpd.conf")
        moddir = host.module_dir()
        mods = [f"LoadModule mpm_event_module {moddir}/mod_mpm_event.so"]
        for m in ["unixd", "authz_core", "mime", "dir", "proxy",
                  "proxy_fcgi", *modules]:
            if m not in host.builtin_modules():
                mods.append(f"LoadModule {m}_module {moddir}/mod_{m}.so")
        if with_module:
            mods.append(f"LoadModule wlfcgi_module {MODULE}")
        with open(self.conf, "w") as f:
            f.write(f"""ServerRoot "{self.dir}"
DefaultRuntimeDir "{self.dir}"
PidFile "{self.dir}/httpd.pid"
Listen 127.0.0.1:{self.port}
ServerName 127.0.0.1
User {host.httpd_user()}
Group {host.httpd_group()}
ErrorLog "{self.dir}/error.log"
LogLevel warn
{chr(10).join(mods)}
{MPMS[mpm]}
KeepAlive On
MaxKeepAliveRequests 0
Timeout 300
TypesConfig /etc/mime.types
DirectoryIndex index.php index.html
DocumentRoot "{self.dir}"
# no .htaccess lookups: they would cost every set-up the same
<Directory />
    AllowOverride None
    Require all denied
</Directory>
{body.replace("@PORT@", str(self.port))}
""")
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(
            [host.httpd(), "-f", self.conf, "-DFOREGROUND"],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
            env=dict(os.environ, TMPDIR=self.dir), start_new_session=True)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("httpd exited:\n" + self.log())
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("httpd did not start:\n" + self.log())

    def graceful(self):
        """Graceful restart (the module reads the accounts again); returns
        once the old generation's processes are gone."""
        old = set(tree(self.pid)) - {self.pid}
        os.kill(self.pid, signal.SIGUSR1)
        deadline = time.time() + 30
        while time.time() < deadline and old & set(tree(self.pid)):
            time.sleep(0.1)
        time.sleep(0.5)

    @property
    def pid(self):
        return self.proc.pid

    def log(self):
        try:
            with open(os.path.join(self.dir, "error.log")) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        host.stop_process(self.proc, ((signal.SIGWINCH, 20),
                                      (signal.SIGTERM, 10),
                                      (signal.SIGKILL, 5)))


class Nginx:
    """nginx with 2 workers, in the foreground."""

    def __init__(self, root, http_extra, location):
        self.dir = os.path.join(root, "nginx")
        os.makedirs(self.dir)
        self.port = free_port()
        self.conf = os.path.join(self.dir, "nginx.conf")
        self.http_extra = http_extra
        self.location = location
        self.docroot = None
        self.proc = None

    def write(self, docroot, http_extra=None, location=None):
        self.docroot = docroot
        if http_extra is not None:
            self.http_extra = http_extra
        if location is not None:
            self.location = location
        d = self.dir
        with open(self.conf, "w") as f:
            f.write(f"""user {host.httpd_user()};
worker_processes 2;
daemon off;
pid {d}/nginx.pid;
error_log {d}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {d}/body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    {self.http_extra}
    server {{
        listen 127.0.0.1:{self.port};
        root {docroot};
        # the same with nginx's default, request buffering on (the body
        # goes to a temporary file first); only uploads use it
        location ~ ^/buffered(/.*\\.php)$ {{
            {self.location.replace("fastcgi_request_buffering off;", "")}
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $document_root$1;
        }}
        location ~ \\.php$ {{
            {self.location}
            include /etc/nginx/fastcgi_params;
            fastcgi_param SCRIPT_FILENAME $document_root$fastcgi_script_name;
        }}
    }}
}}
""")

    def start(self):
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.proc = subprocess.Popen([nginx, "-c", self.conf],
                                     stdout=subprocess.DEVNULL,
                                     stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.time() + 20
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("nginx exited")
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("nginx did not start")

    def reload(self):
        """Re-read the config; returns once the old workers are gone."""
        old = set(tree(self.pid)) - {self.pid}
        os.kill(self.pid, signal.SIGHUP)
        deadline = time.time() + 30
        while time.time() < deadline and old & set(tree(self.pid)):
            time.sleep(0.1)

    @property
    def pid(self):
        return self.proc.pid

    def stop(self):
        host.stop_process(self.proc, ((signal.SIGQUIT, 20),
                                      (signal.SIGKILL, 5)))


class Hosting:
    """The sandbox, its two accounts and the three web servers.

    account_args: extra `fpmctl add-account` arguments, the same for both
    accounts. scripts: {relative path: PHP source} for both docroots.
    """

    def __init__(self, mpm="bench", account_args=(), scripts=None,
                 module_vhost_extra="", static=True, config=None):
        self.work = tempfile.mkdtemp(prefix="wlfb", dir="/tmp")
        os.chmod(self.work, 0o755)
        self.servers = []
        self.sb = None
        try:
            self._setup(mpm, account_args, scripts or {},
                        module_vhost_extra, static, config or {})
        except BaseException:
            self.close()
            raise

    def _setup(self, mpm, account_args, scripts, module_vhost_extra,
               static, config):
        ensure_user(USER)
        self.sb = Sandbox()
        # string settings of wlfcgi.conf ({"upload_min_rate": "200M"})
        with open(self.sb.conf) as f:
            text = f.read()
        for k, v in config.items():
            text, n = re.subn(rf'(?m)^{k} = .*;$', f'{k} = "{v}";', text)
            if n != 1:
                raise KeyError(k)
        with open(self.sb.conf, "w") as f:
            f.write(text)
        self.homes = {}
        for name in ("wlf", "stock"):
            home = self.sb.make_home(name, USER)
            r = self.sb.fpmctl("add-account", name, "--user", USER,
                               "--home", home, "--domain", f"{name}.bench",
                               *account_args)
            if r.rc != 0:
                raise RuntimeError(f"add-account {name}:\n{r}")
            self.homes[name] = home
            for rel, text in scripts.items():
                install(os.path.join(home, "www", rel), text, USER)
            if static:
                install(os.path.join(home, "www", "hello.txt"), "ok", USER)
        self.docroot = {n: os.path.join(h, "www")
                        for n, h in self.homes.items()}
        allow = "    Require all granted"
        self.module = Httpd(self.work, "httpd-wlfcgi", f"""
WLFcgiConfig {self.sb.conf}
<VirtualHost 127.0.0.1:@PORT@>
    ServerName wlf.bench
    DocumentRoot {self.docroot['wlf']}
    <Directory {self.docroot['wlf']}>
{allow}
    </Directory>
{module_vhost_extra}
</VirtualHost>
""", mpm, with_module=True)
        self.stock = Httpd(self.work, "httpd-stock", f"""
<VirtualHost 127.0.0.1:@PORT@>
    ServerName stock.bench
    DocumentRoot {self.docroot['stock']}
    <Directory {self.docroot['stock']}>
{allow}
    </Directory>
    <FilesMatch "\\.php$">
        SetHandler "proxy:unix:{self.sb.socket('stock')}|fcgi://localhost"
    </FilesMatch>
</VirtualHost>
""", mpm, with_module=False)
        self.nginx = Nginx(self.work, "", "")
        self.servers = [self.module, self.stock, self.nginx]

    def start(self, nginx_http="", nginx_location=None):
        self.nginx.write(self.docroot["stock"], nginx_http,
                         nginx_location or
                         f"fastcgi_pass unix:{self.sb.socket('stock')};")
        for s in self.servers:
            s.start()

    def fpm_master(self, name):
        return self.sb.master_pid(name)

    def settings(self, name):
        return {k: v["value"] for k, v in
                self.sb.json("show", name)["settings"].items()}

    def tune(self, *assignments):
        """fpmctl set both accounts to the same settings; then the module's
        httpd restarts gracefully (it reads pm and max_children when
        httpd starts)."""
        for name in ("wlf", "stock"):
            r = self.sb.fpmctl("set", name, *assignments)
            if r.rc != 0:
                raise RuntimeError(f"fpmctl set {name}:\n{r}")
        if self.module.proc is not None:
            self.module.graceful()

    def close(self):
        for s in self.servers:
            try:
                s.stop()
            except Exception:   # noqa: BLE001 - stop the rest anyway
                pass
        if self.sb:
            self.sb.close()
        shutil.rmtree(self.work, ignore_errors=True)


def wrk(url, host_header, seconds, conns=32, threads=2):
    """Run wrk; returns (req/s, requests, errors text, p50, p99, client
    CPU seconds)."""
    before = os.times()
    out = subprocess.run(["wrk", f"-t{threads}", f"-c{conns}",
                          f"-d{seconds}s", "--latency", "-H",
                          f"Host: {host_header}", url],
                         capture_output=True, text=True,
                         timeout=seconds + 60).stdout
    after = os.times()
    client = (after.children_user - before.children_user +
              after.children_system - before.children_system)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    reqs = int(re.search(r"(\d+) requests in", out).group(1))
    errs = " ".join(m.group(0).strip() for m in
                    re.finditer(r"(Non-2xx.*|Socket errors.*)", out))
    p50 = re.search(r"50%\s+(\S+)", out).group(1)
    p99 = re.search(r"99%\s+(\S+)", out).group(1)
    return rps, reqs, errs, p50, p99, client
