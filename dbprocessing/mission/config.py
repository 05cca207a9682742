"""The mission config file (spec section 5): INI text -> validated specs -> rows.

``read_config(path)`` parses and validates everything that needs no database
and returns a ``MissionConfig``; every error is a ConfigError naming the
section and key.  ``{MISSION}``, ``{SPACECRAFT}``/``{SATELLITE}`` and
``{INSTRUMENT}`` are filled in every value first (``fields``).

``rows.apply_config`` writes a MissionConfig to the database and
``export`` turns rows back into this format.
"""
from __future__ import annotations

import ast
import configparser
import datetime
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar, overload

from ..errors import ConfigError, DBProcessingError
from ..Version import Version
from .dates import parse_date
from .fields import expand_value, names_for
from .timebase import Timebase

TIMEBASES = tuple(t.value for t in Timebase)

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


@dataclass(frozen=True)
class InspectorSpec:
    filename: str
    relative_path: str
    description: str
    version: Version
    output_interface: int
    active: bool
    date_written: datetime.date
    newest_version: bool
    arguments: str


@dataclass(frozen=True)
class ProductSpec:
    section: str
    name: str
    relative_path: str
    level: float
    format: str
    description: str
    inspector: InspectorSpec


@dataclass(frozen=True)
class InputSpec:
    product: str          # a product_<id> section of this file, or a product_name
    optional: bool
    yesterday: int
    tomorrow: int
    key: str              # where it was written, for messages


@dataclass(frozen=True)
class CodeSpec:
    filename: str
    relative_path: str
    start_date: datetime.date
    stop_date: datetime.date
    description: str
    version: Version
    output_interface: int
    active: bool
    date_written: datetime.date
    newest_version: bool
    arguments: str
    cpu: int
    ram: float
    timeout: float | None = None


@dataclass(frozen=True)
class ProcessSpec:
    section: str
    name: str
    output_product: str | None
    timebase: str
    extra_params: str | None
    inputs: tuple[InputSpec, ...]
    code: CodeSpec


@dataclass(frozen=True)
class MissionConfig:
    source: Path
    mission_name: str
    rootdir: str
    incoming_dir: str
    codedir: str | None
    inspectordir: str | None
    errordir: str | None
    satellite_name: str
    instrument_name: str
    products: tuple[ProductSpec, ...] = field(default_factory=tuple)
    processes: tuple[ProcessSpec, ...] = field(default_factory=tuple)


# Keys of each kind of section: name -> required?
MISSION_KEYS = {"mission_name": True, "rootdir": True, "incoming_dir": True,
                "codedir": False, "inspectordir": False, "errordir": False}
SATELLITE_KEYS = {"satellite_name": True}
INSTRUMENT_KEYS = {"instrument_name": True}
PRODUCT_KEYS = {
    "product_name": True, "relative_path": True, "level": True, "format": True,
    "product_description": False,
    "inspector_filename": True, "inspector_relative_path": True,
    "inspector_description": False, "inspector_version": True,
    "inspector_output_interface": False, "inspector_active": False,
    "inspector_date_written": True, "inspector_newest_version": False,
    "inspector_arguments": False,
}
PROCESS_KEYS = {
    "process_name": True, "output_product": True, "output_timebase": True,
    "extra_params": False,
    "code_filename": True, "code_relative_path": True, "code_start_date": True,
    "code_stop_date": True, "code_description": False, "code_version": True,
    "code_output_interface": False, "code_active": False, "code_date_written": True,
    "code_newest_version": False, "code_arguments": False, "code_cpu": False,
    "code_ram": False, "code_timeout": False,
}


_Number = TypeVar("_Number", int, float)


class CaseSensitiveConfigParser(configparser.ConfigParser):
    """A ConfigParser that keeps keys as written (``optionxform = str``, typed)."""

    def optionxform(self, optionstr: str) -> str:
        return optionstr


