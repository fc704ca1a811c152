"""The demo's days: the real pipeline verbs, called as the daemon calls them, on a clock the demo moves.

Day 0 scans the sources and captures every post. Then the clock moves an hour at a time: each hour the
due embeds are checked (the check stage decides when each is due, on its cadence), and when a check
turns an embed broken, or back, the rewrite stage runs, as each source's mode says. On the day the
scenario names, some posts start answering their recorded 404 (deleted) or 403 (made private); the
replay server reads the same clock. Nothing here knows it is a demo but the clock it is given.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from archiver import views
from archiver.app import App
from archiver.clock import FixedClock
from archiver.demo.scenario import Scenario
from archiver.pipeline import rewrite as rewrite_stage
from archiver.pipeline.capture import CaptureItem, capture_due
from archiver.pipeline.check import check_due
from archiver.pipeline.scan import ArticleReport, ArticleStatus, resolve_targets, scan_targets
from archiver.providers import enabled_providers
from archiver.records import EmbedState, JournalState, Outcome
from archiver.storage import queries
from archiver.storage.models import Embed

HOUR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Event:
    """Something the demo did or saw, at a simulated instant (`day` counts from the start, 0 first)."""

    at: datetime
    day: int
    kind: str  # scan, capture, change, check, rewrite
    text: str


@dataclass(frozen=True, slots=True)
class RewriteLine:
    """A rewrite in the journal at the end: its id, state, article (its file), and post."""

    id: int
    state: str
    article: str
    source: str
    provider: str
    post_id: str


@dataclass
class DemoResult:
    start: datetime
    end: datetime
    status: dict[str, Any] = field(default_factory=dict)
    rewrites: list[RewriteLine] = field(default_factory=list)
    residue: list[dict[str, Any]] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    # Climbs that failed transiently (the replay server holds no recording for a request).
    transient: int = 0

    def applied(self) -> list[RewriteLine]:
        return [r for r in self.rewrites if r.state == JournalState.APPLIED]

    def planned(self) -> list[RewriteLine]:
        return [r for r in self.rewrites if r.state == JournalState.PLANNED]


def simulate(
    app: App,
    clock: FixedClock,
    scenario: Scenario,
    *,
    on_event: Callable[[Event], None] | None = None,
    on_hour: Callable[[int, int], None] | None = None,
) -> DemoResult:
    """Run the scenario's days through the pipeline; `clock` is `app.clock`, standing at the start.

    `on_event` hears each event as it happens; `on_hour(done, total)` each simulated hour."""
    start = clock.now()
    result = DemoResult(start, start)

    def tell(kind: str, text: str) -> None:
        now = clock.now()
        event = Event(now, (now - start) // timedelta(days=1), kind, text)
        result.events.append(event)
        if on_event is not None:
            on_event(event)

    seen: set[int] = set()
    _scan(app, scenario, tell)
    capture = capture_due(app.sessions, app.capture_deps(), on_item=lambda item: _captured(item, tell))
    result.transient += capture.transient
    changes = sorted(
        (
            (start + timedelta(days=p.changes_on_day), p)
            for p in scenario.posts
            if p.changes_on_day is not None
        ),
        key=lambda change: change[0],
    )
    hours = scenario.days * 24
    for hour in range(1, hours + 1):
        clock.advance(HOUR)
        while changes and changes[0][0] <= clock.now():
            _, post = changes.pop(0)
            status = post.then.status if post.then is not None else "?"
            tell("change", f"{post.provider} {post.post_id} {post.change}: it answers {status} from now on")
        report = check_due(app.sessions, app.capture_deps())
        result.transient += report.transient
        turned = _state_changes(app, report.state_changes, tell)
        if turned:
            _rewrite(app, tell, seen)
        if on_hour is not None:
            on_hour(hour, hours)
    result.end = clock.now()
    _collect(app, result)
    return result


def _scan(app: App, scenario: Scenario, tell: Callable[[str, str], None]) -> None:
    names = [source.name for source in scenario.sources]
    targets = resolve_targets(names, app.settings.sources, app.settings.scan, app.env)

    def scanned(report: ArticleReport) -> None:
        if report.status is ArticleStatus.ERROR:
            tell("scan", f"{report.article}: {report.error}")
            return
        embeds = sum(1 for ref in report.embeds if ref.post_id is not None)
        # Residue lines (and, where the scan reports them, lost embeds) name no post.
        others = Counter(ref.markup.value for ref in report.embeds if ref.post_id is None)
        extra = "".join(f", {n} {kind}" for kind, n in sorted(others.items()))
        tell("scan", f"scanned {report.article}: {embeds} embed(s){extra}")

    scan_targets(
        targets,
        app.settings.scan,
        enabled_providers(app.settings),
        sessions=app.sessions,
        clock=app.clock,
        on_article=scanned,
    )


def _captured(item: CaptureItem, tell: Callable[[str, str], None]) -> None:
    if item.outcome is Outcome.OK:
        tell("capture", f"captured {item.provider} {item.post_id} (snapshot v{item.new_version or 1})")
    else:
        tell("capture", f"{item.provider} {item.post_id}: {item.outcome.value} ({item.reason})")


def _state_changes(
    app: App, changes: tuple[tuple[int, str, str], ...], tell: Callable[[str, str], None]
) -> bool:
    """Tell each state change; True when one turned an embed broken or back from broken."""
    if not changes:
        return False
    with app.sessions() as session:
        embeds = {e.id: e for e in session.query(Embed).filter(Embed.id.in_([c[0] for c in changes]))}
        for embed_id, before, after in changes:
            embed = embeds.get(embed_id)
            name = f"{embed.provider} {embed.post_id}" if embed is not None else f"embed {embed_id}"
            why = f" ({embed.last_reason})" if embed is not None and embed.last_reason else ""
            tell("check", f"{name}: {before} -> {after}{why}")
    broken = EmbedState.BROKEN.value
    return any(broken in (before, after) for _, before, after in changes)


def _rewrite(app: App, tell: Callable[[str, str], None], seen: set[int]) -> None:
    """A rewrite run; tells the articles that got journal rows it has not told yet (`seen`)."""
    deps = rewrite_stage.RewriteDeps.from_settings(app.settings, app.clock, env=app.env)

    def done(outcome: rewrite_stage.ArticleOutcome) -> None:
        if outcome.rewrite_ids and set(outcome.rewrite_ids) <= seen:
            return
        seen.update(outcome.rewrite_ids)
        cards = len(outcome.plan.changes)
        what = {
            "planned": f"{cards} card(s) planned, waiting for an editor's approval",
            "applied": f"{cards} card(s) written",
        }.get(outcome.status, outcome.status)
        tell("rewrite", f"{outcome.plan.key} ({outcome.plan.mode}): {what}")

    report = rewrite_stage.run(app.sessions, deps, on_article=done)
    for restored in report.restored:
        tell("rewrite", f"{restored.key}: restored, its embed came back")


def _collect(app: App, result: DemoResult) -> None:
    states = (JournalState.PLANNED, JournalState.APPLIED, JournalState.REFUSED)
    with app.sessions() as session:
        result.status = views.status(session)
        result.residue = views.residue(session)
        for row, article, source in queries.rewrites_with_articles(session, [s.value for s in states]):
            result.rewrites.append(
                RewriteLine(row.id, row.state, article.key, source, row.provider, row.post_id or "")
            )
