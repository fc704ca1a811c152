"""Facebook detection: URL forms and ids, recorded markup (fixtures, oEmbed html, the dev corpus pages),
and synthetic pages for forms no recording shows (test names say "synthetic")."""

from __future__ import annotations

import pytest

from archiver.providers import provider_for_url, provider_named
from archiver.records import MarkupKind
from tests.support.corpus_scoring import available, expected, found, labels, page_names
from tests.support.embed_scan import assert_unit, embeds, fixture, keys, oembed_html, of, page

FB = "https://www.facebook.com"
facebook = provider_named("facebook")


# ---- URLs ----------------------------------------------------------------------------------------------
ENC = "https%3A%2F%2Fwww.facebook.com%2Fa%2F"  # "https://www.facebook.com/a/", URL-encoded
# (url, id, canonical URL); None: the canonical URL is the URL as written.
URL_FORMS: list[tuple[str, str, str | None]] = [
    (f"{FB}/DwyersOfCork/posts/2800731780195723", "2800731780195723", None),
    ("http://WWW.Facebook.com/Spoe/posts/928812574504508/#x", "928812574504508",
     f"{FB}/Spoe/posts/928812574504508/"),
    (f"{FB}/ch/photos/a.182970021827953/1920722881385983/?type=3&amp;theater", "1920722881385983",
     f"{FB}/ch/photos/a.182970021827953/1920722881385983/"),
    (f"{FB}/unialesznoks/photos/pcb.3485430601537621/3485430308204317", "3485430308204317", None),
    (f"{FB}/CHCoteBasque/posts/1920722881385983:0", "1920722881385983", None),
    (f"{FB}/photo.php?fbid=3348617585198325&set=gm.1675022489341591&type=3", "3348617585198325",
     f"{FB}/photo.php?fbid=3348617585198325"),
    (f"{FB}/permalink.php?story_fbid=1015800000000&id=100044264924472&ref=embed_post", "1015800000000",
     f"{FB}/permalink.php?story_fbid=1015800000000&id=100044264924472"),
    ("https://m.facebook.com/story.php?story_fbid=pfbid0abcDEF123ghiJKL456&id=4", "pfbid0abcDEF123ghiJKL456",
     None),
    (f"{FB}/zuck/posts/pfbid02Kwv3HNcQkYDX1sGh2ZzQw6x?__cft__=abc", "pfbid02Kwv3HNcQkYDX1sGh2ZzQw6x",
     f"{FB}/zuck/posts/pfbid02Kwv3HNcQkYDX1sGh2ZzQw6x"),
    (f"{FB}/osherove/videos/10157895173751223/", "10157895173751223", None),
    (f"{FB}/page/videos/vb.381763475170840/474308113397163/?type=2", "474308113397163",
     f"{FB}/page/videos/vb.381763475170840/474308113397163/"),
    (f"{FB}/video.php?v=474308113397163&set=x", "474308113397163", f"{FB}/video.php?v=474308113397163"),
    (f"{FB}/watch/?v=474308113397163", "474308113397163", None),
    (f"{FB}/video/embed?video_id=474308113397163", "474308113397163", f"{FB}/video.php?v=474308113397163"),
    (f"{FB}/groups/12345678/posts/1675022489341591/", "1675022489341591", None),
    (f"{FB}/plugins/post.php?href={ENC}posts%2F123456789&width=500", "123456789", f"{FB}/a/posts/123456789"),
    (f"//www.facebook.com/v2.5/plugins/video.php?href={ENC}videos%2F987654321%2F", "987654321",
     f"{FB}/a/videos/987654321/"),
]  # fmt: skip


@pytest.mark.parametrize(("url", "post_id", "canonical"), URL_FORMS)
def test_url_forms_and_ids(url: str, post_id: str, canonical: str | None) -> None:
    post = facebook.parse_url(url)
    assert post is not None, url
    assert (post.provider, post.post_id, post.url) == ("facebook", post_id, canonical or url)
    assert provider_for_url(url) == post


