"""A config file in the original's style: {MISSION}, {SPACECRAFT}, {INSTRUMENT}
in every value, on real databases with a real inspector and a real code.

The mission "rbsp", satellite "rbspa" and instrument "rbspa-hope" are written
only as fields; the inspector builds its filename pattern from its arguments
and the code writes the arguments it received into its output.
"""
from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa

from dbprocessing.cli import add_from_config, config_from_db, db_runner, process_queue
from dbprocessing.db.models import Base
from dbprocessing.db.schema import create_schema

from .missions import MissionUnderTest
from .test_config import TABLES, count_rows, snapshot

# The [mission], [satellite] and [instrument] sections both files share; the
# instrument's name follows.
HEADER = r"""
[mission]
mission_name = rbsp
rootdir = .
incoming_dir = incoming
codedir = codes
inspectordir = inspectors

[satellite]
satellite_name = {MISSION}a

[instrument]
instrument_name = """

CONFIG = r"""
# In the style of the original's deployed configs.
""" + HEADER.lstrip() + r"""{SPACECRAFT}-hope

[product_raw]
product_name = {INSTRUMENT}_L0
relative_path = {MISSION}/{SPACECRAFT}/L0/{Y}
level = 0
format = {MISSION}_{SATELLITE}_raw_{Y}{m}{d}_v{VERSION}.dat
product_description = Raw {INSTRUMENT} data of {MISSION} {SATELLITE}
inspector_filename = {MISSION}_prefix_inspector.py
inspector_relative_path = {MISSION}
inspector_description = Claims {MISSION}_{SPACECRAFT}_raw_ files
inspector_version = 1.0.0
inspector_date_written = 2025-01-01
inspector_arguments = prefix={MISSION}_{SPACECRAFT}_raw_ suffix=.dat

[product_l1]
product_name = {INSTRUMENT}_L1
relative_path = {MISSION}/{SPACECRAFT}/L1/{Y}
level = 1
format = {MISSION}_{SATELLITE}_l1_{Y}{m}{d}_v{VERSION}.json
product_description = What the {INSTRUMENT} code was told
inspector_filename = {MISSION}_prefix_inspector.py
inspector_relative_path = {MISSION}
inspector_version = 1.0.0
inspector_date_written = 2025-01-01
inspector_arguments = prefix={MISSION}_{SATELLITE}_l1_ suffix=.json

[process_l0tol1]
process_name = {INSTRUMENT}_L0toL1
output_product = product_l1
output_timebase = DAILY
extra_params = --root={ROOTDIR}/{MISSION}|--codes={CODEDIR}
required_input1 = product_raw
code_filename = {MISSION}_echo_args.py
code_relative_path = {MISSION}/v{CODEVERSION}
code_start_date = 2020-01-01
code_stop_date = 2030-12-31
code_description = Writes the {MISSION} arguments it receives
code_version = 1.2.0
code_date_written = 2025-01-01
code_arguments = --mission {MISSION} --sc {SPACECRAFT} --inst {INSTRUMENT} --date {DATE}
"""

# An inspector in the original's plugin style whose pattern is its arguments.
PLUGIN = r'''
import datetime
import re

from dbprocessing import inspector
from dbprocessing import Version


class Inspector(inspector.inspector):
    code_name = 'rbsp_prefix_inspector.py'

    def inspect(self, kwargs):
        pattern = (re.escape(kwargs['prefix']) + r'(\d{8})_v(\d+\.\d+\.\d+)'
                   + re.escape(kwargs['suffix']) + '$')
        m = re.match(pattern, self.basename)
        if m is None:
            return None
        day = datetime.datetime.strptime(m.group(1), '%Y%m%d')
        self.diskfile.params['utc_file_date'] = day.date()
        self.diskfile.params['utc_start_time'] = day
        self.diskfile.params['utc_stop_time'] = day + datetime.timedelta(days=1)
        self.diskfile.params['version'] = Version.Version.fromString(m.group(2))
        return True
'''

# A code that writes the command line it was given into its output.
ECHO_CODE = """
import json, sys
json.dump(sys.argv[1:], open(sys.argv[-1], 'w'))
"""

