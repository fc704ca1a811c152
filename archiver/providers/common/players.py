"""What the media-player providers share: YouTube, Vimeo, Dailymotion, Spotify, SoundCloud, Apple Music,
Apple Podcasts and Twitch (reference/providers.md sections 4, 10, 11, 12, 17).

Their embeds are players: an iframe (or a lazy copy of one) whose URL names the item. The scanner finds
the generic forms (iframes with `src`/`data-src`..., Gutenberg blocks, bare URLs, CKEditor `<oembed>`,
`data-*` placeholders) with each provider's `parse_url`; this base class adds the forms players have
beyond those:

    <object>/<embed>          Flash players (`youtube.com/v/ID`, `moogaloop.swf?clip_id=`)   -> iframe
    <amp-iframe>              the AMP wrapper of any player iframe                            -> iframe
    <amp-youtube> ...         AMP components, the id in an attribute (`amp_elements`)        -> amp
    any element's attribute   a *player* URL in a lazy loader's attribute of any name         -> div
                              (`img[data-src]`, `div[data-embed-frame]`, ...), or a post URL
                              that is the whole value of an element that names the provider
                              (`div[data-provider=Youtube][data-resourceurl]`)
    short inline <script>     `renderExternalContent("https://www.youtube.com/embed/ID")` or a
    or <textarea>             consent template holding the player, next to its placeholder    -> script

A player URL (`player_url`) is the provider's embed form (`/embed/`, `player.vimeo.com`, `w.soundcloud.com
/player`...): nobody writes one into an attribute or a small script except to play it there. Links to
watch pages, thumbnails and channel URLs are never read as embeds here.

Every lookup is anchored on where the provider's host names are written in the page (`places`), so a
page that only links to the provider costs a few string checks; the tree is asked only about elements
the source already pointed at.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from html import unescape
from types import MappingProxyType
from typing import ClassVar
from urllib.parse import unquote

from selectolax.lexbor import LexborNode

from archiver.providers.common.base import Page, PostUrl, Provider, Sighting, host_start, url_from
from archiver.providers.common.urlparts import MAX_URL
from archiver.records import MarkupKind

# A script that only renders one player is a call or a small template; page state is far larger.
MAX_PLAYER_SCRIPT = 2_000
# Tags every player provider reads with `read_element` (plus its own `amp_elements`).
PLAYER_TAGS = ("object", "embed", "amp-iframe")
# Tags whose attributes are never a player placeholder: links and metadata, the player elements the
# scanner or `read_element` reads anyway, and form controls.
NOT_PLACEHOLDER_TAGS = frozenset(
    {
        "a", "area", "link", "meta", "base", "script", "style", "iframe", "amp-iframe", "object",
        "embed", "param", "source", "track", "form", "input", "button", "option", "html", "head",
        "body", "template", "noscript", "textarea", "title",
    }
)  # fmt: skip
# Attributes that make a link of their element rather than a placeholder.
NOT_PLACEHOLDER_ATTRIBUTES = frozenset({"href", "action", "cite", "content", "itemid", "itemtype"})
# Script types that hold data, not a call (JSON-LD and page state name videos without embedding them).
DATA_SCRIPT_TYPES = ("json", "ld+json", "importmap", "speculationrules")
JS_SCRIPT_TYPES = frozenset({"module", "text/ecmascript", "application/ecmascript", "text/jscript"})
# One call statement: `name(...)` or `a.b(...)`, maybe ended by ";" (the argument's first char captured).
_CALL = re.compile(r"\s*(?:[\w$]+\s*\.\s*)*[\w$]+\s*\(\s*(?P<first>.)(?s:.*)\)\s*;?\s*", re.DOTALL)
# Tags whose content is never article text (for "is this placeholder empty?").
_NOT_TEXT = frozenset({"script", "style", "template", "noscript", "textarea"})
_SCHEME_BEFORE = re.compile(r"(?:https?:|https?%3A|https?%3a)?(?://|\\/\\/|%2F%2F|%2f%2f)$", re.IGNORECASE)
_TAG_NAME = re.compile(r"<([A-Za-z][A-Za-z0-9-]*)")
_START_TAG = re.compile(r"<(script|textarea)\b[^>]*>", re.IGNORECASE)
_CLOSE_TAGS = {tag: re.compile(f"</{tag}", re.IGNORECASE) for tag in ("script", "textarea")}
_TYPE_ATTRIBUTE = re.compile(r"""(?<![\w-])type\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)
_SRC_ATTRIBUTE = re.compile(r"(?<![\w-])src\s*=", re.IGNORECASE)
# One attribute of a start tag; the value group covers the quoted (or unquoted) value.
_ATTRIBUTE = re.compile(
    r"[\t\n\f\r /]*(?P<name>[^\t\n\f\r />\"'=][^\t\n\f\r />=]*)"
    r"(?:[\t\n\f\r ]*=[\t\n\f\r ]*(?P<value>\"[^\"]*\"?|'[^']*'?|[^\t\n\f\r >]*))?"
)
_CSS_NAME = re.compile(r"[a-z][a-z0-9_-]{0,63}")
# How far back a start tag may open before a URL in one of its attributes.
MAX_START_TAG = 8_192
# The stem positions of the last page, by stem (see `PlayerProvider.places`).
_STEM_MEMO: dict[str, tuple[str, list[int]]] = {}


