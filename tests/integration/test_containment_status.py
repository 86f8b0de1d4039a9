"""No window onto other accounts: the status page.

The packaged configuration (conf.d/wlfcgi.conf for Red Hat, the Debian
one) must not show other accounts to a customer's PHP on the same host.
"Require local" protects nothing there: every customer's PHP runs
locally, which the comparison <Location /old-status> shows. The packaged
page asks for a password from a file that does not exist until the admin
creates it.
"""
import os
import re
import subprocess

import pytest

from wlf import ROOT
from wlf.containworld import EXTRA_MODULES, put

PACKAGED = {
    "redhat": os.path.join(ROOT, "conf.d", "wlfcgi.conf"),
    "debian": os.path.join(ROOT, "conf.d", "debian", "mods-available",
                           "wlfcgi.conf"),
}

FETCH = r"""<?php
// eve's PHP asks the local httpd, as any customer's code can
$ctx = stream_context_create(['http' => ['ignore_errors' => true,
    'header' => "Host: 127.0.0.1\r\n"]]);
$body = @file_get_contents('http://127.0.0.1:' . $_GET['port'] . $_GET['path'],
                           false, $ctx);
echo json_encode(['status' => $http_response_header[0] ?? null,
                  'body' => $body]);
"""


def packaged_status_conf(layout, config, htpasswd):
    with open(PACKAGED[layout]) as f:
        text = f.read()
    text = re.sub(r"WLFcgiConfig \S+", f"WLFcgiConfig {config}", text)
    text, n = re.subn(r"AuthUserFile \S+", f"AuthUserFile {htpasswd}", text)
    assert n == 1, "the packaged status page names no password file"
    return text


@pytest.fixture(scope="module", params=["redhat", "debian"])
def status_httpd(request, cworld, httpd_factory):
    w = cworld
    h = httpd_factory()
    htpasswd = os.path.join(h.root, "status.htpasswd")
    inc = os.path.join(h.root, "wlfcgi-packaged.conf")
    with open(inc, "w") as f:
        f.write(packaged_status_conf(request.param, w.sb.conf, htpasswd))
    # first: the default vhost (no account) that answers for 127.0.0.1
    sites = f"""
<VirtualHost 127.0.0.1:{h.port}>
  ServerName localhost
  DocumentRoot {h.root}/htdocs
</VirtualHost>
""" + "".join(f"""
<VirtualHost 127.0.0.1:{h.port}>
  ServerName {name}.test
  DocumentRoot {root}
  <Directory {root}>
    AllowOverride All
    Require all granted
  </Directory>
</VirtualHost>
""" for name, root in (("eve", w.eve_www), ("ann", w.ann_www)))
    h.write(f"""Include {inc}
# what the package shipped before: local clients only
<Location /old-status>
  SetHandler wlfcgi-status
  Require local
</Location>
{sites}""", EXTRA_MODULES)
    h.start()
    put(os.path.join(w.eve_www, "fetch.php"), FETCH, "wlft-eve")
    h.htpasswd = htpasswd
    yield h
    h.stop()


def eves_php_fetches(h, path):
    """What eve's PHP gets when it asks this httpd for `path` (Host
    127.0.0.1: the default vhost)."""
    r = h.get(f"/fetch.php?port={h.port}&path={path}",
              host="eve.test")
    assert r.status == 200, r
    return r.json()


def test_require_local_shows_every_account_to_a_customer(status_httpd):
    j = eves_php_fetches(status_httpd, "/old-status")
    assert " 200 " in j["status"]
    assert "ann.test" in j["body"]


def test_packaged_status_page_is_closed_by_default(status_httpd):
    j = eves_php_fetches(status_httpd, "/wlfcgi-status")
    assert " 401 " in j["status"], j
    assert "ann" not in j["body"]
    for host in ("eve.test", "127.0.0.1"):
        r = status_httpd.get("/wlfcgi-status", host=host)
        assert r.status == 401 and "ann" not in r.text


def test_packaged_status_page_opens_with_the_admins_password(status_httpd,
                                                            expect_log):
    h = status_httpd
    subprocess.run(["htpasswd", "-bc", h.htpasswd, "admin", "s3cret"],
                   check=True, capture_output=True)
    os.chmod(h.htpasswd, 0o644)
    try:
        import base64
        tok = base64.b64encode(b"admin:s3cret").decode()
        r = h.get("/wlfcgi-status", host="127.0.0.1",
                  headers={"Authorization": f"Basic {tok}"})
        assert r.status == 200 and "ann.test" in r.text, r
        bad = base64.b64encode(b"admin:wrong").decode()
        r = h.get("/wlfcgi-status", host="127.0.0.1",
                  headers={"Authorization": f"Basic {bad}"})
        assert r.status == 401
        expect_log(r"AH01617: user admin: authentication failure")
    finally:
        os.unlink(h.htpasswd)
