"""Packaging: the RPM, its files, and the Debian layout.

The RPM is built once per run on this Debian host with rpm/build-rpm.sh
(what `./build.sh rpm` runs) and installed into a scratch root with
`rpm --root DIR -i --nodeps --noscripts`. Everything below looks at what a
packager or admin gets: the packages' file lists, modes and flags, rpmlint's
report, the files' places, the unit files under systemd-analyze, the man
pages under man, an httpd configured from the packaged snippets, logrotate
and bash completion running on the packaged files.
"""
import glob
import grp
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest
import requests

from wlf.host import ensure_user, php_fpm

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT = os.path.join(TOP, "build", "rpm")
SPEC = os.path.join(TOP, "rpm", "wlfcgi.spec")

MODDIR = "/usr/lib64/httpd/modules"
UNITDIR = "/usr/lib/systemd/system"
DEB_MODDIR = "/usr/lib/apache2/modules"
TEST_USER = "wlft-rpm"
debian_httpd = pytest.mark.skipif(
    not os.path.exists(DEB_MODDIR + "/mod_proxy_fcgi.so"),
    reason="the httpd checks run Debian's apache2 with the packaged files")


def run(cmd, timeout=120, check=True, **kw):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                       **kw)
    if check and p.returncode != 0:
        pytest.fail(f"{cmd} exited {p.returncode}\nstdout:\n{p.stdout}\n"
                    f"stderr:\n{p.stderr}")
    return p


