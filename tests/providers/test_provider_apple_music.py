"""Apple Music detection. No fixture and no dev corpus page shows Apple Music: every page here is
synthetic, written from Apple's embed URL forms (test names say so)."""

from __future__ import annotations

import pytest

from archiver.providers import provider_for_url, provider_named
from tests.support.corpus_scoring import available, found, page_names
from tests.support.embed_scan import assert_unit, embeds, keys, of, page

music = provider_named("apple_music")


@pytest.mark.parametrize(
    ("url", "post_id", "canonical"),
    [
        (
            "https://embed.music.apple.com/us/album/ok-computer/1097861387?i=1097862231",
            "1097861387",
            "https://music.apple.com/us/album/ok-computer/1097861387?i=1097862231",
        ),
        (
            "https://music.apple.com/gb/album/ok-computer/1097861387",
            "1097861387",
            "https://music.apple.com/gb/album/ok-computer/1097861387",
        ),
        (
            "https://itunes.apple.com/us/album/ok-computer/id1097861387?i=1097862231&uo=4",
            "1097861387",
            "https://music.apple.com/us/album/ok-computer/1097861387?i=1097862231",
        ),
        (
            "https://embed.music.apple.com/de/playlist/a-list-pop/pl.5ee8333dbe944d9f9151e97d92d1ead9",
            "pl.5ee8333dbe944d9f9151e97d92d1ead9",
            "https://music.apple.com/de/playlist/a-list-pop/pl.5ee8333dbe944d9f9151e97d92d1ead9",
        ),
        (
            "https://music.apple.com/us/playlist/pl.u-76oNkmaCvPlGrE",
            "pl.u-76oNkmaCvPlGrE",
            "https://music.apple.com/us/playlist/pl.u-76oNkmaCvPlGrE",
        ),
        (
            "https://music.apple.com/us/song/paranoid-android/1097862231",
            "1097862231",
            "https://music.apple.com/us/song/paranoid-android/1097862231",
        ),
        (
            "https://geo.music.apple.com/album/ok-computer/1097861387?app=music",
            "1097861387",
            "https://music.apple.com/us/album/ok-computer/1097861387",
        ),
    ],
)
def test_url_forms_give_the_item_id(url: str, post_id: str, canonical: str) -> None:
    post = music.parse_url(url)
    assert post is not None, url
    assert (post.provider, post.post_id, post.url) == ("apple_music", post_id, canonical)
    assert provider_for_url(url) == post


@pytest.mark.parametrize(
    "url",
    [
        *music.not_examples,
        "https://itunes.apple.com/us/podcast/electrek/id1320055779",
        "https://music.apple.com/us/album/ok-computer/",
        "https://music.apple.com/us/playlist/x/123",
        "",
    ],
)
def test_not_items(url: str) -> None:
    assert music.parse_url(url) is None, url


@pytest.mark.skipif(not available(), reason="shared corpus not present")
def test_dev_corpus_has_no_apple_music_embed() -> None:
    assert {name: got for name in page_names() if (got := found(name, ["apple_music"]))} == {}


def test_synthetic_embed_iframes() -> None:
    text = page(
        '<iframe allow="autoplay *; encrypted-media *; fullscreen *; clipboard-write" '
        'frameborder="0" height="450"'
        ' style="width:100%;max-width:660px;overflow:hidden;border-radius:10px;" '
        'sandbox="allow-forms allow-popups'
        ' allow-same-origin allow-scripts" '
        'src="https://embed.music.apple.com/us/album/ok-computer/1097861387?i=1097862231">'
        "</iframe>",
        '<iframe src="https://embed.music.apple.com/de/playlist/a-list-pop/pl.5ee8333dbe944d9f9151e97d92d1ead9"></iframe>',
    )
    refs = embeds(text)
    assert keys(refs) == [
        ("apple_music", "1097861387", "iframe"),
        ("apple_music", "pl.5ee8333dbe944d9f9151e97d92d1ead9", "iframe"),
    ]
    assert_unit(text, refs[0], "<iframe", "</iframe>")


def test_synthetic_app_store_and_artist_links_are_not_embeds() -> None:
    text = page(
        '<meta name="smartbanner:button-url-apple" content="https://apps.apple.com/us/app/x/id1027336748">',
        '<p>Hear <a href="https://music.apple.com/us/artist/radiohead/657515">Radiohead</a> and'
        ' <a href="https://music.apple.com/us/album/ok-computer/1097861387">the album</a>.</p>',
    )
    assert of("apple_music", text) == []
