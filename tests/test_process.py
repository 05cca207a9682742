"""ProcessQueue -p on the example mission: real codes, real files, both backends."""
from __future__ import annotations

import calendar
import datetime
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from dbprocessing.cli import add_from_config, process_queue
from dbprocessing.mission.tree import load_mission
from dbprocessing.process.pipeline import process_queue as process_the_queue
from dbprocessing.process.runner import run_plans
from dbprocessing.process.settings import RunSettings

from .missions import (
    LINGERER,
    REPO,
    alive,
    files,
    first_wave,
    hello_header,
    l1_without_version_then_a_new_input,
    load_and_ingest,
    process,
    sha1,
    take_waiting,
)

# One L1 file per day of channel A's data: the window gives each day its
# neighbours' files as extra inputs, not extra days.
L1_DATES = ["20250101", "20250102", "20250103", "20250104", "20250105"]

# L1 of Jan 2 is made from A on Jan 1-3 and B on Jan 2 (the +-1 day window on A).
JAN2_SOURCES = ["hello_a_L0_20250101_v1.0.0.txt", "hello_a_L0_20250102_v1.0.0.txt",
                "hello_a_L0_20250103_v1.0.0.txt", "hello_b_L0_20250102_v1.0.0.txt"]


def _sources_of_jan2(hello, l1: dict) -> list[str]:
    """The filefilelink sources of the L1 file of 2025-01-02, sorted."""
    (jan2,) = [r for n, r in l1.items() if "20250102" in n]
    return sorted(r[0] for r in hello.query(
        "SELECT f.filename FROM filefilelink l JOIN file f ON f.file_id = l.source_file "
        "WHERE l.resulting_file = :id", id=jan2.file_id))


def test_example_chain_then_nothing_to_do(hello, capsys):
    load_and_ingest(hello)
    capsys.readouterr()
    assert process(hello) == 0
    out = capsys.readouterr().out
    assert "made 10 file(s), 5 RUN-process run(s), 0 failed" in out
    l1, l2 = files(hello, "hello_L1_"), files(hello, "hello_L2_")
    assert sorted(l1) == [f"hello_L1_{d}_v1.0.0.txt" for d in L1_DATES]
    assert len(l2) == 5
    for name, row in {**l1, **l2}.items():
        level = "L1" if name.startswith("hello_L1") else "L2"
        path = hello.root / level / name.split("_")[2][:4] / name
        assert sha1(path) == row.shasum
        assert "hello_" in row.verbose_provenance
    assert _sources_of_jan2(hello, l1) == JAN2_SOURCES
    assert (hello.root / "L1/2025/hello_L1_20250102_v1.0.0.txt").read_text() == \
        "20250102 4 55\n"
    assert hello.count("filecodelink") == 10
    assert len((hello.root / "report.txt").read_text().splitlines()) == 5
    assert hello.count("processqueue") == 0 and hello.count("ingest_pending") == 0
    assert not (hello.root / ".work").exists() or not any((hello.root / ".work").iterdir())

    assert process(hello) == 0
    assert "made 0 file(s)" in capsys.readouterr().out
    assert hello.count("file") == 20


@pytest.mark.parametrize("new_version, expected", [("1.1.0", "1.1.0"), ("1.0.1", "1.0.1")])
def test_new_input_version_remakes_neighbours(hello, capsys, new_version, expected):
    load_and_ingest(hello)
    assert process(hello, "-q") == 0
    hello.add_incoming(f"hello_a_L0_20250103_v{new_version}.txt", "100\n")
    assert process_queue.main(["-i", "-m", hello.db_url, "-q"]) == 0
    capsys.readouterr()
    assert process(hello) == 0
    out = capsys.readouterr().out
    assert "made 6 file(s)" in out, out
    l1 = files(hello, "hello_L1_")
    remade = sorted(n for n in l1 if f"_v{expected}" in n)
    assert remade == [f"hello_L1_{d}_v{expected}.txt" for d in ("20250102", "20250103",
                                                                 "20250104")]
    assert len(files(hello, "hello_L2_")) == 8  # 5 first versions, 3 remade
    assert (hello.root / f"L1/2025/hello_L1_20250103_v{expected}.txt").read_text() == \
        "20250103 4 153\n"


