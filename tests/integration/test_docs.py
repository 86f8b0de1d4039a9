"""The admin docs cover every knob the code has, and name none it lacks.

The lists come from the code's own tables, so a new directive, setting or
log tag cannot go undocumented:
- mod_wlfcgi's command_rec table (mod_wlfcgi/mod_wlfcgi_config.c) -> the
  admin guide's directive table and mod_wlfcgi(8);
- the keys the shared loader accepts in wlfcgi.conf and in account files
  and its settings table (as `fpmctl --list-keys` and `--list-settings`
  print them) -> the admin guide's reference tables;
- the log tag registry (mod_wlfcgi/wlf_log.h) -> the admin guide's
  troubleshooting table.
Every fpmctl command in the guide and fpmctl(8) is checked by
test_fpmctl_docs.py, every log tag in mod_wlfcgi(8) by test_module_docs.py;
this file also checks the other direction for the Markdown docs: the
directives, fpmctl commands and `set` keys they use exist, and their
relative links lead to files.
"""
import os
import re
import subprocess

import pytest

from wlf import FPMCTL, ROOT

GUIDE = os.path.join(ROOT, "docs", "admin-guide.md")
MOD_MAN = os.path.join(ROOT, "mod_wlfcgi", "mod_wlfcgi.8")
MARKDOWN = [os.path.join(ROOT, "README.md")] + sorted(
    os.path.join(ROOT, "docs", f) for f in os.listdir(os.path.join(ROOT, "docs"))
    if f.endswith(".md"))


def read(path):
    with open(path) as f:
        return f.read()


def fpmctl_table(option):
    """What `fpmctl OPTION` prints: one list of tab-separated fields a
    line (--list-commands, --list-settings, --list-keys)."""
    out = subprocess.run([FPMCTL, option], capture_output=True, text=True,
                         check=True).stdout
    rows = [line.split("\t") for line in out.splitlines()]
    assert rows, option
    return rows


def setting_keys():
    return [row[0] for row in fpmctl_table("--list-settings")]


def file_keys(file):
    """The keys the loader accepts in `file` ("wlfcgi.conf", "account"):
    the top level, the members of its groups ({"paths": [...]}) and the
    members of each entry of a list ({"php.versions": [...]})."""
    keys = [k for f, k in fpmctl_table("--list-keys") if f == file]
    top = [k for k in keys if "." not in k and "[]" not in k]
    sub, entry = {}, {}
    for k in keys:
        if "[]." in k:
            lst, member = k.split("[].")
            entry.setdefault(lst, []).append(member)
        elif "." in k:
            group, member = k.split(".", 1)
            sub.setdefault(group, []).append(member)
    return top, sub, entry


def directives():
    src = read(os.path.join(ROOT, "mod_wlfcgi", "mod_wlfcgi_config.c"))
    table = re.search(r"command_rec \w+\[\] = \{(.*?)\{ NULL \}", src, re.S)
    assert table
    names = re.findall(r'AP_INIT_\w+\(\s*"(\w+)"', table.group(1))
    assert len(names) >= 4
    return names


def guide_rows(text):
    """First cells of every Markdown table row, backticks kept."""
    return [m.group(1).strip() for m in
            re.finditer(r"^\| ([^|]+?) \|", text, re.M)]


def section(text, heading):
    """The text under a heading, up to the next heading of level 1-3
    (code blocks, whose comments look like headings, left out)."""
    text = re.sub(r"^```.*?^```", "", text, flags=re.M | re.S)
    m = re.search(rf"^(#+) {re.escape(heading)}\n(.*?)(?=^#{{1,3}} |\Z)",
                  text, re.M | re.S)
    assert m, heading
    return m.group(2)


def test_every_directive_documented():
    guide = read(GUIDE)
    rows = guide_rows(section(guide, "httpd directives (mod_wlfcgi)"))
    man = read(MOD_MAN).replace("\\-", "-")
    for d in directives():
        assert any(r.startswith(f"`{d} ") or r == f"`{d}`" for r in rows), d
        assert re.search(rf"^\.BI? {d}\b", man, re.M), d
    handler = re.search(r'#define WLF_STATUS_HANDLER\s+"([^"]+)"',
                        read(os.path.join(ROOT, "mod_wlfcgi",
                                          "mod_wlfcgi_status.c"))).group(1)
    assert f"`SetHandler {handler}`" in rows
    assert re.search(rf"^\.B SetHandler {handler}$", man, re.M)


