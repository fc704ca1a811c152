"""A loopback Instagram for tests: Graph oEmbed and the captioned embed page, from recorded responses.

The oEmbed answer is the recorded Graph v8 response (shared/fixtures/providers/instagram); its
thumbnail URL is pointed at the loopback server, the way a mirror would serve it. The embed page is
synthetic (see tests/fixtures/instagram/embed-page-captioned.synthetic.html).
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from support.fake_server import FIXTURES, Canned, FakeServer, canned_from_vcr

from archiver.config import Settings

HERE = Path(__file__).resolve().parents[1]
OEMBED_PATH = "/v26.0/instagram_oembed"
# Smallest well-formed JPEG/PNG headers: the archiver sniffs magic bytes, it never decodes images.
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(200) + b"\xff\xd9"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(100)


def oembed_canned(server: FakeServer, fixture: str = "oembed-graph-v8-p-200.vcr.yml") -> Canned:
    canned = canned_from_vcr(FIXTURES / "instagram" / fixture)
    body = json.loads(canned.body)
    body["thumbnail_url"] = f"{server.url}/media/thumb.jpg"
    return replace(canned, body=json.dumps(body).encode())


def embed_page(server: FakeServer) -> bytes:
    page = (HERE / "fixtures" / "instagram" / "embed-page-captioned.synthetic.html").read_text("utf-8")
    return page.replace("IMAGE_URL", f"{server.url}/media/image.jpg").encode()


def serve_instagram(
    server: FakeServer, shortcodes: tuple[tuple[str, str], ...] = (("p", "B9bOM-6Ax_d"),)
) -> None:
    """Every post alive: oEmbed, embed page and media for each (kind, shortcode)."""
    server.route(OEMBED_PATH, oembed_canned(server))
    for kind, code in shortcodes:
        server.route(
            f"/{kind}/{code}/embed/captioned/", Canned(200, {"Content-Type": "text/html"}, embed_page(server))
        )
    server.route("/media/thumb.jpg", Canned(200, {"Content-Type": "image/jpeg"}, JPEG))
    server.route("/media/image.jpg", Canned(200, {"Content-Type": "image/jpeg"}, PNG))


def settings_for(server: FakeServer, tmp_path: Path, **extra: object) -> Settings:
    data: dict[str, object] = {
        "database": {"url": f"sqlite:///{tmp_path / 'archive.db'}"},
        "media": {"dir": str(tmp_path / "media")},
        "http": {"allow_networks": ["127.0.0.0/8"], "read_timeout": 2.0, "deadline": 5.0},
        "providers": {
            "instagram": {
                "oembed_endpoint": f"{server.url}{OEMBED_PATH}",
                "embed_page_base": server.url,
                "access_token_env": "TEST_META_TOKEN",
            }
        },
    }
    data.update(extra)
    return Settings(**data)  # type: ignore[arg-type]


def toml_for(server: FakeServer, tmp_path: Path) -> str:
    return f"""
[database]
url = "sqlite:///{tmp_path / "archive.db"}"
[media]
dir = "{tmp_path / "media"}"
[http]
allow_networks = ["127.0.0.0/8"]
read_timeout = 2.0
deadline = 5.0
[providers.instagram]
oembed_endpoint = "{server.url}{OEMBED_PATH}"
embed_page_base = "{server.url}"
access_token_env = "TEST_META_TOKEN"
"""
