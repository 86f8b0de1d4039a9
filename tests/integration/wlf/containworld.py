"""The world the containment suites (test_containment_*.py) attack.

A hostile customer, eve, controls her document root, her .htaccess files
(AllowOverride All), symlinks in her home, a parked domain and her own PHP.
Her neighbour ann is the victim: her home is readable by httpd's group
only, as the admin guide recommends, so eve's PHP cannot read it but httpd
can. Around them, the things a customer should never reach:

  backend      an internal HTTP service on 127.0.0.1 ("INTERNAL-SECRET")
  tcp pool     a FastCGI pool on a TCP port, running as wlft-legacy
  www pool     a FastCGI pool on a unix socket outside the socket
               directory, running as httpd's user (the distribution's
               default pool)

Two httpds serve the same vhosts from the same files:

  contained    with mod_wlfcgi (accounts from fpmctl)
  stock        without it: PHP through a plain SetHandler per vhost, the
               way hosters connect FPM today (the comparison that shows
               each attack works where nothing stops it)

Both have a server-wide <FilesMatch ".+\\.ph(?:ar|p|tml)$"> SetHandler to the
www pool, as Debian's php-fpm package installs it (Fedora's covers .php
and .phar). Vhosts (both httpds):
  eve.test     eve's site; admin-configured proxying to the backend:
               ProxyPass /backend/, RewriteRule ^/rw/ [P], <Location /loc>
               SetHandler proxy:, <Directory .../admdir> SetHandler proxy:,
               <FilesMatch \\.bk$> SetHandler proxy:; and admin handlers:
               AddHandler cgi-script .cgi, <Location /admin-status>;
               /shared/ and /unshared/: a directory of wlft-legacy's,
               allowed (WLFcgiAllowOwners) under /shared/ only
  ann.test     ann's site
  parked.test  no account; docroot in eve's home (a parked domain)

Both load the modules whose handlers a customer might want: status, info,
include, autoindex, cgid, asis, imagemap, negotiation, actions, alias,
proxy_http, proxy_balancer, lua, http2 (h2c), speling.

Fixture: `cworld` (session).
"""
import http.server
import os
import pwd
import shutil
import tempfile
import threading

import pytest

from . import fcgi, host, php
from .host import ensure_user
from .httpd import Httpd, free_port
from .sandbox import Sandbox

HTTPD_GROUP = host.httpd_group()

EXTRA_MODULES = [
    "status", "info", "include", "autoindex", "cgid", "asis", "imagemap",
    "negotiation", "actions", "alias", "proxy_http", "slotmem_shm",
    "lbmethod_byrequests", "proxy_balancer", "lua", "http2", "auth_basic",
    "authn_core", "authn_file", "authz_user", "authz_host", "speling",
    "authz_groupfile", "authn_dbm",
]

ANN_SECRET = "<?php $db_password = 'ANN-SECRET-42';\n"


def htpasswd_line(user, password):
    """A password file line httpd accepts ({SHA}: no tool needed)."""
    import base64
    import hashlib
    digest = base64.b64encode(hashlib.sha1(password.encode()).digest())
    return f"{user}:{{SHA}}{digest.decode()}\n"


def _ids(user):
    pw = pwd.getpwnam(user)
    return pw.pw_uid, pw.pw_gid


