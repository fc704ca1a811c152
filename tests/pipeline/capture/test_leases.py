"""Leases on due work (issue 7): claim, release, expiry; two claimers never hold the same embed.

Runs on SQLite and, when ARCHIVER_TEST_POSTGRES_URL is set, on PostgreSQL (where claims use FOR UPDATE
SKIP LOCKED); the schema comes from the migrations.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from archiver.storage import db, queries
from archiver.storage.models import Check, Embed, Snapshot
from tests.support.daemon_world import ROOT, add_due_checks

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=10)


def embed(session: Session, post_id: str, provider: str = "youtube", **values: Any) -> Embed:
    row = Embed(
        provider=provider,
        post_id=post_id,
        canonical_url=f"https://example.org/{post_id}",
        state=values.pop("state", "live"),
        first_seen_at=values.pop("first_seen_at", NOW - timedelta(days=1)),
        capture_attempts=0,
        **values,
    )
    session.add(row)
    session.flush()
    return row


def due_for_check(session: Session, n: int, provider: str = "youtube") -> list[Embed]:
    rows = [
        embed(
            session,
            f"{provider}-{i:03d}",
            provider,
            last_captured_at=NOW - timedelta(days=1),
            next_check_at=NOW - timedelta(minutes=n - i),
        )
        for i in range(n)
    ]
    session.commit()
    return rows


def claim_checks(session: Session, owner: str, now: datetime = NOW, limit: int = 100, **kw: Any) -> list[int]:
    with session.begin():
        return [e.id for e in queries.claim_due_checks(session, owner, now, LEASE, limit, **kw)]


def test_claims_take_the_most_overdue_free_embeds_and_write_the_lease(session: Session) -> None:
    rows = due_for_check(session, 5)
    embed(session, "later", last_captured_at=NOW, next_check_at=NOW + timedelta(hours=1))
    session.commit()

    first = claim_checks(session, "a", limit=3)
    assert first == [r.id for r in rows[:3]]  # the most overdue first
    second = claim_checks(session, "b", limit=10)
    assert second == [r.id for r in rows[3:]]  # the free ones only; not the one due later
    assert claim_checks(session, "c") == []

    session.expire_all()
    held = {e.id: (e.lease_owner, e.lease_until) for e in session.scalars(select(Embed))}
    assert all(held[i] == ("a", NOW + LEASE) for i in first)
    assert all(held[i] == ("b", NOW + LEASE) for i in second)


def test_release_frees_only_the_owners_own_leases(session: Session) -> None:
    rows = due_for_check(session, 4)
    mine = claim_checks(session, "a", limit=2)
    theirs = claim_checks(session, "b", limit=2)
    with session.begin():
        assert queries.release(session, "a", [*mine, *theirs]) == 2  # b's are not a's to give back
    assert claim_checks(session, "c") == mine
    with session.begin():
        assert queries.release_all(session, "b") == 2
    assert claim_checks(session, "d") == theirs
    assert sorted(mine + theirs) == sorted(r.id for r in rows)


def test_an_expired_lease_is_claimed_again(session: Session) -> None:
    due_for_check(session, 3)
    claimed = claim_checks(session, "dead")
    assert claim_checks(session, "b", now=NOW + LEASE - timedelta(seconds=1)) == []
    assert claim_checks(session, "b", now=NOW + LEASE) == claimed  # lease_until <= now: free


def test_renewing_keeps_the_lease(session: Session) -> None:
    due_for_check(session, 2)
    claimed = claim_checks(session, "a")
    with session.begin():
        assert queries.renew_leases(session, "a", claimed, NOW + 2 * LEASE) == 2
        assert queries.renew_leases(session, "b", claimed, NOW + 3 * LEASE) == 0
    assert claim_checks(session, "b", now=NOW + LEASE) == []
    assert claim_checks(session, "b", now=NOW + 2 * LEASE) == claimed


def test_claims_follow_the_providers_asked_for(session: Session) -> None:
    due_for_check(session, 2, "youtube")
    vimeo = due_for_check(session, 2, "vimeo")
    assert claim_checks(session, "a", providers={"vimeo"}) == [r.id for r in vimeo]
    assert claim_checks(session, "a", providers=set()) == []


def test_hold_lease_is_true_only_for_the_holder(session: Session) -> None:
    (row,) = due_for_check(session, 1)
    claim_checks(session, "a")
    with session.begin():
        assert queries.hold_lease(session, row.id, "a")
        assert not queries.hold_lease(session, row.id, "b")
    # a's lease expired and b took it over: a may not record any more.
    claim_checks(session, "b", now=NOW + LEASE)
    with session.begin():
        assert not queries.hold_lease(session, row.id, "a")
        assert queries.hold_lease(session, row.id, "b")


def test_capture_claims_take_new_embeds_without_snapshots(session: Session) -> None:
    new = embed(session, "new", next_capture_at=NOW - timedelta(minutes=5))
    unset = embed(session, "unset", first_seen_at=NOW - timedelta(days=2))
    embed(session, "retry-later", next_capture_at=NOW + timedelta(hours=1))
    captured = embed(session, "captured", last_captured_at=NOW)
    session.add(Snapshot(embed=captured, version=1, captured_at=NOW, content_sha256="0" * 64))
    session.commit()
    with session.begin():
        claimed = queries.claim_due_captures(session, "a", NOW, LEASE, 10)
    assert [e.id for e in claimed] == [unset.id, new.id]  # longest-known first
    with session.begin():
        assert queries.claim_due_captures(session, "b", NOW, LEASE, 10) == []


def test_a_captured_embed_left_without_a_verdict_is_due_and_only_needs_judging(session: Session) -> None:
    orphan = embed(session, "orphan", last_captured_at=NOW)  # a run died between capture and verdict
    checked = embed(session, "checked", last_captured_at=NOW, next_check_at=NOW - timedelta(hours=1))
    fresh = embed(session, "fresh", last_captured_at=NOW, next_check_at=NOW - timedelta(hours=1))
    embed(session, "never-captured")
    session.add(
        Check(embed=checked, checked_at=NOW - timedelta(minutes=30), kind="check", outcome="ok", reason="")
    )
    session.add(
        Check(embed=fresh, checked_at=NOW - timedelta(hours=3), kind="check", outcome="ok", reason="")
    )
    session.commit()

    claimed = claim_checks(session, "a")
    assert sorted(claimed) == sorted([orphan.id, checked.id, fresh.id])
    assert queries.checked_since_due(session, claimed) == {orphan.id, checked.id}


def test_two_claimers_in_threads_never_get_the_same_embed(db_url: str) -> None:
    add_due_checks(db_url, 300, NOW)
    engine = db.make_engine(db_url)
    sessions = db.session_factory(engine)
    got: dict[str, list[int]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def claimer(owner: str) -> None:
        mine: list[int] = []
        try:
            start.wait()
            while True:
                with sessions() as session, session.begin():
                    batch = queries.claim_due_checks(session, owner, NOW, LEASE, 7)
                if not batch:
                    break
                mine.extend(e.id for e in batch)
        except BaseException as exc:  # reported below
            errors.append(exc)
        got[owner] = mine

    threads = [threading.Thread(target=claimer, args=(f"t{i}",)) for i in range(4)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    finally:
        engine.dispose()
    assert not errors, errors
    every = [i for ids in got.values() for i in ids]
    assert len(every) == len(set(every)) == 300
    assert sum(1 for ids in got.values() if ids) >= 2  # they really did share the work


CLAIMER = textwrap.dedent(
    """
    import json, sys
    from datetime import datetime, timedelta
    from archiver.storage import db, queries
    url, owner, now = sys.argv[1], sys.argv[2], datetime.fromisoformat(sys.argv[3])
    engine = db.make_engine(url)
    sessions = db.session_factory(engine)
    mine = []
    while True:
        with sessions() as session, session.begin():
            batch = queries.claim_due_checks(session, owner, now, timedelta(minutes=10), 5)
        if not batch:
            break
        mine.extend(e.id for e in batch)
    print(json.dumps(mine))
    """
)


def test_three_claiming_processes_never_get_the_same_embed(db_url: str) -> None:
    add_due_checks(db_url, 300, NOW)
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, db_url, f"p{i}", NOW.isoformat()],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    claimed: list[list[int]] = []
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err
        claimed.append(json.loads(out))
    every = [i for ids in claimed for i in ids]
    assert len(every) == len(set(every)) == 300


def test_job_leases_and_last_runs(session: Session) -> None:
    with session.begin():
        assert queries.claim_job(session, "scan", "a", NOW, LEASE)
        assert not queries.claim_job(session, "scan", "b", NOW, LEASE)
        assert queries.claim_job(session, "scan", "a", NOW + timedelta(minutes=1), LEASE)  # renewal
        assert not queries.claim_job(session, "scan", "b", NOW + LEASE, LEASE)
        assert queries.claim_job(session, "scan", "b", NOW + timedelta(minutes=11), LEASE)
        queries.release_job(session, "scan", "a")  # not a's any more: nothing happens
        assert not queries.claim_job(session, "scan", "c", NOW + timedelta(minutes=12), LEASE)
        queries.release_job(session, "scan", "b")
        assert queries.claim_job(session, "scan", "c", NOW + timedelta(minutes=12), LEASE)

        queries.mark_job_run(session, "check", NOW)
        queries.mark_job_run(session, "check", NOW - timedelta(hours=1))  # an older start never wins
        assert queries.job_runs(session)["check"] == NOW
        assert queries.job_runs(session)["scan"] is None


def test_leases_held_counts_unexpired_leases(session: Session) -> None:
    due_for_check(session, 3)
    claim_checks(session, "a", limit=2)
    claim_checks(session, "b", limit=1)
    assert queries.leases_held(session, NOW) == 3
    assert queries.leases_held(session, NOW, "a") == 2
    assert queries.leases_held(session, NOW + LEASE) == 0
    session.execute(update(Embed).values(lease_owner=None, lease_until=None))
    session.commit()
    assert queries.leases_held(session, NOW) == 0
