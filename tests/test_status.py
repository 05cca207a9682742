"""The event log, printStatus, explainBuild and printHistory on real runs of the example
mission (a failing code, a new code version, a flushed queue), both backends."""
from __future__ import annotations

import datetime
import json
import os
import shlex
import subprocess
import sys
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from dbprocessing.cli import (
    add_from_config,
    explain_build,
    flush_process_queue,
    print_history,
    print_status,
    process_queue,
    reprocess_by_product,
    run_command,
)
from dbprocessing.db.models import Product
from dbprocessing.events import masked
from dbprocessing.lock import utcnow
from dbprocessing.mission.tree import load_mission
from dbprocessing.report.settled import settle
from dbprocessing.report.status import StatusReader

from .missions import (
    REPO,
    break_l2,
    l1_without_version_then_a_new_input,
    load_and_ingest,
    process,
    states,
    status,
)

L2 = "hello_counter_L2"
L1 = "hello_counter_L1"
DAY = datetime.timedelta(days=1)

def test_masked_hides_the_password_of_every_url():
    assert masked(["-i", "-m", "postgresql+psycopg://ops:p@ss:w0rd@db.example/m", "-q",
                   "--mission=postgresql://u:x@h:5432/d", "postgresql://u@h/d",
                   "sqlite:////data/m.sqlite", "a:b@c"]) == [
        "-i", "-m", "postgresql+psycopg://ops:***@db.example/m", "-q",
        "--mission=postgresql://u:***@h:5432/d", "postgresql://u@h/d",
        "sqlite:////data/m.sqlite", "a:b@c"]


def test_the_event_log_keeps_no_password(hello, backend, capsys):
    """The invocation row (printHistory --invocations) holds the command line with the
    database URL's password masked; a URL without one is kept as given."""
    url = hello.db_url
    if backend == "postgresql":  # trust authentication: any password is let in
        url = make_url(url).set(password="s3cret").render_as_string(hide_password=False)
    assert add_from_config.main(["-m", hello.db_url, str(hello.config)]) == 0
    assert process_queue.main(["-i", "-m", url, "-q"]) == 0
    ((arguments,),) = hello.query("SELECT arguments FROM invocation")
    assert "s3cret" not in arguments
    expected = url.replace(":s3cret@", ":***@")
    assert shlex.split(arguments) == ["-i", "-m", expected, "-q"]
    capsys.readouterr()
    assert print_history.main(["-m", hello.db_url, "--invocations"]) == 0
    assert "s3cret" not in capsys.readouterr().out


def test_event_log_records_ingest_and_runs(hello, capsys):
    break_l2(hello)
    hello.add_incoming("nobody_claims_me.txt", "x\n")
    assert add_from_config.main(["-m", hello.db_url, str(hello.config)]) == 0
    for path in sorted((hello.root / "data").iterdir()):
        hello.add_incoming(path.name, path.read_bytes())
    assert process_queue.main(["-i", "-m", hello.db_url, "-q"]) == 1
    assert process(hello, "-q") == 1

    invocations = hello.query("SELECT i.command, i.arguments, l.comment FROM invocation i "
                              "JOIN logging l ON l.logging_id = i.logging_id "
                              "ORDER BY i.invocation_id")
    assert [(r[0], r[1].split()[0]) for r in invocations] == [("ProcessQueue", "-i"),
                                                              ("ProcessQueue", "-p")]
    assert "rejected" in invocations[0][2] and "failed" in invocations[1][2]

    ingest = hello.query("SELECT filename, accepted, file_id, reason FROM ingest_event")
    accepted = {r[0]: r[2] for r in ingest if r[1]}
    assert len(accepted) == 10
    ids = {r[0]: r[1] for r in hello.query("SELECT filename, file_id FROM file")}
    assert all(ids[name] == file_id for name, file_id in accepted.items())
    (rejected,) = [r for r in ingest if not r[1]]
    assert rejected[0] == "nobody_claims_me.txt" and "no product claims it" in rejected[3]

    jobs = hello.query(
        "SELECT j.job_id, p.process_name, j.output_name, e.state, e.exit_code, e.file_id, "
        "e.log_path, e.at FROM job j JOIN process p ON p.process_id = j.process_id "
        "JOIN job_event e ON e.job_id = j.job_id ORDER BY e.job_event_id")
    finished = {r[0]: r for r in jobs if r[3] != "started"}
    started = {r[0]: r for r in jobs if r[3] == "started"}
    assert set(started) == set(finished)
    assert all(started[j][7] <= finished[j][7] for j in finished)
    made = [r for r in finished.values() if r[1] == "hello_L0toL1"]
    assert len(made) == 5 and {r[3] for r in made} == {"succeeded"}
    assert all(ids[r[2]] == r[5] for r in made)  # the recorded file is the planned output
    failed = [r for r in finished.values() if r[1] == "hello_L1toL2"]
    assert len(failed) == 5 and {(r[3], r[4]) for r in failed} == {("failed", 3)}
    for r in failed:
        assert "broken on purpose" in open(r[6], encoding="utf-8").read()


