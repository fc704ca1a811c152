"""The fallback card: our own static markup, escaped, phrasing-only when inline, marked, overridable."""

from __future__ import annotations

from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest
from selectolax.lexbor import LexborHTMLParser

from archiver.config import RewriteSettings, Settings
from archiver.pipeline.rewrite.fallback import STYLESHEET, CardData, CardRenderer, archive_url, card_data
from archiver.pipeline.scan.archived import archived_cards, is_card

CAPTURED = datetime(2026, 2, 3, 4, 5, 6, tzinfo=UTC)
HOSTILE = (
    '<p>Look <script>alert("x")</script><img src=x onerror=alert(1)>'
    '<a href="javascript:alert(2)" onclick="evil()">here</a> and <a href="https://ok.example/">there</a>'
    "<style>body{display:none}</style><iframe src=https://evil.example></iframe></p>"
)
PHRASING = {
    "a", "abbr", "b", "bdi", "bdo", "br", "cite", "code", "data", "dfn", "em", "i", "img", "kbd", "mark", "q",
    "s", "samp", "small", "span", "strong", "sub", "sup", "time", "u", "var", "wbr",
}  # fmt: skip


def make_card(**overrides: object) -> CardData:
    values: dict[str, object] = {
        "provider": "instagram",
        "post_id": "B9bOM-6Ax_d",
        "url": "https://www.instagram.com/p/B9bOM-6Ax_d/",
        "version": 3,
        "captured_at": CAPTURED,
        "settings": RewriteSettings(archive_base_url="https://archive.example.org"),
        "author_name": "Ruby Eloquent",
        "handle": "@ruby_eloquent",
        "author_url": "https://www.instagram.com/ruby_eloquent/",
        "published": "2023-07-01T10:00:00Z",
        "text": "Harbour at dawn\nsecond line",
        "image_sha256": "ab" * 32,
    }
    values.update(overrides)
    return card_data(**values)  # type: ignore[arg-type]


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs


def tags_of(markup: str) -> Tags:
    parser = Tags()
    parser.feed(markup)
    parser.close()
    return parser


@pytest.mark.parametrize("variant", ["block", "inline"])
def test_card_root_carries_marker_and_robust_links(variant: str) -> None:
    markup = CardRenderer().render(make_card(), variant)  # type: ignore[arg-type]
    root = LexborHTMLParser(markup).css_first("[data-archiver-embed]")
    assert root is not None
    assert root.tag == ("figure" if variant == "block" else "span")
    attrs = root.attributes
    assert "archiver-fallback" in (attrs["class"] or "").split()
    assert attrs["data-archiver-embed"] == "instagram:B9bOM-6Ax_d"
    assert attrs["data-archiver-version"] == "3"
    assert attrs["data-originalurl"] == "https://www.instagram.com/p/B9bOM-6Ax_d/"
    assert attrs["data-versionurl"] == "https://archive.example.org/embeds/instagram/B9bOM-6Ax_d/v3"
    assert attrs["data-versiondate"] == "2026-02-03T04:05:06Z"
    assert markup == markup.strip() and markup.startswith("<")
    found = archived_cards(markup)
    assert [(c.provider, c.post_id, c.version, c.start, c.end) for c in found] == [
        ("instagram", "B9bOM-6Ax_d", 3, 0, len(markup))
    ]
    assert is_card(markup)


@pytest.mark.parametrize("variant", ["block", "inline"])
def test_card_reads_without_css_and_holds_no_provider_script(variant: str) -> None:
    markup = CardRenderer().render(make_card(), variant)  # type: ignore[arg-type]
    parsed = tags_of(markup)
    assert not {"script", "link", "style", "iframe", "object", "embed"} & set(parsed.tags)
    assert not any(name == "style" or name.startswith("on") for name, _ in parsed.attrs)
    text = " ".join(LexborHTMLParser(markup).text(separator=" ").split())
    assert "Ruby Eloquent" in text and "(@ruby_eloquent)" in text and "Instagram" in text
    assert "Harbour at dawn" in text and "1 July 2023" in text
    assert "archived copy" in text.lower() and "original post" in text.lower()
    img = LexborHTMLParser(markup).css_first("img")
    assert img is not None
    assert img.attributes["src"] == f"https://archive.example.org/media/ab/ab/{'ab' * 32}"
    assert img.attributes["alt"]


