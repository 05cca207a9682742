"""The commands.  One module per command: ``build_parser()`` and ``main(argv) -> int``.

A command parses its arguments, opens the database, takes the lock where
needed, calls one library function, and turns a DBProcessingError into one
line on stderr and an exit code.  Exit codes, the same for every command:

==  ==========================================================
0   everything asked for was done
1   some work failed (files rejected, runs failed); the rest was done
2   usage or configuration error; nothing was written
3   another run holds the processing lock
==  ==========================================================
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from ..errors import EXIT_USAGE, DBProcessingError, UsageError


class ArgumentParser(argparse.ArgumentParser):
    """argparse that exits 2 with one line (argparse's own habit, kept explicit)."""

    def error(self, message: str):  # type: ignore[override]
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def run_command(prog: str, body: Callable[[], int]) -> int:
    """Run a command body, turning our errors into one line and an exit code."""
    try:
        return body()
    except DBProcessingError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130


def parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    return parser.parse_args(list(sys.argv[1:] if argv is None else argv))


def date_argument(text: str):
    """A date written 2012-10-02 or 20121002, for argparse."""
    from ..mission.config import parse_date

    try:
        return parse_date(text, UsageError)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_reprocess_options(parser: argparse.ArgumentParser) -> None:
    """-m, -s, -e and --force, shared by the reprocessBy* commands."""
    parser.add_argument("-m", "--mission", required=True, help="the database")
    parser.add_argument("-s", "--startDate", dest="start", type=date_argument,
                        help="first date (2012-10-02 or 20121002)")
    parser.add_argument("-e", "--endDate", dest="end", type=date_argument,
                        help="last date, inclusive")
    parser.add_argument("--force", type=int, choices=(0, 1, 2),
                        help="forced bump of the outputs: 0 interface, 1 quality, 2 revision")


def run_reprocess(prog: str, args: argparse.Namespace, select_and_queue) -> int:
    """Open the database, queue what *select_and_queue(session)* selects, report."""
    from sqlalchemy.orm import Session

    from ..db import open_database
    from ..db.engine import for_writing

    def body() -> int:
        if args.start and args.end and args.start > args.end:
            raise UsageError(f"start {args.start} is after end {args.end}")
        engine = open_database(args.mission)
        try:
            with Session(for_writing(engine)) as session:
                count = select_and_queue(session)
                session.commit()
        finally:
            engine.dispose()
        bump = "" if args.force is None else f" with forced bump {args.force}"
        print(f"queued {count} file(s){bump}; run ProcessQueue -p to reprocess")
        return 0

    return run_command(prog, body)


def read_mission(database: str, read):
    """Open *database*, call ``read(session, tree)`` in one read transaction, close."""
    from sqlalchemy.orm import Session

    from ..db import open_database
    from ..mission.tree import load_mission

    engine = open_database(database)
    try:
        with Session(engine) as session:
            return read(session, load_mission(session))
    finally:
        engine.dispose()
