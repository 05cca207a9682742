"""Run times of codes: from the event log, and from the original's log files.

The event log (events.py) records, for every run of a code, a ``started``
event at the time the code really started and an outcome event
(``succeeded``, ``failed`` or ``timed_out``) when it had finished; a run's
time is the difference.  The original dbprocessing logged each run as
``... INFO - Command: <code> took <seconds> seconds``; such lines are read
from log files given by name, so a mission's years of old logs can be
plotted beside the new runs.  Our own daily logs do not carry run times
(the event log does), so reading them finds none.
"""
from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ..db.models import Code, Job, JobEvent, Process
from ..db.queries import find_process
from ..errors import UsageError

OUTCOMES = ("succeeded", "failed", "timed_out")
LOGGED = "logged"  # a run read from a log file: its outcome is not known
# The original's line: "2013-09-04 21:31:00,063 - runMe:105 - INFO - Command:
# run_hope_L0toL05_v1.4.1.py took 160.020385027 seconds".
_ORIGINAL_LINE = re.compile(
    r"^(?P<stamp>\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d)?.*?INFO - Command: (?P<code>\S+) "
    r"took (?P<seconds>[0-9.]+(?:[eE][-+]?\d+)?) seconds")


@dataclass(frozen=True)
class RunTime:
    code: str       # the code's filename
    process: str    # its process's name ("" when read from a log file)
    seconds: float
    outcome: str    # succeeded, failed, timed_out, or logged


def event_run_times(session: Session, processes: list[str] | None = None,
                    since: datetime.date | None = None) -> list[RunTime]:
    """Every finished run in the event log (of *processes*, names or ids; started
    on or after *since*), oldest first."""
    started, ended = aliased(JobEvent), aliased(JobEvent)
    query = (select(Code.filename, Process.process_name, started.at, ended.at, ended.state)
             .join(Job, Job.code_id == Code.code_id)
             .join(Process, Process.process_id == Job.process_id)
             .join(started, (started.job_id == Job.job_id) & (started.state == "started"))
             .join(ended, (ended.job_id == Job.job_id) & ended.state.in_(OUTCOMES))
             .order_by(started.job_event_id))
    if processes:
        query = query.where(Job.process_id.in_(
            [find_process(session, p).process_id for p in processes]))
    if since is not None:
        query = query.where(started.at >= datetime.datetime.combine(since, datetime.time()))
    return [RunTime(code, process, max((end - start).total_seconds(), 0.0), state)
            for code, process, start, end, state in session.execute(query)]


def codes_of(session: Session, processes: list[str]) -> set[str]:
    """The code filenames of *processes* (to filter log files, which name codes only)."""
    ids = [find_process(session, p).process_id for p in processes]
    return set(session.scalars(select(Code.filename).where(Code.process_id.in_(ids))))


def log_run_times(paths: list[Path], codes: set[str] | None = None,
                  since: datetime.date | None = None) -> list[RunTime]:
    """Runs logged by the original in the log files *paths* (of *codes* only, when
    given; on or after *since*, for lines that carry their time)."""
    found = []
    for path in paths:
        try:
            text = Path(path).read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            raise UsageError(f"cannot read log file {path}: {exc.strerror or exc}") from None
        for line in text.splitlines():
            match = _ORIGINAL_LINE.search(line)
            if match is None or (codes is not None and match["code"] not in codes):
                continue
            if since is not None and match["stamp"]:
                if datetime.date.fromisoformat(match["stamp"][:10]) < since:
                    continue
            found.append(RunTime(match["code"], "", float(match["seconds"]), LOGGED))
    return found
