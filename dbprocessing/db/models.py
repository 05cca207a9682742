"""The database tables, as typed SQLAlchemy 2 models.

Table and column names are the original's (spec section 2): existing missions'
databases are adopted by a migration and their ad-hoc SQL keeps working.
Tables added by this project are marked so in their docstrings.

Every schema change goes through an alembic revision under ``migrations/``;
a test checks that upgrading an empty database to head gives exactly these
models.
"""
from __future__ import annotations

import datetime
from typing import cast

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from .engine import backends_in_use

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Mission(Base):
    __tablename__ = "mission"

    mission_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    mission_name: Mapped[str] = mapped_column(String(20), unique=True)
    rootdir: Mapped[str] = mapped_column(String(150))
    incoming_dir: Mapped[str] = mapped_column(String(150))
    codedir: Mapped[str | None] = mapped_column(String(150))
    inspectordir: Mapped[str | None] = mapped_column(String(150))
    errordir: Mapped[str | None] = mapped_column(String(150))


class Satellite(Base):
    __tablename__ = "satellite"
    __table_args__ = (UniqueConstraint("satellite_name", "mission_id"),)

    satellite_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    satellite_name: Mapped[str] = mapped_column(String(20))
    mission_id: Mapped[int] = mapped_column(ForeignKey("mission.mission_id"))


class Instrument(Base):
    __tablename__ = "instrument"
    __table_args__ = (UniqueConstraint("instrument_name", "satellite_id"),)

    instrument_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    instrument_name: Mapped[str] = mapped_column(String(20))
    satellite_id: Mapped[int] = mapped_column(ForeignKey("satellite.satellite_id"))


class Product(Base):
    __tablename__ = "product"
    __table_args__ = (UniqueConstraint("product_name", "instrument_id", "relative_path"),)

    product_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_name: Mapped[str] = mapped_column(String(100))
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instrument.instrument_id"))
    relative_path: Mapped[str] = mapped_column(String(100))
    level: Mapped[float] = mapped_column(Float)
    format: Mapped[str] = mapped_column(Text)
    product_description: Mapped[str | None] = mapped_column(Text)


class InstrumentProductLink(Base):
    __tablename__ = "instrumentproductlink"

    instrument_id: Mapped[int] = mapped_column(
        ForeignKey("instrument.instrument_id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.product_id"), primary_key=True)


class Process(Base):
    __tablename__ = "process"
    __table_args__ = (UniqueConstraint("process_name", "output_product"),)

    process_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_name: Mapped[str] = mapped_column(String(50))
    output_product: Mapped[int | None] = mapped_column(ForeignKey("product.product_id"))
    output_timebase: Mapped[str] = mapped_column(String(10))
    extra_params: Mapped[str | None] = mapped_column(Text)


class ProductProcessLink(Base):
    __tablename__ = "productprocesslink"

    process_id: Mapped[int] = mapped_column(ForeignKey("process.process_id"), primary_key=True)
    input_product_id: Mapped[int] = mapped_column(
        ForeignKey("product.product_id"), primary_key=True)
    optional: Mapped[bool] = mapped_column(Boolean)
    yesterday: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    tomorrow: Mapped[int] = mapped_column(Integer, server_default=text("0"))


class File(Base):
    __tablename__ = "file"
    __table_args__ = (
        # The file identity.  The original's constraint named quality_comment
        # instead of quality_version; revision 0002 replaces it.
        UniqueConstraint("utc_file_date", "product_id", "interface_version",
                         "quality_version", "revision_version",
                         name="uq_file_identity"),
        CheckConstraint("interface_version >= 1", name="interface_positive"),
        CheckConstraint("utc_start_time <= utc_stop_time", name="start_before_stop"),
        Index("ix_file_product_date", "product_id", "utc_file_date"),
    )

    file_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    filename: Mapped[str] = mapped_column(String(250), unique=True)
    utc_file_date: Mapped[datetime.date | None] = mapped_column(Date)
    utc_start_time: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    utc_stop_time: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    data_level: Mapped[float] = mapped_column(Float, index=True)
    interface_version: Mapped[int] = mapped_column(SmallInteger)
    quality_version: Mapped[int] = mapped_column(SmallInteger)
    revision_version: Mapped[int] = mapped_column(SmallInteger)
    verbose_provenance: Mapped[str | None] = mapped_column(Text)
    check_date: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    quality_comment: Mapped[str | None] = mapped_column(Text)
    caveats: Mapped[str | None] = mapped_column(Text)
    file_create_date: Mapped[datetime.datetime] = mapped_column(DateTime)
    met_start_time: Mapped[float | None] = mapped_column(Float)
    met_stop_time: Mapped[float | None] = mapped_column(Float)
    exists_on_disk: Mapped[bool] = mapped_column(Boolean)
    quality_checked: Mapped[bool | None] = mapped_column(Boolean)
    product_id: Mapped[int] = mapped_column(ForeignKey("product.product_id"))
    shasum: Mapped[str | None] = mapped_column(String(40))
    process_keywords: Mapped[str | None] = mapped_column(Text)


