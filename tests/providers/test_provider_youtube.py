"""YouTube detection: URL forms and ids, every recorded fixture, the dev corpus pages, and synthetic pages
for the forms no fixture shows (test names say "synthetic"; written from reference/providers.md
section 4 and the lazy loaders' own documentation)."""

from __future__ import annotations

import pytest

from archiver.providers import provider_for_url, provider_named
from archiver.providers.youtube import YouTube, video_id
from archiver.records import MarkupKind
from tests.support.corpus_scoring import available, expected, found, page_names
from tests.support.embed_scan import assert_unit, embeds, fixture, keys, of, page

youtube = provider_named("youtube")
VIDEO = "dQw4w9WgXcQ"
OTHER = "9bZkp7q19f0"
WATCH = f"https://www.youtube.com/watch?v={VIDEO}"


# ---- URLs -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "url",
    [
        WATCH,
        f"http://youtube.com/watch?v={VIDEO}&t=42s",
        f"https://m.youtube.com/watch?feature=share&v={VIDEO}",
        f"https://music.youtube.com/watch?v={VIDEO}&list=RDAMVM{VIDEO}",
        f"https://www.youtube.com/watch?v={VIDEO}&amp;feature=youtu.be",
        f"https://youtu.be/{VIDEO}",
        f"https://youtu.be/{VIDEO}?si=AbCdEf&t=30",
        f"https://www.youtube.com/embed/{VIDEO}",
        f"https://www.youtube.com/embed/{VIDEO}?feature=oembed",
        f"//www.youtube.com/embed/{VIDEO}?list=PLFgquLnL59alCl_2TQvOiD5Vgm1hCaGSI",
        f"https://www.youtube.com/embed/{VIDEO}?playlist={OTHER},mvDHs0LCTf8",
        f"https://www.youtube-nocookie.com/embed/{VIDEO}?rel=0",
        f"http://www.youtube.com/v/{VIDEO}&hl=de&fs=1",
        f"http://www.youtube.com/v/{VIDEO}?version=3",
        f"https://www.youtube.com/e/{VIDEO}",
        f"https://www.youtube.com/shorts/{VIDEO}",
        f"https://www.youtube.com/live/{VIDEO}?si=x",
        f"https://www.youtubekids.com/watch?v={VIDEO}",
        f"https://www.youtube.com/attribution_link?a=x&u=%2Fwatch%3Fv%3D{VIDEO}%26feature%3Dshare",
        f"  https://WWW.YouTube.COM/watch?v={VIDEO}  ",
        f"www.youtube.com/watch?v={VIDEO}",
    ],
)
def test_url_forms_fold_to_the_video_id(url: str) -> None:
    post = youtube.parse_url(url)
    assert post is not None, url
    assert (post.provider, post.post_id, post.url) == ("youtube", VIDEO, WATCH)
    assert provider_for_url(url) == post


@pytest.mark.parametrize(
    "url",
    [
        *youtube.not_examples,
        "https://www.youtube.com/watch?v=short",
        f"https://www.youtube.com/watch?v={VIDEO}xyz",
        "https://www.youtube.com/embed/",
        "https://www.youtube.com/embed?listType=playlist&list=PLx",
        "https://www.youtube.com/watch",
        f"https://www.youtube.com/results?search_query={VIDEO}",
        f"ftp://www.youtube.com/watch?v={VIDEO}",
        f"https://www.youtube.com.evil.example/watch?v={VIDEO}",
        f"https://evil.example/?u=https://www.youtube.com/watch?v={VIDEO}",
        "https://www.youtube.com/watch?v=12345678901",  # not a possible id: its last character
        "http://[::1/watch?v=x",
        "",
    ],
)
def test_not_videos(url: str) -> None:
    assert youtube.parse_url(url) is None, url


def test_video_ids_are_checked_to_their_last_character() -> None:
    assert video_id(VIDEO) == VIDEO
    assert video_id("AAAAAAAAAAB") is None  # 64-bit ids end in one of 16 characters
    assert video_id("videoseries") is None
    assert video_id("dQw4w9WgXc") is None


