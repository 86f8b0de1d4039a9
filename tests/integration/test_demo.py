"""./build.sh demo: it comes up, every page it prints shows what it must,
it stops without leaving a process behind, and it starts again.

The demo runs in its own DEMO_DIR on four free ports, so it disturbs
neither other tests nor a demo someone runs on port 8080.
"""
import os
import random
import re
import shutil
import socket
import subprocess
import tempfile
import time

import pytest

from wlf import ROOT
from wlf.client import Body, Multipart, send

DEMO = os.path.join(ROOT, "docs", "demo", "demo.sh")
MIB = 1 << 20

# what httpd may log while the test uses the demo
LOG_ALLOWED = [
    r"\[mpm_\w+:notice\]",
    r"\[core:notice\].*AH00094",        # command line
    r"\[wlfcgi:info\].*WLF00006",       # reuse plan per account
    r"\[wlfcgi:info\].*WLF00025",       # the 413 this test provokes
]


def free_port_block(n=4, tries=50):
    """A port P with P..P+n-1 all free on 127.0.0.1."""
    for _ in range(tries):
        base = random.randrange(20000, 60000 - n)
        socks = []
        try:
            for p in range(base, base + n):
                s = socket.socket()
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no block of free ports")


def http_get(url, timeout=10):
    m = re.fullmatch(r"http://127\.0\.0\.1:(\d+)(/.*)", url)
    assert m, url
    r = send(int(m.group(1)), m.group(2), "127.0.0.1", method="GET",
             timeout=timeout)
    return r.status, r.body.decode("utf-8", "replace")


def field(page, name):
    """Text of the element with id=NAME (tags stripped)."""
    m = re.search(rf'id="?{re.escape(name)}"?[^>]*>(.*?)</', page, re.S)
    assert m, f"no id={name} in page:\n{page[:3000]}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]*>", "", m.group(1))).strip()


def proc_cmdlines():
    out = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/cmdline", "rb") as f:
                    out[int(d)] = f.read().replace(b"\0", b" ").decode(
                        "utf-8", "replace")
            except OSError:
                pass
    return out


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except OSError:
        return False


def children_of(pids):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid in pids:
                out.append(int(d))
    return out


class Demo:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="wlfd", dir="/tmp")
        self.port = free_port_block()
        self.env = dict(os.environ, DEMO_DIR=self.dir, PORT=str(self.port))

    def run(self, *args, via_build=False, timeout=180):
        cmd = ([os.path.join(ROOT, "build.sh"), "demo", *args] if via_build
               else [DEMO, *args])
        return subprocess.run(cmd, env=self.env, capture_output=True,
                              text=True, timeout=timeout, cwd=ROOT,
                              stdin=subprocess.DEVNULL)

    def pid_files(self):
        files = [os.path.join(self.dir, "httpd", "httpd.pid")]
        sockdir = os.path.join(self.dir, "run", "wlfcgi")
        if os.path.isdir(sockdir):
            files += [os.path.join(sockdir, f) for f in os.listdir(sockdir)
                      if f.endswith(".pid")]
        return files

    def pids_from_files(self):
        pids = set()
        for f in self.pid_files():
            try:
                with open(f) as fh:
                    pids.add(int(fh.read().strip()))
            except (OSError, ValueError):
                pass
        return pids

    def processes(self):
        """Processes whose command line names the demo dir."""
        return {pid: c for pid, c in proc_cmdlines().items()
                if self.dir + "/" in c}

    def error_log(self):
        try:
            with open(os.path.join(self.dir, "httpd", "error.log")) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def cleanup(self):
        self.run("clean", timeout=60)
        # last resort, only for processes of this demo dir
        for pid in self.processes():
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def demo():
    d = Demo()
    yield d
    d.cleanup()


def upload(port, path, size):
    mp = Multipart(Body(size), field="file", filename=f"{size}.bin")
    return send(port, path, "127.0.0.1", body=mp,
                content_type=mp.content_type, timeout=60)


def urls(output):
    return re.findall(r"http://127\.0\.0\.1:\d+/\S*", output)


