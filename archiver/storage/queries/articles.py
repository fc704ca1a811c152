"""Sources and articles: get-or-create, what a scan found (`save_scan`), scan errors, finding an article,
where a source's next incremental scan starts (its scan cursor).

Get-or-create goes through `INSERT ... ON CONFLICT DO NOTHING` and a second read, so two processes
scanning the same post at once both end up with the one row instead of one of them failing.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from archiver import records
from archiver.storage.models import Article, Embed, Occurrence, Source
from archiver.storage.queries._common import CHUNK, embeds_by_alias, insert_ignoring_conflicts, like_escape


@dataclass(frozen=True, slots=True)
class SavedScan:
    """What `save_scan` did: distinct embeds linked, how many of them are new, residue occurrences."""

    article_id: int
    embeds: int
    new_embeds: int
    residues: int


def ensure_source(session: Session, name: str, kind: str, now: datetime) -> Source:
    """The source called `name`, created (at `now`) when missing; its kind follows the configuration."""
    source = _source_named(session, name)
    if source is None:
        insert_ignoring_conflicts(
            session, Source, [{"name": name, "kind": kind, "created_at": now}], ["name"]
        )
        source = _source_named(session, name)
        assert source is not None
    if source.kind != kind:
        source.kind = kind
    session.flush()
    return source


def get_article(session: Session, source: Source, key: str) -> Article | None:
    """The article `key` of `source`, if it was ever seen."""
    return session.scalars(
        select(Article).where(Article.source_id == source.id, Article.key == key)
    ).one_or_none()


def article_unchanged(session: Session, source: Source, key: str, sha256: str) -> bool:
    """Whether the article was scanned before, successfully, with exactly these bytes."""
    found = session.scalar(
        select(Article.id).where(
            Article.source_id == source.id,
            Article.key == key,
            Article.content_sha256 == sha256,
            Article.scanned_at.is_not(None),
            Article.scan_error.is_(None),
        )
    )
    return found is not None


def scanned_digests(session: Session, source_name: str, keys: Sequence[str]) -> dict[str, str]:
    """The sha256 of the last good scan of each of `keys` in the source called `source_name` (keys
    never scanned, or whose last scan failed, are left out): `article_unchanged` for many at once."""
    if not keys:
        return {}
    rows = session.execute(
        select(Article.key, Article.content_sha256)
        .join(Source, Source.id == Article.source_id)
        .where(
            Source.name == source_name,
            Article.key.in_(keys),
            Article.scanned_at.is_not(None),
            Article.scan_error.is_(None),
            Article.content_sha256.is_not(None),
        )
    )
    return {key: digest for key, digest in rows if digest}


def save_scan(
    session: Session,
    source: Source,
    article: records.Article,
    embeds: Sequence[records.EmbedRef],
    now: datetime,
) -> SavedScan:
    """Record one scanned article and what it embeds.

    The article row is created or updated (hash, encoding, size, scanned now, no error). Its
    occurrences become exactly `embeds`, in order: rows are updated in place, so a rescan that finds
    the same embeds writes nothing new. Each post is one `Embed` whatever the articles that show it;
    new ones are due for capture at once. Residue (and any ref without a post id) is an occurrence
    with no embed, keeping what its text says in `found`.
    """
    row = _ensure_article(session, source, article.key, now)
    row.content_sha256 = article.sha256
    row.encoding = article.encoding
    row.size_bytes = len(article.data)
    row.scanned_at = now
    row.scan_error = None
    if article.url is not None:
        row.url = article.url

    keyed = [ref for ref in embeds if _post_key(ref) is not None]
    by_key, new_embeds = _ensure_embeds(session, keyed, now)

    wanted: list[dict[str, Any]] = []
    for position, ref in enumerate(embeds):
        key = _post_key(ref)
        wanted.append(
            {
                "embed": by_key[key] if key is not None else None,
                "provider": ref.provider,
                "markup": ref.markup.value,
                "span_start": ref.span.start if ref.span is not None else None,
                "span_end": ref.span.end if ref.span is not None else None,
                "position": position,
                "found": ref.occurrence_fields(),
            }
        )
    _replace_occurrences(row, wanted)
    session.flush()
    linked = {values["embed"].id for values in wanted if values["embed"] is not None}
    residues = sum(1 for values in wanted if values["embed"] is None)
    return SavedScan(article_id=row.id, embeds=len(linked), new_embeds=new_embeds, residues=residues)


def record_article_error(session: Session, source: Source, key: str, error: str, now: datetime) -> None:
    """Note that the article `key` could not be scanned, and why. Its earlier occurrences are kept:
    an unreadable article is no evidence that its embeds are gone."""
    row = _ensure_article(session, source, key, now)
    row.scanned_at = now
    row.scan_error = error
    session.flush()


def find_article(session: Session, key_or_id: str) -> Article | None:
    """The article named by a database id, its exact key (a path or a row id), or a path to the same
    file written otherwise (relative, `./`, absolute); the lowest id when several sources hold it."""
    text = key_or_id.strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        found = session.get(Article, int(text))
        if found is not None:
            return found
    exact = session.scalars(select(Article).where(Article.key == text).order_by(Article.id).limit(1)).first()
    if exact is not None:
        return exact
    wanted = os.path.realpath(text)
    name = os.path.basename(wanted)
    if not name:
        return None
    candidates = session.scalars(
        select(Article)
        .where(Article.key.like("%" + like_escape(name), escape="\\"))
        .order_by(Article.id)
        .limit(50)
    )
    return next((article for article in candidates if os.path.realpath(article.key) == wanted), None)


def scan_cursor(session: Session, name: str) -> str | None:
    """Where the next incremental scan of the source `name` starts; None: from the beginning."""
    source = _source_named(session, name)
    return source.scan_cursor if source is not None else None


def set_scan_cursor(session: Session, name: str, kind: str, cursor: str, now: datetime) -> None:
    """Remember where the next incremental scan of the source `name` starts."""
    ensure_source(session, name, kind, now).scan_cursor = cursor
    session.flush()


def _source_named(session: Session, name: str) -> Source | None:
    return session.scalars(select(Source).where(Source.name == name)).one_or_none()


def _ensure_article(session: Session, source: Source, key: str, now: datetime) -> Article:
    row = get_article(session, source, key)
    if row is None:
        insert_ignoring_conflicts(
            session,
            Article,
            [{"source_id": source.id, "key": key, "first_seen_at": now}],
            ["source_id", "key"],
        )
        row = get_article(session, source, key)
        assert row is not None
    return row


def _post_key(ref: records.EmbedRef) -> tuple[str, str] | None:
    """(provider, post id) of a ref that names a post; None for residue and unnamed refs."""
    if ref.is_residue or not ref.post_id:
        return None
    return ref.provider, ref.post_id


def _ensure_embeds(
    session: Session, refs: Sequence[records.EmbedRef], now: datetime
) -> tuple[dict[tuple[str, str], Embed], int]:
    """The Embed of every ref's post, created when missing; and how many were created."""
    url_by_key: dict[tuple[str, str], str] = {}
    for ref in refs:
        key = _post_key(ref)
        if key is not None and key not in url_by_key:
            url_by_key[key] = ref.url or ""
    by_key = _embeds_by_key(session, url_by_key)
    # A post kept under another id (a Bluesky handle id merged into its DID id) is that embed.
    by_key.update(embeds_by_alias(session, [key for key in url_by_key if key not in by_key]))
    # Sorted: two processes inserting overlapping posts take row locks in the same order (no deadlock).
    missing = sorted(key for key in url_by_key if key not in by_key)
    created = insert_ignoring_conflicts(
        session,
        Embed,
        [
            {
                "provider": provider,
                "post_id": post_id,
                "canonical_url": url_by_key[(provider, post_id)],
                "state": "new",
                "first_seen_at": now,
                "next_capture_at": now,
                "capture_attempts": 0,
            }
            for provider, post_id in missing
        ],
        ["provider", "post_id"],
    )
    if missing:
        by_key.update(_embeds_by_key(session, missing))
    return by_key, created


def _embeds_by_key(session: Session, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Embed]:
    wanted = list(keys)
    found: dict[tuple[str, str], Embed] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        for embed in session.scalars(select(Embed).where(tuple_(Embed.provider, Embed.post_id).in_(chunk))):
            found[(embed.provider, embed.post_id)] = embed
    return found


def _replace_occurrences(article: Article, wanted: list[dict[str, Any]]) -> None:
    """Make the article's occurrences exactly `wanted`, reusing rows position by position."""
    current = list(article.occurrences)
    for position, values in enumerate(wanted):
        if position < len(current):
            occurrence = current[position]
            for name, value in values.items():
                if getattr(occurrence, name) != value:
                    setattr(occurrence, name, value)
        else:
            article.occurrences.append(Occurrence(**values))
    for stale in current[len(wanted) :]:
        article.occurrences.remove(stale)
