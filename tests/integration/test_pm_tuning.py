"""Process manager tuning: pm = dynamic with its spare workers, workers
recycled after max_requests, a slow log the customer can read, and a
request timeout that no longer grows with the upload ceiling (httpd spools
a body a slow client takes long to send, so no FPM worker waits for it).
Real php-fpm through fpmctl; the upload through a real httpd."""
import os
import pwd
import subprocess
import time

import pytest

from wlf import client
from wlf.modworld import install
from wlf import php
from wlf.sandbox import Sandbox, wait_until

MiB = 1 << 20


def conf_of(sb, name):
    with open(os.path.join(sb.instance_dir(name), "php-fpm.conf")) as f:
        return f.read()


def test_dynamic_pool_keeps_spare_workers(sandbox):
    sb = sandbox
    sb.add_account("alice")
    r = sb.fpmctl("set", "alice", "pm=dynamic", "max_children=6",
                  "min_spare_servers=2", "max_spare_servers=3",
                  "start_servers=3")
    assert r.rc == 0, r
    st = sb.json("status", "alice")[0]
    assert st["process_manager"] == "dynamic"
    # idle, it still keeps its spare workers (ondemand would have none)
    assert st["total_processes"] >= 2
    assert len(sb.worker_pids(sb.master_pid("alice"))) >= 2
    assert "pm.min_spare_servers = 2" in conf_of(sb, "alice")
    assert sb.php("alice", "<?php echo 'ok';").text == "ok"
    j = sb.json("show", "alice")["settings"]
    assert j["pm"]["value"] == "dynamic"
    assert j["max_spare_servers"]["value"] == 3


def test_spare_counts_php_fpm_would_refuse_are_refused(sandbox):
    sb = sandbox
    sb.add_account("alice", args=("--max-children", "2"))
    before = sb.tree_snapshot(exclude=("var/log",))
    r = sb.fpmctl("set", "alice", "pm=dynamic")
    assert r.rc == 2 and "max_spare_servers" in r.err \
        and "max_children 2" in r.err, r
    r = sb.fpmctl("set", "alice", "pm=dynamic", "max_spare_servers=2",
                  "min_spare_servers=3")
    assert r.rc == 2 and "min_spare_servers" in r.err, r
    assert sb.tree_snapshot(exclude=("var/log",)) == before
    assert sb.json("show", "alice")["settings"]["pm"]["value"] == "ondemand"


def test_workers_are_recycled_after_max_requests(sandbox):
    sb = sandbox
    sb.add_account("alice", args=("--max-children", "1"))
    sb.fpmctl("set", "alice", "max_requests=3", check=True)
    script = sb.write_php("alice", "<?php echo getmypid();")
    pids = [sb.request("alice", script).text for _ in range(9)]
    # one worker at a time; fpmctl's start-up ping counts as a request
    for p in set(pids):
        assert 1 <= pids.count(p) <= 3, pids
    assert len(set(pids)) >= 3, pids
    assert "pm.max_requests = 3" in conf_of(sb, "alice")


def test_slow_log_is_the_customers_to_read(sandbox):
    sb = sandbox
    alice = sb.add_account("alice")
    sb.fpmctl("set", "alice", "slowlog_timeout=1", check=True)
    r = sb.php("alice", "<?php function sleepy() { sleep(3); } sleepy(); "
                        "echo 'done';")
    assert r.text == "done"
    slow = os.path.join(sb.paths["logs"], "alice", "slow.log")
    text = wait_until(lambda: open(slow).read(), what="slow.log entry")
    assert "sleepy()" in text and "sleep()" in text
    st = os.stat(slow)
    # root's (the master writes it), the account's group reads it
    assert (st.st_uid, st.st_gid) == (0, alice.gid)
    assert st.st_mode & 0o777 == 0o640
    # the customer reads it as themselves
    out = subprocess.run(["runuser", "-u", alice.user, "--", "cat", slow],
                         capture_output=True, text=True)
    assert out.returncode == 0 and "sleepy()" in out.stdout, out
    # another account does not
    bob = sb.add_account("bob")
    out = subprocess.run(["runuser", "-u", bob.user, "--", "cat", slow],
                         capture_output=True, text=True)
    assert out.returncode != 0


def test_request_timeout_no_longer_grows_with_the_upload_ceiling(sandbox):
    sb = sandbox
    sb.add_account("alice")
    sb.fpmctl("set", "alice", "upload_ceiling=1G", check=True)
    t = sb.json("show", "alice")["timeouts"]
    # 30 s of PHP + at most 30 s waiting for a streamed body (a longer one
    # is spooled by httpd; 1G from httpd takes 16 s) + 60 s; it was
    # 30 + 1024 + 60
    assert t["request_terminate_timeout"] == 120, t
    assert "request_terminate_timeout = 120s" in conf_of(sb, "alice")
    sb.fpmctl("set", "alice", "upload_ceiling=8G", check=True)
    assert sb.json("show", "alice")["timeouts"][
        "request_terminate_timeout"] == 30 + 128 + 60


