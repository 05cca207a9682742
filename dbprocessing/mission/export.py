"""Database rows -> a mission config file (configFromDB's library half).

The text it writes loads back with addFromConfig into the same rows: load ->
export -> load into a fresh database gives the same mission.  One file holds
one instrument; its products, the processes that make them (and RUN processes
that read them), each with its newest code, and each product's newest
inspector.  An input from another instrument is written by its product_name,
which addFromConfig resolves in the database.
"""
from __future__ import annotations

import io
from collections.abc import Iterable
from typing import TypeVar

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from ..db.models import (
    Code,
    Inspector,
    Instrument,
    InstrumentProductLink,
    Mission,
    Process,
    Product,
    ProductProcessLink,
    Satellite,
)
from ..db.queries import version_of
from ..errors import UsageError
from .config import CaseSensitiveConfigParser

_Row = TypeVar("_Row")
_Versioned = TypeVar("_Versioned", Code, Inspector)


def _pick(session: Session, model: type[_Row], name_column: InstrumentedAttribute[str],
          name: str | None, what: str, where: Iterable[ColumnElement[bool]] = ()) -> _Row:
    rows = session.scalars(select(model).where(*where).order_by(name_column)).all()
    if name is not None:
        rows = [r for r in rows if getattr(r, name_column.key) == name]
        if not rows:
            raise UsageError(f"no {what} named {name!r}")
    if len(rows) != 1:
        names = ", ".join(getattr(r, name_column.key) for r in rows) or "none"
        raise UsageError(f"choose one {what} (found: {names})")
    return rows[0]


def _newest(rows: Iterable[_Versioned]) -> _Versioned | None:
    return max(rows, key=lambda r: (bool(r.newest_version), bool(r.active_code),
                                    r.interface_version, r.quality_version,
                                    r.revision_version), default=None)


def export_config(session: Session, satellite: str | None = None,
                  instrument: str | None = None, comments: bool = False) -> str:
    """The config text for one instrument of the database's mission."""
    mission = _pick(session, Mission, Mission.mission_name, None, "mission")
    sat = _pick(session, Satellite, Satellite.satellite_name, satellite, "satellite",
                (Satellite.mission_id == mission.mission_id,))
    inst = _pick(session, Instrument, Instrument.instrument_name, instrument, "instrument",
                 (Instrument.satellite_id == sat.satellite_id,))

    products = session.scalars(
        select(Product).join(InstrumentProductLink,
                             InstrumentProductLink.product_id == Product.product_id)
        .where(InstrumentProductLink.instrument_id == inst.instrument_id)
        .order_by(Product.product_id)).all()
    section_of = {p.product_id: f"product_{p.product_name}" for p in products}

    out = CaseSensitiveConfigParser(interpolation=None)
    out["mission"] = {k: v for k, v in (
        ("mission_name", mission.mission_name), ("rootdir", mission.rootdir),
        ("incoming_dir", mission.incoming_dir), ("codedir", mission.codedir),
        ("inspectordir", mission.inspectordir), ("errordir", mission.errordir)) if v}
    out["satellite"] = {"satellite_name": sat.satellite_name}
    out["instrument"] = {"instrument_name": inst.instrument_name}

    for product in products:
        section = {
            "product_name": product.product_name, "relative_path": product.relative_path,
            "level": repr(float(product.level)), "format": product.format,
            "product_description": product.product_description or "",
        }
        inspector = _newest(session.scalars(select(Inspector).where(
            Inspector.product == product.product_id)).all())
        if inspector is not None:
            section.update({
                "inspector_filename": inspector.filename,
                "inspector_relative_path": inspector.relative_path,
                "inspector_description": inspector.description or "",
                "inspector_version": str(version_of(inspector)),
                "inspector_output_interface": str(inspector.output_interface_version),
                "inspector_active": str(bool(inspector.active_code)),
                "inspector_date_written": inspector.date_written.isoformat(),
                "inspector_newest_version": str(bool(inspector.newest_version)),
                "inspector_arguments": inspector.arguments or "",
            })
        out[section_of[product.product_id]] = section

    product_ids = set(section_of)
    links = session.scalars(select(ProductProcessLink)).all()
    inputs_of: dict[int, list[ProductProcessLink]] = {}
    for link in links:
        inputs_of.setdefault(link.process_id, []).append(link)
    names = {p.product_id: p.product_name for p in session.scalars(select(Product))}
    for process in session.scalars(select(Process).order_by(Process.process_id)):
        inputs = sorted(inputs_of.get(process.process_id, []),
                        key=lambda link: link.input_product_id)
        mine = (process.output_product in product_ids if process.output_product is not None
                else any(link.input_product_id in product_ids for link in inputs))
        if not mine:
            continue
        section = {
            "process_name": process.process_name,
            "output_product": section_of.get(process.output_product, "")
            if process.output_product is not None else "",
            "output_timebase": process.output_timebase,
            "extra_params": process.extra_params or "",
        }
        counters = {"required": 0, "optional": 0}
        for link in inputs:
            kind = "optional" if link.optional else "required"
            counters[kind] += 1
            ref = section_of.get(link.input_product_id, names[link.input_product_id])
            value = (f"({ref!r}, {link.yesterday or 0}, {link.tomorrow or 0})"
                     if (link.yesterday or link.tomorrow) else ref)
            section[f"{kind}_input{counters[kind]}"] = value
        code = _newest(session.scalars(select(Code).where(
            Code.process_id == process.process_id)).all())
        if code is not None:
            section.update({
                "code_filename": code.filename, "code_relative_path": code.relative_path,
                "code_start_date": code.code_start_date.isoformat(),
                "code_stop_date": code.code_stop_date.isoformat(),
                "code_description": code.code_description or "",
                "code_version": str(version_of(code)),
                "code_output_interface": str(code.output_interface_version),
                "code_active": str(bool(code.active_code)),
                "code_date_written": code.date_written.isoformat(),
                "code_newest_version": str(bool(code.newest_version)),
                "code_arguments": code.arguments or "",
                "code_cpu": str(code.cpu if code.cpu is not None else 1),
                "code_ram": repr(float(code.ram if code.ram is not None else 1.0)),
                "code_timeout": repr(code.code_timeout) if code.code_timeout else "",
            })
        out[f"process_{process.process_name}"] = section

    buffer = io.StringIO()
    if comments:
        buffer.write(f"# Mission {mission.mission_name}, satellite {sat.satellite_name}, "
                     f"instrument {inst.instrument_name}\n# written by configFromDB; "
                     f"load with: addFromConfig -m DB thisfile\n\n")
    out.write(buffer)
    return buffer.getvalue()