@pytest.mark.parametrize(
    "url",
    [
        *facebook.not_examples,
        f"{FB}/",
        f"{FB}/a/posts/",
        f"{FB}/a/posts/abc",
        f"{FB}/a/photos/",
        f"{FB}/watch/",
        f"{FB}/photo.php?fbid=abc",
        f"{FB}/plugins/post.php",
        f"{FB}/plugins/post.php?href=" + "https%3A%2F%2Fwww.facebook.com%2Fplugins%2Fpost.php%3Fhref%3Dx",
        "https://fb.watch/abcDEF/",
        "https://l.facebook.com/l.php?u=https%3A%2F%2Fexample.com",
        "ftp://www.facebook.com/a/posts/123456789",
        "javascript:alert('www.facebook.com/a/posts/123456789')",
        "",
        " " * 10_000,
        "https://www.facebook.com/a/posts/" + "9" * 10_000,
    ],
)
def test_not_posts(url: str) -> None:
    assert facebook.parse_url(url) is None


# ---- recorded markup -----------------------------------------------------------------------------------
def test_fixture_div_fb_post_photo() -> None:
    text = fixture("facebook/article-div-fb-post-photo.html")
    (ref,) = embeds(text)
    assert (ref.provider, ref.post_id, ref.markup) == ("facebook", "3485430308204317", MarkupKind.DIV)
    assert ref.url == f"{FB}/unialesznoks/photos/pcb.3485430601537621/3485430308204317"
    assert_unit(text, ref, '<div class="fb-post"', "</div>")


def test_fixture_like_button_is_no_embed() -> None:
    assert embeds(page(fixture("facebook/article-iframe-plugins-like-FALSE-POSITIVE.html"))) == []


def test_fixture_json_escaped_iframe_in_script_is_no_embed_on_its_own() -> None:
    escaped = fixture("facebook/article-json-escaped-iframe-plugins-video.html")
    assert embeds(page(f'<script>window.__STATE__ = {{"html": "{escaped.strip()}"}};</script>')) == []


def test_fixture_json_escaped_copy_of_an_iframe_in_the_page_counts_once() -> None:
    escaped = fixture("facebook/article-json-escaped-iframe-plugins-video.html").strip()
    iframe = escaped.replace('\\"', '"')
    text = page(iframe, f'<script>window.__STATE__ = {{"html": "{escaped}"}};</script>')
    (ref,) = embeds(text)
    assert (ref.post_id, ref.markup) == ("1321262654994930", MarkupKind.IFRAME)
    assert ref.url == f"{FB}/elespectadorcom/videos/1321262654994930/"


@pytest.mark.parametrize(
    ("path", "post_id", "author", "published", "caption"),
    [
        ("oembed-post-200", "3610333842332884", "Ruby on Rails", "2020-08-05", "Nice Article"),
        ("oembed-post-notes-200", "2207517130", "Facebook App", "2006-08-22", None),
        ("oembed-post-photo-group-200", "3348617585198325", "Rickson Turra", "2020-08-31", "Why does"),
        ("oembed-video-200", "474308113397163", "Expo 2020 Dubai", "2019-07-06", "🔊 Find out"),
        ("oembed-video-user-200", "10157895173751223", "Roy Osherove", "2020-04-12", "Intro to"),
    ],
)  # fmt: skip
def test_oembed_html_reads_post_and_posted_by(
    path: str, post_id: str, author: str, published: str, caption: str | None
) -> None:
    """The markup Graph oEmbed gave (the SDK form articles carry): one embed, the placeholder div, with
    the fallback blockquote's "Posted by NAME on DATE" and text."""
    html = oembed_html(f"facebook/{path}.body.json")
    text = page(html)
    (ref,) = embeds(text)
    assert (ref.provider, ref.post_id, ref.markup) == ("facebook", post_id, MarkupKind.DIV)
    assert (ref.author_name, ref.published) == (author, published)
    assert (ref.caption or "").startswith(caption or "\0") if caption else ref.caption is None
    assert_unit(text, ref, '<div class="fb-', "</div>")


@pytest.mark.skipif(not available(), reason="shared corpus not present")
@pytest.mark.parametrize(
    "name", [n for n in page_names() if any(e["provider"] == "facebook" for e in labels()[n]["embeds"])]
)
def test_dev_corpus_pages_with_facebook_embeds(name: str) -> None:
    assert found(name, ["facebook"]) == expected(name, ["facebook"])


