"""Reddit: posts and comments (reference/providers.md section 9).

Detection: the two generations of the embed blockquote, `blockquote.reddit-embed-bq` (2024, loader
`embed.reddit.com/widgets.js`) and `blockquote.reddit-card` (up to 2021, loader
`embed.redditmedia.com/widgets/platform.js`), whose first link is the post; post and comment URLs on
reddit.com (any subdomain: www, old, np, new, m, amp) and the `redd.it/ID` short link; the rendered
iframes `embed.reddit.com/r/SUB/comments/ID/...` and `www.redditmedia.com/r/SUB/comments/ID/...`. Bare URLs,
Gutenberg blocks and CKEditor tags are the scanner's generic forms.

Not embeds: subreddit, user and wiki links, `/r/SUB/s/...` share links (they need a redirect to name a
post), and the widget script.

Id: the base-36 post id after `/comments/`; a comment embed is `POSTID/COMMENTID` (the comment is what
it shows). URL: `https://www.reddit.com/r/SUB/comments/ID/SLUG/` (`/user/NAME/` for a profile post, no
SLUG when the markup gives none, the comment id after it for a comment); `https://www.reddit.com/comments/ID/`
when only the id is known.

Capture: the article's markup, `www.reddit.com/oembed` (no token), then the public `.json` of the post
(or of the comment an embed shows); see the capture section at the end.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archiver.providers.common.base import MarkupFields, PostUrl, Provider, Sighting, has_class, node_text
from archiver.providers.common.context import CaptureContext
from archiver.providers.common.ladder import (
    RungResult,
    add_media,
    assemble,
    markup_fields,
    no_url,
    oembed_fields,
    reclassified,
    request_oembed,
    text_field,
    url_field,
)
from archiver.providers.common.public_api import (
    epoch_utc,
    error_object,
    fill,
    items,
    obj,
    one_line,
    put,
    request_json,
)
from archiver.providers.common.urlparts import split_url
from archiver.records import Capture, EmbedRef, Field, MarkupKind, MediaRef, Outcome
from archiver.sanitize import clean_html, plain_text

CANONICAL_BASE = "https://www.reddit.com"
# reddit.com subdomains that serve posts (not the media hosts: i.redd.it, v.redd.it, preview.redd.it).
PAGE_SUBDOMAINS = frozenset({"www", "old", "new", "np", "m", "amp", "i", "embed"})

_BASE36 = re.compile(r"[a-z0-9]{1,13}")
_NAME = re.compile(r"[A-Za-z0-9_-]{1,32}")
_SLUG = re.compile(r"[^/?#\s]{1,300}")


class Reddit(Provider):
    name = "reddit"
    title = "Reddit"
    hosts = frozenset({"reddit.com", "redditmedia.com", "redd.it"})
    endpoints: ClassVar[Mapping[str, str]] = MappingProxyType(
        {"oembed_endpoint": "https://www.reddit.com/oembed", "json_base": "https://www.reddit.com"}
    )
    recognises = (
        "post and comment URLs on reddit.com (/r/SUB/comments/ID/..., /user/NAME/comments/ID/...)"
        " and redd.it/ID",
        "the embed blockquotes blockquote.reddit-embed-bq (2024) and blockquote.reddit-card (up to 2021)"
        " with their widget scripts",
        "rendered embed iframes from embed.reddit.com and www.redditmedia.com",
        "not: subreddit, user and wiki links, /r/SUB/s/... share links",
    )
    examples = (
        "https://www.reddit.com/r/investing/comments/7pfpeq/buffett_on_cyrptocurrencies_i_can_say_almost_with/",
        "https://www.reddit.com/r/investing/comments/7pfpeq/buffett_on_cyrptocurrencies_i_can_say_almost_with/?ref_source=embed&ref=share",
        "https://old.reddit.com/r/aww/comments/4lwccv/someone_came_to_visit_woodchips_for_scale/",
        "https://www.reddit.com/r/aww/comments/4lwccv/someone_came_to_visit_woodchips_for_scale/d3qol9a",
        "https://www.reddit.com/r/aww/comments/4lwccv/comment/d3qol9a/",
        "https://www.reddit.com/user/dennisrieves/comments/7pfpeq/a_post/",
        "https://reddit.com/comments/7pfpeq",
        "https://redd.it/7pfpeq",
        "https://embed.reddit.com/r/investing/comments/7pfpeq/buffett/?embed=true&theme=dark",
        "https://www.redditmedia.com/r/aww/comments/4lwccv/someone_came_to_visit/?ref_source=embed&ref=share&embed=true",
        "https://www.reddit.com/gallery/4lwccv",
    )
    not_examples = (
        "https://www.reddit.com/r/investing/",
        "https://www.reddit.com/user/dennisrieves/",
        "https://www.reddit.com/r/investing/wiki/index",
        "https://www.reddit.com/r/investing/s/AbCdEfGh12",
        "https://embed.reddit.com/widgets.js",
        "https://embed.redditmedia.com/widgets/platform.js",
        "https://www.reddit.com/submit?url=https%3A%2F%2Fexample.com%2F",
        "https://i.redd.it/abcdef123456.jpg",
        "https://www.reddit.com.evil.example/r/a/comments/7pfpeq/x/",
    )

    stem = "redd"
    element_tags = ("blockquote",)
    loader_scripts = ("embed.reddit.com/widgets.js", "redditmedia.com/widgets/platform.js")

    # ---- URLs --------------------------------------------------------------------------------------
    def parse_url(self, url: str) -> PostUrl | None:
        parts = split_url(url)
        if parts is None:
            return None
        segments = list(parts.segments)
        if parts.host == "redd.it":
            return self.post(segments[0]) if len(segments) == 1 else None
        if not (_reddit_host(parts.host, "reddit.com") or _reddit_host(parts.host, "redditmedia.com")):
            return None
        prefix: list[str] = []
        if len(segments) >= 2 and segments[0] in ("r", "user", "u") and _NAME.fullmatch(segments[1]):
            prefix = ["r" if segments[0] == "r" else "user", segments[1]]
            segments = segments[2:]
        if len(segments) == 2 and segments[0] == "gallery" and not prefix:
            return self.post(segments[1])
        if len(segments) < 2 or segments[0] != "comments":
            return None
        slug = segments[2] if len(segments) >= 3 and _SLUG.fullmatch(segments[2]) else None
        comment = segments[3] if len(segments) >= 4 else None
        return self.post(segments[1], prefix, slug, comment)

    def post(
        self,
        post_id: str,
        prefix: list[str] | None = None,
        slug: str | None = None,
        comment: str | None = None,
    ) -> PostUrl | None:
        """The post (or one of its comments) with this id."""
        if not _BASE36.fullmatch(post_id) or (comment is not None and not _BASE36.fullmatch(comment)):
            return None
        tail = [slug or "_", comment] if comment else [slug] if slug else []
        path = "/".join([*(prefix or []), "comments", post_id, *tail])
        key = f"{post_id}/{comment}" if comment else post_id
        return PostUrl(self.name, key, f"{CANONICAL_BASE}/{path}/")

    # ---- markup ------------------------------------------------------------------------------------
    def read_element(self, node: LexborNode) -> Sighting | None:
        if not (has_class(node, "reddit-embed-bq") or has_class(node, "reddit-card")):
            return None
        post = None
        fields = MarkupFields()
        for link in node.css("a[href]"):
            href = link.attrs.get("href") or ""
            if post is None:
                post = self.parse_url(href)
                if post is not None:
                    fields = MarkupFields(caption=node_text(link) or None)
                    continue
            user = _user_link(href)
            if user is not None:
                fields = MarkupFields(handle=user, author_url=f"{CANONICAL_BASE}/user/{user}/").or_else(
                    fields
                )
        if post is None:
            return None
        created = (node.attrs.get("data-embed-created") or "").strip()
        if created:
            fields = MarkupFields(published=created[:40]).or_else(fields)
        return Sighting(self.name, post, MarkupKind.BLOCKQUOTE, node, fields)

    # ---- capture ----------------------------------------------------------------------------------
    # Ladder: the article's markup (rung 1: title, user, date), oEmbed (2: title and user), the public
    # `.json` of the post (3: Reddit's listing pair [post, comments]: title, text, user, time, preview
    # image; for a comment embed the comment's text, user and time). A post or comment deleted or removed
    # is gone, whatever oEmbed answers; Reddit's blocks (403, 429, an HTML page) are never a verdict.

    def capture(self, ref: EmbedRef, ctx: CaptureContext) -> Capture:
        post = self.parse_url(ref.url or "")
        if post is None:
            return no_url(self.name, ref, "a Reddit post")
        fields = markup_fields(ref)
        media: list[MediaRef] = []
        post_id, _, comment_id = post.post_id.partition("/")
        oembed = self._oembed_rung(post, ctx, fields, media)
        listed, taken_down = self._json_rung(post_id, comment_id or None, ctx, fields, media)
        if taken_down:
            # Reddit's oEmbed keeps answering 200 for a post its author deleted or moderators removed:
            # its answer is told, but only the listing speaks for the post then.
            return assemble(self.name, post.post_id, post.url, [listed], fields, media, (oembed,))
        return assemble(self.name, post.post_id, post.url, [oembed, listed], fields, media)

    def _oembed_rung(
        self, post: PostUrl, ctx: CaptureContext, fields: dict[str, Field], media: list[MediaRef]
    ) -> RungResult:
        endpoint = ctx.url("oembed_endpoint", self.endpoints["oembed_endpoint"])
        result = _reddit_error(request_oembed(ctx, endpoint, post.url), "oEmbed")
        if result.data is None:
            return result
        quotes = LexborHTMLParser(str(result.data.get("html", ""))).css("blockquote")
        if not any(self.read_element(quote) is not None for quote in quotes):
            return reclassified(result, Outcome.AMBIGUOUS, "oEmbed: 200 but its html holds no Reddit embed")
        oembed_fields(result.data, fields, media)  # title, author_name (the user name)
        user = text_field(result.data, "author_name")
        if user and _NAME.fullmatch(user) and user != DELETED:
            put(fields, "handle", user, "oembed")
            fill(fields, "author_url", f"{CANONICAL_BASE}/user/{user}/", "oembed")
        return result

    def _json_rung(
        self,
        post_id: str,
        comment_id: str | None,
        ctx: CaptureContext,
        fields: dict[str, Field],
        media: list[MediaRef],
    ) -> tuple[RungResult, bool]:
        """The `.json` rung, and whether it shows the post (or comment) taken down by its author or
        by moderators."""
        base = ctx.url("json_base", self.endpoints["json_base"])
        path = f"comments/{post_id}/_/{comment_id}" if comment_id else f"comments/{post_id}"
        result, data = request_json(ctx, f"{base}/{path}/.json", "json", ".json", expect=list)
        result = _reddit_error(result, ".json")
        if data is None:
            return result, False
        listed = _thing(data, 0, "t3", post_id)
        if listed is None:
            return reclassified(
                result, Outcome.AMBIGUOUS, ".json: 200 but the listing does not hold the post"
            ), False
        put(fields, "title", _clean(listed.get("title")), "json")
        shown = listed
        if comment_id:
            comment = _thing(data, 1, "t1", comment_id)
            if comment is None:
                return reclassified(
                    result, Outcome.AMBIGUOUS, ".json: 200 but the listing does not hold the comment"
                ), False
            shown = comment
        removed = _removal(shown, "body" if comment_id else "selftext")
        if removed:
            return reclassified(
                result, Outcome.GONE, f".json: the {'comment' if comment_id else 'post'} {removed}"
            ), True
        _thing_fields(shown, "body" if comment_id else "selftext", fields)
        if not comment_id:
            _post_media(listed, media)
        return result, False


def _reddit_host(host: str, domain: str) -> bool:
    if host == domain:
        return True
    return host.endswith("." + domain) and host.removesuffix("." + domain) in PAGE_SUBDOMAINS


def _user_link(href: str) -> str | None:
    parts = split_url(href)
    if parts is None or not _reddit_host(parts.host, "reddit.com"):
        return None
    segments = list(parts.segments)
    if len(segments) == 2 and segments[0] in ("user", "u") and _NAME.fullmatch(segments[1]):
        return segments[1]
    return None


# ---- capture: Reddit's listing JSON and error bodies ----------------------------------------------------

DELETED = "[deleted]"
REMOVED_TEXTS = frozenset({"[removed]", "[deleted]"})


def _thing(listings: list[Any], index: int, kind: str, thing_id: str) -> Mapping[str, Any] | None:
    """The data of the `kind` thing with id `thing_id` among the children of listing `index` of the pair
    Reddit answers for a post (`[post listing, comment listing]`)."""
    if len(listings) <= index:
        return None
    for child in items(obj(listings[index], "data"), "children"):
        data = obj(child, "data")
        if child.get("kind") == kind and data.get("id") == thing_id:
            return data
    return None


def _removal(thing: Mapping[str, Any], text_key: str) -> str | None:
    """How a post or comment was taken down, or None when it is still shown: `removed_by_category`
    (moderator, deleted, author, reddit, copyright_takedown...), or the "[deleted]" author with the
    "[removed]"/"[deleted]" text Reddit leaves in its place."""
    category = thing.get("removed_by_category")
    if isinstance(category, str) and category.strip():
        return f"was removed ({one_line(category, 40)})"
    if thing.get("author") == DELETED and str(thing.get(text_key, "")).strip() in REMOVED_TEXTS:
        return f"was deleted (author {DELETED}, text {str(thing.get(text_key)).strip()})"
    return None


def _thing_fields(thing: Mapping[str, Any], text_key: str, fields: dict[str, Field]) -> None:
    """Text, user and time of a post (t3) or comment (t1)."""
    author = thing.get("author")
    if isinstance(author, str) and _NAME.fullmatch(author) and author != DELETED:
        put(fields, "author_name", author, "json")
        put(fields, "handle", author, "json")
        put(fields, "author_url", f"{CANONICAL_BASE}/user/{author}/", "json")
    put(fields, "published", epoch_utc(thing.get("created_utc")), "json")
    rendered = thing.get(f"{text_key}_html")
    if isinstance(rendered, str) and rendered.strip():
        fragment = html.unescape(rendered)  # Reddit sends its rendered HTML entity-escaped
        if plain_text(fragment):
            put(fields, "text", plain_text(fragment), "json")
            put(fields, "text_html", clean_html(fragment), "json")
            return
    put(fields, "text", text_field(thing, text_key), "json")


def _post_media(post: Mapping[str, Any], media: list[MediaRef]) -> None:
    """The post's preview image (the source size) and its thumbnail ("self", "default", "nsfw" are not
    URLs and are dropped)."""
    found: list[MediaRef] = []
    for image in items(obj(post, "preview"), "images")[:1]:
        source = obj(image, "source")
        url = _clean_url(source.get("url"))
        if url:
            found.append(MediaRef("image", url, "json"))
    thumbnail = _clean_url(post.get("thumbnail"))
    if thumbnail:
        found.append(MediaRef("thumbnail", thumbnail, "json"))
    add_media(media, found)


def _clean(value: object) -> str | None:
    """A plain text field of Reddit's JSON (entity-escaped by Reddit: "&amp;"), unescaped and clipped."""
    return text_field({"v": html.unescape(value)}, "v") if isinstance(value, str) else None


def _clean_url(value: object) -> str | None:
    """An http(s) URL of Reddit's JSON, its "&amp;" unescaped."""
    return url_field({"v": html.unescape(value)}, "v") if isinstance(value, str) else None


def _reddit_error(result: RungResult, what: str) -> RungResult:
    """Reddit's error bodies (`{"reason": "private", "message": "Forbidden", "error": 403}`, `{"reason":
    "banned"}` with 404) keep the outcome of their status; their words are added to the reason."""
    if result.outcome is Outcome.OK or result.status is None or result.status < 400:
        return result
    body = error_object(result.body)
    said = " ".join(
        one_line(body[key], 60) for key in ("reason", "message") if isinstance(body.get(key), str)
    )
    return reclassified(result, result.outcome, f"{result.reason}: {said}") if said else result
