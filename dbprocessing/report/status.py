"""Status: the state of every product and date, computed from the database as it is now.

For each (product, date) asked about, the planner is asked what it would do
(``Planner.plan_dates``, the very code ``ProcessQueue -p`` runs), and the
answer is combined with the newest file, the queue and the last attempt in
the event log:

==========  ===============================================================
up_to_date  the newest file exists and nothing it was made from changed
stale       a file exists but would be remade (the planner's reasons say why)
missing     no file, but every required input is there: it can be built
blocked     not buildable: a required input is missing, or no code is valid
failed      would be (re)made, and the last attempt to make it failed
queued      would be (re)made, and an input is on the queue: the next
            ``ProcessQueue -p`` will make it (or retry it, after a failure)
absent      a product no process makes (ingested data) with no file that date
==========  ===============================================================

``stale``, ``missing``, ``failed`` and ``queued`` are problems (exit 1 of
printStatus); ``blocked`` and ``absent`` are gaps upstream, reported but not
failures.  The cost is a handful of indexed queries per product plus a few
per date: it grows with what is asked, not with the archive.
"""
from __future__ import annotations

import datetime
import hashlib
import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TypedDict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..atomic import write_atomically
from ..db.models import (
    File,
    Job,
    JobEvent,
    Process,
    ProcessQueue,
    Product,
    ProductProcessLink,
)
from ..db.queries import find_file, find_product, newest_files, version_of
from ..errors import UsageError
from ..mission.timebase import PERIODS, Timebase, period_of
from ..mission.tree import MissionTree
from ..process.planner import (
    Planner,
    RunPlan,
    Skip,
    SkipKind,
)
from ..Version import Version

DAY = datetime.timedelta(days=1)
STATES = ("up_to_date", "stale", "missing", "blocked", "failed", "queued", "absent")
PROBLEMS = frozenset({"stale", "missing", "failed", "queued"})
TERMINAL = ("succeeded", "failed", "timed_out")
# A date with several outputs shows the one that most needs attention.
_SEVERITY = ("failed", "queued", "stale", "missing", "blocked", "up_to_date", "absent")


@dataclass(frozen=True)
class Attempt:
    """The last finished attempt at an output, from the event log."""

    job_id: int
    state: str
    at: str
    exit_code: int | None
    message: str | None
    log_path: str | None


class _Known(TypedDict):
    """What a DateStatus says of the newest file and its maker, whatever the state."""

    filename: str | None
    version: str | None
    shasum: str | None
    process: str
    last_attempt: Attempt | None


@dataclass(frozen=True)
class DateStatus:
    product: str
    date: datetime.date
    state: str
    reason: str
    filename: str | None = None
    version: str | None = None
    shasum: str | None = None
    process: str | None = None
    last_attempt: Attempt | None = None
    plan: RunPlan | None = field(default=None, compare=False)

    def as_dict(self) -> dict:
        data = asdict(self)
        data.pop("plan")
        data["date"] = self.date.isoformat()
        return data


