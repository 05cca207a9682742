"""htmlCoverage: the page is rendered by a real headless Chromium and checked;
the original's positional OUTBASE and -d/--deltadays; a 500-day page's structure.

The DOM after the page's script ran (--dump-dom) must carry the summary and
legend counts the script computes, and a screenshot must show the colours of
the states in the table.  CI installs Debian's chromium (.ci/run) and sets
DBPROCESSING_REQUIRE_BROWSER=1, so there the browser tests cannot be skipped.
"""
from __future__ import annotations

import datetime
import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from dbprocessing.cli import html_coverage, process_queue
from dbprocessing.report.coverage import COLOURS

from .missions import (
    Product,
    break_l2,
    build_mission,
    load_and_ingest,
    name_plugin,
    process,
)

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def chromium(*args: str) -> subprocess.CompletedProcess:
    if CHROMIUM is None:
        if os.environ.get("DBPROCESSING_REQUIRE_BROWSER"):
            pytest.fail("chromium is not installed (.ci/run installs Debian's chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    return subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                           "--disable-dev-shm-usage", *args],
                          capture_output=True, text=True, timeout=120)


def read_png(path: Path) -> tuple[int, int, int, bytes]:
    """Width, height, bytes per pixel and the unfiltered pixel rows of an 8-bit PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            chunks.append(body)
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and interlace == 0 and colour in (2, 6)
    bpp = 3 if colour == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * bpp
    out = bytearray()
    previous = bytearray(stride)
    for y in range(height):
        kind = raw[y * (stride + 1)]
        row = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = row[i - bpp] if i >= bpp else 0
            up = previous[i]
            corner = previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                row[i] = (row[i] + left) & 255
            elif kind == 2:
                row[i] = (row[i] + up) & 255
            elif kind == 3:
                row[i] = (row[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                row[i] = (row[i] + (left if pa <= pb and pa <= pc else
                                    up if pb <= pc else corner)) & 255
        out += row
        previous = row
    return width, height, bpp, bytes(out)


def colour_count(png: Path, hex_colour: str) -> int:
    width, height, bpp, pixels = read_png(png)
    target = bytes.fromhex(hex_colour.lstrip("#"))
    return sum(1 for i in range(0, len(pixels), bpp) if pixels[i:i + 3] == target)


@pytest.mark.slow
def test_coverage_page_renders_in_chromium(hello, capsys, tmp_path):
    break_l2(hello)
    load_and_ingest(hello)
    assert process(hello, "-q") == 1
    page = tmp_path / "report" / "coverage.html"
    assert html_coverage.main(["-m", hello.db_url, "-o", str(page)]) == 0
    assert "20 product-date cell(s)" in capsys.readouterr().out  # 4 products x 5 days

    dom = chromium("--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr
    summary = re.search(r'id="summary">([^<]*)<', dom.stdout).group(1)
    assert summary == "5 date(s) need attention"
    legend = dict(re.findall(r'data-state="(\w+)">\w+: (\d+)<', dom.stdout))
    assert legend == {"up_to_date": "15", "stale": "0", "missing": "0", "blocked": "0",
                      "failed": "5", "queued": "0", "absent": "0"}

    shot = tmp_path / "coverage.png"
    result = chromium("--window-size=1000,500", f"--screenshot={shot}", page.as_uri())
    assert result.returncode == 0 and shot.is_file(), result.stderr
    failed, fine = colour_count(shot, COLOURS["failed"]), colour_count(shot, COLOURS["up_to_date"])
    legend_only = colour_count(shot, COLOURS["stale"])  # no stale cell: its legend entry
    assert 0 < legend_only
    # Beyond their legend entries, seven failed cells are red and seventeen green.
    assert failed - legend_only > 5 * 200 and fine - legend_only > 15 * 200


def test_coverage_page_all_up_to_date_and_bad_output(hello, capsys, tmp_path):
    load_and_ingest(hello)
    assert process(hello, "-q") == 0
    page = tmp_path / "ok.html"
    assert html_coverage.main(["-m", hello.db_url, "-o", str(page), "-p", "hello_counter_L1",
                               "-s", "2025-01-02", "-e", "2025-01-03"]) == 0
    html = page.read_text()
    assert html.count('class="state up_to_date"') == 2
    dom = chromium("--dump-dom", page.as_uri())
    assert 'id="summary">all up to date<' in dom.stdout
    assert html_coverage.main(["-m", hello.db_url, "-o", str(tmp_path)]) == 2
    assert "is a directory" in capsys.readouterr().err


# -- the original's form: htmlCoverage -m DB [-d N] OUTBASE ------------------------

def dates_of(page: Path) -> list[str]:
    return re.findall(r'<th class="date"[^>]* title="([\d-]+)"', page.read_text())


def test_original_positional_outbase_and_deltadays(hello, capsys, tmp_path):
    load_and_ingest(hello)
    assert process(hello, "-q") == 0
    base = tmp_path / "pages" / "cov"
    # The original's default: 3 days past the last date with data, one page per satellite.
    assert html_coverage.main(["-m", hello.db_url, str(base)]) == 0
    page = tmp_path / "pages" / "cov_hello-sat.html"
    assert f"wrote {page} (32 product-date cell(s))" in capsys.readouterr().out  # 4 x 8
    assert dates_of(page)[0] == "2025-01-01" and dates_of(page)[-1] == "2025-01-08"
    html = page.read_text()
    # Past the data: L0 has no file (absent), L1/L2 cannot be built (blocked).
    assert 'title="hello_counter_L0_a 2025-01-07: absent' in html
    assert 'title="hello_counter_L1 2025-01-07: blocked' in html
    assert html.count('class="state up_to_date"') == 20

    assert html_coverage.main(["-m", hello.db_url, "--deltadays", "1", str(base)]) == 0
    assert dates_of(page)[-1] == "2025-01-06"
    # -d with today's -o form; -p keeps the named products only.
    single = tmp_path / "one.html"
    assert html_coverage.main(["-m", hello.db_url, "-o", str(single), "-d", "2",
                               "-p", "hello_counter_L1"]) == 0
    assert dates_of(single)[-1] == "2025-01-07" and len(dates_of(single)) == 7
    assert single.read_text().count('<th class="product">') == 1  # one product row
    # -o without -d: exactly the data's span, as before.
    assert html_coverage.main(["-m", hello.db_url, "-o", str(single)]) == 0
    assert dates_of(single)[-1] == "2025-01-05"


@pytest.mark.parametrize("argv, message", [
    (["-o", "x.html", "base"], "not both"),
    ([], "give the output"),
    (["-o", "x.html", "-d", "2", "-e", "2025-01-03"], "give -e or -d, not both"),
    (["-o", "x.html", "-d", "-1"], "0 or more"),
    (["-p", "no_such_product", "base"], "no_such_product"),
])
def test_bad_output_arguments(hello, capsys, tmp_path, monkeypatch, argv, message):
    load_and_ingest(hello)
    monkeypatch.chdir(tmp_path)
    before = set(tmp_path.iterdir())
    assert html_coverage.main(["-m", hello.db_url, *argv]) == 2
    assert message in capsys.readouterr().err
    assert set(tmp_path.iterdir()) == before


# -- at scale: 500 days ------------------------------------------------------------

RAW = Product("raw", "raw_{Y}{m}{d}_v{VERSION}.txt", name_plugin(
    "insp_raw.py", r"^raw_(?P<date>\d{8})_v(?P<version>\d+\.\d+\.\d+)\.txt$"))
FIRST = datetime.date(2024, 1, 1)


def test_coverage_page_of_500_days_stays_readable(created_db, tmp_path, monkeypatch):
    monkeypatch.setenv("DBPROCESSING_LOG_DIR", str(tmp_path / "logs"))
    m = build_mission(tmp_path / "mission", created_db, [RAW])
    for i in range(500):
        m.add_incoming(f"raw_{FIRST + datetime.timedelta(days=i):%Y%m%d}_v1.0.0.txt", "x")
    assert process_queue.main(["-i", "-m", m.db_url, "-q"]) == 0
    page = tmp_path / "coverage.html"
    assert html_coverage.main(["-m", m.db_url, "-o", str(page)]) == 0
    html = page.read_text()

    dates = dates_of(page)
    assert len(dates) == 500 and dates[0] == "2024-01-01" and dates[-1] == "2025-05-14"
    # One month header per month, spanning exactly its days.
    months = re.findall(r'<th class="month" colspan="(\d+)">(\d{4}-\d\d)</th>', html)
    assert [name for _, name in months][:3] == ["2024-01", "2024-02", "2024-03"]
    assert len(months) == 17 and months[-1] == ("14", "2025-05")
    assert dict((n, int(c)) for c, n in months)["2024-02"] == 29
    assert sum(int(c) for c, _ in months) == 500
    # Column headers are days of the month; each month's first column is marked.
    assert len(re.findall(r" data-month-start[ >]", html)) == 17 * 2  # header, cell
    # Product names stay in view: the first column is sticky inside a scrolling box.
    style = re.search(r"th\.product \{([^}]*)\}", html).group(1)
    assert "position: sticky" in style and "left: 0" in style
    assert '<div class="scroll">' in html and '<th class="product">raw</th>' in html
    stamp = re.search(r'<p class="generated">generated (\S+ \S+) UTC</p>', html).group(1)
    generated = datetime.datetime.fromisoformat(stamp)
    assert abs((datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
                - generated).total_seconds()) < 600
    assert html.count('class="state up_to_date"') == 500


def region_count(png: Path, hex_colour: str, xs: range, ys: range) -> int:
    """Pixels of *hex_colour* in the columns *xs* and rows *ys*."""
    width, height, bpp, pixels = read_png(png)
    target = bytes.fromhex(hex_colour.lstrip("#"))
    return sum(1 for y in ys for x in xs
               if pixels[(y * width + x) * bpp:(y * width + x) * bpp + 3] == target)


BELOW_LEGEND = range(175, 400)  # the table, in a 1000x400 window


@pytest.mark.slow
def test_500_day_page_in_chromium(created_db, tmp_path, monkeypatch):
    monkeypatch.setenv("DBPROCESSING_LOG_DIR", str(tmp_path / "logs"))
    m = build_mission(tmp_path / "mission", created_db, [RAW])
    for i in range(0, 500, 2):  # every other day: the gaps are "absent"
        m.add_incoming(f"raw_{FIRST + datetime.timedelta(days=i):%Y%m%d}_v1.0.0.txt", "x")
    assert process_queue.main(["-i", "-m", m.db_url, "-q"]) == 0
    page = tmp_path / "coverage.html"
    # Two months before the data: the page's first screenful is all absent cells.
    assert html_coverage.main(["-m", m.db_url, "-o", str(page), "-s", "2023-11-01"]) == 0
    dom = chromium("--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr
    summary = re.search(r'id="summary">([^<]*)<', dom.stdout).group(1)
    assert summary == "nothing to rebuild; 310 date(s) without data"  # 61 + 249

    start = tmp_path / "start.png"
    assert chromium("--window-size=1000,400", f"--screenshot={start}",
                    page.as_uri()).returncode == 0
    assert region_count(start, COLOURS["absent"], range(200, 1000), BELOW_LEGEND) > 10 * 200
    assert region_count(start, COLOURS["up_to_date"], range(1000), BELOW_LEGEND) == 0
    # Scrolled to the last date: its green cells are in view, and the product
    # column stays at the left edge over them (no cell shows through it).
    end = tmp_path / "end.png"
    assert chromium("--window-size=1000,400", f"--screenshot={end}",
                    page.as_uri() + "#d2025-05-13").returncode == 0
    assert region_count(end, COLOURS["up_to_date"], range(1000), BELOW_LEGEND) > 10 * 200
    # (A cell is some 700 pixels; a stray few are the anti-aliased product name.)
    table_rows = range(175, 245)  # above the scroll bar
    for state in ("up_to_date", "absent"):
        assert region_count(end, COLOURS[state], range(18, 60), table_rows) < 20


def test_summary_never_says_all_up_to_date_beside_blocked_dates(hello, tmp_path):
    (hello.root / "data" / "hello_a_L0_20250103_v1.0.0.txt").unlink()
    load_and_ingest(hello)
    assert process(hello, "-q") == 0
    page = tmp_path / "blocked.html"
    assert html_coverage.main(["-m", hello.db_url, "-o", str(page)]) == 0
    html = page.read_text()
    assert html.count('class="state blocked"') == 2  # L1 and L2 of 2025-01-03
    assert html.count('class="state absent"') == 1   # L0_a of 2025-01-03
    dom = chromium("--dump-dom", page.as_uri())
    summary = re.search(r'id="summary">([^<]*)<', dom.stdout).group(1)
    assert summary == ("nothing to rebuild; 2 date(s) blocked (an input is missing); "
                       "1 date(s) without data")
