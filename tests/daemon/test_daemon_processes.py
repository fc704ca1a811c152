"""Daemons as real processes (issue 7): `python -m archiver.daemon --config PATH`, the entry the
`archive daemon` command shares.

- SIGTERM ends a daemon within 10 seconds, climbs hanging or not, and gives back every lease;
  /healthz and /metrics answer while it runs; every log line is JSON.
- A daemon stopped for 10 minutes runs each job it missed once when it starts again (simulated clock).
- Three daemons on one PostgreSQL share 600 due checks; one is killed with SIGKILL half way: every
  check runs exactly once, and the killed daemon's work is claimed again within one lease and one tick.
  (The 10,000-check version and the one-hour soak are benchmarks/daemon_soak.py.)
"""

from __future__ import annotations

import json
import signal
import time
import urllib.request
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from archiver.storage import db
from archiver.storage.models import Embed, JobRun
from tests.support.daemon_world import (
    DaemonProcess,
    FakeYouTube,
    add_due_checks,
    check_counts,
    free_port,
    scalar,
    settings_data,
    wait_for,
    write_config,
)

T = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)


def held_by(url: str, pid: int | None = None) -> int:
    stmt = select(func.count(Embed.id)).where(Embed.lease_owner.is_not(None))
    if pid is not None:
        stmt = stmt.where(Embed.lease_owner.like(f"%/{pid}/%"))
    return int(scalar(url, stmt) or 0)


def owed_by(url: str, pid: int) -> int:
    """Due embeds a daemon holds: the work it owes. A daemon killed between judging a batch and giving
    it back leaves leases on embeds that are no longer due; those lapse, nobody needs to claim them."""
    stmt = select(func.count(Embed.id)).where(
        Embed.lease_owner.like(f"%/{pid}/%"), Embed.next_check_at <= datetime.now(UTC)
    )
    return int(scalar(url, stmt) or 0)


def job_runs(url: str) -> dict[str, datetime | None]:
    engine = db.make_engine(url)
    try:
        with engine.connect() as connection:
            return {job: at for job, at in connection.execute(select(JobRun.job, JobRun.last_run_at))}
    finally:
        engine.dispose()


def get(url: str) -> tuple[int, str, bytes]:
    with urllib.request.urlopen(url, timeout=10) as answer:
        return answer.status, answer.headers["Content-Type"], answer.read()


def test_sigterm_ends_the_daemon_within_ten_seconds_and_gives_back_its_leases(
    db_url: str, tmp_path: Path
) -> None:
    add_due_checks(db_url, 20, datetime.now(UTC))
    port = free_port()
    with FakeYouTube(delay=120).running() as fake:  # every climb hangs far beyond the stop
        data = settings_data(db_url, tmp_path, fake.url, check="every 1s", http_port=port)
        data["http"].update(read_timeout=120.0, deadline=120.0)
        daemon = DaemonProcess(write_config(tmp_path / "archiver.toml", data), tmp_path / "d.log", {}).start()
        try:
            wait_for(lambda: sum(fake.asked.values()) >= 2 and held_by(db_url) > 0, timeout=60)
            status, kind, body = get(f"http://127.0.0.1:{port}/healthz")
            health = json.loads(body)
            assert status == 200 and kind == "application/json"
            assert health["status"] == "ok" and health["jobs"]["check"]["running"]
            assert health["leases_held"] == held_by(db_url) > 0
            status, kind, body = get(f"http://127.0.0.1:{port}/metrics")
            metrics = body.decode()
            assert status == 200 and kind.startswith("text/plain; version=0.0.4")
            assert 'archiver_due{queue="check"} 20' in metrics
            assert 'archiver_job_running{job="check"} 1' in metrics
            asked = time.monotonic()
            daemon.signal(signal.SIGTERM)
            code = daemon.wait(timeout=15)
            took = time.monotonic() - asked
        finally:
            daemon.kill()
    print(f"SIGTERM to exit: {took:.2f}s")
    assert code == 0 and took < 10
    assert held_by(db_url) == 0  # nothing waits for a lease to expire
    lines = [line for line in daemon.raw_log().splitlines() if line.strip()]
    assert all(line.startswith("{") for line in lines), daemon.raw_log()  # JSON lines only
    logs = daemon.logs()
    assert [r["msg"] for r in logs if r["msg"] == "daemon stopped"] == ["daemon stopped"]
    assert all(r["daemon"].endswith(tuple("0123456789abcdef")) for r in logs)


