"""From .htaccess a customer picks only content handlers.

Handlers that reveal other sites (server-status, server-info,
balancer-manager, wlfcgi-status, ...) or run the customer's code as
httpd's user (cgi-script, lua-script, SSI #exec, mod_lua hooks) are
refused (403 and one WLF line) when a .htaccess may have chosen them,
under every spelling: SetHandler, AddHandler, RewriteRule [H=], ForceType
and AddType (httpd uses the content type as handler name when there is
none), in <Files>, <FilesMatch> and <If>. Each attack is shown working on
the stock httpd. The admin's own handlers and the ordinary content
handlers keep working.
"""
import os
import time

import pytest

from wlf import host

HTTPD_USER = host.httpd_user()

REFUSED = r"WLF00031: vhost eve\.test \(account eve\): .*handler"

CGI = "#!/bin/sh\necho Content-Type: text/plain\necho\nid\n"
SSI_EXEC = '<html><!--#exec cmd="id" --></html>\n'
LUA_FIXUP = """
function fix(r)
    local f = io.open("{ann_text}")
    if f then r.headers_out["X-Leak"] = f:read("*l"); f:close() end
    return apache2.DECLINED
end
"""
LUA_HANDLER = """
function handle(r)
    r.content_type = "text/plain"
    local f = io.open("{ann_text}")
    r:puts(f and f:read("*a") or "no")
    return apache2.OK
end
"""

