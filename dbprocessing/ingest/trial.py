"""Trial: run one inspector plugin on one file exactly as ingest would, and show what came of it.

``try_inspector(session, tree, file, plugin, product)`` imports the plugin
file (``identify.import_plugin``), builds the product's candidate as
``load_products`` does (``identify.make_candidate``: the format's regex, the
mission, satellite and instrument names, the kwargs: the product's recorded
inspector arguments unless others are given) and asks it through
``identify.examine_file``, the very function ingest calls.  Nothing is
written.  A missing file or plugin, or an unknown product, is a UsageError;
what the plugin does (claims it, says "not mine", raises) is the answer.
"""
from __future__ import annotations

import datetime
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.models import Inspector, Instrument, Satellite
from ..db.queries import find_product, version_of
from ..errors import UsageError
from ..inspector import FRAMEWORK_PARAMS, OPTIONAL_PARAMS, REQUIRED_PARAMS
from ..mission.tree import MissionTree
from .archive import sha1_of
from .identify import (
    Examination,
    PluginDatabase,
    examine_file,
    import_plugin,
    make_candidate,
    parse_arguments,
)
from .record import file_row


@dataclass(frozen=True)
class Trial:
    """One plugin's answer on one file, with what ingest would record."""

    path: Path
    plugin_path: Path
    product_name: str
    product_id: int
    kwargs: dict[str, Any]
    name_matches: bool
    examination: Examination
    row: dict[str, Any] | None  # the file row ingest would record, when claimed

    @property
    def claimed(self) -> bool:
        return self.examination.verdict == "mine"

    def lines(self) -> list[str]:
        args = " ".join(k if v is True else f"{k}={v}" for k, v in self.kwargs.items())
        out = [f"file:      {self.path}",
               f"product:   {self.product_name} (id {self.product_id})",
               f"inspector: {self.plugin_path}",
               f"arguments: {args or '(none)'}",
               f"the name matches the product's format: {'yes' if self.name_matches else 'no'}"]
        exam = self.examination
        if not self.claimed:
            out.append(f"not mine: {exam.reason}")
            if exam.traceback:
                out += ["", exam.traceback]
            return out
        out.append("mine; the inspector filled in:")
        params = exam.params or {}
        for key in (*REQUIRED_PARAMS, *OPTIONAL_PARAMS):
            out.append(f"  {key:<19} {_shown(params.get(key))}")
        others = sorted(k for k in params if k not in (*REQUIRED_PARAMS, *OPTIONAL_PARAMS,
                                                       *FRAMEWORK_PARAMS))
        out += [f"  {key:<19} {_shown(params[key])} (not a file column: ignored)"
                for key in others]
        out.append("ingest would add:")
        for key in ("filename", "data_level", "file_create_date", "exists_on_disk", "shasum"):
            out.append(f"  {key:<19} {_shown((self.row or {}).get(key))}")
        out += [f"warning: {w}" for w in exam.warnings]
        return out


def _shown(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime.datetime):
        return value.isoformat(sep=" ")
    return str(value)


def try_inspector(session: Session, tree: MissionTree, file: Path, plugin: Path,
                  product_ref: str, arguments: str | None = None) -> Trial:
    """Ask the plugin at *plugin* whether *file* is of product *product_ref*."""
    if not file.is_file():
        raise UsageError(f"no file {str(file)!r}" + (" (a directory)" if file.is_dir() else ""))
    if not plugin.is_file():
        raise UsageError(f"no inspector file {str(plugin)!r}")
    product = find_product(session, product_ref)
    instrument = session.get(Instrument, product.instrument_id)
    satellite = session.get(Satellite, instrument.satellite_id) if instrument else None
    if instrument is None or satellite is None:
        raise UsageError(f"product {product.product_name} has no instrument or satellite row")
    if arguments is None:
        recorded = session.scalars(
            select(Inspector).where(Inspector.product == product.product_id,
                                    Inspector.active_code.is_(True))).all()
        newest = max(recorded, key=lambda i: version_of(i).as_tuple(), default=None)
        kwargs = parse_arguments(newest.arguments if newest else None)
    else:
        kwargs = parse_arguments(arguments)
    path, plugin_path = file.resolve(), plugin.resolve()
    try:
        loaded: type | None = import_plugin(plugin_path, "testinspector")
        exam = None
    except Exception:  # the plugin's own fault: shown, as ingest would log it
        loaded = None
        exam = Examination("not_loaded", reason="the inspector could not be loaded",
                           traceback=traceback.format_exc().rstrip())
    candidate = make_candidate(tree, product, instrument, satellite, loaded, plugin_path,
                               kwargs)
    if exam is None:
        exam = examine_file(candidate, path, PluginDatabase(session))
    row = None
    if exam.verdict == "mine":
        row = file_row(path.name, exam.params or {}, product.product_id, product.level,
                       sha1_of(path), path.stat().st_mtime)
    matches = candidate.regex is not None and candidate.regex.match(path.name) is not None
    return Trial(path, plugin_path, product.product_name, product.product_id, kwargs,
                 matches, exam, row)
