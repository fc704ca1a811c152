"""`archived_cards`: our cards found again in an article, by their marker."""

from __future__ import annotations

from archiver.pipeline.scan.archived import archived_cards, is_card

CARD = (
    '<figure class="archiver-fallback" data-archiver-embed="twitter:123" data-archiver-version="2">'
    "<blockquote><figure><p>nested figure</p></figure></blockquote><figcaption>x</figcaption></figure>"
)


def test_cards_are_found_with_their_extent_version_and_post() -> None:
    inline = "<span data-archiver-embed='bluesky:did:plc:x/3k' class=x>y<span>z</span></span>"
    text = f"<p>a</p>{CARD}<p>b</p>{inline}"
    cards = archived_cards(text)
    assert [(c.provider, c.post_id, c.version, c.tag) for c in cards] == [
        ("twitter", "123", 2, "figure"),
        ("bluesky", "did:plc:x/3k", None, "span"),
    ]
    assert text[cards[0].start : cards[0].end] == CARD
    assert text[cards[1].start : cards[1].end].endswith("<span>z</span></span>")


def test_escaped_ids_and_hand_edited_cards() -> None:
    text = (
        '<div data-archiver-embed="generic:https://x.example/a?b=1&amp;c=2" data-archiver-version="1">x</div>'
    )
    assert archived_cards(text)[0].post_id == "https://x.example/a?b=1&c=2"
    broken = '<figure data-archiver-embed="instagram:CODE">no end'
    [card] = archived_cards(broken)
    assert card.end is None and not is_card(broken)


def test_the_marker_in_text_or_without_a_post_is_not_a_card() -> None:
    assert archived_cards('<p>we add data-archiver-embed="x:y" to cards</p>') == []
    assert archived_cards('<p data-archiver-embed="nocolon">x</p>') == []
    assert archived_cards("<p>nothing</p>") == []
    assert is_card(CARD) and not is_card(CARD + "<p>more</p>")
