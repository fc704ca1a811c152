"""The splice (bytes in, bytes out, undone exactly) and its verification (lexbor and the tokenizer)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archiver.config import RewriteSettings
from archiver.pipeline.rewrite import Target, rewrite_bytes, splice, verify
from archiver.pipeline.rewrite.fallback import CardRenderer, card_data
from archiver.records import Article, Span

RENDERER = CardRenderer()


def article(text: str, encoding: str = "utf-8", data: bytes | None = None) -> Article:
    raw = data if data is not None else text.encode(encoding)
    return Article("page.html", "test", raw, text, encoding, hashlib.sha256(raw).hexdigest())


def span_of(page: Article, unit: str) -> Span:
    start = page.data.index(unit.encode(page.encoding if page.encoding != "utf-8-sig" else "utf-8"))
    return Span(start, start + len(unit.encode("utf-8")))


def target(span: Span, post_id: str = "CODE1", caption: str = "A caption — with a dash") -> Target:
    card = card_data(
        provider="instagram",
        post_id=post_id,
        url=f"https://www.instagram.com/p/{post_id}/",
        version=1,
        captured_at=datetime(2026, 1, 1, tzinfo=UTC),
        settings=RewriteSettings(),
        author_name="Ann Author",
        handle="ann",
        text=caption,
    )
    return Target(span, card, 1)


BLOCKQUOTE = (
    '<blockquote class="instagram-media" data-instgrm-permalink="https://www.instagram.com/p/CODE1/">'
    '<a href="https://www.instagram.com/p/CODE1/">A post shared by Ann (@ann)</a></blockquote>'
    '\n<script async src="//www.instagram.com/embed.js"></script>'
)
IFRAME = '<iframe src="https://www.youtube.com/embed/abcdefghijk" allowfullscreen></iframe>'


# ---- splice: pure bytes -------------------------------------------------------------------------------


def test_plan_refuses_overlapping_and_out_of_bounds_spans() -> None:
    page = article("<p>" + "x" * 100 + "</p>")
    plan = splice.plan(
        page,
        [
            splice.Replacement(Span(10, 20), "<b>a</b>", "a"),
            splice.Replacement(Span(15, 30), "<b>b</b>", "b"),
            splice.Replacement(Span(40, 50), "<b>c</b>", "c"),
            splice.Replacement(Span(90, 500), "<b>d</b>", "d"),
            splice.Replacement(Span(300, 300), "<b>e</b>", "e"),
            splice.Replacement(Span(50, 55), "<b>f</b>", "f"),  # adjacent to c: fine
        ],
    )
    assert [e.key for e in plan.edits] == ["c", "f"]
    reasons = {r.key: r.reason for r in plan.refused}
    assert set(reasons) == {"a", "b", "d", "e"}
    assert "overlaps" in reasons["a"] and "overlaps" in reasons["b"]
    assert "outside the article" in reasons["d"] and "outside the article" in reasons["e"]


def test_empty_spans_are_insertions_unless_inside_a_span_or_at_another_insertion() -> None:
    page = article("<p>" + "x" * 100 + "</p>")
    plan = splice.plan(
        page,
        [
            splice.Replacement(Span(40, 50), "<b>c</b>", "c"),
            splice.Replacement(Span(50, 50), "<b>after-c</b>", "after-c"),  # right after c: fine
            splice.Replacement(Span(10, 10), "<b>i</b>", "i"),
            splice.Replacement(Span(70, 80), "<b>d</b>", "d"),
            splice.Replacement(Span(75, 75), "<b>inside-d</b>", "inside-d"),
            splice.Replacement(Span(90, 90), "<b>twice-1</b>", "twice-1"),
            splice.Replacement(Span(90, 90), "<b>twice-2</b>", "twice-2"),
        ],
    )
    assert [e.key for e in plan.edits] == ["i", "c", "after-c"]
    assert {r.key for r in plan.refused} == {"d", "inside-d", "twice-1", "twice-2"}
    new = splice.apply(page.data, plan)
    assert (
        new == b"<p>" + b"x" * 7 + b"<b>i</b>" + b"x" * 30 + b"<b>c</b><b>after-c</b>" + b"x" * 53 + b"</p>"
    )
    entries = [
        splice.JournalEntry(at, edit.new, edit.old)
        for edit, at in zip(plan.edits, plan.positions(), strict=True)
    ]
    assert splice.restore(new, entries) == page.data


def test_a_card_inserted_after_a_lead_in_verifies_and_is_taken_out_exactly() -> None:
    text = "<article><p>Check out the video below.</p>\n<p>More story.</p></article>"
    page = article(text)
    at = page.data.index(b"</p>") + len(b"</p>")
    spliced = rewrite_bytes(page, [target(Span(at, at))], RENDERER)
    assert not spliced.refused
    [change] = spliced.changes
    assert change.variant == "block" and change.edit.old == b""
    assert spliced.after.startswith(page.data[:at] + b"<figure") and spliced.after.endswith(page.data[at:])
    entry = splice.JournalEntry(change.card_start, change.edit.new, b"")
    assert splice.restore(spliced.after, [entry]) == page.data


def test_an_insertion_inside_a_paragraph_is_an_inline_card_and_inside_a_tag_is_refused() -> None:
    page = article('<p>Watch: <a href="x">link</a></p>')
    inside_p = page.data.index(b"<a")
    inside_tag = page.data.index(b'href="x"')
    spliced = rewrite_bytes(page, [target(Span(inside_p, inside_p))], RENDERER)
    assert [c.variant for c in spliced.changes] == ["inline"]
    refused = rewrite_bytes(page, [target(Span(inside_tag, inside_tag))], RENDERER)
    assert not refused.changes and refused.refused


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8", "—".encode()), ("cp1252", b"\x97"), ("latin-1", b"&#8212;"), ("ascii", b"&#8212;")],
)
def test_new_bytes_use_the_article_encoding_with_character_references(encoding: str, expected: bytes) -> None:
    page = article("<p>cafe</p><div>x</div>", encoding)
    plan = splice.plan(page, [splice.Replacement(span_of(page, "<div>x</div>"), "<b>—</b>", "k")])
    assert plan.edits[0].new == b"<b>" + expected + b"</b>"


def test_utf16_articles_get_no_second_bom() -> None:
    text = "<p>x</p><div>y</div>"
    data = text.encode("utf-16")  # with a BOM
    page = article(text, "utf-16", data)
    start = data.index("<div>".encode("utf-16-le"))
    end = start + len("<div>y</div>".encode("utf-16-le"))
    plan = splice.plan(page, [splice.Replacement(Span(start, end), "<b>é</b>", "k")])
    new = splice.apply(page.data, plan)
    assert new.decode("utf-16") == "<p>x</p><b>é</b>"


def test_stateful_encodings_are_refused() -> None:
    page = article("<p>x</p>", "iso2022_jp")
    plan = splice.plan(page, [splice.Replacement(Span(0, 3), "<b>y</b>", "k")])
    assert not plan.edits and "stateful" in plan.refused[0].reason


def test_apply_refuses_edits_planned_on_other_bytes() -> None:
    page = article("<p>abc</p>")
    plan = splice.plan(page, [splice.Replacement(Span(3, 6), "<b>x</b>", "k")])
    with pytest.raises(ValueError, match="does not match"):
        splice.apply(b"<p>xyz</p>", plan)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 400), st.integers(1, 40), st.text(max_size=30)), max_size=8),
    st.randoms(use_true_random=False),
)
def test_restore_is_the_exact_inverse_in_any_order(edits: list[tuple[int, int, str]], rnd: object) -> None:
    data = bytes(range(256)) * 2
    page = Article("k", "s", data, data.decode("latin-1"), "latin-1", "")
    replacements = [
        splice.Replacement(Span(s, min(s + n, len(data))), f"<card>{t}</card>", str(i))
        for i, (s, n, t) in enumerate(edits)
        if s < len(data)
    ]
    plan = splice.plan(page, replacements)
    new = splice.apply(data, plan)
    kept_old, kept_new = outside_spans(data, new, plan)
    assert kept_old == kept_new
    entries = [
        splice.JournalEntry(at, e.new, e.old) for e, at in zip(plan.edits, plan.positions(), strict=True)
    ]
    shuffled = list(entries)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert splice.restore(new, shuffled) == data
    # Undoing some, then the rest, gives the same bytes too.
    if len(entries) > 1:
        half = entries[: len(entries) // 2]
        partly = splice.restore(new, half)
        rest_edits = splice.restore_edits(
            partly, [replace_at(e, partly) for e in entries[len(entries) // 2 :]]
        )
        assert splice.apply(partly, splice.Plan(tuple(rest_edits))) == data


def outside_spans(old: bytes, new: bytes, plan: splice.Plan) -> tuple[bytes, bytes]:
    """(old, new) with each edit's span removed: equal when every byte outside the spans is kept."""
    old_rest, new_rest, done_old, done_new = [], [], 0, 0
    for edit, at in zip(plan.edits, plan.positions(), strict=True):
        old_rest.append(old[done_old : edit.start])
        new_rest.append(new[done_new:at])
        done_old, done_new = edit.end, at + len(edit.new)
    old_rest.append(old[done_old:])
    new_rest.append(new[done_new:])
    return b"|".join(old_rest), b"|".join(new_rest)


