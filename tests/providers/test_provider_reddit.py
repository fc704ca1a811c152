"""Reddit detection. No saved article page in the corpus has a Reddit embed: the blockquote tests use the
markup Reddit's own oEmbed answered in 2021 and 2024 (recorded fixtures); every other page here is
synthetic, written from reference/providers.md section 9 (test names say so)."""

from __future__ import annotations

import pytest

from archiver.providers import provider_for_url, provider_named
from archiver.records import MarkupKind
from tests.support.corpus_scoring import available, found, page_names
from tests.support.embed_scan import assert_unit, embeds, keys, oembed_html, page

RD = "https://www.reddit.com"
reddit = provider_named("reddit")
SLUG = "buffett_on_cyrptocurrencies_i_can_say_almost_with"


@pytest.mark.parametrize(
    ("url", "post_id", "canonical"),
    [
        (f"{RD}/r/investing/comments/7pfpeq/{SLUG}/?ref_source=embed&amp;ref=share", "7pfpeq",
         f"{RD}/r/investing/comments/7pfpeq/{SLUG}/"),
        ("https://old.reddit.com/r/aww/comments/4lwccv/woodchips/", "4lwccv",
         f"{RD}/r/aww/comments/4lwccv/woodchips/"),
        ("https://np.reddit.com/r/aww/comments/4lwccv", "4lwccv", f"{RD}/r/aww/comments/4lwccv/"),
        (f"{RD}/r/aww/comments/4lwccv/woodchips/d3qol9a/?context=3", "4lwccv/d3qol9a",
         f"{RD}/r/aww/comments/4lwccv/woodchips/d3qol9a/"),
        (f"{RD}/r/aww/comments/4lwccv/comment/d3qol9a/", "4lwccv/d3qol9a",
         f"{RD}/r/aww/comments/4lwccv/comment/d3qol9a/"),
        (f"{RD}/user/dennisrieves/comments/7pfpeq/a/", "7pfpeq",
         f"{RD}/user/dennisrieves/comments/7pfpeq/a/"),
        (f"{RD}/u/dennisrieves/comments/7pfpeq/", "7pfpeq", f"{RD}/user/dennisrieves/comments/7pfpeq/"),
        ("https://reddit.com/comments/7pfpeq", "7pfpeq", f"{RD}/comments/7pfpeq/"),
        ("https://redd.it/7pfpeq", "7pfpeq", f"{RD}/comments/7pfpeq/"),
        (f"https://embed.reddit.com/r/investing/comments/7pfpeq/{SLUG}/?embed=true&theme=dark", "7pfpeq",
         f"{RD}/r/investing/comments/7pfpeq/{SLUG}/"),
        ("https://www.redditmedia.com/r/aww/comments/4lwccv/x/?ref_source=embed&embed=true", "4lwccv",
         f"{RD}/r/aww/comments/4lwccv/x/"),
    ],
)  # fmt: skip
def test_url_forms_and_ids(url: str, post_id: str, canonical: str) -> None:
    post = reddit.parse_url(url)
    assert post is not None
    assert (post.provider, post.post_id, post.url) == ("reddit", post_id, canonical)
    assert provider_for_url(url) == post


@pytest.mark.parametrize(
    "url",
    [
        *reddit.not_examples,
        f"{RD}/r/aww/comments/",
        f"{RD}/r/aww/comments/NOT-BASE36/",
        "https://v.redd.it/abc123",
        "",
    ],
)
def test_not_posts(url: str) -> None:
    assert reddit.parse_url(url) is None


@pytest.mark.parametrize(
    ("path", "loader", "handle"),
    [
        ("reddit/oembed-post-200-2021-reddit-card.response.json", "platform.js", None),
        ("reddit/oembed-post-200-2024-reddit-embed-bq.response.json", "widgets.js", "dennisrieves"),
    ],
)
def test_oembed_blockquotes_both_generations(path: str, loader: str, handle: str | None) -> None:
    """The blockquotes Reddit's oEmbed gave in 2021 (reddit-card) and 2024 (reddit-embed-bq), with their
    loader scripts: one embed each, the post link's text as caption."""
    text = page(oembed_html(path))
    (ref,) = embeds(text)
    assert (ref.provider, ref.post_id, ref.markup) == ("reddit", "7pfpeq", MarkupKind.BLOCKQUOTE)
    assert ref.url == f"{RD}/r/investing/comments/7pfpeq/{SLUG}/"
    assert (ref.caption or "").startswith("Buffett on cyrptocurrencies")
    assert ref.handle == handle
    assert_unit(text, ref, "<blockquote", f'{loader}" charset="UTF-8"></script>')


