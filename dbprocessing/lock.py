"""The processing lock (spec section 9): one ProcessQueue run per mission at a time.

The lock is the ``logging`` row with ``currently_processing`` true.  A partial
unique index allows at most one such row, so taking the lock is a single
INSERT that either succeeds or fails atomically on both backends: two runs
started at the same instant never both hold it.

When the INSERT fails the holder is read:

* alive on this host: refuse (LockHeld, exit 3) naming pid, host and start;
* dead on this host (its pid is gone, or now belongs to a younger process):
  take the lock over, logging a warning and saying so in both rows' comments.
  Safe because every write of a run is transactional;
* on another host: refuse, and say to run ``clearProcessingFlag`` if that run
  is known to be dead.

A run ends by ``release`` (currently_processing false, end time, comment).
"""
from __future__ import annotations

import datetime
import getpass
import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from .db import core
from .errors import LockHeld

logger = logging.getLogger(__name__)

# A Core view of the ``logging`` table: no ORM on a run's fixed path (db/core.py).
_LOGGING = core.logging
_ROW = _LOGGING.c
_HOLDER = (_ROW.logging_id, _ROW.pid, _ROW.hostname, _ROW.user, _ROW.processing_start_time)


def utcnow() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)


def user_name() -> str:
    try:
        return getpass.getuser()[:30]
    except Exception:  # no passwd entry (containers)
        return str(os.getuid())


def _process_start(pid: int) -> datetime.datetime | None:
    """When *pid* started (UTC), from /proc; None where /proc cannot say."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        ticks = int(fields[19])
        with open("/proc/stat", encoding="ascii") as handle:
            boot = next(int(line.split()[1]) for line in handle if line.startswith("btime"))
    except (OSError, ValueError, IndexError, StopIteration):
        return None
    seconds = boot + ticks / os.sysconf("SC_CLK_TCK")
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).replace(tzinfo=None)


def pid_alive(pid: int | None, since: datetime.datetime | None = None) -> bool:
    """Is *pid* a live process that could be the holder that started at *since*?"""
    if not pid or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    if since is not None:
        started = _process_start(pid)
        # A process that started after the lock was taken reuses a dead holder's pid.
        if started is not None and started > since + datetime.timedelta(seconds=2):
            return False
    return True


@dataclass(frozen=True)
class Holder:
    logging_id: int
    pid: int | None
    hostname: str
    user: str
    start: datetime.datetime

    def describe(self) -> str:
        return (f"pid {self.pid} on {self.hostname} (user {self.user}), "
                f"started {self.start:%Y-%m-%d %H:%M:%S} UTC")


def acquire(engine: Engine, mission_id: int, db_name: str) -> tuple[int, str | None]:
    """Take the lock for this process, or raise LockHeld.

    Returns the new logging_id and, when a dead holder's lock was taken over,
    a note saying so (for this run's comment).
    """
    host = socket.gethostname()[:100]
    takeover: str | None = None
    for _attempt in range(3):
        row = dict(currently_processing=True, pid=os.getpid(), processing_start_time=utcnow(),
                   mission_id=mission_id, user=user_name(), hostname=host)
        try:
            with engine.begin() as conn:
                logging_id = conn.execute(insert(_LOGGING).returning(_ROW.logging_id),
                                          row).scalar_one()
            return logging_id, takeover
        except IntegrityError:
            pass
        with engine.connect() as conn:
            holder = _holder_row(conn)
        if holder is None:
            continue  # released between our INSERT and our look: try again
        if holder.hostname != host:
            raise LockHeld(
                f"another run holds the processing lock: {holder.describe()}. If that run is "
                f"known to be dead, clear the lock with: clearProcessingFlag {db_name} \"why\"",
                held_since=holder.start)
        if pid_alive(holder.pid, holder.start):
            raise LockHeld(f"another run holds the processing lock: {holder.describe()}",
                           held_since=holder.start)
        note = (f"lock taken over by pid {os.getpid()}: holder pid {holder.pid} on {host} "
                f"was dead")
        with engine.begin() as conn:
            taken = conn.execute(
                update(_LOGGING).where(_ROW.logging_id == holder.logging_id,
                                       _ROW.currently_processing.is_(True))
                .values(currently_processing=False, processing_end_time=utcnow(),
                        comment=note)).rowcount
        if taken:
            logger.warning("%s (its run started %s UTC)", note, holder.start)
            takeover = (f"took the lock over from dead pid {holder.pid} "
                        f"(logging_id {holder.logging_id})")
    raise LockHeld("could not take the processing lock after 3 attempts (other runs "
                   "keep taking it)")


def _holder_row(conn: Connection) -> Holder | None:
    row = conn.execute(select(*_HOLDER).where(_ROW.currently_processing.is_(True))).first()
    return None if row is None else Holder(*row)


def release(engine: Engine, logging_id: int, comment: str) -> None:
    with engine.begin() as conn:
        conn.execute(update(_LOGGING).where(_ROW.logging_id == logging_id)
                     .values(currently_processing=False, processing_end_time=utcnow(),
                             comment=comment[:2000]))


def clear(engine: Engine, message: str) -> list[Holder]:
    """Clear the lock whoever holds it (clearProcessingFlag); return what was cleared."""
    with engine.begin() as conn:
        holders = [Holder(*r) for r in conn.execute(
            select(*_HOLDER).where(_ROW.currently_processing.is_(True)))]
        if holders:
            conn.execute(update(_LOGGING).where(_ROW.currently_processing.is_(True))
                         .values(currently_processing=False, processing_end_time=utcnow(),
                                 comment=f"cleared by clearProcessingFlag: {message}"))
    return holders


@dataclass
class HeldLock:
    """The lock this process holds: its ``logging`` row and the comment it ends with."""

    logging_id: int
    comment: str = "Nominal Exit"


@contextmanager
def processing_lock(engine: Engine, mission_id: int, db_name: str) -> Iterator[HeldLock]:
    """Hold the lock for the block; the block may set the held lock's ``comment``."""
    logging_id, takeover = acquire(engine, mission_id, db_name)
    held = HeldLock(logging_id)
    try:
        yield held
    except BaseException as exc:
        held.comment = f"Error: {type(exc).__name__}: {exc}"
        raise
    finally:
        comment = held.comment if takeover is None else f"{held.comment}; {takeover}"
        release(engine, logging_id, comment)
