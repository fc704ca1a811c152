"""The archive's tables: sources, articles, embeds and what the pipeline records of them (see the
package's docstring for how they relate)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import (
    text as sql_text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from archiver.storage.models.base import Base


class Source(Base):
    """Where articles come from: one `[[sources]]` entry of the configuration."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]
    # Where the next incremental scan starts (a wordpress source: the site's time of the last full
    # listing, ISO 8601); None: list everything.
    scan_cursor: Mapped[str | None] = mapped_column(String(64))

    articles: Mapped[list[Article]] = relationship(
        back_populates="source", cascade="all, delete-orphan", passive_deletes=True
    )


class Article(Base):
    """One article of a source, as last scanned."""

    __tablename__ = "articles"
    # scan_error: counting articles (and the failed ones) reads this small index, not the table.
    __table_args__ = (UniqueConstraint("source_id", "key"), Index(None, "scan_error"))

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    # A file path, or the id of the row / post in the source.
    key: Mapped[str] = mapped_column(String(2048))
    content_sha256: Mapped[str | None] = mapped_column(String(64))
    encoding: Mapped[str | None] = mapped_column(String(40))
    size_bytes: Mapped[int | None] = mapped_column(BigInteger)
    first_seen_at: Mapped[datetime]
    scanned_at: Mapped[datetime | None]
    # Why the last scan could not read the article; None when it could.
    scan_error: Mapped[str | None] = mapped_column(Text)
    # Its public address when its source knows it (canonical link, og:url, url_template, url_column, a
    # WordPress post's link): what recovery from web archives looks up.
    url: Mapped[str | None] = mapped_column(String(2048))

    source: Mapped[Source] = relationship(back_populates="articles")
    occurrences: Mapped[list[Occurrence]] = relationship(
        back_populates="article",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Occurrence.position",
    )