def test_forced_bump_from_the_queue(hello, capsys):
    load_and_ingest(hello)
    assert process(hello, "-q") == 0
    (file_id,) = [r.file_id for n, r in files(hello, "hello_b_L0_20250105").items()]
    engine = hello.engine()
    import sqlalchemy as sa
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO processqueue (file_id, version_bump) VALUES (:f, 2)"),
                     {"f": file_id})
    engine.dispose()
    assert process(hello) == 0
    assert "hello_L1_20250105_v1.0.1.txt" in files(hello, "hello_L1_")


def test_failing_code_writes_prob_and_the_rest_goes_on(hello, capsys):
    (hello.root / "codes" / "hello_L1toL2.py").write_text(
        "#!/usr/bin/env python3\nimport sys\nprint('something broke on', sys.argv[1][-30:])\nsys.exit(3)\n")
    load_and_ingest(hello)
    capsys.readouterr()
    assert process(hello) == 1
    out = capsys.readouterr().out
    assert "made 5 file(s), 0 RUN-process run(s), 5 failed" in out
    prob = hello.errordir() / "hello_L2_20250102_v1.0.0.txt.prob"
    text = prob.read_text()
    assert "hello_L1toL2.py" in text.splitlines()[0] and "exited with status 3" in text
    assert "something broke on" in text
    assert files(hello, "hello_L2_") == {}
    assert hello.count("processqueue") == 0
    (comment,) = [r[0] for r in hello.query(
        "SELECT comment FROM logging ORDER BY logging_id DESC")[:1]]
    assert "5 run(s) failed" in comment


def test_a_code_missing_from_disk_is_named_as_the_failure(hello, capsys):
    """The L1 code's file gone (renamed, a failed deploy): each run fails saying the
    code cannot be started and where it was looked for, not a bare exit status."""
    code = hello.root / "codes" / "hello_L0toL1.py"
    load_and_ingest(hello)
    code.rename(code.with_name("moved.py"))
    capsys.readouterr()
    assert process(hello) == 1
    out = capsys.readouterr().out
    reason = f"cannot start the code: No such file or directory: {code}"
    assert f"FAILED hello_L0toL1 2025-01-02: {reason}" in out
    assert "made 0 file(s), 0 RUN-process run(s), 5 failed" in out
    prob = (hello.errordir() / "hello_L1_20250102_v1.0.0.txt.prob").read_text()
    assert prob.splitlines()[0].startswith(f"{code} ")  # run as it is, not under python
    assert f"# {reason}" in prob
    messages = {r[0] for r in hello.query(
        "SELECT message FROM job_event WHERE state = 'failed'")}
    assert messages == {reason}


@pytest.mark.parametrize("body, reason", [
    ("os.symlink('/etc/hostname', sys.argv[-1])",
     "exited 0 but its output is a symbolic link (to /etc/hostname), not a file"),
    ("os.mkdir(sys.argv[-1])", "exited 0 but its output is a directory, not a file"),
    ("open(os.path.join(os.path.dirname(sys.argv[-1]), 'l2.txt'), 'w').write('x')",
     "exited 0 but made no output file (it left: l2.txt)"),
])
def test_an_output_that_is_not_a_file_is_a_failure(hello, capsys, body, reason):
    """A code that exits 0 with a symbolic link, a directory or a wrong name where
    its output should be: the run failed, saying which; nothing is archived (a
    link would have been archived as a link, its checksum that of its target)."""
    (hello.root / "codes" / "hello_L1toL2.py").write_text(
        f"#!/usr/bin/env python3\nimport os, sys\n{body}\n")
    load_and_ingest(hello)
    capsys.readouterr()
    assert process(hello) == 1
    out = capsys.readouterr().out
    assert f"FAILED hello_L1toL2 2025-01-02: {reason} (see " in out
    assert "made 5 file(s), 0 RUN-process run(s), 5 failed" in out
    assert files(hello, "hello_L2_") == {}
    assert not list((hello.root / "L2").rglob("*"))
    assert {r[0] for r in hello.query(
        "SELECT message FROM job_event WHERE state = 'failed'")} == {reason}


