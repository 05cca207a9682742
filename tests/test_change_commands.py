"""Changing the mission: addProductProcessLink, changeProductDir, updateSHAsum,
updateUnixTime, replaceArgsWithRootdir, deleteAllDBFiles on the example mission,
both backends, through main([...]) and once each through the installed command."""
from __future__ import annotations

import os
import pty
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from dbprocessing.cli import (
    add_product_process_link,
    change_product_dir,
    delete_all_db_files,
    release,
    replace_args_with_rootdir,
    reprocess_by_product,
    update_sha_sum,
    update_unix_time,
)

from .missions import MissionUnderTest, every_row, process, sha1

L0A, L0B, L1, L2 = ("hello_counter_L0_a", "hello_counter_L0_b", "hello_counter_L1",
                    "hello_counter_L2")
L1_NAMES = [f"hello_L1_2025010{d}_v1.0.0.txt" for d in range(1, 6)]


def disk(m: MissionUnderTest) -> dict[str, str]:
    """Every file under the mission root (but logs): relative path -> SHA-1."""
    return {str(p.relative_to(m.root)): sha1(p) for p in m.root.rglob("*") if p.is_file()}


def run(main, argv: list[str], capsys) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def refused(m: MissionUnderTest, main, argv: list[str], capsys, code: int,
            *words: str) -> None:
    """*argv* exits *code* with one line naming *words*, and nothing changes."""
    rows, files = every_row(m), disk(m)
    got, out, err = run(main, argv, capsys)
    assert got == code, (out, err)
    for word in words:
        assert word in err
    assert every_row(m) == rows
    assert disk(m) == files


def relative_path(m: MissionUnderTest, product: str) -> str:
    return m.query("SELECT relative_path FROM product WHERE product_name = :p", p=product)[0][0]


# -- addProductProcessLink ----------------------------------------------------

def test_add_link_queues_the_new_inputs_newest_files(made, capsys):
    code, out, _ = run(add_product_process_link.main,
                       ["-n", made.db_url, "-c", "hello_L1toL2", "-d", L0B, "-o", "-y", "1",
                        "-t", "2"], capsys)
    assert code == 0
    assert f"added {L0B} as optional input of hello_L1toL2" in out
    assert "queued 5 file(s)" in out
    link = made.query(
        "SELECT l.optional, l.yesterday, l.tomorrow FROM productprocesslink l "
        "JOIN process p ON p.process_id = l.process_id JOIN product d "
        "ON d.product_id = l.input_product_id WHERE p.process_name = 'hello_L1toL2' "
        "AND d.product_name = :d", d=L0B)
    assert [tuple(r) for r in link] == [(True, 1, 2)]
    queued = made.query("SELECT f.filename FROM processqueue q JOIN file f "
                        "ON f.file_id = q.file_id ORDER BY f.filename")
    assert [r[0] for r in queued] == [f"hello_b_L0_2025010{d}_v1.0.0.txt" for d in range(1, 6)]
    # The next ProcessQueue -p reconsiders L2: a new input is a quality bump.
    capsys.readouterr()
    assert process(made, "-d") == 0
    planned = capsys.readouterr().out
    assert "hello_L2_20250101_v1.1.0.txt" in planned


def test_add_link_newest_version_only(made, capsys):
    assert reprocess_by_product.main(["-m", made.db_url, L0A, "--force", "2"]) == 0
    assert process(made, "-q") == 0
    code, out, _ = run(add_product_process_link.main,
                       ["-n", made.db_url, "-c", "hello_report", "-d", L1], capsys)
    assert code == 0, out
    queued = made.query("SELECT f.filename FROM processqueue q JOIN file f "
                        "ON f.file_id = q.file_id ORDER BY f.filename")
    assert [r[0] for r in queued] == [f"hello_L1_2025010{d}_v1.0.1.txt" for d in range(1, 6)]


