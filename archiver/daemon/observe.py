"""What a daemon tells the outside: JSON log lines, `/healthz` (JSON) and `/metrics` (Prometheus text,
written by prometheus-client from a registry of the daemon's own), served on `[daemon] http_host:http_port`.

The reports are built from a `DaemonView` (what the daemon knows of itself, copied under its lock) and
the database; nothing here runs or schedules a job.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import urlsplit

from prometheus_client import CollectorRegistry, Histogram, ProcessCollector, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector

from archiver.app import App
from archiver.storage import queries

log = logging.getLogger("archiver.daemon")

JSON_CONTENT = "application/json"
METRICS_CONTENT = CONTENT_TYPE_PLAIN_0_0_4


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


class _DaemonName(logging.Filter):
    """Adds the daemon's name to every line."""

    def __init__(self, owner: str) -> None:
        super().__init__()
        self.owner = owner

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "daemon"):
            record.daemon = self.owner
        return True


class QuietBusyTicks(logging.Filter):
    """APScheduler warns on every tick that finds the previous run still going; for us that is normal
    (a run goes on until nothing is due), so the daemon counts those ticks instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


def configure_logging(owner: str, level: int | str = logging.INFO) -> None:
    """JSON lines on stderr for every logger (the daemon's own process only)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(_DaemonName(owner))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


# --- what the daemon knows of itself --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JobView:
    """One job as this daemon sees it."""

    name: str
    schedule: str
    last_started: datetime | None
    last_result: str | None
    running: bool
    results: Mapping[str, int]
    next_run_at: datetime | None


@dataclass(frozen=True, slots=True)
class DaemonView:
    """One daemon's own state at one instant: its jobs (in `JOBS` order) and what its runs counted."""

    owner: str
    started_at: float
    stopping: bool
    jobs: tuple[JobView, ...]
    captures: Mapping[str, int]
    checks: Mapping[str, int]


# --- /healthz -------------------------------------------------------------------------------------


def health_report(app: App, view: DaemonView) -> dict[str, Any]:
    """The `/healthz` document: this daemon's jobs, the job runs over all daemons, paused providers."""
    with app.sessions() as session:
        runs = queries.job_runs(session)
        paused = queries.paused_providers(session)
        held = queries.leases_held(session, app.clock.now(), view.owner)
    jobs = {
        job.name: {
            "schedule": job.schedule,
            "last_run_at": _iso(runs.get(job.name)),
            "last_run_here_at": _iso(job.last_started),
            "last_result": job.last_result,
            "running": job.running,
            "next_run_at": _iso(job.next_run_at),
        }
        for job in view.jobs
    }
    return {
        "status": "stopping" if view.stopping else "ok",
        "daemon": view.owner,
        "up_seconds": round(time.time() - view.started_at, 1),
        "now": _iso(app.clock.now()),
        "jobs": jobs,
        "paused_providers": [
            {"provider": h.provider, "reason": h.reason, "since": _iso(h.since)} for h in paused
        ],
        "leases_held": held,
    }


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat() if value is not None else None


# --- /metrics -------------------------------------------------------------------------------------

# Per-item durations, in seconds: from a cached oEmbed answer to a ladder that waits out slow hosts.
DURATION_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


class DaemonMetrics:
    """One daemon's Prometheus registry (its own, never the client's global one): the archive as the
    database tells it and this daemon's counts, read at each scrape; the process collector; and the
    histograms of how long its checks and captures took."""

    def __init__(self, app: App, view: Callable[[], DaemonView]) -> None:
        self.registry = CollectorRegistry()
        self.registry.register(_ArchiveCollector(app, view))
        ProcessCollector(registry=self.registry)
        self._durations = {
            "check": Histogram(
                "archiver_check_latency_seconds",
                "How long one check by this daemon took (provider answers and media), by provider.",
                ["provider"],
                registry=self.registry,
                buckets=DURATION_BUCKETS,
            ),
            "capture": Histogram(
                "archiver_capture_duration_seconds",
                "How long one capture by this daemon took (provider answers and media), by provider.",
                ["provider"],
                registry=self.registry,
                buckets=DURATION_BUCKETS,
            ),
        }

    def observe(self, kind: str, provider: str, seconds: float) -> None:
        """One check or capture that climbed (`kind` is "check" or "capture")."""
        self._durations[kind].labels(provider=provider).observe(seconds)

    def text(self) -> str:
        """The `/metrics` page, in the Prometheus text format 0.0.4."""
        return generate_latest(self.registry).decode()


class _ArchiveCollector(Collector):
    """The families read at each scrape: the archive (all daemons) and this daemon's own counts."""

    def __init__(self, app: App, view: Callable[[], DaemonView]) -> None:
        self.app = app
        self.view = view

    def collect(self) -> Iterator[Metric]:
        view = self.view()
        now = self.app.clock.now()
        with self.app.sessions() as session:
            states = queries.embed_state_counts(session)
            due = queries.due_counts(session, now)
            leased = queries.leases_held(session, now)
            held = queries.leases_held(session, now, view.owner)
            providers = queries.all_provider_health(session)
            runs = queries.job_runs(session)
            rewrites = queries.rewrite_state_counts(session)
        budgets = self.app.budgets.usage()
        yield _gauge("archiver_up", "1 while the daemon runs.", [], [((), 1)])
        yield _gauge("archiver_embeds", "Embeds by state.", ["state"], _by(states))
        yield _gauge("archiver_due", "Embeds due now (the due queues), held or not.", ["queue"], _by(due))
        yield _gauge(
            "archiver_rewrites",
            "Rewrites by state (planned ones wait for an editor's approval).",
            ["state"],
            _by(rewrites),
        )
        yield _gauge("archiver_leases", "Embeds held under a lease by any daemon.", [], [((), leased)])
        yield _gauge("archiver_leases_held", "Embeds held under a lease by this daemon.", [], [((), held)])
        yield _counter(
            "archiver_captures_total", "Captures by this daemon, by outcome.", ["outcome"], _by(view.captures)
        )
        yield _counter(
            "archiver_checks_total", "Checks by this daemon, by outcome.", ["outcome"], _by(view.checks)
        )
        yield _gauge(
            "archiver_budget_used",
            "Requests counted in the current window of a provider's per-host budget (all daemons).",
            ["provider", "host"],
            [(_budget_labels(key), used) for key, (used, _) in budgets.items()],
        )
        yield _gauge(
            "archiver_budget_limit",
            "Requests a provider's per-host budget allows per window.",
            ["provider", "host"],
            [(_budget_labels(key), limit) for key, (_, limit) in budgets.items()],
        )
        yield _gauge(
            "archiver_provider_paused",
            "1 when verdicts for the provider are paused (canaries failing, credentials refused).",
            ["provider"],
            [((h.provider,), int(h.paused)) for h in providers],
        )
        yield _counter(
            "archiver_job_runs_total",
            "Job runs by this daemon, by result (ok, error, stopped, skipped, busy).",
            ["job", "result"],
            [((job.name, r), n) for job in view.jobs for r, n in sorted(job.results.items())],
        )
        yield _gauge(
            "archiver_job_running",
            "1 while the job runs here.",
            ["job"],
            [((j.name,), int(j.running)) for j in view.jobs],
        )
        yield _gauge(
            "archiver_job_last_run_timestamp_seconds",
            "When the job last started, on any daemon (the archiver's clock).",
            ["job"],
            [((name,), at.timestamp()) for name, at in sorted(runs.items()) if at is not None],
        )
        yield _gauge(
            "process_threads", "Threads of the daemon process.", [], [((), threading.active_count())]
        )


Samples = list[tuple[tuple[str, ...], float]]


def _gauge(name: str, help_text: str, labels: list[str], samples: Samples) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, help_text, labels=labels)
    for values, value in samples:
        family.add_metric(list(values), value)
    return family


