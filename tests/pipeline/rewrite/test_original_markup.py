"""The original embed markup of a recovered post, reduced to the provider's own markup before it is put
back (`archiver.pipeline.rewrite.original`), and verified in place like a card (`targets`, `verify`)."""

from __future__ import annotations

import hashlib

import pytest

from archiver.pipeline.rewrite import Target, rewrite_bytes
from archiver.pipeline.rewrite.fallback import CardData, CardRenderer
from archiver.pipeline.rewrite.original import embed_unit
from archiver.providers import PROVIDERS
from archiver.records import Article, Span

INSTAGRAM = next(p for p in PROVIDERS if p.name == "instagram")
TWITTER = next(p for p in PROVIDERS if p.name == "twitter")
PERMALINK = "https://www.instagram.com/p/CSynthDrv01/?utm_source=ig_embed&amp;utm_campaign=loading"
EMBED = (
    f'<blockquote class="instagram-media" data-instgrm-captioned data-instgrm-permalink="{PERMALINK}" '
    f'data-instgrm-version="12"><div style="padding:8px;"><p style="margin:8px 0 0 0;">'
    f'<a href="{PERMALINK}" target="_blank">My new driving instructor</a></p>'
    '<p>A post shared by <a href="https://www.instagram.com/wellhayley/" target="_blank">Hayley Atwell</a> '
    '(@wellhayley) on <time datetime="2020-10-02T18:04:11+00:00">2020-10-02</time></p></div></blockquote>'
)
LOADER = '<script async src="//www.instagram.com/embed.js"></script>'
WAYBACK = "https://web.archive.org/web/20201005081500"
NO_EMBED = "the archived unit holds no <blockquote> or <iframe> of the provider"


def test_the_providers_own_markup_is_kept_as_it_was_written() -> None:
    unit = embed_unit(EMBED + "\n" + LOADER, INSTAGRAM)
    assert (unit.markup, unit.reason, unit.stripped) == (EMBED + "\n" + LOADER, "", ())


def test_wrappers_comments_and_archive_rewriting_are_stripped() -> None:
    # A Gutenberg figure around the unit, a Wayback toolbar marker, and URLs the archive rewrote, both
    # absolute (web.archive.org, with a js_ modifier) and relative to the archive (/web/...).
    archived = (
        '<!-- wp:embed {"url":"x"} --><figure class="wp-block-embed"><div class="wp-block-embed__wrapper">'
        "<!-- BEGIN WAYBACK TOOLBAR INSERT --><!-- END WAYBACK TOOLBAR INSERT -->\n"
        + EMBED.replace(f'href="{PERMALINK}"', f'href="/web/20201005081500/{PERMALINK}"')
        + "\n"
        + LOADER.replace("//www.instagram.com/embed.js", f"{WAYBACK}js_/https://www.instagram.com/embed.js")
        + "\n</div></figure><!-- /wp:embed -->"
    )
    unit = embed_unit(archived, INSTAGRAM)
    assert unit.markup == (EMBED + '\n<script async src="https://www.instagram.com/embed.js"></script>'), (
        unit.reason
    )
    assert unit.stripped == (
        "a comment",
        "the <figure> around the embed",
        "the <div> around the embed",
        "an archive URL in href turned back into "
        "https://www.instagram.com/p/CSynthDrv01/?utm_source=ig_embed&utm_campaign=loading",
        "an archive URL in src turned back into https://www.instagram.com/embed.js",
    )
    assert "archive.org" not in unit.markup and "/web/" not in unit.markup


def test_a_url_of_the_configured_archive_is_turned_back_and_one_wrapping_nothing_refused() -> None:
    base = "http://127.0.0.1:8901/local"
    rewritten = EMBED.replace(
        f'data-instgrm-permalink="{PERMALINK}"',
        f'data-instgrm-permalink="{base}/20201005081500mp_/{PERMALINK}"',
    )
    unit = embed_unit(rewritten + LOADER, INSTAGRAM, [base])
    assert unit.markup is not None and base not in unit.markup, unit.reason
    assert PERMALINK in unit.markup
    opaque = EMBED.replace(f'href="{PERMALINK}"', f'href="{base}/20201005081500/about:blank"')
    assert embed_unit(opaque, INSTAGRAM, [base]).reason == (
        "<a href> is an archive URL whose original cannot be read"
    )
    still = EMBED.replace(f'href="{PERMALINK}"', 'href="https://web.archive.org/details/something"')
    assert embed_unit(still, INSTAGRAM).reason == (
        "<a href> points at the archive (web.archive.org), not at the provider"
    )


