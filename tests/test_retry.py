"""Failed runs are retried, and printStatus/explainBuild agree with ProcessQueue -p -d
over a mission's life (new inputs, failures, back-off, a new code version, forced
bumps, a flushed queue), both backends."""
from __future__ import annotations

import json

import pytest

from dbprocessing.cli import (
    add_from_config,
    explain_build,
    flush_process_queue,
    print_status,
    process_queue,
    reprocess_by_product,
)

from .missions import MissionUnderTest, break_l2, load_and_ingest, process, states

L1 = "hello_counter_L1"
L2 = "hello_counter_L2"
DAYS = [f"2025-01-0{d}" for d in range(1, 6)]


def next_run(m: MissionUnderTest, capsys) -> set[tuple[str, str]]:
    """The (product, date) outputs ``ProcessQueue -p -d`` says it would make."""
    makes = dict(m.query("SELECT p.process_name, o.product_name FROM process p "
                         "JOIN product o ON o.product_id = p.output_product"))
    capsys.readouterr()
    assert process_queue.main(["-p", "-d", "-m", m.db_url]) == 0
    found = set()
    for line in capsys.readouterr().out.splitlines():
        if line.startswith("would run "):
            process, date = line.split()[2:4]
            if process in makes:  # RUN processes make no product
                found.add((makes[process], date.rstrip(":")))
    return found


def status_rows(m: MissionUnderTest, capsys) -> tuple[int, dict]:
    capsys.readouterr()
    code = print_status.main(["-m", m.db_url, "--json"])
    rows = json.loads(capsys.readouterr().out)
    return code, {(r["product"], r["date"]): r for r in rows}


def agree(m: MissionUnderTest, capsys) -> tuple[set, dict]:
    """printStatus's next_run dates are exactly what -p -d would make; every other
    date the status calls work to do is one the next run leaves alone."""
    planned = next_run(m, capsys)
    code, rows = status_rows(m, capsys)
    said = {key for key, r in rows.items() if r["next_run"]}
    assert said == planned
    assert all(rows[key]["state"] in ("queued", "failed") for key in said)
    assert code == (1 if planned or any(r["state"] in ("stale", "missing", "failed", "queued")
                                        for r in rows.values()) else 0)
    return planned, rows


def explain(m: MissionUnderTest, capsys, product: str, date: str) -> tuple[int, str]:
    capsys.readouterr()
    code = explain_build.main(["-m", m.db_url, "-p", product, "-d", date])
    return code, capsys.readouterr().out


def new_l2_code(m: MissionUnderTest, version: str, source: str) -> None:
    """Ship a new version of the L2 code: its file, then its config section."""
    (m.root / "codes" / "hello_L1toL2.py").write_text(source)
    text = m.config.read_text()
    marker = "code_description = Describe the day's summary in words\ncode_version = "
    start = text.index(marker) + len(marker)
    m.config.write_text(text[:start] + version + text[text.index("\n", start):])
    assert add_from_config.main(["-m", m.db_url, str(m.config)]) == 0


def retries(m: MissionUnderTest) -> dict[str, tuple]:
    return {str(r[0]): tuple(r[1:]) for r in m.query(
        "SELECT r.utc_file_date, r.attempts, r.version_bump, r.not_before IS NULL "
        "FROM retry r ORDER BY r.utc_file_date")}


