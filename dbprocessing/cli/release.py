"""release -m DB {tag,list,diff,export}: named sets of files (the release table).

  tag N [-p product]... [-s D] [-e D]   tag the newest file of each product and date
  list [N]                              the releases, or the files of release N
  diff N M                              added, removed and version-changed from N to M
  export N [-o FILE]                    sha1sum -c lines (checksum, path under the root)

A released file cannot be deleted: the database refuses (a foreign key).
"""
from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from ..atomic import write_atomically
from ..errors import UsageError
from . import ArgumentParser, check_span, date_argument, parse, read_mission, run_command

PROG = "release"


def build_parser() -> ArgumentParser:
    import argparse

    parser = ArgumentParser(prog=PROG, description=__doc__.split(":", 1)[1].strip(),
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-m", "--mission", required=True, help="the database")
    parser.add_argument("--json", action="store_true", help="print JSON (list, diff)")
    verbs = parser.add_subparsers(dest="verb", required=True, parser_class=ArgumentParser)
    tag = verbs.add_parser("tag", help="tag the newest files as release N")
    tag.add_argument("number", help="release number or name (up to 20 characters)")
    tag.add_argument("-p", "--product", action="append", dest="products",
                     help="product name or id (repeatable; default: every product)")
    tag.add_argument("-s", "--startDate", dest="start", type=date_argument, help="first date")
    tag.add_argument("-e", "--endDate", dest="end", type=date_argument,
                     help="last date, inclusive")
    listing = verbs.add_parser("list", help="the releases, or one release's files")
    listing.add_argument("number", nargs="?")
    diff = verbs.add_parser("diff", help="compare two releases")
    diff.add_argument("old")
    diff.add_argument("new")
    export = verbs.add_parser("export", help="sha1sum -c lines of a release's files")
    export.add_argument("number")
    export.add_argument("-o", "--output", type=Path, help="write here (default: stdout)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)

    from ..report.release import diff_releases, export_lines, list_releases, release_files

    def body() -> int:
        if args.verb == "tag":
            return _tag(args)
        if args.verb == "list" and args.number is None:
            releases = read_mission(args.mission, lambda s, _t: list_releases(s))
            if args.json:
                print(json.dumps([{"release": n, "files": c} for n, c in releases]))
            else:
                print("\n".join(f"release {n}: {c} file(s)" for n, c in releases)
                      or "no releases yet")
            return 0
        if args.verb == "list":
            files = read_mission(args.mission, lambda s, t: release_files(s, t, args.number))
            if args.json:
                print(json.dumps([f.as_dict() for f in files], indent=1))
            else:
                print("\n".join(f"{f.product}  {f.date}  v{f.version}  {f.filename}"
                                for f in files))
            return 0
        if args.verb == "diff":
            changes = read_mission(args.mission, lambda s, t: diff_releases(
                release_files(s, t, args.old), release_files(s, t, args.new)))
            if args.json:
                print(json.dumps(changes, indent=1))
            else:
                for f in changes["added"]:
                    print(f"added    {f['product']} {f['date']} {f['file']}")
                for f in changes["removed"]:
                    print(f"removed  {f['product']} {f['date']} {f['file']}")
                for c in changes["changed"]:
                    print(f"changed  {c['product']} {c['date']} {c['from_version']} -> "
                          f"{c['to_version']} ({c['to']})")
                print(f"{len(changes['added'])} added, {len(changes['removed'])} removed, "
                      f"{len(changes['changed'])} changed")
            return 0
        lines = read_mission(args.mission, lambda s, t: export_lines(
            release_files(s, t, args.number)))
        text = "\n".join(lines) + "\n"
        if args.output:
            try:
                write_atomically(args.output, text, exclusive=True)
            except FileExistsError:
                raise UsageError(f"{args.output} exists; not overwritten") from None
            print(f"wrote {len(lines)} line(s) to {args.output}; verify with "
                  f"(cd ROOTDIR && sha1sum -c {args.output.resolve()})")
        else:
            print(text, end="")
        return 0

    return run_command(PROG, body)


def _tag(args: argparse.Namespace) -> int:
    from sqlalchemy.orm import Session

    from ..db.engine import for_writing
    from ..db.queries import find_product
    from ..mission.tree import load_mission
    from ..report.release import tag_release
    from .context import open_mission

    check_span(args.start, args.end)
    with open_mission(args.mission) as mission, \
            Session(for_writing(mission.engine)) as session:
        load_mission(session)
        products = [find_product(session, p) for p in args.products or []]
        count = tag_release(session, args.number, products, args.start, args.end)
        session.commit()
    print(f"release {args.number}: tagged {count} file(s)")
    return 0
