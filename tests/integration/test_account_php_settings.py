"""Per-account PHP settings the admin allows: php_value defaults the
customer's .user.ini may change, env entries, extensions from an admin
allow-list loaded by the account's own master, settings PHP reads only at
start-up made to work through the instance's own ini file, settings
wlfcgi manages refused with the reason, and the extensions php-fpm runs
agreeing with what the module routes. Real php-fpm through fpmctl; the
routing through a real httpd."""
import json
import os
import re
import shutil
import subprocess

import pytest

from wlf import host
from wlf.modworld import install
from wlf.sandbox import Sandbox


def test_startup_only_setting_works_through_the_instance_ini(sandbox):
    """opcache.jit_buffer_size given as a php_admin value was accepted and
    ignored: the workers take it, the master sized the buffer long before.
    It now lands in the instance's own ini file, which the master reads."""
    sb = sandbox
    sb.add_account("alice")
    sb.add_account("bob")
    r = sb.fpmctl("set", "alice", "php_admin.opcache.jit_buffer_size=16M")
    assert r.rc == 0, r
    code = ("<?php $s = opcache_get_status(false); "
            "echo $s['jit']['buffer_size'] ?? 0;")
    assert int(sb.php("alice", code).text) >= 15 * 1024 * 1024
    assert int(sb.php("bob", code).text) == 0
    # a php_value of it could never work: refused, with the way that does
    r = sb.fpmctl("set", "bob", "php_value.opcache.jit_buffer_size=16M")
    assert r.rc == 2 and "php_admin.opcache.jit_buffer_size" in r.err, r


def test_settings_wlfcgi_manages_are_refused_with_the_reason(sandbox):
    sb = sandbox
    sb.add_account("alice")
    # even where the admin allowed them in wlfcgi.conf
    with open(sb.conf) as f:
        text = f.read()
    text = text.replace('php_admin_allowed = [\n',
                        'php_admin_allowed = [\n  "upload_max_filesize",\n'
                        '  "session.save_path",\n', 1)
    with open(sb.conf, "w") as f:
        f.write(text)
    for item, why in (("php_admin.upload_max_filesize=1G", "max_upload"),
                      ("php_admin.session.save_path=/tmp", "own directory"),
                      ("php_value.extension=redis", "extensions="),
                      ("env.PATH=/tmp", "wlfcgi sets it")):
        r = sb.fpmctl("set", "alice", item)
        assert r.rc == 2 and why in r.err, (item, r)


def test_php_value_is_a_default_the_customers_user_ini_may_change(sandbox):
    sb = sandbox
    alice = sb.add_account("alice")
    sb.fpmctl("set", "alice", "php_value.memory_limit=99M",
              "php_admin.max_input_vars=1234", "env.APP_ENV=production",
              check=True)
    code = ("<?php echo json_encode([ini_get('memory_limit'), "
            "ini_get('max_input_vars'), getenv('APP_ENV')]);")
    assert json.loads(sb.php("alice", code).text) == \
        ["99M", "1234", "production"]
    # (a directory PHP has not looked at: it caches .user.ini for 300 s)
    site = os.path.join(alice.home, "site")
    install(os.path.join(site, ".user.ini"),
            "memory_limit = 77M\nmax_input_vars = 5\n", alice.user)
    install(os.path.join(site, "ini.php"), code, alice.user)
    mem, inputs, _ = json.loads(sb.request(
        "alice", os.path.join(site, "ini.php")).text)
    assert mem == "77M"          # the customer's own choice
    assert inputs == "1234"      # php_admin: not the customer's
    # the command line gets the same
    r = sb.fpmctl("php", "alice", "-r", "echo ini_get('max_input_vars'), "
                  "' ', getenv('APP_ENV');")
    assert r.out == "1234 production", r
    j = sb.json("show", "alice")
    assert j["php_value"] == {"memory_limit": "99M"}
    assert j["env"] == {"APP_ENV": "production"}
    # keys outside php_value_allowed are refused
    r = sb.fpmctl("set", "alice", "php_value.open_basedir=/")
    assert r.rc == 2 and "php_value_allowed" in r.err, r


def wrapper_without(root, binary, ext):
    """A copy of this host's PHP `binary` whose distribution ini directory
    does not load `ext`: what `phpdismod NAME` leaves, made without
    touching the host's files."""
    out = subprocess.run([binary, "-i"], capture_output=True, text=True,
                         env={"PATH": "/usr/bin:/bin"}).stdout
    m = re.search(r"Scan this dir for additional \.ini files => (\S+)", out)
    assert m, out[-500:]
    confd = os.path.join(root, os.path.basename(binary) + ".d")
    os.makedirs(confd)
    for name in os.listdir(m.group(1)):
        path = os.path.join(m.group(1), name)
        with open(path) as f:
            if re.search(rf"^\s*extension\s*=\s*{ext}(\.so)?\s*$", f.read(),
                         re.M):
                continue
        shutil.copy(path, confd)
    wrapper = os.path.join(root, os.path.basename(binary) + "-no" + ext)
    with open(wrapper, "w") as f:
        f.write(f'#!/bin/sh\nPHP_INI_SCAN_DIR="{confd}$PHP_INI_SCAN_DIR"\n'
                f'export PHP_INI_SCAN_DIR\nexec {binary} "$@"\n')
    os.chmod(wrapper, 0o755)
    return wrapper


