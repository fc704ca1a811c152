"""How settings are written: durations, schedules, rates, and the base of every settings table."""

from __future__ import annotations

import re
from datetime import timedelta

from pydantic import BaseModel, ConfigDict

DEFAULT_CONFIG_NAME = "archiver.toml"
MiB = 1024 * 1024
SECRET_KEY = re.compile(r"(^|_)(token|secret|password|api_key)$")
S3_CREDENTIAL_KEY = re.compile(r"access_key|secret|session_token|password", re.IGNORECASE)
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(s|sec|m|min|h|hour|d|day)\s*$")
_RATE_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_DURATION_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """`"48h"` -> 48 hours; units s, m, h, d, w."""
    match = _DURATION.match(text)
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f'{text!r} is not a duration such as "30m", "48h" or "7d"')
    return timedelta(seconds=float(match.group(1)) * _DURATION_SECONDS[match.group(2)])


_EVERY = re.compile(r"^\s*every\s+(\d+(?:\.\d+)?\s*[smhdw])\s*$")
_CRON = re.compile(r"^\s*cron\s+(\S+(?:\s+\S+){4})\s*$")


def parse_schedule(text: str) -> timedelta | str:
    """`"every 15m"` -> 15 minutes; `"cron */15 * * * *"` -> the crontab fields (checked, UTC)."""
    every = _EVERY.match(text)
    if every:
        return parse_duration(every.group(1))
    cron = _CRON.match(text)
    if cron:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(cron.group(1), timezone="UTC")
        except ValueError as exc:
            raise ValueError(f"{text!r}: {exc}") from None
        return " ".join(cron.group(1).split())
    raise ValueError(f'{text!r} is not a schedule such as "every 15m" or "cron */15 * * * *"')


def parse_rate(text: str) -> tuple[int, float]:
    """`"1000/h"` -> (1000, 3600.0): a count and the window in seconds."""
    match = _RATE.match(text)
    if not match or int(match.group(1)) <= 0:
        raise ValueError(f'{text!r} is not a rate such as "1000/h" or "10/s"')
    return int(match.group(1)), float(_RATE_SECONDS[match.group(2)])


class Section(BaseModel):
    """A settings table: unknown keys are errors, values never change once loaded."""

    model_config = ConfigDict(extra="forbid", frozen=True)
