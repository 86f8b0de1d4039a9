"""Large uploads, module side: limits per location and account, 413 before the
body is read, chunked bodies arrive whole, no limit lingers in an FPM
worker, httpd's memory stays flat, slow clients finish.

alice: max_upload 8M (the default), upload_ceiling 5G; /big has
WLFcgiMaxUpload 3G, /huge 5G. bob: max_children 1, /big 64M.
wp.test (alice's): a front controller site whose .htaccess files move
requests to other URLs; /wp-json/ and /dirindex/ 64M, /big 64M, /small
and /denied 1M. The limit of the URL the client sent holds.
"""
import threading
import time

import pytest

from wlf import client

MiB = 1 << 20
GiB = 1 << 30


def test_2gib_multipart_upload(world):
    body = client.Body(2 * GiB, seed=2)
    mp = client.Multipart(body)
    r = client.send(world.httpd.port, "/big/upload.php", "alice.test",
                    body=mp, content_type=mp.content_type, timeout=600)
    assert r.status == 200, r
    f = r.json()["files"]["f"]
    assert f["error"] == 0
    assert f["size"] == 2 * GiB
    assert f["sha256"] == body.hexdigest
    assert r.json()["post_max_size"] == str(3 * GiB)


def test_over_the_account_limit_is_refused_at_once(world, expect_log):
    expect_log(r"WLF00025: account alice: Content-Length 2097\d{4} is over "
               r"the upload limit 8388608 of /upload\.php")
    t0 = time.time()
    r = client.send(world.httpd.port, "/upload.php", "alice.test",
                    body=client.Body(20 * MiB), timeout=30)
    assert r.status == 413
    assert time.time() - t0 < 1.0
    # multipart the same way
    mp = client.Multipart(client.Body(20 * MiB))
    r = client.send(world.httpd.port, "/upload.php", "alice.test", body=mp,
                    content_type=mp.content_type, timeout=30)
    assert r.status == 413 and r.elapsed < 1.0


def test_body_not_read_before_the_413(world, expect_log):
    """The 413 comes while the client has sent nothing of the body."""
    import socket
    expect_log(r"WLF00025: account alice: Content-Length 1073741824")
    s = socket.create_connection(("127.0.0.1", world.httpd.port), timeout=5)
    try:
        s.sendall(b"POST /upload.php HTTP/1.1\r\nHost: alice.test\r\n"
                  b"Expect: 100-continue\r\n"
                  b"Content-Length: 1073741824\r\n\r\n")
        data = s.recv(4096)
        assert data.startswith(b"HTTP/1.1 413"), data[:100]
    finally:
        s.close()


def test_within_limits_passes(world):
    body = client.Body(5 * MiB, seed=3)
    r = client.send(world.httpd.port, "/upload.php", "alice.test",
                    body=body, method="PUT")
    assert r.status == 200, r
    assert r.json()["input_bytes"] == 5 * MiB
    assert r.json()["input_sha256"] == body.hexdigest


def test_chunked_put_arrives_whole(world):
    body = client.Body(100 * MiB, seed=4)
    r = client.send(world.httpd.port, "/big/upload.php", "alice.test",
                    body=body, method="PUT", chunked=True, timeout=300)
    assert r.status == 200, r
    j = r.json()
    assert j["input_bytes"] == 100 * MiB
    assert j["input_sha256"] == body.hexdigest
    assert j["content_length"] == str(100 * MiB)


def test_chunked_over_the_limit_is_stopped(world, expect_log):
    # one line at level info, nothing from mod_proxy
    expect_log(r"\[wlfcgi:info\].*WLF00026: account alice: chunked body "
               r"passed the upload limit 8388608 of /upload\.php")
    r = client.send(world.httpd.port, "/upload.php", "alice.test",
                    body=client.Body(40 * MiB), method="PUT", chunked=True,
                    timeout=60)
    assert r.status == 413
    assert r.sent < 40 * MiB or r.elapsed < 5


