"""Units: the sightings that are one embed, joined, put in document order and reported as records.

A page shows one embed in several forms at once: a blockquote and the iframe its script renders, a
Gutenberg comment pair around a figure around a URL, a <noscript> copy. Each sighting is first widened to
the element a rewrite would replace (`unit_root`) and placed in the source (`page`); here the placed
sightings (`Found`) are ordered (`put_in_document_order`), joined into units where they are one embed
(`join_units`: inside another of the same post, or a different copy right after it), and each unit
becomes one `EmbedRef` with a byte span (`embed_refs`). The same post embedded twice stays two embeds.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archiver.pipeline.scan.offsets import byte_offsets
from archiver.pipeline.scan.spans import SourceText
from archiver.providers.common.base import NO_FIELDS, PostUrl, Sighting, has_class
from archiver.records import Article, EmbedRef, MarkupKind, Span

# Which sighting names a unit's markup when several are one embed (a comment pair around the unit
# names it in any case).
MARKUP_RANK = {
    MarkupKind.BLOCKQUOTE: 0,
    MarkupKind.AMP: 1,
    MarkupKind.IFRAME: 2,
    MarkupKind.DIV: 3,
    MarkupKind.OEMBED_TAG: 4,
    MarkupKind.BARE_URL: 5,
    MarkupKind.LINK: 6,
    MarkupKind.SCRIPT: 7,
    MarkupKind.RESIDUE: 8,
    MarkupKind.BLOCK_COMMENT: 9,
}
# Element forms that stand side by side as copies of one embed (a blockquote, the iframe embed.js
# rendered from it, a <noscript> fallback).
COPY_KINDS = frozenset(
    {MarkupKind.BLOCKQUOTE, MarkupKind.IFRAME, MarkupKind.AMP, MarkupKind.DIV, MarkupKind.OEMBED_TAG}
)


@dataclass(slots=True)
class Found:
    """A sighting placed in the source: the element its unit covers and that element's char range."""

    sighting: Sighting
    root: LexborNode | None
    start: int | None
    end: int | None
    order: float = 0.0
    # Where the root's start tag is when its end could not be told (orders it among the others).
    anchor: int | None = None

    @property
    def post_key(self) -> tuple[str, str] | None:
        post = self.sighting.post
        return (post.provider, post.post_id) if post else None


@dataclass(slots=True)
class Unit:
    """Sightings that are one embed."""

    members: list[Found]
    start: int | None
    end: int | None
    kinds: set[MarkupKind] = field(default_factory=set)

    def post_key(self) -> tuple[str, str] | None:
        return next((key for member in self.members if (key := member.post_key)), None)

    @property
    def provider(self) -> str:
        return self.members[0].sighting.provider


def put_in_document_order(found: list[Found], tree: LexborHTMLParser, text_length: int) -> None:
    """Set each `order` to document order: the source offset, or (unlocated elements) just after the
    located element that precedes them in the tree."""
    for f in found:
        if f.start is None and f.anchor is not None:
            f.order = f.anchor + 0.5
        else:
            f.order = float(f.start) if f.start is not None else 0.0
    unlocated = [f for f in found if f.start is None and f.anchor is None]
    if not unlocated:
        return
    root = tree.root
    position = {node.mem_id: index for index, node in enumerate(root.traverse())} if root else {}
    located = sorted(
        (position.get(f.root.mem_id, -1), f.start)
        for f in found
        if f.root is not None and f.start is not None
    )
    # The source offset of the located element latest in the tree before each unlocated one.
    latest = [start for _, start in located]
    for index in range(1, len(latest)):
        latest[index] = max(latest[index], latest[index - 1])
    for f in unlocated:
        at = position.get(f.root.mem_id, len(position)) if f.root is not None else len(position)
        before = bisect.bisect_right(located, (at, text_length + 1))
        f.order = (latest[before - 1] if before else 0) + 0.5


