"""Logging for dbprocessing and its plugins (frozen plugin API, spec section 12).

Plugins of the original call ``DBlogging.dblogger.info(...)``; that logger is
kept.  Records go to daily UTC files ``dbprocessing_<db name>.log.YYYY-MM-DD``
in ``$DBPROCESSING_LOG_DIR`` (default ``~/dbprocessing_logs``), but only once
a command calls ``configure``: importing this module opens no file and makes
no directory.

``log_lines`` logs many lines (a batch's "ingested" lines) as one record: in
the daily file each is still a line of its own with the usual prefix, for
the cost of one record and one write.
"""
from __future__ import annotations

import datetime
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

__all__ = ["dblogger", "configure", "log_dir", "log_lines", "DailyFileHandler"]

#: The logger plugins of the original write to.
dblogger = logging.getLogger("DBLogger")

_FORMAT = "%(asctime)s %(levelname)s %(name)s %(process)d: %(message)s"
# A record carrying this attribute (set by log_lines) is one line per line of its message.
_EACH_LINE = "dbprocessing_each_line"


def log_lines(logger: logging.Logger, level: int, lines: Sequence[str]) -> None:
    """Log each of *lines* as if by a call of its own, in one record (one write).

    Our handlers write every line with the prefix (time, level, logger, pid)
    a record of its own would have, all with the time of this call.
    """
    if lines and logger.isEnabledFor(level):
        logger.log(level, "%s", "\n".join(lines), extra={_EACH_LINE: True})


class _Formatter(logging.Formatter):
    """The log's format; a ``log_lines`` record gives one formatted line per line."""

    def format(self, record: logging.LogRecord) -> str:
        if not getattr(record, _EACH_LINE, False):
            return super().format(record)
        message = record.getMessage()
        record.asctime = self.formatTime(record, self.datefmt)
        lines = []
        for line in message.split("\n"):
            record.message = line
            lines.append(self.formatMessage(record))
        record.message = message
        return "\n".join(lines)


def log_dir() -> Path:
    return Path(os.environ.get("DBPROCESSING_LOG_DIR")
                or Path.home() / "dbprocessing_logs").expanduser()


class DailyFileHandler(logging.Handler):
    """Append to ``<directory>/<stem>.log.YYYY-MM-DD``, the date being UTC now.

    A log that cannot be written (the directory cannot be made, the file not
    opened or appended to) is one line on stderr, naming the directory and
    the reason, and the records of that day are dropped: the run goes on, and
    cron does not mail a traceback per record.
    """

    def __init__(self, directory: Path, stem: str) -> None:
        super().__init__()
        self.directory = directory
        self.stem = stem
        self._day: datetime.date | None = None
        self._day_span = (0.0, 0.0)  # [start, end) of self._day as POSIX times
        self._stream: TextIO | None = None
        self._broken: datetime.date | None = None  # the day the log could not be written

    def _open_for(self, day: datetime.date) -> None:
        if self._stream is not None:
            self._stream.close()
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{self.stem}.log.{day.isoformat()}"
        self._stream = path.open("a", encoding="utf-8")
        self._day = day
        start = datetime.datetime.combine(day, datetime.time(), datetime.timezone.utc)
        self._day_span = (start.timestamp(), (start + datetime.timedelta(days=1)).timestamp())

    def emit(self, record: logging.LogRecord) -> None:
        start, end = self._day_span
        if start <= record.created < end:  # the open file's day: no date to work out
            day = self._day
        else:
            day = datetime.datetime.fromtimestamp(record.created, datetime.timezone.utc).date()
        if day == self._broken:
            return
        try:
            if day != self._day:
                assert day is not None
                self._open_for(day)
            assert self._stream is not None  # _open_for just opened it, or it is the day's stream
            self._stream.write(self.format(record) + "\n")
            self._stream.flush()
        except OSError as exc:
            self._broken = day
            self._day = None
            self._day_span = (0.0, 0.0)
            if self._stream is not None:
                try:
                    self._stream.close()
                except OSError:
                    pass
                self._stream = None
            sys.stderr.write(f"dbprocessing: cannot write the log in {self.directory}: "
                             f"{exc.strerror or exc}; today's log records are dropped "
                             f"(set DBPROCESSING_LOG_DIR to a writable directory)\n")
        except Exception:  # logging must never stop a run
            self.handleError(record)

    def close(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None
        super().close()


def configure(db_name: str | None, level: str | int = "INFO", *,
              console: bool = False) -> None:
    """Route dbprocessing's and plugins' records to the daily file of *db_name*.

    Called by the commands only.  Replaces handlers set by an earlier call, so
    tests may call it repeatedly.
    """
    if isinstance(level, str):
        numeric = logging.getLevelName(level.upper())
        if not isinstance(numeric, int):
            raise ValueError(f"unknown log level {level!r}")
        level = numeric
    formatter = _Formatter(_FORMAT)
    formatter.converter = time.gmtime
    handlers: list[logging.Handler] = []
    if db_name is not None:
        handlers.append(DailyFileHandler(log_dir(), f"dbprocessing_{db_name}"))
    if console:
        handlers.append(logging.StreamHandler())
    for name in ("dbprocessing", "DBLogger"):
        logger = logging.getLogger(name)
        for old in [h for h in logger.handlers if getattr(h, "_dbprocessing", False)]:
            logger.removeHandler(old)
            old.close()
        logger.setLevel(level)
        for handler in handlers:
            handler.setFormatter(formatter)
            handler._dbprocessing = True  # type: ignore[attr-defined]
            logger.addHandler(handler)
