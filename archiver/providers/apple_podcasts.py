"""Apple Podcasts: episodes and shows. No section in reference/providers.md, and Apple documents no oEmbed
endpoint; capture reads the public iTunes lookup API (`lookup_base`; see the capture section at the
end). `page_base` is declared for the episode pages but not read.

Detection: players `embed.podcasts.apple.com/CC/podcast/SLUG/idSHOW?i=EPISODE`, and the same on
`podcasts.apple.com` and the old `itunes.apple.com/CC/podcast/SLUG/idSHOW`, in every generic form. The id
is the episode id from `?i=` (as the corpus labels write it), else the show's number for a whole-show
embed; the canonical URL is on `podcasts.apple.com` and keeps `?i=`.

Not embeds: Apple Music and App Store links, podcast channels and categories.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar

from archiver.providers.common.av_capture import caption_fields
from archiver.providers.common.base import PostUrl
from archiver.providers.common.context import CaptureContext
from archiver.providers.common.itunes import (
    ApplePlayerProvider,
    artwork,
    lookup_results,
    not_in_storefront,
    same_id,
    storefront,
)
from archiver.providers.common.ladder import (
    RungResult,
    assemble,
    iso_utc,
    markup_fields,
    no_url,
    reclassified,
    text_field,
    url_field,
)
from archiver.providers.common.urlparts import UrlParts
from archiver.records import Capture, EmbedRef, Field, MediaRef, Outcome

_SHOW = re.compile(r"id([0-9]{1,20})")
_EPISODE = re.compile(r"[0-9]{1,20}")
_SLUG = re.compile(r"[^/?#\s]{1,255}")


class ApplePodcasts(ApplePlayerProvider):
    name = "apple_podcasts"
    title = "Apple Podcasts"
    hosts = frozenset({"podcasts.apple.com", "itunes.apple.com"})
    endpoints: ClassVar[Mapping[str, str]] = MappingProxyType(
        {"lookup_base": "https://itunes.apple.com", "page_base": "https://podcasts.apple.com"}
    )
    recognises = (
        "players embed.podcasts.apple.com/CC/podcast/SLUG/idSHOW?i=EPISODE (episode id from ?i=), whole-show"
        " players without ?i=",
        "the same on podcasts.apple.com and itunes.apple.com in WordPress, CKEditor and bare-URL embeds",
        "not embeds: Apple Music and App Store links",
    )
    examples = (
        "https://embed.podcasts.apple.com/us/podcast/how-to-avoid-inadvertently-being-a-bad-boss/id1393035987?i=1000561514664",
        "https://podcasts.apple.com/us/podcast/the-daily/id1200361736?i=1000650000000",
        "https://podcasts.apple.com/de/podcast/id1200361736",
        "https://embed.podcasts.apple.com/us/podcast/the-daily/id1200361736",
        "https://itunes.apple.com/us/podcast/electrek/id1320055779?mt=2",
    )
    not_examples = (
        "https://apps.apple.com/us/app/podcasts/id525463029",
        "https://podcasts.apple.com/us/genre/podcasts-news/id1489",
        "https://podcasts.apple.com/us/channel/the-new-york-times/id6442468580",
        "https://podcasts.apple.com/us/podcast/the-daily/1200361736",
    )

    site = "podcasts.apple.com"
    names = ("apple podcasts", "apple-podcasts", "applepodcasts", "podcasts.apple")

    def item(self, country: str, segments: list[str], parts: UrlParts) -> PostUrl | None:
        """The episode (`?i=`) or the show."""
        if not segments or segments[0] != "podcast" or len(segments) not in (2, 3):
            return None
        show = _SHOW.fullmatch(segments[-1])
        slug = segments[1] if len(segments) == 3 else None
        if show is None or (slug is not None and not _SLUG.fullmatch(slug)):
            return None
        show_id = str(int(show.group(1)))
        episode = parts.param("i") or ""
        path = "/".join(p for p in (country, "podcast", slug, f"id{show_id}") if p)
        if _EPISODE.fullmatch(episode):
            episode = str(int(episode))
            return PostUrl(self.name, episode, f"https://podcasts.apple.com/{path}?i={episode}")
        return PostUrl(self.name, show_id, f"https://podcasts.apple.com/{path}")

    # ---- capture ------------------------------------------------------------------------------------
    def capture(self, ref: EmbedRef, ctx: CaptureContext) -> Capture:
        """Markup, then the iTunes lookup API: the show, or the episode among the show's latest
        (`capture_podcast`)."""
        return capture_podcast(self, ref, ctx)


# ---- capture ------------------------------------------------------------------------------------------
# The iTunes lookup API (`itunes.itunes_lookup`), in the storefront of the embed's URL. A show is
# `lookup?id=SHOW`: a `wrapperType: "track"`, `kind: "podcast"` result (collectionId, collectionName,
# artistName, artistViewUrl, artworkUrl600). An episode cannot be looked up by its own id; it is found in
# `lookup?id=SHOW&entity=podcastEpisode&limit=200`, the show followed by its latest episodes
# (`wrapperType: "podcastEpisode"`: trackId, trackName, description, releaseDate in ISO 8601 UTC,
# artworkUrl600). An episode older than the latest 200, or one the storefront does not list, is
# ambiguous: the lookup cannot tell it from a removed one. Nothing here is ever gone.
EPISODES = 200
_SHOW_IN_URL = re.compile(r"/id([0-9]{1,20})(?:[?#]|$)")


def capture_podcast(provider: ApplePodcasts, ref: EmbedRef, ctx: CaptureContext) -> Capture:
    post = provider.parse_url(ref.url or "")
    if post is None:
        return no_url(provider.name, ref, "an Apple Podcasts show or episode")
    fields = markup_fields(ref)
    media: list[MediaRef] = []
    show = _SHOW_IN_URL.search(post.url)
    if show is None:
        return no_url(provider.name, ref, "an Apple Podcasts show or episode")
    show_id = str(int(show.group(1)))
    episode = post.post_id if "?i=" in post.url else None
    country = storefront(post.url)
    query = {"id": show_id, "country": country}
    if episode is not None:
        query.update(entity="podcastEpisode", limit=str(EPISODES))
    rung = provider.lookup(ctx, query)
    if rung.data is not None:
        rung = _read_lookup(show_id, episode, country, rung, rung.data, fields, media)
    return assemble(provider.name, ref.post_id, ref.url, [rung], fields, media)


def _read_lookup(
    show_id: str,
    episode_id: str | None,
    country: str,
    rung: RungResult,
    data: Mapping[str, object],
    fields: dict[str, Field],
    media: list[MediaRef],
) -> RungResult:
    items = lookup_results(data)
    show = next((i for i in items if not _is_episode(i) and same_id(i, "collectionId", show_id)), None)
    if show is None:
        listed = "does not list the show" if not items else "lists other items, not the show"
        return not_in_storefront(rung, country, listed, "not offered")
    episode = None
    if episode_id is not None:
        episode = next((i for i in items if _is_episode(i) and same_id(i, "trackId", episode_id)), None)
        if episode is None:
            return reclassified(
                rung,
                Outcome.AMBIGUOUS,
                f"iTunes lookup: the show is listed but the episode is not among its latest {EPISODES}"
                " (older, or removed: the lookup cannot tell)",
            )
    author_name = text_field(show, "artistName")
    author_url = url_field(show, "artistViewUrl")
    if author_name:
        fields["author_name"] = Field(author_name, "lookup")
    if author_url:
        fields["author_url"] = Field(author_url, "lookup")
    item = episode if episode is not None else show
    title = text_field(item, "trackName") if episode is not None else text_field(show, "collectionName")
    if title:
        fields["title"] = Field(title, "lookup")
    if episode is not None:
        description = text_field(episode, "description") or text_field(episode, "shortDescription")
        caption_fields(description, "lookup", fields)
        published = iso_utc(episode.get("releaseDate"), keep_day=True)
        if published:
            fields["published"] = Field(published, "lookup")
    image = artwork(item) or artwork(show)
    if image:
        media.append(MediaRef("thumbnail", image, "lookup"))
    return rung


def _is_episode(item: Mapping[str, object]) -> bool:
    return item.get("wrapperType") == "podcastEpisode"