def test_status_through_a_mission_s_life(hello, capsys):
    good = break_l2(hello)
    load_and_ingest(hello)
    code, rows = status(hello, capsys)
    assert code == 1
    assert set(states(rows, L1).values()) == {"queued"}
    assert set(states(rows, "hello_counter_L0_a").values()) == {"up_to_date"}

    assert process(hello, "-q") == 1
    code, rows = status(hello, capsys)
    assert code == 1
    assert set(states(rows, L1).values()) == {"up_to_date"}
    assert set(states(rows, L2).values()) == {"failed"}
    jan2 = rows[(L2, "2025-01-02")]
    assert jan2["last_attempt"]["exit_code"] == 3 and "exited with status 3" in jan2["reason"]

    # The code is fixed and its product reprocessed: queued, then made: all up to date.
    (hello.root / "codes" / "hello_L1toL2.py").write_text(good)
    assert reprocess_by_product.main(["-m", hello.db_url, L1]) == 0
    code, rows = status(hello, capsys)
    assert set(states(rows, L2).values()) == {"queued"}
    assert process(hello, "-q") == 0
    code, rows = status(hello, capsys)
    assert code == 0, [r for r in rows.values() if r["state"] != "up_to_date"]

    # A new version of the L2 code makes every L2 file stale, with the reason.
    hello.config.write_text(hello.config.read_text().replace(
        "code_description = Describe the day's summary in words\ncode_version = 1.0.0",
        "code_description = Describe the day's summary in words\ncode_version = 1.1.0"))
    assert add_from_config.main(["-m", hello.db_url, str(hello.config)]) == 0
    code, rows = status(hello, capsys, "-p", L2)
    assert code == 1 and set(states(rows, L2).values()) == {"stale"}
    assert "code changed" in rows[(L2, "2025-01-03")]["reason"]
    assert "1.1.0" in rows[(L2, "2025-01-03")]["reason"]

    # A date beyond the data: blocked (a gap upstream, not a failure).
    code, rows = status(hello, capsys, "-p", L1, "-s", "2025-01-09", "-e", "2025-01-10")
    assert code == 0 and set(states(rows, L1).values()) == {"blocked"}
    assert "required input missing: hello_counter_L0_a" in rows[(L1, "2025-01-10")]["reason"]


