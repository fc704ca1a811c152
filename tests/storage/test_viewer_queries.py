"""The editors' pages' queries that take a shortcut give what the plain question gives: the articles list
from the embeds (few match) or from the articles (many do), the filter choices by a loose index scan, the
breakages counted per UTC day by the database, and the dashboard's counts; on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from archiver.storage import queries
from archiver.storage.db import make_engine, session_factory
from archiver.storage.models import Article, Embed, Occurrence, Rewrite, Snapshot, Source, StateChange, Tally
from archiver.storage.queries import viewer as viewer_queries

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
PROVIDERS = ("twitter", "youtube", "instagram")
STATES = ("live", "broken", "suspect", "live", "new")


def embed_of(n: int) -> tuple[str, str]:
    """(provider, state) of embed n: every pair occurs, broken youtube posts are few."""
    provider, state = PROVIDERS[n % 3], STATES[n % 5]
    return provider, state


def build(session: Session) -> dict[int, tuple[int, list[int]]]:
    """Two sources, 60 articles (some holding no embed, some two, some a residue line), 30 embeds.
    Returns each article's source id and the embeds it holds."""
    session.execute(
        insert(Source), [{"id": i, "name": f"site-{i}", "kind": "files", "created_at": NOW} for i in (1, 2)]
    )
    session.execute(
        insert(Embed),
        [
            {
                "id": n,
                "provider": embed_of(n)[0],
                "post_id": f"P{n}",
                "canonical_url": f"https://example.com/{n}",
                "state": embed_of(n)[1],
                "first_seen_at": NOW,
            }
            for n in range(1, 31)
        ],
    )
    held: dict[int, tuple[int, list[int]]] = {}
    occurrences = []
    for a in range(1, 61):
        source = 1 if a % 4 else 2
        embeds = [] if a % 7 == 0 else [a % 30 + 1] + ([(a * 7) % 30 + 1] if a % 5 == 0 else [])
        held[a] = (source, embeds)
        for position, e in enumerate(embeds):
            occurrences.append(
                {"article_id": a, "embed_id": e, "provider": embed_of(e)[0], "markup": "blockquote"}
                | {"position": position, "found": {}}
            )
        if a % 11 == 0:
            occurrences.append(
                {"article_id": a, "embed_id": None, "provider": "instagram", "markup": "residue"}
                | {"position": len(embeds), "found": {}}
            )
    session.execute(
        insert(Article),
        [{"id": a, "source_id": held[a][0], "key": f"news/{a}.html", "first_seen_at": NOW} for a in held],
    )
    session.execute(insert(Occurrence), occurrences)
    session.commit()
    return held


def pages(session: Session, **filters: str | None) -> list[list[viewer_queries.ArticleLine]]:
    """Every page of the articles list for the filters, following the keyset cursor, 4 a page."""
    found: list[list[viewer_queries.ArticleLine]] = []
    after = None
    while True:
        page = viewer_queries.articles_page(
            session,
            source=filters.get("source"),
            state=filters.get("state"),
            provider=filters.get("provider"),
            after=after,
            limit=4,
        )
        if page:
            found.append(page)
        if len(page) < 4:
            return found
        after = page[-1].id


