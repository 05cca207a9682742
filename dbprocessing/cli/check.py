"""check -m DB: every inconsistency between the database and the disk, and inside the database.

Finds rows whose file is gone (missing_file), exists_on_disk flags that are
wrong (exists_flag), checksums that differ (shasum_mismatch), files in
product directories that no row knows (stray_file), code and inspector
newest_version flags that disagree with the versions (newest_flag), newest
files made from parents that are no longer newest (stale_provenance),
version components a smallint cannot hold (version_overflow), queue entries
whose file row is gone (dangling_queue) and a processing lock held by a dead
process (dead_lock).  --fix repairs each in a transaction of its own,
recorded in the event log; no file on disk is ever deleted (strays are moved
to the error directory).
"""
from __future__ import annotations

import argparse
import datetime
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..check.findings import DEAD_LOCK, DISK_KINDS, KINDS, Finding
from ..errors import EXIT_OK, EXIT_SOME_FAILED
from . import ArgumentParser, check_span, date_argument, parse, run_command

if TYPE_CHECKING:
    from ..check.findings import CheckOptions
    from ..check.repair import Outcome

PROG = "check"
EPILOG = ("exit codes: 0 no inconsistency (or, with --fix, every one repaired), 1 "
          "inconsistencies found (with --fix: some not repaired), 2 usage error, 3 --fix "
          "while another run holds the processing lock")


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog=PROG, description=__doc__.split(":", 1)[1].strip(),
                            epilog=EPILOG)
    parser.add_argument("-m", "--mission", required=True, help="the database")
    add_dates(parser)
    parser.add_argument("--fix", action="store_true",
                        help="repair each finding (one recorded transaction each)")
    parser.add_argument("-d", "--dry-run", action="store_true",
                        help="with --fix: print each repair it would make, change nothing")
    parser.add_argument("--json", action="store_true", help="print JSON, one object per finding")
    parser.add_argument("-k", "--kind", action="append", choices=KINDS, dest="kinds",
                        help="only this kind of finding (repeatable; default: every kind)")
    parser.add_argument("--echo", action="store_true", help="echo every SQL statement")
    return parser


def add_dates(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-s", "--startDate", dest="start", type=date_argument,
                        help="first file date checked (2012-10-02 or 20121002)")
    parser.add_argument("-e", "--endDate", dest="end", type=date_argument,
                        help="last file date checked, inclusive")


def run_check(prog: str, argv: Sequence[str], args: argparse.Namespace,
              options: CheckOptions, *, fix: bool, dry_run: bool = False,
              as_json: bool = False, verbose: bool = False, by_date: bool = False) -> int:
    """Find, print, and (with *fix*) repair: the body shared by check and its views."""

    from sqlalchemy.orm import Session

    from ..check.database import dead_locks
    from ..check.repair import fix_findings
    from ..check.scan import find_all
    from .context import open_mission

    def body() -> int:
        check_span(options.start, options.end)
        with open_mission(args.mission, echo=getattr(args, "echo", False)) as mission:
            tree = mission.tree
            if fix and not dry_run:
                outcomes = fix_findings(
                    mission.engine, tree, args.mission, prog, argv,
                    scan=lambda session: find_all(session, tree, options).findings,
                    dead_locks=lambda session: (dead_locks(session)
                                                if DEAD_LOCK in options.kinds else []))
                return _print_outcomes(outcomes, as_json)
            with Session(mission.engine) as session:
                result = find_all(session, tree, options)
        if verbose:
            for path in result.checked:
                print(f"checked {path}")
        findings = result.findings
        if by_date:
            findings = sorted(findings, key=lambda f: (f.date or datetime.date.min,
                                                       f.product or ""))
        disk = bool(set(options.kinds) & set(DISK_KINDS))
        return _print_findings(findings, len(result.checked) if disk else None, as_json,
                               "would fix" if fix else None)

    return run_command(prog, body)


def _print_findings(findings: list[Finding], checked: int | None, as_json: bool,
                    dry_run: str | None) -> int:
    if as_json:
        print(json.dumps([f.as_dict() for f in findings], indent=1))
    else:
        for finding in findings:
            if dry_run:
                repair = finding.repair or "nothing (no automatic repair)"
                print(f"{dry_run} {finding.kind}: {finding.subject}: {repair}")
            else:
                when = f"{finding.date} {finding.product or ''}: " if finding.date else ""
                print(when + finding.describe())
        note = "; dry run, nothing changed" if dry_run else ""
        compared = "" if checked is None else f" ({checked} file row(s) compared with the disk)"
        print(f"{len(findings)} inconsistenc{'y' if len(findings) == 1 else 'ies'} "
              f"found{compared}{note}")
    return EXIT_SOME_FAILED if findings else EXIT_OK


def _print_outcomes(outcomes: list[Outcome], as_json: bool) -> int:
    if as_json:
        print(json.dumps([o.as_dict() for o in outcomes], indent=1))
    else:
        for outcome in outcomes:
            print(outcome.describe())
        done = sum(o.done for o in outcomes)
        print(f"repaired {done} of {len(outcomes)} inconsistenc"
              f"{'y' if len(outcomes) == 1 else 'ies'}; no file was deleted")
    return EXIT_OK if all(o.done for o in outcomes) else EXIT_SOME_FAILED


def main(argv: Sequence[str] | None = None) -> int:
    words = list(sys.argv[1:] if argv is None else argv)
    args = parse(build_parser(), words)
    from ..check.findings import CheckOptions

    options = CheckOptions(args.start, args.end, tuple(args.kinds or KINDS))
    return run_check(PROG, words, args, options, fix=args.fix, dry_run=args.dry_run,
                     as_json=args.json)
