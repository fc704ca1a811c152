"""Queries of the editors' pages (`archiver.web.editors`): the dashboard's numbers, the review queue, and
the lists of articles, embeds and rewrites, each a keyset page (`after` the last id shown) so that a page
costs the same at the millionth row as at the first."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Date,
    Select,
    String,
    cast,
    distinct,
    exists,
    func,
    literal_column,
    select,
    text,
    type_coerce,
)
from sqlalchemy.orm import Session, joinedload, selectinload

from archiver.records import EmbedState, JournalState, MarkupKind
from archiver.storage.models import (
    Article,
    Check,
    Embed,
    Occurrence,
    Rewrite,
    Snapshot,
    Source,
    StateChange,
    Tally,
)


@dataclass(frozen=True, slots=True)
class ArticleLine:
    id: int
    key: str
    source: str
    scanned_at: datetime | None
    scan_error: str | None
    embeds: int
    rewrites: int


@dataclass(frozen=True, slots=True)
class EmbedLine:
    id: int
    provider: str
    post_id: str
    url: str
    state: str
    last_outcome: str | None
    articles: int


def source_names(session: Session) -> list[str]:
    return [str(name) for name in session.scalars(select(Source.name).order_by(Source.name))]


@dataclass(frozen=True, slots=True)
class DashboardCounts:
    """The dashboard's numbers: articles, snapshots, and embeds by provider and state."""

    articles: int
    snapshots: int
    by_provider: dict[str, dict[str, int]]

    @property
    def by_state(self) -> dict[str, int]:
        totals: Counter[str] = Counter()
        for per in self.by_provider.values():
            totals.update(per)
        return dict(sorted(totals.items()))

    @property
    def embeds(self) -> int:
        return sum(self.by_state.values())


def dashboard_counts(session: Session) -> DashboardCounts:
    """Only what the dashboard shows (`status_counts` counts more). On PostgreSQL, from the `tallies`
    its triggers keep (counting 200,000 rows costs it 15 to 20 ms whatever the index); on SQLite, by
    counting (about a millisecond)."""
    if session.get_bind().dialect.name == "postgresql":
        return _tallied(session)
    articles, snapshots = session.execute(
        select(
            select(func.count()).select_from(Article).scalar_subquery(),
            select(func.count()).select_from(Snapshot).scalar_subquery(),
        )
    ).one()
    by_provider: dict[str, dict[str, int]] = {}
    grouped = session.execute(
        select(Embed.provider, Embed.state, func.count())
        .group_by(Embed.provider, Embed.state)
        .order_by(Embed.provider, Embed.state)
    )
    for provider, state, n in grouped:
        by_provider.setdefault(str(provider), {})[str(state)] = int(n)
    return DashboardCounts(int(articles or 0), int(snapshots or 0), by_provider)


# Fold the tallies into one row a name once they are this many (each write statement adds one or two).
TALLY_ROWS = 200


def _tallied(session: Session) -> DashboardCounts:
    totals: dict[str, int] = {}
    rows = 0
    for name, n, count in session.execute(
        select(Tally.name, func.sum(Tally.n), func.count()).group_by(Tally.name)
    ):
        totals[str(name)] = int(n or 0)
        rows += int(count)
    if rows > TALLY_ROWS:
        fold_tallies(session)
    by_provider: dict[str, dict[str, int]] = {}
    for name, n in sorted(totals.items()):
        kind, _, rest = name.partition(":")
        provider, _, state = rest.partition(":")
        if kind == "embeds" and n:
            by_provider.setdefault(provider, {})[state] = n
    return DashboardCounts(totals.get("articles", 0), totals.get("snapshots", 0), by_provider)


def fold_tallies(session: Session) -> None:
    """Replace the tally rows with one a name (their sum), in one statement: rows a concurrent writer
    adds meanwhile are not seen, so not deleted, and a second folder skips the rows the first took.
    PostgreSQL only (SQLite keeps no tallies)."""
    if session.get_bind().dialect.name != "postgresql":
        return
    session.execute(
        text(
            "WITH gone AS (DELETE FROM tallies RETURNING name, n) "
            "INSERT INTO tallies (name, n) SELECT name, sum(n) FROM gone GROUP BY name HAVING sum(n) <> 0"
        )
    )
    session.flush()


