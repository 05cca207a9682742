"""Status: the state of every product and date, computed from the database as it is now.

For each (product, date) asked about, the planner is asked two things, with
the very code ``ProcessQueue -p`` runs: what the next ``ProcessQueue -p``
would start, from the queue as it is (forced bumps, remakes) and the failed
runs due for a retry (``schedule.next_run_plans``, what ``-p -d`` prints);
and, for a date it would not touch, whether its output needs (re)making at
all (``Planner.plan_dates``).  The answer is combined with the newest file,
the retry rows and the last attempt in the event log:

==========  ===============================================================
up_to_date  the newest file exists and nothing it was made from changed
stale       a file exists but would be remade (the planner's reasons say why)
missing     no file, but every required input is there: it can be built
blocked     not buildable: a required input is missing, or no code is valid
failed      the last attempt to make it failed; the reason says when the
            next ``ProcessQueue -p`` retries it (``next_run`` is true when
            the very next one does)
queued      the next ``ProcessQueue -p`` (re)makes it (``next_run``)
absent      a product no process makes (ingested data) with no file that date
==========  ===============================================================

``stale`` and ``missing`` dates are not touched by the next
``ProcessQueue -p``: nothing on the queue asks for them.  ``stale``,
``missing``, ``failed`` and ``queued`` are problems (exit 1 of printStatus);
``blocked`` and ``absent`` are gaps upstream, reported but not failures.
The dates ``settled.settle`` proves up to date in a few queries over the
span are not planned; the planner is asked about the others only (with the
candidates of the whole span, so the answer is the same), and the queue and
the retry rows are planned once (what ``-p -d`` does).  The cost is a
handful of queries per product, rows read in proportion to the dates
asked, and planning in proportion to the dates not up to date.
"""
from __future__ import annotations

import datetime
import gc
import hashlib
import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple, TypedDict

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..atomic import write_atomically
from ..db.models import (
    File,
    Invocation,
    Job,
    JobEvent,
    Process,
    ProcessQueue,
    Product,
    Retry,
)
from ..db.queries import find_product
from ..lock import utcnow
from ..mission.timebase import PERIODS, Timebase, period_of
from ..mission.tree import MissionTree
from ..process.planner import (
    RunPlan,
    Skip,
    SkipKind,
)
from ..process.schedule import next_run_plans, retry_note, retry_rows
from ..Version import Version
from .outputs import Remake, SpanPlanner
from .rows import COLUMNS, FILENAME, ID, SHASUM, VERSION, newest_rows
from .settled import Settled, settle

if TYPE_CHECKING:
    from .rows import FileRow

DAY = datetime.timedelta(days=1)
STATES = ("up_to_date", "stale", "missing", "blocked", "failed", "queued", "absent")
PROBLEMS = frozenset({"stale", "missing", "failed", "queued"})
TERMINAL = ("succeeded", "failed", "timed_out")
# A date with several outputs shows the one that most needs attention.
_SEVERITY = ("failed", "queued", "stale", "missing", "blocked", "up_to_date", "absent")


_VERSIONS: dict[tuple[int, int, int], str] = {}  # a few distinct versions, 100,000 files


def _version(file: FileRow) -> str:
    """str(version_of(file)), without building a Version (status shows 100,000)."""
    numbers = file[VERSION]
    text = _VERSIONS.get(numbers)
    if text is None:
        interface, quality, revision = numbers
        text = _VERSIONS[numbers] = f"{interface}.{quality}.{revision}"
    return text


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


class DateStatus(NamedTuple):
    """One product and date.  A tuple: a whole archive makes 100,000 of them, and a
    tuple is made in a third of the time of a frozen dataclass with slots."""

    product: str
    date: datetime.date
    state: str
    reason: str
    filename: str | None = None
    version: str | None = None
    shasum: str | None = None
    process: str | None = None
    last_attempt: Attempt | None = None
    next_run: bool = False  # the next ProcessQueue -p (re)makes or retries it
    plan: RunPlan | None = None  # not shown (as_dict); None without plans

    def as_dict(self) -> dict:
        data = self._asdict()
        data.pop("plan")
        data["date"] = self.date.isoformat()
        if self.last_attempt is not None:
            data["last_attempt"] = asdict(self.last_attempt)
        return data


