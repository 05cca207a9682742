"""flushProcessQueue DB: remove every file from the process queue.

Refused (exit 3) while another run holds the processing lock: flushing under
a running ProcessQueue would lose its work. The files and their records stay;
only the queue entries go, so the next ProcessQueue -p has nothing to do
until files are ingested or queued again (reprocessBy*), but for the failed
runs scheduled for retry, which stay (it says how many).
"""
from __future__ import annotations

from collections.abc import Sequence

from . import ArgumentParser, parse, run_command

PROG = "flushProcessQueue"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog=PROG, description=__doc__.split(":", 1)[1].strip(),
                            epilog="exit codes: 0 flushed, 2 usage error, 3 the lock is held")
    parser.add_argument("database", help="the database (as -m of the other commands)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)

    from ..report.processqueue import flush_queue
    from .context import open_mission

    def body() -> int:
        with open_mission(args.database) as mission:
            count, retries = flush_queue(mission.engine, args.database)
        print(f"flushed {count} file(s) from the process queue")
        if retries:
            print(f"{retries} failed run(s) stay scheduled for retry: the next "
                  f"ProcessQueue -p retries those that are due (printStatus lists them)")
        return 0

    return run_command(PROG, body)
