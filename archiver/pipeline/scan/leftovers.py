"""What embeds leave behind when they did not (or may not) load: found anywhere in a page.

* Residue: the attribution line of a broken embed ("A post shared by NAME (@handle)") outside any embed
  -> residue, or link when a post link is still in the same block.
* URL-less consent placeholders ("external content from Instagram, click to show") that name one
  provider and hold none of its URLs, resolved in order from that provider's post URLs that only inline
  script data names -> script. Never from script data alone: related-article JSON is no embed.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Container, Iterable, Iterator, Mapping, Sequence

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archiver.pipeline.scan.spans import SourceText
from archiver.providers.common.base import MarkupFields, Provider, Sighting, node_text, squeeze
from archiver.records import MarkupKind

# Elements that look like a consent or embed placeholder (looked at only when script data holds posts).
PLACEHOLDER_SELECTOR = ", ".join(
    (
        '[class*="embed" i]',
        '[class*="consent" i]',
        '[class*="placeholder" i]',
        '[class*="borlabs" i]',
        '[class*="cmplz" i]',
        "[data-usercentrics-service-id]",
        "[data-cmp-vendor]",
    )
)
# A placeholder says a sentence or two ("external content from Instagram... click to show").
PLACEHOLDER_MAX_TEXT = 1_000
# Tags whose text is never article text.
NOT_TEXT = frozenset({"script", "style", "template", "textarea", "title", "noscript", "head", "html"})
# A residue block is the attribution line, perhaps with its caption; beyond this it is article text.
RESIDUE_BLOCK_MAX = 800
# Where a residue line ends up: the block that holds it.
BLOCKS = frozenset((
    "p", "div", "li", "blockquote", "figcaption", "figure", "td", "th", "dd", "dt", "h1", "h2", "h3",
    "h4", "h5", "h6", "section", "article", "aside", "header", "footer", "main", "address", "pre",
))  # fmt: skip


def visible_text(node: LexborNode) -> str:
    """The element's text without script and style content, whitespace squeezed."""
    if node.css_first("script, style, template") is None:
        return node_text(node)
    parts = [
        piece.text(deep=False)
        for piece in node.traverse(include_text=True)
        if piece.is_text_node and piece.parent is not None and piece.parent.tag not in NOT_TEXT
    ]
    return squeeze(" ".join(parts))


def placeholder_candidates(tree: LexborHTMLParser) -> list[LexborNode]:
    """The elements that look like placeholders (`PLACEHOLDER_SELECTOR`), in document order: one walk of
    the tree, shared by every provider `url_less_placeholders` is asked about."""
    return tree.css(PLACEHOLDER_SELECTOR)


def url_less_placeholders(
    candidates: Sequence[LexborNode],
    provider: Provider,
    titles: Sequence[str],
    taken: Mapping[int, LexborNode],
) -> list[LexborNode]:
    """Consent placeholders that name `provider` and no other, and hold none of its URLs, in order.

    `candidates` are the page's `placeholder_candidates`; `titles` the titles of all providers; `taken`
    the elements already read as embeds, by mem_id.
    """
    found: list[LexborNode] = []
    blocked = set(taken)  # inside an embed, or inside a placeholder already found
    others = [title for title in titles if title != provider.title]
    for node in candidates:
        if node.tag in NOT_TEXT or node.mem_id in blocked or _has_ancestor_in(node, blocked, 64):
            continue
        text = visible_text(node)
        if not text or len(text) > PLACEHOLDER_MAX_TEXT or not _names(text, provider.title):
            continue
        if any(_names(text, other) for other in others):
            continue
        markup = node.html or ""
        if any(host in markup for host in provider.hosts):
            continue
        if any(node.css_first(tag) is not None for tag in provider.element_tags):
            continue
        found.append(node)
        blocked.add(node.mem_id)
    return found


def _names(text: str, title: str) -> bool:
    return re.search(r"(?<!\w)" + re.escape(title) + r"(?!\w)", text) is not None


def _has_ancestor_in(node: LexborNode, ids: Container[int], limit: int) -> bool:
    parent = node.parent
    steps = 0
    while parent is not None and steps < limit:
        if parent.mem_id in ids:
            return True
        parent = parent.parent
        steps += 1
    return False


