"""Imgur capture against a real loopback server playing the recorded oEmbed answer for an image (php-embed
cache, April 2021: shared/fixtures/providers/imgur/oembed-image-200-2021.response.json), with faults.

Imgur's answer has no author and no thumbnail: the title is the link text of its `html` blockquote and the
image file is `image_base`/ID.jpg (pointed at the loopback server here). The album answer is the recorded
one with its `data-id` and link changed to an album's (derived, not recorded: providers.md section 14
marks the album form unverified).
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
from archiver.providers.imgur import Imgur
from archiver.records import Capture, EmbedRef, MarkupKind, Outcome
from tests.support.capture_world import (
    PNG,
    START,
    add_and_capture,
    answer_faults,
    context_for,
    endpoint_path,
    settings_for,
)

OEMBED_PATH = endpoint_path("imgur", "oembed_endpoint")
IMAGE = "X6rkCc5"
TITLE = "Picture of a Mountain Gorilla right before he punched the photographer"
IMGUR = Imgur()


def recorded(**changes: object) -> Canned:
    canned = canned_from_response_json(FIXTURES / "imgur" / "oembed-image-200-2021.response.json")
    body = json.loads(canned.body)
    body.update(changes)
    return replace(canned, body=json.dumps(body).encode())


def album() -> Canned:
    """The recorded answer as an album's (see the module docstring)."""
    html = json.loads(recorded().body)["html"]
    html = html.replace('data-id="X6rkCc5"', 'data-id="a/Q9bTmHE"').replace("/X6rkCc5", "/a/Q9bTmHE")
    return recorded(html=html)


@pytest.fixture
def app(fake_server: FakeServer, tmp_path: Path) -> Iterator[App]:
    application = App(settings_for(fake_server, tmp_path, "imgur"), FixedClock(START), {})
    yield application
    application.close()


def capture(app: App, url: str = f"https://imgur.com/{IMAGE}") -> Capture:
    post = IMGUR.parse_url(url)
    assert post is not None
    ref = EmbedRef("imgur", post.post_id, post.url, MarkupKind.BLOCKQUOTE)
    return IMGUR.capture(ref, context_for(app, "imgur"))


def test_live_image_through_the_pipeline(app: App, fake_server: FakeServer) -> None:
    fake_server.route(OEMBED_PATH, recorded())
    fake_server.route(f"/{IMAGE}.jpg", Canned(200, {"Content-Type": "image/png"}, PNG))
    embed = add_and_capture(app, "imgur", IMAGE, f"https://imgur.com/{IMAGE}")
    assert embed.last_outcome == "ok"
    snap = embed.snapshots[0]
    assert snap.title == TITLE and snap.provenance == {"title": "oembed"}
    [image] = snap.media
    assert (image.kind, image.original_url) == ("image", f"{fake_server.url}/{IMAGE}.jpg")
    assert image.media_file is not None and image.media_file.mime == "image/png"  # sniffed, not named
    asked = next(r for r in fake_server.requests if r.path == OEMBED_PATH)
    assert asked.query["url"] == [f"https://imgur.com/{IMAGE}"]


def test_album_has_a_title_and_no_single_image(app: App, fake_server: FakeServer) -> None:
    fake_server.route(OEMBED_PATH, album())
    captured = capture(app, "https://imgur.com/gallery/mountain-gorilla-Q9bTmHE")
    assert captured.outcome is Outcome.OK
    assert captured.fields["title"].value == TITLE and captured.media == ()
    assert fake_server.requests[-1].query["url"] == ["https://imgur.com/gallery/Q9bTmHE"]


def test_link_text_that_is_no_title_is_not_kept(app: App, fake_server: FakeServer) -> None:
    html = (
        '<blockquote class="imgur-embed-pub" data-id="X6rkCc5">'
        '<a href="https://imgur.com/X6rkCc5">View post on imgur.com</a></blockquote>'
    )
    fake_server.route(OEMBED_PATH, recorded(html=html))
    captured = capture(app)
    assert captured.outcome is Outcome.OK and "title" not in captured.fields
    assert [m.kind for m in captured.media] == ["image"]


@pytest.mark.parametrize(
    "html",
    [
        "<p>Something else entirely</p>",
        '<blockquote class="imgur-embed-pub" data-id="!!"></blockquote>',
        '<blockquote class="twitter-tweet"><a href="https://twitter.com/a/status/1">x</a></blockquote>',
    ],
    ids=["no-blockquote", "bad-id", "other-provider"],
)
def test_html_that_shows_no_imgur_post_is_ambiguous(app: App, fake_server: FakeServer, html: str) -> None:
    fake_server.route(OEMBED_PATH, recorded(html=html))
    captured = capture(app)
    assert captured.outcome is Outcome.AMBIGUOUS and "shows no Imgur post" in captured.reason
    assert captured.fields == {} and captured.media == ()


@pytest.mark.parametrize(("answer", "outcome", "words"), answer_faults(recorded()))
def test_answers_are_classified(
    app: App, fake_server: FakeServer, answer: Canned, outcome: Outcome, words: str
) -> None:
    fake_server.route(OEMBED_PATH, answer)
    captured = capture(app)
    assert captured.outcome is outcome and words in captured.reason
    assert captured.fields == {} and captured.media == ()


def test_hostile_answer_is_neutralised(app: App, fake_server: FakeServer) -> None:
    html = (
        '<blockquote class="imgur-embed-pub" data-id="X6rkCc5"><a href="javascript:alert(1)">'
        + "<script>alert(2)</script>"
        + "T" * 50_000
        + "</a></blockquote>"
    )
    fake_server.route(OEMBED_PATH, recorded(html=html, title={"x": 1}, thumbnail_url="javascript:alert(3)"))
    captured = capture(app)
    assert captured.outcome is Outcome.OK
    title = captured.fields["title"].value
    assert len(title) <= 1_000 and "script" not in title and "alert" not in title
    assert [m.url.rsplit("/", 1)[-1] for m in captured.media] == ["X6rkCc5.jpg"]


def test_not_an_imgur_post_asks_nothing(app: App, fake_server: FakeServer) -> None:
    ref = EmbedRef("imgur", "x", "https://i.imgur.com/X6rkCc5.jpg", MarkupKind.LINK)
    captured = IMGUR.capture(ref, context_for(app, "imgur"))
    assert captured.outcome is Outcome.AMBIGUOUS and fake_server.requests == []