def _counter(name: str, help_text: str, labels: list[str], samples: Samples) -> CounterMetricFamily:
    family = CounterMetricFamily(name, help_text, labels=labels)
    for values, value in samples:
        family.add_metric(list(values), value)
    return family


def _by(counts: Mapping[str, int]) -> Samples:
    """One sample per key of `counts`, labelled by the key, in key order."""
    return [((key,), n) for key, n in sorted(counts.items())]


def _budget_labels(key: str) -> tuple[str, str]:
    provider, _, host = key.partition("@")
    return (provider, host)


# --- the HTTP endpoint ----------------------------------------------------------------------------


class Observed(Protocol):
    """What the endpoint asks of a daemon."""

    def health(self) -> dict[str, Any]: ...

    def metrics(self) -> str: ...


class Endpoint(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    archiver: Observed


class _Handler(BaseHTTPRequestHandler):
    server: Endpoint
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


def serve_endpoint(daemon: Observed, host: str, port: int) -> Endpoint:
    """Start /healthz and /metrics on `host:port` in a background thread."""
    endpoint = Endpoint((host, port), _Handler)
    endpoint.archiver = daemon
    threading.Thread(
        target=endpoint.serve_forever, kwargs={"poll_interval": 0.2}, name="archiver-http", daemon=True
    ).start()
    return endpoint
