"""Provider text made safe: captions as plain text and as a small allowlisted HTML.

Provider HTML is never spliced anywhere live; what we keep is text, or HTML reduced to p/br/a/em/strong
with http(s) links only (nh3, the Rust ammonia sanitiser).
"""

from __future__ import annotations

import html
import re

import nh3

MAX_TEXT_CHARS = 20_000
_ALLOWED_TAGS = {"p", "br", "a", "em", "strong"}
_ALLOWED_ATTRIBUTES = {"a": {"href"}}
_BLOCK_BREAK = re.compile(r"<\s*(br|/p|/div|/li)\b[^>]*>", re.IGNORECASE)
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n\s*\n\s*\n+")


def clean_html(fragment: str) -> str:
    """Allowlisted HTML: scripts, handlers, styles, images and non-http links are removed."""
    return nh3.clean(
        clip(fragment, MAX_TEXT_CHARS * 2),
        tags=_ALLOWED_TAGS,
        attributes=_ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https"},
        link_rel="noopener noreferrer nofollow",
        clean_content_tags={"script", "style"},
    ).strip()


def plain_text(fragment: str) -> str:
    """Readable text of an HTML fragment: line breaks kept, tags dropped, entities decoded."""
    with_breaks = _BLOCK_BREAK.sub("\n", clip(fragment, MAX_TEXT_CHARS * 2))
    text = html.unescape(nh3.clean(with_breaks, tags=set(), clean_content_tags={"script", "style"}))
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return clip(_BLANK_LINES.sub("\n\n", "\n".join(lines)).strip(), MAX_TEXT_CHARS)


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit]