@pytest.mark.parametrize("argv, words", [
    (["-c", "hello_L1toL2", "-d", L1], ["already an input", L1]),
    (["-c", "hello_L1toL2", "-d", L2], ["own output", L2]),
    (["-c", "nosuch", "-d", L1], ["no process 'nosuch'"]),
    (["-c", "hello_L1toL2", "-d", "nosuch"], ["no product 'nosuch'"]),
    (["-c", "hello_L1toL2", "-d", L0B, "-y", "-1"], ["negative"]),
])
def test_add_link_refusals(made, capsys, argv, words):
    refused(made, add_product_process_link.main, ["-n", made.db_url, *argv], capsys, 2,
            *words)


# -- changeProductDir ---------------------------------------------------------

def test_change_product_dir_moves_every_file(made, capsys):
    before = {n: sha1(made.root / "L1" / "2025" / n) for n in L1_NAMES}
    code, out, _ = run(change_product_dir.main,
                       ["-m", made.db_url, L1, "level1/{Y}/{m}"], capsys)
    assert code == 0, out
    assert "moved 5 file(s) of hello_counter_L1 from 'L1/{Y}' to 'level1/{Y}/{m}'" in out
    assert relative_path(made, L1) == "level1/{Y}/{m}"
    assert {n: sha1(made.root / "level1" / "2025" / "01" / n) for n in L1_NAMES} == before
    assert not (made.root / "L1").exists()      # emptied directories are removed
    assert made.count("ingest_pending") == 0
    # The files are found where the row says: remaking L2 reads them there.
    assert reprocess_by_product.main(["-m", made.db_url, L1, "--force", "2"]) == 0
    assert process(made, "-q") == 0
    assert (made.root / "L2" / "2025" / "hello_L2_20250103_v1.0.1.txt").is_file()
    # A rerun has nothing to do.
    code, out, _ = run(change_product_dir.main,
                       ["-m", made.db_url, L1, "level1/{Y}/{m}"], capsys)
    assert code == 0 and "already has directory" in out
    logged = made.query("SELECT command, arguments FROM invocation "
                        "WHERE command = 'changeProductDir'")
    assert len(logged) == 2


def test_change_product_dir_refusals(made, capsys):
    argv = ["-m", made.db_url]
    refused(made, change_product_dir.main, [*argv, "nosuch", "x/{Y}"], capsys, 2,
            "no product 'nosuch'")
    refused(made, change_product_dir.main, [*argv, L1, "../outside/{Y}"], capsys, 2,
            "leaves the mission root")
    refused(made, change_product_dir.main, [*argv, L1, "x/{NOFIELD}"], capsys, 2,
            "{NOFIELD}")
    # A different file already at one new path: nothing moves.
    (made.root / "new" / "2025").mkdir(parents=True)
    (made.root / "new" / "2025" / L1_NAMES[2]).write_text("someone else's\n")
    refused(made, change_product_dir.main, [*argv, L1, "new/{Y}"], capsys, 1,
            "hold other files", L1_NAMES[2])
    shutil.rmtree(made.root / "new")
    # A file the database has that is gone: nothing moves.
    gone = made.root / "L1" / "2025" / L1_NAMES[0]
    kept = gone.read_bytes()
    gone.unlink()
    refused(made, change_product_dir.main, [*argv, L1, "new/{Y}"], capsys, 1,
            "not where the database says", L1_NAMES[0])
    gone.write_bytes(kept)


# -- updateSHAsum -------------------------------------------------------------

def test_update_shasum(made, capsys):
    name = L1_NAMES[1]
    path = made.root / "L1" / "2025" / name
    old = made.query("SELECT shasum FROM file WHERE filename = :n", n=name)[0][0]
    path.write_text("edited by hand\n")
    code, out, _ = run(update_sha_sum.main, ["-m", made.db_url, str(path)], capsys)
    assert code == 0
    assert out == f"{name}: {old} -> {sha1(path)}\n"
    assert made.query("SELECT shasum FROM file WHERE filename = :n", n=name)[0][0] == sha1(path)
    code, out, _ = run(update_sha_sum.main, ["-m", made.db_url, name], capsys)
    assert code == 0 and "(unchanged)" in out


