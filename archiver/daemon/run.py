"""Running a daemon: build its scheduler and endpoint, start, and wind down within 10 seconds of the
stop (SIGTERM, SIGINT, or the caller's event): no new work, running jobs get a few seconds, every lease
still held is released."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from types import FrameType

from apscheduler.events import EVENT_SCHEDULER_STARTED
from apscheduler.schedulers.blocking import BlockingScheduler

from archiver.app import App
from archiver.daemon.jobs import SINGLETON_JOBS, Daemon
from archiver.daemon.observe import Endpoint, configure_logging, serve_endpoint
from archiver.pipeline.capture import new_owner
from archiver.storage import queries

log = logging.getLogger("archiver.daemon")

# From the stop signal: running jobs get this long to finish (climbs in flight get STOP_GRACE of it),
# then leases are released and the daemon returns; all within the promised 10 seconds.
JOB_STOP_WAIT = 7.0
STOP_LIMIT = 9.5


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


def _wind_down(daemon: Daemon, endpoint: Endpoint | None, stopped_at: float) -> None:
    """Wait (a while) for running jobs, release every lease this daemon holds, stop the endpoint."""
    while time.monotonic() < stopped_at + JOB_STOP_WAIT:
        running = daemon.running_jobs()
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