def test_demo_start_pages_uploads_stop_restart(demo):
    # ---- start, through build.sh like an admin would
    t0 = time.time()
    r = demo.run(via_build=True)
    assert r.returncode == 0, r.stdout + r.stderr
    started = time.time() - t0
    printed = urls(r.stdout)
    p = demo.port
    site_urls = [f"http://127.0.0.1:{p + i}/" for i in (1, 2, 3)]
    assert printed == [f"http://127.0.0.1:{p}/", *site_urls,
                       f"http://127.0.0.1:{p}/wlfcgi-status"], r.stdout
    assert "demo stop" in r.stdout and demo.dir in r.stdout
    # how to make the demo's own httpd (not the system's) reread accounts
    hconf = os.path.join(demo.dir, "httpd", "httpd.conf")
    m = re.search(rf"^Reload: +(\S+ -f {re.escape(hconf)} -k graceful)$",
                  r.stdout, re.M)
    assert m, r.stdout
    reload_cmd = m.group(1)
    blog, shop, bob = site_urls
    # bob's on-demand account woke up for the demo's own request
    assert re.search(r"^  bob +idle +[ab] +- ", r.stdout, re.M), r.stdout
    assert re.search(r"^  HTTP 200 in ", r.stdout, re.M), r.stdout
    assert re.search(r"^  bob +running +[ab] +\d+ ", r.stdout, re.M), \
        r.stdout
    assert "bob: starting php-fpm" in r.stdout

    # ---- every printed URL answers; the index links the sites
    pages = {}
    for u in [printed[0], printed[-1]]:
        status, pages[u] = http_get(u)
        assert status == 200, (u, pages[u][:500])
    for u in site_urls:
        assert u in pages[printed[0]]
    status_page = pages[printed[-1]]
    for name, acct in (("blog.alice.test", "alice"),
                       ("shop.alice.test", "alice"), ("www.bob.test", "bob")):
        assert re.search(rf"^{re.escape(name)}:\d+\s+{acct}\s+8\.2\s+yes\s+8M\b",
                         status_page, re.M), status_page

    # ---- alice: both sites run as her user and share one APCu counter
    seen = []
    for u in (blog, shop, blog):
        status, page = http_get(u)
        assert status == 200, page[:500]
        assert field(page, "user") == "wlfdemo-alice"
        assert field(page, "account") == "alice"
        assert "through its own mod_proxy_fcgi" in " ".join(page.split())
        seen.append(int(field(page, "counter")))
    assert seen[1] == seen[0] + 1 and seen[2] == seen[0] + 2, seen
    assert int(field(page, "views-blog.alice.test")) >= 2
    assert int(field(page, "views-shop.alice.test")) >= 1
    assert "alice:secret" in field(page, "keys")
    assert field(page, "foreign") == "not found"        # bob's key
    # one OpCache for both of alice's sites
    scripts = field(page, "scripts")
    assert "alice/blog/index.php" in scripts
    assert "alice/shop/index.php" in scripts
    assert re.fullmatch(r"[\d.]+ [KMG]iB used of 128 MiB, \d+ scripts, .*",
                        field(page, "opcache")), field(page, "opcache")
    assert re.fullmatch(r"[\d.]+ (bytes|[KMG]iB) used of 32 MiB, \d+ entries",
                        field(page, "apcu")), field(page, "apcu")

    # ---- bob: his own user, cannot read alice's key; his .htaccess
    # attack (alice's socket, open_basedir=/) changed nothing
    status, page = http_get(bob)
    assert status == 200, page[:500]
    assert field(page, "user") == "wlfdemo-bob"
    assert field(page, "account") == "bob"
    assert field(page, "foreign") == "not found"        # alice:secret
    assert not [k for k in field(page, "keys").split(", ")
                if k.startswith("alice:")]
    assert "alice" not in field(page, "scripts")
    assert "alice.sock" in field(page, "htaccess")
    assert field(page, "open_basedir").startswith(demo.dir + "/home/bob/")
    assert field(page, "etc_passwd") == "no"

    # ---- uploads: 20 MiB is refused by the small form, taken by /big/
    actions = dict(re.findall(r'action="([^"]+)" id="form-(\w+)"', page))
    assert actions == {"upload.php": "small", "big/upload.php": "big"}
    for site in (blog, bob):
        port = int(site.rsplit(":", 1)[1].strip("/"))
        small = upload(port, "/upload.php", 20 * MIB)
        assert small.status == 413, small
        assert b"id=refused" in small.body      # the ErrorDocument
        big = upload(port, "/big/upload.php", 20 * MIB)
        text = big.body.decode("utf-8", "replace")
        assert big.status == 200, big
        assert field(text, "result").startswith(
            f"accepted: {20 * MIB} bytes"), field(text, "result")
        assert "post_max_size=1073741824" in field(text, "limit")
        # a small file passes the small form, and the page remembers it
        ok = upload(port, "/upload.php", MIB)
        assert ok.status == 200 and b"accepted: 1048576 bytes" in ok.body
        status, page = http_get(site)
        assert f"accepted: {20 * MIB} bytes" in field(page, "last-big")
        assert "accepted: 1048576 bytes" in field(page, "last-small")
    log = demo.error_log()
    assert len(re.findall(r"WLF00025: account (alice|bob): Content-Length",
                          log)) == 2, log

    # ---- very large uploads for one customer only, with the commands the
    # demo prints: fpmctl set, then a graceful restart of its own httpd
    conf = os.path.join(demo.dir, "etc", "wlfcgi", "wlfcgi.conf")
    subprocess.run([os.path.join(ROOT, "build", "fpmctl"), "-c", conf, "-q",
                    "set", "bob", "max_upload=64M"], check=True, timeout=60)
    subprocess.run(reload_cmd.split(), check=True, timeout=60)
    bob_port = int(bob.rsplit(":", 1)[1].strip("/"))
    for _ in range(50):                 # the restart is asynchronous
        big = upload(bob_port, "/upload.php", 20 * MIB)
        if big.status == 200:
            break
        time.sleep(0.2)
    assert big.status == 200 and \
        f"accepted: {20 * MIB} bytes".encode() in big.body, big
    assert upload(p + 1, "/upload.php", 20 * MIB).status == 413   # alice

    # ---- what runs now: httpd, its children, two php-fpm masters (the
    # set above switched bob to his other slot: the old master quits once
    # its drain time is over)
    for _ in range(100):
        running = demo.processes()
        masters = [pid for pid, c in running.items()
                   if c.startswith("php-fpm: master process")]
        if len(masters) <= 2:
            break
        time.sleep(0.1)
    assert len(masters) == 2, [running[p] for p in masters]
    httpd_pid = int(open(os.path.join(demo.dir, "httpd", "httpd.pid")).read())
    assert httpd_pid in running
    cmdlines = proc_cmdlines()
    tracked = {pid: cmdlines.get(pid) for pid in
               set(running) | set(children_of(set(masters)))}
    assert any(c and c.startswith("php-fpm: pool") for c in tracked.values())
    assert demo.pids_from_files() <= set(running)

    # ---- start while running: nothing restarts, the counter goes on
    r = demo.run()
    assert r.returncode == 0, r.stdout + r.stderr
    assert "httpd is running" in r.stdout and "already running" in r.stdout
    assert int(open(os.path.join(demo.dir, "httpd", "httpd.pid")).read()) \
        == httpd_pid
    status, page = http_get(blog)
    assert int(field(page, "counter")) > seen[2]

    # ---- stop: nothing of the demo is left
    r = demo.run("stop", via_build=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    left = demo.processes()
    assert left == {}, left
    # by pid: every process seen before (workers included) and every pid
    # file of the demo names no living process of the demo
    cmdlines = proc_cmdlines()
    assert [pid for pid, c in tracked.items()
            if alive(pid) and cmdlines.get(pid) == c] == []
    assert [pid for pid in demo.pids_from_files()
            if alive(pid) and pid in tracked] == []
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", p + 1), timeout=1)

    # the log has nothing but what the test provoked
    bad = [ln for ln in demo.error_log().splitlines() if ln.strip()
           and not any(re.search(a, ln) for a in LOG_ALLOWED)]
    assert bad == [], bad

    # ---- start again after the stop
    t0 = time.time()
    r = demo.run()
    assert r.returncode == 0, r.stdout + r.stderr
    assert urls(r.stdout) == printed
    for u in site_urls:
        status, page = http_get(u)
        assert status == 200
    assert field(page, "user") == "wlfdemo-bob"
    status, page = http_get(blog)
    assert field(page, "user") == "wlfdemo-alice"
    print(f"demo start {started:.1f} s, again {time.time() - t0:.1f} s")
    r = demo.run("stop")
    assert r.returncode == 0, r.stdout + r.stderr
    assert demo.processes() == {}
