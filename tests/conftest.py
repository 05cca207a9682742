"""Fixtures: real databases (SQLite files, PostgreSQL schemas) and small real missions.

Every database test takes ``db_url`` and so runs twice: on a SQLite file in
``tmp_path`` and on PostgreSQL when ``DBPROCESSING_TEST_POSTGRES_URL`` is set
(CI sets it).  Each PostgreSQL test gets a schema of its own, reached through
``search_path`` in the URL, and the schema is dropped afterwards.
"""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from dbprocessing.db.engine import make_engine, resolve_url
from dbprocessing.db.schema import create_schema

from .missions import MissionUnderTest

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "hello"
POSTGRES_ENV = "DBPROCESSING_TEST_POSTGRES_URL"

BACKENDS = ["sqlite", "postgresql"]


def _postgres_admin_url() -> str | None:
    url = os.environ.get(POSTGRES_ENV)
    if not url:
        return None
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    if request.param == "postgresql" and _postgres_admin_url() is None:
        pytest.skip(f"{POSTGRES_ENV} is not set (CI sets it)")
    return request.param


@pytest.fixture
def db_url(backend, tmp_path):
    """URL of an empty database of its own (no tables)."""
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'mission.sqlite'}"
        return
    admin = _postgres_admin_url()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    engine = create_engine(admin)
    with engine.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(admin).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture
def created_db(db_url):
    """URL of a database created at head."""
    engine = make_engine(resolve_url(db_url, creating=True))
    create_schema(engine)
    engine.dispose()
    return db_url


@pytest.fixture
def example_dir(tmp_path) -> Path:
    """A copy of the example mission in tmp_path (config, inspectors, codes, data)."""
    target = tmp_path / "hello"
    shutil.copytree(EXAMPLE, target)
    return target


@pytest.fixture
def engine_for():
    """Open engines on URLs and dispose them at the end of the test."""
    engines = []

    def open_(url: str):
        engine = make_engine(resolve_url(url, creating=True))
        engines.append(engine)
        return engine

    yield open_
    for engine in engines:
        engine.dispose()


@pytest.fixture
def hello(created_db, example_dir, tmp_path, monkeypatch) -> MissionUnderTest:
    """The example mission, configured and with its inputs ingested."""
    monkeypatch.setenv("DBPROCESSING_LOG_DIR", str(tmp_path / "logs"))
    m = MissionUnderTest(example_dir, created_db, example_dir / "hello.conf")
    return m


@pytest.fixture
def made(hello) -> MissionUnderTest:
    """The example mission ingested and processed: 10 L0, 5 L1, 5 L2 files."""
    from .missions import load_and_ingest, process

    load_and_ingest(hello)
    assert process(hello, "-q") == 0
    return hello
