"""The processing lock: atomic, refuses live holders, takes over dead ones, clearable."""
from __future__ import annotations

import datetime
import socket
import subprocess
import sys
import textwrap

import pytest

from dbprocessing.cli import clear_processing_flag, process_queue
from dbprocessing.lock import pid_alive

from .missions import REPO, Product, build_mission

SLOW = Product("slow", "s_{Y}{m}{d}.dat", textwrap.dedent('''
    import datetime, time
    from dbprocessing import inspector, Version

    class Inspector(inspector.inspector):
        code_name = 'slow'

        def inspect(self, kwargs):
            time.sleep(float(kwargs.get('sleep', 0)))
            day = self.extract_YYYYMMDD()
            if day is None:
                return None
            self.diskfile.params['utc_file_date'] = day.date()
            self.diskfile.params['utc_start_time'] = day
            self.diskfile.params['utc_stop_time'] = day
            self.diskfile.params['version'] = Version.Version(1, 0, 0)
            return True
    '''), arguments="sleep=3")


@pytest.fixture
def mission(created_db, tmp_path, monkeypatch):
    monkeypatch.setenv("DBPROCESSING_LOG_DIR", str(tmp_path / "logs"))
    return build_mission(tmp_path / "m", created_db, [SLOW])


def insert_lock(m, pid: int, host: str, start: datetime.datetime | None = None) -> None:
    engine = m.engine()
    import sqlalchemy as sa
    with engine.begin() as conn:
        conn.execute(sa.text(
            'INSERT INTO logging (currently_processing, pid, processing_start_time, '
            'mission_id, "user", hostname) VALUES (true, :pid, :start, 1, \'someone\', :host)'),
            {"pid": pid, "host": host,
             "start": start or datetime.datetime(2025, 1, 1, 12, 0, 0)})
    engine.dispose()


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_live_holder_on_this_host_is_refused(mission, capsys):
    import os
    insert_lock(mission, os.getpid(), socket.gethostname(), datetime.datetime.utcnow())
    mission.add_incoming("s_20250101.dat")
    assert process_queue.main(["-i", "-m", mission.db_url, "-v"]) == 3
    err = capsys.readouterr().err
    assert f"pid {os.getpid()} on {socket.gethostname()}" in err and "started" in err
    assert mission.count("file") == 0 and (mission.incoming / "s_20250101.dat").exists()


def test_dead_holder_on_this_host_is_taken_over(mission, tmp_path, capsys):
    pid = dead_pid()
    assert not pid_alive(pid)
    insert_lock(mission, pid, socket.gethostname())
    mission.add_incoming("s_20250101.dat")
    assert process_queue.main(["-i", "-m", mission.db_url]) == 0
    rows = mission.query("SELECT pid, currently_processing, comment, processing_end_time "
                         "FROM logging ORDER BY logging_id")
    assert len(rows) == 2
    old, new = rows
    assert not old.currently_processing and "was dead" in old.comment and old.processing_end_time
    assert not new.currently_processing and "took the lock over from dead pid" in new.comment
    assert new.comment.startswith("Nominal Exit")
    log = "".join(p.read_text() for p in (tmp_path / "logs").iterdir())
    assert "lock taken over" in log and "WARNING" in log


def test_holder_on_another_host_is_refused_until_cleared(mission, capsys):
    insert_lock(mission, 1, "some-other-host")
    mission.add_incoming("s_20250101.dat")
    assert process_queue.main(["-i", "-m", mission.db_url, "-v"]) == 3
    err = capsys.readouterr().err
    assert "some-other-host" in err and "clearProcessingFlag" in err
    assert clear_processing_flag.main([mission.db_url, "node crashed overnight"]) == 0
    assert "cleared the lock of pid 1 on some-other-host" in capsys.readouterr().out
    (comment,), = [r[:1] for r in mission.query("SELECT comment FROM logging")]
    assert comment == "cleared by clearProcessingFlag: node crashed overnight"
    assert process_queue.main(["-i", "-m", mission.db_url]) == 0
    assert clear_processing_flag.main([mission.db_url, "again"]) == 0
    assert "nothing to clear" in capsys.readouterr().out


def test_a_lock_held_too_long_is_said_under_cron(mission, capsys):
    """With no terminal a held lock is a log record only, until it has been held
    longer than --stuck-after: then one line on stderr, for cron to mail."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    insert_lock(mission, 1, "some-other-host", now - datetime.timedelta(hours=30))
    mission.add_incoming("s_20250101.dat")
    capsys.readouterr()
    assert process_queue.main(["-i", "-m", mission.db_url, "-q"]) == 3
    err = capsys.readouterr().err
    assert "some-other-host" in err and "clearProcessingFlag" in err
    assert "held for 30.0 hours, more than --stuck-after 24" in err
    for limit in ("48", "never"):
        assert process_queue.main(["-i", "-m", mission.db_url, "-q",
                                   "--stuck-after", limit]) == 3
        assert capsys.readouterr().err == ""
    with pytest.raises(SystemExit) as info:
        process_queue.main(["-i", "-m", mission.db_url, "--stuck-after", "soon"])
    assert info.value.code == 2
    assert "--stuck-after: not a number of hours or 'never'" in capsys.readouterr().err
    assert mission.count("file") == 0 and (mission.incoming / "s_20250101.dat").exists()


@pytest.mark.slow
def test_two_runs_started_together_exactly_one_proceeds(mission):
    mission.add_incoming("s_20250101.dat")
    script = REPO / "scripts" / "ProcessQueue.py"
    runs = [subprocess.Popen([sys.executable, str(script), "-i", "-m", mission.db_url, "-v"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for _ in range(3)]
    codes = sorted(run.wait(timeout=120) for run in runs)
    errors = [run.stderr.read() for run in runs]
    assert codes == [0, 3, 3], errors
    assert sum("holds the processing lock" in e for e in errors) == 2
    assert mission.count("file") == 1
    assert mission.count("logging") == 1


def test_lock_released_with_error_comment_when_run_fails(mission, capsys):
    # The incoming directory is a file: listing it fails inside the locked block.
    import shutil
    shutil.rmtree(mission.incoming)
    mission.incoming.write_text("not a directory")
    assert process_queue.main(["-i", "-m", mission.db_url]) == 2
    assert "cannot list the incoming directory" in capsys.readouterr().err
    (running, comment, end), = mission.query(
        "SELECT currently_processing, comment, processing_end_time FROM logging")
    assert not running and comment.startswith("Error: UsageError") and end is not None


def test_pid_reuse_counts_as_dead():
    import os
    # This process started before "now": a lock taken long ago by another process
    # that had our pid cannot be ours.
    assert pid_alive(os.getpid(), datetime.datetime.utcnow())
    assert not pid_alive(os.getpid(), datetime.datetime(2000, 1, 1))
