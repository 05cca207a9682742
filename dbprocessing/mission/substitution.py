"""``{FIELD}`` substitutions in formats, paths and arguments (spec section 4).

One pattern serves two ways:

* ``format_name(pattern, values)`` fills every field to build a name;
* ``name_regex(pattern, known)`` turns the fields that are not known into
  named regular-expression groups, so ``parse_name`` can recognise a name and
  pull its fields out.

``{{`` and ``}}`` are literal braces.  A field that appears twice must have the
same value both times.
"""
from __future__ import annotations

import calendar
import datetime
import functools
import re
from collections.abc import Callable, Collection, Mapping
from typing import Any

from ..errors import FormatError
from ..Version import Version

__all__ = ["FIELD_REGEX", "expand_values", "fields_of", "format_name",
           "name_regex", "name_values", "parse_keywords", "parse_name",
           "date_from_fields"]

_MONTHS = [calendar.month_abbr[i] for i in range(1, 13)]

#: Regex for each field whose value is not known.
FIELD_REGEX: dict[str, str] = {
    "Y": r"(19|2\d)\d\d",
    "m": r"(0\d|1[0-2])",
    "d": r"[0-3]\d",
    "b": "|".join(_MONTHS),
    "y": r"\d\d",
    "j": r"[0-3]\d\d",
    "H": r"[0-2]\d",
    "M": r"[0-5]\d",
    "S": r"[0-6]\d",
    "MILLI": r"\d{3}",
    "MICRO": r"\d{3}",
    "DATE": r"(19|2\d)\d\d(0\d|1[0-2])[0-3]\d",
    "datetime": r"(19|2\d)\d\d-?(0\d|1[0-2])-?[0-3]\d",
    "VERSION": r"\d+\.\d+\.\d+",
    "QACODE": r"ok|ignore|problem",
    "mday": r"-?\d+",
    "APID": r"[\da-fA-F]+",
    "??": r".{2}",
    "???": r".{3}",
    "????": r".{4}",
    "nn": r"\d{2}",
    "nnn": r"\d{3}",
    "nnnn": r"\d{4}",
    "MISSION": r"[^/]+?",
    "SPACECRAFT": r"[^/]+?",
    "SATELLITE": r"[^/]+?",
    "INSTRUMENT": r"[^/]+?",
    "PRODUCT": r"[^/]+?",
}

# Regex group names must be identifiers.
_GROUP_NAME = {"??": "q2", "???": "q3", "????": "q4"}
_FIELD_OF_GROUP = {v: k for k, v in _GROUP_NAME.items()}

_TOKEN = re.compile(r"\{\{|\}\}|\{([^{}]*)\}|[{}]")

#: The fields a date fills.
STAMP_FIELDS = frozenset(("Y", "m", "d", "b", "y", "j", "H", "M", "S", "MILLI",
                           "MICRO", "DATE", "datetime"))


@functools.lru_cache(maxsize=512)
def _tokens(pattern: str) -> tuple[tuple[str, str], ...]:
    """Split a pattern into ('text', literal) and ('field', name) pieces."""
    pieces: list[tuple[str, str]] = []
    pos = 0
    for match in _TOKEN.finditer(pattern):
        if match.start() > pos:
            pieces.append(("text", pattern[pos:match.start()]))
        token = match.group(0)
        if token == "{{":
            pieces.append(("text", "{"))
        elif token == "}}":
            pieces.append(("text", "}"))
        elif match.group(1) is None:
            raise FormatError(f"unbalanced brace at position {match.start()} "
                              f"in {pattern!r} (write {{{{ or }}}} for a literal brace)")
        else:
            pieces.append(("field", match.group(1)))
        pos = match.end()
    if pos < len(pattern):
        pieces.append(("text", pattern[pos:]))
    return tuple(pieces)


def fields_of(pattern: str) -> list[str]:
    """The field names a pattern uses, in order, without repeats."""
    seen: list[str] = []
    for kind, value in _tokens(pattern):
        if kind == "field" and value not in seen:
            seen.append(value)
    return seen


def expand_values(values: Mapping[str, Any],
                  fields: Collection[str] | None = None) -> dict[str, str]:
    """Turn typed values into the strings each field prints as.

    A ``datetime`` (date or datetime) value fills every date field that is not
    given explicitly (with *fields*, only those of them); a Version prints as x.y.z.
    """
    out: dict[str, str] = {}
    stamp = values.get("datetime")
    if stamp is not None:
        if isinstance(stamp, str):
            stamp = _parse_stamp(stamp)
        out["datetime"] = stamp.isoformat()
        out.update(_date_strings(stamp, fields))
    for key, value in values.items():
        if key == "datetime" or value is None:
            continue
        if isinstance(value, (datetime.date, datetime.datetime)) and key in ("DATE",):
            out[key] = value.strftime("%Y%m%d")
        else:
            out[key] = str(value)
    return out


# What each date field of a stamp prints as.
_DATE_STRINGS: dict[str, Callable[[datetime.datetime], str]] = {
    "Y": lambda when: f"{when.year:04d}", "m": lambda when: f"{when.month:02d}",
    "d": lambda when: f"{when.day:02d}", "b": lambda when: _MONTHS[when.month - 1],
    "y": lambda when: f"{when.year % 100:02d}",
    "j": lambda when: f"{when.timetuple().tm_yday:03d}",
    "H": lambda when: f"{when.hour:02d}", "M": lambda when: f"{when.minute:02d}",
    "S": lambda when: f"{when.second:02d}",
    "MILLI": lambda when: f"{when.microsecond // 1000:03d}",
    "MICRO": lambda when: f"{when.microsecond % 1000:03d}",
    "DATE": lambda when: when.strftime("%Y%m%d"),
}


