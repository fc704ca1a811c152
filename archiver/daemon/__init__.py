"""`archive daemon`: APScheduler 3 ticking the jobs; the work itself is claimed from the database.

    scan      read the configured sources, store what they embed; wakes `capture` when it finds new posts
    capture   capture new embeds (claimed with leases, `pipeline/leases.py`)
    check     check the embeds that are due (claimed with leases), provider health first; wakes `rewrite`
              when an embed turns broken or comes back
    rewrite   rewrite articles per their source's mode (monitor, approve, apply), write what editors
              approved, undo rewrites of embeds that came back (`pipeline/rewrite.py`)
    gc        delete media no snapshot uses, after `[daemon] gc_grace`

Jobs are defined here, in memory (never a persistent job store of pickles), with `coalesce=True`,
`max_instances=1` and `misfire_grace_time=None`: a late run is never dropped, and many missed runs are one.
When each job last started is kept in the database (`job_runs`), over all daemons: a daemon that starts
runs at once, once, every job whose run it missed, and a job only one daemon at a time should run (scan,
rewrite, gc) is held with a lease there and skipped by the others when it ran recently enough.

Due work lives in the database with leases, so any number of daemons on PostgreSQL share it (FOR UPDATE
SKIP LOCKED); a daemon that dies leaves leases that expire and are claimed again. On SQLite run one
daemon (its writers take turns; the leases still make restarts safe).

SIGTERM or SIGINT stops the daemon within 10 seconds: no new work is claimed, climbs in flight get a few
seconds to finish, and every lease still held is released. Logs are JSON lines on stderr with context
fields (job, article, embed, provider); `/healthz` and `/metrics` (Prometheus text) answer on
`[daemon] http_host:http_port`.

Entry points: `run_daemon(app)` (what `archive daemon` calls), and `python -m archiver.daemon
[--config PATH]`.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urlsplit

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_SCHEDULER_STARTED, JobSubmissionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from archiver.app import App
from archiver.clock import clock_from_env
from archiver.config import find_config, load_settings, parse_duration, parse_schedule
from archiver.errors import ArchiverError, ConfigError
from archiver.http import HttpClient
from archiver.pipeline.capture import CaptureDeps, CaptureItem, capture_due
from archiver.pipeline.capture.leases import LEASE_LOST, new_owner
from archiver.pipeline.check import check_due
from archiver.pipeline.gc import collect_media
from archiver.pipeline.rewrite import ArticleOutcome, RewriteDeps
from archiver.pipeline.rewrite import run as run_rewrites
from archiver.pipeline.scan.articles import (
    ArticleStatus,
    SourceAccess,
    Target,
    resolve_targets,
    scan_targets,
)
from archiver.providers import PROVIDERS, names
from archiver.storage import queries
from archiver.storage.throttle import DbHostBackoffs

log = logging.getLogger("archiver.daemon")

JOBS = ("scan", "capture", "check", "rewrite", "gc")
# Jobs one daemon at a time runs, once per period over all daemons (the others claim due work).
SINGLETON_JOBS = frozenset({"scan", "rewrite", "gc"})
# From the stop signal: running jobs get this long to finish (climbs in flight get STOP_GRACE of it),
# then leases are released and the daemon returns; all within the promised 10 seconds.
JOB_STOP_WAIT = 7.0
STOP_LIMIT = 9.5
JSON_CONTENT = "application/json"
METRICS_CONTENT = "text/plain; version=0.0.4; charset=utf-8"


# --- schedules ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Schedule:
    """A `[daemon]` schedule: "every 15m" (an interval) or "cron */15 * * * *" (UTC)."""

    text: str
    interval: timedelta | None
    cron: str | None

    @classmethod
    def parse(cls, text: str) -> Schedule:
        parsed = parse_schedule(text)
        if isinstance(parsed, timedelta):
            return cls(text, parsed, None)
        return cls(text, None, parsed)

    def trigger(self) -> BaseTrigger:
        if self.interval is not None:
            return IntervalTrigger(seconds=self.interval.total_seconds(), timezone=UTC)
        assert self.cron is not None
        return CronTrigger.from_crontab(self.cron, timezone=UTC)

    def next_after(self, instant: datetime) -> datetime:
        """The first run this schedule wants after `instant`."""
        if self.interval is not None:
            return instant + self.interval
        assert self.cron is not None
        fire: datetime | None = CronTrigger.from_crontab(self.cron, timezone=UTC).get_next_fire_time(
            None, instant + timedelta(microseconds=1)
        )
        return fire.astimezone(UTC) if fire is not None else instant + timedelta(days=366)

    def due(self, last: datetime | None, now: datetime) -> bool:
        """Whether a run is due at `now` when the last one (by any daemon) started at `last`. Ticks come a
        few milliseconds after the instant they were due, so a tenth of an interval is tolerated."""
        if last is None:
            return True
        slack = self.interval / 10 if self.interval is not None else timedelta(seconds=1)
        return self.next_after(last) - slack <= now


# --- logging --------------------------------------------------------------------------------------

_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and every `extra=` field (job, article,
    embed, provider, ...)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_FIELDS and not key.startswith("_") and key not in line:
                line[key] = value if isinstance(value, str | int | float | bool | None) else str(value)
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class _Context(logging.Filter):
    """Adds the daemon's name to every line."""

    def __init__(self, owner: str) -> None:
        super().__init__()
        self.owner = owner

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "daemon"):
            record.daemon = self.owner
        return True


