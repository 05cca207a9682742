"""The commands.  One module per command: ``build_parser()`` and ``main(argv) -> int``.

A command parses its arguments, opens the database, takes the lock where
needed, calls one library function, and turns a DBProcessingError into one
line on stderr and an exit code.  Exit codes, the same for every command:

===  ==========================================================
0    everything asked for was done
1    some work failed (files rejected, runs failed); the rest was done
2    usage or configuration error; nothing was written
3    another run holds the processing lock
141  the reader of standard output went away (``| head``): stopped quietly
143  terminated (SIGTERM): stopped as by Ctrl-C (130), what it held let go
===  ==========================================================

Commands that answer a question use 1 for the answer "no" or "not clean"
(printStatus, printProcessQueue -e, compareDB, check and its views,
missingFiles*, testInspector, purgeFileFromDB and deleteAllDBFiles refusing):
each says so in its ``-h``, and docs/commands.md lists them.
"""
from __future__ import annotations

import argparse
import datetime
import os
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from ..errors import EXIT_SOME_FAILED, EXIT_USAGE, DBProcessingError, UsageError

if TYPE_CHECKING:  # commands import the library lazily, to start fast
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

    from ..mission.tree import MissionTree

T = TypeVar("T")
EXIT_BROKEN_PIPE = 128 + 13  # as a shell reports a process ended by SIGPIPE
EXIT_TERMINATED = 128 + 15  # ... and one ended by SIGTERM
TRACEBACK = "--traceback"
# Set by parse() for the command being run: show the whole traceback of an error.
_show_traceback = False


class ArgumentParser(argparse.ArgumentParser):
    """argparse that exits 2 with one line, and knows ``--traceback``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_argument(TRACEBACK, action="store_true",
                          help="on an error, print the whole traceback, not just one line")

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def run_command(prog: str, body: Callable[[], int]) -> int:
    """Run a command body, turning errors into one line and an exit code.

    Our own errors (DBProcessingError) carry their exit code.  Anything else
    is a fault in dbprocessing, a plugin or the database driver: one line
    naming it, exit 1.  ``--traceback`` prints the whole traceback of either.
    A reader that stops reading (``printStatus | head``) ends the command
    quietly with 141, as SIGPIPE ends a Unix tool.  SIGTERM (``timeout``, a
    batch system, ``kill``) unwinds the command as Ctrl-C does, so that what it
    holds is let go (the lock, the codes it runs), and ends it with 143.
    """
    previous = _catch_sigterm()
    try:
        code = body()
        sys.stdout.flush()  # here, not at exit: a closed pipe is then caught below
        return code
    except Terminated:
        print(f"{prog}: terminated", file=sys.stderr)
        return EXIT_TERMINATED
    except BrokenPipeError as exc:
        if not _stdout_closed():  # some other pipe: a fault like any other
            return _unexpected(prog, exc)
        # Nothing more can be written there: point stdout at /dev/null so that
        # the interpreter's own flush at exit finds no closed pipe either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
    except DBProcessingError as exc:
        if _show_traceback:
            traceback.print_exc()
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        return _unexpected(prog, exc)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


class Terminated(BaseException):
    """SIGTERM arrived: raised in the main thread, as KeyboardInterrupt is for Ctrl-C
    (a BaseException, so that no ``except Exception`` takes it for a fault)."""


def _on_sigterm(_signum: int, _frame: Any) -> None:
    raise Terminated


def _catch_sigterm() -> Any:
    """Turn SIGTERM into Terminated for the command's duration; the handler it
    replaces (None: not the main thread, where no handler can be set)."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _on_sigterm)


def _unexpected(prog: str, exc: Exception) -> int:
    """One line naming an error that is not ours (the traceback with --traceback).
    The database failing to do its part (a full disk, a lost connection: the
    driver's OperationalError) is said as the driver says it, without SQL."""
    if _show_traceback:
        traceback.print_exception(exc)
        hint = ""
    else:
        hint = f" (run again with {TRACEBACK} to see where)"
    errors = sys.modules.get("sqlalchemy.exc")  # imported by then, if it is the database's
    if errors is not None and isinstance(exc, errors.OperationalError):
        said = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else str(exc)
        print(f"{prog}: error: the database failed: {said}", file=sys.stderr)
        return EXIT_SOME_FAILED
    print(f"{prog}: error: unexpected {type(exc).__name__}: {exc}{hint}", file=sys.stderr)
    return EXIT_SOME_FAILED


