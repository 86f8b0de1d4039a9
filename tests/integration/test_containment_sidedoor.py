"""`fpmctl check` finds the distribution's own php-fpm side door.

Fedora/EL's php-fpm package brings a `www` pool running as apache
(/etc/php-fpm.d/www.conf), a drop-in that starts php-fpm along with httpd,
and conf.d/php.conf, which sends every vhost's PHP there; Debian's
php8.2-fpm brings a `www` pool running as www-data, enabled at boot, and
conf-available/php8.2-fpm.conf. PHP in such a pool has httpd's group, so
it can connect to every account's socket: the first test shows it taking
over an account from a pool like that. check makes that a problem (exit 1)
while the pool runs or will start, a warning while it is only stopped,
and nothing once the service is masked. The distribution's files are laid
out in a fake root ($WLFCGI_SYSROOT); the pools are real php-fpm masters.
"""
import os
import subprocess

import pytest

from wlf.host import ensure_user, httpd_group, httpd_user, php_fpm
from wlf.sandbox import pid_alive, wait_until

HTTPD_USER, HTTPD_GROUP = httpd_user(), httpd_group()

FEDORA_WWW = """; Start a new pool named 'www'.
[www]
; RPM: apache user chosen to provide access to the same directories as httpd
user = {user}
; RPM: Keep a group allowed to write in log dir.
group = {group}
listen = {root}/run/php-fpm/www.sock
pm = static
pm.max_children = 1
"""

FEDORA_PHP_CONF = """#
# Allow php to handle Multiviews
#
AddType text/html .php
DirectoryIndex index.php
<IfModule !mod_php.c>
  <IfModule !mod_php7.c>
    SetEnvIfNoCase ^Authorization$ "(.+)" HTTP_AUTHORIZATION=$1
    <FilesMatch \\.(php|phar)$>
        SetHandler "proxy:unix:/run/php-fpm/www.sock|fcgi://localhost"
    </FilesMatch>
  </IfModule>
</IfModule>
"""

DEBIAN_CONF = """<FilesMatch ".+\\.ph(?:ar|p|tml)$">
    SetHandler "proxy:unix:/run/php/php8.2-fpm.sock|fcgi://localhost"
</FilesMatch>
"""

# PHP in the www pool: a FastCGI request to an account's socket, running
# the account's script, as the account
TAKEOVER = r'''<?php
function rec($t, $c) { return pack('CCnnCx', 1, $t, 1, strlen($c), 0) . $c; }
function len_($n) { return $n < 128 ? chr($n) : pack('N', $n | 0x80000000); }
function pair($k, $v) { return len_(strlen($k)) . len_(strlen($v)) . $k . $v; }
$s = @stream_socket_client('unix://@TARGET@', $errno, $errstr, 2);
if (!$s) { echo "refused: $errstr"; return; }
$p = pair('SCRIPT_FILENAME', '@SCRIPT@') . pair('REQUEST_METHOD', 'GET')
   . pair('PHP_ADMIN_VALUE', "open_basedir=/");
fwrite($s, rec(1, pack('nCx5', 1, 0)) . rec(4, $p) . rec(4, '') . rec(5, ''));
$out = '';
while (!feof($s)) { $out .= fread($s, 8192); }
echo preg_match('/RAN-AS-[a-z0-9_-]+/', $out, $m) ? $m[0] : 'no answer';
'''


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def check(sb):
    r = sb.fpmctl("check")
    js = sb.json("check")
    return r, js


@pytest.fixture
def fedora(sandbox):
    """A sandbox whose fake root holds Fedora's php-fpm files, the pool
    running as httpd's user (apache on Fedora)."""
    root = sandbox.sysroot
    write(f"{root}/etc/php-fpm.conf", f"""[global]
pid = {root}/run/php-fpm/php-fpm.pid
error_log = {root}/php-fpm.log
daemonize = yes
include={root}/etc/php-fpm.d/*.conf
""")
    write(f"{root}/etc/php-fpm.d/www.conf",
          FEDORA_WWW.format(user=HTTPD_USER, group=HTTPD_GROUP, root=root))
    write(f"{root}/etc/httpd/conf.d/php.conf", FEDORA_PHP_CONF)
    write(f"{root}/usr/lib/systemd/system/httpd.service.d/php-fpm.conf",
          "[Unit]\nWants=php-fpm.service\n")
    os.makedirs(f"{root}/run/php-fpm")
    started = []
    sandbox.start_www = lambda: started.append(start_fpm(
        f"{root}/etc/php-fpm.conf", f"{root}/run/php-fpm/php-fpm.pid"))
    try:
        yield sandbox
    finally:
        for pid in started:
            stop(pid)