SLEEPER = ("#!/usr/bin/env python3\nimport time, subprocess, sys\n"
           "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
           "time.sleep(60)\n")


def l2_code_with_a_second(hello, text: str) -> None:
    """The L2 code replaced by *text*, with a code_timeout of 1 s; loaded and ingested."""
    (hello.root / "codes" / "hello_L1toL2.py").write_text(text)
    hello.config.write_text(hello.config.read_text().replace("code_timeout = 60",
                                                             "code_timeout = 1"))
    load_and_ingest(hello)


def test_code_timeout_kills_the_run_and_its_children(hello, capsys):
    l2_code_with_a_second(hello, SLEEPER)
    capsys.readouterr()
    began = time.monotonic()
    assert process(hello, "-n", "4", "--timeout", "30") == 1
    assert time.monotonic() - began < 25
    out = capsys.readouterr().out
    assert "timed out after 1 s and was killed" in out  # the code's own limit wins
    assert (hello.errordir() / "hello_L2_20250101_v1.0.0.txt.prob").exists()


def test_a_code_that_closes_its_output_is_still_timed(hello, capsys):
    """A code that closes stdout and stderr, then runs on: its timeout still kills it
    (the end of its output is not its end), and what it printed is kept."""
    l2_code_with_a_second(
        hello, "#!/usr/bin/env python3\nimport os, sys, time\n"
        "print('closing now', flush=True)\nos.close(1)\nos.close(2)\ntime.sleep(60)\n")
    capsys.readouterr()
    began = time.monotonic()
    assert process(hello, "-n", "4", "-o", "hello_L0toL1,hello_L1toL2") == 1
    assert time.monotonic() - began < 25
    assert "timed out after 1 s and was killed" in capsys.readouterr().out
    prob = (hello.errordir() / "hello_L2_20250103_v1.0.0.txt.prob").read_text()
    assert prob.splitlines()[1:] == ["# timed out after 1 s and was killed", "closing now"]


def test_command_line_timeout_for_codes_without_one(hello, capsys):
    (hello.root / "codes" / "hello_L0toL1.py").write_text(SLEEPER)
    load_and_ingest(hello)
    capsys.readouterr()
    began = time.monotonic()
    assert process(hello, "-o", "hello_L0toL1", "--timeout", "1", "-n", "4") == 1
    assert time.monotonic() - began < 25
    assert "5 failed" in capsys.readouterr().out


def test_dry_run_changes_nothing(hello, capsys):
    load_and_ingest(hello)
    before = sorted(str(p) for p in hello.root.rglob("*"))
    queue = hello.count("processqueue")
    capsys.readouterr()
    assert process(hello, "-d") == 0
    out = capsys.readouterr().out
    assert "would run hello_L0toL1 2025-01-02: make hello_L1_20250102_v1.0.0.txt" in out
    assert "because new output" in out
    assert sorted(str(p) for p in hello.root.rglob("*")) == before
    assert hello.count("processqueue") == queue and hello.count("file") == 10


def test_only_and_skip_run(hello, capsys):
    load_and_ingest(hello)
    capsys.readouterr()
    assert process(hello, "-o", "hello_L0toL1") == 0
    assert "made 5 file(s), 0 RUN" in capsys.readouterr().out
    assert files(hello, "hello_L2_") == {}
    assert process(hello, "-s") == 0
    assert not (hello.root / "report.txt").exists()
    assert process(hello, "-o", "nope") == 2
    assert "no process 'nope'" in capsys.readouterr().err


def test_format_without_version_is_a_clear_error(hello, capsys):
    l1_without_version_then_a_new_input(hello)
    capsys.readouterr()
    assert process(hello, "-o", "hello_L0toL1") == 0
    out = capsys.readouterr().out
    assert "has no {VERSION}" in out and "3 not possible" in out


@pytest.mark.parametrize("sig, code, said", [(signal.SIGINT, 130, "interrupted"),
                                             (signal.SIGTERM, 143, "terminated")])
