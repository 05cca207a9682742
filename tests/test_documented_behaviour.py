"""Documented behaviours that no other test would catch if they broke; both backends.

* a queue entry whose forced bump changed while its wave ran is kept (and acted on);
* a process's ``extra_params`` reach the code's command line, filled in;
* a successful run's captured output is kept under ``rootdir/.runlogs/<day>/``;
* ``process_keywords`` fill the ingest target path of a file.
"""
from __future__ import annotations

import json
import re

from dbprocessing.cli import add_from_config, process_queue

from .missions import MissionUnderTest, Product, build_mission, files, load_and_ingest, process
from .test_keywords import plugin

L0A = "hello_counter_L0_a"


def replace_code(m: MissionUnderTest, name: str, text: str) -> None:
    """Put a code of our own in place of an example code (run with sys.executable)."""
    path = m.root / "codes" / name
    path.write_text(text)
    path.chmod(0o644)


def test_a_bump_asked_for_during_the_wave_is_kept(hello, tmp_path):
    """The first L0->L1 run asks for a forced revision bump of L0 channel A (as an
    operator's reprocessByProduct --force 2 would, mid-run): the wave must not
    consume that queue entry, so the L1 files are remade as revisions."""
    original = hello.root / "codes" / "hello_L0toL1_real.py"
    original.write_text((hello.root / "codes" / "hello_L0toL1.py").read_text())
    marker = tmp_path / "asked"
    replace_code(hello, "hello_L0toL1.py", f"""
import os, runpy, sys
if not os.path.exists({str(marker)!r}):
    open({str(marker)!r}, "w").close()
    from dbprocessing.cli import reprocess_by_product
    code = reprocess_by_product.main(["-m", {hello.db_url!r}, "--force", "2", {L0A!r}])
    if code != 0:
        sys.exit(10 + code)
sys.argv[0] = {str(original)!r}
runpy.run_path({str(original)!r}, run_name="__main__")
""")
    load_and_ingest(hello)
    assert process(hello, "-q", "-n", "1") == 0
    assert marker.exists()
    names = sorted(files(hello, "hello_L1_"))
    # Made once at 1.0.0, then remade with the forced revision bump.
    assert [n for n in names if n.endswith("_v1.0.1.txt")] == [
        f"hello_L1_2025010{d}_v1.0.1.txt" for d in range(1, 6)]
    assert hello.count("processqueue") == 0


def test_extra_params_reach_the_command_line(hello, tmp_path):
    argv_file = tmp_path / "argv.json"
    replace_code(hello, "hello_report.py", f"""
import json, sys
with open({str(argv_file)!r}, "a") as out:
    out.write(json.dumps(sys.argv[1:]) + "\\n")
""")
    text = hello.config.read_text()
    start = text.index("[process_hello_report]")
    section = text[start:].replace("extra_params =",
                                   "extra_params = --root={ROOTDIR}|--tag {MISSION} two", 1)
    if section == text[start:]:  # the example has no extra_params line there: add one
        section = section.replace("output_timebase = RUN",
                                  "output_timebase = RUN\nextra_params = --root={ROOTDIR}|"
                                  "--tag {MISSION} two", 1)
    hello.config.write_text(text[:start] + section)
    load_and_ingest(hello)
    assert process(hello, "-q") == 0
    calls = [json.loads(line) for line in argv_file.read_text().splitlines()]
    assert len(calls) == 5
    for argv in calls:
        # Each |-separated part is one argument, filled in, before the code's own
        # arguments (the report file); then the input.
        assert argv[:2] == [f"--root={hello.root.resolve()}", "--tag hello two"]
        assert argv[2].endswith("report.txt") and "hello_L2_" in argv[3]
        assert len(argv) == 4


def test_a_successful_run_keeps_its_output_under_runlogs(hello):
    replace_code(hello, "hello_report.py",
                 "import sys\nprint('report for', ' '.join(sys.argv[1:]))\n")
    load_and_ingest(hello)
    assert process(hello, "-q") == 0
    logs = sorted((hello.root / ".runlogs").glob("*/*.log"))
    report_logs = [p for p in logs if p.name.startswith("hello_report_")]
    assert len(report_logs) == 5
    for log in report_logs:
        command, output = log.read_text().split("\n", 1)
        assert "hello_report.py" in command
        assert output.startswith("report for ") and "hello_L2_" in output
    # The L0->L1 code prints nothing: no log kept for it.
    assert not [p for p in logs if p.name.startswith("hello_L1_")]
    recorded = hello.query("SELECT log_path FROM job_event WHERE state = 'succeeded' "
                           "AND log_path IS NOT NULL")
    assert sorted(r[0] for r in recorded) == sorted(str(p) for p in report_logs)


