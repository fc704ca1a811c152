"""Dailymotion capture: the default ladder (markup, then oEmbed) against a loopback server.

All answers here are synthetic: there is no recorded Dailymotion response in shared/fixtures. They follow
the oEmbed spec (iamcal/oembed, reference/providers.md section 0.1) and Dailymotion's own oEmbed guide
(developers.dailymotion.com/guides/embed-with-oembed: `url` of a video page, optional `player` id,
`format=json`; a `video` answer with title, author_name, author_url, html and a thumbnail)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from support.fake_server import Canned, FakeServer

from archiver.app import App
from archiver.providers import provider_named
from archiver.providers.common.base import Provider
from archiver.records import Outcome
from tests.support.capture_world import add_and_capture
from tests.support.player_world import (
    OEMBED_FAULTS,
    app_for,
    capture_direct,
    json_canned,
    loopback_media,
    values,
)

VIDEO = "x7tgad0"
URL = f"https://www.dailymotion.com/video/{VIDEO}"
ENDPOINT = "/services/oembed"


def synthetic_answer(server: FakeServer) -> dict[str, object]:
    """A Dailymotion oEmbed video answer (synthetic, after Dailymotion's oEmbed guide)."""
    return loopback_media(
        server,
        {
            "type": "video",
            "version": "1.0",
            "provider_name": "Dailymotion",
            "provider_url": "https://www.dailymotion.com",
            "title": "Le replay du JT de 20h",
            "author_name": "franceinfo",
            "author_url": "https://www.dailymotion.com/franceinfo",
            "width": 480,
            "height": 269,
            "html": (
                f'<iframe frameborder="0" width="480" height="269" src="https://geo.dailymotion.com/player.html'
                f'?video={VIDEO}" allowfullscreen allow="autoplay; fullscreen; picture-in-picture"></iframe>'
            ),
            "thumbnail_url": f"https://s1.dmcdn.net/v/{VIDEO}/x240",
            "thumbnail_width": 427,
            "thumbnail_height": 240,
        },
    )


@pytest.fixture
def app(fake_server: FakeServer, tmp_path: Path) -> Iterator[App]:
    yield from app_for(fake_server, tmp_path, "dailymotion")


def test_the_base_class_ladder_is_enough() -> None:
    assert type(provider_named("dailymotion")).capture is Provider.capture


def test_synthetic_live_video_through_the_pipeline(app: App, fake_server: FakeServer) -> None:
    fake_server.route(ENDPOINT, json_canned(synthetic_answer(fake_server)))
    snap = add_and_capture(app, "dailymotion", VIDEO, URL).snapshots[0]
    assert (snap.title, snap.author_name, snap.author_url) == (
        "Le replay du JT de 20h",
        "franceinfo",
        "https://www.dailymotion.com/franceinfo",
    )
    assert set(snap.provenance.values()) == {"oembed"}
    assert snap.media[0].kind == "thumbnail" and snap.media[0].media_file is not None
    assert fake_server.requests[0].query["url"] == [URL]


def test_synthetic_player_id_can_ride_on_the_configured_endpoint(
    fake_server: FakeServer, tmp_path: Path
) -> None:
    """Dailymotion's current guide makes `player` mandatory; an endpoint with a query keeps it."""
    endpoint = f"{fake_server.url}{ENDPOINT}?player=xfh28"
    for app in app_for(fake_server, tmp_path, "dailymotion", oembed_endpoint=endpoint):
        fake_server.route(ENDPOINT, json_canned(synthetic_answer(fake_server)))
        assert capture_direct(app, "dailymotion", VIDEO, URL).outcome is Outcome.OK
        asked = fake_server.requests[0].query
        assert asked["player"] == ["xfh28"] and asked["url"] == [URL] and asked["format"] == ["json"]


def test_synthetic_missing_player_400_is_ambiguous(app: App, fake_server: FakeServer) -> None:
    fake_server.route(ENDPOINT, json_canned({"error": {"code": 400, "message": "player is required"}}, 400))
    capture = capture_direct(app, "dailymotion", VIDEO, URL)
    assert capture.outcome is Outcome.AMBIGUOUS and values(capture) == {}


@pytest.mark.parametrize(("name", "canned", "outcome"), OEMBED_FAULTS, ids=[f[0] for f in OEMBED_FAULTS])
def test_synthetic_faults(app: App, fake_server: FakeServer, name: str, canned: Canned, outcome: str) -> None:
    fake_server.route(ENDPOINT, canned)
    capture = capture_direct(app, "dailymotion", VIDEO, URL)
    assert capture.outcome.value == outcome, capture.reason
