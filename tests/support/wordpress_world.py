"""The world of the WordPress tests: the real site (tests/support/wordpress_site.py), a loopback provider
for Instagram, X and YouTube whose posts a test turns from alive to gone, and an archive on a clock the
test moves.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from archiver.app import App
from archiver.clock import FixedClock
from archiver.config import Settings
from archiver.pipeline.capture import capture_due
from archiver.pipeline.check import check_due
from archiver.pipeline.scan import ArticleReport, SourceAccess, resolve_targets, scan_targets
from archiver.providers import PROVIDERS
from archiver.storage.models import Embed
from tests.support.fake_server import FIXTURES
from tests.support.wordpress_site import WordPressSite

START = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)
PASSWORD_ENV = "ARCHIVER_TEST_WP_PASSWORD"
INSTAGRAM = "https://www.instagram.com/p/CZIALixI8FH/"
# The tweet of the recorded oEmbed answer served while it is alive.
TWEET = "https://twitter.com/RailsGirlsSoC/status/702136612822634496"
YOUTUBE = "https://www.youtube.com/watch?v=hMDQpHehAzw"
_TWEET_OEMBED = (FIXTURES / "twitter" / "oembed-publish-twitter-status-200.body.json").read_bytes()
_X_NOT_FOUND = b'{"errors":[{"code":144,"message":"No status found with that ID."}]}'

# A classic-editor post: bare URLs on their own lines and [embed] shortcodes, Windows line ends, accents.
CLASSIC = (
    "<p>Classic post, caf\u00e9 cr\u00e8me.</p>\r\n\r\n"
    f"{INSTAGRAM}\r\n\r\n"
    "Some words between the embeds.\r\n\r\n"
    f"[embed]{TWEET}[/embed]\r\n\r\n"
    f'[embed width="640" height="360"]{YOUTUBE}[/embed]\r\n\r\n'
    "<!-- a comment the editor left -->\r\nThe end."
)


def block_embed(url: str, slug: str, kind: str) -> str:
    return (
        f'<!-- wp:embed {{"url":"{url}","type":"{kind}","providerNameSlug":"{slug}","responsive":true}} -->\n'
        f'<figure class="wp-block-embed is-type-{kind} is-provider-{slug} wp-block-embed-{slug}">'
        f'<div class="wp-block-embed__wrapper">\n{url}\n</div></figure>\n<!-- /wp:embed -->'
    )


# A block-editor post: wp:embed blocks between paragraph blocks.
BLOCK = "\n\n".join(
    [
        "<!-- wp:paragraph -->\n<p>Block post: \u00fcber alles.</p>\n<!-- /wp:paragraph -->",
        block_embed(INSTAGRAM, "instagram", "rich"),
        '<!-- wp:paragraph {"className":"note"} -->\n<p class="note">Between.</p>\n<!-- /wp:paragraph -->',
        block_embed(TWEET, "twitter", "rich"),
        block_embed(YOUTUBE, "youtube", "video"),
        '<!-- wp:separator -->\n<hr class="wp-block-separator has-alpha-channel-opacity"/>\n'
        "<!-- /wp:separator -->",
    ]
)


class _Providers(ThreadingHTTPServer):
    daemon_threads = True
    gone = False


class _Handler(BaseHTTPRequestHandler):
    server: _Providers
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        path = self.path
        if self.server.gone:
            x = path.startswith(("/x/", "/syndication/"))
            status, body = 404, _X_NOT_FOUND if x else b'{"error": "not found"}'
            kind = "application/json"
        elif path.startswith("/x/oembed"):
            status, body, kind = 200, _TWEET_OEMBED, "application/json"
        elif path.startswith("/syndication/"):
            status, body, kind = 404, _X_NOT_FOUND, "application/json"
        elif "/oembed" in path:
            oembed = {
                "version": "1.0",
                "type": "rich",
                "html": "<blockquote>a post</blockquote>",
                "author_name": "Someone",
                "author_url": "https://example.com/someone",
                "title": "A post",
            }
            status, body, kind = 200, json.dumps(oembed).encode(), "application/json"
        else:
            status, body, kind = 200, b"<html><body><p>A post</p></body></html>", "text/html"
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        with suppress(OSError):
            self.wfile.write(body)
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        return


def source_table(site: WordPressSite, **more: Any) -> dict[str, Any]:
    return {
        "name": "blog",
        "kind": "wordpress",
        "url": site.url,
        "user": site.editor.login,
        "password_env": PASSWORD_ENV,
        "rate": "1000/s",
        "mode": "apply",
        **more,
    }


def settings_data(tmp_path: Path, site: WordPressSite, providers_url: str, **source: Any) -> dict[str, Any]:
    return {
        "database": {"url": f"sqlite:///{tmp_path / 'archive.db'}"},
        "media": {"dir": str(tmp_path / "media"), "download": False},
        "http": {"allow_networks": ["127.0.0.0/8"], "read_timeout": 10.0, "deadline": 20.0},
        "capture": {"max_defer_wait": 0.0},
        "rewrite": {"archive_base_url": "https://archive.example.org"},
        "sources": [source_table(site, **source)],
        "providers": {
            "youtube": {"oembed_endpoint": f"{providers_url}/youtube/oembed", "canaries": []},
            "twitter": {
                "oembed_endpoint": f"{providers_url}/x/oembed",
                "syndication_base": f"{providers_url}/syndication",
                "canaries": [],
            },
            "instagram": {
                "oembed_endpoint": f"{providers_url}/instagram/oembed",
                "embed_page_base": f"{providers_url}/instagram",
                "canaries": [],
            },
        },
    }


@dataclass
class World:
    site: WordPressSite
    app: App
    clock: FixedClock
    providers: _Providers

    def scan(self, *, full: bool = False) -> list[ArticleReport]:
        settings = self.app.settings
        access = SourceAccess(self.app.http, self.clock, self.app.sessions, full)
        targets = resolve_targets(["blog"], settings.sources, settings.scan, self.app.env, access)
        return scan_targets(targets, settings.scan, PROVIDERS, sessions=self.app.sessions, clock=self.clock)

    def capture(self) -> None:
        capture_due(self.app.sessions, self.app.capture_deps())

    def break_everything(self) -> None:
        """The provider says every post is gone; checks run over four simulated days."""
        self.providers.gone = True
        for _ in range(16):
            self.clock.advance(timedelta(hours=6))
            check_due(self.app.sessions, self.app.capture_deps())

    def states(self) -> dict[str, str]:
        with self.app.sessions() as session:
            return {str(e.post_id): e.state for e in session.query(Embed)}


@contextmanager
def world(tmp_path: Path, site: WordPressSite, **source: Any) -> Iterator[World]:
    providers = _Providers(("127.0.0.1", 0), _Handler)
    threading.Thread(target=providers.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    url = f"http://127.0.0.1:{providers.server_address[1]}"
    clock = FixedClock(START)
    settings = Settings(**settings_data(tmp_path, site, url, **source))
    app = App(settings, clock, {PASSWORD_ENV: site.editor.password})
    try:
        yield World(site, app, clock, providers)
    finally:
        app.close()
        providers.shutdown()
        providers.server_close()
