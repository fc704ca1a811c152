"""Where things are in an article's source text: the locator behind `EmbedRef.span`.

lexbor (selectolax) builds the tree but keeps no source offsets, and tokenising a whole page again in
Python would cost several times the parse. So the locator works on the raw text, and only for the few
elements a scan reports:

* Opaque ranges: comments, bogus comments (`<!DOCTYPE`, `<?php`), and the content of raw-text elements
  (script, style, textarea, title, xmp, iframe, noembed, noframes, plaintext) and of `<template>`, which
  lexbor keeps out of the tree. No tag counts inside them. (`<noscript>` content is markup: lexbor parses
  with scripting off, like every non-browser parser.)
* The n-th element of a tag name in the tree is the n-th start tag of that name outside opaque ranges,
  checked by comparing attribute names, `id` and `class` (most pages hold no copy of the tag in a
  comment or script, so the plain count is tried first and the opaque ranges are often never needed).
  When the counts disagree (elements the parser created or dropped, such as the `<p>` a stray `</p>`
  makes), elements are matched on those attributes, then on their text, and not located at all when
  that is still ambiguous: no span is better than a wrong one.
* The end is the matching end tag, found by counting the nesting of the same tag name (`<p>`: its end
  tag or whatever implies it); opaque ranges inside the element are found from its start on.
* Every range is checked: its text (tags, comments and scripts taken out) must be the element's text in
  the tree, or there is no span. That catches ends the parser put elsewhere (stray or missing end tags,
  misnesting).

Char offsets become byte offsets in `offsets`.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from html import unescape

from selectolax.lexbor import LexborNode

# Elements the tree builder makes without a start tag in the source (a stray </p> makes a <p>).
PARSER_CREATED = frozenset({"p", "html", "head", "body", "tbody", "colgroup", "tr", "br"})
VOID_ELEMENTS = frozenset((
    "area", "base", "basefont", "bgsound", "br", "col", "embed", "frame", "hr", "img", "input",
    "keygen", "link", "meta", "param", "source", "track", "wbr",
))  # fmt: skip
# Elements whose content the tokenizer does not read as markup.
RAW_TEXT_ELEMENTS = ("script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes")
# Start tags that close an open <p>, and end tags that end it implicitly.
_P_CLOSING_STARTS = (
    "address", "article", "aside", "blockquote", "center", "details", "dialog", "dir", "div", "dl",
    "dd", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5",
    "h6", "header", "hgroup", "hr", "li", "main", "menu", "nav", "ol", "p", "pre", "section", "table",
    "ul",
)  # fmt: skip
_P_CLOSING_ENDS = (
    "body", "html", "div", "section", "article", "aside", "blockquote", "li", "td", "th", "dd", "dt",
    "figure", "figcaption", "header", "footer", "main", "nav", "form", "table", "ul", "ol", "details",
    "dialog", "fieldset", "address", "center", "hgroup", "menu", "dl", "pre", "h1", "h2", "h3", "h4",
    "h5", "h6",
)  # fmt: skip
_WS = "\t\n\f\r "


def _any_case(word: str) -> str:
    """A regex for `word` in any letter case (IGNORECASE would cost Python's fast literal search)."""
    return "".join(f"[{c.lower()}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)


_TAG_BOUNDARY = r"(?=[\t\n\f\r />])"
_BOUNDARY_CHARS = frozenset("\t\n\f\r />")


def _by_first_letter(names: Sequence[str]) -> str:
    """An alternation of tag names grouped by first letter: sre tries far fewer branches per "<"."""
    groups: dict[str, list[str]] = {}
    for name in names:
        groups.setdefault(name[0], []).append(name[1:])
    branches = []
    for first, rests in groups.items():
        longest_first = sorted(rests, key=len, reverse=True)
        branches.append(f"[{first}{first.upper()}](?:{'|'.join(_any_case(rest) for rest in longest_first)})")
    return "|".join(branches)


_OPAQUE_OPENER = re.compile(
    r"<(?:(?P<comment>!--)|(?P<bogus>[!?]|/(?![A-Za-z]))|(?P<raw>"
    + _by_first_letter((*RAW_TEXT_ELEMENTS, "template", "plaintext"))
    + r")"
    + _TAG_BOUNDARY
    + ")"
)
# The rest of a start or end tag after its name, up to and including ">"; quoted values may hold ">".
# Atomic groups keep a broken tag from backtracking exponentially.
_LONGEST_OPENER = len("<plaintext ")
# Elements told apart by their text only when there are at most this many look-alikes.
_MAX_TEXT_MATCHES = 2_000
_TAG_REST_BODY = r"(?>[^>\"'=]+|=[\t\n\f\r ]*(?>\"[^\"]*\"|'[^']*')|=|[\"'])*>"
_TAG_REST = re.compile(_TAG_REST_BODY)
# Whole opaque ranges, as `SourceText.next_opaque` reads them one at a time: a comment (to "-->" or
# "--!>"), a bogus comment (to ">"), or a raw-text element: its start tag, then its content up to its end
# tag (in any case) or the end of the text. Runs of plain characters are taken possessively, so the pass is
# linear; <template> and <plaintext> are only found here and finished by `next_opaque`.
# Every "<" is tried: a lookahead on the next character (the first letters of the names above, "!", "?"
# or a "/" that opens no end tag) turns away the tags that open no range at the cost of one test, where
# the alternation would test each branch (a quarter of the pass).
_OPAQUE_FIRST = "".join(
    sorted({c for name in (*RAW_TEXT_ELEMENTS, "template", "plaintext") for c in (name[0], name[0].upper())})
)
_OPAQUE_REGION = re.compile(
    r"<(?=[!?"
    + _OPAQUE_FIRST
    + r"]|/(?![A-Za-z]))(?:(?P<comment>!--(?:>|->|(?:[^-]++|-(?!-!?>))*+(?:--!?>)?))"
    r"|(?P<bogus>(?:[!?]|/(?![A-Za-z]))[^>]*+>?)"
    r"|(?P<raw>"
    + _by_first_letter(RAW_TEXT_ELEMENTS)
    + r")(?=[\t\n\f\r />])(?:"
    + _TAG_REST_BODY
    + r"(?P<content>(?:[^<]++|<(?!/(?i:(?P=raw))[\t\n\f\r />]))*+)|(?s:.*))"
    r"|(?P<nested>" + _by_first_letter(("template", "plaintext")) + r")(?=[\t\n\f\r />]))"
)
_ATTRIBUTE = re.compile(
    r"[\t\n\f\r /]*(?P<name>[^\t\n\f\r />][^\t\n\f\r /=>]*)"
    r"(?:[\t\n\f\r ]*=[\t\n\f\r ]*(?:\"(?P<dq>[^\"]*)\"|'(?P<sq>[^']*)'|(?P<uq>[^\t\n\f\r >]*)))?"
)
_TAG_NAME = re.compile(r"<([A-Za-z][^\t\n\f\r />]*)")
# Atomic: each piece is taken once, so a gap that does not match fails in linear time.
_IGNORABLE_GAP = re.compile(
    r"(?>\s+|<!--.*?-->|<script\b[^>]*>.*?</script\s*>|</?noscript\b[^>]*>)*", re.IGNORECASE | re.DOTALL
)
_MAX_GAP = 20_000


@lru_cache(maxsize=256)
def _start_tag_pattern(tag: str) -> re.Pattern[str]:
    return re.compile("<" + _any_case(tag) + _TAG_BOUNDARY)


@lru_cache(maxsize=256)
def _lower_start_tag_pattern(tag: str) -> re.Pattern[str]:
    return re.compile("<" + re.escape(tag) + _TAG_BOUNDARY)


_SHORT_TAG = 4


@lru_cache(maxsize=256)
def _open_or_close_pattern(tag: str) -> re.Pattern[str]:
    return re.compile("<(/?)" + _any_case(tag) + _TAG_BOUNDARY)


@lru_cache(maxsize=64)
def _close_pattern(tag: str) -> re.Pattern[str]:
    return re.compile("</" + _any_case(tag) + _TAG_BOUNDARY)


_P_END = re.compile(
    "<(?:(?P<close>/"
    + _any_case("p")
    + ")|(?P<start>"
    + "|".join(_any_case(t) for t in sorted(_P_CLOSING_STARTS, key=len, reverse=True))
    + ")|/(?P<end>"
    + "|".join(_any_case(t) for t in sorted(_P_CLOSING_ENDS, key=len, reverse=True))
    + "))"
    + _TAG_BOUNDARY
)

# (attribute names in order, id, class): what must agree between a tree element and a source start tag.
Signature = tuple[tuple[str, ...], str, str]


@dataclass(frozen=True, slots=True)
class Opaque:
    """A range of the source where no markup is read: a comment, or raw-text element content."""

    start: int
    end: int
    kind: str  # "comment", "bogus", or the element name ("script", "style", "template", ...)


def node_signature(node: LexborNode) -> Signature:
    attributes = node.attributes
    return (
        tuple(attributes),
        " ".join((attributes.get("id") or "").split()),
        " ".join((attributes.get("class") or "").split()),
    )


class SourceText:
    """The raw text of one article, with lazily built indexes for locating elements in it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._opaque: list[Opaque] | None = None
        self._opaque_starts: list[int] = []
        self._start_tags: dict[str, list[int]] = {}

    # ---- opaque ranges -------------------------------------------------------------------------------
    @property
    def opaque(self) -> list[Opaque]:
        if self._opaque is None:
            self._opaque = self._find_opaque()
            self._opaque_starts = [region.start for region in self._opaque]
        return self._opaque

    def opaque_at(self, at: int) -> Opaque | None:
        """The opaque range `at` lies in, if any."""
        regions = self.opaque
        index = bisect.bisect_right(self._opaque_starts, at) - 1
        if index >= 0 and regions[index].end > at:
            return regions[index]
        return None

    def _find_opaque(self) -> list[Opaque]:
        """Every opaque range, left to right as the tokenizer reads: one regex pass in which comments,
        bogus comments and raw-text elements (their content up to the end tag) are matched whole, so no
        Python runs per tag; a <template> (which nests) or <plaintext> is finished by `next_opaque`."""
        text, size = self.text, len(self.text)
        regions: list[Opaque] = []
        at = 0
        while at < size:
            resume = None
            for match in _OPAQUE_REGION.finditer(text, at):
                start = match.start()
                # The group that closed last says which branch matched ("content" closes after "raw").
                kind = match.lastgroup
                if kind == "comment" or kind == "bogus":
                    regions.append(Opaque(start, match.end(), kind))
                elif kind == "content":
                    regions.append(Opaque(match.start("content"), match.end(), match.group("raw").lower()))
                elif kind == "raw":  # a start tag that never ends: the rest is not markup
                    regions.append(Opaque(start, size, match.group("raw").lower()))
                else:
                    region = self.next_opaque(start, start + 1)
                    if region is not None:
                        regions.append(region)
                        resume = max(region.end, region.start + 1)
                    else:
                        resume = start + 1
                    break
            if resume is None:
                break
            at = resume
        return regions

    def next_opaque(self, at: int, before: int) -> Opaque | None:
        """The first opaque range that opens at or after `at` and before `before` (`at` must not be
        inside one)."""
        text, size = self.text, len(self.text)
        match = _OPAQUE_OPENER.search(text, at, min(size, before + _LONGEST_OPENER))
        if match is None or match.start() >= before:
            return None
        start = match.start()
        if match.group("comment"):
            return Opaque(start, self._comment_end(start), "comment")
        if match.group("bogus"):
            close = text.find(">", start + 2)
            return Opaque(start, size if close == -1 else close + 1, "bogus")
        name = match.group("raw").lower()
        content = self.start_tag_end(start)
        if content is None:  # a tag that never ends: the rest is not markup
            return Opaque(start, size, name)
        if name == "plaintext":
            return Opaque(content, size, name)
        return Opaque(content, self._raw_close(name, content), name)

    def _comment_end(self, start: int) -> int:
        text = self.text
        body = start + 4
        if text.startswith(">", body):  # <!-->
            return body + 1
        if text.startswith("->", body):  # <!--->
            return body + 2
        close = text.find("-->", body)
        end = close + 3 if close != -1 else len(text)
        bang = text.find("--!>", body, end)  # also ends a comment
        return bang + 4 if bang != -1 else end

    def _raw_close(self, name: str, content: int) -> int:
        """Where the content of raw-text element `name` (or a <template>) that starts at `content` ends."""
        if name != "template":
            close = _close_pattern(name).search(self.text, content)
            return close.start() if close else len(self.text)
        depth = 1
        for match in _open_or_close_pattern("template").finditer(self.text, content):
            depth += -1 if match.group(1) else 1
            if depth == 0:
                return match.start()
        return len(self.text)

    # ---- tags ------------------------------------------------------------------------------------------
    def start_tag_end(self, at: int) -> int | None:
        """The index just after the `>` of the tag that starts at `at` (None: the tag never ends)."""
        name = _TAG_NAME.match(self.text, at) if self.text.startswith("<", at) else None
        rest_at = name.end() if name else at + 2
        rest = _TAG_REST.match(self.text, rest_at)
        return rest.end() if rest else None

    def start_tag_name(self, at: int) -> str | None:
        match = _TAG_NAME.match(self.text, at)
        return match.group(1).lower() if match else None

    def attributes(self, at: int) -> list[tuple[str, str]]:
        """Attribute names (lower case, first of duplicates kept) and decoded values of a start tag."""
        name = _TAG_NAME.match(self.text, at)
        end = self.start_tag_end(at)
        if name is None or end is None:
            return []
        found: dict[str, str] = {}
        for match in _ATTRIBUTE.finditer(self.text, name.end(), end - 1):
            # The tokenizer turns NUL into U+FFFD; lexbor's attribute names and values show that.
            key = match.group("name").lower().replace("\0", "\ufffd")
            if key not in found:
                value = match.group("dq") or match.group("sq") or match.group("uq") or ""
                value = unescape(value) if "&" in value else value
                found[key] = value.replace("\0", "\ufffd")
        return list(found.items())

    def signature(self, at: int) -> Signature:
        attributes = dict(self.attributes(at))
        return (
            tuple(attributes),
            " ".join(attributes.get("id", "").split()),
            " ".join(attributes.get("class", "").split()),
        )

    def start_tags(self, tag: str, exact: bool = True) -> list[int]:
        """Offsets of every start tag named `tag`, in source order: outside opaque ranges (`exact`), or
        all of them (cheap: no opaque ranges needed)."""
        key = tag if exact else "\0" + tag
        cached = self._start_tags.get(key)
        if cached is not None:
            return cached
        pattern = _start_tag_pattern(tag)
        if not exact:
            # Tags as written in lower case (faster than a regex in any case); a tag in upper or mixed
            # case shows as a count that disagrees with the tree. A long name is found fastest with
            # str.find (it skips ahead by the needle's length); a short one, which a page writes often
            # ("<div", "<p"), with a regex that checks the boundary itself.
            if len(tag) <= _SHORT_TAG:
                found = [match.start() for match in _lower_start_tag_pattern(tag).finditer(self.text)]
            else:
                found = []
                needle = "<" + tag
                at = self.text.find(needle)
                while at != -1:
                    if self.text[at + len(needle) : at + len(needle) + 1] in _BOUNDARY_CHARS:
                        found.append(at)
                    at = self.text.find(needle, at + len(needle))
        else:
            regions = self.opaque
            found = []
            index = 0
            for match in pattern.finditer(self.text):
                at = match.start()
                while index < len(regions) and regions[index].end <= at:
                    index += 1
                if index < len(regions) and regions[index].start <= at:
                    continue
                found.append(at)
        self._start_tags[key] = found
        return found

    # ---- elements ----------------------------------------------------------------------------------------
    def locate(self, node: LexborNode, same_tag: Sequence[LexborNode], index: int) -> tuple[int, int] | None:
        """The source range of `node`, the `index`-th of `same_tag` (every tree element of its tag name)."""
        tag = node.tag
        if not tag or tag.startswith(("-", "#")):
            return None
        start = self._element_start(tag, node, same_tag, index)
        if start is None:
            return None
        end = self.element_end(tag, start)
        if end is None:
            return None
        markup = self.text[start:end]
        if _source_text(markup) != _tree_text(node, _HIDDEN_TEXT.search(markup) is not None):
            # The parser did not end the element where the tags say (a stray or missing end tag,
            # misnested markup): no span is better than one that cuts the page in the wrong place.
            return None
        return start, end

    def start_of(self, node: LexborNode, same_tag: Sequence[LexborNode], index: int) -> int | None:
        """Where the start tag of `node` is, even when its end cannot be told (for document order)."""
        tag = node.tag
        if not tag or tag.startswith(("-", "#")):
            return None
        return self._element_start(tag, node, same_tag, index)

    def _element_start(
        self, tag: str, node: LexborNode, same_tag: Sequence[LexborNode], index: int
    ) -> int | None:
        wanted = node_signature(node)
        if tag not in PARSER_CREATED:
            # Most pages have no copy of the tag in comments or scripts: then every start tag in the
            # source is an element, and the opaque ranges need not be found at all.
            starts = self.start_tags(tag, exact=False)
            if len(starts) == len(same_tag) and self.signature(starts[index]) == wanted:
                return starts[index]
        starts = self.start_tags(tag)
        if len(starts) == len(same_tag) and self.signature(starts[index]) == wanted:
            return starts[index]
        # The counts disagree: match on the attributes alone, if that is unambiguous...
        alike = [other for other in same_tag if node_signature(other) == wanted]
        in_source = [at for at in starts if self.signature(at) == wanted]
        rank = sum(1 for other in same_tag[:index] if node_signature(other) == wanted)
        if len(in_source) == len(alike):
            return in_source[rank]
        # ... else on the attributes and the text (plain <p>s around a stray </p>).
        if len(alike) > _MAX_TEXT_MATCHES or len(in_source) > _MAX_TEXT_MATCHES:
            return None
        text = _tree_text(node)
        rank = sum(
            1 for other in same_tag[:index] if node_signature(other) == wanted and _tree_text(other) == text
        )
        same_text = sum(1 for other in alike if _tree_text(other) == text)
        in_source = [at for at in in_source if self._text_at(tag, at) == text]
        return in_source[rank] if len(in_source) == same_text else None

    def _text_at(self, tag: str, start: int) -> str | None:
        end = self.element_end(tag, start)
        return None if end is None else _source_text(self.text[start:end])

    def element_end(self, tag: str, start: int) -> int | None:
        """The index just after the end of the element whose start tag is at `start`."""
        open_end = self.start_tag_end(start)
        if open_end is None or tag in VOID_ELEMENTS:
            return open_end
        if tag in RAW_TEXT_ELEMENTS:
            close = _close_pattern(tag).search(self.text, open_end)
            return self.start_tag_end(close.start()) if close else None
        # Opaque ranges are looked for only inside the element, from its start tag on.
        return self._end_from(tag, open_end, skip_opaque=True)

    def _end_from(self, tag: str, open_end: int, skip_opaque: bool) -> int | None:
        inside = _OpaqueCursor(self, open_end) if skip_opaque else None
        if tag == "p":
            return self._paragraph_end(open_end, inside)
        depth = 1
        for match in _open_or_close_pattern(tag).finditer(self.text, open_end):
            if inside is not None and inside.covers(match.start()):
                continue
            if match.group(1):
                depth -= 1
                if depth == 0:
                    return self.start_tag_end(match.start())
            else:
                depth += 1
        return None

    def _paragraph_end(self, open_end: int, inside: _OpaqueCursor | None) -> int | None:
        for match in _P_END.finditer(self.text, open_end):
            if inside is not None and inside.covers(match.start()):
                continue
            if match.group("close"):
                return self.start_tag_end(match.start())
            end = match.start()
            while end > open_end and self.text[end - 1] in _WS:
                end -= 1
            return end
        return None

    def script_after(self, end: int, loaders: Iterable[str]) -> int | None:
        """The end of a loader `<script src=...>` that directly follows `end` (whitespace between)."""
        text = self.text
        at = end
        while at < len(text) and text[at] in _WS:
            at += 1
        if self.start_tag_name(at) != "script":
            return None
        src = dict(self.attributes(at)).get("src", "")
        if not src or not any(loader in src for loader in loaders):
            return None
        return self.element_end("script", at)

    def ignorable_gap(self, start: int, end: int) -> bool:
        """Whether only whitespace, comments, scripts and noscript tags lie between `start` and `end`."""
        if end < start or end - start > _MAX_GAP:
            return False
        return _IGNORABLE_GAP.fullmatch(self.text, start, end) is not None


# Read left to right as the tokenizer does: comments, scripts, styles and templates (whose content the
# tree keeps apart) are no text; the content of raw-text elements is text even where it looks like tags.
_SOURCE_PIECES = re.compile(
    r"<!--.*?(?:-->|\Z)"
    r"|<(script|style|template)\b[^>]*>.*?(?:</\1\s*>|\Z)"
    r"|<(textarea|title|xmp|iframe|noembed|noframes)\b[^>]*>(.*?)(?:</\2\s*>|\Z)",
    re.IGNORECASE | re.DOTALL,
)
# Tags as the tokenizer reads them: quoted values may hold ">" or "<"; "<" before anything else is text.
_MARKUP = re.compile(
    r"</?[A-Za-z][^\t\n\f\r />]*(?>[^>\"'=]+|=[\t\n\f\r ]*(?>\"[^\"]*\"|'[^']*')|=|[\"'])*(?:>|\Z)"
    r"|<[!?][^>]*(?:>|\Z)|</[^A-Za-z>][^>]*(?:>|\Z)|</>"
)
_SPACE = re.compile(r"\s+")
_HIDDEN_TEXT = re.compile(r"<(?:[sS][cC][rR][iI][pP][tT]|[sS][tT][yY][lL][eE])")


def _source_text(markup: str) -> str:
    """The text of a piece of source without comments, scripts, styles, tags and whitespace."""

    def piece(match: re.Match[str]) -> str:
        return match.group(3).replace("<", "\x01") if match.group(2) else ""

    text = _MARKUP.sub("", _SOURCE_PIECES.sub(piece, markup))
    return _SPACE.sub("", unescape(text).replace("\x01", "<").replace("\0", "\ufffd"))


def _tree_text(node: LexborNode, hidden: bool = True) -> str:
    """The same for an element of the tree (`hidden`: it may hold scripts or styles, whose text is no
    text; the source range of an element without any has no "<script" or "<style" in it)."""
    text = node.text(deep=True)
    if hidden:
        for element in node.css("script, style"):
            text = text.replace(element.text(deep=True), "", 1)
    return _SPACE.sub("", text)


class _OpaqueCursor:
    """Opaque ranges found on demand, moving forward from a place known to be outside them."""

    def __init__(self, source: SourceText, start: int) -> None:
        self.source = source
        self.scanned = start  # no range opens in [start, scanned) other than `region`
        self.region: Opaque | None = None

    def covers(self, at: int) -> bool:
        """Whether `at` is inside an opaque range (positions asked must not decrease)."""
        while True:
            if self.region is not None and self.region.end > at:
                return self.region.start <= at
            if self.scanned > at:
                return False
            region = self.source.next_opaque(self.scanned, at + 1)
            if region is None:
                self.scanned = at + 1
                self.region = None
                return False
            self.region = region
            self.scanned = max(region.end, region.start + 1)
