"""The Dask executor: the same rows as the local executor, and its faults.

One LocalCluster of two worker processes (each two threads with a ``cpu``
resource of 2, so that ``code_cpu`` has something to share) serves the
module; the commands reach it with ``--scheduler ADDRESS``.  A test that
kills workers has a cluster of its own.  The controller
killed mid-run starts its own cluster (in child processes of its own) in a
real child process.  Real
codes, real worker processes, both database backends.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from dbprocessing.cli import add_from_config, create_db, db_runner

from .missions import (
    BROKEN,
    LINGERER,
    REPO,
    MissionUnderTest,
    alive,
    files,
    first_wave,
    hello_header,
    load_and_ingest,
    process,
    take_waiting,
)

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
pytest.importorskip("dask_jobqueue")  # imported first: it adds its configuration defaults

from dbprocessing.process.executors.dask import (  # noqa: E402
    SCHEDULER_CONFIG,
    jobqueue_cluster,
)

# distributed warns when its dashboard port is taken by another process.
pytestmark = pytest.mark.filterwarnings("ignore:Port .* is already in use:UserWarning")

EXAMPLE = REPO / "examples" / "hello"


def start_cluster():
    with dask.config.set(SCHEDULER_CONFIG):
        return distributed.LocalCluster(n_workers=2, threads_per_worker=2, processes=True,
                                        resources={"cpu": 2}, dashboard_address=None,
                                        scheduler_kwargs={"dashboard_address": ":0"})


@pytest.fixture(scope="module")
def cluster():
    local = start_cluster()
    yield local
    local.close()


@pytest.fixture
def scheduler(cluster) -> str:
    """The module cluster's address."""
    return cluster.scheduler_address


@pytest.fixture
def own_scheduler() -> str:
    """The address of a cluster of its own, for a test that kills its workers."""
    local = start_cluster()
    yield local.scheduler_address
    local.close()


@pytest.fixture
def twin(backend, db_url, tmp_path, monkeypatch):
    """A second copy of the example mission, in a database of its own on the same backend."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'twin.sqlite'}"
        drop = None
    else:
        parsed = make_url(db_url)
        schema = f"twin_{uuid.uuid4().hex[:12]}"
        admin = sa.create_engine(parsed.difference_update_query(["options"]))
        with admin.begin() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        url = parsed.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False)

        def drop() -> None:
            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    assert create_db.main([url]) == 0
    root = tmp_path / "twin"
    shutil.copytree(EXAMPLE, root)
    yield MissionUnderTest(root, url, root / "hello.conf")
    if drop is not None:
        drop()


# -- a mission of five levels: the example, then a weekly and a monthly summary ----------

LEVELS_CONF = hello_header("counter") + """
[product_week]
product_name = hello_week
relative_path = week
level = 3
format = hello_week_{Y}{m}{d}_v{VERSION}.txt
inspector_filename = period.py
inspector_relative_path = .
inspector_version = 1.0.0
inspector_date_written = 2025-01-01

[product_month]
product_name = hello_month
relative_path = month
level = 4
format = hello_month_{Y}{m}{d}_v{VERSION}.txt
inspector_filename = period.py
inspector_relative_path = .
inspector_version = 1.0.0
inspector_date_written = 2025-01-01

[process_week]
process_name = hello_week
output_product = product_week
output_timebase = WEEKLY
required_input1 = hello_counter_L2
code_filename = count.py
code_relative_path = .
code_start_date = 2020-01-01
code_stop_date = 2030-12-31
code_version = 1.0.0
code_date_written = 2025-01-01

[process_month]
process_name = hello_month
output_product = product_month
output_timebase = MONTHLY
required_input1 = hello_week
code_filename = count.py
code_relative_path = .
code_start_date = 2020-01-01
code_stop_date = 2030-12-31
code_version = 1.0.0
code_date_written = 2025-01-01
"""
PERIOD_PLUGIN = """
from dbprocessing import inspector

class Inspector(inspector.inspector):
    code_name = 'period.py'

    def inspect(self, kwargs):
        if not self.basename.startswith(('hello_week_', 'hello_month_')):
            return None
        day = self.extract_YYYYMMDD()
        self.diskfile.params['utc_file_date'] = day.date()
        self.diskfile.params['utc_start_time'] = day
        self.diskfile.params['utc_stop_time'] = day
        self.diskfile.params['version'] = inspector.extract_Version(self.basename)
        return True
