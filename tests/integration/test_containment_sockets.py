"""Only root and httpd can open an account's FPM socket.

Whoever can connect to an FPM socket controls that pool's admin settings:
php-fpm honours PHP_ADMIN_VALUE from any client, and the value stays in
the worker for the requests after it. In a stock setup the socket belongs
to the pool's own user, so the customer's own PHP (open_basedir does not
cover sockets) can send it: the first test shows that on a plain php-fpm
pool with listen.owner = the pool user, and that the same PHP gets
"Permission denied" on every wlfcgi socket, its own included, by every
spelling (stream_socket_client, fsockopen, the sockets extension, a
helper program started with exec()).

The sockets are root's with httpd's group (0660) in a root:httpd-group
0750 directory: either barrier alone keeps the account and any other
local user out; httpd's user and root get in. Reloads (slot switches) and
systemd mode keep it so. A user that could reach the sockets through
httpd's group is never given an account, and no instance is started for
one that joined the group later.
"""
import grp
import os
import pwd
import stat
import subprocess
import time

import pytest

from wlf.host import ensure_user, httpd_group, httpd_user, php_fpm
from wlf.sandbox import pid_alive, wait_until

HTTPD_USER, HTTPD_GROUP = httpd_user(), httpd_group()

# A FastCGI client in the customer's PHP: it sends one request with
# PHP_ADMIN_VALUE to TARGET and does not wait for the answer (in a pool
# with one worker, that worker is busy running this very script).
ATTACK = r'''<?php
function rec($t, $c) { return pack('CCnnCx', 1, $t, 1, strlen($c), 0) . $c; }
function len_($n) { return $n < 128 ? chr($n) : pack('N', $n | 0x80000000); }
function pair($k, $v) { return len_(strlen($k)) . len_(strlen($v)) . $k . $v; }
$s = @stream_socket_client('unix://@TARGET@', $errno, $errstr, 2);
if (!$s) { echo "refused errno=$errno ($errstr)"; return; }
$p = pair('SCRIPT_FILENAME', '@VICTIM@') . pair('REQUEST_METHOD', 'GET')
   . pair('PHP_ADMIN_VALUE', "open_basedir=/\nallow_url_include=1\n"
          . "auto_prepend_file=@PREPEND@");
fwrite($s, rec(1, pack('nCx5', 1, 0)) . rec(4, $p) . rec(4, '') . rec(5, ''));
fclose($s);
echo "sent";
'''

# the same connect, spelled differently; each prints "refused: WHY" or
# "connected"
SPELLINGS = {
    "stream_socket_client": r'''<?php
$s = @stream_socket_client('unix://@TARGET@', $en, $es, 2);
echo $s ? 'connected' : "refused: $es";''',
    "fsockopen": r'''<?php
$s = @fsockopen('unix://@TARGET@', -1, $en, $es, 2);
echo $s ? 'connected' : "refused: $es";''',
    "socket_connect": r'''<?php
$s = socket_create(AF_UNIX, SOCK_STREAM, 0);
echo @socket_connect($s, '@TARGET@') ? 'connected'
    : 'refused: ' . socket_strerror(socket_last_error($s));''',
    # open_basedir does not apply to programs the script starts
    "exec": r'''<?php
$code = "import socket, os\n"
      . "s = socket.socket(socket.AF_UNIX)\n"
      . "try:\n s.connect('@TARGET@'); print('connected')\n"
      . "except OSError as e: print('refused: ' + os.strerror(e.errno))\n";
echo exec('python3 -c ' . escapeshellarg($code));''',
}

INFO = ("<?php echo ini_get('open_basedir'), '|', "
        "(int)ini_get('allow_url_include'), '|', ini_get('auto_prepend_file');")

# connect as another Unix user: prints "connected pong", "connected", or
# "refused ERRNO STRERROR"
CONNECT_AS = r'''
import socket, struct, sys
def rec(t, c=b""):
    return struct.pack("!BBHHBx", 1, t, 1, len(c), 0) + c
def pairs(d):
    out = b""
    for k, v in d.items():
        out += bytes([len(k), len(v)]) + k.encode() + v.encode()
    return out
s = socket.socket(socket.AF_UNIX)
s.settimeout(5)
try:
    s.connect(sys.argv[1])
except OSError as e:
    print("refused", e.errno, e.strerror)
    sys.exit(0)
p = {"SCRIPT_NAME": "/wlfcgi-fpm-ping", "SCRIPT_FILENAME": "/wlfcgi-fpm-ping",
     "REQUEST_METHOD": "GET"}
s.sendall(rec(1, struct.pack("!HB5x", 1, 0)) + rec(4, pairs(p)) + rec(4)
          + rec(5))
data = b""
while True:
    chunk = s.recv(65536)
    if not chunk:
        break
    data += chunk
print("connected", "pong" if b"pong" in data else "")
'''


