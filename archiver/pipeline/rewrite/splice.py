"""The byte splice: replace embed units by cards, copy every other byte verbatim, and undo it exactly.

Pure functions over bytes; nothing here parses HTML (that is `verify`) or touches storage.

    plan(article, replacements)    -> Plan: edits (old and new bytes per span) and refusals
    apply(data, plan)              -> the new bytes (bytes outside the spans copied as they are)
    restore(data, entries)         -> the bytes with cards put back to their original units
    restore_edits(data, entries)   -> the edits `restore` makes (where each card was found)
    locate(data, card, hint)       -> where a card is (at the journal's offset, else the nearest copy)
    shifted(position, edits)       -> where an offset of the old bytes is in the new ones

No parser re-serialises an article faithfully (reference/ecosystem.md section 4), so a rewrite never
writes a parsed tree back: it replaces exactly the byte span of each embed unit and nothing else.
The card's markup is encoded in the article's own encoding; characters the encoding cannot hold become
numeric character references (`&#8212;`), which every HTML parser reads as the character.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from archiver.errors import RestoreError
from archiver.records import Article, Span

# Encodings whose bytes depend on a shift state: a fragment encoded alone may not fit where it goes.
_STATEFUL = ("iso2022", "iso-2022", "utf_7", "utf-7", "hz")


@dataclass(frozen=True, slots=True)
class Replacement:
    """Put `markup` in place of the bytes at `span`; `key` names the embed (e.g. "instagram:CODE")."""

    span: Span
    markup: str
    key: str


@dataclass(frozen=True, slots=True)
class Edit:
    """One planned replacement: the original bytes at `start:end` and the bytes that take their place."""

    start: int
    end: int
    old: bytes
    new: bytes
    key: str

    @property
    def delta(self) -> int:
        return len(self.new) - len(self.old)


@dataclass(frozen=True, slots=True)
class Refusal:
    key: str
    span: Span
    reason: str


@dataclass(frozen=True, slots=True)
class Plan:
    """The edits that may go ahead, in byte order and disjoint, and the replacements refused."""

    edits: tuple[Edit, ...]
    refused: tuple[Refusal, ...] = ()

    def positions(self) -> list[int]:
        """Where each edit's new bytes start in the spliced result."""
        out: list[int] = []
        shift = 0
        for edit in self.edits:
            out.append(edit.start + shift)
            shift += edit.delta
        return out


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """What undoing one edit needs: where its card is now, the card's bytes, the unit's bytes."""

    at: int
    card: bytes
    original: bytes


def codec_for(article: Article) -> str:
    """The codec that encodes text to go inside the article's bytes (a BOM only ever at the start)."""
    name = codecs.lookup(article.encoding).name
    if name == "utf-8-sig":
        return "utf-8"
    if name in ("utf-16", "utf-32"):
        data = article.data
        if name == "utf-32":
            return "utf-32-le" if data.startswith(codecs.BOM_UTF32_LE) else "utf-32-be"
        return "utf-16-le" if data.startswith(codecs.BOM_UTF16_LE) else "utf-16-be"
    return name


def encode_markup(markup: str, codec: str) -> bytes:
    """`markup` in the article's encoding; characters it cannot hold as numeric character references."""
    return markup.encode(codec, "xmlcharrefreplace")


