"""The module is memory-clean: httpd -X with mod_wlfcgi under valgrind
(memcheck) reports no invalid access, and no leak that grows with the
number of requests; with mpm_prefork and with mpm_event.

Two runs of the same config: ROUNDS and 10 x ROUNDS rounds of a request
mix that walks every path of the module (routing to two accounts, a
POST with a body, a chunked body, bodies of 300 KiB (read in large
pieces), a 413 by Content-Length and by a
chunked body, the status page in text and JSON with its pings, a
foreign-socket SetHandler refused with 403, PHP in an unmapped vhost, an
account whose instance is stopped: 503, a static file). Each run ends
with a clean httpd shutdown, after which valgrind prints its leak
summary. The leaks of the long run must be those of the short one.

What memcheck sees of httpd: every malloc/free (the module's status
page, FastCGI ping and account loader buffers, libconfig), invalid
accesses outside APR pools and uses of uninitialised memory. Memory
inside APR pool blocks is reused by APR and freed with its pool, so an
overrun inside a pool block is invisible to it (as to ASan).
"""
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import time

import pytest

from wlf.httpd import APACHE, Httpd
from wlf.loadrun import WHO_PHP, install_php

VALGRIND = shutil.which("valgrind")
ROUNDS = int(os.environ.get("WLFT_MEM_ROUNDS", "8"))

UPLOAD_PHP = "<?php echo strlen(file_get_contents('php://input'));\n"

pytestmark = pytest.mark.skipif(VALGRIND is None,
                                reason="valgrind is not installed")


def vhosts(sb, port):
    out = [f"WLFcgiConfig {sb.conf}\n"]
    for name in ("ma", "mb", "mc"):
        root = os.path.join(sb.accounts[name].home, "www")
        out.append(f"""
<VirtualHost 127.0.0.1:{port}>
  ServerName {name}.test
  DocumentRoot {root}
  <Directory {root}>
    AllowOverride FileInfo
    Require all granted
  </Directory>
  <Location /small>
    WLFcgiMaxUpload 1K
  </Location>
</VirtualHost>
""")
    nobody = os.path.join(sb.root, "nobody")
    out.append(f"""
<VirtualHost 127.0.0.1:{port}>
  ServerName nobody.test
  DocumentRoot {nobody}
  <Directory {nobody}>
    Require all granted
  </Directory>
  <Location /wlfcgi-status>
    SetHandler wlfcgi-status
  </Location>
</VirtualHost>
""")
    return "".join(out)


def make_world(sb):
    for name in ("ma", "mb", "mc"):
        acct = sb.add_account(name, domains=[f"{name}.test"])
        for fn, text in (("who.php", WHO_PHP), ("up.php", UPLOAD_PHP),
                         ("small/up.php", UPLOAD_PHP),
                         ("static.txt", "static")):
            install_php(acct.home, acct.user, fn, text)
        evil = install_php(acct.home, acct.user, "evil/who.txt", "x")
        other = sb.socket("mb" if name == "ma" else "ma")
        with open(os.path.join(os.path.dirname(evil), ".htaccess"),
                  "w") as f:
            f.write(f'SetHandler "proxy:unix:{other}|fcgi://localhost"\n')
    nobody = os.path.join(sb.root, "nobody")
    os.makedirs(nobody)
    with open(os.path.join(nobody, "x.php"), "w") as f:
        f.write("<?php echo 'SOURCE';")
    # mc's instance is down: its requests get 503
    assert sb.fpmctl("stop", "mc").rc == 0


# (method, host, path, body, chunked, expected status)
MIX = [
    ("GET", "ma.test", "/who.php", None, False, 200),
    ("GET", "mb.test", "/who.php", None, False, 200),
    ("POST", "ma.test", "/up.php", b"x" * 3000, False, 200),
    ("POST", "mb.test", "/up.php", b"y" * 20000, True, 200),
    # from 256 KiB on (and for chunked bodies) the module reads bodies in
    # large pieces (its gather filter)
    ("POST", "ma.test", "/up.php", b"g" * (300 << 10), False, 200),
    ("POST", "mb.test", "/up.php", b"h" * (300 << 10), True, 200),
    ("POST", "ma.test", "/small/up.php", b"z" * 2000, False, 413),
    ("POST", "mb.test", "/small/up.php", b"z" * 5000, True, 413),
    ("GET", "nobody.test", "/wlfcgi-status", None, False, 200),
    ("GET", "nobody.test", "/wlfcgi-status?json", None, False, 200),
    ("GET", "ma.test", "/evil/who.txt", None, False, 403),
    ("GET", "nobody.test", "/x.php", None, False, 500),
    ("GET", "mc.test", "/who.php", None, False, 503),
    ("GET", "mb.test", "/static.txt", None, False, 200),
]


def one(port, method, host, path, body, chunked):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        headers = {"Host": host}
        if body is not None and chunked:
            c.request(method, path, body=iter([body[:4096], body[4096:]]),
                      headers=headers, encode_chunked=True)
        else:
            c.request(method, path, body=body, headers=headers)
        r = c.getresponse()
        r.read()
        return r.status
    finally:
        c.close()