def put(path, text, user=None, mode=0o644, group=None):
    """Write a file (and its directory) owned by `user`."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp-put"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    if user:
        uid, gid = _ids(user)
        if group:
            import grp
            gid = grp.getgrnam(group).gr_gid
        os.chown(tmp, uid, gid)
    os.replace(tmp, path)
    return path


def mkdir(path, user, mode=0o755):
    os.makedirs(path, exist_ok=True)
    os.chown(path, *_ids(user))
    os.chmod(path, mode)
    return path


class Backend:
    """An internal HTTP service on 127.0.0.1 that customers must not
    reach: answers every GET with INTERNAL-SECRET and the path."""

    def __init__(self):
        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = f"INTERNAL-SECRET {self.path}\n".encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


class LoosePools:
    """One php-fpm master with the pools a customer must never reach: a
    TCP pool (as wlft-legacy) and a unix socket outside the socket
    directory (as httpd's user, like a distribution's www pool)."""

    def __init__(self, root):
        ensure_user("wlft-legacy")
        self.root = root
        self.tcp_port = free_port()
        self.www_sock = os.path.join(root, "www.sock")
        self.pid_file = os.path.join(root, "loose.pid")
        conf = os.path.join(root, "loose-fpm.conf")
        common = ("pm = ondemand\npm.max_children = 2\n"
                  "security.limit_extensions = .php .txt .phtml .phar\n"
                  f"ping.path = {fcgi.PING_PATH}\n")
        with open(conf, "w") as f:
            f.write(f"""[global]
pid = {self.pid_file}
error_log = {root}/loose-fpm.log
daemonize = yes
[tcp]
user = wlft-legacy
group = wlft-legacy
listen = 127.0.0.1:{self.tcp_port}
{common}
[www]
user = {HTTPD_GROUP}
group = {HTTPD_GROUP}
listen = {self.www_sock}
listen.owner = {HTTPD_GROUP}
listen.group = {HTTPD_GROUP}
listen.mode = 0660
{common}
""")
        self.pid = host.start_php_fpm(conf, self.pid_file, self.www_sock)

    def stop(self):
        host.quit_php_fpm(self.pid)


class StockHttpd(Httpd):
    """The same httpd without mod_wlfcgi."""

    def render(self, body, modules=()):
        text = super().render(body, modules)
        return "\n".join(ln for ln in text.splitlines()
                         if not ln.startswith("LoadModule wlfcgi_module"))


def vhosts(w, port, contained):
    eve, ann = w.eve, w.ann
    b = f"http://127.0.0.1:{w.backend.port}"

    def php_handler(acct):
        if contained:
            return ""
        return (f'  <FilesMatch "\\.php$">\n'
                f'    SetHandler "proxy:unix:{acct.socket}|fcgi://localhost"\n'
                f'  </FilesMatch>\n')

    def site(name, acct, root, extra=""):
        return f"""
<VirtualHost 127.0.0.1:{port}>
  ServerName {name}
  DocumentRoot {root}
  <Directory {root}>
    AllowOverride All
    Options SymLinksIfOwnerMatch
    Require all granted
  </Directory>
{php_handler(acct) if acct else ""}{extra}
</VirtualHost>
"""
    allow_owner = """  <Location /shared/>
    WLFcgiAllowOwners wlft-legacy
  </Location>
""" if contained else ""
    admin_proxying = f"""
  ProxyPass /backend/ {b}/
  RewriteEngine On
  RewriteRule ^/rw/(.*)$ {b}/rw/$1 [P]
  <Location /loc/>
    SetHandler "proxy:{b}/"
  </Location>
  <Directory {w.eve_www}/admdir>
    SetHandler "proxy:{b}/"
  </Directory>
  <FilesMatch "\\.bk$">
    SetHandler "proxy:{b}/"
  </FilesMatch>
  # the admin's own expressions may read files
  <Location /admin-expr/>
    Header always set X-Admin-File "expr=size-%{{filesize:{w.root_public}}}"
  </Location>
  # a directory the admin protects with a password file of his own
  <Directory {w.eve_www}/admauth>
    AuthType Basic
    AuthName admin
    AuthUserFile {w.admin_htpasswd}
    Require valid-user
  </Directory>
  # the admin sends other files to the vhost's own account himself
  <Directory {w.eve_www}/own_fcgi>
    <Files "x.phtml">
      SetHandler "proxy:unix:{eve.socket}|fcgi://localhost"
    </Files>
  </Directory>
  # the admin's handlers, which a .htaccess beside them must not disturb
  AddHandler cgi-script .cgi
  <Location /admin-status>
    SetHandler server-status
  </Location>
  # a directory of another user, shared on purpose, and the same without
  Alias /shared/ {w.shared}/
  Alias /unshared/ {w.shared}/
  <Directory {w.shared}>
    Require all granted
  </Directory>
{allow_owner}"""
    status = """