FAILING_CODE = "import sys\nsys.exit(3)\n"

RAW = "rbsp_rbspa_raw_20250102_v1.0.0.dat"


@pytest.fixture
def mission(created_db, tmp_path, monkeypatch) -> MissionUnderTest:
    """The rbsp mission tree (config, plugin, code) and an empty database; not loaded."""
    monkeypatch.setenv("DBPROCESSING_LOG_DIR", str(tmp_path / "logs"))
    root = tmp_path / "rbsp"
    (root / "inspectors" / "rbsp").mkdir(parents=True)
    (root / "inspectors" / "rbsp" / "rbsp_prefix_inspector.py").write_text(PLUGIN)
    (root / "codes" / "rbsp" / "v1.2.0").mkdir(parents=True)
    (root / "codes" / "rbsp" / "v1.2.0" / "rbsp_echo_args.py").write_text(ECHO_CODE)
    (root / "incoming").mkdir()
    config = root / "rbsp.conf"
    config.write_text(textwrap.dedent(CONFIG))
    return MissionUnderTest(root=root, db_url=created_db, config=config)


def load(m: MissionUnderTest, config: Path | None = None) -> int:
    return add_from_config.main(["-m", m.db_url, str(config or m.config)])


def test_stored_rows_hold_the_expanded_text(mission):
    assert load(mission) == 0
    q = mission.query
    assert q("SELECT mission_name FROM mission") == [("rbsp",)]
    assert q("SELECT satellite_name FROM satellite") == [("rbspa",)]
    assert q("SELECT instrument_name FROM instrument") == [("rbspa-hope",)]
    assert sorted(q("SELECT product_name, relative_path, format, product_description "
                    "FROM product")) == [
        ("rbspa-hope_L0", "rbsp/rbspa/L0/{Y}", "rbsp_rbspa_raw_{Y}{m}{d}_v{VERSION}.dat",
         "Raw rbspa-hope data of rbsp rbspa"),
        ("rbspa-hope_L1", "rbsp/rbspa/L1/{Y}", "rbsp_rbspa_l1_{Y}{m}{d}_v{VERSION}.json",
         "What the rbspa-hope code was told")]
    assert sorted(q("SELECT filename, relative_path, arguments, description "
                    "FROM inspector")) == [
        ("rbsp_prefix_inspector.py", "rbsp", "prefix=rbsp_rbspa_l1_ suffix=.json", ""),
        ("rbsp_prefix_inspector.py", "rbsp", "prefix=rbsp_rbspa_raw_ suffix=.dat",
         "Claims rbsp_rbspa_raw_ files")]
    assert q("SELECT process_name, extra_params FROM process") == [
        ("rbspa-hope_L0toL1", "--root={ROOTDIR}/rbsp|--codes={CODEDIR}")]
    assert q("SELECT filename, relative_path, arguments, code_description FROM code") == [
        ("rbsp_echo_args.py", "rbsp/v{CODEVERSION}",
         "--mission rbsp --sc rbspa --inst rbspa-hope --date {DATE}",
         "Writes the rbsp arguments it receives")]
    # No name field is left anywhere in the config tables.
    engine = mission.engine()
    try:
        with engine.connect() as conn:
            for name in TABLES:
                for row in conn.execute(sa.select(Base.metadata.tables[name])):
                    for value in row:
                        assert not re.search(r"\{(MISSION|SPACECRAFT|SATELLITE|INSTRUMENT)\}",
                                             str(value)), (name, row)
    finally:
        engine.dispose()
    # Loading it again changes nothing.
    before = mission.query("SELECT count(*) FROM inspector")
    assert load(mission) == 0
    assert mission.query("SELECT count(*) FROM inspector") == before


