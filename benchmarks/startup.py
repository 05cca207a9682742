#!/usr/bin/env python3
"""Benchmark the fixed cost of a command: CPU of a no-op run against importing SQLAlchemy.

Cron starts ``ProcessQueue`` every few minutes, so what a run costs when there
is nothing to do counts.  This sets up a small SQLite mission (two products,
nothing incoming, nothing queued) in a temporary directory and runs, as child
processes, alternating with the reference ``python -c "import sqlalchemy,
sqlite3"``:

* ``ProcessQueue -i -m DB`` and ``ProcessQueue -p -m DB`` (nothing to do);
* ``python -c "import sqlalchemy.orm, sqlite3"``, the floor of any command
  that uses the ORM;
* with ``--help-rounds`` > 0, ``CMD -h`` of every console command in pyproject.

Each child's CPU time (user + system, from ``os.wait4``) is divided by the
reference run just before it; the median of those paired ratios over
``--rounds`` is printed with its range, so a busy machine slows both sides of
each pair alike.

    python benchmarks/startup.py                      # 9 rounds, -h of every command 3 rounds
    python benchmarks/startup.py --rounds 15 --help-rounds 0

Target (issue 13): a no-op ``ProcessQueue -i``/``-p`` at most 1.2x the reference.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from importlib.metadata import distribution
from pathlib import Path

REFERENCE = "import sqlalchemy, sqlite3"
FLOOR = "import sqlalchemy.orm, sqlite3"

CONFIG = """
[mission]
mission_name = startup
rootdir = .
incoming_dir = incoming
inspectordir = inspectors
codedir = codes

[satellite]
satellite_name = sat

[instrument]
instrument_name = inst

[product_a]
product_name = startup_a
relative_path = a/{Y}
level = 0
format = startup_a_{Y}{m}{d}_v{VERSION}.dat
inspector_filename = startup_a.py
inspector_relative_path = .
inspector_version = 1.0.0
inspector_date_written = 2025-01-01

[product_b]
product_name = startup_b
relative_path = b/{Y}
level = 1
format = startup_b_{Y}{m}{d}_v{VERSION}.dat
inspector_filename = startup_b.py
inspector_relative_path = .
inspector_version = 1.0.0
inspector_date_written = 2025-01-01

[process_b]
process_name = make_b
output_product = product_b
output_timebase = DAILY
extra_params =
required_input1 = ("product_a", 0, 0)
code_filename = make_b.py
code_relative_path = .
code_start_date = 2000-01-01
code_stop_date = 2100-01-01
code_version = 1.0.0
code_date_written = 2025-01-01
code_output_interface = 1
code_arguments =
code_cpu = 1
code_ram = 1
"""

PLUGIN = '''
from dbprocessing import inspector


class Inspector(inspector.inspector):
    code_name = "{name}"

    def inspect(self, kwargs):
        return None
'''


def child_cpu(argv: list[str], env: dict[str, str]) -> float:
    """Run *argv* to the end; its CPU seconds (user + system), refusing a failure."""
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=env)
    assert proc.stderr is not None
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    proc.stderr.close()
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}: "
                         f"{err.decode(errors='replace').strip()}")
    return usage.ru_utime + usage.ru_stime


def command_argv(name: str, entry: str) -> list[str]:
    """The installed console script beside this Python, else the same entry point via -c."""
    script = Path(sys.executable).parent / name
    if script.is_file():
        return [str(script)]
    module, func = entry.split(":")
    return [sys.executable, "-c",
            f"import sys; from {module} import {func}; sys.exit({func}())"]


def setup(root: Path, env: dict[str, str]) -> str:
    """A small SQLite mission with nothing incoming and nothing queued; its database path."""
    (root / "inspectors").mkdir()
    (root / "incoming").mkdir()
    (root / "codes").mkdir()
    for name in ("startup_a.py", "startup_b.py"):
        (root / "inspectors" / name).write_text(PLUGIN.format(name=name))
    (root / "codes" / "make_b.py").write_text("import sys\n")
    (root / "startup.conf").write_text(CONFIG)
    db = str(root / "startup.sqlite")
    scripts = console_scripts()
    for name, args in (("CreateDB", [db]),
                       ("addFromConfig", ["-m", db, str(root / "startup.conf")])):
        child_cpu(command_argv(name, scripts[name]) + args, env)
    return db


def console_scripts() -> dict[str, str]:
    """The installed distribution's console scripts: name -> module:function."""
    return {ep.name: ep.value for ep in distribution("dbprocessing").entry_points
            if ep.group == "console_scripts"}


def paired(argv: list[str], reference: list[str], rounds: int,
           env: dict[str, str]) -> tuple[list[float], list[float], list[float]]:
    """CPU of *argv* and of *reference*, alternating, and the ratio of each pair."""
    ours, refs, ratios = [], [], []
    for _ in range(rounds):
        ref = child_cpu(reference, env)
        cpu = child_cpu(argv, env)
        refs.append(ref)
        ours.append(cpu)
        ratios.append(cpu / ref)
    return ours, refs, ratios


def line(label: str, ours: list[float], refs: list[float], ratios: list[float]) -> str:
    return (f"{label:<30} {statistics.median(ours):>7.3f} {statistics.median(refs):>7.3f} "
            f"{statistics.median(ratios):>6.2f}  {min(ratios):.2f}-{max(ratios):.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=9,
                        help="pairs per ProcessQueue case; the median ratio is printed")
    parser.add_argument("--help-rounds", type=int, default=3,
                        help="pairs per -h of every console command (0: skip)")
    args = parser.parse_args()
    reference = [sys.executable, "-c", REFERENCE]
    scripts = console_scripts()
    print(f"CPU seconds (user + system) of each child, median of paired runs; "
          f"reference: python -c {REFERENCE!r}")
    header = f"{'command':<30} {'cpu s':>7} {'ref s':>7} {'ratio':>6}  range"
    with tempfile.TemporaryDirectory(prefix="dbp_startup_") as tmp:
        root = Path(tmp)
        env = dict(os.environ, DBPROCESSING_LOG_DIR=str(root / "logs"))
        db = setup(root, env)
        process_queue = command_argv("ProcessQueue", scripts["ProcessQueue"])
        child_cpu(process_queue + ["-i", "-m", db], env)  # warm the page cache
        print(header)
        worst = 0.0
        for mode in ("-i", "-p"):
            result = paired(process_queue + [mode, "-m", db], reference, args.rounds, env)
            worst = max(worst, statistics.median(result[2]))
            print(line(f"ProcessQueue {mode} (no-op)", *result), flush=True)
        # What any command using the ORM pays before doing anything of its own.
        result = paired([sys.executable, "-c", FLOOR], reference, args.rounds, env)
        print(line("floor: import the ORM", *result), flush=True)
        if args.help_rounds > 0:
            print(f"\n-h of every console command, {args.help_rounds} pairs each")
            print(header)
            for name, entry in scripts.items():
                result = paired(command_argv(name, entry) + ["-h"], reference,
                                args.help_rounds, env)
                print(line(f"{name} -h", *result), flush=True)
        shutil.rmtree(root / "logs", ignore_errors=True)
    verdict = "met" if worst <= 1.2 else "not met"
    print(f"\ntarget (issue 13): no-op ProcessQueue <= 1.20x the reference: {verdict} "
          f"(worst median {worst:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
