"""X / Twitter detection: URL forms and canonical ids, every recorded fixture, and each markup form.

Fixtures are real markup cut from saved article pages (shared/fixtures/providers/SOURCES.md); the DEV corpus
pages are checked in test_scan_corpus.py. Tests whose names contain "synthetic" run on markup written here
(from reference/providers.md section 2 and the forms the corpus shows), for forms no fixture holds alone.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from archiver.pipeline.scan import scan_article
from archiver.providers import provider_for_url, provider_named
from archiver.providers.common.attribution import iso_date
from archiver.records import Article, EmbedRef, MarkupKind

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "providers"
LOADER = '<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>'
STATUS = "https://twitter.com/elonmusk/status/1720918522082078752"
TWEET_ID = "1720918522082078752"


def article(text: str) -> Article:
    data = text.encode("utf-8")
    return Article("page", "test", data, text, "utf-8", hashlib.sha256(data).hexdigest())


def tweets(text: str) -> list[EmbedRef]:
    result = scan_article(article(text))
    assert result.error is None, result.error
    return [ref for ref in result.embeds if ref.provider == "twitter"]


def unit_of(text: str, ref: EmbedRef) -> str:
    assert ref.span is not None, ref
    return text.encode("utf-8")[ref.span.start : ref.span.end].decode("utf-8")


def page(*parts: str) -> str:
    return (
        "<html><body><article><p>Intro text of the article.</p>"
        + "".join(parts)
        + "<p>More.</p></article></body></html>"
    )


def blockquote(
    url: str = STATUS, text: str = "Hello world", name: str = "Elon Musk", handle: str = "elonmusk"
) -> str:
    return (
        f'<blockquote class="twitter-tweet"><p lang="en" dir="ltr">{text}</p>&mdash; {name} (@{handle}) '
        f'<a href="{url}?ref_src=twsrc%5Etfw">November 4, 2023</a></blockquote>'
    )


# ---- URLs and ids ------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "post_id", "canonical"),
    [
        (STATUS, TWEET_ID, f"https://x.com/elonmusk/status/{TWEET_ID}"),
        (f"{STATUS}?ref_src=twsrc%5Etfw", TWEET_ID, f"https://x.com/elonmusk/status/{TWEET_ID}"),
        (f"https://x.com/elonmusk/status/{TWEET_ID}", TWEET_ID, f"https://x.com/elonmusk/status/{TWEET_ID}"),
        (
            f"http://www.twitter.com/elonmusk/status/{TWEET_ID}/",
            TWEET_ID,
            f"https://x.com/elonmusk/status/{TWEET_ID}",
        ),
        (
            f"https://mobile.twitter.com/elonmusk/status/{TWEET_ID}",
            TWEET_ID,
            f"https://x.com/elonmusk/status/{TWEET_ID}",
        ),
        (
            f"https://m.twitter.com/elonmusk/statuses/{TWEET_ID}",
            TWEET_ID,
            f"https://x.com/elonmusk/status/{TWEET_ID}",
        ),
        (
            f"//twitter.com/elonmusk/status/{TWEET_ID}/photo/1",
            TWEET_ID,
            f"https://x.com/elonmusk/status/{TWEET_ID}",
        ),
        (f"https://twitter.com/i/web/status/{TWEET_ID}", TWEET_ID, f"https://x.com/i/status/{TWEET_ID}"),
        (f"https://x.com/i/status/{TWEET_ID}", TWEET_ID, f"https://x.com/i/status/{TWEET_ID}"),
        (f"https://twitter.com/statuses/{TWEET_ID}", TWEET_ID, f"https://x.com/i/status/{TWEET_ID}"),
        ("http://twitter.com/#!/jack/status/20", "20", "https://x.com/jack/status/20"),
        (f"https://twitter.com/i/videos/tweet/{TWEET_ID}", TWEET_ID, f"https://x.com/i/status/{TWEET_ID}"),
        (
            f"https://platform.twitter.com/embed/Tweet.html?dnt=false&amp;embedId=twitter-widget-0&amp;id={TWEET_ID}"
            "&amp;lang=en",
            TWEET_ID,
            f"https://x.com/i/status/{TWEET_ID}",
        ),
        (
            f"https://platform.twitter.com/embed/index.html?id={TWEET_ID}",
            TWEET_ID,
            f"https://x.com/i/status/{TWEET_ID}",
        ),
        (
            f"  https://TWITTER.com/elonmusk/status/{TWEET_ID}\n",
            TWEET_ID,
            f"https://x.com/elonmusk/status/{TWEET_ID}",
        ),
        (
            f"https://twitter.com/elonmusk/status/{TWEET_ID}[/embed]",
            TWEET_ID,
            f"https://x.com/elonmusk/status/{TWEET_ID}",
        ),
    ],
)
def test_status_url_forms_fold_to_one_id(url: str, post_id: str, canonical: str) -> None:
    post = provider_named("twitter").parse_url(url)
    assert post is not None, url
    assert (post.provider, post.post_id, post.url) == ("twitter", post_id, canonical)
    assert provider_for_url(url) == post


@pytest.mark.parametrize(
    "url",
    [
        "https://twitter.com/elonmusk",
        "https://twitter.com/elonmusk/status/",
        "https://twitter.com/elonmusk/status/0",
        "https://twitter.com/elonmusk/status/123abc",
        "https://twitter.com/elonmusk/status/1720918522082078752/retweets",
        "https://twitter.com/elonmusk/likes",
        "https://twitter.com/intent/tweet?url=https%3A%2F%2Ftwitter.com%2Fa%2Fstatus%2F1",
        "https://twitter.com/intent/retweet?tweet_id=1720918522082078752",
        "https://twitter.com/share?url=https://example.com/",
        "https://platform.twitter.com/widgets.js",
        "https://platform.twitter.com/widgets/tweet_button.html?id=1720918522082078752",
        "https://pic.twitter.com/rAwAqq9xVt",
        "https://t.co/8AbBbONqBe",
        "https://nottwitter.com/elonmusk/status/1720918522082078752",
        "https://twitter.com.evil.example/elonmusk/status/1720918522082078752",
        "https://box.com/elonmusk/status/1720918522082078752",
        "ftp://twitter.com/elonmusk/status/1720918522082078752",
        "",
        "x" * 10_000,
    ],
)
def test_urls_that_are_not_tweets(url: str) -> None:
    assert provider_named("twitter").parse_url(url) is None


def test_declarations() -> None:
    twitter = provider_named("twitter")
    assert dict(twitter.endpoints) == {
        "oembed_endpoint": "https://publish.twitter.com/oembed",
        "syndication_base": "https://cdn.syndication.twimg.com",
    }
    assert twitter.title == "Twitter"  # the word consent placeholders name the provider with


# ---- recorded fixtures -------------------------------------------------------------------------------------
FIXTURE_CASES = {
    "twitter/article-blockquote-standard.html": dict(
        id="1256696015702425601",
        author="Donald J. Trump",
        handle="realDonaldTrump",
        published="2020-05-02",
        caption="I, for one, am glad to see he is back, and well! https://t.co/mIWVeRMnOJ",
        ends="</script>",
    ),
    "twitter/article-blockquote-wordpress-dnt.html": dict(
        id="1214387633146564608", author="Seth Goldstein", handle="Rabbi_360", published="2020-01-07"
    ),
    "twitter/article-blockquote-consent-lazyload-class.html": dict(
        id="1720918522082078752",
        author="Elon Musk",
        handle="elonmusk",
        published="2023-11-04",
        caption=(
            "Provided our vehicle AI computer is able to run the model, Tesla will probably have the most "
            "amount of true usable inference compute on Earth.\n"
            "Even in a robotaxi future, the cars will only be used for "
            "~1/3 of hours/week, leaving 2/3 for distributed inference, like SETI."
        ),
    ),
    "twitter/article-blockquote-numeric-entities-ja.html": dict(
        id="1220552769737592837", author="マツモトケイジ", handle="keizi666", published="2020-01-24"
    ),
    "twitter/article-blockquote-link-only-lang.html": dict(id="1489540934710743047", ends="</script>"),
    "twitter/article-blockquote-link-only-no-text.html": dict(id="1519105091772596231"),
    "wordpress/gutenberg-figure-twitter.html": dict(
        id="1721144944059118002",
        author="S.L. Kanthan",
        handle="Kanthan2030",
        published="2023-11-05",
        starts="<figure",
    ),
}


@pytest.mark.parametrize("name", sorted(FIXTURE_CASES))
def test_fixture(name: str) -> None:
    case = FIXTURE_CASES[name]
    text = (FIXTURES / name).read_text(encoding="utf-8")
    (ref,) = tweets(text)
    assert (ref.post_id, ref.markup) == (case["id"], MarkupKind.BLOCKQUOTE)
    assert ref.url is not None and ref.url.endswith(f"/status/{case['id']}")
    for key, field in (("author", "author_name"), ("handle", "handle"), ("published", "published")):
        assert getattr(ref, field) == case.get(key), (key, ref)
    if "caption" in case:
        assert ref.caption == case["caption"]
    unit = unit_of(text, ref)
    assert unit.startswith(case.get("starts", "<blockquote")), unit[:60]
    assert unit.rstrip().endswith(case.get("ends", "</figure>" if "starts" in case else "</blockquote>"))


def test_fixture_numeric_entities_are_decoded_into_the_caption() -> None:
    text = (FIXTURES / "twitter/article-blockquote-numeric-entities-ja.html").read_text(encoding="utf-8")
    (ref,) = tweets(text)
    assert ref.caption is not None and ref.caption.startswith("みんなに知っておいて欲しいんだけど")
    assert "\n・バレないように" in ref.caption  # <br> breaks lines


@pytest.mark.parametrize(
    "name",
    [
        "twitter/article-a-twitter-timeline-NOT-A-TWEET.html",
        "wordpress/gutenberg-figure-twitter-provider-but-timeline.html",
    ],
)
def test_fixture_timelines_are_not_tweets(name: str) -> None:
    assert tweets((FIXTURES / name).read_text(encoding="utf-8")) == []


def test_fixture_json_escaped_copy_in_script_is_the_dom_embed_counted_once() -> None:
    escaped = (FIXTURES / "twitter/article-json-escaped-blockquote-inside-script.html").read_text(
        encoding="utf-8"
    )
    status = "https://twitter.com/marioraulnegri/status/1521648511401431040"
    dom = blockquote(status, "El kirchnerismo llamó a una sesión", "Mario Raúl Negri", "marioraulnegri")
    state = '<script>window.__STATE__ = {"body": "' + escaped.strip().replace("\n", "\\n") + '"};</script>'
    found = tweets(page(dom, LOADER) + state)
    assert [(ref.post_id, ref.markup) for ref in found] == [("1521648511401431040", MarkupKind.BLOCKQUOTE)]
    # Alone in script state (another article's data, no placeholder) it is no embed at all.
    assert tweets(page("<p>No embed here.</p>") + state) == []


# ---- synthetic: forms --------------------------------------------------------------------------------------
def test_synthetic_blockquote_loader_and_rendered_copy_are_one_embed() -> None:
    rendered = (
        '<div class="twitter-tweet twitter-tweet-rendered" style="display: flex;">'
        '<iframe id="twitter-widget-0" scrolling="no" frameborder="0" title="X Post" '
        f'src="https://platform.twitter.com/embed/Tweet.html?dnt=false&amp;embedId=twitter-widget-0&amp;id={TWEET_ID}'
        f'&amp;lang=en" data-tweet-id="{TWEET_ID}"></iframe></div>\n  '
    )
    text = page(rendered, blockquote(), " ", LOADER)
    (ref,) = tweets(text)
    assert (ref.post_id, ref.markup, ref.handle) == (TWEET_ID, MarkupKind.BLOCKQUOTE, "elonmusk")
    unit = unit_of(text, ref)
    assert unit.startswith('<div class="twitter-tweet twitter-tweet-rendered"') and unit.endswith("</script>")


def test_synthetic_rendered_widget_alone() -> None:
    text = page(
        '<div class="twitter-tweet twitter-tweet-rendered"><iframe id="twitter-widget-0" '
        f'src="https://platform.twitter.com/embed/Tweet.html?id={TWEET_ID}"></iframe></div>'
    )
    (ref,) = tweets(text)
    assert (ref.post_id, ref.url, ref.markup) == (
        TWEET_ID,
        f"https://x.com/i/status/{TWEET_ID}",
        MarkupKind.IFRAME,
    )


@pytest.mark.parametrize(
    "markup",
    [
        '<twitter-widget class="twitter-tweet twitter-tweet-rendered" id="twitter-widget-0" '
        f'data-tweet-id="{TWEET_ID}">'
        "</twitter-widget>",
        '<twitterwidget class="twitter-tweet twitter-tweet-rendered" '
        f'data-tweet-id="{TWEET_ID}"></twitterwidget>',
        f'<iframe id="twitter-widget-1" class="twitter-tweet twitter-tweet-rendered" src="about:blank" '
        f'data-tweet-id="{TWEET_ID}"></iframe>',
        f'<div class="tweet-embed" data-tweet-id="{TWEET_ID}"></div>',
    ],
)
def test_synthetic_rendered_widgets_with_only_a_tweet_id(markup: str) -> None:
    (ref,) = tweets(page(markup))
    assert (ref.post_id, ref.url) == (TWEET_ID, f"https://x.com/i/status/{TWEET_ID}")


def test_synthetic_amp_twitter() -> None:
    text = page(
        f'<amp-twitter width="375" height="472" layout="responsive" data-tweetid="{TWEET_ID}">'
        "<i-amphtml-sizer></i-amphtml-sizer></amp-twitter>"
    )
    (ref,) = tweets(text)
    assert (ref.post_id, ref.markup) == (TWEET_ID, MarkupKind.AMP)
    assert unit_of(text, ref).startswith("<amp-twitter")


def test_synthetic_amp_twitter_with_placeholder_blockquote_is_one_embed_naming_the_user() -> None:
    text = page(f'<amp-twitter data-tweetid="{TWEET_ID}" layout="responsive">{blockquote()}</amp-twitter>')
    (ref,) = tweets(text)
    assert (ref.post_id, ref.markup, ref.url) == (
        TWEET_ID,
        MarkupKind.AMP,
        f"https://x.com/elonmusk/status/{TWEET_ID}",
    )
    assert ref.author_name == "Elon Musk"


@pytest.mark.parametrize("tag", ["link", "button", "a", "span"])
def test_synthetic_tweet_ids_on_buttons_are_not_embeds(tag: str) -> None:
    assert tweets(page(f'<{tag} class="like" data-tweet-id="{TWEET_ID}">Like</{tag}>')) == []


def test_synthetic_substack_static_tweet() -> None:
    attrs = (
        "{&quot;url&quot;:&quot;https://twitter.com/TomCottonAR/status/1397182150164680704?ref_src=twsrc&quot;,"
        "&quot;full_text&quot;:&quot;Pathetic. &quot;,&quot;username&quot;:&quot;TomCottonAR&quot;,"
        "&quot;name&quot;:&quot;Tom Cotton&quot;,&quot;date&quot;:&quot;Tue May 25 13:25:57 +0000 2021&quot;}"
    )
    text = page(
        f'<div class="tweet" data-attrs="{attrs}"><a class="tweet-link-top" '
        'href="https://twitter.com/TomCottonAR/status/1397182150164680704">Tom Cotton</a></div>'
    )
    (ref,) = tweets(text)
    assert (ref.post_id, ref.markup) == ("1397182150164680704", MarkupKind.DIV)
    assert (ref.author_name, ref.handle, ref.published, ref.caption) == (
        "Tom Cotton",
        "TomCottonAR",
        "2021-05-25T13:25:57+00:00",
        "Pathetic.",
    )


@pytest.mark.parametrize(
    "attrs", ["{not json", "[1, 2]", '{"url": 5}', '{"url": "https://example.com/"}', "x" * 300_000]
)
def test_synthetic_substack_attributes_that_say_nothing(attrs: str) -> None:
    assert tweets(page(f"<div class=\"tweet\" data-attrs='{attrs}'></div>")) == []


def test_synthetic_consent_textarea_template() -> None:
    text = page(
        '<div class="third-party-services--placeholder"><textarea class="original-content" hidden>'
        f"{blockquote()} {LOADER}</textarea><h2>Twitter freischalten</h2><button>Laden</button></div>"
    )
    (ref,) = tweets(text)
    assert (ref.post_id, ref.markup, ref.handle) == (TWEET_ID, MarkupKind.BLOCKQUOTE, "elonmusk")
    assert unit_of(text, ref).startswith('<div class="third-party-services--placeholder">')


def test_synthetic_consent_script_template() -> None:
    text = page(
        '<div class="consent-embed"><p>Click to load content from Twitter.</p>'
        f'<script type="text/template">{blockquote()}</script></div>'
    )
    (ref,) = tweets(text)
    assert (ref.post_id, ref.markup) == (TWEET_ID, MarkupKind.BLOCKQUOTE)
    assert unit_of(text, ref).startswith('<div class="consent-embed">')


def test_synthetic_embed_privacy_container_with_the_embed_in_a_js_string() -> None:
    """WordPress "Embed Privacy": the oEmbed HTML, entity- and JSON-escaped, in a script inside the
    container that shows the consent notice."""
    escaped = (
        blockquote().replace("/", "\\/").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    ).replace('"', "&quot;")
    text = page(
        '<div class="embed-privacy-container is-disabled embed-twitter" data-embed-provider="twitter">'
        '<div class="embed-privacy-overlay"><p>Click here to display content from X.</p></div>'
        f'<div class="embed-privacy-content"><script>var _oembed_1 = \'{{"embed":"{escaped}"}}\';'
        "</script></div></div>"
    )
    (ref,) = tweets(text)
    assert (ref.post_id, ref.markup, ref.handle) == (TWEET_ID, MarkupKind.BLOCKQUOTE, "elonmusk")


def test_synthetic_borlabs_base64_template() -> None:
    """Borlabs Cookie keeps the blocked embed base64-encoded in a template script. Limitation: nothing else
    in such a block names Twitter, so it is only read on a page the prefilter lets through (here another
    tweet on the page); a page-wide form for every provider belongs in the scanner."""
    other = "https://twitter.com/jack/status/20"
    encoded = base64.b64encode(blockquote().encode("utf-8")).decode("ascii")
    text = page(
        blockquote(other),
        '<div class="BorlabsCookie _brlbs-cb-twitter"><div class="_brlbs-content-blocker">'
        '<div class="_brlbs-embed _brlbs-twitter"><p>Mit dem Laden des Tweets akzeptieren Sie die '
        "Datenschutzerklärung von Twitter.</p></div></div>"
        '<div class="borlabs-hide" data-borlabs-cookie-type="content-blocker" '
        'data-borlabs-cookie-id="twitter">'
        f'<script type="text/template">{encoded}</script></div></div>',
    )
    assert [ref.post_id for ref in tweets(text)] == ["20", TWEET_ID]


def test_synthetic_json_escaped_template_in_a_consent_div() -> None:
    escaped = blockquote().replace('"', '\\"').replace("/", "\\/").replace("<", "\\u003c")
    text = page(f'<div class="consent-embed"><script>render("{escaped}");</script><p>Load Twitter</p></div>')
    (ref,) = tweets(text)
    assert ref.post_id == TWEET_ID


def test_synthetic_template_in_a_big_block_is_its_own_unit() -> None:
    prose = "<p>" + "Long article text. " * 200 + "</p>"
    text = page(f'<div class="body">{prose}<script type="text/template">{blockquote()}</script>{prose}</div>')
    (ref,) = tweets(text)
    assert unit_of(text, ref).startswith('<script type="text/template">')


def test_synthetic_code_script_mentioning_a_tweet_is_not_a_template() -> None:
    assert tweets(page(f"<script>var html = '{blockquote()}';</script>")) == []


def test_synthetic_lazy_holder_with_the_embed_in_an_attribute() -> None:
    escaped = blockquote().replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    text = page(f'<blockquote class="twitter-embed-holder" data-src="{escaped}"></blockquote>')
    (ref,) = tweets(text)
    assert (ref.post_id, ref.markup) == (TWEET_ID, MarkupKind.BLOCKQUOTE)


def test_synthetic_gutenberg_comment_pair() -> None:
    text = (
        f'<!-- wp:embed {{"url":"{STATUS}","type":"rich","providerNameSlug":"twitter",'
        '"responsive":true} -->\n'
        '<figure class="wp-block-embed is-type-rich is-provider-twitter wp-block-embed-twitter">'
        f'<div class="wp-block-embed__wrapper">\n{STATUS}\n</div></figure>\n<!-- /wp:embed -->'
    )
    (ref,) = tweets(page(text))
    assert (ref.post_id, ref.markup) == (TWEET_ID, MarkupKind.BLOCK_COMMENT)


@pytest.mark.parametrize(
    "block",
    [
        f"<p>{STATUS}</p>",
        f'<p><a href="{STATUS}">{STATUS}</a></p>',
        f"\n{STATUS.replace('twitter.com', 'x.com')}\n",
        f"\n[embed]{STATUS}[/embed]\n",
    ],
)
def test_synthetic_bare_url(block: str) -> None:
    (ref,) = tweets(page(block))
    assert (ref.post_id, ref.markup) == (TWEET_ID, MarkupKind.BARE_URL)


def test_synthetic_ckeditor_oembed_tag() -> None:
    (ref,) = tweets(page(f'<figure class="media"><oembed url="{STATUS}"></oembed></figure>'))
    assert (ref.post_id, ref.markup) == (TWEET_ID, MarkupKind.OEMBED_TAG)


@pytest.mark.parametrize("attribute", ["data-url", "data-embedded-url", "data-resourceurl", "data-href"])
def test_synthetic_cms_placeholders(attribute: str) -> None:
    (ref,) = tweets(page(f'<div class="embed Twitter" {attribute}="{STATUS}"></div>'))
    assert (ref.post_id, ref.markup) == (TWEET_ID, MarkupKind.DIV)


def test_synthetic_drupal_media_oembed_iframe() -> None:
    text = page(
        '<div class="field--name-field-media-oembed-video">'
        '<iframe src="/media/oembed?url=https%3A//twitter.com/'
        f'elonmusk/status/{TWEET_ID}&amp;max_width=0&amp;max_height=0&amp;hash=Zp8" frameborder="0" '
        'class="media-oembed-content" title="Elon Musk on Twitter"></iframe></div>'
    )
    (ref,) = tweets(text)
    assert (ref.post_id, ref.markup) == (TWEET_ID, MarkupKind.IFRAME)


def test_synthetic_publisher_tweet_blockquote() -> None:
    """A publisher's own class (The Guardian writes `figure.element-tweet > blockquote.nojs-tweet`)."""
    text = page(
        f'<figure class="element element-tweet" data-canonical-url="{STATUS}">'
        + blockquote().replace('"twitter-tweet"', '"nojs-tweet"')
        + "</figure>"
    )
    (ref,) = tweets(text)
    assert (ref.post_id, ref.markup, ref.handle, ref.published) == (
        TWEET_ID,
        MarkupKind.BLOCKQUOTE,
        "elonmusk",
        "2023-11-04",
    )


