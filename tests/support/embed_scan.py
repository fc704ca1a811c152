"""Helpers for the per-provider scan tests: scan a snippet, read a fixture, check a span is its unit."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

from archiver.pipeline.scan import scan_article
from archiver.records import Article, EmbedRef, MarkupKind

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "providers"
_OPEN = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)")


def article(text: str, key: str = "page") -> Article:
    raw = text.encode("utf-8")
    return Article(key, "test", raw, text, "utf-8", hashlib.sha256(raw).hexdigest())


def embeds(text: str) -> list[EmbedRef]:
    """The embeds the scanner reports for `text` (which must scan without error)."""
    result = scan_article(article(text))
    assert result.error is None, result.error
    return list(result.embeds)


def of(provider: str, text: str) -> list[EmbedRef]:
    return [ref for ref in embeds(text) if ref.provider == provider]


def keys(refs: list[EmbedRef]) -> list[tuple[str, str | None, str]]:
    return [(ref.provider, ref.post_id, ref.markup.value) for ref in refs]


def fixture(path: str) -> str:
    return (FIXTURES / path).read_text(encoding="utf-8")


def oembed_html(path: str) -> str:
    """The `html` of a recorded oEmbed answer (a `.body.json`, or a `.response.json` with `body_json`)."""
    data = json.loads(fixture(path))
    body = data.get("body_json", data)
    html: str = body["html"]
    return html


def span_text(text: str, ref: EmbedRef) -> str:
    assert ref.span is not None, f"no span for {ref}"
    return text.encode("utf-8")[ref.span.start : ref.span.end].decode("utf-8")


def assert_unit(text: str, ref: EmbedRef, starts: str, ends: str) -> str:
    """The span of `ref` starts and ends as given (the whole unit a rewrite would replace)."""
    unit = span_text(text, ref)
    assert unit.startswith(starts), unit[:120]
    assert unit.rstrip().endswith(ends), unit[-120:]
    if ref.markup is not MarkupKind.BARE_URL:
        assert _OPEN.match(unit), unit[:80]
    return unit


def page(*parts: str) -> str:
    """A small article page around `parts` (with the chrome most pages carry: share and follow links)."""
    body = "\n".join(parts)
    return (
        "<!doctype html><html><head><title>t</title></head><body><article>\n"
        "<p>Intro paragraph of the article.</p>\n"
        f"{body}\n"
        "<p>Closing paragraph.</p>\n</article></body></html>"
    )