def _date_strings(stamp: datetime.date,
                  fields: Collection[str] | None = None) -> dict[str, str]:
    """Every date field of *stamp*, or those among *fields* (a name fills a few)."""
    when = (stamp if isinstance(stamp, datetime.datetime)
            else datetime.datetime(stamp.year, stamp.month, stamp.day))
    if fields is None:
        return {name: make(when) for name, make in _DATE_STRINGS.items()}
    return {name: _DATE_STRINGS[name](when) for name in fields if name in _DATE_STRINGS}


def _parse_stamp(text: str) -> datetime.date:
    text = text.strip()
    for fmt in ("%Y%m%d", "%Y-%m-%d"):
        try:
            return datetime.datetime.strptime(text, fmt).date()
        except ValueError:
            pass
    try:
        return datetime.datetime.fromisoformat(text)
    except ValueError:
        raise FormatError(f"not a date or datetime: {text!r}") from None


def format_name(pattern: str, values: Mapping[str, Any], *,
                partial: bool = False) -> str:
    """Fill every ``{FIELD}`` of *pattern* from *values*.

    With ``partial=True`` a field with no value is left as ``{FIELD}`` (used
    when a config file is loaded: only MISSION, SPACECRAFT, INSTRUMENT are
    known then); otherwise a missing value is a FormatError.
    """
    tokens = _tokens(pattern)
    needed = {value for kind, value in tokens if kind == "field"}
    # Only expand what the pattern uses (a datetime expands into a dozen fields).
    strings = expand_values({k: v for k, v in values.items()
                             if k in needed or (k == "datetime" and needed & STAMP_FIELDS)},
                            needed)
    out: list[str] = []
    for kind, value in tokens:
        if kind == "text":
            out.append(value.replace("{", "{{").replace("}", "}}") if partial else value)
        elif value in strings:
            out.append(strings[value])
        elif partial:
            out.append("{" + value + "}")
        else:
            raise FormatError(f"no value for {{{value}}} in {pattern!r}")
    return "".join(out)


def name_regex(pattern: str, known: Mapping[str, Any] | None = None) -> re.Pattern[str]:
    """A compiled regex matching whole names made from *pattern*.

    Fields in *known* match their literal value; the others become named
    groups (``??`` -> ``q2`` and so on).  An unknown field name that is not in
    FIELD_REGEX is a FormatError.
    """
    strings = expand_values(known or {})
    parts: list[str] = []
    used: set[str] = set()
    for kind, value in _tokens(pattern):
        if kind == "text":
            parts.append(re.escape(value))
        elif value in strings:
            parts.append(re.escape(strings[value]))
        elif value in FIELD_REGEX:
            group = _GROUP_NAME.get(value, value)
            if group in used:
                parts.append(f"(?P={group})")
            else:
                used.add(group)
                parts.append(f"(?P<{group}>{FIELD_REGEX[value]})")
        else:
            raise FormatError(f"unknown field {{{value}}} in {pattern!r}")
    return re.compile("^" + "".join(parts) + "$")


def parse_name(pattern: str, name: str,
               known: Mapping[str, Any] | None = None) -> dict[str, str] | None:
    """The fields of *name* if it matches *pattern*, else None."""
    match = name_regex(pattern, known).match(name)
    if match is None:
        return None
    return {_FIELD_OF_GROUP.get(k, k): v for k, v in match.groupdict().items()
            if v is not None}


def date_from_fields(fields: Mapping[str, str]) -> datetime.date | None:
    """The date that parsed fields name (DATE, datetime, Y+m+d, Y+j, y+...)."""
    try:
        if "datetime" in fields:
            stamp = _parse_stamp(fields["datetime"])
            return stamp.date() if isinstance(stamp, datetime.datetime) else stamp
        if "DATE" in fields:
            return datetime.datetime.strptime(fields["DATE"], "%Y%m%d").date()
        year = int(fields["Y"]) if "Y" in fields else (
            2000 + int(fields["y"]) if "y" in fields else None)
        if year is None:
            return None
        if "j" in fields:
            return datetime.date(year, 1, 1) + datetime.timedelta(int(fields["j"]) - 1)
        month = (int(fields["m"]) if "m" in fields
                 else _MONTHS.index(fields["b"]) + 1 if "b" in fields else None)
        if month is None or "d" not in fields:
            return None
        return datetime.date(year, month, int(fields["d"]))
    except (ValueError, KeyError):
        return None


def version_from_fields(fields: Mapping[str, str]) -> Version | None:
    """The Version named by a parsed ``{VERSION}`` field, if any."""
    text = fields.get("VERSION")
    return Version.fromString(text) if text else None


def parse_keywords(keywords: str | None) -> dict[str, str]:
    """``file.process_keywords`` (``key=value`` pairs separated by spaces) as a dict."""
    values: dict[str, str] = {}
    for word in (keywords or "").split():
        key, sep, value = word.partition("=")
        if sep:
            values[key] = value
    return values


def name_values(product_name: str, mission_name: str, date: datetime.date | None,
                version: Version | None, keywords: str | None) -> dict[str, Any]:
    """The ``{FIELD}`` values of a file's name and directory."""
    values: dict[str, Any] = {"datetime": date, "VERSION": version, "PRODUCT": product_name,
                    "MISSION": mission_name}
    values.update(parse_keywords(keywords))
    return values
