"""The database: models, engine and session factory, schema management.

``open_database(name)`` is what every command uses: it resolves ``-m DB``,
connects once, and refuses a schema that is not this code's head.
"""
from __future__ import annotations

from sqlalchemy import Engine

from .engine import check_reachable, make_engine, make_sessionmaker, resolve_url
from .schema import require_current

__all__ = ["open_database"]


def open_database(name: str, *, echo: bool = False) -> Engine:
    """An Engine on the mission database *name*, at the current schema."""
    engine = make_engine(resolve_url(name), echo=echo)
    try:
        check_reachable(engine)
        require_current(engine)
    except BaseException:
        engine.dispose()  # its pooled connection must not be left to the collector
        raise
    return engine


__all__ += ["make_engine", "make_sessionmaker", "resolve_url"]
