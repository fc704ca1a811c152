"""Imgur: images, albums and gallery posts (reference/providers.md section 14).

Detection: `blockquote.imgur-embed-pub[data-id]` (an image id, or `a/ID` for an album) with its loader
`s.imgur.com/min/embed.js`, the iframe embed.js renders (`imgur.com/ID/embed`, `imgur.com/a/ID/embed`),
and post URLs `imgur.com/ID`, `imgur.com/a/ID`, `imgur.com/gallery/ID` (also with the title slug newer
URLs carry: `imgur.com/gallery/some-title-ID`). Bare URLs, Gutenberg blocks and CKEditor tags are the
scanner's generic forms.

Not embeds: direct image files (`i.imgur.com/ID.jpg`: a picture in the page, not an embed), user, tag
and topic pages, the site's own pages (upload, signin, ...).

Id: the image id, `a/ID` for an album, `gallery/ID` for a gallery post (the prefix is kept: the same
characters name different things). URL: `https://imgur.com/` + the id.

Capture ladder: the article's markup, then `api.imgur.com/oembed` (no token). Its answer carries no
author and no thumbnail: the title is the text of the link in its `html` blockquote, and for a single
image the picture itself is `i.imgur.com/ID.jpg` (`image_base`), kept as image media.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archiver.providers.common.base import PostUrl, Provider, Sighting, has_class, squeeze
from archiver.providers.common.context import CaptureContext
from archiver.providers.common.ladder import (
    RungResult,
    assemble,
    markup_fields,
    oembed_fields,
    reclassified,
    request_oembed,
)
from archiver.providers.common.urlparts import split_url
from archiver.records import Capture, EmbedRef, Field, MarkupKind, MediaRef, Outcome
from archiver.sanitize import plain_text

CANONICAL_BASE = "https://imgur.com"
PAGE_HOSTS = frozenset({"imgur.com", "www.imgur.com", "m.imgur.com"})
# Single path segments that are Imgur's own pages, not image ids.
RESERVED = frozenset((
    "upload", "signin", "register", "privacy", "about", "apps", "emerald", "search", "random", "memegen",
    "vidgif", "rules", "store", "account", "settings", "discover", "contact", "logout", "community",
    "advertise", "removalrequest", "tos", "blog", "jobs", "help", "notifications", "gallery", "user",
    "topic", "hot", "new", "top", "favicon", "embed", "ccpa", "press", "careers", "download",
))  # fmt: skip

_ID = re.compile(r"[A-Za-z0-9]{5,10}")
# A newer gallery or album URL: the title slug, a dash, then the id.
_SLUG_ID = re.compile(r"(?:[^/?#\s]*-)?(?P<id>[A-Za-z0-9]{5,10})")
_DATA_ID = re.compile(r"(?:(?P<kind>a|gallery)/)?(?P<id>[A-Za-z0-9]{5,10})")


class Imgur(Provider):
    name = "imgur"
    title = "Imgur"
    hosts = frozenset({"imgur.com"})
    endpoints: ClassVar[Mapping[str, str]] = MappingProxyType(
        {"oembed_endpoint": "https://api.imgur.com/oembed", "image_base": "https://i.imgur.com"}
    )
    recognises = (
        "image, album and gallery post URLs on imgur.com (imgur.com/ID, /a/ID, /gallery/ID,"
        " /gallery/title-ID)",
        "the embed blockquote.imgur-embed-pub[data-id] with its embed.js loader, and the iframe it renders",
        "not: direct image files on i.imgur.com, user, tag and topic pages",
    )
    examples = (
        "https://imgur.com/X6rkCc5",
        "http://imgur.com/X6rkCc5?utm_source=x",
        "https://imgur.com/a/Q9bTmHE",
        "https://imgur.com/gallery/Q9bTmHE",
        "https://imgur.com/gallery/mountain-gorilla-right-before-he-punched-photographer-Q9bTmHE",
        "https://imgur.com/a/Q9bTmHE/embed?pub=true&ref=https%3A%2F%2Fexample.com&w=540",
        "//imgur.com/X6rkCc5/embed?pub=true",
        "https://m.imgur.com/X6rkCc5",
    )
    not_examples = (
        "https://i.imgur.com/X6rkCc5.jpg",
        "https://s.imgur.com/min/embed.js",
        "https://imgur.com/user/someone",
        "https://imgur.com/t/funny",
        "https://imgur.com/upload",
        "https://imgur.com/",
        "https://api.imgur.com/oembed?url=https://imgur.com/X6rkCc5",
        "https://imgur.com.evil.example/X6rkCc5",
    )

    markers = ("imgur-embed-pub",)  # the blockquote names its image in data-id
    stem = "imgur"
    element_tags = ("blockquote",)
    loader_scripts = ("imgur.com/min/embed.js",)

    # ---- URLs --------------------------------------------------------------------------------------
    def parse_url(self, url: str) -> PostUrl | None:
        parts = split_url(url)
        if parts is None or parts.host not in PAGE_HOSTS:
            return None
        segments = list(parts.segments)
        if segments[-1:] == ["embed"]:
            segments = segments[:-1]
        if len(segments) == 2 and segments[0] in ("a", "gallery"):
            match = _SLUG_ID.fullmatch(segments[1])
            return self.post(f"{segments[0]}/{match.group('id')}") if match else None
        if len(segments) == 1 and segments[0].lower() not in RESERVED:
            return self.post(segments[0])
        return None

    def post(self, text: str) -> PostUrl | None:
        """The image (`ID`), album (`a/ID`) or gallery post (`gallery/ID`) named by `text`."""
        match = _DATA_ID.fullmatch(text.strip())
        if match is None:
            return None
        kind = match.group("kind")
        post_id = f"{kind}/{match.group('id')}" if kind else match.group("id")
        return PostUrl(self.name, post_id, f"{CANONICAL_BASE}/{post_id}")

    # ---- markup ------------------------------------------------------------------------------------
    def read_element(self, node: LexborNode) -> Sighting | None:
        if not has_class(node, "imgur-embed-pub"):
            return None
        post = self.post(node.attrs.get("data-id") or "")
        if post is None:
            for link in node.css("a[href]"):
                post = self.parse_url(link.attrs.get("href") or "")
                if post is not None:
                    break
        return Sighting(self.name, post, MarkupKind.BLOCKQUOTE, node) if post is not None else None

    # ---- capture: markup (rung 1), oEmbed (2); the image file by the pipeline ----------------------
    def capture(self, ref: EmbedRef, ctx: CaptureContext) -> Capture:
        post = self.parse_url(ref.url or "")
        if post is None:
            return Capture(self.name, ref.post_id, ref.url, Outcome.AMBIGUOUS, "not an Imgur post URL")
        fields = markup_fields(ref)
        media: list[MediaRef] = []
        endpoint = ctx.url("oembed_endpoint", self.endpoints["oembed_endpoint"])
        rung = request_oembed(ctx, endpoint, post.url)
        if rung.data is not None:
            rung = self._read_oembed(rung, rung.data, ctx, fields, media)
        return assemble(self.name, post.post_id, post.url, [rung], fields, media)

    def _read_oembed(
        self,
        rung: RungResult,
        data: Mapping[str, Any],
        ctx: CaptureContext,
        fields: dict[str, Field],
        media: list[MediaRef],
    ) -> RungResult:
        shown = self.read_oembed_html(data.get("html"))
        if shown is None:
            return reclassified(rung, Outcome.AMBIGUOUS, "oEmbed: 200 but its html shows no Imgur post")
        oembed_fields(data, fields, media)
        shown_id, title = shown
        if title:
            fields["title"] = Field(title, "oembed")
        if "/" not in shown_id:  # a single image; albums and gallery posts have no one file
            base = ctx.url("image_base", self.endpoints["image_base"])
            media.append(MediaRef("image", f"{base}/{shown_id}.jpg", "oembed"))
        return rung

    def read_oembed_html(self, html: object) -> tuple[str, str | None] | None:
        """The id (`ID`, `a/ID`, `gallery/ID`) and title the oEmbed `html` blockquote shows; None when
        it shows no Imgur post."""
        if not isinstance(html, str):
            return None
        for node in LexborHTMLParser(html).css("blockquote"):
            sighting = self.read_element(node)
            if sighting is None or sighting.post is None:
                continue
            link = node.css_first("a[href]")
            title = squeeze(plain_text(link.inner_html or ""))[:1_000] if link is not None else ""
            if not title or title.startswith(("http://", "https://", "View post on")):
                return sighting.post.post_id, None
            return sighting.post.post_id, title
        return None
