"""Progress of long work: the pipelines count, a terminal shows a bar.

The pipelines (``ingest_incoming``, ``process_queue``) take a ``Progress``
and call ``add(n)`` when they learn of n more items of work (the files
waiting in incoming; each wave's planned runs), ``advance()`` as each item
is done, and ``stage(text)`` when a new wave starts.  ``Progress()`` itself
does nothing: cron, tests and library callers pay nothing for it.

``bar(description, unit, stream)`` is the terminal's: a tqdm bar (n of N,
rate, ETA) whose total grows as the work becomes known.  tqdm is imported
only when a bar is made, so a run under cron never loads it.
"""
from __future__ import annotations

import os
from typing import IO


class Progress:
    """Progress that goes nowhere (the default)."""

    def add(self, n: int) -> None:
        """n more items of work became known."""

    def advance(self, n: int = 1) -> None:
        """n items are done."""

    def stage(self, text: str) -> None:
        """A new stage of the work began (a wave)."""

    def write(self, line: str) -> None:
        """Print *line* without tearing the bar."""
        print(line)

    def close(self) -> None:
        """The work is over."""


class _Bar(Progress):
    def __init__(self, description: str, unit: str, stream: IO[str]) -> None:
        from tqdm import tqdm  # only on a terminal

        self._tqdm = tqdm
        try:
            sized = os.get_terminal_size(stream.fileno()).columns > 0
        except (OSError, ValueError, AttributeError):
            sized = False
        # A terminal that reports no size (a bare pty, some serial consoles) gets
        # 80x24 rather than a bar of width 0 that tqdm would also hide.
        self._bar = tqdm(total=0, desc=description, unit=unit, file=stream, leave=True,
                         mininterval=0.2, dynamic_ncols=sized,
                         ncols=None if sized else 80, nrows=None if sized else 24)

    def add(self, n: int) -> None:
        if n:
            self._bar.total += n
            self._bar.refresh()

    def advance(self, n: int = 1) -> None:
        self._bar.update(n)

    def stage(self, text: str) -> None:
        self._bar.set_description(text, refresh=True)

    def write(self, line: str) -> None:
        self._tqdm.write(line)

    def close(self) -> None:
        self._bar.close()


def bar(description: str, unit: str, stream: IO[str]) -> Progress:
    """A progress bar on *stream* (a terminal)."""
    return _Bar(description, unit, stream)
