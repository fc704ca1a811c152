"""Pinterest: pins (reference/providers.md section 13).

Detection: the widget link `a[data-pin-do="embedPin"]` whose `href` is the pin (loaded by `pinit.js`),
AMP `amp-pinterest[data-do="embedPin"]`, the oEmbed iframe `assets.pinterest.com/ext/embed.html?id=ID`,
and pin URLs on pinterest.com and its country domains (`de.pinterest.com`, `pinterest.co.uk`, ...).
Bare URLs, Gutenberg blocks and CKEditor tags are the scanner's generic forms.

Not embeds: `data-pin-do` share buttons (`buttonPin`, `buttonBookmark`, `buttonFollow`, `none`, ...) and
`pin/create/` links; and, decided here, the profile and board widgets (`data-pin-do="embedUser"`,
`"embedBoard"`): they show whatever an account or board holds, like a timeline, not one post.

Id: the numeric pin id (`/pin/ID/`, `/pin/slug--ID/`). URL: `https://www.pinterest.com/pin/ID/`.

Capture ladder: the article's markup, then `www.pinterest.com/oembed.json` (no token): the pin's title,
its pinner (name, profile URL, handle) and its thumbnail image.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import ClassVar

from selectolax.lexbor import LexborNode

from archiver.providers.common.base import Page, PostUrl, Provider, Sighting
from archiver.providers.common.context import CaptureContext
from archiver.providers.common.ladder import (
    assemble,
    handle_from,
    markup_fields,
    oembed_fields,
    request_oembed,
    url_field,
)
from archiver.providers.common.urlparts import split_url
from archiver.records import Capture, EmbedRef, Field, MarkupKind, MediaRef, Outcome

CANONICAL_BASE = "https://www.pinterest.com"
# Country domains Pinterest serves pins on (besides xx.pinterest.com subdomains).
COUNTRY_DOMAINS = frozenset((
    "pinterest.com", "pinterest.co.uk", "pinterest.de", "pinterest.fr", "pinterest.es", "pinterest.it",
    "pinterest.at", "pinterest.ch", "pinterest.ca", "pinterest.com.au", "pinterest.com.mx", "pinterest.nz",
    "pinterest.ie", "pinterest.pt", "pinterest.se", "pinterest.dk", "pinterest.jp", "pinterest.kr",
    "pinterest.co.kr", "pinterest.cl", "pinterest.ph", "pinterest.ru", "pinterest.nl", "pinterest.be",
    "pinterest.in", "pinterest.com.br",
))  # fmt: skip
# Where the scanner looks for pins: each domain once (pinterest.com.au is found where pinterest.com is).
PLACE_NAMES = frozenset(
    d for d in COUNTRY_DOMAINS if not any(o != d and d.startswith(o) for o in COUNTRY_DOMAINS)
)
# What `data-pin-do` says for the one widget that shows a pin.
EMBED_PIN = "embedpin"

_PIN_ID = re.compile(r"(?:[\w-]+--)?(?P<id>\d{5,25})")
_SUBDOMAIN = re.compile(r"(?:www|[a-z]{2}(?:-[a-z]{2})?)")


class Pinterest(Provider):
    name = "pinterest"
    title = "Pinterest"
    hosts = PLACE_NAMES
    endpoints: ClassVar[Mapping[str, str]] = MappingProxyType(
        {"oembed_endpoint": "https://www.pinterest.com/oembed.json"}
    )
    recognises = (
        "pin URLs on pinterest.com and its country domains (/pin/ID/, /pin/slug--ID/)",
        'the pin widget a[data-pin-do="embedPin"] (pinit.js), AMP amp-pinterest, and the oEmbed iframe'
        " assets.pinterest.com/ext/embed.html?id=ID",
        "not: data-pin-do share buttons (buttonPin, buttonBookmark, none...), pin/create links, and the"
        " profile and board widgets (embedUser, embedBoard): they show an account, not a post",
    )
    examples = (
        "https://www.pinterest.com/pin/99360735500167749/",
        "https://pinterest.com/pin/99360735500167749",
        "https://de.pinterest.com/pin/99360735500167749/?nic_v3=1a",
        "https://www.pinterest.co.uk/pin/99360735500167749/",
        "https://www.pinterest.com/pin/autumn-wreath--99360735500167749/",
        "https://assets.pinterest.com/ext/embed.html?id=99360735500167749&src=oembed",
        "//assets.pinterest.com/ext/embed.html?id=99360735500167749",
    )
    not_examples = (
        "https://www.pinterest.com/brigittemagazin",
        "https://www.pinterest.com/kentbrew/art-i-wish-i-d-made/",
        "https://www.pinterest.com/pin/create/button/?url=https://example.com/&media=https://example.com/a.jpg",
        "https://assets.pinterest.com/js/pinit.js",
        "https://assets.pinterest.com/ext/embed.html?id=board",
        "https://pin.it/3abcDEF",
        "https://www.pinterest.com.evil.example/pin/99360735500167749/",
    )

    stem = "pinterest"
    element_tags = ("amp-pinterest",)
    loader_scripts = ("assets.pinterest.com/js/pinit", "pinterest.com/js/pinit")

    # ---- URLs --------------------------------------------------------------------------------------
    def parse_url(self, url: str) -> PostUrl | None:
        parts = split_url(url)
        if parts is None:
            return None
        if parts.host == "assets.pinterest.com":
            if parts.path != "/ext/embed.html":
                return None
            return self.post(parts.param("id") or "")
        if not _pin_host(parts.host):
            return None
        segments = list(parts.segments)
        if len(segments) < 2 or segments[0] != "pin":
            return None
        return self.post(segments[1])

    def post(self, text: str) -> PostUrl | None:
        """The pin named by `text` (an id, or the slug--id of a pin URL)."""
        match = _PIN_ID.fullmatch(text.strip())
        if match is None:
            return None
        pin = match.group("id")
        return PostUrl(self.name, pin, f"{CANONICAL_BASE}/pin/{pin}/")

    # ---- markup ------------------------------------------------------------------------------------
    def read_element(self, node: LexborNode) -> Sighting | None:
        if (node.attrs.get("data-do") or "").strip().lower() != EMBED_PIN:
            return None
        post = self.parse_url(node.attrs.get("data-url") or "")
        return Sighting(self.name, post, MarkupKind.AMP, node) if post is not None else None

    def detect(self, page: Page) -> Iterable[Sighting]:
        """The pin widgets: links whose `data-pin-do` is embedPin (buttons and the profile and board
        widgets say otherwise)."""
        for link in page.tree.css("a[data-pin-do]"):
            if (link.attrs.get("data-pin-do") or "").strip().lower() != EMBED_PIN:
                continue
            post = self.parse_url(link.attrs.get("href") or "")
            if post is not None:
                yield Sighting(self.name, post, MarkupKind.DIV, link)

    # ---- capture: markup (rung 1), oEmbed (2); the thumbnail by the pipeline -------------------------
    def capture(self, ref: EmbedRef, ctx: CaptureContext) -> Capture:
        post = self.parse_url(ref.url or "")
        if post is None:
            return Capture(self.name, ref.post_id, ref.url, Outcome.AMBIGUOUS, "not a Pinterest pin URL")
        fields = markup_fields(ref)
        media: list[MediaRef] = []
        endpoint = ctx.url("oembed_endpoint", self.endpoints["oembed_endpoint"])
        rung = request_oembed(ctx, endpoint, post.url)
        if rung.data is not None:
            oembed_fields(rung.data, fields, media)
            handle = handle_from(url_field(rung.data, "author_url"), _pin_host)
            if handle:
                fields["handle"] = Field(handle, "oembed")
        return assemble(self.name, post.post_id, post.url, [rung], fields, media)


def _pin_host(host: str) -> bool:
    for domain in COUNTRY_DOMAINS:
        if host == domain:
            return True
        if host.endswith("." + domain) and _SUBDOMAIN.fullmatch(host.removesuffix("." + domain)):
            return True
    return False
