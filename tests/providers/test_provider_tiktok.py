"""TikTok detection. No saved article page in the corpus has a TikTok embed: the blockquote tests use the
markup TikTok's own oEmbed answered (recorded fixtures); every other page here is synthetic, written from
reference/providers.md section 3 (test names say so)."""

from __future__ import annotations

import pytest

from archiver.providers import provider_for_url, provider_named
from archiver.records import MarkupKind
from tests.support.corpus_scoring import available, found, page_names
from tests.support.embed_scan import assert_unit, embeds, keys, oembed_html, page

TT = "https://www.tiktok.com"
tiktok = provider_named("tiktok")
VIDEO = "6718335390845095173"


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        (f"{TT}/@scout2015/video/{VIDEO}?is_from_webapp=1", f"{TT}/@scout2015/video/{VIDEO}"),
        (f"http://tiktok.com/@scout2015/video/{VIDEO}/", f"{TT}/@scout2015/video/{VIDEO}"),
        (f"{TT}/@scout.2015_x/photo/{VIDEO}", f"{TT}/@scout.2015_x/photo/{VIDEO}"),
        (f"{TT}/embed/v2/{VIDEO}?lang=en-US", f"{TT}/embed/v2/{VIDEO}"),
        (f"//www.tiktok.com/embed/{VIDEO}", f"{TT}/embed/v2/{VIDEO}"),
        (f"{TT}/player/v1/{VIDEO}?music_info=1&description=1", f"{TT}/embed/v2/{VIDEO}"),
        (f"{TT}/share/video/{VIDEO}", f"{TT}/embed/v2/{VIDEO}"),
        (f"https://m.tiktok.com/v/{VIDEO}.html", f"{TT}/embed/v2/{VIDEO}"),
    ],
)
def test_url_forms_give_the_video_id(url: str, canonical: str) -> None:
    post = tiktok.parse_url(url)
    assert post is not None
    assert (post.provider, post.post_id, post.url) == ("tiktok", VIDEO, canonical)
    assert provider_for_url(url) == post


@pytest.mark.parametrize("url", [*tiktok.not_examples, f"{TT}/@a/video/123", f"{TT}/@a/live", "", "@user"])
def test_not_videos(url: str) -> None:
    assert tiktok.parse_url(url) is None


@pytest.mark.parametrize(
    ("path", "video", "handle", "caption"),
    [
        (
            "tiktok/oembed-video-200-2024.response.json",
            "6806030056956251397",
            "a3noticias",
            "Nuestro #Aplauso",
        ),
        ("tiktok/oembed-video-200-2022.body.json", "7005293332821822726", "shmemmmy", "POV u work"),
    ],
)
def test_oembed_blockquote_with_loader_is_one_unit(path: str, video: str, handle: str, caption: str) -> None:
    """The blockquote TikTok's oEmbed gives (the form articles carry), with its embed.js loader."""
    text = page(oembed_html(path))
    (ref,) = embeds(text)
    assert (ref.provider, ref.post_id, ref.markup) == ("tiktok", video, MarkupKind.BLOCKQUOTE)
    assert ref.url == f"{TT}/@{handle}/video/{video}"
    assert (ref.handle, ref.author_url) == (handle, f"{TT}/@{handle}")
    assert (ref.caption or "").startswith(caption)
    assert_unit(text, ref, '<blockquote class="tiktok-embed"', 'embed.js"></script>')


@pytest.mark.skipif(not available(), reason="shared corpus not present")
def test_dev_corpus_has_no_tiktok_embed() -> None:
    """Pages there only link TikTok profiles (chrome): nothing may be reported."""
    assert {name: got for name in page_names() if (got := found(name, ["tiktok"]))} == {}


def test_synthetic_rendered_blockquote_with_its_iframe_is_one_embed() -> None:
    text = page(
        f'<blockquote class="tiktok-embed" cite="{TT}/@scout2015/video/{VIDEO}" data-video-id="{VIDEO}">'
        f'<iframe src="{TT}/embed/v2/{VIDEO}?lang=en" name="__tt_embed__v1"></iframe></blockquote>'
        '<script async src="https://www.tiktok.com/embed.js"></script>'
    )
    assert keys(embeds(text)) == [("tiktok", VIDEO, "blockquote")]


def test_synthetic_data_video_id_wins_over_a_different_cite() -> None:
    text = page(
        f'<blockquote class="tiktok-embed" cite="{TT}/@a/video/1111111111111111111" data-video-id="{VIDEO}">'
    )
    assert keys(embeds(text)) == [("tiktok", VIDEO, "blockquote")]


def test_synthetic_iframes_and_amp() -> None:
    text = page(
        f'<iframe src="{TT}/embed/v2/{VIDEO}" width="325" height="740"></iframe>',
        f'<iframe src="about:blank" data-src="{TT}/player/v1/7005293332821822726?autoplay=0"></iframe>',
        '<amp-tiktok width="325" height="575" data-src="6806030056956251397"></amp-tiktok>',
        f'<amp-tiktok width="325" height="575" data-src="{TT}/@a/video/7215448310284782890"></amp-tiktok>',
    )
    assert keys(embeds(text)) == [
        ("tiktok", VIDEO, "iframe"),
        ("tiktok", "7005293332821822726", "iframe"),
        ("tiktok", "6806030056956251397", "amp"),
        ("tiktok", "7215448310284782890", "amp"),
    ]


def test_synthetic_bare_video_url_in_a_paragraph() -> None:
    (ref,) = embeds(page(f"<p>{TT}/@scout2015/video/{VIDEO}</p>"))
    assert (ref.post_id, ref.markup) == (VIDEO, MarkupKind.BARE_URL)


def test_synthetic_profile_and_follow_links_are_no_embeds() -> None:
    text = page(
        '<a class="jeg_tiktok" href="https://www.tiktok.com/@kulu.media" target="_blank">TikTok</a>',
        f'<p>Watch <a href="{TT}/@scout2015/video/{VIDEO}">the clip</a> on TikTok.</p>',
        f'<iframe src="{TT}/embed/live/@scout2015?embed_domain=example.com"></iframe>',
        '<script async src="https://www.tiktok.com/embed.js"></script>',
        '<blockquote class="tiktok-embed" data-video-id="not-a-number"><section></section></blockquote>',
    )
    assert embeds(text) == []
