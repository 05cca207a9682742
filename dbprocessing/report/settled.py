"""Status, set-based: the dates of a made product that are provably up to date.

``printStatus`` of a whole archive would ask the planner about every output
there is.  Most are up to date, and that can be proved from a few queries
over the span, read as plain rows: an output is up to date when the inputs
the planner would choose for it (the newest version of each input
(product, date) in its window, chosen over the very span and with the very
query ``Planner.plan_dates`` uses) are exactly the files it was made from,
the code the planner would choose (the newest active code valid that date)
is the one that made it, and nothing else stops it (a required input
missing, only a neighbouring day's input, a keyword variant, a name field
carried from the inputs, two newest files of one version).  ``settle``
returns those dates, the newest file of every date, and the candidate
inputs the other dates read, so that the planner is asked only about the
other dates, with the same candidates as if it had planned the whole span.

A date is only ever proved up to date when the planner would say so; every
date in doubt is left to the planner (tests/test_status.py compares both
ways on a varied archive).
"""
from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, func, or_, select
from sqlalchemy.orm import Session, aliased

from ..db.models import Code, File, FileCodeLink, FileFileLink, Process, Product, UnixTime
from ..ingest.record import epoch
from ..mission.substitution import fields_of
from ..mission.timebase import PERIODS, Timebase, period_of
from ..process.planner import _OWN_FIELDS, Planner, _own_days

DAY = datetime.timedelta(days=1)
# Columns of a file that status and the proof read, as a plain row.
COLUMNS = (File.file_id, File.product_id, File.utc_file_date, File.utc_start_time,
           File.utc_stop_time, File.interface_version, File.quality_version,
           File.revision_version, File.process_keywords, File.filename, File.shasum)
# Their positions: the loops over every file of an archive index the row (an
# attribute of a Row costs several times as much).
ID, PRODUCT, DATE, START, STOP, KEYWORDS, FILENAME, SHASUM = 0, 1, 2, 3, 4, 8, 9, 10
VERSION = slice(5, 8)
if TYPE_CHECKING:
    from typing_extensions import Unpack

    FileRow = Row[Unpack[tuple[Any, ...]]]  # a row of COLUMNS: what status shows of a file


@dataclass
class Settled:
    """What ``settle`` found for one product over a list of dates."""

    newest: dict[datetime.date, FileRow] = field(default_factory=dict)  # newest file a date
    up_to_date: set[datetime.date] = field(default_factory=set)
    # The candidate inputs of each other date.
    inputs: dict[datetime.date, list[FileRow]] = field(default_factory=dict)
    # What the planner reads again for the other dates (``SpanPlanner.give_settled``):
    # the candidates by (product, day) as ``Planner._by_day`` indexes them, every
    # file of the product on the other dates, and each output's code and inputs (ids).
    index: dict[tuple[int, datetime.date], list[FileRow]] = field(default_factory=dict)
    files: dict[datetime.date, list[FileRow]] = field(default_factory=dict)
    made_with: dict[int, int] = field(default_factory=dict)
    made_from: dict[int, set[int]] = field(default_factory=dict)


def newest_rows(rows: list[FileRow]) -> tuple[dict[Any, FileRow], set[Any]]:
    """The newest row of each (product, date) (the first of equal versions, as
    ``newest_files``), and the keys whose newest version is held by two rows."""
    best: dict[Any, FileRow] = {}
    tied: set[Any] = set()
    for r in rows:
        key = (r[PRODUCT], r[DATE])
        old = best.get(key)
        if old is None:
            best[key] = r
            continue
        mine, theirs = r[VERSION], old[VERSION]
        if mine > theirs:
            best[key] = r
            tied.discard(key)
        elif mine == theirs:
            tied.add(key)
    return best, tied


def _days_of(r: FileRow, daily: bool) -> list[datetime.date]:
    """The days a candidate is indexed under, as ``Planner._by_day`` does."""
    date = r[DATE]
    if not daily:
        return [date]
    start, stop = r[START], r[STOP]
    if start is not None and stop is not None and start.date() == date \
            and start.time() == datetime.time() and start < stop <= start + DAY:
        return [date]  # the usual file: one whole day, or part of it
    return _own_days(r)  # type: ignore[arg-type]  # reads only the date and time columns


