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

import datetime
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Connection,
    Date,
    DateTime,
    Engine,
    TableClause,
    any_,
    bindparam,
    create_engine,
    event,
    insert,
    select,
    text,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.engine.interfaces import DBAPIConnection, Dialect
from sqlalchemy.exc import ArgumentError
from sqlalchemy.exc import DatabaseError as DriverDatabaseError
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeEngine

from ..errors import DatabaseNotFound, UsageError

if TYPE_CHECKING:  # the ORM is imported by whoever makes a session, not by opening
    from sqlalchemy.orm import QueryableAttribute, Session, sessionmaker

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


def in_another_process(engine: Engine) -> bool:
    """Whether the database does a statement's work in a process of its own (a
    PostgreSQL server), so that this process's thread only waits for it: SQLite
    does it in this process, holding its CPU."""
    return engine.dialect.name != "sqlite"


def check_reachable(engine: Engine) -> None:
    """Connect once, turning a failure into one clear DatabaseNotFound: a server
    not there or refusing, a file that is not an SQLite database."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except DriverDatabaseError as exc:  # OperationalError is one too
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        verb = "open" if engine.dialect.name == "sqlite" else "reach"
        raise DatabaseNotFound(
            f"cannot {verb} database {engine.url.render_as_string(hide_password=True)}: "
            f"{reason}") from None


def one_of(db: Connection | Session, column: ColumnElement[Any] | QueryableAttribute[Any],
           values: Iterable[Any]) -> ColumnElement[bool]:
    """``column IN (values)``: on PostgreSQL ``column = ANY(%(array)s)``.

    One array parameter there, so the statement's text does not depend on how
    many values there are: psycopg converts it once and prepares it, and the
    server plans it once, where an IN list of a batch's 500 values is a new
    statement to split, send and plan every time.
    """
    values = list(values)
    bind = db.get_bind() if not isinstance(db, Connection) else db
    if bind.dialect.name != "postgresql":
        return column.in_(values)
    return column == any_(bindparam(None, values, type_=ARRAY(column.type)))


def insert_rows(db: Connection | Session, table: TableClause,
                rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert *rows* (dicts with the same keys) into *table* in *db*'s transaction.

    PostgreSQL: one ``COPY FROM STDIN`` (psycopg adapts the values).  An
    executemany there sends the rows one by one, and a multi-row INSERT of a
    batch is a statement psycopg parses afresh each time: both cost more than
    the rest of ingest.  With ``--echo`` (SQLAlchemy does not see a COPY, so
    could not print it): an executemany.  SQLite: one driver-level
    executemany of tuples, each column's value converted once by its type's
    bind processor, rather than SQLAlchemy building every row's parameters
    (a fifth of ingest's CPU).  Columns left out take their server defaults; a
    table with Python-side defaults goes through ``insert()`` instead.
    """
    if not rows:
        return
    conn = db if isinstance(db, Connection) else db.connection()
    columns = list(rows[0])
    if conn.dialect.paramstyle == "qmark" and not any(
            c.default is not None for c in table.c if c.key not in rows[0]):
        _executemany(conn, table, columns, rows)
        return
    if conn.dialect.name != "postgresql" or conn.engine.echo:
        conn.execute(insert(table), list(rows))
        return
    names = ", ".join(conn.dialect.identifier_preparer.quote(c) for c in columns)
    if not conn.in_transaction():
        # The COPY goes through the driver, which opens a transaction SQLAlchemy
        # would not know of: its commit() would then end nothing, and the rows
        # would be rolled back when the connection goes back to the pool.
        conn.begin()
    raw: Any = conn.connection.dbapi_connection  # psycopg's Connection
    assert raw is not None, "an open connection has its driver connection"
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY {conn.dialect.identifier_preparer.format_table(table)} "
                         f"({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])


