"""Verdicts: what an embed's checks say about it, and when to look again (DESIGN.md section 6).

Pure functions over outcomes (`decide`, `next_check`), and `apply_verdict`, which stores what they decide.
Both stages that fetch end here: the first capture and every later check.

    new ──ok──► live ──gone──► suspect ──gone x N over >= span, no ok between──► broken
                 ▲   ◄──ok────────┘  ◄──────────────────ok─────────────────────────┘
                 └──ok── needs_review ◄──ambiguous (login walls, soft 404s, 401/403)

Transient outcomes (timeouts, 5xx, 429, our own budgets) and checks made while a provider looked
unhealthy never count. Ambiguous outcomes lead to needs_review, never to broken. Any ok resets. An
embed never goes back to `new` ("not captured yet"): when the checks that told about it stop counting
(the mass-failure breaker voided them), it keeps its last telling state.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from archiver.config import CheckSettings, Settings, VerdictSettings, parse_duration
from archiver.records import EmbedState, Outcome
from archiver.storage import queries
from archiver.storage.models import Embed, StateChange


@dataclass(frozen=True, slots=True)
class Observation:
    at: datetime
    outcome: Outcome


@dataclass(frozen=True, slots=True)
class Verdict:
    state: EmbedState
    reason: str


def decide(since_last_ok: Sequence[Observation], ever_ok: bool, rules: VerdictSettings) -> Verdict:
    """The state the counted outcomes after the last ok (oldest first) justify."""
    gone = [o.at for o in since_last_ok if o.outcome is Outcome.GONE]
    telling = [o for o in since_last_ok if o.outcome in (Outcome.GONE, Outcome.AMBIGUOUS)]
    span = parse_duration(rules.gone_span)
    if len(gone) >= rules.gone_checks and gone[-1] - gone[0] >= span:
        hours = (gone[-1] - gone[0]).total_seconds() / 3600
        return Verdict(EmbedState.BROKEN, f"{len(gone)} gone outcomes over {hours:.0f}h with no ok between")
    if telling and telling[-1].outcome is Outcome.AMBIGUOUS:
        return Verdict(
            EmbedState.NEEDS_REVIEW, "the provider's answer is ambiguous (login wall, 401/403, soft 404)"
        )
    if gone:
        return Verdict(
            EmbedState.SUSPECT, f"{len(gone)} of {rules.gone_checks} gone outcomes needed to call it broken"
        )
    if ever_ok:
        return Verdict(EmbedState.LIVE, "the last telling outcome was ok")
    return Verdict(EmbedState.NEW, "no telling outcome yet")


def next_check(
    embed_id: int,
    state: EmbedState,
    first_seen: datetime,
    now: datetime,
    last_outcome: Outcome,
    transient_streak: int,
    checks: CheckSettings,
    rules: VerdictSettings,
) -> datetime:
    """When to check again: often while a post is young, rarely once settled, on the confirmation
    schedule while suspect; jittered so checks of many embeds spread out."""
    if last_outcome in (Outcome.TRANSIENT, Outcome.PROVIDER_DOWN):
        retry = parse_duration(checks.retry) * (2 ** min(transient_streak, 5))
        return now + _jittered(min(retry, timedelta(days=1)), embed_id, now, checks.jitter)
    if state is EmbedState.SUSPECT:
        # Never earlier than the rule allows: jitter only delays a confirmation.
        step = parse_duration(rules.gone_span) / (rules.gone_checks - 1)
        return now + step + _jitter_share(embed_id, now) * checks.jitter * step
    if state is EmbedState.BROKEN:
        return now + _jittered(parse_duration(checks.broken), embed_id, now, checks.jitter)
    if state is EmbedState.NEEDS_REVIEW:
        return now + _jittered(parse_duration(checks.review), embed_id, now, checks.jitter)
    age = now - first_seen
    if age < timedelta(days=1):
        interval = parse_duration(checks.young)
    elif age < timedelta(days=7):
        interval = parse_duration(checks.recent)
    elif age < timedelta(days=30):
        interval = parse_duration(checks.month)
    elif age < timedelta(days=90):
        interval = parse_duration(checks.settled)
    else:
        interval = parse_duration(checks.old)
    return now + _jittered(interval, embed_id, now, checks.jitter)


def _jitter_share(embed_id: int, now: datetime) -> float:
    """A number in [0, 1) that looks random but is the same for the same embed and instant (so that
    simulations replay exactly)."""
    digest = hashlib.sha256(f"{embed_id}:{now.isoformat()}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32


def _jittered(interval: timedelta, embed_id: int, now: datetime, jitter: float) -> timedelta:
    return interval * (1 + jitter * (2 * _jitter_share(embed_id, now) - 1))


def apply_verdict(session: Session, embed: Embed, settings: Settings, now: datetime) -> StateChange | None:
    """Decide the embed's state from its counted checks and schedule its next check."""
    embed.last_ok_at = queries.last_counted_ok(session, embed)
    observations = [
        Observation(at, Outcome(outcome)) for at, outcome in queries.counted_outcomes_since_ok(session, embed)
    ]
    verdict = decide(observations, embed.last_ok_at is not None, settings.verdicts)
    if verdict.state is EmbedState.NEW and embed.state != EmbedState.NEW.value:
        # Nothing counted is left to tell (the checks were voided): what was told before still stands.
        verdict = Verdict(EmbedState(embed.state), "its checks were voided: the last telling state stands")
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
    return embed.state == EmbedState.BROKEN.value
