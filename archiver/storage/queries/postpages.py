"""Queries of a recovered post's own pages looked up in web archives (`archiver.pipeline.recover`):
the lookup row of each post, and whether the post was already captured live."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archiver.storage.models import Embed, PostPageLookup, Snapshot

# What the rung of an archived snapshot's field starts with (see `archiver.pipeline.recover`).
ARCHIVED_RUNG = "memento:"


def post_page_lookup(session: Session, embed_id: int) -> PostPageLookup | None:
    return session.scalars(select(PostPageLookup).where(PostPageLookup.embed_id == embed_id)).one_or_none()


def post_page_lookups(session: Session, embed_ids: Collection[int]) -> dict[int, PostPageLookup]:
    """The lookup rows of these posts, by embed id."""
    if not embed_ids:
        return {}
    stmt = select(PostPageLookup).where(PostPageLookup.embed_id.in_(sorted(set(embed_ids))))
    return {row.embed_id: row for row in session.scalars(stmt)}


def save_post_page_lookup(session: Session, embed_id: int, now: datetime, **values: Any) -> PostPageLookup:
    """Create or update the lookup row of one post."""
    row = post_page_lookup(session, embed_id)
    if row is None:
        row = PostPageLookup(embed_id=embed_id, created_at=now, updated_at=now, **values)
        session.add(row)
    else:
        for name, value in values.items():
            setattr(row, name, value)
        row.updated_at = now
    session.flush()
    return row


def archived_snapshots(session: Session, embed: Embed) -> tuple[list[Snapshot], bool]:
    """The post's snapshots that web archives gave (by version), and whether it has any other (a live
    capture's)."""
    versions = list(
        session.scalars(select(Snapshot).where(Snapshot.embed_id == embed.id).order_by(Snapshot.version))
    )
    archived = [v for v in versions if _archived(v)]
    return archived, len(archived) < len(versions)


def _archived(snapshot: Snapshot) -> bool:
    rungs = list((snapshot.provenance or {}).values())
    return bool(rungs) and all(str(rung).startswith(ARCHIVED_RUNG) for rung in rungs)
