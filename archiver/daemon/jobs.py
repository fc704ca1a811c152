"""The daemon's jobs: one `Daemon` per process schedules them, claims the singleton ones over all
daemons (job leases in the database), runs their bodies and keeps what each run left for the reports.

Each job body calls pipeline verbs and logs what they report; the work itself is claimed from the
database by the pipeline (embed leases), so any number of daemons share it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, JobSubmissionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler

from archiver.app import App
from archiver.config import parse_duration
from archiver.daemon.observe import DaemonMetrics, DaemonView, JobView, QuietBusyTicks, health_report
from archiver.daemon.schedule import Schedule
from archiver.pipeline.capture import LEASE_LOST, CaptureItem, capture_due
from archiver.pipeline.check import check_due
from archiver.pipeline.gc import collect_media
from archiver.pipeline.mirror import MirrorItem, mirror_due, spn_keys
from archiver.pipeline.recover import PAIRED, PENDING, RecoverDeps, SpotReport
from archiver.pipeline.recover import recover as recover_spots
from archiver.pipeline.rewrite import ArticleOutcome, RewriteDeps
from archiver.pipeline.rewrite import run as run_rewrites
from archiver.pipeline.scan import ArticleStatus, SourceAccess, Target, resolve_targets, scan_targets
from archiver.providers import enabled_providers
from archiver.providers.common.base import Provider
from archiver.records import EmbedState
from archiver.storage import queries
from archiver.storage.queries import viewer as viewer_queries

log = logging.getLogger("archiver.daemon")

JOBS = ("scan", "capture", "check", "rewrite", "gc", "recover", "mirror")
# Jobs one daemon at a time runs, once per period over all daemons (the others claim due work).
SINGLETON_JOBS = frozenset({"scan", "rewrite", "gc", "recover", "mirror"})

Due = TypeVar("Due")  # the report of a run over due embeds (capture's or check's)


@dataclass
class JobState:
    name: str
    schedule: Schedule
    running_since: float | None = None
    last_started: datetime | None = None
    last_finished: datetime | None = None
    last_result: str | None = None
    last_summary: dict[str, Any] = field(default_factory=dict)
    results: Counter[str] = field(default_factory=Counter)


class Daemon:
    """What the jobs, the HTTP endpoint and the stop share in one daemon process."""

    def __init__(self, app: App, owner: str, stop: threading.Event | None = None) -> None:
        self.app = app
        self.owner = owner
        self.stop = stop if stop is not None else threading.Event()
        settings = app.settings.daemon
        self.lease = parse_duration(settings.lease)
        self.gc_grace = parse_duration(settings.gc_grace)
        self.jobs = {name: JobState(name, Schedule.parse(getattr(settings, name))) for name in JOBS}
        self.outcomes: dict[str, Counter[str]] = {"capture": Counter(), "check": Counter()}
        self.started_at = time.time()
        self.scheduler: BlockingScheduler | None = None
        self._lock = threading.Lock()
        self._job_renewed: dict[str, float] = {}
        # Singleton jobs woken by this daemon: they run though their period is not over.
        self._woken: set[str] = set()
        # Set once this daemon's first capture run is over (checks start after it: new embeds first).
        self.capture_settled = threading.Event()
        self.observed = DaemonMetrics(app, self.view)

    # --- scheduling

    def build(self) -> BlockingScheduler:
        scheduler = BlockingScheduler(
            timezone=UTC,
            executors={"default": ThreadPoolExecutor(max_workers=len(self.jobs))},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        )
        with self.app.sessions() as session:
            last_runs = queries.job_runs(session)
        app_now, real_now = self.app.clock.now(), datetime.now(UTC)
        bodies: dict[str, Callable[[], dict[str, Any]]] = {
            "scan": self._scan,
            "capture": self._capture,
            "check": self._check,
            "rewrite": self._rewrite,
            "gc": self._gc,
            "recover": self._recover,
            "mirror": self._mirror,
        }
        for order, (name, state) in enumerate(self.jobs.items()):
            last = last_runs.get(name)
            # A job whose run was missed while no daemon ran (or that never ran) runs once, now, in the
            # order of JOBS (capture before check); the others wait for their next instant.
            wait = 0.0 if last is None else (state.schedule.next_after(last) - app_now).total_seconds()
            first = real_now + timedelta(seconds=max(wait, 0.0), microseconds=order)
            scheduler.add_job(
                self._job,
                trigger=state.schedule.trigger(),
                args=(name, bodies[name]),
                id=name,
                name=name,
                next_run_time=first,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=None,
            )
            if name == "capture" and wait > 0:
                self.capture_settled.set()  # no capture run at the start: checks need not wait for one
        mirror = self.app.settings.mirror
        keys = spn_keys(mirror, self.app.env) if mirror.enabled else None
        if isinstance(keys, str):  # said once, at the start; the job then asks nothing
            log.error("the mirror cannot ask Save Page Now: %s", keys, extra={"job": "mirror"})
        scheduler.add_listener(self._busy_tick, EVENT_JOB_MAX_INSTANCES)
        logging.getLogger("apscheduler.scheduler").addFilter(QuietBusyTicks())
        self.scheduler = scheduler
        return scheduler

    def wake(self, name: str) -> None:
        """Run job `name` now (if it is running, its run already picks up what is new)."""
        if self.scheduler is not None and not self.stop.is_set():
            with self._lock:
                self._woken.add(name)
            try:
                self.scheduler.modify_job(name, next_run_time=datetime.now(UTC))
            except Exception:  # stopping, or no such job: nothing to wake
                log.debug("could not wake job %s", name, exc_info=True)

    def running_jobs(self) -> list[str]:
        """The jobs running here now."""
        with self._lock:
            return [s.name for s in self.jobs.values() if s.running_since is not None]

    def _busy_tick(self, event: JobSubmissionEvent) -> None:
        with self._lock:
            self.jobs[event.job_id].results["busy"] += 1
        log.debug("tick skipped: the previous run is still going", extra={"job": event.job_id})

    def _job(self, name: str, body: Callable[[], dict[str, Any]]) -> None:
        try:
            self._run_job(name, body)
        finally:
            if name == "capture":
                self.capture_settled.set()  # however it ended: checks wait no longer

    def _run_job(self, name: str, body: Callable[[], dict[str, Any]]) -> None:
        state = self.jobs[name]
        if self.stop.is_set():
            return
        now = self.app.clock.now()
        singleton = name in SINGLETON_JOBS
        with self._lock:
            woken = name in self._woken
            self._woken.discard(name)
        try:
            if singleton and not self._claim_job(name, state.schedule, now, woken):
                with self._lock:
                    state.results["skipped"] += 1
                log.info("job skipped: another daemon ran it or is running it", extra={"job": name})
                return
            with self.app.sessions() as session, session.begin():
                queries.mark_job_run(session, name, now)
        except Exception as exc:
            self._finish(state, "error", {}, exc)
            if singleton:
                self._release_job(name)
            return
        with self._lock:
            state.running_since = time.monotonic()
            state.last_started = now
        log.info("job started", extra={"job": name})
        try:
            summary = body()
        except Exception as exc:
            self._finish(state, "error", {}, exc)
        else:
            self._finish(state, "stopped" if self.stop.is_set() else "ok", summary, None)
        finally:
            if singleton:
                self._release_job(name)

    def _finish(self, state: JobState, result: str, summary: dict[str, Any], exc: Exception | None) -> None:
        with self._lock:
            seconds = time.monotonic() - state.running_since if state.running_since is not None else 0.0
            state.running_since = None
            state.last_finished = self.app.clock.now()
            state.last_result = result if exc is None else f"error: {type(exc).__name__}: {exc}"[:500]
            state.last_summary = summary
            state.results[result] += 1
        extra = {"job": state.name, "result": result, "seconds": round(seconds, 3), **summary}
        if exc is None:
            log.info("job finished", extra=extra)
        else:
            log.error("job failed", extra=extra, exc_info=exc)

    # --- job leases (singleton jobs)

    def _claim_job(self, name: str, schedule: Schedule, now: datetime, woken: bool = False) -> bool:
        with self.app.sessions() as session, session.begin():
            last = queries.job_runs(session).get(name)
            if not woken and not schedule.due(last, now):
                return False
            held = queries.claim_job(session, name, self.owner, now, self.lease)
        self._job_renewed[name] = time.monotonic()
        return held

    def _keep_job(self, name: str) -> None:
        """Renew a singleton job's lease while it runs (every third of a lease)."""
        if time.monotonic() - self._job_renewed.get(name, 0.0) < self.lease.total_seconds() / 3:
            return
        with self.app.sessions() as session, session.begin():
            queries.claim_job(session, name, self.owner, self.app.clock.now(), self.lease)
        self._job_renewed[name] = time.monotonic()

    def _release_job(self, name: str) -> None:
        try:
            with self.app.sessions() as session, session.begin():
                queries.release_job(session, name, self.owner)
        except Exception:
            log.warning("could not release job %s (its lease will expire)", name, exc_info=True)

    # --- the jobs

    def _claim_due(self, verb: Callable[..., Due], kind: str) -> Due:
        """`capture_due` or `check_due` over the embeds this daemon claims, with an HTTP client of this
        run's own, closed after it: every pool thread of a run opens a session, and a long-lived client
        would keep them all."""
        deps = self.app.capture_deps(self.app.new_http_client())
        try:
            return verb(
                self.app.sessions,
                deps,
                owner=self.owner,
                lease=self.lease,
                batch=self.app.settings.daemon.batch,
                stop=self.stop,
                on_item=self._item_logger(kind),
            )
        finally:
            deps.http.close()

    def _scan(self) -> dict[str, Any]:
        settings = self.app.settings
        if not settings.sources:
            return {"articles": 0, "note": "no [[sources]] configured"}
        providers = enabled_providers(settings)
        counts: Counter[str] = Counter()
        new_embeds = 0
        names = [s.name for s in settings.sources]
        # A wordpress source is listed and read through this run's own client (on the shared budgets).
        with self.app.new_http_client() as http:
            access = SourceAccess(http, self.app.clock, self.app.sessions)
            for target in resolve_targets(names, settings.sources, settings.scan, self.app.env, access):
                new_embeds += self._scan_target(target, providers, counts)
        if new_embeds:
            self.wake("capture")  # posts vanish fastest in their first hours: capture them now
        return {"articles": sum(counts.values()), **dict(counts), "new_embeds": new_embeds}

    def _scan_target(self, target: Target, providers: tuple[Provider, ...], counts: Counter[str]) -> int:
        """Scan a target's articles one at a time (renewing the job's lease) until stopped; counts the
        statuses into `counts` and returns how many new embeds were found."""
        settings = self.app.settings
        new_embeds = 0
        for item in target.items:
            if self.stop.is_set():
                break  # a wordpress listing not read to its end leaves its scan cursor where it was
            one = Target(target.source, target.kind, (item,))
            for report in scan_targets(
                [one], settings.scan, providers, sessions=self.app.sessions, clock=self.app.clock
            ):
                counts[report.status.value] += 1
                new_embeds += report.new_embeds
                quiet = report.status is ArticleStatus.UNCHANGED
                log.log(
                    logging.DEBUG if quiet else logging.INFO,
                    "article scanned" if report.error is None else "article skipped",
                    extra={
                        "job": "scan",
                        "source": target.source,
                        "article": report.article,
                        "status": report.status.value,
                        "embeds": len(report.embeds),
                        "new_embeds": report.new_embeds,
                        **({"reason": report.error} if report.error else {}),
                    },
                )
            self._keep_job("scan")
        return new_embeds

    def _capture(self) -> dict[str, Any]:
        report = self._claim_due(capture_due, "capture")
        return {
            "attempted": report.attempted,
            "new_snapshots": report.new_snapshots,
            "deferred": report.deferred,
        }

    def _check(self) -> dict[str, Any]:
        # New embeds first (posts vanish fastest in their first hours): this daemon's first capture run,
        # and any capture run going on, finish before checks start spending the providers' budgets.
        while not self.stop.is_set() and (
            not self.capture_settled.is_set() or self.jobs["capture"].running_since is not None
        ):
            self.stop.wait(0.1)
        report = self._claim_due(check_due, "check")
        for embed_id, before, after in report.state_changes:
            level = logging.WARNING if after == EmbedState.BROKEN else logging.INFO
            log.log(
                level,
                "embed state changed",
                extra={"job": "check", "embed": embed_id, "from": before, "to": after},
            )
        if any(EmbedState.BROKEN in (after, before) for _, before, after in report.state_changes):
            self.wake("rewrite")  # a post broke, or came back: its articles need not wait for the tick
        paused = sorted(h.provider for h in report.health if h.paused)
        return {
            "attempted": report.attempted,
            "state_changes": len(report.state_changes),
            "paused": ",".join(paused),
        }

    def _rewrite(self) -> dict[str, Any]:
        settings = self.app.settings
        if not settings.sources:
            return {"articles": 0, "note": "no [[sources]] configured"}
        # A wordpress source is read and written through this run's own client, closed after it.
        with self.app.new_http_client() as http:
            deps = RewriteDeps.from_settings(settings, self.app.clock, env=self.app.env, http=http)
            return self._rewrite_with(deps)

    def _rewrite_with(self, deps: RewriteDeps) -> dict[str, Any]:
        statuses: Counter[str] = Counter()

        def on_article(outcome: ArticleOutcome) -> None:
            statuses[outcome.status] += 1
            self._keep_job("rewrite")
            if outcome.status == "unchanged":
                return
            failed = outcome.status in ("error", "conflict")
            log.log(
                logging.WARNING if failed else logging.INFO,
                "article rewrite " + outcome.status,
                extra={
                    "job": "rewrite",
                    "source": outcome.plan.source,
                    "article": outcome.plan.key,
                    "status": outcome.status,
                    "rewrites": list(outcome.rewrite_ids),
                    **({"reason": outcome.error} if outcome.error else {}),
                },
            )

        report = run_rewrites(self.app.sessions, deps, on_article=on_article, stop=self.stop)
        recovered = report.recovered
        if recovered is not None and (recovered.finished or recovered.rolled_back or recovered.refused):
            log.warning("rewrites left by a crash settled", extra={"job": "rewrite", **recovered.to_json()})
        for restored in report.restored:
            log.log(
                logging.WARNING if restored.error else logging.INFO,
                "article restored: its embed came back" if not restored.error else "article restore failed",
                extra={
                    "job": "rewrite",
                    "article": restored.key,
                    "rewrites": list(restored.rewrite_ids),
                    **({"reason": restored.error} if restored.error else {}),
                },
            )
        return {
            "articles": sum(statuses.values()),
            **dict(statuses),
            "restored": sum(1 for r in report.restored if not r.error),
            **({"residue": report.residue} if report.residue is not None else {}),
        }

    def _gc(self) -> dict[str, Any]:
        report = collect_media(self.app.sessions, self.app.blobs, self.app.clock, self.gc_grace, self.stop)
        with self.app.sessions() as session, session.begin():
            # The dashboard folds them when it reads them; this keeps them few while nobody looks.
            viewer_queries.fold_tallies(session)
        return {"media_records": report.media_records, "blobs": report.blobs, "temp_files": report.temp_files}

    def _recover(self) -> dict[str, Any]:
        """Spots looked up in the web archives, each archive within its own rate budget (shared by every
        daemon and command through the database): what a budget or an archive's 429 leaves is `pending`
        and the next run goes on. Newly found posts are captured at once (their live ladder decides
        whether the spot gets a card)."""
        states: Counter[str] = Counter()

        def on_article(spots: list[SpotReport]) -> None:
            self._keep_job("recover")
            for spot in (spot for spot in spots if spot.looked):
                states[spot.state] += 1
                if spot.state in (PAIRED, PENDING):
                    log.log(
                        logging.INFO if spot.state == PAIRED else logging.DEBUG,
                        "spot " + spot.state,
                        extra={
                            "job": "recover",
                            "article": spot.article,
                            "spot": f"{spot.markup} {spot.anchor}",
                            **({"post": spot.post} if spot.post else {}),
                            **({"reason": spot.reason} if spot.reason else {}),
                        },
                    )

        with self.app.new_http_client() as http:
            deps = RecoverDeps(self.app.sessions, http, self.app.settings, self.app.clock, self.app.blobs)
            recover_spots(deps, stop=self.stop, on_article=on_article)
        if states[PAIRED]:
            self.wake("capture")
        return {"spots": sum(states.values()), **dict(states)}

    def _mirror(self) -> dict[str, Any]:
        """The posts queued by their first capture asked of Save Page Now, and its jobs polled, within the
        mirror's rate budget; what it (or the budget) leaves waiting is done by later runs."""
        settings = self.app.settings.mirror
        if not settings.enabled:
            return {"note": "[mirror] enabled = false"}
        keys = spn_keys(settings, self.app.env)
        if isinstance(keys, str):
            return {"note": "no Save Page Now keys in the environment (logged at the start)"}

        def on_item(item: MirrorItem) -> None:
            self._keep_job("mirror")
            extra = {"job": "mirror", "embed": item.embed_id, "state": item.state, "action": item.action}
            if item.memento_url:
                extra["memento"] = item.memento_url
            if item.reason:
                extra["reason"] = item.reason
            log.log(logging.WARNING if item.state == "failed" else logging.INFO, "post mirrored", extra=extra)

        with self.app.new_http_client() as http:
            report = mirror_due(
                self.app.sessions, http, settings, self.app.clock, keys, stop=self.stop, on_item=on_item
            )
        summary: dict[str, Any] = {"requests": len(report.items), **report.counts}
        if report.waiting is not None:
            summary["waiting"] = report.waiting
        return summary

    def _item_logger(self, kind: str) -> Callable[[CaptureItem], None]:
        counter = self.outcomes[kind]

        def on_item(item: CaptureItem) -> None:
            if item.reason == LEASE_LOST:
                label = "lease_lost"
            else:
                label = "deferred" if item.deferred else item.outcome.value
            with self._lock:
                counter[label] += 1
            if item.seconds is not None:
                self.observed.observe(kind, item.provider, item.seconds)
            extra: dict[str, Any] = {
                "job": kind,
                "embed": item.embed_id,
                "provider": item.provider,
                "post": item.post_id,
                "outcome": label,
                "reason": item.reason,
            }
            if item.new_version is not None:
                extra["snapshot_version"] = item.new_version
            log.info("embed captured" if kind == "capture" else "embed checked", extra=extra)

        return on_item

    # --- what /healthz and /metrics say

    def view(self) -> DaemonView:
        """This daemon's own state now, copied under its lock."""
        scheduled = {job.id: job.next_run_time for job in self.scheduler.get_jobs()} if self.scheduler else {}
        with self._lock:
            jobs = tuple(
                JobView(
                    name=name,
                    schedule=state.schedule.text,
                    last_started=state.last_started,
                    last_result=state.last_result,
                    running=state.running_since is not None,
                    results=dict(state.results),
                    next_run_at=upcoming if isinstance(upcoming := scheduled.get(name), datetime) else None,
                )
                for name, state in self.jobs.items()
            )
            captures, checks = dict(self.outcomes["capture"]), dict(self.outcomes["check"])
        return DaemonView(self.owner, self.started_at, self.stop.is_set(), jobs, captures, checks)

    def health(self) -> dict[str, Any]:
        return health_report(self.app, self.view())

    def metrics(self) -> str:
        return self.observed.text()
