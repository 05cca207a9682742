"""Choosing and opening the database (spec section 10).

The only module that knows SQLite from PostgreSQL.  ``-m DB`` may be

* a SQLAlchemy URL (``sqlite:///path``, ``postgresql+psycopg://...``;
  ``postgresql://`` means psycopg 3);
* the path of an existing file: SQLite;
* a bare name: a PostgreSQL database reached through PGUSER, PGHOST, PGPORT
  and PGPASSWORD.

A name that looks like a path (has a slash or a file suffix) but does not
exist is an error, unless the caller is creating the database.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, Table, create_engine, event, insert, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.pool import ConnectionPoolEntry

from ..errors import DatabaseNotFound, UsageError

if TYPE_CHECKING:  # the ORM is imported by whoever makes a session, not by opening
    from sqlalchemy.orm import Session, sessionmaker

_FILE_SUFFIXES = (".sqlite", ".sqlite3", ".db", ".sql")


def resolve_url(name: str, *, creating: bool = False,
                dialect: str | None = None) -> URL:
    """The SQLAlchemy URL that ``-m name`` means."""
    if not name:
        raise UsageError("no database given")
    if "://" in name:
        try:
            url = make_url(name)
        except ArgumentError as exc:
            raise UsageError(f"not a database URL: {name!r} ({exc})") from None
        if url.drivername in ("postgresql", "postgres"):
            url = url.set(drivername="postgresql+psycopg")
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            raise UsageError(f"unsupported database kind {url.drivername!r} in {name!r} "
                             f"(use sqlite:/// or postgresql+psycopg://)")
        if url.get_backend_name() == "sqlite" and url.database and not creating \
                and not Path(url.database).is_file():
            raise DatabaseNotFound(f"no SQLite database file at {url.database}")
        return url
    path = Path(name).expanduser()
    if dialect == "postgresql":
        return _postgres_url(name)
    if path.is_file():
        return URL.create("sqlite", database=str(path.resolve()))
    if dialect == "sqlite" or (creating and dialect is None):
        if path.is_dir():
            raise UsageError(f"{name} is a directory, not a database file")
        return URL.create("sqlite", database=str(path.resolve()))
    if "/" in name or os.sep in name or name.endswith(_FILE_SUFFIXES):
        raise DatabaseNotFound(f"no database file at {name}")
    return _postgres_url(name)


def _postgres_url(dbname: str) -> URL:
    port = os.environ.get("PGPORT")
    return URL.create(
        "postgresql+psycopg",
        username=os.environ.get("PGUSER") or None,
        password=os.environ.get("PGPASSWORD") or None,
        host=os.environ.get("PGHOST") or None,
        port=int(port) if port and port.isdigit() else None,
        database=dbname,
    )


def make_engine(url: URL | str, *, echo: bool = False) -> Engine:
    """An Engine with the settings dbprocessing relies on."""
    url = make_url(url) if isinstance(url, str) else url
    _use_backend(url.get_backend_name())
    if url.get_backend_name() == "sqlite":
        engine = create_engine(url, echo=echo, connect_args={"timeout": 60})
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=False)


# Backends engines were made for; models.py completes its tables for each (use_backend)
# when it is imported, so that a run that never needs the ORM does not import it.
_BACKENDS: set[str] = set()


def _use_backend(name: str) -> None:
    _BACKENDS.add(name)
    models = sys.modules.get(f"{__package__}.models")
    if models is not None:
        models.use_backend(name)


def backends_in_use() -> frozenset[str]:
    """The backends engines have been made for in this process."""
    return frozenset(_BACKENDS)


def _sqlite_on_connect(dbapi_connection: DBAPIConnection,
                       _record: ConnectionPoolEntry) -> None:
    # Let SQLAlchemy emit BEGIN itself (see _sqlite_on_begin), enforce foreign
    # keys, and use WAL so readers never block the one writer.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA busy_timeout = 60000")
    cursor.execute("PRAGMA cache_size = -65536")  # 64 MiB: a large archive's indexes stay hot
    cursor.close()


def _sqlite_on_begin(connection: Connection) -> None:
    # Readers begin deferred, so they never block a writer (WAL).  A writer
    # (an engine from ``for_writing``) begins IMMEDIATE: it takes the write
    # lock up front, so two writers queue on busy_timeout instead of one
    # failing with "database is locked" when it upgrades from read to write.
    if connection.get_execution_options().get("dbprocessing_write"):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        connection.exec_driver_sql("BEGIN")


def for_writing(engine: Engine) -> Engine:
    """The same engine (and pool), for transactions that read then write."""
    return engine.execution_options(dbprocessing_write=True)


def check_reachable(engine: Engine) -> None:
    """Connect once, turning a failure into one clear DatabaseNotFound."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseNotFound(
            f"cannot reach database {engine.url.render_as_string(hide_password=True)}: "
            f"{reason}") from None


def insert_rows(db: Connection | Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert *rows* (dicts with the same keys) into *table* in *db*'s transaction.

    PostgreSQL: one ``COPY FROM STDIN`` (psycopg adapts the values).  An
    executemany there sends the rows one by one, and a multi-row INSERT of a
    batch is a statement psycopg parses afresh each time: both cost more than
    the rest of ingest.  SQLite, or with ``--echo`` (SQLAlchemy does not see a
    COPY, so could not print it): an executemany.
    """
    if not rows:
        return
    conn = db if isinstance(db, Connection) else db.connection()
    if conn.dialect.name != "postgresql" or conn.engine.echo:
        conn.execute(insert(table), list(rows))
        return
    columns = list(rows[0])
    names = ", ".join(conn.dialect.identifier_preparer.quote(c) for c in columns)
    raw: Any = conn.connection.dbapi_connection  # psycopg's Connection
    assert raw is not None, "an open connection has its driver connection"
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY {conn.dialect.identifier_preparer.format_table(table)} "
                         f"({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(engine, expire_on_commit=False)


def describe(url: URL) -> str:
    """A short name for logs and messages: the file stem or database name."""
    if url.get_backend_name() == "sqlite":
        return Path(url.database or "memory").stem
    return url.database or "postgres"