def run_under_valgrind(sb, tmp, rounds, mpm="event"):
    """Start httpd -X under memcheck, send `rounds` x MIX, stop it;
    return valgrind's log text."""
    h = Httpd(tmp, mpm=mpm)
    h.write(vhosts(sb, h.port))
    rc, out = h.configtest()
    assert rc == 0, out
    log = os.path.join(tmp, f"valgrind-{rounds}.log")
    p = subprocess.Popen(
        [VALGRIND, "--tool=memcheck", "--leak-check=full",
         "--show-leak-kinds=definite,indirect,possible",
         "--errors-for-leak-kinds=none", "--num-callers=30",
         "--child-silent-after-fork=yes", "--vgdb=no", f"--log-file={log}",
         APACHE, "-X", "-f", h.conf],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True)
    try:
        deadline = time.time() + 120
        while True:
            assert p.poll() is None, open(log).read()[-3000:]
            try:
                socket.create_connection(("127.0.0.1", h.port), 1).close()
                break
            except OSError:
                assert time.time() < deadline, "httpd under valgrind"
                time.sleep(0.2)
        statuses = []
        for _ in range(rounds):
            for method, host, path, body, chunked, want in MIX:
                got = one(h.port, method, host, path, body, chunked)
                statuses.append((host, path, want, got))
        wrong = [s for s in statuses if s[2] != s[3]]
        assert wrong == [], wrong[:5]
    finally:
        if p.poll() is None:
            os.kill(p.pid, signal.SIGTERM)
        try:
            p.wait(120)
        except subprocess.TimeoutExpired:
            os.kill(p.pid, signal.SIGKILL)
            p.wait(10)
    with open(log) as f:
        text = f.read()
    bad = h.unexpected_log_lines([
        r"WLF000(20|22|23|24|25|26)", r"AH0(0957|2454|1079|1095|2608)",
        r"\[core:(warn|notice)\].*AH00(098|093|111)",
    ])
    assert bad == [], bad
    return text


def summary(text):
    """From a memcheck log: {"errors": N, "definitely"/"indirectly"/
    "possibly": bytes lost, "in_use": bytes in use at exit, "allocs": N}.
    Fails unless valgrind printed its heap and error summaries."""
    assert "HEAP SUMMARY:" in text, text[-3000:]
    errors = re.findall(r"ERROR SUMMARY: (\d+) errors", text)
    assert errors, text[-3000:]
    out = {"errors": int(errors[-1])}
    for kind in ("definitely", "indirectly", "possibly"):
        m = re.search(rf"{kind} lost: ([\d,]+) bytes", text)
        out[kind] = int(m.group(1).replace(",", "")) if m else 0
    m = re.search(r"in use at exit: ([\d,]+) bytes", text)
    out["in_use"] = int(m.group(1).replace(",", ""))
    m = re.search(r"total heap usage: ([\d,]+) allocs", text)
    out["allocs"] = int(m.group(1).replace(",", ""))
    return out


ERROR_START = re.compile(r"==\d+== (Invalid (read|write|free)|Conditional "
                         r"jump|Use of uninitialised|Syscall param|"
                         r"Mismatched free|Source and destination overlap)")


def error_blocks(text):
    """memcheck's error reports (leaks not included), one text each."""
    blocks, cur = [], None
    for line in text.splitlines():
        if cur is None:
            if ERROR_START.match(line):
                cur = [line]
        elif re.fullmatch(r"==\d+== ?", line):
            blocks.append("\n".join(cur))
            cur = None
        else:
            cur.append(line)
    return blocks


def crashed_in_exit_only(text):
    """httpd's event MPM in one-process mode (-X) sometimes dies at exit,
    after every request was answered: while exit() destroys the process
    pool, its cleanup of recycled transaction pools reads memory that is
    gone (SIGSEGV; every frame is httpd's or APR's). Seen in about one run
    of seven with this mix, never with prefork."""
    blocks = error_blocks(text)
    return bool(blocks) and all("__run_exit_handlers" in b for b in blocks) \
        and "Process terminating with default action of signal 11" in text


def measured(sb, tmp, rounds, mpm, tries=3):
    """A run under valgrind that was not cut short by the exit crash of
    crashed_in_exit_only() (event MPM only); (log text, crashes seen)."""
    crashes = 0
    for attempt in range(tries):
        d = tmp / f"{mpm}-{rounds}-{attempt}"
        d.mkdir()
        os.chmod(d, 0o777)      # httpd -X writes its logs as httpd's user
        text = run_under_valgrind(sb, str(d), rounds, mpm=mpm)
        if mpm == "event" and crashed_in_exit_only(text):
            crashes += 1
            continue
        return text, crashes
    pytest.fail(f"httpd crashed at exit in {tries} runs in a row:\n"
                + "\n\n".join(error_blocks(text)))


@pytest.mark.parametrize("mpm", ["prefork", "event"])
def test_module_is_memory_clean_under_valgrind(sandbox, tmp_path, mpm):
    sb = sandbox
    make_world(sb)
    os.chmod(tmp_path, 0o755)
    short, c1 = measured(sb, tmp_path, ROUNDS, mpm)
    long_, c2 = measured(sb, tmp_path, 10 * ROUNDS, mpm)
    s, l = summary(short), summary(long_)
    report = (f"mpm_{mpm}: {ROUNDS * len(MIX)} requests: {s}\n"
              f"mpm_{mpm}: {10 * ROUNDS * len(MIX)} requests: {l}"
              + (f"\n(runs repeated after httpd's exit crash: {c1 + c2})"
                 if c1 + c2 else ""))
    print("\n" + report)
    # no invalid read/write, no use of uninitialised memory, no bad free
    assert s["errors"] == 0 and l["errors"] == 0, \
        report + "\n" + "\n\n".join(error_blocks(short) +
                                    error_blocks(long_))
    # nothing grows with the requests: not what is lost, not what is
    # still held at exit. (Stacks cannot name the module: httpd unloads it
    # before valgrind reports, so the numbers are compared. A free()
    # left out of the status page showed up here as 24 KiB lost after 96
    # requests and 240 KiB after 960, with an earlier, shorter mix.)
    for kind in ("definitely", "indirectly", "in_use"):
        assert l[kind] <= s[kind], report
