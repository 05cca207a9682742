"""makeLatestSymlinks: directories of links to the newest version, swapped in whole.

The command reads no database (as in the original: "newest" comes from the
names), so these tests use real directories in tmp_path only.
"""
from __future__ import annotations

import datetime
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dbprocessing.cli import make_latest_symlinks
from dbprocessing.latest import plan_links, read_link_config, swap_in

NAMES = ["l1_20250101_v1.0.0.cdf", "l1_20250101_v1.0.1.cdf", "l1_20250101_v1.1.0.cdf",
         "l1_20250102_v1.0.0.cdf", "l1_20250103_v2.0.0.cdf", "l1_20250103_v10.0.0.cdf",
         "l1_20250104_v1.0.0.cdf", "l1_20250104_v1.0.0.txt", "notes.cdf"]
ALL_NEWEST = {"l1_20250101_v1.1.0.cdf", "l1_20250102_v1.0.0.cdf", "l1_20250103_v10.0.0.cdf",
              "l1_20250104_v1.0.0.cdf"}


@pytest.fixture
def world(tmp_path) -> Path:
    source = tmp_path / "data" / "l1"
    source.mkdir(parents=True)
    for name in NAMES:
        (source / name).write_text(name)
    (source / ".l1_20250105_v1.0.0.cdf.partial").write_text("hidden")
    return tmp_path


def config(root: Path, text: str) -> Path:
    path = root / "links.conf"
    path.write_text(text)
    return path


BASIC = textwrap.dedent("""
    [mission_l1]
    sourcedir = data/l1
    destdir = latest/l1
    filter = l1_*.cdf
    """)


def links(destdir: Path) -> dict[str, Path]:
    return {p.name: Path(os.readlink(p)) for p in destdir.iterdir()}


def run(capsys, *argv) -> tuple[int, str, str]:
    capsys.readouterr()
    code = make_latest_symlinks.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_links_the_newest_of_each_name(world, capsys):
    (world / "latest").mkdir()
    code, out, err = run(capsys, config(world, BASIC))
    assert code == 0, err
    dest = world / "latest" / "l1"
    assert dest.is_symlink() and dest.is_dir()
    assert links(dest) == {n: world / "data" / "l1" / n for n in ALL_NEWEST}
    assert out == f"[mission_l1]: {dest} now links 4 file(s)\n"
    code, out, _ = run(capsys, config(world, BASIC))
    assert code == 0 and out == f"[mission_l1]: {dest} unchanged (4 link(s))\n"


def test_dates_deltadays_and_nodate(world, capsys):
    (world / "latest").mkdir()
    (world / "data" / "l1" / "l1_undated_v1.0.0.cdf").write_text("x")
    conf = config(world, BASIC + "startdate = 2025-01-02\nenddate = 20250103\n")
    assert run(capsys, conf)[0] == 0
    assert set(links(world / "latest" / "l1")) == {"l1_20250102_v1.0.0.cdf",
                                                   "l1_20250103_v10.0.0.cdf"}
    days = (datetime.date.today() - datetime.date(2025, 1, 2)).days
    conf = config(world, BASIC + f"deltadays = {days}\n")
    code, out, _ = run(capsys, conf, "--verbose")
    assert code == 0
    assert set(links(world / "latest" / "l1")) == {"l1_20250101_v1.1.0.cdf",
                                                   "l1_20250102_v1.0.0.cdf"}
    assert "left out [mission_l1] l1_undated_v1.0.0.cdf: no date in the name" in out
    assert "left out [mission_l1] l1_20250101_v1.0.1.cdf: older than" in out
    assert run(capsys, config(world, BASIC + "nodate = true\n"))[0] == 0
    assert set(links(world / "latest" / "l1")) == ALL_NEWEST | {"l1_undated_v1.0.0.cdf"}