class _QuietBusyTicks(logging.Filter):
    """APScheduler warns on every tick that finds the previous run still going; for us that is normal
    (a run goes on until nothing is due), so the daemon counts those ticks instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


def configure_logging(owner: str, level: int | str = logging.INFO) -> None:
    """JSON lines on stderr for every logger (the daemon's own process only)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(_Context(owner))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


# --- the daemon -----------------------------------------------------------------------------------


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
        scheduler.add_listener(self._busy_tick, EVENT_JOB_MAX_INSTANCES)
        logging.getLogger("apscheduler.scheduler").addFilter(_QuietBusyTicks())
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

    def _deps(self) -> CaptureDeps:
        """Capture dependencies with an HTTP client of this run's own, closed after it: every pool
        thread of a run opens a session, and a long-lived client would keep them all."""
        app = self.app
        http = HttpClient(
            app.settings.http, app.clock, app.budgets, backoffs=DbHostBackoffs(app.sessions, app.clock)
        )
        return CaptureDeps(app.settings, http, app.budgets, app.blobs, app.clock, app.env)

    def _scan(self) -> dict[str, Any]:
        settings = self.app.settings
        if not settings.sources:
            return {"articles": 0, "note": "no [[sources]] configured"}
        providers = tuple(p for p in PROVIDERS if settings.provider(p.name).enabled)
        counts: Counter[str] = Counter()
        new_embeds = 0
        names = [s.name for s in settings.sources]
        access = SourceAccess(settings, self.app.clock, self.app.sessions)
        for target in resolve_targets(names, settings.sources, settings.scan, self.app.env, access):
            for item in target.items:
                if self.stop.is_set():
                    break
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
        if new_embeds:
            self.wake("capture")  # posts vanish fastest in their first hours: capture them now
        return {"articles": sum(counts.values()), **dict(counts), "new_embeds": new_embeds}

    def _capture(self) -> dict[str, Any]:
        deps = self._deps()
        try:
            report = capture_due(
                self.app.sessions,
                deps,
                owner=self.owner,
                lease=self.lease,
                batch=self.app.settings.daemon.batch,
                stop=self.stop,
                on_item=self._item_logger("capture"),
            )
        finally:
            deps.http.close()
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
        deps = self._deps()
        try:
            report = check_due(
                self.app.sessions,
                deps,
                owner=self.owner,
                lease=self.lease,
                batch=self.app.settings.daemon.batch,
                stop=self.stop,
                on_item=self._item_logger("check"),
            )
        finally:
            deps.http.close()
        for embed_id, before, after in report.state_changes:
            level = logging.WARNING if after == "broken" else logging.INFO
            log.log(
                level,
                "embed state changed",
                extra={"job": "check", "embed": embed_id, "from": before, "to": after},
            )
        if any(after == "broken" or before == "broken" for _, before, after in report.state_changes):
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
        deps = RewriteDeps.from_settings(settings, self.app.clock, env=self.app.env)
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
        }

    def _gc(self) -> dict[str, Any]:
        report = collect_media(self.app.sessions, self.app.blobs, self.app.clock, self.gc_grace, self.stop)
        return {"media_records": report.media_records, "blobs": report.blobs, "temp_files": report.temp_files}

    def _item_logger(self, kind: str) -> Callable[[CaptureItem], None]:
        counter = self.outcomes[kind]

        def on_item(item: CaptureItem) -> None:
            if item.reason == LEASE_LOST:
                label = "lease_lost"
            else:
                label = "deferred" if item.deferred else item.outcome.value
            with self._lock:
                counter[label] += 1
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

    def health(self) -> dict[str, Any]:
        with self.app.sessions() as session:
            runs = queries.job_runs(session)
            paused = queries.paused_providers(session)
            held = queries.leases_held(session, self.app.clock.now(), self.owner)
        jobs: dict[str, Any] = {}
        scheduled = {job.id: job.next_run_time for job in self.scheduler.get_jobs()} if self.scheduler else {}
        with self._lock:
            for name, state in self.jobs.items():
                last = runs.get(name)
                upcoming = scheduled.get(name)
                jobs[name] = {
                    "schedule": state.schedule.text,
                    "last_run_at": _iso(last),
                    "last_run_here_at": _iso(state.last_started),
                    "last_result": state.last_result,
                    "running": state.running_since is not None,
                    "next_run_at": _iso(upcoming) if isinstance(upcoming, datetime) else None,
                }
        return {
            "status": "stopping" if self.stop.is_set() else "ok",
            "daemon": self.owner,
            "up_seconds": round(time.time() - self.started_at, 1),
            "now": _iso(self.app.clock.now()),
            "jobs": jobs,
            "paused_providers": [
                {"provider": h.provider, "reason": h.reason, "since": _iso(h.since)} for h in paused
            ],
            "leases_held": held,
        }

    def metrics(self) -> str:
        now = self.app.clock.now()
        with self.app.sessions() as session:
            states = queries.embed_state_counts(session)
            due = queries.due_counts(session, now)
            leased = queries.leases_held(session, now)
            held = queries.leases_held(session, now, self.owner)
            providers = queries.all_provider_health(session)
            runs = queries.job_runs(session)
            rewrites = queries.rewrite_state_counts(session)
        budgets = self.app.budgets.usage()
        out = _Metrics()
        out.add("archiver_up", "gauge", "1 while the daemon runs.", [({}, 1)])
        out.add(
            "archiver_embeds",
            "gauge",
            "Embeds by state.",
            [({"state": s}, n) for s, n in sorted(states.items())],
        )
        out.add(
            "archiver_due",
            "gauge",
            "Embeds due now (the due queues), held or not.",
            [({"queue": q}, n) for q, n in sorted(due.items())],
        )
        out.add(
            "archiver_rewrites",
            "gauge",
            "Rewrites by state (planned ones wait for an editor's approval).",
            [({"state": s}, n) for s, n in sorted(rewrites.items())],
        )
        out.add("archiver_leases", "gauge", "Embeds held under a lease by any daemon.", [({}, leased)])
        out.add("archiver_leases_held", "gauge", "Embeds held under a lease by this daemon.", [({}, held)])
        with self._lock:
            captures = sorted(self.outcomes["capture"].items())
            checks = sorted(self.outcomes["check"].items())
            job_rows = [
                (name, dict(state.results), state.running_since is not None)
                for name, state in self.jobs.items()
            ]
        out.add(
            "archiver_captures_total",
            "counter",
            "Captures by this daemon, by outcome.",
            [({"outcome": o}, n) for o, n in captures],
        )
        out.add(
            "archiver_checks_total",
            "counter",
            "Checks by this daemon, by outcome.",
            [({"outcome": o}, n) for o, n in checks],
        )
        out.add(
            "archiver_budget_used",
            "gauge",
            "Requests counted in the current window of a provider's per-host budget (all daemons).",
            [(_budget_labels(key), used) for key, (used, _) in budgets.items()],
        )
        out.add(
            "archiver_budget_limit",
            "gauge",
            "Requests a provider's per-host budget allows per window.",
            [(_budget_labels(key), limit) for key, (_, limit) in budgets.items()],
        )
        out.add(
            "archiver_provider_paused",
            "gauge",
            "1 when verdicts for the provider are paused (canaries failing, credentials refused).",
            [({"provider": h.provider}, int(h.paused)) for h in providers],
        )
        out.add(
            "archiver_job_runs_total",
            "counter",
            "Job runs by this daemon, by result (ok, error, stopped, skipped, busy).",
            [
                ({"job": name, "result": r}, n)
                for name, results, _ in job_rows
                for r, n in sorted(results.items())
            ],
        )
        out.add(
            "archiver_job_running",
            "gauge",
            "1 while the job runs here.",
            [({"job": name}, int(running)) for name, _, running in job_rows],
        )
        out.add(
            "archiver_job_last_run_timestamp_seconds",
            "gauge",
            "When the job last started, on any daemon (the archiver's clock).",
            [({"job": name}, at.timestamp()) for name, at in sorted(runs.items()) if at is not None],
        )
        process = _process_numbers()
        out.add(
            "process_open_fds",
            "gauge",
            "Open file descriptors.",
            [({}, process["fds"])] if "fds" in process else [],
        )
        out.add(
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory.",
            [({}, process["rss"])] if "rss" in process else [],
        )
        out.add(
            "process_threads", "gauge", "Threads of the daemon process.", [({}, threading.active_count())]
        )
        out.add(
            "process_start_time_seconds",
            "gauge",
            "When the daemon started (Unix time).",
            [({}, self.started_at)],
        )
        return out.text()


