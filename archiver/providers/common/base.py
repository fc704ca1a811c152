"""The small base class every platform implements.

A provider declares what it recognises (hosts, post URLs, markup, residue phrases) and knows how to
capture one post. It never touches the database; it receives an HTTP client and returns records.

Detection side (used by `archiver.pipeline.scan`, one HTML parse per article shared by all providers)::

    hosts            host names; where they are written in URLs of a page (found by the scanner in one
                     pass for all providers, `pipeline.places`) is where it looks for our post URLs,
                     bare URLs, placeholders, Gutenberg blocks and script data; a page that writes one of
                     our post URLs (or a residue line) makes us active on it
    markers          text of our markup that carries no post URL ("amp-instagram"): the page is parsed
                     and generic forms are offered to us even if no post URL of ours is written
    detect_markers   text without which `detect` finds nothing on a page where we are not active
    present_in(), places(), stem
                     the same prefilter for one provider on its own (the scanner does not call them)
    parse_url()      post URL -> PostUrl; the scanner uses it for every generic form (iframes, bare URLs,
                     Gutenberg blocks, CKEditor <oembed>, consent placeholders, script data)
    element_tags     tag names of the provider's own markup: every such element of a page is handed to
    read_element()   ... which reads it into a Sighting, or says it is not an embed
    loader_scripts   the widget script that belongs to an embed unit when it directly follows it
    residue_markers  text every residue line contains ("(@"), the cheap prefilter for...
    residue_phrases  ... text an embed leaves behind when its script never ran ("A post shared by");
    read_residue()   ... and how to read the author, handle and date out of that text
    detect()         page-level hook for markup that is not one element (default: nothing)

Recovery side (`archiver.pipeline.recover`): `archived_pages()` are the URLs whose archived copies may
show a post (its own URL; an embed page where the provider has one), `read_archived_page()` reads such
a copy (default: og/twitter/article meta and JSON-LD, `common.pagemeta`, of a page that says it is the
post).

Elements are fetched by tag name (far cheaper than CSS matching), so adding a provider adds no pass over
the tree unless its `detect` queries it; `Page` offers the scanner's places, fetched elements and
remembered text searches (`Page.writes`) to `detect` hooks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archiver.providers.common.context import CaptureContext
from archiver.providers.common.ladder import oembed_capture
from archiver.providers.common.pagemeta import ArchivedPost, read_page_meta
from archiver.records import Capture, EmbedRef, MarkupKind


@dataclass(frozen=True, slots=True)
class PostUrl:
    """A post URL recognised by a provider: its stable id and canonical URL."""

    provider: str
    post_id: str
    url: str


@dataclass(frozen=True, slots=True)
class MarkupFields:
    """What an embed's own markup says about its post (capture rung 1). Any field may be missing."""

    author_name: str | None = None
    handle: str | None = None
    author_url: str | None = None
    published: str | None = None
    caption: str | None = None

    def or_else(self, other: MarkupFields) -> MarkupFields:
        """These fields, with the gaps filled from `other`."""
        return MarkupFields(
            author_name=self.author_name or other.author_name,
            handle=self.handle or other.handle,
            author_url=self.author_url or other.author_url,
            published=self.published or other.published,
            caption=self.caption or other.caption,
        )


NO_FIELDS = MarkupFields()


@dataclass(frozen=True, slots=True)
class Sighting:
    """One piece of markup that shows a post (or the leftovers of one), before units are formed.

    `node` is the element that carries it, or None for forms found in the source text only
    (a URL on its own line, a Gutenberg comment pair).
    """

    provider: str
    post: PostUrl | None
    markup: MarkupKind
    node: LexborNode | None = None
    fields: MarkupFields = NO_FIELDS


