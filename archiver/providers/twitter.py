"""X / Twitter: tweets (reference/providers.md section 2).

Detection, besides the generic forms the scanner finds with `parse_url` (rendered widget iframes
`platform.twitter.com/embed/Tweet.html?id=`, lazy iframes, Gutenberg blocks, bare URL lines, CKEditor
`<oembed>`, placeholders whose data-url/data-href/... is a status URL, consent placeholders resolved from
script data):

* the official blockquote (`blockquote.twitter-tweet` / `.twitter-video`, whatever other classes a consent
  manager or lazy loader adds), its status link the last one inside; author, handle, date and text read
  from it. One that lost its status link is the residue of an embed when its attribution line is left;
* `amp-twitter[data-tweetid]`;
* widgets already rendered by widgets.js: `twitter-widget`, iframes and divs with `data-tweet-id`;
* Substack's static tweets (`div.tweet[data-attrs]`, JSON holding the status URL, author and text);
* a publisher's own tweet blockquote (`blockquote.nojs-tweet`...) that ends with the status link;
* the markup of an embed kept as text until the reader agrees to load it: in a `<textarea>` or a template
  `<script>` (raw, JSON/JS-escaped, entity-escaped or base64), in a script inside a small consent
  container (WordPress "Embed Privacy"), or in an attribute of a lazy holder;
* residue: an unclassed blockquote or paragraph ending in "— Name (@handle) May 2, 2020", the text a tweet
  leaves when widgets.js never ran and the link was stripped.

Not embeds: `a.twitter-timeline` (timelines), share/intent/follow buttons, status links in running text.
"""

from __future__ import annotations

import base64
import datetime
import html
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import MappingProxyType
from typing import ClassVar
from urllib.parse import parse_qs

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archiver.providers.common.attribution import DASHES, block_lines, handle_after_dash, iso_date
from archiver.providers.common.base import NO_FIELDS, MarkupFields, Page, PostUrl, Provider, Sighting, squeeze
from archiver.providers.common.context import CaptureContext
from archiver.providers.common.ladder import (
    RungResult,
    assemble,
    markup_fields,
    no_url,
    oembed_fields,
    reclassified,
    request_oembed,
)
from archiver.providers.common.pagemeta import ArchivedPost, page_meta, web_url
from archiver.providers.common.public_api import fill, put
from archiver.providers.twitter_syndication import CANONICAL_BASE, syndication_rung, x_error_outcome
from archiver.records import Capture, EmbedRef, Field, MarkupKind, MediaRef, Outcome
from archiver.sanitize import clean_html, plain_text

# Class tokens of the official blockquote (tweets, and the video variant widgets.js also rendered).
BLOCKQUOTE_CLASSES = frozenset({"twitter-tweet", "twitter-video"})
# Elements a rendered widget can be (their `data-tweet-id` names the tweet).
RENDERED_TAGS = frozenset({"div", "article", "section", "figure"})
# Classes of the container widgets.js puts a rendered tweet in.
_RENDERED_CLASSES = frozenset({"twitter-tweet-rendered", "twitter-tweet"})
# Longest attribute value read as JSON (a Substack tweet's data-attrs holds the text and counts).
MAX_JSON_ATTRIBUTE = 200_000
# A template bigger than this is not an embed's.
MAX_TEMPLATE = 200_000
# What `detect` queries the tree for, when the page writes the attribute name at all.
_DETECT_SELECTORS = (("data-tweet-id", "[data-tweet-id]"), ("data-attrs", "div.tweet[data-attrs]"))
# Scripts of these types are code: read only inside a consent container (see `detect`).
CODE_TYPES = frozenset({"", "text/javascript", "application/javascript", "module"})
# Escapes of markup written as a JS or JSON string.
_JS_ESCAPES = (
    ("\\u003c", "<"), ("\\u003C", "<"), ("\\u003e", ">"), ("\\u003E", ">"), ("\\u0026", "&"),
    ("\\/", "/"), ('\\"', '"'), ("\\'", "'"), ("\\n", "\n"),
)  # fmt: skip
_BASE64 = re.compile(r"\s*[A-Za-z0-9+/]{40,}={0,2}\s*")
# Script types that hold markup for later rather than code (consent managers' templates).
TEMPLATE_TYPES = frozenset({"text/template", "text/html", "text/x-template", "text/x-tmpl", "text/plain"})
# A consent placeholder shows a sentence or two and a button; a bigger block is the article around it.
PLACEHOLDER_TAGS = frozenset({"div", "figure", "section", "aside", "span", "p"})
MAX_PLACEHOLDER_TEXT = 1_000

