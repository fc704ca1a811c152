"""Scanning for Instagram embeds: every recorded fixture, and synthetic pages for each form.

Fixtures are real markup cut from saved article pages (see shared/fixtures/providers/SOURCES.md).
Tests whose names contain "synthetic" run on markup written here, for forms no fixture shows.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from archiver.pipeline.scan import scan_article
from archiver.records import Article, EmbedRef, MarkupKind, ScanResult

FIXTURES = Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "providers"
IG = "https://www.instagram.com"


def article(text: str, encoding: str = "utf-8", data: bytes | None = None, key: str = "page") -> Article:
    raw = text.encode(encoding) if data is None else data
    return Article(key, "test", raw, text, encoding, hashlib.sha256(raw).hexdigest())


def scan(text: str, encoding: str = "utf-8") -> ScanResult:
    result = scan_article(article(text, encoding))
    assert result.error is None
    return result


def embeds(text: str) -> list[EmbedRef]:
    return list(scan(text).embeds)


def span_text(page: Article, ref: EmbedRef) -> str:
    assert ref.span is not None, f"no span for {ref}"
    assert 0 <= ref.span.start < ref.span.end <= len(page.data)
    return page.data[ref.span.start : ref.span.end].decode(page.encoding)


_OPEN = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)")


def assert_span_is_unit(page: Article, ref: EmbedRef) -> str:
    """The span is whole markup: a comment pair, an element with its close tag (a blockquote maybe
    with its loader script), a paragraph, or a URL line."""
    text = span_text(page, ref)
    if text.startswith("<!--"):
        assert text.endswith("-->"), text[-80:]
        return text
    opened = _OPEN.match(text)
    if opened is None:
        assert re.fullmatch(r"\s*https?://\S+\s*", text), text
        assert ref.markup is MarkupKind.BARE_URL
        return text
    tag = opened.group(1).lower()
    closes = [f"</{tag}>"]
    if tag == "blockquote":
        closes.append("</script>")  # the loader script belongs to the unit
    if tag == "p":
        closes.append(ref.url or "")  # a paragraph closed implicitly
    assert any(text.lower().rstrip().endswith(close) for close in closes if close), (tag, text[-80:])
    return text


# ---- recorded fixtures ----------------------------------------------------------------------------------
FIXTURE_CASES = {
    "instagram/article-blockquote-minimal-empty.html": dict(
        id="CZbSJqLhYy0", markup="blockquote", starts="<blockquote", ends='embed.js"></script>'
    ),
    "instagram/article-blockquote-v12-captioned-empty-attr.html": dict(
        id="B_fawQoFahE",
        markup="blockquote",
        author="zashay tastas - myndigheten",
        handle="zashay.tastas",
        author_url=f"{IG}/zashay.tastas/",
        published="2020-04-27T09:24:00-07:00",
        caption="Ni kan inte ana vad jag gjorde idag",
        starts="<blockquote",
        ends="</blockquote>",
    ),
    "instagram/article-blockquote-v12.html": dict(
        id="ByxilPNJK3M",
        markup="blockquote",
        author="Spice Girls",
        handle="spicegirls",
        published="2019-06-16T14:30:55+00:00",
        caption=None,
        starts="<blockquote",
        ends="</blockquote>",
    ),
    "instagram/article-blockquote-v14-captioned.html": dict(
        id="Ci22crtrcRL",
        markup="blockquote",
        author="Chateau La Coste",
        handle="chateaulacoste",
        caption=None,  # v14 drops the caption even when data-instgrm-captioned is set
        starts="<blockquote",
        ends='embeds.js"></script>',
    ),
    "instagram/article-blockquote-v14-localized-de-reformatted.html": dict(
        id="CYokA48MWDA",
        markup="blockquote",
        author="Verbündete*r sein",
        handle="verbuendete_r_sein",
        caption=None,
        starts="<blockquote",
        ends="</blockquote>",
    ),
    "instagram/article-blockquote-v7-captioned-localized-de.html": dict(
        id="BalQ2SWFty8",  # no permalink attribute: the id comes from the inner link
        markup="blockquote",
        author="SKEP",
        handle="skep.association",
        published="2017-10-23T07:31:37+00:00",
        caption="What working at SKEP feels like... #skep #ikigai #diversity #inclusion",
        starts="<blockquote",
        ends='embeds.js"></script>',
    ),
    "wordpress/gutenberg-figure-instagram.html": dict(
        id="CZIALixI8FH",
        markup="blockquote",
        author="Adam Ondra",
        handle="adam.ondra",
        starts="<figure",
        ends="</figure>",
    ),
    "wordpress/gutenberg-figure-consent-placeholder-instagram.html": dict(
        id="Cy6H6RGR4aK", markup="div", starts="<figure", ends="</figure>"
    ),
}


@pytest.mark.parametrize("name", sorted(FIXTURE_CASES))
def test_fixture(name: str) -> None:
    expected = FIXTURE_CASES[name]
    data = (FIXTURES / name).read_bytes()
    page = article(data.decode("utf-8"), data=data, key=name)
    result = scan_article(page)
    assert result.error is None
    assert len(result.embeds) == 1, result.embeds
    ref = result.embeds[0]
    assert ref.provider == "instagram"
    assert ref.post_id == expected["id"]
    assert ref.url == f"{IG}/p/{expected['id']}/"
    assert ref.markup.value == expected["markup"]
    for key, field in (("author", "author_name"), ("handle", "handle"), ("author_url", "author_url")):
        if key in expected:
            assert getattr(ref, field) == expected[key], field
    if "published" in expected:
        assert ref.published == expected["published"]
    if "caption" in expected:
        caption = expected["caption"]
        assert (ref.caption is None) if caption is None else (ref.caption or "").startswith(str(caption))
    text = assert_span_is_unit(page, ref)
    assert ref.post_id in text
    assert text.startswith(str(expected["starts"]))
    assert text.endswith(str(expected["ends"]))


def test_every_instagram_fixture_is_covered() -> None:
    names = {
        str(path.relative_to(FIXTURES))
        for pattern in ("instagram/article-*.html", "wordpress/gutenberg-*instagram*.html")
        for path in FIXTURES.glob(pattern)
    }
    assert names == set(FIXTURE_CASES)


@pytest.mark.parametrize(
    "name",
    [
        "wordpress/gutenberg-figure-twitter.html",
        "wordpress/gutenberg-figure-twitter-provider-but-timeline.html",
        "wordpress/gutenberg-figure-youtube.html",
        "wordpress/gutenberg-figure-youtube-older-class-order.html",
        "wordpress/gutenberg-test-fixture-core__embed.html",
    ],
)
def test_other_wordpress_fixtures_hold_no_instagram(name: str) -> None:
    found = embeds((FIXTURES / name).read_text(encoding="utf-8"))
    assert [ref for ref in found if ref.provider == "instagram"] == []


# ---- synthetic: every form ---------------------------------------------------------------------------------
BQ = (
    '<blockquote class="instagram-media" data-instgrm-permalink="{url}" data-instgrm-version="14">'
    '<div><a href="{url}">View this post on Instagram</a></div>'
    '<p><a href="{url}">A post shared by Jane Doe (@jane.doe)</a></p></blockquote>'
)
LOADER = '<script async src="//www.instagram.com/embed.js"></script>'


def page_of(*parts: str) -> str:
    return (
        "<!DOCTYPE html><html><head><title>t</title></head><body><article>\n"
        + "\n".join(parts)
        + ("\n</article></body></html>")
    )


def only(text: str) -> EmbedRef:
    found = embeds(text)
    assert len(found) == 1, found
    return found[0]


def test_synthetic_blockquote_with_loader_script_is_one_unit() -> None:
    text = page_of("<p>Before.</p>", BQ.format(url=f"{IG}/p/ABCDEFGHIJK/") + "\n" + LOADER, "<p>After.</p>")
    page = article(text)
    ref = only(text)
    assert (ref.post_id, ref.markup, ref.author_name, ref.handle) == (
        "ABCDEFGHIJK",
        MarkupKind.BLOCKQUOTE,
        "Jane Doe",
        "jane.doe",
    )
    assert assert_span_is_unit(page, ref).endswith(LOADER)


def test_synthetic_blockquote_class_token_in_any_position() -> None:
    text = page_of(
        '<blockquote class="cmplazyload instagram-media extra" data-cmp-vendor="s30">'
        f'<a href="{IG}/reel/Cq1234567_-/?utm_source=ig_embed">x</a></blockquote>'
    )
    ref = only(text)
    assert (ref.post_id, ref.url) == ("Cq1234567_-", f"{IG}/reel/Cq1234567_-/")


@pytest.mark.parametrize(
    ("src", "url"),
    [
        (f"{IG}/p/ABCDEFGHIJK/embed/captioned/?cr=1&v=14&wp=540", f"{IG}/p/ABCDEFGHIJK/"),
        ("//www.instagram.com/reel/ABCDEFGHIJK/embed", f"{IG}/reel/ABCDEFGHIJK/"),
        ("https://instagram.com/tv/ABCDEFGHIJK/embed/", f"{IG}/tv/ABCDEFGHIJK/"),
    ],
)
def test_synthetic_rendered_iframe(src: str, url: str) -> None:
    text = page_of(
        f'<iframe class="instagram-media instagram-media-rendered" src="{src}" '
        'data-instgrm-payload-id="instagram-media-payload-0"></iframe>'
    )
    page = article(text)
    ref = only(text)
    assert (ref.url, ref.markup) == (url, MarkupKind.IFRAME)
    assert assert_span_is_unit(page, ref).startswith("<iframe")


def test_synthetic_lazy_iframe_data_src() -> None:
    text = page_of(f'<iframe src="about:blank" data-src="{IG}/p/ABCDEFGHIJK/embed"></iframe>')
    assert only(text).post_id == "ABCDEFGHIJK"


def test_synthetic_blockquote_rendered_iframe_and_noscript_copy_are_one_embed() -> None:
    url = f"{IG}/p/ABCDEFGHIJK/"
    text = page_of(
        f'<iframe class="instagram-media instagram-media-rendered" src="{url}embed/captioned/"></iframe>'
        f"{LOADER}<noscript>{BQ.format(url=url)}</noscript>"
    )
    page = article(text)
    ref = only(text)
    assert (ref.post_id, ref.markup, ref.handle) == ("ABCDEFGHIJK", MarkupKind.BLOCKQUOTE, "jane.doe")
    unit = span_text(page, ref)
    assert unit.startswith("<iframe") and unit.endswith("</noscript>")


def test_synthetic_same_post_twice_is_two_embeds() -> None:
    url = f"{IG}/p/ABCDEFGHIJK/"
    text = page_of(BQ.format(url=url), LOADER, "<p>Between.</p>", BQ.format(url=url), LOADER)
    page = article(text)
    found = embeds(text)
    assert [ref.post_id for ref in found] == ["ABCDEFGHIJK", "ABCDEFGHIJK"]
    spans = [ref.span for ref in found]
    assert spans[0] != spans[1]
    for ref in found:
        assert_span_is_unit(page, ref)


def test_synthetic_same_post_back_to_back_is_still_two_embeds() -> None:
    url = f"{IG}/p/ABCDEFGHIJK/"
    text = page_of(BQ.format(url=url) + BQ.format(url=url))
    assert len(embeds(text)) == 2


def test_synthetic_amp_instagram() -> None:
    text = page_of(
        '<amp-instagram data-shortcode="B2m4G6xJKM3" width="1" layout="responsive"></amp-instagram>'
    )
    page = article(text)
    ref = only(text)
    assert (ref.post_id, ref.url, ref.markup) == ("B2m4G6xJKM3", f"{IG}/p/B2m4G6xJKM3/", MarkupKind.AMP)
    assert assert_span_is_unit(page, ref).startswith("<amp-instagram")


def test_synthetic_gutenberg_comment_pair_with_url_content_raw() -> None:
    url = f"{IG}/p/ABCDEFGHIJK/"
    block = (
        f'<!-- wp:embed {{"url":"{url}","type":"rich","providerNameSlug":"instagram"}} -->\n'
        '<figure class="wp-block-embed is-type-rich is-provider-instagram wp-block-embed-instagram">'
        f'<div class="wp-block-embed__wrapper">\n{url}\n</div></figure>\n<!-- /wp:embed -->'
    )
    text = "<p>Intro.</p>\n\n" + block + "\n\n<p>More.</p>"
    page = article(text)
    ref = only(text)
    assert (ref.post_id, ref.markup) == ("ABCDEFGHIJK", MarkupKind.BLOCK_COMMENT)
    assert span_text(page, ref) == block


def test_synthetic_gutenberg_comment_pair_around_rendered_blockquote() -> None:
    url = f"{IG}/p/ABCDEFGHIJK/"
    block = (
        f'<!-- wp:embed {{"url":"{url}","providerNameSlug":"instagram"}} -->\n'
        '<figure class="wp-block-embed-instagram wp-block-embed is-provider-instagram">'
        f'<div class="wp-block-embed__wrapper">{BQ.format(url=url)}{LOADER}</div></figure>\n'
        "<!-- /wp:embed -->"
    )
    page = article(page_of(block))
    ref = only(page.text)
    assert (ref.markup, ref.handle) == (MarkupKind.BLOCK_COMMENT, "jane.doe")
    assert span_text(page, ref) == block


def test_synthetic_old_core_embed_comment_pair() -> None:
    url = f"{IG}/p/ABCDEFGHIJK/"
    block = f'<!-- wp:core-embed/instagram {{"url":"{url}"}} -->\n{url}\n<!-- /wp:core-embed/instagram -->'
    page = article(block)
    ref = only(block)
    assert (ref.markup, span_text(page, ref)) == (MarkupKind.BLOCK_COMMENT, block)


def test_synthetic_gutenberg_figure_without_comments_holding_a_url() -> None:
    url = f"{IG}/tv/ABCDEFGHIJK/"
    figure = (
        '<figure class="wp-block-embed is-provider-instagram">'
        f'<div class="wp-block-embed__wrapper">{url}</div></figure>'
    )
    page = article(page_of(figure))
    ref = only(page.text)
    assert (ref.url, ref.markup) == (url, MarkupKind.BARE_URL)
    assert span_text(page, ref) == figure


def test_synthetic_ckeditor_oembed_tag_and_preview_div() -> None:
    url = f"{IG}/p/ABCDEFGHIJK/"
    figure = f'<figure class="media"><oembed url="{url}"></oembed></figure>'
    page = article(
        page_of(figure, f'<div data-oembed-url="{IG}/p/ZYXWVUTSRQP/"><iframe src="x"></iframe></div>')
    )
    first, second = embeds(page.text)
    assert (first.post_id, first.markup, span_text(page, first)) == (
        "ABCDEFGHIJK",
        MarkupKind.OEMBED_TAG,
        figure,
    )
    assert (second.post_id, second.markup) == ("ZYXWVUTSRQP", MarkupKind.DIV)
    assert span_text(page, second).startswith("<div data-oembed-url")


@pytest.mark.parametrize(
    "block",
    [
        "<p>{url}</p>",
        "<p> {url} </p>",
        '<p><a href="{url}">{url}</a></p>',
        '<p class="x">\n  <a href="{url}" rel="nofollow">{url}</a>\n</p>',
        # What shows nothing is looked past: comments, and the last <br> editors leave in a paragraph.
        "<p>{url}<!-- /embed --></p>",
        "<p><!-- wp:paragraph --> {url} <!-- more --></p>",
        '<p><a href="{url}">{url}</a><!-- x --></p>',
        "<p>{url}<br></p>",
        '<p>{url} <br data-mce-bogus="1"/>\n</p>',
    ],
)
def test_synthetic_bare_url_paragraph(block: str) -> None:
    url = f"{IG}/p/ABCDEFGHIJK/?igshid=abc"
    unit = block.format(url=url)
    page = article(page_of("<p>Text before.</p>", unit, "<p>Text after.</p>"))
    ref = only(page.text)
    assert (ref.post_id, ref.url, ref.markup) == ("ABCDEFGHIJK", f"{IG}/p/ABCDEFGHIJK/", MarkupKind.BARE_URL)
    assert span_text(page, ref) == unit


def test_synthetic_bare_url_on_its_own_line() -> None:
    url = "https://instagr.am/p/ABCDEFGHIJK/"
    text = f"Some text of the post.\n\n{url}\n\nMore text."
    page = article(text)
    ref = only(text)
    assert (ref.url, ref.markup, span_text(page, ref)) == (f"{IG}/p/ABCDEFGHIJK/", MarkupKind.BARE_URL, url)


@pytest.mark.parametrize(
    "text",
    [
        "<p>Look at <a href='{url}'>this post</a> by Jane.</p>",  # a link in running text
        "<p>See {url} for more.</p>",  # a URL with words around it
        "<p><a href='{url}'>{url}</a> was deleted later.</p>",
        "<p><a href='{url}'>View this post</a></p>",  # a lone link whose text is not the URL
        "<p>{url}<br>More text after a line break.</p>",  # one line of a paragraph
        "<p>Sources:<br>{url}<br></p>",
        "<ul><li><a href='{url}'><img src='x.jpg' alt=''></a></li></ul>",  # a feed widget
    ],
)
def test_synthetic_links_are_not_embeds(text: str) -> None:
    assert embeds(page_of(text.format(url=f"{IG}/p/ABCDEFGHIJK/"))) == []


@pytest.mark.parametrize(
    "url",
    [
        f"{IG}/spicegirls/",
        f"{IG}/explore/tags/halloween/",
        f"{IG}/stories/spicegirls/3141592653589793238/",
        f"{IG}/share/p/ABCDEFGHIJK/",
        f"{IG}/reels/audio/1234567890123456/",
    ],
)
def test_synthetic_non_post_urls_are_not_embeds(url: str) -> None:
    text = page_of(f"<p>{url}</p>", f'<iframe src="{url}"></iframe>', f'<div data-url="{url}"></div>')
    assert embeds(text) == []


def test_synthetic_follow_buttons_and_chrome() -> None:
    text = page_of(
        '<header><a class="social instagram" href="https://www.instagram.com/brand/">Follow us</a>'
        '<a href="https://instagram.com/brand" class="ig-follow"><i class="icon-instagram"></i></a></header>',
        "<footer><p>Instagram</p><p>https://www.instagram.com/brand/</p></footer>",
    )
    assert embeds(text) == []


def test_synthetic_theme_wrapper_with_instagram_media_class_is_not_an_embed() -> None:
    url = f"{IG}/p/ABCDEFGHIJK/"
    text = page_of(
        '<div class="instagram-media post-template-content"><p>Article text with a '
        f'<a href="{IG}/p/ZZZZZZZZZZZ/">link</a>.</p>{BQ.format(url=url)}</div>'
    )
    assert [ref.post_id for ref in embeds(text)] == ["ABCDEFGHIJK"]


def test_synthetic_json_escaped_copy_in_script_is_not_counted_again() -> None:
    url = f"{IG}/p/ABCDEFGHIJK/"
    escaped = BQ.format(url=url.replace("/", "\\/")).replace('"', '\\"')
    text = page_of(
        BQ.format(url=url),
        LOADER,
        f'<script>window.__STATE__ = {{"body": "{escaped}", "url": "{url}"}};</script>',
    )
    assert [ref.post_id for ref in embeds(text)] == ["ABCDEFGHIJK"]


def test_synthetic_consent_placeholder_with_data_feed_and_noscript_link() -> None:
    url = f"{IG}/p/ABCDEFGHIJK/"
    unit = (
        f'<div id="e1" class="js-socialembed instagram" data-feed="{url}">'
        f'<noscript><a href="{url}">{url}</a></noscript></div>'
    )
    page = article(page_of(unit))
    ref = only(page.text)
    assert (ref.post_id, ref.markup, span_text(page, ref)) == ("ABCDEFGHIJK", MarkupKind.DIV, unit)


# ---- synthetic: script data behind URL-less consent placeholders -------------------------------------------
PLACEHOLDER = (
    '<div class="social-embed" data-usercentrics-service-id="x"><div><h3>Empfohlener Inhalt</h3>'
    "<p>An dieser Stelle findet Ihr einen externen Inhalt von <b>Instagram</b>.</p>"
    '<label><input type="checkbox"></label></div></div>'
)


def nuxt(*urls: str) -> str:
    items = ",".join(f'{{"provider":"Instagram","url":"{url}"}}' for url in urls)
    return f"<script>window.__NUXT__={{embeds:[{items}],related:[]}}</script>"


def test_synthetic_url_less_placeholders_resolved_in_order_from_script_data() -> None:
    a, b = f"{IG}/p/AAAAAAAAAAA/?utm_source=ig_web_copy_link", f"{IG}/p/BBBBBBBBBBB/"
    page = article(page_of("<p>One.</p>", PLACEHOLDER, "<p>Two.</p>", PLACEHOLDER, nuxt(a, b)))
    found = embeds(page.text)
    assert [(ref.post_id, ref.markup) for ref in found] == [
        ("AAAAAAAAAAA", MarkupKind.SCRIPT),
        ("BBBBBBBBBBB", MarkupKind.SCRIPT),
    ]
    for ref in found:
        assert span_text(page, ref).startswith('<div class="social-embed"')


def test_synthetic_script_data_without_placeholder_is_not_an_embed() -> None:
    related = nuxt(f"{IG}/p/AAAAAAAAAAA/", f"{IG}/p/BBBBBBBBBBB/")
    assert embeds(page_of("<p>Text about Instagram.</p>", related)) == []


def test_synthetic_script_data_already_in_the_dom_is_not_assigned_to_placeholders() -> None:
    dom = f"{IG}/p/AAAAAAAAAAA/"
    page = page_of(BQ.format(url=dom), PLACEHOLDER, nuxt(dom, f"{IG}/p/BBBBBBBBBBB/"))
    assert [(ref.post_id, ref.markup.value) for ref in embeds(page)] == [
        ("AAAAAAAAAAA", "blockquote"),
        ("BBBBBBBBBBB", "script"),
    ]


# ---- synthetic: residue ------------------------------------------------------------------------------------
def test_synthetic_residue_hayley_atwell() -> None:
    """The DESIGN.md example: the embed's text left with no link and no blockquote."""
    unit = "<p>A post shared by Hayley Atwell (@wellhayley)</p>"
    page = article(page_of("<p>She posted a picture.</p>", unit, "<p>Then more text.</p>"))
    ref = only(page.text)
    assert ref == EmbedRef(
        provider="instagram",
        post_id=None,
        url=None,
        markup=MarkupKind.RESIDUE,
        span=ref.span,
        author_name="Hayley Atwell",
        handle="wellhayley",
    )
    assert span_text(page, ref) == unit
    assert ref.to_json() == {
        "provider": "instagram",
        "id": None,
        "url": None,
        "markup": "residue",
        "author": "Hayley Atwell",
        "handle": "wellhayley",
        "date": None,
        "span": [ref.span.start, ref.span.end] if ref.span else None,
    }


