"""check and its views (dbOnlyFiles, scrubber, possibleProblemDates) on the example
mission, both backends: break it one way, check finds exactly that, --fix repairs it,
a second check is clean, and no file is ever deleted."""
from __future__ import annotations

import hashlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from dbprocessing.cli import (
    check,
    db_only_files,
    possible_problem_dates,
    process_queue,
    scrubber,
)

from .missions import REPO, MissionUnderTest, process

L1_DIR = ("L1", "2025")
L1_FIRST = "hello_L1_20250101_v1.0.0.txt"
L0_SECOND = "hello_a_L0_20250102_v1.0.0.txt"


def execute(m: MissionUnderTest, *statements: str) -> None:
    engine = m.engine()
    try:
        with engine.begin() as conn:
            for statement in statements:
                conn.execute(sa.text(statement))
    finally:
        engine.dispose()


def contents(m: MissionUnderTest) -> list[str]:
    """The SHA-1 of every file under the mission root, sorted: a file moved keeps its
    place in this list, a file deleted does not."""
    return sorted(hashlib.sha1(p.read_bytes()).hexdigest()
                  for p in m.root.rglob("*") if p.is_file())


def run(module, m: MissionUnderTest, capsys, *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = module.main(["-m", m.db_url, *args])
    return code, capsys.readouterr().out


def findings(m: MissionUnderTest, capsys, *args: str) -> tuple[int, list[dict]]:
    code, out = run(check, m, capsys, "--json", *args)
    return code, json.loads(out)


def path_of(m: MissionUnderTest, *parts: str) -> Path:
    return m.root.joinpath(*parts)


# -- ways to break the mission: each returns what the finding must name ---------

def remove_file(m):
    path_of(m, *L1_DIR, L1_FIRST).unlink()
    return {"filename": L1_FIRST}


def clear_exists_flag(m):
    execute(m, f"UPDATE file SET exists_on_disk = false WHERE filename = '{L1_FIRST}'")
    return {"filename": L1_FIRST}


def change_contents(m):
    with open(path_of(m, "L0", "a", "2025", L0_SECOND), "a") as handle:
        handle.write("changed after ingest\n")
    return {"filename": L0_SECOND}


def add_stray(m):
    path_of(m, *L1_DIR, "hello_L1_20250109_v1.0.0.txt").write_text("nobody knows me\n")
    return {"path": str(path_of(m, *L1_DIR, "hello_L1_20250109_v1.0.0.txt"))}


def clear_newest_flags(m):
    execute(m, "UPDATE code SET newest_version = false WHERE filename = 'hello_L0toL1.py'")
    return {"table": "code", "filename": "hello_L0toL1.py"}


def stale_parent(m):
    """A new version of an L0 input, ingested but no longer queued: L1 2025-01-02 is
    made from a parent that is not the newest."""
    m.add_incoming("hello_a_L0_20250102_v1.1.0.txt", "7\n")  # a newer count
    assert process_queue.main(["-i", "-m", m.db_url, "-q"]) == 0
    execute(m, "DELETE FROM processqueue")
    return {"filename": "hello_L1_20250102_v1.0.0.txt", "parent": L0_SECOND,
            "newest_parent": "hello_a_L0_20250102_v1.1.0.txt"}


def dangling_entry(m):
    if m.db_url.startswith("sqlite"):
        # A database that never enforced foreign keys (the original's SQLite files).
        with sqlite3.connect(m.db_url.removeprefix("sqlite:///")) as conn:
            conn.execute("INSERT INTO processqueue (file_id, remake) VALUES (9999, 0)")
    else:
        execute(m, "ALTER TABLE processqueue DROP CONSTRAINT fk_processqueue_file_id_file",
                "INSERT INTO processqueue (file_id, remake) VALUES (9999, false)")
    return {"file_id": 9999}


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def dead_holder(m):
    execute(m, "INSERT INTO logging (currently_processing, pid, processing_start_time, "
               f"mission_id, \"user\", hostname) VALUES (true, {dead_pid()}, "
               f"CURRENT_TIMESTAMP, 1, 'someone', '{socket.gethostname()[:100]}')")
    return {}


BREAKS = {
    "missing_file": remove_file,
    "exists_flag": clear_exists_flag,
    "shasum_mismatch": change_contents,
    "stray_file": add_stray,
    "newest_flag": clear_newest_flags,
    "stale_provenance": stale_parent,
    "dangling_queue": dangling_entry,
    "dead_lock": dead_holder,
}


def test_a_made_mission_is_clean(made, capsys):
    code, out = run(check, made, capsys)
    assert code == 0, out
    assert "0 inconsistencies found (20 file row(s) compared with the disk)" in out


@pytest.mark.parametrize("kind", list(BREAKS))
def test_check_finds_it_and_fix_repairs_it(made, capsys, kind):
    expected = BREAKS[kind](made)
    code, found = findings(made, capsys)
    assert code == 1
    assert {f["kind"] for f in found} == {kind}, found
    # stale_provenance: L1 of 01, 02 and 03 all read L0 of 02 (daily windows)
    assert len(found) == (3 if kind == "stale_provenance" else 1), found
    assert any(all(f["objects"][k] == v for k, v in expected.items()) for f in found)
    assert all(f["repair"] for f in found)

    before = contents(made)
    code, out = run(check, made, capsys, "--fix")
    assert code == 0, out
    assert out.startswith(f"fixed {kind}: ")
    assert contents(made) == before  # nothing deleted (a stray is moved, not removed)
    code, out = run(check, made, capsys)
    assert code == 0, out
    recorded = made.query("SELECT arguments FROM invocation WHERE command = :c "
                          "ORDER BY invocation_id", c=f"check --fix: {kind}")
    assert len(recorded) == len(found)
    assert [f["subject"] in r.arguments for f, r in zip(found, recorded, strict=True)] == [True] * len(found)
    assert not made.query("SELECT 1 FROM logging WHERE currently_processing")


def test_each_repair_does_what_it_says(made, capsys):
    for breaker in (remove_file, change_contents, add_stray, stale_parent):
        breaker(made)
    assert run(check, made, capsys, "--fix")[0] == 0
    assert made.query("SELECT exists_on_disk FROM file WHERE filename = :f",
                      f=L1_FIRST)[0][0] in (False, 0)
    changed = path_of(made, "L0", "a", "2025", L0_SECOND)
    assert made.query("SELECT shasum FROM file WHERE filename = :f", f=L0_SECOND)[0][0] == \
        hashlib.sha1(changed.read_bytes()).hexdigest()
    assert (made.errordir() / "hello_L1_20250109_v1.0.0.txt").read_text() == \
        "nobody knows me\n"
    queued = made.query("SELECT f.filename FROM processqueue q JOIN file f "
                        "ON f.file_id = q.file_id")
    assert [r.filename for r in queued] == ["hello_a_L0_20250102_v1.1.0.txt"]
    # The queued parent rebuilds the stale child; the mission stays consistent.
    assert process(made, "-q") == 0
    assert made.query("SELECT 1 FROM file WHERE filename = 'hello_L1_20250102_v1.1.0.txt'")
    assert run(check, made, capsys)[0] == 0


def test_version_overflow_is_reported_and_left_to_a_person(made, capsys):
    execute(made, "UPDATE file SET revision_version = -1 WHERE filename = "
                  "'hello_L2_20250103_v1.0.0.txt'")
    code, found = findings(made, capsys)
    assert code == 1
    assert [f["kind"] for f in found] == ["version_overflow"]
    assert found[0]["repair"] is None
    code, out = run(check, made, capsys, "--fix")
    assert code == 1
    assert out.startswith("NOT fixed version_overflow:") and "by hand" in out
    assert made.query("SELECT revision_version FROM file WHERE filename = "
                      "'hello_L2_20250103_v1.0.0.txt'")[0][0] == -1


def test_sqlite_holds_what_a_smallint_cannot(made, capsys):
    if not made.db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL refuses the value itself")
    execute(made, "UPDATE code SET quality_version = 40000 WHERE filename = 'hello_report.py'")
    code, found = findings(made, capsys)
    assert [(f["kind"], f["objects"]["version"]) for f in found] == [
        ("version_overflow", "1.40000.0, output interface 1")]


def test_dry_run_prints_each_repair_and_changes_nothing(made, capsys):
    remove_file(made)
    add_stray(made)
    dead_holder(made)
    before = (contents(made), made.query("SELECT * FROM file ORDER BY file_id"),
              made.count("invocation"), made.count("logging"))
    code, out = run(check, made, capsys, "--fix", "-d")
    assert code == 1
    lines = out.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == [
        "would fix missing_file", "would fix stray_file", "would fix dead_lock"]
    assert "set exists_on_disk false" in lines[0]
    assert lines[-1].endswith("dry run, nothing changed")
    assert (contents(made), made.query("SELECT * FROM file ORDER BY file_id"),
            made.count("invocation"), made.count("logging")) == before


def test_date_range_limits_dated_findings(made, capsys):
    remove_file(made)      # 2025-01-01
    add_stray(made)        # 2025-01-09, from its name
    dangling_entry(made)   # no date: always reported
    code, found = findings(made, capsys, "-s", "2025-01-02", "-e", "20250105")
    assert [f["kind"] for f in found] == ["dangling_queue"]
    code, found = findings(made, capsys, "-e", "2025-01-01")
    assert sorted(f["kind"] for f in found) == ["dangling_queue", "missing_file"]


def test_kind_option_and_bad_input(made, capsys):
    remove_file(made)
    clear_newest_flags(made)
    code, found = findings(made, capsys, "-k", "newest_flag")
    assert [f["kind"] for f in found] == ["newest_flag"]
    code, fixed = findings(made, capsys, "-k", "newest_flag", "--fix")
    assert code == 0
    assert [(f["kind"], f["fixed"]) for f in fixed] == [("newest_flag", True)]
    assert "newest_version true on code_id" in fixed[0]["note"]
    assert findings(made, capsys)[1][0]["kind"] == "missing_file"  # left alone by -k
    capsys.readouterr()
    assert check.main(["-m", made.db_url, "-s", "2025-02-01", "-e", "2025-01-01"]) == 2
    assert "is after end" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        check.main(["-m", made.db_url, "-k", "no_such_kind"])
    assert exc.value.code == 2


def test_fix_refuses_while_a_live_run_holds_the_lock(made, capsys):
    remove_file(made)
    execute(made, "INSERT INTO logging (currently_processing, pid, processing_start_time, "
                  f"mission_id, \"user\", hostname) VALUES (true, {os.getpid()}, "
                  f"CURRENT_TIMESTAMP, 1, 'me', '{socket.gethostname()[:100]}')")
    code = check.main(["-m", made.db_url, "--fix"])
    assert code == 3
    assert made.query("SELECT exists_on_disk FROM file WHERE filename = :f",
                      f=L1_FIRST)[0][0] in (True, 1)


# -- the views -------------------------------------------------------------------

def test_db_only_files(made, capsys):
    remove_file(made)
    change_contents(made)  # not this view's business
    code, out = run(db_only_files, made, capsys)
    assert code == 1
    assert out.splitlines()[0].startswith(f"2025-01-01 hello_counter_L1: missing_file: {L1_FIRST}")
    assert len(out.splitlines()) == 2
    code, out = run(db_only_files, made, capsys, "-v", "-s", "2025-01-01", "-e", "2025-01-01")
    checked = [line for line in out.splitlines() if line.startswith("checked ")]
    assert len(checked) == 4  # L0 a, L0 b, L1, L2 of that day
    code, out = run(db_only_files, made, capsys, "-f")
    assert code == 0 and out.startswith("fixed missing_file")
    assert run(db_only_files, made, capsys)[0] == 0
    assert run(check, made, capsys)[0] == 1  # the checksum is still wrong


def test_db_only_files_newest_only(made, capsys):
    stale_parent(made)  # L0 a 2025-01-02 now has v1.0.0 and v1.1.0
    path_of(made, "L0", "a", "2025", L0_SECOND).unlink()  # the older one
    assert run(db_only_files, made, capsys)[0] == 1
    code, out = run(db_only_files, made, capsys, "-n")
    assert code == 0, out


def test_scrubber_reports_database_findings_only(made, capsys):
    remove_file(made)
    assert run(scrubber, made, capsys)[0] == 0
    clear_newest_flags(made)
    dangling_entry(made)
    code, out = run(scrubber, made, capsys)
    assert code == 1
    assert [line.split(":")[0] for line in out.splitlines()[:-1]] == [
        "newest_flag", "dangling_queue"]
    assert made.query("SELECT count(*) FROM code WHERE newest_version")[0][0] == 2


def test_possible_problem_dates(made, capsys):
    stale_parent(made)
    clear_newest_flags(made)  # not a date problem
    code, out = run(possible_problem_dates, made, capsys)
    assert code == 1
    lines = out.splitlines()
    assert [line.split(":")[0] for line in lines[:-1]] == [
        "2025-01-01 hello_counter_L1", "2025-01-02 hello_counter_L1",
        "2025-01-03 hello_counter_L1"]
    assert all(": stale_provenance: " in line for line in lines[:-1])
    code, out = run(possible_problem_dates, made, capsys, "--fix", "-d")
    assert code == 1 and out.startswith("would fix stale_provenance")
    assert made.count("processqueue") == 0
    code, out = run(possible_problem_dates, made, capsys, "--fix")
    assert code == 0, out
    assert made.count("processqueue") == 1
    assert run(possible_problem_dates, made, capsys)[0] == 0


def test_through_the_real_console_script(made):
    add_stray(made)
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "check.py"), "-m",
                             made.db_url, "--json"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 1, result.stderr
    assert [f["kind"] for f in json.loads(result.stdout)] == ["stray_file"]
    result = subprocess.run([sys.executable, str(REPO / "scripts" / "check.py"), "-m",
                             made.db_url, "--fix"], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert (made.errordir() / "hello_L1_20250109_v1.0.0.txt").exists()


def test_a_stray_whose_name_is_not_utf8(made):
    """Found, shown with the byte as \\xff (a UTF-8 terminal takes no lone
    surrogate: the real console script, its output strict UTF-8), and moved."""
    name = os.fsdecode(b"hello_L1_20250109_\xff.txt")
    path_of(made, *L1_DIR, name).write_text("latin\n")
    env = dict(os.environ, PYTHONIOENCODING="utf-8:strict")
    for args, code in (([], 1), (["--fix"], 0)):
        result = subprocess.run([sys.executable, str(REPO / "scripts" / "check.py"), "-m",
                                 made.db_url, *args], capture_output=True, text=True,
                                timeout=120, env=env)
        assert result.returncode == code, result.stderr
        assert "hello_L1_20250109_\\xff.txt is in the directory of hello_counter_L1" \
            in result.stdout
    assert (made.errordir() / name).read_text() == "latin\n"


def test_the_views_through_their_real_console_scripts(made):
    remove_file(made)
    clear_newest_flags(made)
    stale_parent(made)

    def script(name: str, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, str(REPO / "scripts" / f"{name}.py"), "-m",
                               made.db_url, *args], capture_output=True, text=True,
                              timeout=120)

    result = script("dbOnlyFiles", "-n")
    assert result.returncode == 1, result.stderr
    assert [line.split(": ")[1] for line in result.stdout.splitlines()[:-1]] == [
        "missing_file"]
    result = script("scrubber")
    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()[:-1]
    assert lines[0].split(":")[0] == "newest_flag"
    assert [line.split(": ")[1] for line in lines[1:]] == ["stale_provenance"] * 3
    result = script("possibleProblemDates", "--fix")
    assert result.returncode == 0, result.stderr
    assert made.count("processqueue") == 1
    result = script("dbOnlyFiles", "-f")
    assert result.returncode == 0, result.stderr
    result = script("check", "--fix")
    assert result.returncode == 0, result.stderr
    assert script("check").returncode == 0


