"""Real applications on mod_wlfcgi and fpmctl: WordPress (with its own
MariaDB server) and DokuWiki, from the distribution's packages, installed
into accounts as their customers would upload them (wlf/apps.py).

Each is driven as a browser would: the installer, pretty URLs through
the application's own .htaccess, a login, and a media upload bigger than
the account's max_upload through the <Location> the admin raised with
WLFcgiMaxUpload. What the applications write lands in the account's own
files, as the account's user.

The upload URLs are real files (no rewrite), so the limit of the URL the
client sent is the limit of the script that runs.
"""
import hashlib
import os
import pwd
import re

from wlf.apps import (UPLOAD_BYTES, dokuwiki_login,
                      dokuwiki_sectok, wordpress_login, wordpress_nonce,
                      wordpress_setup, zip_bytes)


def owner(path):
    return pwd.getpwuid(os.stat(path).st_uid).pw_name


def test_wordpress_installs_logs_in_and_serves_pretty_urls(apps):
    b = apps.browser("wp.test")
    wordpress_setup(b)
    r = wordpress_login(b)
    assert any(c.name.startswith("wordpress_logged_in_")
               for c in b.s.cookies)
    # the permalink settings page writes WordPress's rules into the
    # customer's own .htaccess
    r = b.get("/wp-admin/options-permalink.php")
    assert r.status_code == 200, r.text[:2000]
    nonce = re.search(r'name="_wpnonce" value="([0-9a-f]+)"', r.text).group(1)
    r = b.post("/wp-admin/options-permalink.php", data={
        "_wpnonce": nonce, "_wp_http_referer":
        "/wp-admin/options-permalink.php", "selection": "/%postname%/",
        "permalink_structure": "/%postname%/", "category_base": "",
        "tag_base": "", "submit": "Save Changes"})
    assert r.status_code == 302, r.text[:2000]
    # the browser follows the redirect: that page writes the rules
    r = b.get("/wp-admin/options-permalink.php?settings-updated=true")
    assert "Permalink structure updated." in r.text
    htaccess = os.path.join(apps.wp_root, ".htaccess")
    with open(htaccess) as f:
        assert "RewriteRule . /index.php [L]" in f.read()
    assert owner(htaccess) == apps.wp.user

    anon = apps.browser("wp.test")
    r = anon.get("/hello-world/")
    assert r.status_code == 200, r.text[:2000]
    r = anon.get("/wp-json/wp/v2/posts")
    assert r.status_code == 200, r.text[:2000]
    assert [p["slug"] for p in r.json()] == ["hello-world"]
    r = anon.get("/no-such-post/")
    assert r.status_code == 404


def test_wordpress_media_upload_through_raised_location_limit(apps,
                                                              expect_log):
    b = apps.browser("wp.test")
    wordpress_login(b)
    r = b.get("/wp-admin/media-new.php")
    assert r.status_code == 200, r.text[:2000]
    nonce = wordpress_nonce(r.text)
    body = zip_bytes(UPLOAD_BYTES)
    form = {"name": "big.zip", "post_id": "0", "_wpnonce": nonce,
            "type": "", "tab": "", "short": "1"}
    files = {"async-upload": ("big.zip", body, "application/zip")}
    r = b.post("/wp-admin/async-upload.php", data=form, files=files)
    assert r.status_code == 200 and r.text.strip().isdigit(), r.text[:2000]
    found = [os.path.join(d, n) for d, _, names in
             os.walk(os.path.join(apps.wp_root, "wp-content", "uploads"))
             for n in names if n == "big.zip"]
    assert len(found) == 1
    with open(found[0], "rb") as f:
        assert hashlib.sha256(f.read()).digest() == \
            hashlib.sha256(body).digest()
    assert owner(found[0]) == apps.wp.user
    # the same body elsewhere is over the account's own limit
    expect_log(r"WLF00025: account wp: Content-Length \d+ is over the "
               r"upload limit 8388608 of /wp-admin/admin-ajax.php")
    r = b.post("/wp-admin/admin-ajax.php", data=form, files=files)
    assert r.status_code == 413


def test_dokuwiki_pretty_urls_login_and_edit(apps, expect_log):
    anon = apps.browser("wiki.test")
    r = anon.get("/wiki:syntax")
    assert r.status_code == 200 and "Formatting Syntax" in r.text
    # the application's own .htaccess files keep its data closed
    expect_log(r"AH01630: client denied by server configuration: .*"
               r"/htdocs/(data/pages/wiki/syntax.txt|conf/users.auth.php)")
    assert anon.get("/data/pages/wiki/syntax.txt").status_code == 403
    assert anon.get("/conf/users.auth.php").status_code == 403

    b = apps.browser("wiki.test")
    dokuwiki_login(b)
    r = b.get("/playground:wlfcgi?do=edit")
    assert r.status_code == 200 and 'name="wikitext"' in r.text, \
        r.text[:3000]
    form = dict(re.findall(r'<input type="hidden" name="([^"]+)" '
                           r'value="([^"]*)"', r.text))
    form.update({"wikitext": "====== Served by wlfcgi ======\n"
                             "Written by the account's PHP.\n",
                 "summary": "test", "do[save]": "Save"})
    r = b.post("/playground:wlfcgi", data=form)
    assert r.status_code in (200, 302, 303), r.text[:3000]
    page = os.path.join(apps.wiki_root, "data/pages/playground/wlfcgi.txt")
    with open(page) as f:
        assert "Served by wlfcgi" in f.read()
    assert owner(page) == apps.wiki.user
    r = anon.get("/playground:wlfcgi")
    assert r.status_code == 200 and "Served by wlfcgi" in r.text


def test_dokuwiki_media_upload_through_raised_location_limit(apps,
                                                             expect_log):
    b = apps.browser("wiki.test")
    dokuwiki_login(b)
    r = b.get("/start?do=media&ns=wiki")
    assert r.status_code == 200, r.text[:2000]
    sectok = dokuwiki_sectok(r.text)
    body = zip_bytes(UPLOAD_BYTES)
    files = {"qqfile": ("big.zip", body, "application/zip")}
    form = {"ns": "wiki", "mediaid": "big.zip", "sectok": sectok,
            "call": "mediaupload"}
    r = b.post("/lib/exe/ajax.php", data=form, files=files)
    assert r.status_code == 200, r.text[:2000]
    assert r.json().get("success") is True, r.text
    path = os.path.join(apps.wiki_root, "data/media/wiki/big.zip")
    with open(path, "rb") as f:
        assert hashlib.sha256(f.read()).digest() == \
            hashlib.sha256(body).digest()
    assert owner(path) == apps.wiki.user
    # fetched back through the pretty media URL of the .htaccess
    r = b.get("/_media/wiki:big.zip")
    assert r.status_code == 200 and len(r.content) == len(body)
    # the same body to a script without the raised limit
    expect_log(r"WLF00025: account wiki: Content-Length \d+ is over the "
               r"upload limit 8388608 of /lib/exe/mediamanager.php")
    r = b.post("/lib/exe/mediamanager.php", data=form, files=files)
    assert r.status_code == 413


def test_applications_are_the_customers_own_files(apps):
    """As uploaded: real files of the account's user, no link into the
    distribution's directories."""
    for root, acct in ((apps.wp_root, apps.wp), (apps.wiki_root, apps.wiki)):
        for dirpath, dirnames, names in os.walk(root):
            for n in dirnames + names:
                p = os.path.join(dirpath, n)
                assert not os.path.islink(p), p
                assert os.lstat(p).st_uid == acct.uid, p