<Location /wlfcgi-status>
  SetHandler wlfcgi-status
  Require ip 127.0.0.2
</Location>
""" if contained else ""
    config = f"WLFcgiConfig {w.sb.conf}" if contained else ""
    return (f"""
{config}
# what the distributions' php-fpm packages bring: every script to their
# www pool, which runs as httpd's user (Fedora's conf.d/php.conf: .php and
# .phar; Debian's conf-available/php8.2-fpm.conf: .php, .phar, .phtml)
<FilesMatch ".+\\.ph(?:ar|p|tml)$">
  SetHandler "proxy:unix:{w.loose.www_sock}|fcgi://localhost"
</FilesMatch>
Protocols h2c http/1.1
ScriptSock cgisock
ExtendedStatus On
{status}"""
            + site("eve.test", eve, w.eve_www, admin_proxying)
            + site("ann.test", ann, w.ann_www)
            + site("parked.test", None, w.parked))


class ContainWorld:
    def __init__(self, httpd_factory):
        self.sb = self.backend = self.loose = self.stock = None
        try:
            self._setup(httpd_factory)
        except BaseException:
            self.close()
            raise

    def _setup(self, httpd_factory):
        self.sb = Sandbox()
        self.root = self.sb.root
        self.eve = self.sb.add_account("eve", domains=["eve.test"])
        self.ann = self.sb.add_account("ann", domains=["ann.test"])
        self.eve_www = mkdir(os.path.join(self.eve.home, "www"), "wlft-eve")
        self.parked = mkdir(os.path.join(self.eve.home, "parked"),
                            "wlft-eve")
        # ann's home: httpd reads it through its group, eve cannot
        import grp
        www_gid = grp.getgrnam(HTTPD_GROUP).gr_gid
        os.chown(self.ann.home, self.ann.uid, www_gid)
        os.chmod(self.ann.home, 0o750)
        self.ann_www = os.path.join(self.ann.home, "www")
        os.makedirs(self.ann_www, exist_ok=True)
        os.chown(self.ann_www, self.ann.uid, www_gid)
        os.chmod(self.ann_www, 0o750)
        self.ann_secret = put(os.path.join(self.ann_www, "config.php"),
                              ANN_SECRET, "wlft-ann", 0o640, HTTPD_GROUP)
        self.ann_text = put(os.path.join(self.ann_www, "notes.txt"),
                            "ANN-NOTES\n", "wlft-ann", 0o640, HTTPD_GROUP)
        put(os.path.join(self.ann_www, "info.php"), php.INFO, "wlft-ann",
            0o640, HTTPD_GROUP)
        for name, text in (("info.php", php.INFO), ("static.txt", "EVE-OK\n"),
                           ("hello.php", php.HELLO)):
            put(os.path.join(self.eve_www, name), text, "wlft-eve")
        put(os.path.join(self.parked, "src.php"),
            "<?php /* PARKED-SOURCE */ echo 'ran';\n", "wlft-eve")
        put(os.path.join(self.parked, "static.txt"), "PARKED-OK\n",
            "wlft-eve")
        mkdir(os.path.join(self.eve_www, "admdir"), "wlft-eve")
        put(os.path.join(self.eve_www, "admauth", "a.txt"), "ADMAUTH-OK\n",
            "wlft-eve")
        ensure_user("wlft-legacy")
        self.shared = mkdir(os.path.join(self.root, "shared"), "wlft-legacy")
        put(os.path.join(self.shared, "lib.js"), "SHARED-OK\n", "wlft-legacy")
        # root's, readable by httpd's group only (a password file)
        self.root_secret = put(os.path.join(self.root, "htpasswd"),
                               "admin:ROOT-SECRET\n", "root", 0o640,
                               HTTPD_GROUP)
        self.root_public = put(os.path.join(self.root, "public.txt"),
                               "ROOT-PUBLIC\n", "root", 0o644)
        # password files: ann's for her site, the admin's for a tool
        self.ann_htpasswd = put(os.path.join(self.ann_www, ".htpasswd"),
                                htpasswd_line("annuser", "annpass"),
                                "wlft-ann", 0o640, HTTPD_GROUP)
        self.ann_htgroup = put(os.path.join(self.ann_www, ".htgroup"),
                               "annadmins: annuser\n", "wlft-ann", 0o640,
                               HTTPD_GROUP)
        self.admin_htpasswd = put(os.path.join(self.root, "admin.htpasswd"),
                                  htpasswd_line("admin", "adminpass"),
                                  "root", 0o640, HTTPD_GROUP)
        # root's, readable by everyone, but in ann's private home (the
        # per-site logs many hosting panels keep there)
        self.ann_logs = os.path.join(self.ann.home, "logs")
        os.makedirs(self.ann_logs, exist_ok=True)
        os.chmod(self.ann_logs, 0o755)
        self.ann_log = put(os.path.join(self.ann_logs, "access.log"),
                           "ANN-LOG GET /?session=ANN-TOKEN\n", "root",
                           0o644)
        self.httpd = None
        self.backend = Backend()
        self.loose = LoosePools(self.root)
        self.httpd = httpd_factory()
        self.httpd.write(vhosts(self, self.httpd.port, True), EXTRA_MODULES)
        self.httpd.start()
        sroot = tempfile.mkdtemp(prefix="wlfs", dir="/tmp")
        os.chmod(sroot, 0o755)
        self.stock = StockHttpd(sroot, log_level="warn")
        self.stock.write(vhosts(self, self.stock.port, False),
                         EXTRA_MODULES)
        self.stock.start()

    # -- the customer's moves --
    def eve_dir(self, name, htaccess=None, files=None):
        """A fresh directory NAME in eve's docroot (and the same in
        parked/ when name starts with "parked/"), with .htaccess text and
        files {name: text}, all eve's."""
        d = os.path.join(self.eve.home, name) if name.startswith("parked/") \
            else os.path.join(self.eve_www, name)
        if os.path.lexists(d):
            shutil.rmtree(d)
        mkdir(d, "wlft-eve")
        if htaccess is not None:
            put(os.path.join(d, ".htaccess"), htaccess, "wlft-eve")
        for fname, text in (files or {}).items():
            put(os.path.join(d, fname), text, "wlft-eve")
        return d

    def eve_link(self, path, target):
        """A symlink of eve's (lchown'ed to her, as she would make it)."""
        if os.path.lexists(path):
            os.unlink(path)
        os.symlink(target, path)
        os.lchown(path, *_ids("wlft-eve"))
        return path

    # -- requests --
    def get(self, path, host, stock=False, **kw):
        h = self.stock if stock else self.httpd
        return h.get(path, host=host, **kw)

    def both(self, path, host, **kw):
        """(stock response, contained response)"""
        return self.get(path, host, stock=True, **kw), \
            self.get(path, host, **kw)

    def close(self):
        if self.stock:
            self.stock.stop()
            shutil.rmtree(self.stock.root, ignore_errors=True)
        if getattr(self, "httpd", None):
            self.httpd.stop()
        if self.backend:
            self.backend.close()
        if self.loose:
            self.loose.stop()
        if self.sb:
            self.sb.close()


@pytest.fixture(scope="session")
def cworld(httpd_factory):
    w = ContainWorld(httpd_factory)
    yield w
    w.close()