def test_synthetic_click_to_tweet_quote_is_not_an_embed() -> None:
    quote = (
        '<blockquote class="tm-click-to-tweet"><p>Great quote worth sharing.</p>'
        '<a href="https://twitter.com/intent/tweet?text=Great%20quote&amp;via=site">Click to tweet</a>'
        "</blockquote>"
    )
    assert tweets(page(quote)) == []


def test_synthetic_lazy_video_iframe() -> None:
    text = page(
        f'<iframe src="about:blank" data-src="https://twitter.com/i/videos/tweet/{TWEET_ID}"></iframe>'
    )
    (ref,) = tweets(text)
    assert (ref.post_id, ref.markup) == (TWEET_ID, MarkupKind.IFRAME)


def test_synthetic_same_tweet_twice_is_two_embeds() -> None:
    found = tweets(page(blockquote(), LOADER, "<p>And again:</p>", blockquote(), LOADER))
    assert [ref.post_id for ref in found] == [TWEET_ID, TWEET_ID]


def test_synthetic_quoted_tweet_link_in_the_text_is_not_the_status() -> None:
    other = "https://twitter.com/someone/status/1111111111111111111"
    (ref,) = tweets(page(blockquote(text=f'Look <a href="{other}">at this</a>')))
    assert ref.post_id == TWEET_ID