def insert_rows_ids(db: Connection | Session, table: TableClause,
                    rows: Sequence[Mapping[str, Any]], key: str,
                    pk: str | None = None) -> list[int]:
    """Insert *rows* as ``insert_rows`` does; their new primary keys, in order.

    *table* has one integer primary key, generated by the database (its column
    *pk*, or the Table's primary key), and *key* is a unique column every row
    gives.  PostgreSQL: the keys are taken from
    the column's sequence first (one ``nextval`` per row, in one statement),
    and the rows go in with them: the same keys a COPY without them would get.
    SQLite (or a column whose default is not a sequence it owns): the rows go
    in, and their keys are read back by *key*.
    """
    if not rows:
        return []
    conn = db if isinstance(db, Connection) else db.connection()
    if pk is None:
        (pk_column,) = table.primary_key
        pk = pk_column.name
    if conn.dialect.name == "postgresql":
        ids = list(conn.execute(_NEXTVALS, {
            "table": conn.dialect.identifier_preparer.format_table(table),
            "column": pk, "n": len(rows)}).scalars())
        if None not in ids:  # else no sequence is owned by the column: as SQLite
            ids.sort()
            insert_rows(conn, table, [{pk: i, **row}
                                      for i, row in zip(ids, rows, strict=True)])
            return ids
    insert_rows(conn, table, rows)
    found = {value: id_ for value, id_ in conn.execute(select(table.c[key], table.c[pk]).where(
        one_of(conn, table.c[key], [row[key] for row in rows])))}
    return [found[row[key]] for row in rows]


# The sequence looked up once (a function in FROM), not once per row.
_NEXTVALS = text("SELECT nextval(CAST(seq AS regclass)) "
                 "FROM pg_get_serial_sequence(:table, :column) AS seq, generate_series(1, :n)")


def _executemany(conn: Connection, table: TableClause, columns: list[str],
                 rows: Sequence[Mapping[str, Any]]) -> None:
    """``INSERT INTO table (columns) VALUES (?, ...)`` for *rows*, through
    ``exec_driver_sql`` (echoed and seen by events like any statement)."""
    dialect = conn.dialect
    quote = dialect.identifier_preparer.quote
    sql = (f"INSERT INTO {dialect.identifier_preparer.format_table(table)} "
           f"({', '.join(quote(c) for c in columns)}) VALUES "
           f"({', '.join('?' * len(columns))})")
    converters = [_converter(table.c[c].type, dialect) for c in columns]
    # Column by column: a list comprehension per column costs less than a tuple per row.
    values = list(zip(*(
        [row[c] for row in rows] if f is None
        else [None if v is None else f(v) for v in [row[c] for row in rows]]
        for c, f in zip(columns, converters, strict=True)), strict=True))
    conn.exec_driver_sql(sql, values)


# A probe with every field set: a storage format that is not ISO 8601 differs on it.
_PROBE = datetime.datetime(2001, 2, 3, 4, 5, 6, 7)


def _converter(type_: TypeEngine[Any], dialect: Dialect) -> Callable[[Any], Any] | None:
    """*type_*'s bind processor for *dialect*, or an equivalent faster one.

    SQLite stores dates and datetimes as ISO 8601 text; when the type's own
    processor gives exactly ``isoformat`` on a probe, naive datetimes and plain
    dates are converted by ``isoformat`` (a fifth of the processor's cost),
    anything else by the processor.
    """
    process = type_.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return None
    if isinstance(type_, DateTime) and process(_PROBE) == _PROBE.isoformat(" ", "microseconds"):
        def datetime_text(value: Any) -> Any:
            if type(value) is datetime.datetime and value.tzinfo is None:
                return value.isoformat(" ", "microseconds")
            return process(value)
        return datetime_text
    if isinstance(type_, Date) and process(_PROBE.date()) == _PROBE.date().isoformat():
        def date_text(value: Any) -> Any:
            return value.isoformat() if type(value) is datetime.date else process(value)
        return date_text
    return process


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(engine, expire_on_commit=False)


def describe(url: URL) -> str:
    """A short name for logs and messages: the file stem or database name."""
    if url.get_backend_name() == "sqlite":
        return Path(url.database or "memory").stem
    return url.database or "postgres"
