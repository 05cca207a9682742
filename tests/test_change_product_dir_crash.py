"""Crash-safety of changeProductDir: SIGKILL at many points, rerun, check the invariants.

Each case kills the real ``changeProductDir`` command (``DBPROCESSING_KILL_AT``
sends SIGKILL at the N-th pass through a named point), then runs it once more
undisturbed.  After every kill: every file is whole at the path the product
row gives, and nowhere is a file lost or changed.  After the final run: the
row has the new directory, every file is there and only there, the old
directories are gone and the journal is empty.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from .missions import REPO, Product, build_mission, name_plugin

pytestmark = pytest.mark.slow

A = Product("prod_a", "a_{Y}{m}{d}_v{VERSION}.dat",
            name_plugin("insp_prod_a.py", r"^a_(?P<date>\d{8})_v(?P<version>\d+\.\d+\.\d+)\.dat$"))
NAMES = [f"a_2025{month:02d}{day:02d}_v1.0.0.dat" for month in (1, 2) for day in (1, 2, 3, 4)]
OLD, NEW = "prod_a/{Y}", "moved/{Y}/{m}"

# Each case: the kills, one run per kill (a "ProcessQueue -i" step runs ingest
# instead), before the undisturbed rerun.
CASES = {
    "after the promises": ["relocate_promised:1"],
    "while linking, first file": ["relocate_linked:1"],
    "while linking, mid": ["relocate_linked:5"],
    "after the last link": ["relocate_linked:8"],
    "after the switch": ["relocate_switched:1"],
    "while cleaning": ["relocate_removed:3"],
    "after the last removal": ["relocate_removed:8"],
    "twice": ["relocate_linked:4", "relocate_removed:2"],
    "then again while the rerun recovers": ["relocate_switched:1", "recover_moved:2"],
    "after the switch, then an ingest finishes it": ["relocate_switched:1", "ProcessQueue -i"],
}


def old_path(m, name: str):
    return m.root / "prod_a" / "2025" / name


def new_path(m, name: str):
    return m.root / "moved" / "2025" / name[6:8] / name


def change_dir(m, kill: str | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if kill:
        env["DBPROCESSING_KILL_AT"] = kill
    return subprocess.run(
        [sys.executable, str(REPO / "scripts" / "changeProductDir.py"), "-m", m.db_url,
         "prod_a", NEW], capture_output=True, text=True, timeout=120, env=env)


def check_after_crash(m, contents: dict[str, str]) -> None:
    directory = m.query("SELECT relative_path FROM product WHERE product_name = 'prod_a'")[0][0]
    assert directory in (OLD, NEW)
    where = old_path if directory == OLD else new_path
    for name, text in contents.items():
        assert where(m, name).read_text() == text, f"{name} is not where the row says"
        for other in (old_path(m, name), new_path(m, name)):
            if other.exists():
                assert other.read_text() == text
    assert not list(m.root.rglob(".*.partial"))
    assert sorted(r[0] for r in m.query("SELECT filename FROM file")) == NAMES


@pytest.mark.parametrize("kills", list(CASES.values()), ids=list(CASES))
def test_sigkill_anywhere_loses_nothing(created_db, tmp_path, monkeypatch, kills):
    monkeypatch.setenv("DBPROCESSING_LOG_DIR", str(tmp_path / "logs"))
    m = build_mission(tmp_path / "m", created_db, [A])
    contents = {name: f"content of {name}\n" for name in NAMES}
    for name, text in contents.items():
        m.add_incoming(name, text)
    assert m.run("-i").returncode == 0
    check_after_crash(m, contents)

    for kill in kills:
        if kill == "ProcessQueue -i":
            result = m.run("-i", "-v")
            assert result.returncode == 0, result.stderr
            assert "finished 8 move(s) left by an interrupted run" in result.stdout
        else:
            result = change_dir(m, kill)
            assert result.returncode == -signal.SIGKILL, (kill, result.stdout, result.stderr)
        check_after_crash(m, contents)

    result = change_dir(m)
    assert result.returncode == 0, result.stderr
    check_after_crash(m, contents)
    assert m.query("SELECT relative_path FROM product WHERE product_name = 'prod_a'")[0][0] \
        == NEW
    for name in NAMES:
        assert not old_path(m, name).exists()
        assert new_path(m, name).stat().st_nlink == 1
    assert m.count("ingest_pending") == 0
    assert sorted(p.name for p in m.root.rglob("*.dat")) == NAMES
    locks = m.query("SELECT currently_processing, comment FROM logging ORDER BY logging_id")
    assert not any(running for running, _ in locks)


def test_killed_while_linking_then_moved_elsewhere(created_db, tmp_path, monkeypatch):
    """The links of a relocation killed before its switch are removed again: a rerun
    to another directory leaves no stray copy in the first one."""
    monkeypatch.setenv("DBPROCESSING_LOG_DIR", str(tmp_path / "logs"))
    m = build_mission(tmp_path / "m", created_db, [A])
    for name in NAMES:
        m.add_incoming(name, f"content of {name}\n")
    assert m.run("-i").returncode == 0
    assert change_dir(m, "relocate_linked:5").returncode == -signal.SIGKILL
    assert len(list((m.root / "moved").rglob("*.dat"))) == 5
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "changeProductDir.py"), "-m", m.db_url,
         "prod_a", "elsewhere/{Y}"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "first carried out 8 promised move(s)" in result.stdout
    assert not list((m.root / "moved").rglob("*.dat"))
    assert sorted(p.name for p in m.root.rglob("*.dat")) == NAMES
    for name in NAMES:
        assert (m.root / "elsewhere" / "2025" / name).read_text() == f"content of {name}\n"
    assert m.count("ingest_pending") == 0
