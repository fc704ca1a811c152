"""Vimeo capture against a loopback server playing the recorded oEmbed answers
(shared/fixtures/providers/vimeo: the same video in 2021 with every field and in 2024 reduced to its
player), with faults injected."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from support.fake_server import Canned, FakeServer

from archiver.app import App
from archiver.records import Outcome
from tests.support.capture_world import add_and_capture, embeds
from tests.support.player_world import OEMBED_FAULTS, app_for, capture_direct, recorded, rungs, values

VIDEO = "235352744"
URL = f"https://vimeo.com/{VIDEO}"
UNLISTED = f"https://vimeo.com/{VIDEO}/ebd66989cc"
ENDPOINT = "/api/oembed.json"


@pytest.fixture
def app(fake_server: FakeServer, tmp_path: Path) -> Iterator[App]:
    yield from app_for(fake_server, tmp_path, "vimeo")


def test_live_video_through_the_pipeline(app: App, fake_server: FakeServer) -> None:
    fake_server.route(ENDPOINT, recorded(fake_server, "vimeo", "oembed-video-200-2021.response.json"))
    embed = add_and_capture(app, "vimeo", VIDEO, URL)
    snap = embed.snapshots[0]
    assert snap.title == "Vimeo Live is here"
    assert snap.author_name == "Vimeo"
    assert snap.author_url == "https://vimeo.com/vimeomarketing" and snap.handle == "vimeomarketing"
    assert snap.text == "Professional live streaming is here.\n\nLearn more at vimeo.com/live"
    assert snap.text_html is None  # Vimeo's description is plain text
    assert snap.published == "2017-09-25"  # upload_date has no zone: the day is what it says
    assert set(snap.provenance.values()) == {"oembed"}
    assert [m.kind for m in snap.media] == ["thumbnail"] and snap.media[0].media_file is not None
    asked = next(r for r in fake_server.requests if r.path == ENDPOINT)
    assert asked.query["url"] == [URL]


def test_reduced_2024_answer_is_alive_but_gives_nothing(app: App, fake_server: FakeServer) -> None:
    """The same video in 2024: html, video_id and uri only. Alive (its player), with no metadata."""
    fake_server.route(
        ENDPOINT, recorded(fake_server, "vimeo", "oembed-video-200-2024-reduced-fields.response.json")
    )
    capture = capture_direct(app, "vimeo", VIDEO, UNLISTED)
    assert capture.outcome is Outcome.OK and "reduced" in capture.reason
    assert capture.fields == {} and capture.media == ()
    assert fake_server.requests[-1].query["url"] == [UNLISTED]  # the unlisted hash is sent
    embed = add_and_capture(app, "vimeo", VIDEO, UNLISTED, author_name="Vimeo")
    assert embed.checks[-1].outcome == "ok"
    assert embed.snapshots[0].author_name == "Vimeo"  # from the markup
    assert embed.snapshots[0].provenance == {"author_name": "markup"}


def test_domain_restricted_answer_is_ambiguous(app: App, fake_server: FakeServer) -> None:
    """Synthetic: the recorded 2021 answer with `"domain_status_code": 403`, the shape vimeo/player.js#270
    reports for videos that may be embedded on some domains only (reference/providers.md section 10)."""
    canned = recorded(fake_server, "vimeo", "oembed-video-200-2021.response.json")
    body = json.loads(canned.body) | {"domain_status_code": 403}
    fake_server.route(ENDPOINT, replace(canned, body=json.dumps(body).encode()))
    capture = capture_direct(app, "vimeo", VIDEO, URL)
    assert capture.outcome is Outcome.AMBIGUOUS and "domain" in capture.reason


def test_private_403_is_ambiguous_and_deleted_404_is_gone(app: App, fake_server: FakeServer) -> None:
    fake_server.route(ENDPOINT, Canned(403, {"Content-Type": "application/json"}, b""))
    assert capture_direct(app, "vimeo", VIDEO, URL).outcome is Outcome.AMBIGUOUS
    fake_server.route(ENDPOINT, Canned(404, {"Content-Type": "application/json"}, b""))
    add_and_capture(app, "vimeo", VIDEO, URL)
    embed = embeds(app)[VIDEO]
    assert embed.checks[-1].outcome == "gone" and embed.snapshots == []


@pytest.mark.parametrize("url", [UNLISTED, URL], ids=["with-its-hash", "without-its-hash"])
def test_private_link_video_404_is_gone_with_or_without_its_hash(
    app: App, fake_server: FakeServer, url: str
) -> None:
    """A "private link" video: the embed carries its hash (`?h=`, since September 2021 in every embed
    code Vimeo gives out: vimeo/player.js#783, Vimeo's answer there), and oEmbed is asked with it
    (`vimeo.com/ID/HASH`): a 404 then means the video is gone. Asked without the hash, oEmbed answers
    404 for a private-link video that still exists (vimeo/player.js#122 and #396, Vimeo's answers: "oEmbed
    does not accept urls without a hash"), but so does the player: a private-link video embedded without
    its hash shows "This video does not exist" (Vimeo help, "Embedded player displays 'This video does
    not exist' message", linked from stamat/youtube-background#64). Either way the reader sees no video:
    gone, and the 404 is recorded as the evidence. (Synthetic 404s with empty bodies: no 404 of Vimeo's
    oEmbed was recorded.)"""
    fake_server.route(ENDPOINT, Canned(404, {"Content-Type": "application/json"}, b""))
    capture = capture_direct(app, "vimeo", VIDEO, url)
    assert fake_server.requests[-1].query["url"] == [url]  # the hash is sent when the embed had it
    assert capture.outcome is Outcome.GONE and "404" in capture.reason
    assert [r.status for r in capture.responses] == [404]


def test_markup_then_oembed_provenance(app: App, fake_server: FakeServer) -> None:
    fake_server.route(ENDPOINT, recorded(fake_server, "vimeo", "oembed-video-200-2021.response.json"))
    capture = capture_direct(app, "vimeo", VIDEO, URL, author_name="Vimeo Staff", published="2017-09-26")
    assert values(capture)["author_name"] == "Vimeo" and rungs(capture)["author_name"] == "oembed"
    assert values(capture)["published"] == "2017-09-25"


@pytest.mark.parametrize(("name", "canned", "outcome"), OEMBED_FAULTS, ids=[f[0] for f in OEMBED_FAULTS])
def test_faults(app: App, fake_server: FakeServer, name: str, canned: Canned, outcome: str) -> None:
    fake_server.route(ENDPOINT, canned)
    capture = capture_direct(app, "vimeo", VIDEO, URL)
    assert capture.outcome.value == outcome, capture.reason
    if name.endswith("retry-after"):
        assert capture.retry_after is not None and capture.retry_after >= 120
