"""The world mod_wlfcgi's integration tests run in (pytest plugin).

Two accounts with real php-fpm instances in the wlfcgi layout:
  alice  wlft-alice  alice.test, www.alice.test, alice2.test
         max_children 5, FPM pm = static (connection reuse on with
         ServerLimit 2)
         upload_ceiling 5G (for the big-upload locations)
  bob    wlft-bob    bob.test
         max_children 1 (one FPM worker: leaks would show), FPM pm =
         ondemand, reuse off
and one httpd (mpm_event) with these vhosts:
  alice.test (+ www.alice.test)  AllowOverride All,
                                 /big: WLFcgiMaxUpload 3G,
                                 /huge: WLFcgiMaxUpload 5G
  alice2.test                    alice's second site
  bob.test                       AllowOverride All, /big: 64M
  nobody.test                    no account: PHP must never leak
  stock.test                     no account, WLFcgiExtensions none, a stock
                                 FilesMatch SetHandler
                                 to a plain FPM pool outside the wlfcgi
                                 socket dir (the comparison setup)
  legacy.test                    alice's, but WLFcgiExtensions none: its
                                 own SetHandler to the stock pool serves PHP
  admin.test                     /wlfcgi-status
  wp.test                        alice's (WLFcgiAccount), a front
                                 controller site (see install_front_site):
                                 /wp-json/ and /dirindex/ 64M, /small 1M,
                                 /big 64M

The accounts and their php-fpm instances are made by fpmctl (through the
sandbox harness, tests/integration/wlf/sandbox.py). alice's account says
pm = static and bob's ondemand; the module reads that setting.

Fixture: `world` (session).
"""
import os
import pwd
import shutil
import tempfile
import time

import pytest

from . import fcgi, host, php
from .host import install
from .sandbox import Sandbox


class AccountView:
    """What the module tests need to know of an account."""

    def __init__(self, name, user, home, socket_dir, pm):
        self.name = name
        self.user = user
        self.home = home
        self.socket_dir = socket_dir
        self.pm = pm

    @property
    def link(self):
        return os.path.join(self.socket_dir, f"{self.name}.sock")

    def slot_socket(self, slot):
        return os.path.join(self.socket_dir, f"{self.name}.{slot}.sock")


class Accounts:
    """Accounts made and run by fpmctl in a sandbox (fpmctl init --prefix),
    with the operations the module tests use."""

    def __init__(self):
        self.sb = Sandbox()
        paths = self.sb.paths
        self.prefix = self.sb.root
        self.config = self.sb.conf
        self.accounts_dir = paths["accounts"]
        self.socket_dir = paths["sockets"]
        self.state_dir = paths["state"]
        self.log_dir = paths["logs"]
        self.accounts = {}

    def _pm(self, name):
        return self.sb.json("show", name)["settings"]["pm"]["value"]

    def add_account(self, name, user, domains=(), pm=None, **settings):
        """pm: the account's pm setting (ondemand when None)."""
        if pm:
            settings["pm"] = pm
        args = []
        if "max_children" in settings:
            args += ["--max-children", str(settings.pop("max_children"))]
        a = self.sb.add_account(name, user=user, domains=domains, args=args)
        if settings:
            self.sb.fpmctl("set", name,
                           *[f"{k}={v}" for k, v in settings.items()],
                           check=True)
        view = AccountView(name, user, a.home, self.socket_dir,
                           self._pm(name))
        self.accounts[name] = view
        return view

    def set(self, name, **settings):
        self.sb.fpmctl("set", name, *[f"{k}={v}" for k, v in settings.items()],
                       check=True)

    def start(self, name):
        self.sb.fpmctl("start", name, check=True)

    def stop(self, name):
        self.sb.fpmctl("stop", name, check=True)

    def reload(self, name):
        """fpmctl reload; returns once the old master has quit (fpmctl
        itself returns right after the switch)."""
        old = self.sb.master_pid(name)
        self.sb.fpmctl("reload", name, check=True)
        deadline = time.time() + 30
        while old and time.time() < deadline and \
                os.path.exists(f"/proc/{old}"):
            time.sleep(0.05)
        return self.sb.master_pid(name)

    def kill_master(self, name):
        """The live master goes away behind fpmctl's back (a crash, an
        admin's kill): the NAME.sock link stays, its socket is gone."""
        import signal
        pid = self.sb.master_pid(name)
        os.kill(pid, signal.SIGQUIT)
        deadline = time.time() + 15
        while time.time() < deadline and os.path.exists(f"/proc/{pid}"):
            time.sleep(0.02)

    def master_pid(self, name, slot=None):
        return self.sb.master_pid(name, slot)

    def remove_account(self, name):
        self.sb.fpmctl("remove-account", name, "--purge", "--yes")
        self.accounts.pop(name, None)

    def close(self):
        self.sb.close()