class Embed(Base):
    """One post of one provider, whatever the articles that embed it."""

    __tablename__ = "embeds"
    # (provider, state): the counts by provider and state are read from this index alone; (state): the
    # articles list filtered by state alone starts from the embeds in that state when they are few.
    __table_args__ = (
        UniqueConstraint("provider", "post_id"),
        Index(None, "provider", "state"),
        Index(None, "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    post_id: Mapped[str] = mapped_column(String(255))
    # Indexed so `archive show URL` finds a post by its URL.
    canonical_url: Mapped[str] = mapped_column(String(2048), index=True)
    state: Mapped[str] = mapped_column(String(16), default="new", server_default="new")
    first_seen_at: Mapped[datetime]
    last_captured_at: Mapped[datetime | None]
    next_capture_at: Mapped[datetime | None] = mapped_column(index=True)
    capture_attempts: Mapped[int] = mapped_column(default=0, server_default=sql_text("0"))
    last_outcome: Mapped[str | None] = mapped_column(String(16))
    last_reason: Mapped[str | None] = mapped_column(Text)
    # Liveness: when the next check is due (the due queue), the last `ok`, the last change of state.
    next_check_at: Mapped[datetime | None] = mapped_column(index=True)
    last_ok_at: Mapped[datetime | None]
    state_changed_at: Mapped[datetime | None]
    # Lease: which daemon holds this embed for a capture or check, and until when (expired = free).
    lease_owner: Mapped[str | None] = mapped_column(String(200), index=True)
    lease_until: Mapped[datetime | None]

    occurrences: Mapped[list[Occurrence]] = relationship(back_populates="embed", passive_deletes=True)
    snapshots: Mapped[list[Snapshot]] = relationship(
        back_populates="embed",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Snapshot.version",
    )
    checks: Mapped[list[Check]] = relationship(
        back_populates="embed",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="Check.checked_at",
    )
    state_changes: Mapped[list[StateChange]] = relationship(
        back_populates="embed",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="StateChange.changed_at",
    )
    # The copy Save Page Now made on the post's first capture (`[mirror]`), if it was asked.
    mirror: Mapped[Mirror | None] = relationship(
        back_populates="embed", cascade="all, delete-orphan", passive_deletes=True
    )


class EmbedAlias(Base):
    """Another id of a post kept under a lasting one: a Bluesky post written with its author's handle
    (`handle/RKEY`), kept under its DID (`did:plc:.../RKEY`) once a capture found it there.

    A scan that finds the alias links its occurrence to `embed`; public pages of the alias (cards
    written before the two were one) redirect there, version N to version N + `version_offset` (the
    versions of a merged embed were numbered after the lasting embed's own).
    """

    __tablename__ = "embed_aliases"
    __table_args__ = (UniqueConstraint("provider", "post_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    post_id: Mapped[str] = mapped_column(String(255))
    # The post's URL under the alias, so `archive show URL` and TimeMaps of the old URL still find it.
    canonical_url: Mapped[str] = mapped_column(String(2048), index=True)
    embed_id: Mapped[int] = mapped_column(ForeignKey("embeds.id", ondelete="CASCADE"), index=True)
    version_offset: Mapped[int] = mapped_column(default=0, server_default=sql_text("0"))
    created_at: Mapped[datetime]


class Occurrence(Base):
    """One embed unit (or residue) in one article: which post, what markup, which bytes."""

    __tablename__ = "occurrences"
    # (embed_id, markup, article_id): the residue lines (no embed) of a keyset page of articles, in order.
    __table_args__ = (Index(None, "embed_id", "markup", "article_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    # NULL for residue: the leftover text of a dead embed names no post.
    embed_id: Mapped[int | None] = mapped_column(ForeignKey("embeds.id", ondelete="CASCADE"), index=True)
    provider: Mapped[str] = mapped_column(String(32))
    markup: Mapped[str] = mapped_column(String(16))
    span_start: Mapped[int | None] = mapped_column(BigInteger)
    span_end: Mapped[int | None] = mapped_column(BigInteger)
    # Order of the unit in the article, from 0.
    position: Mapped[int]
    # What the markup itself carried (author_name, handle, author_url, published, text): capture rung 1.
    found: Mapped[dict[str, Any]] = mapped_column(default=dict)

    article: Mapped[Article] = relationship(back_populates="occurrences")
    embed: Mapped[Embed | None] = relationship(back_populates="occurrences")


class Snapshot(Base):
    """An immutable version of what a post showed; a new one only when the content changed."""

    __tablename__ = "snapshots"
    # Also indexed by hand (migration 0009, `search_snapshots_handle`): lower(trim(handle)), the folded
    # handle `queries.embeds_with_handle` compares; SQLite's reflection cannot read expression indexes.
    __table_args__ = (UniqueConstraint("embed_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    embed_id: Mapped[int] = mapped_column(ForeignKey("embeds.id", ondelete="CASCADE"))
    version: Mapped[int]
    captured_at: Mapped[datetime]
    # Hash of the normalised content (field values and media), not of provenance or timing.
    content_sha256: Mapped[str] = mapped_column(String(64))
    author_name: Mapped[str | None] = mapped_column(Text)
    handle: Mapped[str | None] = mapped_column(Text)
    author_url: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str | None] = mapped_column(Text)
    text_html: Mapped[str | None] = mapped_column(Text)
    # ISO 8601 as the provider gave it.
    published: Mapped[str | None] = mapped_column(String(40))
    title: Mapped[str | None] = mapped_column(Text)
    # Field name -> capture rung that gave it, e.g. {"text": "embed_page"}.
    provenance: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Raw responses [{rung, url, status, content_type, body, error}], secrets redacted by the caller.
    raw: Mapped[list[Any]] = mapped_column(default=list)

    embed: Mapped[Embed] = relationship(back_populates="snapshots")
    media: Mapped[list[SnapshotMedia]] = relationship(
        back_populates="snapshot",
        cascade="all, delete-orphan",
        passive_deletes=True,
        order_by="SnapshotMedia.position",
    )


class Media(Base):
    """A file in the content-addressed blob store."""

    __tablename__ = "media"

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    mime: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]


class SnapshotMedia(Base):
    """A media item a snapshot showed, stored (`media_file`) or not (`error` says why)."""

    __tablename__ = "snapshot_media"

    id: Mapped[int] = mapped_column(primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshots.id", ondelete="CASCADE"), index=True)
    # Indexed for the media garbage collector's "is this file still used" question.
    media_id: Mapped[int | None] = mapped_column(ForeignKey("media.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    original_url: Mapped[str] = mapped_column(String(2048))
    rung: Mapped[str] = mapped_column(String(32))
    position: Mapped[int]
    error: Mapped[str | None] = mapped_column(Text)

    snapshot: Mapped[Snapshot] = relationship(back_populates="media")
    media_file: Mapped[Media | None] = relationship()


class Check(Base):
    """One capture or check attempt and its outcome: the evidence behind every verdict."""

    __tablename__ = "checks"
    __table_args__ = (Index(None, "embed_id", "checked_at"),)

    # Every attempt on every embed, for years: 64 bits on PostgreSQL. SQLite keeps INTEGER, the only
    # type that aliases its rowid (and autoincrements).
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    embed_id: Mapped[int] = mapped_column(ForeignKey("embeds.id", ondelete="CASCADE"))
    checked_at: Mapped[datetime]
    # "capture" or "check".
    kind: Mapped[str] = mapped_column(String(16))
    # ok | gone | transient | ambiguous | provider_down (records.Outcome).
    outcome: Mapped[str] = mapped_column(String(16))
    http_status: Mapped[int | None]
    reason: Mapped[str] = mapped_column(Text)
    latency_ms: Mapped[int | None]
    # False when the outcome must not count towards a verdict (the provider looked unhealthy).
    counted: Mapped[bool] = mapped_column(default=True, server_default=sql_text("true"))

    embed: Mapped[Embed] = relationship(back_populates="checks")


class StateChange(Base):
    """Every change of an embed's liveness state, with when and why."""

    __tablename__ = "state_changes"
    # (to_state, changed_at): the dashboard's breakages of the last days, newest first.
    __table_args__ = (Index(None, "embed_id", "changed_at"), Index(None, "to_state", "changed_at"))

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    embed_id: Mapped[int] = mapped_column(ForeignKey("embeds.id", ondelete="CASCADE"))
    changed_at: Mapped[datetime]
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)

    embed: Mapped[Embed] = relationship(back_populates="state_changes")


class ProviderHealth(Base):
    """Whether verdicts for a provider are paused (canaries failing, credentials refused) and why."""

    __tablename__ = "provider_health"

    provider: Mapped[str] = mapped_column(String(32), primary_key=True)
    paused: Mapped[bool] = mapped_column(default=False)
    reason: Mapped[str | None] = mapped_column(Text)
    since: Mapped[datetime | None]
    probed_at: Mapped[datetime | None]


class Alert(Base):
    """Something an operator must hear about once (a provider paused), and when it was resolved."""

    __tablename__ = "alerts"
    __table_args__ = (Index(None, "provider", "raised_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]


class RateWindow(Base):
    """Requests counted against one budget key (provider and host) in one fixed time window.

    Kept in the database so that every process on every machine spends the same budget.
    """

    __tablename__ = "rate_windows"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    # Start of the window, in whole seconds since the epoch (windows are whole seconds long).
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    used: Mapped[int] = mapped_column(Integer, default=0)


class HostBackoff(Base):
    """A host that asked us to wait (429, 503 with Retry-After): no request goes to it before `until`."""

    __tablename__ = "host_backoffs"

    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    until: Mapped[datetime]
    reason: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]


class Tally(Base):
    """PostgreSQL: changes to the row counts the dashboard shows (`articles`, `snapshots`,
    `embeds:PROVIDER:STATE`), written by triggers (migration 0014) as rows are inserted, deleted or change
    state; a count is the sum of its rows, and the rows of a name are folded into one now and then
    (`queries.viewer.dashboard_counts`). Counting 200,000 rows costs PostgreSQL 15 to 20 ms, SQLite about
    one: on SQLite the table stays empty and the tables are counted."""

    __tablename__ = "tallies"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    n: Mapped[int] = mapped_column(BigInteger)


class JobRun(Base):
    """When each daemon job last started, over every daemon sharing the database (a restart runs the jobs
    it missed), and which daemon holds a job that only one daemon at a time may run (scan, gc)."""

    __tablename__ = "job_runs"

    job: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_run_at: Mapped[datetime | None]
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None]


class ResidueCount(Base):
    """How many residue lines the last whole-archive rewrite run found matched, ambiguous, orphaned and
    repaired (a card in place): `archive rewrite` and the daemon's rewrite job match every line to find
    the articles to visit, so the dashboard shows the counts without matching every line itself."""

    __tablename__ = "residue_counts"

    status: Mapped[str] = mapped_column(String(16), primary_key=True)
    lines: Mapped[int]
    counted_at: Mapped[datetime]


class Rewrite(Base):
    """One embed unit of one article replaced (or to be replaced) by a fallback card: the journal.

        planned ──approve──► approved ──► applying ──► applied ──► restoring ──► restored
           └──────────┴──────────────────► refused (with the reason; the article is flagged)

    `span_start`/`span_end` are the unit's byte span in the article as it was before the rewrite
    (`article_sha256_before`); `original_bytes` are exactly those bytes. `card_start` is where the card
    is in the article's bytes as the archiver last wrote them. `applying` and `restoring` are committed
    before the article is written, so a crash in between is settled by comparing the article's sha256
    with the before and after hashes (`rewrite.recover`).
    """

    __tablename__ = "rewrites"
    __table_args__ = (Index(None, "article_id", "state"), Index(None, "state", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    # The journal outlives the embed row: restoring needs only the bytes.
    embed_id: Mapped[int | None] = mapped_column(ForeignKey("embeds.id", ondelete="SET NULL"), index=True)
    provider: Mapped[str] = mapped_column(String(32))
    post_id: Mapped[str] = mapped_column(String(255))
    # The source's mode when it was planned: monitor, approve or apply.
    mode: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16))
    # Why it was refused, or what an editor or the archiver noted.
    reason: Mapped[str | None] = mapped_column(Text)
    # block or inline (the card variant), and the snapshot version the card shows.
    variant: Mapped[str | None] = mapped_column(String(8))
    snapshot_version: Mapped[int | None]
    span_start: Mapped[int] = mapped_column(BigInteger)
    span_end: Mapped[int] = mapped_column(BigInteger)
    original_bytes: Mapped[bytes] = mapped_column(LargeBinary)
    replacement_bytes: Mapped[bytes | None] = mapped_column(LargeBinary)
    card_start: Mapped[int | None] = mapped_column(BigInteger)
    article_sha256_before: Mapped[str] = mapped_column(String(64))
    article_sha256_after: Mapped[str | None] = mapped_column(String(64))
    restore_sha256_before: Mapped[str | None] = mapped_column(String(64))
    restore_sha256_after: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    approved_at: Mapped[datetime | None]
    approved_by: Mapped[str | None] = mapped_column(String(200))
    applied_at: Mapped[datetime | None]
    restored_at: Mapped[datetime | None]
    restored_by: Mapped[str | None] = mapped_column(String(200))

    article: Mapped[Article] = relationship()
    embed: Mapped[Embed | None] = relationship()


class Recovery(Base):
    """One residue line or lost spot of an article, looked up in web archives (`archive recover`).

        pending (copies still to look at, or an archive asked us to wait) -> paired | unpaired

    A spot is told by its article, markup and the text that identifies it (`anchor`: the residue's
    handle, the lead-in sentence; for a shell with no sentence before it "", or "#N SHELL" from the
    second such shell of the article on), not by its byte span, which a rewrite elsewhere moves.
    `paired`: the embed that stood there in the copy `memento_url` (archive `archive`, captured at
    `memento_datetime`); the post is an `Embed` (due for capture like any other), its markup's fields a
    snapshot. `unpaired`: no copy showed it (`copies` lists what was looked at, with why each did not
    pair). The embed's original markup, from the memento, is kept to put a live post back
    (`rewrite.putback`); a paired row is never looked up again, so `updated_at` is when it was paired.
    """

    __tablename__ = "recoveries"
    __table_args__ = (UniqueConstraint("article_id", "markup", "anchor"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    markup: Mapped[str] = mapped_column(String(16))
    anchor: Mapped[str] = mapped_column(String(1000))
    provider: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    embed_id: Mapped[int | None] = mapped_column(ForeignKey("embeds.id", ondelete="SET NULL"), index=True)
    archive: Mapped[str | None] = mapped_column(String(200))
    memento_url: Mapped[str | None] = mapped_column(String(4096))
    memento_datetime: Mapped[datetime | None]
    # The embed unit's bytes as the memento had them (to put a live post back), decoded as text.
    original_markup: Mapped[str | None] = mapped_column(Text)
    # [{archive, memento_url, datetime, result}] for every copy looked at, newest first.
    copies: Mapped[list[Any]] = mapped_column(default=list)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    article: Mapped[Article] = relationship()
    embed: Mapped[Embed | None] = relationship()


class PostPageLookup(Base):
    """A recovered post's own pages (post page, embed page) looked up in web archives.

        pending (an archive asked us to wait) -> found | none | skipped

    `found`: the copy `memento_url` (archive `archive`, captured at `memento_datetime`) gave fields
    or an image, kept as a snapshot. `none`: no copy did (`copies` lists each and why). `skipped`: the
    post was captured live before its pages were looked up (a live snapshot says more than an old copy).
    """

    __tablename__ = "post_page_lookups"

    id: Mapped[int] = mapped_column(primary_key=True)
    embed_id: Mapped[int] = mapped_column(ForeignKey("embeds.id", ondelete="CASCADE"), unique=True)
    state: Mapped[str] = mapped_column(String(16))
    archive: Mapped[str | None] = mapped_column(String(200))
    memento_url: Mapped[str | None] = mapped_column(String(4096))
    memento_datetime: Mapped[datetime | None]
    # [{archive, page, memento, datetime, result}] for every copy looked at, newest first per page.
    copies: Mapped[list[Any]] = mapped_column(default=list)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Mirror(Base):
    """A post pushed to Save Page Now (`[mirror]`) on its first capture, and the copy it made there.

        queued (to ask, or asked again after "later") -> pending (a job_id to poll) -> archived | failed

    `archived`: the Wayback Machine's copy, `memento_url` (URI-M) made at `memento_datetime`. `failed`:
    Save Page Now refused it for good (`status_ext`, `reason`). Answers meaning "later" (429, its daily
    limits, 5xx, timeouts) keep the row as it was, tried again from `next_try_at`. No raw answer is kept.
    """

    __tablename__ = "mirrors"

    id: Mapped[int] = mapped_column(primary_key=True)
    embed_id: Mapped[int] = mapped_column(ForeignKey("embeds.id", ondelete="CASCADE"), unique=True)
    url: Mapped[str] = mapped_column(String(2048))
    state: Mapped[str] = mapped_column(String(16), index=True)
    job_id: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(default=0, server_default=sql_text("0"))
    next_try_at: Mapped[datetime | None]
    memento_url: Mapped[str | None] = mapped_column(String(4096))
    memento_datetime: Mapped[datetime | None]
    status_ext: Mapped[str | None] = mapped_column(String(100))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    embed: Mapped[Embed] = relationship(back_populates="mirror")
