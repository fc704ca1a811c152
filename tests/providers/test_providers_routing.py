"""The provider registry: every provider's examples route to it, and URLs that are not posts don't."""

from __future__ import annotations

import re

import pytest

from archiver.errors import UsageError
from archiver.providers import PROVIDERS, names, provider_for_url, provider_named
from archiver.providers.common.base import Provider

EXAMPLES = [(provider.name, url) for provider in PROVIDERS for url in provider.examples]
NOT_EXAMPLES = [(provider.name, url) for provider in PROVIDERS for url in provider.not_examples]


def test_registry_order_and_names() -> None:
    assert PROVIDERS[0].name == "instagram"
    assert names() == frozenset(provider.name for provider in PROVIDERS)
    assert len(names()) == len(PROVIDERS)


@pytest.mark.parametrize("provider", PROVIDERS, ids=lambda p: p.name)
def test_provider_declares_itself(provider: Provider) -> None:
    assert re.fullmatch(r"[a-z][a-z0-9_]*", provider.name)
    assert provider.title and provider.recognises
    # The generic oEmbed discovery provider (last) owns no host and routes no URL: it reads explicit
    # embed markup only (tests/test_provider_generic.py).
    assert (provider.examples and provider.hosts) or provider.name == "generic"
    assert provider_named(provider.name) is provider
    for host in provider.hosts:
        assert host == host.lower() and not host.startswith("www.")
    for key in provider.endpoints:
        assert key.endswith(("_endpoint", "_base")), key
    # The scanner fetches provider markup by tag name and relies on the stem covering hosts and markers.
    for tag in provider.element_tags:
        assert re.fullmatch(r"[a-z][a-z0-9-]*", tag), tag
    if provider.stem:
        assert all(provider.stem in name for name in (*provider.hosts, *provider.markers))


def test_instagram_declarations() -> None:
    instagram = provider_named("instagram")
    assert instagram.title == "Instagram"
    assert instagram.default_rate == "1000/h"
    assert dict(instagram.endpoints) == {
        "oembed_endpoint": "https://graph.facebook.com/v26.0/instagram_oembed",
        "embed_page_base": "https://www.instagram.com",
    }


def test_unknown_provider_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="no provider named 'myspace'"):
        provider_named("myspace")


@pytest.mark.parametrize(("name", "url"), EXAMPLES)
def test_examples_route_to_their_provider(name: str, url: str) -> None:
    post = provider_for_url(url)
    assert post is not None, url
    assert post.provider == name
    assert post.url.startswith("https://")
    # The canonical URL names the post (ids such as Bluesky's "did/rkey" or Mastodon's "host/id" in parts).
    assert all(part in post.url for part in post.post_id.split("/")), (post.url, post.post_id)


@pytest.mark.parametrize(("name", "url"), NOT_EXAMPLES)
def test_non_post_urls_route_nowhere(name: str, url: str) -> None:
    assert provider_for_url(url) is None


