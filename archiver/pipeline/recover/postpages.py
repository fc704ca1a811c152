"""A recovered post's own pages in web archives: the post page and, where the provider has one, its embed
page, looked up through the same Memento TimeMaps as the articles.

    look_up_post_pages(sessions, archives, embed_ids, now, settings=, blobs=, providers=)
                                          each post of `embed_ids` not yet looked up (or `pending`),
                                          one transaction a post
    post_page_report(row)                 what `archive recover --json` says of one post's lookup

For each post, each archive is asked for the TimeMap of each of the provider's `archived_pages` (in its
order: Instagram's captioned embed page, then the post page); copies are walked newest first
(`recover.max_copies` at most per page and run). A copy the archive marks as not the page (an error page,
a login wall, a consent page: `memento.Archive.copy`) or that shows no post (`Provider.read_archived_page`
says None: a home page after a redirect, "this page isn't available") is ignored and listed. The first
copy that shows the post gives a snapshot: the fields the spot's own copy already gave (the markup
snapshot, provenance `memento:ARCHIVE`), with the fields it lacked filled from the page (provenance
`memento:ARCHIVE:post_page` or `:embed_page`; its raw entry names the URI-M, the Memento-Datetime and
the meta it was read from), dated by the page's copy; the page's image is fetched as the archive's raw
copy of it (`{base}/{timestamp}id_/{image}`, the archive's rate budget, bytes sniffed) into the media
store, so the fallback card shows it.

No transaction is open while an archive is asked (the rate budgets are rows other connections write):
each post is read, then looked up, then written. Manners as for articles: 429, Retry-After, 5xx,
timeouts and truncated bodies (for the page or its image) leave the post `pending` with nothing stored,
and a later run goes on; nothing here sleeps. A post page never says whether the post is alive today:
no `Check` row is written, whatever the page says. A post already captured live is `skipped` (its live
snapshot says more than an old copy, and a newer archived version would hide it from the card).
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from archiver.config import Settings
from archiver.pipeline.capture import refusal_reason, sniff_media_type
from archiver.pipeline.recover.memento import Archive, Copy
from archiver.providers.common.base import PostUrl, Provider
from archiver.providers.common.pagemeta import ArchivedPost
from archiver.sources.files import decode_html
from archiver.storage import queries
from archiver.storage.blobs import BlobStore
from archiver.storage.models import Embed, PostPageLookup, Snapshot

FOUND = "found"
NONE = "none"
PENDING = "pending"
SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class _Shown:
    """A copy of one of the post's pages that shows it, and its image as stored (or why not)."""

    archive: Archive
    page_url: str
    label: str
    copy: Copy
    post: ArchivedPost
    image: queries.StoredMediaRef | None


@dataclass(frozen=True, slots=True)
class _Walk:
    """What walking one page's copies in one archive gave: a copy showing the post, or a reason to
    wait, or neither."""

    shown: _Shown | None = None
    waiting: str | None = None


def look_up_post_pages(
    sessions: sessionmaker[Session],
    archives: Sequence[Archive],
    embed_ids: Collection[int],
    now: datetime,
    *,
    settings: Settings,
    blobs: BlobStore,
    providers: Sequence[Provider],
    stop: threading.Event | None = None,
) -> None:
    """Look up the pages of each post of `embed_ids` whose lookup is new or `pending`; `stop` (the daemon
    stopping) ends it between two posts."""
    by_name = {provider.name: provider for provider in providers}
    for embed_id in sorted(set(embed_ids)):
        if stop is not None and stop.is_set():
            break
        with sessions() as session:
            row = queries.post_page_lookup(session, embed_id)
            embed = session.get(Embed, embed_id)
            if embed is None or (row is not None and row.state != PENDING):
                continue
            provider = by_name.get(embed.provider)
            if provider is None:
                continue  # a provider no longer configured: nothing to read its pages with
            post = PostUrl(embed.provider, embed.post_id, embed.canonical_url)
            _, live = queries.archived_snapshots(session, embed)
        if live:
            found = _Found(state=SKIPPED, reason="captured live: its own snapshot says more")
        else:
            found = _look_up(archives, post, provider, settings, blobs)
        with sessions() as session, session.begin():
            _save(session, embed_id, found, now)


def post_page_report(row: PostPageLookup | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "state": row.state,
        "archive": row.archive,
        "memento": row.memento_url,
        "memento_datetime": row.memento_datetime.isoformat() if row.memento_datetime else None,
        "reason": row.reason,
        "copies": list(row.copies),
    }


@dataclass(frozen=True, slots=True)
class _Found:
    """The end of one post's lookup, before anything is written."""

    state: str
    reason: str
    shown: _Shown | None = None
    copies: list[dict[str, Any]] = field(default_factory=list)


def _look_up(
    archives: Sequence[Archive], post: PostUrl, provider: Provider, settings: Settings, blobs: BlobStore
) -> _Found:
    copies: list[dict[str, Any]] = []
    waiting: str | None = None
    for archive in archives:
        for page_url in provider.archived_pages(post):
            walk = _walk(archive, provider, post, page_url, copies, settings, blobs)
            if walk.shown is not None:
                what = f"{walk.shown.label.replace('_', ' ')} of {archive.name}"
                return _Found(FOUND, what, walk.shown, copies)
            if walk.waiting is not None:
                waiting = walk.waiting
                break  # this archive asked us to wait: its other pages too are for a later run
    if waiting:
        return _Found(PENDING, f"waiting: {waiting}", None, copies)
    return _Found(NONE, "no archived copy of its pages showed the post", None, copies)


