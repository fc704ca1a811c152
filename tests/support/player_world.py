"""Loopback worlds for the video, audio and music providers (YouTube, Vimeo, Dailymotion, Spotify,
SoundCloud, TikTok, Apple Music, Apple Podcasts): recorded responses from shared/fixtures/providers with
their media URLs moved to the fake server, an App pointed at it, one direct capture.

Builds on `capture_world` (settings, embeds, the pipeline run, the CaptureContext).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from support.fake_server import FIXTURES, Canned, FakeServer, canned_from_response_json, canned_from_vcr

from archiver.app import App
from archiver.clock import FixedClock
from archiver.providers import provider_named
from archiver.records import Capture, EmbedRef, MarkupKind
from tests.support.capture_world import JPEG, START, context_for, settings_for

# Keys of a provider body that name media files (oEmbed, iTunes lookup).
MEDIA_KEYS = ("thumbnail_url", "artworkUrl60", "artworkUrl100", "artworkUrl600")


def recorded(server: FakeServer, provider: str, name: str) -> Canned:
    """A recorded response (`*.vcr.yml` or `*.response.json`), its media URLs served by `server` under
    `/media/<original path>` (each such path answers a small JPEG)."""
    path = FIXTURES / provider / name
    canned = canned_from_vcr(path) if name.endswith(".vcr.yml") else canned_from_response_json(path)
    try:
        body = json.loads(canned.body)
    except ValueError:
        return canned
    if not isinstance(body, dict):
        return canned
    return replace(canned, body=json.dumps(loopback_media(server, body)).encode())


def loopback_media(server: FakeServer, body: dict[str, Any]) -> dict[str, Any]:
    """`body` with its media URLs (also in `results` items) moved to the fake server, which serves them."""
    moved = dict(body)
    for key in MEDIA_KEYS:
        value = moved.get(key)
        if isinstance(value, str) and value.startswith("http"):
            path = "/media" + urlsplit(value).path
            server.route(path, Canned(200, {"Content-Type": "image/jpeg"}, JPEG))
            moved[key] = f"{server.url}{path}?{urlsplit(value).query}".rstrip("?")
    if isinstance(moved.get("results"), list):
        moved["results"] = [
            loopback_media(server, item) if isinstance(item, dict) else item for item in moved["results"]
        ]
    return moved


def json_canned(body: Mapping[str, Any] | list[Any], status: int = 200, **headers: str) -> Canned:
    """A synthetic JSON answer."""
    return Canned(status, {"Content-Type": "application/json", **headers}, json.dumps(body).encode())


def app_for(server: FakeServer, tmp_path: Path, provider: str, **overrides: Any) -> Iterator[App]:
    """An App whose `provider` endpoints are the fake server (for pytest fixtures: yields, then closes)."""
    application = App(settings_for(server, tmp_path, provider, **overrides), FixedClock(START), {})
    try:
        yield application
    finally:
        application.close()


def capture_direct(app: App, provider: str, post_id: str, url: str, **found: str) -> Capture:
    """`provider.capture` called the way the pipeline calls it, without storing anything."""
    ref = EmbedRef(provider, post_id, url, MarkupKind.IFRAME, **found)  # type: ignore[arg-type]
    return provider_named(provider).capture(ref, context_for(app, provider))


def values(capture: Capture) -> dict[str, str]:
    """Field name -> value."""
    return {name: field.value for name, field in capture.fields.items()}


def rungs(capture: Capture) -> dict[str, str]:
    """Field name -> the rung that gave it."""
    return {name: field.rung for name, field in capture.fields.items()}


LOGIN_WALL = (
    b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>Sign in to continue</body></html>"
)
# Faults every oEmbed endpoint may show, and what each must mean (DESIGN.md section 6).
OEMBED_FAULTS: list[tuple[str, Canned, str]] = [
    ("500", Canned(500, {}, b"Internal Server Error"), "transient"),
    ("503-retry-after", Canned(503, {"Retry-After": "120"}, b""), "transient"),
    ("429-retry-after", Canned(429, {"Retry-After": "120"}, b"Too Many Requests"), "transient"),
    ("reset", Canned(reset=True), "transient"),
    (
        "truncated-json",
        Canned(200, {"Content-Type": "application/json"}, b'{"type":"video","html":"<iframe', truncate_to=12),
        "transient",
    ),
    ("login-wall-200", Canned(200, {"Content-Type": "text/html"}, LOGIN_WALL), "ambiguous"),
    ("forbidden-200", Canned(200, {"Content-Type": "text/plain"}, b"Forbidden"), "ambiguous"),
    (
        "json-without-html",
        Canned(200, {"Content-Type": "application/json"}, b'{"version":"1.0","type":"video","title":"x"}'),
        "ambiguous",
    ),
    ("json-array", Canned(200, {"Content-Type": "application/json"}, b"[1, 2, 3]"), "ambiguous"),
    ("401", Canned(401, {}, b"Unauthorized"), "ambiguous"),
    ("403", Canned(403, {}, b"Forbidden"), "ambiguous"),
    ("404", Canned(404, {}, b"Not Found"), "gone"),
    ("410", Canned(410, {}, b""), "gone"),
]
