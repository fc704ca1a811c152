"""Hostile provider responses during capture: refused or neutralised with a clear reason, and the rest
of the run goes on (a second, healthy post is captured in the same run)."""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support.fake_server import Canned, FakeServer

from archiver.app import App
from archiver.clock import FixedClock
from archiver.pipeline.capture import capture_due
from archiver.records import Article, EmbedRef, MarkupKind, Outcome
from archiver.storage import queries
from archiver.storage.models import Embed
from tests.support.instagram_world import (
    OEMBED_PATH,
    embed_page,
    oembed_canned,
    serve_instagram,
    settings_for,
)

START = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
HOSTILE = ("p", "B9bOM-6Ax_d")
HEALTHY = ("reel", "CIyNZQhH4DQ")


@pytest.fixture
def app(fake_server: FakeServer, tmp_path: Path) -> Iterator[App]:
    settings = settings_for(
        fake_server,
        tmp_path,
        http={
            "allow_networks": ["127.0.0.0/8"],
            "read_timeout": 1.0,
            "deadline": 2.0,
            "max_json_bytes": 1024 * 1024,
        },
    )
    application = App(settings, FixedClock(START), {})
    serve_instagram(fake_server, (HOSTILE, HEALTHY))
    refs = [
        EmbedRef("instagram", code, f"https://www.instagram.com/{kind}/{code}/", MarkupKind.BLOCKQUOTE)
        for kind, code in (HOSTILE, HEALTHY)
    ]
    with application.sessions() as session, session.begin():
        source = queries.ensure_source(session, "test", "files", START)
        queries.save_scan(session, source, Article("a.html", "test", b"", "", "utf-8", "0" * 64), refs, START)
    yield application
    application.close()


def hostile_oembed(fake_server: FakeServer, canned: Canned) -> None:
    """The oEmbed endpoint turns hostile for the first post only."""
    healthy = oembed_canned(fake_server)
    fake_server.route(OEMBED_PATH, lambda r: canned if HOSTILE[1] in r.query["url"][0] else healthy)


def results(app: App) -> dict[str, Embed]:
    with app.sessions() as session:
        embeds = {e.post_id: e for e in session.query(Embed)}
        for e in embeds.values():
            e.snapshots, e.checks  # noqa: B018 - load before the session closes
            for snap in e.snapshots:
                for m in snap.media:
                    m.media_file  # noqa: B018
        return embeds


def assert_healthy_one_captured(app: App) -> None:
    healthy = results(app)[HEALTHY[1]]
    assert healthy.state == "live" and healthy.snapshots[0].text


@pytest.mark.parametrize(
    ("canned", "outcome", "words"),
    [
        (
            Canned(200, {"Content-Type": "application/json"}, b"x", declared_length=2 * 1024**3),
            Outcome.AMBIGUOUS,
            "too large",
        ),
        (
            Canned(
                200,
                {"Content-Type": "application/json", "Content-Encoding": "gzip"},
                gzip.compress(b"{" + b" " * (50 * 1024 * 1024) + b"}"),
            ),
            Outcome.AMBIGUOUS,
            "too large",
        ),
        (
            Canned(
                200,
                {"Content-Type": "application/json"},
                b'{"type": "rich", "html": "x"}' * 2,
                drip_seconds_per_byte=1.0,
            ),
            Outcome.TRANSIENT,
            "timeout",
        ),
        (Canned(302, {"Location": "http://169.254.169.254/latest/meta-data/"}), Outcome.AMBIGUOUS, "blocked"),
        (
            Canned(200, {"Content-Type": "application/json"}, b"[" * 100_000 + b"]" * 100_000),
            Outcome.AMBIGUOUS,
            "JSON",
        ),
    ],
    ids=["2GB-body", "gzip-bomb", "one-byte-per-second", "redirect-to-metadata", "deeply-nested-json"],
)
def test_hostile_oembed_answers_are_refused_with_a_reason(
    app: App, fake_server: FakeServer, canned: Canned, outcome: Outcome, words: str
) -> None:
    hostile_oembed(fake_server, canned)
    fake_server.route(f"/{HOSTILE[0]}/{HOSTILE[1]}/embed/captioned/", Canned(404))
    capture_due(app.sessions, app.capture_deps())
    hostile = results(app)[HOSTILE[1]]
    assert hostile.snapshots == []
    assert hostile.checks[-1].outcome in (outcome.value, Outcome.GONE.value)
    assert words.lower() in hostile.checks[-1].reason.lower()
    assert "\n" not in hostile.checks[-1].reason
    assert not any(r.path.startswith("/latest") for r in fake_server.requests)
    assert_healthy_one_captured(app)


def test_svg_and_html_thumbnails_and_script_captions_are_neutralised(
    app: App, fake_server: FakeServer
) -> None:
    page = embed_page(fake_server).replace(
        b"Harbour at dawn",
        b'<script>steal()</script><a href="javascript:steal()" onclick="x()">Harbour</a> at dawn',
    )
    fake_server.route(
        f"/{HOSTILE[0]}/{HOSTILE[1]}/embed/captioned/", Canned(200, {"Content-Type": "text/html"}, page)
    )
    fake_server.route(
        "/media/image.jpg",
        Canned(
            200,
            {"Content-Type": "image/jpeg"},
            b'<svg xmlns="http://www.w3.org/2000/svg"><script>x()</script></svg>',
        ),
    )
    fake_server.route("/media/thumb.jpg", Canned(200, {"Content-Type": "image/png"}, b"<!DOCTYPE html><p>hi"))
    capture_due(app.sessions, app.capture_deps())
    snap = results(app)[HOSTILE[1]].snapshots[0]
    assert "steal" not in snap.text and "<script" not in (snap.text_html or "")
    assert "javascript:" not in (snap.text_html or "") and "onclick" not in (snap.text_html or "")
    reasons = {m.kind: m.error or "" for m in snap.media}
    assert "SVG" in reasons["image"] and "HTML" in reasons["thumbnail"]
    assert not any(m.media_file for m in snap.media)
    assert app.blobs.root.exists() is False or not any(app.blobs.root.rglob("*"))  # nothing hostile stored
