"""printLineage -m DB FILE: the files and codes a file was made from, and the files made from it."""
from __future__ import annotations

import json
from collections.abc import Sequence

from ..errors import UsageError
from . import ArgumentParser, parse, read_database, run_command

PROG = "printLineage"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog=PROG, description=__doc__.split(":", 1)[1].strip())
    parser.add_argument("-m", "--mission", required=True, help="the database")
    parser.add_argument("file", help="a file name (a path is fine)")
    way = parser.add_mutually_exclusive_group()
    way.add_argument("--up", action="store_true", help="only ancestors (inputs and codes)")
    way.add_argument("--down", action="store_true", help="only descendants")
    parser.add_argument("--depth", type=int, help="generations to follow (default: all)")
    shape = parser.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="nested JSON")
    shape.add_argument("--dot", action="store_true",
                       help="Graphviz DOT (render with: dot -Tsvg -o lineage.svg)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)

    from ..report.lineage import as_dot, as_text, as_tree, read_graph

    def body() -> int:
        if args.depth is not None and args.depth < 1:
            raise UsageError("--depth must be at least 1")
        up, down = not args.down, not args.up
        graph = read_database(args.mission, lambda conn: read_graph(
            conn, args.file, up=up, down=down, depth=args.depth))
        if args.json:
            data = {}
            if up:
                data["ancestors"] = as_tree(graph, upward=True)
            if down:
                data["descendants"] = as_tree(graph, upward=False)
            print(json.dumps(data, indent=1))
        elif args.dot:
            print(as_dot(graph))
        else:
            print(as_text(graph, up, down))
        return 0

    return run_command(PROG, body)
