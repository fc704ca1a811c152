"""The verdict rules as plain functions: every branch of `decide` and `next_check`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from archiver.config import CheckSettings, VerdictSettings
from archiver.pipeline.verdict import EmbedState, Observation, decide, next_check
from archiver.records import Outcome

T0 = datetime(2026, 1, 1, tzinfo=UTC)
RULES = VerdictSettings()
GONE, OK, AMB, TR = Outcome.GONE, Outcome.OK, Outcome.AMBIGUOUS, Outcome.TRANSIENT


def obs(*pairs: tuple[float, Outcome]) -> list[Observation]:
    return [Observation(T0 + timedelta(hours=h), o) for h, o in pairs]


@pytest.mark.parametrize(
    ("history", "ever_ok", "state"),
    [
        ([], True, EmbedState.LIVE),
        ([], False, EmbedState.NEW),
        (obs((0, GONE)), True, EmbedState.SUSPECT),
        (obs((0, GONE), (24, GONE)), True, EmbedState.SUSPECT),
        (obs((0, GONE), (24, GONE), (47.9, GONE)), True, EmbedState.SUSPECT),  # not yet 48 hours
        (obs((0, GONE), (24, GONE), (48, GONE)), True, EmbedState.BROKEN),
        (obs((0, GONE), (1, GONE), (2, GONE), (3, GONE)), True, EmbedState.SUSPECT),  # many, but too quick
        (
            obs((0, GONE), (10, TR), (24, GONE), (30, TR), (48, GONE)),
            True,
            EmbedState.BROKEN,
        ),  # transient ignored
        (obs((0, AMB)), True, EmbedState.NEEDS_REVIEW),
        (obs((0, AMB), (24, AMB), (48, AMB), (96, AMB)), True, EmbedState.NEEDS_REVIEW),  # never broken
        (obs((0, GONE), (24, AMB)), True, EmbedState.NEEDS_REVIEW),
        (obs((0, AMB), (24, GONE)), True, EmbedState.SUSPECT),
        (obs((0, TR), (1, TR), (2, TR)), True, EmbedState.LIVE),
        (
            obs((0, GONE), (24, GONE), (48, GONE)),
            False,
            EmbedState.BROKEN,
        ),  # deleted before we ever saw it ok
    ],
)
def test_decide(history: list[Observation], ever_ok: bool, state: EmbedState) -> None:
    assert decide(history, ever_ok, RULES).state is state


def test_the_rule_is_configurable() -> None:
    strict = VerdictSettings(gone_checks=4, gone_span="72h")
    history = obs((0, GONE), (24, GONE), (48, GONE))
    assert decide(history, True, strict).state is EmbedState.SUSPECT
    assert decide([*history, *obs((72, GONE))], True, strict).state is EmbedState.BROKEN


def test_cadence_backs_off_with_age_and_suspects_are_never_confirmed_early() -> None:
    checks = CheckSettings(jitter=0.1)

    def gap(state: EmbedState, age: timedelta, outcome: Outcome = OK, streak: int = 0) -> timedelta:
        now = T0 + age
        return next_check(7, state, T0, now, outcome, streak, checks, RULES) - now

    assert timedelta(hours=1.8) <= gap(EmbedState.LIVE, timedelta(hours=3)) <= timedelta(hours=2.2)
    assert timedelta(hours=10.8) <= gap(EmbedState.LIVE, timedelta(days=3)) <= timedelta(hours=13.2)
    assert timedelta(days=6.3) <= gap(EmbedState.LIVE, timedelta(days=40)) <= timedelta(days=7.7)
    assert timedelta(days=27) <= gap(EmbedState.LIVE, timedelta(days=400)) <= timedelta(days=33)
    for seed in range(50):
        now = T0 + timedelta(days=2, minutes=seed)
        assert next_check(seed, EmbedState.SUSPECT, T0, now, GONE, 0, checks, RULES) - now >= timedelta(
            hours=24
        )
    assert gap(EmbedState.LIVE, timedelta(days=3), TR, 0) <= timedelta(hours=1.1)
    assert gap(EmbedState.LIVE, timedelta(days=3), TR, 3) >= timedelta(hours=7)
    assert gap(EmbedState.LIVE, timedelta(days=3), TR, 10) <= timedelta(days=1.1)
    same = [next_check(7, EmbedState.LIVE, T0, T0, OK, 0, checks, RULES) for _ in range(3)]
    assert len(set(same)) == 1  # jitter is reproducible: simulations replay exactly
