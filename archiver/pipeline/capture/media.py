"""Media bytes: what type they really are, decided from the bytes, never from the server's word.

Only formats a browser shows without running code are kept. SVG can carry script and HTML is a page,
so both are refused even when the server calls them image/jpeg.
"""

from __future__ import annotations

import re

_SCRIPTABLE = re.compile(rb"^\s*(<\?xml|<!doctype|<svg|<html|<head|<body|<script|<!--)", re.IGNORECASE)


def sniff_media_type(data: bytes) -> str | None:
    """The MIME type of an image or video by its magic bytes; None when not an accepted format."""
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if len(data) >= 12 and data[4:8] == b"ftyp":
        brand = data[8:12]
        if brand in (b"avif", b"avis"):
            return "image/avif"
        return "video/mp4"
    return None


def refusal_reason(data: bytes, declared: str) -> str:
    """One line saying why bytes that are not an accepted media type were refused."""
    if _SCRIPTABLE.match(data[:512]):
        kind = "SVG" if b"<svg" in data[:4096].lower() else "HTML/XML"
        return f"refused: content is {kind}, not an image (server said {declared or 'nothing'})"
    return f"refused: not a JPEG, PNG, GIF, WebP or MP4 file (server said {declared or 'nothing'})"
