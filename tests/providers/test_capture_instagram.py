"""Instagram capture against a real loopback server playing recorded responses, with faults injected."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.fake_server import Canned, FakeServer

from archiver.app import App
from archiver.clock import FixedClock
from archiver.pipeline.capture import capture_due
from archiver.records import Article, EmbedRef, MarkupKind, Outcome
from archiver.storage import queries
from archiver.storage.models import Check, Embed, Snapshot
from tests.support.instagram_world import OEMBED_PATH, embed_page, serve_instagram, settings_for

START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
POST = "https://www.instagram.com/p/B9bOM-6Ax_d/"


@pytest.fixture
def app(fake_server: FakeServer, tmp_path: Path) -> Iterator[App]:
    application = App(settings_for(fake_server, tmp_path), FixedClock(START), {})
    yield application
    application.close()


def add_embed(app: App, post_id: str = "B9bOM-6Ax_d", url: str = POST, **found: str) -> None:
    ref = EmbedRef("instagram", post_id, url, MarkupKind.BLOCKQUOTE, **found)  # type: ignore[arg-type]
    article = Article("a.html", "test", b"<p>x</p>", "<p>x</p>", "utf-8", "0" * 64)
    with app.sessions() as session, session.begin():
        source = queries.ensure_source(session, "test", "files", START)
        queries.save_scan(session, source, article, [ref], START)


def only_embed(app: App) -> Embed:
    with app.sessions() as session:
        embed = session.query(Embed).one()
        embed.snapshots, embed.checks  # noqa: B018 - load before the session closes
        for snap in embed.snapshots:
            for media in snap.media:
                media.media_file  # noqa: B018
        return embed


def test_live_post_climbs_every_rung_with_provenance(app: App, fake_server: FakeServer) -> None:
    serve_instagram(fake_server)
    add_embed(app, author_name="Ruby Eloquent", handle="ruby_eloquent")
    report = capture_due(app.sessions, app.capture_deps())
    assert [item.outcome for item in report.items] == [Outcome.OK]
    snap = only_embed(app).snapshots[0]
    assert snap.version == 1
    assert snap.author_name == "ruby_eloquent"  # recorded 2020 oEmbed still had author_name
    assert snap.provenance["author_name"] == "oembed"
    assert snap.handle == "ruby_eloquent" and snap.provenance["handle"] == "embed_page"
    assert snap.text == "Harbour at dawn & the first boats out.\nWorth the 5am alarm. #lisbon"
    assert snap.provenance["text"] == "embed_page"
    assert "View all" not in snap.text
    kinds = {m.kind: m for m in snap.media}
    assert kinds["thumbnail"].media_file.mime == "image/jpeg"
    assert kinds["image"].media_file.mime == "image/png"
    assert app.blobs.exists(kinds["image"].media_file.sha256)
    assert {r["rung"] for r in snap.raw} == {"oembed", "embed_page"}


def test_tokenless_by_default_and_token_from_environment_is_redacted(
    app: App, fake_server: FakeServer, tmp_path: Path
) -> None:
    serve_instagram(fake_server)
    add_embed(app)
    capture_due(app.sessions, app.capture_deps())
    first = next(r for r in fake_server.requests if r.path == OEMBED_PATH)
    assert "access_token" not in first.query
    assert first.query["url"] == [POST]

    with_token = App(app.settings, FixedClock(START), {"TEST_META_TOKEN": "123|s3cret"})
    add_embed(with_token, "CIyNZQhH4DQ", "https://www.instagram.com/reel/CIyNZQhH4DQ/")
    serve_instagram(fake_server, (("reel", "CIyNZQhH4DQ"),))
    capture_due(with_token.sessions, with_token.capture_deps())
    sent = [r for r in fake_server.requests if r.path == OEMBED_PATH][-1]
    assert sent.query["access_token"] == ["123|s3cret"]
    with with_token.sessions() as session:
        raws = [json.dumps(s.raw) for s in session.query(Snapshot)]
    assert all("s3cret" not in raw for raw in raws)
    with_token.close()


@pytest.mark.parametrize(
    ("oembed", "page", "outcome"),
    [
        (
            Canned(
                400,
                {},
                b'{"error":{"message":"(#4) Application request limit reached","type":"OAuthException",'
                b'"is_transient":true,"code":4}}',
            ),
            Canned(429),
            Outcome.TRANSIENT,
        ),
        (
            Canned(
                400,
                {},
                b'{"error":{"message":"Invalid OAuth access token.","type":"OAuthException","code":190}}',
            ),
            Canned(404),
            Outcome.PROVIDER_DOWN,
        ),
        (
            Canned(400, {}, b'{"error":{"message":"Invalid parameter","type":"OAuthException","code":100}}'),
            Canned(404),
            Outcome.GONE,
        ),
        (Canned(404), Canned(404), Outcome.GONE),
        (Canned(500), Canned(502), Outcome.TRANSIENT),
        (
            Canned(200, {"Content-Type": "text/html"}, b"<!DOCTYPE html><html>Log in to Instagram</html>"),
            Canned(200, {"Content-Type": "text/html"}, b"<html><body>Log in</body></html>"),
            Outcome.AMBIGUOUS,
        ),
        (
            Canned(200, {}, b'{"version":"1.0","type":"rich","provider_name":"Instagram"}'),
            Canned(403),
            Outcome.AMBIGUOUS,
        ),
        (
            Canned(200, {}, b'{"version":"1.0","type":"rich","html":"<blockquote'),
            Canned(reset=True),
            Outcome.TRANSIENT,
        ),
        (Canned(200, {}, b"Forbidden"), Canned(200, {}, b"Forbidden"), Outcome.AMBIGUOUS),
    ],
    ids=[
        "graph-rate-limit",
        "graph-bad-token",
        "graph-cannot-embed",
        "404",
        "5xx",
        "login-wall",
        "json-without-html",
        "truncated-json-and-reset",
        "forbidden-with-200",
    ],
)
def test_failures_are_classified_and_never_snapshot(
    app: App, fake_server: FakeServer, oembed: Canned, page: Canned, outcome: Outcome
) -> None:
    fake_server.route(OEMBED_PATH, oembed)
    fake_server.route("/p/B9bOM-6Ax_d/embed/captioned/", page)
    add_embed(app)
    report = capture_due(app.sessions, app.capture_deps())
    assert [item.outcome for item in report.items] == [outcome]
    embed = only_embed(app)
    assert embed.snapshots == []
    assert embed.checks[-1].outcome == outcome.value
    assert embed.next_capture_at is not None and embed.next_capture_at > START


def test_transient_failure_is_retried_later_not_now(app: App, fake_server: FakeServer) -> None:
    fake_server.route(OEMBED_PATH, Canned(503, {"Retry-After": "3600"}))
    fake_server.route("/p/B9bOM-6Ax_d/embed/captioned/", Canned(503))
    add_embed(app)
    assert capture_due(app.sessions, app.capture_deps()).transient == 1
    assert capture_due(app.sessions, app.capture_deps()).attempted == 0  # waiting for its retry time
    assert isinstance(app.clock, FixedClock)
    app.clock.advance(timedelta(hours=1, minutes=1))
    serve_instagram(fake_server)
    report = capture_due(app.sessions, app.capture_deps())
    assert [item.outcome for item in report.items] == [Outcome.OK]


def test_hostile_media_and_caption_are_neutralised(app: App, fake_server: FakeServer) -> None:
    serve_instagram(fake_server)
    page = embed_page(fake_server).replace(
        b"Harbour at dawn", b"<script>alert(1)</script><img src=x onerror=alert(2)>Harbour at dawn"
    )
    fake_server.route("/p/B9bOM-6Ax_d/embed/captioned/", Canned(200, {"Content-Type": "text/html"}, page))
    fake_server.route(
        "/media/image.jpg",
        Canned(200, {"Content-Type": "image/jpeg"}, b'<?xml version="1.0"?><svg onload="alert(1)"></svg>'),
    )
    fake_server.route("/media/thumb.jpg", Canned(200, {"Content-Type": "image/jpeg"}, b"<html>nope</html>"))
    add_embed(app)
    capture_due(app.sessions, app.capture_deps())
    snap = only_embed(app).snapshots[0]
    assert "script" not in (snap.text_html or "") and "onerror" not in (snap.text_html or "")
    assert "alert" not in snap.text
    errors = {m.kind: m.error for m in snap.media}
    assert all(m.media_file is None for m in snap.media)
    assert "SVG" in errors["image"] and "HTML" in errors["thumbnail"]


def test_rate_budget_defers_instead_of_sleeping(fake_server: FakeServer, tmp_path: Path) -> None:
    settings = settings_for(fake_server, tmp_path, capture={"per_provider": 1})
    settings = settings.model_copy(
        update={"providers": {"instagram": settings.provider("instagram").model_copy(update={"rate": "2/h"})}}
    )
    app = App(settings, FixedClock(START), {})
    serve_instagram(fake_server, (("p", "B9bOM-6Ax_d"), ("reel", "CIyNZQhH4DQ")))
    add_embed(app)
    add_embed(app, "CIyNZQhH4DQ", "https://www.instagram.com/reel/CIyNZQhH4DQ/")
    started = time.monotonic()
    report = capture_due(app.sessions, app.capture_deps())
    assert time.monotonic() - started < 5  # an hour's wait is never slept
    assert sorted((item.outcome.value, item.deferred) for item in report.items) == [
        ("ok", False),
        ("transient", True),
    ]
    api_calls = [r for r in fake_server.requests if not r.path.startswith("/media/")]
    assert len(api_calls) == 2  # the budget: two per hour for the host
    with app.sessions() as session:  # a deferral is no check of the post
        assert session.query(Check).count() == 1
    assert isinstance(app.clock, FixedClock)
    app.clock.advance(timedelta(hours=1))
    again = capture_due(app.sessions, app.capture_deps())
    assert [(item.post_id, item.outcome.value) for item in again.items] == [("CIyNZQhH4DQ", "ok")]
    app.close()


def test_a_host_that_says_429_is_left_alone_by_every_process(fake_server: FakeServer, tmp_path: Path) -> None:
    fake_server.route(OEMBED_PATH, Canned(429, {"Retry-After": "600"}))
    fake_server.route("/p/B9bOM-6Ax_d/embed/captioned/", Canned(200, {}, b"<html></html>"))
    first = App(settings_for(fake_server, tmp_path), FixedClock(START), {})
    add_embed(first)
    assert [item.outcome for item in capture_due(first.sessions, first.capture_deps()).items] == [
        Outcome.TRANSIENT
    ]
    asked = len(fake_server.requests)
    # Another process (its own App, the same database) honours the backoff stored by the first.
    second = App(settings_for(fake_server, tmp_path), FixedClock(START + timedelta(hours=2)), {})
    with second.sessions() as session, session.begin():
        session.query(Embed).update({Embed.next_capture_at: START})
    second.clock.set(START + timedelta(minutes=5))  # type: ignore[attr-defined]
    report = capture_due(second.sessions, second.capture_deps())
    assert [item.deferred for item in report.items] == [True]
    assert len(fake_server.requests) == asked
    first.close()
    second.close()
