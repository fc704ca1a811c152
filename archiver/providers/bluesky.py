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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from types import MappingProxyType
from typing import Any, ClassVar
from urllib.parse import unquote, urlencode

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archiver.providers.common.attribution import DASHES, block_lines, handle_after_dash, iso_date
from archiver.providers.common.base import (
    NO_FIELDS,
    MarkupFields,
    PostUrl,
    Provider,
    Sighting,
    has_class,
    squeeze,
)
from archiver.providers.common.context import CaptureContext
from archiver.providers.common.ladder import (
    RungResult,
    add_media,
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
            # The public AppView: app.bsky.feed.getPosts and com.atproto.identity.resolveHandle (capture).
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
    shell_classes = ("bluesky-embed",)

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
    def residue_phrases_near_markers(
        self, text: str, skip: Callable[[int], bool] | None = None, offsets: Sequence[int] | None = None
    ) -> list[str]:
        # The dash is looked for in the source in all its spellings; the tree reads it decoded.
        found = handle_after_dash(text, _HANDLE_IN_SOURCE, skip, offsets)
        return list(self.residue_phrases) if found else []

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

    # ---- capture ----------------------------------------------------------------------------------
    # Ladder: the article's markup (rung 1), oEmbed (2: author, and text and day from the blockquote in
    # its html), the public AppView (3: the post record through app.bsky.feed.getPosts, after
    # com.atproto.identity.resolveHandle when the id holds a handle: text, exact time, author, images).

    def capture(self, ref: EmbedRef, ctx: CaptureContext) -> Capture:
        post = self.parse_url(ref.url or "")
        if post is None:
            return no_url(self.name, ref, "a Bluesky post")
        actor, _, rkey = post.post_id.partition("/")
        fields = markup_fields(ref)
        media: list[MediaRef] = []
        oembed = self._oembed_rung(post, ctx, fields)
        before, appview, found_at = self._appview_rung(actor, rkey, ctx, fields, media)
        capture = assemble(self.name, post.post_id, post.url, [oembed, appview], fields, media, before)
        if found_at is None or found_at == actor:
            return capture
        # Found through a handle: the DID is the post's identity (a handle can move to another account).
        lasting = self.post(found_at, rkey)
        assert lasting is not None  # rkey was accepted above
        return replace(capture, lasting_id=lasting.post_id, lasting_url=lasting.url)

    def _oembed_rung(self, post: PostUrl, ctx: CaptureContext, fields: dict[str, Field]) -> RungResult:
        endpoint = ctx.url("oembed_endpoint", self.endpoints["oembed_endpoint"])
        result = _embedr_outcome(request_oembed(ctx, endpoint, post.url))
        if result.data is None:
            return result
        quote = next(
            (q for q in LexborHTMLParser(str(result.data.get("html", ""))).css("blockquote") if _is_embed(q)),
            None,
        )
        if quote is None:
            return reclassified(
                result, Outcome.AMBIGUOUS, "oEmbed: 200 but its html holds no post blockquote"
            )
        name, handle = _author(text_field(result.data, "author_name"))
        said = self._blockquote_fields(quote)
        put(fields, "author_name", name or said.author_name, "oembed")
        put(fields, "handle", handle or said.handle, "oembed")
        put(fields, "author_url", url_field(result.data, "author_url"), "oembed")
        put(fields, "published", said.published, "oembed")
        paragraph = quote.css_first("p")
        if paragraph is not None:
            for link in paragraph.css("a"):
                if link.text(strip=True) == _LINK_PLACEHOLDER:
                    link.decompose()
            fragment = paragraph.inner_html or ""
            if plain_text(fragment):
                put(fields, "text", plain_text(fragment), "oembed")
                put(fields, "text_html", clean_html(fragment), "oembed")
        return result

    def _appview_rung(
        self, actor: str, rkey: str, ctx: CaptureContext, fields: dict[str, Field], media: list[MediaRef]
    ) -> tuple[tuple[RungResult, ...], RungResult, str | None]:
        """The resolveHandle answer that led to the post (when there was one), the post's answer, and the
        DID the AppView found the post at (None unless it did)."""
        base = ctx.url("appview_base", self.endpoints["appview_base"])
        before: tuple[RungResult, ...] = ()
        did = actor
        if not actor.startswith("did:"):
            query = urlencode({"handle": actor})
            url = f"{base}/xrpc/com.atproto.identity.resolveHandle?{query}"
            resolved, data = request_json(ctx, url, "resolve_handle", "AppView resolveHandle")
            resolved = _xrpc_outcome(resolved, "AppView resolveHandle")
            if data is None:
                return before, resolved, None
            found = data.get("did")
            if not (isinstance(found, str) and _DID_ONLY.fullmatch(found)):
                no_did = "AppView resolveHandle: 200 but the JSON names no DID"
                return before, reclassified(resolved, Outcome.AMBIGUOUS, no_did), None
            did, before = found, (resolved,)
        uri = f"at://{did}/{COLLECTION}/{rkey}"
        url = f"{base}/xrpc/app.bsky.feed.getPosts?{urlencode({'uris': uri})}"
        result, data = request_json(ctx, url, "appview", "AppView getPosts")
        result = _xrpc_outcome(result, "AppView getPosts")
        if data is None:
            return before, result, None
        if not isinstance(data.get("posts"), list):
            return (
                before,
                reclassified(result, Outcome.AMBIGUOUS, "AppView getPosts: 200 but the JSON has no posts"),
                None,
            )
        posts = items(data, "posts")
        if not posts:
            return (
                before,
                reclassified(
                    result, Outcome.GONE, "AppView getPosts: post not found (no post for its AT-URI)"
                ),
                None,
            )
        view = posts[0]
        record, author = obj(view, "record"), obj(view, "author")
        uri_seen = view.get("uri")
        if not (isinstance(uri_seen, str) and uri_seen.endswith(f"/{COLLECTION}/{rkey}")):
            return (
                before,
                reclassified(result, Outcome.AMBIGUOUS, "AppView getPosts: 200 but for another post"),
                None,
            )
        if not (isinstance(record.get("text"), str) and isinstance(author.get("handle"), str)):
            return (
                before,
                reclassified(
                    result,
                    Outcome.AMBIGUOUS,
                    "AppView getPosts: 200 but the post has no record text or author",
                ),
                None,
            )
        _appview_fields(view, record, author, fields, media)
        # The post's identity only when the AppView names the very AT-URI asked for.
        return before, result, did if uri_seen == uri else None


def _date(text: str) -> str | None:
    text = text.strip()
    return iso_date(text) if text else None


# ---- capture: oEmbed author, embedr and XRPC errors, the AppView post view ------------------------------


def _is_embed(node: LexborNode) -> bool:
    return has_class(node, "bluesky-embed") or "data-bluesky-uri" in node.attrs


_DID_ONLY = re.compile(_DID)
_HANDLE_ONLY = re.compile(_HANDLE)
# oEmbed author_name: "Display Name (@handle)".
_AUTHOR = re.compile(rf"(?P<name>.*?)\s*\(@(?P<handle>{_HANDLE})\)\s*")


def _author(value: str | None) -> tuple[str | None, str | None]:
    """Display name and handle of an oEmbed `author_name` ("Display Name (@handle)")."""
    if not value:
        return None, None
    match = _AUTHOR.fullmatch(value)
    if match is None:
        return one_line(value), None
    return one_line(match.group("name")) or None, match.group("handle").lower()


def _embedr_outcome(result: RungResult) -> RungResult:
    """embed.bsky.app answers errors as plain text (reference/providers.md section 7): 404 "post not
    found" (gone), 403 "post is not publicly accessible" (ambiguous), 400 for a URL it cannot read, 501
    for what it does not implement (not a post, not JSON): never a server fault, so ambiguous."""
    if result.outcome is Outcome.OK or result.status is None or result.status < 400:
        return result
    said = one_line(result.body, 120)
    outcome = Outcome.AMBIGUOUS if result.status == 501 else result.outcome
    if not said and outcome is result.outcome:
        return result
    return reclassified(result, outcome, f"{result.reason}: {said}" if said else result.reason)


def _xrpc_outcome(result: RungResult, what: str) -> RungResult:
    """Refine an XRPC error answer (`{"error": NAME, "message": ...}`, the atproto HTTP API): a post that
    is not found is gone, a rate limit transient; a handle that no longer resolves (renamed or deleted
    account), a block or anything else stays what its status says (a 400 is ambiguous)."""
    if result.outcome is Outcome.OK or result.status is None or not 400 <= result.status < 500:
        return result
    body = error_object(result.body)
    name, message = one_line(body.get("error", ""), 60), one_line(body.get("message", ""))
    if not (name or message):
        return result
    said = f"{what}: {name or 'error'}" + (f": {message}" if message else "")
    if name == "NotFound" or message.lower().startswith("post not found"):
        return reclassified(result, Outcome.GONE, said)
    if name == "RateLimitExceeded":
        return reclassified(result, Outcome.TRANSIENT, said)
    return reclassified(result, result.outcome, said)


def _appview_fields(
    view: Mapping[str, Any],
    record: Mapping[str, Any],
    author: Mapping[str, Any],
    fields: dict[str, Field],
    media: list[MediaRef],
) -> None:
    """Fields and media of an app.bsky.feed.defs#postView (record app.bsky.feed.post)."""
    put(fields, "author_name", text_field(author, "displayName"), "appview")
    handle = author["handle"].strip().lower()
    if _HANDLE_ONLY.fullmatch(handle):
        put(fields, "handle", handle, "appview")
        put(fields, "author_url", f"{CANONICAL_BASE}/profile/{handle}", "appview")
    put(fields, "published", iso_utc(record.get("createdAt")), "appview")
    fill(fields, "text", text_field(record, "text"), "appview")
    add_media(media, [MediaRef(kind, url, "appview") for kind, url in _embed_media(obj(view, "embed"))])


def _embed_media(embed: Mapping[str, Any], depth: int = 0) -> list[tuple[str, str]]:
    """The media of an embed view (app.bsky.embed.images / video / external / recordWithMedia #view)."""
    kind = str(embed.get("$type", ""))
    found: list[tuple[str, str]] = []
    if kind.startswith("app.bsky.embed.images"):
        for image in items(embed, "images"):
            url = url_field(image, "fullsize") or url_field(image, "thumb")
            if url:
                found.append(("image", url))
    elif kind.startswith("app.bsky.embed.video"):
        url = url_field(embed, "thumbnail")
        if url:
            found.append(("thumbnail", url))
    elif kind.startswith("app.bsky.embed.external"):
        url = url_field(obj(embed, "external"), "thumb")
        if url:
            found.append(("thumbnail", url))
    elif kind.startswith("app.bsky.embed.recordWithMedia") and depth == 0:
        found.extend(_embed_media(obj(embed, "media"), depth + 1))
    return found
