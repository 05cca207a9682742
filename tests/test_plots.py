"""coveragePlot and histogramCodes: the PNGs are decoded and their size and colours checked.

The example mission with a broken level-2 code gives failed and up-to-date
dates (coverage) and failed and succeeded runs (histogram).  Pixels are read
with Pillow, which matplotlib depends on.  Without matplotlib, both commands
say how to install it and exit 2: shown by a child process whose
``matplotlib`` is a package that refuses to import.
"""
from __future__ import annotations

import datetime
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from dbprocessing.cli import coverage_plot, histogram_codes, process_queue
from dbprocessing.report.coverage import COLOURS

from .missions import (
    REPO,
    Product,
    break_l2,
    build_mission,
    load_and_ingest,
    name_plugin,
    process,
)

pytest.importorskip("matplotlib")  # the test extra installs it; CI runs these
Image = pytest.importorskip("PIL.Image")

from dbprocessing.report.plots import (  # noqa: E402  (needs matplotlib's numpy)
    DPI,
    OUTCOME_COLOURS,
    coverage_size,
    histogram_size,
)


def pixels(png: Path) -> tuple[tuple[int, int], Counter]:
    """The image's size and how many pixels have each colour (as #rrggbb)."""
    with Image.open(png) as image:
        rgb = image.convert("RGB")
        width, height = rgb.size
        counts = Counter({"#{:02x}{:02x}{:02x}".format(*colour): n
                          for n, colour in rgb.getcolors(maxcolors=width * height)})
        return rgb.size, counts


def inches(size: tuple[float, float]) -> tuple[int, int]:
    return round(size[0] * DPI), round(size[1] * DPI)


@pytest.fixture
def failing(hello):
    """The example mission, processed with its level-2 code broken: 5 days, L2 failed."""
    break_l2(hello)
    load_and_ingest(hello)
    assert process(hello, "-q") == 1
    return hello


# -- coveragePlot ----------------------------------------------------------------

def test_coverage_plot_colours_by_state(failing, capsys, tmp_path):
    out = tmp_path / "plots" / "coverage.png"
    assert coverage_plot.main(["-m", failing.db_url, str(out)]) == 0
    assert f"wrote {out} (20 product-date cell(s))" in capsys.readouterr().out
    size, colours = pixels(out)
    assert size == inches(coverage_size(4, 5))
    # 15 up-to-date cells (L0 a and b, L1) and 5 failed (L2), each a block of
    # hundreds of pixels; no stale, missing or queued anywhere (the legend names
    # only the states present; blocked's grey is also a shade of the text).
    assert colours[COLOURS["failed"]] > 5 * 500
    assert colours[COLOURS["up_to_date"]] > 2.5 * colours[COLOURS["failed"]]
    for state in ("stale", "missing", "queued"):
        assert colours[COLOURS[state]] == 0, state


def test_coverage_plot_one_product_and_range(failing, tmp_path):
    out = tmp_path / "l1.png"
    assert coverage_plot.main(["-m", failing.db_url, str(out), "-p", "hello_counter_L1",
                               "-s", "2025-01-02", "-e", "2025-01-03"]) == 0
    size, colours = pixels(out)
    assert size == inches(coverage_size(1, 2))
    assert colours[COLOURS["up_to_date"]] > 2 * 1000 and colours[COLOURS["failed"]] == 0