@dataclass(frozen=True, slots=True)
class Page:
    """One article as the detection hooks see it: the source text and its (only) parse."""

    text: str
    tree: LexborHTMLParser
    # Where the scanner found each provider's host names written in URLs, by provider name (one pass for
    # all providers); None when the caller has not looked (`places_of` then asks the provider).
    places: Mapping[str, Sequence[tuple[str, int]]] | None = None
    # Elements the scanner fetched already, by tag name, in document order (None: the tree is asked).
    fetched: Mapping[str, Sequence[LexborNode]] | None = None
    # Whether a piece of text is written in the page, by the text: asked once per page (see `writes`).
    written: dict[str, bool] = field(default_factory=dict)

    def places_of(self, provider: Provider) -> Sequence[tuple[str, int]]:
        """Where `provider`'s host names are written in URLs of the page (`Provider.places` when the
        scanner did not say)."""
        if self.places is None:
            return provider.places(self.text)
        return self.places.get(provider.name, ())

    def writes(self, piece: str) -> bool:
        """Whether the page text holds `piece` (remembered: each search reads the whole page)."""
        found = self.written.get(piece)
        if found is None:
            found = self.written[piece] = piece in self.text
        return found

    def elements(self, tag: str) -> Sequence[LexborNode]:
        """Every element named `tag`, in document order."""
        fetched = self.fetched.get(tag) if self.fetched is not None else None
        return self.tree.tags(tag) if fetched is None else fetched


# A URL as it appears in text or JSON: optional scheme, "//", host. Used to cut URLs out of script data.
_HOST_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.")
_URL_TAIL = re.compile(r"[^\s\"'<>\\]*")
_SCHEME_BEFORE = re.compile(r"(?:https?:)?(?://|\\/\\/)$", re.IGNORECASE)
_SPACE_RUN = re.compile(r"\s+")
# How far before its residue marker ("(@handle)") a residue line's phrase may start: in v12 embeds a
# long styled <a> sits between "A post shared by" and "(@handle)".
RESIDUE_WINDOW = 1_200


def squeeze(text: str) -> str:
    """Whitespace runs (no-break spaces included) folded to one space, ends stripped."""
    return _SPACE_RUN.sub(" ", text).strip()


def node_text(node: LexborNode) -> str:
    """The element's text with whitespace squeezed (scripts inside are rare in embed markup)."""
    return squeeze(node.text(deep=True))


def has_class(node: LexborNode, token: str) -> bool:
    """Whether `token` is one of the element's class tokens (order and extra classes do not matter)."""
    classes = node.attrs.get("class")
    return classes is not None and token in classes.split()


def marker_offsets(text: str, markers: Iterable[str]) -> list[int]:
    """Every offset where one of `markers` is written, in order. Each is found by its last character,
    which str.find looks for with memchr: fast when it is rare in HTML, as the "@" of "(@" is."""
    offsets: list[int] = []
    for marker in markers:
        if not marker:
            continue
        last, back = marker[-1], len(marker) - 1
        at = text.find(last, back)
        while at != -1:
            if text.startswith(marker, at - back):
                offsets.append(at - back)
            at = text.find(last, at + 1)
    return sorted(set(offsets))


def host_places(text: str, names: Iterable[str]) -> list[tuple[str, int]]:
    """Where each of `names` is written in `text` (case as written), in order: one search each."""
    places: list[tuple[int, str]] = []
    for name in names:
        at = text.find(name)
        while at != -1:
            places.append((at, name))
            at = text.find(name, at + len(name))
    places.sort()
    return [(name, at) for at, name in places]


def host_start(text: str, at: int) -> int:
    """Where the host name that runs through `at` starts (at most 64 host-name characters before it)."""
    begin = at
    while begin > 0 and at - begin < 64 and text[begin - 1] in _HOST_CHARS:
        begin -= 1
    return begin


def url_from(text: str, begin: int, limit: int) -> str:
    """The URL written from `begin` (its host name, just after "//"), looked at up to `limit`, with
    "https://" put in front; JSON-escaped slashes are read as slashes."""
    tail = text[begin:limit]
    if "\\" in tail:
        tail = tail.replace("\\/", "/").replace("\\u002F", "/")
    match = _URL_TAIL.match(tail)
    return "https://" + (match.group(0) if match else "")