class _Section:
    """One INI section with typed getters whose errors name section and key."""

    def __init__(self, name: str, items: dict[str, str], keys: dict[str, bool],
                 extra_ok: Callable[[str], bool] = lambda key: False) -> None:
        self.name = name
        self.items = items
        for key in items:
            if key not in keys and not extra_ok(key):
                raise ConfigError(f"[{name}] unknown key {key!r}")
        for key, required in keys.items():
            if required and key not in items:
                raise ConfigError(f"[{name}] missing required key {key!r}")

    def error(self, key: str, problem: str) -> ConfigError:
        return ConfigError(f"[{self.name}] {key}: {problem}")

    @overload
    def text(self, key: str) -> str | None: ...
    @overload
    def text(self, key: str, default: str) -> str: ...
    def text(self, key: str, default: str | None = None) -> str | None:
        value = self.items.get(key)
        if value is None or value.strip() == "":
            return default
        return value.strip()

    def required_text(self, key: str) -> str:
        value = self.text(key)
        if value is None:
            raise self.error(key, "must not be empty")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.text(key)
        if value is None:
            return default
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise self.error(key, f"not a boolean (True/False/1/0/yes/no): {value!r}")

    def number(self, key: str, kind: type[_Number], default: _Number | None = None) -> _Number:
        value = self.text(key)
        if value is None:
            if default is None:
                raise self.error(key, "must not be empty")
            return default
        try:
            return kind(value)
        except ValueError:
            raise self.error(key, f"not {'an integer' if kind is int else 'a number'}: "
                                  f"{value!r}") from None

    def date(self, key: str, default: datetime.date | None = None) -> datetime.date:
        value = self.text(key)
        if value is None:
            if default is None:
                raise self.error(key, "must not be empty")
            return default
        return parse_date(value, lambda msg: self.error(key, msg))

    def version(self, key: str) -> Version:
        try:
            return Version.fromString(self.required_text(key))
        except DBProcessingError as exc:
            raise self.error(key, str(exc)) from None


def read_config(path: str | Path) -> MissionConfig:
    """Parse and validate a mission config file; nothing touches a database."""
    path = Path(path)
    parser = CaseSensitiveConfigParser(interpolation=None, strict=True,
                                       inline_comment_prefixes=None)
    try:
        with path.open(encoding="utf-8-sig") as handle:
            parser.read_file(handle)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except OSError as exc:  # a directory, no permission to read it
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    except (configparser.Error, UnicodeDecodeError) as exc:
        message = " ".join(str(exc).split())
        raise ConfigError(f"{path}: malformed config file: {message}") from None

    sections = parser.sections()
    for needed in ("mission", "satellite", "instrument"):
        if needed not in sections:
            raise ConfigError(f"{path}: missing section [{needed}]")
    for name in sections:
        if name not in ("mission", "satellite", "instrument") and not (
                name.startswith("product_") or name.startswith("process_")):
            raise ConfigError(f"[{name}] unknown section (expected mission, satellite, "
                              f"instrument, product_<id> or process_<id>)")

    # The three names first (each may use only the names before it), then every
    # value of every section with them filled in.
    mission = _Section("mission", dict(parser["mission"]), MISSION_KEYS)
    satellite = _Section("satellite", dict(parser["satellite"]), SATELLITE_KEYS)
    instrument = _Section("instrument", dict(parser["instrument"]), INSTRUMENT_KEYS)
    mission_name = expand_value("mission", "mission_name",
                                mission.required_text("mission_name"), {}, frozenset())
    satellite_name = expand_value("satellite", "satellite_name",
                                  satellite.required_text("satellite_name"),
                                  {"MISSION": mission_name}, frozenset(("MISSION",)))
    instrument_name = expand_value(
        "instrument", "instrument_name", instrument.required_text("instrument_name"),
        {"MISSION": mission_name, "SPACECRAFT": satellite_name, "SATELLITE": satellite_name},
        frozenset(("MISSION", "SPACECRAFT", "SATELLITE")))
    for section, key, value, limit in (
            (mission, "mission_name", mission_name, 20),
            (satellite, "satellite_name", satellite_name, 20),
            (instrument, "instrument_name", instrument_name, 20)):
        if len(value) > limit:
            raise section.error(key, f"longer than {limit} characters")
    names = names_for(mission_name, satellite_name, instrument_name)
    mission = _Section("mission", _expanded("mission", parser, names), MISSION_KEYS)

    rootdir = Path(mission.required_text("rootdir")).expanduser()
    if not rootdir.is_absolute():
        rootdir = (path.resolve().parent / rootdir).resolve()

    products = tuple(_read_product(_Section(name, _expanded(name, parser, names),
                                            PRODUCT_KEYS))
                     for name in sections if name.startswith("product_"))
    seen: dict[str, str] = {}
    for product in products:
        if product.name in seen:
            raise ConfigError(f"[{product.section}] product_name: {product.name!r} is "
                              f"also the name in [{seen[product.name]}]")
        seen[product.name] = product.section
    processes = tuple(
        _read_process(_Section(name, _expanded(name, parser, names), PROCESS_KEYS,
                               _is_input_key))
        for name in sections if name.startswith("process_"))
    seen = {}
    for process in processes:
        if process.name in seen:
            raise ConfigError(f"[{process.section}] process_name: {process.name!r} is "
                              f"also the name in [{seen[process.name]}]")
        seen[process.name] = process.section

    return MissionConfig(
        source=path, mission_name=mission_name, rootdir=str(rootdir),
        incoming_dir=mission.required_text("incoming_dir"),
        codedir=mission.text("codedir"), inspectordir=mission.text("inspectordir"),
        errordir=mission.text("errordir"), satellite_name=satellite_name,
        instrument_name=instrument_name, products=products, processes=processes)