def connect_as(user, path):
    """Connect to `path` as Unix user `user` (its own groups); returns
    what CONNECT_AS printed."""
    r = subprocess.run(["setpriv", "--reuid", user, "--regid",
                        str(pwd.getpwnam(user).pw_gid), "--init-groups",
                        "/usr/bin/python3", "-c", CONNECT_AS, path],
                       capture_output=True, text=True, timeout=30, cwd="/")
    assert r.returncode == 0, r.stderr
    return r.stdout.strip()


class StockPool:
    """A plain php-fpm pool as stock setups (and wlfcgi before) run it:
    user = listen.owner = the account's user, group httpd's, 0660; one
    static worker, so the request after an injection runs in the worker
    that took it."""

    def __init__(self, root, user, home):
        self.dir = os.path.join(root, "stock")
        os.makedirs(self.dir)
        os.chmod(self.dir, 0o755)
        self.sock = os.path.join(self.dir, "stock.sock")
        self.pidfile = os.path.join(self.dir, "fpm.pid")
        conf = os.path.join(self.dir, "php-fpm.conf")
        with open(conf, "w") as f:
            f.write(f"""[global]
pid = {self.pidfile}
error_log = {self.dir}/fpm.log
daemonize = yes
[stock]
user = {user}
group = {user}
listen = {self.sock}
listen.owner = {user}
listen.group = {HTTPD_GROUP}
listen.mode = 0660
pm = static
pm.max_children = 1
php_admin_value[open_basedir] = {home}/
""")
        subprocess.run([php_fpm(), "--fpm-config", conf], check=True,
                       capture_output=True, timeout=30)
        with open(self.pidfile) as f:
            self.pid = int(f.read())
        wait_until(lambda: os.path.exists(self.sock), what="stock socket")

    def stop(self):
        try:
            os.kill(self.pid, 3)
        except ProcessLookupError:
            return
        wait_until(lambda: not pid_alive(self.pid), what="stock pool gone")


@pytest.fixture(scope="module")
def world(module_sandbox):
    sb = module_sandbox
    sb.set_config(drain_time=100)
    alice = sb.add_account("alice")
    sb.add_account("bob")
    stock = StockPool(sb.root, alice.user, alice.home)
    try:
        yield sb, stock
    finally:
        stock.stop()


def run_php(sb, name, code, sock=None):
    r = sb.php(name, code, sock=sock)
    assert r.status == 200, r
    return r.text


def slot_sock(sb, name, slot):
    return os.path.join(sb.paths["sockets"], f"{name}.{slot}.sock")


def test_own_socket_injection_works_on_stock_but_not_here(world):
    sb, stock = world
    prepend = sb.write_php("alice", "<?php echo 'PREPENDED ';",
                           "prepend.php")
    victim = sb.write_php("alice", "<?php echo 'victim';", "victim.php")

    def attack(target):
        return ATTACK.replace("@TARGET@", target) \
            .replace("@VICTIM@", victim).replace("@PREPEND@", prepend)

    # stock: the pool's own PHP connects to its own socket, and what it
    # sent stays in the worker: every later ordinary request runs the
    # customer's file first (the settings the pool says are lost)
    home = sb.accounts["alice"].home
    assert run_php(sb, "alice", INFO, sock=stock.sock) == f"{home}/|0|"
    assert run_php(sb, "alice", attack(stock.sock), sock=stock.sock) == \
        "sent"
    time.sleep(0.3)
    for _ in range(3):
        out = run_php(sb, "alice", INFO, sock=stock.sock)
        assert out.startswith("PREPENDED ") and out.endswith(
            f"|{prepend}"), out

    # wlfcgi: the same script gets "Permission denied" on its own socket,
    # its slot sockets and another account's, and nothing lingers
    own = f"{home}/:{sb.paths['state']}/accounts/alice/|0|"
    for target in (sb.socket("alice"), slot_sock(sb, "alice", "a"),
                   slot_sock(sb, "alice", "b"), sb.socket("bob"),
                   slot_sock(sb, "bob", "a")):
        out = run_php(sb, "alice", attack(target))
        assert out == "refused errno=13 (Permission denied)", (target, out)
    for _ in range(5):
        assert run_php(sb, "alice", INFO) == own


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_account_php_cannot_connect_to_any_socket(world, spelling):
    sb, stock = world
    code = SPELLINGS[spelling]
    # the comparison: in the stock pool the same code gets in (its worker
    # may still prepend what the first test injected)
    out = run_php(sb, "alice", code.replace("@TARGET@", stock.sock),
                  sock=stock.sock)
    assert out.endswith("connected"), out
    for target in (sb.socket("alice"), slot_sock(sb, "alice", "a"),
                   slot_sock(sb, "alice", "b"), sb.socket("bob"),
                   slot_sock(sb, "bob", "a"),
                   # the listening socket the worker holds as fd 0
                   "/proc/self/fd/0"):
        out = run_php(sb, "alice", code.replace("@TARGET@", target))
        assert out.startswith("refused"), (target, out)
        if target.startswith(sb.root):
            assert out == "refused: Permission denied", (target, out)


