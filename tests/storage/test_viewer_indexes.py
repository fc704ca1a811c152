"""The indexes of migrations 0009 and 0014 are the ones the viewer's queries use (read from the query
plans of the real queries, captured as they run): counts by provider and state, article counts, an
account's embeds by folded handle, the filter choices, the breakages of the last days, the embeds in a
state few are in, and the articles holding residue."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import event, insert, text
from sqlalchemy.orm import Session

from archiver.storage import queries
from archiver.storage.models import Article, Embed, Occurrence, Snapshot, Source, StateChange
from archiver.storage.queries import viewer as viewer_queries

NOW = datetime(2026, 3, 1, tzinfo=UTC)


@contextmanager
def captured(session: Session) -> Iterator[list[tuple[str, Any]]]:
    statements: list[tuple[str, Any]] = []
    engine = session.get_bind()

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def plans(session: Session, run: Callable[[], object]) -> str:
    """The query plans of every statement `run` sends, as one text."""
    with captured(session) as statements:
        run()
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        session.execute(text("SET enable_seqscan = off"))
    connection = session.connection().connection.driver_connection
    cursor = connection.cursor()  # type: ignore[union-attr]
    lines: list[str] = []
    for statement, parameters in statements:
        cursor.execute(("EXPLAIN " if postgres else "EXPLAIN QUERY PLAN ") + statement, parameters)
        lines += [" ".join(str(v) for v in row) for row in cursor.fetchall()]
    return "\n".join(lines)


def fill(session: Session, count: int = 3000) -> None:
    """Enough rows that a planner prefers an index to reading the table."""
    providers = ("twitter", "instagram", "youtube", "tiktok", "bluesky")
    session.execute(
        insert(Embed),
        [
            {
                "id": n,
                "provider": providers[n % 5],
                "post_id": f"P{n}",
                "canonical_url": f"https://example.com/{n}",
                "state": ("live", "broken", "suspect")[n % 3],
                "first_seen_at": NOW,
            }
            for n in range(1, count + 1)
        ],
    )
    session.execute(
        insert(Snapshot),
        [
            {
                "embed_id": n,
                "version": 1,
                "captured_at": NOW,
                "content_sha256": "0" * 64,
                "handle": f"User{n % 400}",
            }
            for n in range(1, count + 1)
        ],
    )
    session.execute(
        insert(StateChange),
        [
            {
                "embed_id": n,
                "changed_at": NOW - timedelta(hours=n),
                "from_state": "live",
                "to_state": ("broken", "suspect", "live")[n % 3],
                "reason": "gone",
            }
            for n in range(1, count + 1)
        ],
    )
    session.commit()
    session.execute(text("ANALYZE"))


def test_the_viewer_queries_use_the_indexes(session: Session) -> None:
    fill(session)
    by_handle = plans(session, lambda: queries.embeds_with_handle(session, "twitter", "@Ann"))
    assert "search_snapshots_handle" in by_handle, by_handle
    counts = plans(session, lambda: queries.status_counts(session))
    assert "ix_embeds_provider_state" in counts, counts


def test_the_indexes_of_0014_answer_the_dashboard_and_the_articles_filters(session: Session) -> None:
    fill(session)
    since = NOW - timedelta(days=7)
    breakages = plans(
        session,
        lambda: (
            viewer_queries.breakages_since(session, since, 20),
            viewer_queries.breakage_days(session, since),
        ),
    )
    assert breakages.count("ix_state_changes_to_state_changed_at") >= 2, breakages
    kinds = plans(session, lambda: viewer_queries.embed_kinds(session))
    assert "ix_embeds_provider_state" in kinds, kinds
    # No embed is "gone": the list starts from the embeds in that state, found through ix_embeds_state.
    few = plans(
        session,
        lambda: viewer_queries.articles_page(
            session, source=None, state="gone", provider=None, after=None, limit=50
        ),
    )
    assert "ix_embeds_state" in few, few
    # One article in 20 holds a residue line: a page of them is read in order from the index, not sorted.
    session.execute(insert(Source), [{"id": 1, "name": "site", "kind": "files", "created_at": NOW}])
    session.execute(
        insert(Article),
        [{"id": a, "source_id": 1, "key": f"{a}.html", "first_seen_at": NOW} for a in range(1, 10001)],
    )
    session.execute(
        insert(Occurrence),
        [
            {"article_id": a, "embed_id": None if a % 20 == 0 else a % 3000 + 1, "provider": "instagram"}
            | {"markup": "residue" if a % 20 == 0 else "blockquote", "position": 0, "found": {}}
            for a in range(1, 10001)
        ],
    )
    session.commit()
    session.execute(text("ANALYZE"))
    residue = plans(session, lambda: viewer_queries.residue_article_ids(session, 100, 21))
    assert "ix_occurrences_embed_id_markup_article_id" in residue, residue
