"""Verification of a splice: the HTML5 parser (lexbor) and a tokenizer (stdlib html.parser) must agree.

`survey(data, codec, spans)`, before anything is rendered. The page is parsed as it is (element
counts), and once more with a probe (`<template data-archiver-probe>`, the one element every insertion
mode keeps where it is written) at the start and at the end of every span. Per span it tells where the
HTML parser puts the unit, or why the span cannot be rewritten:

- both probes must come out as elements: a probe that vanishes sat inside a comment, a script, a
  <textarea> or <title>, an attribute value, or anywhere else the parser reads text, not markup;
- the span's bytes read alone by the tokenizer must end outside any tag, comment or raw-text element,
  and the first element the tokenizer sees must be the first element after the start probe: otherwise
  the two disagree about where the unit starts or ends (e.g. `<textarea><iframe>`: a tag for CPython's
  tokenizer, text for browsers; or an iframe in a <table>, which the parser moves before the table);
- the end probe must have the same parent as the unit's first element (the span is one piece of the
  tree); that parent is the unit's place (the start probe's parent when the unit starts with text);
- the card variant follows from that place: `inline` when its element allows phrasing content only
  (a <p>, a heading, a <span>...), `block` otherwise. Deciding from lexbor's tree of the whole page,
  rather than from a tokenizer's view of the bytes before the span, lets the parser's own rules
  (implied end tags, a <div> that closes a <p>) decide, at the price of one more parse.

`verify(survey, new, codec, edits)`, after splicing. The new page is parsed and:

- the cards are found by their marker, one per edit, in order among the cards the page had before;
- each card's parent has the same path of tags from the root as its unit's place, and its subtree
  holds exactly the elements the tokenizer finds in its markup (it parsed whole: a block card in a
  <p> would be split, a <span> in a <table> foster-parented);
- every element count of the page equals the old count minus the units' elements plus the cards':
  nothing outside the units changed.

An edit whose new bytes carry no card marker puts a live post's original embed markup back (`putback`):
it may be several elements (a blockquote and its loader script); the new page is parsed once more with
probes around it, which must come out where they were written, under the unit's place, with exactly
the markup's elements between them; the element counts are checked as for cards.

Anything else fails closed: the caller refuses the edit and flags the article for an editor.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser
from operator import attrgetter

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archiver.pipeline.rewrite.fallback import Variant
from archiver.pipeline.rewrite.splice import Edit, Plan
from archiver.pipeline.scan import MARKER_ATTRIBUTE, VERSION_ATTRIBUTE
from archiver.records import Span

# The probe is a <template>: the one element the HTML parser keeps where it is written in every
# insertion mode (in a <table>, a <select>, the <head>), and never holds content of the page.
PROBE_TAG = "template"
_PROBE_ATTRIBUTE = "data-archiver-probe"
_PROBES = f"{PROBE_TAG}[{_PROBE_ATTRIBUTE}]"
# Elements whose content model is phrasing content only: a card inside them must be phrasing too.
PHRASING_ONLY = frozenset(
    {
        "p", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "span", "a", "em", "strong", "small", "s", "cite",
        "q", "dfn", "abbr", "ruby", "rt", "rp", "data", "time", "code", "var", "samp", "kbd", "sub", "sup",
        "i", "b", "u", "mark", "bdi", "bdo", "label", "legend", "summary", "button", "output", "font",
        "big", "tt", "strike", "nobr", "center", "address",
    }
)  # fmt: skip
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)
# The HTML standard's raw text and escapable raw text elements: their content is text, never tags
# (CPython's tokenizer itself knows only script and style).
_RAW_TEXT = frozenset({"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes"})
_MAX_REASON = 200
_MARKED = f"[{MARKER_ATTRIBUTE}]"
_TAG = attrgetter("tag")
_INSIDE_TEXT = "inside a comment, a script, an attribute or a text-only element such as <textarea>"


@dataclass(frozen=True, slots=True)
class Context:
    """Where the HTML parser puts one unit."""

    parent_path: tuple[str, ...]
    # The unit's parent allows phrasing content only (the card must be the inline variant).
    phrasing: bool
    # The unit's elements by tag (lexbor and the tokenizer agree on them).
    unit_counts: Counter[str]

    @property
    def variant(self) -> Variant:
        return "inline" if self.phrasing else "block"

    @property
    def parent(self) -> str:
        return self.parent_path[-1] if self.parent_path else "(document)"


@dataclass(slots=True)
class Survey:
    """What lexbor and the tokenizer say about the page before it is changed (see the module doc)."""

    spans: tuple[Span, ...]
    counts: Counter[str]
    # Per span (same order): its Context, or the one-line reason it cannot be rewritten.
    contexts: list[Context | str]
    # The page's existing cards and the start probes, in document order: ("card", marker, version)
    # or ("span", index, "").
    order: list[tuple[str, str | int, str]] = field(default_factory=list)

    def context(self, span: Span) -> Context | str:
        return self.contexts[self.spans.index(span)]


@dataclass(frozen=True, slots=True)
class Verification:
    """The verdict on a spliced page: per edit (by index) the failures, and a failure of the page as a
    whole that no single edit could be blamed for."""

    failures: dict[int, str]
    overall: str | None = None

    @property
    def ok(self) -> bool:
        return not self.failures and self.overall is None


def parse(data: bytes, codec: str) -> LexborHTMLParser:
    """lexbor's tree of the page: UTF-8 bytes as they are, other encodings decoded first."""
    if codec in ("utf-8", "utf_8"):
        return LexborHTMLParser(data)
    return LexborHTMLParser(data.decode(codec, "replace").replace("\x00", "\ufffd"))