def test_player_urls_are_the_embed_forms() -> None:
    assert YouTube().player_url(f"https://www.youtube.com/embed/{VIDEO}") is not None
    assert YouTube().player_url(f"https://www.youtube-nocookie.com/embed/{VIDEO}") is not None
    assert YouTube().player_url(f"http://www.youtube.com/v/{VIDEO}&hl=en") is not None
    assert YouTube().player_url(WATCH) is None
    assert YouTube().player_url(f"https://youtu.be/{VIDEO}") is None


# ---- recorded fixtures ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "post_id"),
    [
        ("youtube/article-iframe-feature-oembed.html", "KPnmmIrD0oc"),
        ("youtube/article-iframe-http-legacy.html", "VEYVQmgWsIg"),
        ("youtube/article-iframe-lazy-data-src.html", "BItSgrSYAXA"),
        ("youtube/article-iframe-nocookie.html", "Kd2q-MaHMWs"),
    ],
)
def test_fixture_iframes(path: str, post_id: str) -> None:
    text = page(fixture(path).strip())
    (ref,) = embeds(text)
    assert (ref.provider, ref.post_id, ref.markup) == ("youtube", post_id, MarkupKind.IFRAME)
    assert ref.url == f"https://www.youtube.com/watch?v={post_id}"
    assert_unit(text, ref, "<iframe", "</iframe>")


def test_fixture_videoseries_playlist_is_not_an_embed() -> None:
    assert embeds(page(fixture("youtube/article-iframe-nocookie-videoseries-playlist.html"))) == []


@pytest.mark.parametrize(
    ("path", "post_id"),
    [
        ("wordpress/gutenberg-figure-youtube.html", "hMDQpHehAzw"),
        ("wordpress/gutenberg-figure-youtube-older-class-order.html", "BQlKCT3Cmm0"),
    ],
)
def test_fixture_gutenberg_figures_are_one_embed_each(path: str, post_id: str) -> None:
    text = page(fixture(path).strip())
    (ref,) = embeds(text)
    assert (ref.provider, ref.post_id) == ("youtube", post_id)
    assert_unit(text, ref, "<figure", "</figure>")


# ---- the dev corpus -------------------------------------------------------------------------------------
@pytest.mark.skipif(not available(), reason="shared corpus not present")
@pytest.mark.parametrize("name", page_names())
def test_dev_corpus_pages_are_exactly_right_for_youtube(name: str) -> None:
    assert found(name, ["youtube"]) == expected(name, ["youtube"])


# ---- synthetic forms ------------------------------------------------------------------------------------
def test_synthetic_flash_object_and_its_embed_are_one_embed() -> None:
    flash = (
        '<object width="580" height="360"><param name="movie" '
        f'value="http://www.youtube.com/v/{VIDEO}&#038;hl=de">'
        '</param><param name="allowFullScreen" value="true"></param>'
        f'<embed src="http://www.youtube.com/v/{VIDEO}&#038;hl=de" '
        'type="application/x-shockwave-flash"></embed>'
        "</object>"
    )
    text = page(f'<div align="center">{flash}</div>', f'<p>More at <a href="{WATCH}">YouTube</a>.</p>')
    (ref,) = embeds(text)
    assert (ref.post_id, ref.markup) == (VIDEO, MarkupKind.IFRAME)
    assert_unit(text, ref, "<object", "</object>")


def test_synthetic_embed_element_alone() -> None:
    text = page(
        f'<p><embed src="https://www.youtube.com/v/{VIDEO}" type="application/x-shockwave-flash"></p>'
    )
    assert keys(embeds(text)) == [("youtube", VIDEO, "iframe")]


def test_synthetic_amp_youtube_and_lite_youtube() -> None:
    text = page(
        f'<amp-youtube data-videoid="{VIDEO}" layout="responsive" width="480" height="270"></amp-youtube>',
        f'<lite-youtube videoid="{OTHER}" playlabel="Play"></lite-youtube>',
    )
    assert keys(embeds(text)) == [("youtube", VIDEO, "amp"), ("youtube", OTHER, "amp")]


