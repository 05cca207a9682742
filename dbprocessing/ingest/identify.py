"""Identify: which product is this file?  Inspector plugins, loaded once per run.

``load_products(db, tree)`` reads every product with its active, newest
inspector (Core, on a Connection or a Session) and imports each plugin file
once (importlib from its path).
``examine_file(candidate, path, dbu)`` runs one plugin on one file and says
what came of it (testInspector shows that); ``identify_file(path, products,
dbu)`` asks them: first the products whose
format recognises the file name (all of them, so two claimants are caught),
then, only if none of those claimed it, the others until one does.  A plugin
that fails to import, raises, or fills the required fields badly is saying
"not mine"; the reason is logged with its traceback and the run goes on, and
when no product claims the file the reject reason names the plugins that
failed ("plugin insp_x.py raised ValueError: ...") rather than just "no
product claims it".
"""
from __future__ import annotations

import datetime
import importlib.util
import logging
import re
import sys
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import Connection, select

from ..db import core
from ..errors import FormatError
from ..inspector import REQUIRED_PARAMS
from ..mission.substitution import name_regex
from ..mission.tree import MissionTree
from ..Version import Version

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)


def parse_arguments(text: str | None) -> dict[str, Any]:
    """``inspector.arguments`` (``k=v k=v``) as the kwargs dict plugins receive.

    A bare word (like ``-q``) becomes a key whose value is True.
    """
    kwargs: dict[str, Any] = {}
    for word in (text or "").split():
        key, sep, value = word.partition("=")
        kwargs[key] = value if sep else True
    return kwargs


class PluginDatabase:
    """The ``self.dbu`` plugins see: ``getEntry(table_name, id)`` as in the original.

    Rows are the ORM's models, read through *db*: a Session, or a Connection
    (ingest's reader) that a Session is opened on, and the ORM imported, only
    when a plugin first asks; ``release`` ends that Session (before *db*'s
    transaction ends), keeping the rows already read.
    """

    _models: dict[str, type] | None = None

    def __init__(self, db: Connection | Session) -> None:
        self.db = db
        self._session: Session | None = None
        self._cache: dict[tuple[str, Any], Any] = {}

    @classmethod
    def _model(cls, table: str) -> type | None:
        if cls._models is None:
            from ..db.models import Base

            mapped = [mapper.class_ for mapper in Base.registry.mappers]
            models = {model.__name__.lower(): model for model in mapped}
            models.update({model.__tablename__: model for model in mapped})
            cls._models = models
        return cls._models.get(table.lower())

    def _get(self, model: type, key: Any) -> Any:
        if not isinstance(self.db, Connection):
            return self.db.get(model, key)
        if self._session is None:
            from sqlalchemy.orm import Session

            self._session = Session(bind=self.db)
        return self._session.get(model, key)

    def release(self) -> None:
        """End the Session opened on a Connection (a no-op on a Session)."""
        session, self._session = self._session, None
        if session is not None:
            session.close()

    def getEntry(self, table: str, key: Any) -> Any:  # noqa: N802 (frozen API)
        model = self._model(table)
        if model is None:
            raise KeyError(f"no table {table!r}")
        cache_key = (model.__tablename__, key)  # type: ignore[attr-defined]
        if cache_key not in self._cache:
            self._cache[cache_key] = self._get(model, key)
        return self._cache[cache_key]


@dataclass
class Candidate:
    """A product and the plugin that recognises its files."""

    product_id: int
    name: str
    level: float
    format: str
    relative_path: str
    regex: re.Pattern[str] | None
    plugin: type | None
    plugin_path: Path
    kwargs: dict[str, Any] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # MISSION, INSTRUMENT... values
    load_error: str | None = None  # why the plugin could not be imported


@dataclass(frozen=True)
class Identification:
    """The outcome for one file: the claiming product with its params, or why not."""

    candidate: Candidate | None
    params: dict[str, Any] | None
    reason: str | None = None  # set when candidate is None
    # Nothing claimed it while an inspector could not be loaded: it may be that
    # inspector's file, so it waits in incoming rather than going to the errors.
    held: bool = False


@dataclass(frozen=True)
class Examination:
    """What one plugin said about one file: its params when it claims the file, else
    why not (and the plugin's traceback when it raised)."""

    verdict: str  # one of VERDICTS
    params: dict[str, Any] | None = None
    reason: str | None = None
    traceback: str | None = None
    warnings: tuple[str, ...] = ()
    error: str | None = None  # the exception, on one line, when the plugin raised


