"""Files stay with their owner.

In a mapped vhost httpd never sends a file or directory whose owner is
neither the account's user nor root (root's only if every local user may
read it anyway), whatever Options the customer set: not as a static file,
a directory listing, an SSI include, a DirectoryIndex or a script. The
check uses what httpd stat'ed; an output filter checks the file httpd
actually opened, so a rename between the two gains nothing. Each attack
is shown working on the stock httpd (httpd reads ann's home through its
group).
"""
import os
import threading

import pytest

REFUSED = r"WLF0003[23]: vhost eve\.test \(account eve\): .*owned by"
FOLLOW = "Options -SymLinksIfOwnerMatch +FollowSymLinks\n"


@pytest.fixture
def leak(cworld, expect_log):
    expect_log(REFUSED)
    return cworld


def test_symlink_to_another_accounts_source(leak):
    w = leak
    d = w.eve_dir("f_link", FOLLOW)
    w.eve_link(os.path.join(d, "x.txt"), w.ann_secret)
    stock, ours = w.both("/f_link/x.txt", "eve.test")
    assert "ANN-SECRET-42" in stock.text, stock
    assert ours.status == 403 and "ANN-SECRET" not in ours.text
    assert w.httpd.wait_log(r"WLF00032: vhost eve\.test \(account eve\): "
                            r".*x\.txt.* owned by")


def test_directory_symlink_and_listing(leak):
    w = leak
    d = w.eve_dir("f_dir", FOLLOW + "Options +Indexes\n")
    w.eve_link(os.path.join(d, "annsite"), w.ann_www)
    stock, ours = w.both("/f_dir/annsite/notes.txt", "eve.test")
    assert "ANN-NOTES" in stock.text and ours.status == 403
    stock, ours = w.both("/f_dir/annsite/", "eve.test")
    assert "config.php" in stock.text and ours.status == 403
    assert "config.php" not in ours.text


@pytest.mark.parametrize("show_forbidden", [False, True])
def test_listing_hides_foreign_entries(leak, show_forbidden):
    w = leak
    opts = "IndexOptions ShowForbidden\n" if show_forbidden else ""
    d = w.eve_dir("f_index", FOLLOW + "Options +Indexes\nDirectoryIndex x\n"
                  + opts, {"mine.txt": "MINE\n"})
    w.eve_link(os.path.join(d, "leak.txt"), w.ann_text)
    stock, ours = w.both("/f_index/", "eve.test")
    assert "leak.txt" in stock.text
    assert ours.status == 200 and "mine.txt" in ours.text
    assert "leak.txt" not in ours.text


@pytest.mark.parametrize("tag", ['file="leak.txt"', 'virtual="leak.txt"'])
def test_ssi_include_of_a_foreign_file(leak, expect_log, tag):
    expect_log(r"unable to include \"leak.txt\"")
    w = leak
    d = w.eve_dir("f_ssi", FOLLOW + "Options +IncludesNOEXEC\n"
                  "AddOutputFilter INCLUDES .shtml\n",
                  {"x.shtml": f"<p><!--#include {tag} --></p>\n"})
    w.eve_link(os.path.join(d, "leak.txt"), w.ann_text)
    stock, ours = w.both("/f_ssi/x.shtml", "eve.test")
    assert "ANN-NOTES" in stock.text
    assert "ANN-NOTES" not in ours.text


def test_directoryindex_pointing_at_a_symlink(leak):
    w = leak
    d = w.eve_dir("f_dirindex", FOLLOW + "DirectoryIndex leak.txt\n")
    w.eve_link(os.path.join(d, "leak.txt"), w.ann_text)
    stock, ours = w.both("/f_dirindex/", "eve.test")
    assert "ANN-NOTES" in stock.text
    assert "ANN-NOTES" not in ours.text and ours.status == 403


def test_script_through_a_symlink(leak):
    """A script routed to FPM is a file httpd hands on too."""
    w = leak
    d = w.eve_dir("f_php", FOLLOW)
    w.eve_link(os.path.join(d, "x.php"), os.path.join(w.ann_www,
                                                      "info.php"))
    r = w.get("/f_php/x.php", "eve.test")
    assert r.status == 403, r


def test_roots_files(leak):
    """Root's files every local user can read anyway are served; root's
    files that only httpd's group may read are not."""
    w = leak
    d = w.eve_dir("f_root", FOLLOW)
    w.eve_link(os.path.join(d, "public.txt"), w.root_public)
    w.eve_link(os.path.join(d, "htpasswd.txt"), w.root_secret)
    r = w.get("/f_root/public.txt", "eve.test")
    assert r.status == 200 and "ROOT-PUBLIC" in r.text
    stock, ours = w.both("/f_root/htpasswd.txt", "eve.test")
    assert "ROOT-SECRET" in stock.text
    assert ours.status == 403 and "ROOT-SECRET" not in ours.text


def test_shared_directory_allowed_by_the_admin(leak):
    w = leak
    assert w.get("/shared/lib.js", "eve.test").text == "SHARED-OK\n"
    r = w.get("/unshared/lib.js", "eve.test")
    assert r.status == 403 and "SHARED-OK" not in r.text


def test_own_files_and_listings_still_served(cworld):
    w = cworld
    d = w.eve_dir("f_own", FOLLOW + "Options +Indexes\nDirectoryIndex x\n",
                  {"a.txt": "A-OK\n"})
    w.eve_link(os.path.join(d, "b.txt"), os.path.join(d, "a.txt"))
    assert w.get("/f_own/a.txt", "eve.test").text == "A-OK\n"
    assert w.get("/f_own/b.txt", "eve.test").text == "A-OK\n"
    r = w.get("/f_own/", "eve.test")
    assert r.status == 200 and "a.txt" in r.text and "b.txt" in r.text


def test_rename_race_never_sends_a_foreign_file(leak):
    """r.txt flips between eve's own file and a link to ann's while
    requests run: whatever httpd stat'ed, the file it opened is checked
    again before a byte of it is sent."""
    w = leak
    d = w.eve_dir("f_race", FOLLOW, {"own.txt": "EVE-OWN\n"})
    own = os.path.join(d, "own.txt")
    target = os.path.join(d, "r.txt")
    w.eve_link(target, own)
    stop = threading.Event()

    def flip():
        tmp = target + ".tmp"
        i = 0
        while not stop.is_set():
            if os.path.lexists(tmp):
                os.unlink(tmp)
            os.symlink(w.ann_text if i % 2 else own, tmp)
            os.replace(tmp, target)
            i += 1

    t = threading.Thread(target=flip)
    t.start()
    try:
        stock = [w.get("/f_race/r.txt", "eve.test", stock=True)
                 for _ in range(100)]
        ours = [w.get("/f_race/r.txt", "eve.test") for _ in range(300)]
    finally:
        stop.set()
        t.join()
    assert any("ANN-NOTES" in r.text for r in stock)
    assert not any("ANN-NOTES" in r.text for r in ours)
    assert any(r.status == 200 and r.text == "EVE-OWN\n" for r in ours)
