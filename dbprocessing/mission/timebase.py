"""A process's output timebase (``process.output_timebase``), as a value.

The column holds the original's strings; ``Timebase`` is a ``str`` enum, so a
row's text compares equal to its member (``row.output_timebase ==
Timebase.RUN``) and the database keeps the original's spelling.

* DAILY: one output per day that has an input of its own;
* FILE: one output per input file (its date and keywords);
* RUN: no output product: the code is run (a report, a delivery);
* WEEKLY, MONTHLY, YEARLY: one output per period holding an input's day
  (ISO weeks from Monday; calendar months and years), dated by its first day.
"""
from __future__ import annotations

import datetime
import enum

DAY = datetime.timedelta(days=1)


class Timebase(str, enum.Enum):
    DAILY = "DAILY"
    FILE = "FILE"
    RUN = "RUN"
    WEEKLY = "WEEKLY"
    MONTHLY = "MONTHLY"
    YEARLY = "YEARLY"

    def __str__(self) -> str:
        return self.value

    @property
    def is_period(self) -> bool:
        return self in PERIODS


PERIODS = (Timebase.WEEKLY, Timebase.MONTHLY, Timebase.YEARLY)


def period_of(timebase: str, day: datetime.date) -> tuple[datetime.date, datetime.date]:
    """[first day, first day of the next period) of the period holding *day*."""
    if timebase == Timebase.WEEKLY:
        start = day - DAY * day.weekday()  # ISO weeks start on Monday
        return start, start + 7 * DAY
    if timebase == Timebase.MONTHLY:
        start = day.replace(day=1)
        return start, (start + 32 * DAY).replace(day=1)
    if timebase == Timebase.YEARLY:
        start = day.replace(month=1, day=1)
        return start, start.replace(year=start.year + 1)
    raise ValueError(f"not a period timebase: {timebase}")