@pytest.mark.parametrize(
    ("line", "author", "handle", "published"),
    [
        (
            "A post shared by Jane Doe (@jane.doe) on Apr 27, 2020 at 9:24am PDT",
            "Jane Doe",
            "jane.doe",
            "2020-04-27T09:24:00-07:00",
        ),
        (
            "Ein Beitrag geteilt von SKEP (@skep.association) am 23. Okt 2017 um 0:31 Uhr",
            "SKEP",
            "skep.association",
            "2017-10-23",
        ),
        (
            "Une publication partagée par Marie (@marie_p) le 12 janv. 2018 à 10:26 PST",
            "Marie",
            "marie_p",
            "2018-01-12T10:26:00-08:00",
        ),
        (
            "Una publicación compartida de Ana (@ana) el 3 de mayo de 2019 a las 8:00 PDT",
            "Ana",
            "ana",
            "2019-05-03T08:00:00-07:00",
        ),
        ("Una publicación compartida por Ana (@ana)", "Ana", "ana", None),
        (
            "Un post condiviso da Luca (@luca.r) in data: 5 Giu 2019 alle ore 10:26 PDT",
            "Luca",
            "luca.r",
            "2019-06-05T10:26:00-07:00",
        ),
        (
            "Uma publicação compartilhada por João (@joao) em 7 de Out de 2019 às 5:14 PDT",
            "João",
            "joao",
            "2019-10-07T05:14:00-07:00",
        ),
        (
            "Een bericht gedeeld door Sanne (@sanne) op 1 mrt 2020 om 13:05 PST",
            "Sanne",
            "sanne",
            "2020-03-01T13:05:00-08:00",
        ),
        (
            "A photo posted by Old Account (@old) on Jan 2, 2016 at 1:00pm PST",
            "Old Account",
            "old",
            "2016-01-02T13:00:00-08:00",
        ),
        (
            "Ein Beitrag geteilt von Benjamin Näßler (he/him) (@3ensta)",  # as in the corpus
            "Benjamin Näßler (he/him)",
            "3ensta",
            None,
        ),
    ],
)
def test_synthetic_residue_localised(line: str, author: str, handle: str, published: str | None) -> None:
    ref = only(page_of("<p>Text.</p>", f"<p>{line}</p>"))
    assert (ref.markup, ref.author_name, ref.handle, ref.published) == (
        MarkupKind.RESIDUE,
        author,
        handle,
        published,
    )