def test_synthetic_video_blockquote() -> None:
    (ref,) = tweets(page(blockquote().replace('"twitter-tweet"', '"twitter-video" data-status="hidden"')))
    assert ref.post_id == TWEET_ID


@pytest.mark.parametrize(
    "text",
    [
        f'<p>As <a href="{STATUS}">Musk tweeted</a>, the compute is there.</p>',
        f"<p>Source: {STATUS} (retrieved today)</p>",
        '<a href="https://twitter.com/intent/tweet?text=Read&amp;url=https%3A%2F%2Fexample.com%2Fa">Tweet</a>',
        '<a class="twitter-share-button" href="https://twitter.com/share" data-url="https://example.com/a">Tweet</a>',
        '<a class="twitter-follow-button" href="https://twitter.com/elonmusk">Follow @elonmusk</a>',
        '<a class="twitter-timeline" href="https://twitter.com/elonmusk?ref_src=twsrc%5Etfw">Tweets</a>',
        '<footer><a href="https://x.com/example">X</a> <a href="https://twitter.com/example">Twitter</a></footer>',
        LOADER,
    ],
)
def test_synthetic_links_buttons_and_chrome_are_not_embeds(text: str) -> None:
    assert tweets(page(text)) == []


# ---- synthetic: residue ------------------------------------------------------------------------------------
def test_synthetic_residue_in_an_unclassed_blockquote() -> None:
    text = page(
        "<blockquote><p>Provided our vehicle AI computer is able to run the model.</p>"
        "&mdash; Elon Musk (@elonmusk) November 4, 2023</blockquote>"
    )
    (ref,) = tweets(text)
    assert ref.markup is MarkupKind.RESIDUE
    assert (ref.post_id, ref.url, ref.author_name, ref.handle, ref.published) == (
        None,
        None,
        "Elon Musk",
        "elonmusk",
        "2023-11-04",
    )
    assert ref.to_json()["date"] == "2023-11-04"
    assert unit_of(text, ref).startswith("<blockquote>")


