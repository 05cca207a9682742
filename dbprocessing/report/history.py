"""History: read the event log (see events.py) with filters, newest first.

Three views: ``jobs`` (every planned output with its latest state: planned,
running, started, succeeded, failed, timed_out, skipped), ``ingest`` (every
incoming file accepted or rejected) and ``invocations`` (every ProcessQueue
and DBRunner run, with its logging row's end and comment, or ``running``).
Filters are applied in SQL on indexed columns, and a limit keeps the answer
short.

"running" is derived, not written: a job with no outcome yet whose
invocation's ``logging`` row still holds the processing lock.  A wave's jobs
are written before its codes start and every one of them finishes within
that wave, so such a job is running now or waiting for a free slot (``-n``)
in the wave that is running.  This costs the run nothing (no extra commit per
started code).  A job of a run that died reads "running" until the next run
takes the dead run's lock over, and "planned" after that; DBRunner without
``-i`` holds no lock, so its jobs read "planned" until they finish.
"""
from __future__ import annotations

import datetime
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..db.models import (
    IngestEvent,
    Invocation,
    Job,
    JobEvent,
    Logging,
    Process,
    Product,
)
from ..db.queries import find_process, find_product
from ..errors import UsageError
from .vocabulary import INGEST_STATES, JOB_STATES


@dataclass(frozen=True)
class Filters:
    since: datetime.datetime | None = None
    product: str | None = None
    process: str | None = None
    status: str | None = None
    filename: str | None = None
    invocation: int | None = None  # only what this run (invocation_id) did
    limit: int = 200


def _stamp(value: datetime.datetime | None) -> str | None:
    return value.isoformat(sep=" ", timespec="seconds") if value else None


def job_history(session: Session, filters: Filters) -> list[dict]:
    if filters.status and filters.status not in JOB_STATES:
        raise UsageError(f"--status for jobs is one of {', '.join(JOB_STATES)}")
    last = (select(JobEvent.job_id, func.max(JobEvent.job_event_id).label("last_id"))
            .group_by(JobEvent.job_id).subquery())
    running = Logging.currently_processing.is_(True)
    query = (select(Job, Process.process_name, Product.product_name, JobEvent,
                    running.label("running"))
             .join(Process, Process.process_id == Job.process_id)
             .outerjoin(Product, Product.product_id == Job.output_product)
             .outerjoin(last, last.c.job_id == Job.job_id)
             .outerjoin(JobEvent, JobEvent.job_event_id == last.c.last_id)
             .join(Invocation, Invocation.invocation_id == Job.invocation_id)
             .outerjoin(Logging, Logging.logging_id == Invocation.logging_id))
    if filters.since:
        query = query.where(Job.planned_at >= filters.since)
    if filters.product:
        query = query.where(Job.output_product == find_product(session, filters.product)
                            .product_id)
    if filters.process:
        query = query.where(Job.process_id == find_process(session, filters.process)
                            .process_id)
    if filters.status == "planned":
        query = query.where(JobEvent.job_event_id.is_(None),
                            Logging.currently_processing.isnot(True))
    elif filters.status == "running":
        query = query.where(JobEvent.job_event_id.is_(None), running)
    elif filters.status:
        query = query.where(JobEvent.state == filters.status)
    if filters.filename:
        query = query.where(Job.output_name == filters.filename)
    if filters.invocation is not None:
        query = query.where(Job.invocation_id == filters.invocation)
    rows = session.execute(query.order_by(Job.job_id.desc()).limit(filters.limit)).all()
    return [{"job_id": job.job_id, "invocation_id": job.invocation_id,
             "planned_at": _stamp(job.planned_at), "process": process_name,
             "product": product_name, "date": job.utc_file_date.isoformat(),
             "output": job.output_name, "version": job.planned_version,
             "state": event.state if event else ("running" if is_running else "planned"),
             "at": _stamp(event.at) if event else None,
             "host": event.hostname if event else None,
             "exit_code": event.exit_code if event else None,
             "file_id": event.file_id if event else None,
             "output_path": event.output_path if event else None,
             "log_path": event.log_path if event else None,
             "reason": job.reason, "message": event.message if event else None}
            for job, process_name, product_name, event, is_running in rows]