class StatusReader:
    """Answers status questions for one mission; holds the planner for the call."""

    def __init__(self, session: Session, tree: MissionTree) -> None:
        self.session = session
        self.tree = tree
        self.planner = Planner(session, tree)
        self.makers: dict[int, Process] = {}
        for process in sorted(self.planner.processes.values(), key=lambda p: p.process_id):
            if process.output_product is not None and process.output_timebase != Timebase.RUN:
                self.makers.setdefault(process.output_product, process)

    def span(self, product: Product) -> tuple[datetime.date, datetime.date] | None:
        """First and last date holding files of *product* or of its inputs."""
        ids = [product.product_id]
        maker = self.makers.get(product.product_id)
        if maker is not None:
            ids += [link.input_product_id for link in self.session.scalars(
                select(ProductProcessLink).where(
                    ProductProcessLink.process_id == maker.process_id))]
        first, last = self.session.execute(
            select(func.min(File.utc_file_date), func.max(File.utc_file_date))
            .where(File.product_id.in_(ids))).one()
        if first is None:
            return None
        assert last is not None  # min and max over the same rows: both or neither
        return first, last

    def dates_of(self, product: Product, start: datetime.date,
                 end: datetime.date) -> list[datetime.date]:
        maker = self.makers.get(product.product_id)
        days = [start + DAY * i for i in range((end - start).days + 1)]
        if maker is not None and maker.output_timebase in PERIODS:
            return sorted({period_of(maker.output_timebase, d)[0] for d in days})
        return days

    def product_status(self, product: Product, start: datetime.date,
                       end: datetime.date) -> list[DateStatus]:
        dates = self.dates_of(product, start, end)
        if not dates:
            return []
        newest = self._newest_files(product, dates[0], dates[-1])
        maker = self.makers.get(product.product_id)
        name = product.product_name
        if maker is None:
            return [self._ingested(name, d, newest.get(d)) for d in dates]
        wave = self.planner.plan_dates(maker, dates)
        # A FILE process may make several outputs a date (one per keyword variant).
        outcomes: dict[datetime.date, list[RunPlan | Skip]] = {}
        planned: list[RunPlan | Skip] = [*wave.plans, *wave.skips]
        for outcome in planned:
            outcomes.setdefault(outcome.date, []).append(outcome)
        queued = self._queued({i.file_id for p in wave.plans for i in p.inputs})
        attempts = self._last_attempts(product, dates[0], dates[-1])
        result = []
        for date in dates:
            found = outcomes.get(date) or [  # not planned at all (cannot happen)
                Skip(maker.process_name, date, "not planned", maker.process_id)]
            states = [self._combine(name, maker, date, outcome, newest.get(date),
                                    attempts.get(date), queued) for outcome in found]
            result.append(min(states, key=lambda s: _SEVERITY.index(s.state)))
        return result

    # -- pieces ------------------------------------------------------------------
    @staticmethod
    def _ingested(name: str, date: datetime.date, file: File | None) -> DateStatus:
        if file is None:
            return DateStatus(name, date, "absent", "no file (no process makes this product)")
        return DateStatus(name, date, "up_to_date", "ingested (no process makes this product)",
                          file.filename, str(version_of(file)), file.shasum)

    @staticmethod
    def _combine(name: str, maker: Process, date: datetime.date, outcome: RunPlan | Skip,
                 file: File | None, attempt: Attempt | None, queued: set[int]) -> DateStatus:
        known = _Known(filename=file.filename if file else None,
                     version=str(version_of(file)) if file else None,
                     shasum=file.shasum if file else None, process=maker.process_name,
                     last_attempt=attempt)
        if isinstance(outcome, Skip):
            if outcome.kind is SkipKind.UP_TO_DATE:
                return DateStatus(name, date, "up_to_date", "up to date", **known)
            if outcome.kind is SkipKind.CANNOT_REMAKE:
                return DateStatus(name, date, "stale", outcome.reason, **known)
            return DateStatus(name, date, "blocked", outcome.reason, **known)
        reasons = "; ".join(outcome.reasons)
        failure = None
        if attempt is not None and attempt.state != "succeeded":
            failure = (f"last attempt {attempt.state.replace('_', ' ')} at {attempt.at}: "
                       f"{attempt.message}")
        if any(i.file_id in queued for i in outcome.inputs):  # a retry is on its way
            return DateStatus(name, date, "queued", f"an input is queued; {reasons}"
                              + (f" ({failure})" if failure else ""), plan=outcome, **known)
        if failure:
            return DateStatus(name, date, "failed", f"{failure}; would run because {reasons}",
                              plan=outcome, **known)
        state = "stale" if file is not None else "missing"
        return DateStatus(name, date, state, reasons, plan=outcome, **known)

    def _newest_files(self, product: Product, first: datetime.date,
                      last: datetime.date) -> dict[datetime.date | None, File]:
        files = self.session.scalars(select(File).where(
            File.product_id == product.product_id, File.utc_file_date >= first,
            File.utc_file_date <= last)).all()
        return {date: f for (_, date), f in newest_files(files).items()}

    def _queued(self, file_ids: set[int]) -> set[int]:
        if not file_ids:
            return set()
        return set(self.session.scalars(select(ProcessQueue.file_id).where(
            ProcessQueue.file_id.in_(file_ids))))

    def _last_attempts(self, product: Product, first: datetime.date,
                       last: datetime.date) -> dict[datetime.date, Attempt]:
        rows = self.session.execute(
            select(Job.utc_file_date, JobEvent.job_id, JobEvent.state, JobEvent.at,
                   JobEvent.exit_code, JobEvent.message, JobEvent.log_path)
            .join(JobEvent, JobEvent.job_id == Job.job_id)
            .where(Job.output_product == product.product_id, Job.utc_file_date >= first,
                   Job.utc_file_date <= last, JobEvent.state.in_(TERMINAL))
            .order_by(JobEvent.job_event_id)).all()
        attempts: dict[datetime.date, Attempt] = {}
        for date, job_id, state, at, exit_code, message, log_path in rows:
            attempts[date] = Attempt(job_id, state, at.isoformat(sep=" ", timespec="seconds"),
                                     exit_code, message, log_path)
        return attempts


def mission_status(session: Session, tree: MissionTree, products: list[str] | None,
                   start: datetime.date | None, end: datetime.date | None,
                   same_span: bool = False) -> list[DateStatus]:
    """Status of *products* (all by default) over [start, end] (default: each product's
    data span, or with *same_span* the span of them all, so that gaps show)."""
    reader = StatusReader(session, tree)
    chosen = ([find_product(session, p) for p in products] if products else
              session.scalars(select(Product).order_by(Product.level,
                                                       Product.product_name)).all())
    spans = {} if start and end else {p.product_id: reader.span(p) for p in chosen}
    if same_span and any(spans.values()):
        union = (min(s[0] for s in spans.values() if s), max(s[1] for s in spans.values() if s))
        spans = {p.product_id: union for p in chosen}
    result: list[DateStatus] = []
    for product in chosen:
        first, last = start, end
        if first is None or last is None:
            span = spans[product.product_id]
            if span is None:
                continue
            first, last = first or span[0], last or span[1]
        result.extend(reader.product_status(product, first, last))
    return result