def test_synthetic_residue_with_time_element_and_profile_link() -> None:
    unit = (
        '<p>A post shared by <a href="https://www.instagram.com/jane.doe/">Jane Doe</a> (@jane.doe) on '
        '<time datetime="2019-06-16T14:30:55+00:00">Jun 16, 2019</time></p>'
    )
    ref = only(page_of(unit))
    assert (ref.markup, ref.author_name, ref.handle, ref.published) == (
        MarkupKind.RESIDUE,
        "Jane Doe",
        "jane.doe",
        "2019-06-16T14:30:55+00:00",  # <time datetime> beats the words
    )


def test_synthetic_stripped_blockquote_with_post_link_is_a_link_embed() -> None:
    unit = (
        "<blockquote><p>My caption</p>"
        f'<p><a href="{IG}/p/ABCDEFGHIJK/">A post shared by Jane Doe (@jane.doe)</a></p></blockquote>'
    )
    page = article(page_of(unit))
    ref = only(page.text)
    assert (ref.post_id, ref.markup, ref.handle) == ("ABCDEFGHIJK", MarkupKind.LINK, "jane.doe")
    assert span_text(page, ref) == unit


def test_synthetic_text_inside_a_real_embed_is_not_residue() -> None:
    text = page_of(BQ.format(url=f"{IG}/p/ABCDEFGHIJK/"))
    assert [ref.markup for ref in embeds(text)] == [MarkupKind.BLOCKQUOTE]