def test_synthetic_data_youtube_id_placeholder() -> None:
    """The avclub form (div.youtube[data-youtube-id] with a thumbnail), without any YouTube URL."""
    unit = (
        f'<div data-type="youtube" class="youtube inline" data-youtube-id="{VIDEO}">'
        f'<div><img src="//img.youtube.com/vi/{VIDEO}/hqdefault.jpg"></div><span class="caption">'
        "</span></div>"
    )
    text = page(unit)
    (ref,) = embeds(text)
    assert (ref.post_id, ref.markup, ref.url) == (VIDEO, MarkupKind.DIV, WATCH)
    assert_unit(text, ref, "<div data-type", "</span></div>")


def test_synthetic_wp_youtube_lyte() -> None:
    lyte = (
        f'<div class="lyte-wrapper"><div class="lyMe" id="WYL_{VIDEO}"><div id="lyte_{VIDEO}" '
        f'data-src="https://i.ytimg.com/vi/{VIDEO}/hqdefault.jpg" class="pL"><div class="play">'
        "</div></div></div>"
        f'<noscript><a href="https://youtu.be/{VIDEO}"><img src="https://i.ytimg.com/vi/{VIDEO}/0.jpg"></a>'
        "</noscript></div>"
    )
    assert keys(embeds(page(lyte))) == [("youtube", VIDEO, "div")]


@pytest.mark.parametrize(
    "loader",
    [
        f'<div class="youtube-player" data-id="{VIDEO}"></div>',
        f'<div class="youtube" data-embed="{VIDEO}"><div class="play-button"></div></div>',
        f'<div class="js-youtube" data-video-id="{VIDEO}"><button>Play</button></div>',
        f'<div class="rll-youtube-player" data-id="{VIDEO}"></div>',
        f'<img class="lazy-youtube" data-src="https://i.ytimg.com/vi/{VIDEO}/hqdefault.jpg" alt="">',
        '<div class="youtube-lazy"><img '
        f'data-lazy-src="https://i.ytimg.com/vi_webp/{VIDEO}/maxresdefault.webp">'
        '<span class="play"></span></div>',
        f'<div class="youtube-container"><img src="https://i.ytimg.com/vi/{VIDEO}/hqdefault.jpg">'
        '<div class="play"></div></div>',
    ],
)
def test_synthetic_lazy_loaders(loader: str) -> None:
    assert keys(embeds(page(loader))) == [("youtube", VIDEO, "div")]


def test_synthetic_thumbnails_of_related_videos_are_not_embeds() -> None:
    text = page(
        '<ul class="related-videos">'
        f'<li><a href="{WATCH}"><img data-src="https://i.ytimg.com/vi/{VIDEO}/mqdefault.jpg"></a></li>'
        f'<li><img class="thumb" data-src="https://i.ytimg.com/vi/{OTHER}/mqdefault.jpg"></li></ul>',
        '<div class="youtube-feed">'
        f'<a href="{WATCH}"><img class="youtube-thumb" '
        f'data-src="https://i.ytimg.com/vi/{VIDEO}/0.jpg"></a></div>',
        f'<meta property="og:image" content="https://img.youtube.com/vi/{VIDEO}/0.jpg">',
        f'<div class="youtube-gallery"><img src="https://i.ytimg.com/vi/{VIDEO}/0.jpg">'
        f'<img src="https://i.ytimg.com/vi/{OTHER}/0.jpg"></div>',
    )
    assert of("youtube", text) == []


def test_synthetic_player_url_in_any_placeholder_attribute() -> None:
    text = page(
        f'<img class="raw-htm-embed" data-src="https://www.youtube.com/embed/{VIDEO}" alt="Lazy '
        'loaded component"/>',
        '<div class="vc_video-bg" data-embed-frame="&lt;iframe src=&quot;'
        f'https://www.youtube.com/embed/{OTHER}?rel=0&quot;&gt;&lt;/iframe&gt;"></div>',
    )
    assert keys(embeds(text)) == [("youtube", VIDEO, "div"), ("youtube", OTHER, "div")]