# name: (.htaccess, extra files, path requested, what the stock httpd shows)
CASES = {
    "sethandler_status": ("SetHandler server-status\n", {}, "x",
                          "Apache Server Status"),
    "files_status": ('<Files "static.txt">\nSetHandler server-status\n'
                     "</Files>\n", {}, "static.txt", "Apache Server Status"),
    "filesmatch_status": ('<FilesMatch "\\.txt$">\n'
                          "SetHandler server-status\n</FilesMatch>\n", {},
                          "static.txt", "Apache Server Status"),
    "if_status": ('<If "true">\nSetHandler server-status\n</If>\n', {},
                  "static.txt", "Apache Server Status"),
    "addhandler_status": ("AddHandler server-status .txt\n", {},
                          "static.txt", "Apache Server Status"),
    "rewrite_h_status": ("RewriteEngine On\n"
                         "RewriteRule \\.txt$ - [H=server-status]\n", {},
                         "static.txt", "Apache Server Status"),
    "forcetype_status": ("ForceType application/x-httpd-status\n", {},
                         "static.txt", "Apache Server Status"),
    "forcetype_status_name": ("ForceType server-status\n", {}, "static.txt",
                              "Apache Server Status"),
    "addtype_status": ("AddType application/x-httpd-status .txt\n", {},
                       "static.txt", "Apache Server Status"),
    "rewrite_t_status": ("RewriteEngine On\n"
                         "RewriteRule \\.txt$ - "
                         "[T=application/x-httpd-status]\n", {},
                         "static.txt", "Apache Server Status"),
    "forcetype_params": ('ForceType "application/x-httpd-status; x=1"\n',
                         {}, "static.txt", "Apache Server Status"),
    "forcetype_case": ("ForceType Application/X-HTTPD-Status\n", {},
                       "static.txt", "Apache Server Status"),
    "sethandler_case": ("SetHandler Server-Status\n", {}, "static.txt",
                        "Apache Server Status"),
    "server_info": ("SetHandler server-info\n", {}, "x",
                    "Apache Server Information"),
    "balancer_manager": ("SetHandler balancer-manager\n", {}, "x",
                         "Load Balancer Manager"),
    "cgi_script": ("Options +ExecCGI\nAddHandler cgi-script .sh\n",
                   {"x.sh": CGI}, "x.sh", "uid="),
    "cgi_addtype": ("Options +ExecCGI\n"
                    "AddType application/x-httpd-cgi .sh\n",
                    {"x.sh": CGI}, "x.sh", "uid="),
    "lua_script": ("AddHandler lua-script .lua\n",
                   {"x.lua": LUA_HANDLER}, "x.lua", "ANN-NOTES"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_customer_handler_refused(cworld, expect_log, name):
    expect_log(REFUSED)
    w = cworld
    text, files, path, shows = CASES[name]
    files = {k: v.format(ann_text=w.ann_text) for k, v in files.items()}
    files.setdefault("static.txt", "EVE-OK\n")
    d = w.eve_dir(f"h_{name}", text, files)
    for f in files:
        if f.endswith(".sh"):
            os.chmod(os.path.join(d, f), 0o755)
    stock, ours = w.both(f"/h_{name}/{path}", "eve.test")
    assert stock.status == 200 and shows in stock.text, stock
    assert ours.status == 403, ours
    assert shows not in ours.text
    assert w.httpd.wait_log(REFUSED + r".*h_" + name)


@pytest.mark.parametrize("host,tag", [
    ("eve.test", r"eve\.test \(account eve\)"),
    ("parked.test", r"parked\.test \(account none\)")])
def test_status_page_from_htaccess_refused(cworld, expect_log, host, tag):
    """The module's own status page names every account: never from a
    .htaccess, mapped or parked vhost alike."""
    expect_log(rf"WLF00031: vhost {tag}: .*wlfcgi-status")
    w = cworld
    sub = "st" if host == "eve.test" else "parked/st"
    w.eve_dir(sub, "SetHandler wlfcgi-status\n")
    r = w.get("/st/?json", host)
    assert r.status == 403, r
    assert "ann" not in r.text


def test_admin_cgi_handler_but_customer_execcgi(cworld, expect_log):
    """The admin maps .cgi to cgi-script; eve's .htaccess switches on
    ExecCGI. Stock: her script runs as httpd's user. Contained: the
    option is switched off again, mod_cgid refuses."""
    expect_log(r"Options ExecCGI is off in this directory")
    w = cworld
    d = w.eve_dir("cgi_opt", "Options +ExecCGI\n", {"x.cgi": CGI})
    os.chmod(os.path.join(d, "x.cgi"), 0o755)
    stock, ours = w.both("/cgi_opt/x.cgi", "eve.test")
    assert f"({HTTPD_USER})" in stock.text and "uid=" in stock.text, stock
    assert ours.status == 403 and "uid=" not in ours.text


@pytest.mark.parametrize("opts", ["+Includes", "All", "Includes"])
def test_ssi_exec_is_off_whatever_options_say(cworld, expect_log, opts):
    expect_log(r"exec used but not allowed in .*ssi_exec")
    w = cworld
    w.eve_dir("ssi_exec", f"Options {opts}\n"
              "AddOutputFilter INCLUDES .shtml\n", {"x.shtml": SSI_EXEC})
    stock, ours = w.both("/ssi_exec/x.shtml", "eve.test")
    assert f"({HTTPD_USER})" in stock.text and "uid=" in stock.text, stock
    assert ours.status == 200 and "uid=" not in ours.text


def test_lua_hook_in_htaccess_refused(cworld, expect_log):
    """mod_lua's hooks are allowed in .htaccess and run Lua as httpd's
    user: a .htaccess that configures mod_lua is refused."""
    expect_log(r"WLF00034: vhost eve\.test \(account eve\): .*mod_lua")
    w = cworld
    d = os.path.join(w.eve_www, "lua_hook")
    w.eve_dir("lua_hook", f"LuaHookFixups {d}/fix.lua fix\n",
              {"fix.lua": LUA_FIXUP.format(ann_text=w.ann_text),
               "static.txt": "EVE-OK\n"})
    stock, ours = w.both("/lua_hook/static.txt", "eve.test")
    assert stock.header("X-Leak") == "ANN-NOTES", stock.headers
    assert ours.status == 403 and ours.header("X-Leak") is None


LUA_LOG = """
function log(r)
    local f = io.open("{marker}", "w")
    if f then f:write("ran as httpd"); f:close() end
    return apache2.DECLINED
end
"""


def test_lua_log_hook_in_htaccess_never_runs(cworld, expect_log):
    """LuaHookLog runs for every request, a refused one too: it must see
    the vhost's configuration, not the .htaccess."""
    expect_log(r"WLF00034: vhost eve\.test \(account eve\): .*mod_lua")
    w = cworld
    out = os.path.join(w.root, "lua_log")
    os.makedirs(out, exist_ok=True)
    os.chmod(out, 0o777)
    d = os.path.join(w.eve_www, "lua_log")
    for stock in (True, False):
        marker = os.path.join(out, f"marker-{stock}")
        w.eve_dir("lua_log", f"LuaHookLog {d}/log.lua log\n",
                  {"log.lua": LUA_LOG.format(marker=marker),
                   "static.txt": "EVE-OK\n"})
        w.get("/lua_log/static.txt", "eve.test", stock=stock)
        # the log phase runs after the response was sent
        for _ in range(50):
            if os.path.exists(marker):
                break
            time.sleep(0.02)
        assert os.path.exists(marker) == stock, marker


# ---- what keeps working ----

ASIS = "Status: 200 OK\nContent-Type: text/plain\n\nASIS-OK\n"
VAR = "URI: a.txt\nContent-Type: text/plain\n"


@pytest.mark.parametrize("text,files,path,shows", [
    ("AddType text/plain .foo\n", {"x.foo": "FOO-OK"}, "x.foo", "FOO-OK"),
    ("ForceType text/plain\n", {"x.bin": "BIN-OK"}, "x.bin", "BIN-OK"),
    ("SetHandler default-handler\n", {}, "static.txt", "EVE-OK"),
    ("Options +IncludesNOEXEC\nAddOutputFilter INCLUDES .shtml\n",
     {"x.shtml": '<!--#echo var="DOCUMENT_NAME" -->'}, "x.shtml",
     "x.shtml"),
    ("Options +Includes\nAddHandler server-parsed .html\n",
     {"x.html": '<!--#echo var="DOCUMENT_NAME" -->'}, "x.html", "x.html"),
    ("AddHandler send-as-is .asis\n", {"x.asis": ASIS}, "x.asis",
     "ASIS-OK"),
    ("AddHandler type-map .var\n", {"x.var": VAR, "a.txt": "VAR-OK"},
     "x.var", "VAR-OK"),
    ("Options +Indexes\nDirectoryIndex none\n", {}, "", "static.txt"),
    ("RewriteEngine On\nRewriteRule ^y\\.txt$ static.txt\n", {}, "y.txt",
     "EVE-OK"),
])
def test_content_handlers_from_htaccess_work(cworld, text, files, path,
                                            shows):
    w = cworld
    files = dict(files, **{"static.txt": "EVE-OK\n"})
    w.eve_dir("ok_h", text, files)
    r = w.get(f"/ok_h/{path}", "eve.test")
    assert r.status == 200, r
    assert shows in r.text


def test_admin_handlers_beside_a_busy_htaccess(cworld):
    """The admin's <Location> SetHandler server-status and AddHandler
    cgi-script, with eve's .htaccess configuring mod_mime and
    mod_rewrite around them."""
    w = cworld
    ht = os.path.join(w.eve_www, ".htaccess")
    try:
        with open(ht, "w") as f:
            f.write("RewriteEngine On\nRewriteRule ^nothing$ - [L]\n"
                    "AddType text/plain .foo\n")
        r = w.get("/admin-status", "eve.test")
        assert r.status == 200 and "Apache Server Status" in r.text, r
    finally:
        os.unlink(ht)