def survey(data: bytes, codec: str, spans: Sequence[Span]) -> Survey:
    """Where the HTML parser puts each span's unit, and which variant of card fits there."""
    spans = tuple(spans)
    counts = _counts(parse(data, codec).css("*"))
    result = _survey(data, codec, spans, counts)
    if result is not None:
        return result
    # The probes moved something (a probe in a <table>, a <select> or the <head> does): survey each
    # span alone, so only the spans whose probes disturb the page are refused.
    good = [i for i, span in enumerate(spans) if _survey(data, codec, (span,), counts) is not None]
    combined = _survey(data, codec, tuple(spans[i] for i in good), counts)
    reason = (
        "the HTML parser reads the page differently with a mark at this span: it is inside a tag or an "
        "attribute, or in a table, a select or the head"
    )
    contexts: list[Context | str] = [reason] * len(spans)
    order: list[tuple[str, str | int, str]] = []
    if combined is not None:
        for j, i in enumerate(good):
            contexts[i] = combined.contexts[j]
        order = [(kind, good[int(what)] if kind == "span" else what, v) for kind, what, v in combined.order]
    return Survey(spans, counts, contexts, order)


def _survey(data: bytes, codec: str, spans: tuple[Span, ...], counts: Counter[str]) -> Survey | None:
    probed = _with_probes(data, codec, spans)
    tree = parse(probed, codec)
    elements = tree.css("*")
    index_of = {node.mem_id: index for index, node in enumerate(elements)}
    probes: dict[str, list[int]] = {}
    placed: list[tuple[int, tuple[str, str | int, str]]] = []
    for node in tree.css(_PROBES):
        name = node.attributes.get(_PROBE_ATTRIBUTE) or ""
        probes.setdefault(name, []).append(index_of[node.mem_id])
        if name.startswith("s") and name[1:].isdigit():
            placed.append((index_of[node.mem_id], ("span", int(name[1:]), "")))
    for node in tree.css(_MARKED):
        placed.append(
            (index_of[node.mem_id], ("card", node.attributes.get(MARKER_ATTRIBUTE) or "", _version(node)))
        )
    order = [item for _, item in sorted(placed, key=lambda pair: pair[0])]
    probe_count = sum(len(found) for found in probes.values())
    page_counts = _counts(elements)
    page_counts[PROBE_TAG] -= probe_count
    if +page_counts != +counts:
        return None
    contexts = [_context(i, span, data, codec, elements, probes) for i, span in enumerate(spans)]
    return Survey(spans, counts, contexts, order)


