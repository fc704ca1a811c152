"""Where an article is published: its public URL, which recovery looks up in web archives.

    url_in_page(text)                       <link rel="canonical"> first, then og:url, from the page's head
    url_from_template(template, relative)   a `files` source's `url_template` filled with a file's path

`url_template` holds `{path}` (the file's path relative to the source root, "/" separated, extension
kept: "2020/05/a.html") and/or `{path_noext}` (the same without the last extension: "2020/05/a"); a path
ending "index" (without extension) is written without it ("2020/05/index.html" -> "2020/05/"). A page's
own canonical or og:url wins over the template (it is what the site said its address was).
"""

from __future__ import annotations

import html
import re
from pathlib import PurePosixPath
from urllib.parse import quote, urlsplit

# The head is where these live; pages put long preambles first, so look a good way in.
_HEAD_CHARS = 65_536
_TAG = re.compile(r"<(link|meta)\b([^>]*)>", re.IGNORECASE)
_ATTRIBUTE = re.compile(r"""([a-zA-Z:_-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")


def url_in_page(text: str) -> str | None:
    """The page's own statement of its URL: `<link rel="canonical" href>`, else `<meta property="og:url">`;
    only absolute http(s) URLs count."""
    canonical: str | None = None
    og_url: str | None = None
    for match in _TAG.finditer(text, 0, min(len(text), _HEAD_CHARS)):
        attrs = {
            name.lower(): html.unescape(a or b or c) for name, a, b, c in _ATTRIBUTE.findall(match.group(2))
        }
        if match.group(1).lower() == "link" and "canonical" in attrs.get("rel", "").lower().split():
            canonical = canonical or _absolute(attrs.get("href", ""))
        elif attrs.get("property", attrs.get("name", "")).lower() == "og:url":
            og_url = og_url or _absolute(attrs.get("content", ""))
    return canonical or og_url


def url_from_template(template: str, relative: PurePosixPath) -> str:
    """`template` with `{path}` and `{path_noext}` filled from `relative` (see the module docstring)."""
    path = relative.as_posix()
    noext = str(relative.with_suffix("")) if relative.suffix else path
    if relative.stem == "index":
        parent = relative.parent.as_posix()
        path = noext = "" if parent == "." else parent + "/"
    return template.replace("{path}", quote(path, safe="/")).replace("{path_noext}", quote(noext, safe="/"))


def _absolute(url: str) -> str | None:
    url = url.strip()
    parts = urlsplit(url)
    return url if parts.scheme in ("http", "https") and parts.netloc else None
