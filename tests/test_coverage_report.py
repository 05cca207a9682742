"""htmlCoverage: the page is rendered by a real headless Chromium and checked.

The DOM after the page's script ran (--dump-dom) must carry the summary and
legend counts the script computes, and a screenshot must show the colours of
the states in the table.  CI installs Debian's chromium (.ci/run) and sets
DBPROCESSING_REQUIRE_BROWSER=1, so there the browser tests cannot be skipped.
"""
from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path

import pytest

from dbprocessing.cli import html_coverage
from dbprocessing.report.coverage import COLOURS

from .missions import break_l2, load_and_ingest, process

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
