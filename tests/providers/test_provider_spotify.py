"""Spotify detection: URL forms and ids, the recorded fixtures, the dev corpus pages, and synthetic pages
for the forms no fixture shows (test names say "synthetic"; written from reference/providers.md
section 11)."""

from __future__ import annotations

import pytest

from archiver.providers import provider_for_url, provider_named
from archiver.records import MarkupKind
from tests.support.corpus_scoring import available, expected, found, page_names
from tests.support.embed_scan import assert_unit, embeds, fixture, keys, oembed_html, of, page

spotify = provider_named("spotify")
TRACK = "4uLU6hMCjMI75M1A2tKUQC"


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        (f"https://open.spotify.com/track/{TRACK}", "track"),
        (f"https://open.spotify.com/track/{TRACK}?si=abc123", "track"),
        (f"https://open.spotify.com/intl-de/track/{TRACK}", "track"),
        (f"https://open.spotify.com/embed/track/{TRACK}?utm_source=generator&theme=0", "track"),
        (f"https://open.spotify.com/embed/album/{TRACK}", "album"),
        (f"https://open.spotify.com/embed/playlist/{TRACK}?locale=de", "playlist"),
        (f"https://open.spotify.com/embed/episode/{TRACK}/video", "episode"),
        (f"https://open.spotify.com/embed-podcast/episode/{TRACK}", "episode"),
        (f"https://open.spotify.com/embed-podcast/show/{TRACK}", "show"),
        (f"https://open.spotify.com/artist/{TRACK}", "artist"),
        (f"https://open.spotify.com/user/spotify/playlist/{TRACK}", "playlist"),
        (f"https://play.spotify.com/album/{TRACK}", "album"),
        (f"https://embed.spotify.com/?uri=spotify:track:{TRACK}", "track"),
        (f"https://embed.spotify.com/?uri=spotify%3Aalbum%3A{TRACK}", "album"),
        (f"https://open.spotify.com/embed?uri=spotify:playlist:{TRACK}", "playlist"),
        (f"spotify:episode:{TRACK}", "episode"),
        (f"spotify:user:someone:playlist:{TRACK}", "playlist"),
    ],
)
def test_url_forms_give_the_bare_id_and_keep_the_type(url: str, kind: str) -> None:
    post = spotify.parse_url(url)
    assert post is not None, url
    assert (post.provider, post.post_id, post.url) == (
        "spotify",
        TRACK,
        f"https://open.spotify.com/{kind}/{TRACK}",
    )
    assert provider_for_url(url) == post


@pytest.mark.parametrize(
    "url",
    [
        *spotify.not_examples,
        f"https://open.spotify.com/embed/podcast/{TRACK}",
        "https://open.spotify.com/embed/track/",
        f"https://open.spotify.com/embed/track/{TRACK}x",
        "https://embed.spotify.com/?uri=spotify:user:someone",
        "spotify:track:short",
        "",
    ],
)
def test_not_items(url: str) -> None:
    assert spotify.parse_url(url) is None, url


@pytest.mark.parametrize(
    ("path", "post_id"),
    [
        ("spotify/article-iframe-playlist.html", "7ckS4o26uQWPUNGty6fSQu"),
        ("spotify/article-iframe-show.html", "6YxsFKbM7cULU4sXU7hSxe"),
    ],
)
def test_fixture_iframes(path: str, post_id: str) -> None:
    text = page(fixture(path).strip())
    (ref,) = embeds(text)
    assert (ref.provider, ref.post_id, ref.markup) == ("spotify", post_id, MarkupKind.IFRAME)
    assert_unit(text, ref, "<iframe", "</iframe>")


def test_fixture_oembed_html_is_an_embed() -> None:
    text = page(oembed_html("spotify/oembed-track-200.body.json"))
    refs = embeds(text)
    assert [(ref.provider, ref.markup) for ref in refs] == [("spotify", MarkupKind.IFRAME)]


@pytest.mark.skipif(not available(), reason="shared corpus not present")
@pytest.mark.parametrize("name", page_names())
def test_dev_corpus_pages_are_exactly_right_for_spotify(name: str) -> None:
    assert found(name, ["spotify"]) == expected(name, ["spotify"])


def test_synthetic_unquoted_lazy_and_amp_iframes() -> None:
    text = page(
        f"<figure class=op-interactive><iframe src=https://open.spotify.com/embed/album/{TRACK} width=300"
        " height=380 frameborder=0></iframe></figure>",
        f'<iframe data-src="https://open.spotify.com/embed-podcast/episode/{TRACK}" loading="lazy"></iframe>',
        f'<amp-iframe src="https://open.spotify.com/embed/track/{TRACK}" width="300" height="380"'
        ' sandbox="allow-scripts"></amp-iframe>',
    )
    assert keys(embeds(text)) == [("spotify", TRACK, "iframe")] * 3


def test_synthetic_follow_buttons_footer_links_and_short_links_are_not_embeds() -> None:
    text = page(
        '<iframe src="https://open.spotify.com/follow/1/?uri=spotify:artist:0OdUWJ0sBjDrqHygGUXeCF&size=detail'
        '&theme=light" width="300" height="56" scrolling="no" frameborder="0"></iframe>',
        '<footer><a href="https://open.spotify.com/show/0TmWSV21TRjgetg1NGjzEA"><svg></svg></a></footer>',
        '<p>Listen on <a href="https://spotify.link/AbCdEfGhIjK">Spotify</a>.</p>',
    )
    assert of("spotify", text) == []
