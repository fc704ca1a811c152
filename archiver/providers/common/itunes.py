"""What Apple Music and Apple Podcasts share: Apple's item URLs (the storefront that starts their path) and
Apple's iTunes lookup API, their one public source.

Both list items per storefront: `music.apple.com/de/album/...`, `podcasts.apple.com/us/podcast/...`, and the
old `itunes.apple.com/CC/...` for either; the `embed.` subdomain of each site serves the players.
`ApplePlayerProvider` reads those URLs up to the storefront and leaves the rest of the path to the provider.

The lookup API: `GET {lookup_base}/lookup?id=ID&country=CC[&entity=podcastEpisode&limit=200]`, tokenless,
documented with the iTunes Search API (performance-partners.apple.com/search-api): always HTTP 200 with
`{"resultCount": N, "results": [...]}`. An item the storefront does not list is `resultCount: 0`, which
does not say why (removed, or not sold in that country, or not yet): never gone, only ambiguous. The
status codes are the API's own, not the item's: a 404 from it is no statement about the item either.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar
from urllib.parse import urlencode, urlsplit

from archiver.providers.common.base import PostUrl
from archiver.providers.common.context import CaptureContext
from archiver.providers.common.ladder import (
    RungResult,
    failed_rung,
    fetch,
    raw_response,
    reclassified,
    url_field,
)
from archiver.providers.common.players import PLAYER_TAGS, PlayerProvider
from archiver.providers.common.urlparts import UrlParts, on_host, split_url
from archiver.records import Outcome

_COUNTRY = re.compile(r"[A-Za-z]{2}")


class ApplePlayerProvider(PlayerProvider):
    """Base class of Apple Music and Apple Podcasts (see the module docstring)."""

    # The host of the item pages (`music.apple.com`); `embed.` before it is the player's.
    site: ClassVar[str]
    stem = "apple.com"
    element_tags = PLAYER_TAGS
    # Apple's Search API allows about 20 requests a minute for a client; Apple Music and Apple Podcasts
    # share the lookup host, so each takes half.
    default_rate = "10/m"

    def read_url(self, url: str) -> tuple[PostUrl, bool] | None:
        parts = split_url(url)
        if parts is None:
            return None
        if on_host(parts.host, self.site):
            player = parts.host == f"embed.{self.site}"
        elif parts.host == "itunes.apple.com":
            player = False
        else:
            return None
        country, segments = split_storefront(parts.segments)
        post = self.item(country, segments, parts)
        return (post, player) if post else None

    def item(self, country: str, segments: list[str], parts: UrlParts) -> PostUrl | None:
        """The item named by the path after its storefront (`segments`), or None."""
        raise NotImplementedError

    def lookup(self, ctx: CaptureContext, query: Mapping[str, str]) -> RungResult:
        """One request to the lookup API (`lookup_base`, configurable)."""
        return itunes_lookup(ctx, ctx.url("lookup_base", self.endpoints["lookup_base"]), query)


# ---- storefronts -------------------------------------------------------------------------------------
def split_storefront(segments: Sequence[str]) -> tuple[str, list[str]]:
    """The storefront (two-letter country, lower case; "us" when the path names none) and the segments
    after it."""
    if segments and _COUNTRY.fullmatch(segments[0]):
        return segments[0].lower(), list(segments[1:])
    return "us", list(segments)


def storefront(url: str) -> str:
    """The storefront of an Apple URL (`music.apple.com/de/...`: "de"), "us" by default."""
    return split_storefront([s for s in urlsplit(url).path.split("/") if s][:1])[0]


# ---- the lookup API ------------------------------------------------------------------------------------
def itunes_lookup(ctx: CaptureContext, base: str, query: Mapping[str, str]) -> RungResult:
    """One lookup request, classified; `data` is the answer when it has the lookup API's shape."""
    url = f"{base.rstrip('/')}/lookup?{urlencode(query)}"
    result = fetch(ctx, url, "lookup", max_bytes=ctx.max_json_bytes, accept="application/json")
    response = raw_response("lookup", result, ctx.clock.now().isoformat())
    failed = failed_rung(ctx, result, response, "iTunes lookup")
    if failed is not None:
        if failed.outcome is Outcome.GONE:
            return reclassified(
                failed,
                Outcome.AMBIGUOUS,
                f"iTunes lookup: the API itself answered {failed.status} (an item it does not list is"
                " resultCount 0, never a status)",
            )
        return failed
    try:
        data = json.loads(result.body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return RungResult(
            Outcome.AMBIGUOUS, "iTunes lookup: 200 but the body is not JSON", result.status, response
        )
    count = data.get("resultCount") if isinstance(data, dict) else None
    if not isinstance(count, int) or isinstance(count, bool) or not isinstance(data.get("results"), list):
        return RungResult(
            Outcome.AMBIGUOUS,
            "iTunes lookup: 200 but not the lookup API's answer (no resultCount and results)",
            result.status,
            response,
            body=response.body,
        )
    return RungResult(Outcome.OK, "iTunes lookup answered", result.status, response, data=data)


def lookup_results(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The result objects of a lookup answer (anything else in the list is ignored)."""
    results = data.get("results")
    return [item for item in results if isinstance(item, dict)] if isinstance(results, list) else []


def same_id(item: Mapping[str, Any], key: str, wanted: str) -> bool:
    """Whether the item's numeric id `key` is `wanted` (Apple sends numbers; strings are tolerated)."""
    value = item.get(key)
    if isinstance(value, bool) or not isinstance(value, int | str):
        return False
    return str(value).strip() == wanted


def artwork(item: Mapping[str, Any]) -> str | None:
    """The largest artwork URL a lookup result names."""
    return (
        url_field(item, "artworkUrl600")
        or url_field(item, "artworkUrl100")
        or url_field(item, "artworkUrl60")
    )


def not_in_storefront(rung: RungResult, country: str, listed: str, because: str) -> RungResult:
    """A lookup answer that does not show the item: ambiguous, since Apple does not say whether the item
    was removed or is not offered in the storefront (`listed`: what the answer held; `because`: how the
    storefront may lack it, "not sold")."""
    return reclassified(
        rung,
        Outcome.AMBIGUOUS,
        f"iTunes lookup: the {country.upper()} storefront {listed} (removed, or {because} there: Apple"
        " does not say which)",
    )
