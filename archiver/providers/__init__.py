"""The provider registry: every platform the archiver knows, in the order they are asked.

Order matters where URL patterns could overlap: specific platforms first, the generic oEmbed discovery
provider (when it exists) last. Adding a platform is one file in this package and one line here.
"""

from __future__ import annotations

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

PROVIDERS: tuple[Provider, ...] = (
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
    Generic(),
)

_BY_NAME = {provider.name: provider for provider in PROVIDERS}


def names() -> frozenset[str]:
    """The names of all registered providers (the keys of `[providers.NAME]` tables)."""
    return frozenset(_BY_NAME)


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
