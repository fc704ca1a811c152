"""What a post's own page says of it in its head: Open Graph, Twitter card and article meta tags, and
JSON-LD, as recovery from web archives reads archived copies of post pages.

    page_meta(html) -> PageMeta          the meta tags (first value of each name) and JSON-LD objects
    read_page_meta(html, names_post) -> ArchivedPost | None
                                         the generic reading (title, text, published, author, image) of
                                         a page whose og:url or canonical link `names_post`, else None
    web_url(value)                       `value` when it is an absolute http(s) URL, else None

The generic reading never takes a page that does not say it is the post: an archive's copy of a post
URL is often a redirect to a home page, a login wall or a consent page, whose meta describe the site.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser

# The head is where these live; some pages put long preambles first.
_HEAD_CHARS = 262_144
_META_NAMES = ("property", "name", "itemprop")
# JSON-LD types that describe one post (or its media) rather than a site, a person or a breadcrumb.
_POST_TYPES = frozenset(
    {
        "socialmediaposting",
        "discussionforumposting",
        "blogposting",
        "article",
        "newsarticle",
        "imageobject",
        "videoobject",
        "audioobject",
        "musicrecording",
        "podcastepisode",
    }
)


@dataclass(frozen=True, slots=True)
class ArchivedPost:
    """What an archived page of a post shows: snapshot fields by name (`author_name`, `handle`,
    `author_url`, `text`, `text_html`, `published`, `title`), the URL of its image, and the markup the
    fields were read from (kept as the snapshot's raw evidence)."""

    fields: Mapping[str, str]
    image_url: str | None
    evidence: str


@dataclass(frozen=True, slots=True)
class PageMeta:
    """The meta tags of a page's head (names lower-cased, first value of each), its canonical link, and
    its JSON-LD objects (flattened: `@graph` members and lists), with the markup they came from."""

    tags: Mapping[str, str]
    canonical: str | None
    json_ld: tuple[Mapping[str, Any], ...] = ()
    evidence: tuple[str, ...] = field(default=())

    def first(self, *names: str) -> str | None:
        for name in names:
            value = self.tags.get(name, "").strip()
            if value:
                return value
        return None

    @property
    def url(self) -> str | None:
        """The page's own statement of its URL: og:url, else the canonical link."""
        return self.first("og:url") or self.canonical

    def posts(self) -> Iterator[Mapping[str, Any]]:
        """The JSON-LD objects that describe a post."""
        for item in self.json_ld:
            types = item.get("@type")
            names = types if isinstance(types, list) else [types]
            if any(isinstance(t, str) and t.lower() in _POST_TYPES for t in names):
                yield item


def page_meta(page: str) -> PageMeta:
    tree = LexborHTMLParser(page[:_HEAD_CHARS])
    tags: dict[str, str] = {}
    evidence: list[str] = []
    for node in tree.css("meta[content]"):
        name = next((node.attrs.get(a) for a in _META_NAMES if node.attrs.get(a)), None)
        content = node.attrs.get("content")
        if not name or content is None:
            continue
        key = name.strip().lower()
        if key not in tags:
            tags[key] = html.unescape(content) if "&" in content else content
            if key.startswith(("og:", "twitter:", "article:")) or key == "description":
                evidence.append(node.html or "")
    canonical = None
    for node in tree.css("link[rel][href]"):
        if "canonical" in (node.attrs.get("rel") or "").lower().split():
            canonical = (node.attrs.get("href") or "").strip() or None
            break
    objects: list[Mapping[str, Any]] = []
    for node in tree.css('script[type="application/ld+json"]'):
        text = node.text(deep=True)
        try:
            data = json.loads(text)
        except ValueError:
            continue
        found = list(_flattened(data))
        if found:
            objects += found
            evidence.append(f'<script type="application/ld+json">{text.strip()}</script>')
    return PageMeta(tags, canonical, tuple(objects), tuple(evidence))


def read_page_meta(page: str, names_post: Callable[[str], bool]) -> ArchivedPost | None:
    """The generic reading of an archived post page (see the module docstring)."""
    meta = page_meta(page)
    url = meta.url
    if url is None or not names_post(url):
        return None
    values: dict[str, str] = {}
    image: str | None = None
    for post in meta.posts():
        _put(values, "text", _text(post.get("articleBody") or post.get("caption") or post.get("text")))
        _put(values, "title", _text(post.get("headline") or post.get("name")))
        _put(values, "published", _text(post.get("datePublished") or post.get("uploadDate")))
        author = post.get("author")
        author = author[0] if isinstance(author, list) and author else author
        if isinstance(author, Mapping):
            _put(values, "author_name", _text(author.get("name")))
            _put(values, "handle", _text(author.get("alternateName")).lstrip("@"))
            _put(values, "author_url", web_url(_text(author.get("url"))) or "")
        image = image or web_url(_image(post.get("image") or post.get("thumbnailUrl")))
    _put(values, "title", meta.first("og:title", "twitter:title") or "")
    _put(values, "text", meta.first("og:description", "twitter:description") or "")
    _put(values, "published", meta.first("article:published_time") or "")
    image = image or web_url(
        meta.first("og:image:secure_url", "og:image", "twitter:image", "twitter:image:src")
    )
    if not values and image is None:
        return None
    return ArchivedPost(values, image, "\n".join(meta.evidence))


def _put(values: dict[str, str], name: str, value: str) -> None:
    value = re.sub(r"\s+", " ", value).strip()
    if value and name not in values:
        values[name] = value


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _image(value: object) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, Mapping):
        value = value.get("url") or value.get("contentUrl")
    return value if isinstance(value, str) else None


def web_url(value: str | None) -> str | None:
    """`value` when it is an absolute http(s) URL."""
    if not value:
        return None
    value = value.strip()
    parts = urlsplit(value)
    return value if parts.scheme in ("http", "https") and parts.netloc else None


def _flattened(data: object) -> Iterator[Mapping[str, Any]]:
    if isinstance(data, list):
        for item in data:
            yield from _flattened(item)
    elif isinstance(data, dict):
        graph = data.get("@graph")
        if isinstance(graph, list):
            yield from _flattened(graph)
        else:
            yield data