@pytest.mark.parametrize(
    ("url", "post_id", "canonical"),
    [
        (
            "https://www.instagram.com/p/Ci22crtrcRL/",
            "Ci22crtrcRL",
            "https://www.instagram.com/p/Ci22crtrcRL/",
        ),
        ("http://instagram.com/p/Ci22crtrcRL", "Ci22crtrcRL", "https://www.instagram.com/p/Ci22crtrcRL/"),
        (
            "https://WWW.Instagram.COM/p/Ci22crtrcRL/",
            "Ci22crtrcRL",
            "https://www.instagram.com/p/Ci22crtrcRL/",
        ),
        (
            "//www.instagram.com/p/Ci22crtrcRL/?utm_source=ig_embed&utm_campaign=loading",
            "Ci22crtrcRL",
            "https://www.instagram.com/p/Ci22crtrcRL/",
        ),
        (
            "https://m.instagram.com/p/Ci22crtrcRL/#x",
            "Ci22crtrcRL",
            "https://www.instagram.com/p/Ci22crtrcRL/",
        ),
        ("https://instagr.am/p/BalQ2SWFty8/", "BalQ2SWFty8", "https://www.instagram.com/p/BalQ2SWFty8/"),
        (
            "https://www.instagram.com/reel/CIyNZQhH4DQ/",
            "CIyNZQhH4DQ",
            "https://www.instagram.com/reel/CIyNZQhH4DQ/",
        ),
        (
            "https://www.instagram.com/reels/CIyNZQhH4DQ/",
            "CIyNZQhH4DQ",
            "https://www.instagram.com/reel/CIyNZQhH4DQ/",
        ),
        (
            "https://www.instagram.com/tv/CCX-gcHArcJ/embed/",
            "CCX-gcHArcJ",
            "https://www.instagram.com/tv/CCX-gcHArcJ/",
        ),
        (
            "https://www.instagram.com/spice.girls/p/ByxilPNJK3M/",
            "ByxilPNJK3M",
            "https://www.instagram.com/p/ByxilPNJK3M/",
        ),
        ("https://www.instagram.com/p/qps8IUgsqu/", "qps8IUgsqu", "https://www.instagram.com/p/qps8IUgsqu/"),
        (
            "  https://www.instagram.com/p/B-7VCGujSlI/\n",
            "B-7VCGujSlI",
            "https://www.instagram.com/p/B-7VCGujSlI/",
        ),
    ],
)
def test_instagram_url_forms(url: str, post_id: str, canonical: str) -> None:
    post = provider_named("instagram").parse_url(url)
    assert post is not None
    assert (post.provider, post.post_id, post.url) == ("instagram", post_id, canonical)


@pytest.mark.parametrize(
    "url",
    [
        "https://www.instagram.com/",
        "https://www.instagram.com/p/",
        "https://www.instagram.com/p/abc/",  # too short to be a shortcode
        "https://www.instagram.com/p/Ci22crt%rcRL/",
        "https://www.instagram.com/explore/",
        "https://www.instagram.com/stories/highlights/17890000000000000/",
        "https://www.instagram.com/direct/inbox/",
        "https://www.instagram.com/accounts/login/",
        "https://notinstagram.com/p/Ci22crtrcRL/",
        "https://instagram.com.evil.example/p/Ci22crtrcRL/",
        "https://www.facebook.com/plugins/post.php?href=https://www.instagram.com/p/Ci22crtrcRL/",
        "ftp://www.instagram.com/p/Ci22crtrcRL/",
        "",
    ],
)
def test_instagram_non_posts(url: str) -> None:
    assert provider_named("instagram").parse_url(url) is None


def test_profile_urls() -> None:
    instagram = provider_named("instagram")
    profile_url = instagram.profile_url  # type: ignore[attr-defined]
    assert profile_url("https://www.instagram.com/zashay.tastas/?utm_source=ig_embed") == (
        "https://www.instagram.com/zashay.tastas/"
    )
    assert profile_url("https://www.instagram.com/p/Ci22crtrcRL/") is None
    assert profile_url("https://www.instagram.com/explore/") is None


def test_post_urls_in_script_data() -> None:
    """Post URLs cut out of text and JSON, escaped slashes included (synthetic script data)."""
    data = (
        '{"a":"https:\\/\\/www.instagram.com\\/p\\/AAAAAAAAAAA\\/?igshid=x","b":"https://instagr.am/reel/BBBBBBBBBBB",'
        '"profile":"https://www.instagram.com/someone/","c":"//www.instagram.com/tv/CCCCCCCCCCC/embed"}'
    )
    posts = provider_named("instagram").post_urls_in(data)
    assert [(post.post_id, post.url) for post in posts] == [
        ("AAAAAAAAAAA", "https://www.instagram.com/p/AAAAAAAAAAA/"),
        ("BBBBBBBBBBB", "https://www.instagram.com/reel/BBBBBBBBBBB/"),
        ("CCCCCCCCCCC", "https://www.instagram.com/tv/CCCCCCCCCCC/"),
    ]
