"""Embeds: the capture queue, finding an embed by id or URL, the articles that show it."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from archiver.storage.models import Article, Embed, EmbedAlias, Occurrence, Snapshot
from archiver.storage.queries._common import like_escape, never_captured


def embeds_due_for_capture(
    session: Session, now: datetime, limit: int, providers: Collection[str] | None = None
) -> list[Embed]:
    """Embeds never captured yet whose next attempt is due (or unset), the longest-known first.

    `providers` limits the answer to those providers (an empty collection gives nothing).
    """
    stmt = select(Embed).where(
        never_captured(), or_(Embed.next_capture_at.is_(None), Embed.next_capture_at <= now)
    )
    if providers is not None:
        stmt = stmt.where(Embed.provider.in_(list(providers)))
    stmt = stmt.order_by(Embed.first_seen_at, Embed.id).limit(limit)
    return list(session.scalars(stmt))


def embeds_for_refresh(session: Session, limit: int, providers: Collection[str] | None = None) -> list[Embed]:
    """Embeds that have a snapshot, the longest since their last capture first (for a recapture)."""
    has_snapshot = select(Snapshot.id).where(Snapshot.embed_id == Embed.id).exists()
    stmt = select(Embed).where(has_snapshot)
    if providers is not None:
        stmt = stmt.where(Embed.provider.in_(list(providers)))
    stmt = stmt.order_by(Embed.last_captured_at.is_(None).desc(), Embed.last_captured_at, Embed.id).limit(
        limit
    )
    return list(session.scalars(stmt))


def markup_fields_for(session: Session, embed: Embed) -> dict[str, str]:
    """What the articles' markup says about the post, merged: per field, the first non-empty value
    in occurrence order (oldest article first, then position in the article)."""
    found_lists = session.scalars(
        select(Occurrence.found)
        .where(Occurrence.embed_id == embed.id)
        .order_by(Occurrence.article_id, Occurrence.position, Occurrence.id)
    )
    merged: dict[str, str] = {}
    for found in found_lists:
        for name, value in (found or {}).items():
            if name not in merged and value not in (None, ""):
                merged[name] = str(value)
    return merged


def find_embed(session: Session, url_or_id: str) -> Embed | None:
    """The embed named by a database id, a post id, or a post URL.

    Tried in that order: the numeric database id; the exact canonical URL; the post id (when several
    providers share it, the lowest database id); then the URL with scheme, `www.`, trailing slash,
    query and fragment differences tolerated (a stored URL's own query, e.g. YouTube's `?v=`, must
    still be present in the one given); last, another id or URL of a post kept under a lasting id
    (`EmbedAlias`: a Bluesky post by handle, kept under its DID).
    """
    text = url_or_id.strip()
    if not text:
        return None
    # Post ids can be numeric too (tweets: 19 digits); those are too long to be one of our ids.
    if text.isascii() and text.isdigit() and len(text) < 19:
        embed = session.get(Embed, int(text))
        if embed is not None:
            return embed
    exact = session.scalars(
        select(Embed).where(Embed.canonical_url == text).order_by(Embed.id).limit(1)
    ).first()
    if exact is not None:
        return exact
    by_post = session.scalars(select(Embed).where(Embed.post_id == text).order_by(Embed.id).limit(1)).first()
    if by_post is not None:
        return by_post
    loose = _embed_by_loose_url(session, text)
    if loose is not None:
        return loose
    return session.scalars(
        select(Embed)
        .join(EmbedAlias, EmbedAlias.embed_id == Embed.id)
        .where(or_(EmbedAlias.post_id == text, EmbedAlias.canonical_url == text))
        .order_by(EmbedAlias.id)
        .limit(1)
    ).first()


def embed_articles(session: Session, embed: Embed) -> list[tuple[Article, Occurrence]]:
    """The articles that embed this post, each with the occurrence saying how and where."""
    rows = session.execute(
        select(Article, Occurrence)
        .join(Occurrence, Occurrence.article_id == Article.id)
        .where(Occurrence.embed_id == embed.id)
        .order_by(Article.id, Occurrence.position)
    )
    return [(article, occurrence) for article, occurrence in rows]


def _loose_url(url: str) -> tuple[str, str, frozenset[tuple[str, str]]]:
    """(host without www., path without trailing slash, query pairs) of a URL, for loose matching."""
    parts = urlsplit(url if "://" in url else "https://" + url)
    host = (parts.hostname or "").lower().removeprefix("www.")
    path = parts.path.rstrip("/")
    query = frozenset(
        (name, value) for name, _, value in (pair.partition("=") for pair in parts.query.split("&") if pair)
    )
    return host, path, query


def _embed_by_loose_url(session: Session, url: str) -> Embed | None:
    host, path, query = _loose_url(url)
    if not host:
        return None
    prefixes = [f"{scheme}://{www}{host}{path}" for scheme in ("https", "http") for www in ("", "www.")]
    # Prefix matches narrow the search down; the comparison that decides is done here, on few rows.
    candidates = session.scalars(
        select(Embed)
        .where(
            or_(*(Embed.canonical_url.like(like_escape(prefix) + "%", escape="\\") for prefix in prefixes))
        )
        .order_by(Embed.id)
        .limit(50)
    )
    for embed in candidates:
        stored_host, stored_path, stored_query = _loose_url(embed.canonical_url)
        if (stored_host, stored_path) == (host, path) and stored_query <= query:
            return embed
    return None
