"""LinkedIn detection. No saved article page in the corpus embeds a LinkedIn post (pages only carry
share buttons and company links): the embed pages here are synthetic, written from
reference/providers.md section 16 (test names say so)."""

from __future__ import annotations

import pytest

from archiver.providers import provider_for_url, provider_named
from archiver.records import MarkupKind
from tests.support.corpus_scoring import available, found, page_names
from tests.support.embed_scan import assert_unit, embeds, keys, page

LI = "https://www.linkedin.com"
linkedin = provider_named("linkedin")
ACT, UGC = "7012345678901234568", "7012345678901234567"


@pytest.mark.parametrize(
    ("url", "urn"),
    [
        (f"{LI}/embed/feed/update/urn:li:share:6989898989898989898", "urn:li:share:6989898989898989898"),
        (f"{LI}/embed/feed/update/urn:li:ugcPost:{UGC}?compact=1", f"urn:li:ugcPost:{UGC}"),
        (f"{LI}/embed/feed/update/urn%3Ali%3Aactivity%3A{ACT}", f"urn:li:activity:{ACT}"),
        (f"{LI}/feed/update/urn:li:activity:{ACT}/", f"urn:li:activity:{ACT}"),
        (f"https://de.linkedin.com/posts/satya_ai-activity-{ACT}-AbCd", f"urn:li:activity:{ACT}"),
        (f"{LI}/posts/x_title-words-ugcPost-{UGC}-x1Y2/?utm_source=share", f"urn:li:ugcPost:{UGC}"),
    ],
)  # fmt: skip
def test_url_forms_give_the_urn(url: str, urn: str) -> None:
    post = linkedin.parse_url(url)
    assert post is not None
    assert (post.provider, post.post_id, post.url) == ("linkedin", urn, f"{LI}/feed/update/{urn}/")
    assert provider_for_url(url) == post


@pytest.mark.parametrize("url", [*linkedin.not_examples, f"{LI}/feed/update/urn:li:group:123456789/", ""])
def test_not_posts(url: str) -> None:
    assert linkedin.parse_url(url) is None


@pytest.mark.skipif(not available(), reason="shared corpus not present")
def test_dev_corpus_has_no_linkedin_embed() -> None:
    assert {name: got for name in page_names() if (got := found(name, ["linkedin"]))} == {}


def test_synthetic_embed_iframe() -> None:
    text = page(
        f'<iframe src="{LI}/embed/feed/update/urn:li:share:6989898989898989898" height="593" width="504" '
        'frameborder="0" allowfullscreen="" title="Embedded post"></iframe>'
    )
    (ref,) = embeds(text)
    assert (ref.post_id, ref.markup) == ("urn:li:share:6989898989898989898", MarkupKind.IFRAME)
    assert_unit(text, ref, "<iframe", "</iframe>")


def test_synthetic_bare_post_url() -> None:
    text = page(f"<p>{LI}/posts/satya_ai-activity-7012345678901234568-AbCd/</p>")
    assert keys(embeds(text)) == [("linkedin", "urn:li:activity:7012345678901234568", "bare-url")]


def test_synthetic_share_buttons_and_profiles_are_no_embeds() -> None:
    text = page(
        f'<a href="{LI}/shareArticle?mini=true&amp;url=https%3A%2F%2Fexample.com">Share</a>',
        f'<a href="{LI}/company/example-news/">LinkedIn</a>',
        f'<a href="{LI}/in/someone/">Someone</a>',
        f'<p>He <a href="{LI}/feed/update/urn:li:activity:7012345678901234568/">posted</a> about it.</p>',
    )
    assert embeds(text) == []
