"""Export: the archive as a standard gzip WARC file, readable by warcio, pywb and the Wayback tools.

One `warcinfo` record first; then, for every snapshot, by embed and version:

    response   each raw provider response kept with the snapshot (oEmbed JSON, embed page), replayed as
               HTTP/1.1 from its stored status, headers and body; transport errors (no status) are
               counted and left out, since no response arrived
    resource   each stored media file, bytes from the blob store, under its original URL
    revisit    the same file again (a later version, another post): no second copy of the bytes
    metadata   the normalised snapshot as JSON: fields, provenance, media, embed, version, time

Payload digests are sha256 (the media store's own hash, in the base32 form WARC tools expect). The file
is written beside `out` under a temporary name and renamed at the end, so a crash never leaves a half
file named `out`. Secrets are redacted from every URL again, whatever the capture already did. warcio
is imported on use: it is the optional extra `warc`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import tempfile
import uuid
from collections.abc import Collection, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from io import BytesIO
from pathlib import Path
from types import ModuleType
from typing import IO, Any

from sqlalchemy.orm import Session, sessionmaker

from archiver import __version__
from archiver.clock import Clock
from archiver.errors import NotFound, StorageError, UsageError
from archiver.http import redact_url
from archiver.providers.common.ladder import MAX_STORED_BODY
from archiver.storage import queries
from archiver.storage.blobs import TEMP_PREFIX, BlobStore
from archiver.storage.models import Snapshot, SnapshotMedia

# Stored bodies are decoded text and headers are a kept subset, so wire framing no longer applies: the
# record states its own length, and its type with the charset the body is now encoded in.
_REBUILT = frozenset({"content-length", "content-encoding", "transfer-encoding", "content-type"})
# Never replayed, even if a later capture starts keeping them.
_CREDENTIAL_HEADERS = frozenset({"set-cookie", "cookie", "authorization", "proxy-authorization"})
_URL_HEADERS = frozenset({"location", "content-location"})
_URL_IN_TEXT = re.compile(r"https?://[^\s\"'<>]+")


@dataclass(frozen=True, slots=True)
class ExportReport:
    """What `export_warc` wrote to `path`.

    `media` counts files written once as resource records, `revisits` the later uses of a file already
    written. `skipped` counts what could not be written: raw responses with no status (transport
    errors) and stored files the blob store no longer has or holds damaged (`missing_media`, by sha256).
    Media never stored at capture time have no bytes to export; their metadata record says why.
    """

    path: Path
    snapshots: int
    responses: int
    media: int
    revisits: int
    skipped: int
    missing_media: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class _Written:
    """The first record of a file in this export, for the revisits that point back at it."""

    record_id: str
    uri: str
    date: str


@dataclass
class _Tally:
    snapshots: int = 0
    responses: int = 0
    media: int = 0
    revisits: int = 0
    skipped: int = 0
    written: dict[str, _Written] = field(default_factory=dict)
    missing: dict[str, None] = field(default_factory=dict)  # an ordered set


def export_warc(
    sessions: sessionmaker[Session],
    blobs: BlobStore,
    out: Path,
    clock: Clock,
    *,
    embed_ids: Collection[int] | None = None,
    overwrite: bool = False,
    batch_size: int = 200,
) -> ExportReport:
    """Write every snapshot (or those of the embeds `embed_ids`, by database id) to the gzip WARC `out`.

    Raises `UsageError` when `out` exists and `overwrite` is false, when its folder does not exist, or
    when warcio is not installed; `StorageError` when the file cannot be written or the blob store
    cannot be read (a file missing from it is counted instead). Nothing is left under `out` on failure.
    """
    warcio = _import_warcio()
    out = Path(out)
    if not overwrite and (out.exists() or out.is_symlink()):
        raise UsageError(f"{out} already exists; refusing to overwrite it")
    if out.is_dir():
        raise UsageError(f"{out} is a folder, not a file")
    if not out.parent.is_dir():
        raise UsageError(f"cannot write {out}: folder {out.parent} does not exist")
    try:
        fd, temp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=".warc.gz", dir=out.parent)
    except OSError as exc:
        raise StorageError(f"cannot write {out}: {exc.strerror or exc}") from exc
    try:
        try:
            with os.fdopen(fd, "wb") as stream:
                # mkstemp makes files private; an export is meant to be handed to other tools.
                os.fchmod(stream.fileno(), 0o644)
                tally = _write_archive(
                    stream, warcio, sessions, blobs, out.name, clock, embed_ids, batch_size
                )
                stream.flush()
                os.fsync(stream.fileno())
            _publish(temp_name, out, overwrite)
            _fsync_folder(out.parent)
        except OSError as exc:
            raise StorageError(f"cannot write {out}: {exc.strerror or exc}") from exc
    except BaseException:
        with suppress(OSError):
            os.unlink(temp_name)
        raise
    return ExportReport(
        path=out,
        snapshots=tally.snapshots,
        responses=tally.responses,
        media=tally.media,
        revisits=tally.revisits,
        skipped=tally.skipped,
        missing_media=tuple(tally.missing),
    )


def _import_warcio() -> ModuleType:
    try:
        import warcio.statusandheaders
        import warcio.warcwriter
    except ImportError:
        raise UsageError("WARC export needs warcio: pip install 'embed-archiver[warc]'") from None
    module: ModuleType = warcio  # untyped package: the records it builds are handled as Any
    return module


def _write_archive(
    stream: IO[bytes],
    warcio: ModuleType,
    sessions: sessionmaker[Session],
    blobs: BlobStore,
    filename: str,
    clock: Clock,
    embed_ids: Collection[int] | None,
    batch_size: int,
) -> _Tally:
    writer = warcio.warcwriter.WARCWriter(stream, gzip=True)
    info = writer.create_warcinfo_record(
        filename,
        {
            "software": f"embed-archiver/{__version__}",
            "format": "WARC File Format 1.0",
            "description": "Snapshots of social-media posts embedded in articles, with their media",
        },
    )
    # warcio dates the record from the system clock; the archiver's time is the injected one.
    info.rec_headers.replace_header("WARC-Date", _warc_date(clock.now()))
    writer.write_record(info)
    tally = _Tally()
    with sessions() as session:
        for batch in queries.snapshots_for_export(session, embed_ids, batch_size=batch_size):
            for snapshot in batch:
                _write_snapshot(writer, warcio, snapshot, blobs, tally)
    return tally


def _write_snapshot(
    writer: Any, warcio: ModuleType, snapshot: Snapshot, blobs: BlobStore, tally: _Tally
) -> None:
    for raw in snapshot.raw:
        record = (
            _response_record(writer, warcio, raw, snapshot.captured_at) if isinstance(raw, dict) else None
        )
        if record is None:
            tally.skipped += 1
            continue
        writer.write_record(record)
        tally.responses += 1
    for item in snapshot.media:
        _write_media(writer, item, snapshot.captured_at, blobs, tally)
    metadata = json.dumps(_snapshot_json(snapshot), ensure_ascii=False, sort_keys=True).encode("utf-8")
    digest = _digest(hashlib.sha256(metadata).digest())
    writer.write_record(
        writer.create_warc_record(
            redact_url(snapshot.embed.canonical_url),
            "metadata",
            payload=BytesIO(metadata),
            length=len(metadata),
            warc_content_type="application/json",
            warc_headers_dict=_warc_headers(
                "metadata",
                redact_url(snapshot.embed.canonical_url),
                _warc_date(snapshot.captured_at),
                {"WARC-Payload-Digest": digest, "WARC-Block-Digest": digest},
            ),
        )
    )
    tally.snapshots += 1


def _response_record(writer: Any, warcio: ModuleType, raw: Mapping[str, Any], captured_at: datetime) -> Any:
    """A `response` record replaying one stored provider response; None when there is nothing to replay
    (a transport error has no status, a response with no URL has no target)."""
    status = raw.get("status")
    url = redact_url(str(raw.get("url") or ""))
    if not isinstance(status, int) or isinstance(status, bool) or not url:
        return None
    text = str(raw.get("body") or "")
    body = text.encode("utf-8")
    headers = _http_headers(raw, len(body))
    http_headers = warcio.statusandheaders.StatusAndHeaders(
        f"{status} {_reason(status)}".strip(), headers, protocol="HTTP/1.1"
    )
    warc_headers = _warc_headers(
        "response",
        url,
        _warc_date(_instant(raw.get("fetched_at")) or captured_at),
        {"WARC-Payload-Digest": _digest(hashlib.sha256(body).digest())},
    )
    if len(text) >= MAX_STORED_BODY:
        warc_headers["WARC-Truncated"] = "length"  # the capture keeps at most this much of a body
    return writer.create_warc_record(
        url,
        "response",
        payload=BytesIO(body),
        length=len(body),
        http_headers=http_headers,
        warc_headers_dict=warc_headers,
    )


def _http_headers(raw: Mapping[str, Any], length: int) -> list[tuple[str, str]]:
    stored = raw.get("headers")
    kept = stored if isinstance(stored, dict) else {}
    headers: list[tuple[str, str]] = []
    content_type = str(kept.get("content-type") or raw.get("content_type") or "")
    if content_type:
        headers.append(("Content-Type", _with_utf8_charset(content_type)))
    for name, value in sorted(kept.items()):
        lowered = str(name).lower()
        if lowered in _REBUILT or lowered in _CREDENTIAL_HEADERS:
            continue
        text = _one_line(str(value))
        headers.append((_header_name(lowered), redact_url(text) if lowered in _URL_HEADERS else text))
    headers.append(("Content-Length", str(length)))
    return headers


def _write_media(
    writer: Any, item: SnapshotMedia, captured_at: datetime, blobs: BlobStore, tally: _Tally
) -> None:
    file = item.media_file
    if file is None:  # never stored (too large, refused, failed); the metadata record says why
        return
    uri = redact_url(item.original_url)
    date = _warc_date(captured_at)
    digest = _digest(bytes.fromhex(file.sha256))
    first = tally.written.get(file.sha256)
    if first is not None:
        revisit = writer.create_revisit_record(
            uri,
            digest,
            first.uri,
            first.date,
            warc_headers_dict=_warc_headers(
                "revisit", uri, date, {"WARC-Refers-To": first.record_id, "Content-Type": file.mime}
            ),
        )
        writer.write_record(revisit)
        tally.revisits += 1
        return
    if file.sha256 in tally.missing:
        tally.skipped += 1
        return
    try:
        data = blobs.open(file.sha256)
    except NotFound:
        data = None
    if data is None or hashlib.sha256(data).hexdigest() != file.sha256:
        # Lost or damaged in the store: exporting other bytes under this digest would be a lie.
        tally.missing[file.sha256] = None
        tally.skipped += 1
        return
    headers = _warc_headers(
        "resource", uri, date, {"WARC-Payload-Digest": digest, "WARC-Block-Digest": digest}
    )
    record = writer.create_warc_record(
        uri,
        "resource",
        payload=BytesIO(data),
        length=len(data),
        warc_content_type=file.mime,
        warc_headers_dict=headers,
    )
    writer.write_record(record)
    tally.written[file.sha256] = _Written(headers["WARC-Record-ID"], uri, date)
    tally.media += 1


def _snapshot_json(snapshot: Snapshot) -> dict[str, Any]:
    """The normalised snapshot, every URL redacted again."""
    embed = snapshot.embed
    fields: dict[str, Any] = {name: getattr(snapshot, name) for name in queries.SNAPSHOT_FIELDS}
    if fields.get("author_url"):
        fields["author_url"] = redact_url(fields["author_url"])
    media = []
    for item in snapshot.media:
        file = item.media_file
        media.append(
            {
                "kind": item.kind,
                "original_url": redact_url(item.original_url),
                "rung": item.rung,
                "position": item.position,
                "sha256": file.sha256 if file is not None else None,
                "mime": file.mime if file is not None else None,
                "size": file.size_bytes if file is not None else None,
                "error": _scrub(item.error),
            }
        )
    responses = [
        {
            "rung": raw.get("rung"),
            "url": redact_url(str(raw.get("url") or "")),
            "status": raw.get("status"),
            "content_type": raw.get("content_type"),
            "fetched_at": raw.get("fetched_at"),
            "error": _scrub(raw.get("error")),
        }
        for raw in snapshot.raw
        if isinstance(raw, dict)
    ]
    return {
        "archiver": f"embed-archiver/{__version__}",
        "embed": {"provider": embed.provider, "id": embed.post_id, "url": redact_url(embed.canonical_url)},
        "version": snapshot.version,
        "captured_at": snapshot.captured_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "content_sha256": snapshot.content_sha256,
        "fields": fields,
        "provenance": dict(snapshot.provenance or {}),
        "media": media,
        "responses": responses,
    }


def _publish(temp_name: str, out: Path, overwrite: bool) -> None:
    """Give the finished file its name, in one step."""
    if overwrite:
        os.replace(temp_name, out)
        return
    try:
        # A hard link fails when `out` exists, so a file someone made meanwhile is never replaced.
        os.link(temp_name, out)
    except FileExistsError:
        raise UsageError(f"{out} already exists; refusing to overwrite it") from None
    except OSError:  # a filesystem without hard links
        if out.exists():
            raise UsageError(f"{out} already exists; refusing to overwrite it") from None
        os.replace(temp_name, out)
        return
    with suppress(OSError):
        os.unlink(temp_name)


def _fsync_folder(folder: Path) -> None:
    """Make the new name survive a power loss."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _warc_headers(record_type: str, uri: str, date: str, more: Mapping[str, str]) -> dict[str, str]:
    """WARC headers in the customary order (type, id, target, date first); warcio adds length and type."""
    return {
        "WARC-Type": record_type,
        "WARC-Record-ID": f"<urn:uuid:{uuid.uuid4()}>",
        "WARC-Target-URI": uri,
        "WARC-Date": date,
        **more,
    }


def _digest(raw_digest: bytes) -> str:
    """A WARC digest value: algorithm, colon, base32 (the form warcio, pywb and Heritrix write)."""
    return "sha256:" + base64.b32encode(raw_digest).decode("ascii")


def _warc_date(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _instant(value: object) -> datetime | None:
    """An ISO 8601 text as an aware instant (naive taken as UTC); None when absent or unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def _with_utf8_charset(content_type: str) -> str:
    """The type with `charset=utf-8`: the stored body is text, and the record encodes it as UTF-8."""
    params = [part.strip() for part in content_type.split(";")]
    kept = [part for part in params[1:] if part and not part.lower().startswith("charset=")]
    return "; ".join([params[0], *kept, "charset=utf-8"])


def _header_name(lowered: str) -> str:
    return "-".join(part.capitalize() for part in lowered.split("-"))


def _one_line(text: str) -> str:
    """Header values on one line: a CR or LF would end the header block early."""
    return " ".join(text.split())


def _scrub(text: object) -> str | None:
    """An error text with every URL in it redacted."""
    if text is None:
        return None
    return _URL_IN_TEXT.sub(lambda match: redact_url(match.group()), str(text))