def residue_phrases(
    source: SourceText,
    provider: Provider,
    covered: Sequence[tuple[int, int]],
    offsets: Sequence[int] | None = None,
) -> list[str]:
    """The provider's residue phrases that start a line ending in a residue marker ("(@") somewhere
    outside `covered` (sorted, disjoint char ranges of embeds already found) and outside scripts.
    `offsets` are where the residue markers are written, when the caller has found them already."""
    starts = [start for start, _ in covered]

    def skip(at: int) -> bool:
        index = bisect.bisect_right(starts, at) - 1
        return (index >= 0 and covered[index][1] > at) or source.opaque_at(at) is not None

    return provider.residue_phrases_near_markers(source.text, skip, offsets)


def residue(
    tree: LexborHTMLParser, provider: Provider, phrases: Sequence[str], taken: Mapping[int, LexborNode]
) -> Iterator[Sighting]:
    """Attribution lines of `provider` outside any embed: residue, or a link when a post link is there.

    `taken` holds the elements already read as embeds, by mem_id (text inside them is theirs).
    """
    if not phrases:
        return
    # lexbor-contains matches elements with a direct text child that holds the phrase.
    selector = ", ".join(f'*:lexbor-contains("{_css_string(phrase)}")' for phrase in phrases)
    seen: set[int] = set()
    holding: set[int] | None = None  # elements that hold an embed: not the leftovers of one
    inside: dict[int, bool] = {}  # elements known to be (or not be) inside an embed
    for holder in tree.css(selector):
        if holder.tag in NOT_TEXT or _inside_any(holder, taken, inside):
            continue
        block = _enclosing_block(holder)
        if holding is None:
            holding = _ancestors_of(taken.values())
        if block.mem_id in seen or block.mem_id in taken or block.mem_id in holding:
            continue
        seen.add(block.mem_id)
        text = visible_text(block)
        fields = provider.read_residue(text)
        if fields is None:
            continue
        unit: LexborNode | None = block
        if len(text) > RESIDUE_BLOCK_MAX:
            # The line sits in a block full of other text: the unit is the line's own element when it
            # has one, else there is no unit a rewrite could replace.
            unit = holder if holder.tag not in BLOCKS else None
        time = block.css_first("time[datetime]")
        published = (time.attrs.get("datetime") or "").strip() if time is not None else ""
        if published:  # the machine-readable date beats the one read from the words
            fields = MarkupFields(published=published).or_else(fields)
        post = None
        for link in (unit or holder).css("a[href]"):
            post = provider.parse_url(link.attrs.get("href") or "")
            if post is not None:
                break
        markup = MarkupKind.LINK if post is not None else MarkupKind.RESIDUE
        yield Sighting(provider.name, post, markup, unit, fields)


def _inside_any(node: LexborNode, taken: Mapping[int, LexborNode], known: dict[int, bool]) -> bool:
    """Whether `node` is one of `taken` or inside one; `known` remembers the answer for every element
    walked through, so many lines deep in one tree cost one walk up, not one each."""
    path: list[int] = []
    current: LexborNode | None = node
    answer = False
    while current is not None:
        key = current.mem_id
        if key in known:
            answer = known[key]
            break
        if key in taken:
            answer = True
            break
        path.append(key)
        current = current.parent
    for key in path:
        known[key] = answer
    return answer


def _ancestors_of(nodes: Iterable[LexborNode]) -> set[int]:
    """The mem_ids of every ancestor of `nodes` (each ancestor is walked up from once)."""
    ancestors: set[int] = set()
    for node in nodes:
        parent = node.parent
        while parent is not None and parent.mem_id not in ancestors:
            ancestors.add(parent.mem_id)
            parent = parent.parent
    return ancestors


def _enclosing_block(node: LexborNode) -> LexborNode:
    block: LexborNode | None = node
    while block is not None and block.tag not in BLOCKS:
        block = block.parent
    if block is None or block.tag in ("body", "html"):
        return node
    # A stripped embed: the attribution paragraph of a blockquote stands for the whole blockquote.
    parent = block.parent
    if block.tag == "p" and parent is not None and parent.tag == "blockquote":
        return parent
    return block


def _css_string(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')
