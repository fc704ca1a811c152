"""Mastodon (and fediverse servers that copy its URLs and embed code) (reference/providers.md section 8).

Any domain can be an instance, so an instance is recognised by Mastodon's own embed markup, never by its
host name alone:

* the official iframe `https://HOST/@user/ID/embed` (class `mastodon-embed`, loaded with `HOST/embed.js`),
  on any host: the `/@user/NUMERIC-ID/embed` path is Mastodon's own and is the only URL accepted from an
  unknown host;
* the Mastodon 4.3+ blockquote `blockquote.mastodon-embed[data-embed-url="https://HOST/@user/ID/embed"]`
  (it holds no post text, only "Post by @user@domain");
* status URLs `https://HOST/@user/ID` and `/users/user/statuses/ID` only on a few large instances whose
  names say Mastodon (`hosts`): those are the only places bare URLs, Gutenberg blocks and placeholders are
  looked for. A `/@user/123` URL on any other host is not claimed: Misskey, Calckey, PeerTube, Medium and
  plenty of sites use `/@user/...` paths, and an inline link to a toot is not an embed anyway.

The corpus holds no real page with a Mastodon embed: the tests are synthetic, written from the markup
Mastodon's oEmbed serializer emits. Id: "host/status-id" (status ids are per instance).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar

from selectolax.lexbor import LexborNode

from archiver.providers.attribution import block_lines
from archiver.providers.base import MarkupFields, PostUrl, Provider, Sighting, has_class
from archiver.records import MarkupKind

# Instances whose URLs are claimed without embed markup (bare URL lines, blocks, placeholders). All of them
# contain the stem, so the prefilter reads a page once.
KNOWN_INSTANCES = frozenset(
    {"mastodon.social", "mastodon.online", "mastodon.world", "mastodon.cloud", "mastodon.art"}
)

_URL = re.compile(
    r"\s*(?:https?:)?//(?P<host>[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}"
    r"[A-Za-z0-9])?)+)\.?(?::\d{1,5})?(?P<path>/[^?#\s]*)?",
    re.IGNORECASE,
)
# user: a local name, or user@domain for a remote account viewed on this instance.
_USER = r"[A-Za-z0-9_]{1,30}(?:@[A-Za-z0-9.-]{1,253})?"
_STATUS_PATH = re.compile(
    rf"/(?:@(?P<user>{_USER})|users/(?P<user2>[A-Za-z0-9_]{{1,30}})/statuses)/(?P<id>\d{{1,20}})"
)
# After the status id: nothing, "/", or "/embed" (what follows, such as "[/embed]", is not the URL's).
_TAIL = re.compile(r"(?P<embed>/embed)?/?(?![\w/-])")
# "Post by @user@domain" (the only words of a 4.3+ embed, in the reader's language: read the handle only).
_POST_BY = re.compile(rf".{{0,40}}@(?P<handle>{_USER})")


class Mastodon(Provider):
    name = "mastodon"
    title = "Mastodon"
    hosts = KNOWN_INSTANCES
    # Per instance: https://HOST/api/oembed and https://HOST/api/v1/statuses/ID, so no fixed endpoint.
    endpoints: ClassVar[Mapping[str, str]] = MappingProxyType({})
    # docs.joinmastodon.org/api/rate-limits: 300 requests per 5 minutes per IP, per instance.
    default_rate = "60/m"
    recognises = (
        "the official embed iframe https://INSTANCE/@user/ID/embed (iframe.mastodon-embed) on any instance",
        "the Mastodon 4.3+ embed blockquote (blockquote.mastodon-embed with data-embed-url)",
        "status URLs (/@user/ID, /users/user/statuses/ID) on large instances named mastodon.*",
    )
    examples = (
        "https://mastodon.social/@Gargron/109286127315012345",
        "https://mastodon.social/@Gargron/109286127315012345/embed",
        "https://mastodon.online/users/alice/statuses/110000000000000001",
        "https://fosstodon.org/@alice/109999999999999999/embed",
        "https://hachyderm.io/@bob@example.social/111222333444555666/embed",
    )
    not_examples = (
        "https://mastodon.social/@Gargron",
        "https://mastodon.social/@Gargron/with_replies",
        "https://mastodon.social/embed.js",
        "https://fosstodon.org/@alice/109999999999999999",
        "https://medium.com/@alice/1234567890",
        "https://example.com/@user/123",
    )

    stem = "mastodon"
    markers = ("mastodon-embed",)
    element_tags = ("blockquote",)
    # Each instance serves its own loader: https://HOST/embed.js.
    loader_scripts = ("/embed.js",)

    # ---- URLs --------------------------------------------------------------------------------------
    def parse_url(self, url: str) -> PostUrl | None:
        return self._parse(url, any_host=False)

    def _parse(self, url: str, any_host: bool) -> PostUrl | None:
        """A status URL; on an unknown host only the `/embed` page unless `any_host` (the URL comes from
        markup that says it is Mastodon's)."""
        match = _URL.match(url)
        if match is None or not match.group("path"):
            return None
        status = _STATUS_PATH.match(match.group("path"))
        if status is None:
            return None
        rest = match.group("path")[status.end() :]
        tail = _TAIL.match(rest)
        if tail is None:
            return None  # another page of the status (/reblogs, /favourites) or not a status id at all
        is_embed = tail.group("embed") is not None
        host = match.group("host").lower()
        if not (is_embed or any_host or host in KNOWN_INSTANCES):
            return None
        user = status.group("user") or status.group("user2")
        status_id = status.group("id")
        return PostUrl(self.name, f"{host}/{status_id}", f"https://{host}/@{user}/{status_id}")

    # ---- markup ------------------------------------------------------------------------------------
    def read_element(self, node: LexborNode) -> Sighting | None:
        if not has_class(node, "mastodon-embed"):
            return None
        post = self._parse(node.attrs.get("data-embed-url") or "", any_host=True)
        if post is None:
            for link in node.css("a[href]"):
                post = self._parse(link.attrs.get("href") or "", any_host=True)
                if post is not None:
                    break
        if post is None:
            return None
        found = next(filter(None, (_POST_BY.fullmatch(line) for line in block_lines(node))), None)
        fields = MarkupFields(handle=found.group("handle")) if found else MarkupFields()
        return Sighting(self.name, post, MarkupKind.BLOCKQUOTE, node, fields)
