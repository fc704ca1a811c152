"""The daemon's jobs: when each last started, and the lease that lets one daemon of several run it."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.orm import Session

from archiver.storage.models import JobRun
from archiver.storage.queries._common import insert_ignoring_conflicts


def job_runs(session: Session) -> dict[str, datetime | None]:
    """When each daemon job last started (over all daemons)."""
    return {row.job: row.last_run_at for row in session.scalars(select(JobRun))}


def mark_job_run(session: Session, job: str, at: datetime) -> None:
    """Note that `job` started at `at` (a later start already noted wins)."""
    insert_ignoring_conflicts(session, JobRun, [{"job": job}], ["job"])
    session.execute(
        update(JobRun)
        .where(JobRun.job == job, or_(JobRun.last_run_at.is_(None), JobRun.last_run_at < at))
        .values(last_run_at=at)
        .execution_options(synchronize_session=False)
    )


def claim_job(session: Session, job: str, owner: str, now: datetime, lease: timedelta) -> bool:
    """Hold `job` for `owner` until `now + lease` unless another daemon holds it; whether it is held."""
    insert_ignoring_conflicts(session, JobRun, [{"job": job}], ["job"])
    result = session.execute(
        update(JobRun)
        .where(
            JobRun.job == job,
            or_(JobRun.lease_until.is_(None), JobRun.lease_until <= now, JobRun.lease_owner == owner),
        )
        .values(lease_owner=owner, lease_until=now + lease)
        .execution_options(synchronize_session=False, preserve_rowcount=True)
    )
    return cast(CursorResult[Any], result).rowcount == 1


def release_job(session: Session, job: str, owner: str) -> None:
    session.execute(
        update(JobRun)
        .where(JobRun.job == job, JobRun.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )
