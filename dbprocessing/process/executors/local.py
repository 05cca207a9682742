"""The local executor: plans run as child processes of the controller
(process/runner.py), at most ``slots`` cpu at once, timeouts enforced."""
from __future__ import annotations

from collections.abc import Iterator, Sequence

from ...mission.tree import MissionTree
from ..planner import RunPlan
from ..runner import RunResult, run_plans


class LocalExecutor:
    def __init__(self, slots: int = 2) -> None:
        self.slots = slots

    def run(self, plans: Sequence[RunPlan], tree: MissionTree) -> Iterator[RunResult]:
        return run_plans(plans, tree, self.slots)
