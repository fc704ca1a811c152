"""Full-text search over posts and article paths, on SQLite (FTS5 tables kept by triggers) and on
PostgreSQL (GIN expression indexes): what it finds, how it pages, that typed text is never query syntax,
and that the index follows inserts, edits and deletes by itself."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, text
from sqlalchemy.orm import Session

from archiver.storage.models import Article, Embed, Snapshot, Source
from archiver.storage.queries import search as search_queries
from archiver.storage.queries.search import search

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)
# What people paste into a search box on purpose or by accident: FTS5 and tsquery operators, column
# filters, unbalanced quotes and brackets, SQL, NUL and other controls, and markup.
INJECTIONS = (
    '"',
    '""',
    "'",
    "''",
    'harbour"',
    "harbour'",
    "harbour OR 1=1",
    "harbour' OR '1'='1",
    'harbour" OR "1"="1',
    "harbour; DROP TABLE snapshots; --",
    "text:harbour",
    "author_name:ann",
    "{text author_name}:ann",
    "search_posts MATCH 'x'",
    "NEAR(harbour ann, 2)",
    "harbour AND",
    "AND OR NOT",
    "*",
    "harbour*",
    "^harbour",
    "(harbour",
    "harbour)",
    "harbour & ann | !x",
    "harbour:*",
    "'harbour':* & 'ann'",
    "<->",
    "!!",
    "\\",
    "harbour\\",
    "%",
    "_",
    "\x00harbour",
    "harbour\x00ann",
    "\u202eharbour",
    "<script>alert(1)</script>",
    "-harbour",
    "+harbour",
    "harbour" * 200,
    " ".join(["harbour"] * 50),
)


def add_post(session: Session, post_id: str, version: int = 1, **fields: str | None) -> Snapshot:
    embed = session.query(Embed).filter_by(provider="instagram", post_id=post_id).one_or_none()
    if embed is None:
        embed = Embed(
            provider="instagram",
            post_id=post_id,
            canonical_url=f"https://www.instagram.com/p/{post_id}/",
            state="live",
            first_seen_at=NOW,
        )
        session.add(embed)
    snapshot = Snapshot(
        embed=embed,
        version=version,
        captured_at=NOW,
        content_sha256=hashlib.sha256(f"{post_id}{version}".encode()).hexdigest(),
        **fields,
    )
    session.add(snapshot)
    session.flush()
    return snapshot


def add_article(session: Session, key: str) -> Article:
    source = session.query(Source).filter_by(name="site").one_or_none()
    if source is None:
        source = Source(name="site", kind="files", created_at=NOW)
        session.add(source)
    article = Article(source=source, key=key, first_seen_at=NOW)
    session.add(article)
    session.flush()
    return article


@pytest.fixture
def filled(session: Session) -> Session:
    add_post(session, "HARB1", author_name="Ann Example", handle="ann", text="Boats in the harbour at dawn")
    add_post(session, "MARK1", author_name="Bob Writer", handle="bobw", text="Market day, fresh fish")
    add_post(session, "TITL1", author_name="Café Owner", handle="cafe", title="Harbour festival", text=None)
    add_post(session, "EDIT1", author_name="Ann Example", handle="ann", text="First words")
    add_post(session, "EDIT1", version=2, author_name="Ann Example", handle="ann", text="Edited words")
    add_article(session, "news/2024/harbour-fire.html")
    add_article(session, "news/2024/market.html")
    session.commit()
    return session


def post_ids(session: Session, typed: str, limit: int = 50) -> list[tuple[str, int]]:
    return [(hit.post_id, hit.version) for hit in search(session, typed, limit).posts]


def test_captions_authors_handles_titles_and_paths_are_found(filled: Session) -> None:
    assert post_ids(filled, "harbour") == [("TITL1", 1), ("HARB1", 1)]  # title and caption, newest first
    assert post_ids(filled, "HARBOUR dawn") == [("HARB1", 1)]  # every word, any case
    assert post_ids(filled, "bob") == [("MARK1", 1)]  # author, by prefix
    assert post_ids(filled, "@bobw") == [("MARK1", 1)]  # handle, with its @
    assert post_ids(filled, "cafe") == [("TITL1", 1)]  # accents folded (Café)
    assert post_ids(filled, "edited") == [("EDIT1", 2)]
    assert post_ids(filled, "ann words") == [("EDIT1", 2), ("EDIT1", 1)]  # every version that matches
    page = search(filled, "harbour")
    assert [hit.key for hit in page.articles] == ["news/2024/harbour-fire.html"]
    assert [hit.source for hit in page.articles] == ["site"]
    assert [hit.key for hit in search(filled, "2024 market html").articles] == ["news/2024/market.html"]
    assert search(filled, "submarine").posts == [] and search(filled, "submarine").articles == []


def test_pages_follow_each_other_without_gaps_or_repeats(session: Session) -> None:
    for n in range(23):
        add_post(session, f"P{n:02d}", text=f"common caption number {n}")
    for n in range(7):
        add_article(session, f"common/{n}.html")
    session.commit()
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = search(session, "common", limit=5, after=after)
        pages += 1
        seen += [hit.cursor for hit in page.posts] + [hit.cursor for hit in page.articles]
        assert len(page.posts) + len(page.articles) <= 5
        if page.next_after is None:
            break
        after = page.next_after
    assert pages == 6  # 30 hits, 5 a page
    assert len(seen) == len(set(seen)) == 30
    assert seen[:23] == sorted(seen[:23], key=lambda c: -int(c[1:]))  # posts newest first
    assert all(c.startswith("a") for c in seen[23:])


def test_an_exactly_full_page_of_posts_leads_on_to_the_articles(session: Session) -> None:
    for n in range(5):
        add_post(session, f"Q{n}", text="shared word")
    add_article(session, "shared/one.html")
    session.commit()
    first = search(session, "shared", limit=5)
    assert len(first.posts) == 5 and first.articles == [] and first.next_after is not None
    second = search(session, "shared", limit=5, after=first.next_after)
    assert second.posts == [] and [a.key for a in second.articles] == ["shared/one.html"]
    assert second.next_after is None


def test_common_words_and_words_only_in_old_rows_page_like_rare_ones(session: Session) -> None:
    """PostgreSQL first looks among the newest rows and goes to the index when they hold too few hits:
    a word in every row, in every third row, and only in the oldest rows page the same way, newest
    first, with no gap or repeat (FTS5 answers every one from its index)."""
    for n in range(60):
        words = ["every"] + (["third"] if n % 3 == 0 else []) + (["oldonly"] if n < 9 else [])
        add_post(session, f"W{n:02d}", text=" ".join(words))
        add_article(session, f"{'/'.join(words)}/{n}.html")
    session.commit()
    for word, count in (("every", 60), ("third", 20), ("oldonly", 9)):
        posts: list[int] = []
        articles: list[int] = []
        after = None
        while True:
            page = search(session, word, limit=5, after=after)
            posts += [hit.snapshot_id for hit in page.posts]
            articles += [hit.article_id for hit in page.articles]
            if page.next_after is None:
                break
            after = page.next_after
        assert len(posts) == len(articles) == count, word
        assert posts == sorted(posts, reverse=True) and articles == sorted(articles, reverse=True), word
    oldest = search(session, "oldonly", limit=5)
    assert [hit.post_id for hit in oldest.posts] == ["W08", "W07", "W06", "W05", "W04"]


def test_typed_text_is_never_query_syntax(filled: Session) -> None:
    for typed in INJECTIONS:
        page = search(filled, typed)  # never raises, whatever was typed
        assert len(page.words) <= search_queries.MAX_WORDS
        for hit in page.posts:
            caption = " ".join(filter(None, (hit.author_name, hit.handle, hit.title, hit.text))).casefold()
            assert all(word in caption for word in page.words), (typed, hit)
    # Nothing was dropped or changed by what was typed.
    assert filled.scalar(text("SELECT count(*) FROM snapshots")) == 5
    assert post_ids(filled, "harbour") == [("TITL1", 1), ("HARB1", 1)]


def test_operators_are_words_not_operators(filled: Session) -> None:
    assert post_ids(filled, "harbour OR market") == []  # OR is a word to find, and nobody wrote it
    assert post_ids(filled, "text:harbour") == []  # "text" is a word to find, not a column filter
    assert post_ids(filled, "harbour:dawn") == [("HARB1", 1)]
    assert post_ids(filled, "harbour NOT dawn") == []


def test_a_malformed_cursor_is_refused(filled: Session) -> None:
    for cursor in ("x1", "p", "p-1", "a1.5", "1", "p1 OR 1=1", "p" + "9" * 30):
        with pytest.raises(ValueError, match="not a search cursor"):
            search(filled, "harbour", after=cursor)


def test_the_index_follows_inserts_edits_and_deletes(filled: Session) -> None:
    snapshot = add_post(filled, "NEW1", text="Lighthouse keeper")
    filled.commit()
    assert post_ids(filled, "lighthouse") == [("NEW1", 1)]
    snapshot.text = "Ferry timetable"
    filled.commit()
    assert post_ids(filled, "lighthouse") == []
    assert post_ids(filled, "ferry") == [("NEW1", 1)]
    filled.execute(delete(Snapshot).where(Snapshot.id == snapshot.id))
    filled.commit()
    assert post_ids(filled, "ferry") == []
    article = add_article(filled, "desk/lighthouse.html")
    filled.commit()
    assert [a.key for a in search(filled, "lighthouse").articles] == ["desk/lighthouse.html"]
    filled.delete(article)
    filled.commit()
    assert search(filled, "lighthouse").articles == []


def test_deleting_a_source_takes_its_articles_out_of_the_index(filled: Session) -> None:
    filled.execute(delete(Source))
    filled.commit()
    assert search(filled, "harbour").articles == []


def test_the_search_objects_exist_at_the_newest_schema(session: Session) -> None:
    """A later batch migration of snapshots or articles on SQLite would drop the triggers: recreate them."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        triggers = set(session.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
        assert {
            f"search_{t}_{e}" for t in ("posts", "articles") for e in ("insert", "delete", "update")
        } <= triggers
    else:
        indexes = set(
            session.scalars(text("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'search_%'"))
        )
        assert indexes == {"search_posts_gin", "search_articles_gin", "search_snapshots_handle"}


