"""Clean errors: refusals are 403/413 with one WLF line, not 500s or
resets, and nothing else in the error log."""
import os

import pytest

from wlf import client, h2client, php
from wlf.containworld import put

LIMIT = 8 << 20     # eve's max_upload (the default)


@pytest.fixture(scope="module")
def upload(cworld):
    put(os.path.join(cworld.eve_www, "upload.php"), php.UPLOAD, "wlft-eve")
    return cworld


def only_wlf_lines(h, tag):
    lines = h.new_log_lines()
    assert lines, "expected a log line"
    for ln in lines:
        assert tag in ln and "[wlfcgi:info]" in ln, ln


def test_chunked_body_over_the_limit_is_one_info_line(upload, expect_log):
    expect_log(r"\[wlfcgi:info\].*WLF00026: account eve: chunked body")
    w = upload
    r = client.send(w.httpd.port, "/upload.php", "eve.test",
                    body=client.Body(LIMIT + (4 << 20)), method="PUT",
                    chunked=True)
    assert r.status == 413, r
    assert w.httpd.wait_log(r"WLF00026")
    only_wlf_lines(w.httpd, "WLF00026")


def test_chunked_body_within_the_limit_arrives_whole(upload):
    w = upload
    body = client.Body(3 << 20, seed=5)
    r = client.send(w.httpd.port, "/upload.php", "eve.test", body=body,
                    method="PUT", chunked=True)
    assert r.status == 200, r
    j = r.json()
    assert j["input_bytes"] == 3 << 20
    assert j["input_sha256"] == body.hexdigest
    assert j["content_length"] == str(3 << 20)


@pytest.mark.parametrize("content_length", [True, False])
def test_http2_upload_over_the_limit_gets_413(upload, expect_log,
                                             content_length):
    """Over h2c, with and without content-length: a complete 413
    response. httpd may then reset the stream with NO_ERROR to stop the
    upload (RFC 9113, 8.1); curl 7.88 reports that as "Stream error in the
    HTTP/2 framing layer" and drops the 413 it received, nghttp and
    python-h2 show it."""
    expect_log(r"\[wlfcgi:info\].*WLF0002[56]: account eve")
    w = upload
    r = h2client.put(w.httpd.port, "/upload.php", "eve.test", LIMIT + (4 << 20),
                     content_length=content_length)
    assert r.status == 413 and r.ended, r
    assert r.reset in (None, 0), r      # NO_ERROR at most
    assert w.httpd.wait_log(r"WLF0002[56]")
    only_wlf_lines(w.httpd, "WLF0002")


def test_http2_upload_within_the_limit(upload):
    w = upload
    r = h2client.put(w.httpd.port, "/upload.php", "eve.test", 3 << 20,
                     content_length=False)
    assert r.status == 200 and r.reset is None, r
    import json
    assert json.loads(r.body)["input_bytes"] == 3 << 20


# The module's filters are registered by name, and a .htaccess can add
# any registered filter by name (SetInputFilter, SetOutputFilter,
# AddOutputFilter, FilterProvider): added without the module's context
# they pass everything through. One that dereferenced its context
# crashed the httpd child, and with it every request in flight there,
# other accounts' included.
FILTERS = {
    "owner_set": ("SetOutputFilter WLFCGI_OWNER\n", "GET"),
    "owner_add": ("AddOutputFilter WLFCGI_OWNER .txt\n", "GET"),
    "spooled": ("SetInputFilter WLFCGI_BODY_SPOOLED\n", "POST"),
    "gather": ("SetInputFilter WLFCGI_BODY_GATHER\n", "POST"),
}


@pytest.mark.parametrize("vhost", ["eve.test", "parked.test"])
@pytest.mark.parametrize("name", list(FILTERS))
def test_module_filters_named_in_htaccess(cworld, name, vhost):
    w = cworld
    text, method = FILTERS[name]
    sub = f"flt_{name}" if vhost == "eve.test" else f"parked/flt_{name}"
    w.eve_dir(sub, text, {"a.txt": "EVE-OK\n",
                          "n.php": "<?php echo strlen("
                                   "file_get_contents('php://input'));"})
    url = f"/flt_{name}/" + ("a.txt" if method == "GET" or
                             vhost == "parked.test" else "n.php")
    body = b"x" * 300000 if method == "POST" else None
    r = w.get(url, vhost, method=method, body=body)
    assert r.status == 200, r
    assert r.text == ("EVE-OK\n" if url.endswith(".txt") else "300000")
    assert not [ln for ln in w.httpd.new_log_lines() if "AH00052" in ln]
