"""The mission directory tree (spec section 1): where data, codes, plugins and rejects live.

``MissionTree.from_row(mission)`` resolves the mission row's paths once per
run: ``incoming_dir``, ``codedir``, ``inspectordir`` and ``errordir`` are
relative to ``rootdir`` unless absolute; codedir defaults to rootdir,
inspectordir to codedir, errordir to ``rootdir/errors``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Row, select

from ..db import core
from ..errors import UsageError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from ..db.models import Mission


@dataclass(frozen=True)
class MissionTree:
    mission_id: int
    name: str
    rootdir: Path
    incoming: Path
    codedir: Path
    inspectordir: Path
    errordir: Path

    @classmethod
    def from_row(cls, mission: Mission | Row[Any]) -> MissionTree:
        root = Path(mission.rootdir).expanduser()

        def under_root(value: str | None, default: Path) -> Path:
            return root / Path(value).expanduser() if value else default

        codedir = under_root(mission.codedir, root)
        return cls(mission_id=mission.mission_id, name=mission.mission_name, rootdir=root,
                   incoming=under_root(mission.incoming_dir, root / "incoming"),
                   codedir=codedir,
                   inspectordir=under_root(mission.inspectordir, codedir),
                   errordir=under_root(mission.errordir, root / "errors"))


def load_mission(session: Session | Connection) -> MissionTree:
    """The database's mission (a mission database holds exactly one); through Core,
    so that a run with nothing to do needs no ORM (db/core.py)."""
    missions = session.execute(select(core.mission)
                               .order_by(core.mission.c.mission_id)).all()
    if not missions:
        raise UsageError("the database has no mission yet; load one with addFromConfig")
    if len(missions) > 1:
        names = ", ".join(m.mission_name for m in missions)
        raise UsageError(f"the database holds several missions ({names}); "
                         f"dbprocessing runs one mission per database")
    return MissionTree.from_row(missions[0])
