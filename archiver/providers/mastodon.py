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
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, ClassVar
from urllib.parse import urlsplit

from selectolax.lexbor import LexborNode

from archiver.providers.common.attribution import block_lines
from archiver.providers.common.base import MarkupFields, PostUrl, Provider, Sighting, has_class
from archiver.providers.common.context import CaptureContext
from archiver.providers.common.ladder import (
    RungResult,
    assemble,
    iso_utc,
    markup_fields,
    no_url,
    reclassified,
    request_oembed,
    text_field,
    url_field,
)
from archiver.providers.common.public_api import (
    error_object,
    fill,
    items,
    obj,
    one_line,
    put,
    request_json,
)
from archiver.records import Capture, EmbedRef, Field, MarkupKind, MediaRef, Outcome
from archiver.sanitize import clean_html, plain_text

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

    # ---- capture ----------------------------------------------------------------------------------
    # Ladder: the article's markup (rung 1; a 4.3+ blockquote only names the account), the instance's
    # public statuses API (`/api/v1/statuses/ID`: text, time, author, media), then the instance's oEmbed
    # (`/api/oembed`: author). Every request goes to the post's own instance (the origin of its URL),
    # vetted by the SSRF guard like any other and counted against a budget per instance.

    # An instance in secure mode answers the statuses API 401 to anyone without a login, which says
    # nothing of the status, while its oEmbed needs no login and answers 404 only for a status that is
    # missing or not public (Mastodon's Api::BaseController and Api::OEmbedController): then the 404
    # decides, as `combine` ranks gone above ambiguous.

    def capture(self, ref: EmbedRef, ctx: CaptureContext) -> Capture:
        status = instance_status(ref)
        if status is None:
            return no_url(self.name, ref, "a Mastodon status")
        fields = markup_fields(ref)
        media: list[MediaRef] = []
        rungs = [self._status_rung(status, ctx, fields, media), self._oembed_rung(status, ctx, fields)]
        return assemble(self.name, ref.post_id, status.url, rungs, fields, media)

    def _status_rung(
        self, status: InstanceStatus, ctx: CaptureContext, fields: dict[str, Field], media: list[MediaRef]
    ) -> RungResult:
        url = f"{status.origin}/api/v1/statuses/{status.status_id}"
        result, data = request_json(ctx, url, "status_api", "statuses API")
        result = _mastodon_error(result)
        if data is None:
            return result
        shown = obj(data, "reblog") or data  # a boost shows the boosted status
        account = obj(shown, "account")
        if str(data.get("id", "")) != status.status_id:
            other = "statuses API: 200 but for another status"
            return reclassified(result, Outcome.AMBIGUOUS, other)
        if not (isinstance(shown.get("content"), str) and account and isinstance(account.get("acct"), str)):
            missing = "statuses API: 200 but the JSON has no content or account"
            return reclassified(result, Outcome.AMBIGUOUS, missing)
        _status_fields(shown, account, status.host, fields, media)
        return result

    def _oembed_rung(
        self, status: InstanceStatus, ctx: CaptureContext, fields: dict[str, Field]
    ) -> RungResult:
        result = _mastodon_error(request_oembed(ctx, f"{status.origin}/api/oembed", status.url))
        if result.data is not None:
            fill(fields, "author_name", text_field(result.data, "author_name"), "oembed")
            fill(fields, "author_url", url_field(result.data, "author_url"), "oembed")
        return result


# ---- capture: the instance, the status JSON, Mastodon's error bodies ----------------------------------


@dataclass(frozen=True, slots=True)
class InstanceStatus:
    """One status on its instance: where to ask (`origin`), the instance's host name, the status id."""

    origin: str
    host: str
    status_id: str
    url: str


def instance_status(ref: EmbedRef) -> InstanceStatus | None:
    """The instance and status of an embed: the origin of its URL (`https://HOST`), when the URL is a
    status URL and agrees with the id ("HOST/ID") the scan gave it."""
    url = ref.url or ""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host or "@" in parts.netloc:
        return None
    found = _STATUS_PATH.match(parts.path)
    if found is None or _TAIL.fullmatch(parts.path[found.end() :]) is None:
        return None
    status_id = found.group("id")
    if ref.post_id is not None and ref.post_id != f"{host}/{status_id}":
        return None
    return InstanceStatus(f"{parts.scheme}://{parts.netloc}", host, status_id, url)


def _mastodon_error(result: RungResult) -> RungResult:
    """Mastodon's error bodies (`{"error": "Record not found"}`, "This method requires an authenticated
    user") keep the outcome of their status (404 gone, 401/403 ambiguous, 429 transient): the words are
    added to the reason."""
    if result.outcome is Outcome.OK or result.status is None or result.status < 400:
        return result
    said = one_line(error_object(result.body).get("error", ""))
    return reclassified(result, result.outcome, f"{result.reason}: {said}") if said else result


def _status_fields(
    status: Mapping[str, Any],
    account: Mapping[str, Any],
    host: str,
    fields: dict[str, Field],
    media: list[MediaRef],
) -> None:
    """Fields and media of a Mastodon Status entity (docs.joinmastodon.org/entities/Status)."""
    content = status["content"]
    if plain_text(content):
        put(fields, "text", plain_text(content), "status_api")
        put(fields, "text_html", clean_html(content), "status_api")
    put(fields, "published", iso_utc(status.get("created_at")), "status_api")
    put(
        fields,
        "author_name",
        text_field(account, "display_name") or text_field(account, "username"),
        "status_api",
    )
    author_url = url_field(account, "url")
    put(fields, "author_url", author_url, "status_api")
    acct = account["acct"].strip().lstrip("@")
    domain = (urlsplit(author_url).hostname or host) if author_url else host
    handle = acct if "@" in acct else f"{acct}@{domain}"
    if _HANDLE_FULL.fullmatch(handle):
        put(fields, "handle", handle, "status_api")
    known = {m.url for m in media}
    for attachment in items(status, "media_attachments"):
        kind = attachment.get("type")
        found = []
        if kind == "image":
            found.append(("image", url_field(attachment, "url")))
        elif kind in ("video", "gifv"):
            found += [
                ("video", url_field(attachment, "url")),
                ("thumbnail", url_field(attachment, "preview_url")),
            ]
        else:  # audio, unknown: the preview image when there is one
            found.append(("thumbnail", url_field(attachment, "preview_url")))
        for media_kind, url in found:
            if url and url not in known:
                known.add(url)
                media.append(MediaRef(media_kind, url, "status_api"))


_HANDLE_FULL = re.compile(r"[A-Za-z0-9_]{1,30}@[A-Za-z0-9.-]{1,253}")