@pytest.mark.parametrize(
    ("line", "author", "handle", "published"),
    [
        (
            "<p>&#8212; Donald J. Trump (@realDonaldTrump) May 2, 2020</p>",
            "Donald J. Trump",
            "realDonaldTrump",
            "2020-05-02",
        ),
        ("<p>— Ossoff’s Office (@SenOssoff) 26. Mai 2022</p>", "Ossoff’s Office", "SenOssoff", "2022-05-26"),
        (
            "<p>&mdash; マツモトケイジ (@keizi666) 2020年1月24日</p>",
            "マツモトケイジ",
            "keizi666",
            "2020-01-24",
        ),
        (
            "<p>&mdash; Mario Negri (@marioraulnegri) 4 de mayo de 2022</p>",
            "Mario Negri",
            "marioraulnegri",
            "2022-05-04",
        ),
        ("<p>&#x2014; Le Monde (@lemondefr) 12 février 2021</p>", "Le Monde", "lemondefr", "2021-02-12"),
    ],
)
def test_synthetic_residue_lines(line: str, author: str, handle: str, published: str) -> None:
    (ref,) = tweets(page(line))
    assert (ref.markup, ref.author_name, ref.handle, ref.published) == (
        MarkupKind.RESIDUE,
        author,
        handle,
        published,
    )


