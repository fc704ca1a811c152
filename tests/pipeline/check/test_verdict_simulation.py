"""Liveness simulations (issue 5): a real loopback provider, a simulated clock, weeks in seconds.

Never cry wolf: transient failures never count, ambiguous answers go to review, a provider-wide
failure pauses verdicts, and only a confirmed deletion (3 gone outcomes over 48 hours, no ok between)
is called broken.
"""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

from archiver.storage import queries
from archiver.storage.models import Check, Embed
from tests.support.sim_world import CANARY, START, Answer, world


def ids(prefix: str, n: int) -> list[str]:
    """Valid-looking YouTube ids (11 characters, the last one of the 16 YouTube allows)."""
    return [f"{prefix}{i:0{10 - len(prefix)}d}A" for i in range(n)]


def broken_history(w, post_id: str) -> tuple[list, list]:  # type: ignore[no-untyped-def]
    with w.app.sessions() as session:
        embed = session.query(Embed).filter(Embed.post_id == post_id).one()
        checks = [(c.checked_at, c.outcome, c.counted) for c in embed.checks]
        changes = [(c.changed_at, c.from_state, c.to_state) for c in embed.state_changes]
    return checks, changes


def test_a_thousand_checks_with_faults_make_no_false_broken(tmp_path: Path) -> None:
    rng = random.Random(20261120)

    def faulty(post_id: str, now: object) -> Answer:
        if post_id == CANARY:
            return Answer()
        roll = rng.random()
        if roll < 0.05:
            return Answer(500, b"oops")
        if roll < 0.07:
            return Answer(429, b"slow down")
        if roll < 0.09:
            return Answer(delay=0.5)
        if roll < 0.10:
            return Answer(reset=True)
        if roll < 0.11:
            return Answer(truncate=True)
        return Answer()

    with world(tmp_path, lambda post_id, now: Answer()) as w:
        w.add_posts(ids("live", 100))
        w.set_behaviour(faulty)
        checks = 0
        for _ in range(24 * 14):
            report = w.tick(hours=1)
            checks += report.attempted
            if checks >= 1000:
                break
        assert checks >= 1000
        states = w.states()
        assert "broken" not in states.values()
        assert "suspect" not in states.values() and "needs_review" not in states.values()
        with w.app.sessions() as session:
            outcomes = {o for (o,) in session.query(Check.outcome)}
        assert "transient" in outcomes  # the faults really happened


def test_fifty_deleted_posts_are_broken_exactly_by_the_rule(tmp_path: Path) -> None:
    deleted = set(ids("gone", 50))
    deleted_at = START + timedelta(days=1)

    def answers(post_id: str, now: object) -> Answer:
        if post_id in deleted and now >= deleted_at:  # type: ignore[operator]
            return Answer(404, b'{"error": "Not Found"}')
        return Answer()

    with world(tmp_path, answers) as w:
        w.add_posts(sorted(deleted) + ids("keep", 50))
        for _ in range(24 * 6):
            w.tick(hours=1)
        states = w.states()
        assert {p for p, s in states.items() if s == "broken"} == deleted
        for post_id in deleted:
            checks, changes = broken_history(w, post_id)
            broke_at = next(at for at, _, to in changes if to == "broken")
            gone = [at for at, outcome, counted in checks if outcome == "gone" and counted and at <= broke_at]
            # Exactly at the rule: the third counted gone, at least 48 hours after the first; not before.
            assert len(gone) == 3 and gone[-1] == broke_at
            assert gone[-1] - gone[0] >= timedelta(hours=48)
            assert [to for _, _, to in changes] == ["live", "suspect", "broken"]


def test_a_post_flapping_between_404_and_200_for_two_weeks_is_never_broken(tmp_path: Path) -> None:
    seen: dict[str, int] = {}

    def flapping(post_id: str, now: object) -> Answer:
        if post_id != "flap000000A":
            return Answer()
        seen[post_id] = seen.get(post_id, 0) + 1
        return Answer(404, b"{}") if seen[post_id] % 2 == 0 else Answer()

    with world(tmp_path, flapping) as w:
        w.add_posts(["flap000000A"])
        history = []
        for _ in range(24 * 14):
            w.tick(hours=1)
            history.append(w.states()["flap000000A"])
        assert "broken" not in history
        assert "suspect" in history  # it did look bad, again and again
        assert seen["flap000000A"] > 10