def test_synthetic_watch_url_placeholder_only_when_the_element_names_youtube() -> None:
    text = page(
        f'<div class="embedInner Youtube" data-provider="Youtube" data-resourceurl="{WATCH}"></div>',
        f'<div class="share-bar" data-share="https://www.youtube.com/watch?v={OTHER}"></div>',
    )
    assert keys(embeds(text)) == [("youtube", VIDEO, "div")]


def test_synthetic_script_call_beside_an_empty_placeholder() -> None:
    """The polygraph.info form: the id only in `renderExternalContent("...")`, plus an inline link to the
    same video in the text (still one embed)."""
    unit = (
        '<div class="c-sticky-element" data-sp_api="youtube"><span class="close"><span '
        'class="ico"></span></span>'
        '<div class="external-content-placeholder"></div>'
        f'<script>renderExternalContent("https://www.youtube.com/embed/{VIDEO}?&&&fs=1&enablejsapi=1")</script>'
        "</div>"
    )
    text = page(f'<p>They <a href="https://youtu.be/{VIDEO}">blocked</a> it.</p>', unit)
    (ref,) = embeds(text)
    assert (ref.post_id, ref.markup) == (VIDEO, MarkupKind.SCRIPT)
    assert_unit(text, ref, '<div class="c-sticky-element"', "</script></div>")


def test_synthetic_script_call_in_upper_case_markup() -> None:
    """Older CMSs write tags in capitals: `<SCRIPT>` is the same script call."""
    unit = (
        '<DIV CLASS="video-placeholder"><DIV CLASS="external-content-placeholder"></DIV>'
        f'<SCRIPT>renderExternalContent("https://www.youtube.com/embed/{VIDEO}?fs=1")</Script></DIV>'
    )
    text = page("<p>The clip.</p>", unit)
    (ref,) = embeds(text)
    assert (ref.post_id, ref.markup) == (VIDEO, MarkupKind.SCRIPT)
    assert_unit(text, ref, '<DIV CLASS="video-placeholder"', "</Script></DIV>")


def test_synthetic_consent_template_script() -> None:
    text = page(
        '<div class="consent-box"><p>Click to load the video.</p>'
        f'<script type="text/template"><iframe src="https://www.youtube-nocookie.com/embed/{VIDEO}"></iframe>'
        "</script></div>"
    )
    assert keys(embeds(text)) == [("youtube", VIDEO, "script")]


def test_synthetic_consent_textarea_template() -> None:
    """A consent placeholder keeping the player's markup, escaped, in a hidden <textarea>."""
    unit = (
        '<div class="cmp-placeholder"><textarea hidden>&lt;iframe src=&quot;'
        f"https://www.youtube.com/embed/{VIDEO}&quot;&gt;&lt;/iframe&gt;</textarea></div>"
    )
    text = page(unit)
    (ref,) = embeds(text)
    assert (ref.post_id, ref.markup) == (VIDEO, MarkupKind.SCRIPT)
    assert_unit(text, ref, '<div class="cmp-placeholder">', "</textarea></div>")


def test_synthetic_script_data_is_not_an_embed() -> None:
    text = (
        "<html><head>"
        f'<script type="application/ld+json">{{"@type":"VideoObject","embedUrl":"https://www.youtube.com/embed/{VIDEO}"}}'
        "</script>"
        f'<script>var player = "https://www.youtube.com/embed/{VIDEO}";</script></head><body><p>Text</p>'
        '<script>window.__STATE__={"related":[{"html":"<iframe src=\\"https://www.youtube.com/embed/'
        f'{OTHER}\\"></iframe>"}}]}}</script>'
        f'<script>dataLayer.push({{"video":"https://www.youtube.com/embed/{OTHER}"}})</script>'
        f'<script src="https://www.youtube.com/iframe_api"></script></body></html>'
    )
    assert of("youtube", text) == []