def plan(article: Article, replacements: Sequence[Replacement]) -> Plan:
    """The edits for `replacements`, or why each one cannot be done.

    An empty span is an insertion (a card after a lead-in): its edit's old bytes are empty.
    Refused: spans out of the article's bytes, spans overlapping another replacement's, insertions
    inside another's span or at the same offset as another insertion (all of them are refused: none
    can be told to be the right one), and articles in a stateful encoding (ISO-2022, UTF-7), where
    bytes cut out of context can change meaning.
    """
    try:
        codec = codec_for(article)
    except LookupError:
        return Plan(
            (), tuple(Refusal(r.key, r.span, f"unknown encoding {article.encoding!r}") for r in replacements)
        )
    if any(codec.replace("_", "-").startswith(prefix.replace("_", "-")) for prefix in _STATEFUL):
        reason = f"the article's encoding ({article.encoding}) is stateful; splicing bytes is unsafe there"
        return Plan((), tuple(Refusal(r.key, r.span, reason) for r in replacements))
    size = len(article.data)
    refused: list[Refusal] = []
    candidates: list[Replacement] = []
    for replacement in replacements:
        span = replacement.span
        if not 0 <= span.start <= span.end <= size:
            refused.append(
                Refusal(
                    replacement.key,
                    span,
                    f"span {span.start}-{span.end} is outside the article ({size} bytes)",
                )
            )
        else:
            candidates.append(replacement)
    candidates.sort(key=lambda r: (r.span.start, r.span.end))
    overlapping: set[int] = set()
    furthest = 0
    for index in range(1, len(candidates)):
        # Sorted by start: a span overlaps an earlier one iff it starts before the furthest end so far.
        if candidates[index].span.start < candidates[furthest].span.end:
            overlapping.update((index, furthest))
        previous, span = candidates[index - 1].span, candidates[index].span
        if span.start == span.end == previous.start == previous.end:  # two insertions at one offset
            overlapping.update((index, index - 1))
        if candidates[index].span.end > candidates[furthest].span.end:
            furthest = index
    edits: list[Edit] = []
    for index, replacement in enumerate(candidates):
        span = replacement.span
        if index in overlapping:
            refused.append(
                Refusal(replacement.key, span, f"span {span.start}-{span.end} overlaps another embed's span")
            )
            continue
        new = encode_markup(replacement.markup, codec)
        edits.append(Edit(span.start, span.end, article.data[span.start : span.end], new, replacement.key))
    return Plan(tuple(edits), tuple(refused))


def apply(data: bytes, plan: Plan) -> bytes:
    """The spliced bytes: each edit's new bytes in place of its span, every other byte copied."""
    pieces: list[bytes] = []
    done = 0
    for edit in plan.edits:
        if edit.start < done or data[edit.start : edit.end] != edit.old:
            raise ValueError(
                f"edit {edit.key} at {edit.start}-{edit.end} does not match the bytes it was planned on"
            )
        pieces.append(data[done : edit.start])
        pieces.append(edit.new)
        done = edit.end
    pieces.append(data[done:])
    return b"".join(pieces)


def shifted(position: int, edits: Iterable[Edit]) -> int:
    """Where `position` (an offset in the bytes before `edits`, outside every span) is after them."""
    return position + sum(edit.delta for edit in edits if edit.end <= position)


def locate(data: bytes, card: bytes, hint: int) -> int | None:
    """Where `card` is in `data`: at `hint` when it is there, else its occurrence nearest to `hint`."""
    if data.startswith(card, hint):
        return hint
    best: int | None = None
    at = data.find(card)
    while at != -1:
        if best is None or abs(at - hint) < abs(best - hint):
            best = at
        at = data.find(card, at + 1)
    return best


def restore(data: bytes, entries: Sequence[JournalEntry]) -> bytes:
    """`data` with the cards of `entries` replaced by their original bytes: the inverse of `apply`.

    Order does not matter: all cards are found first (`restore_edits`), then put back in one pass.
    Raises `RestoreError` when a card is missing.
    """
    return apply(data, Plan(tuple(restore_edits(data, entries))))


def _free_occurrence(data: bytes, entry: JournalEntry, taken: list[tuple[int, int]]) -> int | None:
    best: int | None = None
    at = data.find(entry.card)
    while at != -1:
        free = not any(start < at + len(entry.card) and at < end for start, end in taken)
        if free and (best is None or abs(at - entry.at) < abs(best - entry.at)):
            best = at
        at = data.find(entry.card, at + 1)
    return best


def restore_edits(data: bytes, entries: Sequence[JournalEntry]) -> list[Edit]:
    """Where each entry's card is in `data`, as edits that put the original bytes back (byte order).

    Each card is looked for where its entry says, else at its free occurrence nearest to there (the
    article was edited elsewhere since; the same post twice has two identical cards). Raises
    `RestoreError` when a card is not in `data`.
    """
    taken: list[tuple[int, int]] = []
    edits: list[Edit] = []
    for entry in sorted(entries, key=lambda e: e.at):
        at = locate(data, entry.card, entry.at) if entry.card else None
        if at is not None and any(start < at + len(entry.card) and at < end for start, end in taken):
            at = _free_occurrence(data, entry, taken)
        if at is None:
            raise RestoreError(f"the card at byte {entry.at} is no longer in the article (edited or removed)")
        taken.append((at, at + len(entry.card)))
        edits.append(Edit(at, at + len(entry.card), entry.card, entry.original, "restore"))
    return sorted(edits, key=lambda edit: edit.start)
