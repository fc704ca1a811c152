"""Fuzzing the rewrite's byte core with mutated corpus pages (`tests/support/mutations.py`): the splice,
the verifier and `rewrite_bytes`, whose results must always be undone exactly by `splice.restore`.

Properties:
- `rewrite_bytes` never raises, whatever the page and its spans; every change replaces exactly the
  bytes of its unit, every other byte is copied, each card sits where the change says, the scanner
  finds the cards again, and `splice.restore` gives back the page byte for byte;
- the splice, with arbitrary spans (out of the page, empty ones being insertions, overlapping): refuses
  what it cannot do, and what it does is undone exactly; the verifier (`survey`, `verify`) never
  raises on what it is given and says yes or no.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from archiver.config import RewriteSettings
from archiver.errors import ArticleError
from archiver.pipeline import rewrite
from archiver.pipeline.rewrite import splice, verify
from archiver.pipeline.rewrite.fallback import CardRenderer, card_data
from archiver.pipeline.scan import scan_article
from archiver.records import Article, MarkupKind, Span
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
RENDERER = CardRenderer()
SETTINGS = RewriteSettings(archive_base_url="https://archive.example.org")
CAPTION = "A caption \x00 with odd bytes: <b>&amp;</b> \u202e é ✓ \ud800?"


def read(name: str, mutations: list[Mutation]) -> Article | None:
    try:
        return article_from(mutate(page_bytes(name), mutations))
    except ArticleError:  # refused with one line, as the files source refuses it
        return None


def targets_of(page: Article) -> list[rewrite.Target]:
    found = scan_article(page)
    assert found.error is None, found.error
    targets = []
    for index, ref in enumerate(found.embeds):
        if ref.span is None or ref.markup is MarkupKind.ARCHIVED:
            continue
        card = card_data(
            provider=ref.provider,
            post_id=ref.post_id or f"residue-{index}",
            url=ref.url or "https://example.com/",
            version=1,
            captured_at=datetime(2026, 1, 1, tzinfo=UTC),
            settings=SETTINGS,
            author_name="Fuzz Author",
            handle="fuzz",
            text=CAPTION,
            image_sha256="ab" * 32,
        )
        targets.append(rewrite.Target(ref.span, card, index))
    return targets


@settings(FUZZ, max_examples=examples(20))
@given(cases())
@example(("boingboing.net-2ab2abe9.html", [("nest", 0.5, 10_000)]))
@example(("boingboing.net-2ab2abe9.html", [("embed", 0.5, 2), ("comment", 0.49, 3), ("latin1", 0.5, 64)]))
def test_rewrite_then_restore_is_the_identity(case: tuple[str, list[Mutation]]) -> None:
    name, mutations = case
    if name not in page_names():
        pytest.skip(f"{name} is not in the corpus here")
    page = read(name, mutations)
    if page is None:
        return
    targets = targets_of(page)
    done = rewrite.rewrite_bytes(page, targets, RENDERER)
    assert done.before == page.data
    assert len(done.changes) + len(done.refused) == len(targets)
    for _, reason in done.refused:
        assert reason and "\n" not in reason, reason
    if not done.changes:
        assert done.after == page.data
        return
    edits = [change.edit for change in done.changes]
    for edit in edits:
        assert 0 <= edit.start < edit.end <= len(page.data)
        assert page.data[edit.start : edit.end] == edit.old
    assert splice.apply(page.data, splice.Plan(tuple(edits))) == done.after
    entries = []
    for change in done.changes:
        card = change.edit.new
        assert done.after[change.card_start : change.card_start + len(card)] == card
        assert splice.locate(done.after, card, change.card_start) == change.card_start
        entries.append(splice.JournalEntry(change.card_start, card, change.edit.old))
    assert splice.restore(done.after, entries) == page.data
    # The scanner finds the cards again (a later scan must not take them for lost embeds).
    rescanned = scan_article(
        Article(
            page.key, page.source, done.after, done.after.decode(page.encoding, "replace"), page.encoding, ""
        )
    )
    assert rescanned.error is None
    cards = [ref for ref in rescanned.embeds if ref.markup is MarkupKind.ARCHIVED]
    assert len(cards) >= len(done.changes)


spans = st.lists(
    st.tuples(st.floats(-0.1, 1.1, allow_nan=False), st.integers(-5, 4_000)), min_size=1, max_size=6
)
markups = st.lists(st.text(max_size=40), min_size=6, max_size=6)


@settings(FUZZ, max_examples=examples(40))
@given(cases(), spans, markups)
@example(("boingboing.net-2ab2abe9.html", [("truncate", 0.5, 0)]), [(0.2, 0), (0.2, 10), (1.05, 3)], [""] * 6)
def test_the_splice_undoes_exactly_what_it_does_and_the_verifier_always_answers(
    case: tuple[str, list[Mutation]], wanted: list[tuple[float, int]], texts: list[str]
) -> None:
    name, mutations = case
    if name not in page_names():
        pytest.skip(f"{name} is not in the corpus here")
    page = read(name, mutations)
    if page is None:
        return
    size = len(page.data)
    replacements = []
    for index, (where, length) in enumerate(wanted):
        start = int(size * where)
        replacements.append(
            splice.Replacement(
                Span(start, start + length), f"<span data-fuzz='{index}'>{texts[index]}</span>", f"k{index}"
            )
        )
    try:
        codec = splice.codec_for(page)
    except LookupError:
        return
    planned = splice.plan(page, replacements)
    assert len(planned.edits) + len(planned.refused) == len(replacements)
    for refusal in planned.refused:
        assert refusal.reason and "\n" not in refusal.reason
    after = splice.apply(page.data, planned)
    kept = 0
    for edit, at in zip(planned.edits, planned.positions(), strict=True):
        # An empty span is an insertion (a recovered card after its lead-in): old bytes empty.
        assert 0 <= edit.start <= edit.end <= size and page.data[edit.start : edit.end] == edit.old
        assert page.data[kept : edit.start] in after
        assert after[at : at + len(edit.new)] == edit.new
        kept = edit.end
    entries = [
        splice.JournalEntry(at, edit.new, edit.old)
        for edit, at in zip(planned.edits, planned.positions(), strict=True)
    ]
    if all(edit.new for edit in planned.edits):
        assert splice.restore(after, entries) == page.data
    # The verifier says yes or no about any edits; it never raises.
    survey = verify.survey(page.data, codec, [Span(edit.start, edit.end) for edit in planned.edits])
    outcome = verify.verify(survey, after, codec, list(planned.edits))
    assert outcome.ok in (True, False)
