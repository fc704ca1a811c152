"""Our own fallback cards, found again in an article: `archived_cards(text)`.

A rewritten article holds cards where broken embeds were. Their root element carries the marker
`data-archiver-embed="PROVIDER:POST_ID"` and `data-archiver-version="N"` (`MARKER_ATTRIBUTE` and
`VERSION_ATTRIBUTE`, named here and written by the rewrite's card templates), so a later scan
reports those embeds as archived instead of losing them, and a rewrite recognises a unit it already
replaced (the rewrite is idempotent).

Cards are markup we wrote (every attribute quoted and escaped, the text escaped), so a small scan of
tags finds their extent: from the root's start tag to the end tag that closes it, counting nested
elements of the same name. A card an editor broke (no end tag) is reported with `end` None.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from functools import lru_cache

# The attributes that mark a card's root element as ours (the rewrite's templates write them).
MARKER_ATTRIBUTE = "data-archiver-embed"
VERSION_ATTRIBUTE = "data-archiver-version"
_MARKER = re.compile(MARKER_ATTRIBUTE + r"""\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+))""", re.IGNORECASE)
_START_TAG = re.compile(r"""<([a-zA-Z][a-zA-Z0-9-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>""")
_ATTRIBUTE = re.compile(r"""([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""")
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)
# How far back from the marker the root's `<` may be (a start tag with a long class list).
_LOOKBACK = 4096


@dataclass(frozen=True, slots=True)
class ArchivedCard:
    """One card in an article: which post and version it shows, and its char span in the text."""

    provider: str
    post_id: str
    version: int | None
    start: int
    # Exclusive; None when the card's closing tag cannot be found (edited by hand).
    end: int | None
    tag: str

    @property
    def marker(self) -> str:
        return f"{self.provider}:{self.post_id}"


def archived_cards(text: str) -> list[ArchivedCard]:
    """Every card of ours in `text`, in document order (char offsets; `offsets.byte_offsets` maps
    them to bytes)."""
    if MARKER_ATTRIBUTE not in text:
        return []
    cards: list[ArchivedCard] = []
    after = 0
    for match in _MARKER.finditer(text):
        if match.start() < after:
            continue  # inside a card already found (a card never holds another)
        card = _card_around(text, match.start())
        if card is None:
            continue
        cards.append(card)
        after = card.end if card.end is not None else match.end()
    return cards


def is_card(fragment: str) -> bool:
    """Whether `fragment` is exactly one of our cards (a unit that was already rewritten)."""
    cards = archived_cards(fragment)
    return len(cards) == 1 and cards[0].start == 0 and cards[0].end == len(fragment.rstrip())


def _card_around(text: str, marker_at: int) -> ArchivedCard | None:
    begin = text.rfind("<", max(0, marker_at - _LOOKBACK), marker_at)
    if begin < 0:
        return None
    tag_match = _START_TAG.match(text, begin)
    if tag_match is None or tag_match.end() <= marker_at:
        return None  # the marker is text, or in another construct: not one of our root tags
    tag = tag_match.group(1).lower()
    attributes = _attributes(tag_match.group(2))
    marker = attributes.get(MARKER_ATTRIBUTE, "")
    provider, sep, post_id = marker.partition(":")
    if not sep or not provider or not post_id:
        return None
    version_text = attributes.get(VERSION_ATTRIBUTE, "")
    version = int(version_text) if version_text.isdigit() else None
    end = tag_match.end() if tag in _VOID else _end_of(text, tag, tag_match.end())
    return ArchivedCard(provider, post_id, version, begin, end, tag)


def _attributes(source: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for match in _ATTRIBUTE.finditer(source):
        name = match.group(1).lower()
        value = next((group for group in match.groups()[1:] if group is not None), "")
        found.setdefault(name, html.unescape(value))
    return found


def _end_of(text: str, tag: str, start: int) -> int | None:
    """Where the element opened just before `start` ends: after its matching end tag."""
    depth = 1
    for match in _same_tag(tag).finditer(text, start):
        depth += -1 if match.group(1) else 1
        if depth == 0:
            return match.end()
    return None


@lru_cache(maxsize=64)
def _same_tag(tag: str) -> re.Pattern[str]:
    return re.compile(rf"<(/?){re.escape(tag)}(?=[\s/>])[^>]*>", re.IGNORECASE)
