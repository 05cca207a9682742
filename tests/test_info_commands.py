"""printInfo, printRequired, compareDB and testInspector on the example mission, both
backends, through main([...]); and each installed console script once."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from dbprocessing.cli import (
    compare_db,
    create_db,
    print_info,
    print_required,
    purge_file_from_db,
    test_inspector,
)

from .missions import MissionUnderTest, every_row, load_and_ingest, process, run_main

L0A, L0B, L1, L2 = ("hello_counter_L0_a", "hello_counter_L0_b", "hello_counter_L1",
                    "hello_counter_L2")
DAY1 = "hello_a_L0_20250101_v1.0.0.txt"


def table(out: str) -> list[list[str]]:
    """The body rows of a printInfo table (header and count line dropped)."""
    return [line.split() for line in out.splitlines()[1:-1]]


# -- printInfo --------------------------------------------------------------------

def test_print_info_lists_every_kind(made, capsys):
    before = every_row(made)
    code, out, _ = run_main(capsys, print_info.main, made.db_url, "product")
    assert code == 0 and out.splitlines()[0].split() == ["ID", "LEVEL", "NAME", "PATH", "FORMAT"]
    assert [r[2] for r in table(out)] == [L0A, L0B, L1, L2]
    assert table(out)[2][3] == str(made.root / "L1" / "{Y}")
    assert out.splitlines()[-1] == "4 product row(s)"

    code, out, _ = run_main(capsys, print_info.main, made.db_url, "PROCESS")
    assert code == 0
    assert {r[1]: r[2:4] for r in table(out)} == {
        "hello_L0toL1": [L1, "DAILY"], "hello_L1toL2": [L2, "FILE"],
        "hello_report": ["(none)", "RUN"]}
    assert f"{L0B} (optional)" in out

    code, out, _ = run_main(capsys, print_info.main, made.db_url, "Code")
    assert code == 0
    assert [(r[1], r[2], r[3], r[4]) for r in table(out)] == [
        ("hello_L0toL1.py", "1.0.0", "hello_L0toL1", "yes"),
        ("hello_L1toL2.py", "1.0.0", "hello_L1toL2", "yes"),
        ("hello_report.py", "1.0.0", "hello_report", "yes")]

    code, out, _ = run_main(capsys, print_info.main, made.db_url, "mission")
    assert code == 0 and table(out)[0][1:3] == ["hello", str(made.root)]

    code, out, _ = run_main(capsys, print_info.main, made.db_url, "File")
    assert code == 0 and len(table(out)) == 20 and out.splitlines()[-1] == "20 file row(s)"
    assert every_row(made) == before


def test_print_info_files_by_product_and_dates(made, capsys):
    code, out, _ = run_main(capsys, print_info.main, made.db_url, "file", "-p", L1,
                       "-s", "20250102", "-e", "2025-01-03")
    assert code == 0
    assert [(r[1], r[2], r[3], r[4], r[5], r[6]) for r in table(out)] == [
        ("hello_L1_20250102_v1.0.0.txt", L1, "2025-01-02", "1.0.0", "yes", "yes"),
        ("hello_L1_20250103_v1.0.0.txt", L1, "2025-01-03", "1.0.0", "yes", "yes")]
    (l0a_id,) = made.query("SELECT product_id FROM product WHERE product_name = :n", n=L0A)[0]
    code, out, _ = run_main(capsys, print_info.main, made.db_url, "File", "-p", str(l0a_id),
                       "-e", "20250101")
    assert code == 0 and [r[1] for r in table(out)] == [DAY1]


@pytest.mark.parametrize("argv, message", [
    (["File", "-p", "no_such_product"], "no product 'no_such_product'"),
    (["Code", "-p", "hello_counter_L1"], "-p narrows File and Product, not Code"),
    (["Process", "-s", "20250101"], "-s/-e narrow File, not Process"),
    (["File", "-s", "20250103", "-e", "20250101"], "is after end"),
])
def test_print_info_bad_input_is_named(made, capsys, argv, message):
    before = every_row(made)
    code, out, err = run_main(capsys, print_info.main, made.db_url, *argv)
    assert code == 2 and message in err and out == ""
    assert every_row(made) == before


def test_print_info_unknown_kind_exits_2(made, capsys):
    with pytest.raises(SystemExit) as exit_info:
        print_info.main([made.db_url, "Files"])
    assert exit_info.value.code == 2 and "invalid choice" in capsys.readouterr().err


# -- printRequired -----------------------------------------------------------------

def test_print_required_inputs_windows_and_codes(made, capsys):
    ids = dict(made.query("SELECT product_name, product_id FROM product"))
    pids = dict(made.query("SELECT process_name, process_id FROM process"))
    code, out, _ = run_main(capsys, print_required.main, "-m", made.db_url, "hello_L0toL1",
                       str(pids["hello_report"]))
    assert code == 0
    lines = out.splitlines()
    first = lines[:lines.index(f"hello_report (process {pids['hello_report']})")]
    assert first[:3] == [f"hello_L0toL1 (process {pids['hello_L0toL1']})",
                         f"  output:   {L1}", "  timebase: DAILY"]
    required = first.index("  required inputs:")
    optional = first.index("  optional inputs:")
    assert first[required + 1].split() == [str(ids[L0A]), L0A, "(window:", "1", "day(s)",
                                           "before,", "1", "after)"]
    assert first[optional + 1].split() == [str(ids[L0B]), L0B]
    assert "hello_L0toL1.py 1.0.0 active, valid 2020-01-01 to 2030-12-31" in first[-1]
    assert "  output:   (none: RUN process)" in lines
    assert lines[-1].split() == [str(i) for i in sorted((ids[L0A], ids[L2]))]


def test_print_required_unknown_process_exits_2(made, capsys):
    code, out, err = run_main(capsys, print_required.main, "-m", made.db_url, "hello_L0toL1",
                         "no_such_process")
    assert code == 2 and out == ""
    assert "no process 'no_such_process'" in err and "hello_L0toL1" in err


# -- compareDB ---------------------------------------------------------------------

@pytest.fixture
def twin(made, tmp_path):
    """The same mission made again in a SQLite database of its own (another root)."""
    root = tmp_path / "twin"
    shutil.copytree(made.root / "data", root / "data")
    for part in ("codes", "inspectors"):
        shutil.copytree(made.root / part, root / part)
    shutil.copy(made.config, root / "hello.conf")
    db = root / "twin.sqlite"
    assert create_db.main([str(db)]) == 0
    other = MissionUnderTest(root, f"sqlite:///{db}", root / "hello.conf")
    load_and_ingest(other)
    assert process(other, "-q") == 0
    return other


def test_compare_same_mission_exits_0(made, twin, capsys):
    code, out, _ = run_main(capsys, compare_db.main, "-m", made.db_url, "-m", twin.db_url)
    assert code == 0, out
    assert out.splitlines()[-1] == "no differences"


def test_compare_names_every_difference(made, twin, capsys):
    assert purge_file_from_db.main(["-m", twin.db_url, "hello_L2_20250105_v1.0.0.txt"]) == 0
    engine = twin.engine()
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE file SET shasum = 'x' WHERE filename = :n"), {"n": DAY1})
        conn.execute(sa.text("UPDATE productprocesslink SET tomorrow = 2 WHERE tomorrow = 1"))
        conn.execute(sa.text("DELETE FROM filefilelink WHERE resulting_file = (SELECT file_id "
                             "FROM file WHERE filename = 'hello_L1_20250102_v1.0.0.txt') "
                             "AND source_file = (SELECT file_id FROM file WHERE filename = "
                             f"'{DAY1}')"))
    engine.dispose()
    before = every_row(made), every_row(twin)
    code, out, _ = run_main(capsys, compare_db.main, "-m", made.db_url, "-m", twin.db_url)
    assert code == 1
    lines = out.splitlines()
    assert f"file {DAY1}: shasum is " in out and "in the first, x in the second" in out
    assert "file hello_L2_20250105_v1.0.0.txt: only in the first database" in lines
    assert (f"productprocesslink hello_L0toL1 {L0A}: tomorrow is 1 in the first, 2 in the "
            f"second") in lines
    assert (f"filefilelink hello_L1_20250102_v1.0.0.txt from {DAY1}: only in the first "
            f"database") in lines
    assert ("filecodelink hello_L2_20250105_v1.0.0.txt by hello_L1toL2 hello_L1toL2.py "
            "1.0.0: only in the first database") in lines
    assert ("filefilelink hello_L2_20250105_v1.0.0.txt from hello_L1_20250105_v1.0.0.txt: "
            "only in the first database") in lines
    assert lines[-1] == "6 difference(s)"
    code, out, _ = run_main(capsys, compare_db.main, "-m", twin.db_url, "-m", made.db_url)
    assert code == 1 and "hello_L2_20250105_v1.0.0.txt: only in the second database" in out
    assert (every_row(made), every_row(twin)) == before


def test_compare_needs_two_existing_databases(made, capsys, tmp_path):
    code, _, err = run_main(capsys, compare_db.main, "-m", made.db_url)
    assert code == 2 and "give exactly two databases" in err
    missing = tmp_path / "nowhere" / "none.sqlite"
    code, _, err = run_main(capsys, compare_db.main, "-m", made.db_url, "-m", str(missing))
    assert code == 2 and "none.sqlite" in err


# -- testInspector -----------------------------------------------------------------

RAISES = '''
from dbprocessing import inspector


class Inspector(inspector.inspector):
    code_name = 'raises.py'

    def inspect(self, kwargs):
        raise ValueError('boom: ' + kwargs.get('why', 'no reason'))
'''

BACKWARDS = '''
import datetime

from dbprocessing import inspector, Version


class Inspector(inspector.inspector):
    code_name = 'backwards.py'

    def inspect(self, kwargs):
        day = datetime.datetime(2025, 1, 1)
        self.diskfile.params['utc_file_date'] = day.date()
        self.diskfile.params['utc_start_time'] = day + datetime.timedelta(days=1)
        self.diskfile.params['utc_stop_time'] = day
        self.diskfile.params['version'] = Version.Version(1, 0, 0)
        self.diskfile.params['process_keywords'] = 'nnn=%s' % kwargs['nnn']
        return True
'''


def inspect_args(m: MissionUnderTest, plugin: Path | str, product: str,
                 name: str = DAY1) -> list[str]:
    return ["-m", m.db_url, "-f", str(m.root / "data" / name), "-i", str(plugin),
            "-p", product]


def test_inspector_claims_and_shows_what_it_filled_in(made, capsys):
    before = every_row(made)
    plugin = made.root / "inspectors" / "hello_L0.py"
    code, out, _ = run_main(capsys, test_inspector.main, *inspect_args(made, plugin, L0A))
    assert code == 0
    fields = {line.split()[0]: " ".join(line.split()[1:]) for line in out.splitlines()
              if line.startswith("  ")}
    assert fields["utc_file_date"] == "2025-01-01"
    assert fields["utc_start_time"] == "2025-01-01 00:00:00"
    assert fields["utc_stop_time"] == "2025-01-02 00:00:00"
    assert fields["version"] == "1.0.0" and fields["process_keywords"] == "-"
    (shasum,) = made.query("SELECT shasum FROM file WHERE filename = :n", n=DAY1)[0]
    assert fields["shasum"] == shasum and fields["data_level"] == "0.0"
    assert "arguments: prefix=hello_a channel=a" in out  # the recorded ones, as ingest
    assert "the name matches the product's format: yes" in out
    assert every_row(made) == before


def test_inspector_not_mine_for_another_product(made, capsys):
    plugin = made.root / "inspectors" / "hello_L0.py"
    code, out, _ = run_main(capsys, test_inspector.main, *inspect_args(made, plugin, L0B))
    assert code == 1
    assert "not mine: the inspector returned None ('not mine')" in out
    assert "the name matches the product's format: no" in out


def test_inspector_arguments_replace_the_recorded_ones(made, capsys, tmp_path):
    plugin = tmp_path / "backwards.py"
    plugin.write_text(BACKWARDS)
    code, out, _ = run_main(capsys, test_inspector.main, *inspect_args(made, plugin, L0A),
                       "-a", "nnn=007")
    assert code == 1  # it claims the file, but its start is after its stop: as ingest says
    assert "not mine: the inspector claimed it but utc_start_time is after utc_stop_time" \
        in out
    assert "arguments: nnn=007" in out


def test_inspector_that_raises_shows_its_traceback(made, capsys, tmp_path):
    plugin = tmp_path / "raises.py"
    plugin.write_text(RAISES)
    code, out, _ = run_main(capsys, test_inspector.main, *inspect_args(made, plugin, L0A),
                       "-a", "why=testing")
    assert code == 1
    assert "not mine: the inspector raised" in out
    assert "Traceback (most recent call last)" in out and "ValueError: boom: testing" in out
    assert str(plugin) in out


def test_inspector_that_cannot_be_imported(made, capsys, tmp_path):
    plugin = tmp_path / "broken.py"
    plugin.write_text("import no_such_module_anywhere\n")
    code, out, _ = run_main(capsys, test_inspector.main, *inspect_args(made, plugin, L0A))
    assert code == 1 and "could not be loaded" in out
    assert "ModuleNotFoundError" in out
    plugin.write_text("x = 1\n")
    code, out, _ = run_main(capsys, test_inspector.main, *inspect_args(made, plugin, L0A))
    assert code == 1 and "defines no class Inspector" in out


@pytest.mark.parametrize("change, message", [
    ({"file": "missing.txt"}, "no file"),
    ({"plugin": "missing.py"}, "no inspector file"),
    ({"product": "no_such_product"}, "no product 'no_such_product'"),
])
def test_inspector_bad_arguments_exit_2(made, capsys, change, message):
    before = every_row(made)
    plugin = made.root / "inspectors" / change.get("plugin", "hello_L0.py")
    argv = inspect_args(made, plugin, change.get("product", L0A), change.get("file", DAY1))
    code, out, err = run_main(capsys, test_inspector.main, *argv)
    assert code == 2 and message in err and out == ""
    assert every_row(made) == before


# -- the installed commands ----------------------------------------------------------

def installed(command: str) -> str:
    return shutil.which(command) or str(Path(sys.executable).parent / command)


def test_installed_commands_run(made, tmp_path):
    plugin = made.root / "inspectors" / "hello_L0.py"
    runs = {
        "printInfo": ([made.db_url, "file", "-p", L2], 0, "5 file row(s)"),
        "printRequired": (["-m", made.db_url, "hello_L1toL2"], 0, "hello_L1toL2.py 1.0.0"),
        "compareDB": (["-m", made.db_url, "-m", made.db_url], 0, "no differences"),
        "testInspector": (inspect_args(made, plugin, L0A), 0, "version             1.0.0"),
        "missingFiles": (["-m", made.db_url], 0, "no missing files"),
        "missingFilesByProduct": (["-m", made.db_url, L1, "--parent"], 0,
                                  f"no missing files ({L1})"),
    }
    for command, (argv, code, text) in runs.items():
        result = subprocess.run([installed(command), *argv], capture_output=True, text=True,
                                timeout=120, cwd=tmp_path)
        assert result.returncode == code, (command, result.stderr)
        assert text in result.stdout, (command, result.stdout)
    result = subprocess.run([installed("printRequired"), "-m", made.db_url, "nothing"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "no process 'nothing'" in result.stderr
