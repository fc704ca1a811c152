"""The generic provider (last in the registry): explicit embed markup of platforms no other provider
knows. The Gutenberg fixtures are real (WordPress's own test fixture, saved article markup); the
CKEditor pages are synthetic, written from reference/providers.md section 0.3 (test names say so)."""

from __future__ import annotations

import random

import pytest

from archiver.providers import PROVIDERS, provider_for_url, provider_named
from archiver.providers.generic import normalise
from archiver.records import MarkupKind
from tests.support.corpus_scoring import available, found, page_names
from tests.support.embed_scan import assert_unit, embeds, fixture, keys, page

generic = provider_named("generic")


def test_generic_is_last_and_routes_no_url() -> None:
    assert PROVIDERS[-1] is generic
    for url in ("https://example.com/", "https://example.com/embed/123", *generic.not_examples):
        assert generic.parse_url(url) is None
        assert provider_for_url(url) is None


@pytest.mark.parametrize(
    ("url", "normal"),
    [
        ("https://Example.COM", "https://example.com/"),
        ("http://example.com:80/a/b?x=1#frag", "https://example.com/a/b?x=1"),
        (
            "https://example.com:8443/v?id=3&utm_source=tw&utm_medium=x&fbclid=abc",
            "https://example.com:8443/v?id=3",
        ),
        ("  https://www.example.org/talk/1/  ", "https://www.example.org/talk/1/"),
    ],
)
def test_normalised_url_is_the_id(url: str, normal: str) -> None:
    assert normalise(url) == normal


@pytest.mark.parametrize(
    "url", ["", "ftp://example.com/x", "javascript:alert(1)", "/relative/path", "http://[::1"]
)
def test_not_http_urls_have_no_normal_form(url: str) -> None:
    assert normalise(url) is None


def test_fixture_gutenberg_core_embed_block() -> None:
    """WordPress's own test fixture: a wp:embed block of example.com, no provider knows it."""
    text = fixture("wordpress/gutenberg-test-fixture-core__embed.html")
    (ref,) = embeds(text)
    assert (ref.provider, ref.post_id, ref.url) == ("generic", "https://example.com/", "https://example.com/")
    assert ref.markup is MarkupKind.BLOCK_COMMENT
    assert_unit(text, ref, "<figure", "</figure>")


@pytest.mark.parametrize(
    "path",
    [
        "wordpress/gutenberg-figure-twitter-provider-but-timeline.html",
        "wordpress/gutenberg-figure-youtube.html",
        "wordpress/gutenberg-figure-youtube-older-class-order.html",
        "wordpress/gutenberg-figure-instagram.html",
        "wordpress/gutenberg-figure-twitter.html",
        "wordpress/gutenberg-figure-consent-placeholder-instagram.html",
    ],
)
def test_fixture_figures_of_known_providers_are_never_generic(path: str) -> None:
    assert [ref for ref in embeds(fixture(path)) if ref.provider == "generic"] == []


@pytest.mark.skipif(not available(), reason="shared corpus not present")
def test_dev_corpus_has_no_generic_embed() -> None:
    assert {name: got for name in page_names() if (got := found(name, ["generic"]))} == {}


def test_synthetic_stored_gutenberg_figure_of_an_unknown_platform() -> None:
    text = page(
        '<figure class="wp-block-embed is-type-rich is-provider-example-tv">'
        '<div class="wp-block-embed__wrapper">\nhttps://tv.example.net/talks/42\n</div></figure>'
    )
    (ref,) = embeds(text)
    assert (ref.provider, ref.post_id, ref.markup) == (
        "generic",
        "https://tv.example.net/talks/42",
        MarkupKind.BARE_URL,
    )


def test_synthetic_block_comment_before_a_rendered_figure() -> None:
    text = page(
        '<!-- wp:embed {"url":"https://tv.example.net/talks/42","type":"video",'
        '"providerNameSlug":"example-tv"} -->\n'
        '<figure class="wp-block-embed is-type-video"><div class="wp-block-embed__wrapper">'
        '<iframe src="https://tv.example.net/embed/42"></iframe></div></figure>\n<!-- /wp:embed -->'
    )
    assert keys(embeds(text)) == [("generic", "https://tv.example.net/talks/42", "block-comment")]


