"""Describe the mission as it is recorded: tables of its rows (printInfo) and what
each process needs (printRequired).

``info_table(session, tree, kind, ...)`` gives the rows of one kind (Code,
File, Mission, Process, Product) as a plain table; File rows can be narrowed
to one product and a date range.  ``required_inputs(session, refs)`` gives,
per process, its output, timebase, required and optional inputs with their
yesterday/tomorrow windows, and its codes.  Read only.
"""
from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.models import Code, File, Mission, Process, Product, ProductProcessLink
from ..db.queries import find_process, find_product, newest_files, version_of
from ..errors import UsageError
from ..mission.tree import MissionTree
from .vocabulary import INFO_KINDS as KINDS


def format_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Columns padded to their widest cell; ``-`` for None."""
    cells = [[("-" if v is None else str(v)) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h)
              for i, h in enumerate(header)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip()]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
    return "\n".join(lines)


def info_table(session: Session, tree: MissionTree, kind: str, *,
               product: str | None = None, start: datetime.date | None = None,
               end: datetime.date | None = None) -> tuple[str, int]:
    """The rows of *kind* as a table, and how many rows it holds.

    *product* narrows File and Product rows; *start*/*end* (inclusive) narrow File
    rows by utc_file_date.  Asking another kind to be narrowed is a UsageError.
    """
    if kind not in KINDS:
        raise UsageError(f"no kind {kind!r} (choose from {', '.join(KINDS)})")
    if product is not None and kind not in ("File", "Product"):
        raise UsageError(f"-p narrows File and Product, not {kind}")
    if (start or end) and kind != "File":
        raise UsageError(f"-s/-e narrow File, not {kind}")
    if start and end and start > end:
        raise UsageError(f"start {start} is after end {end}")
    chosen = find_product(session, product) if product is not None else None
    names: dict[int | None, str] = {  # looked up by a process's output_product, maybe None
        p.product_id: p.product_name for p in session.scalars(select(Product))}
    header: tuple[str, ...]
    rows: list[tuple[object, ...]]
    if kind == "Mission":
        header = ("ID", "NAME", "ROOTDIR", "INCOMING", "CODEDIR", "INSPECTORDIR", "ERRORDIR")
        rows = [(m.mission_id, m.mission_name, tree.rootdir, tree.incoming, tree.codedir,
                 tree.inspectordir, tree.errordir)
                for m in session.scalars(select(Mission).order_by(Mission.mission_id))]
    elif kind == "Product":
        header = ("ID", "LEVEL", "NAME", "PATH", "FORMAT")
        query = select(Product).order_by(Product.level, Product.product_name)
        if chosen is not None:
            query = query.where(Product.product_id == chosen.product_id)
        rows = [(p.product_id, p.level, p.product_name, tree.rootdir / p.relative_path,
                 p.format) for p in session.scalars(query)]
    elif kind == "Process":
        header = ("ID", "NAME", "OUTPUT", "TIMEBASE", "INPUTS")
        inputs: dict[int, list[str]] = {}
        for link in session.scalars(select(ProductProcessLink)):
            inputs.setdefault(link.process_id, []).append(
                names[link.input_product_id] + (" (optional)" if link.optional else ""))
        rows = [(p.process_id, p.process_name, names.get(p.output_product) or "(none)",
                 p.output_timebase, ", ".join(sorted(inputs.get(p.process_id, []))) or None)
                for p in session.scalars(select(Process).order_by(Process.process_name))]
    elif kind == "Code":
        header = ("ID", "FILENAME", "VERSION", "PROCESS", "ACTIVE", "NEWEST", "START",
                  "STOP", "OUTPUT_INTERFACE")
        processes = {p.process_id: p.process_name for p in session.scalars(select(Process))}
        codes = sorted(session.scalars(select(Code)),
                       key=lambda c: (processes.get(c.process_id, ""), c.filename,
                                      version_of(c).as_tuple()))
        rows = [(c.code_id, c.filename, version_of(c), processes.get(c.process_id),
                 _yes(c.active_code), _yes(c.newest_version), c.code_start_date,
                 c.code_stop_date, c.output_interface_version) for c in codes]
    else:
        header = ("ID", "FILENAME", "PRODUCT", "DATE", "VERSION", "NEWEST", "ON_DISK")
        file_query = select(File)
        if chosen is not None:
            file_query = file_query.where(File.product_id == chosen.product_id)
        if start is not None:
            file_query = file_query.where(File.utc_file_date >= start)
        if end is not None:
            file_query = file_query.where(File.utc_file_date <= end)
        files = session.scalars(file_query).all()
        newest = {f.file_id for f in newest_files(files).values()}
        files = sorted(files, key=lambda f: (names.get(f.product_id, ""), f.utc_file_date
                                             or datetime.date.min, version_of(f).as_tuple()))
        rows = [(f.file_id, f.filename, names.get(f.product_id), f.utc_file_date,
                 version_of(f), _yes(f.file_id in newest), _yes(f.exists_on_disk))
                for f in files]
    return format_table(header, rows), len(rows)


def _yes(value: bool | None) -> str:
    return "-" if value is None else ("yes" if value else "no")


# -- printRequired ----------------------------------------------------------------

@dataclass(frozen=True)
class InputNeed:
    product_id: int
    product_name: str
    optional: bool
    yesterday: int
    tomorrow: int

    def describe(self) -> str:
        window = ""
        if self.yesterday or self.tomorrow:
            window = f" (window: {self.yesterday} day(s) before, {self.tomorrow} after)"
        return f"{self.product_id:5d} {self.product_name}{window}"


@dataclass(frozen=True)
class CodeInfo:
    code_id: int
    filename: str
    version: str
    active: bool
    newest: bool
    start: datetime.date
    stop: datetime.date
    output_interface: int

    def describe(self) -> str:
        state = "active" if self.active else "inactive"
        return (f"{self.code_id:5d} {self.filename} {self.version} {state}, valid "
                f"{self.start} to {self.stop}, output interface {self.output_interface}")


@dataclass(frozen=True)
class Requirement:
    process_id: int
    process_name: str
    output: str | None
    timebase: str
    extra_params: str | None
    inputs: tuple[InputNeed, ...]
    codes: tuple[CodeInfo, ...]

    def lines(self) -> list[str]:
        out = [f"{self.process_name} (process {self.process_id})",
               f"  output:   {self.output or '(none: RUN process)'}",
               f"  timebase: {self.timebase}"]
        if self.extra_params:
            out.append(f"  extra_params: {self.extra_params}")
        for label, optional in (("required", False), ("optional", True)):
            needs = [i for i in self.inputs if i.optional is optional]
            out.append(f"  {label} inputs:" + ("" if needs else " none"))
            out += [f"\t{need.describe()}" for need in needs]
        out.append("  codes:" + ("" if self.codes else " none"))
        out += [f"\t{code.describe()}" for code in self.codes]
        return out


def required_inputs(session: Session, refs: list[str]) -> list[Requirement]:
    """What each named process (name or id) needs; an unknown one is a UsageError."""
    processes = [find_process(session, ref) for ref in refs]
    names: dict[int | None, str] = {  # looked up by a process's output_product, maybe None
        p.product_id: p.product_name for p in session.scalars(select(Product))}
    result = []
    for process in processes:
        links = session.scalars(select(ProductProcessLink).where(
            ProductProcessLink.process_id == process.process_id)).all()
        inputs = tuple(sorted((InputNeed(link.input_product_id, names[link.input_product_id],
                                         bool(link.optional), link.yesterday or 0,
                                         link.tomorrow or 0)
                               for link in links), key=lambda i: (i.optional, i.product_id)))
        codes = tuple(CodeInfo(c.code_id, c.filename, str(version_of(c)), bool(c.active_code),
                               bool(c.newest_version), c.code_start_date, c.code_stop_date,
                               c.output_interface_version)
                      for c in sorted(session.scalars(select(Code).where(
                          Code.process_id == process.process_id)),
                          key=lambda c: (version_of(c).as_tuple(), c.code_id)))
        result.append(Requirement(process.process_id, process.process_name,
                                  names.get(process.output_product), process.output_timebase,
                                  process.extra_params, inputs, codes))
    return result


def required_text(requirements: list[Requirement]) -> str:
    """One block per process, then (as the original's last line) the ids of every
    required input product, space separated."""
    lines: list[str] = []
    for req in requirements:
        lines += req.lines()
    ids = sorted({i.product_id for r in requirements for i in r.inputs if not i.optional})
    lines += ["", " ".join(str(i) for i in ids)]
    return "\n".join(lines)
