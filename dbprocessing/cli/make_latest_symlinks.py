"""makeLatestSymlinks CONFIG: keep directories of symlinks to the newest version of each file.

Each section of CONFIG (the original's INI format: sourcedir, destdir,
filter, startdate, enddate, deltadays, nodate, linkdirs, outmode; see
docs/commands.md) names a directory of data files and a directory of links
to make. Of the names that differ only in their vX.Y.Z version the newest is
linked, within the dates asked for. destdir is replaced as a whole (a symlink
renamed over it), so a reader never sees it half made. -l lists what would be
linked and changes nothing; -f keeps only the sections whose names contain
every comma-separated string.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from . import ArgumentParser, parse, run_command

PROG = "makeLatestSymlinks"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog=PROG, description=__doc__.split(":", 1)[1].strip(),
        epilog="exit codes: 0 done, 2 usage or config error (nothing changed)")
    parser.add_argument("config", type=Path, help="the link config file")
    parser.add_argument("-l", "--list", action="store_true",
                        help="list the sections and what each would link; change nothing")
    parser.add_argument("-f", "--filter",
                        help="comma-separated strings a section name must all contain")
    parser.add_argument("--verbose", action="store_true",
                        help="print every link and why each other file was left out")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)

    from ..latest import plan_links, read_link_config, swap_in

    def body() -> int:
        filters = [f.strip() for f in (args.filter or "").split(",") if f.strip()]
        listings = plan_links(read_link_config(args.config, filters))
        for listing in listings:
            sections = ", ".join(f"[{s}]" for s in listing.sections)
            if args.list:
                print(f"{sections} -> {listing.destdir}: {len(listing.links)} link(s)"
                      f"{'' if listing.changed else ' (unchanged)'}")
                for name, target in sorted(listing.links.items()):
                    print(f"  {name} -> {target}")
            elif listing.changed:
                swap_in(listing, print if args.verbose else (lambda line: None))
                print(f"{sections}: {listing.destdir} now links {len(listing.links)} "
                      f"file(s)")
            else:
                print(f"{sections}: {listing.destdir} unchanged ({len(listing.links)} "
                      f"link(s))")
            if args.verbose:
                for note in listing.notes:
                    print(f"  left out {note}")
        return 0

    return run_command(PROG, body)
