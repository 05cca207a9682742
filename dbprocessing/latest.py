"""A directory of symlinks to the newest version of each file (makeLatestSymlinks).

The config is the original's INI file: one section per set of links, with

=============  =============================================================
``sourcedir``  directory holding the data files (required)
``destdir``    the directory of links to make (required)
``filter``     comma-separated globs of file names (default ``*``)
``startdate``  first date to link, 2012-10-02 or 20121002 (default: no limit)
``enddate``    last date to link (default: no limit)
``deltadays``  leave out the last N days before today (default 0)
``nodate``     true: ignore the dates (default false)
``linkdirs``   true: link directories matching the filter too (default false)
``outmode``    octal mode of the directory of links, e.g. 775 (default: umask)
=============  =============================================================

"Newest" is read from the names, as the original does, so that any directory
can be linked, not only a product directory: names that differ only in a
``vX.Y.Z`` version are versions of one file (one product and date), and the
highest version is linked; a name with no version stands alone.  The date is
the first ``YYYYMMDD`` or ``YYYY-MM-DD`` in the name; with dates in force a
name without one is left out.  Sections naming the same ``destdir`` fill one
directory.

Atomic update: ``destdir`` is a symlink to a hidden sibling directory
(``.NAME.<stamp>``).  Each run builds a complete new sibling, then swaps it
in by renaming a new symlink over ``destdir`` (``rename(2)`` is atomic), so a
reader resolving ``destdir/...`` sees the whole old set or the whole new set,
never a directory half made.  Per-link replacement was not chosen because
between adding a new version's link and removing the old one a reader would
see both, or neither.  The previous generation is kept until the next run
(a reader that is inside it keeps working); older ones are removed.  When
nothing changed, nothing is rebuilt.  A ``destdir`` left by the original (a
real directory holding only symlinks) is converted on the first run: it is
renamed aside and the symlink put in its place, the one moment a reader can
find ``destdir`` missing.  A ``destdir`` holding anything but symlinks is
refused.  Two runs updating one ``destdir`` at once are kept apart by a
file lock beside it (``.NAME.lock``); the second refuses (exit 3).

Relative ``sourcedir`` and ``destdir`` are taken from the config file's
directory (as a mission config's ``rootdir`` is), not from the current
directory as the original did; ``~`` and ``$VARIABLES`` are expanded.
"""
from __future__ import annotations

import configparser
import datetime
import fnmatch
import logging
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from filelock import FileLock, Timeout

from .errors import ConfigError, LockHeld, UsageError
from .mission.dates import parse_date
from .Version import Version

logger = logging.getLogger(__name__)

KEYS = ("sourcedir", "destdir", "filter", "startdate", "enddate", "deltadays", "nodate",
        "linkdirs", "outmode")
_VERSION = re.compile(r"v(\d+)\.(\d+)\.(\d+)")
_DATE = re.compile(r"(?<!\d)((?:19|20)\d\d)-?(0[1-9]|1[0-2])-?([0-3]\d)(?!\d)")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


@dataclass(frozen=True)
class LinkSet:
    """One section of the config."""

    name: str
    sourcedir: Path
    destdir: Path
    globs: tuple[str, ...] = ("*",)
    start: datetime.date | None = None
    end: datetime.date | None = None
    deltadays: int = 0
    nodate: bool = False
    linkdirs: bool = False
    outmode: int | None = None


@dataclass
class Listing:
    """What a directory of links should hold: link name -> target, and why others not."""

    destdir: Path
    sections: list[str]
    links: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    outmode: int | None = None
    changed: bool = True


def _bool(section: str, key: str, value: str) -> bool:
    if value.strip().lower() in _TRUE:
        return True
    if value.strip().lower() in _FALSE:
        return False
    raise ConfigError(f"[{section}] {key} = {value!r} is not true or false")


def _path(value: str, base: Path) -> Path:
    return Path(os.path.abspath(base / os.path.expanduser(os.path.expandvars(value.strip()))))


