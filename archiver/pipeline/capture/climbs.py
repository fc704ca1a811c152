"""Climbs: one provider ladder climbed per embed, its media stored, the result recorded; shared by capture
and check (a check is a recapture that revalidates the stored responses).

    work_for(session, embeds, revalidate)   -> [Work]          what to climb for each embed
    run_climbs(sessions, deps, work, kind)  -> [CaptureItem]   climb on a thread pool, record each as a
                                                               `kind` ("capture" or "check") check row
    climb(deps, ref) -> Climbed                                one climb and its media (no database)
    record(sessions, deps, embed_id, ref, climbed)             a check row, and a snapshot version when the
                                                               content changed (a capture's verdict too)
    settle(sessions, deps, items)                              the verdicts of the embeds a check asked about

Network work happens outside database transactions; each embed is then recorded in a short transaction
of its own, so a crash loses at most the embed in flight and a rerun picks it up. Climbs run at most
`capture.per_provider` at once for one provider, so a slow or throttled provider never stalls the
others; a climb stopped by our own rate budget is no check of the post (it comes back `deferred`).

No wait here outlives the run's `RunBound`, and none waits for an instant on a clock that does not run
(a host's backoff or a budget's window measured on a pinned clock never comes): such work is given back,
deferred, due for the next run.
"""

from __future__ import annotations

import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from archiver.clock import Clock
from archiver.config import Settings, parse_rate
from archiver.http import Budgets, HttpClient
from archiver.pipeline.capture.bound import RunBound
from archiver.pipeline.capture.leases import LEASE_LOST
from archiver.pipeline.capture.media import refusal_reason, sniff_media_type
from archiver.pipeline.verdict import apply_verdict
from archiver.providers import provider_named
from archiver.providers.common.context import CaptureContext
from archiver.records import Capture, EmbedRef, MarkupKind, Outcome
from archiver.storage import queries
from archiver.storage.blobs import BlobStore
from archiver.storage.models import Embed
from archiver.storage.queries import mirrors as mirror_queries

# A post that failed transiently is tried again soon, then less often; never more than daily.
FIRST_RETRY = timedelta(minutes=15)
# After a stop is asked for, climbs in flight get this many seconds to finish; the rest are given back.
STOP_GRACE = 5.0
MAX_RETRY = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class CaptureDeps:
    """What capturing needs, built once by the edge (CLI or daemon)."""

    settings: Settings
    http: HttpClient
    budgets: Budgets
    blobs: BlobStore
    clock: Clock
    env: Mapping[str, str]

    def bounded(self, bound: RunBound) -> CaptureDeps:
        """These deps with an HTTP client that ends every request by `bound` and starts none after it."""
        return replace(self, http=self.http.ending_at(bound.ends_at, bound.setting))


@dataclass(frozen=True, slots=True)
class CaptureItem:
    """The result of capturing one embed, for progress lines and reports."""

    embed_id: int
    provider: str
    post_id: str
    outcome: Outcome
    reason: str
    new_version: int | None
    # Stopped by our own rate budget or a host's backoff: no check was recorded; it runs again later.
    deferred: bool = False
    # How long the climb took, provider answers and media downloads (None when nothing was climbed).
    seconds: float | None = None