# ---- URLs ---------------------------------------------------------------------------------------------
def url_at(text: str, at: int, host: str) -> str | None:
    """The URL whose host name `host` is written at `at` in `text` (with "https://" put in front), if a
    scheme or "//" comes before it, percent-encoded or not; JSON-escaped slashes are read as slashes."""
    begin = host_start(text, at)
    if not _SCHEME_BEFORE.search(text, max(0, begin - 12), begin):
        return None
    return url_from(text, begin, at + len(host) + 600)


def attribute_at(text: str, tag_start: int, at: int) -> tuple[str, str, bool] | None:
    """(tag name, attribute name, whether `at` is in its value rather than its name), names lower case,
    for the start tag opening at `tag_start`; None when `at` is in neither or the names are not plain."""
    tag = _TAG_NAME.match(text, tag_start)
    if tag is None:
        return None
    for match in _ATTRIBUTE.finditer(text, tag.end(), at + 1):
        in_name = match.start("name") <= at < match.end("name")
        in_value = match.start("value") != -1 and match.start("value") <= at < match.end("value")
        if in_name or in_value:
            name = match.group("name").lower()
            return (tag.group(1).lower(), name, in_value) if _CSS_NAME.fullmatch(name) else None
        if match.start() > at:
            break
    return None


def start_tag_before(text: str, at: int) -> int | None:
    """Where the start tag that `at` lies in opens, if `at` lies in one (its "<" and no ">" since)."""
    tag_start = text.rfind("<", max(0, at - MAX_START_TAG), at)
    if tag_start == -1 or text.rfind(">", tag_start, at) != -1:
        return None
    return tag_start


# ---- page helpers -------------------------------------------------------------------------------------
def is_empty(node: LexborNode) -> bool:
    """Whether the element shows no text (scripts, styles and <noscript> copies aside)."""
    for piece in node.traverse(include_text=True):
        if (
            piece.is_text_node
            and piece.parent is not None
            and piece.parent.tag not in _NOT_TEXT
            and (piece.text(deep=False) or "").strip()
        ):
            return False
    return True


def _in_head(node: LexborNode) -> bool:
    parent = node.parent
    for _ in range(64):
        if parent is None:
            return False
        if parent.tag == "head":
            return True
        parent = parent.parent
    return False