def test_process_keywords_fill_the_ingest_path(tmp_path, created_db):
    regex = r"raw_(?P<nnn>\d{3})_(?P<date>\d{8})_v(?P<version>\d+\.\d+\.\d+)\.dat$"
    product = Product("raw", "raw_{nnn}_{Y}{m}{d}_v{VERSION}.dat",
                      plugin("insp_raw.py", regex), relative_path="raw/{{nnn}}/{{Y}}",
                      arguments="keywords=yes")
    m = build_mission(tmp_path / "m", created_db, [product])
    assert add_from_config.main(["-m", created_db, str(m.config)]) == 0
    m.add_incoming("raw_007_20250102_v1.0.0.dat", "x\n")
    m.add_incoming("raw_042_20250103_v1.0.0.dat", "y\n")
    assert process_queue.main(["-i", "-m", created_db, "-q"]) == 0
    assert (m.root / "raw/007/2025/raw_007_20250102_v1.0.0.dat").read_text() == "x\n"
    assert (m.root / "raw/042/2025/raw_042_20250103_v1.0.0.dat").read_text() == "y\n"
    assert sorted(r[0] for r in m.query("SELECT process_keywords FROM file")) == [
        "nnn=007", "nnn=042"]


def test_runlogs_that_cannot_be_written_do_not_undo_the_run(hello, tmp_path, monkeypatch):
    """A file where .runlogs should be: the runs succeed and are recorded (it stopped
    -p before their commit), what the code printed goes to the log."""
    monkeypatch.setenv("DBPROCESSING_LOG_DIR", str(tmp_path / "logs"))
    replace_code(hello, "hello_report.py", "import sys\nprint('report for', sys.argv[-1])\n")
    load_and_ingest(hello)
    (hello.root / ".runlogs").write_text("in the way\n")
    assert process(hello, "-q") == 0
    assert len(files(hello, "hello_L2_")) == 5
    assert hello.query("SELECT count(*) FROM job_event WHERE state = 'succeeded' "
                       "AND log_path IS NULL")[0][0] == 15
    log = "".join(p.read_text() for p in (tmp_path / "logs").iterdir())
    assert "could not keep the output" in log and "report for" in log


def test_a_code_printing_without_end_keeps_the_start_and_the_end(hello):
    """A code that prints 8 MiB and succeeds, and one that prints until its timeout:
    each keeps its first and last MiB of output (the controller holds no more),
    with how much was left out between."""
    replace_code(hello, "hello_report.py",
                 "import sys\nsys.stdout.write('first line\\n' + 'x' * (8 << 20))\n"
                 "print('\\nlast line')\n")
    replace_code(hello, "hello_L1toL2.py",
                 "import sys\nprint('started')\nwhile True:\n    sys.stdout.write('y' * 65536)\n")
    hello.config.write_text(hello.config.read_text().replace("code_timeout = 60",
                                                             "code_timeout = 2"))
    load_and_ingest(hello)
    # L1 made, every L2 timed out (retried at the next run): no report yet.
    assert process(hello, "-q", "--retry-after", "0") == 1
    prob = (hello.errordir() / "hello_L2_20250102_v1.0.0.txt.prob").read_text()
    assert "timed out after 2 s" in prob.splitlines()[1]
    assert prob.splitlines()[2] == "started"
    assert 2 << 20 < len(prob) < (2 << 20) + 4096
    assert re.search(r"\n\[\.\.\. \d+ bytes of output left out \.\.\.\]\ny", prob)
    replace_code(hello, "hello_L1toL2.py", "import sys\nopen(sys.argv[-1], 'w').write('x')\n")
    assert process(hello, "-q") == 0  # the failed L2 again, then the report
    (log, *_) = sorted((hello.root / ".runlogs").glob("*/hello_report_*.log"))
    text = log.read_text()
    command, output = text.split("\n", 1)
    assert output.startswith("first line\n")
    assert output.endswith("x\nlast line\n")
    assert f"[... {8 * (1 << 20) + 11 + 11 - (2 << 20)} bytes of output left out ...]" \
        in output
    assert len(output) < (2 << 20) + 100
