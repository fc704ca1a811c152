"""Giphy capture against a real loopback server, with faults.

SYNTHETIC: no recorded Giphy oEmbed answer exists in shared/fixtures (providers.md section 15: "fields and
errors unverified"). The answers below follow the shape two public projects document for
`giphy.com/services/oembed`: the stubbed answer in status-im/status-go's link-preview tests
(`protocol/linkpreview`: title, url = the GIF on media*.giphy.com, width, height, author_name,
author_url, provider_name "GIPHY", type "photo") and the example answer in Vanilla Forums'
GiphyEmbedFactory (same keys, author_url "https://giphy.com/"). The GIF URL is pointed at the loopback
server.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.fake_server import Canned, FakeServer

from archiver.app import App
from archiver.clock import FixedClock
from archiver.providers.giphy import Giphy
from archiver.records import Capture, EmbedRef, MarkupKind, Outcome
from tests.support.capture_world import (
    GIF,
    START,
    add_and_capture,
    answer_faults,
    context_for,
    endpoint_path,
    settings_for,
)

OEMBED_PATH = endpoint_path("giphy", "oembed_endpoint")
GIF_ID = "sof2kXOSK5beJdb7xH"
GIPHY = Giphy()


def synthetic(server: FakeServer, **changes: object) -> Canned:
    """A photo answer shaped like the documented ones (module docstring)."""
    body: dict[str, object] = {
        "title": "Floating Tv Show Sticker by Happy Place for iOS & Android | GIPHY",
        "url": f"{server.url}/media/{GIF_ID}/giphy.gif",
        "height": 480,
        "width": 400,
        "author_name": "Happy Place",
        "author_url": "https://giphy.com/happyplaceshow",
        "provider_name": "GIPHY",
        "provider_url": "https://giphy.com/",
        "type": "photo",
    }
    body.update(changes)
    return Canned(200, {"Content-Type": "application/json"}, json.dumps(body).encode())


@pytest.fixture
def app(fake_server: FakeServer, tmp_path: Path) -> Iterator[App]:
    application = App(settings_for(fake_server, tmp_path, "giphy"), FixedClock(START), {})
    yield application
    application.close()


def capture(app: App, url: str = f"https://giphy.com/embed/{GIF_ID}") -> Capture:
    post = GIPHY.parse_url(url)
    assert post is not None
    ref = EmbedRef("giphy", post.post_id, post.url, MarkupKind.IFRAME)
    return GIPHY.capture(ref, context_for(app, "giphy"))


def test_synthetic_photo_answer_through_the_pipeline_keeps_the_gif(app: App, fake_server: FakeServer) -> None:
    fake_server.route(OEMBED_PATH, synthetic(fake_server))
    fake_server.route(f"/media/{GIF_ID}/giphy.gif", Canned(200, {"Content-Type": "image/gif"}, GIF))
    embed = add_and_capture(app, "giphy", GIF_ID, f"https://giphy.com/gifs/{GIF_ID}")
    assert embed.last_outcome == "ok"
    snap = embed.snapshots[0]
    assert snap.title == "Floating Tv Show Sticker by Happy Place for iOS & Android | GIPHY"
    assert (snap.author_name, snap.handle) == ("Happy Place", "happyplaceshow")
    assert snap.author_url == "https://giphy.com/happyplaceshow"
    assert set(snap.provenance.values()) == {"oembed"}
    [gif] = snap.media
    assert gif.kind == "image" and gif.original_url.endswith(f"/media/{GIF_ID}/giphy.gif")
    assert gif.media_file is not None and gif.media_file.mime == "image/gif"
    asked = next(r for r in fake_server.requests if r.path == OEMBED_PATH)
    assert asked.query["url"] == [f"https://giphy.com/gifs/{GIF_ID}"]


def test_giphy_itself_as_author_gives_no_handle(app: App, fake_server: FakeServer) -> None:
    fake_server.route(
        OEMBED_PATH, synthetic(fake_server, author_name="GIPHY", author_url="https://giphy.com/")
    )
    captured = capture(app, "https://giphy.com/gifs/cant-hardly-wait-kW8mnYSNkUYKc")
    assert captured.outcome is Outcome.OK
    assert captured.fields["author_name"].value == "GIPHY" and "handle" not in captured.fields
    assert fake_server.requests[-1].query["url"] == ["https://giphy.com/gifs/kW8mnYSNkUYKc"]


@pytest.mark.parametrize(
    "url",
    [None, "", "javascript:alert(1)", "data:image/gif;base64,R0lGODlh", 42],
    ids=["missing", "empty", "javascript", "data", "number"],
)
def test_photo_answer_without_a_gif_url_is_ambiguous(app: App, fake_server: FakeServer, url: object) -> None:
    answer = synthetic(fake_server, url=url)
    if url is None:
        body = json.loads(answer.body)
        del body["url"]
        answer = Canned(200, {}, json.dumps(body).encode())
    fake_server.route(OEMBED_PATH, answer)
    captured = capture(app)
    assert captured.outcome is Outcome.AMBIGUOUS and "no GIF url" in captured.reason
    assert captured.fields == {} and captured.media == ()


def test_a_video_answer_for_a_clip_is_read_too(app: App, fake_server: FakeServer) -> None:
    answer = synthetic(
        fake_server,
        type="video",
        url=None,
        html=f'<iframe src="https://giphy.com/embed/{GIF_ID}/video"></iframe>',
        thumbnail_url=f"{fake_server.url}/media/still.gif",
    )
    fake_server.route(OEMBED_PATH, answer)
    captured = capture(app, f"https://giphy.com/clips/happyplaceshow-{GIF_ID}")
    assert captured.outcome is Outcome.OK
    assert [m.kind for m in captured.media] == ["thumbnail"]


@pytest.mark.parametrize(("answer", "outcome", "words"), answer_faults(Canned(200, {}, b"x" * 300)))
def test_answers_are_classified(
    app: App, fake_server: FakeServer, answer: Canned, outcome: Outcome, words: str
) -> None:
    fake_server.route(OEMBED_PATH, answer)
    captured = capture(app)
    assert captured.outcome is outcome and words in captured.reason
    assert captured.fields == {} and captured.media == ()


def test_hostile_answer_is_neutralised(app: App, fake_server: FakeServer) -> None:
    fake_server.route(
        OEMBED_PATH,
        synthetic(fake_server, title="<script>" + "t" * 100_000, author_name=None, author_url="ftp://x/y"),
    )
    captured = capture(app)
    assert captured.outcome is Outcome.OK
    assert set(captured.fields) == {"title"} and len(captured.fields["title"].value) <= 10_000
    assert [m.kind for m in captured.media] == ["image"]


def test_not_a_gif_url_asks_nothing(app: App, fake_server: FakeServer) -> None:
    ref = EmbedRef("giphy", "x", "https://gph.is/2dmQ0ye", MarkupKind.LINK)
    captured = GIPHY.capture(ref, context_for(app, "giphy"))
    assert captured.outcome is Outcome.AMBIGUOUS and fake_server.requests == []
