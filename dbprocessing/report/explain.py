"""Explain: would this file, or this product and date, be (re)built by the next
``ProcessQueue -p``, and why (or why not)?  The status of that one date
(``report/status.py``), in sentences, with the plan and the last attempt.
"""
from __future__ import annotations

import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..db.models import File, Product
from ..db.queries import find_file, find_product, version_of
from ..errors import UsageError
from ..mission.tree import MissionTree
from .status import DateStatus, StatusReader

# What the next ProcessQueue -p does about a date, by state (the reason follows).
VERDICTS = {
    "up_to_date": "not rebuilt: ",
    "blocked": "cannot be built: ",
    "absent": "nothing to build: ",
    "queued": "",  # the reason starts "the next ProcessQueue -p makes it"
    "failed": "failed; ",  # the reason starts with when it is retried
    "stale": "needs remaking, but the next ProcessQueue -p will not: nothing queued asks "
             "for it (reprocessByProduct or reprocessByDate queue it); ",
    "missing": "never made, and the next ProcessQueue -p will not make it: nothing queued "
               "asks for it (reprocessByProduct or reprocessByDate queue it); ",
}

def explain(session: Session, tree: MissionTree, *, filename: str | None = None,
            product_ref: str | None = None,
            date: datetime.date | None = None) -> tuple[DateStatus, list[str]]:
    """Would this file, or this product and date, be (re)built by the next
    ProcessQueue -p, and why (or why not)?"""
    lines: list[str] = []
    if filename is not None:
        file = find_file(session, filename)
        product = session.get(Product, file.product_id)
        assert product is not None  # a file's product exists (foreign key)
        date = file.utc_file_date
        assert date is not None, f"{file.filename} has no utc_file_date"
        lines.append(f"{file.filename}: product {product.product_name}, date {date}, "
                     f"version {version_of(file)}")
        newest = max(session.scalars(select(File).where(
            File.product_id == file.product_id, File.utc_file_date == date)), key=version_of)
        if newest.file_id != file.file_id:
            lines.append(f"not the newest version: superseded by {newest.filename}; "
                         f"only the newest is rebuilt")
    else:
        if product_ref is None or date is None:
            raise UsageError("give a file, or a product and a date")
        product = find_product(session, product_ref)
    reader = StatusReader(session, tree)
    dates = reader.dates_of(product, date, date)
    reader.focus(product, date, date)
    (status,) = reader.product_status(product, dates[0], dates[0])
    if filename is None:
        lines.append(f"{product.product_name} {status.date}: newest file "
                     f"{status.filename or 'none'}")
    lines.append(f"state: {status.state}")
    lines.append(VERDICTS[status.state] + status.reason)
    plan = status.plan
    if plan is not None:
        lines.append(f"plan: {plan.describe()}")
        for item in plan.inputs:
            lines.append(f"  input {item.filename} (version {item.version})")
    if status.last_attempt is not None:
        a = status.last_attempt
        lines.append(f"last attempt: job {a.job_id} {a.state} at {a.at}"
                     + (f", exit code {a.exit_code}" if a.exit_code is not None else "")
                     + (f", output in {a.log_path}" if a.log_path else ""))
    return status, lines
