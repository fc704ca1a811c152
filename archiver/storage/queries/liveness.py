"""Liveness: the check queue, the counted outcomes the verdicts read, embed states, provider health and
the alerts raised when a provider's verdicts are paused."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import distinct, func, select, update
from sqlalchemy.orm import Session

from archiver import records
from archiver.storage.models import Alert, Check, Embed, ProviderHealth, StateChange


def embeds_due_for_check(
    session: Session, now: datetime, limit: int, providers: Collection[str] | None = None
) -> list[Embed]:
    """Embeds whose next check is due, the most overdue first."""
    stmt = select(Embed).where(Embed.next_check_at.is_not(None), Embed.next_check_at <= now)
    if providers is not None:
        stmt = stmt.where(Embed.provider.in_(list(providers)))
    return list(session.scalars(stmt.order_by(Embed.next_check_at, Embed.id).limit(limit)))


def counted_outcomes_since_ok(session: Session, embed: Embed) -> list[tuple[datetime, str]]:
    """(time, outcome) of the embed's counted checks after its last ok, oldest first."""
    stmt = select(Check.checked_at, Check.outcome).where(Check.embed_id == embed.id, Check.counted)
    if embed.last_ok_at is not None:
        stmt = stmt.where(Check.checked_at > embed.last_ok_at)
    return [(at, outcome) for at, outcome in session.execute(stmt.order_by(Check.checked_at, Check.id))]


def last_counted_ok(session: Session, embed: Embed) -> datetime | None:
    """When the embed's latest counted ok check was."""
    return session.scalar(
        select(func.max(Check.checked_at)).where(
            Check.embed_id == embed.id, Check.counted, Check.outcome == records.Outcome.OK.value
        )
    )


def transient_streak(session: Session, embed: Embed, limit: int = 10) -> int:
    """How many of the embed's latest checks in a row were transient (or our credentials refused)."""
    outcomes = session.scalars(
        select(Check.outcome)
        .where(Check.embed_id == embed.id)
        .order_by(Check.checked_at.desc(), Check.id.desc())
        .limit(limit)
    )
    streak = 0
    for outcome in outcomes:
        if outcome not in (records.Outcome.TRANSIENT.value, records.Outcome.PROVIDER_DOWN.value):
            break
        streak += 1
    return streak


def set_state(session: Session, embed: Embed, state: str, now: datetime, reason: str) -> StateChange | None:
    """Move the embed to `state`, logging the change with its time and reason; None if unchanged."""
    if embed.state == state:
        return None
    change = StateChange(embed=embed, changed_at=now, from_state=embed.state, to_state=state, reason=reason)
    session.add(change)
    embed.state = state
    embed.state_changed_at = now
    session.flush()
    return change


def uncount_checks(session: Session, provider: str, since: datetime) -> list[int]:
    """Stop checks of `provider` made since `since` from counting; returns the embeds they concern."""
    embed_ids = select(Embed.id).where(Embed.provider == provider)
    affected = list(
        session.scalars(
            select(Check.embed_id).where(Check.embed_id.in_(embed_ids), Check.checked_at >= since).distinct()
        )
    )
    session.execute(
        update(Check)
        .where(Check.embed_id.in_(embed_ids), Check.checked_at >= since)
        .values(counted=False)
        .execution_options(synchronize_session=False)
    )
    return affected


def latest_check_outcomes(session: Session, provider: str, since: datetime) -> dict[str, int]:
    """For the embeds of `provider` checked since `since`: how many have each outcome as their latest
    counted check of that window."""
    latest = (
        select(Check.embed_id, func.max(Check.checked_at).label("at"))
        .join(Embed, Embed.id == Check.embed_id)
        .where(Embed.provider == provider, Check.kind == "check", Check.counted, Check.checked_at >= since)
        .group_by(Check.embed_id)
        .subquery()
    )
    rows = session.execute(
        select(Check.outcome, func.count(distinct(Check.embed_id)))
        .join(latest, (Check.embed_id == latest.c.embed_id) & (Check.checked_at == latest.c.at))
        .where(Check.counted, Check.kind == "check")
        .group_by(Check.outcome)
    )
    return {outcome: int(n) for outcome, n in rows}


def provider_health(session: Session, provider: str) -> ProviderHealth | None:
    return session.get(ProviderHealth, provider)


def paused_providers(session: Session) -> list[ProviderHealth]:
    return list(
        session.scalars(select(ProviderHealth).where(ProviderHealth.paused).order_by(ProviderHealth.provider))
    )


def all_provider_health(session: Session) -> list[ProviderHealth]:
    """Every provider whose health was ever recorded, paused or not."""
    return list(session.scalars(select(ProviderHealth).order_by(ProviderHealth.provider)))


def pause_provider(session: Session, provider: str, reason: str, now: datetime) -> Alert | None:
    """Pause verdicts for `provider`; the alert raised, or None when it was paused already."""
    health = session.get(ProviderHealth, provider, with_for_update=True)
    if health is None:
        health = ProviderHealth(provider=provider, paused=False)
        session.add(health)
    health.probed_at = now
    if health.paused:
        return None
    health.paused, health.reason, health.since = True, reason, now
    alert = Alert(provider=provider, kind="provider_paused", message=reason, raised_at=now)
    session.add(alert)
    session.flush()
    return alert


def resume_provider(session: Session, provider: str, now: datetime) -> bool:
    """Resume verdicts for `provider` and resolve its open alerts; False when it was not paused."""
    health = session.get(ProviderHealth, provider, with_for_update=True)
    if health is None:
        session.add(ProviderHealth(provider=provider, paused=False, probed_at=now))
        session.flush()
        return False
    health.probed_at = now
    if not health.paused:
        return False
    health.paused, health.reason, health.since = False, None, None
    session.execute(
        update(Alert)
        .where(Alert.provider == provider, Alert.resolved_at.is_(None))
        .values(resolved_at=now)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return True


def alerts(session: Session, open_only: bool = False) -> list[Alert]:
    stmt = select(Alert).order_by(Alert.raised_at, Alert.id)
    if open_only:
        stmt = stmt.where(Alert.resolved_at.is_(None))
    return list(session.scalars(stmt))
