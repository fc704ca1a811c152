"""Queries of the Save Page Now mirror (`archiver.pipeline.mirror`): the posts queued by their first
capture, the jobs to poll, and the copy each post has at the Wayback Machine."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from archiver.storage.models import Embed, Mirror
from archiver.storage.queries._common import insert_ignoring_conflicts

QUEUED = "queued"
PENDING = "pending"
ARCHIVED = "archived"
FAILED = "failed"
MIRROR_STATES = (QUEUED, PENDING, ARCHIVED, FAILED)


def queue_mirror(session: Session, embed: Embed, now: datetime) -> bool:
    """Queue the embed's URL for Save Page Now (a `queued` row) unless it has a row already; whether it
    was queued now. Another process queueing it at the same time is no error (ON CONFLICT DO NOTHING):
    the capture that queues it must not fail for it."""
    row = {"embed_id": embed.id, "url": embed.canonical_url, "state": QUEUED, "attempts": 0}
    row |= {"created_at": now, "updated_at": now}
    return insert_ignoring_conflicts(session, Mirror, [row], ["embed_id"]) == 1


def mirrors_due(session: Session, state: str, now: datetime, limit: int) -> list[Mirror]:
    """Rows in `state` whose next try is due (or unset), the oldest first."""
    stmt = (
        select(Mirror)
        .where(Mirror.state == state, or_(Mirror.next_try_at.is_(None), Mirror.next_try_at <= now))
        .order_by(Mirror.created_at, Mirror.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def mirror_of(session: Session, embed_id: int) -> Mirror | None:
    return session.scalars(select(Mirror).where(Mirror.embed_id == embed_id)).one_or_none()


def mirror_list(session: Session, states: tuple[str, ...] | None = None) -> list[Mirror]:
    """Every mirror row (or those in `states`) with its embed, the newest first."""
    stmt = select(Mirror).options(joinedload(Mirror.embed)).order_by(Mirror.created_at.desc(), Mirror.id)
    if states is not None:
        stmt = stmt.where(Mirror.state.in_(states))
    return list(session.scalars(stmt))


def mirror_counts(session: Session) -> dict[str, int]:
    """How many posts are in each mirror state."""
    rows = session.execute(select(Mirror.state, func.count()).group_by(Mirror.state))
    return dict(Counter({state: count for state, count in rows}))