class UnixTime(Base):
    __tablename__ = "unixtime"

    file_id: Mapped[int] = mapped_column(ForeignKey("file.file_id"), primary_key=True)
    unix_start: Mapped[int | None] = mapped_column(Integer, index=True)
    unix_stop: Mapped[int | None] = mapped_column(Integer, index=True)


class FileFileLink(Base):
    __tablename__ = "filefilelink"
    __table_args__ = (CheckConstraint("source_file <> resulting_file", name="not_self"),
                      # lineage walks up from a file (revision 0004)
                      Index("ix_filefilelink_resulting_file", "resulting_file"))

    source_file: Mapped[int] = mapped_column(ForeignKey("file.file_id"), primary_key=True)
    resulting_file: Mapped[int] = mapped_column(ForeignKey("file.file_id"), primary_key=True)


class FileCodeLink(Base):
    __tablename__ = "filecodelink"

    resulting_file: Mapped[int] = mapped_column(ForeignKey("file.file_id"), primary_key=True)
    source_code: Mapped[int] = mapped_column(ForeignKey("code.code_id"), primary_key=True)


class Code(Base):
    __tablename__ = "code"

    code_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    filename: Mapped[str] = mapped_column(String(250))
    relative_path: Mapped[str] = mapped_column(String(100))
    code_start_date: Mapped[datetime.date] = mapped_column(Date)
    code_stop_date: Mapped[datetime.date] = mapped_column(Date)
    code_description: Mapped[str] = mapped_column(Text)
    process_id: Mapped[int] = mapped_column(ForeignKey("process.process_id"))
    interface_version: Mapped[int] = mapped_column(SmallInteger)
    quality_version: Mapped[int] = mapped_column(SmallInteger)
    revision_version: Mapped[int] = mapped_column(SmallInteger)
    output_interface_version: Mapped[int] = mapped_column(SmallInteger)
    active_code: Mapped[bool] = mapped_column(Boolean)
    date_written: Mapped[datetime.date] = mapped_column(Date)
    shasum: Mapped[str | None] = mapped_column(String(40))
    newest_version: Mapped[bool] = mapped_column(Boolean)
    arguments: Mapped[str | None] = mapped_column(Text)
    ram: Mapped[float | None] = mapped_column(Float)
    cpu: Mapped[int | None] = mapped_column(SmallInteger)
    #: New in this project (revision 0003): seconds before a run is killed.
    code_timeout: Mapped[float | None] = mapped_column(Float)


class Inspector(Base):
    __tablename__ = "inspector"

    inspector_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    filename: Mapped[str] = mapped_column(String(250))
    relative_path: Mapped[str] = mapped_column(String(250))
    description: Mapped[str] = mapped_column(Text)
    interface_version: Mapped[int] = mapped_column(SmallInteger)
    quality_version: Mapped[int] = mapped_column(SmallInteger)
    revision_version: Mapped[int] = mapped_column(SmallInteger)
    output_interface_version: Mapped[int] = mapped_column(SmallInteger)
    active_code: Mapped[bool] = mapped_column(Boolean)
    date_written: Mapped[datetime.date] = mapped_column(Date)
    shasum: Mapped[str | None] = mapped_column(String(40))
    newest_version: Mapped[bool] = mapped_column(Boolean)
    arguments: Mapped[str | None] = mapped_column(Text)
    product: Mapped[int] = mapped_column(ForeignKey("product.product_id"))