def read_link_config(path: Path, filters: Sequence[str] = ()) -> list[LinkSet]:
    """The sections of *path* whose names contain every string of *filters*."""
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    try:
        with open(path, encoding="utf-8-sig") as handle:
            parser.read_file(handle)
    except OSError as exc:
        raise UsageError(f"cannot read the config {path}: {exc.strerror or exc}") from None
    except configparser.Error as exc:
        raise ConfigError(f"{path}: {' '.join(str(exc).split())}") from None
    base = Path(os.path.abspath(path)).parent
    result = []
    for name in parser.sections():
        if not all(f in name for f in filters):
            continue
        items = dict(parser.items(name))
        unknown = sorted(set(items) - set(KEYS))
        if unknown:
            raise ConfigError(f"[{name}] unknown key {unknown[0]!r} (known: {', '.join(KEYS)})")
        for key in ("sourcedir", "destdir"):
            if not items.get(key, "").strip():
                raise ConfigError(f"[{name}] needs {key} =")
        try:
            delta = int(items.get("deltadays", "0") or 0)
            mode = int(items["outmode"], 8) if items.get("outmode", "").strip() else None
        except ValueError as exc:
            raise ConfigError(f"[{name}] deltadays must be a whole number and outmode "
                              f"octal: {exc}") from None
        dates = {k: parse_date(items[k], ConfigError) if items.get(k, "").strip() else None
                 for k in ("startdate", "enddate")}
        globs = tuple(g.strip() for g in items.get("filter", "*").split(",") if g.strip())
        result.append(LinkSet(
            name, _path(items["sourcedir"], base), _path(items["destdir"], base),
            globs or ("*",), dates["startdate"], dates["enddate"], delta,
            _bool(name, "nodate", items.get("nodate", "false")),
            _bool(name, "linkdirs", items.get("linkdirs", "false")), mode))
    if filters and not result:
        raise UsageError(f"no section of {path} matches -f {','.join(filters)} "
                         f"(sections: {', '.join(parser.sections()) or 'none'})")
    return result


def _version_key(name: str) -> tuple[str, Version | None]:
    """(the name without its version, the version) for grouping versions of one file."""
    matches = list(_VERSION.finditer(name))
    if not matches:
        return name, None
    m = matches[-1]
    return name[:m.start()] + "v*" + name[m.end():], Version(*map(int, m.groups()))


def _date_of(name: str) -> datetime.date | None:
    m = _DATE.search(name)
    if m is None:
        return None
    try:
        return datetime.date(*map(int, m.groups()))
    except ValueError:
        return None


def newest_links(link_set: LinkSet, today: datetime.date) -> tuple[dict[str, Path], list[str]]:
    """Link name -> file for one section, and a note for each file left out."""
    notes: list[str] = []
    try:
        entries = sorted(os.scandir(link_set.sourcedir), key=lambda e: e.name)
    except OSError as exc:
        raise UsageError(f"[{link_set.name}] cannot list sourcedir {link_set.sourcedir}: "
                         f"{exc.strerror or exc}") from None
    best: dict[str, tuple[Version | None, str]] = {}
    for entry in entries:
        if entry.name.startswith(".") or not any(
                fnmatch.fnmatchcase(entry.name, g) for g in link_set.globs):
            continue
        if not (entry.is_file() or (link_set.linkdirs and entry.is_dir())):
            continue
        base, version = _version_key(entry.name)
        held = best.get(base)
        if held is None or (version is not None and held[0] is not None and version > held[0]):
            if held is not None:
                notes.append(f"{held[1]}: older than {entry.name}")
            best[base] = (version, entry.name)
        else:
            notes.append(f"{entry.name}: older than {held[1]}")
    end = link_set.end
    limit = today - datetime.timedelta(days=link_set.deltadays)
    end = limit if end is None or limit < end else end
    links: dict[str, Path] = {}
    for _, name in sorted(best.values(), key=lambda v: v[1]):
        if not link_set.nodate:
            day = _date_of(name)
            if day is None:
                notes.append(f"{name}: no date in the name")
                continue
            if (link_set.start and day < link_set.start) or day > end:
                notes.append(f"{name}: {day} is outside {link_set.start or '...'} to {end}")
                continue
        links[name] = link_set.sourcedir / name
    return links, notes


def _current(destdir: Path) -> dict[str, Path] | None:
    """The links destdir holds now (None when it is not a directory of symlinks)."""
    if not os.path.isdir(destdir):
        return None
    out = {}
    for entry in os.scandir(destdir):
        if not entry.is_symlink():
            return None
        out[entry.name] = Path(os.readlink(entry.path))
    return out


