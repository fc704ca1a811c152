"""The daemon's parts in one process (issue 7): claiming runs of capture and check, exactly once per
cycle when daemons race or die, the schedules and missed runs, media collection, stopping, /healthz and
/metrics. On SQLite and, when ARCHIVER_TEST_POSTGRES_URL is set, on PostgreSQL.
"""

from __future__ import annotations

import json
import logging
import os
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from archiver.app import App
from archiver.clock import Clock, FixedClock, SystemClock
from archiver.config import Settings
from archiver.daemon import (
    Daemon,
    JsonFormatter,
    Schedule,
    build_scheduler,
    run_daemon,
    serve_endpoint,
)
from archiver.pipeline.capture import STOP_GRACE, capture_due, climb, record, run_climbs
from archiver.pipeline.capture.leases import LEASE_LOST, Claims
from archiver.pipeline.check import check_due
from archiver.pipeline.gc import collect_media
from archiver.records import Article, EmbedRef, MarkupKind
from archiver.storage import blobs, queries
from archiver.storage.models import Check, Embed, Media, Snapshot, SnapshotMedia
from tests.support.daemon_world import (
    FakeYouTube,
    add_due_checks,
    check_counts,
    free_port,
    post_ids,
    settings_data,
)
from tests.support.rewrite_world import break_everything, corpus_pages, make_world
from tests.support.rewrite_world import scan as scan_world

START = datetime(2026, 1, 1, tzinfo=UTC)


@contextmanager
def app_on(
    url: str,
    tmp_path: Path,
    provider: str,
    clock: Clock | None = None,
    http: dict[str, Any] | None = None,
    **daemon: object,
) -> Iterator[App]:
    settings = Settings(**settings_data(url, tmp_path, provider, http=http, **daemon))
    app = App(settings, clock or SystemClock(), {})
    try:
        yield app
    finally:
        app.close()


def leases(url_app: App) -> int:
    with url_app.sessions() as session:
        return int(session.scalar(select(func.count(Embed.id)).where(Embed.lease_owner.is_not(None))) or 0)


# --- claiming runs --------------------------------------------------------------------------------


