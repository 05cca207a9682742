"""Give a process a new input product (addProductProcessLink), and queue what it changes.

``add_input`` adds the ``productprocesslink`` row (optional or required, with
its yesterday/tomorrow window) and queues the newest file of each date of the
new input, so that the next ``ProcessQueue -p`` reconsiders the process's
outputs of those dates.  The caller owns the transaction.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from ..db.models import ProductProcessLink
from ..db.queries import find_process, find_product, newest_file_ids
from ..errors import UsageError
from .reprocess import queue_files


@dataclass(frozen=True)
class AddedInput:
    process: str
    product: str
    optional: bool
    yesterday: int
    tomorrow: int
    queued: int

    def text(self) -> str:
        kind = "optional" if self.optional else "required"
        window = ""
        if self.yesterday or self.tomorrow:
            window = f", {self.yesterday} day(s) before and {self.tomorrow} after"
        return (f"added {self.product} as {kind} input of {self.process}{window}; "
                f"queued {self.queued} file(s): run ProcessQueue -p to make what it changes")


def add_input(session: Session, process_ref: str, product_ref: str, *,
              optional: bool = False, yesterday: int = 0, tomorrow: int = 0) -> AddedInput:
    """Add *product_ref* as an input of *process_ref* and queue its newest files.

    UsageError (exit 2, nothing changed) for an unknown name, a negative
    window, the process's own output, or a link that already exists.
    """
    if yesterday < 0 or tomorrow < 0:
        raise UsageError(f"-y and -t count days and cannot be negative "
                         f"(got {yesterday}, {tomorrow}); nothing changed")
    process = find_process(session, process_ref)
    product = find_product(session, product_ref)
    if process.output_product == product.product_id:
        raise UsageError(f"{product.product_name} is the output of {process.process_name}; a "
                         f"process cannot take its own output as an input; nothing changed")
    existing = session.get(ProductProcessLink, (process.process_id, product.product_id))
    if existing is not None:
        kind = "optional" if existing.optional else "required"
        raise UsageError(
            f"{product.product_name} is already an input ({kind}) of {process.process_name} "
            f"(yesterday {existing.yesterday}, tomorrow {existing.tomorrow}); nothing changed")
    session.add(ProductProcessLink(process_id=process.process_id,
                                   input_product_id=product.product_id, optional=optional,
                                   yesterday=yesterday, tomorrow=tomorrow))
    session.flush()
    queued = queue_files(session, newest_file_ids(session, [product.product_id]), None)
    return AddedInput(process.process_name, product.product_name, optional, yesterday,
                      tomorrow, queued)