def _candidates(session: Session, process: Process, product_ids: list[int],
                span: tuple[datetime.date, datetime.date]) -> list[FileRow]:
    """The rows ``Planner._input_files`` reads over *span*, by the same query."""
    if not product_ids:
        return []
    if process.output_timebase == Timebase.DAILY:
        start, stop = (epoch(datetime.datetime.combine(d, datetime.time())) for d in span)
        query = select(*COLUMNS).join(UnixTime, UnixTime.file_id == File.file_id).where(
            File.product_id.in_(product_ids), UnixTime.unix_start < stop,
            or_(UnixTime.unix_stop > start, UnixTime.unix_start >= start))
    else:
        query = select(*COLUMNS).where(File.product_id.in_(product_ids),
                                       File.utc_file_date >= span[0],
                                       File.utc_file_date < span[1])
    return list(session.connection().execute(query).all())  # Core: no ORM pass per row


def candidate_index(planner: Planner, process: Process, dates: list[datetime.date]
                    ) -> tuple[dict[tuple[int, datetime.date], list[FileRow]],
                               set[datetime.date]]:
    """The candidate inputs ``Planner._plan_process`` reads to plan *process* for
    *dates* (sorted), by (product, day) as ``Planner._by_day`` indexes them, and the
    dates holding an input with process keywords (a FILE keyword variant)."""
    first, last = dates[0], dates[-1]
    links = planner.links[process.process_id]
    timebase = process.output_timebase
    if timebase in PERIODS:
        span = (first, period_of(timebase, last)[1])
    elif not links:
        span = (first, last + DAY)
    else:
        span = (first - DAY * max((link.yesterday or 0) for link in links),
                last + DAY * (max((link.tomorrow or 0) for link in links) + 1))
    newest_in, _ = newest_rows(_candidates(planner.session, process,
                                           [link.input_product_id for link in links], span))
    daily = timebase == Timebase.DAILY
    index: dict[tuple[int, datetime.date], list[FileRow]] = defaultdict(list)
    keyworded: set[datetime.date] = set()
    midnight = datetime.time()
    for r in newest_in.values():
        date, start, stop = r[DATE], r[START], r[STOP]
        if not daily or (start is not None and stop is not None and start.date() == date
                         and start.time() == midnight and start < stop <= start + DAY):
            index[(r[PRODUCT], date)].append(r)  # _days_of's usual file, inlined
        else:
            for day in _days_of(r, daily):
                index[(r[PRODUCT], day)].append(r)
        if r[KEYWORDS]:
            keyworded.add(date)
    return index, keyworded


def window_inputs(planner: Planner, process: Process,
                  dates: list[datetime.date]) -> list[FileRow]:
    """The candidate inputs planning *process* for *dates* (sorted) reads."""
    index, _ = candidate_index(planner, process, dates)
    windows = _windows(planner, process)
    return list({r[ID]: r for date in dates
                 for rows in _window(index, windows, process.output_timebase, date)
                 for r in rows}.values())


def _windows(planner: Planner, process: Process) -> list[tuple[int, int, int, bool, bool]]:
    """Per input link: product, yesterday, tomorrow, optional, and whether it counts
    for the date's own input (``Planner._select_inputs``)."""
    links = planner.links[process.process_id]
    some_required = any(not link.optional for link in links)
    return [(link.input_product_id, link.yesterday or 0, link.tomorrow or 0, link.optional,
             not link.optional if some_required else True) for link in links]


