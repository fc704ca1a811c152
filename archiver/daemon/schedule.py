"""When a job runs: a `[daemon]` schedule read into an APScheduler trigger, and whether a run is due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from archiver.config import parse_schedule


@dataclass(frozen=True, slots=True)
class Schedule:
    """A `[daemon]` schedule: "every 15m" (an interval) or "cron */15 * * * *" (UTC)."""

    text: str
    interval: timedelta | None
    cron: str | None

    @classmethod
    def parse(cls, text: str) -> Schedule:
        parsed = parse_schedule(text)
        if isinstance(parsed, timedelta):
            return cls(text, parsed, None)
        return cls(text, None, parsed)

    def trigger(self) -> BaseTrigger:
        if self.interval is not None:
            return IntervalTrigger(seconds=self.interval.total_seconds(), timezone=UTC)
        assert self.cron is not None
        return CronTrigger.from_crontab(self.cron, timezone=UTC)

    def next_after(self, instant: datetime) -> datetime:
        """The first run this schedule wants after `instant`."""
        if self.interval is not None:
            return instant + self.interval
        assert self.cron is not None
        fire: datetime | None = CronTrigger.from_crontab(self.cron, timezone=UTC).get_next_fire_time(
            None, instant + timedelta(microseconds=1)
        )
        return fire.astimezone(UTC) if fire is not None else instant + timedelta(days=366)

    def due(self, last: datetime | None, now: datetime) -> bool:
        """Whether a run is due at `now` when the last one (by any daemon) started at `last`. Ticks come a
        few milliseconds after the instant they were due, so a tenth of an interval is tolerated."""
        if last is None:
            return True
        slack = self.interval / 10 if self.interval is not None else timedelta(seconds=1)
        return self.next_after(last) - slack <= now
