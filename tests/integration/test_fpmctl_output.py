"""What list, show, status and check tell: every account, also one whose
file is broken, in text and in JSON."""

BROKEN = '''# an admin's edit gone wrong
name = "bob";
user = "wlft-bob";
group = "wlft-bob;
home = "/nonexistent";
'''


def break_account(sb, name, text=BROKEN):
    with open(sb.account_file(name), "w") as f:
        f.write(text)


def test_a_broken_account_file_is_listed_as_broken(sandbox):
    sb = sandbox
    sb.add_account("alice")
    sb.add_account("bob")
    sb.add_account("carol")
    break_account(sb, "bob")
    why = "line 4: the string that starts here is not closed on its line"
    r = sb.fpmctl("list")
    assert r.rc == 1
    rows = [line.split()[:2] for line in r.out.splitlines()[1:]]
    assert rows == [["alice", "running"], ["bob", "broken"],
                    ["carol", "running"]]
    assert r.err.startswith(f"fpmctl: {sb.account_file('bob')}: {why}")
    lst = sb.json("list")
    assert [a["name"] for a in lst] == ["alice", "bob", "carol"]
    bob = lst[1]
    assert bob["state"] == "broken" and bob["error"].startswith(why)
    assert bob["file"] == sb.account_file("bob")


def test_status_shows_a_broken_account(sandbox):
    sb = sandbox
    sb.add_account("alice")
    sb.add_account("bob")
    break_account(sb, "bob")
    r = sb.fpmctl("status")
    assert r.rc == 1
    assert r.out.splitlines()[0].startswith("alice: running")
    assert f"bob: broken: {sb.account_file('bob')}: line 4: " in r.out
    st = sb.json("status")
    assert [(s["name"], s["state"]) for s in st] == [
        ("alice", "running"), ("bob", "broken")]
    r = sb.fpmctl("status", "bob")
    assert r.rc == 1 and r.out.startswith("bob: broken: ")


def test_check_names_the_account_whose_file_is_broken(sandbox):
    sb = sandbox
    sb.add_account("alice")
    sb.add_account("bob")
    break_account(sb, "bob", 'name = "bob";\ndomains = [ "b.example";\n'
                             'user = "wlft-bob";\n')
    js = sb.json("check")
    assert js["ok"] is False
    broken = [p for p in js["problems"] if p["account"] == "bob"]
    assert len(broken) == 1
    assert broken[0]["problem"].endswith(
        f"{sb.account_file('bob')}: line 2: '[' is not closed")
    r = sb.fpmctl("check")
    assert f"bob: {sb.account_file('bob')}: line 2: " in r.out


# ------------------------------------------------------------- JSON --

ISO_8601 = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d"


def test_json_has_a_schema_version_everywhere(sandbox):
    sb = sandbox
    sb.add_account("alice")
    sb.add_account("bob")
    break_account(sb, "bob")
    for doc in sb.json("list") + sb.json("status") + [
            sb.json("show", "alice"), sb.json("check")]:
        assert doc["schema"] == 1, doc
        assert list(doc)[0] == "schema"


def test_json_values_have_their_types(sandbox):
    import re
    sb = sandbox
    sb.add_account("alice")
    sb.fpmctl("set", "alice", "opcache_validate_timestamps=off",
              "max_upload=64M", check=True)
    show = sb.json("show", "alice")
    s = show["settings"]
    # numbers as numbers, sizes in bytes with the form `set` takes beside
    assert s["max_children"]["value"] == 5
    assert s["max_upload"] == {"value": 64 << 20, "text": "64M",
                               "default": 8 << 20, "override": True}
    assert s["opcache_memory"]["value"] == 128 << 20
    assert show["max_upload"] == 64 << 20
    assert show["max_upload_text"] == "64M"
    # booleans as booleans
    assert s["opcache_validate_timestamps"]["value"] is False
    assert s["opcache_validate_timestamps"]["default"] is True
    # choices and the PHP version stay words
    assert s["pm"]["value"] == "ondemand" and s["php"]["value"] == "8.2"
    assert isinstance(show["pid"], int)
    st = sb.json("status", "alice")[0]
    assert re.fullmatch(ISO_8601, st["start_time"]), st["start_time"]
    assert isinstance(st["start_since"], int)
    # "text" is the form `set` takes; nothing else is a number or a
    # boolean in a string
    for v in list(s.values()) + [st, show]:
        for k, x in v.items():
            if k != "text" and isinstance(x, str):
                assert x not in ("true", "false") and not x.isdigit(), k


def test_list_columns_line_up_whatever_the_state(sandbox):
    sb = sandbox
    sb.add_account("alice")
    sb.add_account("bob")
    sb.fpmctl("suspend", "alice", check=True)
    r = sb.fpmctl("list")
    assert r.rc == 0, r
    header, *rows = r.out.splitlines()
    assert [row.split()[:2] for row in rows] == [["alice", "suspended"],
                                                 ["bob", "running"]]
    # every column starts where its heading does
    for col in ("SLOT", "PID", "USER", "DOMAINS"):
        at = header.index(col)
        for row in rows:
            assert row[at - 1] == " " and row[at] != " ", (col, r.out)
    assert rows[0][header.index("USER"):].startswith("wlft-alice "), r.out
