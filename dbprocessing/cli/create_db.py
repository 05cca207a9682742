"""CreateDB [-d sqlite|postgresql] dbname: a new, empty mission database at the current schema."""
from __future__ import annotations

from collections.abc import Sequence

from . import ArgumentParser, parse, run_command

PROG = "CreateDB"


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog=PROG, description=__doc__.split(":", 1)[1].strip())
    parser.add_argument("-d", "--dialect", choices=("sqlite", "postgresql"), default=None,
                        help="kind of database (default: sqlite, or as the URL says)")
    parser.add_argument("dbname", help="SQLite file to create, PostgreSQL database "
                                       "name, or SQLAlchemy URL")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = parse(build_parser(), argv)

    from ..db.engine import check_reachable, make_engine, resolve_url
    from ..db.schema import create_schema

    def body() -> int:
        url = resolve_url(args.dbname, creating=True, dialect=args.dialect)
        engine = make_engine(url)
        try:
            check_reachable(engine)
            head = create_schema(engine)
        finally:
            engine.dispose()
        print(f"created {url.render_as_string(hide_password=True)} at schema revision {head}")
        return 0

    return run_command(PROG, body)