def job_events(session: Session, job_id: int) -> list[dict]:
    """Every transition of one job, oldest first."""
    return [{"state": e.state, "at": _stamp(e.at), "host": e.hostname,
             "exit_code": e.exit_code, "file_id": e.file_id, "output_path": e.output_path,
             "log_path": e.log_path, "message": e.message}
            for e in session.scalars(select(JobEvent).where(JobEvent.job_id == job_id)
                                     .order_by(JobEvent.job_event_id))]


def ingest_history(session: Session, filters: Filters) -> list[dict]:
    if filters.status and filters.status not in INGEST_STATES:
        raise UsageError(f"--status for ingest is one of {', '.join(INGEST_STATES)}")
    query = (select(IngestEvent, Product.product_name)
             .outerjoin(Product, Product.product_id == IngestEvent.product_id))
    if filters.since:
        query = query.where(IngestEvent.at >= filters.since)
    if filters.product:
        query = query.where(IngestEvent.product_id == find_product(
            session, filters.product).product_id)
    if filters.status:
        query = query.where(IngestEvent.accepted.is_(filters.status == "accepted"))
    if filters.filename:
        query = query.where(IngestEvent.filename == filters.filename)
    if filters.invocation is not None:
        query = query.where(IngestEvent.invocation_id == filters.invocation)
    rows = session.execute(query.order_by(IngestEvent.ingest_event_id.desc())
                           .limit(filters.limit)).all()
    return [{"at": _stamp(e.at), "invocation_id": e.invocation_id, "file": e.filename,
             "state": "accepted" if e.accepted else "rejected", "product": product_name,
             "file_id": e.file_id, "reason": e.reason} for e, product_name in rows]


def invocation_history(session: Session, filters: Filters) -> list[dict]:
    jobs = (select(Job.invocation_id, func.count().label("jobs"))
            .group_by(Job.invocation_id).subquery())
    ingests = (select(IngestEvent.invocation_id, func.count().label("files"))
               .group_by(IngestEvent.invocation_id).subquery())
    query = (select(Invocation, Logging, jobs.c.jobs, ingests.c.files)
             .outerjoin(Logging, Logging.logging_id == Invocation.logging_id)
             .outerjoin(jobs, jobs.c.invocation_id == Invocation.invocation_id)
             .outerjoin(ingests, ingests.c.invocation_id == Invocation.invocation_id))
    if filters.since:
        query = query.where(Invocation.started_at >= filters.since)
    if filters.invocation is not None:
        query = query.where(Invocation.invocation_id == filters.invocation)
    rows = session.execute(query.order_by(Invocation.invocation_id.desc())
                           .limit(filters.limit)).all()
    return [{"invocation_id": inv.invocation_id, "logging_id": inv.logging_id,
             "command": f"{inv.command} {inv.arguments}", "started_at": _stamp(inv.started_at),
             "ended_at": _stamp(log.processing_end_time) if log else None,
             "running": bool(log and log.currently_processing),
             "comment": log.comment if log else None, "host": inv.hostname, "pid": inv.pid,
             "user": inv.user, "jobs": n_jobs or 0, "files": n_files or 0}
            for inv, log, n_jobs, n_files in rows]


def history_table(rows: list[dict], view: str) -> str:
    if not rows:
        return "no events match"
    if view == "jobs":
        return "\n".join(
            f"{r['planned_at']}  job {r['job_id']:<6} {r['state']:<10} {r['process']} "
            f"{r['date']} {r['output'] or ''}"
            + (f" (exit {r['exit_code']})" if r['exit_code'] not in (None, 0) else "")
            + f": {r['message'] or r['reason']}"
            + (f" [{r['log_path']}]" if r['log_path'] else "") for r in rows)
    if view == "ingest":
        return "\n".join(f"{r['at']}  {r['state']:<8} {r['file']}"
                         + (f" -> {r['product']}" if r['product'] else f": {r['reason']}")
                         for r in rows)
    return "\n".join(f"{r['started_at']}  #{r['invocation_id']} {r['command']} on "
                     f"{r['host']} pid {r['pid']}: {r['jobs']} job(s), {r['files']} file(s); "
                     + ("running now" if r["running"] else
                        f"ended {r['ended_at'] or '-'} {r['comment'] or ''}") for r in rows)
