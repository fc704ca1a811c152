"""Capture: climb each due embed's provider ladder, store its media, record a snapshot version.

Network work happens outside database transactions; each embed is then recorded in a short
transaction of its own, so a crash loses at most the embed in flight and a rerun picks it up.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from archiver.clock import Clock
from archiver.config import Settings, parse_rate
from archiver.http import HttpClient, RateBudgets
from archiver.pipeline.media import refusal_reason, sniff_media_type
from archiver.providers import provider_named
from archiver.providers.base import CaptureContext
from archiver.records import Capture, EmbedRef, MarkupKind, Outcome
from archiver.storage import queries
from archiver.storage.blobs import BlobStore
from archiver.storage.models import Embed

# A post that failed transiently is tried again soon, then less often; never more than daily.
FIRST_RETRY = timedelta(minutes=15)
MAX_RETRY = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class CaptureDeps:
    """What capturing needs, built once by the edge (CLI or daemon)."""

    settings: Settings
    http: HttpClient
    budgets: RateBudgets
    blobs: BlobStore
    clock: Clock
    env: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class CaptureItem:
    """The result of capturing one embed, for progress lines and reports."""

    embed_id: int
    provider: str
    post_id: str
    outcome: Outcome
    reason: str
    new_version: int | None


@dataclass(frozen=True, slots=True)
class CaptureReport:
    items: tuple[CaptureItem, ...] = ()
    outcomes: Mapping[str, int] = field(default_factory=dict)

    @property
    def attempted(self) -> int:
        return len(self.items)

    @property
    def new_snapshots(self) -> int:
        return sum(1 for item in self.items if item.new_version is not None)

    @property
    def transient(self) -> int:
        return self.outcomes.get(Outcome.TRANSIENT.value, 0)


def capture_due(
    sessions: sessionmaker[Session],
    deps: CaptureDeps,
    *,
    limit: int | None = None,
    providers: Collection[str] | None = None,
    on_item: Callable[[CaptureItem], None] | None = None,
    on_total: Callable[[int], None] | None = None,
) -> CaptureReport:
    """Capture every embed that has no snapshot yet and is due; returns what happened to each."""
    enabled = {name for name in _enabled_providers(deps.settings) if providers is None or name in providers}
    with sessions() as session:
        due = queries.embeds_due_for_capture(session, deps.clock.now(), limit or 1_000_000, enabled)
        work = [(embed.id, _ref_for(session, embed)) for embed in due]
    if on_total is not None:
        on_total(len(work))
    items: list[CaptureItem] = []
    for embed_id, ref in work:
        item = capture_one(sessions, deps, embed_id, ref)
        items.append(item)
        if on_item is not None:
            on_item(item)
    return CaptureReport(tuple(items), dict(Counter(item.outcome.value for item in items)))


def capture_one(
    sessions: sessionmaker[Session], deps: CaptureDeps, embed_id: int, ref: EmbedRef
) -> CaptureItem:
    """Capture one embed now and record the attempt (and a new snapshot version when content changed)."""
    provider = provider_named(ref.provider)
    ctx = CaptureContext(
        provider=provider.name,
        http=deps.http,
        settings=deps.settings.provider(provider.name),
        env=deps.env,
        clock=deps.clock,
        budgets=deps.budgets,
        rate=_rate_of(deps.settings, provider.name),
        max_json_bytes=deps.settings.http.max_json_bytes,
        max_page_bytes=deps.settings.http.max_page_bytes,
    )
    started = time.monotonic()
    capture = provider.capture(ref, ctx)
    latency_ms = int((time.monotonic() - started) * 1000)
    media = store_media(deps, capture) if capture.outcome is Outcome.OK else []
    now = deps.clock.now()
    with sessions() as session, session.begin():
        embed = session.get(Embed, embed_id)
        if embed is None:  # removed while we were fetching; nothing to record
            return CaptureItem(
                embed_id, ref.provider, ref.post_id or "", capture.outcome, capture.reason, None
            )
        retry_at = (
            None if capture.outcome is Outcome.OK else now + _retry_delay(embed.capture_attempts, capture)
        )
        snapshot = queries.record_capture(session, embed, capture, media, now, latency_ms, retry_at)
    return CaptureItem(
        embed_id,
        ref.provider,
        ref.post_id or "",
        capture.outcome,
        capture.reason,
        snapshot.version if snapshot is not None else None,
    )


def store_media(deps: CaptureDeps, capture: Capture) -> list[queries.StoredMediaRef]:
    """Download each media file of a capture into the blob store; failures are kept as reasons."""
    stored: list[queries.StoredMediaRef] = []
    for media in capture.media:
        if not deps.settings.media.download:
            stored.append(
                queries.StoredMediaRef(
                    media.kind,
                    media.url,
                    media.rung,
                    None,
                    None,
                    None,
                    "not downloaded: [media] download = false",
                )
            )
            continue
        result = deps.http.get(media.url, max_bytes=deps.settings.media.max_bytes)
        if not result.ok:
            reason = result.error.message if result.error else f"media answered {result.status}"
            stored.append(queries.StoredMediaRef(media.kind, media.url, media.rung, None, None, None, reason))
            continue
        mime = sniff_media_type(result.body)
        if mime is None:
            reason = refusal_reason(result.body, result.content_type)
            stored.append(queries.StoredMediaRef(media.kind, media.url, media.rung, None, None, None, reason))
            continue
        blob = deps.blobs.put(result.body)
        stored.append(
            queries.StoredMediaRef(
                media.kind, media.url, media.rung, blob.sha256, mime, len(result.body), None
            )
        )
    return stored


def _ref_for(session: Session, embed: Embed) -> EmbedRef:
    """An EmbedRef carrying what the articles' markup said about this embed (capture rung 1)."""
    found = queries.markup_fields_for(session, embed)
    return EmbedRef(
        provider=embed.provider,
        post_id=embed.post_id,
        url=embed.canonical_url,
        markup=MarkupKind.LINK,
        author_name=found.get("author_name"),
        handle=found.get("handle"),
        author_url=found.get("author_url"),
        published=found.get("published"),
        caption=found.get("text"),
    )


def _retry_delay(attempts: int, capture: Capture) -> timedelta:
    backoff: timedelta = min(FIRST_RETRY * (2 ** min(attempts, 10)), MAX_RETRY)
    if capture.retry_after is not None:
        return max(backoff, timedelta(seconds=capture.retry_after))
    return backoff


def _rate_of(settings: Settings, name: str) -> tuple[int, float] | None:
    rate = settings.provider(name).rate or provider_named(name).default_rate
    return parse_rate(rate) if rate else None


def _enabled_providers(settings: Settings) -> list[str]:
    from archiver.providers import PROVIDERS

    return [p.name for p in PROVIDERS if settings.provider(p.name).enabled]
