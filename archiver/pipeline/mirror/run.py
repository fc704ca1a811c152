"""mirror_due: one run over the posts queued for Save Page Now and the jobs it has running.

First every `pending` job is polled once (a job asked in an earlier run: Save Page Now takes from
seconds to minutes, and nothing here waits for it), then `queued` posts are asked for. The run stops at
the first answer that says "later" (429, Retry-After, 5xx, timeouts, Save Page Now's own limits, an
answer that is not its own, our own rate budget): what is left stays as it is for the next run. So a
run makes at most the budget's requests, each ended by `http.deadline`, and never sleeps: with a
pinned clock (`ARCHIVER_NOW`) a row told to wait is due again once the clock is set past its
`next_try_at`.

Each answer is written in a short transaction of its own, after the request (never inside one).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from archiver.clock import Clock
from archiver.config import MirrorSettings
from archiver.http import HttpClient
from archiver.pipeline.mirror.spn import SavePageNow, SpnAnswer, SpnKeys
from archiver.storage.models import Mirror
from archiver.storage.queries import mirrors as mirror_queries
from archiver.storage.queries.mirrors import ARCHIVED, FAILED, PENDING, QUEUED

# A post told "later" is asked again after this, doubled per try, at most a day; a daily limit: an hour.
FIRST_RETRY = timedelta(minutes=5)
MAX_RETRY = timedelta(hours=24)
DAILY_LIMIT_RETRY = timedelta(hours=1)
DEFAULT_LIMIT = 100


@dataclass(frozen=True, slots=True)
class MirrorItem:
    """What one request did for one post: `asked` (a capture request) or `polled` (its job's status)."""

    embed_id: int
    url: str
    action: str
    state: str
    reason: str = ""
    job_id: str | None = None
    memento_url: str | None = None
    memento_datetime: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "embed": self.embed_id,
            "url": self.url,
            "action": self.action,
            "state": self.state,
            "reason": self.reason or None,
            "job_id": self.job_id,
            "memento_url": self.memento_url,
            "memento_datetime": self.memento_datetime.isoformat() if self.memento_datetime else None,
        }


@dataclass(frozen=True, slots=True)
class MirrorReport:
    """One run: an item per request made, and why the run stopped early (None: it went through)."""

    items: tuple[MirrorItem, ...] = ()
    waiting: str | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "items": [item.to_json() for item in self.items],
            "waiting": self.waiting,
            "counts": self.counts,
        }


def mirror_due(
    sessions: sessionmaker[Session],
    http: HttpClient,
    settings: MirrorSettings,
    clock: Clock,
    keys: SpnKeys,
    *,
    limit: int = DEFAULT_LIMIT,
    stop: threading.Event | None = None,
    on_item: Callable[[MirrorItem], None] | None = None,
) -> MirrorReport:
    """Poll the pending jobs, then ask for the queued posts, at most `limit` of each, until Save Page Now
    (or our budget) says "later" or `stop` is set. Needs `[mirror] enabled`: the caller checks it."""
    spn = SavePageNow(settings, keys, http)
    items: list[MirrorItem] = []
    waiting: str | None = None
    for state, ask in ((PENDING, _poll), (QUEUED, _submit)):
        with sessions() as session:
            due = [
                (m.id, m.embed_id, m.url, m.job_id)
                for m in mirror_queries.mirrors_due(session, state, clock.now(), limit)
            ]
        for mirror_id, embed_id, url, job_id in due:
            if stop is not None and stop.is_set():
                waiting = "stopped"
                break
            answer = spn.status(job_id or "") if state == PENDING else spn.submit(url)
            if answer.kind == "held":  # nothing was asked: the row stays exactly as it was
                waiting = answer.reason
                break
            item = ask(sessions, spn, clock, mirror_id, embed_id, url, answer)
            items.append(item)
            if on_item is not None:
                on_item(item)
            if answer.kind in ("later", "unreadable"):
                waiting = answer.reason
                break
        if waiting is not None:
            break
    with sessions() as session:
        counts = mirror_queries.mirror_counts(session)
    return MirrorReport(tuple(items), waiting, counts)


def _poll(
    sessions: sessionmaker[Session],
    spn: SavePageNow,
    clock: Clock,
    mirror_id: int,
    embed_id: int,
    url: str,
    answer: SpnAnswer,
) -> MirrorItem:
    now = clock.now()
    with sessions() as session, session.begin():
        mirror = session.get(Mirror, mirror_id)
        if mirror is None:  # its embed was removed meanwhile
            return MirrorItem(embed_id, url, "polled", "gone", "the post was removed from the archive")
        mirror.updated_at = now
        if answer.kind == "pending":
            mirror.next_try_at = None  # polled again by the next run
            mirror.reason = answer.reason
        elif answer.kind == "archived":
            assert answer.timestamp is not None
            mirror.state = ARCHIVED
            mirror.memento_url = spn.memento_url(answer.timestamp, answer.original_url or mirror.url)
            mirror.memento_datetime = answer.memento_datetime
            mirror.next_try_at = None
            mirror.status_ext = None
            mirror.reason = None
        elif answer.kind == "failed":
            _fail(mirror, answer)
        elif answer.status_ext is not None:
            # The job ended in a passing error (its overload, a daily limit): the post is asked again.
            mirror.state = QUEUED
            mirror.job_id = None
            _later(mirror, answer, now)
        else:  # the status could not be had this time: the same job is polled again later
            _later(mirror, answer, now)
        return _item(mirror, "polled")


def _submit(
    sessions: sessionmaker[Session],
    spn: SavePageNow,
    clock: Clock,
    mirror_id: int,
    embed_id: int,
    url: str,
    answer: SpnAnswer,
) -> MirrorItem:
    now = clock.now()
    with sessions() as session, session.begin():
        mirror = session.get(Mirror, mirror_id)
        if mirror is None:
            return MirrorItem(embed_id, url, "asked", "gone", "the post was removed from the archive")
        mirror.updated_at = now
        if answer.kind == "job":
            mirror.state = PENDING
            mirror.job_id = answer.job_id
            mirror.attempts += 1
            mirror.next_try_at = None
            mirror.status_ext = None
            mirror.reason = "asked; Save Page Now is archiving it"
        elif answer.kind == "failed":
            mirror.attempts += 1
            _fail(mirror, answer)
        else:
            _later(mirror, answer, now)
        return _item(mirror, "asked")


def _fail(mirror: Mirror, answer: SpnAnswer) -> None:
    mirror.state = FAILED
    mirror.status_ext = answer.status_ext
    mirror.reason = answer.reason
    mirror.next_try_at = None


def _later(mirror: Mirror, answer: SpnAnswer, now: datetime) -> None:
    """Keep the row for a later run: from Retry-After, else a backoff doubling per try."""
    delay = min(FIRST_RETRY * 2 ** min(mirror.attempts, 10), MAX_RETRY)
    if answer.retry_after is not None:
        delay = max(delay, min(timedelta(seconds=answer.retry_after), MAX_RETRY))
    if answer.status_ext == "error:too-many-daily-captures":
        delay = max(delay, DAILY_LIMIT_RETRY)
    mirror.attempts += 1
    mirror.next_try_at = now + delay
    mirror.status_ext = answer.status_ext
    mirror.reason = f"later: {answer.reason}"


def _item(mirror: Mirror, action: str) -> MirrorItem:
    return MirrorItem(
        mirror.embed_id,
        mirror.url,
        action,
        mirror.state,
        mirror.reason or "",
        mirror.job_id,
        mirror.memento_url,
        mirror.memento_datetime,
    )
