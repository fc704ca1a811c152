"""Giphy: GIFs, stickers and clips (reference/providers.md section 15).

Detection: the embed iframe `giphy.com/embed/ID` (`iframe.giphy-embed`, lazy forms included), and GIF
URLs `giphy.com/gifs/slug-ID`, `giphy.com/stickers/slug-ID`, `giphy.com/clips/slug-ID` and the media
files `media.giphy.com/media/ID/giphy.gif` (the oEmbed registry's schemes). Bare URLs, Gutenberg blocks
and CKEditor tags are the scanner's generic forms. The "via GIPHY" link Giphy's embed code puts under the
iframe is part of nothing: a link in text is never an embed.

Not embeds: channel and user pages, search and explore pages, `gph.is` short links (they need a redirect
to name a GIF), and the widget and API hosts.

Id: the GIF id (the last dash-separated part of a slugged URL). URL: `https://giphy.com/gifs/ID`.

Capture ladder: the article's markup, then `giphy.com/services/oembed` (no token). Its answer is a
`photo`: the title, the uploader (name, channel URL, handle) and `url`, the GIF itself, kept as image
media. A photo answer without that URL is not what Giphy sends: ambiguous.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar

from archiver.providers.common.base import PostUrl, Provider
from archiver.providers.common.context import CaptureContext
from archiver.providers.common.ladder import (
    assemble,
    handle_from,
    markup_fields,
    oembed_fields,
    reclassified,
    request_oembed,
    url_field,
)
from archiver.providers.common.urlparts import split_url
from archiver.records import Capture, EmbedRef, Field, MediaRef, Outcome

CANONICAL_BASE = "https://giphy.com"
PAGE_HOSTS = frozenset({"giphy.com", "www.giphy.com"})
# Hosts of the GIF files themselves: media.giphy.com, media0..4.giphy.com, i.giphy.com.
_MEDIA_HOST = re.compile(r"(?:media\d?|i)\.giphy\.com")
# Path kinds whose last segment is slug-ID.
SLUGGED_KINDS = frozenset({"gifs", "stickers", "clips"})

_ID = re.compile(r"[A-Za-z0-9]{6,40}")
_SLUG_ID = re.compile(r"(?:[^/?#\s]*-)?(?P<id>[A-Za-z0-9]{6,40})")
_MEDIA_FILE = re.compile(r"(?P<id>[A-Za-z0-9]{6,40})\.(?:gif|webp|mp4)")


class Giphy(Provider):
    name = "giphy"
    title = "Giphy"
    hosts = frozenset({"giphy.com"})
    endpoints: ClassVar[Mapping[str, str]] = MappingProxyType(
        {"oembed_endpoint": "https://giphy.com/services/oembed"}
    )
    recognises = (
        "the embed iframe giphy.com/embed/ID (iframe.giphy-embed)",
        "GIF, sticker and clip URLs on giphy.com (/gifs/slug-ID, /stickers/slug-ID, /clips/slug-ID) and"
        " media.giphy.com/media/ID/giphy.gif",
        "not: channel, search and explore pages, gph.is short links, the via GIPHY link under an embed",
    )
    examples = (
        "https://giphy.com/embed/3o7TKBX7vWbc7Dhxcc",
        "https://giphy.com/gifs/cant-hardly-wait-kW8mnYSNkUYKc",
        "https://giphy.com/gifs/kW8mnYSNkUYKc",
        "https://giphy.com/stickers/happy-birthday-l0HlvtIPzPdt2usKs",
        "https://giphy.com/clips/studiosoriginals-3o7TKBX7vWbc7Dhxcc",
        "https://media.giphy.com/media/3o7TKBX7vWbc7Dhxcc/giphy.gif",
        "https://media2.giphy.com/media/v1.Y2lkPTc5MGI3NjEx/3o7TKBX7vWbc7Dhxcc/giphy.webp",
        "https://i.giphy.com/3o7TKBX7vWbc7Dhxcc.gif",
        "//giphy.com/embed/3o7TKBX7vWbc7Dhxcc?html5=true",
    )
    not_examples = (
        "https://giphy.com/studiosoriginals",
        "https://giphy.com/search/happy",
        "https://giphy.com/explore/cat",
        "https://giphy.com/gifs/",
        "https://gph.is/2dmQ0ye",
        "https://developers.giphy.com/docs/",
        "https://giphy.com/services/oembed?url=https%3A%2F%2Fgiphy.com%2Fgifs%2Fa-kW8mnYSNkUYKc",
        "https://giphy.com.evil.example/embed/3o7TKBX7vWbc7Dhxcc",
    )

    stem = "giphy"

    def parse_url(self, url: str) -> PostUrl | None:
        parts = split_url(url)
        if parts is None:
            return None
        segments = list(parts.segments)
        if _MEDIA_HOST.fullmatch(parts.host):
            return self._media(segments)
        if parts.host not in PAGE_HOSTS or len(segments) < 2:
            return None
        kind = segments[0]
        if kind == "embed" and len(segments) == 2:
            return self.post(segments[1])
        if kind in SLUGGED_KINDS and len(segments) in (2, 3):
            if len(segments) == 3 and segments[2] not in ("fullscreen", "tile", "html5"):
                return None
            match = _SLUG_ID.fullmatch(segments[1])
            return self.post(match.group("id")) if match else None
        return None

    def _media(self, segments: list[str]) -> PostUrl | None:
        """`/media/[v1.xxx/]ID/giphy.gif` on media hosts, `/ID.gif` on i.giphy.com."""
        if not segments:
            return None
        if len(segments) == 1:
            match = _MEDIA_FILE.fullmatch(segments[0])
            return self.post(match.group("id")) if match else None
        if segments[0] != "media" or len(segments) < 3:
            return None
        rest = segments[1:]
        if rest[0].startswith("v1."):
            rest = rest[1:]
        return self.post(rest[0]) if len(rest) == 2 else None

    def post(self, gif_id: str) -> PostUrl | None:
        if not _ID.fullmatch(gif_id):
            return None
        return PostUrl(self.name, gif_id, f"{CANONICAL_BASE}/gifs/{gif_id}")

    # ---- capture: markup (rung 1), oEmbed (2); the GIF by the pipeline ------------------------------
    def capture(self, ref: EmbedRef, ctx: CaptureContext) -> Capture:
        post = self.parse_url(ref.url or "")
        if post is None:
            return Capture(self.name, ref.post_id, ref.url, Outcome.AMBIGUOUS, "not a Giphy GIF URL")
        fields = markup_fields(ref)
        media: list[MediaRef] = []
        endpoint = ctx.url("oembed_endpoint", self.endpoints["oembed_endpoint"])
        rung = request_oembed(ctx, endpoint, post.url)
        data = rung.data
        if data is not None and data.get("type") == "photo" and url_field(data, "url") is None:
            rung = reclassified(rung, Outcome.AMBIGUOUS, "oEmbed: 200 but the photo answer has no GIF url")
        elif data is not None:
            oembed_fields(data, fields, media)  # a photo's `url` (the GIF) becomes image media
            handle = handle_from(url_field(data, "author_url"), PAGE_HOSTS.__contains__)
            if handle:
                fields["handle"] = Field(handle, "oembed")
        return assemble(self.name, post.post_id, post.url, [rung], fields, media)