class ProcessQueue(Base):
    __tablename__ = "processqueue"
    __table_args__ = (CheckConstraint("version_bump IN (0, 1, 2)", name="bump_component"),)

    file_id: Mapped[int] = mapped_column(ForeignKey("file.file_id"), primary_key=True)
    version_bump: Mapped[int | None] = mapped_column(SmallInteger)
    # True: remake this file itself (reprocessByCode), not only its children.
    remake: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


class Release(Base):
    __tablename__ = "release"

    file_id: Mapped[int] = mapped_column(ForeignKey("file.file_id"), primary_key=True)
    release_num: Mapped[str] = mapped_column(String(20), primary_key=True)


class Logging(Base):
    """One row per ProcessQueue run; the row with currently_processing true is the lock.

    The partial unique index (added by revision 0002) makes taking the lock a
    single atomic INSERT on both backends.
    """

    __tablename__ = "logging"
    # WHERE currently_processing on each backend: see use_backend.
    __table_args__ = (Index("ix_logging_one_lock", "currently_processing", unique=True),)

    logging_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    currently_processing: Mapped[bool] = mapped_column(Boolean)
    pid: Mapped[int | None] = mapped_column(Integer)
    processing_start_time: Mapped[datetime.datetime] = mapped_column(DateTime)
    processing_end_time: Mapped[datetime.datetime | None] = mapped_column(DateTime)
    comment: Mapped[str | None] = mapped_column(Text)
    mission_id: Mapped[int] = mapped_column(ForeignKey("mission.mission_id"))
    user: Mapped[str] = mapped_column(String(30))
    hostname: Mapped[str] = mapped_column(String(100))


class LoggingFile(Base):
    __tablename__ = "logging_file"

    logging_file_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    logging_id: Mapped[int] = mapped_column(ForeignKey("logging.logging_id"))
    file_id: Mapped[int] = mapped_column(ForeignKey("file.file_id"))
    code_id: Mapped[int] = mapped_column(ForeignKey("code.code_id"))
    comments: Mapped[str | None] = mapped_column(Text)


class IngestPending(Base):
    """New in this project: moves promised by committed file rows.

    Ingest commits a file's row together with a row here, then moves the file
    and deletes the row.  A run that finds rows here finishes those moves
    first, so a crash between commit and move never leaves a row without its
    file in place.
    """

    __tablename__ = "ingest_pending"

    file_id: Mapped[int] = mapped_column(ForeignKey("file.file_id"), primary_key=True)
    source_path: Mapped[str] = mapped_column(Text)
    target_path: Mapped[str] = mapped_column(Text)
    is_link: Mapped[bool] = mapped_column(Boolean, server_default=text("false"))


# -- the event log (new in this project, revision 0004) ------------------------
#
# Append-only: rows are inserted, never deleted, each in the same transaction
# as the work it describes; the one update is purgeFileFromDB clearing the
# file id of a purged file (ids can be reused).  File ids in the log carry no
# foreign key: the history of a file outlives the file's row.

JOB_STATES = ("started", "succeeded", "failed", "timed_out", "skipped")


class Invocation(Base):
    """New in this project: one row per ProcessQueue or DBRunner run."""

    __tablename__ = "invocation"

    invocation_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    logging_id: Mapped[int | None] = mapped_column(ForeignKey("logging.logging_id"),
                                                   index=True)
    command: Mapped[str] = mapped_column(String(50))
    arguments: Mapped[str] = mapped_column(Text)
    hostname: Mapped[str] = mapped_column(String(100))
    pid: Mapped[int] = mapped_column(Integer)
    user: Mapped[str] = mapped_column(String(30))
    started_at: Mapped[datetime.datetime] = mapped_column(DateTime, index=True)


