"""The words the report commands accept: printInfo's kinds of row, printHistory's states.

Kept apart from the queries that use them so a command's parser (its
``choices`` and help) is built without importing the database layer: ``-h``
and argument errors cost no more than Python's start-up.
"""
from __future__ import annotations

#: printInfo: the kinds of row it lists (ORM class names, case as the original).
INFO_KINDS = ("Code", "File", "Mission", "Process", "Product")
#: printHistory: a job's latest state ("planned" and "running" are derived).
JOB_STATES = ("planned", "running", "started", "succeeded", "failed", "timed_out",
              "skipped")
#: printHistory --ingest: what became of an incoming file.
INGEST_STATES = ("accepted", "rejected")