def has_problems(rows: list[DateStatus]) -> bool:
    return any(r.state in PROBLEMS for r in rows)


def status_table(rows: list[DateStatus]) -> str:
    """A plain table, one line per product and date."""
    if not rows:
        return "nothing to show (no product has files in that range)"
    width = max(len(r.product) for r in rows)
    lines = [f"{'product':<{width}}  date        state       version  detail"]
    for r in rows:
        lines.append(f"{r.product:<{width}}  {r.date}  {r.state:<10}  "
                     f"{r.version or '-':<7}  {r.reason}")
    counts = Counter(r.state for r in rows)
    lines.append("; ".join(f"{state}: {counts[state]}" for state in STATES if counts[state]))
    return "\n".join(lines)


# -- the status file -----------------------------------------------------------

def status_summary(rows: list[DateStatus], queue_length: int) -> dict:
    """Per product: newest version, counts by state, dates, and a key of the tracked
    state (a SHA-256 over every date's state, reason and newest file).  No times:
    the same database state gives the same bytes."""
    by_product: dict[str, list[DateStatus]] = {}
    for r in rows:
        by_product.setdefault(r.product, []).append(r)
    products = {}
    for name in sorted(by_product):
        items = sorted(by_product[name], key=lambda r: r.date)
        digest = hashlib.sha256()
        for r in items:
            digest.update(f"{r.date}\t{r.state}\t{r.reason}\t{r.filename}\t{r.shasum}\n"
                          .encode())
        versions = [Version.fromString(r.version) for r in items if r.version]
        counts = Counter(r.state for r in items)
        products[name] = {
            "first_date": items[0].date.isoformat(), "last_date": items[-1].date.isoformat(),
            "newest_version": str(max(versions)) if versions else None,
            "files": sum(1 for r in items if r.filename),
            "states": {s: counts[s] for s in STATES if counts[s]},
            "key": digest.hexdigest(),
        }
    overall = hashlib.sha256(json.dumps([products, queue_length], sort_keys=True).encode())
    return {"format": 1, "ok": not has_problems(rows), "queue_length": queue_length,
            "products": products, "key": overall.hexdigest()}


def queue_length(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ProcessQueue)) or 0


def write_status(path: Path, summary: dict) -> bool:
    """Write *summary* atomically; leave the file (and its mtime) alone if unchanged.
    Return whether the file changed."""
    data = (json.dumps(summary, indent=2, sort_keys=True) + "\n").encode()
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    write_atomically(path, data)
    return True


# -- explain -----------------------------------------------------------------------

def explain(session: Session, tree: MissionTree, *, filename: str | None = None,
            product_ref: str | None = None,
            date: datetime.date | None = None) -> tuple[DateStatus, list[str]]:
    """Would this file, or this product and date, be (re)built now, and why?"""
    lines: list[str] = []
    if filename is not None:
        file = find_file(session, filename)
        product = session.get(Product, file.product_id)
        assert product is not None  # a file's product exists (foreign key)
        date = file.utc_file_date
        assert date is not None, f"{file.filename} has no utc_file_date"
        lines.append(f"{file.filename}: product {product.product_name}, date {date}, "
                     f"version {version_of(file)}")
        newest = max(session.scalars(select(File).where(
            File.product_id == file.product_id, File.utc_file_date == date)), key=version_of)
        if newest.file_id != file.file_id:
            lines.append(f"not the newest version: superseded by {newest.filename}; "
                         f"only the newest is rebuilt")
    else:
        if product_ref is None or date is None:
            raise UsageError("give a file, or a product and a date")
        product = find_product(session, product_ref)
    reader = StatusReader(session, tree)
    dates = reader.dates_of(product, date, date)
    (status,) = reader.product_status(product, dates[0], dates[0])
    if filename is None:
        lines.append(f"{product.product_name} {status.date}: newest file "
                     f"{status.filename or 'none'}")
    lines.append(f"state: {status.state}")
    verdict = {"up_to_date": "not rebuilt: ", "blocked": "cannot be built: ",
               "absent": "nothing to build: "}.get(status.state, "would be (re)built: ")
    lines.append(verdict + status.reason)
    plan = status.plan
    if plan is not None:
        lines.append(f"plan: {plan.describe()}")
        for item in plan.inputs:
            lines.append(f"  input {item.filename} (version {item.version})")
    if status.last_attempt is not None:
        a = status.last_attempt
        lines.append(f"last attempt: job {a.job_id} {a.state} at {a.at}"
                     + (f", exit code {a.exit_code}" if a.exit_code is not None else "")
                     + (f", output in {a.log_path}" if a.log_path else ""))
    return status, lines