@pytest.mark.parametrize(
    ("hostile", "reason"),
    [
        (EMBED.replace('<div style="padding:8px;">', '<div style="padding:8px;" onmouseover="x()">'),
         "<div> has an event handler (onmouseover)"),
        (EMBED.replace('href="https://www.instagram.com/wellhayley/"', 'href="javascript:alert(1)"'),
         "<a href> is a javascript: URL"),
        (EMBED + LOADER + "<script>document.cookie</script>",
         "the archived unit holds a script that is not the provider's loader"),
        (EMBED + '<script src="https://evil.example/x.js"></script>',
         "the archived unit holds a script that is not the provider's loader"),
        (EMBED.replace("</div></blockquote>", "<script>x()</script></div></blockquote>"),
         "the embed holds a <script> element, not the provider's markup"),
        (EMBED.replace("</div></blockquote>", "<form action=x></form></div></blockquote>"),
         "the embed holds a <form> element, not the provider's markup"),
        (EMBED.replace('style="padding:8px;"', 'style="background:url(https://evil.example/t.gif)"'),
         "<div> has a style that loads or runs something"),
        (EMBED.replace('data-instgrm-version', 'data-archiver-embed="instagram:X" data-instgrm-version'),
         "<blockquote> has our own data-archiver-embed attribute"),
        (EMBED.replace(PERMALINK, "https://evil.example/p/CSynthDrv01/"),
         "<blockquote data-instgrm-permalink> points at evil.example, not at instagram"),
        (EMBED[: -len("</blockquote>")], "the archived <blockquote> is not closed"),
        (EMBED[:-5], "the archived markup ends inside a tag or a comment"),
        ("<p>Nothing of the provider here.</p>" + LOADER, NO_EMBED),
    ],
)  # fmt: skip
def test_hostile_markup_is_refused_with_one_line(hostile: str, reason: str) -> None:
    unit = embed_unit(hostile, INSTAGRAM)
    assert (unit.markup, unit.reason) == (None, reason)


def test_a_tweet_keeps_its_links_and_its_loader() -> None:
    tweet = (
        '<blockquote class="twitter-tweet"><p lang="en" dir="ltr">Hello <a href="https://t.co/abc">'
        'pic.twitter.com/abc</a></p>&mdash; Someone (@someone) <a href="https://twitter.com/someone/'
        'status/20">March 21, 2006</a></blockquote> <script async src="https://platform.twitter.com/'
        'widgets.js" charset="utf-8"></script>'
    )
    unit = embed_unit(tweet, TWITTER)
    assert unit.markup == tweet.replace("</blockquote> <script", "</blockquote>\n<script"), unit.reason


def put_back_into(page: bytes, span: Span, markup: str) -> tuple[bytes, list[str]]:
    article = Article("a.html", "t", page, page.decode(), "utf-8", hashlib.sha256(page).hexdigest())
    card = CardData(
        "instagram", "Instagram", "CSynthDrv01", "https://www.instagram.com/p/CSynthDrv01/", 0, "", "", ""
    )
    target = Target(span, card, None, put_back=True, markup=markup)
    spliced = rewrite_bytes(article, [target], CardRenderer())
    return spliced.after, [reason for _, reason in spliced.refused]


def test_markup_put_back_is_verified_where_it_goes() -> None:
    page = (
        b"<html><body><article><p>Intro.</p><p>A post shared by X (@x)</p><p>End.</p></article></body></html>"
    )
    line = b"<p>A post shared by X (@x)</p>"
    at = page.index(line)
    after, refused = put_back_into(page, Span(at, at + len(line)), EMBED + "\n" + LOADER)
    assert refused == [] and after == page.replace(line, (EMBED + "\n" + LOADER).encode())
    # A blockquote cannot stand inside a paragraph: the parser would close it first. Refused.
    inside = page.index(b"A post shared")
    after, refused = put_back_into(page, Span(inside, inside + len(b"A post shared by X (@x)")), EMBED)
    assert after == page
    assert refused == ["the parser puts the markup under <article>, the unit was under <p>"]
