"""Real PHP applications as the distribution packages them, installed
into accounts the way a customer uploads them (pytest plugin).

- ``upload_tree()`` copies an application's files into an account's
  docroot as an FTP or SFTP upload would: real files (the package's
  symlinks followed), owned by the account's user, 0644/0755.
- ``MariaDB`` is a private database server for one test module: its own
  data directory in a temp dir, run as test user ``wlft-db``, a unix
  socket, no TCP, started and stopped by pid, with a bounded start-up.
- ``install_wordpress()`` and ``install_dokuwiki()`` take the files of
  Debian's ``wordpress`` and ``dokuwiki`` packages (/usr/share/...) and
  write the configuration a customer writes.
- ``Browser`` is a client with cookies that talks to one vhost of the
  test httpd (Host header) and never follows redirects: the redirects
  name the site's own host, which only the test httpd serves.

Fixture: ``apps`` (module scope) -> AppWorld: accounts ``wp``
(wp.test) and ``wiki`` (wiki.test) made by fpmctl, both applications
installed, one httpd with their vhosts. Skips when the packages are not
installed (./build.sh deps installs them).
"""
import io
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
import time
import zipfile

import pytest
import requests

from . import host
from .sandbox import Sandbox

WORDPRESS = "/usr/share/wordpress"
DOKUWIKI = "/usr/share/dokuwiki"
DOKUWIKI_CONF = "/etc/dokuwiki"
DOKUWIKI_DATA = "/var/lib/dokuwiki/data"
# Debian: /usr/sbin; Fedora and RHEL: /usr/libexec
MARIADBD = shutil.which("mariadbd", path="/usr/sbin:/usr/libexec:/usr/bin")
INSTALL_DB = shutil.which("mariadb-install-db") or \
    shutil.which("mysql_install_db")

# what the customer's sites allow uploading to: more than the account's
# max_upload (8M), through a <Location> in the vhost
RAISED_LIMIT = "32M"
# the upload the tests make: over the account's limit, under the raised
UPLOAD_BYTES = 12 << 20


def upload_tree(src, dst, user):
    """Copy src into dst as a customer's upload: files, not links into
    the distribution's directories, owned by `user`."""
    pw = pwd.getpwnam(user)
    shutil.copytree(src, dst, symlinks=False, dirs_exist_ok=True)
    for dirpath, dirnames, filenames in os.walk(dst):
        os.chown(dirpath, pw.pw_uid, pw.pw_gid)
        os.chmod(dirpath, 0o755)
        for n in filenames:
            p = os.path.join(dirpath, n)
            os.chown(p, pw.pw_uid, pw.pw_gid)
            os.chmod(p, 0o644)


