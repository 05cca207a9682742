"""Alembic environment: runs revisions on the connection dbprocessing hands in.

``dbprocessing.db.schema`` passes an open connection in
``config.attributes["connection"]``; a plain ``alembic -x url=... upgrade head``
opens one from that URL instead.
"""
from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from dbprocessing.db.models import Base, use_backend

config = context.config
target_metadata = Base.metadata


def _run(connection) -> None:
    use_backend(connection.dialect.name)
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = context.get_x_argument(as_dictionary=True).get("url")
    if not url:
        raise SystemExit("pass the database as: alembic -x url=DATABASE_URL ...")
    with create_engine(url).connect() as conn:
        _run(conn)
