"""Keyword fields ({nnn}, {APID}, {mday}, ...) in output names, on every timebase,
and the DAILY window rule (extra inputs, not extra days); both backends."""
from __future__ import annotations

import textwrap

import pytest

from dbprocessing.cli import add_from_config, process_queue

from .missions import MissionUnderTest, Product, build_mission

# Date and version from the name; process_keywords "nnn=..." when kwargs ask for it.
KEYWORD_PLUGIN = '''
import datetime
import re

from dbprocessing import inspector, Version


class Inspector(inspector.inspector):
    code_name = '{filename}'

    def inspect(self, kwargs):
        m = re.match(r'{regex}', self.basename)
        if m is None:
            return None
        day = datetime.datetime.strptime(m.group('date'), '%Y%m%d')
        start = day - datetime.timedelta(seconds=int(kwargs.get('early', 0)))
        self.diskfile.params['utc_file_date'] = day.date()
        self.diskfile.params['utc_start_time'] = start
        self.diskfile.params['utc_stop_time'] = day + datetime.timedelta(hours=23, minutes=59)
        self.diskfile.params['version'] = Version.Version.fromString(m.group('version'))
        if kwargs.get('keywords') == 'yes':
            self.diskfile.params['process_keywords'] = 'nnn=' + m.group('nnn')
        return True
'''
# Writes the names of its inputs into its output (the last argument).
CODE = ("#!/usr/bin/env python3\nimport os, sys\n"
        "open(sys.argv[-1], 'w').write(' '.join(os.path.basename(a) "
        "for a in sys.argv[1:-1]) + '\\n')\n")


def plugin(filename: str, regex: str) -> str:
    return KEYWORD_PLUGIN.format(filename=filename, regex=regex)


def raw(key: str, arguments: str) -> Product:
    regex = rf"{key}_(?P<nnn>\d{{3}})_(?P<date>\d{{8}})_v(?P<version>\d+\.\d+\.\d+)\.dat$"
    return Product(key, f"{key}_{{nnn}}_{{Y}}{{m}}{{d}}_v{{VERSION}}.dat",
                   plugin(f"insp_{key}.py", regex), arguments=arguments)


def daily_section(inputs: list[str], output_format: str) -> str:
    lines = "\n".join(inputs)
    regex = r"out_(?P<nnn>\d{3})_(?P<date>\d{8})_v(?P<version>\d+\.\d+\.\d+)\.dat$"
    return textwrap.dedent(f"""
        [product_out]
        product_name = out
        relative_path = out
        level = 1
        format = {output_format}
        inspector_filename = insp_out.py
        inspector_relative_path = .
        inspector_version = 1.0.0
        inspector_date_written = 2025-01-01
        inspector_arguments = keywords=no

        [process_out]
        process_name = make_out
        output_product = product_out
        output_timebase = DAILY
        code_filename = code.py
        code_relative_path = codes
        code_start_date = 2020-01-01
        code_stop_date = 2030-12-31
        code_version = 1.0.0
        code_date_written = 2025-01-01
        """) + lines + "\n", plugin("insp_out.py", regex)


def mission(tmp_path, db_url, products, inputs, output_format=None) -> MissionUnderTest:
    m = build_mission(tmp_path / "m", db_url, products)
    section, out_plugin = daily_section(
        inputs, output_format or "out_{nnn}_{Y}{m}{d}_v{VERSION}.dat")
    (m.root / "inspectors" / "insp_out.py").write_text(out_plugin)
    (m.root / "codes").mkdir()
    (m.root / "codes" / "code.py").write_text(CODE)
    (m.root / "codes" / "code.py").chmod(0o755)
    m.config.write_text(m.config.read_text() + section)
    assert add_from_config.main(["-m", db_url, str(m.config)]) == 0
    return m


def ingest_and_process(m: MissionUnderTest, *names: str) -> int:
    for name in names:
        m.add_incoming(name, "x\n")
    assert process_queue.main(["-i", "-m", m.db_url, "-q"]) == 0
    return process_queue.main(["-p", "-m", m.db_url, "-v"])