def join_units(found: list[Found], source: SourceText) -> list[Unit]:
    """The units of `found`, in document order: a sighting joins one of the last three units when it is
    the same embed (`_joins`), else starts a unit of its own."""
    units: list[Unit] = []
    for f in sorted(found, key=lambda f: (f.order, -(f.end or 0))):
        unit = next((u for u in reversed(units[-3:]) if _joins(u, f, source)), None)
        if unit is None:
            units.append(Unit([f], f.start, f.end, {f.sighting.markup}))
            continue
        unit.members.append(f)
        unit.kinds.add(f.sighting.markup)
        if unit.end is not None and f.end is not None:
            unit.end = max(unit.end, f.end)
    return units


def _joins(unit: Unit, f: Found, source: SourceText) -> bool:
    if unit.provider != f.sighting.provider:
        return False
    unit_post, post = unit.post_key(), f.post_key
    same_post = unit_post is None or post is None or unit_post == post
    if not same_post:
        return False
    if unit.start is not None and unit.end is not None and f.start is not None and f.end is not None:
        if unit.start <= f.start and f.end <= unit.end:
            return True  # inside the unit: a figure's URL, a comment pair's figure, a copy in a wrapper
        # Right after it, a different form of the same post: a rendered iframe, a <noscript> copy.
        return (
            unit_post is not None
            and f.sighting.markup in COPY_KINDS
            and unit.kinds <= COPY_KINDS
            and f.sighting.markup not in unit.kinds
            and source.ignorable_gap(unit.end, f.start)
        )
    roots = [m.root for m in unit.members if m.root is not None]
    return f.root is not None and any(_is_inside(f.root, root) for root in roots)


def embed_refs(units: list[Unit], article: Article) -> tuple[EmbedRef, ...]:
    """One record per unit: the markup and post its best-ranked member names (`MARKUP_RANK`), the
    fields its members read, its char range as a byte span in `article.data`."""
    offsets = [o for u in units if u.start is not None and u.end is not None for o in (u.start, u.end)]
    to_bytes = byte_offsets(article.text, article.data, article.encoding, offsets) if offsets else {}
    refs: list[EmbedRef] = []
    for unit in units:
        members = sorted(unit.members, key=lambda m: MARKUP_RANK[m.sighting.markup])
        # A comment pair names the unit when it is the unit's outside (the first member found).
        outside = unit.members[0].sighting.markup
        markup = outside if outside is MarkupKind.BLOCK_COMMENT else members[0].sighting.markup
        post: PostUrl | None = next((m.sighting.post for m in members if m.sighting.post), None)
        fields = NO_FIELDS
        for member in members:
            fields = fields.or_else(member.sighting.fields)
        span = None
        if to_bytes and unit.start is not None and unit.end is not None:
            span = Span(to_bytes[unit.start], to_bytes[unit.end])
        refs.append(
            EmbedRef(
                provider=unit.provider,
                post_id=post.post_id if post else None,
                url=post.url if post else None,
                markup=markup,
                span=span,
                author_name=fields.author_name,
                handle=fields.handle,
                author_url=fields.author_url,
                published=fields.published,
                caption=fields.caption,
            )
        )
    return tuple(refs)


def unit_root(node: LexborNode) -> LexborNode:
    """The element a rewrite of this embed would replace: the embed itself, its <noscript> copy's
    noscript, or the Gutenberg (`figure.wp-block-embed`) / CKEditor (`figure.media`) figure around it."""
    root = node
    parent = root.parent
    if parent is not None and parent.tag == "noscript":
        root, parent = parent, parent.parent
    for _ in range(2):
        if parent is None:
            break
        if parent.tag == "figure" and (has_class(parent, "wp-block-embed") or has_class(parent, "media")):
            return parent
        if not (parent.tag == "div" and has_class(parent, "wp-block-embed__wrapper")):
            break
        parent = parent.parent
    return root


def _is_inside(node: LexborNode, ancestor: LexborNode, limit: int = 64) -> bool:
    """Whether `ancestor` is `node` or holds it (within `limit` levels)."""
    current: LexborNode | None = node
    for _ in range(limit):
        if current is None:
            return False
        if current.mem_id == ancestor.mem_id:  # (LexborNode's == compares serialized HTML)
            return True
        current = current.parent
    return False
