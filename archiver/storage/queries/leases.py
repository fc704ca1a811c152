"""Leases: due work shared by several daemons.

A daemon claims a batch of due embeds by writing its name and an expiry into them, processes them, and
releases them. A lease that expires (its daemon died) makes the embed claimable again. On PostgreSQL the
claiming UPDATE selects its rows with FOR UPDATE SKIP LOCKED, so daemons never wait on each other's
batches; SQLite runs the same UPDATE (its writers take turns), without the locking clause.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, and_, func, or_, select, update
from sqlalchemy.orm import Session

from archiver.storage.models import Check, Embed
from archiver.storage.queries._common import CHUNK, never_captured


def lease_is_free(now: datetime) -> Any:
    """Embeds no daemon holds at `now`: never leased, released, or whose lease expired."""
    return or_(Embed.lease_until.is_(None), Embed.lease_until <= now)


def claim_due_captures(
    session: Session,
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    providers: Collection[str] | None = None,
) -> list[Embed]:
    """Lease to `owner` up to `limit` embeds due for their first capture (as `embeds_due_for_capture`,
    the longest-known first) that no one holds; returns them in that order."""
    due = select(Embed.id).where(
        never_captured(),
        or_(Embed.next_capture_at.is_(None), Embed.next_capture_at <= now),
        lease_is_free(now),
    )
    if providers is not None:
        due = due.where(Embed.provider.in_(list(providers)))
    claimed = _claim(session, due.order_by(Embed.first_seen_at, Embed.id), owner, now, lease, limit)
    return sorted(claimed, key=lambda e: (e.first_seen_at, e.id))


def claim_due_checks(
    session: Session,
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    providers: Collection[str] | None = None,
) -> list[Embed]:
    """Lease to `owner` up to `limit` embeds whose check is due (the most overdue first) that no one holds.

    Also due: a captured embed with no next check at all, which only a run that died between recording a
    capture and deciding its verdict leaves behind (`checked_since_due` says so; the verdict is all it
    needs)."""
    due = select(Embed.id).where(
        or_(
            Embed.next_check_at <= now,
            and_(Embed.next_check_at.is_(None), Embed.last_captured_at.is_not(None)),
        ),
        lease_is_free(now),
    )
    if providers is not None:
        due = due.where(Embed.provider.in_(list(providers)))
    due = due.order_by(Embed.next_check_at.asc().nulls_first(), Embed.id)
    claimed = _claim(session, due, owner, now, lease, limit)
    return sorted(claimed, key=lambda e: (e.next_check_at is not None, e.next_check_at or now, e.id))


def _claim(
    session: Session, due: Any, owner: str, now: datetime, lease: timedelta, limit: int
) -> list[Embed]:
    if limit <= 0:
        return []
    due = due.limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        # Rows another daemon is claiming right now are skipped, not waited for; rows it claimed and
        # committed are re-read by the lock and fail `lease_is_free`.
        due = due.with_for_update(skip_locked=True, of=Embed)
    stmt = (
        update(Embed)
        .where(Embed.id.in_(due.scalar_subquery()), lease_is_free(now))
        .values(lease_owner=owner, lease_until=now + lease)
        .returning(Embed.id)
        .execution_options(synchronize_session=False)
    )
    ids = list(session.scalars(stmt))
    embeds: list[Embed] = []
    for start in range(0, len(ids), CHUNK):
        embeds.extend(session.scalars(select(Embed).where(Embed.id.in_(ids[start : start + CHUNK]))))
    return embeds


def hold_lease(session: Session, embed_id: int, owner: str) -> bool:
    """Whether `owner` still holds the embed, locking its row for the rest of the transaction.

    It is a (no-op) write, so on SQLite too it takes the write lock first: nobody can claim the embed
    between this answer and the caller's commit. A daemon whose lease was taken over records nothing."""
    result = session.execute(
        update(Embed)
        .where(Embed.id == embed_id, Embed.lease_owner == owner)
        .values(lease_owner=Embed.lease_owner)
        .execution_options(synchronize_session=False, preserve_rowcount=True)
    )
    return cast(CursorResult[Any], result).rowcount == 1


def renew_leases(session: Session, owner: str, embed_ids: Collection[int], until: datetime) -> int:
    """Extend the leases `owner` still holds on these embeds to `until`; how many it still held."""
    return _update_leases(session, owner, embed_ids, {"lease_until": until})


def release(session: Session, owner: str, embed_ids: Collection[int]) -> int:
    """Give back `owner`'s leases on these embeds (others' leases are left alone); how many it held."""
    return _update_leases(session, owner, embed_ids, {"lease_owner": None, "lease_until": None})


def release_all(session: Session, owner: str) -> int:
    """Give back every lease `owner` holds (a daemon that stops)."""
    result = session.execute(
        update(Embed)
        .where(Embed.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False, preserve_rowcount=True)
    )
    return max(cast(CursorResult[Any], result).rowcount, 0)


def _update_leases(session: Session, owner: str, embed_ids: Collection[int], values: dict[str, Any]) -> int:
    wanted = sorted(set(embed_ids))
    changed = 0
    for start in range(0, len(wanted), CHUNK):
        result = session.execute(
            update(Embed)
            .where(Embed.id.in_(wanted[start : start + CHUNK]), Embed.lease_owner == owner)
            .values(**values)
            .execution_options(synchronize_session=False, preserve_rowcount=True)
        )
        changed += max(cast(CursorResult[Any], result).rowcount, 0)
    return changed


def checked_since_due(session: Session, embed_ids: Collection[int]) -> set[int]:
    """The embeds among these whose check was already recorded in their current cycle (a check after
    their next check became due), or that are captured and wait only for their verdict: a run died
    before deciding it. Deciding the verdict is all they need; asking the provider again would count
    the same cycle twice."""
    checked = (
        select(Check.id)
        .where(Check.embed_id == Embed.id, Check.kind == "check", Check.checked_at >= Embed.next_check_at)
        .exists()
    )
    wanted = sorted(set(embed_ids))
    found: set[int] = set()
    for start in range(0, len(wanted), CHUNK):
        found.update(
            session.scalars(
                select(Embed.id).where(
                    Embed.id.in_(wanted[start : start + CHUNK]),
                    or_(and_(Embed.next_check_at.is_(None), Embed.last_captured_at.is_not(None)), checked),
                )
            )
        )
    return found


def leases_held(session: Session, now: datetime, owner: str | None = None) -> int:
    """Embeds under an unexpired lease (of `owner`, or of anyone)."""
    stmt = select(func.count(Embed.id)).where(Embed.lease_until > now)
    if owner is not None:
        stmt = stmt.where(Embed.lease_owner == owner)
    return int(session.scalar(stmt) or 0)
