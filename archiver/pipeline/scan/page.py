"""scan: Article -> ScanResult, every embed of one article (and the residue of broken ones).

One article, one parse:

1. Which providers the page wants (`places`): one pass over the text finds where every provider's host
   names are written in URLs and where residue markers ("(@") are; a provider is active when one of
   those URLs is a post of it or a residue line of it is there. A page no provider wants, and that
   writes no provider's `markers`, is never parsed.
2. Elements: those of the tags the generic forms (`forms.ELEMENT_TAGS`) and the providers
   (`element_tags`: all providers, a provider's own markup needs no URL of it) read, fetched by tag name,
   each read once; generic forms are routed to the active providers and to those whose markers the page
   writes (`forms.Routes`). Then the `detect` hooks of the active providers, and of those whose
   `detect_markers` the page writes.
3. Source forms, anchored on where provider host names are written in the raw text: Gutenberg comment
   pairs, bare URLs, placeholder attributes (`forms`); then what broken or blocked embeds leave: residue
   lines, URL-less consent placeholders resolved from script data (`leftovers`).
4. Units: each sighting is widened to the element a rewrite would replace (a Gutenberg/CKEditor figure, a
   <noscript> copy, the loader script after a blockquote), located in the source (`spans`), and
   sightings that are one embed (a blockquote and its rendered iframe, a figure and the URL inside it,
   a comment pair and its figure) are joined (`units`). The same post embedded twice stays two embeds.
5. Char spans become byte spans in `Article.data` (`offsets`).

How the scan stays fast. The parse is the budget (benchmarks/scan_speed.py: the whole scan within 1.5x
a bare parse-and-select); everything else is counted in passes over the text and walks of the tree, since
each costs a noticeable fraction of a parse, and Python work per place or element is kept to the few
places that matter. So: the providers' host names are found in one regex pass for all of them (not a
search per provider), residue markers by memchr on their rare "@"; a URL written many times (share links)
is parsed once; markers and `detect_markers` are looked for only when an answer depends on them, with
plain str searches (long needles skip fastest; a regex alternation tests every character); elements are
fetched with `tags()` (a CSS selector list, and above all an attribute selector, costs the tree several
times as much); an element is located among the start tags of its name (listed once per name with plain
searches), and the opaque ranges (scripts, comments) that need a regex pass over the whole page are
computed only when the count of those start tags disagrees with the tree; byte offsets are found by looking up
the encoded text around each offset in the window of bytes where it can be, not by encoding the text up to
it; a tag holding thousands of URLs is read once. Nothing is cached across articles except what depends on
the provider tuple (`_plan`). Measured numbers are in benchmarks/README.md.

Nothing here raises on bad input: whatever goes wrong becomes `ScanResult.error`, one line.
"""

from __future__ import annotations

import bisect
import codecs
import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archiver.pipeline.scan.archived import archived_cards
from archiver.pipeline.scan.forms import (
    ELEMENT_TAGS,
    Routes,
    in_site_chrome,
    placeholder_elements,
    read_element,
    text_posts,
)
from archiver.pipeline.scan.leftovers import (
    placeholder_candidates,
    residue,
    residue_phrases,
    url_less_placeholders,
)
from archiver.pipeline.scan.lost import lost_spots, merged
from archiver.pipeline.scan.offsets import byte_offsets
from archiver.pipeline.scan.places import PagePlaces, PlaceIndex
from archiver.pipeline.scan.services import SERVICE_HOSTS, card_loaders, service_cards
from archiver.pipeline.scan.spans import SourceText
from archiver.pipeline.scan.units import Found, embed_refs, join_units, put_in_document_order, unit_root
from archiver.providers import PROVIDERS
from archiver.providers.common.base import Page, PostUrl, Provider, Sighting, url_from
from archiver.records import Article, EmbedRef, MarkupKind, ScanResult, Span

