"""The mission directory tree (spec section 1): where data, codes, plugins and rejects live.

``MissionTree.from_row(mission)`` resolves the mission row's paths once per
run: ``incoming_dir``, ``codedir``, ``inspectordir`` and ``errordir`` are
relative to ``rootdir`` unless absolute; codedir defaults to rootdir,
inspectordir to codedir, errordir to ``rootdir/errors``.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.models import Mission
from ..errors import UsageError


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
    def from_row(cls, mission: Mission) -> MissionTree:
        root = Path(mission.rootdir).expanduser()

        def under_root(value: str | None, default: Path) -> Path:
            return root / Path(value).expanduser() if value else default

        codedir = under_root(mission.codedir, root)
        return cls(mission_id=mission.mission_id, name=mission.mission_name, rootdir=root,
                   incoming=under_root(mission.incoming_dir, root / "incoming"),
                   codedir=codedir,
                   inspectordir=under_root(mission.inspectordir, codedir),
                   errordir=under_root(mission.errordir, root / "errors"))


def load_mission(session: Session) -> MissionTree:
    """The database's mission (a mission database holds exactly one)."""
    missions = session.scalars(select(Mission).order_by(Mission.mission_id)).all()
    if not missions:
        raise UsageError("the database has no mission yet; load one with addFromConfig")
    if len(missions) > 1:
        names = ", ".join(m.mission_name for m in missions)
        raise UsageError(f"the database holds several missions ({names}); "
                         f"dbprocessing runs one mission per database")
    return MissionTree.from_row(missions[0])
