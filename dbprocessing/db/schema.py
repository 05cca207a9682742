"""Creating, checking and upgrading the schema through alembic.

Every schema change is an alembic revision in ``migrations/`` (shipped as
``dbprocessing.migrations``).  A database is

* empty: CreateDB upgrades it from nothing to head;
* the original's: tables but no ``alembic_version``; MigrateDB adopts it
  (revision 0001 adds what older releases lacked, later ones our fixes);
* ours at an older revision: MigrateDB upgrades it;
* ours at a revision this code does not know: newer than the code, refused.

Every command checks the schema when it opens the database, so that check is
cheap: one SELECT of ``alembic_version`` compared with ``HEAD_REVISION``, the
newest revision's id (tests/test_schema.py proves it is alembic's head and
that head matches the models).  Alembic itself is imported only to create,
upgrade or explain a schema that is not at head.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, inspect, text
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError

from ..errors import DatabaseNotEmpty, SchemaError

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

logger = logging.getLogger(__name__)

VERSION_TABLE = "alembic_version"
# The newest revision in migrations/versions: change it with each new revision
# (tests/test_schema.py fails until it matches alembic's head).
HEAD_REVISION = "0006"


def _script_location() -> str:
    try:
        from importlib.resources import files
        return str(files("dbprocessing.migrations"))
    except ModuleNotFoundError:  # running from a source tree, not installed
        return str(Path(__file__).resolve().parents[2] / "migrations")


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", _script_location())
    return config


def script_directory() -> ScriptDirectory:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config())


@dataclass(frozen=True)
class SchemaState:
    """Where a database stands against this code's revisions."""

    kind: str            # "empty", "original", "current", "old", "newer"
    revision: str | None
    head: str
    pending: tuple[str, ...]


def inspect_schema(engine: Engine) -> SchemaState:
    scripts = script_directory()
    head = scripts.get_current_head()
    assert head is not None, "the package ships its migrations, so there is a head"
    with engine.connect() as conn:
        tables = set(inspect(conn).get_table_names())
        revision = _stored_revision(conn) if VERSION_TABLE in tables else None
    if revision is None:
        kind = "original" if "file" in tables or "mission" in tables else "empty"
        pending = tuple(r.revision for r in reversed(list(scripts.walk_revisions())))
        if kind == "empty" and tables - {VERSION_TABLE}:
            kind = "foreign"
        return SchemaState(kind, None, head, pending)
    try:
        scripts.get_revision(revision)
    except Exception:  # alembic raises several kinds for an unknown id
        return SchemaState("newer", revision, head, ())
    pending = tuple(r.revision for r in reversed(list(
        scripts.iterate_revisions(head, revision))))
    return SchemaState("current" if revision == head else "old", revision, head, pending)


def _stored_revision(conn: Connection) -> str | None:
    """The revision recorded in ``alembic_version`` (None: an empty table)."""
    rows = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
    if len(rows) > 1:
        raise SchemaError(f"{VERSION_TABLE} holds several revisions "
                          f"({', '.join(sorted(r[0] for r in rows))}); dbprocessing's "
                          f"schema has one line of revisions")
    return rows[0][0] if rows else None


def require_current(engine: Engine) -> None:
    """Refuse a database whose schema is not exactly this code's head."""
    try:
        with engine.connect() as conn:
            if _stored_revision(conn) == HEAD_REVISION:
                return
    except DBAPIError:  # no alembic_version table: say what the database is below
        pass
    state = inspect_schema(engine)
    if state.kind == "current":
        return
    where = engine.url.render_as_string(hide_password=True)
    messages = {
        "empty": f"database {where} has no dbprocessing tables; create it with CreateDB",
        "foreign": f"database {where} has tables but none of dbprocessing's",
        "original": (f"database {where} was made by the original dbprocessing; "
                     f"adopt it with: MigrateDB -m {where}"),
        "old": (f"database {where} is at schema revision {state.revision}, this "
                f"dbprocessing needs {state.head}; upgrade it with: MigrateDB -m {where}"),
        "newer": (f"database {where} is at schema revision {state.revision}, newer than "
                  f"this dbprocessing knows (head {state.head}); upgrade dbprocessing"),
    }
    raise SchemaError(messages[state.kind])


def _raw_connection(conn: Connection) -> DBAPIConnection:
    """The driver's connection under *conn* (present while *conn* is open)."""
    raw = conn.connection.dbapi_connection
    assert raw is not None, "an open connection has its driver connection"
    return raw


def _upgrade(engine: Engine) -> None:
    from alembic import command

    config = alembic_config()
    with engine.connect() as conn:
        if engine.dialect.name == "sqlite":
            # Rebuilding a table (SQLite's only way to change a constraint)
            # must not fire foreign-key checks; this pragma only takes effect
            # outside a transaction, hence the raw connection.
            _raw_connection(conn).execute("PRAGMA foreign_keys = OFF")
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
        conn.commit()
        if engine.dialect.name == "sqlite":
            problems = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
            conn.commit()
            _raw_connection(conn).execute("PRAGMA foreign_keys = ON")
            if problems:
                raise SchemaError(f"foreign-key check failed after upgrade: {problems[:5]}")


def create_schema(engine: Engine) -> str:
    """Create every table at head in an empty database; return the head revision."""
    state = inspect_schema(engine)
    if state.kind != "empty":
        raise DatabaseNotEmpty(
            f"database {engine.url.render_as_string(hide_password=True)} already has "
            f"tables ({state.kind} schema); CreateDB only creates new databases "
            f"(use MigrateDB to upgrade an existing one)")
    _upgrade(engine)
    return state.head


def upgrade_schema(engine: Engine, say: Callable[[str], None] = logger.info) -> SchemaState:
    """Upgrade an existing database to head, saying each revision it applies."""
    state = inspect_schema(engine)
    if state.kind == "newer":
        require_current(engine)
    if state.kind in ("empty", "foreign"):
        raise SchemaError(
            f"database {engine.url.render_as_string(hide_password=True)} has no "
            f"dbprocessing tables to upgrade; create it with CreateDB")
    scripts = script_directory()
    for rev in state.pending:
        doc = (scripts.get_revision(rev).doc or "").strip().splitlines()[0]
        say(f"applying {rev}: {doc}")
    if state.pending:
        _upgrade(engine)
    return state
