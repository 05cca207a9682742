"""Plan: queued files -> run plans (spec section 8, steps 1-4).

``plan_wave(session, tree)`` takes the queued files of the lowest data level
present and returns a ``Wave``: the immutable ``RunPlan`` of every output that
must be (re)made, with its reason, the ``Skip`` of every output that need not
or cannot be made, with its reason, and the queue entries the wave consumes.
Nothing is written: a dry run prints a wave and stops.

Timebases: DAILY (inputs are the files whose own days, from utc_file_date to
the day their data stop, meet [date - yesterday, date + tomorrow]; the
unixtime index narrows the query; an output is made only for a day some
required input is a file of), FILE (inputs by utc_file_date
in that window, and only those whose process_keywords equal the triggering
file's), RUN (no output; the code runs each time an input is processed),
WEEKLY, MONTHLY, YEARLY (the output covers the ISO week, calendar month or
year holding the triggering data, dated its first day; its inputs are the
newest files of each input product dated in that period).
Only the newest version of an input (product, date) is used, and only newest
files trigger children.
"""
from __future__ import annotations

import datetime
import operator
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ..db.models import (
    Code,
    File,
    FileCodeLink,
    FileFileLink,
    Process,
    ProcessQueue,
    Product,
    ProductProcessLink,
    UnixTime,
)
from ..db.queries import newest_files, version_of
from ..errors import FormatError
from ..ingest.archive import ProductPaths
from ..ingest.record import epoch
from ..mission.substitution import fields_of, format_name, name_regex, parse_keywords, parse_name
from ..mission.timebase import PERIODS, Timebase, period_of
from ..mission.tree import MissionTree
from ..Version import Version
from .plans import InputFile, RunPlan, Skip, SkipKind, Wave
from .versioning import Decision, decide_version

DAY = datetime.timedelta(days=1)


# What a process is planned for: (date, trigger keywords, forced bump).
_Item = tuple[datetime.date, str | None, int | None]
# Candidate inputs by (product id, day).
_ByDay = dict[tuple[int, datetime.date], list[File]]
# The output product's files by date.
_ByDate = dict[datetime.date, list[File]]


@dataclass(frozen=True)
class _Queued:
    file: File
    bump: int | None
    remake: bool = False

def _date_of(file: File) -> datetime.date:
    """A planned file's utc_file_date (ingest and processing always record one)."""
    assert file.utc_file_date is not None, f"{file.filename} has no utc_file_date"
    return file.utc_file_date


def _dates_of(file: File) -> list[datetime.date]:
    start = file.utc_start_time or datetime.datetime.combine(_date_of(file), datetime.time())
    stop = file.utc_stop_time or start
    last = (stop - datetime.timedelta(microseconds=1)).date() if stop > start else start.date()
    days = [start.date() + DAY * i for i in range((last - start.date()).days + 1)]
    return days or [_date_of(file)]


# Fields a name gets from its date, version and owning rows; every other field
# ({nnn}, {APID}, {mday}, {??}, ...) is a keyword field, carried from the inputs.
_OWN_FIELDS = frozenset(("Y", "m", "d", "b", "y", "j", "H", "M", "S", "MILLI", "MICRO",
                         "DATE", "datetime", "VERSION", "PRODUCT", "MISSION", "SPACECRAFT",
                         "SATELLITE", "INSTRUMENT"))


def _own_days(file: File) -> list[datetime.date]:
    """The days a file is "for": from its own date to the day its data stop (a file
    whose data start a few seconds before its date is not a file of the day before)."""
    return [d for d in _dates_of(file) if d >= _date_of(file)] or [_date_of(file)]


_MIDNIGHT = datetime.time()


def _is_own_day(file: File, date: datetime.date) -> bool:
    """``date in _own_days(file)``; at once for the usual file (its data start at the
    midnight of its date and stop within that day: its only own day is its date)."""
    start, stop, own = file.utc_start_time, file.utc_stop_time, file.utc_file_date
    if (start is not None and stop is not None and start < stop <= start + DAY
            and start.time() == _MIDNIGHT and start.date() == own):
        return own == date
    return date in _own_days(file)


_INPUT_ORDER = operator.attrgetter("utc_file_date", "filename")  # a window's inputs