def test_a_daemon_stopped_for_ten_minutes_runs_each_missed_job_once(db_url: str, tmp_path: Path) -> None:
    db.upgrade(db_url)
    config = write_config(tmp_path / "archiver.toml", settings_data(db_url, tmp_path, "http://127.0.0.1:9"))

    def run_at(instant: datetime, name: str, until: object) -> list[dict[str, object]]:
        daemon = DaemonProcess(
            config, tmp_path / f"{name}.log", {"ARCHIVER_NOW": instant.isoformat()}
        ).start()
        try:
            wait_for(until, timeout=60)  # type: ignore[arg-type]
            time.sleep(2)  # room for any run that should not happen
        finally:
            assert daemon.stop() == 0
        return [r for r in daemon.logs() if r["msg"] == "job started"]

    first = run_at(T, "first", lambda: len([at for at in job_runs(db_url).values() if at == T]) == 7)
    assert Counter(r["job"] for r in first) == {
        "scan": 1,
        "capture": 1,
        "check": 1,
        "rewrite": 1,
        "gc": 1,
        "recover": 1,
        "mirror": 1,
    }

    # Back after 10 minutes: capture (every 1m), mirror (every 2m) and check (every 5m) missed runs: each
    # runs once, now.
    # Scan and rewrite (every 15m) are due in 5 minutes, recover in 6 hours, gc tomorrow: none of them runs.
    later = T + timedelta(minutes=10)
    second = run_at(
        later,
        "second",
        lambda: (
            job_runs(db_url)["check"] == later == job_runs(db_url)["capture"] == job_runs(db_url)["mirror"]
        ),
    )
    assert Counter(r["job"] for r in second) == {"capture": 1, "check": 1, "mirror": 1}
    runs = job_runs(db_url)
    assert runs["scan"] == runs["rewrite"] == runs["gc"] == runs["recover"] == T

    # Back after 30 seconds: nothing was missed.
    third = run_at(later + timedelta(seconds=30), "third", lambda: True)
    assert third == []


@pytest.mark.postgres
@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_three_daemons_share_the_checks_and_a_killed_ones_work_is_claimed_again(
    db_url: str, tmp_path: Path
) -> None:
    n, lease, tick = 600, 3.0, 1.0
    add_due_checks(db_url, n, datetime.now(UTC))
    with FakeYouTube(delay=0.1).running() as fake:
        data = settings_data(db_url, tmp_path, fake.url, check="every 1s", lease="3s", batch=20)
        config = write_config(tmp_path / "archiver.toml", data)
        daemons = [DaemonProcess(config, tmp_path / f"d{i}.log", {}).start() for i in range(3)]
        victim = daemons[0]
        try:
            total = lambda: sum(check_counts(db_url).values())  # noqa: E731
            survivors = [d.pid for d in daemons[1:]]
            owed = lambda: any(owed_by(db_url, pid) for pid in survivors)  # noqa: E731
            wait_for(lambda: total() >= n // 3 and owed_by(db_url, victim.pid) > 0, timeout=120)
            held = owed_by(db_url, victim.pid)
            done_before = total()
            victim.signal(signal.SIGKILL)
            killed = time.monotonic()
            victim.wait(timeout=10)
            reclaimed = wait_for(lambda: owed_by(db_url, victim.pid) == 0, timeout=60, interval=0.02)
            wait_for(lambda: min(check_counts(db_url).values()) >= 1 and not owed(), timeout=180)
            finished = time.monotonic() - killed
            for daemon in daemons[1:]:
                assert daemon.stop() == 0
        except AssertionError as failure:
            # What each daemon was doing says why; the tails go with the failure.
            leases = scalar(db_url, select(func.min(Embed.lease_until)).where(Embed.lease_owner.is_not(None)))
            tails = "\n".join(f"--- daemon {i} (pid {d.pid}):\n{d.tail()}" for i, d in enumerate(daemons))
            raise AssertionError(
                f"{failure}; {held_by(db_url)} embeds still leased (earliest lease ends {leases}, "
                f"now {datetime.now(UTC)})\n{tails}"
            ) from failure
        finally:
            for daemon in daemons:
                daemon.kill()
    counts = check_counts(db_url)
    print(
        f"killed at {done_before}/{n} checks holding {held}; its work claimed again after {reclaimed:.2f}s "
        f"(lease {lease}s + tick {tick}s); all done {finished:.1f}s after the kill; "
        f"provider asked {sum(fake.asked.values())} times for {n} posts"
    )
    assert len(counts) == n and set(counts.values()) == {1}  # exactly once per cycle
    assert reclaimed <= lease + tick + 1.0
    by_daemon = Counter(
        r["daemon"]
        for d in daemons
        for r in d.logs()
        if r.get("msg") == "embed checked" and r["outcome"] == "ok"
    )
    assert len(by_daemon) == 3  # all three did a share
    with_future = scalar(db_url, select(func.count(Embed.id)).where(Embed.next_check_at <= datetime.now(UTC)))
    assert with_future == 0
