"""capture_due: the first capture of every due embed (or, with `refresh`, a recapture of those that have
snapshots); capture_one: one embed, now. The climbing itself is `climbs`.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from archiver.pipeline.capture.bound import RunBound
from archiver.pipeline.capture.climbs import (
    CaptureDeps,
    CaptureItem,
    climb,
    record,
    run_climbs,
    work_for,
)
from archiver.pipeline.capture.leases import DEFAULT_BATCH, DEFAULT_LEASE, LEASE_LOST, Claims
from archiver.providers import enabled_providers
from archiver.records import EmbedRef, Outcome
from archiver.storage import queries


@dataclass(frozen=True, slots=True)
class CaptureReport:
    """What one capture run did: an item per embed tried, and how many ended in each outcome."""

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
        """Climbs that failed transiently or were deferred: all of them will be tried again."""
        return self.outcomes.get(Outcome.TRANSIENT.value, 0)

    @property
    def deferred(self) -> int:
        return sum(1 for item in self.items if item.deferred)


def capture_due(
    sessions: sessionmaker[Session],
    deps: CaptureDeps,
    *,
    limit: int | None = None,
    providers: Collection[str] | None = None,
    on_item: Callable[[CaptureItem], None] | None = None,
    on_total: Callable[[int], None] | None = None,
    refresh: bool = False,
    owner: str | None = None,
    lease: timedelta = DEFAULT_LEASE,
    batch: int = DEFAULT_BATCH,
    stop: threading.Event | None = None,
    bound: RunBound | None = None,
) -> CaptureReport:
    """Capture every embed that has no snapshot yet and is due; returns what happened to each.

    With `refresh`, capture again embeds that have snapshots instead (the longest unrefreshed first),
    revalidating the stored responses: unchanged content adds no version, a changed caption does.

    Climbs run on a thread pool, at most `capture.per_provider` at once for one provider, so a slow or
    throttled provider never stalls the others. Results are written here, on the calling thread, one
    short transaction per embed. A climb stopped by our own rate budget is no check of the post: it
    waits its turn (at most `capture.max_defer_wait` seconds) or is left due for the next run.

    With `owner` (a daemon's name), due embeds are claimed in batches of `batch` under a lease of
    `lease` instead of just read (`leases`): several daemons share them, an embed is
    recorded only by the daemon holding it, and each batch is released once recorded. The run goes on
    until nothing is due, `limit` embeds were tried, or `stop` is set (climbs in flight then get
    `climbs.STOP_GRACE` seconds to finish; the rest of the batch is given back).

    The run ends by `bound` (default: `capture.max_run` from now) whatever the providers do: requests
    in flight then are cut, and what was not finished comes back deferred, due for the next run.
    """
    bound = bound if bound is not None else RunBound.of(deps.settings.capture.max_run, "capture.max_run")
    deps = deps.bounded(bound)
    # Enabled providers that can capture; the others' embeds are stored and wait for theirs.
    enabled = {
        p.name
        for p in enabled_providers(deps.settings)
        if p.can_capture() and (providers is None or p.name in providers)
    }
    if owner is not None:
        if refresh:
            raise ValueError("refresh runs are not claimed: run them without an owner")
        claims = Claims(sessions, deps.clock, owner, lease)
        items = _capture_claimed(sessions, deps, enabled, claims, batch, limit, stop, bound, on_item)
        return CaptureReport(tuple(items), dict(Counter(item.outcome.value for item in items)))
    with sessions() as session:
        if refresh:
            due = queries.embeds_for_refresh(session, limit or 1_000_000, enabled)
        else:
            due = queries.embeds_due_for_capture(session, deps.clock.now(), limit or 1_000_000, enabled)
        work = work_for(session, due, revalidate=refresh)
    if on_total is not None:
        on_total(len(work))
    # Each embed is decided as it is recorded (a kill between the two cannot leave it undecided).
    items = run_climbs(sessions, deps, work, "capture", on_item, bound=bound)
    return CaptureReport(tuple(items), dict(Counter(item.outcome.value for item in items)))


def _capture_claimed(
    sessions: sessionmaker[Session],
    deps: CaptureDeps,
    enabled: set[str],
    claims: Claims,
    batch: int,
    limit: int | None,
    stop: threading.Event | None,
    bound: RunBound,
    on_item: Callable[[CaptureItem], None] | None,
) -> list[CaptureItem]:
    items: list[CaptureItem] = []
    waiting: set[str] = set()  # providers whose rate budget ran out: their posts wait for the next run
    try:
        while not (stop is not None and stop.is_set()) and (limit is None or len(items) < limit):
            if bound.over():
                break
            size = batch if limit is None else min(batch, limit - len(items))
            embeds = claims.claim("capture", size, enabled - waiting)
            if not embeds:
                break
            with sessions() as session:
                work = work_for(session, embeds, revalidate=False)
            done = run_climbs(
                sessions,
                deps,
                work,
                "capture",
                claims.keeping(on_item),
                owner=claims.owner,
                stop=stop,
                bound=bound,
            )
            items.extend(done)
            waiting |= {i.provider for i in done if i.deferred and i.reason != LEASE_LOST}
            claims.release([e.id for e in embeds])
    finally:
        claims.release()
    return items


def capture_one(
    sessions: sessionmaker[Session], deps: CaptureDeps, embed_id: int, ref: EmbedRef
) -> CaptureItem:
    """Capture one embed now, on this thread, and record it (unless our own manners deferred it)."""
    climbed = climb(deps, ref)
    if climbed.capture.deferred:
        capture = climbed.capture
        return CaptureItem(
            embed_id, ref.provider, ref.post_id or "", capture.outcome, capture.reason, None, deferred=True
        )
    return record(sessions, deps, embed_id, ref, climbed)
