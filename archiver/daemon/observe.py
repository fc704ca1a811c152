"""What a daemon tells the outside: JSON log lines, `/healthz` (JSON) and `/metrics` (Prometheus text),
served on `[daemon] http_host:http_port`.

The reports are built from a `DaemonView` (what the daemon knows of itself, copied under its lock) and
the database; nothing here runs or schedules a job.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import urlsplit

from archiver.app import App
from archiver.storage import queries

log = logging.getLogger("archiver.daemon")

JSON_CONTENT = "application/json"
METRICS_CONTENT = "text/plain; version=0.0.4; charset=utf-8"


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

Samples = list[tuple[Mapping[str, str], float]]


def metrics_text(app: App, view: DaemonView) -> str:
    """The `/metrics` page: the archive (all daemons), this daemon's runs, its process."""
    now = app.clock.now()
    with app.sessions() as session:
        states = queries.embed_state_counts(session)
        due = queries.due_counts(session, now)
        leased = queries.leases_held(session, now)
        held = queries.leases_held(session, now, view.owner)
        providers = queries.all_provider_health(session)
        runs = queries.job_runs(session)
        rewrites = queries.rewrite_state_counts(session)
    budgets = app.budgets.usage()
    budget_labels = {key: _budget_labels(key) for key in budgets}
    out = _Metrics()
    out.add("archiver_up", "gauge", "1 while the daemon runs.", [({}, 1)])
    out.add("archiver_embeds", "gauge", "Embeds by state.", _by("state", states))
    out.add("archiver_due", "gauge", "Embeds due now (the due queues), held or not.", _by("queue", due))
    out.add(
        "archiver_rewrites",
        "gauge",
        "Rewrites by state (planned ones wait for an editor's approval).",
        _by("state", rewrites),
    )
    out.add("archiver_leases", "gauge", "Embeds held under a lease by any daemon.", [({}, leased)])
    out.add("archiver_leases_held", "gauge", "Embeds held under a lease by this daemon.", [({}, held)])
    out.add(
        "archiver_captures_total",
        "counter",
        "Captures by this daemon, by outcome.",
        _by("outcome", view.captures),
    )
    out.add(
        "archiver_checks_total", "counter", "Checks by this daemon, by outcome.", _by("outcome", view.checks)
    )
    out.add(
        "archiver_budget_used",
        "gauge",
        "Requests counted in the current window of a provider's per-host budget (all daemons).",
        [(budget_labels[key], used) for key, (used, _) in budgets.items()],
    )
    out.add(
        "archiver_budget_limit",
        "gauge",
        "Requests a provider's per-host budget allows per window.",
        [(budget_labels[key], limit) for key, (_, limit) in budgets.items()],
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
        [({"job": job.name, "result": r}, n) for job in view.jobs for r, n in sorted(job.results.items())],
    )
    out.add(
        "archiver_job_running",
        "gauge",
        "1 while the job runs here.",
        [({"job": j.name}, int(j.running)) for j in view.jobs],
    )
    out.add(
        "archiver_job_last_run_timestamp_seconds",
        "gauge",
        "When the job last started, on any daemon (the archiver's clock).",
        [({"job": name}, at.timestamp()) for name, at in sorted(runs.items()) if at is not None],
    )
    _process_metrics(out, view)
    return out.text()


def _process_metrics(out: _Metrics, view: DaemonView) -> None:
    process = _process_numbers()
    fds: Samples = [({}, process["fds"])] if "fds" in process else []
    rss: Samples = [({}, process["rss"])] if "rss" in process else []
    out.add("process_open_fds", "gauge", "Open file descriptors.", fds)
    out.add("process_resident_memory_bytes", "gauge", "Resident memory.", rss)
    out.add("process_threads", "gauge", "Threads of the daemon process.", [({}, threading.active_count())])
    out.add(
        "process_start_time_seconds", "gauge", "When the daemon started (Unix time).", [({}, view.started_at)]
    )


def _by(label: str, counts: Mapping[str, int]) -> Samples:
    """One sample per key of `counts`, labelled `label`, in key order."""
    return [({label: key}, n) for key, n in sorted(counts.items())]


def _budget_labels(key: str) -> dict[str, str]:
    provider, _, host = key.partition("@")
    return {"provider": provider, "host": host}


class _Metrics:
    """Prometheus text exposition format 0.0.4, written by hand."""

    def __init__(self) -> None:
        self._lines: list[str] = []

    def add(self, name: str, kind: str, help_text: str, samples: Samples) -> None:
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
