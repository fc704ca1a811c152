"""The demo's data is what it says it is: every recording is a shared fixture's recorded response,
converted and nothing else; the scenario's posts are exactly the posts the sample articles embed; and the
replay server answers each post with its recording, then with its recorded 404 or 403 from its day on."""

from __future__ import annotations

import json
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath

import requests

from archiver.clock import FixedClock
from archiver.demo.folder import replay_endpoint
from archiver.demo.replay import ReplayServer
from archiver.demo.scenario import article_files, data_root, load_scenario, sources_note
from archiver.pipeline.scan import scan_article
from archiver.providers import PROVIDERS
from archiver.records import Article
from tests.support.demo_recordings import RECORDINGS, SHIPPED, converted

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def test_every_shipped_recording_is_its_fixture_converted() -> None:
    shipped = {str(p.relative_to(RECORDINGS).with_suffix("")) for p in RECORDINGS.rglob("*.json")}
    assert shipped == set(SHIPPED)
    for name, fixture in SHIPPED.items():
        data = json.loads((RECORDINGS / f"{name}.json").read_text(encoding="utf-8"))
        assert data == converted(fixture), name


def test_the_sources_note_names_every_recording() -> None:
    note = sources_note()
    for name in SHIPPED:
        assert f"| `{name}` |" in note, name


def test_the_scenario_posts_are_the_posts_the_articles_embed() -> None:
    scenario = load_scenario()
    embedded = set()
    residue = 0
    for source in scenario.sources:
        for name, data in article_files(source):
            text = data.decode("utf-8")
            found = scan_article(Article(name, source.name, data, text, "utf-8", "0" * 64), PROVIDERS)
            embedded |= {(ref.provider, ref.post_id) for ref in found.embeds if ref.post_id}
            residue += sum(1 for ref in found.embeds if ref.is_residue)
    assert embedded == {(post.provider, post.post_id) for post in scenario.posts}
    assert residue == 1
    assert {source.mode for source in scenario.sources} == {"approve", "apply"}
    # Deleted posts answer a recorded 404, a post made private a recorded 403.
    assert sorted(p.then.status for p in scenario.posts if p.then is not None) == [403, 404, 404, 404]


def test_the_articles_are_in_the_package_data() -> None:
    folder = Path(str(data_root())) / "articles"
    assert sorted(p.name for p in folder.rglob("*.html")) == [
        "festival-diary.html",
        "looking-back.html",
        "music-week.html",
        "podcast-picks.html",
    ]


def test_the_replay_server_answers_recordings_then_the_change_and_never_invents() -> None:
    scenario = load_scenario()
    clock = FixedClock(START)
    album = "https://open.spotify.com/album/7s66wU1XJ2NsUuWM2NKiUV"
    with ReplayServer(scenario, clock, START) as replay:
        endpoint = replay_endpoint(
            replay.url, "spotify", "oembed_endpoint", "https://open.spotify.com/oembed"
        )

        def ask(url: str) -> requests.Response:
            return requests.get(endpoint, params={"url": url, "format": "json"}, timeout=5)

        alive = ask(album)
        assert alive.status_code == 200
        assert alive.json()["title"] == "A Cantar con Xabarin (Vol. I & II)"
        clock.advance(timedelta(days=2))
        gone = ask(album)
        assert (gone.status_code, gone.content) == (404, b"")
        show = ask("https://open.spotify.com/show/0gWT8X6lgGuJkpcx0XJ3yr")
        assert show.status_code == 200 and show.json()["title"] == "the memory palace"
        unknown = ask("https://open.spotify.com/album/0000000000000000000000")
        other_rung = requests.get(f"{replay.url}/instagram/p/B9bOM-6Ax_d/embed/captioned/", timeout=5)
        assert unknown.status_code == other_rung.status_code == 503
        assert unknown.text.startswith("not recorded")
    assert replay.served[("spotify", "spotify/oembed-private-playlist-404")] == 1
    assert replay.served[("spotify", "not recorded")] == 1


def test_every_data_file_ships_in_the_package() -> None:
    """pyproject's package-data globs for archiver.demo cover every file of data/ (a wheel install has
    nothing else)."""
    root = Path(str(data_root())).parent
    project = tomllib.loads((root.parents[1] / "pyproject.toml").read_text(encoding="utf-8"))
    globs = project["tool"]["setuptools"]["package-data"]["archiver.demo"]
    files = [p.relative_to(root).as_posix() for p in (root / "data").rglob("*") if p.is_file()]

    def shipped(name: str) -> bool:
        path = PurePosixPath(name)
        return any(len(path.parts) == len(PurePosixPath(g).parts) and path.match(g) for g in globs)

    assert files and all(shipped(f) for f in files), [f for f in files if not shipped(f)]