def test_synthetic_not_embeds_playlists_channels_links_and_sidebars() -> None:
    text = (
        "<html><body><article>"
        f'<p>Watch <a href="{WATCH}">this</a> and https://www.youtube.com/watch?v={OTHER} in the text.</p>'
        '<iframe src="https://www.youtube-nocookie.com/embed/videoseries?list=UUiTaCUT4f6gaQhQ70ZpQyxg"></iframe>'
        '<iframe src="https://www.youtube.com/embed/live_stream?channel=UCSJ4gkVC6NrvII8umztf0Ow"></iframe>'
        '<a class="subscribe" '
        'href="https://www.youtube.com/channel/UCcOIZzJgLCyMPILY7-1Vsdg?sub_confirmation=1">'
        'Subscribe</a><div class="g-ytsubscribe" data-channelid="UCcOIZzJgLCyMPILY7-1Vsdg"></div>'
        "</article>"
        '<div id="sidebar" class="widget-area"><aside class="widget widget_video"><div class="video_widget">'
        f'<iframe src="https://www.youtube.com/embed/{OTHER}"></iframe></div></aside></div>'
        "</body></html>"
    )
    assert of("youtube", text) == []


def test_synthetic_gutenberg_block_bare_url_and_ckeditor() -> None:
    block = (
        f'<!-- wp:embed {{"url":"{WATCH}","type":"video","providerNameSlug":"youtube"}} -->\n'
        '<figure class="wp-block-embed is-type-video is-provider-youtube wp-block-embed-youtube">'
        f'<div class="wp-block-embed__wrapper">\n{WATCH}\n</div></figure>\n<!-- /wp:embed -->'
    )
    text = page(
        block,
        f"<p>https://youtu.be/{OTHER}</p>",
        f'<figure class="media"><oembed url="https://www.youtube.com/shorts/{VIDEO}"></oembed></figure>',
    )
    assert keys(embeds(text)) == [
        ("youtube", VIDEO, "block-comment"),
        ("youtube", OTHER, "bare-url"),
        ("youtube", VIDEO, "oembed-tag"),
    ]


def test_synthetic_the_same_video_twice_is_two_embeds() -> None:
    iframe = f'<iframe src="https://www.youtube.com/embed/{VIDEO}"></iframe>'
    text = page(f"<p>{iframe}</p>", "<p>Between.</p>", f"<p>{iframe}</p>")
    assert keys(embeds(text)) == [("youtube", VIDEO, "iframe")] * 2


def test_synthetic_lazy_iframe_and_its_noscript_copy_are_one_embed() -> None:
    text = page(
        f'<div class="rll-youtube-player" data-src="https://www.youtube.com/embed/{VIDEO}" '
        f'data-id="{VIDEO}"></div>'
        f'<noscript><iframe src="https://www.youtube.com/embed/{VIDEO}?feature=oembed"></iframe></noscript>'
    )
    assert [ref.post_id for ref in embeds(text)] == [VIDEO]


def test_synthetic_amp_iframe_player() -> None:
    text = page(
        f'<amp-iframe src="https://www.youtube.com/embed/{VIDEO}" width="560" height="315" '
        'sandbox="allow-scripts allow-same-origin" layout="responsive"></amp-iframe>'
    )
    assert keys(embeds(text)) == [("youtube", VIDEO, "iframe")]


@pytest.mark.parametrize(
    "junk",
    [
        '<div data-youtube-id="' + "x" * 100_000 + '"></div>',
        f'<div class="youtube" data-id="{"#" * 70}"></div>',
        '<img class="youtube" data-src="https://i.ytimg.com/vi/">',
        '<img class="youtube" data-src="//[::1">',
        f'<object><param name="movie" value="http://www.youtube.com/v/{VIDEO}',
        f'<script>renderExternalContent("https://www.youtube.com/embed/{VIDEO}"',
        f'<div data-x="{" ".join([f"https://www.youtube.com/embed/{VIDEO}"] * 300)}"></div>',
        "<lite-youtube videoid></lite-youtube><amp-youtube></amp-youtube>",
    ],
)
def test_synthetic_odd_markup_never_raises(junk: str) -> None:
    embeds(page(junk))