def test_symlinked_product_directories_are_followed(made, capsys, tmp_path):
    """An archive split across disks: L1/2025 is a symlink to another directory."""
    elsewhere = tmp_path / "other-disk" / "L1-2025"
    elsewhere.parent.mkdir()
    path_of(made, *L1_DIR).rename(elsewhere)
    path_of(made, *L1_DIR).symlink_to(elsewhere)
    assert run(check, made, capsys)[0] == 0
    (elsewhere / "hello_L1_20250109_v1.0.0.txt").write_text("nobody knows me\n")
    code, found = findings(made, capsys)
    assert [(f["kind"], f["date"]) for f in found] == [("stray_file", "2025-01-09")]


def test_a_known_file_in_the_wrong_directory_is_not_a_stray(made, capsys):
    wrong = path_of(made, "L1", "2024")
    wrong.mkdir()
    path_of(made, *L1_DIR, L1_FIRST).rename(wrong / L1_FIRST)
    code, found = findings(made, capsys)
    assert [f["kind"] for f in found] == ["missing_file"]
    assert found[0]["objects"]["found_at"] == str(wrong / L1_FIRST)
    assert f"(a file of that name is at {wrong / L1_FIRST})" in found[0]["subject"]
    assert run(check, made, capsys, "--fix")[0] == 0
    assert (wrong / L1_FIRST).exists()
