"""Storage: scans are idempotent, captures are versioned, reports are right, blobs are atomic.

Runs on a real SQLite file and, when ARCHIVER_TEST_POSTGRES_URL is set, on a real PostgreSQL database;
the schema always comes from the migrations.
"""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from archiver import records
from archiver.errors import NotFound, StorageError
from archiver.records import Capture, EmbedRef, Field, MarkupKind, Outcome, RawResponse, Span
from archiver.storage import blobs, queries
from archiver.storage.models import (
    Article,
    Base,
    Check,
    Embed,
    Media,
    Occurrence,
    Snapshot,
    SnapshotMedia,
    Source,
)
from archiver.storage.queries._common import insert_ignoring_conflicts

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def article(key: str = "news/a.html", data: bytes = b"<p>article</p>") -> records.Article:
    return records.Article(
        key=key,
        source="site",
        data=data,
        text=data.decode(),
        encoding="utf-8",
        sha256=hashlib.sha256(data).hexdigest(),
    )


def post(post_id: str, provider: str = "instagram", start: int = 0, **found: Any) -> EmbedRef:
    url = (
        f"https://www.instagram.com/p/{post_id}/" if provider == "instagram" else f"https://x.com/i/{post_id}"
    )
    return EmbedRef(
        provider=provider,
        post_id=post_id,
        url=url,
        markup=MarkupKind.BLOCKQUOTE,
        span=Span(start, start + 100),
        **found,
    )


def residue(author: str, handle: str, start: int = 500) -> EmbedRef:
    return EmbedRef(
        provider="instagram",
        post_id=None,
        url=None,
        markup=MarkupKind.RESIDUE,
        span=Span(start, start + 60),
        author_name=author,
        handle=handle,
    )