def zip_bytes(size, name="data.bin"):
    """A real zip archive of about `size` bytes (stored random data)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr(name, os.urandom(size))
    return buf.getvalue()


# ------------------------------------------------------------ database --

class MariaDB:
    """A private MariaDB server on a unix socket in a temp dir."""

    def __init__(self, user="wlft-db", timeout=60):
        if not (MARIADBD and INSTALL_DB):
            pytest.skip("mariadb-server-core is not installed "
                        "(./build.sh deps)")
        self.pw = host.ensure_user(user)
        self.root = tempfile.mkdtemp(prefix="wlfdb", dir="/tmp")
        os.chmod(self.root, 0o755)
        os.chown(self.root, self.pw.pw_uid, self.pw.pw_gid)
        self.datadir = os.path.join(self.root, "data")
        self.socket = os.path.join(self.root, "mysqld.sock")
        self.pid_file = os.path.join(self.root, "mysqld.pid")
        self.log = os.path.join(self.root, "mysqld.err")
        self.init_file = os.path.join(self.root, "init.sql")
        self.proc = None
        self.timeout = timeout
        self.databases = []

    # fast and throw-away: no fsync, small buffers, no binary log
    SERVER_OPTS = ["--innodb-flush-method=nosync",
                   "--innodb-flush-log-at-trx-commit=0",
                   "--innodb-buffer-pool-size=16M",
                   "--innodb-log-file-size=8M", "--innodb-doublewrite=0",
                   "--skip-log-bin"]

    def add_database(self, name, user, password):
        """Created at start: database `name`, all of it for user@localhost
        with `password`."""
        self.databases.append((name, user, password))

    def start(self):
        r = subprocess.run(
            [INSTALL_DB, "--no-defaults", f"--user={self.pw.pw_name}",
             f"--datadir={self.datadir}", "--skip-test-db",
             "--auth-root-authentication-method=socket",
             *self.SERVER_OPTS],
            capture_output=True, text=True, timeout=self.timeout)
        if r.returncode != 0:
            raise RuntimeError(f"mariadb-install-db failed:\n{r.stdout}"
                               f"{r.stderr}")
        sql = []
        for name, user, password in self.databases:
            sql += [f"CREATE DATABASE `{name}`;",
                    f"CREATE USER '{user}'@'localhost' IDENTIFIED BY "
                    f"'{password}';",
                    f"GRANT ALL ON `{name}`.* TO '{user}'@'localhost';"]
        with open(self.init_file, "w") as f:
            f.write("\n".join(sql) + "\n")
        os.chown(self.init_file, self.pw.pw_uid, self.pw.pw_gid)
        self.proc = subprocess.Popen(
            [MARIADBD, "--no-defaults", f"--user={self.pw.pw_name}",
             f"--datadir={self.datadir}", f"--socket={self.socket}",
             "--skip-networking", f"--pid-file={self.pid_file}",
             f"--log-error={self.log}", f"--init-file={self.init_file}",
             *self.SERVER_OPTS],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        # ready once the pid file is written: after the init file ran
        deadline = time.monotonic() + self.timeout
        while not (os.path.exists(self.pid_file) and
                   os.path.exists(self.socket)):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("mariadbd did not start:\n"
                                   + self.read_log())
            time.sleep(0.05)

    def read_log(self):
        try:
            with open(self.log, errors="replace") as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            for sig, wait in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
                self.proc.send_signal(sig)
                try:
                    self.proc.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        if not os.environ.get("WLFT_KEEP"):
            shutil.rmtree(self.root, ignore_errors=True)


# ------------------------------------------------------------- browser --

class Browser:
    """Cookies, forms and uploads against one vhost of the test httpd."""

    def __init__(self, httpd, host_name):
        self.base = f"http://127.0.0.1:{httpd.port}"
        self.host = host_name
        self.s = requests.Session()

    def request(self, method, path, **kw):
        headers = dict(kw.pop("headers", {}) or {})
        headers["Host"] = self.host
        kw.setdefault("timeout", 60)
        return self.s.request(method, self.base + path, headers=headers,
                              allow_redirects=False, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)


def form_field(html, name):
    """value="..." of the input named `name` in html."""
    m = re.search(r'<input[^>]*name="%s"[^>]*>' % re.escape(name), html)
    assert m, f"no input {name!r} in the page:\n{html[:3000]}"
    v = re.search(r'value="([^"]*)"', m.group(0))
    return v.group(1) if v else ""


# ------------------------------------------------------------ wordpress --

WP_ADMIN = ("admin", "correct horse battery staple 7", "admin@wp.test")


def install_wordpress(docroot, user, db, db_name, db_user, db_password):
    """The files of Debian's wordpress package in docroot, with the
    wp-config.php a customer writes from wp-config-sample.php."""
    upload_tree(WORDPRESS, docroot, user)
    # Debian's own wp-config.php reads /etc/wordpress; a customer's site
    # has its settings in its own file
    with open(os.path.join(WORDPRESS, "wp-config-sample.php")) as f:
        sample = f.read()
    conf = (sample
            .replace("database_name_here", db_name)
            .replace("username_here", db_user)
            .replace("password_here", db_password)
            .replace("'localhost'", f"'localhost:{db.socket}'"))
    salts = "\n".join(
        f"define( '{k}', '{os.urandom(24).hex()}' );"
        for k in ("AUTH_KEY", "SECURE_AUTH_KEY", "LOGGED_IN_KEY",
                  "NONCE_KEY", "AUTH_SALT", "SECURE_AUTH_SALT",
                  "LOGGED_IN_SALT", "NONCE_SALT"))
    conf = re.sub(r"define\( 'AUTH_KEY'.*?define\( 'NONCE_SALT',[^\n]*\n",
                  salts + "\n", conf, flags=re.S)
    # no calls to wordpress.org (the tests run offline), no cron requests
    # to itself
    extra = ("define( 'WP_HTTP_BLOCK_EXTERNAL', true );\n"
             "define( 'DISABLE_WP_CRON', true );\n"
             "define( 'AUTOMATIC_UPDATER_DISABLED', true );\n")
    conf = conf.replace("/* That's all, stop editing!", extra +
                        "/* That's all, stop editing!")
    host.install(os.path.join(docroot, "wp-config.php"), conf, user, 0o640)
    # WordPress writes its rewrite rules into .htaccess itself (permalink
    # settings): the package's example is all comments
    os.unlink(os.path.join(docroot, ".htaccess"))


def wordpress_setup(b):
    """The installer's second step, then login; returns the Browser."""
    title, (name, password, email) = "wlfcgi WordPress", WP_ADMIN
    r = b.post("/wp-admin/install.php?step=2", data={
        "weblog_title": title, "user_name": name, "admin_password": password,
        "admin_password2": password, "pw_weak": "1", "admin_email": email,
        "blog_public": "0", "language": "", "Submit": "Install WordPress"})
    assert r.status_code == 200 and "Success!" in r.text, r.text[:3000]
    return b


