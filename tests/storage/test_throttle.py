"""Budgets and backoffs shared through the database: two processes' worth of objects, one budget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from archiver.clock import FixedClock
from archiver.storage.db import make_engine, session_factory, upgrade
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