"""
COUNT = ("#!/usr/bin/env python3\nimport sys\n"
         "open(sys.argv[-1], 'w').write('%d\\n' % (len(sys.argv) - 2))\n")


def prepare(m: MissionUnderTest, levels: bool) -> None:
    if levels:  # two more weeks of data, so that weeks and months have several inputs
        for day in range(6, 20):
            m.add_incoming(f"hello_a_L0_202501{day:02d}_v1.0.0.txt", f"{day}\n")
            m.add_incoming(f"hello_b_L0_202501{day:02d}_v1.0.0.txt", f"{2 * day}\n")
    load_and_ingest(m)
    if levels:
        (m.root / "inspectors" / "period.py").write_text(PERIOD_PLUGIN)
        (m.root / "codes" / "count.py").write_text(COUNT)
        (m.root / "codes" / "count.py").chmod(0o755)
        (m.root / "levels.conf").write_text(LEVELS_CONF)
        assert add_from_config.main(["-m", m.db_url, str(m.root / "levels.conf")]) == 0


def snapshot(m: MissionUnderTest) -> dict:
    """Every output row and link by file name, with the mission root and the
    work directory names taken out of the command lines; no wall-clock times."""
    root = str(m.root)

    def clean(text: str | None) -> str | None:
        return None if text is None else re.sub(r"/\.work/[^/]+/", "/.work/*/",
                                                text.replace(root, "ROOT"))

    rows = m.query(
        "SELECT f.filename, p.product_name, f.utc_file_date, f.utc_start_time, "
        "f.utc_stop_time, f.data_level, f.interface_version, f.quality_version, "
        "f.revision_version, f.shasum, f.process_keywords, f.exists_on_disk, "
        "f.verbose_provenance FROM file f JOIN product p ON p.product_id = f.product_id")
    return {
        "file": sorted(tuple(r[:-1]) + (clean(r[-1]),) for r in rows),
        "filefilelink": sorted(tuple(r) for r in m.query(
            "SELECT s.filename, r.filename FROM filefilelink l "
            "JOIN file s ON s.file_id = l.source_file "
            "JOIN file r ON r.file_id = l.resulting_file")),
        "filecodelink": sorted(tuple(r) for r in m.query(
            "SELECT r.filename, c.filename, c.code_id FROM filecodelink l "
            "JOIN file r ON r.file_id = l.resulting_file "
            "JOIN code c ON c.code_id = l.source_code")),
        "queue": m.count("processqueue"),
        "report": sorted(clean((m.root / "report.txt").read_text()).splitlines()),
        "archive": sorted(str(p.relative_to(m.root)) for d in ("L1", "L2", "week", "month")
                          for p in (m.root / d).rglob("*") if p.is_file()),
    }


@pytest.mark.parametrize("levels", [False, True], ids=["example", "five-levels"])
def test_dask_makes_the_same_rows_as_local(hello, twin, scheduler, levels, capsys):
    prepare(hello, levels)
    prepare(twin, levels)
    assert process(hello, "-q") == 0
    capsys.readouterr()
    assert process(twin, "--executor", "dask", "--scheduler", scheduler) == 0
    out = capsys.readouterr().out
    local, dask_ = snapshot(hello), snapshot(twin)
    # 2 x 19 days of L0, 19 L1, 19 L2, 3 ISO weeks (from 2024-12-30), 2 months
    assert len(local["file"]) == (20 if not levels else 38 + 19 + 19 + 3 + 2)
    for table in local:
        assert dask_[table] == local[table], table
    assert "0 failed" in out and dask_["queue"] == 0
    assert not any((twin.root / ".work").iterdir())
    # Nothing to do the second time, on either executor.
    assert process(twin, "--executor", "dask", "--scheduler", scheduler) == 0
    assert "made 0 file(s), 0 RUN-process run(s)" in capsys.readouterr().out
    assert process(twin, "-q") == 0
    assert snapshot(twin) == dask_


def test_db_runner_on_dask(hello, scheduler, capsys, monkeypatch):
    load_and_ingest(hello)
    monkeypatch.setenv("DBPROCESSING_DASK_SCHEDULER", scheduler)
    assert db_runner.main(["-m", hello.db_url, "hello_L0toL1", "-s", "2025-01-01",
                           "-e", "2025-01-05", "-i", "--executor", "dask"]) == 0
    assert "made 5 file(s)" in capsys.readouterr().out
    assert len(files(hello, "hello_L1_")) == 5
    assert hello.count("filecodelink") == 5


SLEEPER = ("#!/usr/bin/env python3\nimport subprocess, sys, time\n"
           "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
           "open(sys.argv[-1], 'w').write(str(child.pid))\n"
           "time.sleep(60)\n")


def test_a_code_missing_from_disk_on_dask(hello, scheduler, capsys):
    """The reason a code could not start crosses from the worker: it names the file."""
    code = hello.root / "codes" / "hello_L0toL1.py"
    load_and_ingest(hello)
    code.rename(code.with_name("moved.py"))
    capsys.readouterr()
    assert process(hello, "--executor", "dask", "--scheduler", scheduler, "-o",
                   "hello_L0toL1") == 1
    out = capsys.readouterr().out
    assert out.count(f"cannot start the code: No such file or directory: {code}") == 5, out


def test_failing_codes_and_timeouts_on_dask(hello, scheduler, capsys):
    (hello.root / "codes" / "hello_L1toL2.py").write_text(BROKEN)
    load_and_ingest(hello)
    capsys.readouterr()
    assert process(hello, "--executor", "dask", "--scheduler", scheduler) == 1
    out = capsys.readouterr().out
    assert "made 5 file(s), 0 RUN-process run(s), 5 failed" in out
    prob = (hello.errordir() / "hello_L2_20250103_v1.0.0.txt.prob").read_text()
    assert "exited with status 3" in prob and "broken on purpose" in prob
    assert files(hello, "hello_L2_") == {} and hello.count("processqueue") == 0

    # A code past its timeout is killed on the worker with its children.  The
    # timeout leaves the code time to start its child and write the child's pid
    # on a loaded machine (1 s did not always).
    (hello.root / "codes" / "hello_L1toL2.py").write_text(SLEEPER)
    hello.config.write_text(hello.config.read_text().replace("code_timeout = 60",
                                                             "code_timeout = 5"))
    assert add_from_config.main(["-m", hello.db_url, str(hello.config)]) == 0
    engine = hello.engine()
    with engine.begin() as conn:  # queue the L1 files again
        conn.execute(sa.text("INSERT INTO processqueue (file_id) SELECT file_id FROM file "
                             "WHERE filename LIKE 'hello_L1_%'"))
    engine.dispose()
    began = time.monotonic()
    assert process(hello, "--executor", "dask", "--scheduler", scheduler) == 1
    assert time.monotonic() - began < 40
    out = capsys.readouterr().out
    assert out.count("timed out after 5 s and was killed") == 5, out
    assert files(hello, "hello_L2_") == {}
    # Each run's partial output (kept in the error directory) is its grandchild's pid.
    pids = [int(p.read_text()) for p in hello.errordir().glob("hello_L2_*.txt")]
    assert len(pids) == 5
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in pids)


TIMED = ("#!/usr/bin/env python3\nimport os, sys, time\n"
         "log = open(sys.argv[1], 'a')\nstart = time.time()\ntime.sleep(0.5)\n"
         "open(sys.argv[-1], 'w').write('x\\n')\n"
         "log.write('%d %f %f\\n' % (os.getppid(), start, time.time()))\n")


@pytest.mark.parametrize("cpu", [1, 2])
def test_code_cpu_is_a_dask_resource(hello, scheduler, cpu):
    """Each worker has cpu 2: runs of cpu 1 share a worker, runs of cpu 2 do not
    (but still run on both workers at once)."""
    log = hello.root / "runs.log"
    (hello.root / "codes" / "hello_L0toL1.py").write_text(TIMED)
    conf = hello.config.read_text().replace("code_arguments = --label {DATE}",
                                            f"code_arguments = {log}", 1)
    hello.config.write_text(conf.replace("code_cpu = 1", f"code_cpu = {cpu}", 1))
    load_and_ingest(hello)
    assert process(hello, "-o", "hello_L0toL1", "--executor", "dask", "--scheduler",
                   scheduler, "-q") == 0
    runs = [line.split() for line in log.read_text().splitlines()]
    assert len(runs) == 5
    by_worker: dict[str, list] = {}
    for worker, start, stop in runs:
        by_worker.setdefault(worker, []).append((float(start), float(stop)))

    def overlap(spans: list) -> bool:
        spans = sorted(spans)
        return any(b[0] < a[1] for a, b in zip(spans, spans[1:], strict=False))

    shared = any(overlap(spans) for spans in by_worker.values())
    assert shared is (cpu == 1)
    if cpu == 2:
        assert len(by_worker) == 2 and overlap([s for v in by_worker.values() for s in v])


# The code kills the Dask worker process running it (its parent), as the OOM
# killer or a lost node would: on the first attempt only, or on every attempt.
KILL_WORKER = ("#!/usr/bin/env python3\nimport os, signal, sys, time\n"
               "marker = sys.argv[1]\n"
               "if ALWAYS or not os.path.exists(marker):\n"
               "    open(marker, 'a').write('killed\\n')\n"
               "    os.kill(os.getppid(), signal.SIGKILL)\n"
               "    time.sleep(2)\n"
               "    sys.exit(9)\n"
               "open(sys.argv[-1], 'w').write('made on the retry\\n')\n")


@pytest.mark.slow
@pytest.mark.parametrize("always", [False, True], ids=["retried", "failed"])
def test_worker_killed_mid_run(hello, own_scheduler, always, capsys):
    marker = hello.root / "killed.marker"
    (hello.root / "codes" / "hello_L1toL2.py").write_text(
        KILL_WORKER.replace("ALWAYS", str(always)))
    hello.config.write_text(hello.config.read_text().replace(
        "code_arguments = --mission {MISSION}", f"code_arguments = {marker}"))
    load_and_ingest(hello)
    assert process(hello, "-o", "hello_L0toL1", "-q") == 0
    engine = hello.engine()
    with engine.begin() as conn:  # one L2 run only, so one worker dies at a time
        conn.execute(sa.text("DELETE FROM processqueue"))
        conn.execute(sa.text("INSERT INTO processqueue (file_id) SELECT file_id FROM file "
                             "WHERE filename = 'hello_L1_20250103_v1.0.0.txt'"))
    engine.dispose()
    capsys.readouterr()
    code = process(hello, "--executor", "dask", "--scheduler", own_scheduler)
    out = capsys.readouterr().out
    made = list((hello.root / "L2").rglob("*.txt")) if (hello.root / "L2").exists() else []
    if not always:
        assert code == 0, out
        assert marker.read_text() == "killed\n"  # killed once, then made on the retry
        assert sorted(files(hello, "hello_L2_")) == ["hello_L2_20250103_v1.0.0.txt"]
        assert [p.read_text() for p in made] == ["made on the retry\n"]
        assert hello.count("filecodelink") == 6
    else:
        assert code == 1
        assert marker.read_text() == "killed\nkilled\n"  # tried twice, then failed
        assert "its Dask worker died while running it, and again on the retry" in out
        assert files(hello, "hello_L2_") == {} and made == []
        assert (hello.errordir() / "hello_L2_20250103_v1.0.0.txt.prob").exists()
        assert hello.count("filecodelink") == 5
    assert hello.count("processqueue") == 0


@pytest.mark.slow
def test_controller_killed_during_a_dask_run_then_local_converges(hello):
    """ProcessQueue with its own LocalCluster, SIGKILLed after its third output."""
    load_and_ingest(hello)
    result = hello.run("-p", "--executor", "dask", "-n", "2",
                       env={"DBPROCESSING_KILL_AT": "output_recorded:3"})
    assert result.returncode == -signal.SIGKILL, result.stderr
    # Killed after the third output's commit: its transaction may hold more (the
    # runs finishing within pipeline.HOLD of each other are recorded together).
    assert 3 <= len(files(hello, "hello_L1_")) <= 5
    result = hello.run("-p")
    assert result.returncode == 0, result.stderr
    l1, l2 = files(hello, "hello_L1_"), files(hello, "hello_L2_")
    assert len(l1) == 5 and len(l2) == 5
    on_disk = sorted(p.name for p in (hello.root / "L1").rglob("*") if p.is_file())
    assert on_disk == sorted(l1)
    assert hello.count("processqueue") == 0 and hello.count("ingest_pending") == 0
    assert hello.count("filecodelink") == 10
    assert not any((hello.root / ".work").iterdir())  # the killed run's work dirs are gone


# The code records the pid of the Dask worker running it (its parent) and of that
# worker's parent, the process hosting the scheduler and the nannies.
PIDS = ("#!/usr/bin/env python3\nimport os, sys\n"
        "worker = os.getppid()\n"
        "host = open('/proc/%d/stat' % worker).read().rsplit(')', 1)[1].split()[1]\n"
        "open(sys.argv[1], 'a').write('%d %s\\n' % (worker, host))\n"
        "open(sys.argv[-1], 'w').write('x\\n')\n")
MARK = "DBPROCESSING_TEST_CLUSTER"


def cluster_processes(marker: str) -> set[int]:
    """The live processes whose environment carries *marker* (inherited from the controller)."""
    found = set()
    for entry in Path("/proc").iterdir():
        try:
            environ = (entry / "environ").read_bytes().split(b"\0") if entry.name.isdigit() else []
        except OSError:  # gone, or not ours
            continue
        if f"{MARK}={marker}".encode() in environ and alive(int(entry.name)):
            found.add(int(entry.name))
    return found


@pytest.mark.slow
def test_the_cluster_of_a_killed_controller_goes_away(hello, tmp_path, monkeypatch):
    """The cluster started by the command runs in child processes, which leave
    by themselves when the controller is SIGKILLed; a normal exit waits for them."""
    log = hello.root / "pids.log"
    (hello.root / "codes" / "hello_L0toL1.py").write_text(PIDS)
    hello.config.write_text(hello.config.read_text().replace(
        "code_arguments = --label {DATE}", f"code_arguments = {log}", 1))
    load_and_ingest(hello)
    marker = uuid.uuid4().hex
    env = dict(os.environ, DBPROCESSING_KILL_AT="output_recorded:1", **{MARK: marker})
    with open(tmp_path / "controller.out", "w") as out:
        controller = subprocess.Popen(
            [sys.executable, str(REPO / "scripts" / "ProcessQueue.py"), "-m", hello.db_url,
             "-p", "--executor", "dask", "-n", "2"], stdout=out, stderr=out, env=env)
        assert controller.wait(timeout=120) == -signal.SIGKILL
    ran = [tuple(int(p) for p in line.split()) for line in log.read_text().splitlines()]
    assert ran and all(host != controller.pid for _, host in ran)  # not in the controller
    deadline = time.monotonic() + 30
    while (left := cluster_processes(marker)) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in left:  # only to leave the machine clean when the test fails
        os.kill(pid, signal.SIGKILL)
    assert not left
    # A normal run (here, in this process): the cluster is shut down, and waited
    # for, before the command ends.
    monkeypatch.setenv(MARK, marker)
    assert process(hello, "-o", "hello_L0toL1", "--executor", "dask", "-n", "2", "-q") == 0
    assert cluster_processes(marker) == set()
    assert len(files(hello, "hello_L1_")) == 5


def test_a_cluster_that_does_not_start_leaves_the_queue(hello, tmp_path):
    """Its workers fail to start (a preload that raises): one clear line, exit 1,
    nothing run, the queue as it was; the next run does the work."""
    load_and_ingest(hello)
    preload = tmp_path / "no_worker.py"
    preload.write_text("raise RuntimeError('no worker, on purpose')\n")
    queued = hello.count("processqueue")
    result = hello.run("-p", "--executor", "dask", "-n", "2",
                       env={"DASK_DISTRIBUTED__WORKER__PRELOAD": json.dumps([str(preload)])})
    assert result.returncode == 1, result.stderr
    assert "the Dask cluster of 2 worker(s) did not start" in result.stderr
    assert hello.count("processqueue") == queued and files(hello, "hello_L1_") == {}
    assert process(hello, "-q") == 0
    assert len(files(hello, "hello_L1_")) == 5 and len(files(hello, "hello_L2_")) == 5


KILL_SCHEDULER = ("#!/usr/bin/env python3\nimport os, signal, sys, time\n"
                  "if sys.argv[2] == '20250103' and os.path.exists(sys.argv[1]):\n"
                  "    pid = int(open(sys.argv[1]).read())\n"
                  "    os.remove(sys.argv[1])\n"  # once: the rerun kills nothing
                  "    os.kill(pid, signal.SIGKILL)\n"
                  "    time.sleep(1)\n"
                  "open(sys.argv[-1], 'w').write(sys.argv[2] + ' 1 1\\n')\n")


@pytest.mark.slow
def test_scheduler_lost_stops_and_leaves_the_rest_queued(hello, tmp_path, capsys):
    """A scheduler and a worker of their own, as on a cluster; a code kills the scheduler."""
    address_file = tmp_path / "scheduler.json"
    dask_ = [sys.executable, "-m"]
    scheduler = subprocess.Popen(dask_ + ["distributed.cli.dask_scheduler", "--port", "0",
                                          "--no-dashboard", "--scheduler-file",
                                          str(address_file)], stderr=subprocess.DEVNULL)
    worker = None
    try:
        pid_file = tmp_path / "scheduler.pid"
        pid_file.write_text(str(scheduler.pid))
        deadline = time.monotonic() + 60
        while not address_file.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        worker = subprocess.Popen(dask_ + ["distributed.cli.dask_worker", "--scheduler-file",
                                           str(address_file), "--nthreads", "1",
                                           "--resources", "cpu=1", "--no-dashboard"],
                                  stderr=subprocess.DEVNULL)
        (hello.root / "codes" / "hello_L0toL1.py").write_text(KILL_SCHEDULER)
        hello.config.write_text(hello.config.read_text().replace(
            "code_arguments = --label {DATE}", f"code_arguments = {pid_file} {{DATE}}"))
        load_and_ingest(hello)
        capsys.readouterr()
        address = json.loads(address_file.read_text())["address"]
        code = process(hello, "--executor", "dask", "--scheduler", address)
        out = capsys.readouterr().out
        assert code == 1, out
        assert "STOPPED: lost the Dask scheduler" in out and "the rest stays queued" in out
        made = files(hello, "hello_L1_")
        assert len(made) < 5 and files(hello, "hello_L2_") == {}
        # the wave's ten entries stay; the outputs recorded joined the queue
        assert hello.count("processqueue") == 10 + len(made)
        assert sorted(p.name for p in (hello.root / "L1").rglob("*.txt")) == sorted(made) \
            if (hello.root / "L1").exists() else made == {}
    finally:
        for proc in (worker, scheduler):
            if proc is not None and proc.poll() is None:
                proc.kill()
            if proc is not None:
                proc.wait()
    assert process(hello, "-q") == 0
    assert len(files(hello, "hello_L1_")) == 5 and len(files(hello, "hello_L2_")) == 5
    assert hello.count("processqueue") == 0


JOBQUEUE_YAML = """
jobqueue:
  slurm:
    cores: 8
    processes: 2
    memory: 16GB
    queue: science
    account: mission-ops
    walltime: '04:00:00'
    local-directory: $TMPDIR
    job-script-prologue:
      - cd /data/mission