_LEADING_TAG = re.compile(r"[a-zA-Z][a-zA-Z0-9-]*")
_SURROGATES = re.compile("[\ud800-\udfff]")
_ERROR_MAX = 200


@dataclass(frozen=True, slots=True)
class _Plan:
    """What the scan needs to know about a provider tuple, worked out once."""

    places: PlaceIndex
    # Tag name -> the providers that read elements of it (`element_tags`), in registry order.
    claims: dict[str, tuple[Provider, ...]]
    # Every tag the element pass reads (generic forms first).
    tags: tuple[str, ...]
    # Any provider's `markers` (a page that writes none, and no post URL or residue line, is not parsed).
    markers: tuple[str, ...]

    def marked(self, text: str) -> bool:
        # One str search per marker: a regex alternation of them would test every character of the page
        # against a character set, several times slower than all the searches together.
        return any(marker in text for marker in self.markers)


@lru_cache(maxsize=8)
def _plan(providers: tuple[Provider, ...]) -> _Plan:
    claims: dict[str, list[Provider]] = {}
    for provider in providers:
        for tag in provider.element_tags:
            claims.setdefault(tag, []).append(provider)
    markers = {marker for provider in providers for marker in provider.markers if marker}
    return _Plan(
        places=PlaceIndex(providers, SERVICE_HOSTS),
        claims={tag: tuple(claimants) for tag, claimants in claims.items()},
        tags=tuple(dict.fromkeys((*ELEMENT_TAGS, *claims))),
        # A marker that holds another is written wherever that one is: look for the shorter only.
        markers=tuple(sorted(m for m in markers if not any(o != m and o in m for o in markers))),
    )


def scan_article(article: Article, providers: Sequence[Provider] = PROVIDERS) -> ScanResult:
    """The embeds of `article` in document order; never raises (a failure is `ScanResult.error`)."""
    try:
        scan = _Scan(article, providers)
        embeds = scan.run()
        embeds = merged(embeds, lost_spots(article, embeds, lambda: scan.tree, providers))
        archived = _archived(article)
    except Exception as exc:  # the contract: one bad article is a result, never a crash of the run
        return ScanResult(article.key, error=_one_line(exc))
    if archived:
        # A card is opaque: the links it holds to the original are not embeds of their own.
        cards = [(a.span.start, a.span.end) for a in archived if a.span is not None]
        embeds = tuple(
            e for e in embeds if e.span is None or not any(s <= e.span.start < t for s, t in cards)
        )
        embeds = tuple(sorted((*embeds, *archived), key=lambda e: e.span.start if e.span else -1))
    return ScanResult(article.key, embeds)


_ORIGINAL_URL = re.compile(r'data-originalurl\s*=\s*"([^"]*)"')


def _archived(article: Article) -> tuple[EmbedRef, ...]:
    """Our own fallback cards, reported as their embeds, archived (a rewrite is not a disappearance)."""
    cards = archived_cards(article.text)
    if not cards:
        return ()
    ends = [c.end for c in cards if c.end is not None]
    offsets = (
        byte_offsets(article.text, article.data, article.encoding, [c.start for c in cards] + ends) or {}
    )
    refs = []
    for card in cards:
        head = article.text[card.start : card.start + 4096]
        found = _ORIGINAL_URL.search(head)
        url = html.unescape(found.group(1)) if found else None
        start, end = offsets.get(card.start), offsets.get(card.end) if card.end is not None else None
        span = Span(start, end) if start is not None and end is not None else None
        refs.append(EmbedRef(card.provider, card.post_id, url, MarkupKind.ARCHIVED, span))
    return tuple(refs)


def _one_line(exc: BaseException) -> str:
    message = " ".join(str(exc).split()) or type(exc).__name__
    return f"cannot scan: {type(exc).__name__}: {message}"[:_ERROR_MAX]