def start_fpm(conf, pidfile):
    subprocess.run([php_fpm(), "--fpm-config", conf], check=True,
                   capture_output=True, timeout=30)
    with open(pidfile) as f:
        return int(f.read())


def stop(pid):
    try:
        os.kill(pid, 3)
    except ProcessLookupError:
        return
    wait_until(lambda: not pid_alive(pid), what="php-fpm gone")


def test_pool_with_httpd_group_takes_over_an_account(fedora):
    """Why check calls it a problem: the www pool's PHP connects to an
    account's socket and runs the account's script as the account."""
    sb = fedora
    alice = sb.add_account("alice")
    script = sb.write_php("alice", "<?php echo 'RAN-AS-', "
                          "posix_getpwuid(posix_geteuid())['name'];")
    sb.start_www()
    sock = f"{sb.sysroot}/run/php-fpm/www.sock"
    wait_until(lambda: os.path.exists(sock), what="www socket")
    attack = os.path.join(sb.sysroot, "www", "takeover.php")
    write(attack, TAKEOVER.replace("@TARGET@", sb.socket("alice"))
          .replace("@SCRIPT@", script))
    r = sb.request("alice", attack, sock=sock)
    assert r.status == 200, r
    assert r.text == f"RAN-AS-{alice.user}", r


def test_fedora_side_door_is_a_problem_until_masked(fedora):
    sb = fedora
    sb.add_account("alice")
    www = f"{sb.sysroot}/etc/php-fpm.d/www.conf"

    # started along with httpd (the drop-in): a problem
    r, js = check(sb)
    assert r.rc == 1 and js["ok"] is False, r
    assert len(js["problems"]) == 1, js
    p = js["problems"][0]
    assert p["account"] is None
    assert p["problem"].startswith(f"side door: php-fpm pool 'www' in {www} "
                                   f"runs PHP as user {HTTPD_USER}")
    assert "could connect to every account's socket" in p["problem"]
    assert "php-fpm.service starts along with httpd (" \
        f"{sb.sysroot}/usr/lib/systemd/system/httpd.service.d/php-fpm.conf)" \
        in p["problem"]
    assert p["problem"].endswith("systemctl mask --now php-fpm.service")
    # and the handler that sends PHP there: a warning
    assert [w["account"] for w in js["warnings"]] == [None]
    assert js["warnings"][0]["warning"].startswith(
        f"{sb.sysroot}/etc/httpd/conf.d/php.conf hands PHP files to "
        "php-fpm.service's own pool (SetHandler \"proxy:unix:/run/php-fpm/"
        "www.sock|fcgi://localhost\")")
    assert "side door: php-fpm pool 'www'" in r.out
    assert "warning: " + f"{sb.sysroot}/etc/httpd/conf.d/php.conf" in r.out
    # the count, then the line saying how limits are enforced
    assert "\n1 problem(s)\n" in r.out

    # enabled at boot: a problem
    os.unlink(f"{sb.sysroot}/usr/lib/systemd/system/httpd.service.d/"
              "php-fpm.conf")
    os.makedirs(f"{sb.sysroot}/etc/systemd/system/multi-user.target.wants")
    os.symlink("/usr/lib/systemd/system/php-fpm.service",
               f"{sb.sysroot}/etc/systemd/system/multi-user.target.wants/"
               "php-fpm.service")
    r, js = check(sb)
    assert r.rc == 1 and "php-fpm.service is enabled (starts at boot)" in \
        js["problems"][0]["problem"], r

    # stopped and not enabled: only a warning
    os.unlink(f"{sb.sysroot}/etc/systemd/system/multi-user.target.wants/"
              "php-fpm.service")
    r, js = check(sb)
    assert r.rc == 0 and js["problems"] == [], r
    assert len(js["warnings"]) == 2, js
    assert "php-fpm.service is stopped, but nothing keeps it from being " \
        "started" in js["warnings"][0]["warning"]
    assert r.out.startswith("warning: side door:")
    assert "no problems (see the warnings)" in r.out

    # masked: nothing to say
    os.symlink("/dev/null", f"{sb.sysroot}/etc/systemd/system/"
               "php-fpm.service")
    r, js = check(sb)
    assert r.rc == 0 and js["problems"] == [] and js["warnings"] == [], r

    # but a masked service that runs anyway is a problem
    sb.start_www()
    r, js = check(sb)
    assert r.rc == 1, r
    assert "php-fpm.service is running (pid " in js["problems"][0]["problem"]


