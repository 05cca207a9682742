"""What an ingest run did (``IngestSummary``), and the run that finds nothing to do.

``idle_ingest`` answers, through Core only (db/core.py), whether an ingest
has anything to do: no move left promised by an interrupted run and nothing
waiting in incoming.  Then the run is over without importing the ORM, the
models or the plugins (ProcessQueue -i under cron, most of the time).
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import Engine, select

from ..db import core
from ..mission.tree import MissionTree
from .incoming import anything_incoming

logger = logging.getLogger(__name__)


@dataclass
class IngestSummary:
    ingested: list[str] = field(default_factory=list)
    rejected: list[tuple[str, str]] = field(default_factory=list)
    recovered: int = 0
    dry_run: bool = False
    no_incoming: str | None = None  # the incoming directory, when it does not exist
    stuck: list[str] = field(default_factory=list)  # recorded, not moved: why (a line each)
    held: list[tuple[str, str]] = field(default_factory=list)  # left in incoming, and why

    def text(self) -> str:
        verb = "would ingest" if self.dry_run else "ingested"
        line = f"{verb} {len(self.ingested)} file(s), "
        line += f"{'would reject' if self.dry_run else 'rejected'} {len(self.rejected)}"
        if self.rejected:
            reasons = Counter(_reason_kind(r) for _, r in self.rejected)
            line += " (" + "; ".join(f"{k}: {n}" for k, n in sorted(reasons.items())) + ")"
        if self.recovered:
            line += f"; finished {self.recovered} move(s) left by an interrupted run"
        if self.held:
            line += (f"; {len(self.held)} held in incoming (an inspector could not be "
                     f"loaded)")
        if self.stuck:
            line += (f"; {len(self.stuck)} recorded but not moved into the archive "
                     f"(kept for the next run)")
        if self.no_incoming:
            line += f" (no incoming directory {self.no_incoming})"
        return line


def _reason_kind(reason: str) -> str:
    return reason.split(" (", 1)[0].split(":", 1)[0]


def idle_ingest(engine: Engine, tree: MissionTree, pattern: str = "*",
                dry_run: bool = False) -> IngestSummary | None:
    """The summary of an ingest with nothing to do, or None when there is work
    (call it where ``ingest_incoming`` would be called: under the lock)."""
    if anything_incoming(tree.incoming, pattern):
        return None
    if not dry_run:  # a dry run does not finish an interrupted run's moves
        with engine.connect() as conn:
            if conn.execute(select(core.ingest_pending.c.file_id).limit(1)).first():
                return None
    if not tree.incoming.exists():  # not an error: a new mission before its first delivery
        logger.info("no incoming directory %s", tree.incoming)
        return IngestSummary(dry_run=dry_run, no_incoming=str(tree.incoming))
    logger.info("0 file(s) waiting in %s", tree.incoming)
    return IngestSummary(dry_run=dry_run)
