"""The demo's recorded answers (archiver/demo/data/recordings/) are the shared fixtures' recorded real
responses, converted mechanically: status, headers (framing dropped) and the decoded body as JSON.

`python -m tests.support.demo_recordings` writes them again from `../shared/fixtures/providers/`;
tests/demo/test_demo_data.py checks that every shipped recording equals its conversion.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.support.fake_server import FIXTURES, canned_from_response_json, canned_from_vcr

ROOT = Path(__file__).resolve().parents[2]
RECORDINGS = ROOT / "archiver" / "demo" / "data" / "recordings"

# Shipped name (provider/stem) -> the fixture it is converted from.
SHIPPED = {
    "instagram/oembed-graph-v8-p-200": "instagram/oembed-graph-v8-p-200.vcr.yml",
    "soundcloud/oembed-track-200-2024": "soundcloud/oembed-track-200-2024.response.json",
    "spotify/oembed-album-200-2021": "spotify/oembed-album-200-2021.response.json",
    "spotify/oembed-artist-200": "spotify/oembed-artist-200.vcr.yml",
    "spotify/oembed-episode-200": "spotify/oembed-episode-200.vcr.yml",
    "spotify/oembed-private-playlist-404": "spotify/oembed-private-playlist-404.vcr.yml",
    "spotify/oembed-show-200": "spotify/oembed-show-200.vcr.yml",
    "spotify/oembed-track-200": "spotify/oembed-track-200.vcr.yml",
    "tiktok/oembed-video-200-2024": "tiktok/oembed-video-200-2024.response.json",
    "twitter/oembed-publish-twitter-status-200": "twitter/oembed-publish-twitter-status-200.vcr.yml",
    "vimeo/oembed-video-200-2021": "vimeo/oembed-video-200-2021.response.json",
    "youtube/oembed-private-video-403": "youtube/oembed-private-video-403.vcr.yml",
    "youtube/oembed-watch-200": "youtube/oembed-watch-200.vcr.yml",
    "youtube/oembed-watch-200-2021": "youtube/oembed-watch-200-2021.response.json",
}


def converted(fixture: str) -> dict[str, Any]:
    """One recorded response as the demo ships it."""
    path = FIXTURES / fixture
    canned = canned_from_vcr(path) if fixture.endswith(".vcr.yml") else canned_from_response_json(path)
    return {
        "recorded_from": f"shared/fixtures/providers/{fixture}",
        "status": canned.status,
        "headers": canned.headers,
        "body": canned.body.decode("utf-8"),
    }


def write_all() -> None:
    for name, fixture in SHIPPED.items():
        target = RECORDINGS / f"{name}.json"
        target.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(converted(fixture), ensure_ascii=False, indent=2) + "\n"
        target.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    write_all()
