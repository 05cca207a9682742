"""The planner as the status report uses it: a span's existing outputs read at once.

``ProcessQueue -p`` plans a handful of dates at a time, and the planner asks
the database, for each output it plans, for the files already made that date
(``_existing_output``) and for the code and inputs the newest was made from
(``_decide``): three queries a date.  ``printStatus`` of every product over
a whole archive plans every date there is, so ``SpanPlanner.prefetch`` reads
those rows for a product's whole span in three queries, and the two methods
answer from them.  Dates outside a prefetched span (the queue's plans, which
``next_run_plans`` makes with the same planner) are asked as before.  The
decision itself is the planner's: the same name matching and the same
``decide_version`` call on the same values.
"""
from __future__ import annotations

import datetime
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ..db.models import Code, File, FileCodeLink, FileFileLink, Product
from ..db.queries import version_of
from ..errors import FormatError
from ..mission.substitution import name_regex
from ..mission.tree import MissionTree
from ..process.planner import InputFile, Planner
from ..process.versioning import Decision, decide_version


class SpanPlanner(Planner):
    """A Planner that can be told which (product, span) it is about to plan."""

    def __init__(self, session: Session, tree: MissionTree, **options: Any) -> None:
        super().__init__(session, tree, **options)
        self._spans: dict[int, tuple[datetime.date, datetime.date]] = {}
        self._outputs: dict[tuple[int, datetime.date | None], list[File]] = {}
        self._made_with: dict[int, Code] = {}  # output file id -> its code
        self._made_from: dict[int, list[File]] = defaultdict(list)  # -> its input files
        self._known: set[int] = set()  # output file ids whose links are in hand
        self._inputs: dict[int, InputFile] = {}

    def prefetch(self, product_id: int, first: datetime.date, last: datetime.date
                 ) -> list[File]:
        """Read every file of *product_id* dated in [first, last], with the code and
        input files each was made from; return the files."""
        made = (File.product_id == product_id, File.utc_file_date >= first,
                File.utc_file_date <= last)
        files = self.session.scalars(select(File).where(*made)).all()
        for key in [k for k in self._outputs if k[0] == product_id]:
            del self._outputs[key]
        for f in files:
            self._outputs.setdefault((f.product_id, f.utc_file_date), []).append(f)
            self._known.add(f.file_id)
            self._made_from.pop(f.file_id, None)  # read again below
        output = aliased(File)
        in_span = (output.product_id == product_id, output.utc_file_date >= first,
                   output.utc_file_date <= last)
        for file_id, code in self.session.execute(
                select(FileCodeLink.resulting_file, Code)
                .join(Code, Code.code_id == FileCodeLink.source_code)
                .join(output, output.file_id == FileCodeLink.resulting_file).where(*in_span)
                .order_by(FileCodeLink.resulting_file, FileCodeLink.source_code)):
            self._made_with.setdefault(file_id, code)  # the planner takes the first too
        for file_id, source in self.session.execute(
                select(FileFileLink.resulting_file, File)
                .join(File, File.file_id == FileFileLink.source_file)
                .join(output, output.file_id == FileFileLink.resulting_file).where(*in_span)
                .order_by(FileFileLink.resulting_file, FileFileLink.source_file)):
            self._made_from[file_id].append(source)
        self._spans[product_id] = (first, last)
        return list(files)

    def _covers(self, product_id: int, date: datetime.date) -> bool:
        span = self._spans.get(product_id)
        return span is not None and span[0] <= date <= span[1]

    def _input_file(self, f: File) -> InputFile:
        # A DAILY window makes each file an input of several dates: name it once.
        made = self._inputs.get(f.file_id)
        if made is None:
            made = self._inputs[f.file_id] = super()._input_file(f)
        return made

    # The two planner methods that ask the database per date, answered from the
    # prefetched rows; each keeps the planner's own logic on those rows.
    def _existing_output(self, product: Product, date: datetime.date,
                         carried: dict[str, str]) -> File | None:
        if not self._covers(product.product_id, date):
            return super()._existing_output(product, date, carried)
        files = self._outputs.get((product.product_id, date), [])
        if carried and files:
            known = {"datetime": date, "PRODUCT": product.product_name,
                     "MISSION": self.tree.name, **carried}
            try:
                pattern = name_regex(product.format, known)
                files = [f for f in files if pattern.match(f.filename)]
            except FormatError:
                pass
        return max(files, key=version_of) if files else None

    def _decide(self, code: Code, existing: File | None, inputs: tuple[InputFile, ...],
                bump: int | None) -> Decision:
        if existing is None or existing.file_id not in self._known:
            return super()._decide(code, existing, inputs, bump)
        old_code = self._made_with.get(existing.file_id)
        old_inputs = {f"{self.products[f.product_id].product_name} {f.utc_file_date}":
                      version_of(f) for f in self._made_from.get(existing.file_id, [])}
        return decide_version(
            output_interface=code.output_interface_version, existing=version_of(existing),
            old_code=(old_code.code_id, version_of(old_code)) if old_code else None,
            new_code=(code.code_id, version_of(code)), old_inputs=old_inputs,
            new_inputs={f"{i.product_name} {i.date}": i.version for i in inputs},
            forced=bump)