_URL = re.compile(
    r"\s*(?:https?:)?(?://)?(?P<host>(?:(?:www|m|mobile|platform)\.)?(?:twitter|x)\.com)(?=[/:?#\s]|$)(?::\d+)?"
    r"(?P<path>/[^?#\s]*)?(?:\?(?P<query>[^#\s]*))?(?:#(?P<fragment>\S*))?",
    re.IGNORECASE,
)
# A status page's og:title, in the languages Twitter served it in: "NAME on Twitter" ("on X" since 2023).
_OG_TITLE = re.compile(r"^(?P<name>.{1,120}?) (?:on|en|auf|sur|su|op|no|na) (?:Twitter|X)$", re.DOTALL)
_STATUS_PATH = re.compile(
    r"/(?:(?P<user>[A-Za-z0-9_]{1,20})/status(?:es)?|i/web/status|statuses|i/videos/tweet)"
    r"/(?P<id>\d{1,20})(?:/(?:photo|video)/\d{1,2})?/?(?![\w/-])",
    re.IGNORECASE,
)
_EMBED_PATH = re.compile(r"/embed/(?:Tweet|index)\.html", re.IGNORECASE)
_TWEET_ID = re.compile(r"\d{1,20}")
_HANDLE = r"\(\s*@(?P<handle>[A-Za-z0-9_]{1,15})\s*\)"
# A tweet's handle as the page source writes it in an attribution line.
_HANDLE_IN_SOURCE = re.compile(r"\(@[A-Za-z0-9_]{1,15}\)")
# The attribution line: dash, display name, handle, then the date (the text of the status link).
_ATTRIBUTION = re.compile(
    rf"[{DASHES}]\s*(?P<name>[^{DASHES}\n]{{0,100}}?)\s*" + _HANDLE + r"\s*(?P<date>[^\n()]{0,60})$"
)
_SUBSTACK_DATE = "%a %b %d %H:%M:%S %z %Y"