"""


def slurm_script(settings: dict) -> str:
    """The job script of a SLURMCluster made with these settings over the defaults,
    as a jobqueue.yaml file would give them."""
    with dask.config.set({f"jobqueue.slurm.{k}": v for k, v in settings.items()}):
        cluster = jobqueue_cluster("slurm", scheduler_options={"dashboard": False,
                                                               "dashboard_address": ":0"})
        try:
            return cluster.job_script()
        finally:
            cluster.close()


def test_slurm_job_script_from_dask_configuration():
    """No Slurm here: the job script is generated from dask-jobqueue's configuration."""
    import yaml
    settings = yaml.safe_load(JOBQUEUE_YAML)["jobqueue"]["slurm"]
    script = slurm_script(settings)
    assert "#SBATCH -p science" in script and "#SBATCH -A mission-ops" in script
    assert "#SBATCH -t 04:00:00" in script and "cd /data/mission" in script
    assert sys.executable in script
    # two worker processes of 4 threads, each declaring 4 cpu for code_cpu requests
    assert "--nworkers 2" in script and "--nthreads 4" in script
    assert "--resources cpu=4" in script
    # processes unset: one worker per job, declaring all the job's cores
    del settings["processes"]
    script = slurm_script(settings)
    assert "--nthreads 8" in script and "--resources cpu=8" in script