def outputs(m: MissionUnderTest) -> dict[str, str | None]:
    return {r[0]: r[1] for r in m.query(
        "SELECT f.filename, f.process_keywords FROM file f JOIN product p "
        "ON p.product_id = f.product_id WHERE p.product_name = 'out'")}


@pytest.mark.parametrize("arguments", ["keywords=yes", "keywords=no"])
def test_daily_output_named_from_the_inputs_keywords(tmp_path, created_db, arguments,
                                                     monkeypatch):
    """From the inputs' process_keywords, or (keywords=no) from the fields of the
    inputs' own names by their product's format."""
    monkeypatch.setenv("DBPROCESSING_LOG_DIR", str(tmp_path / "logs"))
    m = mission(tmp_path, created_db, [raw("raw", arguments)], ['required_input1 = product_raw'])
    assert ingest_and_process(m, "raw_007_20250101_v1.0.0.dat") == 0
    assert outputs(m) == {"out_007_20250101_v1.0.0.dat": "nnn=007"}
    text = (m.root / "out" / "out_007_20250101_v1.0.0.dat").read_text()
    assert text.strip() == "raw_007_20250101_v1.0.0.dat"
    # Nothing changed: nothing remade (the existing output is found by its name).
    assert process_queue.main(["-p", "-m", m.db_url, "-q"]) == 0
    assert len(outputs(m)) == 1


def test_inputs_that_disagree_on_a_keyword_are_a_clear_message(tmp_path, created_db, capsys,
                                                               monkeypatch):
    monkeypatch.setenv("DBPROCESSING_LOG_DIR", str(tmp_path / "logs"))
    m = mission(tmp_path, created_db, [raw("rawa", "keywords=yes"), raw("rawb", "keywords=yes")],
                ["required_input1 = product_rawa", "required_input2 = product_rawb"])
    capsys.readouterr()
    assert ingest_and_process(m, "rawa_001_20250101_v1.0.0.dat",
                              "rawb_002_20250101_v1.0.0.dat") == 0
    out = capsys.readouterr().out
    assert ("inputs disagree on {nnn} for the output's name: "
            "rawa_001_20250101_v1.0.0.dat has 001, rawb_002_20250101_v1.0.0.dat has 002") in out
    assert outputs(m) == {}


def test_daily_window_gives_inputs_not_days(tmp_path, created_db, monkeypatch):
    """("product_raw", 1, 1): day n gets n-1 and n+1 as extra inputs; no output for a
    day with no file of its own; a file starting seconds before its date belongs to
    its date only; a new version of day n's input remakes n-1 and n+1."""
    monkeypatch.setenv("DBPROCESSING_LOG_DIR", str(tmp_path / "logs"))
    m = mission(tmp_path, created_db, [raw("raw", "keywords=yes early=5")],
                ['required_input1 = ("product_raw", 1, 1)'])
    days = ["20250101", "20250102", "20250103", "20250105"]
    assert ingest_and_process(m, *(f"raw_001_{d}_v1.0.0.dat" for d in days)) == 0
    made = outputs(m)
    assert sorted(made) == [f"out_001_{d}_v1.0.0.dat" for d in days]
    read = {name: (m.root / "out" / name).read_text().split() for name in made}
    assert read["out_001_20250102_v1.0.0.dat"] == [f"raw_001_{d}_v1.0.0.dat" for d in
                                                  ("20250101", "20250102", "20250103")]
    assert read["out_001_20250105_v1.0.0.dat"] == ["raw_001_20250105_v1.0.0.dat"]
    assert read["out_001_20250101_v1.0.0.dat"] == ["raw_001_20250101_v1.0.0.dat",
                                                  "raw_001_20250102_v1.0.0.dat"]
    assert ingest_and_process(m, "raw_001_20250102_v1.1.0.dat") == 0
    remade = sorted(n for n in outputs(m) if n.endswith("_v1.1.0.dat"))
    assert remade == [f"out_001_{d}_v1.1.0.dat" for d in ("20250101", "20250102", "20250103")]
    # Dec 31, Jan 4 and Jan 6 have no file of their own: neighbours only, never made.
    assert not [n for n in outputs(m) if "20241231" in n or "20250104" in n
                or "20250106" in n]
