"""ProcessQueue -i: ingest on real databases, real files and real plugins."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dbprocessing.cli import add_from_config, create_db, process_queue

from .missions import Product, build_mission, name_plugin, sha1

A = Product("prod_a", "a_{Y}{m}{d}_v{VERSION}.dat",
            name_plugin("insp_prod_a.py", r"^a_(?P<date>\d{8})_v(?P<version>\d+\.\d+\.\d+)\.dat$"))
# Claims any name with a YYYYMMDD date and a .dat suffix, version always 1.0.0.
ANY = Product("misc", "{???}", textwrap.dedent('''
    import datetime
    from dbprocessing import inspector, Version

    class Inspector(inspector.inspector):
        code_name = 'insp_misc.py'

        def inspect(self, kwargs):
            if not self.basename.endswith('.dat') or self.basename.startswith('a_'):
                return None
            day = self.extract_YYYYMMDD()
            if day is None:
                return None
            self.diskfile.params['utc_file_date'] = day.date()
            self.diskfile.params['utc_start_time'] = day
            self.diskfile.params['utc_stop_time'] = day + datetime.timedelta(days=1)
            self.diskfile.params['version'] = Version.Version(1, 0, 0)
            return True
    '''))


@pytest.fixture
def log_dir(tmp_path, monkeypatch):
    path = tmp_path / "logs"
    monkeypatch.setenv("DBPROCESSING_LOG_DIR", str(path))
    return path


@pytest.fixture
def mission(created_db, tmp_path, log_dir):
    return build_mission(tmp_path / "m", created_db, [A, ANY])


def ingest(m, *extra) -> int:
    """ProcessQueue -i in this process, printing as on a terminal (-v)."""
    return process_queue.main(["-i", "-m", m.db_url, "-v", *extra])


def test_example_mission_ingests_and_second_run_does_nothing(created_db, example_dir, log_dir,
                                                            capsys):
    assert add_from_config.main(["-m", created_db, str(example_dir / "hello.conf")]) == 0
    (example_dir / "incoming").mkdir()
    sources = sorted((example_dir / "data").iterdir())
    for path in sources:
        (example_dir / "incoming" / path.name).write_bytes(path.read_bytes())
    assert process_queue.main(["-i", "-m", created_db, "-v"]) == 0
    assert "ingested 10 file(s), rejected 0" in capsys.readouterr().out
    from .missions import MissionUnderTest
    m = MissionUnderTest(example_dir, created_db, example_dir / "hello.conf")
    rows = m.query("SELECT f.filename, f.shasum, p.relative_path, f.data_level, "
                   "u.unix_start, u.unix_stop, q.file_id FROM file f "
                   "JOIN product p ON p.product_id = f.product_id "
                   "JOIN unixtime u ON u.file_id = f.file_id "
                   "LEFT JOIN processqueue q ON q.file_id = f.file_id")
    assert len(rows) == 10
    for name, shasum, relative_path, level, start, stop, queued in rows:
        on_disk = example_dir / relative_path.replace("{Y}", "2025") / name
        assert on_disk.is_file() and sha1(on_disk) == shasum
        assert level == 0 and stop - start == 86400 and queued is not None
    assert list((example_dir / "incoming").iterdir()) == []
    assert m.count("ingest_pending") == 0
    (comment, running, end), = m.query(
        "SELECT comment, currently_processing, processing_end_time FROM logging")
    assert comment == "Nominal Exit" and not running and end is not None
    assert process_queue.main(["-i", "-m", created_db, "-v"]) == 0
    assert "ingested 0 file(s), rejected 0" in capsys.readouterr().out
    assert m.count("file") == 10 and m.count("logging") == 2


def test_name_already_in_database_goes_to_error_dir(mission, capsys):
    mission.add_incoming("a_20250101_v1.0.0.dat", "first")
    assert ingest(mission) == 0
    mission.add_incoming("a_20250101_v1.0.0.dat", "second")
    assert ingest(mission) == 1
    out = capsys.readouterr().out
    assert "already in the database" in out
    assert (mission.errordir() / "a_20250101_v1.0.0.dat").read_text() == "second"
    assert (mission.root / "prod_a/2025/a_20250101_v1.0.0.dat").read_text() == "first"
    assert mission.count("file") == 1


def test_unclaimed_and_dot_files(mission, capsys):
    mission.add_incoming("nobody_wants_me.txt")
    mission.add_incoming(".still_uploading_20250101.dat")
    assert ingest(mission) == 1
    assert "no product claims it: 1" in capsys.readouterr().out
    assert (mission.errordir() / "nobody_wants_me.txt").exists()
    assert (mission.incoming / ".still_uploading_20250101.dat").exists()


def test_glob_limits_what_is_ingested(mission):
    mission.add_incoming("a_20250101_v1.0.0.dat")
    mission.add_incoming("b_20250101.dat")
    assert ingest(mission, "--glb", "a_*") == 0
    assert [r[0] for r in mission.query("SELECT filename FROM file")] == ["a_20250101_v1.0.0.dat"]
    assert (mission.incoming / "b_20250101.dat").exists()


@pytest.mark.parametrize("name", [
    "with space 20250101.dat", "quote'\"20250102.dat", "ünïcødé_20250103.dat",
    "-leading-dash_20250104.dat", "semi;colon$(echo)_20250105.dat",
])
def test_awkward_names_are_ingested(mission, name):
    mission.add_incoming(name, name)
    assert ingest(mission) == 0
    assert (mission.root / "misc" / "2025" / name).read_text() == name
    assert mission.query("SELECT filename FROM file")[0][0] == name


def test_a_name_that_is_not_utf8_is_rejected_not_fatal(mission, capsys):
    """A byte that is not UTF-8 in a name (an uploader's Latin-1): that file goes to
    the error directory with the reason, logged with the byte as \\xff; the others
    are ingested (the run used to stop on it, every run after too)."""
    bad = os.fsdecode(b"misc_\xff_20250101.dat")
    mission.add_incoming(bad, "latin")
    mission.add_incoming("misc_20250102.dat", "fine")
    assert ingest(mission, "-v") == 1
    out = capsys.readouterr().out
    assert "rejected misc_\\xff_20250101.dat: the file name is not UTF-8" in out
    assert "the file name is not UTF-8: 1" in out
    assert (mission.errordir() / bad).read_text() == "latin"
    assert [r[0] for r in mission.query("SELECT filename FROM file")] == ["misc_20250102.dat"]
    assert mission.query("SELECT filename, accepted FROM ingest_event WHERE NOT accepted") \
        == [("misc_\\xff_20250101.dat", False)]
    assert not any(mission.incoming.iterdir())


def test_a_file_where_the_product_directory_should_be(mission, capsys):
    """The archive directory cannot be made (a file in its way): the file is rejected
    before it is recorded, saying why; -d says so too; other files are ingested."""
    (mission.root / "misc").mkdir()
    (mission.root / "misc" / "2025").write_text("in the way\n")
    mission.add_incoming("misc_20250101.dat", "blocked")
    mission.add_incoming("misc_20240101.dat", "fine")
    reason = f"cannot make its archive directory {mission.root / 'misc' / '2025'}"
    assert ingest(mission, "-d", "-v") == 0
    assert f"would reject misc_20250101.dat: {reason}: Not a directory" in \
        capsys.readouterr().out
    assert ingest(mission, "-v") == 1
    assert f"rejected misc_20250101.dat: {reason}: File exists" in capsys.readouterr().out
    assert (mission.errordir() / "misc_20250101.dat").read_text() == "blocked"
    assert [r[0] for r in mission.query("SELECT filename FROM file")] == ["misc_20240101.dat"]
    assert mission.count("ingest_pending") == 0


def test_a_reject_when_the_error_directory_cannot_be_made(mission, capsys):
    """The file stays in incoming, and the reason says so (cron mails the line)."""
    mission.errordir().write_text("in the way\n")
    mission.add_incoming("nobody_wants_me.txt")
    assert ingest(mission) == 1
    assert (f"rejected nobody_wants_me.txt: no product claims it (left in incoming: "
            f"cannot move it into {mission.errordir()})") in capsys.readouterr().out
    assert (mission.incoming / "nobody_wants_me.txt").exists()


def test_identity_clash_is_rejected(mission, capsys):
    mission.add_incoming("x_20250101.dat", "x")
    mission.add_incoming("y_20250101.dat", "y")
    assert ingest(mission) == 1
    assert "same product, date and version as x_20250101.dat" in capsys.readouterr().out
    assert (mission.errordir() / "y_20250101.dat").read_text() == "y"


def test_empty_file_is_rejected(mission, capsys):
    mission.add_incoming("a_20250101_v1.0.0.dat", "")
    assert ingest(mission) == 1
    assert "empty file" in capsys.readouterr().out
    assert (mission.errordir() / "a_20250101_v1.0.0.dat").exists()


def test_nothing_is_overwritten_in_error_dir(mission):
    mission.errordir().mkdir()
    (mission.errordir() / "junk.txt").write_text("old")
    (mission.errordir() / "junk.txt.1").write_text("older")
    mission.add_incoming("junk.txt", "new")
    assert ingest(mission) == 1
    assert (mission.errordir() / "junk.txt").read_text() == "old"
    assert (mission.errordir() / "junk.txt.1").read_text() == "older"
    assert (mission.errordir() / "junk.txt.2").read_text() == "new"


def test_untracked_file_in_product_dir_is_kept(mission, capsys):
    target = mission.root / "prod_a" / "2025" / "a_20250101_v1.0.0.dat"
    target.parent.mkdir(parents=True)
    target.write_text("untracked")
    mission.add_incoming("a_20250101_v1.0.0.dat", "newcomer")
    assert ingest(mission) == 1
    assert "already in" in capsys.readouterr().out
    assert target.read_text() == "untracked"
    assert (mission.errordir() / "a_20250101_v1.0.0.dat").read_text() == "newcomer"
    assert mission.count("file") == 0


def test_product_path_may_not_escape_root(created_db, tmp_path, log_dir, capsys):
    escaping = Product("esc", "e_{Y}{m}{d}.dat", name_plugin(
        "insp_esc.py", r"^e_(?P<date>\d{8})\.dat$"), relative_path="../../outside")
    m = build_mission(tmp_path / "m", created_db, [escaping])
    m.add_incoming("e_20250101.dat")
    assert ingest(m) == 1
    assert "leaves the mission root" in capsys.readouterr().out
    assert not (tmp_path.parent / "outside").exists()
    assert (m.errordir() / "e_20250101.dat").exists()


def test_symlinks(mission, capsys):
    real = mission.root / "prod_a" / "2025" / "a_20250102_v1.0.0.dat"
    real.parent.mkdir(parents=True)
    real.write_text("real data")
    os.symlink(real, mission.incoming / real.name)
    os.symlink(mission.root / "nowhere.dat", mission.incoming / "dangling_20250103.dat")
    os.symlink(mission.incoming / "loop2_20250104.dat", mission.incoming / "loop1_20250104.dat")
    os.symlink(mission.incoming / "loop1_20250104.dat", mission.incoming / "loop2_20250104.dat")
    assert ingest(mission) == 1
    out = capsys.readouterr().out
    assert "ingested 1 file(s), rejected 3" in out
    assert not os.path.lexists(mission.incoming / real.name)
    assert real.read_text() == "real data" and not real.is_symlink()
    (shasum,), = [r[:1] for r in mission.query("SELECT shasum FROM file")]
    assert shasum == sha1(real)
    assert "missing target" in out and "loop" in out
    for name in ("dangling_20250103.dat", "loop1_20250104.dat", "loop2_20250104.dat"):
        assert os.path.lexists(mission.errordir() / name)


def test_errordir_from_config_is_honoured(created_db, tmp_path, log_dir):
    m = build_mission(tmp_path / "m", created_db, [A], errordir="rejects")
    m.add_incoming("junk.txt")
    assert ingest(m) == 1
    assert (m.root / "rejects" / "junk.txt").exists()
    assert not (m.root / "errors").exists()


def test_dry_run_changes_nothing(mission, capsys):
    mission.add_incoming("a_20250101_v1.0.0.dat")
    mission.add_incoming("junk.txt")
    before = sorted(p.name for p in mission.root.rglob("*"))
    assert ingest(mission, "-d") == 0  # a dry run only reports what would be rejected
    out = capsys.readouterr().out
    assert "would ingest a_20250101_v1.0.0.dat" in out and "would reject junk.txt" in out
    assert sorted(p.name for p in mission.root.rglob("*")) == before
    assert mission.count("file") == 0 and mission.count("logging") == 0


PLUGINS = {
    "args": ('''
from dbprocessing import inspector, Version
import datetime

class Inspector(inspector.inspector):
    code_name = 'args'

    def inspect(self, kwargs):
        if kwargs.get('prefix') is None or not self.basename.startswith(kwargs['prefix']):
            return None
        day = inspector.extract_YYYYMMDD(self.basename)
        self.diskfile.params['utc_file_date'] = day.date()
        self.diskfile.params['utc_start_time'] = day
        self.diskfile.params['utc_stop_time'] = day
        self.diskfile.params['version'] = Version.Version(1, 0, 0)
        return True
''', "prefix=args_ other=1", "args_20250101.txt", True),
    "dblogger": ('''
from dbprocessing import inspector, Version, DBlogging
import datetime

class Inspector(inspector.inspector):
    code_name = 'dblogger'

    def inspect(self, kwargs):
        DBlogging.dblogger.info('dblogger plugin looked at %s', self.basename)
        if not self.basename.startswith('log_'):
            return None
        day = self.extract_YYYYMMDD()
        self.diskfile.params['utc_file_date'] = day.date()
        self.diskfile.params['utc_start_time'] = day
        self.diskfile.params['utc_stop_time'] = day
        self.diskfile.params['version'] = inspector.extract_Version(self.basename)
        return True
''', "", "log_20250101_v1.2.3.txt", True),
    "tabs": ('''
from dbprocessing import inspector, Version

class Inspector(inspector.inspector):
\tcode_name = 'tabs'

\tdef inspect(self, kwargs):
\t\tif not self.basename.startswith('tab_'):
\t\t\treturn None
\t\tday = self.extract_YYYYMMDD()
\t\tself.diskfile.params['utc_file_date'] = day.date()
\t\tself.diskfile.params['utc_start_time'] = day
\t\tself.diskfile.params['utc_stop_time'] = day
\t\tself.diskfile.params['version'] = Version.Version(2, 0, 0)
\t\treturn True
''', "", "tab_20250101.txt", True),
    "raises": ('''
from dbprocessing import inspector

class Inspector(inspector.inspector):
    code_name = 'raises'

    def inspect(self, kwargs):
        raise ValueError('this plugin always fails')
''', "", "raise_20250101.txt", False),
    "syntax": ('''
from dbprocessing import inspector

class Inspector(inspector.inspector)
    code_name = 'syntax'
''', "", "syntax_20250101.txt", False),
    "level": ('''
from dbprocessing import inspector, Version

class Inspector(inspector.inspector):
    code_name = 'level'

    def inspect(self, kwargs):
        if not self.basename.startswith('lvl_'):
            return None
        day = self.extract_YYYYMMDD()
        self.diskfile.params['utc_file_date'] = day.date()
        self.diskfile.params['utc_start_time'] = day
        self.diskfile.params['utc_stop_time'] = day
        self.diskfile.params['version'] = Version.Version(1, 0, 0)
        self.diskfile.params['data_level'] = 7
        return True
''', "", "lvl_20250101.txt", True),
}


@pytest.mark.parametrize("kind", list(PLUGINS))
def test_plugins_in_the_original_style(created_db, tmp_path, log_dir, kind, capsys):
    source, arguments, filename, claims = PLUGINS[kind]
    plugin = Product(kind, "{????}", source, level=1, arguments=arguments)
    m = build_mission(tmp_path / "m", created_db, [plugin, A])
    m.add_incoming(filename)
    m.add_incoming("a_20250101_v1.0.0.dat")  # the run goes on whatever the plugin does
    assert ingest(m) == (0 if claims else 1)
    names = {r[0]: r[1] for r in m.query("SELECT filename, data_level FROM file")}
    assert "a_20250101_v1.0.0.dat" in names
    assert (filename in names) == claims
    log = "".join(p.read_text() for p in log_dir.iterdir())
    out = capsys.readouterr().out
    if kind == "raises":  # the reject reason names the plugin and its error
        (reason,) = [r[0] for r in m.query("SELECT reason FROM ingest_event "
                                           "WHERE accepted = false")]
        assert "no product claims it" not in reason
        assert "no product claims it" not in out
    if kind == "raises":
        assert "this plugin always fails" in log and "Traceback" in log
        assert reason.startswith("plugin insp_raises.py raised ValueError: this plugin "
                                 "always fails (product raises)")
        assert "rejected 1 (plugin insp_raises.py raised ValueError: 1)" in out
        assert f"rejected {filename}: plugin insp_raises.py raised ValueError" in out
    if kind == "syntax":  # held in incoming until it loads, the plugin and error named
        assert "cannot be loaded" in log and "SyntaxError" in log
        assert f"held {filename}: plugin insp_syntax.py could not be loaded (SyntaxError:" \
            in out
        assert (m.incoming / filename).exists()
        assert m.count("ingest_event") == 1  # a_20250101_v1.0.0.dat only
    if kind == "level":
        assert names[filename] == 1  # the product's level, not the plugin's 7
        assert "set data_level" in log
    if kind == "dblogger":
        assert "dblogger plugin looked at log_20250101_v1.2.3.txt" in log
        assert m.query("SELECT interface_version, quality_version, revision_version "
                       "FROM file WHERE filename = :n", n=filename)[0] == (1, 2, 3)


def test_two_claimants_is_a_configuration_error(created_db, tmp_path, log_dir, capsys):
    twin = Product("twin", "a_{Y}{m}{d}_v{VERSION}.dat", name_plugin(
        "insp_twin.py", r"^a_(?P<date>\d{8})_v(?P<version>\d+\.\d+\.\d+)\.dat$"))
    m = build_mission(tmp_path / "m", created_db, [A, twin])
    m.add_incoming("a_20250101_v1.0.0.dat")
    assert ingest(m) == 1
    assert "claimed by several products: prod_a, twin" in capsys.readouterr().out
    assert "prod_a, twin" in "".join(p.read_text() for p in log_dir.iterdir())


def test_plugins_are_loaded_once_per_run(created_db, tmp_path, log_dir):
    counter = tmp_path / "imports.txt"
    source = (f"open({str(counter)!r}, 'a').write('imported\\n')\n"
              + name_plugin("insp_prod_a.py", r"^a_(?P<date>\d{8})_v(?P<version>\d+\.\d+\.\d+)\.dat$"))
    m = build_mission(tmp_path / "m", created_db, [Product("prod_a", A.format, source)])
    for day in range(1, 21):
        m.add_incoming(f"a_202501{day:02d}_v1.0.0.dat")
    assert ingest(m) == 0
    assert m.count("file") == 20
    assert counter.read_text().count("imported") == 1


def test_logs_go_to_daily_file_and_import_creates_nothing(mission, log_dir, tmp_path):
    env = dict(os.environ, HOME=str(tmp_path / "home"), DBPROCESSING_LOG_DIR=str(tmp_path / "l2"))
    code = ("import dbprocessing, dbprocessing.DBlogging, dbprocessing.inspector, "
            "dbprocessing.Version, dbprocessing.ingest.pipeline, "
            "dbprocessing.process.pipeline, dbprocessing.cli.process_queue")
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    assert not (tmp_path / "l2").exists() and not (tmp_path / "home").exists()
    mission.add_incoming("a_20250101_v1.0.0.dat")
    assert ingest(mission, "-l", "debug") == 0
    import datetime
    today = datetime.datetime.now(datetime.timezone.utc).date().isoformat()
    stem = mission.db_url.rsplit("/", 1)[-1].split("?")[0].removesuffix(".sqlite")
    log = log_dir / f"dbprocessing_{stem}.log.{today}"
    assert log.is_file(), list(log_dir.iterdir())
    assert "ingested a_20250101_v1.0.0.dat" in log.read_text()


def test_each_ingested_file_has_a_log_line_of_its_own(mission, log_dir):
    # The batch's lines are written as one record, each with the usual prefix.
    names = [f"a_2025010{d}_v1.0.0.dat" for d in (1, 2, 3)]
    for name in names:
        mission.add_incoming(name)
    assert ingest(mission) == 0
    text = "".join(path.read_text() for path in log_dir.iterdir())
    prefix = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO dbprocessing\.ingest\.pipeline \d+: "
    for name in names:
        assert re.search(f"^{prefix}ingested {re.escape(name)} -> \\S+/{re.escape(name)}$",
                         text, re.MULTILINE), text


def test_echo_prints_sql(mission, capfd):
    mission.add_incoming("a_20250101_v1.0.0.dat")
    assert ingest(mission, "--echo") == 0
    captured = capfd.readouterr()
    assert "INSERT INTO file" in captured.out + captured.err


@pytest.mark.parametrize("argv, message", [
    (["-i"], "required"),
    (["-i", "-p", "-m", "x"], "not allowed with"),
    (["-i", "-m", "x", "-l", "LOUD"], "invalid choice"),
])
def test_bad_arguments_exit_2(argv, message, capsys):
    with pytest.raises(SystemExit) as info:
        process_queue.main(argv)
    assert info.value.code == 2
    assert message in capsys.readouterr().err


def test_missing_database_file_exits_2(capsys):
    assert process_queue.main(["-i", "-m", "nothere/x.sqlite"]) == 2
    assert "no database file at nothere/x.sqlite" in capsys.readouterr().err


def test_database_without_mission(created_db, capsys, log_dir):
    assert ingest(type("M", (), {"db_url": created_db})) == 2
    assert "no mission" in capsys.readouterr().err


DBU_PLUGIN = '''
from dbprocessing import inspector

class Inspector(inspector.inspector):
    code_name = 'dbu'

    def inspect(self, kwargs):
        # The original's plugins read rows through self.dbu (a DButils).
        product = self.dbu.getEntry('Product', self.product)
        if not self.basename.startswith(product.product_name + '_'):
            return None
        day = self.extract_YYYYMMDD()
        self.diskfile.params['utc_file_date'] = day.date()
        self.diskfile.params['utc_start_time'] = day
        self.diskfile.params['utc_stop_time'] = day
        self.diskfile.params['version'] = inspector.extract_Version(self.basename)
        self.diskfile.params['quality_comment'] = self.dbu.getEntry('product', self.product).format
        return True
'''


def test_plugins_read_rows_through_dbu_across_batches(created_db, tmp_path, log_dir):
    # Ingest itself reads and writes through Core; the session a plugin's
    # getEntry reads through is opened on demand and ended with each batch.
    m = build_mission(tmp_path / "m", created_db,
                      [Product("dbu", "dbu_{Y}{m}{d}_v{VERSION}.txt", DBU_PLUGIN), A])
    names = [f"dbu_202503{day:02d}_v1.0.0.txt" for day in range(1, 6)]
    for name in names + ["a_20250301_v1.0.0.dat"]:
        m.add_incoming(name)
    assert ingest(m, "--batch-size", "2") == 0
    rows = dict(m.query("SELECT filename, quality_comment FROM file"))
    assert rows == {**{name: "dbu_{Y}{m}{d}_v{VERSION}.txt" for name in names},
                    "a_20250301_v1.0.0.dat": None}
    assert list(m.incoming.iterdir()) == []


def test_ingest_does_not_import_the_orm(mission, log_dir):
    # The ORM and the models cost a small cron run more than its files do:
    # ingest goes through Core only, unless a plugin asks self.dbu for a row.
    for day in range(1, 4):
        mission.add_incoming(f"a_202504{day:02d}_v1.0.0.dat")
    code = ("import sys\nfrom dbprocessing.cli import process_queue\n"
            f"code = process_queue.main(['-i', '-m', {mission.db_url!r}, '-q'])\n"
            "print(code, 'sqlalchemy.orm' in sys.modules, 'dbprocessing.db.models' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-3:] == ["0", "False", "False"]
    assert mission.count("file") == 3


def test_create_db_then_ingest_via_scripts(tmp_path, log_dir):
    """The scripts/ shims, as existing crontabs call them."""
    db = tmp_path / "m.sqlite"
    assert create_db.main([str(db)]) == 0
    m = build_mission(tmp_path / "m", str(db), [A])
    m.add_incoming("a_20250101_v1.0.0.dat")
    result = m.run("-i", "-v")
    assert result.returncode == 0, result.stderr
    assert "ingested 1 file(s)" in result.stdout


def test_small_batches_leave_no_promise_behind(mission):
    # A batch's promises are cleared with the next batch's commit, the last
    # batch's at the end: after the run none is left, every file is in place.
    names = [f"a_202501{day:02d}_v1.0.0.dat" for day in range(1, 6)]
    for name in names:
        mission.add_incoming(name)
    mission.add_incoming("unclaimed.txt")  # a reject in the last batch
    assert ingest(mission, "--batch-size", "2") == 1
    assert mission.count("ingest_pending") == 0
    assert mission.count("processqueue") == len(names)
    assert sorted(p.name for p in (mission.root / "prod_a" / "2025").iterdir()) == names
    assert [p.name for p in mission.incoming.iterdir()] == []


def test_small_batches_record_every_decision_once(mission):
    # Many batches (on PostgreSQL each commits while the next is identified):
    # every file has one event, every accepted one the id of its row and a
    # queue entry, rejects are in the error directory, and the twin of a file
    # recorded by the batch before (same product, date and version) is refused.
    names = [f"a_202502{day:02d}_v1.0.0.dat" for day in range(1, 12)]
    junk = ["junk_1.txt", "junk_2.txt", "junk_3.txt"]
    for name in names + junk + ["x_20250301.dat", "y_20250301.dat"]:
        mission.add_incoming(name)  # batches of 3: x in the fifth, y alone in the sixth
    assert ingest(mission, "--batch-size", "3") == 1
    rows = {r.filename: r.file_id for r in mission.query("SELECT filename, file_id FROM file")}
    assert sorted(rows) == names + ["x_20250301.dat"]
    events = mission.query("SELECT filename, accepted, file_id, reason FROM ingest_event")
    assert len(events) == len(names) + len(junk) + 2
    assert {e.filename: e.file_id for e in events if e.accepted} == rows
    refused = {e.filename: e.reason for e in events if not e.accepted}
    assert sorted(refused) == junk + ["y_20250301.dat"]
    assert refused["y_20250301.dat"] == "same product, date and version as x_20250301.dat"
    assert mission.count("processqueue") == len(rows)
    assert mission.count("unixtime") == len(rows)
    assert mission.count("ingest_pending") == 0
    assert sorted(p.name for p in (mission.root / "prod_a" / "2025").iterdir()) == names
    assert sorted(p.name for p in mission.errordir().iterdir()
                  if p.name in refused) == sorted(refused)
    assert list(mission.incoming.iterdir()) == []


def test_a_broken_plugin_holds_the_files_nobody_else_claims(hello, capsys):
    """hello_L0.py serves both L0 products: with a syntax error in it (a bad deploy),
    the files no other inspector claims wait in incoming, each said once a run
    (exit 1) and nothing logged as rejected; the L1 file is ingested as usual; once
    the plugin is mended the next run ingests the rest."""
    assert add_from_config.main(["-m", hello.db_url, str(hello.config)]) == 0
    plugin = hello.root / "inspectors" / "hello_L0.py"
    good = plugin.read_text()
    plugin.write_text(good + "\ndef broken(:\n")
    hello.add_incoming("hello_a_L0_20250101_v1.0.0.txt", "1\n")
    hello.add_incoming("hello_b_L0_20250101_v1.0.0.txt", "2\n")
    hello.add_incoming("hello_L1_20250101_v1.0.0.txt", "20250101 1 2\n")
    capsys.readouterr()
    for _ in range(2):
        assert process_queue.main(["-i", "-m", hello.db_url, "-v"]) == 1
        out = capsys.readouterr().out
        held = [line for line in out.splitlines() if line.startswith("held ")]
        assert len(held) == 2 and all(line.count("could not be loaded") == 1 for line in held)
        assert held[0].startswith("held hello_a_L0_20250101_v1.0.0.txt: plugin hello_L0.py "
                                  "could not be loaded (SyntaxError:")
        assert held[0].endswith("; no other product claims it: kept in incoming until the "
                                "inspector loads")
        assert "2 held in incoming (an inspector could not be loaded)" in out
        assert sorted(p.name for p in hello.incoming.iterdir()) == [
            "hello_a_L0_20250101_v1.0.0.txt", "hello_b_L0_20250101_v1.0.0.txt"]
        assert hello.query("SELECT filename, accepted FROM ingest_event") == [
            ("hello_L1_20250101_v1.0.0.txt", True)]
        assert not hello.errordir().exists()
    plugin.write_text(good)
    assert process_queue.main(["-i", "-m", hello.db_url]) == 0
    assert hello.count("file") == 3 and list(hello.incoming.iterdir()) == []


def test_sigterm_while_a_plugin_loads_stops_the_run_and_keeps_the_files(hello):
    """SIGTERM arriving while a plugin is imported is not the plugin's fault: the
    run stops (143) instead of taking the plugin for broken and rejecting every
    file it would claim; the files stay in incoming for the next run."""
    assert add_from_config.main(["-m", hello.db_url, str(hello.config)]) == 0
    plugin = hello.root / "inspectors" / "hello_L0.py"
    good = plugin.read_text()
    plugin.write_text("import os, signal\nos.kill(os.getpid(), signal.SIGTERM)\n" + good)
    hello.add_incoming("hello_a_L0_20250101_v1.0.0.txt", "1\n")
    result = hello.run("-i")
    assert result.returncode == 143, result.stderr
    assert result.stderr.strip().splitlines()[-1] == "ProcessQueue: terminated"
    assert (hello.incoming / "hello_a_L0_20250101_v1.0.0.txt").is_file()
    assert not hello.errordir().exists() or not any(hello.errordir().iterdir())
    assert hello.count("file") == 0
    plugin.write_text(good)
    assert hello.run("-i").returncode == 0 and hello.count("file") == 1



MOVE_WITH_A_SIZE_LIMIT = """
import resource, signal, sys
from pathlib import Path
from dbprocessing.ingest.archive import move_file
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))  # as a full disk, for the copy
try:
    move_file(Path(sys.argv[1]), Path(sys.argv[2]))
except OSError as exc:
    print(type(exc).__name__)
"""


def test_a_copy_across_filesystems_that_fails_leaves_no_partial_file(tmp_path):
    """A move to another filesystem copies; when the copy fails (the disk full) the
    half copy is removed (it only took room) and the source stays."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("needs /dev/shm on a filesystem of its own")
    source = shm / f"dbprocessing-test-{os.getpid()}.dat"
    source.write_bytes(b"x" * 100_000)
    try:
        target = tmp_path / "archive" / "a.dat"
        target.parent.mkdir()
        result = subprocess.run([sys.executable, "-c", MOVE_WITH_A_SIZE_LIMIT, str(source),
                                 str(target)], capture_output=True, text=True, timeout=60)
        assert result.stdout.strip() == "OSError", result.stderr
        assert list(target.parent.iterdir()) == []
        assert source.stat().st_size == 100_000
    finally:
        source.unlink()
