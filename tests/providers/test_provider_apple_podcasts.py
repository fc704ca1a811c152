"""Apple Podcasts detection: URL forms and ids, the dev corpus page, and synthetic pages (test names say
"synthetic"; written from Apple's embed URL forms: no fixture shows Apple Podcasts)."""

from __future__ import annotations

import pytest

from archiver.providers import provider_for_url, provider_named
from tests.support.corpus_scoring import available, expected, found, page_names
from tests.support.embed_scan import assert_unit, embeds, keys, of, page

podcasts = provider_named("apple_podcasts")
EPISODE_URL = (
    "https://embed.podcasts.apple.com/us/podcast/how-to-avoid-inadvertently-being-a-bad-boss/id1393035987"
    "?i=1000561514664"
)


@pytest.mark.parametrize(
    ("url", "post_id", "canonical"),
    [
        (
            EPISODE_URL,
            "1000561514664",
            "https://podcasts.apple.com/us/podcast/how-to-avoid-inadvertently-being-a-bad-boss/id1393035987"
            "?i=1000561514664",
        ),
        (
            "https://podcasts.apple.com/de/podcast/id1200361736?i=1000650000000",
            "1000650000000",
            "https://podcasts.apple.com/de/podcast/id1200361736?i=1000650000000",
        ),
        (
            "https://embed.podcasts.apple.com/us/podcast/the-daily/id1200361736",
            "1200361736",
            "https://podcasts.apple.com/us/podcast/the-daily/id1200361736",
        ),
        (
            "https://itunes.apple.com/us/podcast/electrek/id1320055779?mt=2",
            "1320055779",
            "https://podcasts.apple.com/us/podcast/electrek/id1320055779",
        ),
    ],
)
def test_url_forms_give_the_episode_else_the_show(url: str, post_id: str, canonical: str) -> None:
    post = podcasts.parse_url(url)
    assert post is not None, url
    assert (post.provider, post.post_id, post.url) == ("apple_podcasts", post_id, canonical)
    assert provider_for_url(url) == post


@pytest.mark.parametrize(
    "url",
    [
        *podcasts.not_examples,
        "https://music.apple.com/us/album/ok-computer/1097861387",
        "https://podcasts.apple.com/us/podcast/",
        "https://podcasts.apple.com/us/browse",
        "",
    ],
)
def test_not_podcasts(url: str) -> None:
    assert podcasts.parse_url(url) is None, url


@pytest.mark.skipif(not available(), reason="shared corpus not present")
@pytest.mark.parametrize("name", page_names())
def test_dev_corpus_pages_are_exactly_right_for_apple_podcasts(name: str) -> None:
    assert found(name, ["apple_podcasts"]) == expected(name, ["apple_podcasts"])


def test_synthetic_episode_and_show_players() -> None:
    text = page(
        '<div class="podcast"><iframe allow="autoplay *; encrypted-media *; clipboard-write" frameborder="0"'
        ' height="175" sandbox="allow-forms allow-popups allow-same-origin allow-scripts"'
        f' src="{EPISODE_URL}"></iframe></div>',
        '<iframe height="450" '
        'src="https://embed.podcasts.apple.com/us/podcast/the-daily/id1200361736"></iframe>',
    )
    refs = embeds(text)
    assert keys(refs) == [
        ("apple_podcasts", "1000561514664", "iframe"),
        ("apple_podcasts", "1200361736", "iframe"),
    ]
    assert_unit(text, refs[0], "<iframe", "</iframe>")


def test_synthetic_subscribe_links_are_not_embeds() -> None:
    text = page(
        '<a href="https://itunes.apple.com/us/podcast/electrek/id1320055779" title="Subscribe">'
        "<svg></svg></a>",
        '<footer><a href="https://podcasts.apple.com/us/podcast/the-politics-of-everything/id1496206148">'
        "<svg></svg></a></footer>",
    )
    assert of("apple_podcasts", text) == []
