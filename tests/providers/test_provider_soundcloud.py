"""SoundCloud detection: the widget's url= unwrapped, ids, the recorded fixtures, the dev corpus pages, and
synthetic pages for the forms no fixture shows (test names say "synthetic"; written from
reference/providers.md section 12)."""

from __future__ import annotations

import pytest

from archiver.providers import provider_for_url, provider_named
from archiver.records import MarkupKind
from tests.support.corpus_scoring import available, expected, found, page_names
from tests.support.embed_scan import assert_unit, embeds, fixture, keys, of, page

soundcloud = provider_named("soundcloud")


@pytest.mark.parametrize(
    ("url", "post_id", "canonical"),
    [
        (
            "https://w.soundcloud.com/player/?url=https%3A//api.soundcloud.com/tracks/367477112&color=%23ff5500",
            "367477112",
            "https://api.soundcloud.com/tracks/367477112",
        ),
        (
            "https://w.soundcloud.com/player/?url=https%3A%2F%2Fapi.soundcloud.com%2Ftracks%2F367477112%3Fsecret"
            "_token%3Ds-AbCd&amp;auto_play=false",
            "367477112",
            "https://api.soundcloud.com/tracks/367477112",
        ),
        (
            "https://api.soundcloud.com/tracks/180961263",
            "180961263",
            "https://api.soundcloud.com/tracks/180961263",
        ),
        (
            "https://w.soundcloud.com/player/?url=https%3A//api.soundcloud.com/playlists/1234567&visual=true",
            "playlists/1234567",
            "https://api.soundcloud.com/playlists/1234567",
        ),
        (
            "https://w.soundcloud.com/player/?url=https%3A%2F%2Fsoundcloud.com%2Fforss%2Fflickermood",
            "forss/flickermood",
            "https://soundcloud.com/forss/flickermood",
        ),
        (
            "https://soundcloud.com/Forss/FlickerMood",
            "forss/flickermood",
            "https://soundcloud.com/forss/flickermood",
        ),
        (
            "https://soundcloud.com/forss/sets/soulhack",
            "forss/sets/soulhack",
            "https://soundcloud.com/forss/sets/soulhack",
        ),
        (
            "https://soundcloud.com/forss/flickermood/s-AbCd1234",
            "forss/flickermood",
            "https://soundcloud.com/forss/flickermood/s-AbCd1234",
        ),
        (
            "https://m.soundcloud.com/forss/flickermood?in=forss/sets/soulhack",
            "forss/flickermood",
            "https://soundcloud.com/forss/flickermood",
        ),
    ],
)
def test_url_forms_give_the_track_number_or_the_path(url: str, post_id: str, canonical: str) -> None:
    post = soundcloud.parse_url(url)
    assert post is not None, url
    assert (post.provider, post.post_id, post.url) == ("soundcloud", post_id, canonical)
    assert provider_for_url(url) == post


@pytest.mark.parametrize(
    "url",
    [
        *soundcloud.not_examples,
        "https://w.soundcloud.com/player/",
        "https://w.soundcloud.com/player/?url=https%3A//w.soundcloud.com/player/%3Furl%3Dhttps%3A//api.soundcloud.com/tracks/1",
        "https://soundcloud.com/forss/sets",
        "https://soundcloud.com/charts/top",
        "https://api.soundcloud.com/tracks/",
        "",
    ],
)
def test_not_sounds(url: str) -> None:
    assert soundcloud.parse_url(url) is None, url


@pytest.mark.parametrize(
    ("path", "post_id"),
    [
        ("soundcloud/article-iframe-player.html", "367477112"),
        ("soundcloud/article-iframe-lazy-rocket.html", "709346965"),
    ],
)
def test_fixture_players(path: str, post_id: str) -> None:
    text = page(fixture(path).strip())
    (ref,) = embeds(text)
    assert (ref.provider, ref.post_id, ref.markup) == ("soundcloud", post_id, MarkupKind.IFRAME)
    assert_unit(text, ref, "<iframe", "</iframe>")


@pytest.mark.skipif(not available(), reason="shared corpus not present")
@pytest.mark.parametrize("name", page_names())
def test_dev_corpus_pages_are_exactly_right_for_soundcloud(name: str) -> None:
    assert found(name, ["soundcloud"]) == expected(name, ["soundcloud"])


def test_synthetic_wrapper_with_an_encoded_copy_is_one_embed() -> None:
    """The avclub form: the iframe inside a div whose data-code holds a URL-encoded copy of it."""
    player = "https://w.soundcloud.com/player/?url=https%3A//api.soundcloud.com/tracks/180961263&amp;auto_play=false"
    code = (
        "%3Ciframe%20width%3D%22100%25%22%20src%3D%22https%3A//w.soundcloud.com/player/%3Furl%3Dhttps%253A//"
        "api.soundcloud.com/tracks/180961263%26amp%3Bauto_play%3Dfalse%22%3E%3C/iframe%3E"
    )
    text = page(
        f'<div class="inline embed" data-code="{code}"><div><iframe src="{player}"></iframe></div></div>'
    )
    assert keys(embeds(text)) == [("soundcloud", "180961263", "iframe")]


def test_synthetic_amp_and_bare_url() -> None:
    text = page(
        '<amp-soundcloud height="657" layout="fixed-height" data-trackid="243169232" data-visual="true">'
        "</amp-soundcloud>",
        '<amp-soundcloud height="450" layout="fixed-height" data-playlistid="1234567"></amp-soundcloud>',
        "<p>https://soundcloud.com/forss/flickermood</p>",
    )
    assert keys(embeds(text)) == [
        ("soundcloud", "243169232", "amp"),
        ("soundcloud", "playlists/1234567", "amp"),
        ("soundcloud", "forss/flickermood", "bare-url"),
    ]


def test_synthetic_user_widgets_and_profile_links_are_not_embeds() -> None:
    text = page(
        '<iframe src="https://w.soundcloud.com/player/?url=https%3A//api.soundcloud.com/users/1234"></iframe>',
        '<p>Soundcloud user <a href="https://soundcloud.com/kpffkl">kpffkl</a> made a'
        ' <a href="https://soundcloud.com/kpffkl/mail-kimp-remix">remix</a>.</p>',
    )
    assert of("soundcloud", text) == []