def _context(
    index: int,
    span: Span,
    data: bytes,
    codec: str,
    elements: list[LexborNode],
    probes: dict[str, list[int]],
) -> Context | str:
    starts, ends = probes.get(f"s{index}", []), probes.get(f"e{index}", [])
    if len(starts) != 1:
        return f"the span does not start where the HTML parser reads markup ({_INSIDE_TEXT})"
    if len(ends) != 1:
        return f"the span does not end where the HTML parser reads markup ({_INSIDE_TEXT})"
    first, last = starts[0], ends[0]
    if last <= first:
        return "the HTML parser reorders the span's start and end"
    try:
        unit_text = data[span.start : span.end].decode(codec)
    except UnicodeDecodeError:
        return "the span's bytes do not decode on their own (it cuts a character)"
    tokens = Tokens.of(unit_text)
    if tokens.unfinished:
        return f"the span ends inside {tokens.unfinished} for the tokenizer, not for the HTML parser"
    between = elements[first + 1 : last]
    start_probe, end_probe = elements[first], elements[last]
    if tokens.first_tag is not None:
        if not between:
            return f"the unit starts with <{tokens.first_tag}> for the tokenizer, with text for the parser"
        root = between[0]
        if root.tag != tokens.first_tag:
            return f"the unit starts with <{tokens.first_tag}> for the tokenizer, <{root.tag}> for the parser"
        parent = root.parent
    else:
        parent = start_probe.parent
    path = _path(parent)
    if _path(end_probe.parent) != path:
        return "the span is not one piece of the page's tree (it starts and ends under different elements)"
    tag = path[-1] if path else ""
    return Context(path, tag in PHRASING_ONLY, _counts(between))


def verify(survey: Survey, new: bytes, codec: str, edits: Sequence[Edit]) -> Verification:
    """Whether `new` (the page after `edits`, which are in byte order) verifies; see the module doc."""
    failures: dict[int, str] = {}
    contexts: list[Context] = []
    card_tokens: list[Tokens] = []
    for index, edit in enumerate(edits):
        context = survey.context(Span(edit.start, edit.end))
        if isinstance(context, str):
            failures[index] = context
            contexts.append(Context((), False, Counter()))
        else:
            contexts.append(context)
        tokens = Tokens.of(edit.new.decode(codec, "replace"))
        card_tokens.append(tokens)
        if tokens.marker[0] and (tokens.unfinished or tokens.first_tag is None or tokens.roots != 1):
            failures.setdefault(index, "the card is not one whole element")
        elif not tokens.marker[0] and (tokens.unfinished or tokens.first_tag is None):
            failures.setdefault(index, "the markup put back is not whole elements")
    if failures:
        return Verification(failures)
    try:
        new.decode(codec)
    except UnicodeDecodeError:
        return Verification({}, "the new page does not decode in the article's encoding")

    tree = parse(new, codec)
    elements = tree.css("*")
    index_of = {node.mem_id: i for i, node in enumerate(elements)}
    found = tree.css(_MARKED)
    by_span = {Span(edit.start, edit.end): index for index, edit in enumerate(edits)}
    expected: list[tuple[str, str, int | None]] = []
    for kind, what, version in survey.order:
        if kind == "card":
            expected.append((str(what), version, None))
        else:
            span = survey.spans[int(what)]
            if span in by_span:
                edit_index = by_span[span]
                marker, card_version = card_tokens[edit_index].marker
                if marker:  # markup put back (no marker) is checked by `_verify_put_back`
                    expected.append((marker, card_version, edit_index))
    got = [(node.attributes.get(MARKER_ATTRIBUTE) or "", _version(node)) for node in found]
    if [(marker, version) for marker, version, _ in expected] != got:
        wanted = Counter((marker, version) for marker, version, _ in expected)
        have = Counter(got)
        for marker, version, blamed in expected:
            if blamed is not None and wanted[(marker, version)] != have[(marker, version)]:
                failures[blamed] = (
                    f"the parser finds {have[(marker, version)]} card(s) for {marker} where "
                    f"{wanted[(marker, version)]} belong (the card was swallowed or split)"
                )
        return Verification(failures, None if failures else "the cards are not where they were put")

    for node, (_, _, placed) in zip(found, expected, strict=True):
        if placed is None:
            continue
        edit_index = placed
        context = contexts[edit_index]
        path = _path(node.parent)
        if path != context.parent_path:
            failures[edit_index] = (
                f"the parser puts the card under <{path[-1] if path else '(document)'}>, the unit was under "
                f"<{context.parent}>"
            )
            continue
        start = index_of[node.mem_id]
        subtree = _counts(elements[start : start + _subtree_size(node)])
        if +subtree != +card_tokens[edit_index].counts:
            failures[edit_index] = "the card does not parse as one whole element: " + _difference(
                card_tokens[edit_index].counts, subtree, "card", "parser"
            )
    if failures:
        return Verification(failures)
    failures = _verify_put_back(new, codec, edits, contexts, card_tokens)
    if failures:
        return Verification(failures)

    wanted_counts = Counter(survey.counts)
    for edit_index in range(len(edits)):
        wanted_counts.subtract(contexts[edit_index].unit_counts)
        wanted_counts.update(card_tokens[edit_index].counts)
    new_counts = _counts(elements)
    if +wanted_counts != +new_counts:
        return Verification(
            {},
            "elements outside the units changed: "
            + _difference(wanted_counts, new_counts, "expected", "found"),
        )
    return Verification({})


