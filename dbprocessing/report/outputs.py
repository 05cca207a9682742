"""The planner as the status report uses it: a span's provenance read at once.

``ProcessQueue -p`` plans a handful of dates at a time, and the planner asks
the database, for each existing output it weighs, for the code and the
inputs it was made from (``Planner._made_of``): two queries an output.
``printStatus`` of every product over a whole archive weighs every output
there is, so ``SpanPlanner.prefetch`` reads the files of a product's whole
span and their provenance in three queries, and ``_made_of`` answers from
them.  Other outputs (the queue's plans, which ``next_run_plans`` makes with
the same planner) are asked as before.  The decision itself is the
planner's, on the same values.
"""
from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from ..db.models import Code, File, FileCodeLink, FileFileLink
from ..mission.tree import MissionTree
from ..process.planner import InputFile, Planner


class SpanPlanner(Planner):
    """A Planner that can be told which (product, span) it is about to plan."""

    def __init__(self, session: Session, tree: MissionTree, **options: Any) -> None:
        super().__init__(session, tree, **options)
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
        for f in files:
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
        return list(files)

    def _input_file(self, f: File) -> InputFile:
        # A DAILY window makes each file an input of several dates: name it once.
        made = self._inputs.get(f.file_id)
        if made is None:
            made = self._inputs[f.file_id] = super()._input_file(f)
        return made

    def _made_of(self, existing: File) -> tuple[Code | None, Sequence[File]]:
        if existing.file_id not in self._known:
            return super()._made_of(existing)
        return self._made_with.get(existing.file_id), self._made_from.get(existing.file_id, [])
