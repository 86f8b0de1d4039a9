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
                        .split("Global options")[0], re.M)
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


# ---------------------------------------------------------- completion --

COMPLETION = os.path.join(ROOT, "rpm", "fpmctl.bash-completion")


def complete(words, config):
    """What the bash completion offers for the last of `words`."""
    script = (f"source {COMPLETION}\n"
              f"export WLFCGI_CONFIG={config}\n"
              "COMP_WORDS=(" + " ".join(f"'{w}'" for w in words) + ")\n"
              "COMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n"
              "_fpmctl\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n")
    p = subprocess.run(["bash", "--norc", "-c", script], capture_output=True,
                       text=True, check=True)
    return [w for w in p.stdout.splitlines() if w]


def global_options():
    """The long and short global options `fpmctl --help` lists."""
    out = subprocess.run([FPMCTL, "--help"], capture_output=True, text=True,
                         check=True).stdout
    part = out.split("Global options")[1].split("\n\n")[0]
    return set(re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", part))


def test_completion_covers_every_command_option_and_key(sandbox):
    sandbox.add_account("alice")
    conf = sandbox.conf
    table = commands()
    names = [name for name, _, _ in table]
    assert set(complete(["fpmctl", ""], conf)) == set(names) | {"help"}
    assert set(complete(["fpmctl", "help", ""], conf)) == set(names)
    # the global options, before the command and after it
    gopts = global_options()
    assert {"--json", "--dry-run", "--yes", "--config"} <= gopts
    assert set(complete(["fpmctl", "-"], conf)) >= gopts
    for name, _, usage in table:
        offered = set(complete(["fpmctl", name, "-"], conf))
        # `fpmctl php NAME ARGS`: what follows is php's, options included
        if name != "php":
            assert offered >= gopts - {"--version"}, (name, gopts - offered)
        for opt in set(re.findall(r"--[a-z][a-z-]*", usage)):
            assert opt in offered, (name, opt)
    # every key of `set`, and the values of the ones that have choices
    offered = complete(["fpmctl", "set", "alice", ""], conf)
    for key, typ, _, _ in fpmctl_table("--list-settings"):
        assert f"{key}=" in offered, key
        if typ == "bool":
            assert complete(["fpmctl", "set", "alice", f"{key}="], conf) \
                == [f"{key}=on", f"{key}=off", f"{key}=default"], key
        elif "|" in typ:
            assert complete(["fpmctl", "set", "alice", f"{key}="], conf) \
                == [f"{key}={c}" for c in typ.split("|")] + \
                [f"{key}=default"], key
    for key in ("domains=", "home=", "php_admin."):
        assert key in offered, key
    # php_admin. goes on with the ini keys wlfcgi.conf allows
    with open(conf) as f:
        allowed = re.findall(r'^\s+"([a-z_.]+)",?$', f.read().split(
            "php_admin_allowed")[1].split("];")[0], re.M)
    assert "memory_limit" in allowed
    assert complete(["fpmctl", "set", "alice", "php_admin."], conf) == \
        [f"php_admin.{k}=" for k in allowed]
    assert complete(["fpmctl", "set", "alice", "php_admin.mem"], conf) == \
        ["php_admin.memory_limit="]