def _stdout_closed() -> bool:
    """Whether standard output is a pipe whose reader has gone (poll says POLLERR
    on the writing end then)."""
    import select

    try:
        poller = select.poll()
        poller.register(sys.stdout.fileno(), select.POLLOUT)
        return any(events & (select.POLLERR | select.POLLHUP)
                   for _, events in poller.poll(0))
    except (AttributeError, OSError, ValueError):  # not a file (captured), or no poll
        return False


def parse(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> argparse.Namespace:
    """Parse *argv* (default: the process's); ``--traceback`` is taken wherever it
    stands, so that commands with sub-commands accept it too."""
    global _show_traceback
    words = list(sys.argv[1:] if argv is None else argv)
    _show_traceback = TRACEBACK in words
    args = parser.parse_args([w for w in words if w != TRACEBACK])
    args.traceback = _show_traceback
    return args


def add_span_arguments(parser: argparse.ArgumentParser) -> None:
    """-p (repeatable), -s and -e: the products and dates a report covers."""
    parser.add_argument("-p", "--product", action="append", dest="products",
                        help="product name or id (repeatable; default: every product)")
    parser.add_argument("-s", "--startDate", dest="start", type=date_argument,
                        help="first date (default: the first date with data)")
    parser.add_argument("-e", "--endDate", dest="end", type=date_argument,
                        help="last date, inclusive (default: the last date with data)")


def check_span(start: datetime.date | None, end: datetime.date | None) -> None:
    """UsageError for a start after the end."""
    if start and end and start > end:
        raise UsageError(f"start {start} is after end {end}")


def date_argument(text: str) -> datetime.date:
    """A date written 2012-10-02 or 20121002, for argparse."""
    from ..mission.dates import parse_date

    try:
        return parse_date(text, UsageError)
    except UsageError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def seconds_argument(text: str) -> float:
    """``--timeout``: a positive, finite number of seconds, for argparse."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = float("nan")
    if not 0 < seconds < float("inf"):
        raise argparse.ArgumentTypeError(f"not a positive number of seconds: {text!r}")
    return seconds


def add_reprocess_options(parser: argparse.ArgumentParser) -> None:
    """-m, -s, -e and --force, shared by the reprocessBy* commands."""
    parser.add_argument("-m", "--mission", required=True, help="the database")
    parser.add_argument("-s", "--startDate", dest="start", type=date_argument,
                        help="first date (2012-10-02 or 20121002)")
    parser.add_argument("-e", "--endDate", dest="end", type=date_argument,
                        help="last date, inclusive")
    parser.add_argument("--force", type=int, choices=(0, 1, 2),
                        help="forced bump of the outputs: 0 interface, 1 quality, 2 revision")
    parser.add_argument("--echo", action="store_true", help="echo every SQL statement")


def run_reprocess(prog: str, args: argparse.Namespace,
                  select_and_queue: Callable[[Any], int]) -> int:
    """Open the database, queue what *select_and_queue(session)* selects, report."""
    from sqlalchemy.orm import Session

    from ..db.engine import for_writing
    from .context import open_mission

    def body() -> int:
        check_span(args.start, args.end)
        with open_mission(args.mission, echo=getattr(args, "echo", False)) as mission:
            with Session(for_writing(mission.engine)) as session:
                count = select_and_queue(session)
                session.commit()
        bump = "" if args.force is None else f" with forced bump {args.force}"
        print(f"queued {count} file(s){bump}; run ProcessQueue -p to reprocess")
        return 0

    return run_command(prog, body)


def read_database(database: str, read: Callable[[Connection], T]) -> T:
    """Open *database*, call ``read(connection)`` in one read transaction, close: for
    a question answered through the Core views, without the ORM or the mission tree."""
    from .context import open_mission

    with open_mission(database) as mission:
        with mission.engine.connect() as conn:
            return read(conn)


def read_mission(database: str, read: Callable[[Session, MissionTree], T]) -> T:
    """Open *database*, call ``read(session, tree)`` in one read transaction, close."""
    from sqlalchemy.orm import Session

    from ..mission.tree import load_mission
    from .context import open_mission

    with open_mission(database) as mission:
        with Session(mission.engine) as session:
            return read(session, load_mission(session))