def test_no_limit_lingers_in_a_worker(world):
    """bob has one FPM worker. A request in /big (64M) and then one
    outside it land in the same process; each sees its own limit."""
    big = client.send(world.httpd.port, "/big/upload.php", "bob.test",
                      body=client.Body(20 * MiB), method="PUT")
    assert big.status == 200, big
    assert big.json()["post_max_size"] == str(64 * MiB)
    assert big.json()["input_bytes"] == 20 * MiB
    small = world.get("/upload.php", "bob.test")
    assert small.json()["pid"] == big.json()["pid"]
    assert small.json()["post_max_size"] == str(8 * MiB)
    assert small.json()["upload_max_filesize"] == str(8 * MiB)
    # and back
    again = world.get("/big/upload.php", "bob.test")
    assert again.json()["pid"] == big.json()["pid"]
    assert again.json()["post_max_size"] == str(64 * MiB)


def test_account_limit_follows_fpmctl_set(world, expect_log):
    """`fpmctl set alice max_upload=32M`, then a graceful restart: the
    module's limit for alice's vhosts is the account's new one; `=off`
    and another restart: back to the default."""
    expect_log(r"WLF00025: account alice: Content-Length 20971520 is over "
               r"the upload limit 8388608")
    sb, h = world.sandbox, world.httpd
    sb.set("alice", max_upload="32M")
    h.graceful()
    try:
        r = client.send(h.port, "/upload.php", "alice.test",
                        body=client.Body(20 * MiB), method="PUT")
        assert r.status == 200, r
        assert r.json()["post_max_size"] == str(32 * MiB)
        j = world.get("/wlfcgi-status?json", "admin.test").json()
        by = {v["vhost"]: v for v in j["vhosts"]}
        assert by["alice2.test"]["max_upload"] == 32 * MiB
    finally:
        sb.set("alice", max_upload="off")
        h.graceful()
    r = client.send(h.port, "/upload.php", "alice.test",
                    body=client.Body(20 * MiB), method="PUT")
    assert r.status == 413


@pytest.mark.slow
def test_memory_flat_during_4gib_upload(world):
    h = world.httpd
    for _ in range(20):         # warm up every process a little
        h.get("/hello.php", host="alice.test")
    base = h.rss_kib()
    peak = [base]
    done = threading.Event()
    h.log_mark()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], h.rss_kib())
            time.sleep(0.1)
    t = threading.Thread(target=sample)
    t.start()
    try:
        body = client.Body(4 * GiB, seed=5)
        r = client.send(h.port, "/huge/upload.php?mode=count", "alice.test",
                        body=body, method="PUT", timeout=900)
    finally:
        done.set()
        t.join()
    assert r.status == 200, (r, h.new_log_lines()[-20:])
    assert r.json()["input_bytes"] == 4 * GiB
    grew_mib = (peak[0] - base) / 1024
    print(f"httpd max RSS {base} KiB -> {peak[0]} KiB (+{grew_mib:.1f} MiB)")
    assert grew_mib < 32


@pytest.mark.slow
def test_slow_upload_finishes(world):
    """30 MiB at 1 MB/s: neither reqtimeout nor any FPM timeout cuts it."""
    body = client.Body(30 * MiB, seed=6)
    r = client.send(world.httpd.port, "/big/upload.php", "alice.test",
                    body=body, method="PUT", rate=1000 * 1000, timeout=120)
    assert r.status == 200, r
    assert r.json()["input_bytes"] == 30 * MiB
    assert r.json()["input_sha256"] == body.hexdigest
    assert r.elapsed > 25


# ---- limits follow the URL the client sent ----

def expect_log_line(world, expect_log, pattern):
    """A log line the test provokes, and must provoke."""
    expect_log(pattern)
    assert world.httpd.wait_log(pattern), pattern


