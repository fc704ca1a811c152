"""Embed services: third parties that show a provider's post in their own markup, and a CMS's own oEmbed
route. The post is named inside their URLs, often percent-encoded (`url=https%3A%2F%2Ftwitter.com%2F...`),
where the page's host places (`places`) never show the provider, so their URLs are offered to every
provider, not only to those the page is known to want: the service's markup says "embed" by itself.

    iframe src=//cdn.embedly.com/widgets/media.html?url=POST&src=PLAYER       -> iframe   (Medium, CMSs)
    iframe src=//cdn.iframe.ly/api/iframe?url=POST                            -> iframe
    iframe src=/media/oembed?url=POST                                         -> iframe   (Drupal core)
    blockquote.embedly-card around a link to POST (+ platform.js after it)    -> blockquote
    a.embedly-card href=POST (Embedly's card link)                            -> link
    div.iframely-embed around a[href=POST][data-iframely-url] (+ embed.js)    -> div
    a[data-iframely-url] href=POST on its own                                 -> link

A card is read on a page that loads the service (its script or a player; without it a card renders as
the link it is). Embedly documents its cards as a blockquote or anchor of class `embedly-card` that
`platform.js` turns into its iframe; Iframely's embed codes are the div (or bare anchor) that `embed.js`
turns into its iframe. A card whose link is no provider's post is left alone (an article's link card is
no embed).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qsl

from selectolax.lexbor import LexborHTMLParser, LexborNode

from archiver.providers.common.base import PostUrl, Sighting, has_class
from archiver.records import MarkupKind

# Host names of the services, found by the same pass as the providers' (their cards and players are
# only looked for on a page that writes one).
SERVICE_HOSTS = ("embedly.com", "iframe.ly")
# The services' scripts that belong to a card when they directly follow it.
_CARD_LOADERS = ("embedly.com/widgets/platform.js", "iframe.ly/embed.js")
# Their player URLs (and Drupal's oEmbed route), up to the query that names the post.
_PLAYER = re.compile(
    r"(?:/media/oembed|//(?:cdn\.)?embedly\.com/widgets/media\.html|//(?:cdn\.)?iframe\.ly/api/iframe)"
    r"\?(?P<query>[^#\s]*)",
    re.IGNORECASE,
)
# Query parameters that name the post, best first (Embedly's `src` is the provider's player URL).
_POST_PARAMETERS = ("url", "src")
MAX_PLAYER_URL = 4_096
_CARD_MARKUP = {"blockquote": MarkupKind.BLOCKQUOTE, "div": MarkupKind.DIV}
_CARDS = "blockquote.embedly-card, a.embedly-card, div.iframely-embed, a[data-iframely-url]"

Route = Callable[[str], PostUrl | None]


def wrapped_urls(src: str) -> list[str]:
    """The URLs an embed service's player URL names its post by, decoded, best first ([]: no player)."""
    match = _PLAYER.search(src[:MAX_PLAYER_URL])
    if match is None:
        return []
    query = match.group("query").replace("&amp;", "&")
    parameters: dict[str, str] = {}
    for name, value in parse_qsl(query):
        parameters.setdefault(name.lower(), value)
    return [parameters[name] for name in _POST_PARAMETERS if parameters.get(name)]


def unwrapped_post(src: str, route: Route) -> PostUrl | None:
    """The post an embed service's player URL shows, for whichever provider recognises it."""
    for url in wrapped_urls(src):
        post = route(url)
        if post is not None:
            return post
    return None


def service_cards(tree: LexborHTMLParser, route: Route) -> list[Sighting]:
    """Embedly and Iframely cards whose link is a provider's post, in document order."""
    sightings: list[Sighting] = []
    for node in tree.css(_CARDS):
        if node.tag == "a" and _inside_card(node):
            continue  # the link of a card read whole
        post = _card_post(node, route)
        if post is None:
            continue
        markup = _CARD_MARKUP.get(node.tag or "", MarkupKind.LINK)
        sightings.append(Sighting(post.provider, post, markup, node))
    return sightings


def card_loaders(node: LexborNode) -> tuple[str, ...]:
    """The service scripts that belong to `node`'s unit when one directly follows it (it is a card)."""
    return _CARD_LOADERS if _is_card(node) else ()


def _is_card(node: LexborNode) -> bool:
    tag = node.tag
    if tag in ("blockquote", "a") and has_class(node, "embedly-card"):
        return True
    if tag == "div" and has_class(node, "iframely-embed"):
        return True
    return tag == "a" and "data-iframely-url" in node.attrs


def _card_post(node: LexborNode, route: Route) -> PostUrl | None:
    links = [node] if node.tag == "a" else node.css("a[href]")
    for link in links:
        attrs = link.attrs
        post = route((attrs.get("href") or "").strip())
        if post is None and attrs.get("data-iframely-url"):
            post = unwrapped_post(attrs.get("data-iframely-url") or "", route)
        if post is not None:
            return post
    return None


def _inside_card(link: LexborNode, limit: int = 8) -> bool:
    parent = link.parent
    for _ in range(limit):
        if parent is None:
            return False
        if _is_card(parent):
            return True
        parent = parent.parent
    return False