def test_two_daemons_racing_check_each_due_embed_exactly_once(db_url: str, tmp_path: Path) -> None:
    ids = add_due_checks(db_url, 80, datetime.now(UTC))
    with (
        FakeYouTube(delay=0.02).running() as fake,
        app_on(db_url, tmp_path, fake.url) as a,
        app_on(db_url, tmp_path, fake.url) as b,
    ):
        reports: dict[str, Any] = {}

        def run(name: str, app: App) -> None:
            reports[name] = check_due(app.sessions, app.capture_deps(), owner=name, batch=5)

        threads = [threading.Thread(target=run, args=(n, app)) for n, app in (("a", a), ("b", b))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert set(reports) == {"a", "b"}
        assert reports["a"].attempted and reports["b"].attempted  # both did a share
        assert reports["a"].attempted + reports["b"].attempted == 80
        assert set(check_counts(db_url).values()) == {1}
        assert set(fake.asked) == set(ids) and set(fake.asked.values()) == {1}
        assert leases(a) == 0
        with a.sessions() as session:
            assert queries.due_counts(session, datetime.now(UTC))["check"] == 0


def test_two_daemons_racing_capture_each_new_embed_once(db_url: str, tmp_path: Path) -> None:
    with (
        FakeYouTube(delay=0.02).running() as fake,
        app_on(db_url, tmp_path, fake.url) as a,
        app_on(db_url, tmp_path, fake.url) as b,
    ):
        refs = [
            EmbedRef("youtube", i, f"https://www.youtube.com/watch?v={i}", MarkupKind.IFRAME)
            for i in post_ids(40, "n")
        ]
        with a.sessions() as session, session.begin():
            source = queries.ensure_source(session, "site", "files", datetime.now(UTC))
            queries.save_scan(
                session,
                source,
                Article("a.html", "site", b"", "", "utf-8", "0" * 64),
                refs,
                datetime.now(UTC),
            )
        reports: dict[str, Any] = {}

        def run(name: str, app: App) -> None:
            reports[name] = capture_due(app.sessions, app.capture_deps(), owner=name, batch=4)

        threads = [threading.Thread(target=run, args=(n, app)) for n, app in (("a", a), ("b", b))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert reports["a"].attempted + reports["b"].attempted == 40
        assert reports["a"].new_snapshots + reports["b"].new_snapshots == 40
        with a.sessions() as session:
            assert session.scalar(select(func.count(Check.id)).where(Check.kind == "capture")) == 40
            assert session.scalar(select(func.count(Snapshot.id))) == 40
            # Settled: every captured embed has its next check.
            assert session.scalar(select(func.count(Embed.id)).where(Embed.next_check_at.is_(None))) == 0
        assert leases(a) == 0


def test_a_daemon_that_lost_its_lease_records_nothing(db_url: str, tmp_path: Path) -> None:
    clock = FixedClock(START)
    add_due_checks(db_url, 1, START)
    with FakeYouTube().running() as fake, app_on(db_url, tmp_path, fake.url, clock) as app:
        deps = app.capture_deps()
        slow = Claims(app.sessions, clock, "slow", timedelta(minutes=10))
        (embed,) = slow.claim("check", 10, None)
        ref = EmbedRef("youtube", embed.post_id, embed.canonical_url, MarkupKind.LINK)
        climbed = climb(deps, ref)  # ... and it takes longer than the lease
        clock.advance(timedelta(minutes=10))
        fast = Claims(app.sessions, clock, "fast", timedelta(minutes=10))
        assert [e.id for e in fast.claim("check", 10, None)] == [embed.id]

        late = record(app.sessions, deps, embed.id, ref, climbed, kind="check", owner="slow")
        assert late.deferred and late.reason == LEASE_LOST
        assert check_counts(db_url) == {embed.post_id: 0}
        on_time = record(app.sessions, deps, embed.id, ref, climbed, kind="check", owner="fast")
        assert not on_time.deferred
        assert check_counts(db_url) == {embed.post_id: 1}


def test_a_check_recorded_by_a_daemon_that_died_is_judged_not_asked_again(
    db_url: str, tmp_path: Path
) -> None:
    clock = FixedClock(START)
    ids = add_due_checks(db_url, 6, START)
    with FakeYouTube().running() as fake, app_on(db_url, tmp_path, fake.url, clock) as app:
        deps = app.capture_deps()
        # The dead daemon claimed, climbed and recorded every check, then died before judging them.
        dead = Claims(app.sessions, clock, "dead", timedelta(minutes=10))
        due = dead.claim("check", 10, None)
        with app.sessions() as session:
            from archiver.pipeline.capture import work_for

            work = work_for(session, due, revalidate=True)
        run_climbs(app.sessions, deps, work, "check", owner="dead")
        assert set(check_counts(db_url).values()) == {1}
        assert sum(fake.asked.values()) == 6
        with app.sessions() as session:
            assert queries.due_counts(session, clock.now())["check"] == 6  # still due: no verdict yet

        clock.advance(timedelta(minutes=11))  # its leases expire
        report = check_due(app.sessions, deps, owner="alive")
        assert report.attempted == 0  # nothing was asked again...
        assert sum(fake.asked.values()) == 6
        assert set(check_counts(db_url).values()) == {1}  # ...each cycle has its one check...
        with app.sessions() as session:
            assert queries.due_counts(session, clock.now())["check"] == 0  # ...and is judged
            states = {e.post_id: e.state for e in session.scalars(select(Embed))}
        assert states == dict.fromkeys(ids, "live")


def test_a_stop_gives_back_the_climbs_in_flight(db_url: str, tmp_path: Path) -> None:
    add_due_checks(db_url, 10, datetime.now(UTC))
    stop = threading.Event()
    hanging = {"read_timeout": 60.0, "deadline": 60.0}
    with FakeYouTube(delay=60).running() as fake, app_on(db_url, tmp_path, fake.url, http=hanging) as app:
        finished: list[float] = []

        def run() -> None:
            check_due(app.sessions, app.capture_deps(), owner="a", batch=10, stop=stop)
            finished.append(time.monotonic())

        thread = threading.Thread(target=run)
        thread.start()
        deadline = time.monotonic() + 10
        while sum(fake.asked.values()) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert sum(fake.asked.values()) == 2  # two climbs hanging (capture.workers = 2)
        assert leases(app) == 10
        asked_to_stop = time.monotonic()
        stop.set()
        thread.join(timeout=STOP_GRACE + 5)
        assert finished and finished[0] - asked_to_stop < STOP_GRACE + 1
        assert leases(app) == 0  # the whole batch is claimable again at once
        assert set(check_counts(db_url).values()) == {0}


# --- schedules ------------------------------------------------------------------------------------


def test_schedules_are_intervals_or_crontabs() -> None:
    every = Schedule.parse("every 15m")
    assert every.interval == timedelta(minutes=15) and every.cron is None
    assert every.next_after(START) == START + timedelta(minutes=15)
    cron = Schedule.parse("cron */15 * * * *")
    assert cron.cron == "*/15 * * * *"
    assert cron.next_after(START + timedelta(minutes=1)) == START + timedelta(minutes=15)
    assert cron.next_after(START) == START + timedelta(minutes=15)  # strictly after
    # Due: never ran, or the next instant after the last run (by any daemon) has come.
    assert every.due(None, START)
    assert not every.due(START, START + timedelta(minutes=10))
    assert every.due(START + timedelta(seconds=1), START + timedelta(minutes=15))  # a tick runs a bit late
    assert cron.due(START + timedelta(seconds=1), START + timedelta(minutes=15))
    assert not cron.due(START + timedelta(minutes=15, seconds=1), START + timedelta(minutes=16))


def test_jobs_coalesce_run_one_at_a_time_and_are_never_dropped(tmp_path: Path) -> None:
    clock = FixedClock(START)
    with app_on(f"sqlite:///{tmp_path / 'a.db'}", tmp_path, "http://127.0.0.1:9", clock) as app:
        before = datetime.now(UTC)
        scheduler = build_scheduler(app, "me")
        jobs = {job.id: job for job in scheduler.get_jobs()} if scheduler.running else None
        assert jobs is None  # not started: read the pending jobs instead
        pending = {job.id: job for job, _alias, _replace in scheduler._pending_jobs}
        assert set(pending) == {"scan", "capture", "check", "rewrite", "gc", "recover", "mirror"}
        for job in pending.values():
            assert job.coalesce is True and job.max_instances == 1 and job.misfire_grace_time is None
            # Never ran: every job runs once, now.
            assert job.next_run_time - before < timedelta(seconds=5)


def test_a_restart_runs_each_missed_job_once_and_the_others_on_time(tmp_path: Path) -> None:
    clock = FixedClock(START + timedelta(minutes=10))  # stopped for 10 minutes
    with app_on(f"sqlite:///{tmp_path / 'a.db'}", tmp_path, "http://127.0.0.1:9", clock) as app:
        with app.sessions() as session, session.begin():
            for job in ("scan", "capture", "check", "rewrite", "gc"):
                queries.mark_job_run(session, job, START)
        before = datetime.now(UTC)
        pending = {job.id: job for job, _a, _r in build_scheduler(app, "me")._pending_jobs}
        now_ish = timedelta(seconds=5)
        assert pending["capture"].next_run_time - before < now_ish  # every 1m: missed, runs now
        assert pending["check"].next_run_time - before < now_ish  # every 5m: missed, runs now
        scan_wait = pending["scan"].next_run_time - before  # every 15m: due 5 minutes from now
        assert timedelta(minutes=5) - now_ish < scan_wait <= timedelta(minutes=5, seconds=1)
        assert abs(pending["rewrite"].next_run_time - before - scan_wait) < timedelta(seconds=1)  # 15m too
        assert pending["gc"].next_run_time - before > timedelta(hours=23)


def test_a_singleton_job_runs_once_per_period_over_all_daemons(tmp_path: Path) -> None:
    clock = FixedClock(START)
    ran: list[str] = []
    with app_on(f"sqlite:///{tmp_path / 'a.db'}", tmp_path, "http://127.0.0.1:9", clock) as app:
        one, two = Daemon(app, "one"), Daemon(app, "two")
        one._job("gc", lambda: ran.append("one") or {})
        two._job("gc", lambda: ran.append("two") or {})  # one ran it this period: skipped
        assert ran == ["one"]
        assert two.jobs["gc"].results["skipped"] == 1
        clock.advance(timedelta(days=1))
        two._job("gc", lambda: ran.append("two") or {})
        assert ran == ["one", "two"]
        # Not singletons: every daemon runs capture and check (they share the work by leases).
        one._job("check", lambda: ran.append("check one") or {})
        two._job("check", lambda: ran.append("check two") or {})
        assert ran[-2:] == ["check one", "check two"]
        with app.sessions() as session:
            assert queries.job_runs(session)["gc"] == START + timedelta(days=1)


def test_a_failing_job_is_logged_and_counted_and_the_daemon_goes_on(tmp_path: Path, caplog: Any) -> None:
    with app_on(f"sqlite:///{tmp_path / 'a.db'}", tmp_path, "http://127.0.0.1:9") as app:
        daemon = Daemon(app, "me")

        def broken() -> dict[str, Any]:
            raise RuntimeError("boom")

        with caplog.at_level(logging.INFO, logger="archiver.daemon"):
            daemon._job("check", broken)
            daemon._job("check", lambda: {"attempted": 0})
        assert daemon.jobs["check"].results == {"error": 1, "ok": 1}
        failed = [r for r in caplog.records if r.getMessage() == "job failed"]
        assert failed and failed[0].job == "check" and failed[0].exc_info


# --- rewrites -------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["apply", "approve", "monitor"])
def test_the_rewrite_job_does_what_each_sources_mode_says(
    db_url: str, tmp_path: Path, mode: str, caplog: Any
) -> None:
    world = make_world(tmp_path, corpus_pages()[:3], mode=mode, database_url=db_url)
    scan_world(world)
    broken = break_everything(world)
    before = world.hashes()
    app = App(world.settings, world.clock, {})
    try:
        daemon = Daemon(app, "me")
        with caplog.at_level(logging.INFO, logger="archiver.daemon"):
            daemon._job("rewrite", daemon._rewrite)
        with app.sessions() as session:
            states = queries.rewrite_state_counts(session)
    finally:
        app.close()
        world.close()
    summary = daemon.jobs["rewrite"].last_summary
    assert daemon.jobs["rewrite"].last_result == "ok" and summary["articles"] == 3
    after = world.hashes()
    if mode == "apply":
        assert states == {"applied": broken} and summary["applied"] == 3
        assert all(after[name] != before[name] for name in before)  # every article now carries its cards
        logged = [r for r in caplog.records if r.getMessage() == "article rewrite applied"]
        assert sorted(Path(r.article).name for r in logged) == sorted(before)  # type: ignore[attr-defined]
    elif mode == "approve":
        assert states == {"planned": broken} and summary["planned"] == 3
        assert after == before  # nothing written before an editor approves
    else:
        assert states == {} and summary["reported"] == 3 and after == before


def test_a_woken_rewrite_runs_before_its_period_is_over(tmp_path: Path) -> None:
    clock = FixedClock(START)
    ran: list[str] = []
    with app_on(f"sqlite:///{tmp_path / 'a.db'}", tmp_path, "http://127.0.0.1:9", clock) as app:
        daemon = Daemon(app, "me")
        daemon.build()
        daemon._job("rewrite", lambda: ran.append("tick") or {})
        clock.advance(timedelta(minutes=1))
        daemon._job("rewrite", lambda: ran.append("tick") or {})  # every 15m: not due yet
        assert ran == ["tick"] and daemon.jobs["rewrite"].results["skipped"] == 1
        daemon.wake("rewrite")  # what a check that turned an embed broken does
        daemon._job("rewrite", lambda: ran.append("woken") or {})
        daemon._job("rewrite", lambda: ran.append("tick") or {})  # the wake is spent
        assert ran == ["tick", "woken"]


def test_metrics_count_rewrites_by_state(db_url: str, tmp_path: Path) -> None:
    world = make_world(tmp_path, corpus_pages()[:2], mode="approve", database_url=db_url)
    scan_world(world)
    broken = break_everything(world)
    app = App(world.settings, world.clock, {})
    try:
        daemon = Daemon(app, "me")
        daemon._job("rewrite", daemon._rewrite)
        metrics = daemon.metrics()
    finally:
        app.close()
        world.close()
    assert f'archiver_rewrites{{state="planned"}} {broken}' in metrics


# --- media collection -----------------------------------------------------------------------------


def test_gc_deletes_unused_media_after_the_grace(db_url: str, tmp_path: Path) -> None:
    clock = FixedClock(START + timedelta(days=3))
    with app_on(db_url, tmp_path, "http://127.0.0.1:9", clock) as app:
        store = blobs.LocalBlobStore(tmp_path / "media")
        used, dropped, orphan, fresh = (store.put(f"file {n}".encode()) for n in range(4))
        temp = Path(used.path).parent / ".tmp-abc123"
        temp.write_bytes(b"half")
        old = (START - timedelta(days=1)).timestamp()
        for path in (used.path, dropped.path, orphan.path, temp):
            os.utime(path, (old, old))
        with app.sessions() as session, session.begin():
            embed = Embed(
                provider="youtube", post_id="x", canonical_url="u", state="live", first_seen_at=START
            )
            snapshot = Snapshot(embed=embed, version=1, captured_at=START, content_sha256="0" * 64)
            session.add(snapshot)
            for blob, at in ((used, START), (dropped, START)):
                media = queries.save_media(session, blob.sha256, "image/png", blob.size, at)
                if blob is used:
                    snapshot.media.append(
                        SnapshotMedia(kind="image", original_url="u", rung="r", position=0, media_file=media)
                    )

        report = collect_media(app.sessions, store, clock, timedelta(days=1))

        assert (report.media_records, report.blobs, report.temp_files) == (1, 2, 1)
        assert store.exists(used.sha256) and store.exists(fresh.sha256)  # in use; within the grace
        assert not store.exists(dropped.sha256) and not store.exists(orphan.sha256)
        assert not temp.exists()
        with app.sessions() as session:
            assert list(session.scalars(select(Media.sha256))) == [used.sha256]
        assert (
            collect_media(app.sessions, store, clock, timedelta(days=1)) == type(report)()
        )  # twice: nothing


# --- what the daemon says -------------------------------------------------------------------------


def test_json_log_lines_carry_their_context() -> None:
    record = logging.makeLogRecord(
        {
            "name": "archiver.daemon",
            "levelname": "INFO",
            "msg": "embed checked",
            "embed": 7,
            "provider": "youtube",
        }
    )
    line = json.loads(JsonFormatter().format(record))
    assert line["msg"] == "embed checked" and line["embed"] == 7 and line["provider"] == "youtube"
    assert line["level"] == "info" and line["ts"].endswith("+00:00")


SAMPLE = re.compile(r'^[a-z_]+(\{([a-z_]+="[^"]*",?)+\})? -?[0-9.e+-]+$')
# The families the daemon wrote by hand before prometheus-client (counters by their family name, as the
# official parser names them): each keeps its name, labels and meaning.
EARLIER_FAMILIES = {
    "archiver_up",
    "archiver_embeds",
    "archiver_due",
    "archiver_rewrites",
    "archiver_leases",
    "archiver_leases_held",
    "archiver_captures",
    "archiver_checks",
    "archiver_budget_used",
    "archiver_budget_limit",
    "archiver_provider_paused",
    "archiver_job_runs",
    "archiver_job_running",
    "archiver_job_last_run_timestamp_seconds",
    "process_open_fds",
    "process_resident_memory_bytes",
    "process_threads",
    "process_start_time_seconds",
}


def scraped(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every sample of a /metrics page, read by the official parser: (name, sorted labels) -> value."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_healthz_and_metrics_answer_over_http(db_url: str, tmp_path: Path) -> None:
    add_due_checks(db_url, 3, datetime.now(UTC))
    with app_on(db_url, tmp_path, "http://127.0.0.1:9") as app:
        daemon = Daemon(app, "me")
        daemon.build()
        daemon.outcomes["check"]["ok"] += 2
        with app.sessions() as session, session.begin():
            queries.pause_provider(session, "tiktok", "canary failed", datetime.now(UTC))
        endpoint = serve_endpoint(daemon, "127.0.0.1", free_port())
        base = f"http://127.0.0.1:{endpoint.server_address[1]}"
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=10) as answer:
                health = json.load(answer)
            with urllib.request.urlopen(f"{base}/metrics", timeout=10) as answer:
                assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
                metrics = answer.read().decode()
            with pytest.raises(urllib.error.HTTPError) as missing:
                urllib.request.urlopen(f"{base}/nothing", timeout=10)
            assert missing.value.code == 404
            missing.value.close()
        finally:
            endpoint.shutdown()
            endpoint.server_close()
    assert health["status"] == "ok" and health["daemon"] == "me"
    assert set(health["jobs"]) == {"scan", "capture", "check", "rewrite", "gc", "recover", "mirror"}
    assert health["jobs"]["check"]["schedule"] == "every 5m"
    assert health["paused_providers"][0]["provider"] == "tiktok"
    lines = metrics.splitlines()
    assert all(SAMPLE.match(line) for line in lines if not line.startswith("#")), metrics
    samples = scraped(metrics)
    assert samples["archiver_embeds", (("state", "live"),)] == 3
    assert samples["archiver_due", (("queue", "check"),)] == 3
    assert samples["archiver_checks_total", (("outcome", "ok"),)] == 2
    assert samples["archiver_provider_paused", (("provider", "tiktok"),)] == 1
    assert samples["process_open_fds", ()] > 0
    families = {family.name for family in text_string_to_metric_families(metrics)}
    assert families >= EARLIER_FAMILIES, EARLIER_FAMILIES - families
    assert {"archiver_check_latency_seconds", "archiver_capture_duration_seconds"} <= families


def test_metrics_histograms_time_each_check_by_provider(db_url: str, tmp_path: Path) -> None:
    add_due_checks(db_url, 4, datetime.now(UTC))
    with FakeYouTube(delay=0.3).running() as fake, app_on(db_url, tmp_path, fake.url) as app:
        daemon = Daemon(app, "me")
        before = scraped(daemon.metrics())
        daemon.capture_settled.set()  # no capture run in this test: checks need not wait for one
        daemon._job("check", daemon._check)
        after = scraped(daemon.metrics())
    youtube = (("provider", "youtube"),)
    assert ("archiver_check_latency_seconds_count", youtube) not in before
    assert after["archiver_check_latency_seconds_count", youtube] == 4
    assert after["archiver_checks_total", (("outcome", "ok"),)] == 4
    # Each check waited for the fake's 0.3 s answer: none falls in the buckets below it.
    assert after["archiver_check_latency_seconds_bucket", (("le", "0.25"), *youtube)] == 0
    assert after["archiver_check_latency_seconds_bucket", (("le", "+Inf"), *youtube)] == 4
    assert 4 * 0.3 <= after["archiver_check_latency_seconds_sum", youtube] < 60
    assert not any(name.startswith("archiver_capture_duration_seconds_count") for name, _ in after)


def test_run_daemon_does_the_due_work_and_stops_within_ten_seconds(db_url: str, tmp_path: Path) -> None:
    add_due_checks(db_url, 20, datetime.now(UTC))
    stop = threading.Event()
    with FakeYouTube().running() as fake, app_on(db_url, tmp_path, fake.url, check="every 1s") as app:
        result: list[int] = []
        thread = threading.Thread(
            target=lambda: result.append(run_daemon(app, stop, owner="me", signals=False))
        )
        thread.start()
        try:
            deadline = time.monotonic() + 60
            while set(check_counts(db_url).values()) != {1} and time.monotonic() < deadline:
                time.sleep(0.05)
            assert set(check_counts(db_url).values()) == {1}
        finally:
            asked = time.monotonic()
            stop.set()
            thread.join(timeout=15)
        assert result == [0] and time.monotonic() - asked < 10
        with app.sessions() as session:
            runs = queries.job_runs(session)
        assert {"scan", "capture", "check", "rewrite", "gc", "recover", "mirror"} <= set(runs)


def test_a_bad_daemon_setting_is_one_config_error(tmp_path: Path) -> None:
    from archiver.config import load_settings
    from archiver.errors import ConfigError

    for table, message in (
        ('check = "hourly"', "daemon: check: 'hourly' is not a schedule"),
        ('scan = "cron 61 * * * *"', "daemon: scan:"),
        ('lease = "soon"', "daemon: lease:"),
        ("http_port = 70000", "daemon.http_port"),
    ):
        config = tmp_path / "archiver.toml"
        config.write_text(f"[daemon]\n{table}\n", encoding="utf-8")
        with pytest.raises(ConfigError) as caught:
            load_settings(config, {})
        assert message in str(caught.value), str(caught.value)
    config.write_text('[daemon]\ncheck = "cron */5 * * * *"\nlease = "2m"\n', encoding="utf-8")
    settings = load_settings(config, {})
    assert Schedule.parse(settings.daemon.check).cron == "*/5 * * * *"


def test_the_s3_store_lists_and_deletes_for_the_collector(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    boto3 = pytest.importorskip("boto3")
    moto = pytest.importorskip("moto")
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config")),
        ("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials")),
    ):
        monkeypatch.setenv(name, value)
    with moto.mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="media")
        client.put_object(Bucket="media", Key="elsewhere/not-ours.txt", Body=b"x")
        store = blobs.S3BlobStore("media", prefix="archive", client=client)
        stored = store.put(b"a picture")
        client.put_object(Bucket="media", Key="archive/ab/cd/.tmp-left", Body=b"half")
        entries = {e.key: e for e in store.entries()}
        key = f"{stored.sha256[:2]}/{stored.sha256[2:4]}/{stored.sha256}"
        assert set(entries) == {key, "ab/cd/.tmp-left"}
        assert entries[key].sha256 == stored.sha256 and entries["ab/cd/.tmp-left"].sha256 is None
        written = entries[key].modified
        assert not store.delete(key, written)  # written at or after the cutoff: kept
        assert store.delete(key, written + timedelta(seconds=1))
        assert not store.exists(stored.sha256)
        assert not store.delete(key, written + timedelta(seconds=1))  # gone already: fine
        with pytest.raises(ValueError):
            store.delete("../elsewhere/not-ours.txt", written)