def test_front_controller_upload_gets_the_requested_urls_limit(world):
    """WordPress's REST API: /wp-json/wp/v2/media is rewritten to
    /index.php by the site's .htaccess. The admin's 64M for /wp-json/
    holds, not the 8M of /index.php."""
    body = client.Body(20 * MiB, seed=7)
    mp = client.Multipart(body)
    r = client.send(world.httpd.port, "/wp-json/wp/v2/media", "wp.test",
                    body=mp, content_type=mp.content_type, timeout=60)
    assert r.status == 200, r
    j = r.json()
    assert j["script_name"] == "/index.php"
    assert j["request_uri"] == "/wp-json/wp/v2/media"
    assert j["files"]["f"]["size"] == 20 * MiB
    assert j["files"]["f"]["sha256"] == body.hexdigest
    assert j["post_max_size"] == str(64 * MiB)
    assert j["upload_max_filesize"] == str(64 * MiB)


def test_front_controller_keeps_the_limit_of_other_urls(world, expect_log):
    """The same rewrite from a URL without a raised limit: it keeps the
    account's 8M, and the log names the URL the client sent."""
    r = client.send(world.httpd.port, "/shop/cart", "wp.test",
                    body=client.Body(20 * MiB), method="PUT", timeout=30)
    assert r.status == 413
    expect_log_line(world, expect_log,
                    r"WLF00025: account alice: Content-Length 20971520 is "
                    r"over the upload limit 8388608 of /shop/cart, served "
                    r"as /index\.php")
    small = client.send(world.httpd.port, "/shop/cart", "wp.test",
                        body=client.Body(1 * MiB), method="PUT")
    assert small.status == 200, small
    assert small.json()["post_max_size"] == str(8 * MiB)


def test_rewrite_does_not_raise_the_limit(world, expect_log):
    """A customer's .htaccess rewrites /small/... (1M) to /big/upload.php
    (64M): the body is held to /small's 1M, with or without a length."""
    r = client.send(world.httpd.port, "/small/x", "wp.test",
                    body=client.Body(2 * MiB), method="PUT")
    assert r.status == 413
    expect_log_line(world, expect_log,
                    r"WLF00025: account alice: Content-Length 2097152 is "
                    r"over the upload limit 1048576 of /small/x, served as "
                    r"/big/upload\.php")
    r = client.send(world.httpd.port, "/small/y", "wp.test",
                    body=client.Body(2 * MiB), method="PUT", chunked=True)
    assert r.status == 413
    expect_log_line(world, expect_log,
                    r"WLF00026: account alice: chunked body passed the "
                    r"upload limit 1048576 of /small/y")
    # within /small's limit the rewrite works, and PHP is told 1M
    ok = client.send(world.httpd.port, "/small/z", "wp.test",
                     body=client.Body(512 * 1024), method="PUT")
    assert ok.status == 200, ok
    assert ok.json()["script_name"] == "/big/upload.php"
    assert ok.json()["post_max_size"] == str(1 * MiB)


def test_directory_index_keeps_the_requested_urls_limit(world):
    """`DirectoryIndex /index.php` in .htaccess serves /dirindex/ (64M)
    with /index.php (8M) in the same request: the 64M holds."""
    r = client.send(world.httpd.port, "/dirindex/", "wp.test",
                    body=client.Body(20 * MiB), method="POST",
                    content_type="application/octet-stream", timeout=60)
    assert r.status == 200, r
    assert r.json()["script_name"] == "/index.php"
    assert r.json()["input_bytes"] == 20 * MiB
    assert r.json()["post_max_size"] == str(64 * MiB)


def test_error_document_does_not_raise_the_limit(world, expect_log):
    """/denied (1M) is refused by the customer's own rule and answered by
    ErrorDocument /big/upload.php (64M): the body the refused request
    left unread does not reach PHP through the error page."""
    expect_log(r"AH01630: client denied by server configuration: "
               r".*/denied/secret\.php")
    r = client.send(world.httpd.port, "/denied/secret.php", "wp.test",
                    body=client.Body(2 * MiB), method="PUT")
    assert r.status == 403, r
    assert b"input_bytes" not in r.body
    expect_log_line(world, expect_log,
                    r"WLF00025: account alice: Content-Length 2097152 is "
                    r"over the upload limit 1048576 of /denied/secret\.php, "
                    r"served as /big/upload\.php")
