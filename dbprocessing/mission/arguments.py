"""Arguments that name the mission root by its path get ``{ROOTDIR}`` instead
(replaceArgsWithRootdir), so that they follow the mission when it moves.

``replace_rootdir`` rewrites ``code.arguments`` and ``process.extra_params``
in the caller's session (the caller commits).  The root is matched as a whole
path: ``/data/m`` in ``/data/m/cal`` or ``--dir=/data/m`` is replaced, in
``/data/m2`` or ``/old/data/m`` it is not.  Both the path as stored in the
mission row and its expanded form (``~`` resolved) are recognised.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.models import Code, Mission, Process
from ..db.queries import version_of
from ..errors import UsageError

PLACEHOLDER = "{ROOTDIR}"


@dataclass(frozen=True)
class ArgumentChange:
    what: str        # "code NAME VERSION arguments" or "process NAME extra_params"
    old: str
    new: str


def _root_pattern(rootdir: str) -> re.Pattern[str]:
    forms = {rootdir.rstrip("/") or "/",
             os.path.abspath(os.path.expanduser(rootdir)).rstrip("/") or "/"}
    if "/" in forms:
        raise UsageError("the mission's rootdir is '/': every absolute path would match; "
                         "nothing replaced")
    # Longest first, so an expanded form that extends the stored one wins.
    alternatives = "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))
    return re.compile(rf"(?<![\w.~/-])(?:{alternatives})(?=[/\s|'\",;:]|$)")


def replace_rootdir(session: Session) -> tuple[str, list[ArgumentChange]]:
    """Replace the mission root's path by ``{ROOTDIR}`` in code arguments and process
    extra_params; return the root and what changed."""
    mission = session.scalars(select(Mission).order_by(Mission.mission_id)).first()
    if mission is None:
        raise UsageError("the database has no mission yet; load one with addFromConfig")
    pattern = _root_pattern(mission.rootdir)
    changes: list[ArgumentChange] = []
    for code in session.scalars(select(Code).where(Code.arguments.is_not(None))
                                .order_by(Code.code_id)):
        old = code.arguments
        assert old is not None  # the query selected non-NULL arguments
        new = pattern.sub(PLACEHOLDER, old)
        if new != old:
            changes.append(ArgumentChange(
                f"code {code.filename} {version_of(code)} arguments", old, new))
            code.arguments = new
    for process in session.scalars(select(Process).where(Process.extra_params.is_not(None))
                                   .order_by(Process.process_id)):
        old = process.extra_params
        assert old is not None  # the query selected non-NULL extra_params
        new = pattern.sub(PLACEHOLDER, old)
        if new != old:
            changes.append(ArgumentChange(f"process {process.process_name} extra_params",
                                          old, new))
            process.extra_params = new
    session.flush()
    return mission.rootdir, changes