@dataclass(frozen=True, slots=True)
class _ScriptCall:
    """A small inline script (or <textarea> template) whose text holds one player URL."""

    tag: str
    body: str  # as the tree gives it (entities decoded in a <textarea>), stripped
    post: PostUrl


def _renders(start_tag: str, body: str) -> bool:
    """Whether an inline script renders a player rather than holding data: code that is one call handed
    no data literal (`renderExternalContent("URL")`, `document.write('<iframe ...>')`), or a template
    (`text/template`, `text/html`: the player's markup itself). JSON, JSON-LD, page state
    (`window.__STATE__ = {...}`), analytics pushes and scripts with a `src` are data or loaders."""
    typed = _TYPE_ATTRIBUTE.search(start_tag)
    kind = typed.group(1).lower() if typed else "text/javascript"
    if _SRC_ATTRIBUTE.search(start_tag) or kind.endswith(DATA_SCRIPT_TYPES):
        return False
    if kind in JS_SCRIPT_TYPES or kind.endswith("javascript"):
        call = _CALL.fullmatch(body)
        return call is not None and call.group("first") not in ("{", "[")
    return True


class PlayerProvider(Provider):
    """Base class of the player providers (see the module docstring)."""

    # AMP (and similar custom) elements of this provider: tag -> attributes that may hold the id.
    amp_elements: ClassVar[Mapping[str, tuple[str, ...]]] = MappingProxyType({})
    # Words (lower case) that name the provider in a placeholder's class or data attributes.
    names: ClassVar[tuple[str, ...]] = ()

    # ---- what subclasses define ----------------------------------------------------------------------
    def read_url(self, url: str) -> tuple[PostUrl, bool] | None:
        """(the post behind `url`, whether `url` is one of the provider's player URLs), or None."""
        raise NotImplementedError

    # ---- URLs ----------------------------------------------------------------------------------------
    def parse_url(self, url: str) -> PostUrl | None:
        found = self._read(url)
        return found[0] if found else None

    def player_url(self, url: str) -> PostUrl | None:
        """The post behind `url` when it is one of the provider's player (embed) URLs, else None."""
        found = self._read(url)
        return found[0] if found and found[1] else None

    def _read(self, url: str) -> tuple[PostUrl, bool] | None:
        # A player URL is short: a longer value (an attribute may hold megabytes) is not read at all.
        if len(url) > MAX_URL:
            return None
        # Every URL of the provider holds its stem: the scanner asks every provider about every iframe.
        if self.stem not in url and self.stem not in url.lower():
            return None
        return self.read_url(url)

    def amp_post(self, tag: str, attribute: str, value: str) -> PostUrl | None:
        """The post named by `value`, the `attribute` of an `amp_elements` element `tag`."""
        return None

    # ---- elements ------------------------------------------------------------------------------------
    def read_element(self, node: LexborNode) -> Sighting | None:
        tag = node.tag or ""
        attrs = node.attrs
        if tag in self.amp_elements:
            for name in self.amp_elements[tag]:
                value = (attrs.get(name) or "").strip()
                post = self.amp_post(tag, name, value) if value and len(value) < 256 else None
                if post is not None:
                    return Sighting(self.name, post, MarkupKind.AMP, node)
            return None
        urls: list[str | None] = []
        if tag == "embed":
            urls = [attrs.get("src")]
        elif tag == "amp-iframe":
            urls = [attrs.get("src"), attrs.get("data-src")]
        elif tag == "object":
            urls = [attrs.get("data")]
            for param in node.css("param"):
                if (param.attrs.get("name") or "").strip().lower() in ("movie", "src", "url"):
                    urls.append(param.attrs.get("value"))
        for url in urls:
            post = self.parse_url(url) if url else None
            if post is not None:
                return Sighting(self.name, post, MarkupKind.IFRAME, node)
        return None

    # ---- where the provider is written --------------------------------------------------------------
    def places(self, text: str) -> list[tuple[str, int]]:
        """As `Provider.places`, remembered for the last page: the scanner's prefilter and `detect` ask
        for the same page, and providers with the same stem (the two Apple ones) share the search."""
        memo = self._places_memo
        if memo is not None and memo[0] is text:
            return memo[1]
        found = self._stem_places(text) if self.stem else super().places(text)
        self._places_memo = (text, found)
        return found

    _places_memo: tuple[str, list[tuple[str, int]]] | None = None

    def stem_hits(self, text: str) -> list[int]:
        """Where `stem` is written in `text` (remembered for the last page)."""
        memo = _STEM_MEMO.get(self.stem)
        if memo is not None and memo[0] is text:
            return memo[1]
        hits = []
        at = text.find(self.stem)
        while at != -1:
            hits.append(at)
            at = text.find(self.stem, at + len(self.stem))
        _STEM_MEMO[self.stem] = (text, hits)
        return hits

    def _stem_places(self, text: str) -> list[tuple[str, int]]:
        hits = self.stem_hits(text)
        offsets = [(name, name.index(self.stem)) for name in sorted(self.hosts | frozenset(self.markers))]
        found: list[tuple[str, int]] = []
        for at in hits:
            for name, offset in offsets:
                start = at - offset
                if start >= 0 and text.startswith(name, start):
                    found.append((name, start))
        return found

    # ---- page forms ----------------------------------------------------------------------------------
    def detect(self, page: Page) -> Iterable[Sighting]:
        text = page.text
        places = page.places_of(self)
        attributes: dict[tuple[str, str], set[str]] = {}
        calls: list[_ScriptCall] = []
        for name, at in places:
            if name not in self.hosts:
                continue
            url = url_at(text, at, name)
            if url is None:
                continue
            tag_start = start_tag_before(text, at)
            # (The attributes of a link or another tag that is never a placeholder are not read.)
            tag = _TAG_NAME.match(text, tag_start) if tag_start is not None else None
            readable = tag is not None and tag.group(1).lower() not in NOT_PLACEHOLDER_TAGS
            place = attribute_at(text, tag_start, at) if tag_start is not None and readable else None
            if place is not None and place[2] and place[0] not in NOT_PLACEHOLDER_TAGS:
                post = self.parse_url(url)
                if post is not None:
                    attributes.setdefault(place[:2], set()).add(post.post_id)
                continue
            # Not a placeholder's attribute: perhaps a small script (a call, or a template holding the
            # player's own markup) renders the player.
            post = self.player_url(url)
            call = self._script_call(text, at, post) if post is not None else None
            if call is not None:
                calls.append(call)
        sightings = list(self._attribute_placeholders(page, attributes))
        if calls:
            sightings += self._script_calls(page, calls)
        sightings += self.lazy_sightings(page, places)
        return sightings

    def lazy_sightings(self, page: Page, places: Sequence[tuple[str, int]]) -> Iterable[Sighting]:
        """Provider-specific lazy placeholders, found from `places` (where the provider is written)."""
        return ()

    def _attribute_placeholders(
        self, page: Page, attributes: Mapping[tuple[str, str], set[str]]
    ) -> Iterator[Sighting]:
        """The elements whose attribute the source showed a post URL in, when that attribute holds a
        player URL (any attribute name), or is a post URL as a whole on an element naming the provider.
        One query per tag and attribute name."""
        for (tag, attribute), ids in attributes.items():
            if attribute in NOT_PLACEHOLDER_ATTRIBUTES:
                continue
            for node in page.tree.css(f"{tag}[{attribute}]"):
                attrs = node.attributes
                value = attrs.get(attribute) or ""
                if any(post_id in value for post_id in ids):
                    post = self._placeholder_post(attrs, attribute, ids)
                    if post is not None:
                        yield Sighting(self.name, post, MarkupKind.DIV, node)

    def _placeholder_post(
        self, attrs: Mapping[str, str | None], attribute: str, ids: set[str]
    ) -> PostUrl | None:
        value = attrs.get(attribute) or ""
        for player in self._player_urls_in(value):
            if player.post_id in ids:
                return player
        post = self.parse_url(value)
        if post is not None and post.post_id in ids and self._names_itself(attrs, attribute):
            return post
        return None

    def _names_itself(self, attrs: Mapping[str, str | None], url_attribute: str) -> bool:
        """Whether an element's class or other data attributes (not URLs) say it is this provider's
        embed (`data-provider="Youtube"`, `class="embed youtube"`)."""
        for key, value in attrs.items():
            if key == url_attribute or not value or len(value) > 256 or "//" in value:
                continue
            if key == "class" or key.startswith("data-"):
                lowered = value.lower()
                if any(name in lowered for name in self.names):
                    return True
        return False

    def _player_urls_in(self, value: str) -> list[PostUrl]:
        """Player URLs written in an attribute value (a URL, or escaped HTML holding one)."""
        if len(value) > 64 * MAX_URL:
            return []
        found: list[PostUrl] = []
        decoded = value if "%2F" not in value and "%3A" not in value else unquote(value)
        for name, at in Provider.places(self, decoded):  # not remembered: the page's places are
            if name in self.hosts:
                url = url_at(decoded, at, name)
                post = self.player_url(url) if url else None
                if post is not None:
                    found.append(post)
        return found

    def _script_call(self, text: str, at: int, post: PostUrl) -> _ScriptCall | None:
        """The small inline script (or <textarea> template) around `at`, if the player URL there is in
        one that holds no other player."""
        low = max(0, at - MAX_PLAYER_SCRIPT - 600)
        # The last script or textarea opened before `at`, in any letter case (older CMSs write <SCRIPT>).
        start_tag = None
        for match in _START_TAG.finditer(text, low):
            if match.start() >= at:
                break
            start_tag = match
        if start_tag is None or start_tag.end() > at:
            return None
        tag = start_tag.group(1).lower()
        if _CLOSE_TAGS[tag].search(text, start_tag.start(), at) is not None:
            return None
        close = _CLOSE_TAGS[tag].search(text, at, at + MAX_PLAYER_SCRIPT)
        closed = close.start() if close else -1
        if closed == -1 or closed - start_tag.end() > MAX_PLAYER_SCRIPT:
            return None
        body = text[start_tag.end() : closed]
        if tag == "script" and not _renders(start_tag.group(0), body):
            return None
        decoded = unescape(body) if tag == "textarea" and "&" in body else body
        ids = {p.post_id for p in self._player_urls_in(decoded)}
        return _ScriptCall(tag, decoded.strip(), post) if ids == {post.post_id} else None

    def _script_calls(self, page: Page, calls: list[_ScriptCall]) -> list[Sighting]:
        """The elements of `calls` in the tree (scripts in <head> are not the article's), each widened to
        its placeholder when the element's parent shows nothing else."""
        sightings: list[Sighting] = []
        for tag in sorted({call.tag for call in calls}):
            wanted = {call.body: call.post for call in calls if call.tag == tag}
            for node in page.tree.tags(tag):
                if "src" in node.attrs:
                    continue
                post = wanted.get((node.text(deep=True) or "").strip())
                if post is None or _in_head(node):
                    continue
                sightings.append(Sighting(self.name, post, MarkupKind.SCRIPT, self._script_unit(node)))
        return sightings

    @staticmethod
    def _script_unit(script: LexborNode) -> LexborNode:
        """The script's parent when it is only a placeholder for the player (a few empty elements and the
        script), else the script itself."""
        parent = script.parent
        if parent is None or parent.tag in ("body", "head", "html"):
            return script
        children = [child for child in parent.iter() if child.tag and not child.tag.startswith("-")]
        if len(children) > 4 or any(child.tag in ("iframe", "blockquote", "img") for child in children):
            return script
        return parent if is_empty(parent) else script