def test_dask_without_the_extra_is_a_usage_error(hello):
    load_and_ingest(hello)
    before = hello.count("logging")
    script = ("import sys; sys.modules['distributed'] = None\n"
              "from dbprocessing.cli.process_queue import main\n"
              f"sys.exit(main(['-p', '-m', {hello.db_url!r}, '--executor', 'dask']))\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2, result.stderr
    assert "pip install 'dbprocessing[dask]'" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert hello.count("logging") == before and files(hello, "hello_L1_") == {}
    assert process(hello, "--scheduler", "tcp://127.0.0.1:1") == 2  # local takes none
    assert hello.count("logging") == before


def test_dask_results_wait_for_the_next_only_while_runs_are_left(hello, scheduler):
    """As the local runner's: ``wait`` says another run has finished (looking in
    the outbox for it), and never waits once every run has been taken."""
    from dbprocessing.process.executors.dask import DaskExecutor

    tree, plans = first_wave(hello)
    assert len(plans) == 5  # the five L1 dates
    with distributed.Client(scheduler, set_as_default=False) as client:
        take_waiting(DaskExecutor(client).run(plans, tree), plans)


STARTED = ("#!/usr/bin/env python3\nimport sys, time\n"
           "open(sys.argv[1], 'a').write('started\\n')\ntime.sleep(5)\n"
           "open(sys.argv[-1], 'w').write('x\\n')\n")


def test_a_controller_stopping_early_cancels_the_tasks_still_out(tmp_path, own_scheduler):
    """The tasks are fire-and-forget: closing the run early (the recording
    raised) must cancel those not started, or they would run on without it."""
    import datetime

    from dbprocessing.mission.tree import MissionTree
    from dbprocessing.process.executors.dask import DaskExecutor
    from dbprocessing.process.planner import RunPlan
    from dbprocessing.Version import Version

    code, log = tmp_path / "started.py", tmp_path / "started.log"
    code.write_text(STARTED)
    code.chmod(0o755)
    tree = MissionTree(1, "m", tmp_path, tmp_path / "incoming", tmp_path, tmp_path,
                       tmp_path / "errors")
    plans = [RunPlan(1, "p", "DAILY", datetime.date(2025, 1, day), 1, code, Version(1, 0, 0),
                     str(log), "", 1, None, (), 1, f"out_{day}.txt", tmp_path, Version(1, 0, 0),
                     None, ("test",)) for day in range(1, 13)]
    with distributed.Client(own_scheduler, set_as_default=False) as client:
        runs = DaskExecutor(client).run(plans, tree)
        first = next(runs)  # 4 at once (2 workers, cpu 2 each): 3 rounds of 5 s
        assert first.ok
        runs.close()
        deadline = time.monotonic() + 60
        while client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)) \
                and time.monotonic() < deadline:
            time.sleep(0.2)
        assert client.run_on_scheduler(lambda dask_scheduler: len(dask_scheduler.tasks)) == 0
    # The first round (and any task started as it ended) ran; the rest never started.
    assert 4 <= len(log.read_text().splitlines()) < 12
    assert not any(p.name.startswith("dask-") for p in (tmp_path / ".work").iterdir())


