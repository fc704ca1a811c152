"""`run_demo`: the whole demo, from an empty folder to a simulated week of archiving.

The folder is made (or, with `reset`, made again), the replay server started on loopback, the settings
file written to point at it, the sample articles copied, and the app built from that file, as any
command builds it, but on a `FixedClock` that starts `days` before `now` and that the simulation moves.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from archiver import accounts
from archiver.app import App
from archiver.clock import FixedClock
from archiver.config import load_settings
from archiver.demo.folder import DemoFolder, copy_articles, prepare, write_config
from archiver.demo.replay import ReplayServer
from archiver.demo.scenario import load_scenario
from archiver.demo.simulate import DemoResult, Event, simulate
from archiver.providers import names
from archiver.storage.queries import users as user_queries

# The editor account the demo makes, to sign in to `archive serve`.
EDITOR = "editor"


@dataclass(frozen=True, slots=True)
class DemoRun:
    folder: DemoFolder
    result: DemoResult
    # Requests the replay server answered, by recording ("not recorded": none held the request).
    served: Mapping[str, int]
    # The editor account made for the viewer, and its password when the demo chose it (shown once).
    editor: str = EDITOR
    password: str | None = None


def run_demo(
    root: Path,
    *,
    now: datetime,
    env: Mapping[str, str],
    reset: bool = False,
    password: str | None = None,
    on_event: Callable[[Event], None] | None = None,
    on_hour: Callable[[int, int], None] | None = None,
) -> DemoRun:
    """Make the demo in `root` and simulate its days, ending at `now` (whole hours); then an editor
    account for the viewer, with `password` or a new random one (returned, to be shown once).

    UsageError, with nothing touched, when `root` holds a demo (without `reset`) or anything else, or
    when `password` is too weak."""
    if password is not None:
        accounts.check_new_password(password)
    scenario = load_scenario()
    folder = prepare(root, reset=reset)
    end = now.replace(minute=0, second=0, microsecond=0)
    clock = FixedClock(end - timedelta(days=scenario.days))
    # The user's ARCHIVER_* variables configure their own archive, not the demo's.
    demo_env = {k: v for k, v in env.items() if not k.startswith("ARCHIVER_")}
    with ReplayServer(scenario, clock, clock.now()) as replay:
        config = write_config(folder, scenario, replay.url)
        copy_articles(folder, scenario)
        settings = load_settings(config, demo_env, known_providers=names())
        app = App(settings, clock, demo_env, config)
        try:
            result = simulate(app, clock, scenario, on_event=on_event, on_hour=on_hour)
            chosen = password if password is not None else secrets.token_urlsafe(12)
            with app.sessions() as session, session.begin():
                user_queries.add_user(
                    session, EDITOR, accounts.EDITOR, accounts.hash_password(chosen), clock.now()
                )
        finally:
            app.close()
        served: dict[str, int] = {}
        for (_, name), count in sorted(replay.served.items()):
            served[name] = served.get(name, 0) + count
    return DemoRun(folder, result, served, EDITOR, None if password is not None else chosen)
