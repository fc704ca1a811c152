"""Queries of recovery from web archives (`archiver.pipeline.recover`): the articles with residue lines
or lost spots, the `Recovery` rows that say what the archives showed, and the posts and snapshots a
memento gave."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from archiver.records import MarkupKind
from archiver.storage.models import Article, Embed, Occurrence, Recovery, Snapshot, SnapshotMedia, Source
from archiver.storage.queries._common import embeds_by_alias

SPOT_MARKUPS = (MarkupKind.RESIDUE.value, MarkupKind.LOST.value)


def articles_with_spots(
    session: Session, sources: Collection[str] | None = None, keys: Collection[str] | None = None
) -> list[Article]:
    """Articles holding residue lines or lost spots (occurrences without an embed), by id; only those of
    the sources named in `sources`, or with a key in `keys`, when given."""
    stmt = (
        select(Article)
        .join(Occurrence, Occurrence.article_id == Article.id)
        .where(Occurrence.embed_id.is_(None), Occurrence.markup.in_(SPOT_MARKUPS))
        .options(joinedload(Article.source))
        .distinct()
    )
    if sources is not None:
        stmt = stmt.join(Source, Source.id == Article.source_id).where(Source.name.in_(sorted(set(sources))))
    if keys is not None:
        stmt = stmt.where(Article.key.in_(sorted(set(keys))))
    return list(session.scalars(stmt.order_by(Article.id)))


def spots_of(session: Session, article: Article) -> list[Occurrence]:
    """The article's residue lines and lost spots, in order."""
    return list(
        session.scalars(
            select(Occurrence)
            .where(
                Occurrence.article_id == article.id,
                Occurrence.embed_id.is_(None),
                Occurrence.markup.in_(SPOT_MARKUPS),
            )
            .order_by(Occurrence.position)
        )
    )


def recovery_of(session: Session, article_id: int, markup: str, anchor: str) -> Recovery | None:
    return session.scalars(
        select(Recovery).where(
            Recovery.article_id == article_id, Recovery.markup == markup, Recovery.anchor == anchor
        )
    ).one_or_none()


def save_recovery(
    session: Session, article_id: int, markup: str, anchor: str, now: datetime, **values: Any
) -> Recovery:
    """Create or update the recovery row of one spot."""
    row = recovery_of(session, article_id, markup, anchor)
    if row is None:
        row = Recovery(article_id=article_id, markup=markup, anchor=anchor, created_at=now, **values)
        row.updated_at = now
        session.add(row)
    else:
        for name, value in values.items():
            setattr(row, name, value)
        row.updated_at = now
    session.flush()
    return row


def paired_recoveries(session: Session, article_id: int) -> list[Recovery]:
    """The article's spots recovery paired with a post, with their embed loaded, by id."""
    stmt = (
        select(Recovery)
        .where(Recovery.article_id == article_id, Recovery.state == "paired", Recovery.embed_id.is_not(None))
        .options(joinedload(Recovery.embed))
        .order_by(Recovery.id)
    )
    return list(session.scalars(stmt))


def articles_with_recovered_posts(
    session: Session, state: str, sources: Collection[str] | None = None
) -> list[int]:
    """Ids of the articles with a spot paired with a post in `state` (broken: a card is due), by id."""
    stmt = (
        select(Recovery.article_id)
        .join(Embed, Embed.id == Recovery.embed_id)
        .where(Recovery.state == "paired", Embed.state == state)
        .distinct()
    )
    if sources is not None:
        stmt = (
            stmt.join(Article, Article.id == Recovery.article_id)
            .join(Source, Source.id == Article.source_id)
            .where(Source.name.in_(sorted(set(sources))))
        )
    return sorted(int(article_id) for article_id in session.scalars(stmt))


def recoveries(session: Session, sources: Collection[str] | None = None) -> list[tuple[Recovery, Article]]:
    """Every recovery row with its article, by article then id."""
    stmt = select(Recovery, Article).join(Article, Article.id == Recovery.article_id)
    if sources is not None:
        stmt = stmt.join(Source, Source.id == Article.source_id).where(Source.name.in_(sorted(set(sources))))
    return [(row, article) for row, article in session.execute(stmt.order_by(Article.id, Recovery.id))]


def ensure_embed(
    session: Session, provider: str, post_id: str, url: str, now: datetime
) -> tuple[Embed, bool]:
    """The post's Embed (or the one its id is an alias of), created (due for capture now) when new; and
    whether it was created."""
    embed = session.scalars(
        select(Embed).where(Embed.provider == provider, Embed.post_id == post_id)
    ).one_or_none()
    if embed is None:
        embed = embeds_by_alias(session, [(provider, post_id)]).get((provider, post_id))
    if embed is not None:
        return embed, False
    embed = Embed(
        provider=provider,
        post_id=post_id,
        canonical_url=url,
        state="new",
        first_seen_at=now,
        next_capture_at=now,
        capture_attempts=0,
    )
    session.add(embed)
    session.flush()
    return embed, True


def add_archived_snapshot(
    session: Session,
    embed: Embed,
    values: Mapping[str, str],
    digest: str,
    provenance: Mapping[str, str],
    raw: Sequence[Mapping[str, Any]],
    captured_at: datetime,
    media: Sequence[SnapshotMedia] = (),
) -> Snapshot | None:
    """A snapshot of what an archived copy showed of the post (`captured_at`: when the archive made the
    copy; `media`: its media rows, `queries.snapshot_media_row`), unless a version with that content
    (`digest`, `content_sha256`) exists. No `Check` row: a memento says nothing of the post today."""
    versions = list(session.scalars(select(Snapshot).where(Snapshot.embed_id == embed.id)))
    if any(v.content_sha256 == digest for v in versions):
        return None
    snapshot = Snapshot(
        embed=embed,
        version=max((v.version for v in versions), default=0) + 1,
        captured_at=captured_at,
        content_sha256=digest,
        provenance=dict(provenance),
        raw=[dict(r) for r in raw],
        **values,
    )
    session.add(snapshot)
    snapshot.media.extend(media)
    session.flush()
    return snapshot
