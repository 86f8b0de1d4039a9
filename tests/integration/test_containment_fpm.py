"""Defence in depth: what an FPM worker does with a PHP_ADMIN_VALUE that got
in anyway.

Only root and httpd can connect to an account's socket; here root plays
the attacker and sends PHP_ADMIN_VALUE straight to eve's instance. php-fpm
applies it at admin level and keeps it in that worker for its later
requests. A request through httpd then carries the module's own
PHP_ADMIN_VALUE (the upload limits), which replaces what was injected for
those keys; other keys (open_basedir here) stay as injected until the
worker exits. That is why the socket must not be reachable (fpmctl makes
it so), not something the module can undo: re-sending the pool's values
on every request would fight `fpmctl set` (the module's copy is only
refreshed by a graceful restart), and keys the pool leaves to php.ini,
such as auto_prepend_file, cannot be reset at admin level without taking
them away from .user.ini.
"""
import json
import os

LIMIT = str(8 << 20)


def test_injected_admin_value_lingers_only_where_the_module_sends_none(
        cworld):
    w = cworld
    script = os.path.join(w.eve_www, "info.php")
    slot = w.sb.live_slot("eve")
    sock = os.path.join(w.sb.paths["sockets"], f"eve.{slot}.sock")
    injected = w.sb.request("eve", script, sock=sock, params={
        "PHP_ADMIN_VALUE": "open_basedir=/\nupload_max_filesize=1"})
    try:
        worker_keeps_it(w, json.loads(injected.body))
    finally:
        # a new instance: no worker of eve's keeps the injected value
        w.sb.fpmctl("reload", "eve", check=True)


def worker_keeps_it(w, j):
    assert j["open_basedir"] == "/" and j["upload_max_filesize"] == "1"
    # the same worker, asked through httpd
    for _ in range(40):
        r = w.get("/info.php", "eve.test")
        assert r.status == 200, r
        after = r.json()
        if after["pid"] == j["pid"]:
            break
    else:
        raise AssertionError("never reached the worker that was injected")
    assert after["upload_max_filesize"] == LIMIT     # the module's, again
    assert after["open_basedir"] == "/"              # still injected
