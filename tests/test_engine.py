"""Choosing the database from -m (spec section 10)."""
from __future__ import annotations

import pytest

from dbprocessing.cli import add_from_config
from dbprocessing.db.engine import resolve_url
from dbprocessing.errors import DatabaseNotFound, UsageError


def test_existing_file_is_sqlite(tmp_path):
    path = tmp_path / "m.sqlite"
    path.touch()
    url = resolve_url(str(path))
    assert url.get_backend_name() == "sqlite" and url.database == str(path)


def test_bare_name_is_postgres_from_environment(monkeypatch):
    monkeypatch.setenv("PGUSER", "alice")
    monkeypatch.setenv("PGHOST", "db.example")
    monkeypatch.setenv("PGPORT", "5433")
    monkeypatch.setenv("PGPASSWORD", "s3cret")
    url = resolve_url("rbsp")
    assert (url.drivername, url.username, url.host, url.port, url.database, url.password) == (
        "postgresql+psycopg", "alice", "db.example", 5433, "rbsp", "s3cret")


@pytest.mark.parametrize("name", ["missing/dir/m.sqlite", "./nothere", "nothere.sqlite",
                                  "sqlite:////no/such/dir/x.sqlite"])
def test_path_that_does_not_exist_is_an_error(name):
    with pytest.raises(DatabaseNotFound):
        resolve_url(name)


def test_creating_allows_a_new_path(tmp_path):
    assert resolve_url(str(tmp_path / "new.sqlite"), creating=True).get_backend_name() == "sqlite"


def test_plain_postgresql_url_means_psycopg3():
    assert resolve_url("postgresql://u@h/db").drivername == "postgresql+psycopg"


@pytest.mark.parametrize("name", ["", "notadriver://x"])
def test_bad_urls(name):
    with pytest.raises((UsageError, DatabaseNotFound)):
        resolve_url(name)


def test_unreachable_server_is_one_clear_line(tmp_path, capsys, example_dir):
    # Port 1 on loopback: nothing listens there, the refusal is immediate.
    url = "postgresql+psycopg://postgres@127.0.0.1:1/nothing?connect_timeout=3"
    assert add_from_config.main(["-m", url, str(example_dir / "hello.conf")]) == 2
    err = capsys.readouterr().err
    assert "cannot reach database" in err and len(err.strip().splitlines()) == 1
