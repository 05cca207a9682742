"""Small real missions for tests: a config file, inspector plugins as text, a database.

``build_mission(root, db_url, products)`` writes ``root/mission.conf`` and one
plugin file per product under ``root/inspectors``, loads the config into the
database, and returns a ``MissionUnderTest`` with the paths and a few queries.
"""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from dbprocessing.cli import add_from_config, print_status, process_queue
from dbprocessing.db.engine import make_engine, resolve_url
from dbprocessing.db.models import Base

REPO = Path(__file__).resolve().parents[1]

# A name-based plugin in the original's style: date and version from the name.
NAME_PLUGIN = '''
import datetime
import re

from dbprocessing import inspector
from dbprocessing import Version


class Inspector(inspector.inspector):
    code_name = '{filename}'

    def inspect(self, kwargs):
        m = re.match(r'{regex}', self.basename)
        if m is None:
            return None
        day = datetime.datetime.strptime(m.group('date'), '%Y%m%d')
        self.diskfile.params['utc_file_date'] = day.date()
        self.diskfile.params['utc_start_time'] = day
        self.diskfile.params['utc_stop_time'] = day + datetime.timedelta(days=1)
        version = m.groupdict().get('version') or '1.0.0'
        self.diskfile.params['version'] = Version.Version.fromString(version)
        return True
'''


def hello_header(instrument: str) -> str:
    """The [mission], [satellite] and [instrument] sections of a second config
    file for the example mission, naming another (or the same) instrument."""
    return f"""
[mission]
mission_name = hello
rootdir = .
incoming_dir = incoming
codedir = codes
inspectordir = inspectors
errordir = errors

[satellite]
satellite_name = hello-sat

[instrument]
instrument_name = {instrument}
"""


def name_plugin(filename: str, regex: str) -> str:
    return NAME_PLUGIN.format(filename=filename, regex=regex)


@dataclass
class Product:
    key: str                 # section is product_<key>; product_name is the key too
    format: str
    plugin: str              # plugin source text
    relative_path: str = "{key}/{{Y}}"
    level: float = 0
    arguments: str = ""


@dataclass
class MissionUnderTest:
    root: Path
    db_url: str
    config: Path

    @property
    def incoming(self) -> Path:
        return self.root / "incoming"

    def errordir(self) -> Path:
        return self.root / "errors"

    def engine(self):
        return make_engine(resolve_url(self.db_url))

    def query(self, sql: str, **params) -> list:
        engine = self.engine()
        try:
            with engine.connect() as conn:
                return list(conn.execute(sa.text(sql), params))
        finally:
            engine.dispose()

    def count(self, table: str) -> int:
        return self.query(f'SELECT count(*) FROM "{table}"')[0][0]

    def add_incoming(self, name: str, content: str | bytes = "data\n") -> Path:
        self.incoming.mkdir(parents=True, exist_ok=True)
        path = self.incoming / name
        if isinstance(content, str):
            content = content.encode()
        path.write_bytes(content)
        return path

    def run(self, *args: str, env: dict | None = None, timeout: float = 120):
        """ProcessQueue in a real child process (as cron runs it)."""
        import os
        full_env = dict(os.environ)
        full_env.update(env or {})
        return subprocess.run(
            [sys.executable, str(REPO / "scripts" / "ProcessQueue.py"), "-m", self.db_url,
             *args], capture_output=True, text=True, timeout=timeout, env=full_env)


# A code that says it started (its pid and date, in the mission root) and then
# takes its time.
LINGERER = ("#!/usr/bin/env python3\nimport os, sys, time\n"
            "with open(os.path.join(os.path.dirname(sys.argv[0]), '..', 'started.txt'),"
            " 'a') as f:\n"
            "    f.write(f'{os.getpid()} {sys.argv[2]}\\n')\n"
            "time.sleep(60)\n")


