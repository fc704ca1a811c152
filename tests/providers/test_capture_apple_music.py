"""Apple Music capture: the article's markup, then Apple's public iTunes lookup API, against a loopback
server.

Every lookup answer here is synthetic (no Apple response is recorded in shared/fixtures). The bodies follow
the iTunes Search API documentation (performance-partners.apple.com/search-api, "Lookup Examples" and
"Understanding Search Results"): `{"resultCount": N, "results": [...]}`, albums as `wrapperType:
"collection"` (collectionId, collectionName), songs and music videos as `wrapperType: "track"` (trackId,
trackName, kind), each with artistName, artistViewUrl, releaseDate and artworkUrl100."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.fake_server import Canned, FakeServer

from archiver.app import App
from archiver.records import Outcome
from tests.support.capture_world import add_and_capture
from tests.support.player_world import (
    LOGIN_WALL,
    app_for,
    capture_direct,
    json_canned,
    loopback_media,
    values,
)

ALBUM = "1097861387"
ALBUM_URL = f"https://music.apple.com/us/album/ok-computer/{ALBUM}?i=1097862231"
SONG = "1097862231"
SONG_URL = f"https://music.apple.com/de/song/paranoid-android/{SONG}"
ARTWORK = "https://is1-ssl.mzstatic.com/image/thumb/Music115/v4/ok/computer.jpg/100x100bb.jpg"


def album(server: FakeServer) -> dict[str, Any]:
    """Synthetic lookup answer for an album (after Apple's documented result shape)."""
    return loopback_media(
        server,
        {
            "resultCount": 1,
            "results": [
                {
                    "wrapperType": "collection",
                    "collectionType": "Album",
                    "artistId": 657515,
                    "collectionId": int(ALBUM),
                    "artistName": "Radiohead",
                    "collectionName": "OK Computer",
                    "artistViewUrl": "https://music.apple.com/us/artist/radiohead/657515?uo=4",
                    "collectionViewUrl": f"https://music.apple.com/us/album/ok-computer/{ALBUM}?uo=4",
                    "artworkUrl60": ARTWORK.replace("100x100", "60x60"),
                    "artworkUrl100": ARTWORK,
                    "trackCount": 12,
                    "country": "USA",
                    "releaseDate": "1997-05-21T07:00:00Z",
                    "primaryGenreName": "Alternative",
                }
            ],
        },
    )


def song(server: FakeServer) -> dict[str, Any]:
    """Synthetic lookup answer for a song in the German storefront."""
    return loopback_media(
        server,
        {
            "resultCount": 1,
            "results": [
                {
                    "wrapperType": "track",
                    "kind": "song",
                    "artistId": 657515,
                    "collectionId": int(ALBUM),
                    "trackId": int(SONG),
                    "artistName": "Radiohead",
                    "collectionName": "OK Computer",
                    "trackName": "Paranoid Android",
                    "artistViewUrl": "https://music.apple.com/de/artist/radiohead/657515?uo=4",
                    "trackViewUrl": f"https://music.apple.com/de/album/paranoid-android/{ALBUM}?i={SONG}&uo=4",
                    "artworkUrl100": ARTWORK,
                    "releaseDate": "1997-05-21T12:00:00+02:00",
                    "country": "DEU",
                }
            ],
        },
    )


@pytest.fixture
def app(fake_server: FakeServer, tmp_path: Path) -> Iterator[App]:
    yield from app_for(fake_server, tmp_path, "apple_music")


def test_synthetic_album_through_the_pipeline(app: App, fake_server: FakeServer) -> None:
    fake_server.route("/lookup", json_canned(album(fake_server)))
    snap = add_and_capture(app, "apple_music", ALBUM, ALBUM_URL).snapshots[0]
    assert (snap.title, snap.author_name) == ("OK Computer", "Radiohead")
    assert snap.author_url == "https://music.apple.com/us/artist/radiohead/657515?uo=4"
    assert snap.published == "1997-05-21T07:00:00Z"
    assert set(snap.provenance.values()) == {"lookup"}
    assert [r["rung"] for r in snap.raw] == ["lookup"]
    assert snap.media[0].kind == "thumbnail" and snap.media[0].media_file is not None
    asked = fake_server.requests[0]
    assert asked.path == "/lookup" and asked.query == {"id": [ALBUM], "country": ["us"]}


def test_synthetic_song_in_its_storefront(app: App, fake_server: FakeServer) -> None:
    fake_server.route("/lookup", json_canned(song(fake_server)))
    capture = capture_direct(app, "apple_music", SONG, SONG_URL)
    assert capture.outcome is Outcome.OK
    assert values(capture)["title"] == "Paranoid Android"
    assert values(capture)["published"] == "1997-05-21T10:00:00Z"  # as UTC
    assert fake_server.requests[0].query["country"] == ["de"]


def test_synthetic_item_not_listed_is_ambiguous_never_gone(app: App, fake_server: FakeServer) -> None:
    fake_server.route("/lookup", json_canned({"resultCount": 0, "results": []}))
    embed = add_and_capture(app, "apple_music", ALBUM, ALBUM_URL)
    assert embed.checks[-1].outcome == "ambiguous" and "storefront" in (embed.checks[-1].reason or "")
    assert embed.snapshots == []


def test_synthetic_answer_about_another_item_is_ambiguous(app: App, fake_server: FakeServer) -> None:
    fake_server.route("/lookup", json_canned(album(fake_server)))
    capture = capture_direct(
        app, "apple_music", "1445732165", "https://music.apple.com/gb/music-video/x/1445732165"
    )
    assert capture.outcome is Outcome.AMBIGUOUS and "other items" in capture.reason


def test_playlists_have_no_public_source_and_ask_nothing(app: App, fake_server: FakeServer) -> None:
    playlist = "pl.5ee8333dbe944d9f9151e97d92d1ead9"
    capture = capture_direct(
        app,
        "apple_music",
        playlist,
        f"https://music.apple.com/de/playlist/a-list-pop/{playlist}",
        author_name="Apple Music",
    )
    assert capture.outcome is Outcome.AMBIGUOUS and "playlists" in capture.reason
    assert values(capture) == {"author_name": "Apple Music"}
    assert fake_server.requests == []


@pytest.mark.parametrize(
    ("canned", "outcome"),
    [
        (Canned(404, {"Content-Type": "text/html"}, b"Not Found"), Outcome.AMBIGUOUS),  # the API's own 404
        (Canned(410, {}, b""), Outcome.AMBIGUOUS),
        (Canned(403, {"Content-Type": "text/html"}, b"Forbidden"), Outcome.AMBIGUOUS),
        (Canned(429, {"Retry-After": "60"}, b""), Outcome.TRANSIENT),
        (Canned(500, {}, b""), Outcome.TRANSIENT),
        (Canned(reset=True), Outcome.TRANSIENT),
        (Canned(200, {}, b'{"resultCount":1,"results":[{"wrap', truncate_to=10), Outcome.TRANSIENT),
        (Canned(200, {"Content-Type": "text/html"}, LOGIN_WALL), Outcome.AMBIGUOUS),
        (json_canned({"results": []}), Outcome.AMBIGUOUS),  # no resultCount: not the lookup API
        (json_canned({"resultCount": "1", "results": []}), Outcome.AMBIGUOUS),
        (json_canned({"resultCount": 1, "results": {"0": {}}}), Outcome.AMBIGUOUS),
        (json_canned([{"resultCount": 1}]), Outcome.AMBIGUOUS),
    ],
    ids=[
        "api-404", "api-410", "403", "429", "500", "reset", "truncated", "html-200",
        "no-result-count", "string-count", "results-not-a-list", "json-array",
    ],
)  # fmt: skip
def test_synthetic_faults(app: App, fake_server: FakeServer, canned: Canned, outcome: Outcome) -> None:
    fake_server.route("/lookup", canned)
    capture = capture_direct(app, "apple_music", ALBUM, ALBUM_URL)
    assert capture.outcome is outcome, capture.reason
    assert capture.fields == {}
