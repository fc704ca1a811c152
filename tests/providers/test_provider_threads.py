"""Threads detection: post URLs on threads.com and threads.net, the embed blockquote, generic forms.

The corpus and the fixtures hold no real page with a Threads embed: every test here is synthetic, written
from the embed code documented in reference/providers.md section 6.
"""

from __future__ import annotations

import hashlib

import pytest

from archiver.pipeline.scan import scan_article
from archiver.providers import provider_for_url, provider_named
from archiver.records import Article, EmbedRef, MarkupKind

CODE = "C8XyZ_abc12"
PERMALINK = f"https://www.threads.com/@zuck/post/{CODE}"


def article(text: str) -> Article:
    data = text.encode("utf-8")
    return Article("page", "test", data, text, "utf-8", hashlib.sha256(data).hexdigest())


def posts(text: str) -> list[EmbedRef]:
    result = scan_article(article(text))
    assert result.error is None, result.error
    return [ref for ref in result.embeds if ref.provider == "threads"]


def page(*parts: str) -> str:
    return "<html><body><article><p>Intro.</p>" + "".join(parts) + "<p>More.</p></article></body></html>"


def embed(permalink: str = PERMALINK, domain: str = "threads.com") -> str:
    return (
        f'<blockquote class="text-post-media" data-text-post-permalink="{permalink}" '
        'data-text-post-version="0" '
        f'id="ig-tp-{CODE}" style="background:#FFF; border-radius:16px; max-width:650px;">'
        f'<a href="{permalink}" style="display:flex;" target="_blank"><div><svg></svg></div>'
        "<div>Post by @zuck</div><div>View on Threads</div></a></blockquote>"
        f'<script async src="https://www.{domain}/embed.js"></script>'
    )


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        (PERMALINK, PERMALINK),
        (f"https://www.threads.net/@zuck/post/{CODE}?xmt=AQGz", PERMALINK),
        (f"https://threads.net/@zuck/post/{CODE}/", PERMALINK),
        (f"https://www.threads.net/@zuck/post/{CODE}/embed/", PERMALINK),
        (f"https://www.threads.com/@zuck/post/{CODE}/media", PERMALINK),
        (f"https://www.threads.com/t/{CODE}", f"https://www.threads.com/t/{CODE}"),
        (f"//www.threads.net/t/{CODE}/", f"https://www.threads.com/t/{CODE}"),
    ],
)
def test_post_url_forms(url: str, canonical: str) -> None:
    post = provider_named("threads").parse_url(url)
    assert post is not None, url
    assert (post.provider, post.post_id, post.url) == ("threads", CODE, canonical)
    assert provider_for_url(url) == post


@pytest.mark.parametrize(
    "url",
    [
        "https://www.threads.com/@zuck",
        "https://www.threads.net/@zuck/",
        "https://www.threads.com/@zuck/post/",
        "https://www.threads.com/@zuck/post/abc",
        "https://www.threads.com/@zuck/post/C8XyZ_abc12/replies",
        "https://www.threads.com/embed.js",
        "https://www.threads.com/search?q=cats",
        "https://notthreads.net/@zuck/post/C8XyZ_abc12",
        "https://example.com/threads.net/@zuck/post/C8XyZ_abc12",
    ],
)
def test_urls_that_are_not_posts(url: str) -> None:
    assert provider_named("threads").parse_url(url) is None


def test_declarations() -> None:
    threads = provider_named("threads")
    assert dict(threads.endpoints) == {"oembed_endpoint": "https://graph.threads.net/v1.0/oembed"}
    assert threads.default_rate == "1000/h"


@pytest.mark.parametrize("domain", ["threads.com", "threads.net"])
def test_synthetic_blockquote_with_loader_is_one_unit(domain: str) -> None:
    permalink = PERMALINK.replace("threads.com", domain)
    text = page(embed(permalink, domain))
    (ref,) = posts(text)
    assert (ref.post_id, ref.url, ref.markup, ref.handle) == (CODE, PERMALINK, MarkupKind.BLOCKQUOTE, "zuck")
    assert ref.span is not None
    unit = text.encode()[ref.span.start : ref.span.end].decode()
    assert unit.startswith('<blockquote class="text-post-media"') and unit.endswith("</script>")


def test_synthetic_blockquote_without_permalink_attribute() -> None:
    (ref,) = posts(page(embed().replace(f' data-text-post-permalink="{PERMALINK}"', "")))
    assert (ref.post_id, ref.markup) == (CODE, MarkupKind.BLOCKQUOTE)


def test_synthetic_iframe_bare_url_and_block() -> None:
    (iframe,) = posts(page(f'<iframe src="https://www.threads.net/@zuck/post/{CODE}/embed/"></iframe>'))
    assert (iframe.post_id, iframe.markup) == (CODE, MarkupKind.IFRAME)
    (bare,) = posts(page(f"<p>{PERMALINK}</p>"))
    assert (bare.post_id, bare.markup) == (CODE, MarkupKind.BARE_URL)
    (oembed,) = posts(page(f'<figure class="media"><oembed url="{PERMALINK}"></oembed></figure>'))
    assert (oembed.post_id, oembed.markup) == (CODE, MarkupKind.OEMBED_TAG)


def test_synthetic_same_post_twice_is_two_embeds() -> None:
    assert [ref.post_id for ref in posts(page(embed(), "<p>Again:</p>", embed()))] == [CODE, CODE]


@pytest.mark.parametrize(
    "text",
    [
        f'<p>As <a href="{PERMALINK}">Zuckerberg posted</a>, threads grow.</p>',
        '<a href="https://www.threads.net/@zuck">Follow on Threads</a>',
        '<script async src="https://www.threads.com/embed.js"></script>',
        "<p>Three threads. Many threads.net users.</p>",
    ],
)
def test_synthetic_not_embeds(text: str) -> None:
    assert posts(page(text)) == []


@pytest.mark.parametrize(
    "text",
    [
        '<blockquote class="text-post-media" data-text-post-permalink="' + "x" * 100_000 + '"></blockquote>',
        '<blockquote class="text-post-media" data-text-post-permalink></blockquote>',
    ],
)
def test_odd_markup_never_raises(text: str) -> None:
    assert posts(page(text)) == []
