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
ways on a varied archive).  A date whose inputs are all there and whose code
is valid, but whose output was made from other inputs or by another code, is
handed on with those inputs and that code (``Settled.changed``), for the
planner's decision without a full plan (``SpanPlanner.decide_changed``).
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from ..db.models import Code, File, FileCodeLink, FileFileLink, Process, Product
from ..ingest.record import epoch
from ..mission.substitution import fields_of
from ..mission.timebase import PERIODS, Timebase, period_of
from ..process.planner import _OWN_FIELDS, _own_days
from .rows import DATE, ID, KEYWORDS, START, STOP, newest_rows

if TYPE_CHECKING:
    from .outputs import SpanPlanner
    from .rows import FileRow

DAY = datetime.timedelta(days=1)


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
    # The other dates whose inputs are all there and whose code is valid, but whose
    # newest output was made from other inputs or by another code: the inputs and
    # the code the planner would choose (``SpanPlanner.decide_changed`` weighs them).
    changed: dict[datetime.date, tuple[list[FileRow], int]] = field(default_factory=dict)


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


def _candidates(planner: SpanPlanner, process: Process, product_ids: list[int],
                span: tuple[datetime.date, datetime.date]) -> list[FileRow]:
    """The rows ``Planner._input_files`` reads over *span*, by the same condition,
    product by product (``FileRows``: each read once a call)."""
    if process.output_timebase == Timebase.DAILY:
        start, stop = (epoch(datetime.datetime.combine(d, datetime.time())) for d in span)
        return planner.rows.timed(product_ids, start, stop)  # type: ignore[arg-type]
    return planner.rows.dated(product_ids, span[0], span[1] - DAY)