class Provider:
    """Base class. Subclasses set the class attributes and override what differs."""

    name: ClassVar[str]
    title: ClassVar[str]
    # Hostnames (lower case, without "www.") whose URLs may be this provider's posts.
    hosts: ClassVar[frozenset[str]] = frozenset()
    # Endpoint and base URL defaults, by their `[providers.NAME]` key.
    endpoints: ClassVar[Mapping[str, str]] = {}
    default_rate: ClassVar[str | None] = None
    # What the provider recognises, in words, for `archive providers`.
    recognises: ClassVar[tuple[str, ...]] = ()
    # URLs that must route to this provider (tested), and ones that must not.
    examples: ClassVar[tuple[str, ...]] = ()
    not_examples: ClassVar[tuple[str, ...]] = ()
    # Known-good post URLs that a check run climbs first: when they fail, verdicts for the provider
    # pause (a provider-wide failure is not every post dying). Overridable in settings.
    canaries: ClassVar[tuple[str, ...]] = ()

    # ---- detection -------------------------------------------------------------------------------
    # Text (exact case) of the provider's own markup that can stand without a post URL in the page,
    # e.g. a tag or class name. The scanner reads the elements of `element_tags` on every page it parses;
    # markers make it parse a page that writes no post URL at all, and offer generic forms (iframes,
    # Gutenberg blocks) to the provider. It looks for them only when that matters.
    markers: ClassVar[tuple[str, ...]] = ()
    # Text (exact case) without which `detect` finds nothing on a page that writes no post URL or
    # residue line of ours (a rendered widget holding only a tweet id: "data-tweet-id"). The scanner runs
    # `detect` on pages that write one of our post URLs or residue lines, and on pages that write one of
    # these (looked for only then; long, distinctive text is found fastest).
    detect_markers: ClassVar[tuple[str, ...]] = ()
    # A string every host name and marker contains ("instagr"), so that the prefilter reads a page
    # once: every search of a whole page costs about a twentieth of its parse (and lower-casing a page
    # as much as parsing it). Empty: each host and marker is searched for on its own.
    stem: ClassVar[str] = ""
    # Tag names of the provider's own embed markup (e.g. "blockquote"); see `read_element`.
    element_tags: ClassVar[tuple[str, ...]] = ()
    # Substrings of the `src` of the provider's widget loader script.
    loader_scripts: ClassVar[tuple[str, ...]] = ()
    # Text that every attribution line of this provider contains, and the phrases that start one
    # (exact text, as the provider writes it: "A post shared by").
    residue_markers: ClassVar[tuple[str, ...]] = ()
    residue_phrases: ClassVar[tuple[str, ...]] = ()
    # Class tokens of the provider's own embed markup that stays on the page, empty, when the post link
    # is gone (an `instagram-media` blockquote without a link): the scanner reports such a shell as lost.
    shell_classes: ClassVar[tuple[str, ...]] = ()
    # Words besides the title by which article text names the provider, whole words, exact case
    # ("tweeted"): a lead-in that announces an embed over nothing gets this provider as its hint.
    hint_words: ClassVar[tuple[str, ...]] = ()

    def parse_url(self, url: str) -> PostUrl | None:
        """The post behind `url`, or None when it is not one of this provider's posts."""
        raise NotImplementedError

    def present_in(self, text: str, places: Sequence[tuple[str, int]] | None = None) -> bool:
        """Whether the page text may hold this provider's markup at all (the cheap prefilter): one of
        our post URLs anywhere (attributes, text, script data), a marker, or a residue line.
        `places` is `self.places(text)` when the caller has it already."""
        for name, at in self.places(text) if places is None else places:
            if name in self.markers:
                return True
            if self.post_url_at(text, at, name) is not None or "&#" in text[at : at + 24]:
                return True  # (an entity-encoded URL is left to the parser to decode)
        return bool(self.residue_phrases_near_markers(text))

    def places(self, text: str) -> list[tuple[str, int]]:
        """Where each host name and marker is written in `text`, in order; found with one search of the
        page when they all contain `stem`."""
        names = self.hosts | frozenset(self.markers)
        if not (self.stem and all(self.stem in name for name in names)):
            return host_places(text, names)
        offsets = [(name, name.index(self.stem)) for name in sorted(names)]
        found: list[tuple[str, int]] = []
        at = text.find(self.stem)
        while at != -1:
            for name, offset in offsets:
                start = at - offset
                if start >= 0 and text.startswith(name, start):
                    found.append((name, start))
            at = text.find(self.stem, at + len(self.stem))
        return found

    def residue_phrases_near_markers(
        self, text: str, skip: Callable[[int], bool] | None = None, offsets: Sequence[int] | None = None
    ) -> list[str]:
        """The residue phrases written within `RESIDUE_WINDOW` chars before a residue marker ("(@"),
        ignoring markers at positions `skip` rejects. `offsets` are where the markers are written, when
        the caller has found them already (the scanner finds them once for all providers)."""
        found: set[str] = set()
        for at in marker_offsets(text, self.residue_markers) if offsets is None else offsets:
            window = text[max(0, at - RESIDUE_WINDOW) : at]
            phrases = [phrase for phrase in self.residue_phrases if phrase in window]
            if phrases and (skip is None or not skip(at)):
                found.update(phrases)
        return [phrase for phrase in self.residue_phrases if phrase in found]

    def read_element(self, node: LexborNode) -> Sighting | None:
        """Read one element whose tag is in `element_tags`; None when it is not one of our embeds."""
        return None

    def read_residue(self, text: str) -> MarkupFields | None:
        """Read an attribution line (block text, whitespace squeezed); None when it is not one."""
        return None

    def detect(self, page: Page) -> Iterable[Sighting]:
        """Markup the element hooks cannot see (spread over several elements, page data...)."""
        return ()

    def post_urls_in(self, text: str) -> list[PostUrl]:
        """This provider's post URLs written anywhere in `text`, JSON-escaped (`\\/`) or not, in order."""
        found = (self.post_url_at(text, at, name) for name, at in self.places(text) if name in self.hosts)
        return [post for post in found if post is not None]

    def post_url_at(self, text: str, at: int, host: str) -> PostUrl | None:
        """The post URL whose host name `host` starts at `at` in `text`, if that is one."""
        begin = host_start(text, at)
        if not _SCHEME_BEFORE.search(text, max(0, begin - 9), begin):
            return None
        return self.parse_url(url_from(text, begin, at + len(host) + 400))

    # ---- capture --------------------------------------------------------------------------------
    def capture(self, ref: EmbedRef, ctx: CaptureContext) -> Capture:
        """Climb the capture ladder for one post. Expected failures are returned, not raised.

        The default ladder is the article's markup, then the provider's oEmbed endpoint; providers with
        richer public sources override this."""
        if "oembed_endpoint" not in self.endpoints:
            raise NotImplementedError(f"{self.name} has no way to capture posts")
        return oembed_capture(self.name, self.endpoints["oembed_endpoint"], ref, ctx)

    # ---- archived pages (recovery from web archives) ------------------------------------------------
    def archived_pages(self, post: PostUrl) -> tuple[str, ...]:
        """The URLs whose archived copies may show the post, in the order recovery tries them: by
        default its own URL (providers add their embed page where they know it)."""
        return (post.url,)

    def read_archived_page(self, post: PostUrl, page_url: str, page: str) -> ArchivedPost | None:
        """What an archived copy of `page_url` (one of `archived_pages`) shows of the post; None when it
        shows no post (a login wall, a home page, "post unavailable"). By default: the page's meta tags
        and JSON-LD, when its og:url or canonical link is this post."""
        return read_page_meta(page, lambda url: _same_post(self.parse_url(url), post))

    @classmethod
    def can_capture(cls) -> bool:
        """Whether this provider can capture posts: its own ladder, or an oEmbed endpoint."""
        return cls.capture is not Provider.capture or "oembed_endpoint" in cls.endpoints


def _same_post(found: PostUrl | None, post: PostUrl) -> bool:
    return found is not None and (found.provider, found.post_id) == (post.provider, post.post_id)
