"""The `files` source: HTML files in a folder, a glob, or paths named on the command line.

Reading is careful about bytes: the article keeps its exact bytes (rewrites splice them later) and is
decoded by BOM, then `<meta charset>`, then strict UTF-8, then the configured fallback.
"""

from __future__ import annotations

import codecs
import glob
import hashlib
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

from archiver.config import ScanSettings
from archiver.errors import ArticleError
from archiver.records import Article
from archiver.sources.urls import url_from_template, url_in_page

HTML_SUFFIXES = (".html", ".htm", ".xhtml")
# The HTML standard's prescan looks at the first 1024 bytes; real pages put long <head> preambles
# (inline CSS, comments) first, so look further.
_PRESCAN_BYTES = 8192
_META_CHARSET = re.compile(rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9._:-]+)""", re.IGNORECASE)
_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# WHATWG Encoding: these labels mean windows-1252 in browsers.
_BROWSER_ALIASES = {
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "ascii": "cp1252",
    "us-ascii": "cp1252",
    "iso8859-1": "cp1252",
    "l1": "cp1252",
}
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "a gzip file"),
    (b"PK\x03\x04", "a zip file"),
    (b"%PDF", "a PDF file"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x7fELF", "an executable"),
)


@dataclass(frozen=True, slots=True)
class ArticleFile:
    """A file to read, and the name it is reported under (the path as the user gave it)."""

    path: Path
    label: str
    # The public URL the source's `url_template` gives the file (the page's own canonical URL wins).
    url: str | None = None


def decode_html(data: bytes, fallback: str = "cp1252") -> tuple[str, str]:
    """Decode article bytes; returns (text, encoding). Never raises for text; binary is refused."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), encoding
            except UnicodeDecodeError:
                break
    _refuse_binary(data)
    declared = _declared_charset(data[:_PRESCAN_BYTES])
    candidates = [c for c in (declared, "utf-8", fallback) if c]
    for encoding in candidates:
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError):
            continue
    # latin-1 maps every byte to one character, so offsets stay exact.
    return data.decode("latin-1"), "latin-1"


def read_article(file: ArticleFile, source: str, settings: ScanSettings, *, digest: bool = True) -> Article:
    """Read one HTML file into an `Article`, or raise `ArticleError` with one readable line. Without
    `digest` (a dry run stores nothing, so no change is told), `Article.sha256` is left empty."""
    try:
        size = file.path.stat().st_size
        if size > settings.max_article_bytes:
            raise ArticleError(
                f"{file.label}: skipped, {size / 1e6:.1f} MB is larger than "
                f"scan.max_article_bytes ({settings.max_article_bytes / 1e6:.1f} MB)"
            )
        data = file.path.read_bytes()
    except OSError as exc:
        raise ArticleError(f"{file.label}: cannot read: {exc.strerror or exc}") from None
    try:
        text, encoding = decode_html(data, settings.fallback_encoding)
    except ArticleError as exc:
        raise ArticleError(f"{file.label}: {exc}") from None
    return Article(
        key=file.label,
        source=source,
        data=data,
        text=text,
        encoding=encoding,
        sha256=hashlib.sha256(data).hexdigest() if digest else "",
        url=url_in_page(text) or file.url,
    )


def files_of(pattern: str) -> Iterator[ArticleFile]:
    """The HTML files named by a folder, a glob or a file path, in a stable order."""
    path = Path(pattern)
    if path.is_dir():
        found = sorted(p for p in path.rglob("*") if p.suffix.lower() in HTML_SUFFIXES and p.is_file())
        for p in found:
            yield ArticleFile(p, str(p))
    elif path.is_file():
        yield ArticleFile(path, pattern)
    elif glob.has_magic(pattern):
        for name in sorted(glob.glob(pattern, recursive=True)):
            if os.path.isfile(name):
                yield ArticleFile(Path(name), name)


def files_with_urls(pattern: str, url_template: str | None) -> Iterator[ArticleFile]:
    """`files_of(pattern)`, each with the public URL `url_template` gives it (when there is one)."""
    if not url_template:
        yield from files_of(pattern)
        return
    root = source_root(pattern)
    for file in files_of(pattern):
        try:
            relative = PurePosixPath(file.path.resolve().relative_to(root.resolve()).as_posix())
        except ValueError:
            relative = PurePosixPath(file.path.name)
        yield replace(file, url=url_from_template(url_template, relative))


def source_root(pattern: str) -> Path:
    """The folder a source's paths are relative to: the folder itself, or a glob's part before its first
    wildcard, or a file's folder."""
    path = Path(pattern)
    if path.is_dir():
        return path
    parts = path.parts
    for index, part in enumerate(parts):
        if glob.has_magic(part):
            return Path(*parts[:index]) if index else Path(".")
    return path.parent


def _declared_charset(head: bytes) -> str | None:
    match = _META_CHARSET.search(head)
    if not match:
        return None
    label = match.group(1).decode("ascii", "replace").strip().lower()
    label = _BROWSER_ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


# Every byte but the C0 controls that are not whitespace: deleting them leaves the controls to count.
_NOT_CONTROL = bytes(b for b in range(256) if not (b < 9 or 13 < b < 32))


def _refuse_binary(data: bytes) -> None:
    for magic, what in _MAGIC:
        if data.startswith(magic):
            raise ArticleError(f"not an HTML document: looks like {what}")
    head = data[:_PRESCAN_BYTES]
    if b"\x00" in head:
        raise ArticleError("not an HTML document: binary content (NUL bytes)")
    controls = len(head.translate(None, _NOT_CONTROL))
    if head and controls / len(head) > 0.05:
        raise ArticleError("not an HTML document: binary content (control characters)")