@pytest.mark.slow
@pytest.mark.parametrize("where", ["own cluster", "scheduler"])
def test_an_interrupted_dask_run_stops_the_codes_on_the_workers(hello, request, where):
    """Ctrl-C while codes run on Dask workers: the controller ends and the codes
    (their process groups) are killed on the workers, on the command's own
    cluster and on a cluster that stays; nothing is recorded, the queue stays."""
    (hello.root / "codes" / "hello_L0toL1.py").write_text(LINGERER)
    load_and_ingest(hello)
    queued = hello.count("processqueue")
    started = hello.root / "started.txt"
    extra = [] if where == "own cluster" else [
        "--scheduler", request.getfixturevalue("scheduler")]
    child = subprocess.Popen(
        [sys.executable, str(REPO / "scripts" / "ProcessQueue.py"), "-m", hello.db_url, "-p",
         "-n", "2", "-o", "hello_L0toL1", "--executor", "dask", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not started.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert started.exists(), "no code started"
        time.sleep(0.5)
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    assert child.returncode == 130, err
    pids = [int(line.split()[0]) for line in started.read_text().splitlines()]
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    left = [pid for pid in pids if alive(pid)]
    for pid in left:  # only to leave the machine clean when the test fails
        os.kill(pid, signal.SIGKILL)
    assert not left, f"{len(left)} of {len(pids)} code(s) still running"
    assert files(hello, "hello_L1_") == {} and hello.count("processqueue") == queued