class Twitter(Provider):
    name = "twitter"
    title = "Twitter"
    hosts = frozenset({"twitter.com", "x.com"})
    endpoints: ClassVar[Mapping[str, str]] = MappingProxyType(
        {
            "oembed_endpoint": "https://publish.twitter.com/oembed",
            "syndication_base": "https://cdn.syndication.twimg.com",
        }
    )
    recognises = (
        "status URLs on twitter.com and x.com (www., mobile., m.; /status/, /statuses/, /i/web/status/)",
        "the official embed blockquote (blockquote.twitter-tweet, any language, with consent/lazy classes)",
        "widgets already rendered (platform.twitter.com/embed/Tweet.html iframes, data-tweet-id elements)",
        "AMP amp-twitter, Substack static tweets, embeds kept in consent templates (<textarea>, <script>)",
        "Gutenberg, CKEditor, placeholder and bare-URL embeds of status URLs",
        '"— Name (@handle) May 2, 2020" left behind by a tweet whose script never ran',
    )
    examples = (
        "https://twitter.com/realDonaldTrump/status/1256696015702425601",
        "https://twitter.com/elonmusk/status/1720918522082078752?ref_src=twsrc%5Etfw",
        "https://x.com/elonmusk/status/1720918522082078752",
        "https://mobile.twitter.com/DOSB/status/1489540934710743047",
        "https://twitter.com/i/web/status/1489540934710743047",
        "https://twitter.com/statuses/1489540934710743047",
        "http://twitter.com/#!/jack/status/20",
        "https://twitter.com/NASA/status/1311697819384844290/photo/1",
        "https://platform.twitter.com/embed/Tweet.html?dnt=false&id=790936002017755136&lang=en",
    )
    not_examples = (
        "https://twitter.com/elonmusk",
        "https://twitter.com/intent/tweet?text=hello&url=https%3A%2F%2Fexample.com",
        "https://twitter.com/share?url=https://example.com/",
        "https://twitter.com/hashtag/BoletaUnica?src=hash",
        "https://twitter.com/elonmusk/status/",
        "https://twitter.com/elonmusk/lists/123456",
        "https://platform.twitter.com/widgets.js",
        "https://pic.twitter.com/rAwAqq9xVt",
        "https://t.co/8AbBbONqBe",
        "https://nottwitter.com/elonmusk/status/1720918522082078752",
        "https://twitter.com.evil.example/elonmusk/status/1720918522082078752",
    )

    # amp-twitter holds only data-tweetid; rendered widgets only data-tweet-id.
    markers = ("data-tweet",)
    detect_markers = ("data-tweet-id",)  # a rendered widget may hold only the tweet id
    element_tags = ("blockquote", "amp-twitter", "iframe", "twitter-widget", "twitterwidget")
    loader_scripts = ("platform.twitter.com/widgets.js", "platform.x.com/widgets.js")
    residue_markers = ("(@",)
    residue_phrases = ("—", "–")  # as the tree reads the dash (the source may write &mdash; or &#8212;)
    shell_classes = ("twitter-tweet", "twitter-video")
    hint_words = ("tweet", "tweets", "tweeted", "Tweet", "tweete", "tweetete", "tuit", "tuiteó")

    # ---- URLs --------------------------------------------------------------------------------------
    def parse_url(self, url: str) -> PostUrl | None:
        match = _URL.match(url)
        if match is None:
            return None
        host = match.group("host").lower()
        path = match.group("path") or ""
        if host.startswith("platform."):
            return self._widget_url(path, match.group("query") or "")
        fragment = match.group("fragment") or ""
        if path in ("", "/") and fragment.startswith("!/"):
            path = fragment[1:]  # the old "#!" URLs: twitter.com/#!/user/status/ID
        status = _STATUS_PATH.match(path)  # what follows a status path is not part of the URL ("[/embed]")
        if status is None:
            return None
        return self.post(status.group("id"), status.group("user"))

    def post(self, tweet_id: str, user: str | None = None) -> PostUrl | None:
        """The tweet with this id (the user, when known, only shapes the canonical URL)."""
        tweet_id = tweet_id.strip()
        if not _TWEET_ID.fullmatch(tweet_id) or int(tweet_id) == 0:
            return None
        tweet_id = str(int(tweet_id))
        if user and user.lower() != "i" and re.fullmatch(r"[A-Za-z0-9_]{1,20}", user):
            return PostUrl(self.name, tweet_id, f"{CANONICAL_BASE}/{user}/status/{tweet_id}")
        return PostUrl(self.name, tweet_id, f"{CANONICAL_BASE}/i/status/{tweet_id}")

    def _widget_url(self, path: str, query: str) -> PostUrl | None:
        """The tweet a rendered widget iframe shows (platform.twitter.com/embed/Tweet.html?...&id=ID)."""
        if not _EMBED_PATH.fullmatch(path):
            return None
        ids = parse_qs(query.replace("&amp;", "&")).get("id")
        return self.post(ids[0]) if ids else None

    # ---- markup ------------------------------------------------------------------------------------
    def read_element(self, node: LexborNode) -> Sighting | None:
        if node.tag == "blockquote":
            classes = _classes(node)
            if not classes & BLOCKQUOTE_CLASSES:
                if any("tweet" in token for token in classes):
                    return self._read_publisher_blockquote(node)
                return self._read_holder(node) if any("twitter" in token for token in classes) else None
            parent = node.parent
            if parent is not None and parent.tag == "amp-twitter":
                return None  # the placeholder of an AMP embed: read with it
            return self.read_blockquote(node)
        if node.tag == "amp-twitter":
            return self._read_amp(node)
        return self._read_widget(node)

    def read_blockquote(self, node: LexborNode) -> Sighting | None:
        """An official tweet blockquote: the status link is the last one inside (earlier ones may be
        links in the text to other tweets). Without one, what its attribution line says is residue."""
        post = self._last_status_link(node)
        if post is None:
            post = self.post(node.attrs.get("data-tweet-id") or "")
        fields = self._blockquote_fields(node)
        if post is None:
            if fields.handle:
                return Sighting(self.name, None, MarkupKind.RESIDUE, node, fields)
            return None
        return Sighting(self.name, post, MarkupKind.BLOCKQUOTE, node, fields)

    def _read_publisher_blockquote(self, node: LexborNode) -> Sighting | None:
        """A publisher's own tweet blockquote (`blockquote.nojs-tweet`, `.embedded-tweet`...): an embed
        when it ends with the tweet's status link like the official one. Without one it is either residue
        (found as such when its attribution line has a date) or a "click to tweet" quote (no embed)."""
        post = self._last_status_link(node)
        if post is None:
            return None
        return Sighting(self.name, post, MarkupKind.BLOCKQUOTE, node, self._blockquote_fields(node))

    def _last_status_link(self, node: LexborNode) -> PostUrl | None:
        found: PostUrl | None = None
        for link in node.css("a[href]"):
            post = self.parse_url(link.attrs.get("href") or "")
            if post is not None:
                found = post
        return found

    def _blockquote_fields(self, node: LexborNode) -> MarkupFields:
        lines = block_lines(node)
        if not lines:
            return NO_FIELDS
        attribution = self.read_residue(lines[-1], need_date=False)
        if attribution is None:
            return NO_FIELDS
        # The text before the attribution on its own line ("... pic.twitter.com/x — Name (@h) Date")
        # is tweet text too.
        last = lines[-1]
        head = _ATTRIBUTION.search(last)
        text_lines = lines[:-1] + ([last[: head.start()].strip()] if head and head.start() > 0 else [])
        caption = "\n".join(line for line in text_lines if line) or None
        return MarkupFields(caption=caption).or_else(attribution)

    def _read_amp(self, node: LexborNode) -> Sighting | None:
        tweet_id = node.attrs.get("data-tweetid") or node.attrs.get("data-tweet-id") or ""
        post = self.post(tweet_id)
        if post is None:
            return None
        # The placeholder blockquote inside (when there is one) names the user and says the rest.
        fields = NO_FIELDS
        quote = node.css_first("blockquote")
        if quote is not None:
            linked = self._last_status_link(quote)
            if linked is None or linked.post_id == post.post_id:
                post = linked or post
                fields = self._blockquote_fields(quote)
        return Sighting(self.name, post, MarkupKind.AMP, node, fields)

    def detect(self, page: Page) -> Iterable[Sighting]:
        """Rendered widgets and Substack tweets (one CSS pass), and embeds kept as text in consent
        templates (`<textarea>`, `<script type="text/template">`)."""
        found: list[Sighting] = []
        # Attribute selectors cost the tree a name lookup per element: ask only for what the page writes.
        selectors = [selector for marker, selector in _DETECT_SELECTORS if page.writes(marker)]
        for node in page.tree.css(", ".join(selectors)) if selectors else ():
            sighting = (
                self._read_rendered(node) if "data-tweet-id" in node.attrs else self._read_substack(node)
            )
            if sighting is not None:
                found.append(sighting)
        for area in page.elements("textarea"):
            found.extend(self._read_template(area, area.text(deep=True)))
        code_holds_tweets = page.writes("twitter-tweet")  # no script's code holds one if the page writes none
        for script in page.elements("script"):
            kind = (script.attrs.get("type") or "").strip().lower()
            if kind in TEMPLATE_TYPES:
                found.extend(self._read_template(script, script.text(deep=True)))
            elif kind in CODE_TYPES and code_holds_tweets:
                # Code inside a small consent container that holds the embed's markup as a string (the
                # WordPress "Embed Privacy" plugin); page state in <head> or <body> is never read here.
                code = script.text(deep=True)
                if "twitter-tweet" in code and _placeholder_around(script) is not script:
                    found.extend(self._read_template(script, code))
        return found

    def _read_widget(self, node: LexborNode) -> Sighting | None:
        """A widget widgets.js rendered: an iframe (`Tweet.html?id=`, or `data-tweet-id` with no usable
        src) or a `twitter-widget` element. Its unit is the `div.twitter-tweet-rendered` around it when
        there is one, so that the original blockquote left after that div joins it as one embed."""
        tweet_id = node.attrs.get("data-tweet-id")
        post = self.post(tweet_id) if tweet_id else None
        if post is None and node.tag == "iframe":
            post = self._widget_src(node)
        if post is None:
            return None  # any other iframe: the generic forms read it
        holder = node
        parent = node.parent
        if parent is not None and parent.tag == "div" and _classes(parent) & _RENDERED_CLASSES:
            holder = parent
        return Sighting(self.name, post, MarkupKind.IFRAME, holder)

    def _widget_src(self, node: LexborNode) -> PostUrl | None:
        for name in ("src", "data-src", "data-lazy-src"):
            value = node.attrs.get(name)
            if value and "platform." in value:
                post = self.parse_url(value)
                if post is not None:
                    return post
        return None

    def _read_rendered(self, node: LexborNode) -> Sighting | None:
        tag = node.tag or ""
        if tag not in RENDERED_TAGS or tag in self.element_tags:
            return None  # read by tag; links and buttons are never embeds
        post = self.post(node.attrs.get("data-tweet-id") or "")
        if post is None:
            return None
        return Sighting(self.name, post, MarkupKind.DIV, node)

    def _read_substack(self, node: LexborNode) -> Sighting | None:
        """Substack renders tweets itself: `div.tweet[data-attrs]` whose JSON has the status URL, the
        author, the date and the text."""
        raw = node.attrs.get("data-attrs") or ""
        if len(raw) > MAX_JSON_ATTRIBUTE:
            return None
        try:
            data = json.loads(raw)
        except ValueError:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("url"), str):
            return None
        post = self.parse_url(data["url"])
        if post is None:
            return None
        fields = MarkupFields(
            author_name=_text(data.get("name")),
            handle=_text(data.get("username")),
            published=_substack_date(data.get("date")),
            caption=_text(data.get("full_text")),
        )
        return Sighting(self.name, post, MarkupKind.DIV, node, fields)

    def _read_template(self, template: LexborNode, markup: str) -> list[Sighting]:
        """Two-click consent managers keep the embed's markup as text (a hidden <textarea>, a template
        <script>) until the reader agrees: read the official blockquotes in it. The unit is the placeholder
        around the template (the element that shows the consent notice) when there is one."""
        decoded = _decoded_markup(markup)
        if decoded is None:
            return []
        holder = _placeholder_around(template)
        return [
            Sighting(self.name, sighting.post, MarkupKind.BLOCKQUOTE, holder, sighting.fields)
            for sighting in self._blockquotes_in(decoded)
        ]

    def _blockquotes_in(self, markup: str) -> list[Sighting]:
        """The official tweet blockquotes (with their status links) written in a piece of markup."""
        found = []
        for quote in LexborHTMLParser(markup).css("blockquote"):
            if _classes(quote) & BLOCKQUOTE_CLASSES:
                sighting = self.read_blockquote(quote)
                if sighting is not None and sighting.post is not None:
                    found.append(sighting)
        return found

    def _read_holder(self, node: LexborNode) -> Sighting | None:
        """A lazy holder (`blockquote.twitter-embed-holder[data-src="<blockquote class=&quot;twitter-tweet
        ...">"]`) whose attribute holds the embed's markup until a script puts it in place."""
        for value in node.attrs.values():
            markup = _decoded_markup(value) if value and "twitter-tweet" in value else None
            for sighting in self._blockquotes_in(markup) if markup else ():
                return Sighting(self.name, sighting.post, MarkupKind.BLOCKQUOTE, node, sighting.fields)
        return None

    # ---- residue -----------------------------------------------------------------------------------
    def residue_phrases_near_markers(
        self, text: str, skip: Callable[[int], bool] | None = None, offsets: Sequence[int] | None = None
    ) -> list[str]:
        # The dash is looked for in the source in all its spellings; the tree reads it decoded.
        found = handle_after_dash(text, _HANDLE_IN_SOURCE, skip, offsets)
        return list(self.residue_phrases) if found else []

    def read_residue(self, text: str, need_date: bool = True) -> MarkupFields | None:
        """'— Name (@handle) May 2, 2020' at the end of `text` (the date is what the status link said).
        A residue line needs the date: without it, a dash and a handle in prose are too common."""
        match = _ATTRIBUTION.search(squeeze(text))
        if match is None:
            return None
        date = match.group("date").strip()
        published = iso_date(date) if date else None
        if need_date and published is None:
            return None
        return MarkupFields(
            author_name=squeeze(match.group("name")) or None,
            handle=match.group("handle"),
            published=published,
        )

    # ---- archived pages (recovery from web archives) ------------------------------------------------
    # The status page, at twitter.com first (where archives hold a decade of copies), then at x.com. Not
    # the widget's embed page (platform.twitter.com/embed/Tweet.html?id=): a script shell that fetches
    # the tweet at run time, so its archived HTML holds no tweet.
    def archived_pages(self, post: PostUrl) -> tuple[str, ...]:
        path = post.url.removeprefix(CANONICAL_BASE)
        return (f"https://twitter.com{path}", post.url)

    def read_archived_page(self, post: PostUrl, page_url: str, page: str) -> ArchivedPost | None:
        """A status page as Twitter served it before 2023: og:title "NAME on Twitter", og:description
        the tweet's text in quotes, og:url the status; og:image only when it is the tweet's own media
        (`og:image:user_generated`), not the author's avatar."""
        meta = page_meta(page)
        named = self.parse_url(meta.url or "")
        if named is None or named.post_id != post.post_id:
            return None  # a login wall, the home page, another tweet
        values: dict[str, str] = {}
        title = _OG_TITLE.match(meta.first("og:title") or "")
        if title is not None:
            values["author_name"] = squeeze(title.group("name"))
        text = (meta.first("og:description") or "").strip()
        if len(text) >= 2 and text[0] in '“"' and text[-1] in '”"':
            values["text"] = text[1:-1].strip()
        found = _URL.match(meta.url or "")
        status = _STATUS_PATH.match(found.group("path") or "") if found is not None else None
        user = status.group("user") if status is not None else None
        if user:
            values["handle"] = user
            values["author_url"] = f"{CANONICAL_BASE}/{user}"
        own = (meta.first("og:image:user_generated") or "").lower() == "true"
        image = web_url(meta.first("og:image")) if own else None
        if "text" not in values and image is None:
            return None
        return ArchivedPost(values, image, "\n".join(meta.evidence))

    # ---- capture ----------------------------------------------------------------------------------
    # Ladder: the article's markup (rung 1), oEmbed (2: text, author, handle and day from the blockquote
    # in its html), the syndication JSON the embed widget reads (3: text, exact time, author, media).

    def capture(self, ref: EmbedRef, ctx: CaptureContext) -> Capture:
        post = self.parse_url(ref.url or "")
        if post is None:
            return no_url(self.name, ref, "a tweet")
        fields = markup_fields(ref)
        media: list[MediaRef] = []
        syndication = ctx.url("syndication_base", self.endpoints["syndication_base"])
        rungs = [
            self._oembed_rung(post, ctx, fields, media),
            syndication_rung(ctx, syndication, post.post_id, fields, media),
        ]
        return assemble(self.name, post.post_id, post.url, rungs, fields, media)

    def _oembed_rung(
        self, post: PostUrl, ctx: CaptureContext, fields: dict[str, Field], media: list[MediaRef]
    ) -> RungResult:
        endpoint = ctx.url("oembed_endpoint", self.endpoints["oembed_endpoint"])
        result = x_error_outcome(request_oembed(ctx, endpoint, post.url, {"omit_script": "1"}), "oEmbed")
        if result.data is None:
            return result
        quote = _tweet_blockquote(str(result.data.get("html", "")))
        if quote is None:
            return reclassified(
                result, Outcome.AMBIGUOUS, "oEmbed: 200 but its html holds no tweet blockquote"
            )
        oembed_fields(result.data, fields, media)
        said = self._blockquote_fields(quote)
        fill(fields, "author_name", said.author_name, "oembed")
        put(fields, "handle", said.handle, "oembed")
        put(fields, "published", said.published, "oembed")
        paragraph = quote.css_first("p")
        fragment = paragraph.inner_html if paragraph is not None else None
        if fragment and plain_text(fragment):
            put(fields, "text", plain_text(fragment), "oembed")
            put(fields, "text_html", clean_html(fragment), "oembed")
        return result


