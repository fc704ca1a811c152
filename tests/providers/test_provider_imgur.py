"""Imgur detection. No saved article page in the corpus has an Imgur embed: the blockquote test uses the
markup Imgur's oEmbed answered (a recorded fixture); every other page here is synthetic, written from
reference/providers.md section 14 (test names say so)."""

from __future__ import annotations

import pytest

from archiver.providers import provider_for_url, provider_named
from archiver.records import MarkupKind
from tests.support.corpus_scoring import available, found, page_names
from tests.support.embed_scan import assert_unit, embeds, keys, oembed_html, page

imgur = provider_named("imgur")


@pytest.mark.parametrize(
    ("url", "post_id"),
    [
        ("https://imgur.com/X6rkCc5", "X6rkCc5"),
        ("http://www.imgur.com/X6rkCc5?utm_source=x", "X6rkCc5"),
        ("https://imgur.com/a/Q9bTm", "a/Q9bTm"),
        ("https://imgur.com/gallery/Q9bTmHE", "gallery/Q9bTmHE"),
        ("https://imgur.com/gallery/mountain-gorilla-right-before-he-punched-Q9bTmHE", "gallery/Q9bTmHE"),
        ("//imgur.com/a/Q9bTmHE/embed?pub=true&ref=https%3A%2F%2Fexample.com&w=540", "a/Q9bTmHE"),
        ("https://imgur.com/X6rkCc5/embed?pub=true", "X6rkCc5"),
    ],
)
def test_url_forms_keep_the_album_and_gallery_prefix(url: str, post_id: str) -> None:
    post = imgur.parse_url(url)
    assert post is not None
    assert (post.provider, post.post_id, post.url) == ("imgur", post_id, f"https://imgur.com/{post_id}")
    assert provider_for_url(url) == post


@pytest.mark.parametrize(
    "url", [*imgur.not_examples, "https://imgur.com/a/", "https://imgur.com/X6rkCc5.jpg", ""]
)
def test_not_posts(url: str) -> None:
    assert imgur.parse_url(url) is None


def test_oembed_blockquote_with_loader() -> None:
    text = page(oembed_html("imgur/oembed-image-200-2021.response.json"))
    (ref,) = embeds(text)
    assert (ref.provider, ref.post_id, ref.markup) == ("imgur", "X6rkCc5", MarkupKind.BLOCKQUOTE)
    assert ref.url == "https://imgur.com/X6rkCc5"
    assert_unit(text, ref, '<blockquote class="imgur-embed-pub"', 'embed.js" charset="utf-8"></script>')


@pytest.mark.skipif(not available(), reason="shared corpus not present")
def test_dev_corpus_has_no_imgur_embed() -> None:
    assert {name: got for name in page_names() if (got := found(name, ["imgur"]))} == {}


def test_synthetic_album_blockquote_without_link_and_rendered_iframe() -> None:
    text = page(
        '<blockquote class="imgur-embed-pub" lang="en" data-id="a/Q9bTmHE" data-context="false"></blockquote>'
        '<script async src="//s.imgur.com/min/embed.js" charset="utf-8"></script>',
        "<p>Another one, already rendered:</p>",
        '<iframe class="imgur-embed-iframe-pub imgur-embed-iframe-pub-X6rkCc5-true-540" scrolling="no" '
        'src="https://imgur.com/X6rkCc5/embed?pub=true&amp;ref=https%3A%2F%2Fexample.com&amp;w=540"></iframe>',
    )
    assert keys(embeds(text)) == [("imgur", "a/Q9bTmHE", "blockquote"), ("imgur", "X6rkCc5", "iframe")]


def test_synthetic_images_and_links_are_no_embeds() -> None:
    text = page(
        '<img src="https://i.imgur.com/X6rkCc5.jpg" alt="gorilla">',
        "<p>https://i.imgur.com/X6rkCc5.jpg</p>",
        '<p>Via <a href="https://imgur.com/gallery/Q9bTmHE">Imgur</a>.</p>',
        '<a href="https://imgur.com/user/someone">someone</a>',
    )
    assert embeds(text) == []