def test_status_agrees_with_the_planner_over_a_mission_s_life(hello, capsys):
    good = break_l2(hello)
    load_and_ingest(hello)
    planned, rows = agree(hello, capsys)  # new inputs: L1 queued
    assert planned == {(L1, d) for d in DAYS}

    # A failure with no back-off: the very next run retries it, and both say so.
    assert process(hello, "-q", "--retry-after", "0") == 1
    assert set(retries(hello).values()) == {(1, None, False)}
    planned, rows = agree(hello, capsys)
    assert planned == {(L2, d) for d in DAYS}
    assert set(states(rows, L2).values()) == {"failed"}
    assert rows[(L2, DAYS[1])]["reason"].startswith(
        "the next ProcessQueue -p retries it (attempt 2)")
    code, out = explain(hello, capsys, L2, DAYS[1])
    assert code == 1 and "failed; the next ProcessQueue -p retries it (attempt 2)" in out

    # It is retried (and fails again): now the back-off (6 h, doubled) holds it.
    assert process(hello, "-q") == 1
    reasons = {r[0] for r in hello.query(
        "SELECT reason FROM job WHERE output_name LIKE 'hello_L2_%' AND planned_at = "
        "(SELECT max(planned_at) FROM job)")}
    assert reasons == {"retry of a failed run (attempt 2); new output"}
    assert set(retries(hello).values()) == {(2, None, False)}
    planned, rows = agree(hello, capsys)
    assert planned == set()
    assert set(states(rows, L2).values()) == {"failed"}
    assert "will retry after 2" in rows[(L2, DAYS[0])]["reason"]
    assert "(attempt 3)" in rows[(L2, DAYS[0])]["reason"]
    code, out = explain(hello, capsys, L2, DAYS[0])
    assert code == 1 and "failed; will retry after 2" in out
    assert "exited with status 3" in out
    assert process(hello, "-q") == 0  # not due: nothing runs
    assert set(retries(hello).values()) == {(2, None, False)}

    # A new code version: retried at once (the code changed), made, rows gone.
    new_l2_code(hello, "1.1.0", good)
    planned, rows = agree(hello, capsys)
    assert planned == {(L2, d) for d in DAYS}
    assert "with a new code" in rows[(L2, DAYS[0])]["reason"]
    assert process(hello, "-q") == 0
    assert retries(hello) == {}
    planned, rows = agree(hello, capsys)
    assert planned == set() and set(states(rows, L2).values()) == {"up_to_date"}

    # A forced bump: -p -d would remake; status says queued, explainBuild too.
    assert reprocess_by_product.main(["-m", hello.db_url, L1, "-s", DAYS[1], "-e", DAYS[2],
                                      "--force", "2"]) == 0
    planned, rows = agree(hello, capsys)
    assert planned == {(L2, DAYS[1]), (L2, DAYS[2])}
    assert rows[(L2, DAYS[1])]["state"] == "queued"
    assert "forced revision bump" in rows[(L2, DAYS[1])]["reason"]
    code, out = explain(hello, capsys, L2, DAYS[1])
    assert code == 1 and "state: queued" in out
    assert "the next ProcessQueue -p makes it: forced revision bump" in out
    assert process(hello, "-q") == 0
    assert agree(hello, capsys)[0] == set()

    # A new input: its L1 date is queued (its L2 follows in the same run).
    hello.add_incoming("hello_a_L0_20250103_v1.1.0.txt", "100\n")
    assert process_queue.main(["-i", "-m", hello.db_url, "-q"]) == 0
    planned, rows = agree(hello, capsys)
    assert planned == {(L1, d) for d in DAYS[1:4]}  # its window reaches the neighbours
    assert process(hello, "-q") == 0
    planned, rows = agree(hello, capsys)
    assert planned == set() and set(states(rows, L2).values()) == {"up_to_date"}

    # A new code version with nothing queued: stale, and the next run leaves it.
    new_l2_code(hello, "1.2.0", good)
    planned, rows = agree(hello, capsys)
    assert planned == set() and set(states(rows, L2).values()) == {"stale"}
    code, out = explain(hello, capsys, L2, DAYS[0])
    assert code == 1 and "the next ProcessQueue -p will not" in out


def test_never_retried_by_time_only_by_a_change(hello, capsys):
    good = break_l2(hello)
    load_and_ingest(hello)
    assert process(hello, "-q", "--retry-after", "never") == 1
    assert set(retries(hello).values()) == {(1, None, True)}
    planned, rows = agree(hello, capsys)
    assert planned == set()
    assert rows[(L2, DAYS[0])]["reason"].startswith(
        "retried when its code or an input changes")
    jobs = hello.count("job")
    assert process(hello, "-q") == 0 and hello.count("job") == jobs  # nothing retried

    # The code fixed in place (same version): no change the planner sees; a new
    # input of one day retries that day's L2 through the queue, and only that.
    (hello.root / "codes" / "hello_L1toL2.py").write_text(good)
    hello.add_incoming("hello_b_L0_20250105_v1.1.0.txt", "7\n")
    assert process_queue.main(["-i", "-m", hello.db_url, "-q"]) == 0
    assert process(hello, "-q", "--retry-after", "never") == 0
    assert sorted(retries(hello)) == DAYS[:4]
    planned, rows = agree(hello, capsys)
    assert rows[(L2, DAYS[4])]["state"] == "up_to_date"
    assert {rows[(L2, d)]["state"] for d in DAYS[:4]} == {"failed"}


def test_a_forced_bump_that_fails_is_retried_with_its_bump(hello, capsys):
    load_and_ingest(hello)
    assert process(hello, "-q") == 0
    good = break_l2(hello)
    assert reprocess_by_product.main(["-m", hello.db_url, L1, "-s", DAYS[0], "-e", DAYS[0],
                                      "--force", "1"]) == 0
    assert process(hello, "-q", "--retry-after", "0") == 1
    assert retries(hello) == {DAYS[0]: (1, 1, False)}
    # A flush empties the queue and says the retry stays (it is not a queue entry).
    capsys.readouterr()
    assert flush_process_queue.main([hello.db_url]) == 0
    out = capsys.readouterr().out
    assert "flushed 0 file(s)" in out and "1 failed run(s) stay scheduled for retry" in out
    assert retries(hello) == {DAYS[0]: (1, 1, False)}
    (hello.root / "codes" / "hello_L1toL2.py").write_text(good)
    planned, rows = agree(hello, capsys)  # the queue is empty; the retry keeps the bump
    assert planned == {(L2, DAYS[0])}
    assert "forced quality bump" in rows[(L2, DAYS[0])]["reason"]
    assert process(hello, "-q") == 0
    assert retries(hello) == {}
    names = {r[0] for r in hello.query("SELECT filename FROM file WHERE filename LIKE "
                                       "'hello_L2_20250101%'")}
    assert "hello_L2_20250101_v1.1.0.txt" in names


@pytest.mark.parametrize("value", ["-1", "soon", "nan", "inf"])
def test_retry_after_must_be_hours_or_never(hello, capsys, value):
    with pytest.raises(SystemExit) as info:
        process_queue.main(["-p", "-m", hello.db_url, "--retry-after", value])
    assert info.value.code == 2
    assert "--retry-after" in capsys.readouterr().err