def make_accounts():
    """A fresh sandbox to add accounts to; close() stops and removes it."""
    return Accounts()


def docroot(acct):
    return os.path.join(acct.home, "www")


def install_scripts(acct):
    d = docroot(acct)
    for name, text in (("info.php", php.INFO), ("apcu.php", php.APCU),
                       ("upload.php", php.UPLOAD), ("hello.php", php.HELLO),
                       ("index.php", php.INFO), ("sink.php", php.SINK),
                       ("server.php", php.SERVER)):
        install(os.path.join(d, name), text, acct.user)
        for sub in ("big", "huge"):
            install(os.path.join(d, sub, name), text, acct.user)
    for sub in ("big", "huge"):
        os.chown(os.path.join(d, sub), *_ids(acct.user))
    install(os.path.join(d, "static.txt"), "ok", acct.user)
    # a script named just ".php": php-fpm runs it, so it must go there
    install(os.path.join(d, ".php"), php.INFO, acct.user)
    os.makedirs(os.path.join(d, "dir"), exist_ok=True)
    install(os.path.join(d, "dir", "index.php"), php.INFO, acct.user)


# WordPress's own .htaccess: every URL that is no file or directory goes
# to /index.php by an internal redirect
WORDPRESS_HTACCESS = """# BEGIN WordPress
<IfModule mod_rewrite.c>
RewriteEngine On
RewriteRule .* - [E=HTTP_AUTHORIZATION:%{HTTP:Authorization}]
RewriteBase /
RewriteRule ^index\\.php$ - [L]
RewriteCond %{REQUEST_FILENAME} !-f
RewriteCond %{REQUEST_FILENAME} !-d
RewriteRule . /index.php [L]
</IfModule>
# END WordPress
"""


def install_front_site(acct):
    """A site of `acct` as a front-controller application lays it out,
    with the ways a customer's .htaccess moves a request to another URL:
      /index.php, /big/upload.php   the upload script
      /.htaccess                    WordPress's rewrite to /index.php
      /small/.htaccess              rewrites everything to /big/upload.php
      /dirindex/.htaccess           DirectoryIndex /index.php
      /denied/.htaccess             secret.php denied, ErrorDocument 403
                                    /big/upload.php
    Returns the docroot."""
    root = os.path.join(acct.home, "front")
    files = {
        ".htaccess": WORDPRESS_HTACCESS,
        "index.php": php.UPLOAD,
        "big/upload.php": php.UPLOAD,
        "small/.htaccess": "RewriteEngine On\n"
                           "RewriteRule ^ /big/upload.php [L]\n",
        "dirindex/.htaccess": "DirectoryIndex /index.php\n",
        "denied/.htaccess": "RewriteEngine Off\n"
                            "ErrorDocument 403 /big/upload.php\n"
                            "<Files secret.php>\n  Require all denied\n"
                            "</Files>\n",
        "denied/secret.php": php.UPLOAD,
    }
    for name, text in files.items():
        install(os.path.join(root, name), text, acct.user)
    for sub in ("", "big", "small", "dirindex", "denied"):
        os.chown(os.path.join(root, sub), *_ids(acct.user))
    return root


def _ids(user):
    pw = pwd.getpwnam(user)
    return pw.pw_uid, pw.pw_gid


class StockFpm:
    """A plain php-fpm pool outside the wlfcgi socket dir, as hosters run
    them today: the comparison for PATH_INFO & co."""

    def __init__(self, root, user):
        self.root = root
        self.user = user
        self.sock = os.path.join(root, "stock.sock")
        self.pid_file = os.path.join(root, "stock.pid")
        self.conf = os.path.join(root, "stock-fpm.conf")
        with open(self.conf, "w") as f:
            f.write(f"""[global]
pid = {self.pid_file}
error_log = {root}/stock-fpm.log
daemonize = yes
[stock]
user = {user}
group = {user}
listen = {self.sock}
listen.owner = {user}
listen.group = {host.httpd_group()}
listen.mode = 0660
pm = ondemand
pm.max_children = 4
ping.path = {fcgi.PING_PATH}
""")
        self.pid = host.start_php_fpm(self.conf, self.pid_file, self.sock)

    def stop(self):
        host.quit_php_fpm(self.pid)


def customer_site(port, name, root, extra="", alias=None):
    """A vhost whose docroot its customer controls (AllowOverride All)."""
    alias = f"  ServerAlias {alias}\n" if alias else ""
    return f"""
<VirtualHost 127.0.0.1:{port}>
  ServerName {name}
{alias}  DocumentRoot {root}
  <Directory {root}>
    AllowOverride All
    Options +FollowSymLinks
    Require all granted
  </Directory>
{extra}</VirtualHost>
"""


