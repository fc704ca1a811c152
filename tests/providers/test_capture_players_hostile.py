"""Hostile bodies from the video, audio and music providers' sources never crash a capture and never
leave anything unsafe in the fields: wrong JSON types are ignored, huge strings clipped, deep nesting
refused, non-http URLs dropped, provider HTML sanitised. Every body here is synthetic (hostile by design)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.fake_server import Canned, FakeServer

from archiver.app import App
from archiver.records import Capture, Outcome
from tests.support.capture_world import add_and_capture
from tests.support.player_world import app_for, capture_direct, json_canned

# provider, endpoint path on the fake server, post id, canonical URL
OEMBED = [
    ("youtube", "/oembed", "pO5L6vXtxsI", "https://www.youtube.com/watch?v=pO5L6vXtxsI"),
    ("vimeo", "/api/oembed.json", "235352744", "https://vimeo.com/235352744"),
    ("dailymotion", "/services/oembed", "x7tgad0", "https://www.dailymotion.com/video/x7tgad0"),
    ("spotify", "/oembed", "7y8NWS6gR3Wz4C7W8Bh0WL", "https://open.spotify.com/track/7y8NWS6gR3Wz4C7W8Bh0WL"),
    ("soundcloud", "/oembed", "180961263", "https://api.soundcloud.com/tracks/180961263"),
    (
        "tiktok",
        "/oembed",
        "6806030056956251397",
        "https://www.tiktok.com/@a3noticias/video/6806030056956251397",
    ),
]
APPLE = [
    ("apple_music", "/lookup", "1097861387", "https://music.apple.com/us/album/ok-computer/1097861387"),
    (
        "apple_podcasts",
        "/lookup",
        "1200361736",
        "https://podcasts.apple.com/us/podcast/the-daily/id1200361736",
    ),
]
HTML = '<iframe src="https://example.com/player"></iframe>'
# app, provider, endpoint path, post id, URL
World = tuple[App, str, str, str, str]


@pytest.fixture(params=OEMBED, ids=[p[0] for p in OEMBED])
def oembed(request: pytest.FixtureRequest, fake_server: FakeServer, tmp_path: Path) -> Iterator[World]:
    provider, path, post_id, url = request.param
    for app in app_for(fake_server, tmp_path, provider):
        yield app, provider, path, post_id, url


def safe(capture: Capture) -> None:
    """Nothing unsafe or unbounded was kept."""
    for name, field in capture.fields.items():
        assert len(field.value) <= 20_000, name
        assert "javascript:" not in field.value.lower() and "<script" not in field.value.lower(), name
    for media in capture.media:
        assert media.url.startswith(("http://", "https://")), media.url


def test_wrong_json_types_are_ignored(oembed: World, fake_server: FakeServer) -> None:
    app, provider, path, post_id, url = oembed
    body = {
        "version": "1.0",
        "type": "video",
        "html": HTML,
        "title": 123,
        "author_name": ["x"],
        "author_url": {"href": "https://example.com"},
        "author_unique_id": [1],
        "thumbnail_url": {"a": 1},
        "description": {"x": 1},
        "upload_date": 42,
        "domain_status_code": None,
    }
    fake_server.route(path, json_canned(body))
    capture = capture_direct(app, provider, post_id, url)
    assert capture.outcome in (Outcome.OK, Outcome.AMBIGUOUS)
    assert capture.fields == {} and capture.media == ()


def test_huge_strings_are_clipped(oembed: World, fake_server: FakeServer) -> None:
    app, provider, path, post_id, url = oembed
    big = "A" * 250_000  # three of them stay under the 1 MiB JSON cap
    body = {
        "version": "1.0",
        "type": "video",
        "html": HTML,
        "title": big,
        "author_name": big,
        "description": big,
    }
    fake_server.route(path, json_canned(body))
    capture = capture_direct(app, provider, post_id, url)
    assert capture.outcome is Outcome.OK
    safe(capture)
    assert capture.fields  # clipped, not dropped


def test_deep_nesting_is_refused(oembed: World, fake_server: FakeServer) -> None:
    app, provider, path, post_id, url = oembed
    body = b'{"type":"video","html":"<iframe></iframe>","title":"t","author_name":"a","x":' + b"[" * 100_000
    body += b"]" * 100_000 + b"}"
    fake_server.route(path, Canned(200, {"Content-Type": "application/json"}, body))
    capture = capture_direct(app, provider, post_id, url)
    assert capture.outcome is Outcome.AMBIGUOUS and capture.fields == {}


def test_non_http_urls_are_dropped(oembed: World, fake_server: FakeServer) -> None:
    app, provider, path, post_id, url = oembed
    body = {
        "version": "1.0",
        "type": "video",
        "html": HTML,
        "title": "A title",
        "author_name": "An author",
        "author_url": "javascript:alert(1)",
        "thumbnail_url": "data:image/svg+xml,<svg onload=alert(1)>",
    }
    fake_server.route(path, json_canned(body))
    capture = capture_direct(app, provider, post_id, url)
    assert capture.outcome is Outcome.OK
    safe(capture)
    assert "author_url" not in capture.fields and capture.media == ()


def test_hostile_html_in_captions_is_sanitised(oembed: World, fake_server: FakeServer) -> None:
    app, provider, path, post_id, url = oembed
    hostile = '<script>alert(1)</script><img src=x onerror=alert(2)><a href="javascript:alert(3)">x</a> Words'
    html = f'<blockquote class="tiktok-embed" data-video-id="{post_id}"><p>{hostile}</p></blockquote>'
    body = {
        "version": "1.0",
        "type": "video",
        "html": html,
        "title": "t",
        "author_name": "a",
        "description": hostile,
    }
    fake_server.route(path, json_canned(body))
    capture = capture_direct(app, provider, post_id, url)
    assert capture.outcome is Outcome.OK
    safe(capture)
    html_field = capture.fields.get("text_html")
    if html_field is not None:
        assert "onerror" not in html_field.value and "alert" not in html_field.value


@pytest.mark.parametrize(("provider", "path", "post_id", "url"), APPLE, ids=[p[0] for p in APPLE])
def test_apple_lookup_with_hostile_results(
    fake_server: FakeServer, tmp_path: Path, provider: str, path: str, post_id: str, url: str
) -> None:
    item = {
        "wrapperType": "collection" if provider == "apple_music" else "track",
        "kind": "podcast",
        "collectionId": int(post_id),
        "collectionName": {"x": 1},
        "trackName": "N" * 300_000,
        "artistName": 123,
        "artistViewUrl": "javascript:alert(1)",
        "artworkUrl600": "data:image/png;base64,AAAA",
        "artworkUrl100": ["https://example.com/a.jpg"],
        "releaseDate": "not a date",
    }
    body = {"resultCount": 4, "results": [None, 7, "x", item]}
    for app in app_for(fake_server, tmp_path, provider):
        fake_server.route(path, json_canned(body))
        capture = capture_direct(app, provider, post_id, url)
        assert capture.outcome is Outcome.OK
        safe(capture)
        assert capture.media == () and "author_url" not in capture.fields
        embed = add_and_capture(app, provider, post_id, url)  # stored without trouble
        assert embed.checks[-1].outcome == "ok"
        assert json.dumps(embed.snapshots[0].provenance if embed.snapshots else {})
