"""Pinterest capture against a real loopback server playing the recorded oEmbed answer for a pin (php-embed
cache, June 2024: shared/fixtures/providers/pinterest/oembed-pin-200-2024.response.json), with faults.

The recorded thumbnail (i.pinimg.com) is pointed at the loopback server, as a mirror would serve it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from support.fake_server import FIXTURES, Canned, FakeServer, canned_from_response_json

from archiver.app import App
from archiver.clock import FixedClock
from archiver.providers.pinterest import Pinterest
from archiver.records import Capture, EmbedRef, MarkupKind, Outcome
from tests.support.capture_world import (
    JPEG,
    START,
    add_and_capture,
    answer_faults,
    context_for,
    endpoint_path,
    settings_for,
)

OEMBED_PATH = endpoint_path("pinterest", "oembed_endpoint")
PIN = "106890191127977979"
PIN_URL = f"https://www.pinterest.com/pin/{PIN}/"
PINTEREST = Pinterest()


def recorded(server: FakeServer, **changes: object) -> Canned:
    canned = canned_from_response_json(FIXTURES / "pinterest" / "oembed-pin-200-2024.response.json")
    body = json.loads(canned.body)
    body["thumbnail_url"] = f"{server.url}/media/pin.jpg"
    body.update(changes)
    return replace(canned, body=json.dumps(body).encode())


@pytest.fixture
def app(fake_server: FakeServer, tmp_path: Path) -> Iterator[App]:
    application = App(settings_for(fake_server, tmp_path, "pinterest"), FixedClock(START), {})
    yield application
    application.close()


def capture(app: App, url: str = PIN_URL) -> Capture:
    post = PINTEREST.parse_url(url)
    assert post is not None
    ref = EmbedRef("pinterest", post.post_id, post.url, MarkupKind.DIV)
    return PINTEREST.capture(ref, context_for(app, "pinterest"))


def test_live_pin_through_the_pipeline(app: App, fake_server: FakeServer) -> None:
    fake_server.route(OEMBED_PATH, recorded(fake_server))
    fake_server.route("/media/pin.jpg", Canned(200, {"Content-Type": "image/jpeg"}, JPEG))
    embed = add_and_capture(app, "pinterest", PIN, PIN_URL)
    assert embed.last_outcome == "ok"
    snap = embed.snapshots[0]
    assert (snap.title, snap.author_name) == ("Pourparler", "Leslie Carruthers")
    assert snap.author_url == "https://www.pinterest.com/thesearchguru/"
    assert snap.handle == "thesearchguru"
    assert snap.provenance == {name: "oembed" for name in ("title", "author_name", "author_url", "handle")}
    [thumbnail] = snap.media
    assert thumbnail.kind == "thumbnail" and thumbnail.media_file is not None
    assert thumbnail.media_file.mime == "image/jpeg"
    assert [r["rung"] for r in snap.raw] == ["oembed"]
    asked = next(r for r in fake_server.requests if r.path == OEMBED_PATH)
    assert asked.query["url"] == [PIN_URL] and asked.query["format"] == ["json"]
    assert "access_token" not in asked.query


def test_country_domains_and_slugs_ask_about_the_canonical_pin(app: App, fake_server: FakeServer) -> None:
    fake_server.route(OEMBED_PATH, recorded(fake_server))
    captured = capture(app, f"https://de.pinterest.com/pin/autumn-wreath--{PIN}/?nic_v3=1a")
    assert captured.outcome is Outcome.OK
    assert fake_server.requests[-1].query["url"] == [PIN_URL]


def test_profile_url_off_pinterest_gives_no_handle(app: App, fake_server: FakeServer) -> None:
    fake_server.route(OEMBED_PATH, recorded(fake_server, author_url="https://example.com/thesearchguru/"))
    captured = capture(app)
    assert captured.outcome is Outcome.OK and "handle" not in captured.fields


@pytest.mark.parametrize(("answer", "outcome", "words"), answer_faults(Canned(200, {}, b"x" * 400)))
def test_answers_are_classified(
    app: App, fake_server: FakeServer, answer: Canned, outcome: Outcome, words: str
) -> None:
    fake_server.route(OEMBED_PATH, answer)
    captured = capture(app)
    assert captured.outcome is outcome and words in captured.reason
    assert not any(field.rung == "oembed" for field in captured.fields.values())
    if answer.status == 429:
        assert captured.retry_after == 120


def test_truncated_recorded_answer_is_transient(app: App, fake_server: FakeServer) -> None:
    fake_server.route(OEMBED_PATH, replace(recorded(fake_server), truncate_to=200))
    assert capture(app).outcome is Outcome.TRANSIENT


def test_hostile_answer_is_neutralised(app: App, fake_server: FakeServer) -> None:
    fake_server.route(
        OEMBED_PATH,
        recorded(
            fake_server,
            title="t" * 200_000,
            author_name=["not", "a", "string"],
            author_url="javascript:alert(1)",
            thumbnail_url="data:image/png;base64,AAAA",
        ),
    )
    captured = capture(app)
    assert captured.outcome is Outcome.OK
    assert set(captured.fields) == {"title"} and len(captured.fields["title"].value) <= 10_000
    assert captured.media == ()


def test_not_a_pin_url_asks_nothing(app: App, fake_server: FakeServer) -> None:
    ref = EmbedRef("pinterest", "x", "https://www.pinterest.com/kentbrew/", MarkupKind.DIV)
    captured = PINTEREST.capture(ref, context_for(app, "pinterest"))
    assert captured.outcome is Outcome.AMBIGUOUS and fake_server.requests == []