def test_synthetic_official_blockquote_without_status_link_is_residue() -> None:
    text = page(
        '<blockquote class="twitter-tweet"><p>Text</p>'
        "&mdash; Elon Musk (@elonmusk) November 4, 2023</blockquote>"
    )
    (ref,) = tweets(text)
    assert (ref.markup, ref.handle, ref.published, ref.caption) == (
        MarkupKind.RESIDUE,
        "elonmusk",
        "2023-11-04",
        "Text",
    )


def test_synthetic_stripped_blockquote_with_its_status_link_is_a_link_embed() -> None:
    (ref,) = tweets(page(blockquote().replace(' class="twitter-tweet"', "")))
    assert (ref.post_id, ref.markup, ref.handle) == (TWEET_ID, MarkupKind.LINK, "elonmusk")


@pytest.mark.parametrize(
    "text",
    [
        "<p>He answered — in a thread by Elon Musk (@elonmusk) — that it works.</p>",
        "<p>Follow the author — Jane Doe (@janedoe) on Twitter</p>",
        "<p>— Jane Doe (@jane.doe) May 2, 2020</p>",  # a dotted handle is no tweet's
        "<script>var s = '<p>&mdash; Elon Musk (@elonmusk) November 4, 2023</p>';</script>",
        "<p>Elon Musk (@elonmusk) November 4, 2023</p>",  # no dash: an ordinary byline
    ],
)
def test_synthetic_prose_is_not_residue(text: str) -> None:
    assert tweets(page(text)) == []


