"""Facebook: posts, photos and videos of pages, people and groups (reference/providers.md section 5).

Detection: post URLs in every form Facebook writes them (page posts, photos, videos, reels, `photo.php`,
`permalink.php` and `story.php`, group posts, `watch/?v=`), numeric ids and the opaque `pfbid0...` ids;
the JS SDK placeholders `div.fb-post` / `div.fb-video` (with or without their fallback blockquote, whose
"Posted by NAME on DATE" line is read), the `plugins/post.php` and `plugins/video.php` iframes (the post
is their `href` parameter, unwrapped), `video/embed?video_id=`, and AMP `amp-facebook`. Bare URLs,
Gutenberg blocks, CKEditor tags and consent placeholders are the scanner's generic forms.

Not embeds (no post behind them): the like, share, page, comments, follow and recommendations plugins,
`sharer.php` and `dialog/share`, embedded comments (`comment_id=`, `plugins/comment_embed.php`),
profiles, events, albums, `share/` and `fb.watch` short links (they need a redirect to name a post).

Ids: the number (or `pfbid...`) that names the post, photo or video: `/posts/ID`, the last number after
`/photos/`, `/videos/[slug/]ID`, `photo.php?fbid=ID`, `story_fbid=ID`, `video.php?v=ID`, `/reel/ID`.
URL: the post URL as the markup writes it, normalised like the corpus labels (https, lower-case host,
query reduced to `fbid`, `story_fbid`, `id` and `v`); plugin iframes give their decoded `href`.

Capture ladder: the article's markup, then Graph `oembed_post` (posts, photos) or `oembed_video` (videos,
reels), tokenless (1,000 calls per hour) or with a token. Since 2025-11 Meta answers with `html` only: the
post's text, author and date are read out of the fallback blockquote in that html with the same reader
as the article's markup ("Posted by NAME on DATE"). Graph error answers are read by `meta.graph_outcome`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import ClassVar

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archiver.providers.common.attribution import iso_date
from archiver.providers.common.base import (
    NO_FIELDS,
    MarkupFields,
    Page,
    PostUrl,
    Provider,
    Sighting,
    has_class,
    node_text,
    squeeze,
)
from archiver.providers.common.context import CaptureContext
from archiver.providers.common.ladder import (
    RungResult,
    assemble,
    markup_fields,
    oembed_fields,
    request_oembed,
    text_field,
)
from archiver.providers.common.meta import graph_outcome
from archiver.providers.common.urlparts import UrlParts, as_written, split_url
from archiver.records import Capture, EmbedRef, Field, MarkupKind, MediaRef, Outcome
from archiver.sanitize import clean_html, plain_text

# Query parameters that name the content (kept in URLs, like the corpus labels keep them).
CONTENT_PARAMS = ("fbid", "story_fbid", "id", "v")
# Subdomains that serve the same pages as www (locale subdomains such as de-de. are matched apart).
PAGE_SUBDOMAINS = frozenset(
    {"www", "m", "mbasic", "web", "touch", "mobile", "free", "d", "iphone", "business"}
)
# First path segments that are never a page or person name.
RESERVED_SEGMENTS = frozenset((
    "plugins", "sharer", "sharer.php", "share", "share.php", "dialog", "events", "hashtag", "help",
    "legal", "policies", "privacy", "login", "login.php", "l.php", "tr", "ads", "business", "pages",
    "gaming", "marketplace", "search", "settings", "media", "messages", "notifications", "friends",
    "bookmarks", "saved", "stories", "live", "fundraisers", "profile.php", "home.php", "photo.php",
    "photo", "video.php", "watch", "reel", "reels", "groups", "permalink.php", "story.php", "notes",
))  # fmt: skip
# Plugins whose `href` is the post they show; every other plugin (like, page, comments...) is chrome.
POST_PLUGINS = frozenset({"post.php", "video.php"})

_ID = r"(?:\d{5,25}|pfbid0?[A-Za-z0-9]{10,80})"
_POST_ID = re.compile(_ID)
_NUMERIC = re.compile(r"\d{5,25}")
_LOCALE = re.compile(r"[a-z]{2}-[a-z]{2}")
# `/{page}/posts/{id}`, `/{page}/videos/[slug or vb.N/]{id}`, `/{page}/activity/{id}`: the id is the
# segment after the kind (a ":0" suffix, as the SDK writes some, is not part of it).
_PAGE_ITEM = re.compile(r"(?P<id>" + _ID + r")(?::\d+)?")
# The "Posted by NAME on DATE" line of the SDK's fallback blockquote, in the languages it is written in.
POSTED_BY: tuple[str, ...] = (
    "Posted by",
    "Publiée par",
    "Publié par",
    "Gepostet von",
    "Gepubliceerd door",
    "Geplaatst door",
    "Publicado por",
    "Pubblicato da",
    "Opublikowany przez",
    "Opublikowane przez",
    "Publicerat av",
    "Lagt ut av",
    "Slået op af",
)
_POSTED_BY = re.compile(r"(?:^|\s)(?:" + "|".join(re.escape(p) for p in POSTED_BY) + r")\s*$")


class Facebook(Provider):
    name = "facebook"
    title = "Facebook"
    hosts = frozenset({"facebook.com"})
    endpoints: ClassVar[Mapping[str, str]] = MappingProxyType(
        {
            "oembed_endpoint": "https://graph.facebook.com/v26.0/oembed_post",
            "oembed_video_endpoint": "https://graph.facebook.com/v26.0/oembed_video",
        }
    )
    default_rate = "1000/h"
    recognises = (
        "post, photo, video and reel URLs of pages, people and groups on facebook.com (numeric and pfbid ids;"
        " photo.php, permalink.php, story.php, video.php, watch/?v=)",
        "the JS SDK placeholders div.fb-post and div.fb-video (and their fallback blockquote with"
        ' "Posted by NAME on DATE")',
        "plugins/post.php and plugins/video.php iframes (the post in their href), video/embed?video_id=,"
        " AMP amp-facebook, Gutenberg and CKEditor embeds of post URLs",
        "not: like, share, page, comments, follow and recommendations plugins, sharer.php, profiles, events",
    )
    examples = (
        "https://www.facebook.com/DwyersOfCork/posts/2800731780195723",
        "https://www.facebook.com/Sozialdemokratie/posts/928812574504508/",
        "https://www.facebook.com/CHCoteBasque/photos/a.182970021827953/1920722881385983/?type=3&theater",
        "https://www.facebook.com/unialesznoks/photos/pcb.3485430601537621/3485430308204317",
        "https://www.facebook.com/CHCoteBasque/posts/1920722881385983:0",
        "https://www.facebook.com/photo.php?fbid=3348617585198325&set=gm.1675022489341591&type=3",
        "https://www.facebook.com/photo/?fbid=3348617585198325&set=gm.1675022489341591",
        "https://www.facebook.com/permalink.php?story_fbid=10158000000000000&id=100044264924472",
        "https://m.facebook.com/story.php?story_fbid=pfbid02abcdefGHIJKLmnopQRSTuvwxyz123456789l&id=100064",
        "https://www.facebook.com/zuck/posts/pfbid02Kwv3HNcQkYDX1sGh2ZzQw6xsVNHrUz8V7hY2cTmGnUEhjuCVzY6XDbzq5Ujl",
        "https://www.facebook.com/elespectadorcom/videos/1321262654994930/",
        "https://www.facebook.com/Expo2020Dubai/videos/expo-live-hello-ruby/474308113397163/",
        "https://www.facebook.com/video.php?v=10153231379946729",
        "https://www.facebook.com/watch/?v=474308113397163",
        "https://www.facebook.com/reel/1234567890123456",
        "https://www.facebook.com/groups/rordevelopers/permalink/1675022489341591/",
        "https://www.facebook.com/plugins/post.php?href=https%3A%2F%2Fwww.facebook.com%2F20531316728%2Fposts%2F10154009990506729%2F&width=500",
        "https://www.facebook.com/plugins/video.php?height=314&href=https%3A%2F%2Fwww.facebook.com%2Felespectadorcom%2Fvideos%2F1321262654994930%2F&show_text=false&width=560&t=0",
        "https://www.facebook.com/video/embed?video_id=10153231379946729",
        "//de-de.facebook.com/SportoweFakty/posts/10158000000000001",
        "https://graph.facebook.com/100044264924472/posts/488827215936105/",
    )
    not_examples = (
        "https://www.facebook.com/Sozialdemokratie/",
        "https://www.facebook.com/profile.php?id=100044264924472",
        "https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fexample.com%2F",
        "https://www.facebook.com/sharer.php?u=https://example.com/",
        "https://facebook.com/share.php?u=https%3A%2F%2Fexample.com",
        "https://www.facebook.com/dialog/share?href=https%3A%2F%2Fexample.com&app_id=1",
        "https://www.facebook.com/plugins/like.php?href=http%3A%2F%2Fexample.com%2F&layout=button_count",
        "https://www.facebook.com/plugins/page.php?href=https%3A%2F%2Fwww.facebook.com%2Fspoe&tabs=timeline",
        "https://www.facebook.com/plugins/likebox.php?href=https%3A%2F%2Fwww.facebook.com%2Fspoe",
        "https://www.facebook.com/plugins/comments.php?href=https%3A%2F%2Fexample.com%2Farticle",
        "https://www.facebook.com/plugins/comment_embed.php?href=https%3A%2F%2Fwww.facebook.com%2Fa%2Fposts%2F123456789%3Fcomment_id%3D42",
        "https://www.facebook.com/a/posts/123456789?comment_id=42",
        "https://www.facebook.com/events/1796522527298459/",
        "https://www.facebook.com/media/set/?set=a.182970021827953",
        "https://www.facebook.com/share/p/1Abcd2EfGh/",
        "https://www.facebook.com/tr?id=308873179637050&ev=PageView&noscript=1",
        "https://graph.facebook.com/v2.9/3253470078012265/picture?type=large",
        "https://developers.facebook.com/docs/plugins/embedded-posts/",
        "https://connect.facebook.net/en_US/sdk.js#xfbml=1&version=v6.0",
        "https://www.facebook.com.evil.example/a/posts/123456789",
    )

    stem = "facebook"
    element_tags = ("blockquote", "amp-facebook")
    shell_classes = ("fb-post", "fb-video")
    loader_scripts = ("connect.facebook.net/",)

    # ---- URLs --------------------------------------------------------------------------------------
    def parse_url(self, url: str) -> PostUrl | None:
        parts = split_url(url)
        if parts is not None and parts.host == "graph.facebook.com":
            parts = _graph_to_www(parts)
        if parts is None or not self._page_host(parts.host):
            return None
        segments = list(parts.segments)
        if "plugins" in segments[:2]:
            return self._plugin(parts, segments)
        if segments[:2] == ["video", "embed"]:
            video = parts.param("video_id") or ""
            if not _NUMERIC.fullmatch(video):
                return None
            return PostUrl(self.name, video, f"https://www.facebook.com/video.php?v={video}")
        if parts.param("comment_id") is not None or parts.param("reply_comment_id") is not None:
            return None  # an embedded comment, not the post
        post_id = _post_id(parts, segments)
        if post_id is None:
            return None
        return PostUrl(self.name, post_id, as_written(parts, CONTENT_PARAMS))

    def _page_host(self, host: str) -> bool:
        if not host.endswith("facebook.com"):
            return False
        if host == "facebook.com":
            return True
        sub = host.removesuffix(".facebook.com")
        return sub in PAGE_SUBDOMAINS or _LOCALE.fullmatch(sub) is not None

    def _plugin(self, parts: UrlParts, segments: list[str]) -> PostUrl | None:
        """The post a `plugins/post.php` or `plugins/video.php` iframe shows (its decoded `href`)."""
        if segments[-1] not in POST_PLUGINS:
            return None
        href = parts.param("href")
        if not href or "/plugins/" in href:
            return None
        return self.parse_url(href)

    # ---- markup ------------------------------------------------------------------------------------
    def read_element(self, node: LexborNode) -> Sighting | None:
        if node.tag == "blockquote":
            return self._read_blockquote(node)
        if node.tag == "amp-facebook":
            post = self.parse_url(node.attrs.get("data-href") or "")
            return Sighting(self.name, post, MarkupKind.AMP, node) if post is not None else None
        return None

    def _read_blockquote(self, node: LexborNode) -> Sighting | None:
        """The SDK's fallback blockquote standing alone (its placeholder div stripped); inside a
        placeholder it is read with the placeholder (`detect`)."""
        if not has_class(node, "fb-xfbml-parse-ignore") or _placeholder(node.parent):
            return None
        post = self._post_in_blockquote(node)
        if post is None:
            return None
        return Sighting(self.name, post, MarkupKind.BLOCKQUOTE, node, self._blockquote_fields(node))

    def detect(self, page: Page) -> Iterable[Sighting]:
        """The SDK placeholders `div.fb-post` and `div.fb-video`: the post in `data-href` (else in the
        fallback blockquote inside), and what that blockquote says about it."""
        for node in page.tree.css(".fb-post, .fb-video"):
            if not _placeholder(node):
                continue
            blockquote = node.css_first("blockquote")
            post = self.parse_url(node.attrs.get("data-href") or "")
            if post is None and blockquote is not None:
                post = self._post_in_blockquote(blockquote)
            if post is not None:
                fields = self._blockquote_fields(blockquote) if blockquote is not None else NO_FIELDS
                yield Sighting(self.name, post, MarkupKind.DIV, node, fields)

    def _post_in_blockquote(self, node: LexborNode) -> PostUrl | None:
        """The post a fallback blockquote names: its `cite` (often a Graph API URL), else its last post
        link (the date)."""
        candidates = [node.attrs.get("cite") or ""]
        candidates += [link.attrs.get("href") or "" for link in reversed(node.css("a[href]"))]
        for candidate in candidates:
            post = self.parse_url(candidate)
            if post is not None:
                return post
        return None

    def _blockquote_fields(self, node: LexborNode) -> MarkupFields:
        """Author, author URL, date and text of a fallback blockquote ("<p>TEXT</p>Posted by
        <a>NAME</a> on <a>DATE</a>"); whatever of them is there."""
        author_link = None
        for link in node.css("a"):
            before = link.prev
            if before is not None and before.is_text_node and _POSTED_BY.search(before.text(deep=False)):
                author_link = link
                break
        if author_link is None:
            return NO_FIELDS
        author = node_text(author_link) or None
        href = (author_link.attrs.get("href") or "").strip()
        author_url = href if href.startswith(("https://", "http://")) else None
        after: list[str] = []
        sibling = author_link.next
        while sibling is not None and len(after) < 4:
            after.append(sibling.text(deep=True))
            sibling = sibling.next
        published = iso_date(squeeze(" ".join(after)), whole=False)
        paragraphs = [node_text(p) for p in node.css("p") if author_link.parent != p]
        caption = "\n\n".join(text for text in paragraphs if text) or None
        return MarkupFields(author_name=author, author_url=author_url, published=published, caption=caption)

    # ---- capture: markup (rung 1), Graph oembed_post or oembed_video (2), read out of its html ----
    def capture(self, ref: EmbedRef, ctx: CaptureContext) -> Capture:
        post = self.parse_url(ref.url or "")
        if post is None:
            return Capture(self.name, ref.post_id, ref.url, Outcome.AMBIGUOUS, "not a Facebook post URL")
        fields = markup_fields(ref)
        media: list[MediaRef] = []
        rung = self._oembed_rung(post, ctx, fields, media)
        return assemble(self.name, post.post_id, post.url, [rung], fields, media)

    def _oembed_rung(
        self, post: PostUrl, ctx: CaptureContext, fields: dict[str, Field], media: list[MediaRef]
    ) -> RungResult:
        key = "oembed_video_endpoint" if is_video_url(post.url) else "oembed_endpoint"
        params = {"omitscript": "true"}
        token = ctx.token()
        if token:
            params["access_token"] = token
        result = graph_outcome(request_oembed(ctx, ctx.url(key, self.endpoints[key]), post.url, params))
        if result.data is None:
            return result
        shown = self.read_oembed_html(result.data.get("html"))
        if shown is None:
            return RungResult(
                Outcome.AMBIGUOUS,
                "oEmbed: 200 but its html shows no Facebook post",
                result.status,
                result.response,
                body=result.body,
            )
        # Before 2025-11 Graph also sent author_name, author_url (sometimes relative) and thumbnails.
        oembed_fields(result.data, fields, media)
        relative = text_field(result.data, "author_url") or ""
        if "author_url" not in fields and re.fullmatch(r"/(?!/)[\w./-]{0,200}", relative):
            fields["author_url"] = Field(CANONICAL_BASE + relative, "oembed")  # "/groups/NAME/" (2020)
        # The post as the html shows it now wins over the legacy fields (a group photo's author_name
        # was the group; the blockquote names who posted it).
        fields.update({name: Field(value, "oembed") for name, value in shown.items()})
        return result

    def read_oembed_html(self, html: object) -> dict[str, str] | None:
        """Fields of the post an oEmbed `html` shows (author_name, author_url, published, text,
        text_html, title); None when the html shows no Facebook post at all (neither the SDK
        placeholder, nor its fallback blockquote, nor a post plugin iframe)."""
        if not isinstance(html, str):
            return None
        tree = LexborHTMLParser(html)
        placeholders = [node for node in tree.css(".fb-post, .fb-video") if _placeholder(node)]
        blockquote = None
        for node in tree.css("blockquote"):
            if has_class(node, "fb-xfbml-parse-ignore"):
                blockquote = node
                break
        if blockquote is None:
            iframes = [self.parse_url(node.attrs.get("src") or "") for node in tree.css("iframe")]
            return {} if placeholders or any(iframes) else None
        return _post_fields(self._blockquote_fields(blockquote), blockquote)


def _placeholder(node: LexborNode | None) -> bool:
    """Whether `node` is an SDK placeholder (`div.fb-post`, `div.fb-video`)."""
    return (
        node is not None and node.tag == "div" and (has_class(node, "fb-post") or has_class(node, "fb-video"))
    )


def _post_id(parts: UrlParts, segments: list[str]) -> str | None:
    """The id of the post, photo or video a facebook.com page URL names, if it names one."""
    if not segments:
        return None
    first = segments[0]
    if first in ("photo.php", "photo"):
        return _id_param(parts, "fbid")
    if first in ("permalink.php", "story.php"):
        return _id_param(parts, "story_fbid")
    if first == "video.php" or (first == "watch" and len(segments) == 1):
        return _id_param(parts, "v")
    if first in ("reel", "reels") and len(segments) >= 2:
        return segments[1] if _NUMERIC.fullmatch(segments[1]) else None
    if first == "groups" and len(segments) >= 4 and segments[2] in ("posts", "permalink"):
        return _item(segments[3])
    if first == "notes" and len(segments) >= 3:
        return segments[-1] if _NUMERIC.fullmatch(segments[-1]) else None
    if first in RESERVED_SEGMENTS or len(segments) < 3:
        return None
    kind = segments[1]
    if kind in ("posts", "activity"):
        return _item(segments[2])
    if kind == "videos":
        # /{page}/videos/{id}, /{page}/videos/{slug}/{id}, /{page}/videos/vb.{page id}/{id}
        numeric = [s for s in segments[2:4] if _NUMERIC.fullmatch(s)]
        return numeric[-1] if numeric else None
    if kind == "photos":
        # /{page}/photos/{id}, /{page}/photos/a.{album}/{id}, /{page}/photos/pcb.{post}/{id}
        rest = segments[2:4]
        if len(rest) == 2 and _NUMERIC.fullmatch(rest[1]):
            return rest[1]
        return rest[0] if len(rest) == 1 and _NUMERIC.fullmatch(rest[0]) else None
    return None


def _item(segment: str) -> str | None:
    match = _PAGE_ITEM.fullmatch(segment)
    return match.group("id") if match else None


def _id_param(parts: UrlParts, name: str) -> str | None:
    value = parts.param(name) or ""
    return value if _POST_ID.fullmatch(value) else None


def _graph_to_www(parts: UrlParts) -> UrlParts:
    """A Graph API object URL (`graph.facebook.com/{page}/posts/{id}/`, as the SDK's fallback blockquote
    cites its post) read as the facebook.com page URL it mirrors."""
    path = re.sub(r"^/v\d+\.\d+(?=/)", "", parts.path)
    return UrlParts("www.facebook.com", path, parts.query)


# ---- capture -------------------------------------------------------------------------------------------
CANONICAL_BASE = "https://www.facebook.com"


def is_video_url(url: str) -> bool:
    """Whether a post URL names a video (asked of `oembed_video`) rather than a post or photo."""
    parts = split_url(url)
    if parts is None:
        return False
    segments = list(parts.segments)
    if segments[:1] in (["video.php"], ["watch"], ["reel"], ["reels"]):
        return True
    return len(segments) >= 3 and segments[1] == "videos"


def _post_fields(found: MarkupFields, blockquote: LexborNode) -> dict[str, str]:
    """The snapshot fields of a fallback blockquote: what the markup reader found ("Posted by NAME on
    DATE"), its paragraphs as plain text and sanitised HTML, and a video's title (the link it opens with)."""
    fields = {
        "author_name": found.author_name,
        "author_url": found.author_url,
        "published": found.published,
    }
    paragraphs = [p for p in blockquote.css("p") if not _posted_by_in(p)]
    html = "".join(p.html or "" for p in paragraphs)
    if plain_text(html):
        fields["text"] = plain_text(html)
        fields["text_html"] = clean_html(html)
    first = blockquote.child
    while first is not None and first.is_text_node and not first.text(deep=False).strip():
        first = first.next
    if first is not None and first.tag == "a":
        fields["title"] = squeeze(plain_text(first.inner_html or ""))[:1_000] or None
    return {name: value for name, value in fields.items() if value}


def _posted_by_in(paragraph: LexborNode) -> bool:
    """Whether a paragraph is the "Posted by NAME on DATE" line rather than post text."""
    for link in paragraph.css("a"):
        before = link.prev
        if before is not None and before.is_text_node and _POSTED_BY.search(before.text(deep=False)):
            return True
    return False
