"""TikTok capture against a loopback server playing the recorded oEmbed answers
(shared/fixtures/providers/tiktok: a 2022 ruby-oembed cassette, a 2024 php-embed recording), with faults
injected. TikTok's error answers are recorded nowhere (reference/providers.md section 3): the error
bodies below are synthetic and say so."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from support.fake_server import Canned, FakeServer

from archiver.app import App
from archiver.records import Outcome
from tests.support.capture_world import add_and_capture
from tests.support.player_world import (
    OEMBED_FAULTS,
    app_for,
    capture_direct,
    json_canned,
    recorded,
    rungs,
    values,
)

VIDEO_2024 = "6806030056956251397"
URL_2024 = f"https://www.tiktok.com/@a3noticias/video/{VIDEO_2024}"
VIDEO_2022 = "7005293332821822726"
URL_2022 = f"https://www.tiktok.com/@shmemmmy/video/{VIDEO_2022}"


@pytest.fixture
def app(fake_server: FakeServer, tmp_path: Path) -> Iterator[App]:
    yield from app_for(fake_server, tmp_path, "tiktok")


def test_recorded_2024_video_through_the_pipeline(app: App, fake_server: FakeServer) -> None:
    fake_server.route("/oembed", recorded(fake_server, "tiktok", "oembed-video-200-2024.response.json"))
    snap = add_and_capture(app, "tiktok", VIDEO_2024, URL_2024).snapshots[0]
    assert snap.text == "Nuestro #AplausoSanitario más sincero. Para todos. Y recuerda, #QuédateEnCasa"
    assert snap.title is None  # TikTok's title is the caption: kept as text
    assert snap.text_html is not None
    assert snap.text_html.startswith("Nuestro <a ")
    assert 'href="https://www.tiktok.com/tag/aplausosanitario?refer=embed"' in snap.text_html
    assert "target=" not in snap.text_html  # sanitised
    assert "♬" not in snap.text_html  # the sound line is no caption
    assert snap.author_name == "Antena 3 Noticias"
    assert snap.handle == "a3noticias"  # author_unique_id
    assert snap.author_url == "https://www.tiktok.com/@a3noticias"
    assert set(snap.provenance.values()) == {"oembed"}
    assert snap.media[0].kind == "thumbnail" and snap.media[0].media_file is not None
    assert "x-expires=" in snap.media[0].original_url  # signed: downloaded at capture time
    assert fake_server.requests[0].query["url"] == [URL_2024]


def test_recorded_2022_video_reads_the_handle_from_author_url(app: App, fake_server: FakeServer) -> None:
    fake_server.route("/oembed", recorded(fake_server, "tiktok", "oembed-video-200-2022.vcr.yml"))
    capture = capture_direct(app, "tiktok", VIDEO_2022, URL_2022)
    assert capture.outcome is Outcome.OK
    found = values(capture)
    assert found["handle"] == "shmemmmy" and found["author_name"] == "Emily"
    assert found["text"].startswith("POV u work at a big company #techtok")
    assert found["text_html"].count("<a ") == 6


def test_markup_fields_then_oembed(app: App, fake_server: FakeServer) -> None:
    fake_server.route("/oembed", recorded(fake_server, "tiktok", "oembed-video-200-2024.response.json"))
    capture = capture_direct(
        app, "tiktok", VIDEO_2024, URL_2024, handle="a3noticias", caption="Nuestro #AplausoSanitario (markup)"
    )
    assert rungs(capture)["handle"] == "oembed" and rungs(capture)["text"] == "oembed"
    assert "(markup)" not in values(capture)["text"]


def test_answer_embedding_another_video_is_ambiguous(app: App, fake_server: FakeServer) -> None:
    fake_server.route("/oembed", recorded(fake_server, "tiktok", "oembed-video-200-2024.response.json"))
    capture = capture_direct(
        app, "tiktok", "7000000000000000001", "https://www.tiktok.com/embed/v2/7000000000000000001"
    )
    assert capture.outcome is Outcome.AMBIGUOUS and "another video" in capture.reason


def test_answer_without_a_blockquote_keeps_the_title_as_text(app: App, fake_server: FakeServer) -> None:
    canned = recorded(fake_server, "tiktok", "oembed-video-200-2024.response.json")
    body = json.loads(canned.body) | {
        "html": '<iframe src="https://www.tiktok.com/player/v1/6806030056956251397"></iframe>'
    }
    fake_server.route("/oembed", replace(canned, body=json.dumps(body).encode()))
    found = values(capture_direct(app, "tiktok", VIDEO_2024, URL_2024))
    assert found["text"].startswith("Nuestro #AplausoSanitario") and "text_html" not in found


@pytest.mark.parametrize(
    ("canned", "outcome"),
    [
        # Synthetic: the unverified "400 with a JSON {code, message}" of removed or private videos.
        (json_canned({"code": 400, "message": "Something went wrong"}, 400), Outcome.AMBIGUOUS),
        # Synthetic: the same error object with HTTP 200: not oEmbed, so never ok.
        (json_canned({"code": 400, "message": "Something went wrong"}), Outcome.AMBIGUOUS),
        # Synthetic: the oEmbed spec's 404.
        (json_canned({"code": 404, "message": "Not Found"}, 404), Outcome.GONE),
    ],
    ids=["synthetic-400-json", "synthetic-200-error-json", "synthetic-404"],
)
def test_synthetic_error_answers(app: App, fake_server: FakeServer, canned: Canned, outcome: Outcome) -> None:
    fake_server.route("/oembed", canned)
    capture = capture_direct(app, "tiktok", VIDEO_2024, URL_2024)
    assert capture.outcome is outcome and capture.fields == {}


@pytest.mark.parametrize(("name", "canned", "outcome"), OEMBED_FAULTS, ids=[f[0] for f in OEMBED_FAULTS])
def test_faults(app: App, fake_server: FakeServer, name: str, canned: Canned, outcome: str) -> None:
    fake_server.route("/oembed", canned)
    capture = capture_direct(app, "tiktok", VIDEO_2024, URL_2024)
    assert capture.outcome.value == outcome, capture.reason
