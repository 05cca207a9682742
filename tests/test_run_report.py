"""ProcessQueue -r: an HTML report of the run, from the event log."""
from __future__ import annotations

import re

from dbprocessing.cli import process_queue

from .missions import BROKEN, load_and_ingest


def test_report_of_an_ingest_and_a_processing_run(hello, tmp_path, capsys):
    (hello.root / "codes" / "hello_L1toL2.py").write_text(BROKEN)
    from dbprocessing.cli import add_from_config
    assert add_from_config.main(["-m", hello.db_url, str(hello.config)]) == 0
    for path in sorted((hello.root / "data").iterdir()):
        hello.add_incoming(path.name, path.read_bytes())
    hello.add_incoming("stray.txt")
    page_path = tmp_path / "reports" / "ingest.html"
    assert process_queue.main(["-i", "-m", hello.db_url, "-r", str(page_path)]) == 1
    page = page_path.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<h1>hello: ProcessQueue run" in page
    assert "ingested 10 file(s), rejected 1" in page
    assert "Incoming files (11)" in page and "Jobs" not in page
    # The problem comes first, with its reason.
    rows = re.findall(r'<tr class="(\w+)">', page)
    assert rows[0] == "rejected" and rows.count("accepted") == 10
    assert "stray.txt" in page and "no product claims it" in page
    assert "Nominal Exit; 1 file(s) rejected" in page

    # The original's spelling: -r with no file name; the page goes to the log directory.
    capsys.readouterr()
    assert process_queue.main(["-r", "-p", "-m", hello.db_url, "-v"]) == 1
    out = capsys.readouterr().out
    (written,) = re.findall(r"^report: (.+)$", out, re.M)
    assert written.startswith(str(tmp_path / "logs" / "ProcessQueue_"))
    page = open(written).read()
    rows = re.findall(r'<tr class="(\w+)">', page)
    assert rows == ["failed"] * 5 + ["succeeded"] * 5, rows
    assert "hello_L2_20250102_v1.0.0.txt.prob" in page and "exited with status 3" in page
    assert "made 5 file(s), 0 RUN-process run(s), 5 failed" in page
    assert "Incoming files" not in page and "Jobs (10)" in page


def test_report_with_dry_run_is_a_usage_error(hello, tmp_path, capsys):
    load_and_ingest(hello)
    queued = hello.count("processqueue")
    assert process_queue.main(["-p", "-d", "-r", str(tmp_path / "r.html"),
                               "-m", hello.db_url]) == 2
    assert "a dry run (-d) has nothing to report" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists() and hello.count("processqueue") == queued


def test_unwritable_report_is_one_line_and_exit_1(hello, tmp_path, capsys):
    load_and_ingest(hello)
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory\n")
    capsys.readouterr()
    assert process_queue.main(["-p", "-m", hello.db_url, "-r", str(blocker / "r.html")]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"ProcessQueue: error: could not write the report {blocker}")
    assert len(err.splitlines()) == 1
    assert hello.count("processqueue") == 0  # the work itself was done
