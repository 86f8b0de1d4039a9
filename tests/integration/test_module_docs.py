"""mod_wlfcgi(8) renders cleanly and explains every log tag the module
can write (the registry in mod_wlfcgi/wlf_log.c)."""
import glob
import os
import re
import subprocess

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MAN = os.path.join(ROOT, "mod_wlfcgi", "mod_wlfcgi.8")


def registry():
    with open(os.path.join(ROOT, "mod_wlfcgi", "wlf_log.h")) as f:
        return re.findall(r'#define WLFLOG_\w+\s+"(WLF\d{5})"', f.read())


def test_groff_has_no_warnings():
    p = subprocess.run(["groff", "-ww", "-man", "-z", MAN],
                       capture_output=True, text=True)
    assert p.returncode == 0 and p.stderr == "", p.stderr


def test_man_renders():
    p = subprocess.run(["man", "--warnings", "-l", MAN], capture_output=True,
                       text=True, env=dict(os.environ, MANWIDTH="80",
                                           MAN_KEEP_FORMATTING="0"))
    assert p.returncode == 0 and p.stderr == "", p.stderr
    plain = re.sub(r".\x08", "", p.stdout)      # overstrike bold
    assert "WLFcgiMaxUpload" in plain and "LOG MESSAGES" in plain


def test_every_log_tag_is_explained():
    tags = registry()
    assert len(tags) > 10
    with open(MAN) as f:
        man = f.read()
    documented = re.findall(r"^\.B (WLF\d{5})$", man, re.M)
    assert documented == tags       # all of them, in order, nothing extra


def test_every_log_tag_is_used():
    code = ""
    for glue in glob.glob(os.path.join(ROOT, "mod_wlfcgi", "mod_wlfcgi*.c")):
        with open(glue) as f:
            code += f.read()
    with open(os.path.join(ROOT, "mod_wlfcgi", "wlf_log.h")) as f:
        names = re.findall(r"#define (WLFLOG_\w+)\s", f.read())
    unused = [n for n in names if n not in code]
    assert unused == []