def test_a_72_hour_outage_pauses_the_provider_and_checks_resume_after(tmp_path: Path) -> None:
    outage = (START + timedelta(days=2), START + timedelta(days=5))

    def answers(post_id: str, now: object) -> Answer:
        if outage[0] <= now < outage[1]:  # type: ignore[operator]
            return Answer(404, b"<html>Not Found</html>", "text/html")  # the worst kind: looks like deletion
        return Answer()

    with world(tmp_path, answers) as w:
        w.add_posts(ids("post", 30))
        paused_seen = False
        for _ in range(24 * 8):
            report = w.tick(hours=1)
            with w.app.sessions() as session:
                paused = [h.provider for h in queries.paused_providers(session)]
            if outage[0] + timedelta(hours=1) <= w.clock.now() < outage[1]:
                assert paused == ["youtube"]
                paused_seen = True
            if w.clock.now() >= outage[1] + timedelta(hours=1):
                assert paused == []
        assert paused_seen
        assert set(w.states().values()) == {"live"}
        with w.app.sessions() as session:
            after = session.query(Check).filter(Check.checked_at > outage[1], Check.kind == "check").count()
            alerts = queries.alerts(session)
        assert after > 0  # checks resumed
        assert len(alerts) == 1 and alerts[0].resolved_at is not None
        assert report is not None


def test_credentials_refused_everywhere_means_zero_broken_and_one_alert(tmp_path: Path) -> None:
    refused = Answer(
        400, b'{"error":{"message":"Invalid OAuth access token.","type":"OAuthException","code":190}}'
    )
    with world(tmp_path, lambda post_id, now: Answer(), canaries=False) as w:
        w.add_posts(ids("cred", 20))
        w.set_behaviour(lambda post_id, now: refused)
        for _ in range(24 * 5):
            w.tick(hours=1)
        states = w.states()
        assert "broken" not in states.values()
        with w.app.sessions() as session:
            alerts = queries.alerts(session)
            paused = queries.paused_providers(session)
        assert len(alerts) == 1 and [h.provider for h in paused] == ["youtube"]


def test_soft_404s_need_review_and_are_never_ok_or_broken(tmp_path: Path) -> None:
    walls = {
        "wall000000A": Answer(
            200, b"<!DOCTYPE html><html><body>Sign in to confirm</body></html>", "text/html"
        ),
        "nohtml0000A": Answer(200, b'{"version": "1.0", "type": "video", "title": "x"}'),
    }
    with world(tmp_path, lambda post_id, now: Answer()) as w:
        w.add_posts([*walls, *ids("fine", 5)])
        w.set_behaviour(lambda post_id, now: walls.get(post_id, Answer()))
        for _ in range(24 * 7):
            w.tick(hours=1)
        states = w.states()
        assert states["wall000000A"] == "needs_review" and states["nohtml0000A"] == "needs_review"
        with w.app.sessions() as session:
            for post_id in walls:
                embed = session.query(Embed).filter(Embed.post_id == post_id).one()
                outcomes = [c.outcome for c in embed.checks if c.kind == "check"]
                assert outcomes and set(outcomes) == {"ambiguous"}


def test_without_canaries_a_mass_failure_trips_the_breaker_and_does_not_count(tmp_path: Path) -> None:
    broken_from = START + timedelta(days=3)

    def answers(post_id: str, now: object) -> Answer:
        return Answer(404, b"{}") if now >= broken_from else Answer()  # type: ignore[operator]

    with world(tmp_path, lambda p, n: Answer(), canaries=False) as w:
        w.add_posts(ids("mass", 30))
        w.set_behaviour(answers)
        for _ in range(24 * 7):
            w.tick(hours=1)
        states = w.states()
        assert "broken" not in states.values()
        with w.app.sessions() as session:
            paused = queries.paused_providers(session)
            counted_gone = session.query(Check).filter(Check.outcome == "gone", Check.counted).count()
        assert [h.provider for h in paused] == ["youtube"]
        assert counted_gone == 0