def test_socket_and_directory_each_keep_others_out(world):
    sb, stock = world
    plain = ensure_user("wlft-plain").pw_name
    sockdir = sb.paths["sockets"]
    www = grp.getgrnam(HTTPD_GROUP).gr_gid
    st = os.lstat(sockdir)
    assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == \
        (0, www, 0o750)
    for name in ("alice", "bob"):
        st = os.stat(sb.socket(name))
        assert (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)) == \
            (0, www, 0o660)
        assert os.lstat(sb.socket(name)).st_uid == 0       # the link
    for f in os.listdir(sockdir):
        assert os.lstat(os.path.join(sockdir, f)).st_uid == 0, f
    state_fpm = os.path.join(sb.paths["state"], "fpm")
    for dirpath, dirs, files in os.walk(state_fpm):
        for n in dirs + files:
            st = os.lstat(os.path.join(dirpath, n))
            assert st.st_uid == 0, n
            assert stat.S_ISLNK(st.st_mode) or not st.st_mode & 0o022, n

    targets = [sb.socket("alice"), slot_sock(sb, "alice", "a"),
               sb.socket("bob")]
    for user in (plain, sb.accounts["alice"].user):
        for t in targets:
            assert connect_as(user, t) == "refused 13 Permission denied", \
                (user, t)
    # the stock socket lets its own user in (the comparison)
    assert connect_as(sb.accounts["alice"].user, stock.sock) == \
        "connected"
    # httpd's user and root get in
    for t in targets:
        assert connect_as(HTTPD_USER, t) == "connected pong", t
        assert connect_as("root", t) == "connected pong", t

    # with the directory opened up, the sockets' own mode still holds
    os.chmod(sockdir, 0o755)
    try:
        for user in (plain, sb.accounts["alice"].user):
            for t in targets:
                assert connect_as(user, t) == \
                    "refused 13 Permission denied", (user, t)
        out = run_php(sb, "alice", SPELLINGS["stream_socket_client"]
                      .replace("@TARGET@", sb.socket("alice")))
        assert out == "refused: Permission denied"
    finally:
        os.chmod(sockdir, 0o750)
    # and a wrong mode is put right by the next change
    os.chmod(sockdir, 0o755)
    sb.fpmctl("reload", "bob", check=True)
    assert stat.S_IMODE(os.lstat(sockdir).st_mode) == 0o750


def test_reload_switches_to_a_socket_just_as_closed(world):
    sb, _ = world
    before = sb.live_slot("alice")
    old = sb.master_pid("alice")
    sb.fpmctl("reload", "alice", check=True)
    after = sb.live_slot("alice")
    assert after != before
    wait_until(lambda: not pid_alive(old), what="old master gone")
    new = slot_sock(sb, "alice", after)
    st = os.stat(new)
    assert st.st_uid == 0 and stat.S_IMODE(st.st_mode) == 0o660
    out = run_php(sb, "alice", SPELLINGS["stream_socket_client"]
                  .replace("@TARGET@", new))
    assert out == "refused: Permission denied"
    assert connect_as(HTTPD_USER, sb.socket("alice")) == "connected pong"
    assert connect_as("wlft-plain", new) == "refused 13 Permission denied"


