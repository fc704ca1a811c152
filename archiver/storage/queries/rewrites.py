"""Rewrites: the journal of `archiver.pipeline.rewrite` (what is due, what was written, what came back)
and the snapshots its cards are made from."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from archiver.records import PUT_BACK_VARIANT, EmbedState, JournalState
from archiver.storage.models import Article, Embed, Occurrence, Rewrite, Snapshot, SnapshotMedia, Source
from archiver.storage.queries._common import CHUNK


def articles_to_rewrite(session: Session, sources: Sequence[str] | None = None) -> list[int]:
    """Ids of the articles holding a broken embed at a known span, or an approved rewrite (of the
    sources named in `sources`, when given), in id order."""
    broken = (
        select(Occurrence.article_id)
        .join(Embed, Embed.id == Occurrence.embed_id)
        .where(Embed.state == EmbedState.BROKEN, Occurrence.span_start.is_not(None))
    )
    approved = select(Rewrite.article_id).where(Rewrite.state == JournalState.APPROVED)
    stmt = select(Article.id).where(or_(Article.id.in_(broken), Article.id.in_(approved)))
    if sources is not None:
        stmt = stmt.join(Source, Source.id == Article.source_id).where(Source.name.in_(list(sources)))
    return list(session.scalars(stmt.order_by(Article.id)))


def add_rewrite(session: Session, **values: Any) -> Rewrite:
    """A new journal row, in the session (its id comes with the next flush)."""
    row = Rewrite(**values)
    session.add(row)
    return row


def broken_occurrences(session: Session, article_id: int, state: str) -> list[tuple[Occurrence, Embed]]:
    """The occurrences of one article whose embed is in `state` (broken) at a known span, in order."""
    rows = session.execute(
        select(Occurrence, Embed)
        .join(Embed, Embed.id == Occurrence.embed_id)
        .where(Occurrence.article_id == article_id, Embed.state == state, Occurrence.span_start.is_not(None))
        .order_by(Occurrence.position)
    )
    return [(occurrence, embed) for occurrence, embed in rows]


def latest_snapshots(session: Session, embed_ids: Collection[int]) -> dict[int, Snapshot]:
    """The newest snapshot of each embed that has one, with its media rows and files loaded."""
    wanted = sorted(set(embed_ids))
    found: dict[int, Snapshot] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        newest = (
            select(Snapshot.embed_id, func.max(Snapshot.version).label("version"))
            .where(Snapshot.embed_id.in_(chunk))
            .group_by(Snapshot.embed_id)
            .subquery()
        )
        stmt = (
            select(Snapshot)
            .join(newest, (Snapshot.embed_id == newest.c.embed_id) & (Snapshot.version == newest.c.version))
            .options(selectinload(Snapshot.media).joinedload(SnapshotMedia.media_file))
        )
        for snapshot in session.scalars(stmt):
            found[snapshot.embed_id] = snapshot
    return found


def article_rewrites(
    session: Session, article_id: int, states: Collection[str] | None = None
) -> list[Rewrite]:
    """The journal rows of one article (in `states`, when given), oldest first."""
    stmt = select(Rewrite).where(Rewrite.article_id == article_id)
    if states is not None:
        stmt = stmt.where(Rewrite.state.in_(list(states)))
    return list(session.scalars(stmt.order_by(Rewrite.id)))


def rewrites_by_id(session: Session, ids: Collection[int]) -> list[Rewrite]:
    wanted = sorted(set(ids))
    rows: list[Rewrite] = []
    for start in range(0, len(wanted), CHUNK):
        rows += session.scalars(select(Rewrite).where(Rewrite.id.in_(wanted[start : start + CHUNK])))
    return sorted(rows, key=lambda row: row.id)


def rewrites_with_articles(session: Session, states: Collection[str]) -> list[tuple[Rewrite, Article, str]]:
    """Journal rows in `states` with their article and source name, oldest first. A `refused` row is
    given only when it is the latest row of its unit (a later attempt supersedes it)."""
    rows = session.execute(
        select(Rewrite, Article, Source.name)
        .join(Article, Article.id == Rewrite.article_id)
        .join(Source, Source.id == Article.source_id)
        .where(Rewrite.state.in_(list(states)))
        .order_by(Rewrite.id)
    ).all()
    latest: dict[tuple[int, int | None, bytes], int] = {}
    if any(row.state == JournalState.REFUSED for row, _, _ in rows):
        refused_articles = sorted({row.article_id for row, _, _ in rows if row.state == JournalState.REFUSED})
        for start in range(0, len(refused_articles), CHUNK):
            chunk = refused_articles[start : start + CHUNK]
            for rewrite_id, article_id, embed_id, original in session.execute(
                select(Rewrite.id, Rewrite.article_id, Rewrite.embed_id, Rewrite.original_bytes).where(
                    Rewrite.article_id.in_(chunk)
                )
            ):
                key = (article_id, embed_id, original)
                latest[key] = max(latest.get(key, 0), rewrite_id)
    return [
        (row, article, str(source))
        for row, article, source in rows
        if row.state != JournalState.REFUSED
        or latest.get((row.article_id, row.embed_id, row.original_bytes)) == row.id
    ]


def returned_rewrites(session: Session, alive: str) -> list[tuple[int, int, str]]:
    """(article id, embed id, source name) of applied rewrites whose embed is in state `alive` again
    (cards: a live post's original markup put back is not undone by the post being alive)."""
    rows = session.execute(
        select(Rewrite.article_id, Rewrite.embed_id, Source.name)
        .join(Embed, Embed.id == Rewrite.embed_id)
        .join(Article, Article.id == Rewrite.article_id)
        .join(Source, Source.id == Article.source_id)
        .where(
            Rewrite.state == JournalState.APPLIED,
            Embed.state == alive,
            or_(Rewrite.variant.is_(None), Rewrite.variant != PUT_BACK_VARIANT),
        )
        .distinct()
    )
    return [(int(article_id), int(embed_id or 0), str(source)) for article_id, embed_id, source in rows]


def unsettled_rewrites(session: Session, states: Collection[str]) -> dict[int, list[int]]:
    """Rewrite ids in `states` (a write was under way), by article id."""
    groups: dict[int, list[int]] = {}
    for rewrite_id, article_id in session.execute(
        select(Rewrite.id, Rewrite.article_id).where(Rewrite.state.in_(list(states))).order_by(Rewrite.id)
    ):
        groups.setdefault(int(article_id), []).append(int(rewrite_id))
    return groups


def applied_card_starts(session: Session, article_id: int) -> set[int]:
    """Where the cards of the article's applied rewrites start (in its bytes as last written)."""
    return applied_card_starts_of(session, [article_id])[article_id]


def applied_card_starts_of(session: Session, article_ids: Collection[int]) -> dict[int, set[int]]:
    """`applied_card_starts` of many articles in one query (a page of the residue report)."""
    found: dict[int, set[int]] = {int(article_id): set() for article_id in article_ids}
    if not found:
        return found
    stmt = select(Rewrite.article_id, Rewrite.card_start).where(
        Rewrite.article_id.in_(sorted(found)),
        Rewrite.state == JournalState.APPLIED,
        Rewrite.card_start.is_not(None),
    )
    for article_id, start in session.execute(stmt):
        if start is not None:
            found[int(article_id)].add(int(start))
    return found