def wordpress_login(b):
    name, password, _ = WP_ADMIN
    b.s.cookies.set("wordpress_test_cookie", "WP Cookie check")
    r = b.post("/wp-login.php", data={
        "log": name, "pwd": password, "wp-submit": "Log In",
        "redirect_to": "/wp-admin/", "testcookie": "1"})
    assert r.status_code == 302, r.text[:3000]
    assert "/wp-admin/" in r.headers["Location"]
    return r


def wordpress_nonce(html, action_js_key="_wpnonce"):
    m = re.search(r'"%s":"([0-9a-f]+)"' % action_js_key, html)
    assert m, html[:3000]
    return m.group(1)


# ------------------------------------------------------------- dokuwiki --

WIKI_ADMIN = ("admin", "wiki admin secret 9")


def install_dokuwiki(docroot, user, php_hash):
    """The files of Debian's dokuwiki package in docroot, laid out as the
    upstream tarball a customer unpacks (conf/ and data/ inside), with
    nice URLs through the .htaccess rules DokuWiki ships."""
    upload_tree(DOKUWIKI, docroot, user)
    # Debian moves conf and data out of the tree (inc/preload.php); the
    # upstream layout has them in it
    os.unlink(os.path.join(docroot, "inc", "preload.php"))
    # and takes its libraries from the system's PHP directories, which
    # the account's open_basedir does not reach; the upstream tarball
    # bundles them in vendor/
    bundle_libraries(docroot, user)
    conf = os.path.join(docroot, "conf")
    upload_tree(DOKUWIKI_CONF, conf, user)
    upload_tree(DOKUWIKI_DATA, os.path.join(docroot, "data"), user)
    main = os.path.join(conf, "dokuwiki.php")
    with open(main) as f:
        text = f.read()
    text = re.sub(r"\$conf\['savedir'\]\s*=\s*'[^']*';",
                  "$conf['savedir'] = './data';", text)
    host.install(main, text, user)
    host.install(os.path.join(conf, "local.php"),
               "<?php\n$conf['title'] = 'wlfcgi wiki';\n"
               "$conf['useacl'] = 1;\n$conf['superuser'] = '@admin';\n"
               "$conf['userewrite'] = 1;\n", user)
    host.install(os.path.join(conf, "acl.auth.php"),
               "# acl.auth.php\n*\t@ALL\t1\n*\t@user\t8\n", user, 0o600)
    name, _ = WIKI_ADMIN
    host.install(os.path.join(conf, "users.auth.php"),
               f"# users.auth.php\n{name}:{php_hash}:Wiki Admin:"
               "admin@wiki.test:admin,user\n", user, 0o600)
    host.install(os.path.join(conf, ".htaccess"), "Require all denied\n",
               user)
    # the rules of .htaccess.dist, switched on as its comments say
    with open(os.path.join(DOKUWIKI, ".htaccess.dist")) as f:
        dist = f.read()
    rules = []
    for line in dist.splitlines():
        m = re.match(r"#(Rewrite(?:Engine|Rule|Cond)\s.*)", line)
        if m and "https" not in line and "HTTPS" not in line:
            rules.append(m.group(1))
        elif not line.startswith("#"):
            rules.append(line)
    host.install(os.path.join(docroot, ".htaccess"), "\n".join(rules) + "\n",
               user)


DOKUWIKI_LIBS = {"/usr/share/php/": "vendor/debian/php/",
                 "/usr/share/php-geshi/": "vendor/debian/php-geshi/"}