def test_check_reports_a_socket_the_account_owns(world):
    """As an older fpmctl made them: check says so, a reload puts it
    right."""
    sb, _ = world
    alice = sb.accounts["alice"]
    live = slot_sock(sb, "alice", sb.live_slot("alice"))
    os.chown(live, alice.uid, grp.getgrnam(HTTPD_GROUP).gr_gid)
    assert connect_as(alice.user, live).startswith("refused")  # the dir
    r = sb.fpmctl("check")
    assert r.rc == 1 and f"alice: {live}: owner uid {alice.uid}, expected " \
        "root: the account's PHP may connect" in r.out, r
    sb.fpmctl("reload", "alice", check=True)
    assert os.stat(sb.socket("alice")).st_uid == 0
    assert sb.fpmctl("check").rc == 0


def test_systemd_mode_sockets(sandbox_factory):
    sb = sandbox_factory(service="systemd")
    sb.add_account("alice")
    assert any("start wlfcgi-fpm@alice.a.service" in c
               for c in sb.systemctl_calls())
    st = os.stat(sb.socket("alice"))
    assert st.st_uid == 0 and st.st_gid == grp.getgrnam(HTTPD_GROUP).gr_gid
    st = os.lstat(sb.paths["sockets"])
    assert st.st_uid == 0 and stat.S_IMODE(st.st_mode) == 0o750
    out = run_php(sb, "alice", SPELLINGS["socket_connect"]
                  .replace("@TARGET@", sb.socket("alice")))
    assert out == "refused: Permission denied"
    assert connect_as(HTTPD_USER, sb.socket("alice")) == "connected pong"
    assert sb.fpmctl("check").rc == 0


# ------------------------------------------- users in httpd's group --

def _group_member(user, add):
    """gpasswd -a/-d, retried while another run holds /etc/group."""
    for _ in range(50):
        r = subprocess.run(["gpasswd", "-a" if add else "-d", user,
                            HTTPD_GROUP], capture_output=True, text=True)
        if r.returncode == 0 or (not add and "not a member" in r.stderr):
            return
        time.sleep(0.1)
    raise RuntimeError(f"gpasswd {user}: {r.stderr}")


@pytest.fixture
def web_member():
    """wlft-webmember, a member of httpd's group while the test runs."""
    pw = ensure_user("wlft-webmember")
    _group_member(pw.pw_name, True)
    try:
        yield pw
    finally:
        _group_member(pw.pw_name, False)


def test_users_that_reach_the_sockets_get_no_account(sandbox, web_member):
    sb = sandbox
    sb.set_config(min_uid=1)    # so that httpd's user (33, 48) gets that far
    ensure_user("wlft-plain")
    home = sb.make_home("x", "wlft-plain")
    before = sb.tree_snapshot()
    cases = [
        (["--user", web_member.pw_name], "member of httpd's group"),
        (["--user", HTTPD_USER], "primary group"),
        (["--user", "wlft-plain", "--group", HTTPD_GROUP],
         "is httpd's group"),
        (["--user", "root"], "uid 0"),
    ]
    for args, why in cases:
        r = sb.fpmctl("add-account", "x", "--home", home, *args,
                      "--max-children", "2")
        assert r.rc == 2 and why in r.err, (args, r)
        assert "every account's socket" in r.err or "root" in r.err, r
    assert sb.tree_snapshot() == before


def test_user_that_joins_httpd_group_later(sandbox, wlft_user):
    sb = sandbox
    pw = wlft_user("latejoin")
    sb.add_account("late", user=pw.pw_name)
    master = sb.master_pid("late")
    _group_member(pw.pw_name, True)
    try:
        r = sb.fpmctl("set", "late", "max_children=3")
        assert r.rc == 2 and "member of httpd's group" in r.err, r
        assert f"gpasswd -d wlft-latejoin {HTTPD_GROUP}" in r.err
        r = sb.fpmctl("reload", "late")
        assert r.rc == 1 and "keeps serving" in r.err, r
        assert sb.master_pid("late") == master
        r = sb.fpmctl("check")
        assert r.rc == 1 and "late: 'wlft-latejoin' is a member of " \
            "httpd's group" in r.out, r
        problems = sb.json("check")["problems"]
        assert {"account": "late", "problem": problems[0]["problem"]} \
            in problems
        sb.fpmctl("stop", "late", check=True)
        r = sb.fpmctl("start", "late")
        assert r.rc == 1 and "member of httpd's group" in r.err, r
        assert sb.master_pid("late") is None
    finally:
        _group_member(pw.pw_name, False)
    sb.fpmctl("start", "late", check=True)
    assert sb.fpmctl("check").rc == 0
