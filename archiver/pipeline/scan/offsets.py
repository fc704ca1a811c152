"""Char offsets in an article's text -> byte offsets in its bytes (`EmbedRef.span` is in bytes).

The text is encoded again in order, piece by piece, in the article's encoding, each piece checked
against the bytes where it should be; so any codec works (multi-byte and stateful ones too), a BOM the
decoder stripped is allowed for, and a text decoded with errors="replace" is mapped through the places
the decoder replaced. When the text is not the bytes decoded, there are no byte offsets at all.
"""

from __future__ import annotations

import bisect
import codecs
import threading
from collections.abc import Iterable

_BOMS = (codecs.BOM_UTF8, codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def byte_offsets(text: str, data: bytes, encoding: str, offsets: Iterable[int]) -> dict[int, int] | None:
    """Byte offset in `data` of each char offset in `text`, or None when `text` is not `data` decoded.

    Works for any codec, multi-byte and stateful ones included, because the text is encoded in order,
    piece by piece, and the pieces must add up to the article's bytes exactly. A text decoded with
    replacement characters is mapped through the places the decoder replaced.
    """
    wanted = sorted(set(offsets))
    try:
        name = codecs.lookup(encoding).name
    except LookupError:
        return None
    if text.isascii() and len(text) == len(data) and data.isascii():
        return {offset: offset for offset in wanted}
    if name == "utf-8" or name == "utf-8-sig":
        for skip in _bom_skips(text, data):
            mapped = _utf8_by_needles(text, data, wanted, skip)
            if mapped is not None:
                return mapped
    for skip in _bom_skips(text, data):
        mapped = _encode_in_pieces(text, data, name, wanted, skip)
        if mapped is not None:
            return mapped
        mapped = _through_replacements(text, data, name, wanted, skip)
        if mapped is not None:
            return mapped
    return None


# How much text around an offset is looked for in the bytes (see `_utf8_by_needles`).
_NEEDLE_CONTEXT = 32


def _utf8_by_needles(text: str, data: bytes, wanted: list[int], skip: int) -> dict[int, int] | None:
    """UTF-8 offsets without encoding the text up to them: every char is 1 to 4 bytes (also a byte that
    did not decode: U+FFFD or a lone surrogate), so the bytes of char offset `c` lie in a window after
    those of the offset before; the text around `c`, encoded, is looked for in that window, and when it is
    there exactly once, that is where `c` is. A window that holds it twice (repeated markup) is encoded
    piece by piece instead. None when the text is not the bytes decoded after all."""
    mapped: dict[int, int] = {}
    done_chars, done_bytes = 0, skip
    for offset in wanted:
        found = _needle_in_window(text, data, offset, done_chars, done_bytes)
        if found is None:
            try:
                piece = text[done_chars:offset].encode("utf-8", "surrogateescape")
            except UnicodeError:
                return None
            if not data.startswith(piece, done_bytes):
                return None
            found = done_bytes + len(piece)
        mapped[offset] = found
        done_chars, done_bytes = offset, found
    return mapped


def _needle_in_window(text: str, data: bytes, offset: int, done_chars: int, done_bytes: int) -> int | None:
    """Where char `offset` is in `data` (given that `done_chars` is at `done_bytes`), if the text around it
    is written exactly once where it can be; None when that cannot be told this way."""
    if offset == done_chars:
        return done_bytes
    before = max(done_chars, offset - _NEEDLE_CONTEXT)
    context = text[before : offset + _NEEDLE_CONTEXT]
    if "\ufffd" in context or len(context) < _NEEDLE_CONTEXT:
        return None
    try:
        head = len(text[before:offset].encode("utf-8", "surrogateescape"))
        needle = context.encode("utf-8", "surrogateescape")
    except UnicodeError:
        return None
    gap = before - done_chars
    low = done_bytes + gap  # at least a byte per char before the context, at most four
    high = done_bytes + 4 * gap + len(needle)
    at = data.find(needle, low, high)
    if at == -1 or data.find(needle, at + 1, high) != -1:
        return None
    return at + head


def _bom_skips(text: str, data: bytes) -> list[int]:
    """0, and the BOM length when the bytes start with a BOM the text does not (stripped on decode)."""
    skips = [0]
    if not text.startswith("\ufeff"):
        skips += [len(bom) for bom in _BOMS if data.startswith(bom)][:1]
    return skips


def _encode_in_pieces(
    text: str, data: bytes, name: str, wanted: list[int], skip: int
) -> dict[int, int] | None:
    """Encode the text up to the last wanted offset, piece by piece, each piece checked against the
    article's bytes where it should be (what lies after the last span cannot move any offset)."""
    # surrogateescape: a text decoded with it gives back its undecodable bytes exactly.
    encoder = codecs.getincrementalencoder(name)("surrogateescape")
    mapped: dict[int, int] = {}
    done, size = 0, skip
    try:
        for offset in wanted:
            piece = encoder.encode(text[done:offset])
            if not data.startswith(piece, size):
                return None
            size += len(piece)
            mapped[offset] = size
            done = offset
    except UnicodeError:
        return None
    return mapped


def _through_replacements(
    text: str, data: bytes, name: str, wanted: list[int], skip: int
) -> dict[int, int] | None:
    """For a text decoded with errors="replace": where each U+FFFD came from, then offsets in between."""
    if "\ufffd" not in text:
        return None
    body = data[skip:]
    _replaced.ranges = []
    try:
        if body.decode(name, _TRACK_REPLACEMENTS) != text:
            return None
    except UnicodeError:
        return None
    # (char offset, byte offset) at the start of every stretch that decoded cleanly.
    anchors: list[tuple[int, int]] = [(0, 0)]
    chars = done = 0
    for start, end in _replaced.ranges:
        chars += len(body[done:start].decode(name)) + 1
        done = end
        anchors.append((chars, done))
    mapped: dict[int, int] = {}
    for offset in wanted:
        anchor_chars, anchor_bytes = anchors[bisect.bisect_right(anchors, (offset, len(body) + 1)) - 1]
        try:
            mapped[offset] = skip + anchor_bytes + len(text[anchor_chars:offset].encode(name))
        except UnicodeError:
            return None
    return mapped


# The decoder's replacements, recorded per thread by the error handler below.
_replaced = threading.local()
_TRACK_REPLACEMENTS = "archiver.scan.track-replacements"


def _track_replacement(error: UnicodeError) -> tuple[str, int]:
    if not isinstance(error, UnicodeDecodeError):
        raise error
    _replaced.ranges.append((error.start, error.end))
    return "\ufffd", error.end


codecs.register_error(_TRACK_REPLACEMENTS, _track_replacement)
