"""SoundCloud capture against a loopback server playing the recorded oEmbed answers
(shared/fixtures/providers/soundcloud, 2021 and 2024), with faults injected."""

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
from tests.support.player_world import OEMBED_FAULTS, app_for, capture_direct, recorded, values

PAGE_ID = "zedsdead/zeds-dead-twin-shadow-lost-you-feat-dangelo-lacy"
PAGE = f"https://soundcloud.com/{PAGE_ID}"
# The 2021 recording's track, as a widget embed names it: its canonical URL is the API resource.
API_ID = "191904624"
API = f"https://api.soundcloud.com/tracks/{API_ID}"


@pytest.fixture
def app(fake_server: FakeServer, tmp_path: Path) -> Iterator[App]:
    yield from app_for(fake_server, tmp_path, "soundcloud")


def test_recorded_2024_track_through_the_pipeline(app: App, fake_server: FakeServer) -> None:
    fake_server.route("/oembed", recorded(fake_server, "soundcloud", "oembed-track-200-2024.response.json"))
    snap = add_and_capture(app, "soundcloud", PAGE_ID, PAGE).snapshots[0]
    assert snap.title == "Zeds Dead feat. Twin Shadow & D'Angelo Lacy - Lost You"  # " by Zeds Dead" cut
    assert snap.author_name == "Zeds Dead"
    assert snap.author_url == "https://soundcloud.com/zedsdead" and snap.handle == "zedsdead"
    assert snap.text is not None and snap.text.startswith("MUSIC VIDEO : https://www.youtube.com/watch?v=")
    assert "\r" not in snap.text and "\n\nZeds Dead\nwww.facebook.com/zedsdead" in snap.text
    assert snap.text_html is None  # plain text, kept as it is
    assert set(snap.provenance.values()) == {"oembed"}
    assert snap.media[0].kind == "thumbnail" and snap.media[0].media_file is not None
    asked = fake_server.requests[0].query
    assert asked["url"] == [PAGE] and asked["format"] == ["json"]


def test_recorded_2021_widget_track_asked_by_its_api_url(app: App, fake_server: FakeServer) -> None:
    fake_server.route("/oembed", recorded(fake_server, "soundcloud", "oembed-track-200-2021.response.json"))
    capture = capture_direct(app, "soundcloud", API_ID, API)
    assert capture.outcome is Outcome.OK
    assert fake_server.requests[0].query["url"] == [API]
    assert values(capture) == {
        "title": "LOWE CT Cape Times - World Cup",
        "author_name": "IDIDTHAT.co",
        "author_url": "https://soundcloud.com/ididthat-1",
        "handle": "ididthat-1",
    }  # the description was "": no text
    assert capture.media == ()  # SoundCloud's generic fb_placeholder.png is no artwork of the track


def test_synthetic_html_description_is_sanitised(app: App, fake_server: FakeServer) -> None:
    """Synthetic: the 2024 answer with the HTML description SoundCloud sent for its docs' example track in
    2021 (soundcloud/api#46), plus a script."""
    canned = recorded(fake_server, "soundcloud", "oembed-track-200-2024.response.json")
    description = (
        'From the Soulhack album,&nbsp;recently featured in this ad <a href="https://www.dswshoes.com/tv">'
        'https://www.dswshoes.com/tv</a> <script>alert(1)</script><a href="javascript:alert(2)">x</a>'
    )
    body = json.loads(canned.body) | {"description": description}
    fake_server.route("/oembed", replace(canned, body=json.dumps(body).encode()))
    found = values(capture_direct(app, "soundcloud", PAGE_ID, PAGE))
    assert found["text"].startswith(
        "From the Soulhack album,\xa0recently featured in this ad https://www.dsw"
    )
    assert "alert" not in found["text"]
    assert '<a href="https://www.dswshoes.com/tv"' in found["text_html"]
    assert "script" not in found["text_html"] and "javascript" not in found["text_html"]


def test_title_without_the_artist_suffix_is_kept_whole(app: App, fake_server: FakeServer) -> None:
    canned = recorded(fake_server, "soundcloud", "oembed-track-200-2024.response.json")
    body = json.loads(canned.body) | {"title": "by Zeds Dead"}
    fake_server.route("/oembed", replace(canned, body=json.dumps(body).encode()))
    assert values(capture_direct(app, "soundcloud", PAGE_ID, PAGE))["title"] == "by Zeds Dead"


def test_json_naming_neither_title_nor_artist_is_ambiguous(app: App, fake_server: FakeServer) -> None:
    body = (
        b'{"version":1.0,"type":"rich","html":"<iframe src=\\"https://w.soundcloud.com/player/\\"></iframe>"}'
    )
    fake_server.route("/oembed", Canned(200, {"Content-Type": "application/json"}, body))
    assert capture_direct(app, "soundcloud", PAGE_ID, PAGE).outcome is Outcome.AMBIGUOUS


@pytest.mark.parametrize(("name", "canned", "outcome"), OEMBED_FAULTS, ids=[f[0] for f in OEMBED_FAULTS])
def test_faults(app: App, fake_server: FakeServer, name: str, canned: Canned, outcome: str) -> None:
    fake_server.route("/oembed", canned)
    capture = capture_direct(app, "soundcloud", API_ID, API)
    assert capture.outcome.value == outcome, capture.reason
