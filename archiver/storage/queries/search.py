"""Full-text search over what we archived (captions, titles, authors and handles of every version of
every post) and over article paths: SQLite FTS5 tables on SQLite, `to_tsvector` GIN indexes on
PostgreSQL, both from migration 0008 and kept current by the database itself (triggers, indexes).

    search(session, text, limit, after) -> SearchPage

What the user types is never handed to a query language: it is cut into words (letters and digits),
and each word becomes a quoted prefix term, all of which must match. Hits come newest first, posts
(one hit per matching version) before articles, a page at a time: `after` is the `next_after` of the
page before, a keyset cursor, so page 100 costs what page 1 does.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select, text
from sqlalchemy.orm import Session, joinedload

from archiver.storage.models import Article, Snapshot

MAX_WORDS = 12
MAX_LIMIT = 200
_WORD = re.compile(r"\w+")
_CURSOR = re.compile(r"^([pa])([0-9]{1,18})$")
SNIPPET_CHARS = 160

# Keep these two expressions identical to the indexes of migration 0008 (alembic/versions/0008_search.py).
PG_POST_DOCUMENT = (
    "to_tsvector('simple', coalesce(author_name, '') || ' ' || coalesce(handle, '') || ' ' || "
    "coalesce(title, '') || ' ' || coalesce(text, ''))"
)
PG_ARTICLE_DOCUMENT = "to_tsvector('simple', translate(key, '/._-', '    '))"


@dataclass(frozen=True, slots=True)
class PostHit:
    """One version of one post whose caption, title, author or handle has every word."""

    snapshot_id: int
    embed_id: int
    provider: str
    post_id: str
    version: int
    state: str
    author_name: str | None
    handle: str | None
    title: str | None
    text: str | None

    @property
    def cursor(self) -> str:
        return f"p{self.snapshot_id}"


@dataclass(frozen=True, slots=True)
class ArticleHit:
    """One article whose path has every word."""

    article_id: int
    key: str
    source: str

    @property
    def cursor(self) -> str:
        return f"a{self.article_id}"


@dataclass(frozen=True, slots=True)
class SearchPage:
    words: tuple[str, ...]
    posts: list[PostHit]
    articles: list[ArticleHit]
    # Pass as `after` for the next page; None on the last one.
    next_after: str | None


def words_of(typed: str) -> tuple[str, ...]:
    """The words of a query (letters, digits, underscores), lower-cased, at most MAX_WORDS."""
    return tuple(word.casefold() for word in _WORD.findall(typed))[:MAX_WORDS]


def valid_cursor(after: str | None) -> bool:
    return after is None or _CURSOR.match(after) is not None


def fts5_query(words: Sequence[str]) -> str:
    """An FTS5 MATCH expression: every word a quoted prefix term (no operator, column or syntax)."""
    return " ".join('"' + word.replace('"', '""') + '"*' for word in words)


def tsquery(words: Sequence[str]) -> str:
    """A PostgreSQL tsquery text: every word a quoted prefix lexeme, joined by AND."""
    return " & ".join("'" + word.replace("\\", "\\\\").replace("'", "''") + "':*" for word in words)


def search(session: Session, typed: str, limit: int = 50, after: str | None = None) -> SearchPage:
    """One page of hits for `typed`; `after` a cursor from the page before (ValueError when malformed)."""
    if not valid_cursor(after):
        raise ValueError(f"not a search cursor: {after!r}")
    limit = max(1, min(limit, MAX_LIMIT))
    words = words_of(typed)
    if not words:
        return SearchPage(words, [], [], None)
    kind, last_id = (after[0], int(after[1:])) if after else ("p", None)
    posts: list[PostHit] = []
    if kind == "p":
        posts = _posts(session, words, limit + 1, last_id)
        if len(posts) > limit:
            return SearchPage(words, posts[:limit], [], posts[limit - 1].cursor)
        last_id = None
    articles = _articles(session, words, limit - len(posts) + 1, last_id)
    room = limit - len(posts)
    if len(articles) > room:
        articles = articles[:room]
        next_after = articles[-1].cursor if articles else posts[-1].cursor
        return SearchPage(words, posts, articles, next_after)
    return SearchPage(words, posts, articles, None)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


# A word in most rows (PostgreSQL): the newest `RECENT_ROWS_PER_HIT * limit` rows are tried first, and
# when they hold a page of hits, that page is the answer (no older row can come before them). The GIN
# index would hand over every match to be sorted: 200,000 for a word in every article path, 80 ms. The
# words in fewer rows than that go to the index, which then gives at most a quarter of the table.
# Computing a row's document costs 10 to 20 us, so the window stays small.
RECENT_ROWS_PER_HIT = 4


def _pg_recent(table: str, columns: str, document: str, below: str) -> str:
    """The newest matching ids among the newest `:window` rows (below `:before`)."""
    return (
        f"SELECT id FROM (SELECT id, {columns} FROM {table} WHERE TRUE{below} ORDER BY id DESC "
        f"LIMIT :window) recent WHERE {document} @@ to_tsquery('simple', :q) ORDER BY id DESC LIMIT :limit"
    )


def _pg_hits(table: str, document: str, below: str) -> str:
    """The newest matching ids, asked so that PostgreSQL reads the GIN index: left to itself, for
    `ORDER BY id DESC LIMIT n` it walks the primary key backwards testing every row, which costs a whole
    table scan (seconds at 200,000 rows) when the words are rare. Materialised, the matches are found
    first and only they are sorted."""
    return (
        f"WITH hits AS MATERIALIZED (SELECT id FROM {table} WHERE {document} @@ to_tsquery('simple', :q)"
        f"{below}) SELECT id FROM hits ORDER BY id DESC LIMIT :limit"
    )


def _pg_ids(
    session: Session,
    table: str,
    columns: str,
    document: str,
    words: Sequence[str],
    limit: int,
    before: int | None,
) -> list[int]:
    below = "" if before is None else " AND id < :before"
    params: dict[str, object] = {"q": tsquery(words), "limit": limit, "window": RECENT_ROWS_PER_HIT * limit}
    if before is not None:
        params["before"] = before
    recent = [
        int(row[0]) for row in session.execute(text(_pg_recent(table, columns, document, below)), params)
    ]
    if len(recent) == limit:
        return recent
    return [int(row[0]) for row in session.execute(text(_pg_hits(table, document, below)), params)]


def _fts5_ids(
    session: Session, table: str, words: Sequence[str], limit: int, before: int | None
) -> list[int]:
    """FTS5 walks its index in rowid order itself: the newest hits come first, at any frequency."""
    below = "" if before is None else " AND rowid < :before"
    sql = f"SELECT rowid FROM {table} WHERE {table} MATCH :q{below} ORDER BY rowid DESC LIMIT :limit"
    params: dict[str, object] = {"q": fts5_query(words), "limit": limit}
    if before is not None:
        params["before"] = before
    return [int(row[0]) for row in session.execute(text(sql), params)]


def _post_ids(session: Session, words: Sequence[str], limit: int, before: int | None) -> list[int]:
    if _dialect(session) == "postgresql":
        columns = "author_name, handle, title, text"
        return _pg_ids(session, "snapshots", columns, PG_POST_DOCUMENT, words, limit, before)
    return _fts5_ids(session, "search_posts", words, limit, before)


def _posts(session: Session, words: Sequence[str], limit: int, before: int | None) -> list[PostHit]:
    ids = _post_ids(session, words, limit, before)
    if not ids:
        return []
    rows = session.scalars(
        select(Snapshot).where(Snapshot.id.in_(ids)).options(joinedload(Snapshot.embed))
    ).all()
    by_id = {row.id: row for row in rows}
    return [
        PostHit(
            snapshot_id=row.id,
            embed_id=row.embed_id,
            provider=row.embed.provider,
            post_id=row.embed.post_id,
            version=row.version,
            state=row.embed.state,
            author_name=row.author_name,
            handle=row.handle,
            title=row.title,
            text=row.text,
        )
        for row in (by_id[i] for i in ids if i in by_id)
    ]


def _articles(session: Session, words: Sequence[str], limit: int, before: int | None) -> list[ArticleHit]:
    if _dialect(session) == "postgresql":
        ids = _pg_ids(session, "articles", "key", PG_ARTICLE_DOCUMENT, words, limit, before)
    else:
        ids = _fts5_ids(session, "search_articles", words, limit, before)
    if not ids:
        return []
    rows = session.scalars(
        select(Article).where(Article.id.in_(ids)).options(joinedload(Article.source))
    ).all()
    by_id = {row.id: row for row in rows}
    return [ArticleHit(i, by_id[i].key, by_id[i].source.name) for i in ids if i in by_id]


def snippet(value: str | None, words: Sequence[str]) -> list[tuple[str, bool]]:
    """Up to SNIPPET_CHARS of `value` around its first matching word, as (text, is_match) pieces for
    a template to mark up (it escapes each piece itself)."""
    if not value:
        return []
    folded = value.casefold()
    starts = [m.start() for word in words if (m := re.search(r"\b" + re.escape(word), folded))]
    first = min(starts) if starts else 0
    begin = max(0, first - SNIPPET_CHARS // 3)
    piece = value[begin : begin + SNIPPET_CHARS]
    prefix = "…" if begin > 0 else ""
    suffix = "…" if begin + SNIPPET_CHARS < len(value) else ""
    if not words:
        return [(prefix + piece + suffix, False)]
    pattern = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\w*", re.IGNORECASE)
    pieces: list[tuple[str, bool]] = [(prefix, False)] if prefix else []
    at = 0
    for match in pattern.finditer(piece):
        if match.start() > at:
            pieces.append((piece[at : match.start()], False))
        pieces.append((match.group(0), True))
        at = match.end()
    if at < len(piece):
        pieces.append((piece[at:], False))
    if suffix:
        pieces.append((suffix, False))
    return pieces