def test_synthetic_known_provider_slugs_and_hosts_are_left_to_their_providers() -> None:
    text = page(
        '<figure class="wp-block-embed is-provider-twitter wp-block-embed-twitter">'
        '<div class="wp-block-embed__wrapper">https://twitter.com/vorangedacht</div></figure>',
        '<!-- wp:embed {"url":"https://tv.example.net/x","providerNameSlug":"youtube"} -->\n'
        '<figure class="wp-block-embed"><div class="wp-block-embed__wrapper">https://tv.example.net/x</div></figure>\n'
        "<!-- /wp:embed -->",
        '<figure class="wp-block-embed"><div class="wp-block-embed__wrapper">https://www.facebook.com/SomePage/</div>'
        "</figure>",
    )
    assert [ref for ref in embeds(text) if ref.provider == "generic"] == []


def test_synthetic_ckeditor_oembed_tags_and_previews() -> None:
    text = page(
        '<figure class="media"><oembed url="https://www.example.org/video/7?utm_source=cms"></oembed></figure>',
        '<figure class="media"><o-embed url="https://maps.example.com/place/1"></o-embed></figure>',
        '<figure class="media"><div data-oembed-url="https://slides.example.com/deck/3"><div>'
        '<iframe src="https://slides.example.com/embed/3"></iframe></div></div></figure>',
    )
    refs = embeds(text)
    assert keys(refs) == [
        ("generic", "https://www.example.org/video/7", "oembed-tag"),
        ("generic", "https://maps.example.com/place/1", "oembed-tag"),
        ("generic", "https://slides.example.com/deck/3", "div"),
    ]
    assert_unit(text, refs[0], '<figure class="media">', "</figure>")


def test_synthetic_ckeditor_tags_of_known_providers_are_theirs() -> None:
    text = page(
        '<figure class="media"><oembed url="https://www.tiktok.com/@scout2015/video/6718335390845095173"></oembed>'
        "</figure>",
        '<figure class="media"><div data-oembed-url="https://giphy.com/gifs/cat-kW8mnYSNkUYKc"><div>'
        '<iframe src="https://giphy.com/embed/kW8mnYSNkUYKc"></iframe></div></div></figure>',
    )
    assert [(ref.provider, ref.post_id) for ref in embeds(text)] == [
        ("tiktok", "6718335390845095173"),
        ("giphy", "kW8mnYSNkUYKc"),
    ]


def test_synthetic_links_bare_urls_and_iframes_of_unknown_hosts_are_never_generic() -> None:
    text = page(
        '<p><a href="https://tv.example.net/talks/42">A talk</a> about embeds.</p>',
        "<p>https://tv.example.net/talks/42</p>",
        "https://tv.example.net/talks/43",
        '<iframe src="https://tv.example.net/embed/42"></iframe>',
        '<figure class="wp-block-embed"><div class="wp-block-embed__wrapper">see https://tv.example.net/a</div></figure>',
        '<oembed url="javascript:alert(1)"></oembed>',
        '<div data-oembed-url="/relative/embed"></div>',
    )
    assert embeds(text) == []


def test_hostile_urls_never_raise_in_any_of_these_providers() -> None:
    """Seeded random URLs made of the pieces these providers look for (synthetic): parse_url answers,
    it never raises."""
    names = ("facebook", "tiktok", "reddit", "pinterest", "imgur", "giphy", "linkedin", "generic")
    providers = [provider_named(name) for name in names]
    pieces = [
        "https://", "//", "www.", "m.", "graph.", "facebook.com", "tiktok.com", "reddit.com", "redd.it",
        "pinterest.com.au", "assets.pinterest.com", "imgur.com", "media.giphy.com", "giphy.com",
        "linkedin.com", "/", "?", "&", "=", "#", "%", "%3A", "%2F", "posts", "photos", "plugins", "post.php",
        "href=", "comments", "pin", "a", "gallery", "embed", "v2", "@u", "video", "urn:li:share:",
        "123456789012", "pfbid0abc", "\\", "\x00", "é", "[", "]", ":", "..", " ", "\n", "&amp;",
        "story_fbid=", "fbid=", "v=", "media", "v1.x", "--",
    ]  # fmt: skip
    rng = random.Random(20240611)
    for _ in range(3_000):
        url = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        for provider in providers:
            provider.parse_url(url)