def plan_links(link_sets: Iterable[LinkSet], today: datetime.date | None = None,
               ) -> list[Listing]:
    """One Listing per destdir; UsageError when a destdir cannot be managed.  Reads only."""
    today = today or datetime.date.today()
    listings: dict[Path, Listing] = {}
    for link_set in link_sets:
        listing = listings.setdefault(link_set.destdir, Listing(link_set.destdir, []))
        listing.sections.append(link_set.name)
        listing.outmode = listing.outmode if link_set.outmode is None else link_set.outmode
        links, notes = newest_links(link_set, today)
        listing.notes.extend(f"[{link_set.name}] {n}" for n in notes)
        for name, target in links.items():
            if name in listing.links and listing.links[name] != target:
                listing.notes.append(f"[{link_set.name}] {name}: already linked to "
                                     f"{listing.links[name]}")
                continue
            listing.links[name] = target
    for listing in listings.values():
        _check_destdir(listing.destdir)
        listing.changed = _current(listing.destdir) != listing.links
    return list(listings.values())


def _check_destdir(destdir: Path) -> None:
    if os.path.isdir(destdir) and not os.path.islink(destdir):
        strays = [e.name for e in os.scandir(destdir) if not e.is_symlink()]
        if strays:
            raise UsageError(f"destdir {destdir} holds {strays[0]!r}, not a symlink: "
                             f"makeLatestSymlinks replaces destdir as a whole and will not "
                             f"remove files; move them away or choose another destdir")
    elif os.path.lexists(destdir) and not os.path.islink(destdir):
        raise UsageError(f"destdir {destdir} exists and is not a directory")
    parent = destdir.parent
    if not parent.is_dir() or not os.access(parent, os.W_OK | os.X_OK):
        raise UsageError(f"cannot make destdir {destdir}: {parent} is not a writable "
                         f"directory")


def _generations(destdir: Path) -> list[Path]:
    prefix = f".{destdir.name}."
    return [destdir.parent / n for n in os.listdir(destdir.parent)
            if n.startswith(prefix) and (destdir.parent / n).is_dir()
            and not (destdir.parent / n).is_symlink()]


def _remove_tree_of_links(directory: Path) -> None:
    for entry in os.scandir(directory):
        if entry.is_symlink():
            os.unlink(entry.path)
    directory.rmdir()


def swap_in(listing: Listing, say: Callable[[str], None] = lambda line: None) -> None:
    """Build the new directory of links beside destdir and rename it into place, holding
    ``.NAME.lock`` beside it (LockHeld while another run updates the same destdir: its
    clean-up could otherwise remove the directory this run is about to swap in)."""
    destdir = listing.destdir
    lock = FileLock(destdir.parent / f".{destdir.name}.lock", timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise LockHeld(f"another makeLatestSymlinks is updating {destdir}; try again "
                       f"when it is done") from None
    try:
        _swap_in(listing, say)
    finally:
        lock.release()


def _swap_in(listing: Listing, say: Callable[[str], None]) -> None:
    destdir = listing.destdir
    stamp = f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}.{os.getpid()}.{time.time_ns()}"
    build = destdir.parent / f".{destdir.name}.{stamp}"
    build.mkdir()
    try:
        for name, target in sorted(listing.links.items()):
            os.symlink(target, build / name)
            say(f"link {destdir / name} -> {target}")
        if listing.outmode is not None:
            os.chmod(build, listing.outmode)
        previous = Path(os.path.realpath(destdir)) if os.path.islink(destdir) else None
        swap = destdir.parent / f".{destdir.name}.swap.{stamp}"
        os.symlink(build.name, swap)
        if os.path.isdir(destdir) and not os.path.islink(destdir):
            # The original's real directory of links: put it aside, then the symlink in.
            aside = destdir.parent / f".{destdir.name}.{stamp}.original"
            os.rename(destdir, aside)
            previous = aside
        os.replace(swap, destdir)
    except BaseException:
        shutil.rmtree(build, ignore_errors=True)
        raise
    for old in _generations(destdir):
        if old != build and old != previous:
            _remove_tree_of_links(old)
    logger.info("makeLatestSymlinks: %s now holds %d link(s)", destdir, len(listing.links))