def test_pools_that_cannot_reach_the_sockets_are_fine(fedora, wlft_user):
    sb = fedora
    pool = wlft_user("pool")
    www = f"{sb.sysroot}/etc/php-fpm.d/www.conf"
    write(www, FEDORA_WWW.format(user=pool.pw_name, group=pool.pw_name,
                                 root=sb.sysroot))
    r, js = check(sb)
    assert r.rc == 0 and js["problems"] == [] and js["warnings"] == [], r
    # its own user, httpd's group: a problem again
    write(www, FEDORA_WWW.format(user=pool.pw_name, group=HTTPD_GROUP,
                                 root=sb.sysroot))
    r, js = check(sb)
    assert r.rc == 1 and f"'{HTTPD_GROUP}' is httpd's group" in \
        js["problems"][0]["problem"], r
    # a user that does not exist cannot run a pool: not reported
    write(www, FEDORA_WWW.format(user="wlft-nosuchuser", group=HTTPD_GROUP,
                                 root=sb.sysroot))
    assert check(sb)[0].rc == 0


def test_debian_side_door(sandbox):
    sb = sandbox
    root = sb.sysroot
    write(f"{root}/etc/php/8.2/fpm/pool.d/www.conf",
          f"[www]\nuser = {HTTPD_USER}\ngroup = {HTTPD_GROUP}\n"
          "listen = /run/php/php8.2-fpm.sock\n")
    write(f"{root}/etc/php/8.1/fpm/pool.d/www.conf",
          "[www]\nuser = wlft-pool\ngroup = wlft-pool\n")
    ensure_user("wlft-pool")
    write(f"{root}/etc/apache2/conf-available/php8.2-fpm.conf", DEBIAN_CONF)
    os.makedirs(f"{root}/etc/systemd/system/multi-user.target.wants")
    os.symlink("/lib/systemd/system/php8.2-fpm.service",
               f"{root}/etc/systemd/system/multi-user.target.wants/"
               "php8.2-fpm.service")
    r, js = check(sb)
    assert r.rc == 1, r
    assert len(js["problems"]) == 1, js
    p = js["problems"][0]["problem"]
    assert p.startswith(f"side door: php-fpm pool 'www' in {root}/etc/php/"
                        "8.2/fpm/pool.d/www.conf runs PHP as user "
                        f"{HTTPD_USER}")
    assert "php8.2-fpm.service is enabled (starts at boot)" in p
    assert p.endswith("systemctl mask --now php8.2-fpm.service")
    # conf-available only: not a warning; enabled: one
    assert js["warnings"] == []
    os.makedirs(f"{root}/etc/apache2/conf-enabled")
    os.symlink("../conf-available/php8.2-fpm.conf",
               f"{root}/etc/apache2/conf-enabled/php8.2-fpm.conf")
    js = check(sb)[1]
    assert len(js["warnings"]) == 1 and "php8.2-fpm.service's own pool " \
        "(SetHandler \"proxy:unix:/run/php/php8.2-fpm.sock|fcgi://" \
        "localhost\")" in js["warnings"][0]["warning"], js
    # an empty unit file masks, too
    write(f"{root}/etc/systemd/system/php8.2-fpm.service", "")
    r, js = check(sb)
    assert r.rc == 0 and js["problems"] == js["warnings"] == [], r


def test_this_machine_without_a_fake_root(sandbox):
    """Without WLFCGI_SYSROOT check looks at the real /: whatever it finds
    there is said as a side door, never as a crash."""
    r = sandbox.fpmctl("check", env={"WLFCGI_SYSROOT": ""})
    assert r.rc in (0, 1), r
    assert "problem(s)" in r.out or r.out.splitlines()[-1].startswith("ok:"), r
