"""The editors' queue: `pending` lists rewrites waiting for an editor (and, on request, the refusals
that flag articles); `approve` and `reject` decide them. The next `run` (or `apply_article`) writes
what was approved, exactly as approved; a rejection is sticky.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from archiver.records import JournalState
from archiver.storage import queries
from archiver.storage.models import Rewrite


@dataclass(frozen=True, slots=True)
class PendingRewrite:
    """One line of `archive rewrite --pending`."""

    id: int
    article: str
    source: str
    provider: str
    post_id: str
    state: str
    variant: str | None
    version: int | None
    reason: str | None
    created_at: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "article": self.article,
            "source": self.source,
            "provider": self.provider,
            "post_id": self.post_id,
            "state": self.state,
            "variant": self.variant,
            "version": self.version,
            "reason": self.reason,
            "created_at": self.created_at,
        }


def pending(session: Session, *, include_refused: bool = False) -> list[PendingRewrite]:
    """Rewrites waiting for an editor (`planned`), oldest first; with `include_refused`, also the
    latest refusal of each unit (the flagged articles)."""
    states = (JournalState.PLANNED, JournalState.REFUSED) if include_refused else (JournalState.PLANNED,)
    out = []
    for row, article, source in queries.rewrites_with_articles(session, states):
        out.append(
            PendingRewrite(
                row.id,
                article.key,
                source,
                row.provider,
                row.post_id,
                row.state,
                row.variant,
                row.snapshot_version,
                row.reason,
                row.created_at.isoformat(),
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class Decision:
    """What `approve` or `reject` did with one rewrite id."""

    id: int
    ok: bool
    state: str | None
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "ok": self.ok, "state": self.state, "reason": self.reason}


def approve(session: Session, rewrite_ids: Iterable[int], by: str, now: Any) -> list[Decision]:
    """Approve planned rewrites (the next `run` or `apply_article` writes them). The caller commits."""
    return _decide(session, rewrite_ids, by, now, JournalState.APPROVED, None)


def reject(
    session: Session, rewrite_ids: Iterable[int], by: str, now: Any, reason: str | None = None
) -> list[Decision]:
    """Reject planned (or approved, not yet written) rewrites: that embed is not rewritten again in
    that article. The caller commits."""
    return _decide(session, rewrite_ids, by, now, JournalState.REJECTED, reason or f"rejected by {by}")


def _decide(
    session: Session, rewrite_ids: Iterable[int], by: str, now: Any, state: str, reason: str | None
) -> list[Decision]:
    decisions = []
    allowed = (
        (JournalState.PLANNED,)
        if state == JournalState.APPROVED
        else (JournalState.PLANNED, JournalState.APPROVED)
    )
    for rewrite_id in rewrite_ids:
        row = session.get(Rewrite, rewrite_id)
        if row is None:
            decisions.append(Decision(rewrite_id, False, None, "no such rewrite"))
            continue
        if row.state not in allowed:
            decisions.append(
                Decision(rewrite_id, False, row.state, f"it is {row.state}, not {' or '.join(allowed)}")
            )
            continue
        row.state = state
        row.approved_by, row.approved_at = by, now
        if reason is not None:
            row.reason = reason
        decisions.append(Decision(rewrite_id, True, state))
    session.flush()
    return decisions
