"""Reddit: posts and comments (reference/providers.md section 9).

Detection: the two generations of the embed blockquote, `blockquote.reddit-embed-bq` (2024, loader
`embed.reddit.com/widgets.js`) and `blockquote.reddit-card` (up to 2021, loader
`embed.redditmedia.com/widgets/platform.js`), whose first link is the post; post and comment URLs on
reddit.com (any subdomain: www, old, np, new, m, amp) and the `redd.it/ID` short link; the rendered
iframes `embed.reddit.com/r/SUB/comments/ID/...` and `www.redditmedia.com/r/SUB/comments/ID/...`. Bare URLs,
Gutenberg blocks and CKEditor tags are the scanner's generic forms.

Not embeds: subreddit, user and wiki links, `/r/SUB/s/...` share links (they need a redirect to name a
post), and the widget script.

Id: the base-36 post id after `/comments/`; a comment embed is `POSTID/COMMENTID` (the comment is what
it shows). URL: `https://www.reddit.com/r/SUB/comments/ID/SLUG/` (`/user/NAME/` for a profile post, no
SLUG when the markup gives none, the comment id after it for a comment); `https://www.reddit.com/comments/ID/`
when only the id is known.

Capture is not implemented yet (`www.reddit.com/oembed`, no token; later the public `.json` of the post).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar

from selectolax.lexbor import LexborNode

from archiver.providers.base import MarkupFields, PostUrl, Provider, Sighting, has_class, node_text
from archiver.providers.urlparts import split_url
from archiver.records import MarkupKind

CANONICAL_BASE = "https://www.reddit.com"
# reddit.com subdomains that serve posts (not the media hosts: i.redd.it, v.redd.it, preview.redd.it).
PAGE_SUBDOMAINS = frozenset({"www", "old", "new", "np", "m", "amp", "i", "embed"})

_BASE36 = re.compile(r"[a-z0-9]{1,13}")
_NAME = re.compile(r"[A-Za-z0-9_-]{1,32}")
_SLUG = re.compile(r"[^/?#\s]{1,300}")


class Reddit(Provider):
    name = "reddit"
    title = "Reddit"
    hosts = frozenset({"reddit.com", "redditmedia.com", "redd.it"})
    endpoints: ClassVar[Mapping[str, str]] = MappingProxyType(
        {"oembed_endpoint": "https://www.reddit.com/oembed", "json_base": "https://www.reddit.com"}
    )
    recognises = (
        "post and comment URLs on reddit.com (/r/SUB/comments/ID/..., /user/NAME/comments/ID/...)"
        " and redd.it/ID",
        "the embed blockquotes blockquote.reddit-embed-bq (2024) and blockquote.reddit-card (up to 2021)"
        " with their widget scripts",
        "rendered embed iframes from embed.reddit.com and www.redditmedia.com",
        "not: subreddit, user and wiki links, /r/SUB/s/... share links",
    )
    examples = (
        "https://www.reddit.com/r/investing/comments/7pfpeq/buffett_on_cyrptocurrencies_i_can_say_almost_with/",
        "https://www.reddit.com/r/investing/comments/7pfpeq/buffett_on_cyrptocurrencies_i_can_say_almost_with/?ref_source=embed&ref=share",
        "https://old.reddit.com/r/aww/comments/4lwccv/someone_came_to_visit_woodchips_for_scale/",
        "https://www.reddit.com/r/aww/comments/4lwccv/someone_came_to_visit_woodchips_for_scale/d3qol9a",
        "https://www.reddit.com/r/aww/comments/4lwccv/comment/d3qol9a/",
        "https://www.reddit.com/user/dennisrieves/comments/7pfpeq/a_post/",
        "https://reddit.com/comments/7pfpeq",
        "https://redd.it/7pfpeq",
        "https://embed.reddit.com/r/investing/comments/7pfpeq/buffett/?embed=true&theme=dark",
        "https://www.redditmedia.com/r/aww/comments/4lwccv/someone_came_to_visit/?ref_source=embed&ref=share&embed=true",
        "https://www.reddit.com/gallery/4lwccv",
    )
    not_examples = (
        "https://www.reddit.com/r/investing/",
        "https://www.reddit.com/user/dennisrieves/",
        "https://www.reddit.com/r/investing/wiki/index",
        "https://www.reddit.com/r/investing/s/AbCdEfGh12",
        "https://embed.reddit.com/widgets.js",
        "https://embed.redditmedia.com/widgets/platform.js",
        "https://www.reddit.com/submit?url=https%3A%2F%2Fexample.com%2F",
        "https://i.redd.it/abcdef123456.jpg",
        "https://www.reddit.com.evil.example/r/a/comments/7pfpeq/x/",
    )

    stem = "redd"
    element_tags = ("blockquote",)
    loader_scripts = ("embed.reddit.com/widgets.js", "redditmedia.com/widgets/platform.js")

    # ---- URLs --------------------------------------------------------------------------------------
    def parse_url(self, url: str) -> PostUrl | None:
        parts = split_url(url)
        if parts is None:
            return None
        segments = parts.segments()
        if parts.host == "redd.it":
            return self.post(segments[0]) if len(segments) == 1 else None
        if not (_reddit_host(parts.host, "reddit.com") or _reddit_host(parts.host, "redditmedia.com")):
            return None
        prefix: list[str] = []
        if len(segments) >= 2 and segments[0] in ("r", "user", "u") and _NAME.fullmatch(segments[1]):
            prefix = ["r" if segments[0] == "r" else "user", segments[1]]
            segments = segments[2:]
        if len(segments) == 2 and segments[0] == "gallery" and not prefix:
            return self.post(segments[1])
        if len(segments) < 2 or segments[0] != "comments":
            return None
        slug = segments[2] if len(segments) >= 3 and _SLUG.fullmatch(segments[2]) else None
        comment = segments[3] if len(segments) >= 4 else None
        return self.post(segments[1], prefix, slug, comment)

    def post(
        self,
        post_id: str,
        prefix: list[str] | None = None,
        slug: str | None = None,
        comment: str | None = None,
    ) -> PostUrl | None:
        """The post (or one of its comments) with this id."""
        if not _BASE36.fullmatch(post_id) or (comment is not None and not _BASE36.fullmatch(comment)):
            return None
        tail = [slug or "_", comment] if comment else [slug] if slug else []
        path = "/".join([*(prefix or []), "comments", post_id, *tail])
        key = f"{post_id}/{comment}" if comment else post_id
        return PostUrl(self.name, key, f"{CANONICAL_BASE}/{path}/")

    # ---- markup ------------------------------------------------------------------------------------
    def read_element(self, node: LexborNode) -> Sighting | None:
        if not (has_class(node, "reddit-embed-bq") or has_class(node, "reddit-card")):
            return None
        post = None
        fields = MarkupFields()
        for link in node.css("a[href]"):
            href = link.attrs.get("href") or ""
            if post is None:
                post = self.parse_url(href)
                if post is not None:
                    fields = MarkupFields(caption=node_text(link) or None)
                    continue
            user = _user_link(href)
            if user is not None:
                fields = MarkupFields(handle=user, author_url=f"{CANONICAL_BASE}/user/{user}/").or_else(
                    fields
                )
        if post is None:
            return None
        created = (node.attrs.get("data-embed-created") or "").strip()
        if created:
            fields = MarkupFields(published=created[:40]).or_else(fields)
        return Sighting(self.name, post, MarkupKind.BLOCKQUOTE, node, fields)


def _reddit_host(host: str, domain: str) -> bool:
    if host == domain:
        return True
    return host.endswith("." + domain) and host.removesuffix("." + domain) in PAGE_SUBDOMAINS


def _user_link(href: str) -> str | None:
    parts = split_url(href)
    if parts is None or not _reddit_host(parts.host, "reddit.com"):
        return None
    segments = parts.segments()
    if len(segments) == 2 and segments[0] in ("user", "u") and _NAME.fullmatch(segments[1]):
        return segments[1]
    return None
