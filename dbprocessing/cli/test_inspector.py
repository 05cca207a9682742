"""testInspector -m DB -f FILE -i INSPECTOR.py -p PRODUCT [-a ARGS]: run one plugin on one
file as ingest would.

Prints what the plugin filled in (utc_file_date, start and stop times,
version, process_keywords...) and what ingest would add (level, shasum...),
or why it is "not mine" with the plugin's traceback when it raised.  The
plugin gets the product's recorded inspector arguments unless -a gives
others ("k=v k=v").  Nothing is written.
"""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from . import ArgumentParser, parse, read_mission, run_command

PROG = "testInspector"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(
        prog=PROG, description=__doc__.split(":", 1)[1].strip(),
        epilog="exit codes: 0 the plugin claims the file, 1 it does not (returned None, "
               "raised, or filled the required fields badly), 2 usage error (missing file "
               "or plugin, unknown product)")
    parser.add_argument("-m", "--mission", required=True, help="the database")
    parser.add_argument("-f", "--file", required=True, type=Path, help="the file to inspect")
    parser.add_argument("-i", "--inspector", required=True, type=Path,
                        help="the plugin file (a .py defining class Inspector)")
    parser.add_argument("-p", "--product", required=True,
                        help="the product the file should be (name or id)")
    parser.add_argument("-a", "--args", dest="arguments",
                        help="the plugin's arguments, 'k=v k=v' (default: the product's "
                             "recorded inspector arguments)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)

    from ..ingest.trial import try_inspector

    def body() -> int:
        trial = read_mission(args.mission, lambda session, tree: try_inspector(
            session, tree, args.file, args.inspector, args.product, args.arguments))
        print("\n".join(trial.lines()))
        return 0 if trial.claimed else 1

    return run_command(PROG, body)