def test_a_new_version_is_swapped_in_whole(world, capsys):
    (world / "latest").mkdir()
    conf = config(world, BASIC)
    assert run(capsys, conf)[0] == 0
    dest = world / "latest" / "l1"
    first = Path(os.path.realpath(dest))
    (world / "data" / "l1" / "l1_20250102_v1.0.1.cdf").write_text("new")
    old_set = links(dest)
    link_sets = read_link_config(conf)
    (listing,) = plan_links(link_sets)
    seen = []

    def reader(_line: str) -> None:  # called while the new directory is being built
        seen.append(links(dest))

    swap_in(listing, reader)
    assert seen and all(s == old_set for s in seen)  # the old set, whole, until the swap
    assert "l1_20250102_v1.0.1.cdf" in links(dest)
    assert "l1_20250102_v1.0.0.cdf" not in links(dest)
    second = Path(os.path.realpath(dest))
    assert second != first and first.is_dir()  # the previous generation is kept...
    (world / "data" / "l1" / "l1_20250104_v1.0.1.cdf").write_text("newer")
    assert run(capsys, conf)[0] == 0
    assert not first.exists() and second.is_dir()  # ...until the next change
    hidden = sorted(p.name for p in (world / "latest").iterdir()
                    if p.name.startswith(".") and p.is_dir())
    assert len(hidden) == 2


def test_list_and_filter_change_nothing(world, capsys):
    conf = config(world, BASIC + textwrap.dedent("""
        [other_thing]
        sourcedir = data/l1
        destdir = latest/other
        filter = *.txt
        nodate = yes
        """))
    (world / "latest").mkdir()
    code, out, _ = run(capsys, conf, "-l")
    assert code == 0
    assert f"[mission_l1] -> {world / 'latest' / 'l1'}: 4 link(s)" in out
    assert "  l1_20250104_v1.0.0.txt -> " in out
    assert list((world / "latest").iterdir()) == []
    code, out, _ = run(capsys, conf, "-f", "other,thing")
    assert code == 0 and "[mission_l1]" not in out
    assert set(links(world / "latest" / "other")) == {"l1_20250104_v1.0.0.txt"}
    assert not (world / "latest" / "l1").exists()


def test_the_originals_directory_of_links_is_converted(world, capsys):
    dest = world / "latest" / "l1"
    dest.mkdir(parents=True)
    os.symlink(world / "data" / "l1" / "l1_20250101_v1.0.0.cdf", dest / "l1_20250101_v1.0.0.cdf")
    assert run(capsys, config(world, BASIC))[0] == 0
    assert dest.is_symlink() and set(links(dest)) == ALL_NEWEST


@pytest.mark.parametrize("text, message", [
    ("[s]\nsourcedir = data/l1\n", "[s] needs destdir ="),
    (BASIC + "colour = blue\n", "unknown key 'colour'"),
    (BASIC + "startdate = soon\n", "not a date"),
    (BASIC + "nodate = perhaps\n", "is not true or false"),
    (BASIC + "outmode = 9x\n", "outmode"),
    ("[s]\nsourcedir = data/nothere\ndestdir = latest/l1\n", "cannot list sourcedir"),
    ("[s]\nsourcedir = data/l1\ndestdir = data/l1/notes.cdf/l1\n", "not a writable directory"),
    ("[s]\nsourcedir = data/l1\ndestdir = data\n", "not a symlink"),
], ids=["missing key", "unknown key", "bad date", "bad bool", "bad mode", "no sourcedir",
        "destdir under a file", "destdir with files"])
def test_bad_config_exits_2_and_changes_nothing(world, capsys, text, message):
    (world / "latest").mkdir()
    conf = config(world, text)
    before = sorted(p.relative_to(world) for p in world.rglob("*"))
    code, out, err = run(capsys, conf)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err
    assert sorted(p.relative_to(world) for p in world.rglob("*")) == before


def test_missing_config_and_unmatched_filter(world, capsys):
    code, _, err = run(capsys, world / "nope.conf")
    assert code == 2 and "cannot read the config" in err
    code, _, err = run(capsys, config(world, BASIC), "-f", "zzz")
    assert code == 2 and "no section" in err and "mission_l1" in err


def test_installed_console_script(world):
    (world / "latest").mkdir()
    command = shutil.which("makeLatestSymlinks") or str(
        Path(sys.executable).parent / "makeLatestSymlinks")
    result = subprocess.run([command, str(config(world, BASIC))], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert set(links(world / "latest" / "l1")) == ALL_NEWEST


def test_a_second_run_on_the_same_destdir_refuses(world, capsys):
    from filelock import FileLock

    (world / "latest").mkdir()
    conf = config(world, BASIC)
    with FileLock(world / "latest" / ".l1.lock"):
        code, out, err = run(capsys, conf)
    assert code == 3 and "another makeLatestSymlinks is updating" in err
    assert not (world / "latest" / "l1").exists()
    assert run(capsys, conf)[0] == 0
