"""The planner as the status report uses it: provenance read per batch, inputs given.

``ProcessQueue -p`` plans a handful of dates at a time, and the planner asks
the database, for each existing output it weighs, for the code and the
inputs it was made from (``Planner._made_of``): two queries an output.
``printStatus`` weighs many outputs at once, so ``SpanPlanner`` reads the
provenance of every output the planner fetches for a batch of dates
(``_outputs_by_date``) in two queries per few hundred outputs, and
``_made_of`` answers from it (the queue's plans, which ``next_run_plans``
makes with the same planner, included).  And status plans only the dates
``settled.settle`` could not prove up to date, with the candidate inputs
``settle`` read over the whole span, so each date is planned from exactly
the candidates it would have had if the planner had planned the whole span;
``give_settled`` hands the planner what ``settle`` read (those candidates,
already indexed by day, the outputs of the dates left and the ids of their
code and inputs), so that planning them reads nothing again but the few
inputs that are not candidates (an older version an output was made from).
The decision itself is the planner's, on the same values.  Status without
plans (printStatus) goes one step further for the dates ``settle`` found
changed (every input there, a valid code, but other inputs or another code
than made the output): ``decide_changed`` gives them the planner's decision
and output naming on those values without building a RunPlan.

What the planner reads of a file (ids, name, dates and times, version,
keywords) a plain row of ``settled.COLUMNS`` has under the same names: the
given candidates, the outputs and their recorded inputs are such rows, read
without building ORM objects (status weighs some 100,000 of them on a large
archive); codes, few, stay ORM objects.
"""
from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.models import Code, File, FileCodeLink, FileFileLink, Process, ProductProcessLink
from ..mission.timebase import Timebase
from ..mission.tree import MissionTree
from ..process.planner import InputFile, Planner, Skip, SkipKind, Wave, _ByDate, _ByDay
from ..Version import Version
from .rows import COLUMNS, DATE, FILENAME, ID, PRODUCT, VERSION, FileRows
from .settled import window_inputs

if TYPE_CHECKING:
    from .rows import FileRow
    from .settled import Settled


@dataclass(frozen=True, slots=True)
class Remake:
    """An output the planner would remake, and why (``Decision.reasons``), with no plan."""

    date: datetime.date
    reasons: tuple[str, ...]


CHUNK = 500  # ids in one IN (...): well under SQLite's limit on bound values


def chunks(ids: Collection[Any]) -> Iterator[list[Any]]:
    """*ids* (ints or dates) sorted, in lists of at most CHUNK."""
    ordered = sorted(ids)
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start:start + CHUNK]


