"""Threads: posts on threads.com (formerly threads.net) (reference/providers.md section 6).

Detection: the official blockquote (`blockquote.text-post-media[data-text-post-permalink]`, loaded by
`threads.com/embed.js` or `threads.net/embed.js`), and post URLs in the generic forms (the `/embed/`
iframe page, Gutenberg blocks, bare URL lines, CKEditor `<oembed>`, placeholders). The corpus holds no real
page with a Threads embed: the tests are synthetic, written from the documented markup.

Post URLs: `/@user/post/CODE` and `/t/CODE` on both domains (www. or not); the id is the post code.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archiver.providers.common.base import MarkupFields, PostUrl, Provider, Sighting, has_class, node_text
from archiver.providers.common.context import CaptureContext
from archiver.providers.common.ladder import (
    RungResult,
    assemble,
    markup_fields,
    no_url,
    oembed_fields,
    oembed_rung,
    reclassified,
)
from archiver.providers.common.meta import graph_outcome
from archiver.providers.common.public_api import put
from archiver.records import Capture, EmbedRef, Field, MarkupKind, MediaRef, Outcome

CANONICAL_BASE = "https://www.threads.com"
BLOCKQUOTE_CLASSES = ("text-post-media", "text-post-embed")

_URL = re.compile(
    r"\s*(?:https?:)?(?://)?(?P<host>(?:www\.)?threads\.(?:com|net))(?::\d+)?(?P<path>/[^?#\s]*)?",
    re.IGNORECASE,
)
_POST_PATH = re.compile(
    r"/(?:@(?P<user>[A-Za-z0-9._]{1,30})/post|t)/(?P<code>[A-Za-z0-9_-]{5,64})(?:/(?:embed|media))?/?(?![\w/.-])"
)
_POST_BY = re.compile(r"@(?P<handle>[A-Za-z0-9._]{1,30})")


class Threads(Provider):
    name = "threads"
    title = "Threads"
    hosts = frozenset({"threads.com", "threads.net"})
    endpoints: ClassVar[Mapping[str, str]] = MappingProxyType(
        {"oembed_endpoint": "https://graph.threads.net/v1.0/oembed"}
    )
    default_rate = "1000/h"  # tokenless Meta oEmbed since 2026-06-15
    recognises = (
        "post URLs on threads.com and threads.net (/@user/post/CODE, /t/CODE, the /embed/ page)",
        "the official embed blockquote (blockquote.text-post-media with data-text-post-permalink)",
        "Gutenberg, CKEditor, placeholder, iframe and bare-URL embeds of those URLs",
    )
    examples = (
        "https://www.threads.com/@zuck/post/C8XyZ_abc12",
        "https://www.threads.net/@zuck/post/C8XyZ_abc12?xmt=AQGz",
        "https://threads.net/@mosseri/post/CuXFPIeLLod/",
        "https://www.threads.com/t/CuXFPIeLLod",
        "https://www.threads.net/@mosseri/post/CuXFPIeLLod/embed/",
    )
    not_examples = (
        "https://www.threads.com/@zuck",
        "https://www.threads.net/@zuck/",
        "https://www.threads.com/embed.js",
        "https://www.threads.com/search?q=cats",
        "https://www.threads.com/@zuck/post/",
        "https://notthreads.net/@zuck/post/C8XyZ_abc12",
    )

    stem = "threads."
    element_tags = ("blockquote",)
    loader_scripts = ("threads.com/embed.js", "threads.net/embed.js")

    # ---- URLs --------------------------------------------------------------------------------------
    def parse_url(self, url: str) -> PostUrl | None:
        match = _URL.match(url)
        if match is None or not match.group("path"):
            return None
        post = _POST_PATH.match(match.group("path"))
        if post is None:
            return None
        user, code = post.group("user", "code")
        if user:
            return PostUrl(self.name, code, f"{CANONICAL_BASE}/@{user}/post/{code}")
        return PostUrl(self.name, code, f"{CANONICAL_BASE}/t/{code}")

    # ---- markup ------------------------------------------------------------------------------------
    def read_element(self, node: LexborNode) -> Sighting | None:
        is_embed = any(has_class(node, token) for token in BLOCKQUOTE_CLASSES)
        if not (is_embed or "data-text-post-permalink" in node.attrs):
            return None
        post = self.parse_url(node.attrs.get("data-text-post-permalink") or "")
        if post is None:
            for link in node.css("a[href]"):
                post = self.parse_url(link.attrs.get("href") or "")
                if post is not None:
                    break
        if post is None:
            return None
        return Sighting(self.name, post, MarkupKind.BLOCKQUOTE, node, _fields(node, post))

    # ---- capture ----------------------------------------------------------------------------------
    # Ladder: the article's markup (rung 1: the handle), then Graph oEmbed (2), tokenless since 2026-06
    # (1,000 calls an hour) or with a token from `access_token_env`. It sends only html (the handle in its
    # permalink); Graph error answers are read as for Instagram (archiver.providers.common.meta). No public
    # source gives the text (reference/providers.md section 6).

    def capture(self, ref: EmbedRef, ctx: CaptureContext) -> Capture:
        post = self.parse_url(ref.url or "")
        if post is None:
            return no_url(self.name, ref, "a Threads post")
        fields = markup_fields(ref)
        media: list[MediaRef] = []
        rung = self._oembed_rung(post, ctx, fields, media)
        return assemble(self.name, post.post_id, post.url, [rung], fields, media)

    def _oembed_rung(
        self, post: PostUrl, ctx: CaptureContext, fields: dict[str, Field], media: list[MediaRef]
    ) -> RungResult:
        result = graph_outcome(oembed_rung(ctx, self.endpoints["oembed_endpoint"], post.url))
        if result.data is None:
            return result
        for quote in LexborHTMLParser(str(result.data.get("html", ""))).css("blockquote"):
            shown = self.read_element(quote)
            if shown is None or shown.post is None:
                continue
            if shown.post.post_id != post.post_id:
                return reclassified(result, Outcome.AMBIGUOUS, "oEmbed: 200 but its html shows another post")
            put(fields, "handle", shown.fields.handle, "oembed")
            break
        oembed_fields(result.data, fields, media)  # author and thumbnail, should Meta send them again
        return result


def _fields(node: LexborNode, post: PostUrl) -> MarkupFields:
    """The embed says whose post it is ("Post by @user"); the permalink says it too."""
    match = re.search(r"/@([A-Za-z0-9._]{1,30})/post/", post.url)
    handle = match.group(1) if match else None
    if handle is None:
        found = _POST_BY.search(node_text(node))
        handle = found.group("handle") if found else None
    return MarkupFields(handle=handle)