def test_inspector_built_from_its_arguments_claims_on_a_real_ingest(mission, capsys):
    assert load(mission) == 0
    mission.add_incoming(RAW, "1\n")
    capsys.readouterr()
    assert process_queue.main(["-i", "-m", mission.db_url, "-v"]) == 0
    assert "ingested 1 file(s), rejected 0" in capsys.readouterr().out
    assert (mission.root / "rbsp" / "rbspa" / "L0" / "2025" / RAW).is_file()
    assert not (mission.incoming / RAW).exists()
    assert not (mission.root / "errors").exists()
    assert mission.query("SELECT p.product_name FROM file f JOIN product p "
                         "ON p.product_id = f.product_id") == [("rbspa-hope_L0",)]


def test_code_receives_the_expanded_arguments(mission):
    assert load(mission) == 0
    mission.add_incoming(RAW, "1\n")
    assert process_queue.main(["-i", "-m", mission.db_url, "-q"]) == 0
    assert process_queue.main(["-p", "-m", mission.db_url, "-q"]) == 0
    output = (mission.root / "rbsp" / "rbspa" / "L1" / "2025" /
              "rbsp_rbspa_l1_20250102_v1.0.0.json")
    argv = json.loads(output.read_text())
    root = mission.root.resolve()
    assert argv[:10] == [f"--root={root}/rbsp", f"--codes={root}/codes/rbsp/v1.2.0",
                         "--mission", "rbsp", "--sc", "rbspa", "--inst", "rbspa-hope",
                         "--date", "20250102"]
    assert argv[10] == str(root / "rbsp" / "rbspa" / "L0" / "2025" / RAW)
    # The output was claimed by its own product's inspector and recorded.
    assert mission.query("SELECT filename FROM file f JOIN product p ON p.product_id = "
                         "f.product_id WHERE p.product_name = 'rbspa-hope_L1'") == [
        (output.name,)]


