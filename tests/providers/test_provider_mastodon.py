"""Mastodon detection: the official embed iframe and blockquote on any instance, status URLs only on the
known instances.

The corpus and the fixtures hold no real page with a Mastodon embed: every test here is synthetic, written
from the embed code Mastodon's oEmbed serializer emits (reference/providers.md section 8).
"""

from __future__ import annotations

import hashlib

import pytest

from archiver.pipeline.scan import scan_article
from archiver.providers import provider_for_url, provider_named
from archiver.records import Article, EmbedRef, MarkupKind

STATUS_ID = "109286127315012345"


def article(text: str) -> Article:
    data = text.encode("utf-8")
    return Article("page", "test", data, text, "utf-8", hashlib.sha256(data).hexdigest())


def posts(text: str) -> list[EmbedRef]:
    result = scan_article(article(text))
    assert result.error is None, result.error
    return [ref for ref in result.embeds if ref.provider == "mastodon"]


def page(*parts: str) -> str:
    return "<html><body><article><p>Intro.</p>" + "".join(parts) + "<p>More.</p></article></body></html>"


def iframe(host: str = "fosstodon.org", user: str = "alice") -> str:
    return (
        f'<iframe src="https://{host}/@{user}/{STATUS_ID}/embed" class="mastodon-embed" '
        'style="max-width: 100%; border: 0" width="400" allowfullscreen="allowfullscreen"></iframe>'
        f'<script src="https://{host}/embed.js" async="async"></script>'
    )


def blockquote(host: str = "hachyderm.io", user: str = "bob") -> str:
    return (
        f'<blockquote class="mastodon-embed" data-embed-url="https://{host}/@{user}/{STATUS_ID}/embed" '
        'style="background: #FCF8FF; border-radius: 8px;">'
        f'<a href="https://{host}/@{user}/{STATUS_ID}" target="_blank"><svg></svg>'
        f"<div>Post by @{user}@{host}</div><div>View on Mastodon</div></a></blockquote>"
        f'<script data-allowed-prefixes="https://{host}/" async src="https://{host}/embed.js"></script>'
    )


@pytest.mark.parametrize(
    ("url", "post_id", "canonical"),
    [
        (f"https://mastodon.social/@Gargron/{STATUS_ID}", f"mastodon.social/{STATUS_ID}", None),
        (f"https://Mastodon.Social/@Gargron/{STATUS_ID}/", f"mastodon.social/{STATUS_ID}", None),
        (f"https://mastodon.social/@Gargron/{STATUS_ID}/embed", f"mastodon.social/{STATUS_ID}", None),
        (f"https://mastodon.online/users/Gargron/statuses/{STATUS_ID}", f"mastodon.online/{STATUS_ID}", None),
        (
            f"https://fosstodon.org/@alice/{STATUS_ID}/embed",
            f"fosstodon.org/{STATUS_ID}",
            "fosstodon.org/@alice",
        ),
        (
            f"https://hachyderm.io/@bob@example.social/{STATUS_ID}/embed",
            f"hachyderm.io/{STATUS_ID}",
            "hachyderm.io/@bob@example.social",
        ),
    ],
)
def test_status_url_forms(url: str, post_id: str, canonical: str | None) -> None:
    post = provider_named("mastodon").parse_url(url)
    assert post is not None, url
    assert (post.provider, post.post_id) == ("mastodon", post_id)
    expected = (
        f"https://{canonical}/{STATUS_ID}" if canonical else f"https://mastodon.social/@Gargron/{STATUS_ID}"
    )
    if "mastodon.online" in url:
        expected = f"https://mastodon.online/@Gargron/{STATUS_ID}"
    assert post.url == expected
    assert provider_for_url(url) == post


@pytest.mark.parametrize(
    "url",
    [
        "https://mastodon.social/@Gargron",
        "https://mastodon.social/@Gargron/with_replies",
        f"https://mastodon.social/@Gargron/{STATUS_ID}/reblogs",
        "https://mastodon.social/embed.js",
        # A status-shaped URL on a host that is not a known instance is not claimed without embed markup.
        f"https://fosstodon.org/@alice/{STATUS_ID}",
        f"https://medium.com/@alice/{STATUS_ID}",
        "https://example.com/@user/123",
        f"https://example.com/@user/{STATUS_ID}/embedded",
        f"mastodon.social/@Gargron/{STATUS_ID}",  # no scheme: not a URL of an embed
    ],
)
def test_urls_that_are_not_claimed(url: str) -> None:
    assert provider_named("mastodon").parse_url(url) is None


def test_declarations() -> None:
    mastodon = provider_named("mastodon")
    assert mastodon.endpoints == {}  # per instance: https://HOST/api/oembed
    assert mastodon.default_rate == "60/m"


def test_synthetic_official_iframe_on_any_instance() -> None:
    text = page(iframe())
    (ref,) = posts(text)
    assert (ref.post_id, ref.url, ref.markup) == (
        f"fosstodon.org/{STATUS_ID}",
        f"https://fosstodon.org/@alice/{STATUS_ID}",
        MarkupKind.IFRAME,
    )


def test_synthetic_blockquote_of_mastodon_4_3_with_its_loader() -> None:
    text = page(blockquote())
    (ref,) = posts(text)
    assert (ref.post_id, ref.markup, ref.handle) == (
        f"hachyderm.io/{STATUS_ID}",
        MarkupKind.BLOCKQUOTE,
        "bob@hachyderm.io",
    )
    assert ref.span is not None
    unit = text.encode()[ref.span.start : ref.span.end].decode()
    assert unit.startswith('<blockquote class="mastodon-embed"') and unit.endswith("</script>")


def test_synthetic_blockquote_without_data_embed_url_reads_its_link() -> None:
    (ref,) = posts(
        page(blockquote().replace(f'data-embed-url="https://hachyderm.io/@bob/{STATUS_ID}/embed"', ""))
    )
    assert ref.post_id == f"hachyderm.io/{STATUS_ID}"


def test_synthetic_bare_url_on_a_known_instance() -> None:
    (ref,) = posts(page(f"<p>https://mastodon.social/@Gargron/{STATUS_ID}</p>"))
    assert (ref.post_id, ref.markup) == (f"mastodon.social/{STATUS_ID}", MarkupKind.BARE_URL)


@pytest.mark.parametrize(
    "text",
    [
        f"<p>https://fosstodon.org/@alice/{STATUS_ID}</p>",  # unknown host, no embed markup: not claimed
        f'<p>As <a href="https://mastodon.social/@Gargron/{STATUS_ID}">Eugen wrote</a>, it works.</p>',
        '<a rel="me" href="https://mastodon.social/@Gargron">Mastodon</a>',
        f'<iframe src="https://fosstodon.org/@alice/{STATUS_ID}"></iframe>',
        # No Mastodon markup anywhere on the page: an /embed path alone is not enough.
        f'<iframe src="https://example.com/@alice/{STATUS_ID}/embed"></iframe>',
        '<div class="mastodon-embed"><a href="https://fosstodon.org/@alice">@alice</a></div>',
    ],
)
def test_synthetic_not_embeds(text: str) -> None:
    assert posts(page(text)) == []


@pytest.mark.parametrize(
    "text",
    [
        '<blockquote class="mastodon-embed" data-embed-url="https://'
        + "a" * 100_000
        + '/@x/1/embed"></blockquote>',
        '<blockquote class="mastodon-embed" data-embed-url="https://@/@/1/embed"></blockquote>',
        '<iframe class="mastodon-embed" src="https://[::1]/@x/1/embed"></iframe>',
    ],
)
def test_odd_markup_never_raises(text: str) -> None:
    posts(page(text))
