"""What planning gives: ``RunPlan`` (one run of a code), ``Skip`` (an output
not made, and why), ``Wave`` (a level's plans, skips and queue entries).
Plain values, light to import: the runner, the executors and the reports
take them without the planner's queries (``process/planner.py``)."""
from __future__ import annotations

import datetime
import enum
from dataclasses import dataclass, field
from pathlib import Path

from ..Version import Version


@dataclass(frozen=True)
class InputFile:
    file_id: int
    filename: str
    path: Path
    product_id: int
    product_name: str
    date: datetime.date
    version: Version
    keywords: str | None


@dataclass(frozen=True)
class RunPlan:
    """One run of a code: what it reads, what it makes, and why it runs."""

    process_id: int
    process_name: str
    timebase: str
    date: datetime.date
    code_id: int
    code_path: Path
    code_version: Version
    code_arguments: str
    extra_params: str
    cpu: int
    timeout: float | None
    inputs: tuple[InputFile, ...]
    output_product_id: int | None
    output_name: str | None
    output_dir: Path | None
    output_version: Version | None
    keywords: str | None
    reasons: tuple[str, ...]
    bump: int | None = None  # the forced bump it was planned with (kept for a retry)

    def describe(self) -> str:
        what = (f"{self.output_name} (version {self.output_version})" if self.output_name
                else "RUN (no output)")
        return (f"{self.process_name} {self.date}: make {what} with code "
                f"{self.code_path.name} {self.code_version} from "
                f"{len(self.inputs)} input(s); because {'; '.join(self.reasons)}")


class SkipKind(str, enum.Enum):
    """Why an output is not made, as a value (``Skip.reason`` is for people)."""

    UP_TO_DATE = "up_to_date"          # nothing it is made from changed
    CANNOT_REMAKE = "cannot_remake"    # must be remade, but its format has no {VERSION}
    NEIGHBOUR_ONLY = "neighbour_only"  # only neighbouring days' inputs (a DAILY window)
    BLOCKED = "blocked"                # a required input or a valid code is missing,
    #                                    or the output cannot be named


@dataclass(frozen=True)
class Skip:
    process_name: str
    date: datetime.date
    reason: str
    process_id: int | None = None
    kind: SkipKind = SkipKind.BLOCKED

    def describe(self) -> str:
        return f"{self.process_name} {self.date}: not run: {self.reason}"


@dataclass
class Wave:
    level: float | None
    queue_bumps: dict[int, int | None] = field(default_factory=dict)  # file_id -> bump
    remakes: set[int] = field(default_factory=set)  # queued with remake (reprocessByCode)
    plans: list[RunPlan] = field(default_factory=list)
    skips: list[Skip] = field(default_factory=list)
    settled_retries: list[int] = field(default_factory=list)  # retry rows now moot
