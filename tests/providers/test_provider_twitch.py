"""Twitch detection. No fixture and no dev corpus page shows Twitch: every page here is synthetic, written
from reference/providers.md section 17 (test names say so). Live channel players are decided not to be
embeds (nothing to archive), as are collections."""

from __future__ import annotations

import pytest

from archiver.providers import provider_for_url, provider_named
from tests.support.corpus_scoring import available, found, page_names
from tests.support.embed_scan import assert_unit, embeds, keys, of, page

twitch = provider_named("twitch")
CLIP = "AwkwardHelplessSalamanderSwiftRage"


@pytest.mark.parametrize(
    ("url", "post_id", "canonical"),
    [
        (
            "https://player.twitch.tv/?video=v1234567890&parent=example.com",
            "1234567890",
            "https://www.twitch.tv/videos/1234567890",
        ),
        (
            "https://player.twitch.tv/?video=1234567890&parent=example.com&autoplay=false",
            "1234567890",
            "https://www.twitch.tv/videos/1234567890",
        ),
        (
            "https://embed.twitch.tv/?video=v1234567890&parent=example.com",
            "1234567890",
            "https://www.twitch.tv/videos/1234567890",
        ),
        ("https://www.twitch.tv/videos/1234567890", "1234567890", "https://www.twitch.tv/videos/1234567890"),
        (
            "https://m.twitch.tv/somechannel/v/1234567890",
            "1234567890",
            "https://www.twitch.tv/videos/1234567890",
        ),
        (
            f"https://player.twitch.tv/?clip={CLIP}&parent=example.com",
            CLIP,
            f"https://clips.twitch.tv/{CLIP}",
        ),
        (
            f"https://clips.twitch.tv/embed?clip={CLIP}&parent=example.com",
            CLIP,
            f"https://clips.twitch.tv/{CLIP}",
        ),
        (f"https://clips.twitch.tv/{CLIP}", CLIP, f"https://clips.twitch.tv/{CLIP}"),
        (
            f"https://www.twitch.tv/somechannel/clip/{CLIP}-Ab12Cd34",
            f"{CLIP}-Ab12Cd34",
            f"https://clips.twitch.tv/{CLIP}-Ab12Cd34",
        ),
    ],
)
def test_url_forms_give_the_vod_number_or_the_clip_slug(url: str, post_id: str, canonical: str) -> None:
    post = twitch.parse_url(url)
    assert post is not None, url
    assert (post.provider, post.post_id, post.url) == ("twitch", post_id, canonical)
    assert provider_for_url(url) == post


@pytest.mark.parametrize(
    "url",
    [
        *twitch.not_examples,
        "https://player.twitch.tv/?parent=example.com",
        "https://player.twitch.tv/?video=vabc&parent=example.com",
        "https://clips.twitch.tv/create",
        "https://www.twitch.tv/videos/",
        "",
    ],
)
def test_not_posts(url: str) -> None:
    assert twitch.parse_url(url) is None, url


@pytest.mark.skipif(not available(), reason="shared corpus not present")
def test_dev_corpus_has_no_twitch_embed() -> None:
    assert {name: got for name in page_names() if (got := found(name, ["twitch"]))} == {}


def test_synthetic_vod_and_clip_players() -> None:
    text = page(
        '<iframe src="https://player.twitch.tv/?video=v1234567890&parent=example.com&autoplay=false"'
        ' height="378" width="620" allowfullscreen></iframe>',
        f'<iframe src="https://clips.twitch.tv/embed?clip={CLIP}&parent=example.com" frameborder="0"'
        ' allowfullscreen="true" height="378" width="620"></iframe>',
    )
    refs = embeds(text)
    assert keys(refs) == [("twitch", "1234567890", "iframe"), ("twitch", CLIP, "iframe")]
    assert_unit(text, refs[1], "<iframe", "</iframe>")


def test_synthetic_live_channels_collections_and_chat_are_not_embeds() -> None:
    text = page(
        '<iframe src="https://player.twitch.tv/?channel=somechannel&parent=example.com" '
        "allowfullscreen></iframe>",
        '<iframe src="https://player.twitch.tv/?collection=abcDEF123&parent=example.com"></iframe>',
        '<iframe src="https://www.twitch.tv/embed/somechannel/chat?parent=example.com"></iframe>',
        '<p>Follow <a href="https://www.twitch.tv/somechannel">the stream</a>.</p>',
        '<script src="https://embed.twitch.tv/embed/v1.js"></script>',
    )
    assert of("twitch", text) == []