# A loose index scan over `ix_embeds_provider_state`: one index probe per (provider, state) pair in use
# instead of reading every embed (SELECT DISTINCT reads all 100,000 on PostgreSQL, about 20 ms).
_EMBED_KINDS = text(
    """
    WITH RECURSIVE providers(name) AS (
        SELECT min(provider) FROM embeds
        UNION ALL
        SELECT (SELECT min(provider) FROM embeds WHERE provider > providers.name)
        FROM providers WHERE providers.name IS NOT NULL
    ),
    kinds(provider, state) AS (
        SELECT name, (SELECT min(state) FROM embeds WHERE provider = providers.name)
        FROM providers WHERE providers.name IS NOT NULL
        UNION ALL
        SELECT kinds.provider,
               (SELECT min(state) FROM embeds WHERE provider = kinds.provider AND state > kinds.state)
        FROM kinds WHERE kinds.state IS NOT NULL
    )
    SELECT provider, state FROM kinds WHERE state IS NOT NULL ORDER BY provider, state
    """
)


def embed_kinds(session: Session) -> list[tuple[str, str]]:
    """The (provider, state) pairs the embeds have, sorted."""
    return [(str(provider), str(state)) for provider, state in session.execute(_EMBED_KINDS)]


def providers_in_use(session: Session) -> list[str]:
    return sorted({provider for provider, _ in embed_kinds(session)})


def breakages_since(session: Session, since: datetime, limit: int) -> list[tuple[StateChange, Embed]]:
    """Embeds that turned broken since `since`, newest first."""
    rows = session.execute(
        select(StateChange, Embed)
        .join(Embed, Embed.id == StateChange.embed_id)
        .where(StateChange.to_state == "broken", StateChange.changed_at >= since)
        .order_by(StateChange.changed_at.desc(), StateChange.id.desc())
        .limit(limit)
    )
    return [(change, embed) for change, embed in rows]


def breakage_days(session: Session, since: datetime) -> dict[str, int]:
    """How many embeds turned broken on each day since `since` (UTC days, oldest first), counted by the
    database: a bad week can hold thousands of breakages."""
    day = _utc_day(session, StateChange.changed_at).label("day")
    rows = session.execute(
        select(day, func.count())
        .where(StateChange.to_state == EmbedState.BROKEN, StateChange.changed_at >= since)
        .group_by(day)
        .order_by(day)
    )
    return {str(d): int(n) for d, n in rows}


def _utc_day(session: Session, column: Any) -> Any:
    """The UTC day (YYYY-MM-DD) of a timestamp column. SQLite keeps UTC digits as text (`UTCDateTime`)."""
    if session.get_bind().dialect.name == "postgresql":
        # A cast, not to_char: formatting 8,500 timestamps cost 8 ms, the cast 2 (str() of a date is ISO).
        return cast(func.timezone("UTC", column), Date)
    return func.substr(type_coerce(column, String), 1, 10)


def rewrite_count(session: Session, state: str) -> int:
    return int(session.scalar(select(func.count(Rewrite.id)).where(Rewrite.state == state)) or 0)


def rewrites_page(
    session: Session, states: Collection[str], after: int | None, limit: int
) -> list[tuple[Rewrite, Article, str]]:
    """Journal rows in `states` with their article and source name, by id, after the id `after`."""
    stmt = (
        select(Rewrite, Article, Source.name)
        .join(Article, Article.id == Rewrite.article_id)
        .join(Source, Source.id == Article.source_id)
        .where(Rewrite.state.in_(list(states)))
        .options(joinedload(Rewrite.embed))
    )
    if after is not None:
        stmt = stmt.where(Rewrite.id > after)
    rows = session.execute(stmt.order_by(Rewrite.id).limit(limit))
    return [(row, article, str(source)) for row, article, source in rows]


def gone_checks(session: Session, embed_ids: Collection[int], per_embed: int = 10) -> dict[int, list[Check]]:
    """The latest `gone` checks of each embed (the evidence of its verdict), newest first: one query."""
    wanted = sorted(set(embed_ids))
    found: dict[int, list[Check]] = {embed_id: [] for embed_id in wanted}
    if not wanted:
        return found
    rank = (
        func.row_number()
        .over(partition_by=Check.embed_id, order_by=(Check.checked_at.desc(), Check.id.desc()))
        .label("rank")
    )
    ranked = select(Check.id, rank).where(Check.embed_id.in_(wanted), Check.outcome == "gone").subquery()
    stmt = (
        select(Check)
        .join(ranked, ranked.c.id == Check.id)
        .where(ranked.c.rank <= per_embed)
        .order_by(Check.embed_id, Check.checked_at.desc(), Check.id.desc())
    )
    for check in session.scalars(stmt):
        found[check.embed_id].append(check)
    return found


