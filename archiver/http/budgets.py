"""How often the client may ask: request budgets per key (`Budgets`; `RateBudgets` in one process) and the
waits hosts asked for (`Backoffs`; `MemoryHostBackoffs` in one process). The database-backed versions that
several processes share live in `archiver.storage.throttle`."""

from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timedelta
from typing import Protocol

from archiver.clock import Clock


class Budgets(Protocol):
    """Request budgets per key: `RateBudgets` in one process, `storage.throttle.DbRateBudgets` shared."""

    def set_limit(self, key: str, count: int, window_seconds: float) -> None: ...
    def try_acquire(self, key: str) -> bool: ...
    def remaining(self, key: str) -> int | None: ...
    def retry_after(self, key: str) -> float | None: ...


class Backoffs(Protocol):
    """Per-host "not before" instants that hosts asked for (429 or 503 with Retry-After)."""

    def until(self, host: str) -> tuple[datetime, str] | None: ...
    def defer(self, host: str, delay: timedelta, reason: str) -> None: ...


class RateBudgets:
    """Per-key sliding-window budgets in this process, read from the injected Clock (archiver.clock.Clock).

    A key is usually one provider endpoint (Meta's tokenless oEmbed: 1,000 requests an hour). Keys with no
    limit set are not counted and never run out. Budgets shared across daemons live in the database; this
    one only stops a single process from overrunning.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._limits: dict[str, tuple[int, timedelta]] = {}
        self._used: dict[str, deque[datetime]] = {}

    def set_limit(self, key: str, count: int, window_seconds: float) -> None:
        if count <= 0 or window_seconds <= 0:
            raise ValueError(
                f"a rate budget needs a positive count and window, got {count}/{window_seconds}s"
            )
        with self._lock:
            self._limits[key] = (count, timedelta(seconds=window_seconds))
            self._used.setdefault(key, deque())

    def try_acquire(self, key: str) -> bool:
        """True and counts one request, or False when the budget is used up. Never waits."""
        with self._lock:
            if key not in self._limits:
                return True
            count, _ = self._limits[key]
            now = self._clock.now()
            used = self._prune(key, now)
            if len(used) >= count:
                return False
            used.append(now)
            return True

    def remaining(self, key: str) -> int | None:
        """Requests left in the current window, or None when the key has no limit."""
        with self._lock:
            if key not in self._limits:
                return None
            return max(self._limits[key][0] - len(self._prune(key, self._clock.now())), 0)

    def retry_after(self, key: str) -> float | None:
        """Seconds until one request may be made (0.0 when one may be made now); None if not limited."""
        with self._lock:
            if key not in self._limits:
                return None
            count, window = self._limits[key]
            now = self._clock.now()
            used = self._prune(key, now)
            if len(used) < count:
                return 0.0
            # The window must drop enough old requests to leave one slot free.
            frees_at = used[len(used) - count] + window
            return max((frees_at - now).total_seconds(), 0.0)

    def _prune(self, key: str, now: datetime) -> deque[datetime]:
        used = self._used[key]
        window = self._limits[key][1]
        while used and used[0] <= now - window:
            used.popleft()
        return used


class MemoryHostBackoffs:
    """`Backoffs` in this process only (the CLI shares them through the database instead)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._until: dict[str, tuple[datetime, str]] = {}
        self._lock = threading.Lock()

    def until(self, host: str) -> tuple[datetime, str] | None:
        with self._lock:
            found = self._until.get(host)
        return found if found is not None and found[0] > self._clock.now() else None

    def defer(self, host: str, delay: timedelta, reason: str) -> None:
        until = self._clock.now() + delay
        with self._lock:
            current = self._until.get(host)
            if current is None or current[0] < until:
                self._until[host] = (until, reason)
