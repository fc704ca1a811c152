"""Bluesky: posts of the AT Protocol's app.bsky.feed.post collection (reference/providers.md section 7).

Detection: the official blockquote (`blockquote.bluesky-embed[data-bluesky-uri="at://DID/app.bsky.feed.post/
RKEY"][data-bluesky-cid]` + `embed.bsky.app/static/embed.js`), the iframe `embed.bsky.app/embed/DID/
app.bsky.feed.post/RKEY`, post URLs `bsky.app/profile/ACTOR/post/RKEY` in the generic forms, and the
residue "— Name (@handle.domain) [date]" an embed leaves when its script never ran and its links were
stripped (Bluesky handles are domain names, which tells them from tweets). The corpus holds no real page
with a Bluesky embed: the tests are synthetic or use the one recorded snippet (fixture
`bluesky/article-blockquote-bluesky-embed-ja.html`).

Id: "ACTOR/RKEY", the actor being the DID or the handle as the markup writes it (lower case).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import ClassVar
from urllib.parse import unquote

from selectolax.lexbor import LexborNode

from archiver.providers.attribution import DASHES, block_lines, handle_after_dash, iso_date
from archiver.providers.base import NO_FIELDS, MarkupFields, PostUrl, Provider, Sighting, has_class, squeeze
from archiver.records import MarkupKind

CANONICAL_BASE = "https://bsky.app"
COLLECTION = "app.bsky.feed.post"

# An actor: a DID (did:plc:..., did:web:...) or a handle (a domain name).
_DID = r"did:(?:plc|web):[A-Za-z0-9._:%-]{1,200}"
_HANDLE = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))+"
_ACTOR = rf"(?P<actor>{_DID}|{_HANDLE})"
# A Bluesky handle (a domain name) as the page source writes it in an attribution line.
_HANDLE_IN_SOURCE = re.compile(rf"\(@{_HANDLE}\)")
_RKEY = r"(?P<rkey>[A-Za-z0-9._~:-]{1,512})"
_WEB_URL = re.compile(
    r"\s*(?:https?:)?(?://)?(?P<host>(?:www\.|staging\.)?bsky\.app|embed\.bsky\.app)(?::\d+)?"
    r"(?P<path>/[^?#\s]*)?",
    re.IGNORECASE,
)
# What follows a post path is not part of the URL (a "[/embed]" shortcode end, punctuation).
_END = r"/?(?![A-Za-z0-9._~:/-])"
_PROFILE_POST = re.compile(rf"/profile/{_ACTOR}/post/{_RKEY}{_END}")
_EMBED_PATH = re.compile(rf"/embed/{_ACTOR}/{re.escape(COLLECTION)}/{_RKEY}{_END}")
_AT_URI = re.compile(rf"\s*at://{_ACTOR}/{re.escape(COLLECTION)}/{_RKEY}\s*")
# The attribution line: dash, display name, (@handle.domain), and maybe the date ("Apr 21, 2024 at 15:09").
_ATTRIBUTION = re.compile(
    rf"[{DASHES}]\s*(?P<name>[^{DASHES}\n]{{0,100}}?)\s*\(\s*@(?P<handle>{_HANDLE})\s*\)"
    r"\s*(?P<date>[^\n()]{0,60})$"
)
_LINK_PLACEHOLDER = "[image or embed]"


class Bluesky(Provider):
    name = "bluesky"
    title = "Bluesky"
    hosts = frozenset({"bsky.app"})
    endpoints: ClassVar[Mapping[str, str]] = MappingProxyType(
        {
            "oembed_endpoint": "https://embed.bsky.app/oembed",
            # The public AppView (app.bsky.feed.getPostThread, app.bsky.actor.getProfile), read later.
            "appview_base": "https://public.api.bsky.app",
        }
    )
    recognises = (
        "post URLs bsky.app/profile/ACTOR/post/RKEY (handle or DID) and at://DID/app.bsky.feed.post/RKEY",
        "the official embed blockquote (blockquote.bluesky-embed with data-bluesky-uri) and its iframe",
        "Gutenberg, CKEditor, placeholder and bare-URL embeds of post URLs",
        '"— Name (@handle.domain)" left behind by an embed whose script never ran',
    )
    examples = (
        "https://bsky.app/profile/did:plc:tjf4apt65s75xiojhiqzvcan/post/3kqmooj3ems2w",
        "https://bsky.app/profile/did:plc:tjf4apt65s75xiojhiqzvcan/post/3kqmooj3ems2w?ref_src=embed",
        "https://bsky.app/profile/attakei.dev/post/3kqmooj3ems2w",
        "https://bsky.app/profile/emilyliu.me/post/3jzn6g7ixgq2y",
        "https://embed.bsky.app/embed/did:plc:tjf4apt65s75xiojhiqzvcan/app.bsky.feed.post/3kqmooj3ems2w",
        "at://did:plc:tjf4apt65s75xiojhiqzvcan/app.bsky.feed.post/3kqmooj3ems2w",
    )
    not_examples = (
        "https://bsky.app/profile/attakei.dev",
        "https://bsky.app/profile/did:plc:tjf4apt65s75xiojhiqzvcan?ref_src=embed",
        "https://bsky.app/profile/attakei.dev/feed/whats-hot",
        "https://bsky.app/profile/attakei.dev/lists/3kqmooj3ems2w",
        "https://embed.bsky.app/static/embed.js",
        "https://cdn.bsky.app/img/feed_thumbnail/plain/did:plc:abc/bafkrei@jpeg",
        "at://did:plc:tjf4apt65s75xiojhiqzvcan/app.bsky.feed.like/3kqmooj3ems2w",
        "https://notbsky.app/profile/attakei.dev/post/3kqmooj3ems2w",
    )

    stem = "bsky"
    # An embed blockquote carries its AT-URI (no bsky.app host when its links were stripped).
    markers = (COLLECTION,)
    element_tags = ("blockquote",)
    loader_scripts = ("embed.bsky.app/static/embed.js",)
    residue_markers = ("(@",)
    residue_phrases = ("—", "–")  # as the tree reads the dash

    # ---- URLs --------------------------------------------------------------------------------------
    def parse_url(self, url: str) -> PostUrl | None:
        if url.lstrip().lower().startswith("at://"):
            match = _AT_URI.fullmatch(url)
            return self.post(match.group("actor"), match.group("rkey")) if match else None
        web = _WEB_URL.match(url)
        if web is None or not web.group("path"):
            return None
        path = web.group("path")
        pattern = _EMBED_PATH if web.group("host").lower() == "embed.bsky.app" else _PROFILE_POST
        match = pattern.match(unquote(path))
        return self.post(match.group("actor"), match.group("rkey")) if match else None

    def post(self, actor: str, rkey: str) -> PostUrl | None:
        """The post `rkey` of `actor` (a DID or a handle)."""
        if rkey in (".", ".."):
            return None
        actor = actor.lower()
        return PostUrl(self.name, f"{actor}/{rkey}", f"{CANONICAL_BASE}/profile/{actor}/post/{rkey}")

    # ---- markup ------------------------------------------------------------------------------------
    def read_element(self, node: LexborNode) -> Sighting | None:
        if not (has_class(node, "bluesky-embed") or "data-bluesky-uri" in node.attrs):
            return None
        post = self.parse_url(node.attrs.get("data-bluesky-uri") or "")
        if post is None:
            for link in node.css("a[href]"):
                post = self.parse_url(link.attrs.get("href") or "")
                if post is not None:
                    break
        fields = self._blockquote_fields(node)
        if post is None:
            return Sighting(self.name, None, MarkupKind.RESIDUE, node, fields) if fields.handle else None
        return Sighting(self.name, post, MarkupKind.BLOCKQUOTE, node, fields)

    def _blockquote_fields(self, node: LexborNode) -> MarkupFields:
        lines = block_lines(node)
        if not lines:
            return NO_FIELDS
        last = lines[-1]
        match = _ATTRIBUTION.search(last)
        if match is None:
            return NO_FIELDS
        text_lines = [*lines[:-1], last[: match.start()]]
        caption = "\n".join(
            cleaned for line in text_lines if (cleaned := line.removesuffix(_LINK_PLACEHOLDER).strip())
        )
        return MarkupFields(
            author_name=squeeze(match.group("name")) or None,
            handle=match.group("handle").lower(),
            published=_date(match.group("date")),
            caption=caption or None,
        )

    # ---- residue -----------------------------------------------------------------------------------
    def residue_phrases_near_markers(self, text: str, skip: Callable[[int], bool] | None = None) -> list[str]:
        # The dash is looked for in the source in all its spellings; the tree reads it decoded.
        return list(self.residue_phrases) if handle_after_dash(text, _HANDLE_IN_SOURCE, skip) else []

    def read_residue(self, text: str) -> MarkupFields | None:
        """'— Name (@handle.domain)' at the end of `text`, maybe followed by the date. A handle without a
        dot is a tweet's; anything after the handle other than a date is prose."""
        match = _ATTRIBUTION.search(squeeze(text))
        if match is None:
            return None
        date = match.group("date").strip()
        published = _date(date)
        if date and published is None:
            return None
        return MarkupFields(
            author_name=squeeze(match.group("name")) or None,
            handle=match.group("handle").lower(),
            published=published,
        )


def _date(text: str) -> str | None:
    text = text.strip()
    return iso_date(text) if text else None
