"""`archive daemon`: APScheduler 3 ticking the jobs; the work itself is claimed from the database.

    scan      read the configured sources, store what they embed; wakes `capture` when it finds new posts
    capture   capture new embeds (claimed with leases, `pipeline/capture/leases.py`)
    check     check the embeds that are due (claimed with leases), provider health first; wakes `rewrite`
              when an embed turns broken or comes back
    rewrite   rewrite articles per their source's mode (monitor, approve, apply), write what editors
              approved, undo rewrites of embeds that came back (`pipeline/rewrite/`)
    gc        delete media no snapshot uses, after `[daemon] gc_grace`
    recover   look residue and lost embeds up in web archives (`pipeline/recover/`)
    mirror    ask Save Page Now for the posts queued by their first capture, poll its jobs
              (`pipeline/mirror/`; only with `[mirror] enabled`)

Jobs are defined in memory (never a persistent job store of pickles), with `coalesce=True`,
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

What lives here:
    schedule.py   `Schedule`: a `[daemon]` schedule, its trigger, whether a run is due
    jobs.py       `Daemon`: scheduling, job leases, and the job bodies (each calls pipeline verbs)
    observe.py    JSON log lines, the /healthz and /metrics reports and their HTTP endpoint
    run.py        `run_daemon`: start, signals, the wind-down within 10 seconds
    __main__.py   `python -m archiver.daemon [--config PATH]`, built with `App.from_environment`

The daemon is an edge: it may import the app, config, the pipeline stages' front doors, the provider
registry and storage; nothing under archiver/ imports it but the CLI. Entry points: `run_daemon(app)`
(what `archive daemon` calls) and `python -m archiver.daemon [--config PATH]`.
"""

from __future__ import annotations

from archiver.daemon.jobs import JOBS, SINGLETON_JOBS, Daemon, JobState
from archiver.daemon.observe import JsonFormatter, configure_logging, serve_endpoint
from archiver.daemon.run import JOB_STOP_WAIT, STOP_LIMIT, build_scheduler, run_daemon
from archiver.daemon.schedule import Schedule

__all__ = [
    "JOBS",
    "JOB_STOP_WAIT",
    "SINGLETON_JOBS",
    "STOP_LIMIT",
    "Daemon",
    "JobState",
    "JsonFormatter",
    "Schedule",
    "build_scheduler",
    "configure_logging",
    "run_daemon",
    "serve_endpoint",
]
