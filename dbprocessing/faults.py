"""Fault injection for crash-safety tests: die by SIGKILL at a named point.

``DBPROCESSING_KILL_AT=point:N`` makes the N-th ``checkpoint(point)`` of the
process kill it with SIGKILL, exactly as a crash or ``kill -9`` would.  Unset
(always, outside tests) a checkpoint costs one dictionary lookup.
"""
from __future__ import annotations

import os
import signal

_counts: dict[str, int] = {}
_target: tuple[str, int] | None = None
_parsed = False


def _parse() -> tuple[str, int] | None:
    spec = os.environ.get("DBPROCESSING_KILL_AT", "")
    point, _, count = spec.partition(":")
    if not point:
        return None
    return point, int(count or 1)


def checkpoint(point: str) -> None:
    global _target, _parsed
    if not _parsed:
        _target, _parsed = _parse(), True
    if _target is None or _target[0] != point:
        return
    _counts[point] = _counts.get(point, 0) + 1
    if _counts[point] == _target[1]:
        os.kill(os.getpid(), signal.SIGKILL)