def _is_input_key(key: str) -> bool:
    for prefix in ("required_input", "optional_input"):
        if key.startswith(prefix) and key[len(prefix):].isdigit():
            return True
    return False


def _expanded(section: str, parser: configparser.ConfigParser,
              names: dict[str, str]) -> dict[str, str]:
    """A section's values with {MISSION}, {SPACECRAFT}/{SATELLITE}, {INSTRUMENT}
    filled in and every other field checked (mission.fields says how)."""
    return {key: expand_value(section, key, value, names)
            for key, value in parser[section].items()}


def _read_product(sec: _Section) -> ProductSpec:
    level = sec.number("level", float)
    inspector = InspectorSpec(
        filename=sec.required_text("inspector_filename"),
        relative_path=sec.required_text("inspector_relative_path"),
        description=sec.text("inspector_description", ""),
        version=sec.version("inspector_version"),
        output_interface=sec.number("inspector_output_interface", int, 1),
        active=sec.boolean("inspector_active", True),
        date_written=sec.date("inspector_date_written"),
        newest_version=sec.boolean("inspector_newest_version", True),
        arguments=sec.text("inspector_arguments", ""),
    )
    name = sec.required_text("product_name")
    if len(name) > 100:
        raise sec.error("product_name", "longer than 100 characters")
    return ProductSpec(section=sec.name, name=name,
                       relative_path=sec.required_text("relative_path"),
                       level=level, format=sec.required_text("format"),
                       description=sec.text("product_description", ""),
                       inspector=inspector)


def _read_input(sec: _Section, key: str) -> InputSpec:
    value = sec.required_text(key)
    optional = key.startswith("optional")
    if value.startswith("("):
        try:
            parsed = ast.literal_eval(value)
            product, yesterday, tomorrow = parsed
            yesterday, tomorrow = int(yesterday), int(tomorrow)
            if not isinstance(product, str) or yesterday < 0 or tomorrow < 0:
                raise ValueError
        except (ValueError, SyntaxError, TypeError):
            raise sec.error(key, f"expected a product or (\"product_x\", days_before, "
                                 f"days_after) with days >= 0, got {value!r}") from None
        return InputSpec(product, optional, yesterday, tomorrow, key)
    return InputSpec(value, optional, 0, 0, key)


def _read_process(sec: _Section) -> ProcessSpec:
    timebase = sec.required_text("output_timebase").upper()
    if timebase not in TIMEBASES:
        raise sec.error("output_timebase", f"{timebase!r} is not one of {', '.join(TIMEBASES)}")
    output = sec.text("output_product")
    if timebase == Timebase.RUN and output:
        raise sec.error("output_product", "a RUN process makes no output; leave it empty")
    if timebase != Timebase.RUN and not output:
        raise sec.error("output_product", f"a {timebase} process needs an output product")
    inputs = tuple(_read_input(sec, key) for key in sorted(sec.items) if _is_input_key(key))
    products = [i.product for i in inputs]
    for item in inputs:
        if products.count(item.product) > 1:
            raise sec.error(item.key, f"input {item.product!r} is listed twice")
    code = CodeSpec(
        filename=sec.required_text("code_filename"),
        relative_path=sec.required_text("code_relative_path"),
        start_date=sec.date("code_start_date"), stop_date=sec.date("code_stop_date"),
        description=sec.text("code_description", ""),
        version=sec.version("code_version"),
        output_interface=sec.number("code_output_interface", int, 1),
        active=sec.boolean("code_active", True),
        date_written=sec.date("code_date_written"),
        newest_version=sec.boolean("code_newest_version", True),
        arguments=sec.text("code_arguments", ""),
        cpu=sec.number("code_cpu", int, 1), ram=sec.number("code_ram", float, 1.0),
        timeout=sec.number("code_timeout", float) if sec.text("code_timeout") else None,
    )
    if code.stop_date < code.start_date:
        raise sec.error("code_stop_date", f"{code.stop_date} is before code_start_date "
                                          f"{code.start_date}")
    if code.cpu < 1:
        raise sec.error("code_cpu", "must be at least 1")
    if code.timeout is not None and not 0 < code.timeout < float("inf"):
        raise sec.error("code_timeout", "must be a positive number of seconds")
    name = sec.required_text("process_name")
    if len(name) > 50:
        raise sec.error("process_name", "longer than 50 characters")
    return ProcessSpec(section=sec.name, name=name, output_product=output,
                       timebase=timebase, extra_params=sec.text("extra_params"),
                       inputs=inputs, code=code)