def version():
    with open(SPEC) as f:
        return re.search(r"^Version:\s*(\S+)", f.read(), re.M).group(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- fixtures --

@pytest.fixture(scope="module")
def rpms():
    p = run([os.path.join(TOP, "rpm", "build-rpm.sh")], timeout=900)
    v = version()
    found = {
        "src": glob.glob(os.path.join(OUT, f"wlfcgi-{v}-*.src.rpm")),
        "main": [f for f in glob.glob(os.path.join(OUT, f"wlfcgi-{v}-*.rpm"))
                 if not f.endswith(".src.rpm")],
        "selinux": glob.glob(os.path.join(OUT, f"wlfcgi-selinux-{v}-*.noarch.rpm")),
    }
    for kind, files in found.items():
        assert len(files) == 1, f"{kind} package: {files}\n{p.stdout}"
    found = {k: v[0] for k, v in found.items()}
    found["build_output"] = p.stdout
    return found


@pytest.fixture(scope="module")
def instroot(rpms):
    root = tempfile.mkdtemp(prefix="wlf", dir="/tmp")
    # users and groups of a RHEL host, for rpm and systemd-tmpfiles --root
    os.makedirs(os.path.join(root, "etc"))
    with open(os.path.join(root, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/bash\n"
                "apache:x:48:48:Apache:/usr/share/httpd:/sbin/nologin\n")
    with open(os.path.join(root, "etc", "group"), "w") as f:
        f.write("root:x:0:\napache:x:48:\n")
    run(["rpm", "--root", root, "--dbpath", "/var/lib/rpm", "-i", "--nodeps",
         "--noscripts", rpms["main"], rpms["selinux"]])
    yield root
    shutil.rmtree(root, ignore_errors=True)


def file_table(pkg):
    """{path: (perms, user, group, flags)} as rpm reports them."""
    out = run(["rpm", "-qp", "--qf",
               "[%{FILENAMES}\t%{FILEMODES:perms}\t%{FILEUSERNAME}\t"
               "%{FILEGROUPNAME}\t%{FILEFLAGS:fflags}\n]", pkg]).stdout
    table = {}
    for line in out.splitlines():
        path, perms, user, group, flags = line.split("\t")
        table[path] = (perms, user, group, flags)
    return table


# ------------------------------------------------ 1. what the RPM holds --

# path -> (mode as rpm prints it, %config(noreplace)?)
EXPECTED_FILES = {
    "/usr/sbin/fpmctl": ("-rwxr-xr-x", False),
    MODDIR + "/mod_wlfcgi.so": ("-rwxr-xr-x", False),
    "/etc/httpd/conf.modules.d/10-wlfcgi.conf": ("-rw-r--r--", True),
    "/etc/httpd/conf.d/wlfcgi.conf": ("-rw-r--r--", True),
    "/etc/wlfcgi": ("drwxr-xr-x", False),
    "/etc/wlfcgi/wlfcgi.conf": ("-rw-r--r--", True),
    "/etc/wlfcgi/accounts.d": ("drwxr-x---", False),
    "/etc/logrotate.d/wlfcgi": ("-rw-r--r--", True),
    UNITDIR + "/wlfcgi.service": ("-rw-r--r--", False),
    UNITDIR + "/wlfcgi-fpm@.service": ("-rw-r--r--", False),
    UNITDIR + "/wlfcgi-fpm@.socket": ("-rw-r--r--", False),
    UNITDIR + "/wlfcgi-serve.service": ("-rw-r--r--", False),
    "/usr/lib/tmpfiles.d/wlfcgi.conf": ("-rw-r--r--", False),
    "/usr/share/bash-completion/completions/fpmctl": ("-rw-r--r--", False),
    "/usr/share/man/man8/fpmctl.8.gz": ("-rw-r--r--", False),
    "/usr/share/man/man8/mod_wlfcgi.8.gz": ("-rw-r--r--", False),
    "/var/lib/wlfcgi": ("drwxr-xr-x", False),
    "/var/lib/wlfcgi/fpm": ("drwxr-x---", False),
    "/var/lib/wlfcgi/accounts": ("drwx--x--x", False),
    "/var/log/wlfcgi": ("drwxr-xr-x", False),
    # only root and httpd's group reach the sockets
    "/run/wlfcgi": ("drwxr-x---", False, "apache"),
}


def test_rpm_files_modes_and_config_flags(rpms):
    table = file_table(rpms["main"])
    for path, (perms, noreplace, *group) in EXPECTED_FILES.items():
        assert path in table, f"{path} missing from {rpms['main']}"
        got_perms, user, got_group, flags = table[path]
        assert (got_perms, user, got_group) == \
            (perms, "root", group[0] if group else "root"), path
        if noreplace:
            assert "c" in flags and "n" in flags, \
                f"{path} is not %config(noreplace): flags '{flags}'"
        else:
            assert "c" not in flags, f"{path} should not be %config"
    assert "d" in table["/usr/share/man/man8/fpmctl.8.gz"][3]
    assert "g" in table["/run/wlfcgi"][3]       # %ghost: tmpfiles.d makes it
    # every other entry is a doc file or build-id link
    extra = [p for p in table if p not in EXPECTED_FILES
             and not p.startswith(("/usr/share/doc/", "/usr/lib/.build-id",
                                   "/usr/share/licenses/"))]
    assert extra == []
    lic = [p for p in table if p.startswith("/usr/share/licenses/")
           and p.endswith("/LICENSE")]
    assert len(lic) == 1 and "l" in table[lic[0]][3]    # %license
    # nothing where the system's php-fpm looks: a php update restarts it
    assert not [p for p in table if "php-fpm.d" in p or "/etc/php" in p]

    se = file_table(rpms["selinux"])
    pp = "/usr/share/selinux/packages/targeted/wlfcgi.pp.bz2"
    assert se[pp][:3] == ("-rw-r--r--", "root", "root")

    out = run(["rpm", "-qlp", "--dump", rpms["main"]]).stdout
    conf = [line for line in out.splitlines()
            if line.startswith("/etc/wlfcgi/wlfcgi.conf ")]
    # path size mtime digest mode owner group isconfig isdoc ...
    assert conf and conf[0].split()[7] == "1"


def test_rpm_dependencies_and_scriptlets(rpms):
    req = run(["rpm", "-qp", "--requires", rpms["main"]]).stdout.splitlines()
    req = [r.strip() for r in req]
    mmn = [r for r in req if r.startswith("httpd-mmn = ")]
    assert mmn and re.fullmatch(r"httpd-mmn = 20120211x8664", mmn[0]), mmn
    for name in ("httpd", "php-fpm", "php-opcache", "php-pecl-apcu",
                 "logrotate"):
        assert name in req, f"Requires: {name} missing: {req}"
    assert "(wlfcgi-selinux = %s if selinux-policy-targeted)" % \
        re.search(r"wlfcgi-(\S+)\.x86_64\.rpm$", rpms["main"]).group(1) in req
    assert any(r.startswith("libconfig.so") for r in req)
    prov = run(["rpm", "-qp", "--provides", rpms["main"]]).stdout
    assert re.search(r"^mod_wlfcgi = ", prov, re.M)
    assert re.search(r"^fpmctl = ", prov, re.M)

    breq = run(["rpm", "-qp", "--requires", rpms["src"]]).stdout
    for name in ("httpd-devel", "apr-devel", "apr-util-devel",
                 "libconfig-devel", "libcmocka-devel", "systemd-rpm-macros",
                 "gcc", "make"):
        assert re.search(rf"^{re.escape(name)}\b", breq, re.M), name

    scripts = run(["rpm", "-qp", "--scripts", rpms["main"]]).stdout
    post = scripts.split("postinstall scriptlet")[1].split("scriptlet")[0]
    assert "preset wlfcgi.service" in post
    assert "systemd-tmpfiles --create /usr/lib/tmpfiles.d/wlfcgi.conf" in post
    postun = scripts.split("postuninstall scriptlet")[1]
    # an upgrade restarts no customer's instance and not wlfcgi.service
    assert "restart" not in postun and "daemon-reload" in postun
    assert "disable --now wlfcgi.service" in scripts
    # uninstalling keeps accounts, generated files and logs
    assert not re.search(r"rm\s.*(/etc/wlfcgi|/var/lib/wlfcgi|/var/log)",
                         scripts)
    se_scripts = run(["rpm", "-qp", "--scripts", rpms["selinux"]]).stdout
    assert "semodule" in se_scripts and "-s targeted" in se_scripts

    # the build says why it used --nodeps
    assert "rpmbuild --nodeps" in rpms["build_output"]
    assert "httpd-devel            -> apache2-dev (installed)" in \
        rpms["build_output"]


def test_module_exports_the_name_loadmodule_uses(instroot):
    so = instroot + MODDIR + "/mod_wlfcgi.so"
    syms = run(["nm", "-D", "--defined-only", so]).stdout
    with open(instroot + "/etc/httpd/conf.modules.d/10-wlfcgi.conf") as f:
        name = re.search(r"^LoadModule\s+(\S+)\s+modules/mod_wlfcgi\.so$",
                         f.read(), re.M).group(1)
    assert re.search(rf"\s{name}$", syms, re.M), f"{name} not in {so}"


# ------------------------------------------------------------ 2. rpmlint --

def spec_expectations():
    with open(SPEC) as f:
        return [re.compile(m) for m in
                re.findall(r"^# rpmlint-expect: (.*)$", f.read(), re.M)]


def test_rpmlint_clean(rpms):
    expected = spec_expectations()
    assert len(expected) >= 3
    p = run(["rpmlint", "-c", os.path.join(TOP, "rpm", "rpmlint.toml"),
             SPEC, rpms["src"], rpms["main"], rpms["selinux"]], check=False)
    lines = [ln for ln in p.stdout.splitlines() if re.search(r": [EW]: ", ln)]
    errors = [ln for ln in lines if ": E: " in ln]
    assert errors == [], "\n".join(errors)
    unexplained = [ln for ln in lines
                   if not any(e.search(ln) for e in expected)]
    assert unexplained == [], \
        "warnings not explained in wlfcgi.spec:\n" + "\n".join(unexplained)
    assert re.search(r"\b0 errors\b", p.stdout), p.stdout


# ---------------------------------------------- 3. files in their places --

def test_files_where_httpd_systemd_and_tools_look(instroot):
    r = instroot
    # RHEL's httpd.conf: Include conf.modules.d/*.conf (sorted), then
    # IncludeOptional conf.d/*.conf; modules/ -> /usr/lib64/httpd/modules
    mods = sorted(os.listdir(r + "/etc/httpd/conf.modules.d") +
                  ["00-base.conf", "00-proxy.conf"])
    assert mods.index("10-wlfcgi.conf") > mods.index("00-proxy.conf")
    assert os.path.isfile(r + MODDIR + "/mod_wlfcgi.so")
    with open(r + "/etc/httpd/conf.d/wlfcgi.conf") as f:
        confd = f.read()
    assert re.search(r"^\s*WLFcgiConfig /etc/wlfcgi/wlfcgi\.conf$", confd,
                     re.M)
    loc = re.search(r"<Location /wlfcgi-status>(.*?)</Location>", confd, re.S)
    assert loc and re.search(r"^\s*SetHandler wlfcgi-status$", loc.group(1),
                             re.M)
    # not "Require local": every customer's PHP is local
    assert re.search(r"^\s*AuthUserFile /etc/wlfcgi/status\.htpasswd$",
                     loc.group(1), re.M)
    assert re.search(r"^\s*Require valid-user$", loc.group(1), re.M)
    assert not re.search(r"Require local", loc.group(1))
    for path in (UNITDIR + "/wlfcgi.service", UNITDIR + "/wlfcgi-fpm@.service",
                 "/usr/lib/tmpfiles.d/wlfcgi.conf", "/etc/logrotate.d/wlfcgi",
                 "/usr/share/bash-completion/completions/fpmctl",
                 "/usr/share/man/man8/fpmctl.8.gz",
                 "/usr/share/man/man8/mod_wlfcgi.8.gz",
                 "/usr/share/selinux/packages/targeted/wlfcgi.pp.bz2",
                 "/etc/wlfcgi/wlfcgi.conf", "/usr/sbin/fpmctl"):
        assert os.path.isfile(r + path), path
    assert not os.path.exists(r + "/etc/php-fpm.d")
    # the packaged global config names the units' directories
    with open(r + "/etc/wlfcgi/wlfcgi.conf") as f:
        conf = f.read()
    assert re.search(r'^service = "systemd";$', conf, re.M)
    with open(r + UNITDIR + "/wlfcgi-fpm@.service") as f:
        unit = f.read()
    m = re.search(r'^\s*state\s*=\s*"([^"]+)"', conf, re.M)
    # a /bin/sh line: FPM_SOCKETS when the socket unit passed a socket
    assert re.search(r"^ExecStart=/bin/sh -c '.*exec " +
                     re.escape(m.group(1)) + r"/fpm/%i/php-fpm ", unit, re.M)
    with open(r + UNITDIR + "/wlfcgi-fpm@.socket") as f:
        sock = f.read()
    s = re.search(r'^\s*sockets\s*=\s*"([^"]+)"', conf, re.M)
    assert f"ListenStream={s.group(1)}/%i.sock\n" in sock
    assert re.search(r"^SocketGroup=apache$", sock, re.M)
    assert re.search(r"^SocketMode=0660$", sock, re.M)
    assert f"PHP_INI_SCAN_DIR=:{m.group(1)}/fpm/%i/ini" in unit


def test_tmpfiles_creates_socket_dir(instroot):
    # a bare name is looked up in the root's tmpfiles.d directories
    run(["systemd-tmpfiles", "--create", "--root", instroot, "wlfcgi.conf"])
    st = os.stat(instroot + "/run/wlfcgi")
    assert oct(st.st_mode & 0o7777) == "0o750"
    assert (st.st_uid, st.st_gid) == (0, 48)       # apache in that root


def test_fpmctl_check_accepts_packaged_layout(instroot):
    """The directories the package and tmpfiles.d create have the owners
    and modes fpmctl creates and `fpmctl check` insists on."""
    tmp = tempfile.mkdtemp(prefix="wlf", dir="/tmp")
    try:
        run(["systemd-tmpfiles", "--create", "--root", instroot,
             "wlfcgi.conf"])
        adjusted_wlfcgi_conf(instroot, tmp + "/wlfcgi.conf")
        # tmpfiles gave it to apache (48 in that root); the adjusted
        # config names this host's httpd group instead
        sockdir = instroot + "/run/wlfcgi"
        assert os.stat(sockdir).st_gid == 48
        os.chown(sockdir, 0, grp.getgrnam("www-data").gr_gid)
        # the distribution's own php-fpm of this host is not the question
        os.makedirs(tmp + "/sysroot")
        p = run([instroot + "/usr/sbin/fpmctl", "-c", tmp + "/wlfcgi.conf",
                 "check"], check=False,
                env=dict(os.environ, WLFCGI_SYSROOT=tmp + "/sysroot"))
        assert p.returncode == 0, p.stdout + p.stderr
        assert "no problems" in p.stdout + p.stderr
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ------------------------------------------------- 4. systemd unit files --

def test_units_pass_systemd_analyze_verify(instroot):
    """Verify the installed unit files in the scratch root. The root gets
    the host's own units (targets they order against) and a stand-in
    php-fpm at the path an instance's ExecStart names; man: links are
    looked up in the root's man pages."""
    r = instroot
    for unit in glob.glob("/lib/systemd/system/*"):
        dest = r + UNITDIR + "/" + os.path.basename(unit)
        if not os.path.lexists(dest):
            if os.path.isdir(unit) and not os.path.islink(unit):
                shutil.copytree(unit, dest, symlinks=True)
            else:
                shutil.copy2(unit, dest, follow_symlinks=False)
    inst = r + "/var/lib/wlfcgi/fpm/alice.b"
    os.makedirs(inst, exist_ok=True)
    with open(inst + "/php-fpm", "w") as f:
        f.write("#!/bin/sh\nexit 0\n")
    os.chmod(inst + "/php-fpm", 0o755)
    # the instance's ExecStart is a /bin/sh line (FPM_SOCKETS for a socket
    # it inherits)
    if not os.path.lexists(r + "/bin/sh"):
        os.makedirs(r + "/bin", exist_ok=True)
        with open(r + "/bin/sh", "w") as f:
            f.write("#!/bin/sh\n")
        os.chmod(r + "/bin/sh", 0o755)
    env = dict(os.environ, MANPATH=r + "/usr/share/man")
    p = run(["systemd-analyze", "verify", "--root", r,
             "wlfcgi-fpm@alice.b.service", "wlfcgi-fpm@alice.b.socket",
             "wlfcgi.service", "wlfcgi-serve.service"],
            check=False, env=env, cwd=r)
    assert p.returncode == 0 and p.stdout == "" and p.stderr == "", \
        p.stdout + p.stderr


# ------------------------------------------------------------ 5. man pages --

@pytest.mark.parametrize("page", ["fpmctl.8.gz", "mod_wlfcgi.8.gz"])
def test_man_page_renders_without_warnings(instroot, page):
    path = instroot + "/usr/share/man/man8/" + page
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
    p = run(["man", "--warnings", "-l", path], env=env, check=False)
    assert p.returncode == 0 and p.stderr == "", p.stderr
    assert "NAME" in p.stdout and len(p.stdout.splitlines()) > 5


# ------------------------------------------ 6. httpd with the packaged conf --

def adjusted_wlfcgi_conf(root, dest):
    """The packaged wlfcgi.conf with its paths moved into the scratch root
    and Debian's httpd group and php-fpm."""
    with open(root + "/etc/wlfcgi/wlfcgi.conf") as f:
        text = f.read()
    subs = [('"/etc/wlfcgi/', f'"{root}/etc/wlfcgi/'),
            ('"/run/wlfcgi"', f'"{root}/run/wlfcgi"'),
            ('"/var/lib/wlfcgi"', f'"{root}/var/lib/wlfcgi"'),
            ('"/var/log/wlfcgi"', f'"{root}/var/log/wlfcgi"'),
            ('httpd_group = "apache"', 'httpd_group = "www-data"'),
            ('"/usr/sbin/php-fpm"', f'"{php_fpm()}"')]
    for old, new in subs:
        assert old in text, old
        text = text.replace(old, new)
    with open(dest, "w") as f:
        f.write(text)


def httpd_conf(tmp, port, includes):
    mods = "".join(f"LoadModule {m}_module {DEB_MODDIR}/mod_{m}.so\n"
                   for m in ("mpm_event", "authz_core", "authz_host",
                             "auth_basic", "authn_core", "authn_file",
                             "authz_user", "proxy", "proxy_fcgi"))
    return (f'ServerRoot "{tmp}"\nServerName 127.0.0.1\n'
            f"Listen 127.0.0.1:{port}\nPidFile {tmp}/httpd.pid\n"
            f"DefaultRuntimeDir {tmp}\nErrorLog {tmp}/error.log\n"
            "LogLevel warn\nUser www-data\nGroup www-data\n"
            f"{mods}" + "".join(f"Include {i}\n" for i in includes))


def start_httpd_and_get_status(conf, tmp, port, auth=None):
    proc = subprocess.Popen(["apache2", "-f", conf, "-DFOREGROUND"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 10
        while True:
            try:
                return requests.get(f"http://127.0.0.1:{port}/wlfcgi-status",
                                    timeout=5, auth=auth)
            except requests.ConnectionError:
                if proc.poll() is not None or time.time() > deadline:
                    with open(tmp + "/error.log") as f:
                        pytest.fail("httpd did not come up:\n" + f.read())
                time.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@debian_httpd
def test_httpd_accepts_packaged_config(instroot):
    """RHEL layout: ServerRoot/modules -> the packaged modules dir (as
    /etc/httpd/modules is on RHEL), conf.modules.d/10-wlfcgi.conf and
    conf.d/wlfcgi.conf included as RHEL's httpd.conf does, WLFcgiConfig
    pointing at the packaged wlfcgi.conf adjusted to this host."""
    r = instroot
    tmp = tempfile.mkdtemp(prefix="wlf", dir="/tmp")
    try:
        os.symlink(r + MODDIR, tmp + "/modules")
        for d in ("/run/wlfcgi", "/var/lib/wlfcgi/fpm", "/var/log/wlfcgi"):
            os.makedirs(r + d, exist_ok=True)
        adjusted_wlfcgi_conf(r, tmp + "/wlfcgi.conf")
        with open(r + "/etc/httpd/conf.d/wlfcgi.conf") as f:
            confd = f.read()
        assert "WLFcgiConfig /etc/wlfcgi/wlfcgi.conf" in confd
        assert "AuthUserFile /etc/wlfcgi/status.htpasswd" in confd
        with open(tmp + "/conf.d-wlfcgi.conf", "w") as f:
            f.write(confd.replace("WLFcgiConfig /etc/wlfcgi/wlfcgi.conf",
                                  f"WLFcgiConfig {tmp}/wlfcgi.conf")
                    .replace("AuthUserFile /etc/wlfcgi/status.htpasswd",
                             f"AuthUserFile {tmp}/status.htpasswd"))
        port = free_port()
        conf = tmp + "/httpd.conf"
        with open(conf, "w") as f:
            f.write(httpd_conf(tmp, port, [
                r + "/etc/httpd/conf.modules.d/10-wlfcgi.conf",
                tmp + "/conf.d-wlfcgi.conf"]))
        p = run(["apache2", "-t", "-f", conf], check=False)
        assert p.returncode == 0, p.stdout + p.stderr
        assert "Syntax OK" in p.stderr
        mods = run(["apache2", "-M", "-f", conf]).stdout
        assert "wlfcgi_module (shared)" in mods
        # the status page is closed until the admin creates its password
        # file; then it answers, from the config the packaged
        # WLFcgiConfig line names
        resp = start_httpd_and_get_status(conf, tmp, port)
        assert resp.status_code == 401, resp.text
        run(["htpasswd", "-bc", tmp + "/status.htpasswd", "admin", "pw"])
        os.chmod(tmp, 0o755)        # httpd's children read the file
        os.chmod(tmp + "/status.htpasswd", 0o644)
        resp = start_httpd_and_get_status(conf, tmp, port,
                                          auth=("admin", "pw"))
        assert resp.status_code == 200, resp.text
        assert f"{tmp}/wlfcgi.conf" in resp.text
        with open(tmp + "/error.log") as f:
            bad = [ln for ln in f if re.search(
                r":(warn|error|crit|alert|emerg)\]", ln)]
        assert bad == []
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@debian_httpd
def test_debian_layout_make_install(instroot):
    """`make install` with Debian's layout puts mods-available/wlfcgi.load
    (Depends: proxy_fcgi) and wlfcgi.conf in place, and apache2 loads them."""
    dest = tempfile.mkdtemp(prefix="wlf", dir="/tmp")
    tmp = tempfile.mkdtemp(prefix="wlf", dir="/tmp")
    try:
        run(["make", "-s", "install", f"DESTDIR={dest}", "HTTPD_LAYOUT=debian",
             f"HTTPD_MODDIR={DEB_MODDIR}"], cwd=TOP, timeout=300)
        avail = dest + "/etc/apache2/mods-available"
        with open(avail + "/wlfcgi.load") as f:
            load = f.read()
        assert re.search(r"^# Depends: proxy_fcgi$", load, re.M)
        assert f"LoadModule wlfcgi_module {DEB_MODDIR}/mod_wlfcgi.so" in load
        for path in ("/usr/sbin/fpmctl", DEB_MODDIR + "/mod_wlfcgi.so",
                     UNITDIR + "/wlfcgi-fpm@.service",
                     "/usr/lib/tmpfiles.d/wlfcgi.conf",
                     "/etc/logrotate.d/wlfcgi",
                     "/usr/share/man/man8/fpmctl.8",
                     "/usr/share/man/man8/mod_wlfcgi.8"):
            assert os.path.isfile(dest + path), path
        with open(dest + "/usr/lib/tmpfiles.d/wlfcgi.conf") as f:
            assert re.search(r"^d /run/wlfcgi 0750 root www-data -$",
                             f.read(), re.M)
        with open(dest + UNITDIR + "/wlfcgi-fpm@.socket") as f:
            assert re.search(r"^SocketGroup=www-data$", f.read(), re.M)
        assert oct(os.stat(dest + "/etc/wlfcgi/accounts.d").st_mode
                   & 0o777) == "0o750"
        # Debian gets its wlfcgi.conf from `fpmctl init`, not the RHEL one
        assert not os.path.exists(dest + "/etc/wlfcgi/wlfcgi.conf")

        adjusted_wlfcgi_conf(instroot, tmp + "/wlfcgi.conf")
        with open(avail + "/wlfcgi.conf") as f:
            modconf = f.read()
        with open(tmp + "/mod-wlfcgi.conf", "w") as f:
            f.write(modconf.replace("WLFcgiConfig /etc/wlfcgi/wlfcgi.conf",
                                    f"WLFcgiConfig {tmp}/wlfcgi.conf"))
        with open(tmp + "/mod-wlfcgi.load", "w") as f:
            f.write(load.replace(f"{DEB_MODDIR}/mod_wlfcgi.so",
                                 dest + DEB_MODDIR + "/mod_wlfcgi.so"))
        conf = tmp + "/httpd.conf"
        with open(conf, "w") as f:
            f.write(httpd_conf(tmp, free_port(), [tmp + "/mod-wlfcgi.load",
                                                  tmp + "/mod-wlfcgi.conf"]))
        p = run(["apache2", "-t", "-f", conf], check=False)
        assert p.returncode == 0 and "Syntax OK" in p.stderr, p.stderr
    finally:
        shutil.rmtree(dest, ignore_errors=True)
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- logrotate --

def test_logrotate_reopens_fpm_logs_and_keeps_owners(instroot):
    """The packaged logrotate file, paths moved into a temp dir, rotates the
    logs of a real php-fpm master: USR1 makes it reopen its log, the new
    php-error.log keeps the account user's ownership, and a stale pid file
    naming another program does not get that program signalled."""
    user = ensure_user(TEST_USER)
    tmp = tempfile.mkdtemp(prefix="wlf", dir="/tmp")
    fpm = stale = None
    try:
        logdir, rundir = tmp + "/log/acct", tmp + "/run"
        os.makedirs(logdir)
        os.makedirs(rundir)
        with open(logdir + "/php-error.log", "w") as f:
            f.write("PHP Notice: something\n")
        os.chown(logdir + "/php-error.log", user.pw_uid, user.pw_gid)
        os.chmod(logdir + "/php-error.log", 0o640)
        with open(tmp + "/fpm.conf", "w") as f:
            f.write(f"[global]\npid = {rundir}/acct.a.pid\n"
                    f"error_log = {logdir}/fpm.log\ndaemonize = yes\n"
                    f"[acct]\nuser = {TEST_USER}\ngroup = {TEST_USER}\n"
                    f"listen = {rundir}/acct.a.sock\npm = ondemand\n"
                    "pm.max_children = 1\n")
        run([php_fpm(), "-n", "--fpm-config", tmp + "/fpm.conf"])
        with open(rundir + "/acct.a.pid") as f:
            fpm = int(f.read())
        stale = subprocess.Popen(["sleep", "60"])
        with open(rundir + "/acct.b.pid", "w") as f:
            f.write(f"{stale.pid}\n")

        with open(instroot + "/etc/logrotate.d/wlfcgi") as f:
            text = f.read()
        assert "/var/log/wlfcgi/*/*.log" in text and "/run/wlfcgi/*.pid" in text
        text = text.replace("/var/log/wlfcgi", tmp + "/log") \
                   .replace("/run/wlfcgi", rundir)
        with open(tmp + "/logrotate.conf", "w") as f:
            f.write(text)
        run(["logrotate", "-f", "-s", tmp + "/state", tmp + "/logrotate.conf"])

        assert os.path.exists(logdir + "/fpm.log.1")
        assert os.path.exists(logdir + "/php-error.log.1")
        st = os.stat(logdir + "/php-error.log")
        assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == \
            (user.pw_uid, user.pw_gid, 0o640)
        deadline = time.time() + 5
        reopened = ""
        while time.time() < deadline:
            with open(logdir + "/fpm.log") as f:
                reopened = f.read()
            if "re-opened" in reopened:
                break
            time.sleep(0.05)
        assert "re-opened" in reopened, reopened
        assert stale.poll() is None, "a stale pid file's process was signalled"
    finally:
        if fpm:
            try:
                os.kill(fpm, signal.SIGQUIT)
            except ProcessLookupError:
                pass
        if stale:
            stale.kill()
            stale.wait()
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------- bash completion --

def complete(instroot, words, env_extra=""):
    script = (f"source {instroot}/usr/share/bash-completion/completions/fpmctl\n"
              + env_extra +
              "COMP_WORDS=(" + " ".join(f"'{w}'" for w in words) + ")\n"
              "COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n"
              "_fpmctl\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n")
    p = run(["bash", "--norc", "-c", script])
    return [w for w in p.stdout.splitlines() if w]


def test_bash_completion(instroot):
    tmp = tempfile.mkdtemp(prefix="wlf", dir="/tmp")
    try:
        os.makedirs(tmp + "/accounts.d")
        for n in ("alice", "bob", "carol"):
            open(f"{tmp}/accounts.d/{n}.conf", "w").close()
        cfg = tmp + "/wlfcgi.conf"
        with open(instroot + "/etc/wlfcgi/wlfcgi.conf") as f:
            text = f.read().replace('"/etc/wlfcgi/accounts.d"',
                                    f'"{tmp}/accounts.d"')
        with open(cfg, "w") as f:
            f.write(text)

        # what the packaged fpmctl has: its command and settings tables
        fpmctl = instroot + "/usr/sbin/fpmctl"
        table = [line.split("\t") for line in
                 run([fpmctl, "--list-commands"]).stdout.splitlines()]
        keys = [line.split("\t")[0] for line in
                run([fpmctl, "--list-settings"]).stdout.splitlines()]
        cmds = complete(instroot, ["fpmctl", ""])
        assert set(cmds) == {name for name, _, _ in table} | {"help"}
        assert complete(instroot, ["fpmctl", "re"]) == \
            ["remove-account", "restart", "reload", "resume", "rebuild"]
        assert complete(instroot, ["fpmctl", "-c", cfg, "start", ""]) == \
            ["alice", "bob", "carol"]
        assert complete(instroot, ["fpmctl", "-c", cfg, "reload", "alice",
                                   "b"]) == ["bob"]
        assert complete(instroot, ["fpmctl", "-c", cfg, "show", "alice",
                                   ""]) == []
        assert complete(instroot, ["fpmctl", "stop", "--a"]) == ["--all"]
        assert complete(instroot, ["fpmctl", "remove-account", "--p"]) == \
            ["--purge"]
        assert complete(instroot, ["fpmctl", "init", "--service", ""]) == \
            ["direct", "systemd"]
        assert complete(instroot, ["fpmctl", "-c", cfg, "add-account", "x",
                                   "--php", ""]) == ["system"]
        # `set` offers every setting the loader knows
        assert "max_upload" in keys
        offered = complete(instroot, ["fpmctl", "-c", cfg, "set", "alice", ""])
        for k in keys:
            assert f"{k}=" in offered, k
        assert "php_admin." in offered
        assert "php@" in offered
        # php@ offers the account's domains, then the versions
        with open(f"{tmp}/accounts.d/alice.conf", "w") as f:
            f.write('domains = [ "a.example", "*.b.example" ];\n')
        assert complete(instroot, ["fpmctl", "-c", cfg, "set", "alice",
                                   "php@"]) == \
            ["php@a.example=", "php@*.b.example="]
        assert complete(instroot, ["fpmctl", "-c", cfg, "set", "alice",
                                   "php@a.example="]) == \
            ["php@a.example=system", "php@a.example=default"]
        assert complete(instroot, ["fpmctl", "-c", cfg, "set", "alice",
                                   "pm="]) == \
            ["pm=ondemand", "pm=static", "pm=dynamic", "pm=default"]
        # every option of every command (its usage line) is offered
        for cmd, _, usage in table:
            for opt in set(re.findall(r"--[a-z][a-z-]*", usage)):
                assert opt in complete(instroot, ["fpmctl", cmd, "--"]), \
                    f"{cmd} {opt}"
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ----------------------------------------------------------------- SELinux --

def test_selinux_module_labels_wlfcgi_paths(instroot):
    tmp = tempfile.mkdtemp(prefix="wlf", dir="/tmp")
    try:
        pp = instroot + "/usr/share/selinux/packages/targeted/wlfcgi.pp.bz2"
        run(["sh", "-c", f"bunzip2 -c {pp} > {tmp}/wlfcgi.pp"])
        run(["semodule_unpackage", tmp + "/wlfcgi.pp", tmp + "/m.mod",
             tmp + "/m.fc"])
        rules = []
        with open(tmp + "/m.fc") as f:
            for line in f:
                if line.strip() and not line.startswith("#"):
                    spec, ctx = line.split()
                    rules.append((re.compile(spec), ctx.split(":")[2]))

        def label(path):
            hits = [t for rx, t in rules if rx.fullmatch(path)]
            return hits[-1] if hits else None
        # php-fpm's own equivalents in Fedora's policy carry these types
        assert label("/run/wlfcgi") == "httpd_var_run_t"
        assert label("/run/wlfcgi/alice.a.sock") == "httpd_var_run_t"
        assert label("/var/run/wlfcgi/alice.sock") == "httpd_var_run_t"
        assert label("/var/lib/wlfcgi/fpm/alice.b/php-fpm.conf") == \
            "httpd_config_t"
        assert label("/var/lib/wlfcgi/fpm/alice.b/ini/wlfcgi.ini") == \
            "httpd_config_t"
        assert label("/var/lib/wlfcgi/metrics/alice.counters") == \
            "httpd_config_t"
        assert label("/var/lib/wlfcgi/accounts/alice/sessions/sess_x") == \
            "httpd_sys_rw_content_t"
        assert label("/var/log/wlfcgi/alice/php-error.log") == "httpd_log_t"
        assert label("/etc/wlfcgi/wlfcgi.conf") is None   # stays etc_t
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
