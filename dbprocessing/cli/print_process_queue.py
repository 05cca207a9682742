"""printProcessQueue DB: list the files waiting in the process queue.

One line per queued file (file id, filename, product, utc_file_date, version,
forced version bump or -) after a header line, in queue order (file_id), or
sorted with -s. With -c the exit status is the number of files listed (at most
255); with -e it is 0 if any file is listed, 1 if none.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from ..atomic import write_atomically
from ..errors import EXIT_OK, UsageError
from . import ArgumentParser, parse, run_command

PROG = "printProcessQueue"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog=PROG, description=__doc__.split(":", 1)[1].strip(),
        epilog="exit codes: 0 (or, with -c, the count; with -e, 0 non-empty / 1 empty), "
               "2 usage error")
    parser.add_argument("database", help="the database (as -m of the other commands)")
    status = parser.add_mutually_exclusive_group()
    status.add_argument("-c", "--count", action="store_true",
                        help="exit status is the number of queued files (capped at 255)")
    status.add_argument("-e", "--exist", action="store_true",
                        help="exit status 0 if files are queued, 1 if the queue is empty")
    parser.add_argument("-q", "--quiet", action="store_true",
                        help="print nothing (nor write -o): only the exit status")
    parser.add_argument("--html", action="store_true", help="write an HTML table")
    parser.add_argument("-o", "--output", type=Path,
                        help="write to this file (replaced atomically) instead of stdout")
    parser.add_argument("-p", "--product", nargs="+", action="extend", dest="products",
                        metavar="PRODUCT",
                        help="only files of these products (names or ids; repeatable)")
    parser.add_argument("-s", "--sort", action="store_true",
                        help="sort by product name, date and filename (default: queue order)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)

    from sqlalchemy.orm import Session

    from ..report.processqueue import queue_html, queue_text, queued_files
    from .context import open_mission

    def body() -> int:
        if args.output is not None and args.output.is_dir():
            raise UsageError(f"{args.output} is a directory")
        with open_mission(args.database) as mission, Session(mission.engine) as session:
            files = queued_files(session, args.products, sort=args.sort)
        if not args.quiet:
            text = queue_html(files) if args.html else queue_text(files)
            if args.output is not None:
                try:
                    write_atomically(args.output, text)
                except OSError as exc:
                    raise UsageError(f"cannot write {args.output}: "
                                     f"{exc.strerror or exc}") from None
            else:
                print(text, end="")
        if args.count:
            return min(len(files), 255)
        if args.exist:
            return 0 if files else 1
        return EXIT_OK

    return run_command(PROG, body)
