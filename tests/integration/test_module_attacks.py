"""The holes of a stock SetHandler setup, closed.

Each attack sits in bob's .htaccess (AllowOverride All) while alice's
pool runs. bob's pool has max_children=1, so the plain request after the
attack lands in the very worker process that served the attack: if any
setting had leaked into it, that request would show it.
"""
import os

import pytest

ADMIN_LIMITS = "upload_max_filesize=8388608\npost_max_size=8388608"


def admin_view(world):
    """What bob's pool shows without any attack."""
    r = world.get("/info.php", "bob.test")
    assert r.status == 200, r
    return r.json()


def assert_admin_values(j, base):
    assert j["user"] == "wlft-bob"
    for k in ("open_basedir", "memory_limit", "auto_prepend_file",
              "calendar", "hostname_readable", "upload_max_filesize",
              "post_max_size"):
        assert j[k] == base[k], k
    # nothing of the customer's reached FPM as a FastCGI param
    assert j["php_value"] is None
    assert j["php_admin_value"] == ADMIN_LIMITS


def alice_sock(world):
    return world.alice.link


def proxy_files(sock, files="static.txt", worker="localhost"):
    """.htaccess text that hands `files` to the FastCGI socket `sock`."""
    return (f'<Files "{files}">\n'
            f'  SetHandler "proxy:unix:{sock}|fcgi://{worker}"\n'
            "</Files>\n")


def bob_proxies_to(world, subdir, sock, worker="localhost"):
    """bob's .htaccess in `subdir` hands static.txt to `sock`; the status
    of the request for it."""
    world.write_htaccess(world.bob, subdir, proxy_files(sock, worker=worker))
    return world.get(f"/{subdir}/static.txt", "bob.test").status


ATTACKS = {
    "setenv_admin": 'SetEnv PHP_ADMIN_VALUE "open_basedir=/"\n',
    "setenvif_prepend":
        "SetEnvIf Request_URI . PHP_VALUE=auto_prepend_file=/etc/hostname\n",
    "rewrite_env": "RewriteEngine On\n"
                   "RewriteRule ^ - [E=PHP_ADMIN_VALUE:open_basedir=/]\n",
    "proxyfcgi_setenvif":
        'ProxyFCGISetEnvIf "true" PHP_ADMIN_VALUE "open_basedir=/"\n',
    "sethandler_alice":
        '<FilesMatch \\.php$>\n'
        '  SetHandler "proxy:unix:{alice}|fcgi://localhost"\n'
        '</FilesMatch>\n',
    "rewrite_handler_alice":
        "RewriteEngine On\n"
        "RewriteRule \\.php$ - [H=proxy:unix:{alice}|fcgi://x]\n",
    "setenv_extension": 'SetEnv PHP_VALUE "extension=calendar.so"\n',
}


@pytest.mark.parametrize("name", list(ATTACKS))
def test_attack_has_no_effect(world, name):
    base = admin_view(world)
    assert base["open_basedir"] not in ("", "/")
    text = ATTACKS[name].format(alice=alice_sock(world))
    world.write_htaccess(world.bob, f"atk_{name}", text)
    r = world.get(f"/atk_{name}/info.php", "bob.test")
    assert r.status == 200, r
    j = r.json()
    assert_admin_values(j, base)
    # the next plain request on the same (only) worker: nothing lingers
    after = admin_view(world)
    assert after["pid"] == j["pid"]
    assert_admin_values(after, base)


def test_attacks_together_then_plain_request(world):
    """All seven in one .htaccess, then the plain request."""
    base = admin_view(world)
    text = "".join(ATTACKS[n] for n in ATTACKS
                   if "alice" not in n).format(alice=alice_sock(world))
    text += ATTACKS["sethandler_alice"].format(alice=alice_sock(world))
    world.write_htaccess(world.bob, "atk_all", text)
    j = world.get("/atk_all/info.php", "bob.test").json()
    assert_admin_values(j, base)
    assert_admin_values(admin_view(world), base)


