"""Reports: the numbers of `archive status`, the lines of `archive embeds`, the daemon's metrics."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import distinct, func, or_, select
from sqlalchemy.orm import Session

from archiver import records
from archiver.storage.models import Article, Check, Embed, Media, Occurrence, Rewrite, Snapshot


@dataclass(frozen=True, slots=True)
class EmbedRow:
    """One line of `archive embeds`."""

    id: int
    provider: str
    post_id: str
    url: str
    state: str
    last_checked_at: datetime | None
    last_outcome: str | None
    snapshots: int
    articles: int


def status_counts(session: Session) -> dict[str, Any]:
    """The numbers of `archive status`: rows per kind, embeds by state and by provider and state, rewrites
    in the journal by state."""
    totals = session.execute(
        select(
            select(func.count(Article.id)).scalar_subquery(),
            select(func.count(Article.id)).where(Article.scan_error.is_not(None)).scalar_subquery(),
            select(func.count(Occurrence.id))
            .where(Occurrence.embed_id.is_(None), Occurrence.markup == records.MarkupKind.RESIDUE.value)
            .scalar_subquery(),
            select(func.count(Snapshot.id)).scalar_subquery(),
            select(func.count(Media.id)).scalar_subquery(),
        )
    ).one()
    by_state: dict[str, int] = {}
    by_provider: dict[str, dict[str, int]] = {}
    grouped = session.execute(
        select(Embed.provider, Embed.state, func.count(Embed.id))
        .group_by(Embed.provider, Embed.state)
        .order_by(Embed.provider, Embed.state)
    )
    for provider, state, n in grouped:
        by_state[state] = by_state.get(state, 0) + n
        by_provider.setdefault(provider, {})[state] = n
    articles, articles_with_errors, residue_count, snapshots, media = (int(n or 0) for n in totals)
    return {
        "articles": articles,
        "articles_with_errors": articles_with_errors,
        "embeds": sum(by_state.values()),
        "residues": residue_count,
        "snapshots": snapshots,
        "media": media,
        "by_state": dict(sorted(by_state.items())),
        "by_provider": by_provider,
        "rewrites": dict(sorted(rewrite_counts(session).items())),
    }


def list_embeds(
    session: Session, state: str | None = None, provider: str | None = None, limit: int | None = None
) -> list[EmbedRow]:
    """The lines of `archive embeds`, by database id. One query: the per-embed numbers are correlated
    subqueries, which the indexes on embed_id answer for just the rows returned."""
    last_checked = select(func.max(Check.checked_at)).where(Check.embed_id == Embed.id).scalar_subquery()
    snapshots = select(func.count(Snapshot.id)).where(Snapshot.embed_id == Embed.id).scalar_subquery()
    articles = (
        select(func.count(distinct(Occurrence.article_id)))
        .where(Occurrence.embed_id == Embed.id)
        .scalar_subquery()
    )
    stmt = select(
        Embed.id,
        Embed.provider,
        Embed.post_id,
        Embed.canonical_url,
        Embed.state,
        last_checked,
        Embed.last_outcome,
        snapshots,
        articles,
    )
    if state is not None:
        stmt = stmt.where(Embed.state == state)
    if provider is not None:
        stmt = stmt.where(Embed.provider == provider)
    stmt = stmt.order_by(Embed.id)
    if limit is not None:
        stmt = stmt.limit(limit)
    return [
        EmbedRow(
            id=row[0],
            provider=row[1],
            post_id=row[2],
            url=row[3],
            state=row[4],
            last_checked_at=row[5],
            last_outcome=row[6],
            snapshots=int(row[7] or 0),
            articles=int(row[8] or 0),
        )
        for row in session.execute(stmt)
    ]


def rewrite_counts(session: Session) -> dict[str, int]:
    """Journal rows by state (for `archive status`)."""
    rows = session.execute(select(Rewrite.state, func.count(Rewrite.id)).group_by(Rewrite.state))
    return {state: int(n) for state, n in rows}


def embed_state_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(Embed.state, func.count(Embed.id)).group_by(Embed.state))
    return {state: int(n) for state, n in rows}


def rewrite_state_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(Rewrite.state, func.count(Rewrite.id)).group_by(Rewrite.state))
    return {state: int(n) for state, n in rows}


def due_counts(session: Session, now: datetime) -> dict[str, int]:
    """How many embeds are due now, leased or not: for a first capture, and for a check."""
    has_snapshot = select(Snapshot.id).where(Snapshot.embed_id == Embed.id).exists()
    capture = session.scalar(
        select(func.count(Embed.id)).where(
            ~has_snapshot, or_(Embed.next_capture_at.is_(None), Embed.next_capture_at <= now)
        )
    )
    check = session.scalar(select(func.count(Embed.id)).where(Embed.next_check_at <= now))
    return {"capture": int(capture or 0), "check": int(check or 0)}