def test_every_wlfcgi_conf_key_documented():
    top, sub, entries = file_keys("wlfcgi.conf")
    entry = entries["php.versions"]
    assert "service" in top and sub["paths"] and entry
    text = section(read(GUIDE), "wlfcgi.conf")
    rows = guide_rows(text)
    for k in top:
        if k in sub:
            for s in sub[k]:
                assert f"`{k}.{s}`" in rows, f"{k}.{s}"
        else:
            assert f"`{k}`" in rows, k
    versions = re.search(r"^\| `php\.versions` \|.*$", text, re.M).group(0)
    for k in entry:
        assert f"`{k}`" in versions, k
    # the defaults group holds every setting: the settings table has them
    settings = guide_rows(section(read(GUIDE), "Account settings"))
    for k in setting_keys():
        assert f"`{k}`" in settings, k


def test_every_account_key_documented():
    keys, _, entries = file_keys("account")
    entry = entries["php_admin"]
    assert "domains" in keys and entry
    text = section(read(GUIDE), "Account files")
    rows = guide_rows(text)
    for k in keys:
        assert f"`{k}`" in rows, k
    php_admin = re.search(r"^\| `php_admin` \|.*$", text, re.M).group(0)
    for k in entry:
        assert f"{k} = " in php_admin, k
    # and every setting may be overridden there
    assert "any [account setting](#account-settings)" in text


def test_every_log_tag_has_a_troubleshooting_row():
    tags = re.findall(r'#define WLFLOG_\w+\s+"(WLF\d{5})"',
                      read(os.path.join(ROOT, "mod_wlfcgi", "wlf_log.h")))
    assert len(tags) > 10
    rows = guide_rows(section(read(GUIDE), "mod_wlfcgi's log tags"))
    assert [r for r in rows if r.startswith("`WLF")] == \
        [f"`{t}`" for t in tags]


def fpmctl_commands():
    return {row[0] for row in fpmctl_table("--list-commands")}


def code_spans(text):
    """Inline code and the lines of fenced blocks."""
    spans = re.findall(r"```[^\n]*\n(.*?)```", text, re.S)
    rest = re.sub(r"```.*?```", "", text, flags=re.S)
    return spans + re.findall(r"`([^`\n]+)`", rest)


@pytest.mark.parametrize("path", MARKDOWN, ids=os.path.basename)
def test_markdown_names_only_what_exists(path):
    text = read(path)
    known = set(directives())
    for d in set(re.findall(r"\bWLFcgi[A-Z]\w*", text)):
        assert d in known, f"{os.path.basename(path)}: no directive {d}"
    commands = fpmctl_commands() | {"help"}
    settable = set(setting_keys()) | {"domains", "home", "extensions",
                                      "script_extensions"}
    for code in code_spans(text):
        for m in re.finditer(r"(?:^|[\s`(])fpmctl(?: -\S+| -c \S+)* "
                             r"([a-z][a-z-]*)", code, re.M):
            assert m.group(1) in commands, \
                f"{os.path.basename(path)}: fpmctl {m.group(1)}"
        for m in re.finditer(r"\bfpmctl(?: -\S+)* set (?:NAME|\w+) "
                             r"((?:[\w.]+=\S*\s*)+)", code):
            for item in m.group(1).split():
                key = item.split("=", 1)[0]
                if key.isupper():
                    continue            # a placeholder: KEY=VALUE
                assert key in settable or key.startswith(
                    ("php_admin.", "php_value.", "env.")), \
                    f"{os.path.basename(path)}: set {key}"


@pytest.mark.parametrize("path", MARKDOWN, ids=os.path.basename)
def test_markdown_links_lead_somewhere(path):
    text = read(path)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        file, _, anchor = target.partition("#")
        dest = os.path.normpath(os.path.join(os.path.dirname(path), file)) \
            if file else path
        assert os.path.exists(dest), f"{os.path.basename(path)}: {target}"
        if anchor and dest.endswith(".md"):
            slugs = {slug(h) for h in
                     re.findall(r"^#+ (.*)$", read(dest), re.M)}
            assert anchor in slugs, f"{os.path.basename(path)}: {target}"


def slug(heading):
    """GitHub's anchor for a heading."""
    s = heading.strip().lower()
    s = re.sub(r"[^\w\- ]", "", s)
    return s.replace(" ", "-")


def test_docs_offer_every_process_manager_fpmctl_has():
    """The pm setting has choices: no doc may say fpmctl always runs one,
    and the migration guide's pool translation maps pm to it."""
    choices = next(row[1] for row in fpmctl_table("--list-settings")
                   if row[0] == "pm").split("|")
    assert len(choices) > 1
    for path in MARKDOWN:
        text = read(path)
        assert not re.search(r"always runs `pm = \w+`", text), path
    rows = [line.split("|") for line in read(os.path.join(
        ROOT, "docs", "migrating.md")).splitlines()
        if re.match(r"^\s*\| `", line)]
    pm = [r for r in rows if "`pm`" in re.findall(r"`[\w.]+`", r[1])]
    assert pm and "`pm`" in pm[0][2], pm