def test_hostile_caption_and_fields_are_neutralised() -> None:
    card = make_card(
        text_html=HOSTILE,
        text='<script>alert("t")</script>',
        author_name='Eve <img src=x onerror="alert(3)">',
        handle="eve<script>",
        author_url="javascript:alert(4)",
        url="javascript:alert(5)",
        title="<b>bold</b>",
    )
    for variant in ("block", "inline"):
        markup = CardRenderer().render(card, variant)  # type: ignore[arg-type]
        parsed = tags_of(markup)
        assert "script" not in parsed.tags and "style" not in parsed.tags and "iframe" not in parsed.tags
        assert parsed.tags.count("img") == 1  # ours, from the media store
        assert not any(name.startswith("on") for name, _ in parsed.attrs)
        assert not any((value or "").strip().lower().startswith("javascript:") for _, value in parsed.attrs)
        assert "&lt;b&gt;bold&lt;/b&gt;" in markup
    block = CardRenderer().render(card, "block")
    assert 'href="https://ok.example/"' in block  # the caption's http(s) link is kept


@pytest.mark.parametrize("variant", ["block", "inline"])
def test_minimal_snapshot_still_makes_a_card(variant: str) -> None:
    card = make_card(
        author_name=None, handle=None, author_url=None, published=None, text=None, image_sha256=None
    )
    markup = CardRenderer().render(card, variant)  # type: ignore[arg-type]
    assert "A post on Instagram" in markup or "a post on Instagram" in markup
    assert "<img" not in markup
    assert is_card(markup)


def test_inline_variant_is_phrasing_content_only() -> None:
    markup = CardRenderer().render(make_card(text_html="<p>one</p><p>two</p>"), "inline")
    assert set(tags_of(markup).tags) <= PHRASING
    # Inside a <p>, the parser keeps the whole card in it: one paragraph, the card its child.
    tree = LexborHTMLParser(f"<p>Before {markup} after</p>")
    assert len(tree.css("p")) == 1
    card = tree.css_first("[data-archiver-embed]")
    assert card is not None and card.parent is not None and card.parent.tag == "p"


def test_block_variant_uses_figure_and_blockquote_and_keeps_sanitised_html() -> None:
    markup = CardRenderer().render(make_card(text_html="<p>one <em>two</em></p><p>three</p>"), "block")
    tags = tags_of(markup).tags
    assert tags[0] == "figure" and "blockquote" in tags and "figcaption" in tags
    assert "<p>one <em>two</em></p><p>three</p>" in markup


def test_archive_url_encodes_post_ids_with_slashes() -> None:
    assert (
        archive_url("", "bluesky", "alice.bsky.social/3kabc", 2)
        == "/embeds/bluesky/alice.bsky.social%2F3kabc/v2"
    )
    assert archive_url("https://a.example", "generic", "https://x.example/a?b=1&c=2", 1) == (
        "https://a.example/embeds/generic/https%3A%2F%2Fx.example%2Fa%3Fb%3D1%26c%3D2/v1"
    )
    card = make_card(provider="generic", post_id="https://x.example/a?b=1&c=2", settings=RewriteSettings())
    markup = CardRenderer().render(card, "block")
    assert archived_cards(markup)[0].post_id == "https://x.example/a?b=1&c=2"
    assert f"/media/ab/ab/{'ab' * 32}" in markup  # media under the (site-relative) archive base


def test_media_base_url_is_its_own_setting() -> None:
    card = make_card(
        settings=RewriteSettings(archive_base_url="https://a.example", media_base_url="https://cdn.example/m")
    )
    assert card.image_url == f"https://cdn.example/m/ab/ab/{'ab' * 32}"


def test_publisher_overrides_a_template_by_file_name(tmp_path: Path) -> None:
    (tmp_path / "fallback_block.html").write_text(
        '<div class="house-card" data-archiver-embed="{{ marker }}" data-archiver-version="{{ version }}">'
        "{{ author_name }}: {{ caption_lines | join(' ') }}</div>",
        encoding="utf-8",
    )
    renderer = CardRenderer(tmp_path)
    block = renderer.render(make_card(author_name="<Eve>"), "block")
    assert block == (
        '<div class="house-card" data-archiver-embed="instagram:B9bOM-6Ax_d" data-archiver-version="3">'
        "&lt;Eve&gt;: Harbour at dawn second line</div>"
    )
    assert renderer.render(make_card(), "inline").startswith(
        '<span class="archiver-fallback'
    )  # not overridden


def test_settings_make_template_dir_relative_to_the_config(tmp_path: Path) -> None:
    from archiver.config import load_settings

    (tmp_path / "archiver.toml").write_text('[rewrite]\ntemplate_dir = "cards"\nmedia_base_url = "/m/"\n')
    settings = load_settings(tmp_path / "archiver.toml", {})
    assert settings.rewrite.template_dir == tmp_path / "cards"
    assert settings.rewrite.media_base_url == "/m"
    with pytest.raises(ValueError):
        Settings(rewrite={"archive_base_url": "ftp://x.example"})  # type: ignore[arg-type]


def test_stylesheet_ships_and_only_styles_our_classes() -> None:
    css = STYLESHEET.read_text(encoding="utf-8")
    selectors = [line.split("{")[0].strip() for line in css.splitlines() if line.rstrip().endswith("{")]
    assert selectors and all(".archiver-fallback" in selector for selector in selectors)
