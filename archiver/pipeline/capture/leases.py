"""Due work claimed with leases, so that several daemons share it and a dead one's work comes back.

A run claims a batch (`queries.claim_due_captures` / `claim_due_checks`), climbs it, records each embed
only while it still holds the embed (`queries.hold_lease`, in the recording transaction), and releases
the batch. Leases are renewed while a batch is worked on; a daemon that dies stops renewing them, and
once they expire another daemon claims the embeds again. Every step is safe to run twice: an embed
already recorded in this cycle is no longer due (or, for a check whose verdict was not decided yet, it
is only decided, `queries.checked_since_due`).
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable, Collection
from datetime import timedelta
from typing import Literal, TypeVar

from sqlalchemy.orm import Session, sessionmaker

from archiver.clock import Clock
from archiver.storage import queries
from archiver.storage.models import Embed

DEFAULT_LEASE = timedelta(minutes=10)
DEFAULT_BATCH = 100
# Reason of a climb whose lease was taken over (it expired): not recorded, the new holder records it.
LEASE_LOST = "lease lost"

T = TypeVar("T")


def new_owner() -> str:
    """A name for this daemon that no other daemon on any machine has: host, process, random part."""
    return f"{socket.gethostname()[:120]}/{os.getpid()}/{uuid.uuid4().hex[:8]}"


class Claims:
    """The embeds one run holds: claimed in batches, renewed while worked on, released at the end."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock, owner: str, lease: timedelta) -> None:
        if lease <= timedelta(0):
            raise ValueError("a lease must be positive")
        self.sessions = sessions
        self.clock = clock
        self.owner = owner
        self.lease = lease
        self.held: set[int] = set()
        self._renewed = time.monotonic()

    def claim(
        self, kind: Literal["capture", "check"], limit: int, providers: Collection[str] | None
    ) -> list[Embed]:
        """Claim up to `limit` due embeds of `providers` (committed before returning)."""
        claim = queries.claim_due_captures if kind == "capture" else queries.claim_due_checks
        with self.sessions() as session, session.begin():
            embeds = claim(session, self.owner, self.clock.now(), self.lease, limit, providers)
        self.held.update(e.id for e in embeds)
        self._renewed = time.monotonic()
        return embeds

    def keep(self) -> None:
        """Renew the held leases once a third of the lease has passed since the last renewal."""
        if not self.held or time.monotonic() - self._renewed < self.lease.total_seconds() / 3:
            return
        with self.sessions() as session, session.begin():
            queries.renew_leases(session, self.owner, self.held, self.clock.now() + self.lease)
        self._renewed = time.monotonic()

    def release(self, embed_ids: Collection[int] | None = None) -> None:
        """Give back these embeds (default: all held)."""
        ids = set(self.held if embed_ids is None else embed_ids) & self.held
        if not ids:
            return
        with self.sessions() as session, session.begin():
            queries.release(session, self.owner, ids)
        self.held -= ids

    def keeping(self, then: Callable[[T], None] | None) -> Callable[[T], None]:
        """An item callback that renews the leases, then calls `then`."""

        def callback(item: T) -> None:
            self.keep()
            if then is not None:
                then(item)

        return callback