class _Scan:
    def __init__(self, article: Article, providers: Sequence[Provider]) -> None:
        self.article = article
        self.text = article.text
        self.providers = tuple(providers)
        self.plan = _plan(self.providers)
        self.source = SourceText(article.text)
        self._tree: LexborHTMLParser | None = None
        self._same_tag: dict[str, list[LexborNode]] = {}
        self._index_of: dict[str, dict[int, int]] = {}
        self._loaders = {provider.name: provider.loader_scripts for provider in providers}
        self._posts: dict[tuple[str, int], PostUrl | None] = {}
        self._parsed: dict[tuple[str, str], PostUrl | None] = {}
        self._chrome: dict[int, bool] = {}
        self._texts: dict[str, bool] = {}
        self._hosts_found: set[str] | None = None
        self.places = PagePlaces()

    @property
    def tree(self) -> LexborHTMLParser:
        if self._tree is None:
            self._tree = _parse(self.article)
        return self._tree

    def run(self) -> tuple[EmbedRef, ...]:
        text = self.text
        if not text or text.isspace():
            return ()
        self.places = self.plan.places.find(text)
        active = [provider for provider in self.providers if self._active(provider)]
        if not active and not self.places.services and not self.plan.marked(text):
            return ()  # no provider or embed service wants the page: it is never parsed
        routes = Routes(self.providers, active, self._is_marked)
        found = self._place_all(self._element_pass(routes))
        host_places = self.places.hosts
        page = Page(text, self.tree, host_places, self._same_tag, self._texts)
        detecting = [provider for provider in self.providers if self._detects(provider, active)]
        found += self._place_all([s for provider in detecting for s in provider.detect(page)])
        if self.places.services:
            found += self._place_all(service_cards(self.tree, routes.anywhere))
        known = {key for f in found if (key := f.post_key)}
        posts = text_posts(self.source, active, known, host_places, self._post_at, self.tree.scripts_contain)
        found += [Found(b.sighting, None, b.start, b.end) for b in posts.blocks + posts.bare]
        found += self._place_all(placeholder_elements(self.tree, posts.placeholders, routes))
        found += self._residue(active, found)
        found += self._script_only(active, posts.in_scripts, found)
        put_in_document_order(found, self.tree, len(self.text))
        return embed_refs(join_units(found, self.source), self.article)

    # ---- 1. which providers the page wants --------------------------------------------------------------
    def _active(self, provider: Provider) -> bool:
        """Whether the page writes one of the provider's post URLs (an entity-encoded one is left to the
        parser to decode), or a residue line of it."""
        text = self.text
        for host, at in self.places.of(provider.name):
            if self._post_at(provider, host, at) is not None or "&#" in text[at : at + 24]:
                return True
        if not provider.residue_markers:
            return False
        offsets = [at for marker in provider.residue_markers for at in self.places.markers.get(marker, ())]
        return bool(offsets) and bool(provider.residue_phrases_near_markers(text, None, sorted(offsets)))

    def _post_at(self, provider: Provider, host: str, at: int) -> PostUrl | None:
        """`provider.post_url_at(text, at, host)`, read once per URL: the index knows where the URL starts,
        and a URL written many times on a page (share links) is parsed once."""
        key = (provider.name, at)
        if key in self._posts:
            return self._posts[key]
        begin = self.places.begins.get(at)
        if begin is None or type(provider).post_url_at is not Provider.post_url_at:
            post = provider.post_url_at(self.text, at, host)
        elif begin < 0:
            post = None
        else:
            url = url_from(self.text, begin, at + len(host) + 400)
            by_url = (provider.name, url)
            if by_url in self._parsed:
                post = self._parsed[by_url]
            else:
                post = self._parsed[by_url] = provider.parse_url(url)
        self._posts[key] = post
        return post

    def _detects(self, provider: Provider, active: Sequence[Provider]) -> bool:
        """Whether the provider's `detect` is asked: on a page that writes one of its post URLs or residue
        lines, or one of its `detect_markers`."""
        if type(provider).detect is Provider.detect:
            return False
        return provider in active or any(self._written(marker) for marker in provider.detect_markers)

    def _written(self, marker: str) -> bool:
        written = self._texts.get(marker)
        if written is None:
            # A marker that a host name found in the page holds ("youtube" in "youtube.com") is written
            # there: no search of the whole page needed.
            if self._hosts_found is None:
                self._hosts_found = {host for places in self.places.hosts.values() for host, _ in places}
            written = any(marker in host for host in self._hosts_found) or marker in self.text
            self._texts[marker] = written
        return written

    def _is_marked(self, provider: Provider) -> bool:
        """Whether the page writes one of the provider's `markers` (looked for once, when asked)."""
        return any(self._written(marker) for marker in provider.markers)

    # ---- 3. page forms -----------------------------------------------------------------------------------
    def _residue(self, active: Sequence[Provider], found: list[Found]) -> list[Found]:
        """Attribution lines outside every embed found so far."""
        taken = _elements_of(found)
        covered = _merged((f.start, f.end) for f in found if f.start is not None and f.end is not None)
        lines: list[Found] = []
        for provider in active:
            offsets = sorted(
                at for marker in provider.residue_markers for at in self.places.markers.get(marker, ())
            )
            if not offsets:
                continue
            phrases = residue_phrases(self.source, provider, covered, offsets)
            placed = self._place_all(list(residue(self.tree, provider, phrases, taken)))
            # A block that holds an embed as well is not that embed's leftover: the embed is reported.
            lines += [line for line in placed if not _holds_any(line, covered)]
        return lines

    def _script_only(
        self, active: Sequence[Provider], in_scripts: dict[str, list[PostUrl]], found: list[Found]
    ) -> list[Found]:
        """Consent placeholders without a URL, given in order the posts only script data names."""
        titles = [provider.title for provider in self.providers]
        taken = _elements_of(found)
        sightings: list[Sighting] = []
        candidates: list[LexborNode] | None = None
        for provider in active:
            posts = _unique(in_scripts.get(provider.name, []))
            if posts:
                if candidates is None:
                    candidates = placeholder_candidates(self.tree)
                holders = url_less_placeholders(candidates, provider, titles, taken)
                sightings += [
                    Sighting(provider.name, post, MarkupKind.SCRIPT, holder)
                    for holder, post in zip(holders, posts, strict=False)
                ]
        return self._place_all(sightings)

    # ---- 2. elements ---------------------------------------------------------------------------------------
    def _element_pass(self, routes: Routes) -> list[Sighting]:
        """Every element of a tag some form or provider reads, each read once: by the providers that claim
        its tag (all of them: a provider's own markup needs no URL of it in the page), then as a generic
        form routed to the page's providers."""
        claims = self.plan.claims
        sightings: list[Sighting] = []
        for tag in self.plan.tags:
            generic = tag in ELEMENT_TAGS
            claimants = claims.get(tag, ())
            for node in self._elements(tag):
                sighting = None
                for provider in claimants:
                    sighting = provider.read_element(node)
                    if sighting is not None:
                        break
                if sighting is None and generic:
                    sighting = read_element(node, routes)
                if sighting is not None:
                    sightings.append(sighting)
        return sightings

    def _elements(self, tag: str) -> list[LexborNode]:
        """Every element named `tag`, in document order."""
        nodes = self._same_tag.get(tag)
        if nodes is None:
            nodes = self.tree.tags(tag) if _LEADING_TAG.fullmatch(tag) else []
            self._same_tag[tag] = nodes
        return nodes

    # ---- 4. placing sightings (`units` joins them) ---------------------------------------------------------
    def _place_all(self, sightings: list[Sighting]) -> list[Found]:
        # Sidebar widgets are site chrome, not the article (forms.in_site_chrome).
        chrome = self._chrome
        sightings = [s for s in sightings if s.node is None or not in_site_chrome(s.node, known=chrome)]
        found = [self._place(sighting, widen=True) for sighting in sightings]
        # A figure around two different posts is not one embed's wrapper: keep each embed to itself.
        posts_by_root: dict[int, set[tuple[str, str] | None]] = {}
        for f in found:
            if f.root is not None:
                posts_by_root.setdefault(f.root.mem_id, set()).add(f.post_key)
        for index, f in enumerate(found):
            node = f.sighting.node
            if (
                f.root is not None
                and len(posts_by_root[f.root.mem_id]) > 1
                and (node is None or f.root.mem_id != node.mem_id)
            ):
                found[index] = self._place(f.sighting, widen=False)
        return found

    def _place(self, sighting: Sighting, widen: bool) -> Found:
        node = sighting.node
        if node is None:
            return Found(sighting, None, None, None)
        root = unit_root(node) if widen else node
        span = self._locate(root)
        if span is None:
            return Found(sighting, root, None, None, anchor=self._anchor(root))
        start, end = span
        loaders = card_loaders(root)  # an embed service's card and its script
        if not loaders and sighting.markup is MarkupKind.BLOCKQUOTE and root.tag == "blockquote":
            loaders = self._loaders.get(sighting.provider, ())
        if loaders:
            end = self.source.script_after(end, loaders) or end
        return Found(sighting, root, start, end)

    def _locate(self, node: LexborNode) -> tuple[int, int] | None:
        """The source range of `node`, when it can be told for sure."""
        index = self._index(node)
        return None if index is None else self.source.locate(node, self._elements(node.tag or ""), index)

    def _anchor(self, node: LexborNode) -> int | None:
        """Where the start tag of `node` is (for document order when its range cannot be told)."""
        index = self._index(node)
        return None if index is None else self.source.start_of(node, self._elements(node.tag or ""), index)

    def _index(self, node: LexborNode) -> int | None:
        tag = node.tag or ""
        index_of = self._index_of.get(tag)
        if index_of is None:
            nodes = self._elements(tag)
            index_of = self._index_of[tag] = {other.mem_id: index for index, other in enumerate(nodes)}
        return index_of.get(node.mem_id)