def test_missing_after_the_queue_is_flushed_and_table_output(hello, capsys):
    load_and_ingest(hello)
    assert process(hello, "-q", "-o", "hello_L0toL1") == 0
    engine = hello.engine()
    with engine.begin() as conn:  # what flushProcessQueue does
        conn.exec_driver_sql("DELETE FROM processqueue")
    engine.dispose()
    code, rows = status(hello, capsys, "-p", L2)
    assert code == 1 and set(states(rows, L2).values()) == {"missing"}
    assert rows[(L2, "2025-01-02")]["reason"] == "new output"
    capsys.readouterr()
    assert print_status.main(["-m", hello.db_url, "-p", L2, "-s", "20250102",
                              "-e", "20250103"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[1].split()[:3] == [L2, "2025-01-02", "missing"]
    assert out[-1] == "missing: 2"


def test_problems_only_says_when_there_are_none(hello, capsys):
    """--problems with every date fine says so, not that there are no files."""
    load_and_ingest(hello)
    assert process(hello, "-q") == 0
    capsys.readouterr()
    assert print_status.main(["-m", hello.db_url, "-p", L1, "--problems"]) == 0
    assert capsys.readouterr().out == "no problems among 5 product-date(s) (up_to_date: 5)\n"
    assert print_status.main(["-m", hello.db_url, "-p", L1, "-s", "2030-01-01", "-e",
                              "2030-01-01", "--problems"]) == 0
    assert "no problems among 1 product-date(s) (blocked: 1)" in capsys.readouterr().out


def test_explain_a_file_and_a_product_date(hello, capsys):
    load_and_ingest(hello)
    assert process(hello, "-q") == 0
    capsys.readouterr()
    assert explain_build.main(["-m", hello.db_url, "hello_L1_20250103_v1.0.0.txt"]) == 0
    assert "not rebuilt: up to date" in capsys.readouterr().out

    hello.add_incoming("hello_a_L0_20250103_v1.1.0.txt", "100\n")
    assert process_queue.main(["-i", "-m", hello.db_url, "-q"]) == 0
    capsys.readouterr()
    assert explain_build.main(["-m", hello.db_url, "-p", L1, "-d", "2025-01-04"]) == 1
    out = capsys.readouterr().out
    assert "state: queued" in out
    assert "input hello_counter_L0_a 2025-01-03 changed from 1.0.0 to 1.1.0" in out
    assert "make hello_L1_20250104_v1.1.0.txt" in out
    assert "input hello_a_L0_20250103_v1.1.0.txt" in out

    assert process(hello, "-q") == 0
    capsys.readouterr()
    assert explain_build.main(["-m", hello.db_url, "--json",
                               str(hello.root / "L1/2025/hello_L1_20250103_v1.0.0.txt")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["state"] == "up_to_date" and data["filename"] == "hello_L1_20250103_v1.1.0.txt"
    assert any("superseded by hello_L1_20250103_v1.1.0.txt" in line
               for line in data["explanation"])


@pytest.mark.parametrize("argv, message", [
    (["nosuchfile.txt"], "no file 'nosuchfile.txt'"),
    (["-p", "nosuch", "-d", "2025-01-01"], "no product 'nosuch'"),
    (["-p", L1], "give a file, or a product (-p) and a date (-d)"),
])
def test_explain_bad_input(hello, capsys, argv, message):
    load_and_ingest(hello)
    capsys.readouterr()
    assert explain_build.main(["-m", hello.db_url, *argv]) == 2
    assert message in capsys.readouterr().err


def test_write_status_changes_if_and_only_if_the_state_does(hello, capsys, tmp_path):
    load_and_ingest(hello)
    assert process(hello, "-q") == 0
    target = tmp_path / "status" / "mission.json"
    assert print_status.main(["-m", hello.db_url, "--write-status", str(target)]) == 0
    first = target.read_bytes()
    summary = json.loads(first)
    assert summary["ok"] is True and summary["queue_length"] == 0
    assert summary["products"][L1]["states"] == {"up_to_date": 5}
    assert summary["products"][L1]["newest_version"] == "1.0.0"
    stamp = target.stat().st_mtime_ns

    # Nothing changed (a run with nothing to do, a history query): same bytes, untouched.
    assert process(hello, "-q") == 0
    assert print_history.main(["-m", hello.db_url]) == 0
    assert print_status.main(["-m", hello.db_url, "--write-status", str(target)]) == 0
    assert target.read_bytes() == first and target.stat().st_mtime_ns == stamp
    assert "unchanged:" in capsys.readouterr().out

    # A new input version: the state changes, and so do the bytes and the keys.
    hello.add_incoming("hello_b_L0_20250104_v1.0.1.txt", "7\n")
    assert process_queue.main(["-i", "-m", hello.db_url, "-q"]) == 0
    assert print_status.main(["-m", hello.db_url, "--write-status", str(target)]) == 1
    second = json.loads(target.read_bytes())
    assert second["key"] != summary["key"] and second["ok"] is False
    assert second["products"][L1]["key"] != summary["products"][L1]["key"]
    assert second["products"]["hello_counter_L0_a"] == summary["products"]["hello_counter_L0_a"]
    assert process(hello, "-q") == 0
    assert print_status.main(["-m", hello.db_url, "--write-status", str(target)]) == 0
    third = json.loads(target.read_bytes())
    assert third["products"][L1]["newest_version"] == "1.0.1"
    assert third["key"] not in (summary["key"], second["key"])
    capsys.readouterr()
    assert print_status.main(["-m", hello.db_url, "--write-status", str(target.parent)]) == 2
    assert capsys.readouterr().err == f"printStatus: error: {target.parent} is a directory\n"


def test_history_filters(hello, capsys):
    break_l2(hello)
    load_and_ingest(hello)
    assert process(hello, "-q") == 1

    def history(*argv: str) -> list[dict]:
        capsys.readouterr()
        assert print_history.main(["-m", hello.db_url, "--json", *argv]) == 0
        return json.loads(capsys.readouterr().out)

    assert len(history()) == 10
    failed = history("--status", "failed")
    assert len(failed) == 5 and {r["process"] for r in failed} == {"hello_L1toL2"}
    assert {r["state"] for r in history("-p", L1)} == {"succeeded"}
    assert len(history("--process", "hello_L0toL1", "-n", "3")) == 3
    (one,) = history("-f", "hello_L1_20250102_v1.0.0.txt")
    assert one["state"] == "succeeded" and one["file_id"] is not None
    assert [e["state"] for e in history("--job", str(one["job_id"]))] == ["started",
                                                                         "succeeded"]
    assert history("--since", "2999-01-01") == []
    assert len(history("--ingest", "--status", "accepted")) == 10
    (run,) = [r for r in history("--invocations") if r["command"].startswith("ProcessQueue -p")]
    assert run["jobs"] == 10 and "5 run(s) failed" in run["comment"]
    capsys.readouterr()
    assert print_history.main(["-m", hello.db_url, "--status", "exploded"]) == 2
    assert "--status for jobs is one of" in capsys.readouterr().err


def _compare_with_planning_every_date(m) -> tuple[Counter, int, int, int]:
    """Status of every product, over its span, a span cut at both ends and one
    past the data (blocked dates), with the set-based proofs and by planning every
    date: the same rows, the same plans; and without plans (printStatus's): the
    same rows; and with the queue planned only for the product and dates asked
    about: the same rows.  Return the states seen, how many dates the proofs
    settled, how many changed dates got a verdict without planning and how many
    reports planned fewer of the queue's targets than the whole queue's."""
    seen: Counter = Counter()
    proved = narrowed = 0
    engine = m.engine()
    try:
        with Session(engine) as session:
            tree = load_mission(session)
            now = utcnow()
            fast = StatusReader(session, tree, now)
            slow = StatusReader(session, tree, now, prove=False)
            quick = StatusReader(session, tree, now, plans=False)
            for product in session.scalars(select(Product).order_by(Product.product_name)):
                span = fast.span(product)
                if span is None:
                    continue
                first, last = span
                for start, end in ((first, last), (first + DAY, last - DAY), (first, last + 2 * DAY)):
                    if start > end:
                        continue
                    got = fast.product_status(product, start, end)
                    want = slow.product_status(product, start, end)
                    assert [r.as_dict() for r in got] == [r.as_dict() for r in want]
                    assert [r.plan for r in got] == [r.plan for r in want]
                    unplanned = quick.product_status(product, start, end)
                    assert [r.as_dict() for r in unplanned] == [r.as_dict() for r in want]
                    # The queue planned for this product and these dates only.
                    focused = StatusReader(session, tree, now)
                    focused.focus(product, start, end)
                    got = focused.product_status(product, start, end)
                    assert [r.as_dict() for r in got] == [r.as_dict() for r in want]
                    assert [r.plan for r in got] == [r.plan for r in want]
                    assert {key[0] for key in focused.scheduled} <= {product.product_id}
                    narrowed += len(focused.scheduled) < len(fast.scheduled)
                    seen.update(r.state for r in got)
                maker = fast.makers.get(product.product_id)
                if maker is not None:
                    dates = fast.dates_of(product, first, last)
                    proved += len(settle(fast.planner, maker, product, dates).up_to_date)
    finally:
        engine.dispose()
    return seen, proved, quick.unplanned, narrowed


def test_proofs_agree_with_planning_every_date(hello, capsys):
    """Through a varied life (queued, failed with retries, made, a new input version
    through the window queued then stale, a new date, a new code), the set-based
    status equals the planner's for every date, on both backends."""
    seen: Counter = Counter()
    unplanned: list[int] = []
    narrowed: list[int] = []

    def compare() -> int:
        states_now, proved, verdicts, fewer = _compare_with_planning_every_date(hello)
        seen.update(states_now)
        unplanned.append(verdicts)
        narrowed.append(fewer)
        return proved

    good = break_l2(hello)
    load_and_ingest(hello)
    assert compare() == 0  # nothing made yet
    assert process(hello, "-q") == 1  # L1 made, every L2 run fails: retry rows
    assert compare() == 5  # the five L1 dates
    (hello.root / "codes" / "hello_L1toL2.py").write_text(good)
    assert reprocess_by_product.main(["-m", hello.db_url, L1]) == 0
    compare()
    assert process(hello, "-q") == 0
    assert compare() == 10  # everything made: every date proved

    data = hello.root / "data"
    hello.add_incoming("hello_a_L0_20250103_v1.1.0.txt",
                       (data / "hello_a_L0_20250103_v1.0.0.txt").read_text() + "1\n")
    assert process_queue.main(["-i", "-m", hello.db_url, "-q"]) == 0
    compare()  # the window's three L1 dates queued
    assert flush_process_queue.main([hello.db_url]) == 0
    assert compare() == 7  # ... and, with nothing queued, stale: 2 + 5 proved
    hello.add_incoming("hello_a_L0_20250106_v1.0.0.txt", "6\n7\n")
    assert process_queue.main(["-i", "-m", hello.db_url, "-q"]) == 0
    assert flush_process_queue.main([hello.db_url]) == 0
    compare()  # L1 of the 6th missing, of the 5th stale (its window); L2 6th blocked
    hello.config.write_text(hello.config.read_text().replace(
        "code_description = Describe the day's summary in words\ncode_version = 1.0.0",
        "code_description = Describe the day's summary in words\ncode_version = 1.1.0"))
    assert add_from_config.main(["-m", hello.db_url, str(hello.config)]) == 0
    compare()  # every L2 stale: its code changed
    assert {"queued", "failed", "up_to_date", "stale", "missing", "blocked"} <= set(seen)
    # Stale through a new input version, then through a new code: verdicts, no plans.
    assert unplanned[5] > 0 and unplanned[7] > unplanned[6]
    # With the queue full (first) and after the new input version (the window's
    # dates queued), a report on one product or fewer dates planned fewer targets.
    assert narrowed[0] > 0 and narrowed[4] > 0


def test_stale_outputs_whose_name_cannot_hold_a_new_version(hello, capsys):
    """L1's format without {VERSION}, made, then a new version of an input: the
    window's dates are stale (nothing queued) and cannot be remade, each saying so,
    the same as by planning every date."""
    l1_without_version_then_a_new_input(hello)
    assert flush_process_queue.main([hello.db_url]) == 0
    _compare_with_planning_every_date(hello)
    code, rows = status(hello, capsys, "-p", L1)
    assert code == 1
    assert states(rows, L1) == {"2025-01-01": "up_to_date", "2025-01-02": "stale",
                                "2025-01-03": "stale", "2025-01-04": "stale",
                                "2025-01-05": "up_to_date"}
    for day in ("02", "03", "04"):
        reason = rows[(L1, f"2025-01-{day}")]["reason"]
        assert "has no {VERSION}: it cannot hold a second version of " \
               f"hello_L1_202501{day}.txt" in reason


def test_file_rows_answer_as_their_queries(made):
    """A DAILY process's candidates answered from a product's rows read by date
    (every file of it in hand) are the rows the unixtime query gives: a file with no
    unixtime row, one with no stop, one whose data start the day before."""
    from sqlalchemy import delete, update

    from dbprocessing.db.models import File, UnixTime
    from dbprocessing.report.rows import FileRows

    engine = made.engine()
    try:
        with Session(engine) as session:
            product_id = session.scalars(select(Product.product_id).where(
                Product.product_name == "hello_counter_L0_a")).one()
            ids = session.scalars(select(File.file_id).where(File.product_id == product_id)
                                  .order_by(File.utc_file_date)).all()
            assert len(ids) >= 4
            session.execute(delete(UnixTime).where(UnixTime.file_id == ids[0]))
            session.execute(update(UnixTime).where(UnixTime.file_id == ids[1])
                            .values(unix_stop=None))
            session.execute(update(UnixTime).where(UnixTime.file_id == ids[2])
                            .values(unix_start=UnixTime.unix_start - 86400 - 60))
            session.flush()
            first, last, undated = FileRows(session).extents()[product_id]
            assert undated == 0
            low = session.scalar(select(func.min(UnixTime.unix_start)))
            high = session.scalar(select(func.max(UnixTime.unix_stop)))
            spans = [(low - 86400, high + 86400), (low, high), (low + 86400, high - 86400),
                     (low + 3600, low + 7200), (high, high + 86400)]
            for start, stop in spans:
                asked = FileRows(session, {product_id})  # by the query
                held = FileRows(session, {product_id})
                held.dated([product_id], first, last)  # every file, with its unixtime
                wider = FileRows(session, {product_id})
                wider.timed([product_id], spans[0][0], spans[0][1])  # a wider span's rows
                want = sorted(tuple(r) for r in asked.timed([product_id], start, stop))
                assert sorted(tuple(r) for r in held.timed([product_id], start, stop)) == want
                assert sorted(tuple(r) for r in wider.timed([product_id], start, stop)) == want
            assert ids[0] not in {r[0] for r in held.timed([product_id], *spans[0])}
    finally:
        engine.dispose()


def test_status_read_through_a_pipe_closed_early_ends_quietly(hello):
    """``printStatus | head``: the reader stops; the command ends with 141 (as SIGPIPE
    ends a Unix tool), printing no error."""
    load_and_ingest(hello)
    child = subprocess.Popen(  # some 73,000 dates: far more than a pipe holds
        [sys.executable, str(REPO / "scripts" / "printStatus.py"), "-m", hello.db_url,
         "-p", "hello_counter_L0_a", "-s", "1900-01-01", "-e", "2099-12-31"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout is not None and child.stderr is not None
    assert child.stdout.readline().split() == [b"product", b"date", b"state", b"version",
                                               b"detail"]
    child.stdout.close()
    assert child.wait(timeout=120) == 141
    assert child.stderr.read() == b""


def test_a_broken_pipe_not_stdout_is_an_unexpected_error(capsys):
    def body() -> int:
        read, write = os.pipe()
        os.close(read)
        try:
            os.write(write, b"lost")
        finally:
            os.close(write)
        return 0

    assert run_command("someCommand", body) == 1
    assert "someCommand: error: unexpected BrokenPipeError" in capsys.readouterr().err
