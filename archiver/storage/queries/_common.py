"""What several rooms of the queries share: the chunk size of `IN (...)` lists, get-or-create's insert, the
escaping of LIKE patterns, what "never captured" means, and the embeds other ids are aliases of. Used inside
`archiver.storage.queries` only."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, Table, and_, or_, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from archiver.storage.models import Base, Embed, EmbedAlias, Recovery, Snapshot

# Rows per statement when looking embeds up by key; far below every backend's parameter limit.
CHUNK = 300


def insert_ignoring_conflicts(
    session: Session, model: type[Base], rows: list[dict[str, Any]], conflict: list[str]
) -> int:
    """Insert `rows`, skipping those that clash on the unique `conflict` columns; the number inserted."""
    if not rows:
        return 0
    session.flush()
    table = cast(Table, model.__table__)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt: Any = postgresql.insert(table).values(rows).on_conflict_do_nothing(index_elements=conflict)
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).values(rows).on_conflict_do_nothing(index_elements=conflict)
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        inserted = 0
        for values in rows:
            where = [table.c[name] == values[name] for name in conflict]
            if session.execute(select(table.c[conflict[0]]).where(*where)).first() is None:
                session.execute(table.insert().values(values))
                inserted += 1
        return inserted
    # Without preserve_rowcount, psycopg's count of an INSERT is gone by the time we ask (-1).
    result = cast(CursorResult[Any], session.execute(stmt.execution_options(preserve_rowcount=True)))
    return max(result.rowcount, 0)


def like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def never_captured() -> ColumnElement[bool]:
    """Embeds waiting for their first capture: no snapshot at all, or only the ones a web archive gave
    (a post recovered by `archive recover`: its live ladder is still to be climbed)."""
    has_snapshot = select(Snapshot.id).where(Snapshot.embed_id == Embed.id).exists()
    recovered = select(Recovery.id).where(Recovery.embed_id == Embed.id).exists()
    return or_(~has_snapshot, and_(Embed.last_captured_at.is_(None), recovered))


def embeds_by_alias(session: Session, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], Embed]:
    """The embed each (provider, post id) is an alias of (`EmbedAlias`), for the keys that are one."""
    wanted = list(keys)
    found: dict[tuple[str, str], Embed] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        rows = session.execute(
            select(EmbedAlias.provider, EmbedAlias.post_id, Embed)
            .join(Embed, Embed.id == EmbedAlias.embed_id)
            .where(tuple_(EmbedAlias.provider, EmbedAlias.post_id).in_(chunk))
        )
        for provider, post_id, embed in rows:
            found[(provider, post_id)] = embed
    return found
