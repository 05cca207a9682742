"""Compare two mission databases by names, never by ids (compareDB).

``compare_databases(first, second)`` reads from each session the products,
processes, codes, inspectors, files (by filename: product, date, times,
version, level, shasum, keywords, on-disk flag), the product-process links,
and the file-file and file-code links expressed by file names and code
(process, filename, version), and returns one ``Difference`` per row found in
only one database or per field that differs.  Ids, creation times and
verbose provenance (paths) are not compared: two copies of a mission made on
different machines differ in those and nothing else.  Read only.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.models import (
    Code,
    File,
    FileCodeLink,
    FileFileLink,
    Inspector,
    Instrument,
    Process,
    Product,
    ProductProcessLink,
)

Rows = dict[tuple, dict[str, Any]]


@dataclass(frozen=True)
class Difference:
    kind: str           # product, process, code, inspector, file, productprocesslink, ...
    key: str            # the row's name
    field: str | None   # None: the row is in one database only
    first: Any
    second: Any

    def describe(self) -> str:
        if self.field is None:
            where = "first" if self.first else "second"
            return f"{self.kind} {self.key}: only in the {where} database"
        return (f"{self.kind} {self.key}: {self.field} is {_shown(self.first)} in the first, "
                f"{_shown(self.second)} in the second")


def _shown(value: Any) -> str:
    return "NULL" if value is None else str(value)


def _names(session: Session) -> tuple[dict[int, str], dict[int, str], dict[int, tuple]]:
    products = dict(session.execute(select(Product.product_id, Product.product_name)).all())
    processes = dict(session.execute(select(Process.process_id, Process.process_name)).all())
    codes = {c.code_id: (processes.get(c.process_id), c.filename,
                         f"{c.interface_version}.{c.quality_version}.{c.revision_version}")
             for c in session.execute(select(
                 Code.code_id, Code.process_id, Code.filename, Code.interface_version,
                 Code.quality_version, Code.revision_version))}
    return products, processes, codes


def _products(session: Session) -> Rows:
    instruments = dict(session.execute(
        select(Instrument.instrument_id, Instrument.instrument_name)).all())
    return {(p.product_name,): dict(instrument=instruments.get(p.instrument_id),
                                    level=p.level, relative_path=p.relative_path,
                                    format=p.format, description=p.product_description)
            for p in session.scalars(select(Product))}


def _processes(session: Session) -> Rows:
    products, _, _ = _names(session)
    return {(p.process_name,): dict(output_product=None if p.output_product is None
                                    else products.get(p.output_product),
                                    output_timebase=p.output_timebase,
                                    extra_params=p.extra_params or None)
            for p in session.scalars(select(Process))}


def _codes(session: Session) -> Rows:
    _, _, codes = _names(session)
    return {codes[c.code_id]: dict(
        relative_path=c.relative_path, start=c.code_start_date, stop=c.code_stop_date,
        output_interface=c.output_interface_version, active=bool(c.active_code),
        newest=bool(c.newest_version), arguments=c.arguments or None, shasum=c.shasum,
        description=c.code_description) for c in session.scalars(select(Code))}


def _inspectors(session: Session) -> Rows:
    products, _, _ = _names(session)
    return {(products.get(i.product), i.filename,
             f"{i.interface_version}.{i.quality_version}.{i.revision_version}"): dict(
        relative_path=i.relative_path, active=bool(i.active_code),
        newest=bool(i.newest_version), arguments=i.arguments or None)
        for i in session.scalars(select(Inspector))}


def _files(session: Session) -> Rows:
    products, _, _ = _names(session)
    rows = session.execute(select(
        File.filename, File.product_id, File.utc_file_date, File.utc_start_time,
        File.utc_stop_time, File.interface_version, File.quality_version,
        File.revision_version, File.data_level, File.shasum, File.process_keywords,
        File.exists_on_disk))
    return {(r.filename,): dict(
        product=products.get(r.product_id), utc_file_date=r.utc_file_date,
        utc_start_time=r.utc_start_time, utc_stop_time=r.utc_stop_time,
        version=f"{r.interface_version}.{r.quality_version}.{r.revision_version}",
        data_level=r.data_level, shasum=r.shasum, process_keywords=r.process_keywords or None,
        exists_on_disk=bool(r.exists_on_disk)) for r in rows}


def _product_process_links(session: Session) -> Rows:
    products, processes, _ = _names(session)
    return {(processes.get(link.process_id), products.get(link.input_product_id)): dict(
        optional=bool(link.optional), yesterday=link.yesterday or 0, tomorrow=link.tomorrow or 0)
        for link in session.scalars(select(ProductProcessLink))}


def _file_names(session: Session) -> dict[int, str]:
    return dict(session.execute(select(File.file_id, File.filename)).all())


def _name(names: dict[int, str], file_id: int) -> str:
    """A file's name; a link to a missing row shows the id (that is a difference too)."""
    return names.get(file_id) or f"(no file id {file_id})"


def _file_file_links(session: Session) -> Rows:
    names = _file_names(session)
    return {(_name(names, r.resulting_file), "from", _name(names, r.source_file)): {}
            for r in session.execute(select(FileFileLink.resulting_file,
                                            FileFileLink.source_file))}


def _file_code_links(session: Session) -> Rows:
    names = _file_names(session)
    _, _, codes = _names(session)
    return {(_name(names, r.resulting_file), "by",
             *codes.get(r.source_code, (f"(no code id {r.source_code})",))): {}
            for r in session.execute(select(FileCodeLink.resulting_file,
                                            FileCodeLink.source_code))}


TABLES: tuple[tuple[str, Callable[[Session], Rows]], ...] = (
    ("product", _products), ("process", _processes), ("code", _codes),
    ("inspector", _inspectors), ("file", _files),
    ("productprocesslink", _product_process_links), ("filefilelink", _file_file_links),
    ("filecodelink", _file_code_links))


def compare_databases(first: Session, second: Session) -> list[Difference]:
    """Every difference between the two databases, table by table, sorted by name."""
    found: list[Difference] = []
    for kind, read in TABLES:
        one, two = read(first), read(second)
        for key in sorted(one.keys() | two.keys(), key=lambda k: tuple(map(str, k))):
            name = " ".join(str(part) for part in key)
            if key not in two:
                found.append(Difference(kind, name, None, True, False))
            elif key not in one:
                found.append(Difference(kind, name, None, False, True))
            else:
                found += [Difference(kind, name, field, value, two[key][field])
                          for field, value in one[key].items() if value != two[key][field]]
    return found
