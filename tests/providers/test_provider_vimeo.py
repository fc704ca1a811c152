"""Vimeo detection: URL forms and ids, the recorded fixture, the dev corpus pages, and synthetic pages for
the forms no fixture shows (test names say "synthetic"; written from reference/providers.md section 10)."""

from __future__ import annotations

import pytest

from archiver.providers import provider_for_url, provider_named
from archiver.records import MarkupKind
from tests.support.corpus_scoring import available, expected, found, page_names
from tests.support.embed_scan import assert_unit, embeds, fixture, keys, of, page

vimeo = provider_named("vimeo")


@pytest.mark.parametrize(
    ("url", "post_id", "canonical"),
    [
        ("https://player.vimeo.com/video/77911159", "77911159", "https://vimeo.com/77911159"),
        (
            "//player.vimeo.com/video/130513216?color=ff9933&byline=0",
            "130513216",
            "https://vimeo.com/130513216",
        ),
        (
            "https://player.vimeo.com/video/235352744?h=ebd66989cc&app_id=122963",
            "235352744",
            "https://vimeo.com/235352744/ebd66989cc",
        ),
        ("https://vimeo.com/76979871", "76979871", "https://vimeo.com/76979871"),
        ("http://www.vimeo.com/76979871#t=30s", "76979871", "https://vimeo.com/76979871"),
        ("https://vimeo.com/235352744/ebd66989cc", "235352744", "https://vimeo.com/235352744/ebd66989cc"),
        ("https://vimeo.com/channels/staffpicks/76979871", "76979871", "https://vimeo.com/76979871"),
        ("https://vimeo.com/groups/motion/videos/76979871", "76979871", "https://vimeo.com/76979871"),
        ("https://vimeo.com/album/2222222/video/76979871", "76979871", "https://vimeo.com/76979871"),
        ("https://vimeo.com/showcase/7654321/video/76979871", "76979871", "https://vimeo.com/76979871"),
        (
            "http://vimeo.com/moogaloop.swf?clip_id=76979871&amp;server=vimeo.com",
            "76979871",
            "https://vimeo.com/76979871",
        ),
    ],
)
def test_url_forms_give_the_numeric_id(url: str, post_id: str, canonical: str) -> None:
    post = vimeo.parse_url(url)
    assert post is not None, url
    assert (post.provider, post.post_id, post.url) == ("vimeo", post_id, canonical)
    assert provider_for_url(url) == post


@pytest.mark.parametrize(
    "url",
    [
        *vimeo.not_examples,
        "https://vimeo.com/",
        "https://vimeo.com/76979871/notahash!",
        "https://player.vimeo.com/video/",
        "https://player.vimeo.com/video/abc",
        "https://i.vimeocdn.com/video/123456_640.jpg",
        "https://vimeo.com/channels/staffpicks/page:2",
        "",
    ],
)
def test_not_videos(url: str) -> None:
    assert vimeo.parse_url(url) is None, url


def test_fixture_player_iframe() -> None:
    text = page(fixture("vimeo/article-iframe-player.html").strip())
    (ref,) = embeds(text)
    assert (ref.provider, ref.post_id, ref.markup, ref.url) == (
        "vimeo",
        "77911159",
        MarkupKind.IFRAME,
        "https://vimeo.com/77911159",
    )
    assert_unit(text, ref, "<iframe", "</iframe>")


@pytest.mark.skipif(not available(), reason="shared corpus not present")
@pytest.mark.parametrize("name", page_names())
def test_dev_corpus_pages_are_exactly_right_for_vimeo(name: str) -> None:
    assert found(name, ["vimeo"]) == expected(name, ["vimeo"])


def test_synthetic_lazy_iframe_amp_and_flash() -> None:
    text = page(
        '<iframe src="about:blank" '
        'data-lazy-src="https://player.vimeo.com/video/235352744?h=ebd66989cc"></iframe>',
        '<amp-vimeo data-videoid="27246366" layout="responsive" width="500" height="281"></amp-vimeo>',
        '<object width="400" height="300"><param name="movie" '
        'value="http://vimeo.com/moogaloop.swf?clip_id=76979871&amp;server=vimeo.com">'
        '<embed src="http://vimeo.com/moogaloop.swf?clip_id=76979871&amp;server=vimeo.com" '
        'type="application/x-shockwave-flash"></embed></object>',
    )
    refs = embeds(text)
    assert keys(refs) == [
        ("vimeo", "235352744", "iframe"),
        ("vimeo", "27246366", "amp"),
        ("vimeo", "76979871", "iframe"),
    ]
    assert refs[0].url == "https://vimeo.com/235352744/ebd66989cc"
    assert_unit(text, refs[2], "<object", "</object>")


def test_synthetic_bare_url_and_gutenberg_block() -> None:
    block = (
        '<!-- wp:embed {"url":"https://vimeo.com/76979871","type":"video","providerNameSlug":"vimeo"} -->\n'
        '<figure class="wp-block-embed is-type-video is-provider-vimeo wp-block-embed-vimeo">'
        '<div class="wp-block-embed__wrapper">\nhttps://vimeo.com/76979871\n</div></figure>'
        "\n<!-- /wp:embed -->"
    )
    text = page("<p>https://vimeo.com/235352744/ebd66989cc</p>", block)
    assert keys(embeds(text)) == [("vimeo", "235352744", "bare-url"), ("vimeo", "76979871", "block-comment")]


def test_synthetic_consent_template_script() -> None:
    text = page(
        '<div class="consent-box"><p>Load external content?</p><script type="text/template">'
        '<iframe src="https://player.vimeo.com/video/76979871" width="640"></iframe></script></div>'
    )
    assert keys(embeds(text)) == [("vimeo", "76979871", "script")]


def test_synthetic_links_channels_and_sidebar_are_not_embeds() -> None:
    text = (
        "<html><body><article>"
        '<p>See <a href="https://vimeo.com/76979871">the film</a> and <a href="http://vimeo.com/todamax">my'
        ' channel</a>, <a href="http://vimeo.com/channels/ndspodcast">the podcast</a>.</p>'
        "<table><tr><th>Host(s)</th><td>player.vimeo.com</td></tr></table></article>"
        '<aside class="widget widget_text"><iframe src="https://player.vimeo.com/video/123456">'
        "</iframe></aside>"
        "</body></html>"
    )
    assert of("vimeo", text) == []