def _is_residue() -> tuple[Any, Any]:
    return Occurrence.embed_id.is_(None), Occurrence.markup == MarkupKind.RESIDUE.value


def residue_article_ids(session: Session, after: int | None, limit: int) -> list[int]:
    """Ids of the articles holding residue lines, in id order, after the id `after` (a keyset page)."""
    stmt = select(Occurrence.article_id).where(*_is_residue()).distinct()
    if after is not None:
        stmt = stmt.where(Occurrence.article_id > after)
    return [int(i) for i in session.scalars(stmt.order_by(Occurrence.article_id).limit(limit))]


def residue_lines_of(session: Session, article_ids: Collection[int]) -> list[tuple[Article, Occurrence]]:
    """Every residue line of the articles named, with its article (source and occurrences loaded), in
    article id then position order."""
    if not article_ids:
        return []
    rows = session.execute(
        select(Article, Occurrence)
        .join(Occurrence, Occurrence.article_id == Article.id)
        .where(Article.id.in_(sorted(set(article_ids))), *_is_residue())
        .options(joinedload(Article.source), selectinload(Article.occurrences))
        .order_by(Article.id, Occurrence.position)
    )
    return [(article, occurrence) for article, occurrence in rows]


def residue_line_counts(session: Session) -> tuple[int, int]:
    """How many residue lines the articles hold, and how many of them have no card in their place yet
    (no applied rewrite of the article starts its card where the line starts)."""
    carded = exists(
        select(Rewrite.id).where(
            Rewrite.article_id == Occurrence.article_id,
            Rewrite.state == JournalState.APPLIED,
            Rewrite.card_start == Occurrence.span_start,
        )
    )
    total, bare = session.execute(
        select(func.count(Occurrence.id), func.count(Occurrence.id).filter(~carded)).where(*_is_residue())
    ).one()
    return int(total or 0), int(bare or 0)


# With fewer embeds than this matching the filters, the articles list starts from those embeds (their
# occurrences, sorted by article); with more, walking the articles by id meets a page of them soon.
# Walking for a rare pair (say youtube and broken, none at all) would probe every article.
SPARSE_EMBEDS = 3000


def articles_page(
    session: Session,
    *,
    source: str | None,
    state: str | None,
    provider: str | None,
    after: int | None,
    limit: int,
) -> list[ArticleLine]:
    """Articles by id (after `after`): of one source, holding an embed in `state` and/or of `provider`."""
    embeds = select(func.count(Occurrence.id)).where(Occurrence.article_id == Article.id).scalar_subquery()
    rewrites = select(func.count(Rewrite.id)).where(Rewrite.article_id == Article.id).scalar_subquery()
    stmt = select(
        Article.id, Article.key, Source.name, Article.scanned_at, Article.scan_error, embeds, rewrites
    ).join(Source, Source.id == Article.source_id)
    if source:
        # The source's id, asked once: each article is tested on its own column before its embeds are.
        stmt = stmt.where(
            Article.source_id == select(Source.id).where(Source.name == source).scalar_subquery()
        )
    if state or provider:
        matching = [
            *([Embed.state == state] if state else []),
            *([Embed.provider == provider] if provider else []),
        ]
        few = select(Embed.id).where(*matching).limit(SPARSE_EMBEDS)
        if _count(session, few) < SPARSE_EMBEDS:
            embed_ids = [int(i) for i in session.scalars(few)]
            ids = _articles_holding(session, embed_ids, source=source, after=after, limit=limit)
            stmt = stmt.where(Article.id.in_(ids))
        else:
            # LIMIT 1 keeps this a subquery asked of each article in id order, up to a page of them:
            # as EXISTS, PostgreSQL made it a merge join over every occurrence before the page (85 ms
            # for a page after article 63,000).
            holding = (
                select(literal_column("1"))
                .select_from(Occurrence)
                .join(Embed, Embed.id == Occurrence.embed_id)
                .where(Occurrence.article_id == Article.id, *matching)
                .limit(1)
                .scalar_subquery()
            )
            stmt = stmt.where(holding.is_not(None))
    if after is not None:
        stmt = stmt.where(Article.id > after)
    return [
        ArticleLine(int(i), str(k), str(s), at, err, int(e or 0), int(r or 0))
        for i, k, s, at, err, e, r in session.execute(stmt.order_by(Article.id).limit(limit))
    ]


