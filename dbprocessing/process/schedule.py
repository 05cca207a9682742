"""What the next ``ProcessQueue -p`` does: the queue's waves, then failed runs to retry.

A run that fails leaves a ``retry`` row for its target (process, date,
keywords) with the forced bump it was planned with, the code that failed,
the attempt count and ``not_before``: the failure time plus the back-off
(``--retry-after`` hours, default ``RETRY_AFTER_HOURS``, doubled with each
further attempt up to ``MAX_BACKOFF``; ``never`` leaves it NULL).  After the
queued levels, ``ProcessQueue -p`` plans one more wave, ``retry_wave``: every
row whose ``not_before`` has passed, and every row whose process would now
run another code than the one that failed.  A new version of an input needs
no row: it is queued, and its children, the failed one included, are
planned with it.  A successful run of a target, or a target found up to
date, deletes its row; another failure updates it.

``next_run_plans`` is what ``ProcessQueue -p -d`` prints, as plans: the
status report asks it, so that ``printStatus`` and ``-p -d`` cannot disagree.
"""
from __future__ import annotations

import dataclasses
import datetime
from collections import defaultdict
from collections.abc import Iterable, Iterator
from collections.abc import Set as AbstractSet

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from ..db.models import Retry
from ..mission.timebase import Timebase
from . import RETRY_AFTER_HOURS as RETRY_AFTER_HOURS  # defined light, for ProcessQueue's -h
from .planner import Planner, RunPlan, Skip, SkipKind, Wave

MAX_BACKOFF = datetime.timedelta(days=7)

Target = tuple[int, datetime.date, "str | None"]  # process, date, FILE keywords


def target_of(plan: RunPlan) -> Target:
    """The (process, date, keywords) a plan makes; keywords only tell FILE outputs apart."""
    return (plan.process_id, plan.date, plan.keywords if plan.timebase == Timebase.FILE else None)


def _key(row: Retry) -> Target:
    return (row.process_id, row.utc_file_date, row.process_keywords or None)


def is_due(row: Retry, now: datetime.datetime) -> bool:
    return row.not_before is not None and row.not_before <= now


def retry_note(row: Retry, now: datetime.datetime) -> str:
    """What the next ``ProcessQueue -p`` does about a failed target, in words."""
    if is_due(row, now):
        return f"the next ProcessQueue -p retries it (attempt {row.attempts + 1})"
    if row.not_before is None:
        return "retried when its code or an input changes"
    return (f"will retry after {row.not_before:%Y-%m-%d %H:%M} UTC "
            f"(attempt {row.attempts + 1}), or sooner when its code or an input changes")


def retry_rows(session: Session) -> dict[Target, Retry]:
    return {_key(row): row for row in session.scalars(select(Retry).order_by(Retry.retry_id))}


def retry_wave(planner: Planner, now: datetime.datetime,
               exclude: AbstractSet[Target] = frozenset()) -> Wave:
    """Plan the failed targets to try again now (none already planned this run)."""
    wave = Wave(level=None)
    rows = {key: row for key, row in retry_rows(planner.session).items()
            if key not in exclude}
    by_process: dict[int, list] = defaultdict(list)
    for (process_id, date, keywords), row in rows.items():
        process = planner.processes.get(process_id)
        if process is not None and planner.wanted(process):
            by_process[process_id].append((date, keywords, row.version_bump))
    planned = Wave(level=None)
    for process_id, items in sorted(by_process.items()):
        planner.plan_targets(planned, planner.processes[process_id], items)
    for plan in planned.plans:
        row = rows[target_of(plan)]
        if is_due(row, now):
            why = f"retry of a failed run (attempt {row.attempts + 1})"
        elif plan.code_id != row.code_id:
            why = f"retry of a failed run with a new code (attempt {row.attempts + 1})"
        else:
            continue
        wave.plans.append(dataclasses.replace(plan, reasons=(why, *plan.reasons)))
    for skip in planned.skips:  # made meanwhile (DBRunner -i, a newer input): done
        if skip.kind in (SkipKind.UP_TO_DATE, SkipKind.NEIGHBOUR_ONLY):
            wave.settled_retries += [row.retry_id for key, row in rows.items()
                                     if key[:2] == (skip.process_id, skip.date)]
    return wave


