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

from ..errors import EXIT_USAGE, DBProcessingError


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