@pytest.mark.postgres
def test_postgresql_answers_from_the_gin_indexes(session: Session) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    for n in range(300):
        add_post(session, f"G{n}", text=f"filler caption {n}")
        add_article(session, f"filler/{n}.html")
    session.commit()
    session.execute(text("ANALYZE"))
    session.execute(text("SET enable_seqscan = off"))
    for sql in (
        f"SELECT id FROM snapshots WHERE {search_queries.PG_POST_DOCUMENT} @@ to_tsquery('simple', 'x:*')",
        f"SELECT id FROM articles WHERE {search_queries.PG_ARTICLE_DOCUMENT} @@ to_tsquery('simple', 'x:*')",
    ):
        plan = "\n".join(session.scalars(text("EXPLAIN " + sql)))
        assert "search_posts_gin" in plan or "search_articles_gin" in plan, plan


def test_snippets_mark_the_words_and_stay_short() -> None:
    pieces = search_queries.snippet("Boats in the Harbour at dawn", ("harbour",))
    assert pieces == [("Boats in the ", False), ("Harbour", True), (" at dawn", False)]
    long = "x " * 200 + "needle " + "y " * 200
    pieces = search_queries.snippet(long, ("needle",))
    shown = "".join(p for p, _ in pieces)
    assert "needle" in shown and shown.startswith("…") and shown.endswith("…")
    assert len(shown) <= search_queries.SNIPPET_CHARS + 2
