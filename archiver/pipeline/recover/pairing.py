"""Pairing: which embed of an earlier copy of an article stood where the article now shows a residue
line or a lost spot. Never a guess: a spot is paired only when exactly one post of the copy fits it.

* A residue line ("A post shared by NAME (@handle)") pairs with the copy's embed of the same provider
  whose markup names the same handle (case and "@" ignored).
* A lost spot pairs with the copy's embed whose preceding text ends with the spot's lead-in sentence
  (for a lead-in: the sentence itself; for an empty shell: the last sentence before it), within the
  same provider when the spot has a hint.

A copy that shows the same residue or lost spot is already broken: it says nothing, older copies may.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

from archiver.providers.common.base import squeeze
from archiver.records import Article, EmbedRef, MarkupKind, spot_anchor

# How far before an embed (in bytes of the copy) its lead-in is looked for.
_BEFORE_BYTES = 6_000
_HIDDEN = re.compile(r"<(script|style|template|noscript)\b.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_TRAILING = " \t\n\"'”’»)"


@dataclass(frozen=True, slots=True)
class Spot:
    """A residue line or lost spot of the article, as recovery looks for it."""

    markup: MarkupKind
    provider: str
    hint: str | None
    handle: str | None
    lead_in: str | None
    # What `spot_anchor` tells anchorless shells apart by (`Occurrence.found`).
    shell: str | None = None
    shell_number: str | None = None

    @property
    def anchor(self) -> str:
        """The text that identifies the spot in its article (the recoveries table's key)."""
        found = {"handle": self.handle, "lead_in": self.lead_in, "shell": self.shell}
        return spot_anchor(self.markup.value, {**found, "shell_number": self.shell_number})


@dataclass(frozen=True, slots=True)
class Pairing:
    """The embed of a copy that stood at a spot, or why none did (`ref` None)."""

    ref: EmbedRef | None
    reason: str
    original_markup: str | None = None


def normal_handle(value: str | None) -> str | None:
    return value.strip().lstrip("@").lower() if value and value.strip().lstrip("@") else None


def pair(spot: Spot, copy: Article, embeds: Sequence[EmbedRef]) -> Pairing:
    """The embed of `copy` (scanned: `embeds`) that stood at `spot`."""
    posts = [e for e in embeds if e.post_id and e.markup not in (MarkupKind.RESIDUE, MarkupKind.LOST)]
    if spot.markup is MarkupKind.RESIDUE:
        handle = normal_handle(spot.handle)
        if handle is None:
            return Pairing(None, "the residue names no handle")
        fits = [e for e in posts if e.provider == spot.provider and normal_handle(e.handle) == handle]
        broken = any(e.is_residue and normal_handle(e.handle) == handle for e in embeds)
        what = f"@{handle}"
    else:
        lead_in = _folded(spot.lead_in or "")
        if not lead_in:
            return Pairing(None, "the spot has no lead-in to find its place by")
        fits = [
            e
            for e in posts
            if (spot.hint is None or e.provider == spot.hint) and _text_before(copy, e).endswith(lead_in)
        ]
        broken = any(e.is_lost and _folded(e.lead_in or "") == lead_in for e in embeds)
        what = f"after {spot.lead_in!r}"
    distinct = {(e.provider, e.post_id) for e in fits}
    if len(distinct) == 1:
        ref = fits[0]
        return Pairing(ref, f"paired {what} with {ref.provider}:{ref.post_id}", _markup_of(copy, ref))
    if len(distinct) > 1:
        names = ", ".join(sorted(f"{p}:{i}" for p, i in distinct))
        return Pairing(None, f"several posts fit {what} ({names}): not guessed")
    if broken:
        return Pairing(None, f"already broken in this copy ({what})")
    return Pairing(None, f"no embed {what} in this copy")


def _text_before(copy: Article, ref: EmbedRef) -> str:
    if ref.span is None:
        return ""
    start = ref.span.start
    window = copy.data[max(0, start - _BEFORE_BYTES) : start].decode(copy.encoding, errors="replace")
    return _folded(html.unescape(_TAG.sub(" ", _HIDDEN.sub(" ", window))))


def _folded(text: str) -> str:
    return squeeze(text).rstrip(_TRAILING).casefold()


def _markup_of(copy: Article, ref: EmbedRef) -> str | None:
    if ref.span is None:
        return None
    return copy.data[ref.span.start : ref.span.end].decode(copy.encoding, errors="replace")
