"""Every query the archiver runs, as named functions over a `Session`.

The rest of the code calls these and never builds a query itself. Each function flushes what it
changed but never commits: the caller owns the transaction, so one unit of work (a scanned article,
a capture with its snapshot and check) commits or rolls back as a whole.

Get-or-create goes through `INSERT ... ON CONFLICT DO NOTHING` and a second read, so two processes
scanning the same post at once both end up with the one row instead of one of them failing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import CursorResult, Table, distinct, func, or_, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload, selectinload

from archiver import records
from archiver.storage.models import (
    Article,
    Base,
    Check,
    Embed,
    Media,
    Occurrence,
    Snapshot,
    SnapshotMedia,
    Source,
)

# The snapshot columns a capture's fields fill, by field name. Other field names are not stored
# (their raw responses are) and do not count towards the content hash.
SNAPSHOT_FIELDS = ("author_name", "handle", "author_url", "text", "text_html", "published", "title")
# Rows per statement when looking embeds up by key; far below every backend's parameter limit.
_CHUNK = 300


@dataclass(frozen=True, slots=True)
class SavedScan:
    """What `save_scan` did: distinct embeds linked, how many of them are new, residue occurrences."""

    article_id: int
    embeds: int
    new_embeds: int
    residues: int


@dataclass(frozen=True, slots=True)
class StoredMediaRef:
    """A media item of a capture after the download step: stored (`sha256`) or not (`error`)."""

    kind: str
    original_url: str
    rung: str
    sha256: str | None
    mime: str | None
    size: int | None
    error: str | None


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


# --- sources and articles -------------------------------------------------------------------------


def ensure_source(session: Session, name: str, kind: str, now: datetime) -> Source:
    """The source called `name`, created (at `now`) when missing; its kind follows the configuration."""
    source = _source_named(session, name)
    if source is None:
        _insert_ignoring_conflicts(
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
                "found": ref.markup_fields(),
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


# --- embeds ---------------------------------------------------------------------------------------


def embeds_due_for_capture(
    session: Session, now: datetime, limit: int, providers: Collection[str] | None = None
) -> list[Embed]:
    """Embeds never captured yet whose next attempt is due (or unset), the longest-known first.

    `providers` limits the answer to those providers (an empty collection gives nothing).
    """
    has_snapshot = select(Snapshot.id).where(Snapshot.embed_id == Embed.id).exists()
    stmt = select(Embed).where(
        ~has_snapshot, or_(Embed.next_capture_at.is_(None), Embed.next_capture_at <= now)
    )
    if providers is not None:
        stmt = stmt.where(Embed.provider.in_(list(providers)))
    stmt = stmt.order_by(Embed.first_seen_at, Embed.id).limit(limit)
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
    still be present in the one given).
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
    return _embed_by_loose_url(session, text)


def embed_articles(session: Session, embed: Embed) -> list[tuple[Article, Occurrence]]:
    """The articles that embed this post, each with the occurrence saying how and where."""
    rows = session.execute(
        select(Article, Occurrence)
        .join(Occurrence, Occurrence.article_id == Article.id)
        .where(Occurrence.embed_id == embed.id)
        .order_by(Article.id, Occurrence.position)
    )
    return [(article, occurrence) for article, occurrence in rows]


def residues(session: Session, limit: int | None = None) -> list[tuple[Article, Occurrence]]:
    """Residue of dead embeds (occurrences with no post), article by article."""
    stmt = (
        select(Article, Occurrence)
        .join(Occurrence, Occurrence.article_id == Article.id)
        .where(Occurrence.embed_id.is_(None))
        .order_by(Article.id, Occurrence.position)
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    return [(article, occurrence) for article, occurrence in session.execute(stmt)]


# --- snapshots, media and checks ------------------------------------------------------------------


def latest_snapshot(session: Session, embed: Embed) -> Snapshot | None:
    """The newest snapshot version of the embed, if any."""
    return session.scalars(
        select(Snapshot).where(Snapshot.embed_id == embed.id).order_by(Snapshot.version.desc()).limit(1)
    ).first()


def save_media(session: Session, sha256: str, mime: str, size: int, now: datetime) -> Media:
    """The media record of a stored file, created when missing. Call it after the blob is durable."""
    media = _media_with(session, sha256)
    if media is None:
        _insert_ignoring_conflicts(
            session,
            Media,
            [{"sha256": sha256, "mime": mime, "size_bytes": size, "created_at": now}],
            ["sha256"],
        )
        media = _media_with(session, sha256)
        assert media is not None
    return media


def content_sha256(values: Mapping[str, str], media: Sequence[StoredMediaRef]) -> str:
    """The hash that decides whether a capture is a new snapshot version.

    It covers what the post shows: the field values and the media in order (a stored file by its
    sha256; one that could not be stored by its URL without query, since CDN URLs carry signatures
    that change on every request). Provenance, raw responses and timing are left out on purpose.
    """
    canonical = {
        "fields": {name: values[name] for name in sorted(values)},
        "media": [[ref.kind, ref.sha256 or _without_query(ref.original_url)] for ref in media],
    }
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def record_capture(
    session: Session,
    embed: Embed,
    capture: records.Capture,
    media: Sequence[StoredMediaRef],
    now: datetime,
    latency_ms: int | None,
    retry_at: datetime | None,
) -> Snapshot | None:
    """Record one capture attempt; return the new snapshot version, or None.

    Always: a `Check` row, the embed's last outcome and reason, one more attempt. When the capture is
    OK and gave content, the embed is live and captured now, and a new snapshot version is written
    only if the content hash differs from the latest version's. Otherwise the next attempt is at
    `retry_at` (the caller's schedule); the state is left alone.
    """
    session.add(
        Check(
            embed=embed,
            checked_at=now,
            kind="capture",
            outcome=capture.outcome.value,
            http_status=capture.http_status,
            reason=capture.reason,
            latency_ms=latency_ms,
        )
    )
    embed.last_outcome = capture.outcome.value
    embed.last_reason = capture.reason
    embed.capture_attempts = (embed.capture_attempts or 0) + 1

    values = {name: capture.fields[name].value for name in SNAPSHOT_FIELDS if name in capture.fields}
    if capture.outcome is not records.Outcome.OK or not (values or media):
        # Alive but empty-handed is retried like a failure; `next_capture_at=None` would mean "due now".
        embed.next_capture_at = retry_at
        session.flush()
        return None

    embed.state = "live"
    embed.last_captured_at = now
    embed.next_capture_at = None
    digest = content_sha256(values, media)
    latest = latest_snapshot(session, embed)
    if latest is not None and latest.content_sha256 == digest:
        session.flush()
        return None

    snapshot = Snapshot(
        embed=embed,
        version=(latest.version + 1) if latest is not None else 1,
        captured_at=now,
        content_sha256=digest,
        provenance={name: capture.fields[name].rung for name in values},
        raw=[asdict(response) for response in capture.responses],
        **values,
    )
    # In the session before anything flushes (save_media does), or the flush would find it dangling.
    session.add(snapshot)
    for position, ref in enumerate(media):
        snapshot.media.append(_snapshot_media(session, ref, position, now))
    session.flush()
    return snapshot


# --- reports --------------------------------------------------------------------------------------


def status_counts(session: Session) -> dict[str, Any]:
    """The numbers of `archive status`: rows per kind, embeds by state and by provider and state."""
    totals = session.execute(
        select(
            select(func.count(Article.id)).scalar_subquery(),
            select(func.count(Article.id)).where(Article.scan_error.is_not(None)).scalar_subquery(),
            select(func.count(Occurrence.id)).where(Occurrence.embed_id.is_(None)).scalar_subquery(),
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


# --- helpers --------------------------------------------------------------------------------------


def _insert_ignoring_conflicts(
    session: Session, model: type[Base], rows: list[dict[str, Any]], conflict: list[str]
) -> int:
    """Insert `rows`, skipping those that clash on the unique `conflict` columns; the number inserted."""
    if not rows:
        return 0
    session.flush()
    table = cast(Table, model.__table__)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(table).values(rows).on_conflict_do_nothing(index_elements=conflict)
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).values(rows).on_conflict_do_nothing(index_elements=conflict)
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        inserted = 0
        for values in rows:
            where = [table.c[name] == values[name] for name in conflict]
            if session.execute(select(table.c[conflict[0]]).where(*where)).first() is None:
                session.execute(table.insert().values(values))
                inserted += 1
        return inserted
    # Without preserve_rowcount, psycopg's count of an INSERT is gone by the time we ask (-1).
    result = cast(CursorResult[Any], session.execute(stmt.execution_options(preserve_rowcount=True)))
    return max(result.rowcount, 0)


def _source_named(session: Session, name: str) -> Source | None:
    return session.scalars(select(Source).where(Source.name == name)).one_or_none()


def _media_with(session: Session, sha256: str) -> Media | None:
    return session.scalars(select(Media).where(Media.sha256 == sha256)).one_or_none()


def _ensure_article(session: Session, source: Source, key: str, now: datetime) -> Article:
    row = get_article(session, source, key)
    if row is None:
        _insert_ignoring_conflicts(
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
    # Sorted: two processes inserting overlapping posts take row locks in the same order (no deadlock).
    missing = sorted(key for key in url_by_key if key not in by_key)
    created = _insert_ignoring_conflicts(
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
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
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


def _snapshot_media(session: Session, ref: StoredMediaRef, position: int, now: datetime) -> SnapshotMedia:
    media: Media | None = None
    error = ref.error
    if ref.sha256 is not None:
        if ref.mime is not None and ref.size is not None:
            media = save_media(session, ref.sha256, ref.mime, ref.size, now)
        else:
            media = _media_with(session, ref.sha256)
        if media is None:
            error = error or "stored file has no media record (mime and size unknown)"
    return SnapshotMedia(
        kind=ref.kind,
        original_url=ref.original_url,
        rung=ref.rung,
        position=position,
        error=error,
        media_file=media,
    )


def _without_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


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
            or_(*(Embed.canonical_url.like(_like_escape(prefix) + "%", escape="\\") for prefix in prefixes))
        )
        .order_by(Embed.id)
        .limit(50)
    )
    for embed in candidates:
        stored_host, stored_path, stored_query = _loose_url(embed.canonical_url)
        if (stored_host, stored_path) == (host, path) and stored_query <= query:
            return embed
    return None


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# --- export ---------------------------------------------------------------------------------------


def snapshots_for_export(
    session: Session, embed_ids: Collection[int] | None = None, *, batch_size: int = 200
) -> Iterator[list[Snapshot]]:
    """Every snapshot (or those of `embed_ids`), by embed then version, in batches of `batch_size`.

    Each batch comes with its embed, its media rows and their files loaded. Batches are read one
    query at a time, keyed on (embed, version), so an archive of 100k snapshots is never in memory at
    once: the session holds unchanged objects weakly, so a batch the caller has let go of can be
    collected.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, not {batch_size}")
    if embed_ids is None:
        groups: list[list[int] | None] = [None]
    else:
        wanted = sorted(set(embed_ids))
        groups = [wanted[start : start + _CHUNK] for start in range(0, len(wanted), _CHUNK)]
    for group in groups:
        after = (0, 0)
        while True:
            stmt = (
                select(Snapshot)
                .options(
                    joinedload(Snapshot.embed),
                    selectinload(Snapshot.media).joinedload(SnapshotMedia.media_file),
                )
                .where(tuple_(Snapshot.embed_id, Snapshot.version) > tuple_(*after))
                .order_by(Snapshot.embed_id, Snapshot.version)
                .limit(batch_size)
            )
            if group is not None:
                stmt = stmt.where(Snapshot.embed_id.in_(group))
            batch = list(session.scalars(stmt))
            if not batch:
                break
            yield batch
            after = (batch[-1].embed_id, batch[-1].version)
