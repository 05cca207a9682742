"""Base class and helpers for inspector plugins (frozen plugin API, spec section 6).

A mission's inspector is a Python file::

    from dbprocessing import inspector, Version

    class Inspector(inspector.inspector):
        code_name = 'my_inspector.py'

        def inspect(self, kwargs):
            ...                                   # read self.basename etc.
            self.diskfile.params['utc_file_date'] = ...
            self.diskfile.params['utc_start_time'] = ...
            self.diskfile.params['utc_stop_time'] = ...
            self.diskfile.params['version'] = Version.Version(1, 0, 0)
            return True                           # None means "not mine"

Constructing the class runs ``inspect``; calling the instance gives the
filled ``DiskFile``, or None when the plugin said "not mine".  Importing this
module is cheap and does nothing else.
"""
from __future__ import annotations

import datetime
import os
import re
from typing import Any, Literal, TypeAlias, overload

from . import Version as _version_module

__all__ = ["inspector", "DiskFile", "extract_YYYYMMDD", "extract_Version",
           "extract_YYYYMMDDhhmm", "valid_YYYYMMDD", "REQUIRED_PARAMS", "OPTIONAL_PARAMS"]

REQUIRED_PARAMS = ("utc_file_date", "utc_start_time", "utc_stop_time", "version")
OPTIONAL_PARAMS = ("check_date", "verbose_provenance", "quality_comment", "caveats",
                   "met_start_time", "met_stop_time", "quality_checked", "process_keywords")
#: Filled by the framework, not by plugins (a plugin's value is overwritten).
FRAMEWORK_PARAMS = ("filename", "product_id", "data_level", "file_create_date",
                    "exists_on_disk", "shasum")


_ALL_PARAMS = REQUIRED_PARAMS + OPTIONAL_PARAMS + FRAMEWORK_PARAMS


def _split(path: str) -> tuple[str, str]:
    """``(os.path.dirname(path), os.path.basename(path))`` for a str, in one pass
    (ingest builds an inspector and a DiskFile for every file)."""
    if type(path) is not str or os.sep != "/" or os.altsep:
        return os.path.dirname(path), os.path.basename(path)
    head, slash, tail = path.rpartition("/")
    if head and head.strip("/"):
        head = head.rstrip("/")
    else:
        head += slash  # "/name" -> "/", "//name" -> "//", "name" -> ""
    return head, tail


class DiskFile:
    """What a plugin learned about one file: ``params`` plus where it is."""

    def __init__(self, infile: str) -> None:
        self.infile = infile
        self.path, self.filename = _split(infile)
        self.params: dict[str, Any] = dict.fromkeys(_ALL_PARAMS)
        self.params["filename"] = self.filename

    def __repr__(self) -> str:
        return f"<DiskFile {self.infile}>"


_YYYYMMDD = re.compile(r"(?<!\d)((?:19|2\d)\d\d)(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])(?!\d)")
_YYYYMMDDhhmm = re.compile(
    r"(?<!\d)((?:19|2\d)\d\d)(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])"
    r"[T_-]?([01]\d|2[0-3])([0-5]\d)(?!\d)")
_VERSION = re.compile(r"v(\d+)\.(\d+)\.(\d+)")
_VersionOrPair: TypeAlias = (
    "_version_module.Version | None | tuple[str | None, _version_module.Version | None]")


def extract_YYYYMMDD(filename: str) -> datetime.datetime | None:  # noqa: N802 (frozen API)
    """The first valid YYYYMMDD date in *filename*, as a datetime, else None."""
    for match in _YYYYMMDD.finditer(os.path.basename(filename)):
        year, month, day = (int(g) for g in match.groups())
        try:
            return datetime.datetime(year, month, day)
        except ValueError:
            continue
    return None


def extract_YYYYMMDDhhmm(filename: str) -> datetime.datetime | None:  # noqa: N802
    """The first valid YYYYMMDDhhmm stamp in *filename*, as a datetime, else None."""
    for match in _YYYYMMDDhhmm.finditer(os.path.basename(filename)):
        year, month, day, hour, minute = (int(g) for g in match.groups())
        try:
            return datetime.datetime(year, month, day, hour, minute)
        except ValueError:
            continue
    return None


def valid_YYYYMMDD(text: str) -> bool:  # noqa: N802 (frozen API)
    """True when *text* is a valid YYYYMMDD date."""
    try:
        datetime.datetime.strptime(text, "%Y%m%d")
    except (TypeError, ValueError):
        return False
    return len(text) == 8


@overload
def extract_Version(filename: str,  # noqa: N802 (frozen API)
                    basename: Literal[False] = False) -> _version_module.Version | None: ...
@overload
def extract_Version(filename: str,  # noqa: N802 (frozen API)
                    basename: Literal[True]) -> tuple[str | None, _version_module.Version | None]: ...
@overload
def extract_Version(filename: str, basename: bool = False  # noqa: N802 (frozen API)
                    ) -> _VersionOrPair: ...
def extract_Version(filename: str, basename: bool = False  # noqa: N802 (frozen API)
                    ) -> _VersionOrPair:
    """The first ``v1.2.3``-like version in *filename* as a Version, else None.

    With ``basename=True`` return ``(name before the version, Version)``.
    """
    name = os.path.basename(filename)
    match = _VERSION.search(name)
    if match is None:
        return (None, None) if basename else None
    version = _version_module.Version(*(int(g) for g in match.groups()))
    if basename:
        return name[:match.start()].rstrip("_-."), version
    return version


class inspector:  # noqa: N801 (frozen API: plugins subclass inspector.inspector)
    """Base of every inspector plugin.  Subclasses define ``code_name`` and ``inspect``."""

    code_name = "undefined"

    def __init__(self, filename: str, dbu: Any, product: int, **kwargs: Any) -> None:
        self.dbu = dbu
        self.filename = os.fspath(filename)
        self.dirname, self.basename = _split(self.filename)
        self.product = product
        self.filenameformat = kwargs.pop("filenameformat", None)
        self.filenameregex = kwargs.pop("filenameregex", None)
        if self.filenameformat is None and dbu is not None and hasattr(dbu, "getEntry"):
            entry = dbu.getEntry("Product", product)
            self.filenameformat = getattr(entry, "format", None)
        self.diskfile: DiskFile | None = DiskFile(self.filename)
        if self.inspect(kwargs) is None:
            self.diskfile = None

    def inspect(self, kwargs: dict[str, Any]) -> object:
        """Fill ``self.diskfile.params``; return None for "not mine"."""
        raise NotImplementedError("an inspector must define inspect(self, kwargs)")

    def extract_YYYYMMDD(self) -> datetime.datetime | None:  # noqa: N802 (frozen API)
        return extract_YYYYMMDD(self.basename)

    def __call__(self) -> DiskFile | None:
        return self.diskfile

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.code_name} for product {self.product}>"
