"""Core views of the tables every run touches before it knows there is work to do.

Cron starts ``ProcessQueue`` every few minutes, and most runs find nothing to
do; importing the ORM and declaring the models (``models.py``) would be a
third of such a run's CPU.  So the fixed path of a command (the mission row,
the processing lock, the event log's invocation row, and the "anything
incoming, pending or queued?" questions) goes through these lightweight
Core ``table()`` clauses instead: the columns those statements use, typed
where the driver needs it (dates, booleans).  ``models.py`` stays the
definition of the schema; tests/test_schema.py checks every column here
against it.
"""
from __future__ import annotations

from sqlalchemy import Boolean, DateTime, Integer, column, table

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

ingest_pending = table("ingest_pending", column("file_id", Integer))
processqueue = table("processqueue", column("file_id", Integer))
retry = table("retry", column("retry_id", Integer))

TABLES = (mission, logging, invocation, ingest_pending, processqueue, retry)
