"""One exception tree for everything dbprocessing refuses to do.

::

    DBProcessingError                 anything the CLI turns into one line, exit code
    ├── UsageError                    bad command-line argument            (exit 2)
    ├── ConfigError                   bad mission config file              (exit 2)
    ├── DatabaseError                 cannot use the database              (exit 2)
    │   ├── DatabaseNotFound          path or server that is not there
    │   ├── SchemaError               schema missing, too old, or too new
    │   └── DatabaseNotEmpty          CreateDB on a database with tables
    ├── LockHeld                      another run holds the processing lock (exit 3)
    ├── ExecutorLost                  the cluster running codes went away  (exit 1)
    │                                 or did not start
    ├── VersionError                  malformed version string or value    (exit 2)
    └── FormatError                   bad filename pattern or substitution (exit 2)

``Version.VersionError`` is this tree's ``VersionError`` so that plugins of
the original that catch it keep working.
"""
from __future__ import annotations

import datetime

EXIT_OK = 0
EXIT_SOME_FAILED = 1
EXIT_USAGE = 2
EXIT_LOCKED = 3


class DBProcessingError(Exception):
    """Base of every error dbprocessing raises on purpose."""

    exit_code = EXIT_USAGE


class UsageError(DBProcessingError):
    """A command-line argument is wrong."""


class ConfigError(DBProcessingError):
    """A mission config file is wrong; the message names section and key."""


class DatabaseError(DBProcessingError):
    """The database cannot be used as asked."""


class DatabaseNotFound(DatabaseError):
    """The database file or server is not there."""


class SchemaError(DatabaseError):
    """The schema is missing, older than the code, or newer than the code."""


class DatabaseNotEmpty(DatabaseError):
    """CreateDB was pointed at a database that already has tables."""


class LockHeld(DBProcessingError):
    """Another run holds the processing lock (since *held_since*, UTC, when known)."""

    exit_code = EXIT_LOCKED

    def __init__(self, message: str, held_since: datetime.datetime | None = None) -> None:
        super().__init__(message)
        self.held_since = held_since


class ExecutorLost(DBProcessingError):
    """The cluster running the codes went away (what finished is recorded) or did not start."""

    exit_code = EXIT_SOME_FAILED


class VersionError(DBProcessingError, ValueError):
    """A version is malformed (not x.y.z, or interface < 1)."""


class FormatError(DBProcessingError, ValueError):
    """A filename pattern or substitution is malformed."""
