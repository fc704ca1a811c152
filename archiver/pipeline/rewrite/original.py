"""A recovered post's original embed markup, made fit to go back into a live article (`putback`).

    embed_unit(markup, provider, archive_bases) -> Unit    the provider's own markup, or why not

The markup is what an archived copy of the article held at the spot (`Recovery.original_markup`: the
bytes of the embed unit our scanner found in the copy). Only the provider's own markup is kept:

* the embed element, whole: the first `<blockquote>` or `<iframe>` of the unit. What the page wrapped
  it in (a Gutenberg `<figure>` and its block comments, a `<div>`) stays behind: the article has its own;
* the provider's loader `<script src>` (one of its `loader_scripts`) when the unit had one, empty;
* comments (an archive's toolbar markers among them) are dropped.

A web archive rewrites the URLs of what it replays (`https://web.archive.org/web/20201005081500js_/
https://www.instagram.com/embed.js`, or `/web/20201005081500/https://...` relative to the archive): such
a URL is turned back into the one it wraps. A URL that still points at an archive refuses the copy.
URLs that load or name the post (`src`, `cite`, a `data-*` attribute holding a URL) must be on the
provider's hosts; links must be http(s).

Refused, with a one-line reason: any other script, elements outside a small allowlist (forms, objects,
styles, frames inside the embed...), event-handler attributes (`on...`), `javascript:`, `data:` and
other non-http URLs, `url(`, `expression(` or `@import` in a style, `srcdoc`, our own `data-archiver-*`
attributes (a copy must not pass for one of our cards), an unfinished tag, or no embed element at all.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlsplit

from archiver.providers.common.base import Provider

# Hosts of public web archives a copy may point at besides the configured ones.
ARCHIVE_HOSTS = (
    "web.archive.org",
    "wayback.archive.org",
    "archive.org",
    "archive.today",
    "archive.ph",
    "archive.is",
    "archive.li",
    "archive.md",
    "archive.vn",
    "arquivo.pt",
    "webarchive.org.uk",
    "webcitation.org",
)
# Wayback layout: /PREFIX/TIMESTAMP[MODIFIER_]/ORIGINAL, the prefix being the archive base's path.
_STAMP = r"/\d{1,14}(?:[a-z]{2}_|\*)?/(?P<inner>.+)$"
_EMBED_ELEMENTS = ("blockquote", "iframe")
_ALLOWED = frozenset(
    {
        "blockquote", "iframe", "div", "section", "p", "a", "span", "br", "em", "strong", "b", "i", "u",
        "s", "small", "time", "abbr", "cite", "q", "sup", "sub", "wbr", "svg", "g", "path", "circle",
        "rect", "polygon", "polyline", "line", "ellipse", "defs", "title", "desc",
    }
)  # fmt: skip
_VOID = frozenset({"br", "wbr", "img", "hr", "input", "meta", "link", "source", "embed", "area", "col"})
_URL_ATTRIBUTES = frozenset(
    {"href", "src", "cite", "poster", "background", "action", "formaction", "xlink:href"}
)
# Attributes that load something or name the post: their URLs must be the provider's.
_OWN_URL_ATTRIBUTES = frozenset({"src", "cite", "poster", "background"})
_LOADER_ATTRIBUTES = frozenset({"src", "async", "defer", "charset"})
_ATTRIBUTE_NAME = re.compile(r"^[a-z][a-z0-9:_.-]*$")
_STYLE_HOSTILE = ("url(", "expression(", "javascript:", "@import", "behavior:", "-moz-binding")


@dataclass(frozen=True, slots=True)
class Unit:
    """The markup to put back (None: refused, `reason` says why in one line), and what was left behind
    of the archived unit or turned back (archive URLs)."""

    markup: str | None
    reason: str = ""
    stripped: tuple[str, ...] = ()


def embed_unit(markup: str, provider: Provider, archive_bases: Sequence[str] = ()) -> Unit:
    """The provider's own markup of an archived embed unit (see the module docstring), or why not."""
    tokens = _Tokens()
    tokens.feed(markup)
    if tokens.rawdata.strip():
        return Unit(None, "the archived markup ends inside a tag or a comment")
    tokens.close()
    urls = _Urls(provider, archive_bases)
    items = tokens.items
    first = next((i for i, t in enumerate(items) if t.kind == "start" and t.tag in _EMBED_ELEMENTS), None)
    if first is None:
        return Unit(None, "the archived unit holds no <blockquote> or <iframe> of the provider")
    last = _element_end(items, first)
    if last is None:
        return Unit(None, f"the archived <{items[first].tag}> is not closed")
    stripped: list[str] = []
    out: list[str] = []
    for token in items[first : last + 1]:
        if token.kind == "comment":
            stripped.append("a comment")
            continue
        if token.kind == "other":
            return Unit(None, "the embed holds a declaration or processing instruction")
        if token.kind == "start":
            if token.tag not in _ALLOWED:
                return Unit(None, f"the embed holds a <{token.tag}> element, not the provider's markup")
            tag_or_reason = urls.tag(token)
            if isinstance(tag_or_reason, _Refused):
                return Unit(None, tag_or_reason.reason)
            out.append(tag_or_reason)
        else:
            out.append(token.raw)
    around = [t for t in items[:first] + items[last + 1 :] if t.kind != "data" or t.raw.strip()]
    loader: str | None = None
    script_body = False
    for index, token in enumerate(around):
        if token.kind == "start" and token.tag == "script":
            if loader is not None or not _is_loader(token, provider):
                return Unit(None, "the archived unit holds a script that is not the provider's loader")
            loader_tag = urls.tag(token, _LOADER_ATTRIBUTES)
            if isinstance(loader_tag, _Refused):
                return Unit(None, loader_tag.reason)
            loader = loader_tag + "</script>"
            following = around[index + 1] if index + 1 < len(around) else None
            script_body = following is not None and following.kind == "data"
        elif token.kind == "start" and token.tag in ("style", "object", "embed", "form", "link", "meta"):
            return Unit(None, f"the archived unit holds a <{token.tag}> element, not the provider's markup")
    if script_body:
        return Unit(None, "the provider's loader script has inline code")
    for token in around:
        if token.kind == "start" and token.tag != "script":
            stripped.append(f"the <{token.tag}> around the embed")
        elif token.kind == "comment":
            stripped.append("a comment")
        elif token.kind == "data":
            stripped.append("text around the embed")
    stripped += urls.turned_back
    unit = "".join(out)
    if loader is not None:
        unit += "\n" + loader
    return Unit(unit, "", tuple(dict.fromkeys(stripped)))


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # start, end, data, comment, other
    raw: str
    tag: str = ""
    attrs: tuple[tuple[str, str | None], ...] = ()
    closed: bool = False  # written `<tag/>`