@dataclass(frozen=True, slots=True)
class Work:
    """One embed to climb: its id, what its articles' markup said of it, and its stored responses to
    revalidate (by URL; empty for a first capture)."""

    embed_id: int
    ref: EmbedRef
    previous: Mapping[str, Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class Climbed:
    """What one climb brought back: the capture, its media as stored, and how long the provider took."""

    capture: Capture
    media: list[queries.StoredMediaRef]
    latency_ms: int
    seconds: float = 0.0  # the whole climb: the provider's answers and the media downloads


def work_for(session: Session, embeds: Sequence[Embed], *, revalidate: bool) -> list[Work]:
    """What to climb for each embed: its markup fields, and its stored responses to revalidate."""
    return [
        Work(embed.id, _ref_for(session, embed), _previous(session, embed) if revalidate else {})
        for embed in embeds
    ]


def run_climbs(
    sessions: sessionmaker[Session],
    deps: CaptureDeps,
    work: list[Work],
    kind: str,
    on_item: Callable[[CaptureItem], None] | None = None,
    stop_provider: Callable[[CaptureItem], bool] | None = None,
    *,
    owner: str | None = None,
    stop: threading.Event | None = None,
    bound: RunBound | None = None,
) -> list[CaptureItem]:
    """Climb every work item on the pool, record each as a `kind` check; `stop_provider` may end a
    provider's share of the run after any item (its other posts stay due). With `owner`, an item is
    recorded only while `owner` holds its lease; with `stop`, no climb starts once it is set. With
    `bound`, nothing starts after it and climbs still running then are not recorded: they and the items
    not started come back deferred (due for the next run). Give `deps` bounded the same way
    (`CaptureDeps.bounded`) so that their requests end then too."""
    items: list[CaptureItem] = []

    def finish(item: CaptureItem) -> bool:
        items.append(item)
        if on_item is not None:
            on_item(item)
        return stop_provider(item) if stop_provider is not None else False

    _Dispatcher(sessions, deps, work, finish, kind, owner=owner, stop=stop, bound=bound).run()
    return items


def settle(sessions: sessionmaker[Session], deps: CaptureDeps, items: Sequence[CaptureItem]) -> None:
    """Apply the verdict of every embed that was really asked about in this run."""
    now = deps.clock.now()
    for item in items:
        if item.deferred:
            continue
        with sessions() as session, session.begin():
            embed = session.get(Embed, item.embed_id)
            if embed is not None:
                apply_verdict(session, embed, deps.settings, now)


def climb(
    deps: CaptureDeps, ref: EmbedRef, previous: Mapping[str, Mapping[str, Any]] | None = None
) -> Climbed:
    """One provider ladder climb and its media downloads (no database: runs on a worker thread)."""
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
        previous=previous or {},
    )
    started = time.monotonic()
    capture = provider.capture(ref, ctx)
    latency_ms = int((time.monotonic() - started) * 1000)
    media = store_media(deps, capture) if capture.outcome is Outcome.OK else []
    return Climbed(capture, media, latency_ms, time.monotonic() - started)


