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
import os
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import CursorResult, Table, and_, delete, distinct, func, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, joinedload, selectinload

from archiver import records
from archiver.storage.models import (
    Alert,
    Article,
    Base,
    Check,
    Embed,
    JobRun,
    Media,
    Occurrence,
    ProviderHealth,
    Rewrite,
    Snapshot,
    SnapshotMedia,
    Source,
    StateChange,
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
    kind: str = "capture",
) -> Snapshot | None:
    """Record one capture or check attempt; return the new snapshot version, or None.

    Always: a `Check` row of `kind`, the embed's last outcome and reason, one more attempt. When the
    capture is OK and gave content, the embed is captured now, and a new snapshot version is written
    only if the content hash differs from the latest version's. Otherwise the next attempt is at
    `retry_at` (the caller's schedule). The state is the verdicts' business (`set_state`).
    """
    session.add(
        Check(
            embed=embed,
            checked_at=now,
            kind=kind,
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


# --- liveness: the check queue, verdicts, provider health -----------------------------------------


def embeds_due_for_check(
    session: Session, now: datetime, limit: int, providers: Collection[str] | None = None
) -> list[Embed]:
    """Embeds whose next check is due, the most overdue first."""
    stmt = select(Embed).where(Embed.next_check_at.is_not(None), Embed.next_check_at <= now)
    if providers is not None:
        stmt = stmt.where(Embed.provider.in_(list(providers)))
    return list(session.scalars(stmt.order_by(Embed.next_check_at, Embed.id).limit(limit)))


def counted_outcomes_since_ok(session: Session, embed: Embed) -> list[tuple[datetime, str]]:
    """(time, outcome) of the embed's counted checks after its last ok, oldest first."""
    stmt = select(Check.checked_at, Check.outcome).where(Check.embed_id == embed.id, Check.counted)
    if embed.last_ok_at is not None:
        stmt = stmt.where(Check.checked_at > embed.last_ok_at)
    return [(at, outcome) for at, outcome in session.execute(stmt.order_by(Check.checked_at, Check.id))]


def last_counted_ok(session: Session, embed: Embed) -> datetime | None:
    """When the embed's latest counted ok check was."""
    return session.scalar(
        select(func.max(Check.checked_at)).where(
            Check.embed_id == embed.id, Check.counted, Check.outcome == records.Outcome.OK.value
        )
    )


def transient_streak(session: Session, embed: Embed, limit: int = 10) -> int:
    """How many of the embed's latest checks in a row were transient (or our credentials refused)."""
    outcomes = session.scalars(
        select(Check.outcome)
        .where(Check.embed_id == embed.id)
        .order_by(Check.checked_at.desc(), Check.id.desc())
        .limit(limit)
    )
    streak = 0
    for outcome in outcomes:
        if outcome not in (records.Outcome.TRANSIENT.value, records.Outcome.PROVIDER_DOWN.value):
            break
        streak += 1
    return streak


def set_state(session: Session, embed: Embed, state: str, now: datetime, reason: str) -> StateChange | None:
    """Move the embed to `state`, logging the change with its time and reason; None if unchanged."""
    if embed.state == state:
        return None
    change = StateChange(embed=embed, changed_at=now, from_state=embed.state, to_state=state, reason=reason)
    session.add(change)
    embed.state = state
    embed.state_changed_at = now
    session.flush()
    return change


def uncount_checks(session: Session, provider: str, since: datetime) -> list[int]:
    """Stop checks of `provider` made since `since` from counting; returns the embeds they concern."""
    embed_ids = select(Embed.id).where(Embed.provider == provider)
    affected = list(
        session.scalars(
            select(Check.embed_id).where(Check.embed_id.in_(embed_ids), Check.checked_at >= since).distinct()
        )
    )
    session.execute(
        update(Check)
        .where(Check.embed_id.in_(embed_ids), Check.checked_at >= since)
        .values(counted=False)
        .execution_options(synchronize_session=False)
    )
    return affected


def latest_check_outcomes(session: Session, provider: str, since: datetime) -> dict[str, int]:
    """For the embeds of `provider` checked since `since`: how many have each outcome as their latest
    counted check of that window."""
    latest = (
        select(Check.embed_id, func.max(Check.checked_at).label("at"))
        .join(Embed, Embed.id == Check.embed_id)
        .where(Embed.provider == provider, Check.kind == "check", Check.counted, Check.checked_at >= since)
        .group_by(Check.embed_id)
        .subquery()
    )
    rows = session.execute(
        select(Check.outcome, func.count(distinct(Check.embed_id)))
        .join(latest, (Check.embed_id == latest.c.embed_id) & (Check.checked_at == latest.c.at))
        .where(Check.counted, Check.kind == "check")
        .group_by(Check.outcome)
    )
    return {outcome: int(n) for outcome, n in rows}


def provider_health(session: Session, provider: str) -> ProviderHealth | None:
    return session.get(ProviderHealth, provider)


def paused_providers(session: Session) -> list[ProviderHealth]:
    return list(
        session.scalars(select(ProviderHealth).where(ProviderHealth.paused).order_by(ProviderHealth.provider))
    )


def pause_provider(session: Session, provider: str, reason: str, now: datetime) -> Alert | None:
    """Pause verdicts for `provider`; the alert raised, or None when it was paused already."""
    health = session.get(ProviderHealth, provider, with_for_update=True)
    if health is None:
        health = ProviderHealth(provider=provider, paused=False)
        session.add(health)
    health.probed_at = now
    if health.paused:
        return None
    health.paused, health.reason, health.since = True, reason, now
    alert = Alert(provider=provider, kind="provider_paused", message=reason, raised_at=now)
    session.add(alert)
    session.flush()
    return alert


def resume_provider(session: Session, provider: str, now: datetime) -> bool:
    """Resume verdicts for `provider` and resolve its open alerts; False when it was not paused."""
    health = session.get(ProviderHealth, provider, with_for_update=True)
    if health is None:
        session.add(ProviderHealth(provider=provider, paused=False, probed_at=now))
        session.flush()
        return False
    health.probed_at = now
    if not health.paused:
        return False
    health.paused, health.reason, health.since = False, None, None
    session.execute(
        update(Alert)
        .where(Alert.provider == provider, Alert.resolved_at.is_(None))
        .values(resolved_at=now)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return True


def alerts(session: Session, open_only: bool = False) -> list[Alert]:
    stmt = select(Alert).order_by(Alert.raised_at, Alert.id)
    if open_only:
        stmt = stmt.where(Alert.resolved_at.is_(None))
    return list(session.scalars(stmt))


# --- leases: due work shared by several daemons ---------------------------------------------------
#
# A daemon claims a batch of due embeds by writing its name and an expiry into them, processes them, and
# releases them. A lease that expires (its daemon died) makes the embed claimable again. On PostgreSQL the
# claiming UPDATE selects its rows with FOR UPDATE SKIP LOCKED, so daemons never wait on each other's
# batches; SQLite runs the same UPDATE (its writers take turns), without the locking clause.


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
    has_snapshot = select(Snapshot.id).where(Snapshot.embed_id == Embed.id).exists()
    due = select(Embed.id).where(
        ~has_snapshot,
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
    for start in range(0, len(ids), _CHUNK):
        embeds.extend(session.scalars(select(Embed).where(Embed.id.in_(ids[start : start + _CHUNK]))))
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
    for start in range(0, len(wanted), _CHUNK):
        result = session.execute(
            update(Embed)
            .where(Embed.id.in_(wanted[start : start + _CHUNK]), Embed.lease_owner == owner)
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
    for start in range(0, len(wanted), _CHUNK):
        found.update(
            session.scalars(
                select(Embed.id).where(
                    Embed.id.in_(wanted[start : start + _CHUNK]),
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


# --- the daemon's jobs ----------------------------------------------------------------------------


def job_runs(session: Session) -> dict[str, datetime | None]:
    """When each daemon job last started (over all daemons)."""
    return {row.job: row.last_run_at for row in session.scalars(select(JobRun))}


def mark_job_run(session: Session, job: str, at: datetime) -> None:
    """Note that `job` started at `at` (a later start already noted wins)."""
    _insert_ignoring_conflicts(session, JobRun, [{"job": job}], ["job"])
    session.execute(
        update(JobRun)
        .where(JobRun.job == job, or_(JobRun.last_run_at.is_(None), JobRun.last_run_at < at))
        .values(last_run_at=at)
        .execution_options(synchronize_session=False)
    )


def claim_job(session: Session, job: str, owner: str, now: datetime, lease: timedelta) -> bool:
    """Hold `job` for `owner` until `now + lease` unless another daemon holds it; whether it is held."""
    _insert_ignoring_conflicts(session, JobRun, [{"job": job}], ["job"])
    result = session.execute(
        update(JobRun)
        .where(
            JobRun.job == job,
            or_(JobRun.lease_until.is_(None), JobRun.lease_until <= now, JobRun.lease_owner == owner),
        )
        .values(lease_owner=owner, lease_until=now + lease)
        .execution_options(synchronize_session=False, preserve_rowcount=True)
    )
    return cast(CursorResult[Any], result).rowcount == 1


def release_job(session: Session, job: str, owner: str) -> None:
    session.execute(
        update(JobRun)
        .where(JobRun.job == job, JobRun.lease_owner == owner)
        .values(lease_owner=None, lease_until=None)
        .execution_options(synchronize_session=False)
    )


# --- media garbage collection ---------------------------------------------------------------------


def unreferenced_media(session: Session, created_before: datetime, limit: int) -> list[Media]:
    """Media records no snapshot shows any more, created before `created_before`."""
    used = select(SnapshotMedia.id).where(SnapshotMedia.media_id == Media.id).exists()
    return list(
        session.scalars(
            select(Media).where(~used, Media.created_at < created_before).order_by(Media.id).limit(limit)
        )
    )


def delete_unreferenced_media(session: Session, media_ids: Collection[int]) -> int:
    """Delete these media records if still no snapshot shows them; how many were deleted."""
    used = select(SnapshotMedia.id).where(SnapshotMedia.media_id == Media.id).exists()
    wanted = sorted(set(media_ids))
    deleted = 0
    for start in range(0, len(wanted), _CHUNK):
        result = session.execute(
            delete(Media)
            .where(Media.id.in_(wanted[start : start + _CHUNK]), ~used)
            .execution_options(synchronize_session=False, preserve_rowcount=True)
        )
        deleted += max(cast(CursorResult[Any], result).rowcount, 0)
    return deleted


def known_media(session: Session, sha256s: Collection[str]) -> set[str]:
    """The hashes among `sha256s` that have a media record."""
    wanted = sorted(set(sha256s))
    found: set[str] = set()
    for start in range(0, len(wanted), _CHUNK):
        found.update(
            session.scalars(select(Media.sha256).where(Media.sha256.in_(wanted[start : start + _CHUNK])))
        )
    return found


# --- daemon metrics -------------------------------------------------------------------------------


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


# --- rewrites: the journal (archiver.pipeline.rewrite) ---------------------------------------------


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
        .where(Article.key.like("%" + _like_escape(name), escape="\\"))
        .order_by(Article.id)
        .limit(50)
    )
    return next((article for article in candidates if os.path.realpath(article.key) == wanted), None)


def articles_to_rewrite(session: Session, sources: Sequence[str] | None = None) -> list[int]:
    """Ids of the articles holding a broken embed at a known span, or an approved rewrite (of the
    sources named in `sources`, when given), in id order."""
    broken = (
        select(Occurrence.article_id)
        .join(Embed, Embed.id == Occurrence.embed_id)
        .where(Embed.state == "broken", Occurrence.span_start.is_not(None))
    )
    approved = select(Rewrite.article_id).where(Rewrite.state == "approved")
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
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
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
    for start in range(0, len(wanted), _CHUNK):
        rows += session.scalars(select(Rewrite).where(Rewrite.id.in_(wanted[start : start + _CHUNK])))
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
    if any(row.state == "refused" for row, _, _ in rows):
        refused_articles = sorted({row.article_id for row, _, _ in rows if row.state == "refused"})
        for start in range(0, len(refused_articles), _CHUNK):
            chunk = refused_articles[start : start + _CHUNK]
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
        if row.state != "refused" or latest.get((row.article_id, row.embed_id, row.original_bytes)) == row.id
    ]


def returned_rewrites(session: Session, alive: str) -> list[tuple[int, int, str]]:
    """(article id, embed id, source name) of applied rewrites whose embed is in state `alive` again."""
    rows = session.execute(
        select(Rewrite.article_id, Rewrite.embed_id, Source.name)
        .join(Embed, Embed.id == Rewrite.embed_id)
        .join(Article, Article.id == Rewrite.article_id)
        .join(Source, Source.id == Article.source_id)
        .where(Rewrite.state == "applied", Embed.state == alive)
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


def rewrite_counts(session: Session) -> dict[str, int]:
    """Journal rows by state (for `archive status`)."""
    rows = session.execute(select(Rewrite.state, func.count(Rewrite.id)).group_by(Rewrite.state))
    return {state: int(n) for state, n in rows}


def all_provider_health(session: Session) -> list[ProviderHealth]:
    """Every provider whose health was ever recorded, paused or not."""
    return list(session.scalars(select(ProviderHealth).order_by(ProviderHealth.provider)))


# --- residue repair (archiver.pipeline.rewrite.residue) ---------------------------------------------------


def residue_occurrences(
    session: Session, sources: Collection[str] | None = None, article_id: int | None = None
) -> list[tuple[Article, Occurrence]]:
    """Residue occurrences (markup `residue`, no embed) with their article, in article id then position
    order; only those of the sources named in `sources`, or of one article, when given."""
    stmt = (
        select(Article, Occurrence)
        .join(Occurrence, Occurrence.article_id == Article.id)
        .where(Occurrence.embed_id.is_(None), Occurrence.markup == records.MarkupKind.RESIDUE.value)
        .options(joinedload(Article.source))
    )
    if sources is not None:
        stmt = stmt.join(Source, Source.id == Article.source_id).where(Source.name.in_(sorted(set(sources))))
    if article_id is not None:
        stmt = stmt.where(Article.id == article_id)
    rows = session.execute(stmt.order_by(Article.id, Occurrence.position))
    return [(article, occurrence) for article, occurrence in rows]


def _folded_forms(value: str) -> list[str]:
    """`value` lower-cased as Python does it and as SQLite's `lower()` does it (ASCII letters only), so
    that `lower(column) IN (...)` finds a case-insensitive match on SQLite as on PostgreSQL."""
    ascii_lower = "".join(c.lower() if "A" <= c <= "Z" else c for c in value)
    return sorted({value.lower(), ascii_lower})


def embeds_with_handle(session: Session, provider: str, handle: str) -> list[int]:
    """Ids of `provider`'s embeds with a snapshot (any version) whose handle is `handle`, ignoring case
    and a leading "@" on either side, in id order."""
    bare = handle.strip().lstrip("@")
    if not bare:
        return []
    forms = _folded_forms(bare)
    stmt = (
        select(Snapshot.embed_id)
        .join(Embed, Embed.id == Snapshot.embed_id)
        .where(
            Embed.provider == provider,
            func.lower(func.trim(Snapshot.handle)).in_(forms + ["@" + form for form in forms]),
        )
        .distinct()
    )
    return sorted(int(embed_id) for embed_id in session.scalars(stmt))


def embeds_with_author_name(session: Session, provider: str, author_name: str) -> list[int]:
    """Ids of `provider`'s embeds with a snapshot (any version) whose author name may be `author_name`
    (same words in the same order, ignoring case, whatever the whitespace between them), in id order.
    A candidate list: the caller compares the names it gets back exactly."""
    words = author_name.split()
    if not words:
        return []
    patterns = [
        "%".join(_like_escape(word) for word in form.split()) for form in _folded_forms(" ".join(words))
    ]
    name = func.lower(func.trim(Snapshot.author_name))
    stmt = (
        select(Snapshot.embed_id)
        .join(Embed, Embed.id == Snapshot.embed_id)
        .where(Embed.provider == provider, or_(*(name.like(pattern, escape="\\") for pattern in patterns)))
        .distinct()
    )
    return sorted(int(embed_id) for embed_id in session.scalars(stmt))


def snapshot_versions(session: Session, embed_ids: Collection[int]) -> dict[int, list[Snapshot]]:
    """Every snapshot version of each embed, newest first, with the embed loaded (no media)."""
    wanted = sorted(set(embed_ids))
    found: dict[int, list[Snapshot]] = {}
    for start in range(0, len(wanted), _CHUNK):
        stmt = (
            select(Snapshot)
            .where(Snapshot.embed_id.in_(wanted[start : start + _CHUNK]))
            .options(joinedload(Snapshot.embed))
            .order_by(Snapshot.embed_id, Snapshot.version.desc())
        )
        for snapshot in session.scalars(stmt):
            found.setdefault(snapshot.embed_id, []).append(snapshot)
    return found


def applied_card_starts(session: Session, article_id: int) -> set[int]:
    """Where the cards of the article's applied rewrites start (in its bytes as last written)."""
    stmt = select(Rewrite.card_start).where(
        Rewrite.article_id == article_id, Rewrite.state == "applied", Rewrite.card_start.is_not(None)
    )
    return {int(start) for start in session.scalars(stmt) if start is not None}


# --- scan cursors ---------------------------------------------------------------------------------


def scan_cursor(session: Session, name: str) -> str | None:
    """Where the next incremental scan of the source `name` starts; None: from the beginning."""
    source = _source_named(session, name)
    return source.scan_cursor if source is not None else None


def set_scan_cursor(session: Session, name: str, kind: str, cursor: str, now: datetime) -> None:
    """Remember where the next incremental scan of the source `name` starts."""
    ensure_source(session, name, kind, now).scan_cursor = cursor
    session.flush()