def _classes(node: LexborNode) -> frozenset[str]:
    return frozenset((node.attrs.get("class") or "").lower().split())


def _text(value: object) -> str | None:
    return value.strip() or None if isinstance(value, str) else None


def _substack_date(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.datetime.strptime(value.strip(), _SUBSTACK_DATE).isoformat()
    except ValueError:
        return iso_date(value, whole=False)


def _decoded_markup(text: str) -> str | None:
    """The embed markup a template holds, however it is written: as it is, JSON- or JS-escaped
    (`<blockquote class=\\"twitter-tweet\\">`, `\\u003c`, `<\\/a>`), entity-escaped (`&lt;blockquote`), or
    base64-encoded (Borlabs Cookie); None when it holds no tweet blockquote."""
    if len(text) > MAX_TEMPLATE:
        return None
    if "twitter-tweet" not in text and _BASE64.fullmatch(text):
        try:
            text = base64.b64decode(text, validate=False).decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            return None
    if "twitter-tweet" not in text:
        return None
    if "\\" in text:
        for escaped, plain in _JS_ESCAPES:
            text = text.replace(escaped, plain)
    if "&lt;" in text and "<blockquote" not in text.lower():
        text = html.unescape(text)
    return text if "<blockquote" in text.lower() else None


def _placeholder_around(template: LexborNode) -> LexborNode:
    """The consent placeholder that holds a template: its parent when that is a small block (a notice and
    a button, not the article around it); else the template itself."""
    parent = template.parent
    if parent is None or parent.tag not in PLACEHOLDER_TAGS:
        return template
    own_text = len(parent.text(deep=True)) - len(template.text(deep=True))
    return parent if own_text <= MAX_PLACEHOLDER_TEXT else template


# ---- capture: the oEmbed answer's html ----------------------------------------------------------------


def _tweet_blockquote(markup: str) -> LexborNode | None:
    """The tweet blockquote of an oEmbed answer's html."""
    for quote in LexborHTMLParser(markup).css("blockquote"):
        if _classes(quote) & BLOCKQUOTE_CLASSES:
            return quote
    return None