def test_update_shasum_refusals(made, capsys):
    argv = ["-m", made.db_url]
    refused(made, update_sha_sum.main, [*argv, L1_NAMES[0], "nosuch.txt"], capsys, 2,
            "no file 'nosuch.txt'")
    (made.root / "L1" / "2025" / L1_NAMES[0]).write_text("changed\n")
    (made.root / "L1" / "2025" / L1_NAMES[3]).unlink()
    refused(made, update_sha_sum.main, [*argv, L1_NAMES[0], L1_NAMES[3]], capsys, 1,
            "not on disk", L1_NAMES[3])


# -- updateUnixTime -----------------------------------------------------------

def test_update_unixtime(made, capsys):
    good = made.query("SELECT file_id, unix_start, unix_stop FROM unixtime ORDER BY file_id")
    files = len(good)
    ids = [r[0] for r in good]
    engine = made.engine()
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE unixtime SET unix_start = 0 WHERE file_id = :i"),
                     {"i": ids[0]})
        conn.execute(sa.text("UPDATE unixtime SET unix_stop = 1 WHERE file_id = :i"),
                     {"i": ids[1]})
        conn.execute(sa.text("DELETE FROM unixtime WHERE file_id = :i"), {"i": ids[2]})
    engine.dispose()
    code, out, _ = run(update_unix_time.main, ["-m", made.db_url], capsys)
    assert code == 0
    assert out == f"checked the unixtime rows of {files} file(s): corrected 2, added 1\n"
    assert made.query("SELECT file_id, unix_start, unix_stop FROM unixtime "
                      "ORDER BY file_id") == good
    day = made.query("SELECT u.unix_start FROM unixtime u JOIN file f ON f.file_id = u.file_id"
                     " WHERE f.filename = 'hello_a_L0_20250101_v1.0.0.txt'")[0][0]
    assert day == 1735689600  # 2025-01-01T00:00:00Z
    code, out, _ = run(update_unix_time.main, ["-m", made.db_url], capsys)
    assert "corrected 0, added 0" in out


# -- replaceArgsWithRootdir ---------------------------------------------------

def test_replace_args_with_rootdir(made, capsys):
    root = made.query("SELECT rootdir FROM mission")[0][0]
    engine = made.engine()
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE code SET arguments = :a WHERE filename = 'hello_L1toL2.py'"),
                     {"a": f"--cal {root}/cal --out={root} {root}2/x /old{root}"})
        conn.execute(sa.text("UPDATE process SET extra_params = :a "
                             "WHERE process_name = 'hello_L0toL1'"), {"a": f"{root}/a|-v"})
    engine.dispose()
    code, out, _ = run(replace_args_with_rootdir.main, [made.db_url], capsys)
    assert code == 0
    assert (made.query("SELECT arguments FROM code WHERE filename = 'hello_L1toL2.py'")[0][0]
            == f"--cal {{ROOTDIR}}/cal --out={{ROOTDIR}} {root}2/x /old{root}")
    assert (made.query("SELECT extra_params FROM process WHERE process_name = 'hello_L0toL1'")
            [0][0] == "{ROOTDIR}/a|-v")
    assert f"code hello_L1toL2.py 1.0.0 arguments: '--cal {root}/cal" in out
    assert "process hello_L0toL1 extra_params:" in out
    assert f"replaced the mission root {root} with {{ROOTDIR}} in 2 argument(s)" in out
    rows = every_row(made)
    code, out, _ = run(replace_args_with_rootdir.main, [made.db_url], capsys)
    assert code == 0 and "nothing changed" in out
    assert every_row(made) == rows