@pytest.mark.skipif(not available(), reason="shared corpus not present")
def test_dev_corpus_reports_no_facebook_embed_where_none_is_labelled() -> None:
    extra = {name: found(name, ["facebook"]) for name in page_names() if not expected(name, ["facebook"])}
    assert {name: got for name, got in extra.items() if got} == {}


# ---- synthetic markup ----------------------------------------------------------------------------------
def test_synthetic_standalone_fallback_blockquote_with_graph_cite() -> None:
    text = page(
        '<blockquote cite="https://graph.facebook.com/100044264924472/posts/488827215936105/" '
        'class="fb-xfbml-parse-ignore"><p>Text</p>Posted by <a href="https://www.facebook.com/x">X</a> on '
        '<a href="https://graph.facebook.com/100044264924472/posts/488827215936105/">'
        "Sunday, February 6, 2022</a>"
        "</blockquote>"
    )
    (ref,) = embeds(text)
    assert (ref.post_id, ref.markup, ref.author_name, ref.published) == (
        "488827215936105",
        MarkupKind.BLOCKQUOTE,
        "X",
        "2022-02-06",
    )
    assert ref.url == f"{FB}/100044264924472/posts/488827215936105/"


def test_synthetic_localised_posted_by_lines() -> None:
    text = page(
        '<div class="fb-post" data-href="https://www.facebook.com/a/posts/111111111"><blockquote>'
        '<p>Hallo</p><p>Gepostet von <a href="https://www.facebook.com/a">A</a> am&nbsp;'
        '<a href="https://www.facebook.com/a/posts/111111111">Montag, 7. Februar 2022</a></p>'
        "</blockquote></div>"
    )
    (ref,) = embeds(text)
    assert (ref.author_name, ref.published, ref.caption) == ("A", "2022-02-07", "Hallo")


def test_synthetic_plugin_iframes_lazy_and_plain() -> None:
    href = "https%3A%2F%2Fwww.facebook.com%2Fa%2Fposts%2F222222222"
    text = page(
        f'<iframe src="https://www.facebook.com/plugins/post.php?href={href}&amp;width=500"></iframe>',
        '<iframe src="about:blank" data-lazy-src="https://www.facebook.com/plugins/video.php?href='
        'https%3A%2F%2Fwww.facebook.com%2Fa%2Fvideos%2F333333333%2F&amp;show_text=false"></iframe>',
    )
    assert keys(embeds(text)) == [("facebook", "222222222", "iframe"), ("facebook", "333333333", "iframe")]


def test_synthetic_amp_facebook() -> None:
    text = page(
        '<amp-facebook width="552" height="310" layout="responsive" data-href="https://www.facebook.com/a/posts/444444444"></amp-facebook>'
    )
    (ref,) = embeds(text)
    assert (ref.post_id, ref.markup) == ("444444444", MarkupKind.AMP)
    assert_unit(text, ref, "<amp-facebook", "</amp-facebook>")


def test_synthetic_placeholder_and_noscript_iframe_are_one_embed() -> None:
    text = page(
        '<div class="fb-post" data-href="https://www.facebook.com/a/posts/555555555"></div>'
        '<noscript><iframe src="https://www.facebook.com/plugins/post.php?href='
        'https%3A%2F%2Fwww.facebook.com%2Fa%2Fposts%2F555555555"></iframe></noscript>'
    )
    (ref,) = embeds(text)
    assert ref.post_id == "555555555"
    assert_unit(text, ref, '<div class="fb-post"', "</noscript>")


def test_synthetic_same_post_twice_is_two_embeds() -> None:
    div = '<div class="fb-post" data-href="https://www.facebook.com/a/posts/666666666"></div>'
    assert keys(embeds(page(div, "<p>Between.</p>", div))) == [("facebook", "666666666", "div")] * 2