class Job(Base):
    """New in this project: one planned run of a code (or a planned output not run)."""

    __tablename__ = "job"
    __table_args__ = (
        Index("ix_job_output_product_date", "output_product", "utc_file_date"),
        Index("ix_job_process_date", "process_id", "utc_file_date"),
    )

    job_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invocation_id: Mapped[int] = mapped_column(ForeignKey("invocation.invocation_id"),
                                               index=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("process.process_id"))
    code_id: Mapped[int | None] = mapped_column(ForeignKey("code.code_id"))
    output_product: Mapped[int | None] = mapped_column(ForeignKey("product.product_id"))
    utc_file_date: Mapped[datetime.date] = mapped_column(Date)
    planned_version: Mapped[str | None] = mapped_column(String(20))
    output_name: Mapped[str | None] = mapped_column(String(250))
    reason: Mapped[str] = mapped_column(Text)
    planned_at: Mapped[datetime.datetime] = mapped_column(DateTime)


class JobEvent(Base):
    """New in this project: a transition of a job (started, succeeded, failed, ...)."""

    __tablename__ = "job_event"
    __table_args__ = (
        CheckConstraint("state IN ('started', 'succeeded', 'failed', 'timed_out', "
                        "'skipped')", name="known_state"),
    )

    job_event_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("job.job_id"), index=True)
    state: Mapped[str] = mapped_column(String(12))
    at: Mapped[datetime.datetime] = mapped_column(DateTime)
    hostname: Mapped[str] = mapped_column(String(100))
    exit_code: Mapped[int | None] = mapped_column(Integer)
    file_id: Mapped[int | None] = mapped_column(Integer)
    output_path: Mapped[str | None] = mapped_column(Text)
    log_path: Mapped[str | None] = mapped_column(Text)
    message: Mapped[str | None] = mapped_column(Text)


class IngestEvent(Base):
    """New in this project: what ingest decided for one incoming file."""

    __tablename__ = "ingest_event"

    ingest_event_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    invocation_id: Mapped[int] = mapped_column(ForeignKey("invocation.invocation_id"),
                                               index=True)
    filename: Mapped[str] = mapped_column(String(250), index=True)
    accepted: Mapped[bool] = mapped_column(Boolean)
    product_id: Mapped[int | None] = mapped_column(ForeignKey("product.product_id"))
    file_id: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime.datetime] = mapped_column(DateTime)


class Retry(Base):
    """New in this project: an output whose last run failed, to be tried again.

    One row per (process, date, keywords) target; ``ProcessQueue -p`` plans it
    again once ``not_before`` has passed (NULL: only when the code that would
    run is no longer ``code_id``; a new input is queued and retries it anyway),
    and deletes it when a run of that target succeeds or it is up to date."""

    __tablename__ = "retry"
    __table_args__ = (
        CheckConstraint("version_bump IN (0, 1, 2)", name="bump_component"),
        Index("ix_retry_process_date", "process_id", "utc_file_date"),
    )

    retry_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    process_id: Mapped[int] = mapped_column(ForeignKey("process.process_id"))
    utc_file_date: Mapped[datetime.date] = mapped_column(Date)
    process_keywords: Mapped[str | None] = mapped_column(Text)
    version_bump: Mapped[int | None] = mapped_column(SmallInteger)
    code_id: Mapped[int | None] = mapped_column(ForeignKey("code.code_id"))
    attempts: Mapped[int] = mapped_column(Integer)
    failed_at: Mapped[datetime.datetime] = mapped_column(DateTime)
    not_before: Mapped[datetime.datetime | None] = mapped_column(DateTime)


def use_backend(dialect_name: str) -> None:
    """Complete the models for *dialect_name* ("sqlite", "postgresql").

    The lock's unique index is partial, ``WHERE currently_processing``, on
    both backends.  SQLAlchemy imports a dialect to check its keyword
    arguments, and importing PostgreSQL's cost every SQLite command about
    50 ms of start-up, so the condition is given here for the backend in use:
    ``make_engine`` (and migrations/env.py) call this before any DDL can be
    compiled from the models; for engines made before this module was
    imported, its import does.
    """
    table = cast(Table, Logging.__table__)
    index = next(i for i in table.indexes if i.name == "ix_logging_one_lock")
    if index.dialect_options[dialect_name]["where"] is None:
        index.dialect_kwargs[f"{dialect_name}_where"] = text("currently_processing")


for _name in backends_in_use():  # engines made before the models were imported
    use_backend(_name)