def alive(pid: int) -> bool:
    """Whether process *pid* runs (not gone, not a zombie waiting to be reaped)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def sha1(path: Path) -> str:
    return hashlib.sha1(path.read_bytes()).hexdigest()


def build_mission(root: Path, db_url: str, products: list[Product],
                  errordir: str | None = None) -> MissionUnderTest:
    (root / "inspectors").mkdir(parents=True, exist_ok=True)
    (root / "incoming").mkdir(exist_ok=True)
    sections = [textwrap.dedent("""
        [mission]
        mission_name = testmission
        rootdir = .
        incoming_dir = incoming
        inspectordir = inspectors
        """)]
    if errordir:
        sections[0] += f"errordir = {errordir}\n"
    sections.append("[satellite]\nsatellite_name = sat\n\n[instrument]\ninstrument_name = inst\n")
    for product in products:
        plugin_name = f"insp_{product.key}.py"
        (root / "inspectors" / plugin_name).write_text(product.plugin)
        relative_path = product.relative_path.format(key=product.key)
        sections.append(textwrap.dedent(f"""
            [product_{product.key}]
            product_name = {product.key}
            relative_path = {relative_path}
            level = {product.level}
            format = {product.format}
            inspector_filename = {plugin_name}
            inspector_relative_path = .
            inspector_version = 1.0.0
            inspector_date_written = 2025-01-01
            inspector_arguments = {product.arguments}
            """))
    config = root / "mission.conf"
    config.write_text("\n".join(sections))
    assert add_from_config.main(["-m", db_url, str(config)]) == 0
    return MissionUnderTest(root=root, db_url=db_url, config=config)


# The example mission (the `hello` fixture in conftest.py) driven as an operator would.

def load_and_ingest(m: MissionUnderTest) -> None:
    assert add_from_config.main(["-m", m.db_url, str(m.config)]) == 0
    for path in sorted((m.root / "data").iterdir()):
        m.add_incoming(path.name, path.read_bytes())
    assert process_queue.main(["-i", "-m", m.db_url, "-q"]) == 0


def first_wave(m: MissionUnderTest) -> tuple:
    """Load and ingest *m*; its tree and the run plans of its first wave."""
    from sqlalchemy.orm import Session

    from dbprocessing.mission.tree import load_mission
    from dbprocessing.process.planner import Planner

    load_and_ingest(m)
    engine = m.engine()
    try:
        with Session(engine) as session:
            tree = load_mission(session)
            return tree, Planner(session, tree).next_wave().plans
    finally:
        engine.dispose()


def take_waiting(results, plans: list) -> None:
    """Take every result of *plans* (at least two) from an executor's *results*,
    checking ``wait``: it says another run has finished (waiting for it), never
    waits once every run has been taken, and loses no run it waited for."""
    taken = [next(results)]
    assert results.wait(60)      # more will finish, well within a minute
    taken += list(results)
    began = time.monotonic()
    assert not results.wait(60)  # none left: at once, not after a minute
    assert time.monotonic() - began < 10
    assert sorted(r.plan.date for r in taken) == sorted(p.date for p in plans)
    assert all(r.ok for r in taken)


def process(m: MissionUnderTest, *extra: str) -> int:
    """ProcessQueue -p in this process; -v (print as on a terminal) unless -q is given."""
    talk = [] if {"-q", "-v"} & set(extra) else ["-v"]
    return process_queue.main(["-p", "-m", m.db_url, *talk, *extra])


def files(m: MissionUnderTest, prefix: str) -> dict[str, tuple]:
    return {r.filename: r for r in m.query(
        "SELECT filename, file_id, interface_version, quality_version, revision_version, "
        "shasum, verbose_provenance FROM file WHERE filename LIKE :p", p=prefix + "%")}


BROKEN = "#!/usr/bin/env python3\nimport sys\nprint('broken on purpose')\nsys.exit(3)\n"


def status(m: MissionUnderTest, capsys, *extra: str) -> tuple[int, dict]:
    capsys.readouterr()
    code = print_status.main(["-m", m.db_url, "--json", *extra])
    rows = json.loads(capsys.readouterr().out)
    return code, {(r["product"], r["date"]): r for r in rows}


def states(rows: dict, product: str) -> dict[str, str]:
    return {date: r["state"] for (p, date), r in rows.items() if p == product}


def l1_without_version_then_a_new_input(m: MissionUnderTest) -> None:
    """L1's format without {VERSION} (its plugin gives every file 1.0.0), L1 made,
    then a new version of an L0 input of three L1 dates' windows ingested."""
    conf = m.config.read_text().replace(
        "format = hello_L1_{Y}{m}{d}_v{VERSION}.txt", "format = hello_L1_{Y}{m}{d}.txt")
    m.config.write_text(conf.replace("version = inspector.extract_Version",
                                     "version = inspector"))
    plugin = m.root / "inspectors" / "hello_L1.py"
    plugin.write_text(plugin.read_text().replace(
        "version = inspector.extract_Version(self.basename)",
        "version = Version.Version(1, 0, 0)"))
    load_and_ingest(m)
    assert process(m, "-o", "hello_L0toL1", "-q") == 0
    m.add_incoming("hello_a_L0_20250103_v1.1.0.txt", "100\n")
    assert process_queue.main(["-i", "-m", m.db_url, "-q"]) == 0


def break_l2(m: MissionUnderTest) -> str:
    code = m.root / "codes" / "hello_L1toL2.py"
    good = code.read_text()
    code.write_text(BROKEN)
    return good


def every_row(m: MissionUnderTest) -> dict[str, list]:
    """Every row of every table, to show that a refused command changed nothing."""
    engine = m.engine()
    try:
        with engine.connect() as conn:
            return {t.name: sorted(map(repr, conn.execute(sa.select(t))))
                    for t in Base.metadata.sorted_tables}
    finally:
        engine.dispose()


def run_main(capsys, main, *argv: str) -> tuple[int, str, str]:
    """A command's main(argv): its exit code, stdout and stderr."""
    capsys.readouterr()
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err