def record(
    sessions: sessionmaker[Session],
    deps: CaptureDeps,
    embed_id: int,
    ref: EmbedRef,
    climbed: Climbed,
    kind: str = "capture",
    owner: str | None = None,
) -> CaptureItem:
    """Write one climb: a check row always, a new snapshot version when the content changed, and for a
    capture its verdict (a check's waits for the run's provider health, `settle`).

    With `owner`, only while `owner` still holds the embed's lease; otherwise nothing is written (the
    daemon that took the lease over records it) and the item comes back deferred, reason `LEASE_LOST`.

    A capture that found the post under its lasting id (a Bluesky handle resolved to the DID the post
    is at) first keeps the embed under that id (`queries.keep_under`: renamed, or merged into the embed
    that has it) and is recorded there, decided at once; the item names the embed kept. Only an `ok`
    is evidence enough: a handle that led nowhere may have moved to another account."""
    capture = climbed.capture
    now = deps.clock.now()
    with sessions() as session, session.begin():
        if owner is not None and not queries.hold_lease(session, embed_id, owner):
            return CaptureItem(
                embed_id, ref.provider, ref.post_id or "", capture.outcome, LEASE_LOST, None, deferred=True
            )
        embed = session.get(Embed, embed_id)
        if embed is None:  # removed while we were fetching; nothing to record
            return CaptureItem(
                embed_id, ref.provider, ref.post_id or "", capture.outcome, capture.reason, None
            )
        lasting = capture.lasting_id if capture.outcome is Outcome.OK else None
        if lasting is not None and lasting != embed.post_id:
            embed = queries.keep_under(
                session, embed, lasting, capture.lasting_url or embed.canonical_url, now
            )
            embed_id = embed.id
        retry_at = (
            None if capture.outcome is Outcome.OK else now + _retry_delay(embed.capture_attempts, capture)
        )
        first_capture = kind == "capture" and embed.last_captured_at is None
        snapshot = queries.record_capture(
            session, embed, capture, climbed.media, now, climbed.latency_ms, retry_at, kind=kind
        )
        if first_capture and embed.last_captured_at is not None and deps.settings.mirror.enabled:
            # Queued only: `archiver.pipeline.mirror` asks Save Page Now later, so it never slows this.
            mirror_queries.queue_mirror(session, embed, now)
        if kind == "capture" or lasting is not None:
            # Decided in the same transaction: a capture recorded but not yet decided (a crash in
            # between) would leave a captured embed `new`, due for neither a capture nor a check.
            apply_verdict(session, embed, deps.settings, now)
    return CaptureItem(
        embed_id,
        ref.provider,
        ref.post_id or "",
        capture.outcome,
        capture.reason,
        snapshot.version if snapshot is not None else None,
        seconds=climbed.seconds,
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


class _Dispatcher:
    """Hands climbs to the pool provider by provider, and records what comes back."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        deps: CaptureDeps,
        work: list[Work],
        finish: Callable[[CaptureItem], bool],
        kind: str = "capture",
        *,
        owner: str | None = None,
        stop: threading.Event | None = None,
        bound: RunBound | None = None,
    ) -> None:
        self.sessions = sessions
        self.deps = deps
        self.finish = finish
        self.kind = kind
        self.owner = owner
        self.stop = stop
        self.bound = bound
        self.give_up_at: float | None = None  # set when a stop is seen: climbs in flight get STOP_GRACE
        self.queues: dict[str, deque[Work]] = {}
        for item in work:
            self.queues.setdefault(item.ref.provider, deque()).append(item)
        self.running: Counter[str] = Counter()
        self.paused_until: dict[str, float] = {}
        self.in_flight: dict[Future[Climbed], Work] = {}

    def run(self) -> None:
        settings = self.deps.settings.capture
        pool = ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="capture")
        abandoned = False
        try:
            while True:
                if self.bound is not None and self.bound.over():
                    # Climbs still running are not recorded (their requests end now: the client is
                    # bounded too); they and the posts not started stay due for the next run.
                    abandoned = bool(self.in_flight)
                    left = [*self.in_flight.values(), *(w for q in self.queues.values() for w in q)]
                    self.in_flight.clear()
                    self._give_back(left, self.bound.reason)
                    return
                stopping = self._stopping()
                if not stopping:
                    self._dispatch(pool)
                if not self.in_flight:
                    if stopping or not any(self.queues.values()):
                        return
                    pause = self._next_pause_end()
                    if pause is not None:  # between requests, never in one
                        self._sleep(self._capped(max(pause - time.monotonic(), 0.0)))
                    continue
                pause = None if stopping else self._next_pause_end()
                timeout = max(pause - time.monotonic(), 0.0) if pause is not None else None
                if self.give_up_at is not None:
                    left_seconds = self.give_up_at - time.monotonic()
                    if left_seconds <= 0:  # climbs still running: not recorded, their embeds stay due
                        abandoned = True
                        return
                    timeout = left_seconds if timeout is None else min(timeout, left_seconds)
                if self.stop is not None:
                    timeout = 0.2 if timeout is None else min(timeout, 0.2)  # notice a stop soon
                if self.bound is not None:
                    timeout = self._capped(timeout)
                done, _ = wait(self.in_flight, timeout=timeout, return_when=FIRST_COMPLETED)
                if self.bound is not None and self.bound.over():
                    continue  # a climb that ended now may have been cut by the bound: given back above
                for future in done:
                    item = self.in_flight.pop(future)
                    self.running[item.ref.provider] -= 1
                    self._settle(item, future.result())
        finally:
            # An abandoned climb's thread ends by itself (every request has a deadline); nobody waits.
            pool.shutdown(wait=not abandoned, cancel_futures=True)

    def _capped(self, seconds: float | None) -> float:
        """`seconds` (None: no limit) no later than the run's bound."""
        if self.bound is None:
            return seconds if seconds is not None else 0.0
        return self.bound.left() if seconds is None else min(seconds, self.bound.left())

    def _stopping(self) -> bool:
        if self.stop is None or not self.stop.is_set():
            return False
        if self.give_up_at is None:
            self.give_up_at = time.monotonic() + STOP_GRACE
        return True

    def _sleep(self, seconds: float) -> None:
        if self.stop is None:
            time.sleep(seconds)
        else:
            self.stop.wait(seconds)

    def _dispatch(self, pool: ThreadPoolExecutor) -> None:
        settings = self.deps.settings.capture
        now = time.monotonic()
        progressed = True
        while progressed and len(self.in_flight) < settings.workers:
            progressed = False
            for provider, queue in self.queues.items():
                if not queue or self.running[provider] >= settings.per_provider:
                    continue
                if self.paused_until.get(provider, 0.0) > now or len(self.in_flight) >= settings.workers:
                    continue
                item = queue.popleft()
                self.in_flight[pool.submit(climb, self.deps, item.ref, item.previous)] = item
                self.running[provider] += 1
                progressed = True

    def _next_pause_end(self) -> float | None:
        """When the first provider paused with posts waiting may go on (None: none is paused). A provider
        at its `per_provider` limit goes on when a climb ends instead: waiting for that is `wait`'s."""
        now = time.monotonic()
        waiting = [
            until for p, q in self.queues.items() if q and (until := self.paused_until.get(p, 0.0)) > now
        ]
        return min(waiting) if waiting else None

    def _may_wait(self, seconds: float) -> bool:
        """Whether to wait `seconds` in this run for a provider to take requests again: a short wait
        (`capture.max_defer_wait`), on a clock that runs (the backoff or budget window is measured on the
        injected clock: pinned, it never ends), and ending before the run's bound."""
        if seconds > self.deps.settings.capture.max_defer_wait or not self.deps.clock.runs:
            return False
        return self.bound is None or time.monotonic() + seconds < self.bound.ends_at

    def _settle(self, item: Work, climbed: Climbed) -> None:
        capture = climbed.capture
        ref = item.ref
        if capture.deferred:
            wait_for = max(capture.retry_after if capture.retry_after is not None else 1.0, 0.0)
            queue = self.queues[ref.provider]
            if self._may_wait(wait_for):
                queue.appendleft(item)
                self.paused_until[ref.provider] = time.monotonic() + wait_for
                return
            # Not worth waiting for in this run: this post and the provider's others stay due.
            left = [item, *queue]
            queue.clear()
            self._give_back(left, capture.reason)
            return
        recorded = record(
            self.sessions, self.deps, item.embed_id, ref, climbed, kind=self.kind, owner=self.owner
        )
        if self.finish(recorded):
            self.queues[ref.provider].clear()  # the caller stopped this provider (e.g. it paused it)

    def _give_back(self, left: Sequence[Work], reason: str) -> None:
        """Report these posts deferred: nothing is recorded, they stay due for the next run."""
        for waiting in left:
            self.finish(
                CaptureItem(
                    waiting.embed_id,
                    waiting.ref.provider,
                    waiting.ref.post_id or "",
                    Outcome.TRANSIENT,
                    reason,
                    None,
                    deferred=True,
                )
            )


def _previous(session: Session, embed: Embed) -> dict[str, Mapping[str, Any]]:
    """The stored responses of the embed's latest snapshot, by URL, for revalidation."""
    latest = queries.latest_snapshot(session, embed)
    raw = latest.raw if latest is not None else []
    return {str(r["url"]): r for r in raw if isinstance(r, dict) and r.get("url")}


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
