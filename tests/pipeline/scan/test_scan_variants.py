"""The dev corpus pages written differently: the same embeds, located as before.

Real pages not in the corpus write the same markup with other habits: tags in capitals (older CMSs),
single or no quotes, one attribute a line, `&amp;` in URLs, CRLF line ends, a byte-order mark. Each
variant below rewrites every page in one such way (outside scripts, comments and other raw text, which a
browser does not read as markup either) and the scan must report the same multiset of (provider, id,
markup, located or not), with every span still on a unit that names its post. Nothing here reads the
corpus labels: the page as saved is the reference.
"""

from __future__ import annotations

import html
import re
from collections import Counter
from collections.abc import Callable

import pytest

from archiver.pipeline.scan import scan_article
from archiver.pipeline.scan.spans import SourceText
from archiver.records import Article, ScanResult
from tests.support.corpus_scoring import article, available, page_names, scanned

pytestmark = [pytest.mark.skipif(not available(), reason="shared corpus not present"), pytest.mark.slow]

_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_NAME = re.compile(r"^(</?)([A-Za-z][A-Za-z0-9-]*)")
_QUOTED = re.compile(r"(\s)([A-Za-z_:][-A-Za-z0-9_:.]*)(\s*=\s*)(\"[^\"]*\"|'[^']*')")
_PLAIN_VALUE = re.compile(r"[A-Za-z0-9_:/.?=-]+")
_BARE_AMPERSAND = re.compile(r"&(?![A-Za-z]+;|#)")

Rewrite = Callable[[str], str]


def _in_tags(rewrite_tag: Rewrite) -> Rewrite:
    """Rewrite every tag of the markup (text outside the opaque ranges: scripts, comments, raw text)."""

    def rewrite(text: str) -> str:
        pieces, at = [], 0
        for region in SourceText(text).opaque:
            pieces += [_TAG.sub(lambda m: rewrite_tag(m.group()), text[at : region.start])]
            pieces += [text[region.start : region.end]]
            at = region.end
        pieces += [_TAG.sub(lambda m: rewrite_tag(m.group()), text[at:])]
        return "".join(pieces)

    return rewrite


def _attributes(rewrite_one: Callable[[re.Match[str]], str]) -> Rewrite:
    return _in_tags(lambda tag: _QUOTED.sub(rewrite_one, tag))


def _single_quoted(m: re.Match[str]) -> str:
    value = m.group(4)
    if value.startswith('"') and "'" not in value:
        value = f"'{value[1:-1]}'"
    return m.group(1) + m.group(2) + m.group(3) + value


def _unquoted(m: re.Match[str]) -> str:
    value = m.group(4)[1:-1]
    written = value if _PLAIN_VALUE.fullmatch(value) else m.group(4)
    return m.group(1) + m.group(2) + m.group(3) + written


def _reversed_attributes(tag: str) -> str:
    name = _NAME.match(tag)
    if name is None or tag.startswith("</"):
        return tag
    attributes = [m.group(0).strip() for m in _QUOTED.finditer(tag)]
    rest = tag[name.end() : -1].removesuffix("/")
    if not attributes or len(" ".join(attributes)) < len(rest.strip()):
        return tag  # attributes without values in it: leave the tag as it is
    close = "/>" if tag.endswith("/>") else ">"
    return name.group(0) + "".join(" " + a for a in reversed(attributes)) + close


VARIANTS: dict[str, Rewrite] = {
    "tag names in capitals": _in_tags(lambda tag: _NAME.sub(lambda m: m.group(1) + m.group(2).upper(), tag)),
    "attribute names in capitals": _attributes(
        lambda m: m.group(1) + m.group(2).upper() + m.group(3) + m.group(4)
    ),
    "one attribute a line": _attributes(lambda m: "\n\t" + m.group(2) + m.group(3) + m.group(4)),
    "single quotes": _attributes(_single_quoted),
    "no quotes where none are needed": _attributes(_unquoted),
    "spaces around =": _attributes(lambda m: m.group(1) + m.group(2) + " = " + m.group(4)),
    "attributes in reverse order": _in_tags(_reversed_attributes),
    "& written &amp; in attribute values": _attributes(
        lambda m: m.group(1) + m.group(2) + m.group(3) + _BARE_AMPERSAND.sub("&amp;", m.group(4))
    ),
    "http URLs": _in_tags(lambda tag: tag.replace("https://", "http://")),
    "scheme-relative URLs": _in_tags(lambda tag: tag.replace("https://", "//")),
    "CRLF line ends": lambda text: text.replace("\r\n", "\n").replace("\n", "\r\n"),
    "a byte-order mark": lambda text: "\ufeff" + text,
}


def _as_article(name: str, text: str) -> Article:
    data = text.encode("utf-8", "surrogateescape")
    return Article(key=name, source="corpus", data=data, text=text, encoding="utf-8", sha256="")


def _summary(result: ScanResult) -> Counter[tuple[str, str | None, str, bool]]:
    return Counter((e.provider, e.post_id, e.markup.value, e.span is not None) for e in result.embeds)


def _misplaced(page: Article, result: ScanResult) -> list[str]:
    """Spans whose bytes do not name the post they report."""
    wrong = []
    for ref in result.embeds:
        if ref.span is None or not ref.post_id or ref.markup.value in ("script", "residue"):
            continue
        unit = html.unescape(page.data[ref.span.start : ref.span.end].decode("utf-8", "replace"))
        if ref.post_id.rsplit("/", 1)[-1] not in unit.replace("%2F", "/"):
            wrong.append(f"{ref.provider} {ref.post_id}: {unit[:120]!r}")
    return wrong


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_a_page_written_differently_has_the_same_embeds(variant: str) -> None:
    rewrite = VARIANTS[variant]
    differences = []
    changed = 0
    for name in page_names():
        original = article(name)
        text = rewrite(original.text)
        changed += text != original.text
        page = _as_article(name, text)
        result = scan_article(page)
        want, got = _summary(scanned(name)), _summary(result)
        if result.error or got != want:
            lost, gained = dict(want - got), dict(got - want)
            differences.append(f"{name}: lost {lost}, gained {gained} {result.error or ''}")
        differences += [f"{name}: {wrong}" for wrong in _misplaced(page, result)]
    assert changed >= 10, f"the variant changed {changed} pages: too few to tell anything"
    assert not differences, "\n".join(differences)


def test_commented_out_copies_of_every_embed_are_no_embeds() -> None:
    """Each unit followed by a copy of itself inside an HTML comment (markup an editor switched off): the
    page has the same embeds as before, a bare URL beside a comment included."""
    differences = []
    for name in page_names():
        original = article(name)
        data, pieces, at = original.data, [], 0
        for start, end in sorted((r.span.start, r.span.end) for r in scanned(name).embeds if r.span):
            if start < at:
                continue
            unit = data[start:end]
            pieces += [data[at:end]] + ([] if b"--" in unit else [b"<!-- " + unit + b" -->"])
            at = end
        text = b"".join([*pieces, data[at:]]).decode(original.encoding, "surrogateescape")
        result = scan_article(_as_article(name, text))
        want, got = _summary(scanned(name)), _summary(result)
        if result.error or got != want:
            differences.append(f"{name}: lost {dict(want - got)}, gained {dict(got - want)}")
    assert not differences, "\n".join(differences)
