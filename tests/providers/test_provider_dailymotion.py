"""Dailymotion detection. No fixture and no dev corpus page shows Dailymotion: every page here is
synthetic, written from Dailymotion's own embed and share URL forms (test names say so)."""

from __future__ import annotations

import pytest

from archiver.providers import provider_for_url, provider_named
from tests.support.corpus_scoring import available, found, page_names
from tests.support.embed_scan import assert_unit, embeds, keys, of, page

dailymotion = provider_named("dailymotion")
CANONICAL = "https://www.dailymotion.com/video/x7tgad0"


@pytest.mark.parametrize(
    "url",
    [
        "https://www.dailymotion.com/video/x7tgad0",
        "https://www.dailymotion.com/embed/video/x7tgad0",
        "//www.dailymotion.com/embed/video/x7tgad0?autoplay=1&queue-enable=false",
        "https://geo.dailymotion.com/player.html?video=x7tgad0",
        "https://geo.dailymotion.com/player/x1abcd.html?video=x7tgad0&mute=true",
        "http://www.dailymotion.com/video/x7tgad0_some-title_news",
        "https://dai.ly/x7tgad0",
        "http://www.dailymotion.com/swf/video/x7tgad0",
        "http://www.dailymotion.com/swf/x7tgad0",
        "https://touch.dailymotion.com/video/x7tgad0",
        "https://www.dailymotion.com/embed?video=x7tgad0",
    ],
)
def test_url_forms_give_the_x_id(url: str) -> None:
    post = dailymotion.parse_url(url)
    assert post is not None, url
    assert (post.provider, post.post_id, post.url) == ("dailymotion", "x7tgad0", CANONICAL)
    assert provider_for_url(url) == post


@pytest.mark.parametrize(
    "url",
    [
        *dailymotion.not_examples,
        "https://www.dailymotion.com/embed/video/",
        "https://www.dailymotion.com/video/12345",
        "https://geo.dailymotion.com/libs/player/x1abcd.js",
        "https://dai.ly/",
        "",
    ],
)
def test_not_videos(url: str) -> None:
    assert dailymotion.parse_url(url) is None, url


@pytest.mark.skipif(not available(), reason="shared corpus not present")
def test_dev_corpus_has_no_dailymotion_embed() -> None:
    assert {name: got for name in page_names() if (got := found(name, ["dailymotion"]))} == {}


def test_synthetic_player_iframes() -> None:
    text = page(
        '<div style="position:relative;padding-bottom:56.25%"><iframe frameborder="0" '
        'width="100%" height="100%"'
        ' src="https://www.dailymotion.com/embed/video/x7tgad0" allowfullscreen allow="autoplay">'
        "</iframe></div>",
        '<iframe src="https://geo.dailymotion.com/player/x1abcd.html?video=x8j8sqc" '
        "allowfullscreen></iframe>",
    )
    refs = embeds(text)
    assert keys(refs) == [("dailymotion", "x7tgad0", "iframe"), ("dailymotion", "x8j8sqc", "iframe")]
    assert_unit(text, refs[0], "<iframe", "</iframe>")


def test_synthetic_amp_flash_bare_url_and_ckeditor() -> None:
    text = page(
        '<amp-dailymotion data-videoid="x7tgad0" layout="responsive" width="480" height="270">'
        "</amp-dailymotion>",
        '<object data="http://www.dailymotion.com/swf/video/x2bz6f" '
        'type="application/x-shockwave-flash"></object>',
        "<p>https://dai.ly/x8j8sqc</p>",
        '<figure class="media"><oembed url="https://www.dailymotion.com/video/x7tgad0"></oembed></figure>',
    )
    assert keys(embeds(text)) == [
        ("dailymotion", "x7tgad0", "amp"),
        ("dailymotion", "x2bz6f", "iframe"),
        ("dailymotion", "x8j8sqc", "bare-url"),
        ("dailymotion", "x7tgad0", "oembed-tag"),
    ]


def test_synthetic_playlists_channels_and_links_are_not_embeds() -> None:
    text = page(
        '<iframe src="https://geo.dailymotion.com/player/x1abcd.html?playlist=x6hynp"></iframe>',
        '<p>Follow <a href="https://www.dailymotion.com/franceinfo">us</a> and watch'
        ' <a href="https://www.dailymotion.com/video/x7tgad0">this</a>.</p>',
        '<script src="https://geo.dailymotion.com/libs/player/x1abcd.js"></script>',
    )
    assert of("dailymotion", text) == []
