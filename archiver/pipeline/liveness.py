"""After captures and checks: the verdict of each embed, and when it is due again.

Kept apart from the stages that fetch, so both the first capture and every later check end the same
way: counted outcomes -> `verdict.decide` -> a logged state change -> `verdict.next_check`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from archiver.config import Settings
from archiver.pipeline.verdict import Observation, State, decide, next_check
from archiver.records import Outcome
from archiver.storage import queries
from archiver.storage.models import Embed, StateChange


def apply_verdict(session: Session, embed: Embed, settings: Settings, now: datetime) -> StateChange | None:
    """Decide the embed's state from its counted checks and schedule its next check."""
    embed.last_ok_at = queries.last_counted_ok(session, embed)
    observations = [
        Observation(at, Outcome(outcome)) for at, outcome in queries.counted_outcomes_since_ok(session, embed)
    ]
    verdict = decide(observations, embed.last_ok_at is not None, settings.verdicts)
    change = queries.set_state(session, embed, verdict.state.value, now, verdict.reason)
    if embed.last_captured_at is not None:  # never captured: the capture queue retries it instead
        embed.next_check_at = next_check(
            embed.id,
            verdict.state,
            embed.first_seen_at,
            now,
            Outcome(embed.last_outcome or Outcome.OK.value),
            queries.transient_streak(session, embed),
            settings.checks,
            settings.verdicts,
        )
    return change


def is_broken(embed: Embed) -> bool:
    return embed.state == State.BROKEN.value
