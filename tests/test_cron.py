"""ProcessQueue as cron runs it (no terminal) and as an operator runs it (a terminal).

Every test runs the installed console script in a child process: under cron
stdin, stdout and stderr are pipes; on a terminal they are a pseudo-terminal
(python's pty module).
"""
from __future__ import annotations

import os
import pty
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from dbprocessing.cli import add_from_config
from dbprocessing.lock import processing_lock
from dbprocessing.mission.tree import load_mission

from .missions import MissionUnderTest

SCRIPT = shutil.which("ProcessQueue") or str(Path(sys.executable).parent / "ProcessQueue")


def cron(m: MissionUnderTest, *args: str, env: dict | None = None):
    """The installed ProcessQueue with no terminal anywhere, as cron starts it."""
    return subprocess.run([SCRIPT, "-m", m.db_url, *args], stdin=subprocess.DEVNULL,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, **(env or {})})


def on_terminal(m: MissionUnderTest, *args: str, timeout: float = 120) -> tuple[int, str]:
    """The installed ProcessQueue on a pseudo-terminal: its exit code and screen text."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: stdin, stdout and stderr are the terminal
        try:
            os.execv(SCRIPT, [SCRIPT, "-m", m.db_url, *args])
        finally:
            os._exit(127)
    out = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 1)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            out += chunk
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status), out.decode("utf-8", "replace")


def configure(m: MissionUnderTest) -> None:
    assert add_from_config.main(["-m", m.db_url, str(m.config)]) == 0


def deliver(m: MissionUnderTest) -> None:
    for path in sorted((m.root / "data").iterdir()):
        m.add_incoming(path.name, path.read_bytes())


def log_text(tmp_path: Path) -> str:
    return "".join(p.read_text() for p in sorted((tmp_path / "logs").glob("*.log.*")))


def test_cron_prints_nothing_when_all_is_well(hello, tmp_path):
    configure(hello)
    for mode in ("-i", "-p"):  # nothing to do
        result = cron(hello, mode)
        assert (result.returncode, result.stdout, result.stderr) == (0, "", ""), mode
    deliver(hello)
    result = cron(hello, "-i")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert hello.count("file") == 10
    result = cron(hello, "-p")
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")
    assert hello.count("file") == 20
    log = log_text(tmp_path)  # the summaries went to the log
    assert "ingested 10 file(s), rejected 0" in log and "made 10 file(s)" in log
    # -v prints a line per run and the summary; -q only the summary.
    result = cron(hello, "-p", "-v")
    assert result.returncode == 0 and "made 0 file(s)" in result.stdout
    result = cron(hello, "-i", "-q")
    assert result.stdout == "ingested 0 file(s), rejected 0\n"


def test_a_missing_incoming_directory_is_named_not_an_error(hello):
    """A new mission before its first delivery has no incoming directory: cron stays
    quiet and the run succeeds, but the summary says why nothing came in."""
    configure(hello)
    assert not hello.incoming.exists()
    assert (cron(hello, "-i").returncode, cron(hello, "-i").stdout) == (0, "")
    result = cron(hello, "-i", "-v")
    assert result.returncode == 0
    assert result.stdout == (f"ingested 0 file(s), rejected 0 (no incoming directory "
                             f"{hello.incoming})\n")
    deliver(hello)
    result = cron(hello, "-i", "-q")
    assert result.stdout == "ingested 10 file(s), rejected 0\n"


HEAVY = ("sqlalchemy.orm", "dbprocessing.db.models", "dbprocessing.process.planner",
         "dbprocessing.ingest.pipeline", "alembic")


def test_a_run_with_nothing_to_do_imports_no_orm_yet_locks_and_logs(hello, tmp_path):
    """Cron's usual run, nothing incoming or queued, answers through Core only (the
    ORM and models are a third of its CPU), and still takes and releases the lock
    and records its invocation; with a file waiting it imports the ingest pipeline,
    which needs no ORM either (Core on db/core.py's tables)."""
    configure(hello)
    probe = ("import sys; from dbprocessing.cli.process_queue import main; "
             "code = main(sys.argv[1:]); "
             f"print(sorted(m for m in {HEAVY!r} if m in sys.modules)); sys.exit(code)")

    def run(*args: str) -> list[str]:
        done = subprocess.run([sys.executable, "-c", probe, "-m", hello.db_url, *args],
                              capture_output=True, text=True, timeout=120)
        assert (done.returncode, done.stderr) == (0, ""), args
        return eval(done.stdout.splitlines()[-1])

    for args in (["-i"], ["-p"], ["-i", "-d"], ["-p", "-d"]):
        assert run(*args) == [], args
    # The two real runs took and released the lock and logged their invocations.
    locks = hello.query("SELECT currently_processing, comment FROM logging")
    assert [tuple(r) for r in locks] == [(False, "Nominal Exit")] * 2
    commands = hello.query("SELECT arguments FROM invocation ORDER BY invocation_id")
    assert [c[0].split()[-1] for c in commands] == ["-i", "-p"]
    deliver(hello)
    assert run("-i") == ["dbprocessing.ingest.pipeline"]
    assert hello.count("file") == 10


def test_cron_prints_what_failed(hello, tmp_path):
    (hello.root / "codes" / "hello_L1toL2.py").write_text(
        "#!/usr/bin/env python3\nimport sys\nsys.exit(3)\n")
    configure(hello)
    deliver(hello)
    hello.add_incoming("nobody_claims_this.txt")
    result = cron(hello, "-i")
    assert result.returncode == 1 and result.stderr == ""
    assert result.stdout.splitlines() == [
        "rejected nobody_claims_this.txt: no product claims it",
        "ingested 10 file(s), rejected 1 (no product claims it: 1)"]
    result = cron(hello, "-p")
    assert result.returncode == 1 and result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == 6 and all(line.startswith("FAILED hello_L1toL2 2025-01-0")
                                   for line in lines[:5])
    assert "exited with status 3" in lines[0]
    assert lines[5].startswith("made 5 file(s), 0 RUN-process run(s), 5 failed")


def test_cron_lock_held_is_a_log_line_and_exit_3(hello, tmp_path):
    configure(hello)
    deliver(hello)
    engine = hello.engine()
    try:
        with Session(engine) as session:
            mission_id = load_mission(session).mission_id
        with processing_lock(engine, mission_id, hello.db_url):  # held by this live pid
            result = cron(hello, "-i")
            assert (result.returncode, result.stdout, result.stderr) == (3, "", "")
            assert "holds the processing lock" in log_text(tmp_path)
            result = cron(hello, "-p", "-v")  # -v: said on stderr too
            assert result.returncode == 3 and "holds the processing lock" in result.stderr
    finally:
        engine.dispose()
    assert hello.count("file") == 0 and len(list(hello.incoming.iterdir())) == 10


def test_unwritable_log_directory_is_one_line(hello, tmp_path):
    configure(hello)
    deliver(hello)
    blocker = tmp_path / "not_a_directory"
    blocker.write_text("a file where the log directory's parent should be\n")
    result = cron(hello, "-i", env={"DBPROCESSING_LOG_DIR": str(blocker / "logs")})
    assert result.returncode == 0 and result.stdout == ""
    (line,) = result.stderr.splitlines()
    assert line.startswith(f"dbprocessing: cannot write the log in {blocker / 'logs'}: ")
    assert "DBPROCESSING_LOG_DIR" in line and "Traceback" not in result.stderr
    assert hello.count("file") == 10  # the run went on


def test_progress_bar_on_a_terminal(hello):
    configure(hello)
    deliver(hello)
    code, screen = on_terminal(hello, "-i")
    assert code == 0, screen
    assert "10/10" in screen and "file/s" in screen  # n of N and the rate
    assert "ingested 10 file(s), rejected 0" in screen
    code, screen = on_terminal(hello, "-p")
    assert code == 0, screen
    # The total grows wave by wave; the bar ends at N of N with its rate and ETA.
    done = re.findall(r"(\d+)/(\d+) \[\d\d:\d\d<\d\d:\d\d", screen)
    assert done and done[-1][0] == done[-1][1] and int(done[-1][1]) >= 10, screen
    assert len({total for _, total in done}) >= 2  # a later wave added its runs
    assert "run/s" in screen and "wave 2" in screen
    assert "made hello_L1_20250101_v1.0.0.txt" in screen
    assert "made 10 file(s)" in screen
    code, screen = on_terminal(hello, "-p", "-q")  # -q: the summary only, no bar
    assert code == 0 and screen.strip() == (
        "made 0 file(s), 0 RUN-process run(s), 0 failed, 0 up to date, 0 not possible, "
        "in 0 wave(s)")


WAIT_FOR_GO = '''#!/usr/bin/env python3
import os, runpy, sys, time
here = os.path.dirname(os.path.abspath(__file__))
while not os.path.exists(os.path.join(here, "go")):
    time.sleep(0.05)
sys.argv[0] = os.path.join(here, "real_L0toL1.py")
runpy.run_path(sys.argv[0], run_name="__main__")
'''


def history(m: MissionUnderTest, *args: str) -> list[dict]:
    import json

    result = subprocess.run([shutil.which("printHistory")
                             or str(Path(sys.executable).parent / "printHistory"),
                             "-m", m.db_url, "--json", *args],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.slow
def test_running_jobs_show_as_running_in_print_history(hello):
    codes = hello.root / "codes"
    shutil.copy(codes / "hello_L0toL1.py", codes / "real_L0toL1.py")
    (codes / "hello_L0toL1.py").write_text(WAIT_FOR_GO)
    configure(hello)
    deliver(hello)
    assert cron(hello, "-i").returncode == 0
    run = subprocess.Popen([SCRIPT, "-m", hello.db_url, "-p", "-n", "2"],
                           stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        jobs: list[dict] = []
        while time.monotonic() < deadline and len(jobs) < 5:
            jobs = history(hello, "--status", "running")
            time.sleep(0.2)
        # The first wave's five L1 jobs: two hold the slots, three wait for one.
        assert sorted(j["date"] for j in jobs) == [f"2025-01-0{d}" for d in range(1, 6)]
        assert {j["state"] for j in jobs} == {"running"}
        assert history(hello, "--status", "planned") == []
        (invocation,) = [i for i in history(hello, "--invocations") if i["running"]]
        assert invocation["command"].startswith("ProcessQueue") and invocation["jobs"] == 5
    finally:
        (codes / "go").write_text("")
        out, err = run.communicate(timeout=120)
    assert run.returncode == 0, (out, err)
    states = {j["state"] for j in history(hello)}
    assert states == {"succeeded"}
    assert not any(i["running"] for i in history(hello, "--invocations"))
