"""Smoke subset under mpm_worker and mpm_prefork (the rest of the suite
runs under mpm_event): routing, enforcement, limits, status, a graceful
restart."""
import pytest

from wlf import client
from wlf.modworld import vhost_conf


@pytest.fixture(scope="module", params=["worker", "prefork"])
def mpm_httpd(request, world, httpd_factory):
    # one httpd per host is what reuse is sized for: let the suite's
    # main httpd close its kept-alive connections to alice's static pool
    # (a graceful restart ends its old processes), or the two together
    # could hold all of alice's workers
    world.httpd.graceful()
    h = httpd_factory(mpm=request.param)
    h.write(vhost_conf(world, h.port))
    h.start()
    yield h
    h.stop()


def test_routing_and_enforcement(mpm_httpd, world, expect_log):
    expect_log(r"WLF00020: vhost bob\.test \(account bob\) tried to reach "
               r"account alice's socket")
    h = mpm_httpd
    assert h.get("/info.php", host="alice.test").json()["user"] == \
        "wlft-alice"
    assert h.get("/info.php", host="bob.test").json()["user"] == "wlft-bob"
    world.write_htaccess(world.bob, "mpm_atk",
                         'SetEnv PHP_ADMIN_VALUE "open_basedir=/"\n'
                         '<Files "static.txt">\n'
                         f'  SetHandler "proxy:unix:{world.alice.link}'
                         '|fcgi://localhost"\n</Files>\n')
    j = h.get("/mpm_atk/info.php", host="bob.test").json()
    assert j["user"] == "wlft-bob" and j["open_basedir"] != "/"
    assert j["php_value"] is None
    assert h.get("/mpm_atk/static.txt", host="bob.test").status == 403


def test_limits_and_chunked_body(mpm_httpd, expect_log):
    expect_log(r"WLF00025: account alice: Content-Length 20971520 is over")
    h = mpm_httpd
    r = client.send(h.port, "/upload.php", "alice.test",
                    body=client.Body(20 << 20))
    assert r.status == 413
    body = client.Body(3 << 20, seed=7)
    r = client.send(h.port, "/big/upload.php", "alice.test", body=body,
                    method="PUT", chunked=True)
    assert r.status == 200, r
    assert r.json()["input_bytes"] == 3 << 20
    assert r.json()["input_sha256"] == body.hexdigest


def test_status_and_graceful(mpm_httpd, world):
    h = mpm_httpd
    j = h.get("/wlfcgi-status?json", host="admin.test").json()
    by = {v["vhost"]: v for v in j["vhosts"]}
    assert by["alice.test"]["answers"] is True, by["alice.test"]
    h.graceful()
    for _ in range(5):
        assert h.get("/hello.php", host="alice.test").text == "ok"
