"""Embed services (archiver/pipeline/services.py): Embedly and Iframely players and cards, Drupal's media
oEmbed route. No dev corpus page uses them; every test here is synthetic, written from the services' own
embed codes (Embedly's card and `widgets/media.html` player as Medium serves it, Iframely's div and
anchor codes) and Drupal core's `/media/oembed` iframe."""

from __future__ import annotations

import pytest

from archiver.pipeline.scan.services import wrapped_urls
from archiver.records import MarkupKind
from tests.support.embed_scan import assert_unit, embeds, keys, page

VIDEO = "dQw4w9WgXcQ"
TWEET = "https://twitter.com/jack/status/20"
TWEET_ENCODED = "https%3A%2F%2Ftwitter.com%2Fjack%2Fstatus%2F20"
EMBEDLY_PLAYER = (
    "https://cdn.embedly.com/widgets/media.html?src=https%3A%2F%2Fwww.youtube.com%2Fembed%2F"
    f"{VIDEO}%3Ffeature%3Doembed&amp;display_name=YouTube&amp;url=https%3A%2F%2Fwww.youtube.com%2Fwatch"
    f"%3Fv%3D{VIDEO}&amp;key=a19fcc184b9711e1b4764040d3dc5c07&amp;type=text%2Fhtml&amp;schema=youtube"
)


@pytest.mark.parametrize(
    ("src", "urls"),
    [
        (
            "https://cdn.embedly.com/widgets/media.html?src=https%3A%2F%2Fplayer.vimeo.com%2Fvideo%2F1&url="
            "https%3A%2F%2Fvimeo.com%2F1&type=text%2Fhtml",
            ["https://vimeo.com/1", "https://player.vimeo.com/video/1"],
        ),
        (f"//cdn.iframe.ly/api/iframe?url={TWEET_ENCODED}&key=abc", [TWEET]),
        (
            f"/media/oembed?url=https%3A//www.youtube.com/watch%3Fv%3D{VIDEO}&max_width=0",
            [f"https://www.youtube.com/watch?v={VIDEO}"],
        ),
    ],
)
def test_player_urls_name_their_post(src: str, urls: list[str]) -> None:
    assert wrapped_urls(src) == urls


@pytest.mark.parametrize(
    "src",
    [
        "https://cdn.embedly.com/widgets/platform.js",
        f"https://platform.twitter.com/widgets/tweet_button.html?url={TWEET_ENCODED}",
        f"https://example.com/embed?url={TWEET_ENCODED}",
    ],
)
def test_other_urls_are_no_players(src: str) -> None:
    assert wrapped_urls(src) == []


def test_synthetic_embedly_player_iframe_of_a_video_no_other_markup_names() -> None:
    """Medium's form: the YouTube URL only percent-encoded inside the Embedly player's query."""
    unit = f'<iframe class="embedly-embed" src="{EMBEDLY_PLAYER}" width="854" height="480"></iframe>'
    text = page(unit)
    (ref,) = embeds(text)
    assert (ref.provider, ref.post_id, ref.markup) == ("youtube", VIDEO, MarkupKind.IFRAME)
    assert_unit(text, ref, '<iframe class="embedly-embed"', "</iframe>")


def test_synthetic_embedly_player_iframe_of_a_tweet() -> None:
    src = f"https://cdn.embedly.com/widgets/media.html?type=text%2Fhtml&amp;schema=twitter&amp;url={TWEET_ENCODED}"
    text = page(f'<iframe src="{src}" width="500" height="281"></iframe>')
    assert keys(embeds(text)) == [("twitter", "20", "iframe")]


def test_synthetic_iframely_player_iframe() -> None:
    text = page(f'<iframe src="https://cdn.iframe.ly/api/iframe?url={TWEET_ENCODED}&amp;key=k"></iframe>')
    assert keys(embeds(text)) == [("twitter", "20", "iframe")]


def test_synthetic_drupal_media_oembed_iframe() -> None:
    src = f"/media/oembed?url=https%3A//www.youtube.com/watch%3Fv%3D{VIDEO}&amp;max_width=0&amp;hash=x1"
    text = page(f'<div class="field--name-field-media-oembed-video"><iframe src="{src}"></iframe></div>')
    assert keys(embeds(text)) == [("youtube", VIDEO, "iframe")]


def test_synthetic_embedly_card_and_its_script_are_one_unit() -> None:
    unit = (
        f'<blockquote class="embedly-card"><h4><a href="{TWEET}">just setting up my twttr</a></h4>'
        "<p>jack on Twitter</p></blockquote>\n"
        '<script async src="//cdn.embedly.com/widgets/platform.js" charset="UTF-8"></script>'
    )
    text = page(unit)
    (ref,) = embeds(text)
    assert (ref.provider, ref.post_id, ref.markup) == ("twitter", "20", MarkupKind.BLOCKQUOTE)
    assert_unit(text, ref, '<blockquote class="embedly-card">', 'platform.js" charset="UTF-8"></script>')


def test_synthetic_embedly_card_link_needs_the_service_script() -> None:
    """The anchor form of a card; without Embedly's script on the page it stays the link it is."""
    card = f'<p><a class="embedly-card" href="https://www.youtube.com/watch?v={VIDEO}">The video</a></p>'
    script = '<script async src="https://cdn.embedly.com/widgets/platform.js"></script>'
    assert keys(embeds(page(card, script))) == [("youtube", VIDEO, "link")]
    assert embeds(page(card)) == []


def test_synthetic_iframely_div_and_its_script_are_one_unit() -> None:
    unit = (
        '<div class="iframely-embed"><div class="iframely-responsive" style="padding-bottom: 56.25%;">'
        f'<a href="{TWEET}" data-iframely-url="//cdn.iframe.ly/api/iframe?url={TWEET_ENCODED}&amp;key=k">'
        "</a></div></div>"
        '<script async src="//cdn.iframe.ly/embed.js" charset="utf-8"></script>'
    )
    text = page(unit)
    (ref,) = embeds(text)
    assert (ref.provider, ref.post_id, ref.markup) == ("twitter", "20", MarkupKind.DIV)
    assert_unit(text, ref, '<div class="iframely-embed">', 'embed.js" charset="utf-8"></script>')


def test_synthetic_iframely_anchor_named_only_by_its_player_url() -> None:
    """An Iframely anchor whose href is a short link of Iframely's own: the post is in the player URL."""
    text = page(
        '<p><a href="https://iframe.ly/AbCdEf" '
        f'data-iframely-url="//cdn.iframe.ly/api/iframe?url={TWEET_ENCODED}">A tweet</a></p>'
    )
    assert keys(embeds(text)) == [("twitter", "20", "link")]


def test_synthetic_cards_of_articles_and_service_scripts_alone_are_no_embeds() -> None:
    text = page(
        '<blockquote class="embedly-card"><h4><a href="https://example.com/story">A story</a></h4>'
        "</blockquote>",
        '<div class="iframely-embed"><a href="https://example.org/p" data-iframely-url="//cdn.iframe.ly/x1">'
        "</a></div>",
        '<script async src="//cdn.embedly.com/widgets/platform.js"></script>',
        f'<p>Read <a href="{TWEET}">what jack wrote</a> in 2006.</p>',
    )
    assert embeds(text) == []
