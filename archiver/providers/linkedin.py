"""LinkedIn: posts (reference/providers.md section 16).

Detection: the "Embed this post" iframe `linkedin.com/embed/feed/update/urn:li:KIND:ID` (KIND is
`share`, `activity` or `ugcPost`; the colons may be percent-encoded), post URLs
`linkedin.com/feed/update/urn:li:KIND:ID` and `linkedin.com/posts/NAME_slug-KIND-ID-xxxx`. Bare URLs,
Gutenberg blocks and CKEditor tags are the scanner's generic forms.

Not embeds: profiles (`/in/`), company and school pages, Pulse articles, jobs, share buttons
(`shareArticle`, `sharing/share-offsite`), the site's own pages.

Id: the URN `urn:li:KIND:ID` (the kinds are separate number spaces: an activity and the share it shows
have different numbers). URL: `https://www.linkedin.com/feed/update/URN/`.

LinkedIn has no oEmbed endpoint. Capture is not implemented yet (later: the public embed page).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar
from urllib.parse import unquote

from archiver.providers.common.base import PostUrl, Provider
from archiver.providers.common.urlparts import split_url

CANONICAL_BASE = "https://www.linkedin.com"
# Subdomains serving the feed (country subdomains such as de.linkedin.com among them).
_SUBDOMAIN = re.compile(r"(?:www|m|[a-z]{2})")
# The URN kinds of a post, as LinkedIn spells them.
KINDS = {"share": "share", "activity": "activity", "ugcpost": "ugcPost"}

_URN = re.compile(r"urn:li:(?P<kind>share|activity|ugcPost):(?P<id>\d{6,25})", re.IGNORECASE)
# `/posts/NAME_slug-activity-7123456789012345678-AbCd`
_POST_SLUG = re.compile(
    r"[^/?#\s]*?-(?P<kind>activity|share|ugcPost)-(?P<id>\d{6,25})(?:-[A-Za-z0-9_-]{1,8})?"
)


class LinkedIn(Provider):
    name = "linkedin"
    title = "LinkedIn"
    hosts = frozenset({"linkedin.com"})
    endpoints: ClassVar[Mapping[str, str]] = MappingProxyType({"embed_page_base": "https://www.linkedin.com"})
    recognises = (
        "the post embed iframe linkedin.com/embed/feed/update/urn:li:(share|activity|ugcPost):ID",
        "post URLs linkedin.com/feed/update/urn:li:...:ID and linkedin.com/posts/NAME_slug-activity-ID-xxxx",
        "not: profiles, company pages, Pulse articles, jobs, share buttons",
    )
    examples = (
        "https://www.linkedin.com/embed/feed/update/urn:li:share:6989898989898989898",
        "https://www.linkedin.com/embed/feed/update/urn:li:ugcPost:7012345678901234567?compact=1",
        "https://www.linkedin.com/embed/feed/update/urn%3Ali%3Aactivity%3A7012345678901234568",
        "https://www.linkedin.com/feed/update/urn:li:activity:7012345678901234568/",
        "https://de.linkedin.com/posts/satyanadella_ai-activity-7012345678901234568-AbCd",
        "https://www.linkedin.com/posts/someone_title-words-here-ugcPost-7012345678901234567-x1Y2/?utm_source=share",
    )
    not_examples = (
        "https://www.linkedin.com/in/satyanadella/",
        "https://www.linkedin.com/company/microsoft/",
        "https://www.linkedin.com/pulse/some-article-someone/",
        "https://www.linkedin.com/shareArticle?mini=true&url=https%3A%2F%2Fexample.com",
        "https://www.linkedin.com/sharing/share-offsite/?url=https%3A%2F%2Fexample.com",
        "https://www.linkedin.com/jobs/view/123456789/",
        "https://www.linkedin.com/feed/",
        "https://www.linkedin.com.evil.example/feed/update/urn:li:activity:7012345678901234568/",
    )

    stem = "linkedin"

    def parse_url(self, url: str) -> PostUrl | None:
        parts = split_url(url)
        if parts is None or not _feed_host(parts.host):
            return None
        segments = list(parts.segments)
        if segments[:1] == ["embed"]:
            segments = segments[1:]
        if len(segments) == 3 and segments[:2] == ["feed", "update"]:
            match = _URN.fullmatch(unquote(segments[2]))
            return self.post(match.group("kind"), match.group("id")) if match else None
        if len(segments) == 2 and segments[0] == "posts":
            slug = _POST_SLUG.fullmatch(segments[1])
            return self.post(slug.group("kind"), slug.group("id")) if slug else None
        return None

    def post(self, kind: str, number: str) -> PostUrl:
        urn = f"urn:li:{KINDS[kind.lower()]}:{number}"
        return PostUrl(self.name, urn, f"{CANONICAL_BASE}/feed/update/{urn}/")


def _feed_host(host: str) -> bool:
    if host == "linkedin.com":
        return True
    return (
        host.endswith(".linkedin.com")
        and _SUBDOMAIN.fullmatch(host.removesuffix(".linkedin.com")) is not None
    )
