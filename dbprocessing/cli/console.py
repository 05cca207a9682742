"""Where ProcessQueue's words go: a terminal, cron's mail, or only the log.

Cron mails whatever a job prints, so with no terminal a run that went well
prints nothing; a run with failures (exit 1) prints what failed and the
summary, which is the mail an operator wants.  The summary always goes to
the daily log.

==========================  ============================================  =====
how it runs                 prints                                        bar
==========================  ============================================  =====
a terminal                  a line per file or run, then the summary      yes
no terminal (cron)          nothing; on failures: them and the summary    no
``-v`` / ``--verbose``      a line per file or run, then the summary      on a
                                                                          tty
``-q`` / ``--quiet``        the summary only                              no
``-d`` (dry run)            what would be done, then the summary          no
==========================  ============================================  =====

A held lock is one line on stderr on a terminal (or with ``-v``); under cron
it is a log record only, and the exit code (3) says it.
"""
from __future__ import annotations

import logging
import sys
from collections.abc import Iterable

from ..progress import Progress, bar

logger = logging.getLogger(__name__)


class Console:
    """One run's output policy (see the module docstring)."""

    def __init__(self, *, verbose: bool = False, quiet: bool = False,
                 dry_run: bool = False) -> None:
        self.terminal = sys.stdout.isatty()
        self.lines = dry_run or verbose or (self.terminal and not quiet)
        self.summary = self.lines or quiet
        self.errors_shown = verbose or sys.stderr.isatty()
        self._bar_wanted = (self.lines and not dry_run and self.terminal
                            and sys.stderr.isatty())
        self._progress = Progress()

    def progress(self, description: str, unit: str) -> Progress:
        """A bar on a terminal, else nothing; ``finish`` closes it."""
        if self._bar_wanted:
            self._progress = bar(description, unit, sys.stderr)
        return self._progress

    def say(self, line: str) -> None:
        """A line about one file or run."""
        if self.lines:
            self._progress.write(line)

    def close(self) -> None:
        """Close the bar, if any (again is harmless)."""
        self._progress.close()
        self._progress = Progress()

    def finish(self, summary: str, failed: bool, problems: Iterable[str]) -> None:
        """Close the bar; log the summary; print it (and, under cron, the problems)."""
        self.close()
        logger.info("%s", summary)
        if self.summary:
            print(summary)
        elif failed:
            for line in problems:
                print(line)
            print(summary)
