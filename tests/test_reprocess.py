"""reprocessBy* and DBRunner on the example mission, both backends."""
from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from dbprocessing.cli import (
    add_from_config,
    db_runner,
    html_coverage,
    print_status,
    process_queue,
    reprocess_by_code,
    reprocess_by_date,
    reprocess_by_instrument,
    reprocess_by_product,
)

from .missions import (
    BROKEN,
    MissionUnderTest,
    files,
    hello_header,
    load_and_ingest,
    process,
)


@pytest.fixture
def built(hello):  # noqa: F811
    load_and_ingest(hello)
    assert process(hello, "-q") == 0
    return hello


def queue(m: MissionUnderTest) -> dict[str, int | None]:
    return {r.filename: r.version_bump for r in m.query(
        "SELECT f.filename, q.version_bump FROM processqueue q "
        "JOIN file f ON f.file_id = q.file_id")}


def remakes(m: MissionUnderTest) -> set[str]:
    return {r.filename for r in m.query(
        "SELECT f.filename FROM processqueue q JOIN file f ON f.file_id = q.file_id "
        "WHERE q.remake")}


def new_code_version(m: MissionUnderTest, section: str, version: str) -> None:
    """Ship a new version of a process's code: edit its section, load the config again."""
    text = m.config.read_text()
    head, _, rest = text.partition(f"[{section}]")
    body, sep, tail = rest.partition("\n[")
    body = body.replace("code_version = 1.0.0", f"code_version = {version}")
    m.config.write_text(head + f"[{section}]" + body + sep + tail)
    assert add_from_config.main(["-m", m.db_url, str(m.config)]) == 0


def test_reprocess_by_product_with_force(built, capsys):
    assert reprocess_by_product.main(["-m", built.db_url, "hello_counter_L1", "--force", "1",
                                      "-s", "20250102", "-e", "2025-01-03"]) == 0
    assert "queued 2 file(s) with forced bump 1" in capsys.readouterr().out
    assert queue(built) == {"hello_L1_20250102_v1.0.0.txt": 1,
                            "hello_L1_20250103_v1.0.0.txt": 1}
    assert process(built, "-q") == 0
    l2 = files(built, "hello_L2_")
    assert "hello_L2_20250102_v1.1.0.txt" in l2 and "hello_L2_20250103_v1.1.0.txt" in l2
    assert built.count("processqueue") == 0


def test_forced_bump_on_a_queued_file_is_kept(built):
    args = ["-m", built.db_url, "hello_counter_L1", "-s", "20250102", "-e", "20250102"]
    assert reprocess_by_product.main(args) == 0
    assert queue(built) == {"hello_L1_20250102_v1.0.0.txt": None}
    assert reprocess_by_product.main(args + ["--force", "2"]) == 0
    assert queue(built) == {"hello_L1_20250102_v1.0.0.txt": 2}
    assert reprocess_by_product.main(args + ["--force", "1"]) == 0
    assert reprocess_by_product.main(args + ["--force", "2"]) == 0  # the larger bump stays
    assert reprocess_by_product.main(args) == 0
    assert queue(built) == {"hello_L1_20250102_v1.0.0.txt": 1}


@pytest.mark.parametrize("code", ["hello_L1toL2.py", "2"])
def test_reprocess_by_code_queues_what_the_code_made(built, code):
    assert reprocess_by_code.main(["-m", built.db_url, code, "-s", "20250102",
                                   "-e", "20250104"]) == 0
    made = ["hello_L2_20250102_v1.0.0.txt", "hello_L2_20250103_v1.0.0.txt",
            "hello_L2_20250104_v1.0.0.txt"]
    assert sorted(queue(built)) == made and remakes(built) == set(made)
    # The same code is still the active one: nothing to remake, nothing lost.
    assert process(built, "-q") == 0
    assert sorted(files(built, "hello_L2_")) == [f"hello_L2_2025010{d}_v1.0.0.txt"
                                                  for d in range(1, 6)]
    assert built.count("processqueue") == 0


