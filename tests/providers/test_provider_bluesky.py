"""Bluesky detection: post URLs and AT-URIs, the embed blockquote and iframe, residue.

The corpus holds no real page with a Bluesky embed. The one recorded snippet is
`bluesky/article-blockquote-bluesky-embed-ja.html` (as published in a blog article, reformatted by its
author); every test whose name contains "synthetic" runs on markup written here from
reference/providers.md section 7.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from archiver.pipeline.scan import scan_article
from archiver.providers import provider_for_url, provider_named
from archiver.records import Article, EmbedRef, MarkupKind

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "providers"
DID = "did:plc:tjf4apt65s75xiojhiqzvcan"
RKEY = "3kqmooj3ems2w"
POST_ID = f"{DID}/{RKEY}"
CANONICAL = f"https://bsky.app/profile/{DID}/post/{RKEY}"


def article(text: str) -> Article:
    data = text.encode("utf-8")
    return Article("page", "test", data, text, "utf-8", hashlib.sha256(data).hexdigest())


def posts(text: str) -> list[EmbedRef]:
    result = scan_article(article(text))
    assert result.error is None, result.error
    return [ref for ref in result.embeds if ref.provider == "bluesky"]


def page(*parts: str) -> str:
    return "<html><body><article><p>Intro.</p>" + "".join(parts) + "<p>More.</p></article></body></html>"


def embed(uri: str = f"at://{DID}/app.bsky.feed.post/{RKEY}", links: bool = True) -> str:
    post_link = (
        f'<a href="{CANONICAL}?ref_src=embed">Apr 21, 2024 at 15:09</a>' if links else "Apr 21, 2024 at 15:09"
    )
    return (
        f'<blockquote class="bluesky-embed" data-bluesky-uri="{uri}" '
        'data-bluesky-cid="bafyreicfbeae3zz7fjqw">'
        '<p lang="en">Hello from the skies</p>&mdash; Jane Doe (<a href="https://bsky.app/profile/'
        f'{DID}?ref_src=embed">@jane.bsky.social</a>) {post_link}</blockquote>'
        '<script async src="https://embed.bsky.app/static/embed.js" charset="utf-8"></script>'
    )


@pytest.mark.parametrize(
    ("url", "post_id", "canonical"),
    [
        (CANONICAL, POST_ID, CANONICAL),
        (f"{CANONICAL}?ref_src=embed", POST_ID, CANONICAL),
        (f"https://bsky.app/profile/{DID.replace(':', '%3A')}/post/{RKEY}", POST_ID, CANONICAL),
        (f"at://{DID}/app.bsky.feed.post/{RKEY}", POST_ID, CANONICAL),
        (f"https://embed.bsky.app/embed/{DID}/app.bsky.feed.post/{RKEY}", POST_ID, CANONICAL),
        (
            "https://bsky.app/profile/Attakei.DEV/post/3kqmooj3ems2w",
            "attakei.dev/3kqmooj3ems2w",
            "https://bsky.app/profile/attakei.dev/post/3kqmooj3ems2w",
        ),
        (
            "https://bsky.app/profile/did:web:example.com/post/3kqmooj3ems2w/",
            "did:web:example.com/3kqmooj3ems2w",
            "https://bsky.app/profile/did:web:example.com/post/3kqmooj3ems2w",
        ),
    ],
)
def test_post_url_forms(url: str, post_id: str, canonical: str) -> None:
    post = provider_named("bluesky").parse_url(url)
    assert post is not None, url
    assert (post.provider, post.post_id, post.url) == ("bluesky", post_id, canonical)
    assert provider_for_url(url) == post


@pytest.mark.parametrize(
    "url",
    [
        "https://bsky.app/profile/attakei.dev",
        f"https://bsky.app/profile/{DID}",
        "https://bsky.app/profile/attakei.dev/feed/whats-hot",
        "https://bsky.app/profile/attakei.dev/post/",
        "https://bsky.app/profile/attakei/post/3kqmooj3ems2w",  # a handle is a domain name
        f"at://{DID}/app.bsky.feed.like/{RKEY}",
        "https://embed.bsky.app/static/embed.js",
        "https://notbsky.app/profile/attakei.dev/post/3kqmooj3ems2w",
        "x" * 10_000,
    ],
)
def test_urls_that_are_not_posts(url: str) -> None:
    assert provider_named("bluesky").parse_url(url) is None


def test_declarations() -> None:
    assert dict(provider_named("bluesky").endpoints)["oembed_endpoint"] == "https://embed.bsky.app/oembed"


def test_fixture_blockquote() -> None:
    text = (FIXTURES / "bluesky/article-blockquote-bluesky-embed-ja.html").read_text(encoding="utf-8")
    (ref,) = posts(text)
    assert (ref.post_id, ref.url, ref.markup) == (POST_ID, CANONICAL, MarkupKind.BLOCKQUOTE)
    assert (ref.author_name, ref.handle, ref.published) == ("kAZUYA kAKEI", "attakei.dev", "2024-04-21")
    assert ref.caption is not None and ref.caption.startswith("今日の #sphinxjp 1個目。")
    assert "[image or embed]" not in ref.caption
    assert ref.span is not None
    unit = text.encode()[ref.span.start : ref.span.end].decode()
    assert unit.startswith("<blockquote") and unit.endswith("</script>")


def test_synthetic_blockquote_and_loader_are_one_unit() -> None:
    text = page(embed())
    (ref,) = posts(text)
    assert (ref.post_id, ref.markup, ref.handle) == (POST_ID, MarkupKind.BLOCKQUOTE, "jane.bsky.social")
    assert ref.span is not None and text.encode()[ref.span.end - 9 : ref.span.end] == b"</script>"


def test_synthetic_blockquote_whose_links_were_stripped_keeps_its_at_uri() -> None:
    (ref,) = posts(page(embed(links=False).replace('<a href="https://bsky.app/profile/', '<span data-x="')))
    assert (ref.post_id, ref.markup) == (POST_ID, MarkupKind.BLOCKQUOTE)


def test_synthetic_iframe() -> None:
    text = page(
        f'<iframe src="https://embed.bsky.app/embed/{DID}/app.bsky.feed.post/{RKEY}" width="550"></iframe>'
    )
    (ref,) = posts(text)
    assert (ref.post_id, ref.markup) == (POST_ID, MarkupKind.IFRAME)


def test_synthetic_bare_url_and_gutenberg_block() -> None:
    (bare,) = posts(page(f"<p>{CANONICAL}</p>"))
    assert (bare.post_id, bare.markup) == (POST_ID, MarkupKind.BARE_URL)
    block = (
        f'<!-- wp:embed {{"url":"{CANONICAL}","type":"rich","providerNameSlug":"bluesky-social"}} -->\n'
        '<figure class="wp-block-embed"><div class="wp-block-embed__wrapper">'
        f"\n{CANONICAL}\n</div></figure>\n"
        "<!-- /wp:embed -->"
    )
    (ref,) = posts(page(block))
    assert (ref.post_id, ref.markup) == (POST_ID, MarkupKind.BLOCK_COMMENT)


def test_synthetic_residue() -> None:
    text = page(
        "<blockquote><p>Hello from the skies</p>"
        "&mdash; Jane Doe (@jane.bsky.social) Apr 21, 2024 at 15:09</blockquote>"
    )
    (ref,) = posts(text)
    assert (ref.markup, ref.post_id, ref.author_name, ref.handle, ref.published) == (
        MarkupKind.RESIDUE,
        None,
        "Jane Doe",
        "jane.bsky.social",
        "2024-04-21",
    )


def test_synthetic_residue_without_date() -> None:
    (ref,) = posts(page("<p>&mdash; Jane Doe (@jane.example.com)</p>"))
    assert (ref.markup, ref.handle, ref.published) == (MarkupKind.RESIDUE, "jane.example.com", None)


@pytest.mark.parametrize(
    "text",
    [
        "<p>&mdash; Elon Musk (@elonmusk) November 4, 2023</p>",  # a tweet's (no dot in the handle)
        "<p>— Jane Doe (@jane.bsky.social) will speak on Monday</p>",
        "<p>Follow Jane Doe (@jane.bsky.social) on Bluesky.</p>",
        f'<p>As <a href="{CANONICAL}">she posted</a>, it works.</p>',
        '<a href="https://bsky.app/profile/jane.bsky.social">Follow us on Bluesky</a>',
        '<script async src="https://embed.bsky.app/static/embed.js"></script>',
    ],
)
def test_synthetic_not_embeds(text: str) -> None:
    assert posts(page(text)) == []


@pytest.mark.parametrize(
    "text",
    [
        '<blockquote class="bluesky-embed" data-bluesky-uri="at://' + "a" * 100_000 + '"></blockquote>',
        '<blockquote class="bluesky-embed" data-bluesky-uri></blockquote>',
        "<p>— (@.)</p><p>&mdash; x (@a.b.c.d.e.f.g.h" + ".i" * 5000 + ")</p>",
    ],
)
def test_odd_markup_never_raises(text: str) -> None:
    posts(page(text))