def replace_at(entry: splice.JournalEntry, data: bytes) -> splice.JournalEntry:
    return splice.JournalEntry(
        data.find(entry.card) if data.find(entry.card) >= 0 else entry.at, entry.card, entry.original
    )


def test_restore_finds_moved_cards_and_refuses_missing_ones() -> None:
    page = article("<p>one</p>" + IFRAME + "<p>two</p>")
    plan = splice.plan(page, [splice.Replacement(span_of(page, IFRAME), "<span>card</span>", "k")])
    new = splice.apply(page.data, plan)
    entry = splice.JournalEntry(plan.positions()[0], plan.edits[0].new, plan.edits[0].old)
    edited = b"<p>an editor's new first paragraph</p>" + new
    assert splice.restore(edited, [entry]) == b"<p>an editor's new first paragraph</p>" + page.data
    with pytest.raises(splice.RestoreError):
        splice.restore(new.replace(b"card", b"gone"), [entry])


def test_same_card_twice_restores_each_to_its_own_unit() -> None:
    page = article(
        "<div>" + IFRAME + "</div><p>mid</p><div>" + IFRAME.replace("allowfullscreen", "") + "</div>"
    )
    first = page.data.index(b"<iframe")
    second = page.data.index(b"<iframe", first + 1)
    plan = splice.plan(
        page,
        [
            splice.Replacement(Span(first, first + len(IFRAME)), "<span>same</span>", "a"),
            splice.Replacement(
                Span(second, page.data.index(b"</iframe>", second) + 9), "<span>same</span>", "b"
            ),
        ],
    )
    new = splice.apply(page.data, plan)
    entries = [
        splice.JournalEntry(at, e.new, e.old) for e, at in zip(plan.edits, plan.positions(), strict=True)
    ]
    assert splice.restore(new, entries[::-1]) == page.data
    only_second = splice.restore(new, entries[1:])
    assert (
        only_second
        == new[: plan.positions()[1]]
        + plan.edits[1].old
        + new[plan.positions()[1] + len(b"<span>same</span>") :]
    )