# ---- requests bound for another account's socket are refused (403) ----

def test_sethandler_to_alice_for_other_files(world, expect_log):
    expect_log(r"WLF00020: vhost bob\.test \(account bob\) tried to reach "
               r"account alice's socket")
    assert bob_proxies_to(world, "atk_txt", alice_sock(world)) == 403


def test_slot_socket_and_dotdot_spelling(world, expect_log):
    expect_log(r"WLF00020: vhost bob\.test \(account bob\) tried to reach "
               r"account alice's socket")
    odd = world.sandbox.socket_dir + "/../wlfcgi/alice.a.sock"
    assert bob_proxies_to(world, "atk_slot", odd) == 403


def test_rewrite_proxy_to_alice(world, expect_log):
    expect_log(r"WLF00020: vhost bob\.test \(account bob\) tried to reach "
               r"account alice's socket")
    d = world.write_htaccess(
        world.bob, "atk_p",
        "RewriteEngine On\n"
        f"RewriteRule ^(.*)$ unix:{alice_sock(world)}|fcgi://localhost"
        f"{os.path.join(world.alice.home, 'www')}/info.php [P]\n")
    assert os.path.isdir(d)
    r = world.get("/atk_p/info.php", "bob.test")
    assert r.status == 403
    assert "wlft-alice" not in r.text


def test_symlink_to_alices_socket_in_docroot(world, expect_log):
    """A target a .htaccess chose is judged as written, never resolved:
    a link in the docroot is a socket outside the socket directory."""
    expect_log(r"WLF00030: vhost bob\.test \(account bob\): proxy target "
               r"proxy:unix:.*/atk_link/a\.sock")
    d = world.write_htaccess(world.bob, "atk_link", "")
    link = os.path.join(d, "a.sock")
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink(alice_sock(world), link)
    assert bob_proxies_to(world, "atk_link", link) == 403


def test_forged_worker_name(world, expect_log):
    """fcgi://wlf-alice.a names alice's slot worker; a lookup by name would
    ignore the socket the request gave and connect to alice."""
    expect_log(r"WLF00021: vhost bob\.test \(account bob\) used the reserved "
               r"worker name wlf-alice\.a")
    assert bob_proxies_to(world, "atk_name", "/nonexistent/x.sock",
                          worker="wlf-alice.a") == 403


def test_other_files_in_socket_dir(world, expect_log):
    expect_log(r"WLF00021: vhost bob\.test: .*alice\.a\.pid lies in the "
               r"wlfcgi socket directory but is no account socket")
    pid = os.path.join(world.sandbox.socket_dir, "alice.a.pid")
    assert bob_proxies_to(world, "atk_pid", pid) == 403


def test_unmapped_vhost_cannot_reach_accounts(world, expect_log):
    expect_log(r"WLF00020: vhost nobody\.test \(account none\) tried to "
               r"reach account alice's socket")
    d = world.nobody_root
    with open(os.path.join(d, ".htaccess"), "w") as f:
        f.write(proxy_files(alice_sock(world), files="x.txt"))
    with open(os.path.join(d, "x.txt"), "w") as f:
        f.write("x")
    try:
        assert world.get("/x.txt", "nobody.test").status == 403
    finally:
        os.unlink(os.path.join(d, ".htaccess"))


def test_own_socket_from_htaccess_is_scrubbed_too(world):
    """bob may proxy to his own socket himself ([P] here); the request
    still goes through the enforcement: no PHP_VALUE, admin limits, and
    it runs in his live instance."""
    base = admin_view(world)
    root = os.path.join(world.bob.home, "www")
    world.write_htaccess(world.bob, "own",
                         'SetEnv PHP_ADMIN_VALUE "open_basedir=/"\n'
                         "RewriteEngine On\n"
                         f"RewriteRule ^go$ unix:{world.bob.link}"
                         f"|fcgi://localhost{root}/info.php [P]\n")
    r = world.get("/own/go", "bob.test")
    assert r.status == 200, r
    assert_admin_values(r.json(), base)
