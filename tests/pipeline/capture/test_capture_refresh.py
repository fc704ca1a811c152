"""Recapture: stored validators are sent, a 304 means alive and unchanged (no new version), a changed
caption makes version 2, and `archive show` prints the caption diff."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from support.fake_server import Canned, FakeServer, Recorded

from archiver.app import App
from archiver.clock import FixedClock
from archiver.pipeline.capture import capture_due
from archiver.records import Article, EmbedRef, MarkupKind, Outcome
from archiver.storage import queries
from archiver.storage.models import Check, Embed
from tests.support.instagram_world import (
    OEMBED_PATH,
    embed_page,
    oembed_canned,
    serve_instagram,
    settings_for,
)

START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PAGE_PATH = "/p/B9bOM-6Ax_d/embed/captioned/"


@pytest.fixture
def app(fake_server: FakeServer, tmp_path: Path) -> Iterator[App]:
    application = App(settings_for(fake_server, tmp_path), FixedClock(START), {})
    serve_instagram(fake_server)
    ref = EmbedRef(
        "instagram", "B9bOM-6Ax_d", "https://www.instagram.com/p/B9bOM-6Ax_d/", MarkupKind.BLOCKQUOTE
    )
    with application.sessions() as session, session.begin():
        source = queries.ensure_source(session, "test", "files", START)
        queries.save_scan(
            session, source, Article("a.html", "test", b"", "", "utf-8", "0" * 64), [ref], START
        )
    yield application
    application.close()


def conditional(body: bytes, etag: str, content_type: str) -> object:
    """A route that honours If-None-Match like a real server."""

    def respond(request: Recorded) -> Canned:
        if request.headers.get("if-none-match") == etag:
            return Canned(304, {"ETag": etag})
        return Canned(200, {"ETag": etag, "Content-Type": content_type}, body)

    return respond


def versions(app: App) -> list[tuple[int, str]]:
    with app.sessions() as session:
        embed = session.query(Embed).one()
        return [(s.version, s.text or "") for s in embed.snapshots]


def test_304_is_alive_and_unchanged_and_a_changed_caption_is_a_new_version(
    app: App, fake_server: FakeServer
) -> None:
    fake_server.route(OEMBED_PATH, conditional(oembed_canned(fake_server).body, '"o1"', "application/json"))
    fake_server.route(PAGE_PATH, conditional(embed_page(fake_server), '"p1"', "text/html"))
    capture_due(app.sessions, app.capture_deps())
    assert [v for v, _ in versions(app)] == [1]

    assert isinstance(app.clock, FixedClock)
    app.clock.advance(timedelta(days=1))
    fake_server.requests.clear()
    report = capture_due(app.sessions, app.capture_deps(), refresh=True)
    assert [(i.outcome, i.new_version) for i in report.items] == [(Outcome.OK, None)]
    sent = {r.path: r.headers.get("if-none-match") for r in fake_server.requests}
    assert sent[OEMBED_PATH] == '"o1"' and sent[PAGE_PATH] == '"p1"'
    assert [v for v, _ in versions(app)] == [1]  # 304s: alive, unchanged

    edited = embed_page(fake_server).replace(b"Harbour at dawn", b"Harbour at sunrise")
    fake_server.route(PAGE_PATH, conditional(edited, '"p2"', "text/html"))
    app.clock.advance(timedelta(days=1))
    report = capture_due(app.sessions, app.capture_deps(), refresh=True)
    assert [(i.outcome, i.new_version) for i in report.items] == [(Outcome.OK, 2)]
    assert [t.split(".")[0] for _, t in versions(app)] == [
        "Harbour at dawn & the first boats out",
        "Harbour at sunrise & the first boats out",
    ]
    with app.sessions() as session:
        assert session.query(Check).count() == 3  # every capture is a check, 304 included


def test_refresh_leaves_embeds_without_snapshots_alone(app: App, fake_server: FakeServer) -> None:
    assert capture_due(app.sessions, app.capture_deps(), refresh=True).attempted == 0
    assert not fake_server.requests