# ---- verify: lexbor and the tokenizer -------------------------------------------------------------------


def rewrite(page: Article, *units: str) -> tuple[bytes, dict[str, str], dict[str, str]]:
    """(new bytes, variant by post id, refusal reason by post id) for the units given."""
    targets = [target(span_of(page, unit), f"CODE{i}") for i, unit in enumerate(units, 1)]
    done = rewrite_bytes(page, targets, RENDERER)
    variants = {c.target.card.post_id: c.variant for c in done.changes}
    refused = {t.card.post_id: reason for t, reason in done.refused}
    return done.after, variants, refused


def test_block_unit_gets_a_block_card_and_everything_else_stays() -> None:
    page = article(f"<html><body><article><p>Intro</p>{BLOCKQUOTE}<p>Outro</p></article></body></html>")
    new, variants, refused = rewrite(page, BLOCKQUOTE)
    assert refused == {} and variants == {"CODE1": "block"}
    span = span_of(page, BLOCKQUOTE)
    assert new.startswith(page.data[: span.start]) and new.endswith(page.data[span.end :])
    assert b"<figure" in new and b"embed.js" not in new


def test_iframe_inside_a_paragraph_gets_the_phrasing_card_which_verifies() -> None:
    page = article(f"<html><body><p>Watch this: {IFRAME} and read on.</p><p>Next</p></body></html>")
    new, variants, refused = rewrite(page, IFRAME)
    assert refused == {} and variants == {"CODE1": "inline"}
    tree = verify.parse(new, "utf-8")
    assert len(tree.css("p")) == 2
    card = tree.css_first("[data-archiver-embed]")
    assert card is not None and card.tag == "span" and card.parent is not None and card.parent.tag == "p"


def test_a_block_card_forced_into_a_paragraph_does_not_verify() -> None:
    page = article(f"<html><body><p>Watch {IFRAME} now</p></body></html>")
    span = span_of(page, IFRAME)
    survey = verify.survey(page.data, "utf-8", [span])
    context = survey.context(span)
    assert isinstance(context, verify.Context) and context.phrasing and context.parent == "p"
    block = RENDERER.render(target(span).card, "block")
    plan = splice.plan(page, [splice.Replacement(span, block, "instagram:CODE1")])
    outcome = verify.verify(survey, splice.apply(page.data, plan), "utf-8", plan.edits)
    assert not outcome.ok
    assert "under" in next(iter(outcome.failures.values()), outcome.overall or "")