def test_extensions_from_the_allow_list_load_per_account(sandbox):
    """calendar (php8.2-common) stands for an extension such as redis
    (php8.2-redis): off in the distribution's ini files, on for the
    accounts that ask for it."""
    sb = sandbox
    fpm = wrapper_without(sb.root, host.php_fpm(), "calendar")
    cli = wrapper_without(sb.root, shutil.which("php") or "/usr/bin/php",
                          "calendar")
    sb.add_php_version("nocal", fpm)
    with open(sb.conf) as f:
        text = f.read()
    text = text.replace(f'fpm = "{fpm}"; }}',
                        f'fpm = "{fpm}"; cli = "{cli}"; }}')
    text, n = re.subn(r"(?m)^extensions_allowed = \[\];$",
                      'extensions_allowed = [ "calendar", "nope" ];', text)
    assert n == 1
    with open(sb.conf, "w") as f:
        f.write(text)
    sb.add_account("alice", args=("--php", "nocal"))
    sb.add_account("bob", args=("--php", "nocal"))
    code = "<?php echo json_encode(extension_loaded('calendar'));"
    assert sb.php("alice", code).text == "false"
    r = sb.fpmctl("set", "alice", "extensions=calendar")
    assert r.rc == 0, r
    assert sb.php("alice", code).text == "true"
    assert sb.php("bob", code).text == "false"
    r = sb.fpmctl("php", "alice", "-r", "echo json_encode("
                  "extension_loaded('calendar'));")
    assert r.out == "true", r
    assert sb.json("show", "alice")["extensions"] == ["calendar"]
    # not allowed; allowed but not installed: refused, nothing changes
    r = sb.fpmctl("set", "bob", "extensions=xdebug")
    assert r.rc == 2 and "extensions_allowed" in r.err, r
    master = sb.master_pid("bob")
    r = sb.fpmctl("set", "bob", "extensions=nope")
    assert r.rc == 1 and "Unable to load dynamic library" in r.err, r
    assert sb.master_pid("bob") == master
    assert sb.json("show", "bob")["extensions"] == []
    # loaded by the distribution for everyone already: said so
    sb.fpmctl("set", "bob", "php=default", check=True)
    r = sb.fpmctl("set", "bob", "extensions=calendar")
    assert r.rc == 1 and "already loaded" in r.err, r


# ------------------------------------------------------------ with httpd --

PHTML = "<?php echo 'phtml-ran-as-' . posix_getpwuid(posix_geteuid())" \
        "['name'];"


def test_fpm_runs_the_extensions_of_the_account(sandbox):
    sb = sandbox
    sb.add_account("alice")
    script = sb.write_php("alice", PHTML, filename="page.phtml")
    r = sb.request("alice", script)
    assert "denied" in r.text.lower() and "phtml-ran" not in r.text
    sb.fpmctl("set", "alice", "script_extensions=.php,.phtml", check=True)
    assert sb.request("alice", script).text == "phtml-ran-as-wlft-alice"
    # `set` refuses what is not an extension
    assert sb.fpmctl("set", "alice", "script_extensions=phtml").rc == 2


@pytest.fixture(scope="module")
def phtml_site(httpd_factory):
    sb = Sandbox()
    httpd = None
    try:
        a = sb.add_account("carol", domains=["carol.test", "two.test"])
        sb.fpmctl("set", "carol", "script_extensions=.php,.phtml",
                  check=True)
        root = os.path.join(a.home, "www")
        install(os.path.join(root, "page.phtml"), PHTML, a.user)
        httpd = httpd_factory()
        httpd.write(f"""WLFcgiConfig {sb.conf}
<VirtualHost 127.0.0.1:{httpd.port}>
  ServerName carol.test
  WLFcgiExtensions .php .phtml
  DocumentRoot {root}
  <Directory {root}>
    Require all granted
  </Directory>
</VirtualHost>
<VirtualHost 127.0.0.1:{httpd.port}>
  # no WLFcgiExtensions: the account's script_extensions
  ServerName two.test
  DocumentRoot {root}
  <Directory {root}>
    Require all granted
  </Directory>
</VirtualHost>
""")
        httpd.start()
        yield sb, httpd
    finally:
        if httpd:
            httpd.stop()
        sb.close()


def test_a_phtml_the_module_routes_is_run_not_denied(phtml_site):
    sb, httpd = phtml_site
    for vhost in ("carol.test", "two.test"):
        r = httpd.get("/page.phtml", host=vhost)
        assert r.status == 200 and r.text == "phtml-ran-as-wlft-carol", \
            (vhost, r)


def test_routing_an_extension_fpm_would_deny_stops_httpd(phtml_site,
                                                        httpd_factory):
    sb, _ = phtml_site
    h = httpd_factory()
    h.write(f"""WLFcgiConfig {sb.conf}
<VirtualHost 127.0.0.1:{h.port}>
  ServerName carol.test
  WLFcgiExtensions .php .php5
  DocumentRoot {h.root}
</VirtualHost>
""")
    rc, out = h.configtest()
    assert rc != 0 and "WLF00015" in out and ".php5" in out and \
        "script_extensions" in out, out
