"""Queries of the editors' pages (`archiver.web.editors`): the dashboard's numbers, the review queue, and
the lists of articles, embeds and rewrites, each a keyset page (`after` the last id shown) so that a page
costs the same at the millionth row as at the first."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import distinct, exists, func, select
from sqlalchemy.orm import Session, joinedload

from archiver.storage.models import Article, Check, Embed, Occurrence, Rewrite, Snapshot, Source, StateChange


@dataclass(frozen=True, slots=True)
class ArticleLine:
    id: int
    key: str
    source: str
    scanned_at: datetime | None
    scan_error: str | None
    embeds: int
    rewrites: int


@dataclass(frozen=True, slots=True)
class EmbedLine:
    id: int
    provider: str
    post_id: str
    url: str
    state: str
    last_outcome: str | None
    articles: int


def source_names(session: Session) -> list[str]:
    return [str(name) for name in session.scalars(select(Source.name).order_by(Source.name))]


def providers_in_use(session: Session) -> list[str]:
    return [str(name) for name in session.scalars(select(Embed.provider).distinct().order_by(Embed.provider))]


def breakages_since(session: Session, since: datetime, limit: int) -> list[tuple[StateChange, Embed]]:
    """Embeds that turned broken since `since`, newest first."""
    rows = session.execute(
        select(StateChange, Embed)
        .join(Embed, Embed.id == StateChange.embed_id)
        .where(StateChange.to_state == "broken", StateChange.changed_at >= since)
        .order_by(StateChange.changed_at.desc(), StateChange.id.desc())
        .limit(limit)
    )
    return [(change, embed) for change, embed in rows]


def breakage_days(session: Session, since: datetime) -> dict[str, int]:
    """How many embeds turned broken on each day since `since` (UTC days, oldest first)."""
    counts: dict[str, int] = {}
    for at in session.scalars(
        select(StateChange.changed_at).where(
            StateChange.to_state == "broken", StateChange.changed_at >= since
        )
    ):
        day = at.strftime("%Y-%m-%d")
        counts[day] = counts.get(day, 0) + 1
    return dict(sorted(counts.items()))


def rewrite_count(session: Session, state: str) -> int:
    return int(session.scalar(select(func.count(Rewrite.id)).where(Rewrite.state == state)) or 0)


def rewrites_page(
    session: Session, states: Collection[str], after: int | None, limit: int
) -> list[tuple[Rewrite, Article, str]]:
    """Journal rows in `states` with their article and source name, by id, after the id `after`."""
    stmt = (
        select(Rewrite, Article, Source.name)
        .join(Article, Article.id == Rewrite.article_id)
        .join(Source, Source.id == Article.source_id)
        .where(Rewrite.state.in_(list(states)))
    )
    if after is not None:
        stmt = stmt.where(Rewrite.id > after)
    rows = session.execute(stmt.order_by(Rewrite.id).limit(limit))
    return [(row, article, str(source)) for row, article, source in rows]


def gone_checks(session: Session, embed_ids: Collection[int], per_embed: int = 10) -> dict[int, list[Check]]:
    """The latest `gone` checks of each embed (the evidence of its verdict), newest first."""
    found: dict[int, list[Check]] = {}
    for embed_id in sorted(set(embed_ids)):
        found[embed_id] = list(
            session.scalars(
                select(Check)
                .where(Check.embed_id == embed_id, Check.outcome == "gone")
                .order_by(Check.checked_at.desc(), Check.id.desc())
                .limit(per_embed)
            )
        )
    return found


def articles_page(
    session: Session,
    *,
    source: str | None,
    state: str | None,
    provider: str | None,
    after: int | None,
    limit: int,
) -> list[ArticleLine]:
    """Articles by id (after `after`): of one source, holding an embed in `state` and/or of `provider`."""
    embeds = select(func.count(Occurrence.id)).where(Occurrence.article_id == Article.id).scalar_subquery()
    rewrites = select(func.count(Rewrite.id)).where(Rewrite.article_id == Article.id).scalar_subquery()
    stmt = select(
        Article.id, Article.key, Source.name, Article.scanned_at, Article.scan_error, embeds, rewrites
    ).join(Source, Source.id == Article.source_id)
    if source:
        stmt = stmt.where(Source.name == source)
    if state or provider:
        holding = select(Occurrence.id).join(Embed, Embed.id == Occurrence.embed_id)
        holding = holding.where(Occurrence.article_id == Article.id)
        if state:
            holding = holding.where(Embed.state == state)
        if provider:
            holding = holding.where(Embed.provider == provider)
        stmt = stmt.where(exists(holding))
    if after is not None:
        stmt = stmt.where(Article.id > after)
    return [
        ArticleLine(int(i), str(k), str(s), at, err, int(e or 0), int(r or 0))
        for i, k, s, at, err, e, r in session.execute(stmt.order_by(Article.id).limit(limit))
    ]


def article_with_source(session: Session, article_id: int) -> Article | None:
    return session.get(Article, article_id, options=[joinedload(Article.source)])


def article_occurrences(session: Session, article_id: int) -> list[tuple[Occurrence, Embed | None]]:
    rows = session.execute(
        select(Occurrence, Embed)
        .outerjoin(Embed, Embed.id == Occurrence.embed_id)
        .where(Occurrence.article_id == article_id)
        .order_by(Occurrence.position)
    )
    return [(occurrence, embed) for occurrence, embed in rows]


def embed_lines(session: Session, embed_ids: Sequence[int]) -> list[EmbedLine]:
    """Embeds by id with the number of articles holding each, in the order of `embed_ids`."""
    if not embed_ids:
        return []
    articles = (
        select(func.count(distinct(Occurrence.article_id)))
        .where(Occurrence.embed_id == Embed.id)
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            Embed.id,
            Embed.provider,
            Embed.post_id,
            Embed.canonical_url,
            Embed.state,
            Embed.last_outcome,
            articles,
        ).where(Embed.id.in_(list(embed_ids)))
    )
    by_id = {int(r[0]): EmbedLine(int(r[0]), r[1], r[2], r[3], r[4], r[5], int(r[6] or 0)) for r in rows}
    return [by_id[i] for i in embed_ids if i in by_id]


def embed_checks(session: Session, embed_id: int, limit: int) -> list[Check]:
    """The latest checks of one embed, newest first."""
    return list(
        session.scalars(
            select(Check)
            .where(Check.embed_id == embed_id)
            .order_by(Check.checked_at.desc(), Check.id.desc())
            .limit(limit)
        )
    )


def check_count(session: Session, embed_id: int) -> int:
    return int(session.scalar(select(func.count(Check.id)).where(Check.embed_id == embed_id)) or 0)


def embed_rewrites(session: Session, embed_id: int) -> list[tuple[Rewrite, Article]]:
    rows = session.execute(
        select(Rewrite, Article)
        .join(Article, Article.id == Rewrite.article_id)
        .where(Rewrite.embed_id == embed_id)
        .order_by(Rewrite.id)
    )
    return [(row, article) for row, article in rows]


def latest_handles(session: Session, embed_ids: Collection[int]) -> dict[int, tuple[str | None, str | None]]:
    """(author name, handle) of each embed's newest snapshot."""
    newest = (
        select(Snapshot.embed_id, func.max(Snapshot.version).label("version"))
        .where(Snapshot.embed_id.in_(sorted(set(embed_ids))))
        .group_by(Snapshot.embed_id)
        .subquery()
    )
    rows = session.execute(
        select(Snapshot.embed_id, Snapshot.author_name, Snapshot.handle).join(
            newest, (newest.c.embed_id == Snapshot.embed_id) & (newest.c.version == Snapshot.version)
        )
    )
    return {int(embed_id): (author, handle) for embed_id, author, handle in rows}
