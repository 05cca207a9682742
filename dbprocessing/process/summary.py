"""What a ``ProcessQueue -p`` run did (``ProcessSummary``), and the run that finds
nothing to do.

``idle_process`` answers, through Core only (db/core.py), whether processing
has anything to do: nothing queued, no failed run waiting for a retry, no
move promised by an interrupted run and no work directory left by a killed
one.  Then the run is over without importing the ORM, the models, the
planner or the plugins (ProcessQueue -p under cron, most of the time).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine, select

from ..db import core
from ..mission.tree import MissionTree
from .runner import WORK


@dataclass
class ProcessSummary:
    made: int = 0
    ran: int = 0          # RUN-timebase runs (no output)
    failed: list[str] = field(default_factory=list)
    up_to_date: int = 0
    blocked: list[str] = field(default_factory=list)
    waves: int = 0
    planned: int = 0
    recovered: int = 0
    dry_run: bool = False
    stopped: str | None = None  # why processing stopped early (the cluster went away)
    stuck: list[str] = field(default_factory=list)  # ingested files not moved yet: why

    def text(self) -> str:
        if self.dry_run:
            return (f"would run {self.planned} code(s); {self.up_to_date} output(s) up to "
                    f"date, {len(self.blocked)} not possible (dry run: nothing changed)")
        stopped = f"; STOPPED: {self.stopped}, the rest stays queued" if self.stopped else ""
        stuck = (f"; {len(self.stuck)} recorded file(s) not yet moved into the archive"
                 if self.stuck else "")
        return (f"made {self.made} file(s), {self.ran} RUN-process run(s), "
                f"{len(self.failed)} failed, {self.up_to_date} up to date, "
                f"{len(self.blocked)} not possible, in {self.waves} wave(s){stopped}{stuck}")

    @property
    def some_failed(self) -> bool:
        return bool(self.failed or self.stopped or self.stuck)


def idle_process(engine: Engine, tree: MissionTree,
                 dry_run: bool = False) -> ProcessSummary | None:
    """The summary of a processing run with nothing to do, or None when there is
    work (call it where ``process_queue`` would be called: under the lock)."""
    if not dry_run and (tree.rootdir / WORK).exists():
        return None
    tables = (core.processqueue, core.retry) + (() if dry_run else (core.ingest_pending,))
    with engine.connect() as conn:
        for table in tables:
            if conn.execute(select(table.c[0]).limit(1)).first():
                return None
    return ProcessSummary(dry_run=dry_run)