class StatusReader:
    """Answers status questions for one mission; holds the planner for the call."""

    def __init__(self, session: Session, tree: MissionTree,
                 now: datetime.datetime | None = None, prove: bool = True,
                 plans: bool = True) -> None:
        self.session = session
        # False: plan every date, proving none up to date first, from candidates
        # read as the Planner reads them (the reference the tests compare with).
        self.prove = prove
        # False: a date the proofs found changed gets the planner's verdict without
        # a RunPlan (``DateStatus.plan`` None): what printStatus shows needs none.
        self.plans = plans
        self.unplanned = 0  # dates given a verdict without planning them
        self.tree = tree
        self.now = now or utcnow()
        self.planner = SpanPlanner(session, tree, narrow=prove)
        self._next_run: dict[tuple[int, datetime.date], RunPlan] | None = None
        self._focus: dict[int, tuple[datetime.date, datetime.date]] | None = None
        self.retries: dict[tuple[int, datetime.date], Retry] = {}
        for (process_id, date, _), row in retry_rows(session).items():
            self.retries.setdefault((process_id, date), row)
        self.makers: dict[int, Process] = {}
        for process in sorted(self.planner.processes.values(), key=lambda p: p.process_id):
            if process.output_product is not None and process.output_timebase != Timebase.RUN:
                self.makers.setdefault(process.output_product, process)

    @property
    def scheduled(self) -> dict[tuple[int, datetime.date], RunPlan]:
        """What the next ProcessQueue -p starts (its -d's plans), by output and date.
        Planned when first asked (after the first product's proof: the queue's
        candidates are then among the rows already read)."""
        if self._next_run is None:
            self._next_run = {}
            self.planner.within = self._focus
            try:
                plans = next_run_plans(self.planner, self.now)
            finally:
                self.planner.within = None
            for plan in plans:
                if plan.output_product_id is not None:
                    self._next_run.setdefault((plan.output_product_id, plan.date), plan)
        return self._next_run

    def focus(self, product: Product, start: datetime.date, end: datetime.date) -> None:
        """Plan the queue (``scheduled``) only for the outputs asked about: *product*
        over [start, end] (each call adds a product; before the first
        ``product_status``).  A report on one product and month then plans its few
        queued dates, not the whole queue's."""
        if self._next_run is not None:
            raise RuntimeError("focus() after the queue was planned")
        if start > end:
            return
        # The first and last of dates_of(product, start, end) (a period's start).
        lo, hi = self.dates_of(product, start, start)[0], self.dates_of(product, end, end)[0]
        focus = self._focus = self._focus or {}
        first, last = focus.get(product.product_id, (lo, hi))
        focus[product.product_id] = (min(first, lo), max(last, hi))

    def span(self, product: Product) -> tuple[datetime.date, datetime.date] | None:
        """First and last date holding files of *product* or of its inputs."""
        extents = self.planner.rows.extents()  # every product's, in one query, once
        ids = [product.product_id]
        maker = self.makers.get(product.product_id)
        if maker is not None:
            ids += [link.input_product_id for link in self.planner.links[maker.process_id]]
        found = [extents[i][:2] for i in ids if i in extents]
        if not found:
            return None
        return min(first for first, _ in found), max(last for _, last in found)

    def dates_of(self, product: Product, start: datetime.date,
                 end: datetime.date) -> list[datetime.date]:
        maker = self.makers.get(product.product_id)
        days = list(map(datetime.date.fromordinal,
                        range(start.toordinal(), end.toordinal() + 1)))
        if maker is not None and maker.output_timebase in PERIODS:
            return sorted({period_of(maker.output_timebase, d)[0] for d in days})
        return days

    def product_status(self, product: Product, start: datetime.date,
                       end: datetime.date) -> list[DateStatus]:
        dates = self.dates_of(product, start, end)
        if not dates:
            return []
        maker = self.makers.get(product.product_id)
        name = product.product_name
        if maker is None:
            files = self._newest_files(product, dates[0], dates[-1])
            ingested = self._ingested
            return [ingested(name, d, files.get(d)) for d in dates]
        # The dates provably up to date need no planning; the queue's dates are
        # answered by its plans; the planner is asked about the rest.
        pid = product.product_id
        if self.prove:
            settled = settle(self.planner, maker, product, dates)
            queue, up_to_date = self.scheduled, settled.up_to_date
            rest = [d for d in dates if d not in up_to_date and (pid, d) not in queue]
            decided = {} if self.plans else self.planner.decide_changed(maker, settled, rest)
            if decided:
                rest = [d for d in rest if d not in decided]
                self.unplanned += len(decided)
            self.planner.give_settled(maker.process_id, settled, list({
                r[ID]: r for d in rest for r in settled.inputs.get(d, ())}.values()))
        else:
            settled = Settled({d: r for d, r in self._newest_files(
                product, dates[0], dates[-1]).items() if d is not None})
            rest, decided = dates, {}
        newest = settled.newest
        try:
            wave = self.planner.plan_dates(maker, rest)
        finally:
            self.planner.give_settled(maker.process_id, None)
        # A FILE process may make several outputs a date (one per keyword variant).
        outcomes: dict[datetime.date, list[RunPlan | Skip | Remake]] = {}
        planned: list[RunPlan | Skip | Remake] = [*wave.plans, *wave.skips,
                                                  *decided.values()]
        for outcome in planned:
            outcomes.setdefault(outcome.date, []).append(outcome)
        attempts = self._last_attempts(product, dates[0], dates[-1])
        result: list[DateStatus] = []
        append, queue, up_to_date = result.append, self.scheduled, settled.up_to_date
        maker_name = maker.process_name
        for date in dates:
            scheduled = queue.get((pid, date)) if queue else None
            if scheduled is not None:
                append(self._scheduled(name, maker, date, scheduled, newest.get(date),
                                       attempts.get(date),
                                       self.retries.get((maker.process_id, date))))
                continue
            if date in up_to_date:
                file = newest[date]  # positional: 25,000 a product
                append(DateStatus(name, date, "up_to_date", "up to date", file[FILENAME],
                                  _version(file), file[SHASUM], maker_name,
                                  attempts.get(date)))
                continue
            retry = self.retries.get((maker.process_id, date))
            found = outcomes.get(date) or [  # not planned at all (cannot happen)
                Skip(maker.process_name, date, "not planned", maker.process_id)]
            states = [self._combine(name, maker, date, outcome, newest.get(date),
                                    attempts.get(date), retry) for outcome in found]
            append(min(states, key=lambda s: _SEVERITY.index(s.state)))
        return result

    # -- pieces ------------------------------------------------------------------
    @staticmethod
    def _ingested(name: str, date: datetime.date, file: FileRow | None) -> DateStatus:
        if file is None:
            return DateStatus(name, date, "absent", "no file (no process makes this product)")
        return DateStatus(name, date, "up_to_date", "ingested (no process makes this product)",
                          file[FILENAME], _version(file), file[SHASUM])

    @staticmethod
    def _known(maker: Process, file: FileRow | None, attempt: Attempt | None) -> dict:
        return dict(filename=file[FILENAME] if file else None,
                    version=_version(file) if file else None,
                    shasum=file[SHASUM] if file else None, process=maker.process_name,
                    last_attempt=attempt)

    @staticmethod
    def _failure(attempt: Attempt | None) -> str | None:
        if attempt is None or attempt.state == "succeeded":
            return None
        return (f"last attempt {attempt.state.replace('_', ' ')} at {attempt.at}: "
                f"{attempt.message}")

    def _scheduled(self, name: str, maker: Process, date: datetime.date, plan: RunPlan,
                   file: FileRow | None, attempt: Attempt | None,
                   retry: Retry | None) -> DateStatus:
        """A date the next ProcessQueue -p (re)makes: queued, or a failure it retries."""
        known = self._known(maker, file, attempt)
        reasons = "; ".join(plan.reasons)
        failure = self._failure(attempt)
        if retry is not None and plan.reasons[0].startswith("retry of a failed run"):
            return DateStatus(name, date, "failed", f"{retry_note(retry, self.now)}; "
                              f"{failure or 'its last run failed'}; because {reasons}",
                              next_run=True, plan=plan, **known)
        return DateStatus(name, date, "queued", f"the next ProcessQueue -p makes it: {reasons}"
                          + (f" ({failure})" if failure else ""),
                          next_run=True, plan=plan, **known)

    def _combine(self, name: str, maker: Process, date: datetime.date,
                 outcome: RunPlan | Skip | Remake,
                 file: FileRow | None, attempt: Attempt | None,
                 retry: Retry | None) -> DateStatus:
        """A date the next ProcessQueue -p does not touch (a Remake: a RunPlan's
        verdict without the plan)."""
        known = self._known(maker, file, attempt)
        if isinstance(outcome, Skip):
            if outcome.kind is SkipKind.UP_TO_DATE:
                return DateStatus(name, date, "up_to_date", "up to date", **known)
            if outcome.kind is SkipKind.CANNOT_REMAKE:
                return DateStatus(name, date, "stale", outcome.reason, **known)
            return DateStatus(name, date, "blocked", outcome.reason, **known)
        reasons = "; ".join(outcome.reasons)
        failure = self._failure(attempt)
        plan = outcome if isinstance(outcome, RunPlan) else None
        if retry is not None or failure:
            note = (retry_note(retry, self.now) if retry is not None else
                    "not retried: nothing queued asks for it (reprocessByProduct or "
                    "reprocessByDate queue it)")
            return DateStatus(name, date, "failed", f"{note}; {failure or 'its last run failed'}"
                              f"; would run because {reasons}", plan=plan, **known)
        state = "stale" if file is not None else "missing"
        return DateStatus(name, date, state, reasons, plan=plan, **known)

    def _newest_files(self, product: Product, first: datetime.date,
                      last: datetime.date) -> dict[datetime.date | None, FileRow]:
        if self.prove:  # read once: a child reads them again as its inputs
            rows = self.planner.rows.dated([product.product_id], first, last)
        else:
            rows = list(self.session.connection().execute(select(*COLUMNS).where(
                File.product_id == product.product_id, File.utc_file_date >= first,
                File.utc_file_date <= last)).all())
        return {date: r for (_, date), r in newest_rows(rows)[0].items()}

    def _last_attempts(self, product: Product, first: datetime.date,
                       last: datetime.date) -> dict[datetime.date, Attempt]:
        rows = self.session.execute(
            select(Job.utc_file_date, JobEvent.job_id, JobEvent.state, JobEvent.at,
                   JobEvent.exit_code, JobEvent.message, JobEvent.log_path)
            .join(JobEvent, JobEvent.job_id == Job.job_id)
            .join(Invocation, Invocation.invocation_id == Job.invocation_id)
            # DBRunner without -i (no lock, no logging row) is a test run, not the
            # mission's work; versions before 2026-12 logged its jobs.
            .where(or_(Invocation.command != "DBRunner", Invocation.logging_id.is_not(None)))
            .where(Job.output_product == product.product_id, Job.utc_file_date >= first,
                   Job.utc_file_date <= last, JobEvent.state.in_(TERMINAL))
            .order_by(JobEvent.job_event_id)).all()
        attempts: dict[datetime.date, Attempt] = {}
        for date, job_id, state, at, exit_code, message, log_path in rows:
            attempts[date] = Attempt(job_id, state, at.isoformat(sep=" ", timespec="seconds"),
                                     exit_code, message, log_path)
        return attempts


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off for the duration, as it was before after.
    Status of a whole archive builds a million objects and frees few: each
    collection their growth triggers walks them all again (a third of the time
    on 100,000 files), to find no garbage; any cycle left is found after."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def mission_status(session: Session, tree: MissionTree, products: list[str] | None,
                   start: datetime.date | None, end: datetime.date | None,
                   same_span: bool = False, plans: bool = True) -> list[DateStatus]:
    """Status of *products* (all by default) over [start, end] (default: each product's
    data span, or with *same_span* the span of them all, so that gaps show).  With
    *plans* False a stale date may have no ``plan`` (the same states and reasons,
    sooner: what printStatus and the coverage reports show)."""
    with _collector_paused():
        return _mission_status(session, tree, products, start, end, same_span, plans)


