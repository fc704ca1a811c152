"""Snapshots and their media: recording a capture or check, the content hash that decides a new version,
media records, the batches `archive export` reads, and the media garbage collection."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import CursorResult, delete, select, tuple_
from sqlalchemy.orm import Session, joinedload, selectinload

from archiver import records
from archiver.storage.models import Check, Embed, Media, Snapshot, SnapshotMedia
from archiver.storage.queries._common import CHUNK, insert_ignoring_conflicts

# The snapshot columns a capture's fields fill, by field name. Other field names are not stored
# (their raw responses are) and do not count towards the content hash.
SNAPSHOT_FIELDS = ("author_name", "handle", "author_url", "text", "text_html", "published", "title")


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


def latest_snapshot(session: Session, embed: Embed) -> Snapshot | None:
    """The newest snapshot version of the embed, if any."""
    return session.scalars(
        select(Snapshot).where(Snapshot.embed_id == embed.id).order_by(Snapshot.version.desc()).limit(1)
    ).first()


def save_media(session: Session, sha256: str, mime: str, size: int, now: datetime) -> Media:
    """The media record of a stored file, created when missing. Call it after the blob is durable."""
    media = _media_with(session, sha256)
    if media is None:
        insert_ignoring_conflicts(
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
        groups = [wanted[start : start + CHUNK] for start in range(0, len(wanted), CHUNK)]
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
    for start in range(0, len(wanted), CHUNK):
        result = session.execute(
            delete(Media)
            .where(Media.id.in_(wanted[start : start + CHUNK]), ~used)
            .execution_options(synchronize_session=False, preserve_rowcount=True)
        )
        deleted += max(cast(CursorResult[Any], result).rowcount, 0)
    return deleted


def known_media(session: Session, sha256s: Collection[str]) -> set[str]:
    """The hashes among `sha256s` that have a media record."""
    wanted = sorted(set(sha256s))
    found: set[str] = set()
    for start in range(0, len(wanted), CHUNK):
        found.update(
            session.scalars(select(Media.sha256).where(Media.sha256.in_(wanted[start : start + CHUNK])))
        )
    return found


def _media_with(session: Session, sha256: str) -> Media | None:
    return session.scalars(select(Media).where(Media.sha256 == sha256)).one_or_none()


def snapshot_media_row(session: Session, ref: StoredMediaRef, position: int, now: datetime) -> SnapshotMedia:
    """The row of a media item a snapshot shows (its media record created when stored), not yet added."""
    return _snapshot_media(session, ref, position, now)


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
