"""The corpus pages with their labelled embed units cut out: what a page looks like after its embeds
vanished without a trace (the case `pipeline/scan/lost.py` looks for). Shared by the lost-embed test and
benchmarks/lost_recall.py.

A unit is cut when the scan found it and it is one of the page's labelled embeds (same key as the
corpus scoring); its bytes are removed, nothing else changes.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, replace

from archiver.pipeline.scan import scan_article
from archiver.records import Article, EmbedRef
from archiver.sources.files import decode_html
from tests.support.corpus_scoring import article, expected, found_key, page_names, scanned


@dataclass(frozen=True, slots=True)
class CutPage:
    name: str
    cut: int
    lost: tuple[EmbedRef, ...]


def cut_page(name: str) -> tuple[Article, int]:
    """The page `name` without its labelled embed units, and how many were cut."""
    original = article(name)
    wanted = expected(name)
    spans: list[tuple[int, int]] = []
    taken: Counter[tuple[str, str]] = Counter()
    for ref in scanned(name).embeds:
        key = found_key(ref)
        if ref.span is None or taken[key] >= wanted[key]:
            continue
        taken[key] += 1
        spans.append((ref.span.start, ref.span.end))
    data = original.data
    for start, end in sorted(spans, reverse=True):
        data = data[:start] + data[end:]
    text, encoding = decode_html(data)
    cut = replace(original, data=data, text=text, encoding=encoding, sha256=hashlib.sha256(data).hexdigest())
    return cut, len(spans)


def lost_after_cutting() -> list[CutPage]:
    """For every corpus page: how many units were cut, and the lost spots the scan reports then."""
    pages = []
    for name in page_names():
        page, cut = cut_page(name)
        lost = tuple(ref for ref in scan_article(page).embeds if ref.is_lost)
        pages.append(CutPage(name, cut, lost))
    return pages
