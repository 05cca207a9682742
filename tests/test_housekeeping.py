"""fast_data and linkUningested on the example mission, both backends.

The ``superseded`` world: the example mission processed, release 1 tagged
(the level-2 file of 2025-01-01), level 0 channel A reprocessed with a
forced revision bump (so every L1 and L2 file has a v1.0.1 over its
v1.0.0), then a new channel-B file for 2025-01-02 ingested and not
processed: the newest L1 of that day was made from an L0 that is no longer
newest.  With ``--cutoff 2025-01-04``:

* taken: L1 and L2 v1.0.0 of 01-02 and 01-03;
* never: the released L2 of 01-01; the newest files;
* kept as parents: L1 v1.0.0 of 01-01 (the released L2 was made from it) and
  L0 B v1.0.0 of 01-02 (the newest L1 of 01-02 was made from it), unless
  ``--include-parents``.
"""
from __future__ import annotations

import datetime
import os
import shutil
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from dbprocessing.cli import (
    fast_data,
    link_uningested,
    process_queue,
    release,
    reprocess_by_product,
)
from dbprocessing.purge import FILE_REFERENCES

from .missions import MissionUnderTest, every_row, load_and_ingest, process

L0A, L0B, L1, L2 = ("hello_counter_L0_a", "hello_counter_L0_b", "hello_counter_L1",
                    "hello_counter_L2")
TAKEN = ["L1/2025/hello_L1_20250102_v1.0.0.txt", "L1/2025/hello_L1_20250103_v1.0.0.txt",
         "L2/2025/hello_L2_20250102_v1.0.0.txt", "L2/2025/hello_L2_20250103_v1.0.0.txt"]
PARENTS = ["L0/b/2025/hello_b_L0_20250102_v1.0.0.txt", "L1/2025/hello_L1_20250101_v1.0.0.txt"]
RELEASED = "L2/2025/hello_L2_20250101_v1.0.0.txt"


def installed(command: str) -> str:
    return shutil.which(command) or str(Path(sys.executable).parent / command)


@pytest.fixture
def superseded(hello) -> MissionUnderTest:
    load_and_ingest(hello)
    assert process(hello, "-q") == 0
    assert release.main(["-m", hello.db_url, "tag", "1", "-p", L2, "-s", "20250101",
                         "-e", "20250101"]) == 0
    assert reprocess_by_product.main(["-m", hello.db_url, L0A, "--force", "2"]) == 0
    assert process(hello, "-q") == 0
    hello.add_incoming("hello_b_L0_20250102_v1.1.0.txt", "7\n")
    assert process_queue.main(["-i", "-m", hello.db_url, "-q"]) == 0
    return hello


def disk(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*")
            if p.is_file() and not p.is_symlink() and "sqlite" not in p.name}


def filenames(m: MissionUnderTest) -> dict[str, bool]:
    return {r.filename: bool(r.exists_on_disk)
            for r in m.query("SELECT filename, exists_on_disk FROM file")}