def test_round_trip_through_config_from_db(mission, engine_for, tmp_path):
    assert load(mission) == 0
    engine = engine_for(mission.db_url)
    original = snapshot(engine)
    exported = tmp_path / "exported.conf"
    assert config_from_db.main(["-m", mission.db_url, str(exported)]) == 0
    text = exported.read_text()
    assert "prefix=rbsp_rbspa_raw_ suffix=.dat" in text and "{MISSION}" not in text
    Base.metadata.drop_all(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP TABLE alembic_version"))
    create_schema(engine)
    assert load(mission, exported) == 0
    assert snapshot(engine) == original


UNKNOWN = [
    ("inspector_arguments = prefix={MISSION}_{SPACECRAFT}_raw_",
     "inspector_arguments = prefix={MISSION}_{SPACECRAF}_raw_",
     "[product_raw] inspector_arguments: unknown field {SPACECRAF}"),
    ("--inst {INSTRUMENT}", "--inst {INSTRUMNET}",
     "[process_l0tol1] code_arguments: unknown field {INSTRUMNET}"),
    ("--codes={CODEDIR}", "--codes={CODE_DIR}",
     "[process_l0tol1] extra_params: unknown field {CODE_DIR}"),
    ("product_name = {INSTRUMENT}_L1", "product_name = {INST}_L1",
     "[product_l1] product_name: unknown field {INST}"),
    ("code_relative_path = {MISSION}/v{CODEVERSION}",
     "code_relative_path = {MISSION}/v{CODE_VERSION}",
     "[process_l0tol1] code_relative_path: unknown field {CODE_VERSION}"),
]


@pytest.mark.parametrize("old, new, message", UNKNOWN,
                         ids=["inspector_arguments", "code_arguments", "extra_params",
                              "product_name", "code_relative_path"])
def test_unknown_field_is_exit_2_naming_section_key_and_field(mission, engine_for, capsys,
                                                              old, new, message):
    text = mission.config.read_text()
    assert old in text
    mission.config.write_text(text.replace(old, new, 1))
    assert load(mission) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert count_rows(engine_for(mission.db_url)) == 0


SECOND = HEADER + r"""{SPACECRAFT}-emfisis

[product_combined]
product_name = {INSTRUMENT}_combined
relative_path = {MISSION}/{SPACECRAFT}/combined/{Y}
level = 2
format = {MISSION}_{SATELLITE}_combined_{Y}{m}{d}_v{VERSION}.json
inspector_filename = {MISSION}_prefix_inspector.py
inspector_relative_path = {MISSION}
inspector_version = 1.0.0
inspector_date_written = 2025-01-01
inspector_arguments = prefix={MISSION}_{SATELLITE}_combined_ suffix=.json

[process_combine]
process_name = {INSTRUMENT}_combine
output_product = product_combined
output_timebase = DAILY
required_input1 = {SPACECRAFT}-hope_L1
code_filename = {MISSION}_echo_args.py
code_relative_path = {MISSION}/v{CODEVERSION}
code_start_date = 2020-01-01
code_stop_date = 2030-12-31
code_version = 1.2.0
code_date_written = 2025-01-01
code_arguments = --inst {INSTRUMENT}
"""


def test_second_file_builds_on_the_first_by_product_name(mission):
    assert load(mission) == 0
    second = mission.root / "second.conf"
    second.write_text(SECOND)
    assert load(mission, second) == 0
    assert sorted(mission.query("SELECT instrument_name FROM instrument")) == [
        ("rbspa-emfisis",), ("rbspa-hope",)]
    assert mission.query(
        "SELECT p.product_name FROM productprocesslink l JOIN process r ON "
        "r.process_id = l.process_id JOIN product p ON p.product_id = l.input_product_id "
        "WHERE r.process_name = 'rbspa-emfisis_combine'") == [("rbspa-hope_L1",)]
    # Both files' chains work: the raw file makes L1, which makes the combined file.
    mission.add_incoming(RAW, "1\n")
    assert process_queue.main(["-i", "-m", mission.db_url, "-q"]) == 0
    assert process_queue.main(["-p", "-m", mission.db_url, "-q"]) == 0
    combined = (mission.root / "rbsp" / "rbspa" / "combined" / "2025" /
                "rbsp_rbspa_combined_20250102_v1.0.0.json")
    assert json.loads(combined.read_text())[:2] == ["--inst", "rbspa-emfisis"]


# -- dry runs exit 0 when they only report -----------------------------------

def test_dry_ingest_with_an_unclaimed_file_exits_0_and_leaves_it(mission, capsys):
    assert load(mission) == 0
    junk = mission.add_incoming("nobody_claims_this.dat")
    capsys.readouterr()
    assert process_queue.main(["-i", "-d", "-m", mission.db_url]) == 0
    assert "would reject 1" in capsys.readouterr().out
    assert junk.is_file() and mission.count("file") == 0
    # The real run rejects it: exit 1, moved to the error directory.
    assert process_queue.main(["-i", "-m", mission.db_url, "-q"]) == 1
    assert not junk.exists() and (mission.root / "errors" / junk.name).is_file()


def _with_failing_code(m: MissionUnderTest) -> None:
    assert load(m) == 0
    (m.root / "codes" / "rbsp" / "v1.2.0" / "rbsp_echo_args.py").write_text(FAILING_CODE)
    m.add_incoming(RAW, "1\n")
    assert process_queue.main(["-i", "-m", m.db_url, "-q"]) == 0


def test_dry_process_with_a_failing_plan_exits_0(mission, capsys):
    _with_failing_code(mission)
    capsys.readouterr()
    assert process_queue.main(["-p", "-d", "-m", mission.db_url]) == 0
    assert "would run rbspa-hope_L0toL1 2025-01-02" in capsys.readouterr().out
    assert mission.count("processqueue") == 1
    assert process_queue.main(["-p", "-m", mission.db_url, "-q"]) == 1


def test_dbrunner_dry_run_exits_0(mission, capsys, tmp_path, monkeypatch):
    _with_failing_code(mission)
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert db_runner.main(["-m", mission.db_url, "rbspa-hope_L0toL1", "-s", "20250101",
                           "-e", "20250103", "-d"]) == 0
    assert "would run rbspa-hope_L0toL1 2025-01-02" in capsys.readouterr().out
    assert db_runner.main(["-m", mission.db_url, "rbspa-hope_L0toL1", "-s", "20250102",
                           "-i", "-d"]) == 0
    assert db_runner.main(["-m", mission.db_url, "rbspa-hope_L0toL1", "-s", "20250102"]) == 1
