"""The scan stage: articles in, embeds out (and the residue of broken ones, and our own cards).

Verbs:
    scan_article(article, providers) -> ScanResult     one article, one parse; never raises
    resolve_targets(...) / scan_targets(...)            read the articles of sources or paths, scan them and
                                                        (unless dry-running) store what was found
    archived_cards(text) / is_card(fragment)           our own fallback cards, found again in an article
    byte_offsets(text, data, encoding, offsets)        char offsets in the decoded text -> byte offsets
Records: ArticleReport, ArticleStatus, Target (what `scan_targets` reports on and is given), SourceAccess
(the HTTP client and scan-cursor database a wordpress source is listed with), ArchivedCard;
MARKER_ATTRIBUTE and VERSION_ATTRIBUTE name the attributes that mark a card as ours.

Inside: `page` (scan_article: which providers the page wants, the element pass, the source forms),
`forms` (embed forms every provider shares), `bare_urls` (a post URL standing alone as text), `leftovers`
(residue lines, URL-less placeholders), `services` (embed services' cards), `units` (sightings that are
one embed, joined and reported), `places`, `spans`, `offsets`, `archived`, `articles` (sources to stored
scans), `pool` (scanning files in worker processes).

May import: records, config, errors, clock, http (the client type a wordpress source is listed with),
providers (the registry and `providers.common`), sources, storage. Never capture, check or rewrite:
the other stages use scan, not the other way round.
"""

from __future__ import annotations

from archiver.pipeline.scan.archived import (
    MARKER_ATTRIBUTE,
    VERSION_ATTRIBUTE,
    ArchivedCard,
    archived_cards,
    is_card,
)
from archiver.pipeline.scan.articles import (
    ArticleReport,
    ArticleStatus,
    SourceAccess,
    Target,
    resolve_targets,
    scan_targets,
)
from archiver.pipeline.scan.offsets import byte_offsets
from archiver.pipeline.scan.page import scan_article

__all__ = [
    "MARKER_ATTRIBUTE",
    "VERSION_ATTRIBUTE",
    "ArchivedCard",
    "ArticleReport",
    "ArticleStatus",
    "SourceAccess",
    "Target",
    "archived_cards",
    "byte_offsets",
    "is_card",
    "resolve_targets",
    "scan_article",
    "scan_targets",
]