def dry_run_waves(planner: Planner, now: datetime.datetime) -> Iterator[Wave]:
    """The waves ``ProcessQueue -p -d`` plans: each queued level, then the retries."""
    level = None
    planned: set[Target] = set()
    while True:
        wave = planner.next_wave(after_level=level)
        if wave.level is None:
            break
        planned.update(target_of(p) for p in wave.plans)
        level = wave.level
        yield wave
    wave = retry_wave(planner, now, planned)
    if wave.plans:
        yield wave


def next_run_plans(planner: Planner, now: datetime.datetime) -> list[RunPlan]:
    """Every run the next ``ProcessQueue -p`` would start from the queue as it is."""
    return [plan for wave in dry_run_waves(planner, now) for plan in wave.plans]


# -- recording ---------------------------------------------------------------------

def note_failure(session: Session, plan: RunPlan, now: datetime.datetime,
                 retry_after: float | None) -> Retry:
    """Add or update the retry row of a failed plan (the caller commits)."""
    process_id, date, keywords = target_of(plan)
    rows = session.scalars(select(Retry).where(
        Retry.process_id == process_id, Retry.utc_file_date == date)).all()
    row = next((r for r in rows if (r.process_keywords or None) == keywords), None)
    if row is None:
        row = Retry(process_id=process_id, utc_file_date=date, process_keywords=keywords,
                    version_bump=plan.bump, attempts=0)
        session.add(row)
    elif plan.bump is not None:  # the larger of two bumps (0 is the largest)
        row.version_bump = plan.bump if row.version_bump is None \
            else min(row.version_bump, plan.bump)
    row.attempts += 1
    row.code_id = plan.code_id
    row.failed_at = now
    if retry_after is None:
        row.not_before = None
    else:
        wait = datetime.timedelta(hours=retry_after) * 2 ** min(row.attempts - 1, 20)
        row.not_before = now + min(wait, MAX_BACKOFF)
    session.flush()
    return row


def clear_retry(session: Session, plan: RunPlan) -> None:
    """A run of this target succeeded: forget its failures (the caller commits)."""
    process_id, date, keywords = target_of(plan)
    query = delete(Retry).where(Retry.process_id == process_id, Retry.utc_file_date == date)
    if keywords is not None:
        query = query.where(Retry.process_keywords == keywords)
    session.execute(query.execution_options(synchronize_session=False))


class RetryBook:
    """The retry rows of one run holding the lock, which alone writes them.

    Knows which (process, date) have a row, read once, so that a successful
    run of a target that never failed (nearly all of them) costs no
    ``DELETE``.  Rows only ever appear through ``failed``, so the set can
    hold too much (a row cleared meanwhile: one needless ``DELETE``), never
    too little.
    """

    def __init__(self, session: Session) -> None:
        self.session = session
        self._known: set[tuple[int, datetime.date]] | None = None

    def _targets(self) -> set[tuple[int, datetime.date]]:
        if self._known is None:
            self._known = {(process_id, date) for process_id, date in self.session.execute(
                select(Retry.process_id, Retry.utc_file_date))}
        return self._known

    def failed(self, plan: RunPlan, now: datetime.datetime, retry_after: float | None) -> None:
        """Add or update the target's row (the caller commits)."""
        self._targets().add((plan.process_id, plan.date))
        note_failure(self.session, plan, now, retry_after)

    def succeeded(self, plan: RunPlan) -> None:
        """Forget the target's failures, if it has any (the caller commits)."""
        if (plan.process_id, plan.date) in self._targets():
            clear_retry(self.session, plan)


def moot_retries(session: Session, skips: Iterable[Skip]) -> list[int]:
    """The retry rows of targets a wave found up to date (made meanwhile)."""
    done = {(s.process_id, s.date) for s in skips if s.kind is SkipKind.UP_TO_DATE}
    if not done:
        return []
    return [row.retry_id for key, row in retry_rows(session).items() if key[:2] in done]


def clear_retries(session: Session, retry_ids: list[int]) -> None:
    if retry_ids:
        session.execute(delete(Retry).where(Retry.retry_id.in_(retry_ids)))