def _save(session: Session, embed_id: int, found: _Found, now: datetime) -> None:
    embed = session.get(Embed, embed_id)
    if embed is None:
        return  # deleted meanwhile
    shown = found.shown
    if shown is not None:
        archived, live = queries.archived_snapshots(session, embed)
        if live:  # captured live while we looked: that snapshot stays the newest
            found = _Found(SKIPPED, "captured live: its own snapshot says more", None, found.copies)
            shown = None
        else:
            _store(session, embed, shown, archived[-1] if archived else None, now)
    queries.save_post_page_lookup(
        session, embed_id, now, state=found.state, reason=found.reason, copies=found.copies,
        archive=shown.archive.name if shown else None,
        memento_url=shown.copy.memento.uri if shown else None,
        memento_datetime=(shown.copy.datetime or shown.copy.memento.datetime) if shown else None,
    )  # fmt: skip


def _walk(
    archive: Archive,
    provider: Provider,
    post: PostUrl,
    page_url: str,
    copies: list[dict[str, Any]],
    settings: Settings,
    blobs: BlobStore,
) -> _Walk:
    """Walk the copies of one of the post's pages in one archive, newest first."""
    label = "post_page" if page_url == post.url else "embed_page"
    timemap = archive.timemap(page_url)
    if timemap.result == "wait":
        return _Walk(waiting=timemap.reason)
    if timemap.result != "ok":
        copies.append({"archive": archive.name, "page": page_url, "result": timemap.reason})
        return _Walk()
    newest_first = sorted(timemap.mementos, key=lambda m: m.datetime, reverse=True)
    for memento in newest_first[: settings.recover.max_copies]:
        copy = archive.copy(memento, page_url, settings.http.max_page_bytes)
        entry = {
            "archive": archive.name,
            "page": page_url,
            "memento": memento.uri,
            "datetime": (copy.datetime or memento.datetime).isoformat(),
        }
        if copy.result == "wait":
            copies.append({**entry, "result": f"waiting: {copy.reason}"})
            return _Walk(waiting=f"{archive.name}: {copy.reason}")
        if copy.result != "ok":
            copies.append({**entry, "result": f"ignored: {copy.reason}"})
            continue
        text, _ = decode_html(copy.data)
        shown = provider.read_archived_page(post, page_url, text)
        if shown is None:
            copies.append({**entry, "result": "ignored: shows no post (a wall, a home page, unavailable)"})
            continue
        rung = f"memento:{archive.name}:{label}"
        image = _image(archive, copy, shown.image_url, rung, settings, blobs) if shown.image_url else None
        if isinstance(image, str):
            copies.append({**entry, "result": f"waiting: image {image}"})
            return _Walk(waiting=f"{archive.name}: image {image}")
        copies.append({**entry, "result": f"shows the post ({', '.join(sorted(shown.fields)) or 'image'})"})
        return _Walk(_Shown(archive, page_url, label, copy, shown, image))
    return _Walk()


def _image(
    archive: Archive, copy: Copy, url: str, rung: str, settings: Settings, blobs: BlobStore
) -> queries.StoredMediaRef | str:
    """The page's image as the archive holds it, stored; or why not (kept on the snapshot); or, as a
    plain string, why to wait."""

    def failed(reason: str) -> queries.StoredMediaRef:
        return queries.StoredMediaRef("image", url, rung, None, None, None, reason)

    if not settings.media.download:
        return failed("not downloaded: [media] download = false")
    raw = archive.raw_file(copy.memento, url, settings.media.max_bytes)
    if raw.result == "wait":
        return raw.reason
    if raw.result != "ok":
        return failed(f"archive answered {raw.reason} for {raw.raw_url}")
    mime = sniff_media_type(raw.data)
    if mime is None:
        return failed(refusal_reason(raw.data, raw.content_type))
    blob = blobs.put(raw.data)
    return queries.StoredMediaRef("image", url, rung, blob.sha256, mime, len(raw.data), None)


def _store(session: Session, embed: Embed, shown: _Shown, base: Snapshot | None, now: datetime) -> None:
    """The snapshot of what the spot's copy and the post's page showed together (see the docstring)."""
    rung = f"memento:{shown.archive.name}:{shown.label}"
    values: dict[str, str] = {}
    provenance: dict[str, str] = {}
    raw: list[dict[str, Any]] = []
    if base is not None:
        for name in queries.SNAPSHOT_FIELDS:
            value = getattr(base, name)
            if value:
                values[name] = value
                provenance[name] = str(base.provenance.get(name, f"memento:{shown.archive.name}"))
        raw += [dict(entry) for entry in base.raw]
    for name in queries.SNAPSHOT_FIELDS:
        value = shown.post.fields.get(name)
        if not value or name in values:
            continue
        if name == "text_html" and provenance.get("text") != rung:
            continue  # a caption's markup goes only with the caption it is the markup of
        values[name] = value
        provenance[name] = rung
    copy = shown.copy
    raw.append(
        {
            "rung": rung,
            "url": copy.memento.uri,
            "status": 200,
            "content_type": copy.content_type,
            "body": shown.post.evidence,
            "error": None,
            "headers": {
                "memento-datetime": copy.headers.get("memento-datetime", ""),
                "x-archive": shown.archive.name,
                "x-raw-copy": copy.raw_url,
                "x-page": shown.page_url,
            },
            "fetched_at": now.isoformat(),
        }
    )
    media = [shown.image] if shown.image is not None else []
    if all(rung != provenance[name] for name in values) and not any(ref.sha256 for ref in media):
        return  # the page showed nothing the spot's copy had not
    digest = queries.content_sha256(values, media)
    rows = [queries.snapshot_media_row(session, ref, position, now) for position, ref in enumerate(media)]
    stated = copy.datetime or copy.memento.datetime
    queries.add_archived_snapshot(session, embed, values, digest, provenance, raw, stated, rows)