def test_request_terminate_timeout_kills_a_hanging_script(sandbox):
    sb = sandbox
    sb.add_account("alice")
    sb.fpmctl("set", "alice", "upload_ceiling=1G",
              "request_terminate_timeout=3", check=True)
    assert sb.json("show", "alice")["timeouts"][
        "request_terminate_timeout"] == 3
    t0 = time.monotonic()
    try:
        r = sb.php("alice", "<?php sleep(10); echo 'survived';",
                   timeout=15)
        assert "survived" not in r.text
    except (OSError, EOFError, ValueError):
        pass        # the worker was killed mid-request
    assert time.monotonic() - t0 < 8
    log = os.path.join(sb.paths["logs"], "alice",
                       f"fpm.{sb.live_slot('alice')}.log")
    assert wait_until(lambda: "request_terminate_timeout" in
                      open(log).read() or "execution timed out" in
                      open(log).read(), what="FPM's kill line")


# ------------------------------------------------------------ with httpd --

# when PHP got the request, and how much body it read
STARTED = r"""<?php
$t = $_SERVER['REQUEST_TIME_FLOAT'];
$n = 0;
$h = hash_init('sha256');
$in = fopen('php://input', 'rb');
while (!feof($in)) {
    $d = fread($in, 1 << 20);
    $n += strlen($d);
    hash_update($h, $d);
}
echo json_encode(['started' => $t, 'bytes' => $n,
                  'sha256' => hash_final($h)]);
"""


class PausedBody(client.Body):
    """A body sent at full speed, with one pause of `pause` s after
    `at` bytes; `resumed` is the time the pause ended."""

    def __init__(self, size, at, pause):
        super().__init__(size, seed=5)
        self.at, self.pause, self.resumed = at, pause, None

    def chunks(self, chunk=client.BLOCK):
        sent = 0
        for data in super().chunks(chunk):
            if sent < self.at <= sent + len(data):
                time.sleep(self.pause)
                self.resumed = time.time()
            sent += len(data)
            yield data


@pytest.fixture(scope="module")
def upload_site(httpd_factory):
    sb = Sandbox()
    httpd = None
    try:
        a = sb.add_account("carol", domains=["carol.test"])
        # a request may run 6 s in PHP; a body may be up to 64M
        sb.fpmctl("set", "carol", "max_upload=64M",
                  "request_terminate_timeout=6", check=True)
        root = os.path.join(a.home, "www")
        install(os.path.join(root, "upload.php"), php.UPLOAD, a.user)
        install(os.path.join(root, "started.php"), STARTED, a.user)
        httpd = httpd_factory()
        httpd.write(f"""WLFcgiConfig {sb.conf}
<VirtualHost 127.0.0.1:{httpd.port}>
  ServerName carol.test
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


def test_slow_upload_does_not_hold_a_worker(upload_site):
    """40 MiB at 4 MiB/s takes 10 s, longer than the account's 6 s request
    timeout: httpd takes the body first, PHP gets it whole and fast."""
    sb, httpd = upload_site
    body = client.Body(40 * MiB, seed=11)
    r = client.send(httpd.port, "/upload.php", "carol.test", body=body,
                    method="PUT", rate=4 * MiB, timeout=60)
    assert r.status == 200, r
    assert r.json()["input_bytes"] == 40 * MiB
    assert r.json()["input_sha256"] == body.hexdigest
    assert r.elapsed > 9


def test_fast_client_streams_a_large_body(upload_site):
    """A body larger than a slow client could send within the stream time
    (3 MiB here), from a client that has shown it sends the rest in time:
    the rest is streamed, PHP gets the request while the body still
    arrives."""
    sb, httpd = upload_site
    body = PausedBody(40 * MiB, at=32 * MiB, pause=2)
    r = client.send(httpd.port, "/started.php", "carol.test", body=body,
                    method="PUT", timeout=60)
    assert r.status == 200, r
    assert r.json()["bytes"] == 40 * MiB
    # the spooled part, then the rest from the connection, in order
    assert r.json()["sha256"] == body.hexdigest
    assert r.json()["started"] < body.resumed, (r.json(), body.resumed)
    # a slow one is spooled: PHP gets it once it is complete
    body = PausedBody(24 * MiB, at=4 * MiB, pause=4)
    r = client.send(httpd.port, "/started.php", "carol.test", body=body,
                    method="PUT", timeout=60)
    assert r.status == 200, r
    assert r.json()["bytes"] == 24 * MiB
    assert r.json()["sha256"] == body.hexdigest
    assert r.json()["started"] > body.resumed, (r.json(), body.resumed)