def count(session: Session, model: type[Base]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


def capture(text: str = "Hello world", outcome: Outcome = Outcome.OK, **extra: str) -> Capture:
    fields = {"text": Field(text, "embed_page"), "author_name": Field("Hayley Atwell", "markup")}
    fields.update({name: Field(value, "oembed") for name, value in extra.items()})
    return Capture(
        provider="instagram",
        post_id="Ci22crtrcRL",
        url="https://www.instagram.com/p/Ci22crtrcRL/",
        outcome=outcome,
        reason="ok" if outcome is Outcome.OK else "HTTP 503",
        http_status=200 if outcome is Outcome.OK else 503,
        fields=fields if outcome is Outcome.OK else {},
        responses=(
            RawResponse(
                "embed_page", "https://www.instagram.com/p/Ci22crtrcRL/embed/", 200, "text/html", "<html>"
            ),
        ),
    )


def scanned_embed(session: Session, post_id: str = "Ci22crtrcRL") -> Embed:
    source = queries.ensure_source(session, "site", "files", NOW)
    queries.save_scan(session, source, article(), [post(post_id)], NOW)
    embed = queries.find_embed(session, post_id)
    assert embed is not None
    return embed


# --- sources and scans ------------------------------------------------------------------------------


def test_ensure_source_creates_once_and_follows_the_kind(session: Session) -> None:
    first = queries.ensure_source(session, "site", "files", NOW)
    again = queries.ensure_source(session, "site", "sql", NOW + timedelta(days=1))
    assert again.id == first.id
    assert again.kind == "sql"
    assert again.created_at == NOW


def test_save_scan_records_article_embeds_and_occurrences(session: Session) -> None:
    source = queries.ensure_source(session, "site", "files", NOW)
    refs = [post("AAA", handle="@one"), post("BBB", start=200), residue("Hayley Atwell", "wellhayley")]
    saved = queries.save_scan(session, source, article(), refs, NOW)
    session.commit()

    assert saved == queries.SavedScan(article_id=saved.article_id, embeds=2, new_embeds=2, residues=1)
    row = queries.get_article(session, source, "news/a.html")
    assert row is not None and row.id == saved.article_id
    assert row.content_sha256 == article().sha256
    assert (row.encoding, row.size_bytes, row.scanned_at, row.scan_error) == ("utf-8", 14, NOW, None)
    assert [(o.position, o.markup, o.span_start, o.span_end) for o in row.occurrences] == [
        (0, "blockquote", 0, 100),
        (1, "blockquote", 200, 300),
        (2, "residue", 500, 560),
    ]
    assert row.occurrences[0].found == {"handle": "@one"}
    embed = queries.find_embed(session, "AAA")
    assert embed is not None
    assert (embed.provider, embed.canonical_url, embed.state) == (
        "instagram",
        "https://www.instagram.com/p/AAA/",
        "new",
    )
    assert (embed.first_seen_at, embed.next_capture_at, embed.capture_attempts) == (NOW, NOW, 0)


def test_save_scan_does_not_commit(session: Session) -> None:
    source = queries.ensure_source(session, "site", "files", NOW)
    session.commit()
    queries.save_scan(session, source, article(), [post("AAA")], NOW)
    session.rollback()
    assert count(session, Embed) == 0
    assert count(session, Article) == 0


def test_rescanning_the_same_embeds_writes_no_new_rows(session: Session) -> None:
    source = queries.ensure_source(session, "site", "files", NOW)
    refs = [post("AAA"), post("BBB", start=200), residue("Hayley Atwell", "wellhayley")]
    queries.save_scan(session, source, article(), refs, NOW)
    session.commit()
    before = {model: count(session, model) for model in (Article, Embed, Occurrence)}
    occurrence_ids = session.scalars(select(Occurrence.id).order_by(Occurrence.id)).all()

    later = NOW + timedelta(hours=1)
    saved = queries.save_scan(session, source, article(), refs, later)
    session.commit()

    assert (saved.embeds, saved.new_embeds, saved.residues) == (2, 0, 1)
    assert {model: count(session, model) for model in (Article, Embed, Occurrence)} == before
    assert session.scalars(select(Occurrence.id).order_by(Occurrence.id)).all() == occurrence_ids
    embed = queries.find_embed(session, "AAA")
    assert embed is not None and embed.first_seen_at == NOW  # first seen stays first seen


def test_rescan_replaces_the_articles_occurrences(session: Session) -> None:
    source = queries.ensure_source(session, "site", "files", NOW)
    queries.save_scan(session, source, article(), [post("AAA"), post("BBB", start=200), post("CCC")], NOW)
    session.commit()

    saved = queries.save_scan(session, source, article(data=b"<p>edited</p>"), [post("CCC", start=40)], NOW)
    session.commit()

    row = session.get(Article, saved.article_id)
    assert row is not None
    session.refresh(row)
    assert len(row.occurrences) == 1
    only = row.occurrences[0]
    assert (only.position, only.span_start, only.embed is not None and only.embed.post_id) == (0, 40, "CCC")
    assert count(session, Occurrence) == 1
    assert count(session, Embed) == 3  # embeds outlive the markup that named them


def test_residue_has_no_embed_but_keeps_what_it_says(session: Session) -> None:
    source = queries.ensure_source(session, "site", "files", NOW)
    queries.save_scan(session, source, article(), [residue("Hayley Atwell", "wellhayley")], NOW)
    session.commit()

    [(row, occurrence)] = queries.residue_occurrences(session)
    assert row.key == "news/a.html"
    assert occurrence.embed_id is None and occurrence.embed is None
    assert occurrence.markup == "residue"
    assert occurrence.found == {"author_name": "Hayley Atwell", "handle": "wellhayley"}
    assert count(session, Embed) == 0
    assert queries.residue_occurrences(session, sources=["elsewhere"]) == []


def test_the_same_post_in_two_articles_is_one_embed(session: Session) -> None:
    source = queries.ensure_source(session, "site", "files", NOW)
    first = queries.save_scan(session, source, article("a.html"), [post("AAA", handle="wellhayley")], NOW)
    second = queries.save_scan(
        session,
        source,
        article("b.html"),
        [post("AAA", author_name="Hayley Atwell", handle="other"), post("AAA", start=300)],
        NOW,
    )
    session.commit()

    assert (first.new_embeds, second.new_embeds, second.embeds) == (1, 0, 1)
    assert count(session, Embed) == 1
    embed = queries.find_embed(session, "AAA")
    assert embed is not None
    pairs = queries.embed_articles(session, embed)
    assert [(a.key, o.position) for a, o in pairs] == [("a.html", 0), ("b.html", 0), ("b.html", 1)]
    # First non-empty value per field, oldest article first.
    assert queries.markup_fields_for(session, embed) == {
        "handle": "wellhayley",
        "author_name": "Hayley Atwell",
    }


def test_article_unchanged_needs_the_same_hash_and_a_clean_scan(session: Session) -> None:
    source = queries.ensure_source(session, "site", "files", NOW)
    sha = article().sha256
    assert not queries.article_unchanged(session, source, "news/a.html", sha)
    queries.save_scan(session, source, article(), [post("AAA")], NOW)
    assert queries.article_unchanged(session, source, "news/a.html", sha)
    assert not queries.article_unchanged(session, source, "news/a.html", "0" * 64)

    queries.record_article_error(session, source, "news/a.html", "binary file", NOW + timedelta(hours=1))
    session.commit()
    assert not queries.article_unchanged(session, source, "news/a.html", sha)
    row = queries.get_article(session, source, "news/a.html")
    assert row is not None and row.scan_error == "binary file"
    assert len(row.occurrences) == 1  # an unreadable article is no evidence its embeds are gone


def test_record_article_error_creates_the_article_when_new(session: Session) -> None:
    source = queries.ensure_source(session, "site", "files", NOW)
    queries.record_article_error(session, source, "huge.html", "larger than 32 MiB", NOW)
    session.commit()
    row = queries.get_article(session, source, "huge.html")
    assert row is not None
    assert (row.scan_error, row.content_sha256, row.first_seen_at) == ("larger than 32 MiB", None, NOW)
    assert queries.status_counts(session)["articles_with_errors"] == 1


def test_get_or_create_survives_a_concurrent_insert(session: Session) -> None:
    """The INSERT ... ON CONFLICT DO NOTHING path another process's insert would take."""
    values = {"name": "site", "kind": "files", "created_at": NOW}
    assert insert_ignoring_conflicts(session, Source, [values], ["name"]) == 1
    assert insert_ignoring_conflicts(session, Source, [values], ["name"]) == 0
    assert queries.ensure_source(session, "site", "files", NOW).name == "site"


# --- captures ---------------------------------------------------------------------------------------


def test_embeds_due_for_capture(session: Session) -> None:
    source = queries.ensure_source(session, "site", "files", NOW)
    queries.save_scan(session, source, article("a.html"), [post("OLD")], NOW - timedelta(days=1))
    queries.save_scan(session, source, article("b.html"), [post("NEW"), post("123", provider="twitter")], NOW)
    session.commit()

    due = queries.embeds_due_for_capture(session, NOW, limit=10)
    assert [e.post_id for e in due] == ["OLD", "NEW", "123"]
    assert [e.post_id for e in queries.embeds_due_for_capture(session, NOW, limit=1)] == ["OLD"]
    assert [e.post_id for e in queries.embeds_due_for_capture(session, NOW, 10, ["twitter"])] == ["123"]
    assert queries.embeds_due_for_capture(session, NOW, 10, []) == []
    assert [e.post_id for e in queries.embeds_due_for_capture(session, NOW - timedelta(hours=1), 10)] == [
        "OLD"
    ]

    old, new, tweet = due
    queries.record_capture(session, old, capture(), [], NOW, 120, None)
    queries.record_capture(
        session, new, capture(outcome=Outcome.TRANSIENT), [], NOW, 80, NOW + timedelta(hours=1)
    )
    tweet.next_capture_at = None  # unset means due
    session.commit()

    assert [e.post_id for e in queries.embeds_due_for_capture(session, NOW, 10)] == ["123"]
    later = queries.embeds_due_for_capture(session, NOW + timedelta(hours=1), 10)
    assert [e.post_id for e in later] == ["NEW", "123"]


def test_record_capture_writes_a_version_only_when_content_changes(session: Session) -> None:
    embed = scanned_embed(session)
    media = [
        queries.StoredMediaRef(
            "thumbnail", "https://cdn.example/t.jpg?sig=1", "oembed", "ab" * 32, "image/jpeg", 5, None
        ),
        queries.StoredMediaRef(
            "image", "https://cdn.example/i.jpg?sig=1", "embed_page", None, None, None, "too large"
        ),
    ]

    first = queries.record_capture(session, embed, capture(), media, NOW, 250, None)
    session.commit()
    assert first is not None and first.version == 1
    assert (first.text, first.author_name, first.handle, first.captured_at) == (
        "Hello world",
        "Hayley Atwell",
        None,
        NOW,
    )
    assert first.provenance == {"text": "embed_page", "author_name": "markup"}
    assert first.raw == [
        {
            "rung": "embed_page",
            "url": "https://www.instagram.com/p/Ci22crtrcRL/embed/",
            "status": 200,
            "content_type": "text/html",
            "body": "<html>",
            "error": None,
            "headers": {},
            "fetched_at": None,
        }
    ]
    stored, failed = first.media
    assert stored.media_file is not None and stored.media_file.sha256 == "ab" * 32
    assert (stored.kind, stored.position, stored.error) == ("thumbnail", 0, None)
    assert (failed.media_id, failed.error, failed.position) == (None, "too large", 1)
    # The state is the verdicts' business (pipeline/verdict.py), not the recorder's.
    assert (embed.state, embed.last_captured_at, embed.next_capture_at) == ("new", NOW, None)
    assert (embed.capture_attempts, embed.last_outcome) == (1, "ok")

    # Same content; other raw responses, latency and CDN signatures do not make a version.
    resigned = [
        queries.StoredMediaRef(
            "thumbnail", "https://cdn.example/t.jpg?sig=2", "oembed", "ab" * 32, "image/jpeg", 5, None
        ),
        queries.StoredMediaRef(
            "image", "https://cdn.example/i.jpg?sig=2", "embed_page", None, None, None, "too large"
        ),
    ]
    same = queries.record_capture(session, embed, capture(), resigned, NOW + timedelta(days=1), 90, None)
    assert same is None
    edited = queries.record_capture(
        session, embed, capture("Hello, world!"), resigned, NOW + timedelta(days=2), 90, None
    )
    session.commit()

    assert edited is not None and edited.version == 2 and edited.text == "Hello, world!"
    assert [s.version for s in embed.snapshots] == [1, 2]
    assert queries.latest_snapshot(session, embed) == edited
    assert count(session, Check) == 3
    assert count(session, Media) == 1  # the same file is one media row
    assert count(session, SnapshotMedia) == 4
    assert embed.last_captured_at == NOW + timedelta(days=2)


def test_a_failed_capture_is_a_check_row_and_a_retry_time(session: Session) -> None:
    embed = scanned_embed(session)
    queries.record_capture(session, embed, capture(), [], NOW, 100, None)
    retry = NOW + timedelta(hours=3)

    result = queries.record_capture(
        session, embed, capture(outcome=Outcome.TRANSIENT), [], NOW, 30_000, retry
    )
    session.commit()

    assert result is None
    assert count(session, Snapshot) == 1
    assert (embed.state, embed.next_capture_at, embed.capture_attempts) == ("new", retry, 2)
    assert (embed.last_outcome, embed.last_reason) == ("transient", "HTTP 503")
    last = embed.checks[-1]
    assert (last.kind, last.outcome, last.http_status, last.latency_ms) == (
        "capture",
        "transient",
        503,
        30_000,
    )


def test_ok_without_content_is_retried_not_due_at_once(session: Session) -> None:
    embed = scanned_embed(session)
    empty = Capture("instagram", "Ci22crtrcRL", None, Outcome.OK, "no fields")
    retry = NOW + timedelta(hours=1)
    assert queries.record_capture(session, embed, empty, [], NOW, None, retry) is None
    assert (embed.state, embed.next_capture_at) == ("new", retry)
    assert queries.embeds_due_for_capture(session, NOW, 10) == []


def test_content_hash_covers_values_and_media_not_provenance() -> None:
    thumb = queries.StoredMediaRef(
        "thumbnail", "https://cdn/x.jpg?a=1", "oembed", None, None, None, "timeout"
    )
    base = queries.content_sha256({"text": "a", "handle": "b"}, [thumb])
    assert base == queries.content_sha256({"handle": "b", "text": "a"}, [thumb])
    assert base != queries.content_sha256({"text": "a", "handle": "c"}, [thumb])
    assert base != queries.content_sha256({"text": "a", "handle": "b"}, [])
    stored = queries.StoredMediaRef(
        "thumbnail", "https://cdn/x.jpg", "oembed", "cd" * 32, "image/png", 3, None
    )
    assert base != queries.content_sha256({"text": "a", "handle": "b"}, [stored])


def test_save_media_is_get_or_create(session: Session) -> None:
    first = queries.save_media(session, "ef" * 32, "image/webp", 10, NOW)
    again = queries.save_media(session, "ef" * 32, "image/webp", 10, NOW + timedelta(days=1))
    assert first.id == again.id and again.created_at == NOW
    assert count(session, Media) == 1


# --- reports and lookups ----------------------------------------------------------------------------


def test_status_counts_and_list_embeds(session: Session) -> None:
    source = queries.ensure_source(session, "site", "files", NOW)
    queries.save_scan(session, source, article("a.html"), [post("AAA"), residue("A", "a")], NOW)
    queries.save_scan(session, source, article("b.html"), [post("AAA"), post("123", provider="twitter")], NOW)
    queries.record_article_error(session, source, "c.html", "not HTML", NOW)
    aaa = queries.find_embed(session, "AAA")
    assert aaa is not None
    queries.record_capture(session, aaa, capture(), [], NOW, 10, None)
    queries.set_state(session, aaa, "live", NOW, "captured")
    queries.record_capture(
        session, aaa, capture(outcome=Outcome.TRANSIENT), [], NOW + timedelta(hours=2), 10, None
    )
    session.commit()

    assert queries.status_counts(session) == {
        "articles": 3,
        "articles_with_errors": 1,
        "embeds": 2,
        "residues": 1,
        "snapshots": 1,
        "media": 0,
        "by_state": {"live": 1, "new": 1},
        "by_provider": {"instagram": {"live": 1}, "twitter": {"new": 1}},
        "rewrites": {},
    }

    rows = queries.list_embeds(session)
    assert [r.post_id for r in rows] == ["AAA", "123"]
    first, second = rows
    assert first == queries.EmbedRow(
        id=aaa.id,
        provider="instagram",
        post_id="AAA",
        url="https://www.instagram.com/p/AAA/",
        state="live",
        last_checked_at=NOW + timedelta(hours=2),
        last_outcome="transient",
        snapshots=1,
        articles=2,
    )
    assert first.last_checked_at is not None and first.last_checked_at.tzinfo is not None
    assert (second.last_checked_at, second.snapshots, second.articles) == (None, 0, 1)
    assert [r.post_id for r in queries.list_embeds(session, state="new")] == ["123"]
    assert [r.post_id for r in queries.list_embeds(session, provider="instagram")] == ["AAA"]
    assert len(queries.list_embeds(session, limit=1)) == 1
    assert queries.list_embeds(session, state="broken") == []


def test_status_counts_of_an_empty_archive(session: Session) -> None:
    counts = queries.status_counts(session)
    assert counts["embeds"] == 0 and counts["by_state"] == {} and counts["by_provider"] == {}


def test_find_embed_by_id_post_id_and_url(session: Session) -> None:
    source = queries.ensure_source(session, "site", "files", NOW)
    youtube = EmbedRef(
        "youtube", "dQw4w9WgXcQ", "https://www.youtube.com/watch?v=dQw4w9WgXcQ", MarkupKind.IFRAME
    )
    queries.save_scan(session, source, article(), [post("Ci22crtrcRL"), youtube], NOW)
    session.commit()
    embed = queries.find_embed(session, "Ci22crtrcRL")
    assert embed is not None

    for name in (
        str(embed.id),
        "Ci22crtrcRL",
        " https://www.instagram.com/p/Ci22crtrcRL/ ",
        "https://www.instagram.com/p/Ci22crtrcRL",
        "https://www.instagram.com/p/Ci22crtrcRL/?utm_source=ig_embed&igsh=xyz",
        "http://instagram.com/p/Ci22crtrcRL/#comments",
        "instagram.com/p/Ci22crtrcRL",
    ):
        assert queries.find_embed(session, name) == embed, name

    video = queries.find_embed(session, "https://youtube.com/watch?v=dQw4w9WgXcQ&t=42s")
    assert video is not None and video.provider == "youtube"
    assert queries.find_embed(session, "https://www.youtube.com/watch?v=other") is None
    assert queries.find_embed(session, "https://www.instagram.com/p/Ci22crtrcRLX/") is None
    assert queries.find_embed(session, "99999") is None
    assert queries.find_embed(session, "1234567890123456789012") is None
    assert queries.find_embed(session, "") is None
    assert queries.find_embed(session, "100%_sure") is None
    assert queries.find_embed(session, "²") is None


def test_find_embed_with_a_post_id_two_providers_share(session: Session) -> None:
    source = queries.ensure_source(session, "site", "files", NOW)
    queries.save_scan(session, source, article(), [post("42", provider="twitter"), post("42")], NOW)
    session.commit()
    ids = {row.provider: row.id for row in queries.list_embeds(session)}
    found = queries.find_embed(session, "42")
    assert found is not None and found.id == min(ids.values())  # the lowest id
    by_url = queries.find_embed(session, "https://www.instagram.com/p/42/")
    assert by_url is not None and by_url.provider == "instagram"
    by_url = queries.find_embed(session, "https://x.com/i/42")
    assert by_url is not None and by_url.provider == "twitter"


# --- timestamps and integrity -------------------------------------------------------------------------


def test_timestamps_come_back_aware_utc(session: Session, db_url: str) -> None:
    paris = timezone(timedelta(hours=1))
    source = queries.ensure_source(session, "site", "files", datetime(2026, 3, 1, 13, 0, tzinfo=paris))
    session.commit()
    if db_url.startswith("postgresql"):
        # A session time zone far from UTC: values still come back in UTC.
        session.connection().exec_driver_sql("SET TIME ZONE 'Asia/Kolkata'")
    session.expire_all()
    created = session.scalar(select(Source.created_at).where(Source.id == source.id))
    assert created is not None
    assert created.tzinfo is not None and created.utcoffset() == timedelta(0)
    assert created == NOW


def test_naive_timestamps_are_refused(session: Session) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        queries.ensure_source(session, "site", "files", datetime(2026, 3, 1, 12, 0))


def test_deleting_an_article_deletes_its_occurrences(session: Session) -> None:
    source = queries.ensure_source(session, "site", "files", NOW)
    saved = queries.save_scan(session, source, article(), [post("AAA"), residue("A", "a")], NOW)
    queries.save_scan(session, source, article("keep.html"), [post("AAA")], NOW)
    session.commit()

    # The database cascades (foreign keys are on in SQLite too), not only the ORM.
    session.execute(delete(Article).where(Article.id == saved.article_id))
    session.commit()

    assert count(session, Occurrence) == 1
    assert count(session, Embed) == 1


# --- blobs ------------------------------------------------------------------------------------------


def leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.name.startswith(blobs.TEMP_PREFIX)]


