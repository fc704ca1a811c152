"""Queries of the public archive (`archiver.web.public`): one post's versions by provider and post id or
by its original URL, one version with its media, a stored file's type, and where an alias now points."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from archiver.storage import queries
from archiver.storage.models import Embed, EmbedAlias, Media, Snapshot, SnapshotMedia


@dataclass(frozen=True, slots=True)
class VersionLine:
    version: int
    captured_at: datetime


def embed_by_post(session: Session, provider: str, post_id: str) -> Embed | None:
    return session.scalars(
        select(Embed).where(Embed.provider == provider, Embed.post_id == post_id)
    ).one_or_none()


def alias_by_post(session: Session, provider: str, post_id: str) -> tuple[Embed, int] | None:
    """The embed `post_id` is an alias of, and what to add to the alias's version numbers; None when
    it is no alias."""
    row = session.execute(
        select(Embed, EmbedAlias.version_offset)
        .join(EmbedAlias, EmbedAlias.embed_id == Embed.id)
        .where(EmbedAlias.provider == provider, EmbedAlias.post_id == post_id)
    ).first()
    return (row[0], row[1]) if row is not None else None


def embed_by_original(session: Session, url: str) -> Embed | None:
    """The embed whose post is at `url`, matched as `archive show URL` matches it (the canonical URL,
    then the same URL with scheme, `www.`, trailing slash and extra query differences tolerated).
    Only http(s) URLs: a database id or a bare post id is not an original resource."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return queries.find_embed(session, url)


def versions(session: Session, embed_id: int) -> list[VersionLine]:
    """Every version of one post, oldest first."""
    rows = session.execute(
        select(Snapshot.version, Snapshot.captured_at)
        .where(Snapshot.embed_id == embed_id)
        .order_by(Snapshot.version)
    )
    return [VersionLine(version, captured_at) for version, captured_at in rows]


def newest_version(session: Session, embed_id: int) -> int | None:
    return session.scalars(
        select(Snapshot.version)
        .where(Snapshot.embed_id == embed_id)
        .order_by(Snapshot.version.desc())
        .limit(1)
    ).first()


def snapshot_version(session: Session, embed_id: int, version: int) -> Snapshot | None:
    """One version with its media rows and their stored files loaded."""
    return session.scalars(
        select(Snapshot)
        .where(Snapshot.embed_id == embed_id, Snapshot.version == version)
        .options(selectinload(Snapshot.media).joinedload(SnapshotMedia.media_file))
    ).one_or_none()


def media_file(session: Session, sha256: str) -> Media | None:
    return session.scalars(select(Media).where(Media.sha256 == sha256)).one_or_none()