def test_synthetic_lower_case_prose_is_not_residue() -> None:
    assert embeds(page_of("<p>This was a post shared by my aunt (@aunt) last week.</p>")) == []


def test_synthetic_residue_in_script_is_not_residue() -> None:
    text = page_of('<script>var body = "A post shared by Jane Doe (@jane.doe)";</script>')
    assert embeds(text) == []


# ---- byte spans in other encodings ------------------------------------------------------------------------
@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp1252", "iso-8859-1", "shift_jis", "utf-16"])
def test_synthetic_spans_are_byte_offsets_in_the_articles_encoding(encoding: str) -> None:
    prefix = {"shift_jis": "日本語の記事です。", "iso-8859-1": "Ünïcödé ärticle "}.get(
        encoding, "Ünïcödé ärticle – "
    )
    text = page_of(f"<p>{prefix * 20}</p>", BQ.format(url=f"{IG}/p/ABCDEFGHIJK/"), f"<p>{prefix}</p>")
    raw = text.encode(encoding)
    decoded = raw.decode(encoding)
    page = Article("p", "t", raw, decoded, encoding, "")
    ref = only_in(page)
    unit = raw[ref.span.start : ref.span.end].decode(encoding) if ref.span else ""
    assert unit.startswith("<blockquote") and unit.endswith("</blockquote>")


