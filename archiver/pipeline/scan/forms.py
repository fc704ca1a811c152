"""Embed forms every provider shares, recognised with the providers' `parse_url` (no platform knowledge).

Element forms (elements fetched by tag name):
    iframe[src|data-src|...]       a player or rendered widget (AMP: amp-iframe)       -> iframe
    figure.wp-block-embed          Gutenberg block whose wrapper holds a lone URL      -> bare-url
    oembed[url], o-embed[url]      CKEditor 5 semantic output                          -> oembed-tag
Source forms (found where a provider's host name is written in the raw text):
    any element whose data-oembed-url / data-feed / data-url / ... is a post URL       -> div
        (CKEditor previews, consent and lazy-load placeholders; an AMP component -> amp)
    <!-- wp:embed {"url":...} --> ... <!-- /wp:embed -->                              -> block-comment
    a post URL alone on its line or in a <p>, or in an [embed] shortcode              -> bare-url
        (the forms WordPress auto-embeds; where such a URL stands alone is told in `bare_urls`)
What broken or blocked embeds leave behind (residue, URL-less placeholders) is in `leftovers`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archiver.pipeline.scan.bare_urls import URL_END, standing_alone, url_written_at
from archiver.pipeline.scan.services import unwrapped_post
from archiver.pipeline.scan.spans import Opaque, SourceText
from archiver.providers.common.base import PostUrl, Provider, Sighting, has_class, node_text
from archiver.records import MarkupKind

ELEMENT_TAGS = ("iframe", "amp-iframe", "figure", "oembed", "o-embed")
# Attributes that hold the URL of an iframe, lazy loaders and consent managers included.
IFRAME_URL_ATTRIBUTES = (
    "src",
    "data-src",
    "data-lazy-src",
    "data-cmplz-src",
    "data-orig-src",
    "data-rocket-src",
    "data-litespeed-src",
)
# Attributes of placeholder elements that hold the URL of the embed they stand for.
PLACEHOLDER_URL_ATTRIBUTES = frozenset(
    {
        "data-oembed-url",
        "data-feed",
        "data-url",
        "data-href",
        "data-embed-url",
        "data-embedded-url",
        "data-resourceurl",
        "data-src",
        "data-lazy-src",
    }
)
# Elements that carry URLs but are never embeds themselves (links, images, the loader script...).
NOT_PLACEHOLDERS = frozenset(
    {"a", "area", "link", "meta", "script", "img", "source", "input", "button", "form"}
)
# Ids and class tokens of the sidebar containers of site themes (see `in_site_chrome`).
CHROME_IDS = frozenset({"sidebar", "secondary"})
CHROME_CLASSES = frozenset({"sidebar", "widget-area"})
_LONE_URL = re.compile(r"https?://\S+")
# URLs longer than this are routed without being remembered (a page may hold megabyte attributes).
MAX_REMEMBERED_URL = 4_096
# Block attributes are JSON in which WordPress escapes "<" and ">": the match never leaves its comment.
_GUTENBERG_OPEN = re.compile(r"<!--\s*wp:(?P<block>embed|core-embed/[\w-]+)\s+(?P<attrs>\{[^<>]*?\})\s*-->")
_CSS_VALUE = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True, slots=True)
class Located:
    """A sighting found in the source text, with its char range there."""

    sighting: Sighting
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class AttributePlaceholder:
    """A start tag in the source whose placeholder attribute is a post URL (resolved to its element later)."""

    tag: str
    attribute: str
    post: PostUrl


def route(url: str, providers: Sequence[Provider]) -> PostUrl | None:
    """The post behind `url` for the first of `providers` that recognises it."""
    url = url.strip()
    if not url:
        return None
    for provider in providers:
        post = provider.parse_url(url)
        if post is not None:
            return post
    return None


class Routes:
    """Which providers the URL of a generic form (an iframe, a Gutenberg block, a placeholder...) is offered
    to, in registry order: those `active` in the page, and those whose `markers` the page writes. Markers
    are looked for (`marked`) only when such a provider claims a URL, so a page pays for no search it does
    not need. Answers are remembered for the page (an iframe's `src` and `data-src` are often the same)."""

    def __init__(
        self,
        providers: Sequence[Provider],
        active: Collection[Provider] | None = None,
        marked: Callable[[Provider], bool] | None = None,
    ) -> None:
        self._order = [
            (provider, active is None or provider in active)
            for provider in providers
            if active is None or provider in active or (marked is not None and provider.markers)
        ]
        self._providers = tuple(providers)
        self._marked = marked
        self._seen: dict[str, PostUrl | None] = {}

    def anywhere(self, url: str) -> PostUrl | None:
        """The post behind `url` for any provider, wanted by the page or not: for the URLs an embed
        service's markup names (`services`), which says "embed" by itself."""
        return route(url, self._providers)

    def __call__(self, url: str) -> PostUrl | None:
        url = url.strip()
        if not url:
            return None
        if url in self._seen:
            return self._seen[url]
        found = None
        for provider, active in self._order:
            post = provider.parse_url(url)
            if post is not None and (active or (self._marked is not None and self._marked(provider))):
                found = post
                break
        if len(url) <= MAX_REMEMBERED_URL:
            self._seen[url] = found
        return found


# ---- element forms ----------------------------------------------------------------------------------------
def read_element(node: LexborNode, routes: Routes) -> Sighting | None:
    """One element of `ELEMENT_TAGS` read as a generic embed form, or None."""
    tag = node.tag
    post: PostUrl | None = None
    markup = MarkupKind.IFRAME
    if tag in ("iframe", "amp-iframe"):
        post = _first_post(node, IFRAME_URL_ATTRIBUTES, routes)
    elif tag == "figure":
        post = _gutenberg_url(node, routes)
        markup = MarkupKind.BARE_URL
    elif tag in ("oembed", "o-embed"):
        post = routes(node.attrs.get("url") or "")
        markup = MarkupKind.OEMBED_TAG
    if post is None:
        return None
    return Sighting(post.provider, post, markup, node)


def _first_post(node: LexborNode, attributes: Sequence[str], routes: Routes) -> PostUrl | None:
    attrs = node.attrs
    for name in attributes:
        value = attrs.get(name)
        if value:
            post = routes(value) or _unwrapped(value, routes)
            if post is not None:
                return post
    return None


def _unwrapped(src: str, routes: Routes) -> PostUrl | None:
    """The post an embed service's player shows (Embedly, Iframely, Drupal's media oEmbed route)."""
    return unwrapped_post(src, routes.anywhere)


def _gutenberg_url(figure: LexborNode, routes: Routes) -> PostUrl | None:
    """The URL a Gutenberg embed block holds as its only content (stored, unrendered form)."""
    if not has_class(figure, "wp-block-embed"):
        return None
    wrapper = figure.css_first("div.wp-block-embed__wrapper")
    if wrapper is None:
        return None
    text = node_text(wrapper)
    return routes(text) if _LONE_URL.fullmatch(text) else None


def in_site_chrome(node: LexborNode, limit: int = 64, known: dict[int, bool] | None = None) -> bool:
    """Whether `node` sits in a sidebar widget, which never holds the article's embeds (corpus labelling
    rule: sidebar video widgets, feeds): inside the sidebar or widget area (id or class token `sidebar`,
    `widget-area`, id `secondary`), or inside an `<aside>` WordPress-style widget (class `widget...`).
    `known` remembers the answer for every ancestor walked through (a page's embeds share ancestors)."""
    path: list[int] = []
    answer = False
    current = node.parent
    for _ in range(limit):
        if current is None or current.tag in ("body", "html"):
            break
        key = current.mem_id
        if known is not None and key in known:
            answer = known[key]
            break
        path.append(key)
        attrs = current.attributes
        element_id = (attrs.get("id") or "").strip().lower()
        classes = (attrs.get("class") or "").lower().split()
        if element_id in CHROME_IDS or any(token in CHROME_CLASSES for token in classes):
            answer = True
            break
        if current.tag == "aside" and any(token.startswith("widget") for token in classes):
            answer = True
            break
        current = current.parent
    else:
        return answer  # too deep to tell: nothing remembered (another walk may start higher up)
    if known is not None:
        for key in path:
            known[key] = answer
    return answer


def _placeholder_markup(tag: str) -> MarkupKind:
    """An iframe is an iframe; an AMP component (`amp-reddit data-src=...`) is AMP markup; any other
    element holding a post URL in an attribute is a placeholder div."""
    if tag == "iframe":
        return MarkupKind.IFRAME
    return MarkupKind.AMP if tag.startswith("amp-") else MarkupKind.DIV


def placeholder_elements(
    tree: LexborHTMLParser, found: Sequence[AttributePlaceholder], routes: Routes
) -> list[Sighting]:
    """The elements behind the placeholder attributes seen in the source."""
    sightings: list[Sighting] = []
    queried: set[tuple[str, str, str]] = set()
    for place in found:
        code = place.post.post_id
        query = (place.tag, place.attribute, code)
        if query in queried or not _CSS_VALUE.fullmatch(code) or not _CSS_VALUE.fullmatch(place.tag):
            continue
        queried.add(query)
        markup = _placeholder_markup(place.tag)
        for node in tree.css(f'{place.tag}[{place.attribute}*="{code}"]'):
            if routes(node.attrs.get(place.attribute) or "") == place.post:
                sightings.append(Sighting(place.post.provider, place.post, markup, node))
    return sightings


# ---- source forms -----------------------------------------------------------------------------------------
@dataclass(slots=True)
class TextPosts:
    """What the places a provider host is written in the page say."""

    bare: list[Located] = field(default_factory=list)
    blocks: list[Located] = field(default_factory=list)
    placeholders: list[AttributePlaceholder] = field(default_factory=list)
    # Post URLs only script data holds (by provider name, in source order).
    in_scripts: dict[str, list[PostUrl]] = field(default_factory=dict)


def text_posts(
    source: SourceText,
    providers: Sequence[Provider],
    known: set[tuple[str, str]],
    places: Mapping[str, Sequence[tuple[str, int]]],
    post_at: Callable[[Provider, str, int], PostUrl | None] | None = None,
    scripts_contain: Callable[[str], bool] | None = None,
) -> TextPosts:
    """Look at every place a provider host is written, and read the forms only the source shows.

    `known` holds (provider, id) of posts the tree already showed as embeds; their attributes and their
    copies in scripts (JSON state, escaped HTML) are not looked at again. `places` are the providers'
    `places(text)` by provider name; `post_at(provider, host, at)` is `provider.post_url_at` (the scanner
    remembers what it read already).

    Whether a place lies in markup, a script or a comment is told from the opaque ranges of the page,
    which cost a pass over the whole source: they are asked only where an answer depends on it. A bare URL
    or a Gutenberg block is checked when one is found; a placeholder attribute needs no check (its element
    is looked up in the tree, which holds no markup of scripts or comments); and whether the other places
    of posts not known yet are script data (`TextPosts.in_scripts`) is told only when one of them may be:
    `scripts_contain(url)` says whether the text of some script holds the URL as written there.
    """
    text = source.text
    out = TextPosts()
    block_starts: set[int] = set()
    tags = _Tags(source)
    # Places of posts not known yet whose kind (markup, script data, comment...) decides `in_scripts`.
    undecided: list[tuple[Provider, int, PostUrl, Opaque | bool | None]] = []
    for provider in providers:
        for host, at in places.get(provider.name, ()):
            if host not in provider.hosts:
                continue
            post = provider.post_url_at(text, at, host) if post_at is None else post_at(provider, host, at)
            if post is not None:
                _look_at(source, provider, host, at, post, known, out, undecided, block_starts, tags)
    if undecided:
        _decide(source, undecided, out, scripts_contain)
    out.bare.sort(key=lambda located: located.start)
    return out


def _look_at(
    source: SourceText,
    provider: Provider,
    host: str,
    at: int,
    post: PostUrl,
    known: set[tuple[str, str]],
    out: TextPosts,
    undecided: list[tuple[Provider, int, PostUrl, Opaque | bool | None]],
    block_starts: set[int],
    tags: _Tags,
) -> None:
    text = source.text
    key = (post.provider, post.post_id)
    tag_start, in_tag = tags.around(at)
    if in_tag and text.startswith("<!--", tag_start):
        if tag_start not in block_starts:
            block_starts.add(tag_start)
            block = _gutenberg_block(source, tag_start, at, [provider])
            if block is not None:
                out.blocks.append(block)
        return
    if in_tag and key in known:
        return  # the attribute of an embed already read, or its copy in a script
    if in_tag:
        # A placeholder's element is looked up in the tree, where no markup of a script or comment is.
        placeholder = tags.placeholder(tag_start, at, provider)
        if placeholder is not None:
            out.placeholders.append(placeholder)
        undecided.append((provider, at, post, True))
        return
    located = _bare_url(source, provider, host, at)
    if located is None:
        if key not in known:
            undecided.append((provider, at, post, True))
        return
    region = source.opaque_at(at)
    if region is None:
        out.bare.append(located)
    if key not in known:
        undecided.append((provider, at, post, region))


def _decide(
    source: SourceText,
    undecided: list[tuple[Provider, int, PostUrl, Opaque | bool | None]],
    out: TextPosts,
    scripts_contain: Callable[[str], bool] | None,
) -> None:
    """`out.in_scripts`: posts written only in script data, per provider in source order. A post written
    in the page's markup too is not script-only."""
    text = source.text
    unsure = [at for _, at, _, region in undecided if region is True]
    urls = {_written_url(text, at) for at in unsure} if len(unsure) <= _MAX_UNSURE else None
    # (Past that many URLs one pass over the whole source is cheaper than asking the scripts for each.)
    in_no_script = scripts_contain is not None and urls is not None and not any(map(scripts_contain, urls))
    if in_no_script and not any(
        isinstance(where, Opaque) and where.kind == "script" for *_, where in undecided
    ):
        return  # no script holds any of them: nothing is script-only
    in_markup: set[tuple[str, str]] = set()
    for provider, at, post, region in undecided:
        where = source.opaque_at(at) if region is True else region
        key = (post.provider, post.post_id)
        if where is None:
            in_markup.add(key)  # written in the page's markup: never a script-only post
        elif isinstance(where, Opaque) and where.kind == "script":
            out.in_scripts.setdefault(provider.name, []).append(post)
    for name, posts in list(out.in_scripts.items()):
        kept = [post for post in posts if (post.provider, post.post_id) not in in_markup]
        if kept:
            out.in_scripts[name] = kept
        else:
            del out.in_scripts[name]


_MAX_UNSURE = 64


def _written_url(text: str, at: int) -> str:
    """The URL written at `at` (from its host name on), as the source writes it (at most 200 chars)."""
    match = URL_END.match(text, at, at + 200)
    return match.group(0) if match else ""


class _Tags:
    """The start tags that places lie in, each read once: one tag may hold thousands of post URLs (an
    attribute listing a whole feed), and reading the tag again for each of them would be quadratic."""

    def __init__(self, source: SourceText) -> None:
        self.source = source
        self._at = -1
        self._around = (-1, False)
        # tag start -> (name, end, attributes: read when first asked)
        self._tags: dict[int, tuple[str | None, int | None]] = {}
        self._attributes: dict[int, list[tuple[str, str]]] = {}
        self._placeholders: dict[tuple[int, str], AttributePlaceholder | None] = {}

    def around(self, at: int) -> tuple[int, bool]:
        """The last "<" before `at`, and whether `at` is in a tag: no ">" between them."""
        text = self.source.text
        last = self._at
        # Nothing changes from the place before when no "<" or ">" lies between the two.
        if not (0 <= last <= at and text.find("<", last, at) == -1 and text.find(">", last, at) == -1):
            tag_start = text.rfind("<", 0, at)
            self._around = (tag_start, tag_start > text.rfind(">", 0, at))
        self._at = at
        return self._around

    def placeholder(self, tag_start: int, at: int, provider: Provider) -> AttributePlaceholder | None:
        """The placeholder attribute of the start tag at `tag_start` that holds one of `provider`'s
        posts, if `at` lies inside that tag."""
        read = self._tags.get(tag_start)
        if read is None:
            read = self._tags[tag_start] = (
                self.source.start_tag_name(tag_start),
                self.source.start_tag_end(tag_start),
            )
        tag, end = read
        if tag is None or tag in NOT_PLACEHOLDERS or end is None or end <= at:
            return None
        key = (tag_start, provider.name)
        if key not in self._placeholders:
            attributes = self._attributes.get(tag_start)
            if attributes is None:
                attributes = self._attributes[tag_start] = self.source.attributes(tag_start)
            self._placeholders[key] = _placeholder_attribute(tag, attributes, provider)
        return self._placeholders[key]


def _placeholder_attribute(
    tag: str, attributes: Sequence[tuple[str, str]], provider: Provider
) -> AttributePlaceholder | None:
    for name, value in attributes:
        if name in PLACEHOLDER_URL_ATTRIBUTES:
            post = provider.parse_url(value.strip())
            if post is not None:
                return AttributePlaceholder(tag, name, post)
    return None


def _gutenberg_block(
    source: SourceText, start: int, at: int, providers: Sequence[Provider]
) -> Located | None:
    """The `<!-- wp:embed {...} -->` ... `<!-- /wp:embed -->` pair opening at `start`, if a post's."""
    text = source.text
    match = _GUTENBERG_OPEN.match(text, start)
    if match is None or match.end() <= at:
        return None
    region = source.opaque_at(start)
    if region is None or region.start != start:
        return None  # a comment inside a script or another comment
    try:
        attrs = json.loads(match.group("attrs"))
    except ValueError:
        return None
    url = attrs.get("url") if isinstance(attrs, dict) else None
    post = route(url, providers) if isinstance(url, str) else None
    if post is None:
        return None
    closing = re.compile(r"<!--\s*/wp:" + re.escape(match.group("block")) + r"\s*-->")
    close = closing.search(text, match.end())
    if close is None:
        return None
    return Located(Sighting(post.provider, post, MarkupKind.BLOCK_COMMENT), start, close.end())


def _bare_url(source: SourceText, provider: Provider, host: str, at: int) -> Located | None:
    """A post URL (in text, not in a tag) that stands alone in a <p> or on its own line (`bare_urls`)."""
    text = source.text
    written = url_written_at(text, at)
    if written is None:
        return None
    start, end = written
    post = provider.parse_url(text[start:end])
    if post is None:
        return None
    alone = standing_alone(text, start, end)
    if alone is None:
        return None
    return Located(Sighting(post.provider, post, MarkupKind.BARE_URL), *alone)