def test_reprocess_by_code_remakes_with_the_active_code(built, capsys):
    new_code_version(built, "process_hello_L1toL2", "1.1.0")
    (old,) = [r[0] for r in built.query(
        "SELECT code_id FROM code WHERE filename = 'hello_L1toL2.py' AND NOT active_code")]
    assert reprocess_by_code.main(["-m", built.db_url, str(old), "-e", "20250102"]) == 0
    assert sorted(queue(built)) == ["hello_L2_20250101_v1.0.0.txt",
                                    "hello_L2_20250102_v1.0.0.txt"]
    capsys.readouterr()
    assert process(built) == 0
    out = capsys.readouterr().out
    assert "made 2 file(s), 2 RUN-process run(s)" in out, out
    l2 = files(built, "hello_L2_")
    assert "hello_L2_20250101_v1.1.0.txt" in l2 and "hello_L2_20250102_v1.1.0.txt" in l2
    assert "hello_L2_20250103_v1.1.0.txt" not in l2  # outside the range asked for
    new = {r[0] for r in built.query(
        "SELECT c.code_id FROM filecodelink l JOIN code c ON c.code_id = l.source_code "
        "JOIN file f ON f.file_id = l.resulting_file WHERE f.filename LIKE '%v1.1.0.txt'")}
    assert len(new) == 1 and old not in new
    assert built.count("processqueue") == 0


def test_reprocess_by_code_with_force_remakes_with_the_bump(built):
    assert reprocess_by_code.main(["-m", built.db_url, "hello_L1toL2.py", "--force", "2",
                                   "-s", "20250103", "-e", "20250103"]) == 0
    assert process(built, "-q") == 0
    l2 = files(built, "hello_L2_")
    assert "hello_L2_20250103_v1.0.1.txt" in l2 and len(l2) == 6


def test_reprocess_by_instrument_and_date(built):
    assert reprocess_by_instrument.main(["-m", built.db_url, "counter", "-l", "0",
                                         "-s", "20250101", "-e", "20250101"]) == 0
    assert sorted(queue(built)) == ["hello_a_L0_20250101_v1.0.0.txt",
                                    "hello_b_L0_20250101_v1.0.0.txt"]
    built.query("SELECT 1")
    engine = built.engine()
    with engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM processqueue"))
    engine.dispose()
    assert reprocess_by_date.main(["-m", built.db_url, "-s", "20250105", "-e", "20250105"]) == 0
    assert sorted(queue(built)) == ["hello_L1_20250105_v1.0.0.txt",
                                    "hello_L2_20250105_v1.0.0.txt",
                                    "hello_a_L0_20250105_v1.0.0.txt",
                                    "hello_b_L0_20250105_v1.0.0.txt"]


@pytest.mark.parametrize("main, argv, message", [
    (reprocess_by_product.main, ["nope"], "no product 'nope'"),
    (reprocess_by_code.main, ["nope.py"], "no code 'nope.py'"),
    (reprocess_by_instrument.main, ["nope"], "no instrument 'nope'"),
    (reprocess_by_product.main, ["hello_counter_L1", "-s", "20250105", "-e", "20250101"],
     "is after end"),
])
def test_reprocess_bad_input(built, capsys, main, argv, message):
    assert main(["-m", built.db_url, *argv]) == 2
    assert message in capsys.readouterr().err
    assert built.count("processqueue") == 0


def test_reprocess_bad_date_is_usage_error(built, capsys):
    with pytest.raises(SystemExit) as info:
        reprocess_by_date.main(["-m", built.db_url, "-s", "2025-13-01", "-e", "20250101"])
    assert info.value.code == 2