#: mine; not_mine (returned None); raised; bad_params (claimed it, but the required
#: fields are unusable); not_loaded (the plugin file could not be imported).
VERDICTS = ("mine", "not_mine", "raised", "bad_params", "not_loaded")


def import_plugin(path: Path, key: str) -> type:
    """Import the plugin file at *path* (as module ``dbprocessing_plugin_<key>``) and
    return its ``Inspector`` class; ImportError when it defines none."""
    spec = importlib.util.spec_from_file_location(f"dbprocessing_plugin_{key}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(spec.name, None)
        raise
    plugin = getattr(module, "Inspector", None)
    if plugin is None:
        raise ImportError(f"{path} defines no class Inspector")
    return plugin


def load_products(db: Connection | Session, tree: MissionTree) -> list[Candidate]:
    """Every product of the mission with its plugin imported (once per file path)."""
    product, insp, instrument, satellite = (
        core.product.c, core.inspector.c, core.instrument.c, core.satellite.c)
    rows = db.execute(
        select(product.product_id, product.product_name, product.level, product.format,
               product.relative_path, instrument.instrument_name, satellite.satellite_name,
               insp.inspector_id, insp.filename, insp.arguments,
               insp.relative_path.label("inspector_path"))
        .select_from(core.product)
        .join(core.inspector, insp.product == product.product_id)
        .join(core.instrument, instrument.instrument_id == product.instrument_id)
        .join(core.satellite, satellite.satellite_id == instrument.satellite_id)
        .where(insp.active_code.is_(True), satellite.mission_id == tree.mission_id)
        .order_by(product.product_id, insp.interface_version.desc(),
                  insp.quality_version.desc(), insp.revision_version.desc())).all()
    loaded: dict[Path, type | None] = {}
    load_errors: dict[Path, str] = {}
    candidates: list[Candidate] = []
    seen: set[int] = set()
    for row in rows:
        if row.product_id in seen:  # the newest active inspector only
            continue
        seen.add(row.product_id)
        path = (tree.inspectordir / row.inspector_path / row.filename).resolve()
        if path not in loaded:
            try:
                loaded[path] = import_plugin(path, str(row.inspector_id))
            except BaseException as exc:  # a broken plugin must not stop the run
                if not isinstance(exc, (Exception, SystemExit)):
                    raise  # Ctrl-C or SIGTERM while it loads: not the plugin's fault
                loaded[path] = None
                load_errors[path] = _one_line(exc)
                logger.error("inspector %s for product %s cannot be loaded; it will claim "
                             "nothing this run:\n%s", path, row.product_name,
                             "".join(traceback.format_exception(exc)).rstrip())
        candidates.append(make_candidate(tree, row, row, row, loaded[path], path,
                                         parse_arguments(row.arguments),
                                         load_errors.get(path)))
    return candidates


class _ProductRow(Protocol):
    product_id: int
    product_name: str
    level: float
    format: str
    relative_path: str


class _InstrumentRow(Protocol):
    instrument_name: str


class _SatelliteRow(Protocol):
    satellite_name: str


def make_candidate(tree: MissionTree, product: _ProductRow, instrument: _InstrumentRow,
                   satellite: _SatelliteRow, plugin: type | None, plugin_path: Path,
                   kwargs: dict[str, Any], load_error: str | None = None) -> Candidate:
    """A product with its plugin, as ingest asks it (its format's regex, the names)."""
    known = {"MISSION": tree.name, "SPACECRAFT": satellite.satellite_name,
             "SATELLITE": satellite.satellite_name,
             "INSTRUMENT": instrument.instrument_name, "PRODUCT": product.product_name}
    try:
        regex = name_regex(product.format, known)
    except FormatError:
        regex = None
    return Candidate(product_id=product.product_id, name=product.product_name,
                     level=product.level, format=product.format,
                     relative_path=product.relative_path, regex=regex, plugin=plugin,
                     plugin_path=plugin_path, kwargs=kwargs, names=known,
                     load_error=load_error)


def _check_params(params: dict[str, Any]) -> str | None:
    """Why the required params are unusable, or None when they are fine."""
    for key in REQUIRED_PARAMS:
        if params.get(key) is None:
            return f"{key} not set"
    if not isinstance(params["version"], Version):
        return f"version is {type(params['version']).__name__}, not Version"
    for key in ("utc_start_time", "utc_stop_time"):
        if not isinstance(params[key], datetime.datetime):
            if isinstance(params[key], datetime.date):
                params[key] = datetime.datetime.combine(params[key], datetime.time())
            else:
                return f"{key} is not a datetime"
    date = params["utc_file_date"]
    if isinstance(date, datetime.datetime):
        params["utc_file_date"] = date.date()
    elif not isinstance(date, datetime.date):
        return "utc_file_date is not a date"
    if params["utc_start_time"] > params["utc_stop_time"]:
        return "utc_start_time is after utc_stop_time"
    return None


def _one_line(exc: BaseException, limit: int = 200) -> str:
    """``ValueError: message`` on one line, cut at *limit* characters."""
    text = " ".join(f"{type(exc).__name__}: {exc}".split())
    return text if len(text) <= limit else text[:limit - 3] + "..."


def examine_file(candidate: Candidate, path: Path, dbu: PluginDatabase) -> Examination:
    """Run one plugin on one file, as ingest does, and say what came of it."""
    if candidate.plugin is None:
        return Examination("not_loaded", reason="the inspector could not be loaded")
    try:
        instance = candidate.plugin(str(path), dbu, candidate.product_id,
                                    filenameformat=candidate.format,
                                    filenameregex=candidate.regex, **candidate.kwargs)
        diskfile = instance()
    except Exception as exc:
        return Examination("raised", reason="the inspector raised (taken as 'not mine')",
                           traceback=traceback.format_exc().rstrip(), error=_one_line(exc))
    if diskfile is None:
        return Examination("not_mine", reason="the inspector returned None ('not mine')")
    params = dict(diskfile.params)
    problem = _check_params(params)
    if problem is not None:
        return Examination("bad_params", reason=f"the inspector claimed it but {problem} "
                                                f"(taken as 'not mine')", error=problem)
    warnings: tuple[str, ...] = ()
    if params.get("data_level") is not None:
        warnings = (f"the inspector set data_level; ignored (the product's level "
                    f"{candidate.level} is used)",)
    return Examination("mine", params, warnings=warnings)


def inspect_file(candidate: Candidate, path: Path, dbu: PluginDatabase,
                 problems: list[str] | None = None) -> dict[str, Any] | None:
    """Run one plugin on one file; its params if it claims the file, else None (the
    reason logged).  A plugin that cannot be loaded, raises, or claims the file
    with unusable params adds one line saying so to *problems* (when given)."""
    outcome = examine_file(candidate, path, dbu)
    name = candidate.plugin_path.name
    who = f"plugin {name}"
    if outcome.verdict == "raised":
        logger.warning("inspector %s raised on %s (taken as 'not mine'):\n%s",
                       name, path.name, outcome.traceback)
        if problems is not None:
            problems.append(f"{who} raised {outcome.error} (product {candidate.name})")
    elif outcome.verdict == "bad_params":
        logger.warning("inspector %s on %s: %s", name, path.name, outcome.reason)
        if problems is not None:
            problems.append(f"{who} claimed it but {outcome.error} (product {candidate.name})")
    elif outcome.verdict == "not_loaded" and problems is not None and candidate.load_error:
        problems.append(_not_loaded(candidate))
    for warning in outcome.warnings:
        logger.warning("inspector %s on %s: %s", name, path.name, warning)
    return outcome.params


def _not_loaded(candidate: Candidate) -> str:
    return f"plugin {candidate.plugin_path.name} could not be loaded ({candidate.load_error})"


def identify_file(path: Path, candidates: list[Candidate],
                  dbu: PluginDatabase) -> Identification:
    """Which product claims the file at *path* (spec section 7, step 3)."""
    name = path.name
    likely = [c for c in candidates if c.regex is not None and c.regex.match(name)]
    problems: list[str] = []
    claims = [(c, p) for c in likely
              if (p := inspect_file(c, path, dbu, problems)) is not None]
    if not claims:
        asked = {id(c) for c in likely}
        for candidate in candidates:
            if id(candidate) in asked:
                continue
            params = inspect_file(candidate, path, dbu, problems)
            if params is not None:
                claims.append((candidate, params))
                break
    if len(claims) == 1:
        return Identification(*claims[0])
    if not claims and any(c.load_error for c in candidates):
        loads = dict.fromkeys(_not_loaded(c) for c in candidates if c.load_error)
        return Identification(None, None, "; ".join(loads) + "; no other product claims "
                              "it: kept in incoming until the inspector loads", held=True)
    if not claims and problems:  # say what failed, not just that nothing claimed it
        # Each once: a plugin two products share fails to load the same way for both.
        return Identification(None, None, "; ".join(dict.fromkeys(problems))
                              + "; no other product claims it")
    if not claims:
        return Identification(None, None, "no product claims it")
    names = ", ".join(c.name for c, _ in claims)
    logger.error("%s is claimed by several products (%s): a configuration error", name, names)
    return Identification(None, None, f"claimed by several products: {names}")
