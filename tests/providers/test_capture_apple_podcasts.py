"""Apple Podcasts capture: the article's markup, then Apple's public iTunes lookup API, against a loopback
server.

Every lookup answer here is synthetic (no Apple response is recorded in shared/fixtures). The bodies follow
the iTunes Search API documentation (performance-partners.apple.com/search-api): a show is a
`wrapperType: "track"`, `kind: "podcast"` result; `entity=podcastEpisode` adds the show's latest episodes as
`wrapperType: "podcastEpisode"`, `kind: "podcast-episode"` results (trackId, trackName, description,
releaseDate, artworkUrl600, episodeUrl)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.fake_server import Canned, FakeServer

from archiver.app import App
from archiver.records import Outcome
from tests.support.capture_world import add_and_capture
from tests.support.player_world import app_for, capture_direct, json_canned, loopback_media, values

SHOW = "1200361736"
EPISODE = "1000650000000"
EPISODE_URL = f"https://podcasts.apple.com/us/podcast/the-daily/id{SHOW}?i={EPISODE}"
SHOW_URL = f"https://podcasts.apple.com/de/podcast/id{SHOW}"
ART = "https://is1-ssl.mzstatic.com/image/thumb/Podcasts221/v4/ab/cd/the-daily.jpg/600x600bb.jpg"


def show_result() -> dict[str, Any]:
    return {
        "wrapperType": "track",
        "kind": "podcast",
        "collectionId": int(SHOW),
        "trackId": int(SHOW),
        "artistName": "The New York Times",
        "collectionName": "The Daily",
        "trackName": "The Daily",
        "collectionViewUrl": f"https://podcasts.apple.com/us/podcast/the-daily/id{SHOW}?uo=4",
        "feedUrl": "https://feeds.simplecast.com/Sl5CSM3S",
        "artworkUrl100": ART.replace("600x600", "100x100"),
        "artworkUrl600": ART,
        "releaseDate": "2026-11-19T10:45:00Z",
        "trackCount": 2512,
    }


def episode_result(track_id: str, name: str) -> dict[str, Any]:
    return {
        "wrapperType": "podcastEpisode",
        "kind": "podcast-episode",
        "collectionId": int(SHOW),
        "collectionName": "The Daily",
        "trackId": int(track_id),
        "trackName": name,
        "description": 'Guest: a reporter.\nBackground: <a href="https://www.nytimes.com/">the story</a>.',
        "shortDescription": "Guest: a reporter.",
        "releaseDate": "2024-04-12T09:45:00Z",
        "trackTimeMillis": 1534000,
        "episodeUrl": "https://dts.podtrac.com/redirect.mp3/episode.mp3",
        "trackViewUrl": f"https://podcasts.apple.com/us/podcast/x/id{SHOW}?i={track_id}&uo=4",
        "artworkUrl600": ART.replace("the-daily", "episode"),
    }


def with_episodes(server: FakeServer, *episodes: dict[str, Any]) -> dict[str, Any]:
    results = [show_result(), *episodes]
    return loopback_media(server, {"resultCount": len(results), "results": results})


@pytest.fixture
def app(fake_server: FakeServer, tmp_path: Path) -> Iterator[App]:
    yield from app_for(fake_server, tmp_path, "apple_podcasts")


def test_synthetic_episode_through_the_pipeline(app: App, fake_server: FakeServer) -> None:
    body = with_episodes(
        fake_server, episode_result("1000650000999", "Another day"), episode_result(EPISODE, "The Eclipse")
    )
    fake_server.route("/lookup", json_canned(body))
    snap = add_and_capture(app, "apple_podcasts", EPISODE, EPISODE_URL).snapshots[0]
    assert snap.title == "The Eclipse"
    assert snap.author_name == "The New York Times"
    assert snap.published == "2024-04-12T09:45:00Z"
    assert snap.text == "Guest: a reporter.\nBackground: the story."
    assert snap.text_html is not None and '<a href="https://www.nytimes.com/"' in snap.text_html
    assert set(snap.provenance.values()) == {"lookup"}
    assert "/media/" in snap.media[0].original_url and "episode.jpg" in snap.media[0].original_url
    asked = fake_server.requests[0].query
    assert asked == {"id": [SHOW], "country": ["us"], "entity": ["podcastEpisode"], "limit": ["200"]}


def test_synthetic_whole_show(app: App, fake_server: FakeServer) -> None:
    fake_server.route("/lookup", json_canned(with_episodes(fake_server)))
    capture = capture_direct(app, "apple_podcasts", SHOW, SHOW_URL)
    assert capture.outcome is Outcome.OK
    assert values(capture) == {"title": "The Daily", "author_name": "The New York Times"}
    assert fake_server.requests[0].query == {"id": [SHOW], "country": ["de"]}


def test_synthetic_episode_not_among_the_latest_is_ambiguous(app: App, fake_server: FakeServer) -> None:
    fake_server.route(
        "/lookup", json_canned(with_episodes(fake_server, episode_result("1000650000999", "x")))
    )
    capture = capture_direct(app, "apple_podcasts", EPISODE, EPISODE_URL)
    assert capture.outcome is Outcome.AMBIGUOUS and "latest 200" in capture.reason


def test_synthetic_show_not_listed_is_ambiguous_never_gone(app: App, fake_server: FakeServer) -> None:
    fake_server.route("/lookup", json_canned({"resultCount": 0, "results": []}))
    embed = add_and_capture(app, "apple_podcasts", EPISODE, EPISODE_URL)
    assert embed.checks[-1].outcome == "ambiguous" and embed.snapshots == []


@pytest.mark.parametrize(
    ("canned", "outcome"),
    [
        (Canned(404, {}, b""), Outcome.AMBIGUOUS),
        (Canned(503, {"Retry-After": "30"}, b""), Outcome.TRANSIENT),
        (Canned(reset=True), Outcome.TRANSIENT),
        (Canned(200, {"Content-Type": "text/html"}, b"<html><body>Sign in</body></html>"), Outcome.AMBIGUOUS),
        (
            json_canned({"resultCount": 1, "results": [{"wrapperType": "podcastEpisode", "trackId": [1]}]}),
            Outcome.AMBIGUOUS,
        ),
    ],
    ids=["api-404", "503", "reset", "html-200", "hostile-types"],
)
def test_synthetic_faults(app: App, fake_server: FakeServer, canned: Canned, outcome: Outcome) -> None:
    fake_server.route("/lookup", canned)
    capture = capture_direct(app, "apple_podcasts", EPISODE, EPISODE_URL)
    assert capture.outcome is outcome, capture.reason
