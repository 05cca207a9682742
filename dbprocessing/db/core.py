"""Core views of the tables every run touches before it knows there is work to do.

Cron starts ``ProcessQueue`` every few minutes, and most runs find nothing to
do; importing the ORM and declaring the models (``models.py``) would be a
third of such a run's CPU.  So the fixed path of a command (the mission row,
the processing lock, the event log's invocation row, and the "anything
incoming, pending or queued?" questions) goes through these lightweight
Core ``table()`` clauses instead: the columns those statements use, typed
where the driver needs it (dates, booleans).  ``ProcessQueue -i`` goes
through them all the way (``ingest.pipeline``): the products and their
plugins, the file, unixtime, queue, promise and event rows.  Only a plugin
that asks ``self.dbu`` for a row imports the ORM.  ``printLineage`` reads its
graph through them too (the file, link and code rows).  A row of these has
the model's attribute names, so ``version_of`` takes either.  ``models.py`` stays the
definition of the schema; tests/test_schema.py checks every column here
against it.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import (
    Boolean,
    Connection,
    Date,
    DateTime,
    Float,
    Integer,
    Row,
    String,
    column,
    select,
    table,
)

from ..errors import UsageError
from ..Version import Version

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


class Versioned(Protocol):
    interface_version: int
    quality_version: int
    revision_version: int


def version_of(row: Versioned) -> Version:
    """The interface.quality.revision of a file, code or inspector row (model or Core)."""
    return Version(row.interface_version, row.quality_version, row.revision_version)


mission = table(
    "mission", column("mission_id", Integer), column("mission_name"), column("rootdir"),
    column("incoming_dir"), column("codedir"), column("inspectordir"), column("errordir"))

logging = table(
    "logging", column("logging_id", Integer), column("currently_processing", Boolean),
    column("pid", Integer), column("processing_start_time", DateTime),
    column("processing_end_time", DateTime), column("comment"),
    column("mission_id", Integer), column("user"), column("hostname"))

invocation = table(
    "invocation", column("invocation_id", Integer), column("logging_id", Integer),
    column("command"), column("arguments"), column("hostname"), column("pid", Integer),
    column("user"), column("started_at", DateTime))

ingest_pending = table(
    "ingest_pending", column("file_id", Integer), column("source_path"),
    column("target_path"), column("is_link", Boolean))
processqueue = table("processqueue", column("file_id", Integer),
                     column("version_bump", Integer))
retry = table("retry", column("retry_id", Integer))

# -- ingest: the products with their plugins, and what a file's ingest writes --
satellite = table("satellite", column("satellite_id", Integer), column("satellite_name"),
                  column("mission_id", Integer))
instrument = table("instrument", column("instrument_id", Integer), column("instrument_name"),
                   column("satellite_id", Integer))
product = table(
    "product", column("product_id", Integer), column("product_name"),
    column("instrument_id", Integer), column("relative_path"), column("level", Float),
    column("format"))
inspector = table(
    "inspector", column("inspector_id", Integer), column("filename"), column("relative_path"),
    column("interface_version", Integer), column("quality_version", Integer),
    column("revision_version", Integer), column("active_code", Boolean),
    column("arguments"), column("product", Integer))
file = table(
    "file", column("file_id", Integer), column("filename", String),
    column("utc_file_date", Date), column("utc_start_time", DateTime),
    column("utc_stop_time", DateTime), column("data_level", Float),
    column("interface_version", Integer), column("quality_version", Integer),
    column("revision_version", Integer), column("verbose_provenance"),
    column("check_date", DateTime), column("quality_comment"), column("caveats"),
    column("file_create_date", DateTime), column("met_start_time", Float),
    column("met_stop_time", Float), column("exists_on_disk", Boolean),
    column("quality_checked", Boolean), column("product_id", Integer),
    column("shasum", String), column("process_keywords"))
unixtime = table("unixtime", column("file_id", Integer), column("unix_start", Integer),
                 column("unix_stop", Integer))
# -- lineage: the links between files and the codes that made them --------------
filefilelink = table("filefilelink", column("source_file", Integer),
                     column("resulting_file", Integer))
filecodelink = table("filecodelink", column("resulting_file", Integer),
                     column("source_code", Integer))
code = table(
    "code", column("code_id", Integer), column("filename"), column("interface_version", Integer),
    column("quality_version", Integer), column("revision_version", Integer))
ingest_event = table(
    "ingest_event", column("ingest_event_id", Integer), column("invocation_id", Integer),
    column("filename"), column("accepted", Boolean), column("product_id", Integer),
    column("file_id", Integer), column("reason"), column("at", DateTime))

TABLES = (mission, logging, invocation, ingest_pending, processqueue, retry, satellite,
          instrument, product, inspector, file, unixtime, filefilelink, filecodelink, code,
          ingest_event)


def file_row(db: Connection | Session, ref: str) -> Row[Any]:
    """A file's row by its filename (a path's directory is ignored), else by its id;
    a UsageError if neither names one."""
    name = Path(ref).name
    found = db.execute(select(file).where(file.c.filename == name)).first()
    if found is None and name.isdigit():
        found = db.execute(select(file).where(file.c.file_id == int(name))).first()
    if found is None:
        raise UsageError(f"no file {name!r} in the database")
    return found
