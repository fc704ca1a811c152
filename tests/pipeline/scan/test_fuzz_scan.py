"""Fuzzing the scanner and the span locator with mutated corpus pages (`tests/support/mutations.py`):
truncation, unclosed tags, comments and CDATA across embeds, mixed encodings, NUL bytes, nesting 10,000
deep, embeds next to the damage.

Properties: reading the bytes either gives an article or one line of `ArticleError` (never another
exception); the scanner never fails on an article it was given (no `error`); every span lies inside the
file and starts on markup; the locator's ranges of the page's elements lie inside the text, start at a
start tag of their element and end after it.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from selectolax.lexbor import LexborHTMLParser

from archiver.errors import ArchiverError
from archiver.pipeline.scan import scan_article
from archiver.pipeline.scan.spans import SourceText
from archiver.records import Article
from tests.support.mutations import (
    FUZZ,
    Mutation,
    article_from,
    cases,
    examples,
    mutate,
    page_bytes,
    page_names,
)

pytestmark = pytest.mark.skipif(not page_names(), reason="shared/corpus/dev is not there")
LOCATED_TAGS = ("blockquote", "iframe", "figure", "div", "p", "script", "a")


def read(name: str, mutations: list[Mutation]) -> Article | None:
    """The mutated page as an article, or None when it is refused with one line of error."""
    data = mutate(page_bytes(name), mutations)
    try:
        return article_from(data)
    except ArchiverError as exc:
        message = str(exc)
        assert message and "\n" not in message, message
        return None


@settings(FUZZ, max_examples=examples(30))
@given(cases())
@example(("boingboing.net-2ab2abe9.html", [("nest", 0.5, 10_000)]))
@example(("boingboing.net-2ab2abe9.html", [("nest", 0.3, 9_999), ("comment", 0.2, 0)]))
@example(("boingboing.net-2ab2abe9.html", [("nul", 0.9, 64), ("cdata", 0.4, 2_000), ("truncate", 0.8, 0)]))
def test_the_scanner_never_fails_and_its_spans_stay_in_the_file(case: tuple[str, list[Mutation]]) -> None:
    name, mutations = case
    if name not in page_names():
        pytest.skip(f"{name} is not in the corpus here")
    page = read(name, mutations)
    if page is None:
        return
    result = scan_article(page)
    assert result.error is None, result.error
    size = len(page.data)
    for ref in result.embeds:
        if ref.span is None:
            continue
        assert 0 <= ref.span.start < ref.span.end <= size, ref
        unit = page.data[ref.span.start : ref.span.end].decode(page.encoding, "replace").lstrip()
        assert unit.startswith(("<", "http")), (ref.markup, unit[:80])


@settings(FUZZ, max_examples=examples(25))
@given(cases())
@example(("boingboing.net-2ab2abe9.html", [("unclose", 0.1, 64), ("open_tags", 0.5, 2_000)]))
def test_the_span_locator_finds_elements_inside_the_text_or_not_at_all(
    case: tuple[str, list[Mutation]],
) -> None:
    name, mutations = case
    if name not in page_names():
        pytest.skip(f"{name} is not in the corpus here")
    page = read(name, mutations)
    if page is None:
        return
    text = page.text
    tree = LexborHTMLParser(text)
    source = SourceText(text)
    for tag in LOCATED_TAGS:
        nodes = list(tree.css(tag))
        # A few of each tag, spread over the page: locating an element costs a pass over its text.
        for index in sorted({len(nodes) - 1, *range(0, len(nodes), max(len(nodes) // 4, 1))} - {-1}):
            node = nodes[index]
            found = source.locate(node, nodes, index)
            if found is None:
                continue
            start, end = found
            assert 0 <= start < end <= len(text), (tag, found)
            assert source.start_tag_name(start) == tag, (tag, text[start : start + 60])
            tag_end = source.start_tag_end(start)
            assert tag_end is not None and tag_end <= end, (tag, found, tag_end)