def test_an_interrupted_run_stops_its_codes_and_starts_no_more(hello, sig, code, said):
    """Ctrl-C or SIGTERM (cron's timeout) while a code runs: ProcessQueue -p kills
    it (with its process group) and starts none of the others, at once; nothing
    is recorded and the queue stays, so the next run makes every output."""
    good = (hello.root / "codes" / "hello_L0toL1.py").read_text()
    (hello.root / "codes" / "hello_L0toL1.py").write_text(LINGERER)
    load_and_ingest(hello)
    queued = hello.count("processqueue")
    started = hello.root / "started.txt"
    child = subprocess.Popen(
        [sys.executable, str(REPO / "scripts" / "ProcessQueue.py"), "-m", hello.db_url, "-p",
         "-n", "1", "-o", "hello_L0toL1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    try:
        deadline = time.monotonic() + 60
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert started.exists(), "the first code never started"
        time.sleep(0.2)  # past the first line
        child.send_signal(sig)
        began = time.monotonic()
        _, err = child.communicate(timeout=30)
        assert time.monotonic() - began < 10  # not after the other codes (60 s each)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == code
    assert err.strip().splitlines()[-1] == f"ProcessQueue: {said}"
    (line,) = started.read_text().splitlines()  # one code started, no other
    pid = int(line.split()[0])
    time.sleep(0.2)
    assert not alive(pid)
    assert files(hello, "hello_L1_") == {} and hello.count("processqueue") == queued
    (hello.root / "codes" / "hello_L0toL1.py").write_text(good)
    assert hello.run("-p", "-o", "hello_L0toL1").returncode == 0
    assert len(files(hello, "hello_L1_")) == 5


@pytest.mark.slow
@pytest.mark.parametrize("kill", ["output_recorded:3", "wave_done:1", "output_recorded:9"])
def test_sigkill_during_processing_loses_nothing(hello, kill):
    load_and_ingest(hello)
    result = hello.run("-p", env={"DBPROCESSING_KILL_AT": kill})
    assert result.returncode == -signal.SIGKILL, result.stderr
    result = hello.run("-p")
    assert result.returncode == 0, result.stderr
    l1, l2 = files(hello, "hello_L1_"), files(hello, "hello_L2_")
    assert sorted(l1) == [f"hello_L1_{d}_v1.0.0.txt" for d in L1_DATES]
    assert len(l2) == 5
    on_disk = sorted(p.name for p in (hello.root / "L1").rglob("*") if p.is_file())
    assert on_disk == sorted(l1)
    assert sorted(p.name for p in (hello.root / "L2").rglob("*") if p.is_file()) == sorted(l2)
    assert hello.count("processqueue") == 0 and hello.count("ingest_pending") == 0
    assert hello.count("filecodelink") == 10
    assert not list(Path(hello.root).rglob(".*.partial"))


def test_a_failure_when_the_error_directory_cannot_be_written(hello, capsys, tmp_path,
                                                            monkeypatch):
    """A file where the error directory should be: a failing run is still a failed
    run (it stopped -p with FileExistsError), its .prob's text goes to the log."""
    monkeypatch.setenv("DBPROCESSING_LOG_DIR", str(tmp_path / "logs"))
    (hello.root / "codes" / "hello_L1toL2.py").write_text(
        "#!/usr/bin/env python3\nimport sys\nprint('broke on', sys.argv[-1][-30:])\n"
        "sys.exit(4)\n")
    load_and_ingest(hello)
    hello.errordir().write_text("in the way\n")
    capsys.readouterr()
    assert process(hello) == 1
    out = capsys.readouterr().out
    assert "made 5 file(s), 0 RUN-process run(s), 5 failed" in out
    assert (f"FAILED hello_L1toL2 2025-01-02: exited with status 4 (no .prob: cannot write "
            f"in {hello.errordir()}: File exists; see the log)") in out
    log = "".join(p.read_text() for p in (tmp_path / "logs").iterdir())
    assert "its .prob would have said:" in log and "broke on" in log
    assert {r[0] for r in hello.query("SELECT log_path FROM job_event "
                                      "WHERE state = 'failed'")} == {None}


def test_a_work_directory_that_cannot_be_made_stops_before_any_run(hello, capsys):
    """A file named .work in the mission root: one line, exit 2, the queue kept."""
    load_and_ingest(hello)
    queued = hello.count("processqueue")
    (hello.root / ".work").write_text("not ours to remove\n")
    capsys.readouterr()
    assert process(hello) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"ProcessQueue: error: cannot make the work directory {hello.root / '.work'}, "
        f"where codes run: File exists"]
    assert hello.count("processqueue") == queued and hello.count("file") == 10
    assert (hello.root / ".work").read_text() == "not ours to remove\n"


def test_an_output_directory_that_cannot_be_made_is_a_failed_run(hello, capsys):
    """A file where the L1 year directory should be: each L1 run fails saying so,
    its output goes to the error directory, nothing is recorded; cleared, the
    retry makes them."""
    load_and_ingest(hello)
    (hello.root / "L1").mkdir()
    (hello.root / "L1" / "2025").write_text("in the way\n")
    capsys.readouterr()
    assert process(hello, "--retry-after", "0") == 1
    out = capsys.readouterr().out
    assert (f"FAILED hello_L0toL1 2025-01-02: cannot make its archive directory "
            f"{hello.root / 'L1' / '2025'}: File exists") in out
    assert files(hello, "hello_L1_") == {} and hello.count("ingest_pending") == 0
    assert (hello.errordir() / "hello_L1_20250102_v1.0.0.txt").exists()
    (hello.root / "L1" / "2025").unlink()
    assert process(hello) == 0
    assert len(files(hello, "hello_L1_")) == 5 and len(files(hello, "hello_L2_")) == 5


@pytest.mark.slow
def test_a_recorded_output_whose_move_fails_waits_and_is_kept(hello):
    """Killed after recording an L1 output, then its directory blocked: the next runs
    say which output cannot be moved (exit 1), keep it in its work directory (not
    cleared) and its promise; cleared, the next run moves it and goes on."""
    load_and_ingest(hello)
    result = hello.run("-p", env={"DBPROCESSING_KILL_AT": "output_recorded:1"})
    assert result.returncode == -signal.SIGKILL, result.stderr
    names = sorted(r[0] for r in hello.query(
        "SELECT f.filename FROM file f JOIN ingest_pending p ON p.file_id = f.file_id"))
    assert names  # recorded together before the first move
    year = hello.root / "L1" / "2025"
    assert not list(year.iterdir())  # killed before the first move
    year.rmdir()
    year.write_text("in the way\n")
    for _ in range(2):
        result = hello.run("-p", "-v", "--retry-after", "0")
        assert result.returncode == 1
        for name in names:
            assert f"is recorded but cannot be moved to {year / name}: Not a directory" \
                in result.stdout
            assert [p.name for p in (hello.root / ".work").rglob(name)] == [name]
        assert f"{len(names)} recorded file(s) not yet moved into the archive" \
            in result.stdout
        assert hello.count("ingest_pending") == len(names)
    year.unlink()
    result = hello.run("-p")
    assert result.returncode == 0, result.stdout + result.stderr
    assert hello.count("ingest_pending") == 0
    assert sorted(p.name for p in year.iterdir()) == sorted(files(hello, "hello_L1_"))
    assert len(files(hello, "hello_L1_")) == 5 and len(files(hello, "hello_L2_")) == 5


PERIOD_CONF = hello_header("summary") + """
[product_period]
product_name = hello_period
relative_path = period
level = 3
format = hello_period_{Y}{m}{d}_v{VERSION}.txt
inspector_filename = period.py
inspector_relative_path = .
inspector_version = 1.0.0
inspector_date_written = 2025-01-01

[process_period]
process_name = hello_period
output_product = product_period
output_timebase = TIMEBASE
required_input1 = hello_counter_L1
code_filename = count.py
code_relative_path = .
code_start_date = 2020-01-01
code_stop_date = 2030-12-31
code_version = 1.0.0
code_date_written = 2025-01-01
"""
PERIOD_PLUGIN = """
import datetime
from dbprocessing import inspector

class Inspector(inspector.inspector):
    code_name = 'period.py'

    def inspect(self, kwargs):
        if not self.basename.startswith('hello_period_'):
            return None
        day = self.extract_YYYYMMDD()
        self.diskfile.params['utc_file_date'] = day.date()
        self.diskfile.params['utc_start_time'] = day
        self.diskfile.params['utc_stop_time'] = day
        self.diskfile.params['version'] = inspector.extract_Version(self.basename)
        return True
"""
COUNT = ("#!/usr/bin/env python3\nimport sys\n"
         "open(sys.argv[-1], 'w').write('%d\\n' % (len(sys.argv) - 2))\n")


@pytest.mark.parametrize("timebase, expected", [
    ("WEEKLY", {"20241230": 6, "20250106": 1}),
    ("MONTHLY", {"20241201": 1, "20250101": 6}),
    ("YEARLY", {"20240101": 1, "20250101": 6}),
])
def test_period_timebases(hello, capsys, timebase, expected):
    # Data on Dec 31 and Jan 6 as well: L1 files from 2024-12-31 to 2025-01-06.
    hello.add_incoming("hello_a_L0_20241231_v1.0.0.txt", "1\n")
    hello.add_incoming("hello_a_L0_20250106_v1.0.0.txt", "6\n")
    load_and_ingest(hello)
    (hello.root / "inspectors" / "period.py").write_text(PERIOD_PLUGIN)
    (hello.root / "codes" / "count.py").write_text(COUNT)
    (hello.root / "codes" / "count.py").chmod(0o755)
    conf = hello.root / "period.conf"
    conf.write_text(PERIOD_CONF.replace("TIMEBASE", timebase))
    assert add_from_config.main(["-m", hello.db_url, str(conf)]) == 0
    assert process(hello, "-q") == 0
    made = {p.name.split("_")[2]: int(p.read_text())
            for p in (hello.root / "period").iterdir()}
    assert made == expected


TIMED = ("#!/usr/bin/env python3\nimport sys, time\n"
         "log = open(sys.argv[1], 'a')\nstart = time.time()\ntime.sleep(0.4)\n"
         "open(sys.argv[-1], 'w').write('x\\n')\n"
         "log.write('%f %f\\n' % (start, time.time()))\n")


@pytest.mark.parametrize("cpu, slots, overlap", [(1, 2, True), (2, 2, False), (1, 1, False)])
def test_cpu_counts_against_n(hello, cpu, slots, overlap):
    """The slots limit what runs at once (the runner has more threads than slots)."""
    log = hello.root / "runs.log"
    (hello.root / "codes" / "hello_L0toL1.py").write_text(TIMED)
    conf = hello.config.read_text().replace("code_arguments = --label {DATE}",
                                            f"code_arguments = {log}", 1)
    hello.config.write_text(conf.replace("code_cpu = 1", f"code_cpu = {cpu}", 1))
    load_and_ingest(hello)
    assert process(hello, "-o", "hello_L0toL1", "-n", str(slots), "-q") == 0
    spans = sorted(tuple(map(float, line.split())) for line in log.read_text().splitlines())
    assert len(spans) == 5
    overlaps = any(b[0] < a[1] for a, b in zip(spans, spans[1:], strict=False))
    assert overlaps is overlap


# Logs its working directory and what was in it, may leave a file behind.
IN_WORKDIR = ("#!/usr/bin/env python3\nimport os, sys, time\n"
              "open(sys.argv[1], 'a').write('%s %s\\n' % (os.getcwd(), sorted(os.listdir('.'))))\n"
              "time.sleep(0.5)\nLEAVE\nopen(sys.argv[-1], 'w').write('x\\n')\n")


@pytest.mark.parametrize("leave", [False, True])
def test_each_run_starts_in_an_empty_work_directory(hello, leave):
    """The local runner hands a recorded run's empty work directory to a later
    run; one a code left a file in is removed instead."""
    log = hello.root / "cwd.log"
    (hello.root / "codes" / "hello_L0toL1.py").write_text(IN_WORKDIR.replace(
        "LEAVE", "open('scratch.tmp', 'w').write('x')" if leave else "pass"))
    hello.config.write_text(hello.config.read_text().replace(
        "code_arguments = --label {DATE}", f"code_arguments = {log}", 1))
    load_and_ingest(hello)
    assert process(hello, "-o", "hello_L0toL1", "-n", "1", "-q") == 0
    runs = [line.split(" ", 1) for line in log.read_text().splitlines()]
    assert len(runs) == 5 and len(files(hello, "hello_L1_")) == 5
    assert all(listing == "[]" for _, listing in runs)  # nothing of an earlier run
    directories = {cwd for cwd, _ in runs}
    if leave:
        assert len(directories) == 5
    else:  # 0.5 s runs, one at a time: the first directories come back
        assert len(directories) < 5
    assert all(Path(cwd).parent == hello.root / ".work" for cwd in directories)
    assert not any((hello.root / ".work").iterdir())


def test_an_output_directory_outside_the_mission_root_is_refused(hello, capsys):
    """The planner places outputs through the archive's one checked path: a
    relative_path that climbs out of rootdir names no output and writes nothing."""
    hello.config.write_text(hello.config.read_text().replace(
        "relative_path = L1/{Y}", "relative_path = ../outside/L1/{Y}"))
    load_and_ingest(hello)
    capsys.readouterr()
    code = process(hello, "-o", "hello_L0toL1")
    out = capsys.readouterr().out
    assert code == 0  # a plan that cannot be made is reported, as a missing {VERSION} is
    assert "leaves the mission root" in out and "not possible" in out
    assert not (hello.root.parent / "outside").exists()
    assert files(hello, "hello_L1") == {}


class _AllAtOnce:
    """The local executor, handing a wave's results back only once every run has
    finished, all of them ready together (a controller far behind its codes)."""

    def run(self, plans, tree):
        return _Ready(list(run_plans(plans, tree, 2)))


class _Ready:
    def __init__(self, results: list) -> None:
        self.results = results

    def __iter__(self):
        return self

    def __next__(self):
        if not self.results:
            raise StopIteration
        return self.results.pop(0)

    def wait(self, timeout: float) -> bool:
        return bool(self.results)


def test_finished_runs_wait_for_the_next_only_while_runs_are_left(hello):
    """What lets the pipeline record runs finishing close together in one
    transaction: the local runner's results ``wait`` for the next."""
    tree, plans = first_wave(hello)
    assert len(plans) == 5  # the five L1 dates
    take_waiting(run_plans(plans, tree, 2), plans)


def test_runs_that_finish_together_are_recorded_in_one_transaction(hello, capsys):
    load_and_ingest(hello)
    engine = hello.engine()
    file_inserts = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if statement.startswith("INSERT INTO file "):
            file_inserts.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        with Session(engine) as session:
            tree = load_mission(session)
        summary = process_the_queue(engine, tree, RunSettings(executor=_AllAtOnce()))
    finally:
        engine.dispose()
    assert (summary.made, summary.ran, summary.failed) == (10, 5, [])
    assert len(file_inserts) == 2  # the 5 L1 outputs, then the 5 L2 outputs
    # The same rows as one transaction per output (test_example_chain_then_nothing_to_do).
    l1, l2 = files(hello, "hello_L1_"), files(hello, "hello_L2_")
    assert sorted(l1) == [f"hello_L1_{d}_v1.0.0.txt" for d in L1_DATES]
    for name, row in {**l1, **l2}.items():
        level = "L1" if name.startswith("hello_L1") else "L2"
        assert sha1(hello.root / level / name.split("_")[2][:4] / name) == row.shasum
        assert name.split("_")[2] in row.verbose_provenance  # its own command line
    assert _sources_of_jan2(hello, l1) == JAN2_SOURCES
    for name, start, unix_start in hello.query(
            "SELECT f.filename, f.utc_start_time, u.unix_start FROM file f "
            "JOIN unixtime u ON u.file_id = f.file_id"):
        if isinstance(start, str):  # SQLite hands the raw text back
            start = datetime.datetime.fromisoformat(start)
        assert calendar.timegm(start.timetuple()) == unix_start, name
    assert hello.count("unixtime") == hello.count("file") == 20
    assert hello.count("filecodelink") == 10
    assert hello.count("processqueue") == 0 and hello.count("ingest_pending") == 0
    assert not any((hello.root / ".work").iterdir())
    capsys.readouterr()
    assert process(hello) == 0
    assert "made 0 file(s), 0 RUN-process run(s)" in capsys.readouterr().out