class SpanPlanner(Planner):
    """A Planner that reads provenance per batch and can be given its candidate inputs."""

    def __init__(self, session: Session, tree: MissionTree, *, narrow: bool = True,
                 **options: Any) -> None:
        super().__init__(session, tree, **options)
        # False: read candidates and outputs as the Planner does (the reference
        # the tests compare with).
        self.narrow = narrow
        # Each product's files, read once; those of a DAILY process's inputs by date
        # with their unixtime, so that its candidates are among them.
        self.rows = FileRows(session, {
            link.input_product_id for process_id, links in self.links.items()
            if self.processes[process_id].output_timebase == Timebase.DAILY
            for link in links})
        self._made_with: dict[int, Code] = {}  # output file id -> its code
        self._made_from: dict[int, list[FileRow]] = defaultdict(list)  # -> its input files
        self._known: set[int] = set()  # output file ids whose links are in hand
        self._inputs: dict[int, InputFile] = {}
        self._given: dict[int, list[FileRow]] = {}  # process id -> its candidate inputs
        self._settled: dict[int, Settled] = {}  # process id -> what settle read for it
        self._code_paths: dict[int, Path] = {}
        # Output product id -> (first, last) date: plan only targets in these
        # bounds (the queue's plans for a report on some products and dates).
        self.within: dict[int, tuple[datetime.date, datetime.date]] | None = None

    def give_inputs(self, process_id: int, rows: list[FileRow] | None) -> None:
        """Plan *process_id* from these files (rows of ``COLUMNS``, the newest of
        their (product, date) over the span planned) instead of querying; None:
        query again."""
        if rows is None:
            self._given.pop(process_id, None)
            return
        self._given[process_id] = sorted(rows, key=lambda r: r.file_id)

    def give_settled(self, process_id: int, settled: Settled | None,
                     rows: list[FileRow] | None = None) -> None:
        """Plan *process_id* for dates of the span *settled* was read over, from what
        it read: the candidates *rows* (``give_inputs``) as its index holds them,
        the output product's files and their provenance; None: query again."""
        if settled is None:
            self._settled.pop(process_id, None)
            self.give_inputs(process_id, None)
            return
        self._settled[process_id] = settled
        self.give_inputs(process_id, rows or [])

    def _by_day(self, process: Process, files: list[File]) -> _ByDay:  # type: ignore[override]
        # The span's index holds each given candidate under the same days (the
        # days of a date's window hold the same rows whichever dates are given).
        settled = self._settled.get(process.process_id)
        if settled is None:
            return super()._by_day(process, files)
        return cast(_ByDay, settled.index)

    def _input_files(self, process: Process, links: list[ProductProcessLink],
                     span: tuple[datetime.date, datetime.date]) -> list[File]:
        given = self._given.get(process.process_id)
        if given is None:
            return super()._input_files(process, links, span)
        return cast(list[File], given)  # rows: what the planner reads of a File

    def decide_changed(self, process: Process, settled: Settled,
                       dates: Sequence[datetime.date]) -> dict[datetime.date, Remake | Skip]:
        """The planner's verdict on the dates of *dates* that *settled* found changed
        (inputs all there, a valid code, but other inputs or another code than made
        the newest output), without planning them: the same decision
        (``Planner._decide``) on the same inputs, code and provenance, and the same
        naming of the output (``Planner.name_output``), but no RunPlan (status
        without plans: no input paths, code path or command)."""
        wanted = [d for d in dates if d in settled.changed]
        if not wanted or self.always_run or process.output_product is None:
            return {}
        product = self.products[process.output_product]
        self._input_keys.clear()
        self._sources.clear()
        self._code_versions.clear()
        outputs = {d: settled.newest[d] for d in wanted}
        self._take_provenance(settled, wanted, [r[ID] for r in outputs.values()
                                                if r[ID] not in self._known])
        codes: dict[int, Code] = {}
        versions: dict[tuple[int, int, int], Version] = {}
        name, pid = process.process_name, process.process_id
        found: dict[datetime.date, Remake | Skip] = {}
        # Whether an output can be named does not depend on its date: the name's
        # values are the product's, the mission's, the date's fields and the
        # version, all always there (a date needing fields carried from its inputs
        # is left to the planner by settle), so once one date is named, every
        # other is; until then each is named, for its Skip's reason.
        named_once = False
        for date in wanted:
            existing = outputs[date]
            rows, code_id = settled.changed[date]
            code = codes.get(code_id)
            if code is None:
                code = codes[code_id] = self.session.get_one(Code, code_id)
            new_inputs = {}
            for r in rows:
                version = versions.get(r[VERSION])
                if version is None:
                    version = versions[r[VERSION]] = Version(*r[VERSION])
                new_inputs[self._input_key(r[ID], r[PRODUCT], r[DATE])] = version
            decision = self._decide(code, cast(File, existing), new_inputs, None)
            if not decision.run:
                found[date] = Skip(name, date, "up to date", pid, SkipKind.UP_TO_DATE)
                continue
            if not named_once:
                named = self.name_output(process, product, date, decision, {},
                                         existing[FILENAME])
                if isinstance(named, Skip):
                    found[date] = named
                    continue
                named_once = True
            found[date] = Remake(date, decision.reasons)
        return found

    def _plan_process(self, wave: Wave, process: Process, items: list) -> None:
        # The queue's dates (next_run_plans) are few and scattered over the archive:
        # read the candidates of their span as plain rows and load as files only
        # those in their windows.
        if self.within is not None:
            product = process.output_product
            bounds = self.within.get(product) if product is not None else None
            items = [] if bounds is None else [
                item for item in items if bounds[0] <= item[0] <= bounds[1]]
            if not items:
                return
        if process.process_id in self._given or not items or not self.narrow:
            super()._plan_process(wave, process, items)
            return
        self.give_inputs(process.process_id, window_inputs(
            self, process, sorted({date for date, _, _ in items})))
        try:
            super()._plan_process(wave, process, items)
        finally:
            self.give_inputs(process.process_id, None)

    def _outputs_by_date(self, process: Process, dates: list[datetime.date]) -> _ByDate:
        # The dates status leaves to the planner are scattered over the whole span:
        # read only theirs (the planner reads the range when it is dense enough).
        if process.output_timebase == Timebase.RUN or process.output_product is None:
            return {}
        settled = self._settled.get(process.process_id)
        if settled is not None:
            found = {d: cast(list[File], settled.files[d]) for d in dates
                     if d in settled.files}
            self._take_provenance(settled, dates, [
                f.file_id for files in found.values() for f in files
                if f.file_id not in self._known])
            return found
        if not self.narrow:
            found = super()._outputs_by_date(process, dates)
        else:
            found = defaultdict(list)
            for chunk in chunks(set(dates)):
                for r in self.session.execute(select(*COLUMNS).where(
                        File.product_id == process.output_product,
                        File.utc_file_date.in_(chunk))):
                    found[r.utc_file_date].append(cast(File, r))
        self._read_provenance([f.file_id for files in found.values() for f in files
                               if f.file_id not in self._known])
        return found

    def _take_provenance(self, settled: Settled, dates: list[datetime.date],
                         file_ids: list[int]) -> None:
        """The code and input files of *file_ids* (outputs of *dates*) from the links
        *settled* read (the inputs as rows: the dates' candidates, others by id)."""
        rows = {r[ID]: r for d in dates for r in settled.inputs.get(d, ())}
        sources = {i for f in file_ids for i in settled.made_from.get(f, ())}
        for ids in chunks(sources - rows.keys()):
            rows.update((r[ID], r) for r in self.session.execute(
                select(*COLUMNS).where(File.file_id.in_(ids))))
        codes: dict[int, Code | None] = {}
        unknown = []  # a code id with no code row: the planner's query skips it
        for f in file_ids:
            code_id = settled.made_with.get(f)
            if code_id is not None:
                if code_id not in codes:
                    codes[code_id] = self.session.get(Code, code_id)
                if codes[code_id] is None:
                    unknown.append(f)
                    continue
                self._made_with[f] = cast(Code, codes[code_id])
            self._known.add(f)
            self._made_from[f] = [rows[i] for i in sorted(settled.made_from.get(f, ()))
                                  if i in rows]
        self._read_provenance(unknown)

    def _read_provenance(self, file_ids: list[int]) -> None:
        """The code and input files (rows) each of *file_ids* was made from."""
        codes: dict[int, Code] = {}
        for ids in chunks(file_ids):
            self._known.update(ids)
            for file_id, code_id in self.session.execute(
                    select(FileCodeLink.resulting_file, FileCodeLink.source_code)
                    .join(Code, Code.code_id == FileCodeLink.source_code)
                    .where(FileCodeLink.resulting_file.in_(ids))
                    .order_by(FileCodeLink.resulting_file, FileCodeLink.source_code)):
                if file_id not in self._made_with:  # the planner takes the first too
                    code = codes.get(code_id)
                    if code is None:
                        code = codes[code_id] = self.session.get_one(Code, code_id)
                    self._made_with[file_id] = code
            for row in self.session.execute(
                    select(FileFileLink.resulting_file.label("result"), *COLUMNS)
                    .join(File, File.file_id == FileFileLink.source_file)
                    .where(FileFileLink.resulting_file.in_(ids))
                    .order_by(FileFileLink.resulting_file, FileFileLink.source_file)):
                self._made_from[row.result].append(row)

    def _code_path(self, code: Code) -> Path:
        # The same code for most dates: name its path once.
        path = self._code_paths.get(code.code_id)
        if path is None:
            path = self._code_paths[code.code_id] = super()._code_path(code)
        return path

    def _input_file(self, f: File) -> InputFile:
        # A DAILY window makes each file an input of several dates: name it once.
        made = self._inputs.get(f.file_id)
        if made is None:
            made = self._inputs[f.file_id] = super()._input_file(f)
        return made

    def _made_of(self, existing: File) -> tuple[Code | None, Sequence[File]]:
        if existing.file_id not in self._known:
            return super()._made_of(existing)
        return (self._made_with.get(existing.file_id),
                cast(list[File], self._made_from.get(existing.file_id, [])))