def bundle_libraries(docroot, user):
    """Copy the system libraries DokuWiki names by absolute path into its
    vendor/ and point its autoloader there."""
    pw = pwd.getpwnam(user)
    os.makedirs(os.path.join(docroot, "vendor", "debian"), exist_ok=True)
    os.chown(os.path.join(docroot, "vendor", "debian"), pw.pw_uid, pw.pw_gid)
    for src, dst in DOKUWIKI_LIBS.items():
        upload_tree(src, os.path.join(docroot, dst), user)
    for dirpath, _, names in os.walk(docroot):
        if "/vendor/debian" in dirpath:
            continue
        for n in names:
            if not n.endswith(".php"):
                continue
            p = os.path.join(dirpath, n)
            with open(p) as f:
                text = f.read()
            if "/usr/share/php" not in text:
                continue
            text = text.replace("$vendorDir . '/usr/share/", "'/usr/share/")
            for src, dst in DOKUWIKI_LIBS.items():
                text = text.replace(src, os.path.join(docroot, dst))
            host.install(p, text, user)


def dokuwiki_sectok(html):
    return form_field(html, "sectok")


def dokuwiki_login(b):
    name, password = WIKI_ADMIN
    r = b.get("/start?do=login")
    assert r.status_code == 200, r.text[:2000]
    r = b.post("/start", data={
        "sectok": dokuwiki_sectok(r.text), "id": "start", "do": "login",
        "u": name, "p": password})
    assert r.status_code in (200, 302, 303), r.text[:2000]
    return r


# ------------------------------------------------------------ the world --

def vhost(port, name, docroot, extra=""):
    return f"""
<VirtualHost 127.0.0.1:{port}>
  ServerName {name}
  DocumentRoot {docroot}
  <Directory {docroot}>
    AllowOverride All
    Options SymLinksIfOwnerMatch
    Require all granted
  </Directory>
{extra}
</VirtualHost>
"""


class AppWorld:
    """Accounts wp and wiki, their applications, their database, httpd."""

    def __init__(self, httpd_factory):
        for path in (WORDPRESS, DOKUWIKI):
            if not os.path.isdir(path):
                pytest.skip(f"{path} is missing: the wordpress and "
                            "dokuwiki packages are not installed "
                            "(./build.sh deps)")
        self.sb = Sandbox()
        self.db = None
        self.httpd = None
        try:
            self._build(httpd_factory)
        except BaseException:
            self.close()
            raise

    def _build(self, httpd_factory):
        self.db = MariaDB()
        self.db.add_database("wordpress", "wp", "wp db secret 3")
        self.db.start()
        self.wp = self.sb.add_account("wp", domains=["wp.test"])
        self.wiki = self.sb.add_account("wiki", domains=["wiki.test"])
        # what the module asks for when a location raises the limit
        for name in ("wp", "wiki"):
            self.sb.fpmctl("set", name, f"upload_ceiling={RAISED_LIMIT}",
                           check=True)
        self.wp_root = os.path.join(self.wp.home, "htdocs")
        self.wiki_root = os.path.join(self.wiki.home, "htdocs")
        install_wordpress(self.wp_root, self.wp.user, self.db, "wordpress",
                          "wp", "wp db secret 3")
        install_dokuwiki(self.wiki_root, self.wiki.user,
                         self.php_hash(WIKI_ADMIN[1]))
        self.httpd = httpd_factory()
        self.httpd.write(
            f"WLFcgiConfig {self.sb.conf}\n"
            + vhost(self.httpd.port, "wp.test", self.wp_root,
                    "  <Location /wp-admin/async-upload.php>\n"
                    f"    WLFcgiMaxUpload {RAISED_LIMIT}\n  </Location>")
            + vhost(self.httpd.port, "wiki.test", self.wiki_root,
                    "  <Location /lib/exe/ajax.php>\n"
                    f"    WLFcgiMaxUpload {RAISED_LIMIT}\n  </Location>"))
        self.httpd.start()

    def php_hash(self, password):
        """password_hash() as the account's PHP computes it."""
        name = "hash.php"
        path = self.sb.write_php("wiki", "<?php echo password_hash("
                                 "$_SERVER['PW'], PASSWORD_BCRYPT);", name)
        r = self.sb.request("wiki", path, params={"PW": password})
        os.unlink(path)
        assert r.status == 200 and r.text.startswith("$2y$"), r
        return r.text

    def browser(self, host_name):
        return Browser(self.httpd, host_name)

    def close(self):
        if self.httpd is not None:
            self.httpd.stop()
        self.sb.close()
        if self.db is not None:
            self.db.stop()


@pytest.fixture(scope="module")
def apps(httpd_factory):
    w = AppWorld(httpd_factory)
    yield w
    w.close()
