"""Alembic revisions of the dbprocessing schema (shipped as dbprocessing.migrations).

Run them through ``MigrateDB`` or ``dbprocessing.db.schema``; ``alembic`` on
the command line also works with ``-x url=...`` (see env.py).
"""
