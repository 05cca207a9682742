"""``{FIELD}``s in a mission config file at load time (spec sections 4 and 5).

``expand_value(section, key, value, names)`` fills ``{MISSION}``,
``{SPACECRAFT}``/``{SATELLITE}`` and ``{INSTRUMENT}`` in one config value and
checks its other fields, as the original does to the whole text of the file
before parsing it.  Every value of every section goes through here; the
stored text is the expanded text.

Three kinds of key:

* free text (``FREE_TEXT_KEYS``, the descriptions): the names are filled,
  any other brace is kept as written and never an error;
* patterns (``PATTERN_KEYS``: formats and relative paths, which are filled
  again with ``format_name`` at run time): every ``{...}`` must be a known
  field and braces must balance (``{{``/``}}`` for a literal brace);
* everything else (names, filenames, arguments, extra_params, directories):
  every ``{word}`` must be a known field; a brace that does not hold a word
  (a regular expression's ``\\d{8}``, JSON) is kept as written.

A known field is one of spec section 4 (``substitution.FIELD_REGEX``) or a
run-time field (``RUNTIME_FIELDS``); all but the three names are left in
place for run time.  ``{{`` and ``}}`` are kept as written.
"""
from __future__ import annotations

import re
from collections.abc import Mapping

from ..errors import ConfigError, FormatError
from .substitution import FIELD_REGEX, fields_of

#: Filled when a code runs (code_arguments, extra_params, code_relative_path).
RUNTIME_FIELDS = frozenset(("ROOTDIR", "CODEDIR", "CODEVERSION", "DATE"))
KNOWN_FIELDS = frozenset(FIELD_REGEX) | RUNTIME_FIELDS
NAME_FIELDS = ("MISSION", "SPACECRAFT", "SATELLITE", "INSTRUMENT")

FREE_TEXT_KEYS = frozenset(("product_description", "inspector_description",
                            "code_description"))
PATTERN_KEYS = frozenset(("format", "relative_path", "inspector_relative_path",
                          "code_relative_path"))

# {{ and }} first, so an escaped brace is never read as the start of a field.
_FIELD = re.compile(r"\{\{|\}\}|\{([A-Za-z_?][A-Za-z0-9_?]*)\}")


def names_for(mission: str, satellite: str, instrument: str) -> dict[str, str]:
    """The values of the name fields once the three names are known."""
    return {"MISSION": mission, "SPACECRAFT": satellite, "SATELLITE": satellite,
            "INSTRUMENT": instrument}


def _error(section: str, key: str, problem: str) -> ConfigError:
    return ConfigError(f"[{section}] {key}: {problem}")


def expand_value(section: str, key: str, value: str, names: Mapping[str, str],
                 allowed: frozenset[str] | None = None) -> str:
    """*value* with the name fields in *names* filled; a ConfigError naming the
    section, key and field for a field that is not known.

    *allowed*, when given, is the only set of fields the value may use (for
    satellite_name and instrument_name, which may use only the names defined
    before them).
    """
    if key in PATTERN_KEYS:
        try:
            used = fields_of(value)
        except FormatError as exc:
            raise _error(section, key, str(exc)) from None
        for name in used:
            _check(section, key, name, allowed)
    out: list[str] = []
    pos = 0
    for match in _FIELD.finditer(value):
        name = match.group(1)
        if name is None:
            continue  # an escaped brace: kept as written
        if key not in FREE_TEXT_KEYS:
            _check(section, key, name, allowed)
        if name in names:
            out.append(value[pos:match.start()])
            out.append(names[name])
            pos = match.end()
    out.append(value[pos:])
    return "".join(out)


def _check(section: str, key: str, name: str, allowed: frozenset[str] | None) -> None:
    if allowed is not None:
        if name not in allowed:
            only = (f"only {', '.join('{' + a + '}' for a in sorted(allowed))}"
                    if allowed else "no fields")
            raise _error(section, key, f"{{{name}}} cannot be used here ({only}: the "
                                       f"names are defined in the order mission, "
                                       f"satellite, instrument)")
        return
    if name not in KNOWN_FIELDS:
        raise _error(section, key, f"unknown field {{{name}}} (known: the fields of "
                                   f"spec section 4 such as {{MISSION}} {{INSTRUMENT}} "
                                   f"{{Y}} {{VERSION}}, and the run-time fields "
                                   f"{{ROOTDIR}} {{CODEDIR}} {{CODEVERSION}} {{DATE}})")
