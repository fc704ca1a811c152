"""Twitch stays detection-only: it has no oEmbed and reference/providers.md section 17 documents no
tokenless public source (the Helix API needs a client id and an app token; php-embed scrapes the pages,
which render in the browser). Its embeds are stored and wait; capture never picks them."""

from __future__ import annotations

from pathlib import Path

from support.fake_server import FakeServer

from archiver.providers import provider_named
from tests.support.capture_world import add_embed, capture_once
from tests.support.player_world import app_for


def test_twitch_cannot_capture_and_is_never_asked(fake_server: FakeServer, tmp_path: Path) -> None:
    assert not provider_named("twitch").can_capture()
    for app in app_for(fake_server, tmp_path, "twitch"):
        add_embed(app, "twitch", "1234567890", "https://www.twitch.tv/videos/1234567890")
        assert capture_once(app).attempted == 0
    assert fake_server.requests == []