def _verify_put_back(
    new: bytes, codec: str, edits: Sequence[Edit], contexts: Sequence[Context], tokens: Sequence[Tokens]
) -> dict[int, str]:
    """Edits whose new bytes carry no card marker put a post's original embed markup back
    (`rewrite.putback`): the page is parsed once more with probes around each, which must come out
    where they were written, under the unit's place, with exactly the markup's elements between them."""
    plain = [index for index, found in enumerate(tokens) if not found.marker[0]]
    if not plain:
        return {}
    starts = Plan(tuple(edits)).positions()
    spans = [Span(starts[i], starts[i] + len(edits[i].new)) for i in plain]
    tree = parse(_with_probes(new, codec, spans), codec)
    elements = tree.css("*")
    index_of = {node.mem_id: index for index, node in enumerate(elements)}
    probes: dict[str, list[int]] = {}
    for node in tree.css(_PROBES):
        probes.setdefault(node.attributes.get(_PROBE_ATTRIBUTE) or "", []).append(index_of[node.mem_id])
    failures: dict[int, str] = {}
    for k, index in enumerate(plain):
        begin, end = probes.get(f"s{k}", []), probes.get(f"e{k}", [])
        if len(begin) != 1 or len(end) != 1 or end[0] <= begin[0]:
            failures[index] = "the HTML parser does not read the markup put back where it was written"
            continue
        between = elements[begin[0] + 1 : end[0]]
        place = contexts[index].parent_path
        if not between or between[0].tag != tokens[index].first_tag:
            failures[index] = "the HTML parser does not start the markup put back where it was written"
        elif _path(between[0].parent) != place or _path(elements[end[0]].parent) != place:
            parent = _path(between[0].parent)
            failures[index] = (
                f"the parser puts the markup under <{parent[-1] if parent else '(document)'}>, the unit was "
                f"under <{contexts[index].parent}>"
            )
        elif +_counts(between) != +tokens[index].counts:
            failures[index] = "the markup put back does not parse as written: " + _difference(
                tokens[index].counts, _counts(between), "markup", "parser"
            )
    return failures