class Planner:
    """Plans for one mission; caches products and processes for the run."""

    def __init__(self, session: Session, tree: MissionTree, *, only: set[str] | None = None,
                 skip_run: bool = False, default_timeout: float | None = None,
                 use_optional: bool = True, always_run: bool = False) -> None:
        self.session = session
        self.tree = tree
        self.paths = ProductPaths(tree)
        self.only = only
        self.skip_run = skip_run
        self.default_timeout = default_timeout
        self.use_optional = use_optional
        self.always_run = always_run  # DBRunner: run even an up-to-date output
        self.products = {p.product_id: p for p in session.scalars(select(Product))}
        self.processes = {p.process_id: p for p in session.scalars(select(Process))}
        self.links: dict[int, list[ProductProcessLink]] = defaultdict(list)
        self.consumers: dict[int, list[ProductProcessLink]] = defaultdict(list)
        for link in session.scalars(select(ProductProcessLink)):
            if link.optional and not use_optional:
                continue
            self.links[link.process_id].append(link)
            self.consumers[link.input_product_id].append(link)
        # Within one process's planning: a file is an input of several outputs
        # (a window), a code makes them all.
        self._input_of: dict[int, InputFile] = {}
        self._code_paths: dict[int, Path] = {}
        self._code_versions: dict[int, Version] = {}  # every date weighs every code
        self._input_keys: dict[int, str] = {}  # file id -> "product date"
        self._sources: dict[int, tuple[str, Version]] = {}
        self._name_fields: dict[tuple[str, str], tuple[list[str], bool]] = {}

    def wanted(self, process: Process) -> bool:
        if self.skip_run and process.output_timebase == Timebase.RUN:
            return False
        if self.only is None:
            return True
        return process.process_name in self.only or str(process.process_id) in self.only

    # -- the queue -------------------------------------------------------
    def next_wave(self, after_level: float | None = None) -> Wave:
        """Plan the queued files of the lowest level (above *after_level*, for dry runs)."""
        lowest = select(func.min(File.data_level)).join(
            ProcessQueue, ProcessQueue.file_id == File.file_id)
        if after_level is not None:
            lowest = lowest.where(File.data_level > after_level)
        level = self.session.scalar(lowest)
        wave = Wave(level=level)
        if level is None:
            return wave
        rows = self.session.execute(
            select(File, ProcessQueue.version_bump, ProcessQueue.remake).join(
                ProcessQueue, ProcessQueue.file_id == File.file_id)
            .where(File.data_level == level).order_by(File.file_id)).all()
        wave.queue_bumps = {f.file_id: bump for f, bump, _ in rows}
        wave.remakes = {f.file_id for f, _, remake in rows if remake}
        newest = self._newest_of({(f.product_id, f.utc_file_date) for f, _, _ in rows})
        # Only the newest version of a (product, date) triggers children.
        queued = [_Queued(f, bump, bool(remake)) for f, bump, remake in rows
                  if newest[(f.product_id, f.utc_file_date)].file_id == f.file_id]
        self._plan(wave, queued)
        # A window's edge is no output at all: not an event, not a line in a dry run.
        wave.skips = [s for s in wave.skips if s.kind is not SkipKind.NEIGHBOUR_ONLY]
        return wave

    def plan_dates(self, process: Process, dates: list[datetime.date],
                   bump: int | None = None) -> Wave:
        """Plan *process* for each of *dates* directly (DBRunner), with no trigger."""
        wave = Wave(level=None)
        if not dates:
            return wave
        items: list[_Item] = [(d, None, bump) for d in sorted(set(dates))]
        if process.output_timebase == Timebase.FILE:
            items = self._keyword_variants(process, items)
        self._plan_process(wave, process, items)
        return wave

    def _keyword_variants(self, process: Process, items: list[_Item]) -> list[_Item]:
        """A FILE process makes one output per distinct process_keywords of its
        inputs on a date: with no triggering file, plan each variant found."""
        dates = [d for d, _, _ in items]
        variants: dict[datetime.date | None, set[str | None]] = defaultdict(set)
        for f in self._input_files(process, self.links[process.process_id],
                                   (min(dates), max(dates) + DAY)):
            variants[f.utc_file_date].add(f.process_keywords or None)
        return [(d, kw, bump) for d, _, bump in items
                for kw in sorted(variants.get(d) or {None}, key=lambda k: k or "")]

    def _newest_of(self, keys: set[tuple[int, datetime.date | None]]
                   ) -> dict[tuple[int, datetime.date | None], File]:
        if not keys:
            return {}
        files = self.session.scalars(select(File).where(
            File.product_id.in_({k[0] for k in keys}),
            File.utc_file_date.in_({k[1] for k in keys}))).all()
        return newest_files(files)

    # -- planning ----------------------------------------------------------
    def _plan(self, wave: Wave, queued: list[_Queued]) -> None:
        # (process, date, keywords) -> forced bump (max over triggers), trigger keywords
        targets: dict[tuple[int, datetime.date, str | None], int | None] = {}

        def add(key: tuple[int, datetime.date, str | None], bump: int | None) -> None:
            old = targets.get(key, bump)
            targets[key] = old if bump is None else (bump if old is None else min(old, bump))

        remade = self._remake_targets([item for item in queued if item.remake])
        for item in queued:
            if item.file.file_id in remade:  # its children follow from the new version
                key, bump = remade[item.file.file_id], item.bump
                add(key, bump)
                continue
            for link in self.consumers.get(item.file.product_id, []):
                process = self.processes[link.process_id]
                if not self.wanted(process):
                    continue
                timebase = process.output_timebase
                keywords = item.file.process_keywords if timebase == Timebase.FILE else None
                dates: Collection[datetime.date]
                if timebase in (Timebase.FILE, Timebase.RUN):
                    dates = [_date_of(item.file)]
                elif timebase in PERIODS:
                    dates = {period_of(timebase, d)[0] for d in _own_days(item.file)}
                else:
                    dates = {d - DAY * k for d in _own_days(item.file)
                             for k in range(-(link.yesterday or 0), (link.tomorrow or 0) + 1)}
                for date in dates:
                    add((process.process_id, date, keywords), item.bump)
        by_process: dict[int, list[_Item]] = defaultdict(list)
        for (process_id, date, keywords), bump in targets.items():
            by_process[process_id].append((date, keywords, bump))
        for process_id, items in sorted(by_process.items()):
            self._plan_process(wave, self.processes[process_id], sorted(
                items, key=lambda i: (i[0], i[1] or "")))

    def _remake_targets(self, items: list[_Queued]
                        ) -> dict[int, tuple[int, datetime.date, str | None]]:
        """file id -> (process, date, keywords) that remakes it, for queued files that
        ask to be remade themselves (reprocessByCode) and were made by a process."""
        if not items:
            return {}
        ids = [item.file.file_id for item in items]
        made_by = dict(self.session.execute(
            select(FileCodeLink.resulting_file, Code.process_id)
            .join(Code, Code.code_id == FileCodeLink.source_code)
            .where(FileCodeLink.resulting_file.in_(ids))).all())
        # A FILE output is one keyword variant: that of the inputs it was made from.
        source_keywords: dict[int, str | None] = {}  # (the query skips NULLs)
        for result, keywords in self.session.execute(
                select(FileFileLink.resulting_file, File.process_keywords)
                .join(File, File.file_id == FileFileLink.source_file)
                .where(FileFileLink.resulting_file.in_(ids),
                       File.process_keywords.is_not(None))
                .order_by(FileFileLink.resulting_file, File.file_id)):
            source_keywords.setdefault(result, keywords)
        targets = {}
        for item in items:
            f = item.file
            process = self.processes.get(made_by.get(f.file_id, -1))
            if process is None or process.output_product != f.product_id \
                    or not self.wanted(process):
                continue
            keywords = None
            if process.output_timebase == Timebase.FILE:
                keywords = f.process_keywords or source_keywords.get(f.file_id)
            targets[f.file_id] = (process.process_id, _date_of(f), keywords)
        return targets

    def plan_targets(self, wave: Wave, process: Process, items: list) -> None:
        """Plan *process* for each (date, keywords, bump) of *items* into *wave*."""
        self._plan_process(wave, process, sorted(items, key=lambda i: (i[0], i[1] or "")))

    def _plan_process(self, wave: Wave, process: Process, items: list) -> None:
        links = self.links[process.process_id]
        dates = [d for d, _, _ in items]
        if not links:  # a process with no inputs (run by DBRunner)
            span = (min(dates), max(dates) + DAY)
        elif process.output_timebase in PERIODS:
            span = (min(dates), period_of(process.output_timebase, max(dates))[1])
        else:
            span = (min(dates) - DAY * max((link.yesterday or 0) for link in links),
                    max(dates) + DAY * (max((link.tomorrow or 0) for link in links) + 1))
        candidates = self._by_day(process, self._input_files(process, links, span))
        codes = self.session.scalars(select(Code).where(
            Code.process_id == process.process_id, Code.active_code.is_(True))).all()
        outputs = self._outputs_by_date(process, dates)
        self._input_of.clear()
        self._code_paths.clear()
        self._code_versions.clear()
        self._input_keys.clear()
        self._sources.clear()
        for date, keywords, bump in items:
            outcome = self._plan_one(process, links, candidates, codes, outputs, date,
                                     keywords, bump)
            if isinstance(outcome, RunPlan):
                wave.plans.append(outcome)
            else:
                wave.skips.append(outcome)

    def _input_files(self, process: Process, links: list[ProductProcessLink],
                     span: tuple[datetime.date, datetime.date]) -> list[File]:
        product_ids = [link.input_product_id for link in links]
        if process.output_timebase == Timebase.DAILY:
            start, stop = (epoch(datetime.datetime.combine(d, datetime.time())) for d in span)
            query = select(File).join(UnixTime, UnixTime.file_id == File.file_id).where(
                File.product_id.in_(product_ids), UnixTime.unix_start < stop,
                or_(UnixTime.unix_stop > start, UnixTime.unix_start >= start))
        else:
            query = select(File).where(File.product_id.in_(product_ids),
                                       File.utc_file_date >= span[0],
                                       File.utc_file_date < span[1])
        return list(newest_files(self.session.scalars(query).all()).values())

    @staticmethod
    def _by_day(process: Process, files: list[File]) -> _ByDay:
        """Candidate inputs by (product, day): a DAILY input's own days (its date to
        the day its data stop), else its file date.  Selecting a window then costs
        its length, not the wave's."""
        index: _ByDay = defaultdict(list)
        for f in files:
            days = _own_days(f) if process.output_timebase == Timebase.DAILY else [_date_of(f)]
            for day in days:
                index[(f.product_id, day)].append(f)
        return index

    def _select_inputs(self, process: Process, links: list[ProductProcessLink],
                       candidates: _ByDay, date: datetime.date, keywords: str | None
                       ) -> tuple[list[File], list[str], bool]:
        """The inputs of one output, the required products with no file, and whether
        some input is the day's own (DAILY windows give extra inputs, not extra days)."""
        chosen: list[File] = []
        missing: list[str] = []
        timebase = process.output_timebase
        own_day = timebase != Timebase.DAILY or not links
        some_required = any(not link.optional for link in links)
        for link in links:
            if timebase in PERIODS:
                lo, hi = period_of(timebase, date)
            else:
                lo = date - DAY * (link.yesterday or 0)
                hi = date + DAY * ((link.tomorrow or 0) + 1)
            product_id, optional = link.input_product_id, link.optional
            found: dict[int, File] = {}
            for i in range((hi - lo).days):
                for f in candidates.get((product_id, lo + DAY * i), ()):
                    found[f.file_id] = f
            mine = ([f for f in found.values() if (f.process_keywords or None) == keywords]
                    if timebase == Timebase.FILE else list(found.values()))
            if not mine and not optional:
                missing.append(self.products[product_id].product_name)
            counts = not optional if some_required else True
            if not own_day and counts:
                own_day = any(_is_own_day(f, date) for f in mine)
            chosen.extend(sorted(mine, key=_INPUT_ORDER))
        return chosen, missing, own_day

    def _plan_one(self, process: Process, links: list[ProductProcessLink], candidates: _ByDay,
                  codes: Sequence[Code], outputs: _ByDate, date: datetime.date,
                  keywords: str | None, bump: int | None) -> RunPlan | Skip:
        name, pid = process.process_name, process.process_id
        inputs, missing, own_day = self._select_inputs(process, links, candidates, date,
                                                       keywords)
        if missing:
            return Skip(name, date, f"required input missing: {', '.join(missing)}", pid)
        if not own_day:
            return Skip(name, date, f"no input of {date} itself (only neighbouring days' "
                                    f"files, through the window)", pid,
                        SkipKind.NEIGHBOUR_ONLY)
        valid = [c for c in codes if c.code_start_date <= date <= c.code_stop_date]
        if not valid:
            return Skip(name, date, "no active code valid for that date", pid)
        code = max(valid, key=lambda c: (self._code_version(c).as_tuple(), c.code_id))
        input_files = tuple(self._input_file(f) for f in inputs)
        code_path = self._code_path(code)
        common: dict[str, Any] = dict(process_id=process.process_id, process_name=name,
                      timebase=process.output_timebase, date=date, code_id=code.code_id,
                      code_path=code_path, code_version=self._code_version(code),
                      code_arguments=code.arguments or "",
                      extra_params=process.extra_params or "", cpu=max(1, code.cpu or 1),
                      timeout=code.code_timeout or self.default_timeout,
                      inputs=input_files, keywords=keywords, bump=bump)
        if process.output_timebase == Timebase.RUN or process.output_product is None:
            return RunPlan(output_product_id=None, output_name=None, output_dir=None,
                           output_version=None, reasons=("RUN process: an input was "
                                                         "processed",), **common)
        product = self.products[process.output_product]
        carried = self._carried_fields(product, inputs, keywords)
        if isinstance(carried, str):
            return Skip(name, date, carried, pid)
        existing = self._existing_output(product, date, carried, outputs.get(date, []))
        decision = self._decide(code, existing, {
            self._input_key(i.file_id, i.product_id, i.date): i.version for i in input_files},
            bump)
        if not decision.run and self.always_run:
            decision = Decision(True, decision.version, ("run on request (up to date)",))
        elif not decision.run:
            return Skip(name, date, "up to date", pid, SkipKind.UP_TO_DATE)
        named = self.name_output(process, product, date, decision, carried,
                                 existing.filename if existing is not None else None)
        if isinstance(named, Skip):
            return named
        output_name, output_dir = named
        if carried and process.output_timebase != Timebase.FILE:
            common["keywords"] = " ".join(f"{k}={v}" for k, v in sorted(carried.items()))
        return RunPlan(output_product_id=product.product_id, output_name=output_name,
                       output_dir=output_dir, output_version=decision.version,
                       reasons=decision.reasons, **common)

    def name_output(self, process: Process, product: Product, date: datetime.date,
                    decision: Decision, carried: dict[str, str], existing: str | None
                    ) -> tuple[str, Path] | Skip:
        """The name and directory of an output that must be (re)made (*existing*: the
        name of its newest file), or why it cannot be: a name with no {VERSION}
        cannot hold a second version, or the name cannot be filled."""
        name, pid = process.process_name, process.process_id
        values = self.paths.values(product, date, decision.version, None)
        values.update(carried)
        if existing is not None and not self._fields_of_product(product)[1]:
            return Skip(name, date, f"must be remade ({'; '.join(decision.reasons)}) but "
                        f"format {product.format!r} has no {{VERSION}}: it cannot hold a "
                        f"second version of {existing}", pid, SkipKind.CANNOT_REMAKE)
        try:
            return (format_name(product.format, values),
                    self.paths.directory(product.relative_path, values))
        except FormatError as exc:
            return Skip(name, date, f"cannot name the output: {exc}", pid)

    def _carried_fields(self, product: Product, inputs: list[File],
                        keywords: str | None) -> dict[str, str] | str:
        """The keyword fields ({nnn}, {APID}, {mday}, ...) the output's name and
        directory need, from the triggering keywords, then from the inputs: their
        process_keywords, else the fields their own names hold by their product's
        format.  Inputs that disagree: a sentence saying so, instead of a dict."""
        needed, _ = self._fields_of_product(product)
        if not needed:
            return {}
        values = {k: v for k, v in parse_keywords(keywords).items() if k in needed}
        seen: dict[str, dict[str, str]] = defaultdict(dict)  # field -> value -> filename
        for f in inputs:
            own = parse_keywords(f.process_keywords)
            missing = [n for n in needed if n not in values and n not in own]
            if missing:
                parsed = self._fields_of_name(f)
                own.update({n: parsed[n] for n in missing if n in parsed})
            for n in needed:
                if n not in values and n in own:
                    seen[n].setdefault(own[n], f.filename)
        for n, found in seen.items():
            if len(found) > 1:
                shown = ", ".join(f"{fn} has {v}" for v, fn in sorted(found.items()))
                return f"inputs disagree on {{{n}}} for the output's name: {shown}"
            values[n] = next(iter(found))
        return values

    def _fields_of_product(self, product: Product) -> tuple[list[str], bool]:
        """The keyword fields a product's name and directory need (carried from the
        inputs), and whether its name has a {VERSION}: asked for every date."""
        key = (product.format, product.relative_path)
        known = self._name_fields.get(key)
        if known is None:
            known = self._name_fields[key] = (
                [f for f in (*fields_of(key[0]), *fields_of(key[1])) if f not in _OWN_FIELDS],
                "VERSION" in fields_of(key[0]))
        return known

    def _fields_of_name(self, f: File) -> dict[str, str]:
        try:
            return parse_name(self.products[f.product_id].format, f.filename) or {}
        except FormatError:
            return {}

    def _input_file(self, f: File) -> InputFile:
        file_id = f.file_id
        made = self._input_of.get(file_id)
        if made is not None:
            return made
        product_id, filename, keywords = f.product_id, f.filename, f.process_keywords
        product, date, version = self.products[product_id], _date_of(f), version_of(f)
        values = self.paths.values(product, date, version, keywords)
        directory = self.paths.directory(product.relative_path, values)
        made = self._input_of[file_id] = InputFile(
            file_id, filename, directory / filename, product_id, product.product_name,
            date, version, keywords)
        return made

    def _code_version(self, code: Code) -> Version:
        """version_of(code), made once per code while planning a process (nothing
        changes a Version it is given)."""
        version = self._code_versions.get(code.code_id)
        if version is None:
            version = self._code_versions[code.code_id] = version_of(code)
        return version

    def _code_path(self, code: Code) -> Path:
        path = self._code_paths.get(code.code_id)
        if path is None:
            relative = format_name(code.relative_path, {"CODEVERSION": str(version_of(code))})
            path = self._code_paths[code.code_id] = self.tree.codedir / relative / code.filename
        return path

    def _outputs_by_date(self, process: Process, dates: list[datetime.date]) -> _ByDate:
        """The files of *process*'s output product on *dates*, by date: one query
        for the whole list (a range when the dates are dense, as they are)."""
        if process.output_timebase == Timebase.RUN or process.output_product is None:
            return {}
        wanted = set(dates)
        first, last = min(wanted), max(wanted)
        on_dates = (File.utc_file_date.between(first, last)
                    if (last - first).days < 4 * len(wanted) + 31
                    else File.utc_file_date.in_(sorted(wanted)))
        found: _ByDate = defaultdict(list)
        for f in self.session.scalars(select(File).where(
                File.product_id == process.output_product, on_dates)):
            if f.utc_file_date in wanted:
                found[f.utc_file_date].append(f)
        return found

    def _existing_output(self, product: Product, date: datetime.date,
                         carried: dict[str, str], files: list[File]) -> File | None:
        """The newest of *files* (those of (product, date)) that is this output: the one
        whose name is the format filled with this output's fields (any version)."""
        if carried and files:
            known = {"datetime": date, "PRODUCT": product.product_name,
                     "MISSION": self.tree.name, **carried}
            try:
                pattern = name_regex(product.format, known)
                files = [f for f in files if pattern.match(f.filename)]
            except FormatError:
                pass
        return max(files, key=version_of) if files else None

    def _decide(self, code: Code, existing: File | None, new_inputs: dict[str, Version],
                bump: int | None) -> Decision:
        """*new_inputs*: the version of each chosen input, by its key (``_input_key``)."""
        if existing is None:
            return decide_version(output_interface=code.output_interface_version,
                                  existing=None, old_code=None,
                                  new_code=(code.code_id, self._code_version(code)),
                                  old_inputs=None,
                                  new_inputs=new_inputs, forced=bump)
        old_code, sources = self._made_of(existing)
        old_inputs = dict(self._source(f) for f in sources)
        return decide_version(
            output_interface=code.output_interface_version, existing=version_of(existing),
            old_code=(old_code.code_id, self._code_version(old_code)) if old_code else None,
            new_code=(code.code_id, self._code_version(code)), old_inputs=old_inputs,
            new_inputs=new_inputs, forced=bump)

    def _input_key(self, file_id: int, product_id: int, date: datetime.date | None) -> str:
        """An input's key in a decision ("product date"), made once per file while
        planning a process (a DAILY window weighs each file for several dates)."""
        key = self._input_keys.get(file_id)
        if key is None:
            key = self._input_keys[file_id] = f"{self.products[product_id].product_name} {date}"
        return key

    def _source(self, f: File) -> tuple[str, Version]:
        """A recorded input's key and version, made once per file while planning a
        process (nothing changes a Version it is given)."""
        known = self._sources.get(f.file_id)
        if known is None:
            known = self._sources[f.file_id] = (
                self._input_key(f.file_id, f.product_id, f.utc_file_date), version_of(f))
        return known

    def _made_of(self, existing: File) -> tuple[Code | None, Sequence[File]]:
        """The code and the input files *existing* was made from (its provenance)."""
        old_code = self.session.execute(
            select(Code).join(FileCodeLink, FileCodeLink.source_code == Code.code_id)
            .where(FileCodeLink.resulting_file == existing.file_id)).scalars().first()
        sources = self.session.scalars(
            select(File).join(FileFileLink, FileFileLink.source_file == File.file_id)
            .where(FileFileLink.resulting_file == existing.file_id)).all()
        return old_code, sources


