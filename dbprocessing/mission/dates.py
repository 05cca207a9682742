"""Dates as configs and command lines write them: 2012-10-02 or 20121002.

A module of its own, light to import: every command taking -s, -e or -d
reads its dates with ``parse_date`` (through ``cli.date_argument``) before
it imports anything else.
"""
from __future__ import annotations

import datetime
import re
from collections.abc import Callable

from ..errors import ConfigError

_PLAIN_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def parse_date(value: str,
               error: Callable[[str], Exception] = ConfigError) -> datetime.date:
    """A date written 2012-10-02 or 20121002 (a time part is not allowed to matter;
    other ISO 8601 forms are read by dateutil)."""
    text = value.strip()
    try:
        if text.isdigit() and len(text) == 8:
            return datetime.datetime.strptime(text, "%Y%m%d").date()
        if _PLAIN_DATE.fullmatch(text):  # the usual form, without importing dateutil
            return datetime.date.fromisoformat(text)
        from dateutil import parser as dateparser  # 40 ms of import: only when needed

        return dateparser.isoparse(text).date()
    except (ValueError, OverflowError):
        raise error(f"not a date (YYYY-MM-DD or YYYYMMDD): {value!r}") from None
