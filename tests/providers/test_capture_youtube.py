"""YouTube capture against a loopback server playing the recorded oEmbed answers
(shared/fixtures/providers/youtube: 2021 php-embed recordings, 2024 ruby-oembed cassettes), with faults
injected. YouTube's only tokenless source is oEmbed; the Data API needs a key, so there is no third rung."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.fake_server import Canned, FakeServer

from archiver.app import App
from archiver.records import Outcome
from tests.support.capture_world import add_and_capture
from tests.support.player_world import OEMBED_FAULTS, app_for, capture_direct, recorded, rungs, values

VIDEO = "pO5L6vXtxsI"
URL = f"https://www.youtube.com/watch?v={VIDEO}"


@pytest.fixture
def app(fake_server: FakeServer, tmp_path: Path) -> Iterator[App]:
    yield from app_for(fake_server, tmp_path, "youtube")


def test_live_video_through_the_pipeline(app: App, fake_server: FakeServer) -> None:
    fake_server.route("/oembed", recorded(fake_server, "youtube", "oembed-watch-200.vcr.yml"))
    embed = add_and_capture(app, "youtube", VIDEO, URL)
    assert embed.state == "live"
    snap = embed.snapshots[0]
    assert snap.title == "CKEditor 4.5 - Embedding Media Resources with oEmbed"
    assert snap.author_name == "CKEditor"
    assert snap.author_url == "https://www.youtube.com/@CKEditor"
    assert snap.handle == "CKEditor"  # read from the 2024 @handle channel URL
    assert snap.text is None  # oEmbed has no description
    assert set(snap.provenance.values()) == {"oembed"}
    (thumb,) = snap.media
    assert thumb.kind == "thumbnail" and thumb.media_file is not None
    assert thumb.media_file.mime == "image/jpeg"
    assert [r["rung"] for r in snap.raw] == ["oembed"]
    asked = next(r for r in fake_server.requests if r.path == "/oembed")
    assert asked.query["url"] == [URL] and asked.query["format"] == ["json"]
    assert "access_token" not in asked.query


@pytest.mark.parametrize(
    ("fixture", "expected"),
    [
        (
            "oembed-youtu-be-200.vcr.yml",
            {"title": "CKEditor 4.5 - Embedding Media Resources with oEmbed", "handle": "CKEditor"},
        ),
        (
            "oembed-watch-200-2021.response.json",
            {
                "title": "Noisy kittens waiting for dinner!",
                "author_name": "smshdchrb",
                "author_url": "https://www.youtube.com/user/smshdchrb",
            },
        ),
        (
            # The 2021 playlist answer: author_url was relative ("/user/Scadrei5").
            "oembed-playlist-200-2021.response.json",
            {
                "title": "De espaldas al patriarcado",
                "author_name": "Scadrei5",
                "author_url": "https://www.youtube.com/user/Scadrei5",
            },
        ),
    ],
    ids=["youtu-be-2024", "watch-2021", "playlist-2021-relative-author"],
)
def test_recorded_answers(app: App, fake_server: FakeServer, fixture: str, expected: dict[str, str]) -> None:
    fake_server.route("/oembed", recorded(fake_server, "youtube", fixture))
    capture = capture_direct(app, "youtube", VIDEO, URL)
    assert capture.outcome is Outcome.OK
    found = values(capture)
    assert {k: found.get(k) for k in expected} == expected
    if "/user/" in found["author_url"]:
        assert "handle" not in found  # a legacy username is no @handle
    assert [m.kind for m in capture.media] == ["thumbnail"]
    assert capture.media[0].url.startswith(fake_server.url)


def test_recorded_private_video_403_is_ambiguous(app: App, fake_server: FakeServer) -> None:
    fake_server.route("/oembed", recorded(fake_server, "youtube", "oembed-private-video-403.vcr.yml"))
    capture = capture_direct(app, "youtube", VIDEO, URL)
    assert capture.outcome is Outcome.AMBIGUOUS
    assert capture.http_status == 403 and "private" in capture.reason
    assert capture.responses[0].body == "Forbidden"


def test_embedding_disabled_401_is_ambiguous(app: App, fake_server: FakeServer) -> None:
    fake_server.route("/oembed", Canned(401, {"Content-Type": "text/html"}, b"Unauthorized"))
    capture = capture_direct(app, "youtube", VIDEO, URL)
    assert capture.outcome is Outcome.AMBIGUOUS and "embedding disabled" in capture.reason


def test_deleted_video_404_is_gone_through_the_pipeline(app: App, fake_server: FakeServer) -> None:
    fake_server.route("/oembed", Canned(404, {"Content-Type": "text/html"}, b"Not Found"))
    embed = add_and_capture(app, "youtube", VIDEO, URL)
    assert embed.snapshots == []
    assert embed.checks[-1].outcome == "gone" and embed.checks[-1].http_status == 404


@pytest.mark.parametrize("body", [b"Forbidden", b"Not Found", b"Unauthorized"])
def test_200_with_a_plain_text_error_is_ambiguous_never_ok(
    app: App, fake_server: FakeServer, body: bytes
) -> None:
    """YouTube's 2020 habit (ruby-oembed/ruby-oembed#79): HTTP 200 and a plain-text error body."""
    fake_server.route("/oembed", Canned(200, {"Content-Type": "text/html"}, body))
    capture = capture_direct(app, "youtube", VIDEO, URL)
    assert capture.outcome is Outcome.AMBIGUOUS
    assert "plain-text" in capture.reason and capture.fields == {}


def test_json_naming_neither_title_nor_channel_is_ambiguous(app: App, fake_server: FakeServer) -> None:
    body = b'{"type":"video","version":"1.0","html":"<iframe src=\\"https://www.youtube.com/embed/x\\"></iframe>"}'
    fake_server.route("/oembed", Canned(200, {"Content-Type": "application/json"}, body))
    capture = capture_direct(app, "youtube", VIDEO, URL)
    assert capture.outcome is Outcome.AMBIGUOUS and "title" in capture.reason


def test_markup_fields_are_kept_with_their_rung(app: App, fake_server: FakeServer) -> None:
    fake_server.route("/oembed", recorded(fake_server, "youtube", "oembed-watch-200.vcr.yml"))
    capture = capture_direct(app, "youtube", VIDEO, URL, caption="Our interview, in full")
    assert values(capture)["text"] == "Our interview, in full"
    assert rungs(capture)["text"] == "markup" and rungs(capture)["title"] == "oembed"


@pytest.mark.parametrize(("name", "canned", "outcome"), OEMBED_FAULTS, ids=[f[0] for f in OEMBED_FAULTS])
def test_faults(app: App, fake_server: FakeServer, name: str, canned: Canned, outcome: str) -> None:
    fake_server.route("/oembed", canned)
    capture = capture_direct(app, "youtube", VIDEO, URL)
    assert capture.outcome.value == outcome, capture.reason
    if name.endswith("retry-after"):
        assert capture.retry_after is not None and capture.retry_after >= 120