def test_a_div_unit_that_closes_its_paragraph_gets_a_block_card() -> None:
    unit = '<div class="fb-post" data-href="https://www.facebook.com/x/posts/1"></div>'
    page = article(f"<html><body><p>Text {unit} tail</p></body></html>")
    _new, variants, refused = rewrite(page, unit)
    assert refused == {} and variants == {"CODE1": "block"}


@pytest.mark.parametrize(
    ("page_text", "unit", "reason"),
    [
        (f"<p>x</p><!-- old embed: {IFRAME} --><p>y</p>", IFRAME, "comment"),
        (f"<textarea>{IFRAME}</textarea>", IFRAME, "comment, a script"),
        (f"<script>var s = '{IFRAME}';</script>", IFRAME, "comment, a script"),
        (f'<p title="{IFRAME}">x</p>', IFRAME, "attribute"),
        (f"<title>{IFRAME}</title>", IFRAME, "comment, a script"),
    ],
)
def test_spans_inside_text_only_places_are_refused(page_text: str, unit: str, reason: str) -> None:
    page = article(f"<html><body>{page_text}</body></html>")
    new, variants, refused = rewrite(page, unit)
    assert variants == {} and new == page.data
    assert reason in refused["CODE1"]


def test_span_that_cuts_through_an_element_is_refused() -> None:
    page = article(f"<html><body><div><p>a</p>{IFRAME}</div><p>b</p></body></html>")
    start = page.data.index(b"<iframe")
    end = page.data.index(b"<p>b</p>")  # takes the </div> of the parent along
    done = rewrite_bytes(page, [target(Span(start, end))], RENDERER)
    assert not done.changes and "one piece" in done.refused[0][1]
    cut = rewrite_bytes(page, [target(Span(start, start + 20))], RENDERER)  # ends inside the tag
    assert not cut.changes and "inside" in cut.refused[0][1]


def test_an_iframe_the_parser_moves_out_of_a_table_is_refused() -> None:
    page = article(f"<html><body><table><tr><td>1</td></tr>{IFRAME}</table></body></html>")
    done = rewrite_bytes(page, [target(span_of(page, IFRAME))], RENDERER)
    assert not done.changes and done.after == page.data
    assert "for the tokenizer" in done.refused[0][1]


def test_a_card_the_parser_would_move_out_of_a_table_is_refused() -> None:
    unit = '<script src="https://platform.twitter.com/widgets.js"></script>'
    page = article(f"<html><body><table><tr><td>1</td></tr>{unit}</table></body></html>")
    done = rewrite_bytes(page, [target(span_of(page, unit))], RENDERER)
    assert not done.changes and done.after == page.data
    assert "under <body>, the unit was under <tbody>" in done.refused[0][1]


def test_one_bad_span_does_not_block_the_others() -> None:
    good = BLOCKQUOTE
    page = article(f"<html><body><!-- {IFRAME} -->{good}<p>end</p></body></html>")
    new, variants, refused = rewrite(page, IFRAME, good)
    assert variants == {"CODE2": "block"} and set(refused) == {"CODE1"}
    assert new.count(b"data-archiver-embed") == 1


def test_units_that_are_already_cards_can_sit_beside_new_ones() -> None:
    page = article(f"<html><body><p>a</p>{BLOCKQUOTE}<p>b</p>{IFRAME}</body></html>")
    once, _, _ = rewrite(page, BLOCKQUOTE)
    second = article(once.decode())
    twice, variants, refused = rewrite(second, IFRAME)
    assert refused == {} and variants == {"CODE1": "block"}
    assert twice.count(b"data-archiver-embed") == 2


def test_textarea_inside_a_unit_is_fine() -> None:
    unit = f'<div class="consent"><textarea hidden>{BLOCKQUOTE}</textarea><p>Enable Instagram</p></div>'
    page = article(f"<html><body><p>a</p>{unit}<p>b</p></body></html>")
    _new, variants, refused = rewrite(page, unit)
    assert refused == {} and variants == {"CODE1": "block"}


def test_a_cp1252_page_is_rewritten_in_cp1252() -> None:
    head = '<html><head><meta charset="windows-1252"></head>'
    text = f"{head}<body><p>Caf\u00e9 \u2014 {IFRAME}</p></body></html>"
    page = article(text, "cp1252")
    done = rewrite_bytes(page, [target(span_of(page, IFRAME))], RENDERER)
    assert [c.variant for c in done.changes] == ["inline"]
    card = done.changes[0].edit.new
    assert b"\x97 with a dash" in card and b"\xb7" in card  # the caption's dash, the links' middle dot
    assert done.after.decode("cp1252").startswith(text[: text.index("<iframe")])
