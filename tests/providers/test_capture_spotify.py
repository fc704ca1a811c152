"""Spotify capture: the default ladder (markup, then oEmbed) against a loopback server playing every
recorded answer in shared/fixtures/providers/spotify (2021 php-embed recordings, 2024 ruby-oembed
cassettes), including the private playlist's empty 404 and the legacy embed.spotify.com redirect."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from support.fake_server import Canned, FakeServer, Recorded

from archiver.app import App
from archiver.providers import provider_named
from archiver.providers.common.base import Provider
from archiver.records import Outcome
from tests.support.capture_world import add_and_capture
from tests.support.player_world import OEMBED_FAULTS, app_for, capture_direct, recorded, values

TRACK = "7y8NWS6gR3Wz4C7W8Bh0WL"


@pytest.fixture
def app(fake_server: FakeServer, tmp_path: Path) -> Iterator[App]:
    yield from app_for(fake_server, tmp_path, "spotify")


def test_the_base_class_ladder_is_enough() -> None:
    assert type(provider_named("spotify")).capture is Provider.capture


def test_recorded_track_through_the_pipeline(app: App, fake_server: FakeServer) -> None:
    fake_server.route("/oembed", recorded(fake_server, "spotify", "oembed-track-200.vcr.yml"))
    url = f"https://open.spotify.com/track/{TRACK}"
    snap = add_and_capture(app, "spotify", TRACK, url).snapshots[0]
    assert snap.title == "Don't Bring Me Down" and snap.provenance == {"title": "oembed"}
    assert snap.author_name is None and snap.media == []  # Spotify names no author; tracks have no thumbnail
    assert fake_server.requests[0].query["url"] == [url]


@pytest.mark.parametrize(
    ("fixture", "kind", "item", "title", "thumbnail"),
    [
        (
            "oembed-album-200-2021.response.json",
            "album",
            "7s66wU1XJ2NsUuWM2NKiUV",
            "A Cantar con Xabarin (Vol. I & II)",
            True,
        ),
        ("oembed-artist-200.vcr.yml", "artist", "1TTfuOdEtj8lin2zR4OWmP", "Flock of Dimes", False),
        ("oembed-episode-200.vcr.yml", "episode", "6z1oAq0SxQ6jPUiLQMEDC6", "Paisley", True),
        ("oembed-show-200.vcr.yml", "show", "0gWT8X6lgGuJkpcx0XJ3yr", "the memory palace", True),
        # Recorded for `url=spotify:artist:...`; the archiver always asks with the canonical https URL.
        ("oembed-spotify-uri-200.vcr.yml", "artist", "1TTfuOdEtj8lin2zR4OWmP", "Flock of Dimes", False),
    ],
    ids=["album-2021", "artist", "episode", "show", "spotify-uri"],
)
def test_recorded_answers(
    app: App, fake_server: FakeServer, fixture: str, kind: str, item: str, title: str, thumbnail: bool
) -> None:
    fake_server.route("/oembed", recorded(fake_server, "spotify", fixture))
    capture = capture_direct(app, "spotify", item, f"https://open.spotify.com/{kind}/{item}")
    assert capture.outcome is Outcome.OK
    assert values(capture) == {"title": title}
    assert [m.kind for m in capture.media] == (["thumbnail"] if thumbnail else [])


def test_recorded_private_playlist_404_with_empty_body_is_gone(app: App, fake_server: FakeServer) -> None:
    fake_server.route("/oembed", recorded(fake_server, "spotify", "oembed-private-playlist-404.vcr.yml"))
    playlist = "5HcLrk4q1DPf9CucFfGLWF"
    embed = add_and_capture(app, "spotify", playlist, f"https://open.spotify.com/playlist/{playlist}")
    assert embed.snapshots == []
    assert embed.checks[-1].outcome == "gone" and embed.checks[-1].http_status == 404


def test_recorded_legacy_endpoint_redirect_is_followed(fake_server: FakeServer, tmp_path: Path) -> None:
    """The legacy `embed.spotify.com/oembed/` 301s to `open.spotify.com/oembed/`, which 301s again to
    `/oembed` (the hops of the 2021 recording); the final recorded answer is the album."""

    def hop(to: str) -> object:
        def answer(request: Recorded) -> Canned:
            query = urlencode({k: v[0] for k, v in request.query.items()})
            return Canned(301, {"Location": f"{fake_server.url}{to}?{query}", "Content-Type": "text/html"})

        return answer

    fake_server.route("/legacy/oembed/", hop("/oembed/"))  # type: ignore[arg-type]
    fake_server.route("/oembed/", hop("/oembed"))  # type: ignore[arg-type]
    fake_server.route(
        "/oembed",
        recorded(fake_server, "spotify", "oembed-legacy-embed-spotify-com-redirect-200-2021.response.json"),
    )
    endpoint = f"{fake_server.url}/legacy/oembed/"
    for app in app_for(fake_server, tmp_path, "spotify", oembed_endpoint=endpoint):
        album = "7s66wU1XJ2NsUuWM2NKiUV"
        capture = capture_direct(app, "spotify", album, f"https://open.spotify.com/album/{album}")
        assert capture.outcome is Outcome.OK
        assert values(capture)["title"] == "A Cantar con Xabarin (Vol. I & II)"
        assert capture.responses[0].url.startswith(f"{fake_server.url}/oembed?")  # where it ended
        assert [r.path for r in fake_server.requests[:3]] == ["/legacy/oembed/", "/oembed/", "/oembed"]


@pytest.mark.parametrize(("name", "canned", "outcome"), OEMBED_FAULTS, ids=[f[0] for f in OEMBED_FAULTS])
def test_faults(app: App, fake_server: FakeServer, name: str, canned: Canned, outcome: str) -> None:
    fake_server.route("/oembed", canned)
    capture = capture_direct(app, "spotify", TRACK, f"https://open.spotify.com/track/{TRACK}")
    assert capture.outcome.value == outcome, capture.reason
