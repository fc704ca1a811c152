"""The pinned-clock scenario of issue 18, as a test: five simulated days of checks, every 4 hours by
ARCHIVER_NOW, against a loopback X and YouTube that fail now and then.

Ten pages shaped like the DEV corpus's (tweet blockquotes with widgets.js, YouTube iframes in figures;
synthetic, their answers the recorded fixtures), half their posts deleted half a day in, and faults on
every request (seeded: 5% 500s, 2% 429 with Retry-After 2, 1% connection resets, 1% truncated bodies).
Before the fix a check run never returned: a host's backoff measured on the pinned clock was waited for
again and again. Each run here must end by itself (not by its time limit), no live post may ever read
broken, none may be broken before 48 hours of being gone, and every deleted one is broken at the end.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from archiver.app import App
from archiver.pipeline.capture import capture_due
from archiver.pipeline.check import check_due
from archiver.pipeline.scan import resolve_targets, scan_targets
from archiver.providers import enabled_providers
from archiver.storage.models import Embed, StateChange
from tests.support.fault_world import Faults, article_html, providers, tweet_ids, video_ids, write_config

T = TypeVar("T")
START = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
STEP = timedelta(hours=4)
RUNS = 30
DELETED_AT = START + timedelta(hours=12)
# Generous: a run here takes about a second; this is how long a hung run is waited for before failing.
WATCHDOG = 90.0


def within_watchdog(what: str, call: Callable[[], T]) -> T:
    """`call()` on a thread of its own; fails the test if it has not returned after WATCHDOG seconds."""
    result: list[T] = []
    errors: list[BaseException] = []

    def body() -> None:
        try:
            result.append(call())
        except BaseException as exc:  # re-raised on the test's thread
            errors.append(exc)

    thread = threading.Thread(target=body, name=what, daemon=True)
    thread.start()
    thread.join(WATCHDOG)
    assert not thread.is_alive(), f"{what} had not returned after {WATCHDOG:.0f}s: a wait that never ends"
    if errors:
        raise errors[0]
    return result[0]


def pages(folder: Path) -> dict[str, tuple[list[str], list[str]]]:
    """Ten articles, one to three tweets and one or two videos each (19 tweets, 15 videos)."""
    folder.mkdir()
    made: dict[str, tuple[list[str], list[str]]] = {}
    tweets, videos = iter(tweet_ids(19)), iter(video_ids(15))
    for i in range(10):
        these = ([next(tweets) for _ in range(i % 3 + 1)], [next(videos) for _ in range(i % 2 + 1)])
        name = f"page-{i:02d}.html"
        (folder / name).write_text(article_html(*these, title=f"Story {i}"), encoding="utf-8")
        made[name] = these
    return made


def test_thirty_pinned_clock_check_runs_under_faults_end_and_never_cry_wolf(tmp_path: Path) -> None:
    now = [START]
    written = pages(tmp_path / "articles")
    posts = sorted({p for tweets, videos in written.values() for p in (*tweets, *videos)})
    deleted = set(posts[::2])
    with providers(lambda: now[0]) as world:
        world.faults = Faults(seed=18_2026)
        world.deleted, world.deleted_at = deleted, DELETED_AT
        config = write_config(
            tmp_path / "archiver.toml",
            world,
            sources=({"name": "site", "kind": "files", "path": str(tmp_path / "articles")},),
            http={"allow_networks": ["127.0.0.0/8"], "read_timeout": 2.0, "deadline": 5.0},
            # One climb at a time per provider (two hosts, two workers): the same questions in the same
            # order every time, so the seeded faults replay exactly.
            capture={"workers": 2, "per_provider": 1, "max_run": 60.0},
            checks={"max_run": 60.0},
        )

        def app_at(instant: datetime) -> App:
            now[0] = instant
            env = {"ARCHIVER_NOW": instant.isoformat().replace("+00:00", "Z")}
            return App.from_environment(config, env, tmp_path)

        app = app_at(START)
        try:
            targets = resolve_targets(["site"], app.settings.sources, app.settings.scan, app.env)
            scanned = scan_targets(
                targets,
                app.settings.scan,
                enabled_providers(app.settings),
                sessions=app.sessions,
                clock=app.clock,
            )
            assert [r.error for r in scanned] == [None] * 10
            within_watchdog("the first fetch", lambda: capture_due(app.sessions, app.capture_deps()))
        finally:
            app.close()

        seen: dict[str, list[str]] = {p: [] for p in posts}
        for run in range(1, RUNS + 1):
            app = app_at(START + run * STEP)
            try:
                deps = app.capture_deps()
                fetched = within_watchdog(f"fetch {run}", lambda: capture_due(app.sessions, deps))  # noqa: B023
                checked = within_watchdog(f"check {run}", lambda: check_due(app.sessions, deps))  # noqa: B023
                for item in (*fetched.items, *checked.items):
                    assert "max_run" not in item.reason, f"run {run} ended by its time limit, not by itself"
                with app.sessions() as session:
                    for embed in session.query(Embed):
                        seen[embed.post_id].append(embed.state)
            finally:
                app.close()

        app = app_at(START + RUNS * STEP)
        try:
            with app.sessions() as session:
                states = {e.post_id: e.state for e in session.query(Embed)}
                broke = {
                    c.embed.post_id: c.changed_at
                    for c in session.query(StateChange)
                    if c.to_state == "broken"
                }
        finally:
            app.close()

    assert sorted(states) == posts
    for post in posts:
        if post in deleted:
            assert states[post] == "broken", f"deleted post {post} is {states[post]} after five days"
            assert broke[post] >= DELETED_AT + timedelta(hours=48), f"{post} broken before 48 hours"
        else:
            # `new` only until a first capture gets through the faults; once live, live for good.
            first_live = seen[post].index("live")
            assert set(seen[post][:first_live]) <= {"new"} and set(seen[post][first_live:]) == {"live"}, (
                f"live post {post} went {seen[post]}"
            )
    # The faults really happened: every kind of them, on both providers.
    faults = world.faults
    assert faults is not None
    picked = {faults.pick(f"{key}:{n}") for key, count in world.asked.items() for n in range(1, count + 1)}
    assert {"500", "429", "reset", "truncated"} <= picked
    assert {key.split(":")[0] for key in world.asked} == {"x-oembed", "x-syndication", "youtube-oembed"}
