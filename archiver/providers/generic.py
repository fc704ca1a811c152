"""Embeds of platforms no other provider knows, found by their explicit embed markup (oEmbed discovery).

Last in the registry, which hands it the other providers. Detection reports only markup that says "embed
this URL" in so many words, and only when no other provider claims the URL (neither as a post nor as one
of its hosts) and the markup does not name a known provider:

    Gutenberg: figure.wp-block-embed whose wrapper holds only the URL (the stored or failed form), or
               that follows its `<!-- wp:embed {"url": ...} -->` comment        -> bare-url / block-comment
    CKEditor 5: <oembed url="..."> (or a renamed <o-embed>)                      -> oembed-tag
    CKEditor 5 previews: any element with data-oembed-url                        -> div

Never a plain link, a bare URL or an iframe of an unknown host: those are everywhere and embed nothing
in particular. `parse_url` therefore routes no URL at all (it would claim every URL otherwise).

Id: the normalised URL itself, which is also the URL: scheme https, host lower-cased, default port,
fragment and tracking parameters (`utm_*`, `fbclid`, `gclid`, `mc_cid`, `mc_eid`) dropped, an empty path
written "/".

Capture is oEmbed discovery (spec section 4): the post's own page is fetched (`max_page_bytes`, HTML),
its `<link rel="alternate" type="application/json+oembed" href>` (or the equivalent `Link:` response
header) names the oEmbed URL, and that URL is asked through the same client (the SSRF guard vets it; a
scheme other than http(s) is refused). The page is only the way there: whether the post is alive is what
the oEmbed answer says. A page with no discovery link is ambiguous; a page that is 404/410 is gone.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from urllib.parse import urljoin, urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archiver.http import FetchResult
from archiver.providers.common.base import Page, PostUrl, Provider, Sighting, has_class, node_text
from archiver.providers.common.context import CaptureContext
from archiver.providers.common.ladder import (
    RungResult,
    assemble,
    failed_rung,
    fetch,
    markup_fields,
    oembed_at,
    oembed_fields,
    raw_response,
)
from archiver.providers.common.urlparts import MAX_URL
from archiver.records import Capture, EmbedRef, MarkupKind, MediaRef, Outcome

TRACKING_PARAMS = frozenset({"fbclid", "gclid", "mc_cid", "mc_eid"})
_HTTP_URL = re.compile(r"https?://[^\s\"'<>]+", re.IGNORECASE)
# `<!-- wp:embed {...} -->` (or a pre-5.6 `wp:core-embed/NAME`): the block name, then its JSON attributes.
_BLOCK_COMMENT = re.compile(r"\s*wp:(?:embed|core-embed/(?P<slug>[\w-]+))\s+(?P<attrs>\{.*\})\s*$", re.DOTALL)
_PROVIDER_CLASS = re.compile(r"(?:is-provider-|wp-block-embed-)(?P<slug>[\w-]+)")


class Generic(Provider):
    name = "generic"
    title = "oEmbed discovery"
    recognises = (
        "explicit embed markup of platforms no other provider knows: Gutenberg wp:embed blocks and"
        " figure.wp-block-embed holding only a URL, CKEditor <oembed url>, elements with data-oembed-url",
        "never plain links, bare URLs or iframes of unknown hosts; id = the normalised URL",
    )
    not_examples = (
        "https://example.com/2024/05/some-article/",
        "https://www.example.org/embed/12345",
    )

    markers = ("wp:embed", "wp:core-embed", "wp-block-embed", "<oembed", "<o-embed", "data-oembed-url")
    detect_markers = ("data-oembed-url",)  # `detect` reads CKEditor previews
    stem = "embed"
    element_tags = ("figure", "oembed", "o-embed")

    def __init__(self, others: Sequence[Provider]) -> None:
        # Every other provider (the registry's platforms): a URL one of them claims is never ours.
        self._others = tuple(others)
        self._other_names = frozenset(provider.name for provider in self._others)

    def parse_url(self, url: str) -> PostUrl | None:
        return None  # routes nothing: only explicit embed markup is read (see read_element, detect)

    # ---- markup ------------------------------------------------------------------------------------
    def read_element(self, node: LexborNode) -> Sighting | None:
        if node.tag == "figure":
            return self._read_figure(node)
        return self._sighting(node.attrs.get("url") or "", MarkupKind.OEMBED_TAG, node)

    def _read_figure(self, figure: LexborNode) -> Sighting | None:
        if not has_class(figure, "wp-block-embed") or self._known_slug(_class_slugs(figure)):
            return None
        url, slug = _block_comment_before(figure)
        if url is not None:
            return None if self._known_slug([slug]) else self._sighting(url, MarkupKind.BLOCK_COMMENT, figure)
        wrapper = figure.css_first("div.wp-block-embed__wrapper")
        text = node_text(wrapper) if wrapper is not None else ""
        if not _HTTP_URL.fullmatch(text):
            return None
        return self._sighting(text, MarkupKind.BARE_URL, figure)

    def detect(self, page: Page) -> Iterable[Sighting]:
        """CKEditor previews: elements whose data-oembed-url names what they show."""
        if "data-oembed-url" not in page.text:
            return
        for node in page.tree.css("[data-oembed-url]"):
            sighting = self._sighting(node.attrs.get("data-oembed-url") or "", MarkupKind.DIV, node)
            if sighting is not None:
                yield sighting

    def _sighting(self, url: str, markup: MarkupKind, node: LexborNode) -> Sighting | None:
        url = url.strip()
        if not _HTTP_URL.fullmatch(url[:MAX_URL]) or self._claimed(url):
            return None
        normal = normalise(url)
        if normal is None:
            return None
        return Sighting(self.name, PostUrl(self.name, normal, normal), markup, node)

    # ---- what the other providers claim -------------------------------------------------------------
    def _claimed(self, url: str) -> bool:
        """Whether another provider claims `url`: as one of its posts, or as a URL on one of its hosts
        (a profile, a timeline, a playlist: not a post, and not an unknown platform's either)."""
        try:
            host = (urlsplit(url).hostname or "").lower()
        except ValueError:
            return True
        for provider in self._others:
            if any(host == name or host.endswith("." + name) for name in provider.hosts):
                return True
            if provider.parse_url(url) is not None:
                return True
        return False

    def _known_slug(self, slugs: Iterable[str | None]) -> bool:
        """Whether a Gutenberg provider slug ("twitter", "apple-music") names a registered provider."""
        return any(slug and slug.replace("-", "_") in self._other_names for slug in slugs)

    # ---- capture: the post's page names its oEmbed URL (discovery), then that oEmbed ---------------
    def capture(self, ref: EmbedRef, ctx: CaptureContext) -> Capture:
        fields = markup_fields(ref)
        media: list[MediaRef] = []
        url = ref.url or ""
        if urlsplit(url).scheme.lower() not in ("http", "https"):
            return Capture(self.name, ref.post_id, ref.url, Outcome.AMBIGUOUS, "no http(s) URL to ask about")
        fetched = fetch(ctx, url, "page", max_bytes=ctx.max_page_bytes, accept="text/html")
        response = raw_response("page", fetched, ctx.clock.now().isoformat())
        failed = failed_rung(ctx, fetched, response, "page")
        if failed is not None:
            return assemble(self.name, ref.post_id, ref.url, [failed], fields, media)
        href, problem = discovery_link(fetched)
        if href is None:
            page = RungResult(Outcome.AMBIGUOUS, f"page: 200 but {problem}", fetched.status, response)
            return assemble(self.name, ref.post_id, ref.url, [page], fields, media)
        named = f"page: names its oEmbed URL on {urlsplit(href).hostname}"
        page = RungResult(Outcome.OK, named, fetched.status, response)
        oembed = _discovered_oembed(ctx, href)
        if oembed.data is not None:
            oembed_fields(oembed.data, fields, media)
        return assemble(self.name, ref.post_id, ref.url, [oembed], fields, media, before=(page,))


def normalise(url: str) -> str | None:
    """The URL as the generic provider keys it: https, lower-case host, no default port, no fragment,
    no tracking parameters, "/" for an empty path. None when it is not an http(s) URL with a host."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    if parts.scheme.lower() not in ("http", "https") or not host:
        return None
    netloc = host if port in (None, 80, 443) else f"{host}:{port}"
    kept = [
        piece
        for piece in parts.query.split("&")
        if piece and not (piece.startswith("utm_") or piece.split("=", 1)[0] in TRACKING_PARAMS)
    ]
    query = "?" + "&".join(kept) if kept else ""
    return f"https://{netloc}{parts.path or '/'}{query}"


def _class_slugs(figure: LexborNode) -> list[str | None]:
    classes = (figure.attrs.get("class") or "").split()
    return [match.group("slug") for token in classes if (match := _PROVIDER_CLASS.fullmatch(token))]


def _block_comment_before(figure: LexborNode) -> tuple[str | None, str | None]:
    """The URL and provider slug of the `<!-- wp:embed {...} -->` comment just before the figure."""
    node = _before(figure)
    parent = figure.parent
    if node is None and parent is not None and parent.tag == "body" and parent.parent is not None:
        # Stored content that starts with the block: the parser put its comment before <html>.
        node = _before(parent.parent)
    if node is None or not node.is_comment_node:
        return None, None
    match = _BLOCK_COMMENT.match(node.comment_content or "")
    if match is None:
        return None, None
    try:
        attrs = json.loads(match.group("attrs"))
    except ValueError:
        return None, None
    if not isinstance(attrs, dict):
        return None, None
    url, slug = attrs.get("url"), attrs.get("providerNameSlug") or match.group("slug")
    return (url if isinstance(url, str) else None), (slug if isinstance(slug, str) else None)


def _before(node: LexborNode) -> LexborNode | None:
    """The sibling before `node`, whitespace skipped."""
    previous = node.prev
    while previous is not None and previous.is_text_node and not previous.text(deep=False).strip():
        previous = previous.prev
    return previous


# ---- capture -------------------------------------------------------------------------------------------
# The discovery types of a JSON oEmbed (text/json+oembed is an old spelling some sites still write).
JSON_OEMBED_TYPES = frozenset({"application/json+oembed", "text/json+oembed"})
XML_OEMBED_TYPES = frozenset({"text/xml+oembed", "application/xml+oembed"})
# One `Link:` header value: `<URL>; rel="alternate"; type="application/json+oembed", <URL2>; ...`
_LINK_VALUE = re.compile(r"<(?P<url>[^>]*)>(?P<params>[^<]*)")
_LINK_PARAM = re.compile(r';\s*(?P<name>[A-Za-z-]+)\s*=\s*(?:"(?P<quoted>[^"]*)"|(?P<bare>[^;,\s]*))')


def discovery_link(page: FetchResult) -> tuple[str | None, str]:
    """The absolute http(s) URL of the page's JSON oEmbed (from its `Link:` header, else from a
    `<link rel="alternate">` in the page), or None and what is missing."""
    found = [(url, kind) for url, kind in _header_links(page.headers.get("link", ""))]
    if not found and page.body:
        found = _html_links(page.text())
    json_links = [url for url, kind in found if kind in JSON_OEMBED_TYPES]
    if not json_links:
        if any(kind in XML_OEMBED_TYPES for _, kind in found):
            return None, "it offers only an XML oEmbed discovery link (JSON is not offered)"
        return None, "no oEmbed discovery link"
    href = urljoin(page.url, json_links[0].strip())
    parts = urlsplit(href)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None, f"its oEmbed discovery link is not an http(s) URL ({href[:80]!r})"
    return href, ""


def _header_links(value: str) -> list[tuple[str, str]]:
    """(URL, type) of each `rel=alternate` link of a `Link:` header."""
    links: list[tuple[str, str]] = []
    for match in _LINK_VALUE.finditer(value[: MAX_URL * 4]):
        params = {
            m.group("name").lower(): (m.group("quoted") if m.group("quoted") is not None else m.group("bare"))
            for m in _LINK_PARAM.finditer(match.group("params"))
        }
        if "alternate" in (params.get("rel") or "").lower().split():
            links.append((match.group("url"), (params.get("type") or "").strip().lower()))
    return links


def _html_links(html: str) -> list[tuple[str, str]]:
    """(href, type) of each `<link rel="alternate" href>` of a page, in order."""
    links: list[tuple[str, str]] = []
    for node in LexborHTMLParser(html).css("link[href]"):
        rel = (node.attrs.get("rel") or "").lower().split()
        href = node.attrs.get("href") or ""
        if "alternate" in rel and href.strip():
            links.append((href, (node.attrs.get("type") or "").strip().lower()))
    return links


def _discovered_oembed(ctx: CaptureContext, href: str) -> RungResult:
    """GET the oEmbed URL a page named (it already carries `url=` and `format=`) and classify it."""
    return oembed_at(ctx, href)