def _parse(article: Article) -> LexborHTMLParser:
    """The one parse of an article. UTF-8 bytes go to lexbor as they are (a quarter faster than handing
    it a str, which selectolax encodes first); other encodings are parsed from the decoded text."""
    if _is_utf8(article.encoding):
        return LexborHTMLParser(article.data)
    try:
        return LexborHTMLParser(article.text)
    except UnicodeError:
        # Lone surrogates (bytes decoded with surrogateescape): one replacement char each keeps offsets.
        return LexborHTMLParser(_SURROGATES.sub("\ufffd", article.text))


def _is_utf8(encoding: str) -> bool:
    try:
        return codecs.lookup(encoding).name in ("utf-8", "utf-8-sig")
    except LookupError:
        return False


def _elements_of(found: list[Found]) -> dict[int, LexborNode]:
    """The elements read as embeds (and the units widened around them), by mem_id."""
    elements: dict[int, LexborNode] = {}
    for f in found:
        for node in (f.root, f.sighting.node):
            if node is not None:
                elements[node.mem_id] = node
    return elements


def _merged(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """Sorted, disjoint ranges covering the same places as `ranges`."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _holds_any(found: Found, ranges: list[tuple[int, int]]) -> bool:
    if found.start is None or found.end is None:
        return False
    index = bisect.bisect_left(ranges, (found.start, -1))
    return index < len(ranges) and ranges[index][0] < found.end


def _unique(posts: list[PostUrl]) -> list[PostUrl]:
    seen: set[str] = set()
    unique: list[PostUrl] = []
    for post in posts:
        if post.post_id not in seen:
            seen.add(post.post_id)
            unique.append(post)
    return unique
