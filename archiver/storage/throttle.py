"""HTTP manners every process shares, kept in the database: request budgets and host backoffs.

`DbRateBudgets` counts requests per key (provider and host) in fixed windows, so that several daemons
on several machines together stay within a provider's rate. `DbHostBackoffs` remembers a host's
"wait until" (429 or 503 with Retry-After), so no process asks it again before then. Both never wait:
they answer yes or no, and the caller defers its work.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from archiver.clock import Clock
from archiver.storage.models import HostBackoff, RateWindow

# Old windows are swept now and then; a window is kept for this many of its lengths.
_KEEP_WINDOWS = 2
# Counts made again when the window ended while one was being made (each try waits for the lock anew).
_WINDOW_TRIES = 3
# A request counted this close to the end of its window is counted in the next one too: between the count
# and its arrival at the provider lie the commit and the connection (up to 44 ms measured on a busy machine).
_EDGE = 0.1


class DbRateBudgets:
    """Fixed-window request budgets counted in the database (the `http.Budgets` interface)."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock
        self._limits: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def set_limit(self, key: str, count: int, window_seconds: float) -> None:
        if count <= 0 or window_seconds <= 0:
            raise ValueError(
                f"a rate budget needs a positive count and window, got {count}/{window_seconds}s"
            )
        with self._lock:
            self._limits[key] = (count, max(int(window_seconds), 1))

    def try_acquire(self, key: str) -> bool:
        """Count one request against `key`; False (nothing counted) when its window is used up.

        The request is counted in the window it is sent in: the clock is read again once the count is
        made, and a count made in a window that has meanwhile ended is rolled back and made again in
        the new one. The wait for the database's lock (SQLite's write lock, seconds on a busy machine)
        used to let a request counted in one window reach the provider in the next, one over its cap
        there (benchmarks/capture_throughput.py: 11 in one second against 10). A request counted in the
        last `_EDGE` seconds of its window may still arrive in the next one: it is counted in both."""
        limit = self._limits.get(key)
        if limit is None:
            return True
        count, window = limit
        try:
            return self._acquire(key, count, window)
        except OperationalError as exc:
            # SQLite's busy timeout ran out while many threads waited for its write lock (a busy machine):
            # nothing was counted, and the request waits its turn like one over its budget.
            if "database is locked" in str(exc.orig):
                return False
            raise

    def _acquire(self, key: str, count: int, window: int) -> bool:
        for _ in range(_WINDOW_TRIES):
            start = self._window_start(window)
            with self._sessions() as session:
                taken = _take(session, key, start, count)
                now = self._clock.now().timestamp()
                if int(now) - int(now) % window != start:
                    session.rollback()
                    continue
                if taken and start + window - now < _EDGE and not _take(session, key, start + window, count):
                    session.rollback()  # it would arrive in a window that is full already
                    return False
                if start % (window * 50) == 0:
                    session.execute(
                        delete(RateWindow).where(
                            RateWindow.key == key, RateWindow.window_start < start - window * _KEEP_WINDOWS
                        )
                    )
                session.commit()
            return bool(taken)
        return False  # the windows kept ending under us: nothing counted, the request waits its turn

    def remaining(self, key: str) -> int | None:
        limit = self._limits.get(key)
        if limit is None:
            return None
        count, window = limit
        with self._sessions() as session:
            used = session.scalar(
                select(RateWindow.used).where(
                    RateWindow.key == key, RateWindow.window_start == self._window_start(window)
                )
            )
        return max(count - (used or 0), 0)

    def usage(self) -> dict[str, tuple[int, int]]:
        """(requests counted, limit) in the current window of every budget this process has met, by
        every process together (for metrics)."""
        with self._lock:
            limits = dict(self._limits)
        found: dict[str, tuple[int, int]] = {}
        if not limits:
            return found
        with self._sessions() as session:
            for key, (count, window) in sorted(limits.items()):
                used = session.scalar(
                    select(RateWindow.used).where(
                        RateWindow.key == key, RateWindow.window_start == self._window_start(window)
                    )
                )
                found[key] = (int(used or 0), count)
        return found

    def retry_after(self, key: str) -> float | None:
        """Seconds until a request may be made: 0.0 now, else until the next window opens."""
        limit = self._limits.get(key)
        if limit is None:
            return None
        if self.remaining(key):
            return 0.0
        window = limit[1]
        now = self._clock.now().timestamp()
        return max(self._window_start(window) + window - now, 0.0)

    def _window_start(self, window: int) -> int:
        now = int(self._clock.now().timestamp())
        return now - now % window


class DbHostBackoffs:
    """Per-host "do not ask before" instants, shared through the database (the `http.Backoffs` interface)."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self._sessions = sessions
        self._clock = clock

    def until(self, host: str) -> tuple[datetime, str] | None:
        """When `host` may be asked again and why, or None when it may be asked now."""
        with self._sessions() as session:
            row = session.get(HostBackoff, host)
            if row is None or row.until <= self._clock.now():
                return None
            return row.until, row.reason

    def defer(self, host: str, delay: timedelta, reason: str) -> None:
        """Keep every process away from `host` for `delay` (a later instant already stored wins).

        One upsert: two threads or processes told to back off the same host at once (a 429 answering
        two requests in flight) must not both insert its row (SQLite ignores FOR UPDATE)."""
        now = self._clock.now()
        with self._sessions() as session, session.begin():
            dialect = session.get_bind().dialect.name
            insert = pg_insert if dialect == "postgresql" else sqlite_insert
            row = insert(HostBackoff).values(host=host, until=now + delay, reason=reason, updated_at=now)
            session.execute(
                row.on_conflict_do_update(
                    index_elements=[HostBackoff.host],
                    set_={"until": row.excluded.until, "reason": row.excluded.reason, "updated_at": now},
                    where=HostBackoff.until < row.excluded.until,
                )
            )


def _take(session: Session, key: str, start: int, count: int) -> bool:
    """Count one request in the window of `key` starting at `start`, unless `count` are counted there."""
    _insert_ignore(session, key, start)
    result = session.execute(
        update(RateWindow)
        .where(RateWindow.key == key, RateWindow.window_start == start, RateWindow.used < count)
        .values(used=RateWindow.used + 1)
        .execution_options(synchronize_session=False, preserve_rowcount=True)
    )
    return bool(cast(CursorResult[Any], result).rowcount)


def _insert_ignore(session: Session, key: str, start: int) -> None:
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(insert(RateWindow).values(key=key, window_start=start, used=0).on_conflict_do_nothing())
