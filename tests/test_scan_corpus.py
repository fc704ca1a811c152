"""The scanner against the labelled DEV corpus (shared/corpus): real saved pages, hand-checked labels.

Labels are read from labels.json when the tests run, never copied here. For every page: every labelled
Instagram embed is found and nothing else is reported for Instagram (a multiset: the same post twice
counts twice). Matching follows the corpus README: on (provider, id) when the id is known, else on
(provider, url). Only Instagram is checked until the other providers exist.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

from archiver.pipeline.scan import scan_article
from archiver.records import Article, ScanResult

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "dev"
PROVIDERS_CHECKED = ("instagram",)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)

pytestmark = pytest.mark.skipif(not (CORPUS / "labels.json").is_file(), reason="shared corpus not present")


@cache
def labels() -> dict[str, Any]:
    pages: dict[str, Any] = json.loads((CORPUS / "labels.json").read_text(encoding="utf-8"))["pages"]
    return pages


def page_names() -> list[str]:
    return sorted(labels()) if (CORPUS / "labels.json").is_file() else []


def decode(data: bytes) -> tuple[str, str]:
    """BOM, then <meta charset>, then UTF-8, then cp1252 (good enough inside this test)."""
    for bom, name in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if data.startswith(bom):
            return data.decode(name), name
    declared = _META_CHARSET.search(data[:4096])
    if declared:
        name = declared.group(1).decode("ascii")
        try:
            return data.decode(name), name
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace"), "cp1252"


@cache
def page(name: str) -> Article:
    data = (CORPUS / "pages" / name).read_bytes()
    text, encoding = decode(data)
    return Article(name, "corpus", data, text, encoding, hashlib.sha256(data).hexdigest())


@cache
def scanned(name: str) -> ScanResult:
    return scan_article(page(name))


def key(provider: str, post_id: str | None, url: str | None) -> tuple[str, str]:
    return (provider, f"id:{post_id}") if post_id else (provider, f"url:{url}")


def expected(name: str) -> Counter[tuple[str, str]]:
    return Counter(
        key(e["provider"], e["id"], e["url"])
        for e in labels()[name]["embeds"]
        if e["provider"] in PROVIDERS_CHECKED
    )


def found(name: str) -> Counter[tuple[str, str]]:
    return Counter(
        key(e.provider, e.post_id, e.url) for e in scanned(name).embeds if e.provider in PROVIDERS_CHECKED
    )


def table() -> str:
    """Per page: labelled, found, missing and extra (printed when a page fails)."""
    rows = [f"{'page':44} {'labelled':>8} {'found':>6}  missing / extra"]
    for name in page_names():
        want, got = expected(name), found(name)
        mark = (
            "" if want == got else f"  {sorted((want - got).elements())} / {sorted((got - want).elements())}"
        )
        rows.append(f"{name:44} {sum(want.values()):8} {sum(got.values()):6}{mark}")
    return "\n".join(rows)


@pytest.mark.slow
@pytest.mark.parametrize("name", page_names())
def test_page_embeds_match_labels(name: str) -> None:
    result = scanned(name)
    assert result.error is None, result.error
    want, got = expected(name), found(name)
    assert got == want, f"\nmissing {want - got}\nextra {got - want}\n\n{table()}"


@pytest.mark.slow
@pytest.mark.parametrize("name", page_names())
def test_page_spans_point_at_their_units(name: str) -> None:
    article = page(name)
    for ref in scanned(name).embeds:
        assert ref.span is not None, ref
        unit = article.data[ref.span.start : ref.span.end].decode(article.encoding, "replace")
        opened = re.match(r"<([a-zA-Z][a-zA-Z0-9-]*)", unit)
        assert opened is not None, unit[:80]
        tag = opened.group(1).lower()
        assert tag in ("blockquote", "figure", "amp-instagram", "div", "iframe", "p"), unit[:80]
        endings = (f"</{tag}>", "</script>") if tag == "blockquote" else (f"</{tag}>",)
        assert unit.rstrip().lower().endswith(endings), unit[-80:]
        if ref.post_id and ref.markup.value != "script":
            assert ref.post_id in unit, (ref, unit[:200])  # the span is this embed, not a neighbour


@pytest.mark.slow
def test_totals_and_the_oracle() -> None:
    """Every labelled Instagram embed over the split; and bs4+lxml (the test oracle, never on the scan
    path) counts the same Instagram embed elements as the scan reports blockquote and AMP embeds."""
    want = sum((expected(name) for name in page_names()), Counter())
    got = sum((found(name) for name in page_names()), Counter())
    assert got == want, table()
    for name in page_names():
        if not expected(name):
            continue
        soup = BeautifulSoup(page(name).text, "lxml")
        elements = soup.select("blockquote.instagram-media, amp-instagram[data-shortcode]")
        reported = [e for e in scanned(name).embeds if e.markup.value in ("blockquote", "amp")]
        assert len(elements) == len(reported), name