def run_fast_data(m: MissionUnderTest, capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = fast_data.main(["-m", m.db_url, "--cutoff", "2025-01-04", *argv])
    out, err = capsys.readouterr()
    return code, out, err


# -- fast_data ----------------------------------------------------------------------

def test_dry_run_prints_every_action_and_changes_nothing(superseded, capsys, tmp_path):
    m, archive = superseded, tmp_path / "archive"
    rows, files = every_row(m), disk(m.root)
    code, out, err = run_fast_data(m, capsys, "-a", str(archive), "--reap-records", "-d")
    assert code == 0, err
    for path in TAKEN:
        assert f"would move {m.root / path} -> {archive / path} " in out
        assert f"would remove the record of {Path(path).name} " in out
    assert not any(p in out for p in PARENTS + [RELEASED])
    size = sum(len(files[p]) for p in TAKEN)
    assert out.splitlines()[-1] == (
        f"4 file(s) older than 2025-01-04 are neither newest nor released; 2 more kept "
        f"because a newest or released file was made from them (--include-parents takes "
        f"them too); would archive 4 file(s), {size} bytes, to {archive}; would remove 4 "
        f"record(s)")
    assert every_row(m) == rows and disk(m.root) == files and not archive.exists()


def test_archive_and_reap_records(superseded, capsys, tmp_path):
    m, archive = superseded, tmp_path / "archive"
    files, before = disk(m.root), filenames(m)
    gone = [i for (i,) in m.query("SELECT file_id FROM file WHERE filename IN ("
                                  + ",".join(f"'{Path(p).name}'" for p in TAKEN) + ")")]
    assert len(gone) == 4
    code, out, err = run_fast_data(m, capsys, "-a", str(archive), "--reap-records")
    assert code == 0, err
    assert out.splitlines() == [out.splitlines()[-1]]  # without --verbose: the summary
    assert f"archived 4 file(s), {sum(len(files[p]) for p in TAKEN)} bytes" in out
    for path in TAKEN:
        assert not (m.root / path).exists()
        assert (archive / path).read_bytes() == files[path]
    assert disk(m.root) == {p: c for p, c in files.items() if p not in TAKEN}
    assert set(filenames(m)) == set(before) - {Path(p).name for p in TAKEN}
    for model, column, action in FILE_REFERENCES:  # purge's list: nothing refers to them
        if action == "delete":
            assert m.query(f"SELECT count(*) FROM {model.__tablename__} WHERE {column} "
                           f"IN ({','.join(map(str, gone))})")[0][0] == 0
    assert m.query("SELECT count(*) FROM release")[0][0] == 1
    (lock,) = m.query("SELECT comment FROM logging WHERE comment LIKE '%fast_data%'")
    assert "archived 4 file(s)" in lock.comment
    # A rerun finds nothing more to do.
    code, out, _ = run_fast_data(m, capsys, "-a", str(archive), "--reap-records")
    assert code == 0 and out.startswith("0 file(s)")


def test_reap_files_keeps_records_marked_missing(superseded, capsys):
    m = superseded
    files = disk(m.root)
    code, out, err = run_fast_data(m, capsys, "--reap-files", "--verbose")
    assert code == 0, err
    for path in TAKEN:
        assert f"deleted {m.root / path} ({len(files[path])} bytes)" in out
        assert not (m.root / path).exists()
    assert f"deleted 4 file(s), freed {sum(len(files[p]) for p in TAKEN)} bytes" in out
    state = filenames(m)
    assert all(state[Path(p).name] is False for p in TAKEN)
    assert all(state[Path(p).name] for p in PARENTS + [RELEASED])
    assert all((m.root / p).is_file() for p in PARENTS + [RELEASED])


def test_include_parents_takes_them_but_never_a_released_file(superseded, capsys):
    m = superseded
    code, out, err = run_fast_data(m, capsys, "--reap-records", "--include-parents")
    assert code == 0, err
    assert out.startswith("6 file(s)") and "removed 6 record(s)" in out
    left = filenames(m)
    for path in TAKEN + PARENTS:
        assert Path(path).name not in left
        assert (m.root / path).is_file()  # records only: the files stay
    assert Path(RELEASED).name in left
    assert "hello_b_L0_20250102_v1.1.0.txt" in left and "hello_L1_20250102_v1.0.1.txt" in left


def test_product_filter(superseded, capsys):
    code, out, err = run_fast_data(superseded, capsys, "--reap-records", "-p", L2, "-d")
    assert code == 0, err
    assert "hello_L2_20250102_v1.0.0.txt" in out and "hello_L1_" not in out


@pytest.mark.parametrize("argv, message", [
    (["-p", "nosuch", "--reap-records"], "no product 'nosuch'"),
    (["--reap-records", "-a", "{file}/archive"], "is not a directory"),
    (["-a", "{root}"], "is the mission root"),
    ([], "nothing to do"),
], ids=["unknown product", "archive under a file", "archive is the root", "no action"])
def test_bad_input_changes_nothing(superseded, capsys, argv, message):
    m = superseded
    argv = [a.format(file=m.root / RELEASED, root=m.root) for a in argv]
    rows, files = every_row(m), disk(m.root)
    code, out, err = run_fast_data(m, capsys, *argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err
    assert every_row(m) == rows and disk(m.root) == files


@pytest.mark.parametrize("argv", [["--cutoff", "2025-13-45"], ["--cutoff", "soon"],
                                  ["--cutoff", "20250104", "-a", "x", "--reap-files"]])
def test_bad_cutoff_or_conflicting_flags_exit_2(superseded, capsys, argv):
    rows = every_row(superseded)
    with pytest.raises(SystemExit) as exit_info:
        fast_data.main(["-m", superseded.db_url, *argv])
    assert exit_info.value.code == 2
    assert "error" in capsys.readouterr().err
    assert every_row(superseded) == rows


def test_a_file_that_cannot_be_archived_keeps_its_record(superseded, capsys, tmp_path):
    m, archive = superseded, tmp_path / "archive"
    clash = archive / TAKEN[0]
    clash.parent.mkdir(parents=True)
    clash.write_text("something else\n")
    files = disk(m.root)
    code, out, err = run_fast_data(m, capsys, "-a", str(archive), "--reap-records")
    assert code == 1
    assert f"{Path(TAKEN[0]).name}" in err and "exists with other contents" in err
    assert "archived 3 file(s)" in out and "removed 3 record(s)" in out and "1 failed" in out
    assert (m.root / TAKEN[0]).read_bytes() == files[TAKEN[0]]
    assert clash.read_text() == "something else\n"
    left = filenames(m)
    assert Path(TAKEN[0]).name in left
    assert not any(Path(p).name in left for p in TAKEN[1:])


def test_refused_while_a_live_run_holds_the_lock(superseded, capsys):
    m = superseded
    engine = m.engine()
    with engine.begin() as conn:
        conn.execute(sa.text(
            'INSERT INTO logging (currently_processing, pid, processing_start_time, '
            'mission_id, "user", hostname) VALUES (true, :pid, :start, 1, \'someone\', :host)'),
            {"pid": os.getpid(), "host": socket.gethostname(),
             "start": datetime.datetime.utcnow()})
    engine.dispose()
    rows, files = every_row(m), disk(m.root)
    code, out, err = run_fast_data(m, capsys, "--reap-files", "--reap-records")
    assert code == 3 and len(err.strip().splitlines()) == 1
    assert every_row(m) == rows and disk(m.root) == files


def test_killed_mid_run_loses_nothing_and_a_rerun_completes(superseded, tmp_path):
    """The installed console script, killed after its second file was archived."""
    m, archive = superseded, tmp_path / "archive"
    files = disk(m.root)
    argv = [installed("fast_data"), "-m", m.db_url, "--cutoff", "2025-01-04",
            "-a", str(archive), "--reap-records"]
    env = {**os.environ, "DBPROCESSING_KILL_AT": "reaped_file:2"}
    killed = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    names = filenames(m)
    for path in TAKEN:  # each file in exactly one place, its record still there
        assert (m.root / path).exists() != (archive / path).exists()
        assert Path(path).name in names
    assert sum((archive / p).exists() for p in TAKEN) == 2

    done = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "archived 4 file(s)" in done.stdout
    for path in TAKEN:
        assert (archive / path).read_bytes() == files[path]
        assert Path(path).name not in filenames(m)


# -- linkUningested -----------------------------------------------------------------

NEW = "L0/a/2025/hello_a_L0_20250106_v1.0.0.txt"


@pytest.fixture
def strays(hello) -> MissionUnderTest:
    """The example's inputs ingested, and files on disk no row knows."""
    load_and_ingest(hello)
    root = hello.root
    for path, text in [(NEW, "6\n"), ("L0/a/2025/notes.txt", "not data\n"),
                       ("L0/a/2024/hello_a_L0_20250107_v1.0.0.txt", "wrong year dir\n"),
                       ("L0/a/2025/.hello_a_L0_20250108_v1.0.0.txt.partial", "hidden\n"),
                       ("L2/2025/hello_L2_20250101_v1.0.0.txt", "an L2 nobody made\n")]:
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text)
    return hello


def run_link(m: MissionUnderTest, capsys, *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = link_uningested.main(["-m", m.db_url, *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_links_what_matches_and_ingest_takes_it(strays, capsys):
    m = strays
    code, out, err = run_link(m, capsys)
    assert code == 0, err
    l2 = m.root / "L2/2025/hello_L2_20250101_v1.0.0.txt"
    assert sorted(p.name for p in m.incoming.iterdir()) == sorted([Path(NEW).name, l2.name])
    assert (m.incoming / Path(NEW).name).readlink() == m.root / NEW
    assert f"linked {m.incoming / Path(NEW).name} -> {m.root / NEW}" in out
    assert out.splitlines()[-1] == (f"linked 2 file(s) not in the database into "
                                    f"{m.incoming}; run ProcessQueue -i to ingest them")
    assert process_queue.main(["-i", "-m", m.db_url, "-q"]) == 0
    assert {Path(NEW).name, l2.name} <= set(filenames(m))
    assert (m.root / NEW).read_text() == "6\n" and list(m.incoming.iterdir()) == []
    code, out, _ = run_link(m, capsys)
    assert code == 0 and out.startswith("linked 0 file(s)")


def test_product_filter_and_dry_run(strays, capsys):
    m = strays
    code, out, _ = run_link(m, capsys, "-p", L2, "-d")
    assert code == 0 and "would link 1 file(s)" in out and "hello_L2_20250101" in out
    assert not m.incoming.exists() or list(m.incoming.iterdir()) == []
    code, out, _ = run_link(m, capsys, "-p", L0B)
    assert code == 0 and out.startswith("linked 0 file(s)")


def test_never_replaces_an_incoming_entry(strays, capsys):
    m = strays
    m.add_incoming(Path(NEW).name, "someone else's upload\n")
    code, out, _ = run_link(m, capsys, "-p", L0A)
    assert code == 0
    assert f"skipped {m.root / NEW}: {m.incoming / Path(NEW).name} already exists" in out
    assert (m.incoming / Path(NEW).name).read_text() == "someone else's upload\n"


def test_unknown_product_links_nothing(strays, capsys):
    m = strays
    rows = every_row(m)
    code, out, err = run_link(m, capsys, "-p", L0A, "-p", "nosuch")
    assert code == 2 and out == "" and "no product 'nosuch'" in err
    assert not m.incoming.exists() or list(m.incoming.iterdir()) == []
    assert every_row(m) == rows


def test_installed_console_script(strays):
    m = strays
    result = subprocess.run([installed("linkUningested"), "-m", m.db_url, "-p", L0A],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "linked 1 file(s)" in result.stdout
    assert (m.incoming / Path(NEW).name).is_symlink()


def test_incoming_that_is_not_a_directory_exits_2(strays, capsys):
    m = strays
    shutil.rmtree(m.incoming)
    m.incoming.write_text("not a directory\n")
    code, out, err = run_link(m, capsys)
    assert code == 2 and out == ""
    assert "cannot make links in the incoming directory" in err
    assert m.incoming.read_text() == "not a directory\n"
