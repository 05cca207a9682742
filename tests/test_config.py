"""Mission config files: addFromConfig and configFromDB on real databases."""
from __future__ import annotations

import datetime
import re
import subprocess
import sys

import pytest
import sqlalchemy as sa

from dbprocessing.cli import add_from_config, config_from_db
from dbprocessing.db.models import Base
from dbprocessing.errors import ConfigError
from dbprocessing.mission.config import parse_date

from .missions import hello_header

TABLES = ["mission", "satellite", "instrument", "product", "instrumentproductlink",
          "inspector", "process", "productprocesslink", "code"]


def snapshot(engine) -> dict[str, list[tuple]]:
    """Every row of the config tables, ids left out, in a comparable order."""
    out = {}
    with engine.connect() as conn:
        names = {r.product_id: r.product_name for r in conn.execute(
            sa.text("SELECT product_id, product_name FROM product"))}
        procs = {r.process_id: r.process_name for r in conn.execute(
            sa.text("SELECT process_id, process_name FROM process"))}
        for name in TABLES:
            table = Base.metadata.tables[name]
            rows = []
            for row in conn.execute(sa.select(table)):
                data = dict(row._mapping)
                for key in ("product", "product_id", "output_product", "input_product_id"):
                    if key in data and data[key] is not None:
                        data[key] = names[data[key]]
                if "process_id" in data:
                    data["process_id"] = procs[data["process_id"]]
                for key in [k for k in data if k.endswith("_id") and k not in (
                        "product_id", "input_product_id", "process_id")]:
                    data.pop(key)
                rows.append(tuple(sorted((k, str(v)) for k, v in data.items())))
            out[name] = sorted(rows)
    return out


def count_rows(engine) -> int:
    with engine.connect() as conn:
        return sum(conn.execute(sa.text(f'SELECT count(*) FROM "{t}"')).scalar()
                   for t in TABLES)


def test_load_example_then_reload_changes_nothing(created_db, example_dir, engine_for, capsys):
    conf = str(example_dir / "hello.conf")
    assert add_from_config.main(["-m", created_db, conf]) == 0
    out = capsys.readouterr().out
    assert "added product 'hello_counter_L1'" in out
    engine = engine_for(created_db)
    first = snapshot(engine)
    assert len(first["product"]) == 4 and len(first["process"]) == 3
    assert len(first["productprocesslink"]) == 4 and len(first["code"]) == 3
    with engine.connect() as conn:
        mission = conn.execute(sa.text("SELECT * FROM mission")).one()
        sat = conn.execute(sa.text("SELECT satellite_name FROM satellite")).scalar()
        link = conn.execute(sa.text(
            "SELECT yesterday, tomorrow, optional FROM productprocesslink l JOIN product p "
            "ON p.product_id = l.input_product_id WHERE p.product_name = 'hello_counter_L0_a'"
        )).one()
    assert mission.rootdir == str(example_dir)  # resolved against the config's directory
    assert mission.errordir == "errors"
    assert sat == "hello-sat"  # {MISSION} expanded at load time
    assert (link.yesterday, link.tomorrow, bool(link.optional)) == (1, 1, False)

    assert add_from_config.main(["-m", created_db, conf]) == 0
    assert "nothing changed" in capsys.readouterr().out
    assert snapshot(engine) == first


def test_changed_file_updates_and_says_what(created_db, example_dir, engine_for, capsys):
    conf = example_dir / "hello.conf"
    assert add_from_config.main(["-m", created_db, str(conf)]) == 0
    capsys.readouterr()
    text = conf.read_text()
    text = text.replace("Daily summary of both channels", "Daily sums")
    text = text.replace("code_version = 1.0.0", "code_version = 1.1.0", 1)  # hello_L0toL1
    text = text.replace('required_input1 = ("product_hello_L0_a", 1, 1)',
                        'required_input1 = ("product_hello_L0_a", 2, 0)')
    conf.write_text(text)
    assert add_from_config.main(["-m", created_db, str(conf)]) == 0
    out = capsys.readouterr().out
    assert "product_description 'Daily summary of both channels' -> 'Daily sums'" in out
    assert "added code of process 'hello_L0toL1' hello_L0toL1.py 1.1.0" in out
    assert "superseded by 1.1.0" in out
    assert "yesterday 1 -> 2" in out and "tomorrow 1 -> 0" in out
    engine = engine_for(created_db)
    with engine.connect() as conn:
        codes = conn.execute(sa.text(
            "SELECT quality_version, newest_version, active_code FROM code "
            "WHERE filename = 'hello_L0toL1.py' ORDER BY quality_version")).all()
    assert [(q, bool(n), bool(a)) for q, n, a in codes] == [(0, False, False), (1, True, True)]


