"""Missing outputs: the dates where a product could be made now and has no file.

Computed from the status code (``report/status.py``), which asks the planner
(``Planner.plan_dates``, what ``ProcessQueue -p`` would do) for every date: a
date is missing when the planner would make its output (every required
input is there and a code is valid) and no file of it exists.  Its state
says more: ``missing`` (never attempted), ``failed`` (the last attempt
failed) or ``queued`` (an input is queued: the next ``ProcessQueue -p`` makes
it).  Dates the planner cannot make (``blocked``) are gaps upstream, and
products no process makes have nothing missing.

``queue_parents`` puts the parents (the planned inputs) of missing outputs on
the process queue, through ``process/reprocess.py``'s ``queue_files``, so
the next ``ProcessQueue -p`` makes them.
"""
from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.models import Product
from ..db.queries import find_product
from ..mission.tree import MissionTree
from ..process.planner import InputFile
from ..process.reprocess import queue_files
from .status import StatusReader, mission_status

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MissingOutput:
    product: str
    date: datetime.date
    process: str
    state: str                      # missing, failed or queued
    reason: str
    output_name: str | None
    parents: tuple[InputFile, ...]

    def describe(self) -> str:
        return f"{self.product}  {self.date}  {self.state:<7}  {self.output_name or '-'}"


@dataclass
class MissingReport:
    outputs: list[MissingOutput] = field(default_factory=list)
    products: list[str] = field(default_factory=list)       # products looked at
    not_made: list[str] = field(default_factory=list)       # named, but no process makes them

    def lines(self, parents: bool = False) -> list[str]:
        out = [f"{name}: no process makes it (ingested data); nothing can be missing"
               for name in self.not_made]
        if not self.outputs:
            looked = ", ".join(self.products) or "no product"
            return out + [f"no missing files ({looked})"]
        out.append(f"missing files ({len(self.outputs)}): product, date, state, "
                   f"the output it would be")
        for item in self.outputs:
            out.append(f"\t{item.describe()}")
            if parents:
                out += [f"\t\tparent {p.filename} ({p.product_name} {p.date}, "
                        f"version {p.version})" for p in item.parents]
        return out


def find_missing(session: Session, tree: MissionTree, products: list[str] | None,
                 start: datetime.date | None = None, end: datetime.date | None = None,
                 parent: str | None = None) -> MissingReport:
    """The missing outputs of *products* (every product some process makes, by
    default) over [start, end] (default: each product's span, that of its inputs
    included); with *parent* (a product), only parents of that product are kept."""
    report = MissingReport()
    reader = StatusReader(session, tree)
    if products:
        chosen = [find_product(session, ref) for ref in products]
    else:
        chosen = list(session.scalars(select(Product).order_by(Product.level,
                                                               Product.product_name)))
    made = [p for p in chosen if p.product_id in reader.makers]
    report.not_made = [p.product_name for p in chosen
                       if products and p.product_id not in reader.makers]
    report.products = [p.product_name for p in made]
    parent_id = find_product(session, parent).product_id if parent is not None else None
    if not made:
        return report
    for status in mission_status(session, tree, report.products, start, end):
        plan = status.plan
        if plan is None or status.filename is not None:
            continue
        parents = tuple(i for i in plan.inputs
                        if parent_id is None or i.product_id == parent_id)
        report.outputs.append(MissingOutput(status.product, status.date, plan.process_name,
                                            status.state, status.reason, plan.output_name,
                                            parents))
    return report


def queue_parents(session: Session, report: MissingReport) -> int:
    """Queue every parent of the missing outputs (once each); return how many.  The
    caller commits."""
    ids = sorted({p.file_id for item in report.outputs for p in item.parents})
    count = queue_files(session, ids, None)
    logger.info("queued %d parent file(s) of %d missing output(s): %s", count,
                len(report.outputs), ", ".join(f"{i.product} {i.date}" for i in report.outputs))
    return count