@dataclass(slots=True)
class Tokens:
    """What the stdlib tokenizer sees in a fragment read alone."""

    counts: Counter[str]
    first_tag: str | None
    # Elements at the fragment's top level (a card must be exactly one).
    roots: int
    # "a tag", "a comment", "a <script>"...: what the fragment ends inside of, or None.
    unfinished: str | None
    first_attributes: dict[str, str]

    @classmethod
    def of(cls, fragment: str) -> Tokens:
        tokenizer = _Tokenizer()
        tokenizer.feed(fragment)
        unfinished = None
        if tokenizer.cdata_elem:
            unfinished = f"a <{tokenizer.cdata_elem}> element"
        elif tokenizer.rawdata:
            rest = tokenizer.rawdata.lstrip()
            unfinished = "a comment" if rest.startswith("<!") else "a tag" if rest.startswith("<") else None
        tokenizer.close()
        return cls(
            tokenizer.counts, tokenizer.first_tag, tokenizer.roots, unfinished, tokenizer.first_attributes
        )

    @property
    def marker(self) -> tuple[str, str]:
        return self.first_attributes.get(MARKER_ATTRIBUTE, ""), self.first_attributes.get(
            VERSION_ATTRIBUTE, ""
        )


class _Tokenizer(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.counts: Counter[str] = Counter()
        self.first_tag: str | None = None
        self.first_attributes: dict[str, str] = {}
        self.roots = 0
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.counts[tag] += 1
        if self.first_tag is None:
            self.first_tag = tag
            self.first_attributes = {name: value or "" for name, value in attrs}
        if not self._open:
            self.roots += 1
        if tag not in _VOID:
            self._open.append(tag)
        if tag in _RAW_TEXT and not self.cdata_elem:
            self.set_cdata_mode(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        # `<div/>` is a start tag in HTML; only void elements close themselves.
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._open:
            while self._open and self._open.pop() != tag:
                pass


def _with_probes(data: bytes, codec: str, spans: Iterable[Span]) -> bytes:
    marks: list[tuple[int, int, int, str]] = []
    for index, span in enumerate(spans):
        # At one offset: the end probes of spans ending there, then an insertion's start and end probes
        # (an empty span: an insertion), then the start probes of spans starting there.
        if span.start == span.end:
            marks.append((span.start, 1, index, f"s{index}"))
            marks.append((span.end, 2, index, f"e{index}"))
        else:
            marks.append((span.start, 3, index, f"s{index}"))
            marks.append((span.end, 0, index, f"e{index}"))
    pieces: list[bytes] = []
    done = 0
    for at, _, _, name in sorted(marks):
        pieces.append(data[done:at])
        pieces.append(f'<{PROBE_TAG} {_PROBE_ATTRIBUTE}="{name}"></{PROBE_TAG}>'.encode(codec))
        done = at
    pieces.append(data[done:])
    return b"".join(pieces)


def _counts(nodes: Iterable[LexborNode]) -> Counter[str]:
    return Counter(map(_TAG, nodes))


def _version(node: LexborNode) -> str:
    return node.attributes.get(VERSION_ATTRIBUTE) or ""


def _subtree_size(node: LexborNode) -> int:
    return len(node.css("*"))


def _path(node: LexborNode | None) -> tuple[str, ...]:
    tags: list[str] = []
    while node is not None and node.tag not in (None, "-undef", "#document"):
        tags.append(node.tag or "")
        node = node.parent
    return tuple(reversed(tags))


def _difference(a: Counter[str], b: Counter[str], a_name: str, b_name: str) -> str:
    parts = []
    for tag in sorted(set(a) | set(b)):
        if a[tag] != b[tag]:
            parts.append(f"<{tag}> {a_name} {a[tag]}, {b_name} {b[tag]}")
    text = "; ".join(parts)
    return text if len(text) <= _MAX_REASON else text[: _MAX_REASON - 1] + "…"
