"""The event log: what each run planned, did and decided, append-only.

``EventLog.begin`` records an invocation (ProcessQueue or DBRunner, tied to
its ``logging`` row when it holds the lock).  Then:

* ``plan_wave`` records a wave's jobs (the ``job`` rows, one per planned run
  with its code, output, planned version and reasons) and a ``skipped`` event
  for every output not run, with why;
* ``finished`` buffers a finished run's ``started`` event (with the time the
  code really started) and its outcome: ``succeeded`` (with the recorded
  file), ``failed`` or ``timed_out`` (with the exit code and the ``.prob``);
* ``accepted`` and ``rejected`` buffer ingest decisions.

``record_repair`` records one repair made by ``check --fix`` as an
invocation row of its own (command ``check --fix: <kind>``, the repair in
``arguments``, tied to the ``logging`` row of the lock it was made under, or
of the dead lock it released), in the transaction of the repair: the event
log holds no table for repairs, and a repair is rare enough not to need one.

Rows go in through Core inserts of the tables (one executemany per flush;
the ORM's bulk insert would split rows by which columns are NULL).
Buffered rows reach the database by ``flush(session)``, which the pipeline
calls just before it commits the work they describe, so the log never claims
what did not happen: an output's ``succeeded`` event commits with its file
row, a batch's ``accepted`` events with its file rows.  A crash can lose the
last few events of work that was never committed either, never the reverse.
"""
from __future__ import annotations

import os
import re
import shlex
import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, Insert, Table, insert

from .db import core
from .db.engine import for_writing, insert_rows
from .lock import user_name, utcnow

if TYPE_CHECKING:  # types only: the event log is written by, not built on, the pipelines
    from sqlalchemy.orm import Session

    from .db.models import Process
    from .process.planner import RunPlan, Skip
    from .process.runner import RunResult


def _table(name: str) -> Table:
    """The models' table *name*, imported when the first job or event is written:
    beginning an invocation (core.invocation) needs no ORM."""
    from .db.models import Base

    return Base.metadata.tables[name]

REPAIR_COMMAND = "check --fix"
# The password of a database URL in an argument ("-m" or "--mission=..."): the
# invocation row is read by anyone who can read the event log.
_PASSWORD = re.compile(r"(://[^/:@\s]*:)[^/\s]*@")  # to the authority's last @


def masked(arguments: Sequence[str]) -> list[str]:
    """*arguments* with the password of any URL among them replaced by ``***``."""
    return [_PASSWORD.sub(r"\1***@", a) for a in arguments]


def record_repair(session: Session, kind: str, text: str, logging_id: int | None) -> None:
    """Add a ``check --fix`` repair to *session* (the caller commits it with the repair)."""
    session.execute(insert(core.invocation), {
        "logging_id": logging_id, "command": f"{REPAIR_COMMAND}: {kind}"[:50],
        "arguments": text, "hostname": socket.gethostname()[:100], "pid": os.getpid(),
        "user": user_name(), "started_at": utcnow()})


@dataclass
class EventLog:
    invocation_id: int
    hostname: str
    job_ids: dict[int, int] = field(default_factory=dict)  # id(RunPlan) -> job_id
    _job_events: list[dict] = field(default_factory=list)
    _ingest_events: list[dict] = field(default_factory=list)
    _job_event_insert: Insert | None = None

    @classmethod
    def begin(cls, engine: Engine, command: str, arguments: list[str],
              logging_id: int | None) -> EventLog:
        """Record the invocation (its own short transaction) and return its log."""
        host = socket.gethostname()[:100]
        with for_writing(engine).begin() as conn:
            invocation_id = conn.execute(
                insert(core.invocation).returning(core.invocation.c.invocation_id),
                {"logging_id": logging_id, "command": command[:50],
                 "arguments": shlex.join(masked(arguments)), "hostname": host,
                 "pid": os.getpid(), "user": user_name(), "started_at": utcnow()}).scalar_one()
        return cls(invocation_id, host)

    # -- processing ----------------------------------------------------------
    def plan_wave(self, session: Session, plans: Sequence[RunPlan], skips: Sequence[Skip],
                  processes: Mapping[int, Process]) -> None:
        """Add the wave's jobs and skipped events to *session* (the caller commits)."""
        now = utcnow()
        rows = [{"invocation_id": self.invocation_id, "process_id": p.process_id,
                 "code_id": p.code_id, "output_product": p.output_product_id,
                 "utc_file_date": p.date,
                 "planned_version": str(p.output_version) if p.output_version else None,
                 "output_name": p.output_name, "reason": "; ".join(p.reasons),
                 "planned_at": now} for p in plans]
        for s in skips:
            assert s.process_id is not None, "the planner names the process of every skip"
            rows.append({"invocation_id": self.invocation_id, "process_id": s.process_id,
                         "code_id": None,
                         "output_product": processes[s.process_id].output_product,
                         "utc_file_date": s.date, "planned_version": None, "output_name": None,
                         "reason": s.reason, "planned_at": now})
        if not rows:
            return
        job = _table("job")
        ids = session.execute(insert(job).returning(job.c.job_id, sort_by_parameter_order=True),
                              rows).scalars().all()
        for plan, job_id in zip(plans, ids, strict=False):  # ids: plans, then skips
            self.job_ids[id(plan)] = job_id
        skipped = ids[len(plans):]
        if skipped:
            session.execute(insert(_table("job_event")), [
                {"job_id": job_id, "state": "skipped", "at": now, "hostname": self.hostname,
                 "exit_code": None, "file_id": None, "output_path": None, "log_path": None,
                 "message": skip.reason} for skip, job_id in zip(skips, skipped, strict=True)])

    def finished(self, result: RunResult, state: str, *, file_id: int | None = None,
                 output_path: str | None = None, log_path: str | None = None,
                 message: str | None = None) -> None:
        """Buffer a finished run's started and outcome events."""
        job_id = self.job_ids.pop(id(result.plan), None)
        if job_id is None:
            return
        base = {"job_id": job_id, "hostname": self.hostname, "file_id": None,
                "output_path": None, "log_path": None, "message": None, "exit_code": None}
        self._job_events.append({**base, "state": "started", "at": result.started_at})
        self._job_events.append({
            **base, "state": state, "at": utcnow(), "exit_code": result.returncode,
            "file_id": file_id, "output_path": output_path, "log_path": log_path,
            "message": message})

    # -- ingest --------------------------------------------------------------
    def accepted(self, filename: str, product_id: int, file_id: int) -> None:
        self._ingest_events.append({"invocation_id": self.invocation_id,
                                    "filename": filename, "accepted": True,
                                    "product_id": product_id, "file_id": file_id,
                                    "reason": None, "at": utcnow()})

    def rejected(self, filename: str, reason: str) -> None:
        self._ingest_events.append({"invocation_id": self.invocation_id,
                                    "filename": filename, "accepted": False,
                                    "product_id": None, "file_id": None,
                                    "reason": reason, "at": utcnow()})

    def flush(self, db: Session | Connection) -> None:
        """Add the buffered events to *db*'s transaction, to commit with the work they
        describe."""
        if self._job_events:
            if self._job_event_insert is None:
                self._job_event_insert = insert(_table("job_event"))
            # On the connection: the session's execute costs more than the insert.
            conn = db if isinstance(db, Connection) else db.connection()
            conn.execute(self._job_event_insert, self._job_events)
            self._job_events = []
        if self._ingest_events:
            insert_rows(db, core.ingest_event, self._ingest_events)
            self._ingest_events = []

    @property
    def pending(self) -> bool:
        return bool(self._job_events or self._ingest_events)
