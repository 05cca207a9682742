"""fast_data -m DB --cutoff D: archive or delete superseded versions older than a date.

A file is taken when it is not the newest version of its product and date, is
in no release, its date (utc_file_date, the day its data are for) is before
the cutoff, and no newest or released file was made from it (at any depth;
--include-parents takes those too). -a DIR moves them to DIR, keeping their
path under the mission root; --reap-files deletes them; --reap-records
removes their records (as purgeFileFromDB does). Without --reap-records a
moved or deleted file's record stays, marked not on disk. Each file is moved
or deleted before its record changes: a crash loses nothing, a rerun
completes. -d prints what would be done and changes nothing.
"""
from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

from ..errors import EXIT_OK, EXIT_SOME_FAILED, UsageError
from . import ArgumentParser, date_argument, parse, run_command

PROG = "fast_data"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog=PROG, description=__doc__.split(":", 1)[1].strip(),
        epilog="exit codes: 0 done, 1 some files could not be moved or deleted (the rest "
               "done), 2 usage error (nothing changed), 3 the lock is held")
    parser.add_argument("-m", "--mission", required=True, help="the database")
    parser.add_argument("--cutoff", required=True, type=date_argument,
                        help="only files whose utc_file_date is before this day "
                             "(2012-10-02 or 20121002)")
    disk = parser.add_mutually_exclusive_group()
    disk.add_argument("-a", "--archive", metavar="DIR", type=Path,
                      help="move the files here, keeping their path under the root")
    disk.add_argument("--reap-files", action="store_true", help="delete the files")
    parser.add_argument("--reap-records", action="store_true",
                        help="remove the files' records from the database")
    parser.add_argument("--include-parents", action="store_true",
                        help="also take files that a newest or released file was made "
                             "from (its provenance then points at files no longer there)")
    parser.add_argument("-p", "--product", action="append", dest="products", default=[],
                        metavar="PRODUCT", help="only this product (name or id); repeat "
                                                "for more; default all")
    parser.add_argument("-d", "--dry-run", action="store_true",
                        help="print what would be done; change nothing")
    parser.add_argument("--verbose", action="store_true", help="print each file's action")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)
    from sqlalchemy.orm import Session

    from ..db.queries import find_product
    from ..reap import ReapPlan, check_archive_dir, reap_files
    from .context import open_mission

    words = list(sys.argv[1:] if argv is None else argv)

    def body() -> int:
        if args.archive is None and not args.reap_files and not args.reap_records:
            raise UsageError("nothing to do: give -a DIR, --reap-files and/or "
                             "--reap-records (with -d to see what they would do)")
        with open_mission(args.mission) as mission:
            tree = mission.tree
            archive = check_archive_dir(args.archive, tree) if args.archive else None
            with Session(mission.engine) as session:  # unknown names: refused before the lock
                for ref in args.products:
                    find_product(session, ref)
            plan = ReapPlan(cutoff=args.cutoff, archive=archive, delete=args.reap_files,
                            reap_records=args.reap_records,
                            include_parents=args.include_parents,
                            products=tuple(args.products), dry_run=args.dry_run)
            say = print if args.verbose or args.dry_run else (lambda line: None)
            if args.dry_run:
                result = reap_files(mission.engine, tree, plan, say)
            else:
                with mission.locked(PROG, words) as run:
                    result = reap_files(mission.engine, tree, plan, say)
                    run.lock.comment = f"Nominal Exit; fast_data: {result.summary(plan)}"
        for problem in result.failed:
            print(f"{PROG}: {problem}", file=sys.stderr)
        print(result.summary(plan))
        return EXIT_SOME_FAILED if result.failed and not args.dry_run else EXIT_OK

    return run_command(PROG, body)