def test_db_runner_unrecorded_to_current_directory(built, tmp_path, monkeypatch, capsys):
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.chdir(out)
    before = built.count("file")
    assert db_runner.main(["-m", built.db_url, "hello_L0toL1", "-s", "20250102",
                           "-e", "20250103"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["hello_L1_20250102_v1.0.0.txt",
                                                    "hello_L1_20250103_v1.0.0.txt"]
    assert built.count("file") == before
    # The invocation is logged (with no logging row: no lock is taken), its runs are not.
    assert built.query("SELECT logging_id FROM invocation WHERE command = 'DBRunner'") \
        == [(None,)]
    assert built.query("SELECT count(*) FROM job j JOIN invocation i "
                       "ON i.invocation_id = j.invocation_id "
                       "WHERE i.command = 'DBRunner'") == [(0,)]
    # Again: the files are there; nothing is overwritten; the .prob is here too.
    assert db_runner.main(["-m", built.db_url, "hello_L0toL1", "-s", "20250102"]) == 1
    assert "already exists" in capsys.readouterr().out
    assert "already exists" in (out / "hello_L1_20250102_v1.0.0.txt.prob").read_text()
    assert not built.errordir().exists() or not any(built.errordir().iterdir())


def test_db_runner_test_run_leaves_the_mission_alone(built, tmp_path, monkeypatch, capsys):
    """A failing code tried by DBRunner without -i: the .prob lands in the current
    directory, no job is logged, printStatus and htmlCoverage stay green."""
    (built.root / "codes" / "hello_L1toL2.py").write_text(BROKEN)
    here = tmp_path / "try"
    here.mkdir()
    monkeypatch.chdir(here)
    jobs, events = built.count("job"), built.count("job_event")
    capsys.readouterr()
    assert db_runner.main(["-m", built.db_url, "hello_L1toL2", "-s", "20250102",
                           "-e", "20250103"]) == 1
    assert "2 failed" in capsys.readouterr().out
    probs = sorted(p.name for p in here.iterdir())
    assert probs == ["hello_L2_20250102_v1.0.0.txt.prob", "hello_L2_20250103_v1.0.0.txt.prob"]
    assert "broken on purpose" in (here / probs[0]).read_text()
    assert not built.errordir().exists() or not any(built.errordir().iterdir())
    assert (built.count("job"), built.count("job_event")) == (jobs, events)
    assert built.count("retry") == 0  # not the mission's failure: never retried
    assert print_status.main(["-m", built.db_url, "--problems"]) == 0
    page = tmp_path / "coverage.html"
    assert html_coverage.main(["-m", built.db_url, "-o", str(page)]) == 0
    html = page.read_text()
    assert '<td class="state up_to_date"' in html and '<td class="state failed"' not in html


def test_status_ignores_test_runs_logged_by_earlier_versions(built, capsys):
    """Earlier versions logged DBRunner-without-i runs as jobs: a failed one (an
    invocation with no logging row) is not read as the date's last attempt."""
    pid, product = built.query("SELECT process_id, output_product FROM process "
                               "WHERE process_name = 'hello_L1toL2'")[0]
    engine = built.engine()
    with engine.begin() as conn:
        invocation = conn.execute(sa.text(
            "INSERT INTO invocation (logging_id, command, arguments, hostname, pid, \"user\", "
            "started_at) VALUES (NULL, 'DBRunner', 'hello_L1toL2', 'h', 1, 'u', "
            "'2030-01-01 00:00:00') RETURNING invocation_id")).scalar_one()
        job = conn.execute(sa.text(
            "INSERT INTO job (invocation_id, process_id, output_product, utc_file_date, "
            "reason, planned_at) VALUES (:i, :p, :o, '2025-01-02', 'run on request', "
            "'2030-01-01 00:00:00') RETURNING job_id"), {"i": invocation, "p": pid,
                                                         "o": product}).scalar_one()
        conn.execute(sa.text(
            "INSERT INTO job_event (job_id, state, at, hostname, exit_code) "
            "VALUES (:j, 'failed', '2030-01-01 00:00:01', 'h', 3)"), {"j": job})
    engine.dispose()
    capsys.readouterr()
    assert print_status.main(["-m", built.db_url, "--json", "-p", "hello_counter_L2"]) == 0
    rows = {r["date"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["2025-01-02"]["last_attempt"]["state"] == "succeeded"


@pytest.mark.parametrize("record", [[], ["-i"]])
def test_db_runner_unknown_process_writes_nothing(built, capsys, record):
    """A process name that is not there: one line, exit 2, and no invocation or
    logging row (an invocation never ended would look like a crashed run)."""
    before = built.count("invocation"), built.count("logging")
    assert db_runner.main(["-m", built.db_url, "nosuch", *record]) == 2
    assert "no process 'nosuch' (known: hello_L0toL1" in capsys.readouterr().err
    assert (built.count("invocation"), built.count("logging")) == before


def test_db_runner_nooptional(built, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert db_runner.main(["-m", built.db_url, "hello_L0toL1", "-s", "20250102",
                           "--nooptional"]) == 0
    # B left out: the input set differs from the archived output's, hence 1.1.0.
    assert (tmp_path / "hello_L1_20250102_v1.1.0.txt").read_text() == "20250102 3 45\n"


def test_db_runner_records_with_force(built, capsys):
    assert db_runner.main(["-m", built.db_url, "hello_L0toL1", "-s", "20250102", "-i"]) == 0
    assert "1 up to date" in capsys.readouterr().out
    assert db_runner.main(["-m", built.db_url, "hello_L0toL1", "-s", "20250102", "-i",
                           "--force", "0"]) == 0
    assert "hello_L1_20250102_v2.0.0.txt" in files(built, "hello_L1_")
    assert queue(built) == {"hello_L1_20250102_v2.0.0.txt": None}
    # Both runs are logged under their logging rows: a skip, then the forced remake.
    jobs = built.query(
        "SELECT l.logging_id, j.reason, e.state, e.file_id FROM invocation i "
        "JOIN logging l ON l.logging_id = i.logging_id "
        "JOIN job j ON j.invocation_id = i.invocation_id "
        "JOIN job_event e ON e.job_id = j.job_id "
        "WHERE i.command = 'DBRunner' AND e.state <> 'started' ORDER BY e.job_event_id")
    assert [(r[1], r[2]) for r in jobs] == [("up to date", "skipped"),
                                            ("forced interface bump", "succeeded")]
    made = files(built, "hello_L1_")["hello_L1_20250102_v2.0.0.txt"]
    assert jobs[1][3] == made.file_id and jobs[0][0] != jobs[1][0]


NO_INPUTS = hello_header("counter") + """
[process_clock]
process_name = hello_clock
output_product = hello_counter_L0_b
output_timebase = DAILY
code_filename = clock.py
code_relative_path = .
code_start_date = 2020-01-01
code_stop_date = 2030-12-31
code_version = 1.0.0
code_date_written = 2025-01-01
"""


def test_db_runner_process_without_inputs(hello, capsys):  # noqa: F811
    assert add_from_config.main(["-m", hello.db_url, str(hello.config)]) == 0
    conf = hello.root / "clock.conf"
    conf.write_text(NO_INPUTS)
    assert add_from_config.main(["-m", hello.db_url, str(conf)]) == 0
    (hello.root / "codes" / "clock.py").write_text(
        "#!/usr/bin/env python3\nimport sys\nopen(sys.argv[-1], 'w').write('7\\n')\n")
    (hello.root / "codes" / "clock.py").chmod(0o755)
    assert db_runner.main(["-m", hello.db_url, "hello_clock", "-s", "20250110",
                           "-e", "20250111", "-i", "-d"]) == 0
    assert hello.count("file") == 0
    assert db_runner.main(["-m", hello.db_url, "hello_clock", "-s", "20250110",
                           "-e", "20250111", "-i"]) == 0
    assert sorted(files(hello, "hello_b_L0_")) == ["hello_b_L0_20250110_v1.0.0.txt",
                                                  "hello_b_L0_20250111_v1.0.0.txt"]
    assert (hello.root / "L0/b/2025/hello_b_L0_20250110_v1.0.0.txt").read_text() == "7\n"
    assert process_queue.main(["-p", "-m", hello.db_url, "-q"]) == 0
    assert "hello_L1_20250110_v1.0.0.txt" not in files(hello, "hello_L1_")  # A is required