def max_upload(location, size):
    return f"""  <Location {location}>
    WLFcgiMaxUpload {size}
  </Location>
"""


def stock_site(port, name, world, extra=""):
    """A vhost that sends its PHP to the stock pool, the way hosters set
    it up without wlfcgi."""
    return f"""
<VirtualHost 127.0.0.1:{port}>
  ServerName {name}
{extra}  DocumentRoot {world.stock_root}
  <Directory {world.stock_root}>
    AllowOverride None
    Require all granted
  </Directory>
  <FilesMatch "\\.php$">
    SetHandler "proxy:unix:{world.stock.sock}|fcgi://localhost"
  </FilesMatch>
</VirtualHost>
"""


def vhost_conf(world, port):
    a, b = world.alice, world.bob
    return "".join([
        f"\nWLFcgiConfig {world.sandbox.config}\n"
        "RequestReadTimeout header=20-40,MinRate=500 body=20,MinRate=500\n",
        customer_site(port, "alice.test", docroot(a),
                      max_upload("/big", "3G") + max_upload("/huge", "5G"),
                      alias="www.alice.test"),
        customer_site(port, "alice2.test", docroot(a)),
        customer_site(port, "bob.test", docroot(b),
                      max_upload("/big", "64M")),
        customer_site(port, "nobody.test", world.nobody_root),
        # no account, PHP on its own set-up: without WLFcgiExtensions none
        # the module would refuse its PHP (a vhost without an account runs
        # PHP nowhere)
        stock_site(port, "stock.test", world, "  WLFcgiExtensions none\n"),
        # a site still on its old PHP set-up: the module keeps out of it
        stock_site(port, "legacy.test", world,
                   "  WLFcgiAccount alice\n  WLFcgiExtensions none\n"),
        customer_site(port, "wp.test", world.front_root,
                      "  WLFcgiAccount alice\n" +
                      max_upload("/wp-json/", "64M") +
                      max_upload("/dirindex/", "64M") +
                      max_upload("/big", "64M") +
                      max_upload("/small", "1M") +
                      max_upload("/denied", "1M")),
        f"""
<VirtualHost 127.0.0.1:{port}>
  ServerName admin.test
  DocumentRoot {world.nobody_root}
  <Location /wlfcgi-status>
    SetHandler wlfcgi-status
    Require all granted
  </Location>
</VirtualHost>
"""])


class World:
    def __init__(self, factory):
        self.prefix = tempfile.mkdtemp(prefix="wlf", dir="/tmp")
        os.chmod(self.prefix, 0o755)
        self.sandbox = make_accounts()
        self.alice = self.sandbox.add_account(
            "alice", "wlft-alice",
            ["alice.test", "www.alice.test", "alice2.test"],
            max_children=5, upload_ceiling="5G", pm="static")
        self.bob = self.sandbox.add_account(
            "bob", "wlft-bob", ["bob.test"], max_children=1,
            upload_ceiling="64M")
        for acct in (self.alice, self.bob):
            install_scripts(acct)
        self.front_root = install_front_site(self.alice)
        self.nobody_root = os.path.join(self.prefix, "nobody")
        install(os.path.join(self.nobody_root, "src.php"),
                "<?php /* SECRET-SOURCE */ echo 'ran';\n")
        install(os.path.join(self.nobody_root, "index.php"),
                "<?php /* SECRET-INDEX */ echo 'ran';\n")
        host.ensure_user("wlft-stock")
        self.stock_root = os.path.join(self.prefix, "stock")
        install(os.path.join(self.stock_root, "info.php"), php.INFO)
        install(os.path.join(self.stock_root, "server.php"), php.SERVER)
        install(os.path.join(self.stock_root, "dir", "index.php"), php.INFO)
        self.stock = StockFpm(self.prefix, "wlft-stock")
        self.httpd = factory()
        self.httpd.write(vhost_conf(self, self.httpd.port))
        self.httpd.start()

    def get(self, path, host, **kw):
        return self.httpd.get(path, host=host, **kw)

    def write_htaccess(self, acct, subdir, text):
        d = os.path.join(docroot(acct), subdir)
        os.makedirs(d, exist_ok=True)
        os.chown(d, *_ids(acct.user))
        install(os.path.join(d, ".htaccess"), text, acct.user)
        install(os.path.join(d, "info.php"), php.INFO, acct.user)
        install(os.path.join(d, "static.txt"), "static", acct.user)
        return d

    def close(self):
        self.httpd.stop()
        self.sandbox.close()
        self.stock.stop()
        shutil.rmtree(self.prefix, ignore_errors=True)


@pytest.fixture(scope="session")
def world(httpd_factory):
    w = World(httpd_factory)
    yield w
    w.close()
