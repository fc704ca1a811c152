"""The providers: one module per platform, and this registry of them, in the order they are asked.

What lives here:

    PLATFORMS            one instance of each platform's provider (`instagram.py`, `twitter.py`, ...), in
                         the order they are asked; where URL patterns could overlap, specific ones first
    PROVIDERS            the platforms, then the generic oEmbed discovery provider (`generic.py`), which
                         reads only what none of them claims and is handed them when it is made
    names(), provider_named(), provider_for_url(), enabled_providers(settings)
                         the registry's questions; `enabled_providers` is the one place that says which
                         providers a run uses (`[providers.NAME] enabled`)
    common/              what several platforms share (base class, capture ladder, URL reading...)

A platform module imports `providers.common` and nothing else of this package (one platform's knowledge
may span two modules named for it: `twitter.py` and `twitter_syndication.py`). `common/` never imports a
platform module or this registry. Nothing in `providers/` imports the pipeline, storage or the edges: a
provider receives an HTTP client and returns records. Adding a platform is one module here and one line
in `PLATFORMS`.
"""

from __future__ import annotations

from archiver.config import Settings
from archiver.errors import UsageError
from archiver.providers.apple_music import AppleMusic
from archiver.providers.apple_podcasts import ApplePodcasts
from archiver.providers.bluesky import Bluesky
from archiver.providers.common.base import PostUrl, Provider
from archiver.providers.dailymotion import Dailymotion
from archiver.providers.facebook import Facebook
from archiver.providers.generic import Generic
from archiver.providers.giphy import Giphy
from archiver.providers.imgur import Imgur
from archiver.providers.instagram import Instagram
from archiver.providers.linkedin import LinkedIn
from archiver.providers.mastodon import Mastodon
from archiver.providers.pinterest import Pinterest
from archiver.providers.reddit import Reddit
from archiver.providers.soundcloud import SoundCloud
from archiver.providers.spotify import Spotify
from archiver.providers.threads import Threads
from archiver.providers.tiktok import TikTok
from archiver.providers.twitch import Twitch
from archiver.providers.twitter import Twitter
from archiver.providers.vimeo import Vimeo
from archiver.providers.youtube import YouTube

PLATFORMS: tuple[Provider, ...] = (
    Instagram(),
    Twitter(),
    YouTube(),
    TikTok(),
    Facebook(),
    Threads(),
    Bluesky(),
    Mastodon(),
    Reddit(),
    Vimeo(),
    Dailymotion(),
    Spotify(),
    SoundCloud(),
    AppleMusic(),
    ApplePodcasts(),
    Pinterest(),
    Imgur(),
    Giphy(),
    Twitch(),
    LinkedIn(),
)
PROVIDERS: tuple[Provider, ...] = (*PLATFORMS, Generic(PLATFORMS))

_BY_NAME = {provider.name: provider for provider in PROVIDERS}


def names() -> frozenset[str]:
    """The names of all registered providers (the keys of `[providers.NAME]` tables)."""
    return frozenset(_BY_NAME)


def enabled_providers(settings: Settings) -> tuple[Provider, ...]:
    """The providers `settings` turn on (`[providers.NAME] enabled`), in registry order: the one place
    that says which are on."""
    return tuple(p for p in PROVIDERS if settings.provider(p.name).enabled)


def provider_named(name: str) -> Provider:
    """The provider called `name`; UsageError (one readable line) when there is none."""
    try:
        return _BY_NAME[name]
    except KeyError:
        known = ", ".join(sorted(_BY_NAME))
        raise UsageError(f"no provider named {name!r} (known: {known})") from None


def provider_for_url(url: str) -> PostUrl | None:
    """The post behind `url` according to the first provider that recognises it, or None."""
    for provider in PROVIDERS:
        post = provider.parse_url(url)
        if post is not None:
            return post
    return None
