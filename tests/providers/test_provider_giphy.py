"""Giphy detection. The iframe fixture is real markup cut from an article page; the other pages are
synthetic, written from reference/providers.md section 15 (test names say so)."""

from __future__ import annotations

import pytest

from archiver.providers import provider_for_url, provider_named
from archiver.records import MarkupKind
from tests.support.corpus_scoring import available, found, page_names
from tests.support.embed_scan import assert_unit, embeds, fixture, keys, page

GIF = "3o7TKBX7vWbc7Dhxcc"
giphy = provider_named("giphy")


@pytest.mark.parametrize(
    "url",
    [
        f"https://giphy.com/embed/{GIF}",
        f"//giphy.com/embed/{GIF}?html5=true",
        f"https://giphy.com/gifs/studiosoriginals-cant-hardly-wait-{GIF}",
        f"https://giphy.com/gifs/{GIF}/fullscreen",
        f"https://giphy.com/stickers/happy-{GIF}",
        f"https://giphy.com/clips/studiosoriginals-{GIF}",
        f"https://media.giphy.com/media/{GIF}/giphy.gif",
        f"https://media3.giphy.com/media/v1.Y2lkPTc5MGI3NjEx/{GIF}/giphy.webp",
        f"https://i.giphy.com/{GIF}.gif",
    ],
)
def test_url_forms_give_the_gif_id(url: str) -> None:
    post = giphy.parse_url(url)
    assert post is not None
    assert (post.provider, post.post_id, post.url) == ("giphy", GIF, f"https://giphy.com/gifs/{GIF}")
    assert provider_for_url(url) == post


@pytest.mark.parametrize(
    "url",
    [
        *giphy.not_examples,
        "https://giphy.com/embed/",
        "https://giphy.com/embed/x",
        "https://media.giphy.com",
        "https://media.giphy.com/",
        "https://media.giphy.com/media/",
        "https://i.giphy.com/x.gif",
        "",
    ],
)
def test_not_gifs(url: str) -> None:
    assert giphy.parse_url(url) is None


def test_fixture_iframe_embed() -> None:
    text = page(f'<div style="position:relative">{fixture("giphy/article-iframe-embed.html").strip()}</div>')
    (ref,) = embeds(text)
    assert (ref.provider, ref.post_id, ref.markup) == ("giphy", GIF, MarkupKind.IFRAME)
    assert_unit(text, ref, "<iframe", "</iframe>")


@pytest.mark.skipif(not available(), reason="shared corpus not present")
def test_dev_corpus_has_no_giphy_embed() -> None:
    assert {name: got for name in page_names() if (got := found(name, ["giphy"]))} == {}


def test_synthetic_copy_paste_code_with_via_giphy_link_is_one_embed() -> None:
    text = page(
        '<div style="width:100%;height:0;padding-bottom:56%;position:relative;">'
        f'<iframe src="https://giphy.com/embed/{GIF}" width="100%" height="100%" style="position:absolute" '
        'frameBorder="0" class="giphy-embed" allowFullScreen></iframe></div>'
        f'<p><a href="https://giphy.com/gifs/studiosoriginals-cant-hardly-wait-{GIF}">via GIPHY</a></p>'
    )
    assert keys(embeds(text)) == [("giphy", GIF, "iframe")]


def test_synthetic_lazy_iframe_and_bare_url() -> None:
    text = page(
        f'<iframe src="about:blank" data-src="https://giphy.com/embed/{GIF}" class="giphy-embed lazyload">'
        "</iframe>",
        "<p>https://giphy.com/gifs/cat-kW8mnYSNkUYKc</p>",
    )
    assert keys(embeds(text)) == [("giphy", GIF, "iframe"), ("giphy", "kW8mnYSNkUYKc", "bare-url")]


def test_synthetic_images_and_channel_links_are_no_embeds() -> None:
    text = page(
        f'<img src="https://media.giphy.com/media/{GIF}/giphy.gif" alt="">',
        '<a href="https://giphy.com/studiosoriginals">Studios</a>',
        '<p>Found on <a href="https://gph.is/2dmQ0ye">Giphy</a>.</p>',
    )
    assert embeds(text) == []
