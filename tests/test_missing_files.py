"""missingFilesByProduct and missingFiles on the example mission, both backends: the
dates the planner could make and have no file, their parents, and -p queueing them."""
from __future__ import annotations

import pytest

from dbprocessing.cli import missing_files, missing_files_by_product, purge_file_from_db

from .missions import BROKEN, MissionUnderTest, every_row, load_and_ingest, process, run_main

L0A, L0B, L1, L2 = ("hello_counter_L0_a", "hello_counter_L0_b", "hello_counter_L1",
                    "hello_counter_L2")
L1_3, L2_3 = "hello_L1_20250103_v1.0.0.txt", "hello_L2_20250103_v1.0.0.txt"


def listed(out: str) -> list[tuple[str, str, str, str]]:
    """(product, date, state, output name) of each missing date."""
    return [tuple(line.split()) for line in out.splitlines()
            if line.startswith("\t") and not line.startswith("\t\t")]


def parents(out: str) -> list[str]:
    return [line.split()[1] for line in out.splitlines() if line.startswith("\t\tparent ")]


def queued(m: MissionUnderTest) -> set[str]:
    return {r[0] for r in m.query("SELECT f.filename FROM processqueue q JOIN file f "
                                  "ON f.file_id = q.file_id")}


@pytest.fixture
def holed(hello):
    """The example mission made, then day 3's L1 file (and its L2 child) purged from
    the database and removed from disk: a hole the planner can fill."""
    load_and_ingest(hello)
    assert process(hello, "-q") == 0
    assert purge_file_from_db.main(["-m", hello.db_url, "-r", L1_3]) == 0
    (hello.root / "L1" / "2025" / L1_3).unlink()
    (hello.root / "L2" / "2025" / L2_3).unlink()
    return hello


def test_outputs_not_yet_made_are_missing_and_queued(hello, capsys):
    load_and_ingest(hello)
    code, out, _ = run_main(capsys, missing_files.main, "-m", hello.db_url)
    assert code == 1
    # L1 can be made every day (its inputs are queued); L2 cannot yet: blocked, not missing.
    assert listed(out) == [(L1, f"2025-01-0{d}", "queued", f"hello_L1_2025010{d}_v1.0.0.txt")
                           for d in range(1, 6)]
    assert process(hello, "-q") == 0
    code, out, _ = run_main(capsys, missing_files.main, "-m", hello.db_url)
    assert code == 0 and out.strip() == f"no missing files ({L1}, {L2})"


def test_a_hole_is_found_with_its_parents(holed, capsys):
    before = every_row(holed)
    code, out, _ = run_main(capsys, missing_files_by_product.main, "-m", holed.db_url, L1,
                       "--parent")
    assert code == 1
    assert listed(out) == [(L1, "2025-01-03", "missing", L1_3)]
    assert sorted(parents(out)) == ["hello_a_L0_20250102_v1.0.0.txt",
                                    "hello_a_L0_20250103_v1.0.0.txt",
                                    "hello_a_L0_20250104_v1.0.0.txt",
                                    "hello_b_L0_20250103_v1.0.0.txt"]
    # Its child is blocked (its input is the hole), so not missing.
    code, out, _ = run_main(capsys, missing_files_by_product.main, "-m", holed.db_url, L2)
    assert code == 0 and out.strip() == f"no missing files ({L2})"
    # Outside the range asked about there is no hole.
    code, out, _ = run_main(capsys, missing_files_by_product.main, "-m", holed.db_url, L1,
                       "-s", "20250104", "-e", "2025-01-05")
    assert code == 0
    code, out, _ = run_main(capsys, missing_files.main, "-m", holed.db_url, "-s", "20250103",
                       "-e", "20250103")
    assert code == 1 and listed(out) == [(L1, "2025-01-03", "missing", L1_3)]
    assert every_row(holed) == before  # reporting writes nothing


def test_queueing_the_parents_fills_the_hole(holed, capsys):
    code, out, _ = run_main(capsys, missing_files_by_product.main, "-m", holed.db_url, L1,
                       "--parent=" + L0B, "-p")
    assert code == 1
    assert parents(out) == ["hello_b_L0_20250103_v1.0.0.txt"]
    assert "queued 1 parent file(s)" in out
    assert queued(holed) == {"hello_b_L0_20250103_v1.0.0.txt"}
    assert process(holed, "-q") == 0
    made = {r[0] for r in holed.query("SELECT filename FROM file")}
    assert {L1_3, L2_3} <= made  # the hole and, from it, its child
    code, out, _ = run_main(capsys, missing_files.main, "-m", holed.db_url)
    assert code == 0 and out.strip() == f"no missing files ({L1}, {L2})"


def test_missing_files_queues_every_parent(holed, capsys):
    code, out, _ = run_main(capsys, missing_files.main, "-m", holed.db_url, "-p")
    assert code == 1 and "queued 4 parent file(s)" in out
    assert queued(holed) == {"hello_a_L0_20250102_v1.0.0.txt", "hello_a_L0_20250103_v1.0.0.txt",
                             "hello_a_L0_20250104_v1.0.0.txt", "hello_b_L0_20250103_v1.0.0.txt"}
    # Queued parents: the hole is on its way.
    code, out, _ = run_main(capsys, missing_files.main, "-m", holed.db_url)
    assert code == 1 and listed(out) == [(L1, "2025-01-03", "queued", L1_3)]


def test_a_failed_attempt_is_shown_as_failed(holed, capsys):
    (holed.root / "codes" / "hello_L0toL1.py").write_text(BROKEN)
    assert missing_files.main(["-m", holed.db_url, "-p"]) == 1
    assert process(holed, "-q") == 1
    code, out, _ = run_main(capsys, missing_files_by_product.main, "-m", holed.db_url, L1)
    assert code == 1 and listed(out) == [(L1, "2025-01-03", "failed", L1_3)]


def test_an_ingested_product_has_nothing_missing(holed, capsys):
    code, out, _ = run_main(capsys, missing_files_by_product.main, "-m", holed.db_url, L0A)
    assert code == 0
    assert f"{L0A}: no process makes it (ingested data); nothing can be missing" in out


@pytest.mark.parametrize("argv, message", [
    (["no_such_product"], "no product 'no_such_product'"),
    ([L1, "--parent=no_such_product", "-p"], "no product 'no_such_product'"),
    ([L1, "-s", "20250105", "-e", "20250101", "-p"], "is after end"),
])
def test_bad_input_is_named_and_nothing_queued(holed, capsys, argv, message):
    before = every_row(holed)
    code, out, err = run_main(capsys, missing_files_by_product.main, "-m", holed.db_url, *argv)
    assert code == 2 and message in err and out == ""
    assert every_row(holed) == before
