"""The one place that reads the time.

Every component receives a `Clock`; none calls `datetime.now()` itself. `ARCHIVER_NOW` (an ISO 8601
instant) pins the clock so weeks of checks can be simulated in seconds.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Protocol

from archiver.errors import ConfigError


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...

    @property
    def runs(self) -> bool:
        """Whether `now()` moves by itself as real time passes. A wait for an instant on a clock that does
        not run (a pinned one) never ends: waiters give the work back instead."""
        ...


class SystemClock:
    runs = True

    def now(self) -> datetime:
        return datetime.now(UTC)


class FixedClock:
    """A clock that stands still until moved; for simulations and tests."""

    runs = False

    def __init__(self, instant: datetime) -> None:
        self._instant = _as_utc(instant)

    def now(self) -> datetime:
        return self._instant

    def advance(self, delta: timedelta) -> None:
        self._instant += delta

    def set(self, instant: datetime) -> None:
        self._instant = _as_utc(instant)


def parse_instant(text: str) -> datetime:
    """Parse an ISO 8601 instant (`Z` allowed); naive values are taken as UTC."""
    try:
        value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(f"ARCHIVER_NOW: {text!r} is not an ISO 8601 instant") from exc
    return _as_utc(value)


def clock_from_env(env: Mapping[str, str]) -> Clock:
    """`FixedClock` at `ARCHIVER_NOW` when set, else the system clock."""
    pinned = env.get("ARCHIVER_NOW", "").strip()
    return FixedClock(parse_instant(pinned)) if pinned else SystemClock()


def _as_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
