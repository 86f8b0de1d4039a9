"""fpmctl's documentation matches the program: the man page renders
cleanly and names every command, setting and exit code; so does the admin
guide's command table."""
import os
import re
import subprocess

from wlf import FPMCTL, ROOT

MAN = os.path.join(ROOT, "fpmctl", "fpmctl.8")
GUIDE = os.path.join(ROOT, "docs", "admin-guide.md")


def fpmctl_table(option):
    """`fpmctl --list-commands` (name, flags, usage) or `--list-settings`
    (key, type, default, doc): one list of fields a line."""
    out = subprocess.run([FPMCTL, option], capture_output=True, text=True,
                         check=True).stdout
    return [line.split("\t") for line in out.splitlines()]


def commands():
    return fpmctl_table("--list-commands")


def test_man_page_renders_cleanly():
    r = subprocess.run(["groff", "-ww", "-man", "-z", MAN],
                       capture_output=True, text=True)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    r = subprocess.run(["man", "-l", MAN], capture_output=True, text=True,
                       env=dict(os.environ, MANWIDTH="80", MAN_KEEP_STDERR="1"))
    assert r.returncode == 0 and "EXIT STATUS" in r.stdout, r.stderr


def test_every_command_documented():
    with open(MAN) as f:
        man = f.read().replace("\\-", "-")
    with open(GUIDE) as f:
        guide = f.read()
    table = commands()
    # the table is the program's; --help lists the same, in its order
    out = subprocess.run([FPMCTL, "--help"], capture_output=True, text=True,
                         check=True).stdout
    listed = re.findall(r"^  ([a-z][a-z-]*)\b", out.split("Commands:")[1]
                        .split("Global options:")[0], re.M)
    assert listed == [name for name, _, _ in table]
    for name, flags, usage in table:
        assert re.search(rf"^\.SS {re.escape(name)}\b", man, re.M), name
        assert f"`fpmctl {name}" in guide, name
        assert flags in ("config", "config,lock", "lock"), flags
        assert usage.startswith(name)


def test_every_setting_and_exit_code_documented(sandbox):
    with open(MAN) as f:
        man = f.read().replace("\\-", "-")
    with open(GUIDE) as f:
        guide = f.read()
    sandbox.add_account("alice")
    keys = list(sandbox.json("show", "alice")["settings"])
    # show has every setting of the program's table, in its order
    assert keys == [row[0] for row in fpmctl_table("--list-settings")]
    for k in keys + ["domains", "home", "php_admin"]:
        assert re.search(rf"^\.B[IR]? {re.escape(k)}\b", man, re.M), k
        assert f"`{k}" in guide, k
    for code in range(5):
        assert re.search(rf"^\.B {code}$", man, re.M), code
        assert f"| {code} |" in guide, code
    for opt in ("--json", "--dry-run", "-q", "-v"):
        assert re.search(rf"^\.BR? {opt}\b", man, re.M), opt
        assert f"`{opt}`" in guide, opt
    assert '.BI -c " FILE"' in man and "`-c FILE`" in guide
