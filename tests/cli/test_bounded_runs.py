"""Every run ends in bounded time, whatever the providers answer (issue 18, "Bounded runs").

A loopback X and YouTube that answer only 429 with Retry-After, only never (timeouts), or only a slow
drip; with the clock pinned by ARCHIVER_NOW and with the real one. Every command (`scan`, `fetch`,
`check`, `rewrite`, `run`) and the daemon's capture and check jobs must return within their bound
(`capture.max_run` / `checks.max_run` plus the time to write what they found; scan and rewrite ask no
provider anything), and leave the work due: nothing counted toward broken, every post not finished
still due for the next run.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest

from archiver.app import App
from archiver.daemon.jobs import Daemon
from archiver.storage import queries
from archiver.storage.models import Check, Embed
from tests.support.archive_cli import Result, run_archive
from tests.support.fault_world import Providers, article_html, providers, tweet_ids, video_ids, write_config

T = TypeVar("T")
MAX_RUN = 2.0  # seconds: capture.max_run and checks.max_run here
# How long past its bound a run may take to write what it found before the test calls it hung.
# Generous on purpose (a loaded machine): this is a bound, not a benchmark.
SLACK = 45.0
# Captured two days ago, so that every check is due now by the real clock too.
CAPTURED_AT = (datetime.now(UTC) - timedelta(days=2)).replace(microsecond=0)
PINNED_AT = CAPTURED_AT + timedelta(hours=6)
CAPTURED = (tweet_ids(6), video_ids(4))
NEW = (tweet_ids(4, start=100), video_ids(2, start=100))
LATER = (tweet_ids(3, start=200), video_ids(2, start=200))  # new work for the daemon's capture job


def instant(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def within(seconds: float, what: str, call: Callable[[], T]) -> T:
    """`call()` on a thread; fails the test when it has not returned after `seconds`."""
    result: list[T] = []
    errors: list[BaseException] = []

    def body() -> None:
        try:
            result.append(call())
        except BaseException as exc:  # SystemExit included: re-raised on the test's thread
            errors.append(exc)

    thread = threading.Thread(target=body, name=what, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"{what} had not returned {seconds:.0f}s after it started: unbounded"
    if errors:
        raise errors[0]
    return result[0]


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[Providers, Path]]:
    """The providers (answering well for now), an article with posts to capture, and the config."""
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "captured.html").write_text(article_html(*CAPTURED), "utf-8")
    with providers(lambda: CAPTURED_AT) as world:
        config = write_config(
            tmp_path / "archiver.toml",
            world,
            sources=({"name": "site", "kind": "files", "path": str(tmp_path / "articles"), "mode": "apply"},),
            http={
                "allow_networks": ["127.0.0.0/8"],
                "connect_timeout": 0.5,
                "read_timeout": 0.5,
                "deadline": 1.0,
            },
            capture={"workers": 4, "per_provider": 2, "max_run": MAX_RUN},
            checks={"max_run": MAX_RUN},
        )
        yield world, config


def archive(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], config: Path, *args: str
) -> Result:
    """`archive --config CONFIG --no-progress ARGS`, in this process, failing if it outlives its bound."""
    what = "archive " + " ".join(args)
    return within(
        MAX_RUN + SLACK,
        what,
        lambda: run_archive(monkeypatch, capsys, "--config", str(config), "--no-progress", *args),
    )


@pytest.mark.parametrize("clock", ["pinned", "real"])
@pytest.mark.parametrize("answer", ["429", "timeout", "drip"])
def test_every_command_ends_within_its_bound_and_leaves_the_work_due(
    site: tuple[Providers, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    answer: str,
    clock: str,
) -> None:
    world, config = site
    monkeypatch.setenv("ARCHIVER_NOW", instant(CAPTURED_AT))
    for args in (("scan", "site"), ("fetch",)):
        done = archive(monkeypatch, capsys, config, *args)
        assert done.code == 0, done.out + done.err
    app = App.from_environment(config, {"ARCHIVER_NOW": instant(CAPTURED_AT)}, tmp_path)
    with app.sessions() as session:
        assert {e.state for e in session.query(Embed)} == {"live"}
    app.close()

    # From now on the providers answer only badly, and a new article brings posts never captured.
    world.bad = answer
    (tmp_path / "articles" / "new.html").write_text(article_html(*NEW), "utf-8")
    if clock == "pinned":
        monkeypatch.setenv("ARCHIVER_NOW", instant(PINNED_AT))
        env = {"ARCHIVER_NOW": instant(PINNED_AT)}
    else:
        monkeypatch.delenv("ARCHIVER_NOW")
        env = {}

    scanned = archive(monkeypatch, capsys, config, "scan", "site")
    assert scanned.code == 0, scanned.err
    fetched = archive(monkeypatch, capsys, config, "fetch", "--json")
    assert fetched.code == 1, fetched.err  # failed transiently or left for the next run: retried later
    checked = archive(monkeypatch, capsys, config, "check", "--json")
    assert checked.code == 1, checked.err
    report = json.loads(checked.out)
    assert report["deferred"] > 0  # its time was up (or a pinned backoff): some left for the next run
    assert report["outcomes"].keys() == {"transient"}
    rewritten = archive(monkeypatch, capsys, config, "rewrite", "--json")
    assert rewritten.code == 0, rewritten.err
    ran = archive(monkeypatch, capsys, config, "run", "site", "--json")
    assert ran.code == 1, ran.err

    # The daemon's jobs: the same verbs with leases, bounded the same way.
    (tmp_path / "articles" / "later.html").write_text(article_html(*LATER), "utf-8")
    assert archive(monkeypatch, capsys, config, "scan", "site").code == 0
    app = App.from_environment(config, env, tmp_path)
    try:
        daemon = Daemon(app, "bounded-test")
        daemon.capture_settled.set()
        for job in (daemon._capture, daemon._check):
            summary = within(MAX_RUN + SLACK, f"the daemon's {job.__name__} job", job)
            assert summary["attempted"] > 0

        now = app.clock.now()
        with app.sessions() as session:
            embeds = {e.post_id: e for e in session.query(Embed)}
            due_capture = {e.post_id for e in queries.embeds_due_for_capture(session, now, 100)}
            counted = session.query(Check).filter(Check.counted, Check.outcome != "ok").all()
            told = {c.outcome for c in counted}
            states = {post: e.state for post, e in embeds.items()}
            snapshots = {post: bool(e.snapshots) for post, e in embeds.items()}
            next_checks = {post: e.next_check_at for post, e in embeds.items()}
            last_transient = {post: e.last_outcome == "transient" for post, e in embeds.items()}
    finally:
        app.close()

    captured = set(CAPTURED[0] + CAPTURED[1])
    new = set(NEW[0] + NEW[1] + LATER[0] + LATER[1])
    assert set(states) == captured | new
    assert told <= {"transient"}  # only transient outcomes were recorded since: none counts
    for post in captured:
        assert states[post] == "live" and snapshots[post]  # nothing was called gone
        next_check = next_checks[post]
        assert next_check is not None
        # Either still due (never asked, given back) or asked and failed: retried after its retry time.
        assert next_check <= now or last_transient[post], post
    for post in new:
        assert states[post] == "new" and not snapshots[post]
        assert post in due_capture or last_transient[post], post


def test_archive_check_as_a_process_returns_with_a_pinned_clock_and_429s(
    site: tuple[Providers, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The defect as it was found: `archive check` with ARCHIVER_NOW, providers answering 429 with
    Retry-After 2; it never returned. Now the posts are given back at once, not waited for."""
    world, config = site
    monkeypatch.setenv("ARCHIVER_NOW", instant(CAPTURED_AT))
    for args in (("scan", "site"), ("fetch",)):
        assert archive(monkeypatch, capsys, config, *args).code == 0
    world.bad = "429"
    env = {**os.environ, "ARCHIVER_NOW": instant(PINNED_AT)}
    archive_script = Path(sys.executable).with_name("archive")  # the console script beside this Python
    command = [str(archive_script), "--config", str(config), "--no-progress", "check", "--json"]
    # An hour: the pinned run must end by itself (at once), not by its bound.
    config.write_text(config.read_text("utf-8").replace(f"max_run = {MAX_RUN}", "max_run = 3600.0"), "utf-8")
    assert config.read_text("utf-8").count("max_run = 3600.0") == 2
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["deferred"] > 0 and report["outcomes"] == {"transient": report["checked"]}