@pytest.mark.skipif(not available(), reason="shared corpus not present")
def test_dev_corpus_has_no_reddit_embed() -> None:
    assert {name: got for name in page_names() if (got := found(name, ["reddit"]))} == {}


def test_synthetic_comment_embed_and_post_embed_are_two_embeds() -> None:
    text = page(
        '<blockquote class="reddit-embed-bq" data-embed-created="2024-05-01T10:00:00.000Z">'
        f'<a href="{RD}/r/aww/comments/4lwccv/woodchips/d3qol9a/">Comment</a><br> by '
        f'<a href="{RD}/user/someone/">u/someone</a> from discussion '
        f'<a href="{RD}/r/aww/comments/4lwccv/">x</a>'
        '</blockquote><script async src="https://embed.reddit.com/widgets.js" charset="UTF-8"></script>',
        "<p>And the post itself:</p>",
        f'<blockquote class="reddit-embed-bq"><a href="{RD}/r/aww/comments/4lwccv/woodchips/">Woodchips</a>'
        "</blockquote>",
    )
    refs = embeds(text)
    assert keys(refs) == [("reddit", "4lwccv/d3qol9a", "blockquote"), ("reddit", "4lwccv", "blockquote")]
    assert (refs[0].handle, refs[0].published) == ("someone", "2024-05-01T10:00:00.000Z")


def test_synthetic_rendered_iframe_after_its_blockquote_is_one_embed() -> None:
    text = page(
        f'<blockquote class="reddit-card"><a href="{RD}/r/aww/comments/4lwccv/woodchips/">Woodchips</a> from '
        f'<a href="{RD}/r/aww/">aww</a></blockquote>'
        '<iframe src="https://www.redditmedia.com/r/aww/comments/4lwccv/woodchips/?ref_source=embed&amp;embed=true"'
        ' class="embedly-embed"></iframe>',
    )
    assert keys(embeds(text)) == [("reddit", "4lwccv", "blockquote")]


def test_synthetic_embed_iframe_and_bare_url() -> None:
    text = page(
        f'<iframe src="https://embed.reddit.com/r/investing/comments/7pfpeq/{SLUG}/?embed=true" height="316">'
        "</iframe>",
        "https://redd.it/4lwccv",
    )
    assert keys(embeds(text)) == [("reddit", "7pfpeq", "iframe"), ("reddit", "4lwccv", "bare-url")]


def test_synthetic_amp_component_is_amp_markup() -> None:
    """`<amp-reddit>` (amp.dev's component) names the post in `data-src`: an AMP embed, one unit."""
    unit = (
        '<amp-reddit layout="responsive" width="300" height="400" data-embedtype="post" '
        f'data-src="{RD}/r/me_irl/comments/52rmir/me_irl/?ref=share&amp;ref_source=embed"></amp-reddit>'
    )
    text = page(unit)
    (ref,) = embeds(text)
    assert (ref.provider, ref.post_id, ref.markup) == ("reddit", "52rmir", MarkupKind.AMP)
    assert_unit(text, ref, "<amp-reddit", "</amp-reddit>")


def test_synthetic_links_and_chrome_are_no_embeds() -> None:
    text = page(
        f'<a href="{RD}/r/investing/">r/investing</a>',
        f'<a href="{RD}/submit?url=https%3A%2F%2Fexample.com">Share on Reddit</a>',
        f'<p>A <a href="{RD}/r/aww/comments/4lwccv/woodchips/">thread</a> went viral.</p>',
        '<script async src="https://embed.reddit.com/widgets.js" charset="UTF-8"></script>',
        '<blockquote class="reddit-embed-bq"><a href="https://www.reddit.com/r/aww/">aww</a></blockquote>',
    )
    assert embeds(text) == []