def test_dates_said_as_written_and_absent_files_warned(created_db, example_dir, capsys):
    """A changed date reads as in the config; a code or inspector file that is not
    on disk is a warning (loaded all the same: the disk may be another host's)."""
    conf = example_dir / "hello.conf"
    assert add_from_config.main(["-m", created_db, str(conf)]) == 0
    assert capsys.readouterr().err == ""
    text = conf.read_text().replace("code_stop_date = 2030-12-31", "code_stop_date = 2031-06-30")
    conf.write_text(text.replace("code_filename = hello_report.py",
                                 "code_filename = not_here.py"))
    assert add_from_config.main(["-m", created_db, str(conf)]) == 0
    out, err = capsys.readouterr()
    assert "hello_L0toL1.py 1.0.0: code_stop_date 2030-12-31 -> 2031-06-30" in out
    assert err == (f"addFromConfig: warning: the code of process 'hello_report' (1.0.0) is "
                   f"not at {example_dir / 'codes' / 'not_here.py'} (ProcessQueue -p runs "
                   f"it from there)\n")
    (example_dir / "inspectors" / "hello_L1.py").unlink()
    assert add_from_config.main(["-m", created_db, "-v", str(conf)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and "the inspector of product 'hello_counter_L1' is not at" in err[0]


SECOND = hello_header("second") + """
[product_L2]
product_name = hello_second_L2
relative_path = L2
level = 2
format = hello_L2_{Y}{m}{d}_v{VERSION}.txt
inspector_filename = hello_L1.py
inspector_relative_path = .
inspector_version = 1.0.0
inspector_date_written = 2025-01-01

[process_L1toL2]
process_name = second_L1toL2
output_product = product_L2
output_timebase = DAILY
required_input1 = hello_counter_L1
code_filename = hello_L0toL1.py
code_relative_path = .
code_start_date = 20200101
code_stop_date = 20301231
code_version = 1.0.0
code_date_written = 2025-01-01
"""


def test_second_file_refers_to_products_by_name(created_db, example_dir, engine_for, capsys):
    assert add_from_config.main(["-m", created_db, str(example_dir / "hello.conf")]) == 0
    second = example_dir / "second.conf"
    second.write_text(SECOND)
    assert add_from_config.main(["-m", created_db, str(second)]) == 0
    assert "added input 'hello_counter_L1'" in capsys.readouterr().out
    engine = engine_for(created_db)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM instrument")).scalar() == 2
        assert conn.execute(sa.text("SELECT count(*) FROM satellite")).scalar() == 1


def test_second_file_without_optional_dirs_keeps_the_missions(created_db, example_dir,
                                                              engine_for, capsys):
    """A second instrument's file that leaves codedir/inspectordir/errordir out
    keeps the mission's values; a value it does give is changed and said."""
    assert add_from_config.main(["-m", created_db, str(example_dir / "hello.conf")]) == 0
    capsys.readouterr()
    header = hello_header("second")
    assert "codedir = codes" in header and "errordir = errors" in header
    second = example_dir / "second.conf"
    second.write_text(header.replace("codedir = codes\n", "")
                      .replace("inspectordir = inspectors\n", "")
                      .replace("errordir = errors\n", "errordir = rejects\n") + SECOND[
                          len(hello_header("second")):])
    assert add_from_config.main(["-m", created_db, str(second)]) == 0
    out = capsys.readouterr().out
    assert "mission 'hello': errordir" in out and "'rejects'" in out
    assert "codedir" not in out and "inspectordir" not in out
    engine = engine_for(created_db)
    with engine.connect() as conn:
        row = conn.execute(sa.text(
            "SELECT codedir, inspectordir, errordir FROM mission")).one()
    assert tuple(row) == ("codes", "inspectors", "rejects")
    # Loading it again changes nothing.
    assert add_from_config.main(["-m", created_db, str(second)]) == 0
    assert "nothing changed" in capsys.readouterr().out


def test_round_trip_through_config_from_db(created_db, example_dir, engine_for, tmp_path,
                                           db_url, capsys):
    assert add_from_config.main(["-m", created_db, str(example_dir / "hello.conf")]) == 0
    exported = tmp_path / "exported.conf"
    assert config_from_db.main(["-m", created_db, "-c", str(exported)]) == 0
    assert config_from_db.main(["-m", created_db, str(exported)]) == 2
    assert "pass -f" in capsys.readouterr().err
    assert config_from_db.main(["-m", created_db, "-f", str(exported)]) == 0
    capsys.readouterr()
    assert config_from_db.main(["-m", created_db, "-f", str(tmp_path)]) == 2
    assert capsys.readouterr().err == f"configFromDB: error: {tmp_path} is a directory\n"
    original = snapshot(engine_for(created_db))

    # A fresh database of the same backend: drop everything and create again.
    engine = engine_for(created_db)
    Base.metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE alembic_version"))
    from dbprocessing.db.schema import create_schema
    create_schema(engine)
    assert add_from_config.main(["-m", created_db, str(exported)]) == 0
    assert snapshot(engine) == original


BAD_CASES = [
    ("malformed", lambda t: t.replace("[mission]", "[mission"), r"malformed config file"),
    ("unknown key", lambda t: t.replace("level = 1\n", "level = 1\nlevle = 2\n"),
     r"\[product_hello_L1\] unknown key 'levle'"),
    ("missing key", lambda t: t.replace("format = hello_L1_{Y}{m}{d}_v{VERSION}.txt\n", ""),
     r"\[product_hello_L1\] missing required key 'format'"),
    ("bad date", lambda t: t.replace("code_start_date = 2020-01-01", "code_start_date = 2020-13-45"),
     r"\[process_hello_L0toL1\] code_start_date: not a date"),
    ("bad version", lambda t: t.replace("code_version = 1.0.0", "code_version = 1.0"),
     r"\[process_hello_L0toL1\] code_version: not a version"),
    ("no such output", lambda t: t.replace("output_product = product_hello_L1",
                                           "output_product = product_nope"),
     r"\[process_hello_L0toL1\] output_product: no product 'product_nope'"),
    ("duplicate section", lambda t: t + "\n[satellite]\nsatellite_name = x\n",
     r"malformed config file.*satellite"),
    ("bad boolean", lambda t: t.replace("code_active = True", "code_active = perhaps"),
     r"\[process_hello_L0toL1\] code_active: not a boolean"),
    ("bad timebase", lambda t: t.replace("output_timebase = DAILY", "output_timebase = HOURLY"),
     r"\[process_hello_L0toL1\] output_timebase: 'HOURLY'"),
    ("unknown section", lambda t: t + "\n[extra]\nx = 1\n", r"\[extra\] unknown section"),
    ("bad level", lambda t: t.replace("level = 1\n", "level = one\n"),
     r"\[product_hello_L1\] level: not a number"),
    ("bad input tuple", lambda t: t.replace('("product_hello_L0_a", 1, 1)', '("product_hello_L0_a", 1)'),
     r"\[process_hello_L0toL1\] required_input1: expected"),
    ("no such input", lambda t: t.replace("optional_input1 = product_hello_L0_b",
                                          "optional_input1 = product_gone"),
     r"\[process_hello_L0toL1\] optional_input1: no product 'product_gone'"),
    ("bad format", lambda t: t.replace("format = hello_L1_{Y}", "format = hello_L1_{Y"),
     r"\[product_hello_L1\] format: unbalanced brace"),
    ("unknown field in inspector_arguments",
     lambda t: t.replace("prefix={MISSION}_a", "prefix={MISION}_a"),
     r"\[product_hello_L0_a\] inspector_arguments: unknown field \{MISION\}"),
    ("unknown field in code_arguments",
     lambda t: t.replace("code_arguments = --label {DATE}", "code_arguments = --label {DAY}"),
     r"\[process_hello_L0toL1\] code_arguments: unknown field \{DAY\}"),
    ("unknown field in extra_params",
     lambda t: t.replace("extra_params =\n", "extra_params = -x|{ROOTDIRR}\n", 1),
     r"\[process_hello_L0toL1\] extra_params: unknown field \{ROOTDIRR\}"),
    ("unknown field in format", lambda t: t.replace("_L1_{Y}{m}{d}", "_L1_{Y}{mm}{d}"),
     r"\[product_hello_L1\] format: unknown field \{mm\}"),
    ("not a field in relative_path", lambda t: t.replace("relative_path = L1/{Y}",
                                                         "relative_path = L1/{8}"),
     r"\[product_hello_L1\] relative_path: unknown field \{8\}"),
    ("unknown field in product_name", lambda t: t.replace("{MISSION}_{INSTRUMENT}_L2",
                                                          "{MISSION}_{INSTRUMENTS}_L2"),
     r"\[product_hello_L2\] product_name: unknown field \{INSTRUMENTS\}"),
    ("unknown field in a filename", lambda t: t.replace("code_filename = hello_report.py",
                                                        "code_filename = {MISSON}_report.py"),
     r"\[process_hello_report\] code_filename: unknown field \{MISSON\}"),
    ("unknown field in a directory", lambda t: t.replace("codedir = codes", "codedir = {CODES}"),
     r"\[mission\] codedir: unknown field \{CODES\}"),
    ("name before it is defined", lambda t: t.replace("satellite_name = {MISSION}-sat",
                                                      "satellite_name = {INSTRUMENT}-sat"),
     r"\[satellite\] satellite_name: \{INSTRUMENT\} cannot be used here \(only \{MISSION\}"),
    ("timeout not a number", lambda t: t.replace("code_timeout = 60", "code_timeout = nan"),
     r"\[process_hello_L1toL2\] code_timeout: must be a positive number of seconds"),
    ("timeout infinite", lambda t: t.replace("code_timeout = 60", "code_timeout = inf"),
     r"\[process_hello_L1toL2\] code_timeout: must be a positive number of seconds"),
    ("mission_name uses a name", lambda t: t.replace("mission_name = hello",
                                                     "mission_name = {MISSION}"),
     r"\[mission\] mission_name: \{MISSION\} cannot be used here \(no fields"),
]


@pytest.mark.parametrize("mutate, message", [c[1:] for c in BAD_CASES],
                         ids=[c[0] for c in BAD_CASES])
def test_bad_config_is_one_clear_error_and_writes_nothing(created_db, example_dir, engine_for,
                                                          capsys, mutate, message):
    conf = example_dir / "hello.conf"
    conf.write_text(mutate(conf.read_text()))
    assert add_from_config.main(["-m", created_db, str(conf)]) == 2
    err = capsys.readouterr().err
    assert re.search(message, err, re.S), err
    assert len(err.strip().splitlines()) == 1
    assert count_rows(engine_for(created_db)) == 0


def test_verify_only_writes_nothing(created_db, example_dir, engine_for, capsys):
    assert add_from_config.main(["-m", created_db, "-v", str(example_dir / "hello.conf")]) == 0
    assert "valid" in capsys.readouterr().out
    assert count_rows(engine_for(created_db)) == 0


def test_refuses_to_move_a_product_that_has_files(created_db, example_dir, engine_for, capsys):
    conf = example_dir / "hello.conf"
    assert add_from_config.main(["-m", created_db, str(conf)]) == 0
    engine = engine_for(created_db)
    with engine.begin() as conn:
        pid = conn.execute(sa.text("SELECT product_id FROM product WHERE product_name = "
                                   "'hello_counter_L1'")).scalar()
        conn.execute(sa.text(
            "INSERT INTO file (filename, utc_file_date, data_level, interface_version, "
            "quality_version, revision_version, file_create_date, exists_on_disk, product_id) "
            "VALUES ('f', '2020-01-01', 1, 1, 0, 0, '2020-01-01 00:00:00', true, :p)"), {"p": pid})
    before = snapshot(engine)
    conf.write_text(conf.read_text().replace("relative_path = L1/{Y}", "relative_path = L1new"))
    assert add_from_config.main(["-m", created_db, str(conf)]) == 2
    assert "changeProductDir" in capsys.readouterr().err
    assert snapshot(engine) == before


def test_missing_config_file(created_db, tmp_path, capsys):
    assert add_from_config.main(["-m", created_db, str(tmp_path / "nope.conf")]) == 2
    assert "config file not found" in capsys.readouterr().err


def test_config_path_that_is_a_directory(created_db, tmp_path, capsys):
    assert add_from_config.main(["-m", created_db, str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        f"addFromConfig: error: cannot read config file {tmp_path}: Is a directory"]


def test_a_config_saved_on_windows_loads_the_same(created_db, example_dir, engine_for,
                                                   capsys):
    """CRLF line ends and a UTF-8 byte-order mark (Notepad's "UTF-8") change nothing."""
    conf = example_dir / "hello.conf"
    text = conf.read_text()
    assert add_from_config.main(["-m", created_db, str(conf)]) == 0
    first = snapshot(engine_for(created_db))
    windows = example_dir / "windows.conf"
    windows.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    capsys.readouterr()
    assert add_from_config.main(["-m", created_db, str(windows)]) == 0
    assert "nothing changed" in capsys.readouterr().out
    assert snapshot(engine_for(created_db)) == first


FREE_TEXT = [
    # (key line in hello.conf, new value, what is stored)
    ("product_description = Daily summary in words",
     "product_description = {MISSION} words {not a field} {ALSO_NOT} }{ {",
     "hello words {not a field} {ALSO_NOT} }{ {"),
    ("code_description = Append each new level-2 file to ROOTDIR/report.txt",
     "code_description = {INSTRUMENT} report {{MISSION}} {X}",
     "counter report {{MISSION}} {X}"),
]


@pytest.mark.parametrize("line, new, stored", FREE_TEXT, ids=["product", "code"])
def test_braces_in_descriptions_are_free_text(created_db, example_dir, engine_for,
                                              tmp_path, line, new, stored):
    conf = example_dir / "hello.conf"
    conf.write_text(conf.read_text().replace(line, new, 1))
    assert add_from_config.main(["-m", created_db, str(conf)]) == 0
    engine = engine_for(created_db)
    with engine.connect() as conn:
        texts = set(conn.execute(sa.text(
            "SELECT product_description FROM product UNION ALL "
            "SELECT code_description FROM code")).scalars())
    assert stored in texts
    # and it exports and loads again unchanged
    exported = tmp_path / "exported.conf"
    assert config_from_db.main(["-m", created_db, str(exported)]) == 0
    assert add_from_config.main(["-m", created_db, str(exported)]) == 0
    with engine.connect() as conn:
        assert stored in set(conn.execute(sa.text(
            "SELECT product_description FROM product UNION ALL "
            "SELECT code_description FROM code")).scalars())


def test_regex_braces_in_arguments_are_kept(created_db, example_dir, engine_for):
    conf = example_dir / "hello.conf"
    conf.write_text(conf.read_text().replace(
        "prefix={MISSION}_a channel=a", r"prefix={MISSION}_a channel=a date=\d{8} j={{x}}"))
    assert add_from_config.main(["-m", created_db, str(conf)]) == 0
    with engine_for(created_db).connect() as conn:
        args = set(conn.execute(sa.text("SELECT arguments FROM inspector")).scalars())
    assert r"prefix=hello_a channel=a date=\d{8} j={{x}}" in args


@pytest.mark.parametrize("text, expected", [
    ("2012-10-02", datetime.date(2012, 10, 2)),
    (" 2012-02-29 ", datetime.date(2012, 2, 29)),
    ("20121002", datetime.date(2012, 10, 2)),
    ("2012-10-02T12:30:00", datetime.date(2012, 10, 2)),  # ISO 8601 with a time
    ("2012-10", datetime.date(2012, 10, 1)),  # ISO 8601's reduced precision
    ("2013-02-29", None),
    ("2012-1-02", None),
    ("soon", None),
])
def test_dates_in_configs_and_arguments(text, expected):
    if expected is None:
        with pytest.raises(ConfigError, match="not a date"):
            parse_date(text)
    else:
        assert parse_date(text) == expected


def test_a_plain_date_is_read_without_importing_dateutil():
    """Commands taking -s/-e/-d read YYYY-MM-DD without importing dateutil (40 ms) or
    the config module (30 ms)."""
    result = subprocess.run([sys.executable, "-c", (
        "import sys\n"
        "from dbprocessing.cli import date_argument\n"
        "print(date_argument('2012-10-02'), date_argument('20121002'),\n"
        "      sorted(m for m in sys.modules if m.startswith('dateutil')\n"
        "             or m in ('dbprocessing.mission.config', 'sqlalchemy')))\n")],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["2012-10-02", "2012-10-02", "[]"]
