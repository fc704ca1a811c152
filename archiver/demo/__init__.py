"""`archive demo`: the whole product in one command, offline.

    run_demo(root, now=..., env=...) -> DemoRun     a demo folder made and a simulated week archived

A folder with SQLite, a media folder, a settings file and sample articles in two sources (one in
mode `approve`, one in `apply`); a replay server on loopback answering with recorded real provider
responses; and the real pipeline (scan, capture, checks on their cadence, verdicts, rewrites) run on a
clock that moves an hour at a time over the scenario's days, while some posts are deleted.

What lives here (importers use this front door; the modules import each other directly):

    scenario   the package data read as records: sources, posts, their recordings, the day they change
    replay     ReplayServer: the recordings served on 127.0.0.1, by provider and post, on the same clock
    folder     the demo folder made fresh (or reset), the articles copied, archiver.toml written
    simulate   the days: pipeline verbs called as the daemon calls them; events and the result
    run        run_demo: all of it, in order

The data is in `data/` (`scenario.json`, `articles/`, `recordings/`, `SOURCES.md`). The demo is an edge
like the CLI and the daemon: it may import the app, config, clock, views, the pipeline stages' front
doors, providers and storage; nothing under `archiver/` but the CLI imports it. No pipeline code knows
the demo: it only sees settings and a clock.
"""

from __future__ import annotations

from archiver.demo.folder import MARKER, DemoFolder
from archiver.demo.run import DemoRun, run_demo
from archiver.demo.simulate import DemoResult, Event, RewriteLine

__all__ = [
    "MARKER",
    "DemoFolder",
    "DemoResult",
    "DemoRun",
    "Event",
    "RewriteLine",
    "run_demo",
]
