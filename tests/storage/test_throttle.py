"""Budgets and backoffs shared through the database: two processes' worth of objects, one budget."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from archiver.clock import FixedClock
from archiver.storage.db import make_engine, session_factory, upgrade
from archiver.storage.models import RateWindow
from archiver.storage.throttle import DbHostBackoffs, DbRateBudgets

START = datetime(2026, 11, 20, 12, 0, 0, tzinfo=UTC)


def test_two_budget_objects_share_one_window(db_url: str) -> None:
    upgrade(db_url)
    engine = make_engine(db_url)
    clock = FixedClock(START)
    one, two = DbRateBudgets(session_factory(engine), clock), DbRateBudgets(session_factory(engine), clock)
    for budget in (one, two):
        budget.set_limit("instagram@graph.facebook.com", 3, 60)
    taken = [
        one.try_acquire("instagram@graph.facebook.com"),
        two.try_acquire("instagram@graph.facebook.com"),
        one.try_acquire("instagram@graph.facebook.com"),
        two.try_acquire("instagram@graph.facebook.com"),
    ]
    assert taken == [True, True, True, False]
    assert two.remaining("instagram@graph.facebook.com") == 0
    assert one.retry_after("instagram@graph.facebook.com") == 60.0
    assert one.try_acquire("unlimited-key") is True
    clock.advance(timedelta(seconds=60))
    assert two.try_acquire("instagram@graph.facebook.com") is True
    assert one.remaining("instagram@graph.facebook.com") == 2
    engine.dispose()


def test_backoffs_are_seen_by_every_process_and_only_extend(db_url: str) -> None:
    upgrade(db_url)
    engine = make_engine(db_url)
    clock = FixedClock(START)
    one, two = DbHostBackoffs(session_factory(engine), clock), DbHostBackoffs(session_factory(engine), clock)
    assert two.until("example.org") is None
    one.defer("example.org", timedelta(minutes=10), "429 with Retry-After 600")
    one.defer("example.org", timedelta(minutes=1), "a shorter one does not shorten it")
    seen = two.until("example.org")
    assert seen == (START + timedelta(minutes=10), "429 with Retry-After 600")
    clock.advance(timedelta(minutes=10))
    assert two.until("example.org") is None
    engine.dispose()


def test_a_host_backed_off_by_many_threads_at_once_keeps_the_latest_instant(db_url: str) -> None:
    """A 429 answering several requests in flight: each thread stores the backoff at the same moment.
    None of them may fail (it used to: two inserts of the same host), and the latest instant wins."""
    upgrade(db_url)
    engine = make_engine(db_url)
    clock = FixedClock(START)
    backoffs = [DbHostBackoffs(session_factory(engine), clock) for _ in range(8)]
    gate = threading.Barrier(len(backoffs))
    errors: list[BaseException] = []

    def defer(index: int) -> None:
        gate.wait()
        try:
            backoffs[index].defer(
                "example.org", timedelta(seconds=index + 1), f"429 with Retry-After {index + 1}"
            )
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=defer, args=(i,)) for i in range(len(backoffs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert backoffs[0].until("example.org") == (START + timedelta(seconds=8), "429 with Retry-After 8")
    engine.dispose()


class SteppingClock:
    """A clock that reads each of `instants` once, in order, then stays on the last."""

    runs = True

    def __init__(self, *instants: datetime) -> None:
        self.instants = list(instants)

    def now(self) -> datetime:
        return self.instants.pop(0) if len(self.instants) > 1 else self.instants[0]


def test_a_request_is_counted_in_the_window_it_is_sent_in(db_url: str) -> None:
    """The window ends while the count is being made (the wait for SQLite's write lock took seconds on a
    busy machine): the count is made again in the new window, where the request will arrive."""
    upgrade(db_url)
    engine = make_engine(db_url)
    late = START + timedelta(seconds=1, milliseconds=200)
    clock = SteppingClock(START + timedelta(milliseconds=900), late)
    budgets = DbRateBudgets(session_factory(engine), clock)
    budgets.set_limit("youtube@www.youtube.com", 10, 1)
    assert budgets.try_acquire("youtube@www.youtube.com") is True
    with session_factory(engine)() as session:
        counted = {row.window_start: row.used for row in session.scalars(select(RateWindow))}
    assert counted == {int(late.timestamp()): 1}
    assert budgets.remaining("youtube@www.youtube.com") == 9
    engine.dispose()


def test_a_request_counted_at_the_very_end_of_a_window_counts_in_the_next_too(db_url: str) -> None:
    """Counted 50 ms before its window ends, a request may reach the provider after it: it takes a slot in
    both windows; and when the next one is full already, none (it would arrive over the cap)."""
    upgrade(db_url)
    engine = make_engine(db_url)
    edge = START + timedelta(milliseconds=950)
    budgets = DbRateBudgets(session_factory(engine), FixedClock(edge))
    budgets.set_limit("vimeo@vimeo.com", 2, 1)
    assert budgets.try_acquire("vimeo@vimeo.com") is True
    following = DbRateBudgets(session_factory(engine), FixedClock(START + timedelta(seconds=1)))
    following.set_limit("vimeo@vimeo.com", 2, 1)
    assert following.remaining("vimeo@vimeo.com") == 1
    assert following.try_acquire("vimeo@vimeo.com") is True
    assert budgets.try_acquire("vimeo@vimeo.com") is False  # its own window has room, the next has not
    assert budgets.remaining("vimeo@vimeo.com") == 1
    engine.dispose()


def test_a_write_lock_held_past_the_busy_timeout_defers_the_request_instead_of_failing(
    tmp_path: Path,
) -> None:
    """SQLite only: many capture threads waiting for the write lock on a busy machine, one of them past
    the busy timeout (5 s). It used to raise "database is locked" out of the capture run."""
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    upgrade(url)
    engine = make_engine(url)
    budgets = DbRateBudgets(session_factory(engine), FixedClock(START))
    budgets.set_limit("youtube@www.youtube.com", 10, 1)
    holder = sqlite3.connect(tmp_path / "archive.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # the write lock, held
    try:
        assert budgets.try_acquire("youtube@www.youtube.com") is False
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert budgets.try_acquire("youtube@www.youtube.com") is True
    assert budgets.remaining("youtube@www.youtube.com") == 9
    engine.dispose()