def test_synthetic_bare_urls_classic_wordpress_and_live_blog() -> None:
    text = page(
        "<p>https://www.facebook.com/a/posts/777777777</p>",
        "https://www.facebook.com/b/videos/888888888/",
        '<div class="entry"><h3>Update</h3>https://www.facebook.com/c/posts/999999999</div>',
        '<div class="entry"><h3>Later</h3><!-- body -->\nhttps://www.facebook.com/d/posts/555555555'
        "<!-- /body --></div>",
    )
    refs = embeds(text)
    assert keys(refs) == [
        ("facebook", "777777777", "bare-url"),
        ("facebook", "888888888", "bare-url"),
        ("facebook", "999999999", "bare-url"),
        ("facebook", "555555555", "bare-url"),
    ]
    assert_unit(text, refs[2], "https://www.facebook.com/c/posts/999999999", "999999999")
    assert_unit(text, refs[3], "https://www.facebook.com/d/posts/555555555", "555555555")


def test_synthetic_chrome_and_links_in_text_are_no_embeds() -> None:
    text = page(
        '<a href="https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fexample.com">Share</a>',
        '<a class="facebook" href="https://www.facebook.com/ExampleNews/">Follow us</a>',
        '<iframe src="https://www.facebook.com/plugins/page.php?href=https%3A%2F%2Fwww.facebook.com%2FExampleNews'
        '&tabs=timeline"></iframe>',
        '<iframe src="//www.facebook.com/plugins/likebox.php?href=https%3A%2F%2Fwww.facebook.com%2FNews">'
        "</iframe>",
        '<div class="fb-comments" data-href="https://example.com/article" data-numposts="5"></div>',
        '<div class="fb-like" data-href="https://example.com/article"></div>',
        '<div class="fb-page" data-href="https://www.facebook.com/ExampleNews"></div>',
        '<p>As <a href="https://www.facebook.com/a/posts/123123123">the mayor wrote</a>, it is shut.</p>',
        "<p>She wrote on https://www.facebook.com/a/posts/321321321 that the road is shut.</p>",
        "<li>https://www.facebook.com/a/posts/456456456</li>",
    )
    assert embeds(text) == []


def test_synthetic_post_urls_only_in_script_data_are_no_embed() -> None:
    text = page(
        '<script>var related = {"url": "https:\\/\\/www.facebook.com\\/a\\/posts\\/147147147"};</script>'
    )
    assert embeds(text) == []


def test_synthetic_odd_attributes_never_crash() -> None:
    text = page(
        '<div class="fb-post" data-href="' + "https://www.facebook.com/" + "a" * 100_000 + '"></div>',
        '<div class="fb-post" data-href="https://www.facebook.com/a/posts/%%%"></div>',
        '<div class="fb-video" data-href=""><blockquote cite="javascript:x">Posted by <a>x</a> on'
        "</blockquote></div>",
        '<iframe src="https://www.facebook.com/plugins/post.php?href=%E0%A4%A"></iframe>',
        '<amp-facebook data-href="http://[::1"></amp-facebook>',
    )
    assert of("facebook", text) == []


def test_synthetic_amp_iframe_plugin_video() -> None:
    text = page(
        '<amp-iframe width="560" height="314" layout="responsive" sandbox="allow-scripts allow-same-origin" '
        'src="https://www.facebook.com/plugins/video.php?href=https%3A%2F%2Fwww.facebook.com%2Fa%2Fvideos%2F'
        '1321262654994930%2F&amp;show_text=0"></amp-iframe>'
    )
    (ref,) = embeds(text)
    assert (ref.post_id, ref.markup) == ("1321262654994930", MarkupKind.IFRAME)
    assert_unit(text, ref, "<amp-iframe", "</amp-iframe>")


def test_synthetic_consent_placeholder_resolved_from_script_data() -> None:
    text = page(
        '<div class="consent-placeholder" data-service="facebook"><p>Hier steht ein externer Inhalt von '
        "Facebook.</p><button>Inhalt laden</button></div>",
        '<script>window.embeds = [{"html": "<div class=\\"fb-post\\" '
        'data-href=\\"https:\\/\\/www.facebook.com\\/a\\/posts\\/258258258\\"><\\/div>"}];</script>',
    )
    (ref,) = embeds(text)
    assert (ref.post_id, ref.markup) == ("258258258", MarkupKind.SCRIPT)