def settle(planner: Planner, process: Process, product: Product,
           dates: list[datetime.date]) -> Settled:
    """Which of *dates* (sorted) of *product*, made by *process*, are up to date."""
    session, settled = planner.session, Settled()
    conn = session.connection()  # plain rows, read through Core: no ORM pass per row
    first, last = dates[0], dates[-1]
    in_span = (File.product_id == product.product_id, File.utc_file_date >= first,
               File.utc_file_date <= last)
    files: list[FileRow] = list(conn.execute(select(*COLUMNS).where(*in_span)))
    outputs, tied = newest_rows(files)
    wanted = set(dates)
    settled.newest = {d: r for (_, d), r in outputs.items() if d in wanted}
    timebase = process.output_timebase
    index, keyworded = candidate_index(planner, process, dates)
    settled.index = index
    needed = [f for f in (*fields_of(product.format), *fields_of(product.relative_path))
              if f not in _OWN_FIELDS]
    output = aliased(File)
    made_with: dict[int, int] = dict(conn.execute(  # the planner takes the first code
        select(FileCodeLink.resulting_file, func.min(FileCodeLink.source_code))
        .join(output, output.file_id == FileCodeLink.resulting_file)
        .where(output.product_id == product.product_id, output.utc_file_date >= first,
               output.utc_file_date <= last)
        .group_by(FileCodeLink.resulting_file)).all())
    made_from: dict[int, set[int]] = defaultdict(set)
    settled.made_with, settled.made_from = made_with, made_from
    for result, source in conn.execute(
            select(FileFileLink.resulting_file, FileFileLink.source_file)
            .join(output, output.file_id == FileFileLink.resulting_file)
            .where(output.product_id == product.product_id, output.utc_file_date >= first,
                   output.utc_file_date <= last)):
        made_from[result].add(source)
    codes = [(c.code_start_date, c.code_stop_date,
              (c.interface_version, c.quality_version, c.revision_version), c.code_id)
             for c in session.scalars(select(Code).where(
                 Code.process_id == process.process_id, Code.active_code.is_(True)))]
    windows = _windows(planner, process)
    for date in dates:
        found = _window(index, windows, timebase, date)
        existing = settled.newest.get(date)
        if (needed or existing is None or (product.product_id, date) in tied
                or (timebase == Timebase.FILE and date in keyworded)):
            proved = False
        else:
            proved = _proves(found, windows, timebase, date, codes,
                             made_with.get(existing[ID]), made_from.get(existing[ID], set()),
                             index)
        if proved:
            settled.up_to_date.add(date)
        else:
            settled.inputs[date] = [r for rows in found for r in rows]
    for r in files:  # the other dates' outputs, for the planner
        if r[DATE] in settled.inputs:
            settled.files.setdefault(r[DATE], []).append(r)
    return settled


def _window(index: dict[tuple[int, datetime.date], list[FileRow]], windows: list,
            timebase: str, date: datetime.date) -> list[list[FileRow]]:
    """Each link's candidates on *date* (``Planner._select_inputs``'s days)."""
    found = []
    for product_id, yesterday, tomorrow, _, _ in windows:
        if timebase in PERIODS:
            lo, hi = period_of(timebase, date)
        else:
            lo, hi = date - DAY * yesterday, date + DAY * (tomorrow + 1)
        rows: dict[int, FileRow] = {}
        day = lo
        while day < hi:
            for r in index.get((product_id, day), ()):
                rows[r[ID]] = r
            day += DAY
        found.append(list(rows.values()))
    return found


def _proves(found: list[list[FileRow]], windows: list, timebase: str, date: datetime.date,
            codes: list, made_with: int | None, made_from: set[int],
            index: dict[tuple[int, datetime.date], list[FileRow]]) -> bool:
    """Whether the planner would find the newest output of *date* up to date: its
    inputs (no keyword variant here) are the files it was made from, its code the
    one the planner would choose, and neither a required input nor the date's own
    input is missing."""
    daily = timebase == Timebase.DAILY
    own_day = not daily or not windows
    chosen: set[int] = set()
    for rows, (product_id, _, _, optional, counts) in zip(found, windows, strict=True):
        if timebase == Timebase.FILE:  # the variant without keywords
            rows = [r for r in rows if not r[KEYWORDS]]
        if not rows and not optional:
            return False
        if not own_day and counts:
            # date in _days_of(r, True): the DAILY index holds r under those days.
            own = {r[ID] for r in index.get((product_id, date), ())}
            own_day = any(r[ID] in own for r in rows)
        chosen.update(r[ID] for r in rows)
    if not own_day or chosen != made_from:
        return False
    valid = [(version, code_id) for start, stop, version, code_id in codes
             if start <= date <= stop]
    return bool(valid) and max(valid)[1] == made_with