def test_coverage_plot_through_its_console_script(failing, tmp_path):
    out = tmp_path / "installed.png"
    command = shutil.which("coveragePlot") or str(Path(sys.executable).parent / "coveragePlot")
    result = subprocess.run([command, "-m", failing.db_url, str(out), "-p", "hello_counter_L2"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    size, colours = pixels(out)
    assert size == inches(coverage_size(1, 5)) and colours[COLOURS["failed"]] > 5 * 500


@pytest.mark.parametrize("argv, message", [
    (["coverage.pdf"], "must be a file ending in .png"),
    (["c.png", "-p", "no_such_product"], "no_such_product"),
    (["c.png", "-s", "2025-01-05", "-e", "2025-01-01"], "is after end"),
])
def test_coverage_plot_bad_input_writes_nothing(failing, capsys, tmp_path, monkeypatch,
                                                argv, message):
    monkeypatch.chdir(tmp_path)
    before = set(tmp_path.iterdir())
    assert coverage_plot.main(["-m", failing.db_url, *argv]) == 2
    assert message in capsys.readouterr().err
    assert set(tmp_path.iterdir()) == before


def test_coverage_plot_of_an_empty_mission(hello, capsys, tmp_path):
    from .missions import add_from_config
    assert add_from_config.main(["-m", hello.db_url, str(hello.config)]) == 0
    out = tmp_path / "empty.png"
    assert coverage_plot.main(["-m", hello.db_url, str(out)]) == 1
    assert "nothing to draw" in capsys.readouterr().err and not out.exists()


def test_coverage_plot_of_500_days(created_db, capsys, tmp_path, monkeypatch):
    """Every other day of 500 has a file: half the cells up to date, half absent."""
    monkeypatch.setenv("DBPROCESSING_LOG_DIR", str(tmp_path / "logs"))
    raw = Product("raw", "raw_{Y}{m}{d}_v{VERSION}.txt", name_plugin(
        "insp_raw.py", r"^raw_(?P<date>\d{8})_v(?P<version>\d+\.\d+\.\d+)\.txt$"))
    m = build_mission(tmp_path / "mission", created_db, [raw])
    first = datetime.date(2024, 1, 1)
    for i in range(0, 500, 2):
        m.add_incoming(f"raw_{first + datetime.timedelta(days=i):%Y%m%d}_v1.0.0.txt", "x")
    assert process_queue.main(["-i", "-m", m.db_url, "-q"]) == 0
    out = tmp_path / "long.png"
    assert coverage_plot.main(["-m", m.db_url, str(out)]) == 0
    assert "(499 product-date cell(s))" in capsys.readouterr().out  # 2024-01-01..2025-05-13
    size, colours = pixels(out)
    assert size == inches(coverage_size(1, 499)) == (2895, 215)
    # Each cell is a few pixels wide: 250 green cells and 249 absent ones.
    green, absent = colours[COLOURS["up_to_date"]], colours[COLOURS["absent"]]
    assert green > 250 * 50 and absent > 249 * 50 and 0.7 < green / absent < 1.4


# -- histogramCodes ----------------------------------------------------------------

ORIGINAL_LOG = """\
2013-09-04 21:31:00,063 - runMe:105 - INFO - Command: hello_L0toL1.py took 1.5 seconds
2013-09-04 21:32:00,063 - runMe:105 - INFO - Command: hello_L0toL1.py took 2.5 seconds
2013-09-05 01:00:00,000 - runMe:105 - INFO - Command: old_code.py took 160.020385027 seconds
2013-09-05 01:00:01,000 - DBUtils:12 - INFO - something else entirely
"""


def test_histogram_from_the_event_log(failing, capsys, tmp_path):
    out = tmp_path / "hist.png"
    assert histogram_codes.main(["-m", failing.db_url, str(out)]) == 0
    # L0toL1 ran 5 times and succeeded; L1toL2 ran 5 times and failed.
    assert (f"wrote {out} (10 run(s) of 2 code(s): 10 from the event log)"
            in capsys.readouterr().out)
    size, colours = pixels(out)
    assert size == inches(histogram_size(2))
    assert colours[OUTCOME_COLOURS["succeeded"]] > 500
    assert colours[OUTCOME_COLOURS["failed"]] > 500
    assert colours[OUTCOME_COLOURS["logged"]] == 0


def test_histogram_with_log_files_and_filters(failing, capsys, tmp_path):
    log = tmp_path / "dbprocessing_old.log"
    log.write_text(ORIGINAL_LOG)
    ours = sorted((tmp_path / "logs").glob("*.log.*"))  # our daily log: no run times
    assert ours
    out = tmp_path / "hist.png"
    assert histogram_codes.main(["-m", failing.db_url, str(out), str(log), *map(str, ours)]) == 0
    assert (f"13 run(s) of 3 code(s): 10 from the event log, 3 from {1 + len(ours)} log file(s)"
            in capsys.readouterr().out)
    size, colours = pixels(out)
    assert size == inches(histogram_size(3)) and colours[OUTCOME_COLOURS["logged"]] > 500

    # -p keeps one process: its runs, and the log lines of its codes only.
    assert histogram_codes.main(["-m", failing.db_url, str(out), str(log),
                                 "-p", "hello_L0toL1"]) == 0
    assert "7 run(s) of 1 code(s): 5 from the event log, 2 from 1 log file(s)" in \
        capsys.readouterr().out
    size, colours = pixels(out)
    assert size == inches(histogram_size(1)) and colours[OUTCOME_COLOURS["failed"]] == 0

    # --since: the event log's runs are today, the log's in 2013.
    assert histogram_codes.main(["-m", failing.db_url, str(out), str(log),
                                 "--since", "2013-09-05"]) == 0
    assert "11 run(s) of 3 code(s): 10 from the event log, 1 from 1 log file(s)" in \
        capsys.readouterr().out
    out.unlink()
    assert histogram_codes.main(["-m", failing.db_url, str(out), "--since", "2099-01-01"]) == 1
    assert "no code run times found" in capsys.readouterr().err and not out.exists()


@pytest.mark.parametrize("argv, message", [
    (["old.log"], "must be a file ending in .png"),   # the original's form
    (["h.png", "missing.log"], "cannot read log file missing.log"),
    (["h.png", "-p", "no_such_process"], "no_such_process"),
])
def test_histogram_bad_input_writes_nothing(failing, capsys, tmp_path, monkeypatch,
                                            argv, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "old.log").write_text(ORIGINAL_LOG)
    before = {p: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()}
    assert histogram_codes.main(["-m", failing.db_url, *argv]) == 2
    assert message in capsys.readouterr().err
    assert {p: p.read_bytes() for p in tmp_path.iterdir() if p.is_file()} == before


# -- without matplotlib ------------------------------------------------------------

@pytest.mark.parametrize("command", ["coveragePlot", "histogramCodes"])
def test_without_matplotlib_one_clear_message(hello, tmp_path, command):
    load_and_ingest(hello)
    hidden = tmp_path / "no-matplotlib" / "matplotlib"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text("raise ImportError('matplotlib is hidden by a test')\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(hidden.parent), os.environ.get("PYTHONPATH", "")]))
    out = tmp_path / "out.png"
    result = subprocess.run([sys.executable, str(REPO / "scripts" / f"{command}.py"),
                             "-m", hello.db_url, str(out)],
                            capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 2
    assert result.stderr == f"{command} needs matplotlib: pip install 'dbprocessing[plot]'\n"
    assert result.stdout == "" and not out.exists()