def _count(session: Session, rows: Select[Any]) -> int:
    """How many rows `rows` gives, read from an index where one holds its columns."""
    counted = select(func.count()).select_from(rows.with_only_columns(literal_column("1")).subquery())
    return int(session.scalar(counted) or 0)


def _articles_holding(
    session: Session, embed_ids: list[int], *, source: str | None, after: int | None, limit: int
) -> list[int]:
    """Ids of the first `limit` articles (after `after`) holding one of the embeds, found from them: all
    their articles are gathered first (materialised: left to itself, PostgreSQL walks every occurrence
    in article order hoping to meet them early), then sorted."""
    if not embed_ids:
        return []
    holding = select(Occurrence.article_id).where(Occurrence.embed_id.in_(embed_ids))
    if source:
        holding = holding.join(Article, Article.id == Occurrence.article_id)
        holding = holding.join(Source, Source.id == Article.source_id).where(Source.name == source)
    if after is not None:
        holding = holding.where(Occurrence.article_id > after)
    found = holding.cte("holding").prefix_with("MATERIALIZED", dialect="postgresql")
    stmt = select(found.c.article_id).distinct().order_by(found.c.article_id).limit(limit)
    return [int(i) for i in session.scalars(stmt)]


def article_with_source(session: Session, article_id: int) -> Article | None:
    return session.get(Article, article_id, options=[joinedload(Article.source)])


def article_occurrences(session: Session, article_id: int) -> list[tuple[Occurrence, Embed | None]]:
    rows = session.execute(
        select(Occurrence, Embed)
        .outerjoin(Embed, Embed.id == Occurrence.embed_id)
        .where(Occurrence.article_id == article_id)
        .order_by(Occurrence.position)
    )
    return [(occurrence, embed) for occurrence, embed in rows]


def embed_lines(session: Session, embed_ids: Sequence[int]) -> list[EmbedLine]:
    """Embeds by id with the number of articles holding each, in the order of `embed_ids`."""
    if not embed_ids:
        return []
    articles = (
        select(func.count(distinct(Occurrence.article_id)))
        .where(Occurrence.embed_id == Embed.id)
        .scalar_subquery()
    )
    rows = session.execute(
        select(
            Embed.id,
            Embed.provider,
            Embed.post_id,
            Embed.canonical_url,
            Embed.state,
            Embed.last_outcome,
            articles,
        ).where(Embed.id.in_(list(embed_ids)))
    )
    by_id = {int(r[0]): EmbedLine(int(r[0]), r[1], r[2], r[3], r[4], r[5], int(r[6] or 0)) for r in rows}
    return [by_id[i] for i in embed_ids if i in by_id]


def embed_checks(session: Session, embed_id: int, limit: int) -> list[Check]:
    """The latest checks of one embed, newest first."""
    return list(
        session.scalars(
            select(Check)
            .where(Check.embed_id == embed_id)
            .order_by(Check.checked_at.desc(), Check.id.desc())
            .limit(limit)
        )
    )


def check_count(session: Session, embed_id: int) -> int:
    return int(session.scalar(select(func.count(Check.id)).where(Check.embed_id == embed_id)) or 0)


def embed_rewrites(session: Session, embed_id: int) -> list[tuple[Rewrite, Article]]:
    rows = session.execute(
        select(Rewrite, Article)
        .join(Article, Article.id == Rewrite.article_id)
        .where(Rewrite.embed_id == embed_id)
        .order_by(Rewrite.id)
    )
    return [(row, article) for row, article in rows]


def latest_handles(session: Session, embed_ids: Collection[int]) -> dict[int, tuple[str | None, str | None]]:
    """(author name, handle) of each embed's newest snapshot."""
    newest = (
        select(Snapshot.embed_id, func.max(Snapshot.version).label("version"))
        .where(Snapshot.embed_id.in_(sorted(set(embed_ids))))
        .group_by(Snapshot.embed_id)
        .subquery()
    )
    rows = session.execute(
        select(Snapshot.embed_id, Snapshot.author_name, Snapshot.handle).join(
            newest, (newest.c.embed_id == Snapshot.embed_id) & (newest.c.version == Snapshot.version)
        )
    )
    return {int(embed_id): (author, handle) for embed_id, author, handle in rows}