def _mission_status(session: Session, tree: MissionTree, products: list[str] | None,
                    start: datetime.date | None, end: datetime.date | None,
                    same_span: bool, plans: bool) -> list[DateStatus]:
    reader = StatusReader(session, tree, plans=plans)
    chosen = ([find_product(session, p) for p in products] if products else
              session.scalars(select(Product).order_by(Product.level,
                                                       Product.product_name)).all())
    spans = {} if start and end else {p.product_id: reader.span(p) for p in chosen}
    if same_span and any(spans.values()):
        union = (min(s[0] for s in spans.values() if s), max(s[1] for s in spans.values() if s))
        spans = {p.product_id: union for p in chosen}
    asked: list[tuple[Product, datetime.date, datetime.date]] = []
    for product in chosen:
        first, last = start, end
        if first is None or last is None:
            span = spans[product.product_id]
            if span is None:
                continue
            first, last = first or span[0], last or span[1]
        asked.append((product, first, last))
        reader.focus(product, first, last)
    result: list[DateStatus] = []
    for product, first, last in asked:
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
    lines.append(state_counts(rows))
    return "\n".join(lines)


def state_counts(rows: list[DateStatus]) -> str:
    """How many dates are in each state: "up_to_date: 40; stale: 2"."""
    counts = Counter(r.state for r in rows)
    return "; ".join(f"{state}: {counts[state]}" for state in STATES if counts[state])


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
