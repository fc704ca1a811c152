"""check: look again at every embed that is due, and decide, carefully, which ones are gone.

One run:

1. Provider health. A provider's canaries (known-good posts) are climbed first; if any does not answer
   ok (an outage, an API change, our credentials refused), the provider is paused: no verdicts for
   it, one alert. A paused provider is probed again every run (its canaries, or one due embed) and
   resumes by itself when they answer ok.
2. Due embeds of healthy providers are climbed like a recapture (stored responses revalidated) and
   recorded as checks. Our credentials refused mid-run pauses the provider at once.
3. A provider without canaries whose checks mostly came back gone or ambiguous over the breaker window
   is paused too, and that window's checks stop counting: the provider changed, not the posts.
4. Verdicts (`pipeline/verdict.py`) and the next check time of every embed asked about.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from archiver.config import parse_duration
from archiver.pipeline.capture import (
    DEFAULT_BATCH,
    DEFAULT_LEASE,
    LEASE_LOST,
    CaptureDeps,
    CaptureItem,
    Claims,
    RunBound,
    Work,
    climb,
    run_climbs,
    settle,
    work_for,
)
from archiver.providers import enabled_providers, provider_named
from archiver.records import EmbedRef, MarkupKind, Outcome
from archiver.storage import queries
from archiver.storage.models import Embed

log = logging.getLogger("archiver.check")

_TELLING_FAILURES = frozenset({Outcome.GONE.value, Outcome.AMBIGUOUS.value})


@dataclass(frozen=True, slots=True)
class Health:
    """What probing a provider found: whether to check its embeds, and the change made, if any."""

    provider: str
    healthy: bool
    probe_only: bool = False
    paused: str | None = None
    resumed: bool = False


@dataclass(frozen=True, slots=True)
class CheckReport:
    """What one check run did: an item per embed asked about, each provider's health, and the state
    changes (embed id, state before, state after)."""

    items: tuple[CaptureItem, ...] = ()
    health: tuple[Health, ...] = ()
    state_changes: tuple[tuple[int, str, str], ...] = ()
    outcomes: dict[str, int] = field(default_factory=dict)

    @property
    def attempted(self) -> int:
        return len(self.items)

    @property
    def transient(self) -> int:
        """Checks that failed transiently or were left for the next run (`deferred`)."""
        return self.outcomes.get(Outcome.TRANSIENT.value, 0)

    @property
    def deferred(self) -> int:
        """Embeds not asked about in this run (a budget, a host's backoff, the run's time): still due."""
        return sum(1 for item in self.items if item.deferred)


def check_due(
    sessions: sessionmaker[Session],
    deps: CaptureDeps,
    *,
    limit: int | None = None,
    providers: Collection[str] | None = None,
    on_item: Callable[[CaptureItem], None] | None = None,
    on_total: Callable[[int], None] | None = None,
    owner: str | None = None,
    lease: timedelta = DEFAULT_LEASE,
    batch: int = DEFAULT_BATCH,
    stop: threading.Event | None = None,
    bound: RunBound | None = None,
) -> CheckReport:
    """Check every embed whose next check is due, provider health first; returns what happened.

    With `owner` (a daemon's name), due embeds are claimed in batches of `batch` under a lease of
    `lease` (`capture.Claims`), so several daemons share them: each batch is climbed, recorded (only
    while held), judged and released, until nothing is due, `limit` embeds were checked, or `stop` is
    set. An embed whose check of this cycle was recorded by a run that died before judging it is judged
    without asking the provider again: a check is recorded once per cycle.

    The run ends by `bound` (default: `checks.max_run` from now) whatever the providers do: requests in
    flight then are cut, and the embeds not checked come back deferred, due for the next run (a canary
    cut short says nothing about its provider).
    """
    bound = bound if bound is not None else RunBound.of(deps.settings.checks.max_run, "checks.max_run")
    deps = deps.bounded(bound)
    started = deps.clock.now()
    enabled = [
        p.name
        for p in enabled_providers(deps.settings)
        if p.can_capture() and (providers is None or p.name in providers)
    ]
    health = [
        probe(sessions, deps, name, bound)
        for name in enabled
        if not (stop is not None and stop.is_set()) and not bound.over()
    ]
    checkable = {h.provider for h in health if h.healthy or h.probe_only}
    probe_only = {h.provider for h in health if h.probe_only}

    paused_now: dict[str, str] = {}

    def stop_provider(item: CaptureItem) -> bool:
        if item.outcome is not Outcome.PROVIDER_DOWN or item.provider in paused_now:
            return item.provider in paused_now
        reason = f"our credentials were refused: {item.reason}"
        paused_now[item.provider] = reason
        _pause(sessions, deps, item.provider, reason, uncount_since=started)
        return True

    items: list[CaptureItem] = []
    changes: list[tuple[int, str, str]] = []
    if owner is None:
        with sessions() as session:
            due = queries.embeds_due_for_check(session, started, limit or 1_000_000, checkable)
            if probe_only:  # a paused provider without canaries is probed with one of its due embeds
                due = _one_per_probed_provider(due, probe_only)
            work: list[Work] = work_for(session, due, revalidate=True)
        if on_total is not None:
            on_total(len(work))
        items = run_climbs(sessions, deps, work, "check", on_item, stop_provider, bound=bound)
        changes = _conclude(sessions, deps, items, [], probe_only, paused_now, started)
    else:
        claims = Claims(sessions, deps.clock, owner, lease)
        probed: set[str] = set()
        waiting: set[str] = set()  # providers whose rate budget ran out: their posts wait for the next run
        try:
            while not (stop is not None and stop.is_set()) and (limit is None or len(items) < limit):
                if bound.over():
                    break
                size = batch if limit is None else min(batch, limit - len(items))
                due = claims.claim("check", size, checkable - set(paused_now) - probed - waiting)
                if not due:
                    break
                if probe_only:
                    kept = _one_per_probed_provider(due, probe_only)
                    claims.release({e.id for e in due} - {e.id for e in kept})
                    probed |= {e.provider for e in kept} & probe_only
                    due = kept
                with sessions() as session:
                    judged_only = queries.checked_since_due(session, [e.id for e in due])
                    work = work_for(session, [e for e in due if e.id not in judged_only], revalidate=True)
                if on_total is not None:
                    on_total(len(items) + len(work))
                done = run_climbs(
                    sessions,
                    deps,
                    work,
                    "check",
                    claims.keeping(on_item),
                    stop_provider,
                    owner=owner,
                    stop=stop,
                    bound=bound,
                )
                recorded_before = [_judge_only(e) for e in due if e.id in judged_only]
                changes += _conclude(sessions, deps, done, recorded_before, probe_only, paused_now, started)
                items.extend(done)
                waiting |= {i.provider for i in done if i.deferred and i.reason != LEASE_LOST}
                claims.release([e.id for e in due])
        finally:
            claims.release()
    report_health = tuple(
        Health(h.provider, False, paused=paused_now[h.provider]) if h.provider in paused_now else h
        for h in health
    )
    return CheckReport(
        tuple(items), report_health, tuple(changes), dict(Counter(i.outcome.value for i in items))
    )


def _conclude(
    sessions: sessionmaker[Session],
    deps: CaptureDeps,
    items: list[CaptureItem],
    recorded_before: list[CaptureItem],
    probe_only: set[str],
    paused_now: dict[str, str],
    started: datetime,
) -> list[tuple[int, str, str]]:
    """After climbing: resume or keep paused the probed providers, trip breakers, then decide the
    verdicts of the embeds asked about (and of `recorded_before`, checked by an earlier run that died
    before deciding them). Returns the state changes."""
    for provider in sorted({i.provider for i in items} - set(paused_now)):
        if provider in probe_only:
            # Only a plain ok proves the provider answers again; anything else keeps it paused and
            # the probe does not count.
            if any(i.outcome is Outcome.OK for i in items if i.provider == provider):
                _resume(sessions, deps, provider)
            else:
                _pause(sessions, deps, provider, "still failing", uncount_since=started)
            continue
        tripped = _breaker(sessions, deps, provider)
        if tripped is not None:
            paused_now[provider] = tripped[0]
            _pause(sessions, deps, provider, tripped[0], uncount_since=tripped[1])
    judged = [*items, *recorded_before]
    before = _states(sessions, [i.embed_id for i in judged])
    settle(sessions, deps, judged)
    after = _states(sessions, [i.embed_id for i in judged])
    return [(eid, before[eid], after[eid]) for eid in after if before.get(eid) != after[eid]]


def _judge_only(embed: Embed) -> CaptureItem:
    outcome = Outcome(embed.last_outcome or Outcome.OK.value)
    return CaptureItem(embed.id, embed.provider, embed.post_id, outcome, embed.last_reason or "", None)


def probe(
    sessions: sessionmaker[Session], deps: CaptureDeps, name: str, bound: RunBound | None = None
) -> Health:
    """Climb the provider's canaries; pause or resume it on what they say. A canary climb that ends
    past `bound` may have been cut short by it: it says nothing about the provider."""
    provider = provider_named(name)
    canaries = deps.settings.provider(name).canaries
    urls = canaries if canaries is not None else provider.canaries
    with sessions() as session:
        health = queries.provider_health(session, name)
        paused = health is not None and health.paused
    if not urls:
        return Health(name, healthy=not paused, probe_only=paused)
    outcomes: list[tuple[str, Outcome, str]] = []
    for url in urls:
        post = provider.parse_url(url)
        if post is None:
            outcomes.append((url, Outcome.AMBIGUOUS, "not a post URL of this provider"))
            continue
        capture = climb(deps, EmbedRef(name, post.post_id, post.url, MarkupKind.LINK)).capture
        if bound is not None and bound.over():
            break
        if not capture.deferred:  # our own budget said wait: that says nothing about the provider
            outcomes.append((url, capture.outcome, capture.reason))
    if not outcomes:
        return Health(name, healthy=not paused, probe_only=False)
    failing = [(url, outcome, reason) for url, outcome, reason in outcomes if outcome is not Outcome.OK]
    if failing:
        # A post known to be alive that does not answer ok means the provider is not answering as it
        # should (an outage, an API change, our credentials): no verdict can be trusted meanwhile.
        url, outcome, reason = failing[0]
        why = (
            f"our credentials were refused: {reason}"
            if outcome is Outcome.PROVIDER_DOWN
            else f"canary {url} answered {outcome.value}: {reason}"
        )
        _pause(sessions, deps, name, why)
        return Health(name, healthy=False, paused=why)
    return Health(name, healthy=True, resumed=_resume(sessions, deps, name))


def _breaker(
    sessions: sessionmaker[Session], deps: CaptureDeps, provider: str
) -> tuple[str, datetime] | None:
    """Trip when, for a provider without canaries, most embeds checked in the recent window last came
    back gone or ambiguous: many posts do not die at once; a provider that changed its API looks like
    that. Returns the reason and where the window starts (its checks stop counting)."""
    rules = deps.settings.verdicts
    configured = deps.settings.provider(provider).canaries
    if configured if configured is not None else provider_named(provider).canaries:
        return None  # healthy canaries vouch for the provider: a mass deletion is real
    since = deps.clock.now() - parse_duration(rules.breaker_window)
    with sessions() as session:
        outcomes = queries.latest_check_outcomes(session, provider, since)
    failed = sum(outcomes.get(o, 0) for o in _TELLING_FAILURES)
    asked = failed + outcomes.get(Outcome.OK.value, 0)
    if asked < rules.breaker_min_checks or failed < rules.breaker_share * asked:
        return None
    reason = (
        f"{failed} of {asked} embeds checked in {rules.breaker_window} last came back gone or ambiguous: "
        "the provider probably changed, not the posts"
    )
    return reason, since


def _one_per_probed_provider(due: list[Embed], probed: set[str]) -> list[Embed]:
    kept: list[Embed] = []
    seen: set[str] = set()
    for embed in due:
        if embed.provider in probed:
            if embed.provider in seen:
                continue
            seen.add(embed.provider)
        kept.append(embed)
    return kept


def _pause(
    sessions: sessionmaker[Session],
    deps: CaptureDeps,
    provider: str,
    reason: str,
    uncount_since: datetime | None = None,
) -> None:
    """Pause the provider (one alert, the first time) and stop this run's checks from counting."""
    now = deps.clock.now()
    with sessions() as session, session.begin():
        alert = queries.pause_provider(session, provider, reason, now)
        if uncount_since is not None:
            queries.uncount_checks(session, provider, uncount_since)
    if alert is not None:
        log.warning("provider %s paused: no verdicts until it recovers (%s)", provider, reason)


def _resume(sessions: sessionmaker[Session], deps: CaptureDeps, provider: str) -> bool:
    with sessions() as session, session.begin():
        resumed = queries.resume_provider(session, provider, deps.clock.now())
    if resumed:
        log.warning("provider %s recovered: verdicts resume", provider)
    return resumed


def _states(sessions: sessionmaker[Session], embed_ids: list[int]) -> dict[int, str]:
    with sessions() as session:
        return {e.id: e.state for e in session.query(Embed).filter(Embed.id.in_(embed_ids))}