def test_the_articles_list_is_the_same_from_the_embeds_or_from_the_articles(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    held = build(session)
    combinations = itertools.product(
        (None, "site-1", "site-2"), (None, "live", "broken", "gone"), (None, "youtube", "instagram", "vimeo")
    )
    checked = 0
    for source, state, provider in combinations:
        expected = [
            a
            for a, (source_id, embeds) in sorted(held.items())
            if (source is None or source == f"site-{source_id}")
            and (
                (state is None and provider is None)
                or any(
                    (state is None or embed_of(e)[1] == state)
                    and (provider is None or embed_of(e)[0] == provider)
                    for e in embeds
                )
            )
        ]
        ways = []
        # 0: never few enough (walk the articles); a million: always few (start from the embeds).
        for threshold in (0, 1_000_000):
            monkeypatch.setattr(viewer_queries, "SPARSE_EMBEDS", threshold)
            ways.append(pages(session, source=source, state=state, provider=provider))
        from_articles, from_embeds = ways
        assert from_embeds == from_articles, (source, state, provider)
        assert [line.id for page in from_embeds for line in page] == expected, (source, state, provider)
        checked += bool(expected)
    assert checked > 20  # most combinations hold something, a few nothing
    line = next(line for page in pages(session, state="broken") for line in page if line.id == 55)
    assert (line.source, line.embeds, line.rewrites) == ("site-1", 3, 0)  # one post twice and a residue line


def test_the_filter_choices_are_the_pairs_in_use(session: Session) -> None:
    assert viewer_queries.embed_kinds(session) == []
    assert viewer_queries.providers_in_use(session) == []
    build(session)
    pairs = sorted({embed_of(n) for n in range(1, 31)})
    assert viewer_queries.embed_kinds(session) == pairs
    assert viewer_queries.providers_in_use(session) == ["instagram", "twitter", "youtube"]


def test_breakages_are_counted_per_utc_day(session: Session) -> None:
    build(session)
    since = NOW - timedelta(days=7)
    midnight = datetime(2026, 2, 27, tzinfo=UTC)
    at = [
        (midnight - timedelta(microseconds=1), "broken"),  # the 26th, by a microsecond
        (midnight, "broken"),
        (midnight + timedelta(hours=23, minutes=59), "broken"),
        (midnight + timedelta(hours=5), "suspect"),  # not a breakage
        (NOW, "broken"),
        (since - timedelta(seconds=1), "broken"),  # before the week
        (since, "broken"),
    ]
    session.execute(
        insert(StateChange),
        [
            {"embed_id": 1, "changed_at": when, "from_state": "live", "to_state": to, "reason": "r"}
            for when, to in at
        ],
    )
    session.commit()
    assert viewer_queries.breakage_days(session, since) == {
        "2026-02-22": 1,
        "2026-02-26": 1,
        "2026-02-27": 2,
        "2026-03-01": 1,
    }
    newest = viewer_queries.breakages_since(session, since, 2)
    assert [change.changed_at for change, _ in newest] == [NOW, midnight + timedelta(hours=23, minutes=59)]


def assert_counts_agree(session: Session) -> None:
    counts = viewer_queries.dashboard_counts(session)
    status = queries.status_counts(session)
    assert (counts.articles, counts.snapshots, counts.embeds) == (
        status["articles"],
        status["snapshots"],
        status["embeds"],
    )
    assert counts.by_state == status["by_state"] and counts.by_provider == status["by_provider"]


def test_the_dashboard_counts_agree_with_archive_status(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the counts come from the tallies its triggers keep: they follow ORM and bulk
    inserts, state changes one by one and in bulk, deletes and cascades, and folding."""
    empty = viewer_queries.dashboard_counts(session)
    assert (empty.articles, empty.snapshots, empty.embeds, empty.by_state, empty.by_provider) == (
        0,
        0,
        0,
        {},
        {},
    )
    build(session)
    session.add(Snapshot(embed_id=3, version=1, captured_at=NOW, content_sha256="0" * 64))
    session.add(
        Rewrite(
            article_id=1,
            provider="twitter",
            post_id="P2",
            mode="approve",
            state="planned",
            span_start=0,
            span_end=1,
            original_bytes=b"x",
            article_sha256_before="0" * 64,
            created_at=NOW,
        )
    )
    session.commit()
    counts = viewer_queries.dashboard_counts(session)
    assert (counts.articles, counts.snapshots, counts.embeds) == (60, 1, 30)
    assert counts.by_state == {"broken": 6, "live": 12, "new": 6, "suspect": 6}
    assert_counts_agree(session)
    embed = session.get(Embed, 5)
    assert embed is not None
    embed.state = "broken"  # one by one (an ORM flush)
    session.commit()
    assert_counts_agree(session)
    session.execute(update(Embed).where(Embed.state == "new").values(state="live"))  # in bulk
    session.execute(update(Embed).where(Embed.id == 7).values(next_check_at=NOW))  # not a state change
    session.commit()
    assert viewer_queries.dashboard_counts(session).by_state.get("new", 0) == 0
    assert_counts_agree(session)
    session.execute(delete(Embed).where(Embed.id == 3))  # its snapshot goes with it (cascade)
    session.execute(delete(Source).where(Source.id == 2))  # and its articles
    session.commit()
    assert_counts_agree(session)
    monkeypatch.setattr(viewer_queries, "TALLY_ROWS", 0)
    viewer_queries.dashboard_counts(session)  # folds the tallies
    session.commit()
    monkeypatch.undo()
    assert_counts_agree(session)
    if session.get_bind().dialect.name == "postgresql":
        names = session.scalars(select(Tally.name)).all()
        assert len(names) == len(set(names))  # one row a name after folding
        assert "snapshots" not in names  # a count back to nothing keeps no row


@pytest.mark.postgres
def test_two_folds_at_once_and_a_writer_between_lose_nothing(db_url: str, session: Session) -> None:
    """A second folder waits for the rows the first took and folds only the rest; a writer never waits."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite keeps no tallies")
    build(session)
    engine = make_engine(db_url)
    first, second = session_factory(engine)(), session_factory(engine)()
    folded = threading.Event()

    def fold_second() -> None:
        viewer_queries.fold_tallies(second)
        second.commit()
        folded.set()

    try:
        viewer_queries.fold_tallies(first)  # not committed yet: its rows stay locked
        session.add(Embed(id=31, provider="vimeo", post_id="V1", canonical_url="u", first_seen_at=NOW))
        session.commit()  # a writer meanwhile
        thread = threading.Thread(target=fold_second)
        thread.start()
        assert not folded.wait(0.5)  # waits for the first folder
        first.commit()
        thread.join(10)
        assert folded.is_set()
    finally:
        first.close()
        second.close()
        engine.dispose()
    assert_counts_agree(session)
    assert viewer_queries.dashboard_counts(session).by_provider["vimeo"] == {"new": 1}


@pytest.mark.postgres
def test_two_rewrite_runs_saving_residue_counts_at_once_keep_one_and_neither_fails(
    db_url: str, session: Session
) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only: SQLite's write lock puts the two one after the other")
    queries.save_residue_counts(session, {"orphaned": 1}, NOW)
    session.commit()
    engine = make_engine(db_url)
    first, second = session_factory(engine)(), session_factory(engine)()
    saved: list[bool] = []

    def save_second() -> None:
        saved.append(queries.save_residue_counts(second, {"orphaned": 3}, NOW + timedelta(minutes=1)))
        second.commit()

    try:
        assert queries.save_residue_counts(first, {"matched": 2, "orphaned": 2}, NOW)  # not committed yet
        thread = threading.Thread(target=save_second)
        thread.start()
        thread.join(0.5)
        assert thread.is_alive()  # waits for the first run's rows
        first.commit()
        thread.join(10)
        assert saved == [False]
    finally:
        first.close()
        second.close()
        engine.dispose()
    session.expire_all()
    assert queries.residue_counts(session) == ({"matched": 2, "orphaned": 2}, NOW)