def test_synthetic_spans_with_a_bom_stripped_from_the_text() -> None:
    text = page_of("<p>é</p>", BQ.format(url=f"{IG}/p/ABCDEFGHIJK/"))
    raw = b"\xef\xbb\xbf" + text.encode("utf-8")
    page = Article("p", "t", raw, text, "utf-8", "")
    ref = only_in(page)
    assert ref.span is not None and raw[ref.span.start : ref.span.end].startswith(b"<blockquote")


def test_synthetic_spans_of_a_text_decoded_with_replacements() -> None:
    raw = page_of("<p>bad \x00</p>", BQ.format(url=f"{IG}/p/ABCDEFGHIJK/")).encode("utf-8")
    raw = raw.replace(b"\x00", b"\xff\xfe\xc3")
    page = Article("p", "t", raw, raw.decode("utf-8", "replace"), "utf-8", "")
    ref = only_in(page)
    assert ref.span is not None and raw[ref.span.start : ref.span.end].startswith(b"<blockquote")


def only_in(page: Article) -> EmbedRef:
    result = scan_article(page)
    assert result.error is None and len(result.embeds) == 1, result
    return result.embeds[0]


def test_synthetic_attribution_inside_a_figure_unit_is_not_residue() -> None:
    """The figure holds the blockquote and, after it, a paragraph repeating its attribution."""
    url = f"{IG}/p/ABCDEFGHIJK/"
    figure = (
        '<figure class="wp-block-embed"><div class="wp-block-embed__wrapper">'
        f"{BQ.format(url=url)}{LOADER}<p>A post shared by Jane Doe (@jane.doe)</p></div></figure>"
    )
    assert [ref.markup for ref in embeds(page_of(figure))] == [MarkupKind.BLOCKQUOTE]
