"""Hostile variants of real pages for the fuzz tests of the byte paths (scan, span locator, splice, verify).

A case is a corpus page (shared/corpus/dev/pages, the smaller ones) and a short list of mutations, each
a plain tuple `(kind, where, size)` so a failing case can be kept as an `@example` word for word:
`where` is a fraction of the page (0.0 to 1.0) saying where the mutation happens, `size` how much of it.

    truncate      cut the page at `where`
    unclose       delete `size` end tags from `where` on (unclosed elements)
    open_tags     insert `size` unclosed start tags (div, p, blockquote, figure, a, table) at `where`
    comment       open a comment at `where` and close it `size` bytes later (or never, size 0): across
                  an embed, or swallowing the rest of the page
    cdata         the same with `<![CDATA[` ... `]]>`
    latin1        re-encode `size` characters from `where` as windows-1252 (mixed encodings)
    utf16         insert `size` characters encoded as UTF-16 at `where`
    nul           insert `size` NUL bytes at `where`
    nest          insert `size` nested `<div>`s at `where` (10,000 deep at most), with or without ends
    embed         insert a known embed (blockquote, iframe, wp:embed block) at `where`, to put embeds
                  right next to the damage

`article_from(data)` reads the mutated bytes the way the files source does (BOM, `<meta charset>`,
UTF-8, windows-1252), which may refuse them with one line (`ArticleError`, e.g. NUL bytes up front).

Budgets: the CI profile (default) is derandomized with a fixed number of examples per test; set
`HYPOTHESIS_PROFILE=long` for a longer, random run (`examples(n)` gives 25 times as many).
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from archiver.records import Article
from archiver.sources.files import decode_html

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "dev" / "pages"
MAX_PAGE_BYTES = 120_000  # the smaller half of the corpus: keeps an example well under a second

_HEALTH = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile(
    "ci", deadline=None, derandomize=True, database=None, suppress_health_check=_HEALTH, print_blob=True
)
settings.register_profile(
    "long", deadline=None, derandomize=False, database=None, suppress_health_check=_HEALTH, print_blob=True
)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
FUZZ = settings.get_profile(PROFILE if PROFILE in ("ci", "long") else "ci")


def examples(count: int) -> int:
    """`count` examples in CI, 25 times as many in the long profile."""
    return count * 25 if PROFILE == "long" else count


@lru_cache(maxsize=1)
def page_names() -> tuple[str, ...]:
    if not CORPUS.is_dir():
        return ()
    return tuple(sorted(p.name for p in CORPUS.glob("*.html") if p.stat().st_size <= MAX_PAGE_BYTES))


@lru_cache(maxsize=64)
def page_bytes(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


EMBEDS = (
    b'<blockquote class="instagram-media" data-instgrm-permalink="https://www.instagram.com/p/Cz1Fuzz0001/"'
    b' data-instgrm-version="14"><div><a href="https://www.instagram.com/p/Cz1Fuzz0001/">A post shared by'
    b" Fuzz (@fuzz)</a></div></blockquote>"
    b'<script async src="//www.instagram.com/embed.js"></script>',
    b'<iframe width="560" height="315" src="https://www.youtube.com/embed/fuzzfuzz01A" allowfullscreen>'
    b"</iframe>",
    b'<!-- wp:embed {"url":"https://twitter.com/fuzz/status/1234567890123456789"} -->\n'
    b'<figure class="wp-block-embed"><div class="wp-block-embed__wrapper">\n'
    b"https://twitter.com/fuzz/status/1234567890123456789\n</div></figure>\n<!-- /wp:embed -->",
    b'<blockquote class="twitter-tweet"><p>Fuzzing &mdash; tweet</p>&mdash; Fuzz (@fuzz) '
    b'<a href="https://twitter.com/fuzz/status/1234567890123456780">May 2, 2020</a></blockquote>',
)
_END_TAG = re.compile(rb"</[a-zA-Z][a-zA-Z0-9-]*\s*>")
_OPEN_TAGS = (b"<div>", b"<p>", b"<blockquote>", b"<figure>", b"<a href='#'>", b"<table><tr><td>")

Mutation = tuple[str, float, int]
KINDS = ("truncate", "unclose", "open_tags", "comment", "cdata", "latin1", "utf16", "nul", "nest", "embed")


def mutation() -> st.SearchStrategy[Mutation]:
    return st.tuples(
        st.sampled_from(KINDS),
        st.floats(min_value=0.0, max_value=1.0, allow_nan=False),
        st.one_of(st.integers(0, 64), st.sampled_from([500, 2_000, 10_000])),
    )


def cases() -> st.SearchStrategy[tuple[str, list[Mutation]]]:
    """A corpus page name and one to three mutations."""
    return st.tuples(st.sampled_from(page_names()), st.lists(mutation(), min_size=1, max_size=3))


def mutate(data: bytes, mutations: list[Mutation]) -> bytes:
    for kind, where, size in mutations:
        data = _mutate_once(data, kind, where, size)
    return data


def _mutate_once(data: bytes, kind: str, where: float, size: int) -> bytes:
    at = int(len(data) * where)
    if kind == "truncate":
        return data[:at]
    if kind == "unclose":
        out, pos = bytearray(data[:at]), at
        for removed, match in enumerate(_END_TAG.finditer(data, at)):
            if removed >= max(size, 1):
                break
            out += data[pos : match.start()]
            pos = match.end()
        return bytes(out + data[pos:])
    if kind == "open_tags":
        tags = b"".join(_OPEN_TAGS[n % len(_OPEN_TAGS)] for n in range(min(size, 2_000)))
        return data[:at] + tags + data[at:]
    if kind in ("comment", "cdata"):
        opener, closer = (b"<!--", b"-->") if kind == "comment" else (b"<![CDATA[", b"]]>")
        if size == 0:
            return data[:at] + opener + data[at:]
        end = min(len(data), at + size * 37)
        return data[:at] + opener + data[at:end] + closer + data[end:]
    if kind == "latin1":
        text = data.decode("utf-8", "replace")
        start = int(len(text) * where)
        piece = text[start : start + max(size, 1) * 5]
        encoded = piece.encode("cp1252", "replace")
        cut = len(text[:start].encode("utf-8"))
        return data[:cut] + encoded + data[cut + len(piece.encode("utf-8")) :]
    if kind == "utf16":
        return data[:at] + ("é–✓ mixed " * max(size // 8, 1)).encode("utf-16-le") + data[at:]
    if kind == "nul":
        return data[:at] + b"\x00" * max(size, 1) + data[at:]
    if kind == "nest":
        depth = min(max(size, 1), 10_000)
        closed = b"</div>" * depth if size % 2 == 0 else b""
        return data[:at] + b"<div>" * depth + EMBEDS[size % len(EMBEDS)] + closed + data[at:]
    if kind == "embed":
        return data[:at] + EMBEDS[size % len(EMBEDS)] + data[at:]
    raise ValueError(f"no mutation {kind!r}")


def article_from(data: bytes, key: str = "fuzz.html") -> Article:
    """The mutated bytes read as the files source reads a file (raises `ArticleError` like it does)."""
    text, encoding = decode_html(data)
    return Article(key, "fuzz", data, text, encoding, "")