def _budget_labels(key: str) -> dict[str, str]:
    provider, _, host = key.partition("@")
    return {"provider": provider, "host": host}


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


class _Metrics:
    """Prometheus text exposition format 0.0.4, written by hand."""

    def __init__(self) -> None:
        self._lines: list[str] = []

    def add(
        self, name: str, kind: str, help_text: str, samples: list[tuple[Mapping[str, str], float]]
    ) -> None:
        self._lines.append(f"# HELP {name} {help_text}")
        self._lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            rendered = ",".join(f'{k}="{_escape(str(v))}"' for k, v in labels.items())
            self._lines.append(
                f"{name}{{{rendered}}} {_number(value)}" if rendered else f"{name} {_number(value)}"
            )

    def text(self) -> str:
        return "\n".join(self._lines) + "\n"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _process_numbers() -> dict[str, int]:
    found: dict[str, int] = {}
    try:
        found["fds"] = len(os.listdir("/proc/self/fd"))
        with open("/proc/self/statm", encoding="ascii") as statm:
            found["rss"] = int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        pass  # not Linux: left out
    return found


# --- the HTTP endpoint ----------------------------------------------------------------------------


class _Endpoint(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    archiver: Daemon


class _Handler(BaseHTTPRequestHandler):
    server: _Endpoint
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        daemon = self.server.archiver
        try:
            if path == "/healthz":
                health = daemon.health()
                status = 503 if health["status"] != "ok" else 200
                self._send(status, JSON_CONTENT, json.dumps(health).encode())
            elif path == "/metrics":
                self._send(200, METRICS_CONTENT, daemon.metrics().encode())
            else:
                self._send(404, JSON_CONTENT, b'{"error": "not found: try /healthz or /metrics"}')
        except Exception as exc:  # the database is down, most likely: say so, keep serving
            log.warning("health endpoint failed", extra={"path": path}, exc_info=True)
            body = json.dumps({"status": "error", "error": f"{type(exc).__name__}: {exc}"[:500]})
            self._send(503, JSON_CONTENT, body.encode())

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http %s", format % args)


def serve_endpoint(daemon: Daemon, host: str, port: int) -> _Endpoint:
    """Start /healthz and /metrics on `host:port` in a background thread."""
    endpoint = _Endpoint((host, port), _Handler)
    endpoint.archiver = daemon
    threading.Thread(
        target=endpoint.serve_forever, kwargs={"poll_interval": 0.2}, name="archiver-http", daemon=True
    ).start()
    return endpoint


# --- running --------------------------------------------------------------------------------------


def build_scheduler(app: App, owner: str, *, daemon: Daemon | None = None) -> BlockingScheduler:
    """The daemon's scheduler: one in-memory job per `[daemon]` schedule, missed runs due at once."""
    return (daemon or Daemon(app, owner)).build()


def run_daemon(
    app: App,
    stop_event: threading.Event | None = None,
    *,
    owner: str | None = None,
    signals: bool = True,
) -> int:
    """Run the daemon until `stop_event` is set (or SIGTERM / SIGINT, with `signals`); returns the exit
    code (0). Within 10 seconds of the stop it has released every lease it held and returned.

    With `signals` (the `archive daemon` process): handlers for SIGTERM and SIGINT are installed (a
    second signal ends the process at once), logs are JSON lines on stderr, and if a climb abandoned at
    the stop is still running when the daemon is done, the process ends without waiting for it.
    """
    owner = owner or new_owner()
    stop = stop_event if stop_event is not None else threading.Event()
    if signals:
        configure_logging(owner)
        _install_signal_handlers(stop)
    settings = app.settings.daemon
    # Built here, on one thread, before the jobs' threads would race to build them.
    _ = app.sessions, app.budgets, app.blobs
    daemon = Daemon(app, owner, stop)
    if daemon.lease.total_seconds() < 3 * app.settings.http.deadline:
        log.warning(
            "[daemon] lease is short for [http] deadline: a slow climb may outlive its lease",
            extra={"lease": settings.lease, "deadline": app.settings.http.deadline},
        )
    scheduler = daemon.build()
    endpoint = serve_endpoint(daemon, settings.http_host, settings.http_port) if settings.http_port else None
    started = threading.Event()
    scheduler.add_listener(lambda _event: started.set(), EVENT_SCHEDULER_STARTED)
    stopped_at: list[float] = []

    def stopper() -> None:
        stop.wait()
        stopped_at.append(time.monotonic())
        log.info("stopping: no new work; finishing or giving back what is held")
        while not started.wait(0.05):
            if done.is_set():
                return
        try:
            scheduler.shutdown(wait=False)
        except Exception:  # already stopped
            log.debug("scheduler already stopped", exc_info=True)

    done = threading.Event()
    threading.Thread(target=stopper, name="archiver-stopper", daemon=True).start()
    log.info(
        "daemon started",
        extra={
            "jobs": ", ".join(f"{n} {s.schedule.text}" for n, s in daemon.jobs.items()),
            "http": f"{settings.http_host}:{endpoint.server_address[1]}" if endpoint else "off",
            "lease": settings.lease,
        },
    )
    try:
        if not stop.is_set():
            scheduler.start()
    finally:
        done.set()
        stop.set()
        _wind_down(daemon, endpoint, stopped_at[0] if stopped_at else time.monotonic())
    if signals:
        _exit_if_stuck(stopped_at[0] if stopped_at else time.monotonic())
    return 0


def _wind_down(daemon: Daemon, endpoint: _Endpoint | None, stopped_at: float) -> None:
    """Wait (a while) for running jobs, release every lease this daemon holds, stop the endpoint."""
    while time.monotonic() < stopped_at + JOB_STOP_WAIT:
        with daemon._lock:
            running = [s.name for s in daemon.jobs.values() if s.running_since is not None]
        if not running:
            break
        time.sleep(0.05)
    else:
        log.warning(
            "jobs still running at the stop; their work is given back", extra={"jobs": ", ".join(running)}
        )
    try:
        with daemon.app.sessions() as session, session.begin():
            released = queries.release_all(session, daemon.owner)
            for name in SINGLETON_JOBS:
                queries.release_job(session, name, daemon.owner)
    except Exception:
        log.error("could not release leases at the stop (they will expire)", exc_info=True)
        released = -1
    if endpoint is not None:
        endpoint.shutdown()
        endpoint.server_close()
    log.info(
        "daemon stopped", extra={"released": released, "seconds": round(time.monotonic() - stopped_at, 3)}
    )


def _exit_if_stuck(stopped_at: float) -> None:
    """A climb abandoned at the stop keeps its pool thread until its request's deadline; Python would
    wait for it at exit. Its lease is released and its result would not be recorded: end now (after a
    moment for threads that are just finishing)."""
    until = min(time.monotonic() + 1.0, stopped_at + STOP_LIMIT)
    while time.monotonic() < until:
        if not _busy_threads():
            return
        time.sleep(0.05)
    log.warning("ending with work threads still running", extra={"threads": ", ".join(_busy_threads())})
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _busy_threads() -> list[str]:
    main = threading.main_thread()
    return [t.name for t in threading.enumerate() if t is not main and not t.daemon and t.is_alive()]


def _install_signal_handlers(stop: threading.Event) -> None:
    def handle(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():  # a second signal: do not wait any more
            os._exit(128 + signum)
        stop.set()

    signal.signal(signal.SIGTERM, handle)
    signal.signal(signal.SIGINT, handle)


def main(argv: list[str] | None = None) -> int:
    """`python -m archiver.daemon [--config PATH]`: the daemon without the CLI around it."""
    parser = argparse.ArgumentParser(prog="python -m archiver.daemon", description="Run the archiver daemon.")
    parser.add_argument("--config", type=Path, help="Settings file (default: ./archiver.toml when present).")
    args = parser.parse_args(argv)
    env = dict(os.environ)
    try:
        path = find_config(args.config, Path.cwd())
        app = App(load_settings(path, env, known_providers=names()), clock_from_env(env), env, path)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    try:
        return run_daemon(app)
    except ArchiverError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    finally:
        app.close()


if __name__ == "__main__":
    sys.exit(main())
