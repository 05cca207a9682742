"""A validated mission config -> database rows (addFromConfig's library half).

``apply_config(session, config)`` adds what is new and updates what exists
where that is safe, returning one line of text per change.  Loading the same
file twice changes nothing.  The mission's optional directories (codedir,
inspectordir, errordir) left out of a file, or left empty, keep the values
the database has.  A product named in an input or output that is not
a section of this file is looked up in the database by ``product_name``, so a
second file can build on the first.

Rows are identified by name: mission by mission_name, satellite and instrument
by name within their parent, products by product_name, processes by
process_name.  A code or inspector is identified by (process or product,
filename, version): a new version is a new row, and the older rows stop being
the newest, so the provenance of files made by the old code stays true.

The caller owns the transaction: on a ConfigError nothing has been committed.
"""
from __future__ import annotations

import datetime
from typing import TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from ..db.models import (
    Base,
    Code,
    File,
    Inspector,
    Instrument,
    InstrumentProductLink,
    Mission,
    Process,
    Product,
    ProductProcessLink,
    Satellite,
)
from ..errors import ConfigError
from .config import CodeSpec, InspectorSpec, MissionConfig, ProcessSpec, ProductSpec
from .substitution import format_name
from .tree import MissionTree

_Versioned = TypeVar("_Versioned", Code, Inspector)


def _update(row: Base, label: str, changes: list[str], **values: object) -> None:
    for column, value in values.items():
        old = getattr(row, column)
        if old != value:
            setattr(row, column, value)
            changes.append(f"{label}: {column} {_shown(old)} -> {_shown(value)}")


def _shown(value: object) -> str:
    """A column's value in a change line: dates as written in a config, text quoted."""
    if isinstance(value, datetime.date):
        return value.isoformat()
    return repr(value) if isinstance(value, str) else str(value)


def absent_files(config: MissionConfig, tree: MissionTree) -> list[str]:
    """The inspector and code files *config* names that are not on this host's disk
    (where ingest and ProcessQueue -p look for them), each in words."""
    absent = []
    for product in config.products:
        insp = product.inspector
        path = tree.inspectordir / insp.relative_path / insp.filename
        if not path.is_file():
            absent.append(f"the inspector of product '{product.name}' is not at {path} "
                          f"(ingest loads it from there)")
    for process in config.processes:
        code = process.code
        relative = format_name(code.relative_path, {"CODEVERSION": str(code.version)})
        path = tree.codedir / relative / code.filename
        if not path.is_file():
            absent.append(f"the code of process '{process.name}' ({code.version}) "
                          f"is not at {path} (ProcessQueue -p runs it from there)")
    return absent


def apply_config(session: Session, config: MissionConfig) -> list[str]:
    """Write *config* into the session; return what changed."""
    changes: list[str] = []
    mission = session.scalars(select(Mission).where(
        Mission.mission_name == config.mission_name)).one_or_none()
    mission_values = dict(rootdir=config.rootdir, incoming_dir=config.incoming_dir,
                          codedir=config.codedir, inspectordir=config.inspectordir,
                          errordir=config.errordir)
    if mission is None:
        mission = Mission(mission_name=config.mission_name, **mission_values)
        session.add(mission)
        session.flush()
        changes.append(f"added mission {config.mission_name!r}")
    else:
        # An optional directory absent from this file (a second instrument's config
        # often leaves them out) means "unchanged", not "back to the default".
        _update(mission, f"mission {mission.mission_name!r}", changes,
                **{k: v for k, v in mission_values.items() if v is not None})

    satellite = session.scalars(select(Satellite).where(
        Satellite.satellite_name == config.satellite_name,
        Satellite.mission_id == mission.mission_id)).one_or_none()
    if satellite is None:
        satellite = Satellite(satellite_name=config.satellite_name,
                              mission_id=mission.mission_id)
        session.add(satellite)
        session.flush()
        changes.append(f"added satellite {config.satellite_name!r}")
    instrument = session.scalars(select(Instrument).where(
        Instrument.instrument_name == config.instrument_name,
        Instrument.satellite_id == satellite.satellite_id)).one_or_none()
    if instrument is None:
        instrument = Instrument(instrument_name=config.instrument_name,
                                satellite_id=satellite.satellite_id)
        session.add(instrument)
        session.flush()
        changes.append(f"added instrument {config.instrument_name!r}")

    by_section: dict[str, Product] = {}
    for spec in config.products:
        by_section[spec.section] = _apply_product(session, spec, instrument, changes)
    for process_spec in config.processes:
        _apply_process(session, process_spec, by_section, changes)
    session.flush()
    return changes


def _apply_product(session: Session, spec: ProductSpec, instrument: Instrument,
                   changes: list[str]) -> Product:
    product = session.scalars(select(Product).where(
        Product.product_name == spec.name)).one_or_none()
    label = f"product {spec.name!r}"
    if product is None:
        product = Product(product_name=spec.name, instrument_id=instrument.instrument_id,
                          relative_path=spec.relative_path, level=spec.level,
                          format=spec.format, product_description=spec.description)
        session.add(product)
        session.flush()
        changes.append(f"added {label}")
    else:
        if product.instrument_id != instrument.instrument_id:
            raise ConfigError(f"[{spec.section}] product_name: {spec.name!r} already "
                              f"belongs to another instrument")
        moved = {k: v for k, v in (("relative_path", spec.relative_path),
                                   ("format", spec.format))
                 if getattr(product, k) != v}
        if moved:
            count = session.scalar(select(func.count()).select_from(File).where(
                File.product_id == product.product_id))
            if count:
                key = next(iter(moved))
                hint = (" (move them with changeProductDir)" if key == "relative_path"
                        else " (their names would no longer match)")
                raise ConfigError(
                    f"[{spec.section}] {key}: {spec.name!r} already has {count} files; "
                    f"refusing to change {key} from {getattr(product, key)!r} to "
                    f"{moved[key]!r}{hint}")
        _update(product, label, changes, level=spec.level,
                product_description=spec.description, **moved)
    link = session.get(InstrumentProductLink, (instrument.instrument_id, product.product_id))
    if link is None:
        session.add(InstrumentProductLink(instrument_id=instrument.instrument_id,
                                          product_id=product.product_id))
    _apply_inspector(session, spec.inspector, product, changes)
    return product