def test_blob_put_is_content_addressed_and_readable(tmp_path: Path) -> None:
    store = blobs.LocalBlobStore(tmp_path / "media")
    data = b"\x89PNG\r\n\x1a\n fake image"
    sha = hashlib.sha256(data).hexdigest()

    stored = store.put(data)

    assert stored == blobs.StoredBlob(
        sha256=sha, size=len(data), path=str(tmp_path / "media" / sha[:2] / sha[2:4] / sha)
    )
    assert store.path_for(sha) == stored.path
    assert store.exists(sha) and store.open(sha) == data
    assert oct(os.stat(stored.path).st_mode & 0o777) == oct(0o644)
    assert leftovers(tmp_path) == []


def test_blob_put_deduplicates(tmp_path: Path) -> None:
    store = blobs.LocalBlobStore(tmp_path)
    first = store.put(b"same bytes")
    mtime = os.stat(first.path).st_mtime_ns
    second = store.put(b"same bytes")
    assert second == first
    assert os.stat(first.path).st_mtime_ns == mtime
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == [Path(first.path)]


def test_blob_put_repairs_a_damaged_file(tmp_path: Path) -> None:
    store = blobs.LocalBlobStore(tmp_path)
    stored = store.put(b"the real content")
    Path(stored.path).write_bytes(b"trunc")
    assert store.put(b"the real content") == stored
    assert store.open(stored.sha256) == b"the real content"


def test_a_failed_blob_write_leaves_no_temp_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = blobs.LocalBlobStore(tmp_path)

    def no_rename(src: str, dst: str) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(blobs.os, "replace", no_rename)
    with pytest.raises(StorageError, match="No space left"):
        store.put(b"will not fit")
    monkeypatch.undo()

    assert leftovers(tmp_path) == []
    assert not store.exists(hashlib.sha256(b"will not fit").hexdigest())


def test_blob_store_refuses_bad_hashes_and_reports_missing_blobs(tmp_path: Path) -> None:
    store = blobs.LocalBlobStore(tmp_path)
    for bad in ("../../etc/passwd", "AB" * 32, "ab" * 31, ""):
        with pytest.raises(ValueError):
            store.path_for(bad)
    with pytest.raises(NotFound):
        store.open("00" * 32)
    assert not store.exists("00" * 32)


def test_local_blob_store_is_a_blob_store(tmp_path: Path) -> None:
    store: blobs.BlobStore = blobs.LocalBlobStore(tmp_path)
    assert store.exists(store.put(b"x").sha256)