def candidate_index(planner: SpanPlanner, process: Process, dates: list[datetime.date]
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
    newest_in, _ = newest_rows(_candidates(planner, process,
                                           [link.input_product_id for link in links], span))
    daily = timebase == Timebase.DAILY
    index: dict[tuple[int, datetime.date], list[FileRow]] = {}
    keyworded: set[datetime.date] = set()
    midnight = datetime.time()
    for key, r in newest_in.items():
        date, start, stop = key[1], r[START], r[STOP]
        if not daily or (start is not None and stop is not None and start.date() == date
                         and start.time() == midnight and start < stop <= start + DAY):
            held = index.get(key)  # _days_of's usual file, inlined
            if held is None:
                index[key] = [r]
            else:
                held.append(r)
        else:
            for day in _days_of(r, daily):
                index.setdefault((key[0], day), []).append(r)
        if r[KEYWORDS]:
            keyworded.add(date)
    return index, keyworded


def window_inputs(planner: SpanPlanner, process: Process,
                  dates: list[datetime.date]) -> list[FileRow]:
    """The candidate inputs planning *process* for *dates* (sorted) reads."""
    index, _ = candidate_index(planner, process, dates)
    windows = _windows(planner, process)
    return list({r[ID]: r for date in dates
                 for rows in _window(index, windows, process.output_timebase, date)
                 for r in rows}.values())


def _windows(planner: SpanPlanner, process: Process
             ) -> list[tuple[int, int, int, bool, bool]]:
    """Per input link: product, yesterday, tomorrow, optional, and whether it counts
    for the date's own input (``Planner._select_inputs``)."""
    links = planner.links[process.process_id]
    some_required = any(not link.optional for link in links)
    return [(link.input_product_id, link.yesterday or 0, link.tomorrow or 0, link.optional,
             not link.optional if some_required else True) for link in links]


def settle(planner: SpanPlanner, process: Process, product: Product,
           dates: list[datetime.date]) -> Settled:
    """Which of *dates* (sorted) of *product*, made by *process*, are up to date."""
    session, settled = planner.session, Settled()
    conn = session.connection()  # plain rows, read through Core: no ORM pass per row
    first, last = dates[0], dates[-1]
    files = planner.rows.dated([product.product_id], first, last)
    outputs, tied = newest_rows(files)
    wanted = set(dates)
    settled.newest = newest = {d: r for (_, d), r in outputs.items() if d in wanted}
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
    made_from: dict[int, set[int]] = {}
    settled.made_with, settled.made_from = made_with, made_from
    for result, source in conn.execute(
            select(FileFileLink.resulting_file, FileFileLink.source_file)
            .join(output, output.file_id == FileFileLink.resulting_file)
            .where(output.product_id == product.product_id, output.utc_file_date >= first,
                   output.utc_file_date <= last)).all():
        held = made_from.get(result)
        if held is None:
            made_from[result] = {source}
        else:
            held.add(source)
    codes = [(c.code_start_date, c.code_stop_date,
              (c.interface_version, c.quality_version, c.revision_version), c.code_id)
             for c in session.scalars(select(Code).where(
                 Code.process_id == process.process_id, Code.active_code.is_(True)))]
    windows = _windows(planner, process)
    pid, up_to_date, inputs = product.product_id, settled.up_to_date, settled.inputs
    changed = settled.changed
    by_file = timebase == Timebase.FILE
    doubt = bool(needed)
    for date in dates:
        found = _window(index, windows, timebase, date)
        existing = newest.get(date)
        if (doubt or existing is None or (by_file and date in keyworded)
                or (pid, date) in tied):
            choice = None
        else:
            choice = _choose(found, windows, timebase, date, codes, index)
        if choice is not None and existing is not None and \
                choice[1] == made_with.get(existing[ID]) and \
                {r[ID] for r in choice[0]} == made_from.get(existing[ID], set()):
            up_to_date.add(date)
            continue
        inputs[date] = [r for rows in found for r in rows]
        if choice is not None:
            changed[date] = choice
    for r in files:  # the other dates' outputs, for the planner
        if r[DATE] in inputs:
            settled.files.setdefault(r[DATE], []).append(r)
    return settled


def _window(index: dict[tuple[int, datetime.date], list[FileRow]], windows: list,
            timebase: str, date: datetime.date) -> list[list[FileRow]]:
    """Each link's candidates on *date* (``Planner._select_inputs``'s days)."""
    found = []
    for product_id, yesterday, tomorrow, _, _ in windows:
        if timebase in PERIODS:
            lo, hi = period_of(timebase, date)
        elif yesterday == tomorrow == 0:  # one day: its list holds each file once
            found.append(index.get((product_id, date), []))
            continue
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


def _choose(found: list[list[FileRow]], windows: list, timebase: str, date: datetime.date,
            codes: list, index: dict[tuple[int, datetime.date], list[FileRow]]
            ) -> tuple[list[FileRow], int] | None:
    """The inputs (no keyword variant here) and the code the planner would choose for
    *date*; None when it would not weigh them: a required input or the date's own
    input is missing, or no code is valid."""
    daily = timebase == Timebase.DAILY
    own_day = not daily or not windows
    chosen: list[FileRow] = []
    for rows, (product_id, yesterday, tomorrow, optional, counts) in zip(found, windows,
                                                                          strict=True):
        if timebase == Timebase.FILE:  # the variant without keywords
            rows = [r for r in rows if not r[KEYWORDS]]
        if not rows and not optional:
            return None
        if not own_day and counts:
            # date in _days_of(r, True): the DAILY index holds r under those days.
            own = index.get((product_id, date), ())
            if yesterday >= 0 and tomorrow >= 0:  # the window holds the date's own list
                own_day = bool(own)
            else:
                ids = {r[ID] for r in own}
                own_day = any(r[ID] in ids for r in rows)
        chosen.extend(rows)
    if not own_day:
        return None
    valid = [(version, code_id) for start, stop, version, code_id in codes
             if start <= date <= stop]
    return (chosen, max(valid)[1]) if valid else None