def _apply_versioned(session: Session, model: type[_Versioned],
                     owner_column: InstrumentedAttribute[int], owner_id: int,
                     spec: InspectorSpec | CodeSpec, label: str, values: dict[str, object],
                     changes: list[str]) -> None:
    """Add or update a code or inspector row identified by (owner, filename, version)."""
    rows = session.scalars(select(model).where(
        owner_column == owner_id, model.filename == spec.filename)).all()
    version = spec.version
    same = [r for r in rows if (r.interface_version, r.quality_version,
                                r.revision_version) == version.as_tuple()]
    if same:
        _update(same[0], f"{label} {spec.filename} {version}", changes, **values)
        return
    row = model(filename=spec.filename, interface_version=version.interface,
                quality_version=version.quality, revision_version=version.revision,
                **{owner_column.key: owner_id}, **values)
    session.add(row)
    changes.append(f"added {label} {spec.filename} {version}")
    if spec.newest_version:
        for older in rows:
            if older.newest_version:
                older.newest_version = False
                older.active_code = False
                changes.append(
                    f"{label} {older.filename} {older.interface_version}."
                    f"{older.quality_version}.{older.revision_version}: superseded by "
                    f"{version} (newest_version and active_code now False)")


def _apply_inspector(session: Session, spec: InspectorSpec, product: Product,
                     changes: list[str]) -> None:
    values: dict[str, object] = dict(
        relative_path=spec.relative_path, description=spec.description,
        output_interface_version=spec.output_interface, active_code=spec.active,
        date_written=spec.date_written, newest_version=spec.newest_version,
        arguments=spec.arguments or None)
    _apply_versioned(session, Inspector, Inspector.product, product.product_id, spec,
                     f"inspector of {product.product_name!r}", values, changes)


def _resolve_product(session: Session, ref: str, by_section: dict[str, Product],
                     section: str, key: str) -> Product:
    if ref in by_section:
        return by_section[ref]
    product = session.scalars(select(Product).where(Product.product_name == ref)).first()
    if product is None:
        raise ConfigError(f"[{section}] {key}: no product {ref!r} (neither a product_ "
                          f"section of this file nor a product_name in the database)")
    return product


def _apply_process(session: Session, spec: ProcessSpec, by_section: dict[str, Product],
                   changes: list[str]) -> None:
    output = (_resolve_product(session, spec.output_product, by_section, spec.section,
                               "output_product") if spec.output_product else None)
    output_id = output.product_id if output is not None else None
    process = session.scalars(select(Process).where(
        Process.process_name == spec.name)).one_or_none()
    label = f"process {spec.name!r}"
    if process is None:
        process = Process(process_name=spec.name, output_product=output_id,
                          output_timebase=spec.timebase, extra_params=spec.extra_params)
        session.add(process)
        session.flush()
        changes.append(f"added {label}")
    else:
        if process.output_product != output_id:
            raise ConfigError(f"[{spec.section}] output_product: {label} already makes "
                              f"another product; a new output needs a new process_name")
        _update(process, label, changes, output_timebase=spec.timebase,
                extra_params=spec.extra_params)

    links = {link.input_product_id: link for link in session.scalars(
        select(ProductProcessLink).where(ProductProcessLink.process_id == process.process_id))}
    wanted: set[int] = set()
    for item in spec.inputs:
        product = _resolve_product(session, item.product, by_section, spec.section, item.key)
        if product.product_id == output_id:
            raise ConfigError(f"[{spec.section}] {item.key}: a process cannot take its "
                              f"own output product as an input")
        wanted.add(product.product_id)
        values: dict[str, object] = dict(optional=item.optional, yesterday=item.yesterday,
                                         tomorrow=item.tomorrow)
        link = links.get(product.product_id)
        if link is None:
            session.add(ProductProcessLink(process_id=process.process_id,
                                           input_product_id=product.product_id, **values))
            changes.append(f"{label}: added input {product.product_name!r}")
        else:
            _update(link, f"{label} input {product.product_name!r}", changes, **values)
    for product_id, link in links.items():
        if product_id not in wanted:
            session.delete(link)
            removed = session.get(Product, product_id)
            assert removed is not None, "a link's input product exists (foreign key)"
            name = removed.product_name
            changes.append(f"{label}: removed input {name!r}")

    code = spec.code
    values = dict(relative_path=code.relative_path, code_start_date=code.start_date,
                  code_stop_date=code.stop_date, code_description=code.description,
                  output_interface_version=code.output_interface, active_code=code.active,
                  date_written=code.date_written, newest_version=code.newest_version,
                  arguments=code.arguments or None, cpu=code.cpu, ram=code.ram,
                  code_timeout=code.timeout)
    _apply_versioned(session, Code, Code.process_id, process.process_id, code,
                     f"code of {label}", values, changes)
