"""Pinterest detection. No saved article page in the corpus embeds a pin: the fixtures are real markup
cut from article pages (a share button, a profile widget) and the iframe Pinterest's oEmbed answered;
pages with an embedPin widget are synthetic, written from reference/providers.md section 13."""

from __future__ import annotations

import pytest

from archiver.providers import provider_for_url, provider_named
from archiver.records import MarkupKind
from tests.support.corpus_scoring import available, found, page_names
from tests.support.embed_scan import assert_unit, embeds, fixture, keys, oembed_html, page

PIN = "99360735500167749"
pinterest = provider_named("pinterest")


@pytest.mark.parametrize(
    "url",
    [
        f"https://www.pinterest.com/pin/{PIN}/",
        f"https://pinterest.com/pin/{PIN}",
        f"https://de.pinterest.com/pin/{PIN}/?nic_v3=1a",
        f"https://www.pinterest.co.uk/pin/{PIN}/",
        f"https://www.pinterest.com.au/pin/{PIN}/",
        f"https://www.pinterest.com/pin/autumn-door-wreath--{PIN}/",
        f"https://assets.pinterest.com/ext/embed.html?id={PIN}&src=oembed",
    ],
)
def test_pin_urls(url: str) -> None:
    post = pinterest.parse_url(url)
    assert post is not None
    assert (post.provider, post.post_id, post.url) == (
        "pinterest",
        PIN,
        f"https://www.pinterest.com/pin/{PIN}/",
    )
    assert provider_for_url(url) == post


@pytest.mark.parametrize("url", [*pinterest.not_examples, "https://www.pinterest.com/pin/", ""])
def test_not_pins(url: str) -> None:
    assert pinterest.parse_url(url) is None


def test_fixture_share_button_is_no_embed() -> None:
    assert embeds(page(fixture("pinterest/article-a-data-pin-do-button-FALSE-POSITIVE.html"))) == []


def test_fixture_profile_widget_is_no_embed() -> None:
    """embedUser shows an account (like a timeline), not a post: decided not to be an embed."""
    assert embeds(page(fixture("pinterest/article-a-data-pin-do-embedUser.html"))) == []


def test_oembed_iframe() -> None:
    text = page(oembed_html("pinterest/oembed-pin-200-2024.response.json"))
    (ref,) = embeds(text)
    assert (ref.provider, ref.post_id, ref.markup) == ("pinterest", "106890191127977979", MarkupKind.IFRAME)
    assert_unit(text, ref, "<iframe", "</iframe>")


@pytest.mark.skipif(not available(), reason="shared corpus not present")
def test_dev_corpus_has_no_pinterest_embed() -> None:
    """Pages there carry Pinterest share buttons and profile links only."""
    assert {name: got for name in page_names() if (got := found(name, ["pinterest"]))} == {}


def test_synthetic_embed_pin_widget_with_loader() -> None:
    text = page(
        f'<a data-pin-do="embedPin" data-pin-width="large" href="https://www.pinterest.com/pin/{PIN}/"></a>',
        '<script async defer src="//assets.pinterest.com/js/pinit.js"></script>',
    )
    (ref,) = embeds(text)
    assert (ref.post_id, ref.markup) == (PIN, MarkupKind.DIV)
    assert_unit(text, ref, '<a data-pin-do="embedPin"', "</a>")


def test_synthetic_amp_pinterest() -> None:
    text = page(
        f'<amp-pinterest height="800" width="236" data-do="embedPin" data-url="https://www.pinterest.com/pin/{PIN}/">'
        "</amp-pinterest>",
        '<amp-pinterest height="20" width="40" data-do="buttonPin" data-url="https://example.com/"></amp-pinterest>',
    )
    assert keys(embeds(text)) == [("pinterest", PIN, "amp")]


def test_synthetic_board_widget_buttons_and_links_are_no_embeds() -> None:
    text = page(
        '<a data-pin-do="embedBoard" href="https://www.pinterest.com/kentbrew/art-i-wish-i-d-made/"></a>',
        '<a data-pin-do="buttonPin" href="https://www.pinterest.com/pin/create/button/?url=x"></a>',
        f'<a data-pin-do="none" href="https://www.pinterest.com/pin/{PIN}/">pin it</a>',
        f'<p>See <a href="https://www.pinterest.com/pin/{PIN}/">this pin</a>.</p>',
        '<img src="https://i.pinimg.com/236x/b5/34/13/b53413787f3a42c8b9d5b08a6fbb2124.jpg" alt="">',
    )
    assert embeds(text) == []


def test_synthetic_bare_pin_url_on_a_country_domain_counts_once() -> None:
    """pinterest.com.au is found where pinterest.com is written: one place, one embed."""
    assert keys(embeds(page(f"<p>https://www.pinterest.com.au/pin/{PIN}/</p>"))) == [
        ("pinterest", PIN, "bare-url")
    ]