# -- deleteAllDBFiles ---------------------------------------------------------

def test_delete_all_dry_run_then_for_real(made, capsys):
    files = disk(made)
    rows = every_row(made)
    total = made.count("file")
    code, dry, _ = run(delete_all_db_files.main, ["-m", made.db_url, "-d"], capsys)
    assert code == 0
    assert every_row(made) == rows
    listed = [line for line in dry.splitlines() if line.startswith("would remove hello_")]
    assert len(listed) == total
    assert "  unixtime: would remove 20 row(s)" in dry
    assert f"would remove {total} file record(s)" in dry
    code, out, _ = run(delete_all_db_files.main, ["-m", made.db_url, "-y"], capsys)
    assert code == 0
    assert out == dry.replace("would remove", "removed").replace(
        "would clear", "cleared")
    for table in ("file", "unixtime", "filefilelink", "filecodelink", "processqueue"):
        assert made.count(table) == 0
    assert made.count("job_event") > 0   # history stays, without file ids
    assert made.query("SELECT count(*) FROM job_event WHERE file_id IS NOT NULL")[0][0] == 0
    assert disk(made) == files           # files on disk stay
    code, out, _ = run(delete_all_db_files.main, ["-m", made.db_url], capsys)
    assert code == 0 and "nothing to remove" in out


def test_delete_all_refusals(made, capsys):
    # stdin is not a terminal under pytest: without -y it refuses.
    refused(made, delete_all_db_files.main, ["-m", made.db_url], capsys, 2,
            "confirm on a terminal or pass -y")
    assert release.main(["-m", made.db_url, "tag", "1", "-p", L2]) == 0
    refused(made, delete_all_db_files.main, ["-m", made.db_url, "-y"], capsys, 1,
            "released", "hello_L2_20250101_v1.0.0.txt")


# -- the installed console scripts -------------------------------------------

def command(name: str, *argv: str, stdin=None) -> subprocess.CompletedProcess:
    exe = shutil.which(name) or str(Path(sys.executable).parent / name)
    return subprocess.run([exe, *argv], capture_output=True, text=True, timeout=120,
                          stdin=stdin, env=dict(os.environ))


def test_console_scripts(made):
    db = made.db_url
    result = command("addProductProcessLink", "-n", db, "-c", "hello_L1toL2", "-d", L0B, "-o")
    assert result.returncode == 0 and "queued 5 file(s)" in result.stdout, result.stderr
    result = command("changeProductDir", "-m", db, L2, "L2/by_month/{Y}{m}")
    assert result.returncode == 0, result.stderr
    assert (made.root / "L2" / "by_month" / "202501" / "hello_L2_20250104_v1.0.0.txt").is_file()
    result = command("updateSHAsum", "-m", db, "hello_L2_20250104_v1.0.0.txt")
    assert result.returncode == 0 and "(unchanged)" in result.stdout, result.stderr
    result = command("updateUnixTime", "-m", db)
    assert result.returncode == 0 and "corrected 0, added 0" in result.stdout, result.stderr
    result = command("replaceArgsWithRootdir", db)
    assert result.returncode == 0 and "nothing changed" in result.stdout, result.stderr
    result = command("deleteAllDBFiles", "-m", db, "-d")
    assert result.returncode == 0 and "would remove" in result.stdout
    assert made.count("file") == 20
    # On a terminal it asks; "n" keeps everything, "y" removes.
    for answer, code, left in (("n", 2, 20), ("y", 0, 0)):
        leader, follower = pty.openpty()
        os.write(leader, f"{answer}\n".encode())
        result = command("deleteAllDBFiles", "-m", db, stdin=follower)
        os.close(leader)
        os.close(follower)
        assert result.returncode == code, (result.stdout, result.stderr)
        assert made.count("file") == left
    assert (made.root / "L2" / "by_month" / "202501" / "hello_L2_20250104_v1.0.0.txt").is_file()