@pytest.mark.parametrize(
    ("text", "date"),
    [
        ("May 2, 2020", "2020-05-02"),
        ("Sept. 30, 2019", "2019-09-30"),
        ("2. Mai 2020", "2020-05-02"),
        ("2 juil. 2021", "2021-07-02"),
        ("2 juin 2021", "2021-06-02"),
        ("30 de abril de 2021", "2021-04-30"),
        ("2019년 1월 24일", "2019-01-24"),
        ("Apr 21, 2024 at 15:09", "2024-04-21"),
        ("31 listopada 2020", None),  # no such day
        ("Someday 2, 2020", None),
        ("May 2, 2020 and more", None),
    ],
)
def test_widget_dates(text: str, date: str | None) -> None:
    assert iso_date(text) == date


# ---- robustness --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "text",
    [
        '<blockquote class="twitter-tweet"><a href="https://twitter.com/a/status/'
        + "9" * 5000
        + '">x</a></blockquote>',
        f'<amp-twitter data-tweetid="{"1" * 100}"></amp-twitter><amp-twitter data-tweetid></amp-twitter>',
        '<div data-tweet-id="&#0;&#xD800;"></div><iframe data-tweet-id="-5"></iframe>',
        "<textarea>" + "<blockquote class='twitter-tweet'>" * 2000 + "</textarea>",
        '<blockquote class="twitter-x" data-src="<blockquote class=twitter-tweet>"></blockquote>',
        "<p>&mdash; (@) </p><p>— " + "(@a) " * 5000 + "</p>",
        '<blockquote class="twitter-tweet">&mdash; '
        + "N" * 100_000
        + " (@elonmusk) May 2, 2020</blockquote>",
    ],
)
def test_odd_markup_never_raises(text: str) -> None:
    tweets(page(text))