class _Tokens(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.items: list[_Token] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.items.append(_Token("start", self.get_starttag_text() or "", tag, tuple(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.items.append(_Token("start", self.get_starttag_text() or "", tag, tuple(attrs), closed=True))

    def handle_endtag(self, tag: str) -> None:
        self.items.append(_Token("end", f"</{tag}>", tag))

    def handle_data(self, data: str) -> None:
        self.items.append(_Token("data", data))

    def handle_entityref(self, name: str) -> None:
        self.items.append(_Token("data", f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self.items.append(_Token("data", f"&#{name};"))

    def handle_comment(self, data: str) -> None:
        self.items.append(_Token("comment", f"<!--{data}-->"))

    def handle_decl(self, decl: str) -> None:
        self.items.append(_Token("other", decl))

    def handle_pi(self, data: str) -> None:
        self.items.append(_Token("other", data))

    def unknown_decl(self, data: str) -> None:
        self.items.append(_Token("other", data))


def _element_end(items: Sequence[_Token], first: int) -> int | None:
    """Index of the end tag closing the element that starts at `first` (tags nest as the tokenizer
    reads them; verification re-parses the page afterwards)."""
    open_tags: list[str] = []
    for index in range(first, len(items)):
        token = items[index]
        if token.kind == "start" and not token.closed and token.tag not in _VOID:
            open_tags.append(token.tag)
        elif token.kind == "end" and token.tag in open_tags:
            while open_tags.pop() != token.tag:
                pass
        if not open_tags:
            return index
    return None


def _is_loader(token: _Token, provider: Provider) -> bool:
    src = dict(token.attrs).get("src") or ""
    return any(script in src for script in provider.loader_scripts)


@dataclass(frozen=True, slots=True)
class _Refused:
    reason: str


class _Urls:
    """Attribute checks for one unit, with archive URLs turned back into the URLs they wrap."""

    def __init__(self, provider: Provider, archive_bases: Sequence[str]) -> None:
        self.provider = provider
        bases = [urlsplit(base) for base in archive_bases]
        self.prefixes = list(dict.fromkeys(["/web", *(parts.path.rstrip("/") for parts in bases)]))
        self.archive_hosts = {(parts.hostname or "").lower() for parts in bases} - {""} | set(ARCHIVE_HOSTS)
        self.turned_back: list[str] = []

    def tag(self, token: _Token, only: frozenset[str] | None = None) -> str | _Refused:
        """The start tag as it goes back (its raw text unless a URL was turned back), or why not."""
        changed = False
        attrs: list[tuple[str, str | None]] = []
        for name, value in token.attrs:
            problem = _hostile(name, value)
            if problem is not None:
                return _Refused(f"<{token.tag}> has {problem}")
            if only is not None and name not in only:
                changed = True  # dropped: a loader keeps src, async, defer, charset
                continue
            if value is not None and _holds_url(name, value):
                url = self.unwrapped(value.strip())
                if url is None:
                    return _Refused(f"<{token.tag} {name}> is an archive URL whose original cannot be read")
                reason = self.unfit(token.tag, name, url)
                if reason is not None:
                    return _Refused(reason)
                if url != value:
                    changed = True
                    self.turned_back.append(f"an archive URL in {name} turned back into {url}")
                value = url
            attrs.append((name, value))
        if not changed:
            return token.raw
        written = "".join(
            f" {name}" if value is None else f' {name}="{html.escape(value, quote=True)}"'
            for name, value in attrs
        )
        return f"<{token.tag}{written}{' /' if token.closed else ''}>"

    def unwrapped(self, url: str) -> str | None:
        """`url` with an archive's rewriting undone (None: it wraps nothing readable)."""
        for _ in range(3):  # an archive URL of an archive URL, at most
            inner = self._inner(url)
            if inner is None:
                return url
            if inner.startswith(("http:/", "https:/")) and not inner.startswith(("http://", "https://")):
                inner = inner.replace(":/", "://", 1)  # some archives squeeze the double slash
            if not inner.startswith(("http://", "https://", "//")):
                return None
            url = inner
        return url

    def _inner(self, url: str) -> str | None:
        """The URL an archive URL wraps (Wayback layout), or None when `url` is not one."""
        absolute = url.startswith(("http://", "https://", "//"))
        parts = urlsplit("https:" + url if url.startswith("//") else url)
        if absolute:
            if not _on((parts.hostname or "").lower(), self.archive_hosts):
                return None
            rest = url[url.index(parts.netloc) + len(parts.netloc) :]
        elif url.startswith("/"):
            rest = url
        else:
            return None
        for prefix in self.prefixes:
            match = re.match(re.escape(prefix) + _STAMP, rest)
            if match is not None:
                return match["inner"]
        return None

    def unfit(self, tag: str, name: str, url: str) -> str | None:
        parts = urlsplit(url)
        if url.startswith("//"):
            parts = urlsplit("https:" + url)
        if parts.scheme not in ("http", "https"):
            what = f"a {parts.scheme}: URL" if parts.scheme else "a relative URL"
            return f"<{tag} {name}> is {what}"
        host = (parts.hostname or "").lower()
        if _on(host, self.archive_hosts):
            return f"<{tag} {name}> points at the archive ({host}), not at the provider"
        if (name in _OWN_URL_ATTRIBUTES or name.startswith("data-")) and not _on(host, self.provider.hosts):
            return f"<{tag} {name}> points at {host}, not at {self.provider.name}"
        return None


def _hostile(name: str, value: str | None) -> str | None:
    if not _ATTRIBUTE_NAME.match(name):
        return f"an attribute named {name!r}"
    if name.startswith("on"):
        return f"an event handler ({name})"
    if name.startswith("data-archiver"):
        return f"our own {name} attribute"
    if name in ("srcdoc", "formaction", "action"):
        return f"a {name} attribute"
    if name == "style" and value is not None:
        lowered = value.lower().replace(" ", "").replace("\\", "")
        if any(bad in lowered for bad in _STYLE_HOSTILE):
            return "a style that loads or runs something"
    return None


def _holds_url(name: str, value: str) -> bool:
    if name in _URL_ATTRIBUTES:
        return True
    stripped = value.strip().lower()
    if name.startswith("data-") and stripped.startswith(("http:", "https:", "/")):
        return True
    return stripped.startswith(("javascript:", "vbscript:", "data:"))


def _on(host: str, hosts: frozenset[str] | set[str]) -> bool:
    return any(host == known or host.endswith("." + known) for known in hosts)
