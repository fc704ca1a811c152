"""Scoring detection against the labelled corpus (shared/corpus): per provider, per page, overall.

Labels are read from labels.json at run time, never copied into code. Matching follows the corpus
README: an embed is keyed on (provider, id) when the label has an id, else on (provider, url); the
comparison is a multiset (the same post embedded twice counts twice).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from archiver.config import ScanSettings
from archiver.pipeline.scan import scan_article
from archiver.records import Article, EmbedRef, ScanResult
from archiver.sources.files import ArticleFile, read_article

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "dev"
Key = tuple[str, str]


def available() -> bool:
    return (CORPUS / "labels.json").is_file()


@cache
def labels() -> dict[str, Any]:
    pages: dict[str, Any] = json.loads((CORPUS / "labels.json").read_text(encoding="utf-8"))["pages"]
    return pages


def page_names() -> list[str]:
    return sorted(labels()) if available() else []


@cache
def article(name: str) -> Article:
    path = CORPUS / "pages" / name
    return read_article(ArticleFile(path, name), "corpus", ScanSettings())


@cache
def scanned(name: str) -> ScanResult:
    return scan_article(article(name))


def normal_url(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").removeprefix("www.")
    return f"{host}{parts.path.rstrip('/')}" + (f"?{parts.query}" if parts.query else "")


def label_key(label: dict[str, Any]) -> Key:
    if label.get("id"):
        return (label["provider"], f"id:{label['id']}")
    return (label["provider"], f"url:{normal_url(label['url'] or '')}")


def found_key(ref: EmbedRef, ids_labelled: bool = True) -> Key:
    if ref.post_id and ids_labelled:
        return (ref.provider, f"id:{ref.post_id}")
    return (ref.provider, f"url:{normal_url(ref.url or '')}")


def expected(name: str, providers: Iterable[str] | None = None) -> Counter[Key]:
    wanted = set(providers) if providers is not None else None
    return Counter(
        label_key(e) for e in labels()[name]["embeds"] if wanted is None or e["provider"] in wanted
    )


def found(name: str, providers: Iterable[str] | None = None) -> Counter[Key]:
    wanted = set(providers) if providers is not None else None
    want = expected(name, providers)
    # A label without an id is matched on its URL; so is a found embed of such a post.
    url_keyed = {k for k in want if k[1].startswith("url:")}
    out: Counter[Key] = Counter()
    for ref in scanned(name).embeds:
        if ref.is_residue or (wanted is not None and ref.provider not in wanted):
            continue
        key = found_key(ref)
        if key not in want and (ref.provider, f"url:{normal_url(ref.url or '')}") in url_keyed:
            key = (ref.provider, f"url:{normal_url(ref.url or '')}")
        out[key] += 1
    return out


@dataclass
class Tally:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        labelled = self.true_positives + self.false_negatives
        return self.true_positives / labelled if labelled else 1.0


@dataclass
class PageScore:
    name: str
    labelled: int
    found: int
    missing: list[Key]
    extra: list[Key]

    @property
    def exact(self) -> bool:
        return not self.missing and not self.extra


@dataclass
class Score:
    overall: Tally = field(default_factory=Tally)
    by_provider: dict[str, Tally] = field(default_factory=dict)
    pages: list[PageScore] = field(default_factory=list)

    @property
    def pages_exact(self) -> float:
        return sum(p.exact for p in self.pages) / len(self.pages) if self.pages else 1.0

    def table(self) -> str:
        rows = [f"{'provider':16} {'TP':>5} {'FP':>4} {'FN':>4} {'precision':>9} {'recall':>7}"]
        for provider, t in sorted(self.by_provider.items()):
            rows.append(
                f"{provider:16} {t.true_positives:5} {t.false_positives:4} {t.false_negatives:4}"
                f" {t.precision:9.3f} {t.recall:7.3f}"
            )
        o = self.overall
        rows.append(
            f"{'ALL':16} {o.true_positives:5} {o.false_positives:4} {o.false_negatives:4}"
            f" {o.precision:9.3f} {o.recall:7.3f}"
        )
        rows.append(f"pages exactly right: {sum(p.exact for p in self.pages)}/{len(self.pages)}")
        rows.append("")
        rows.append(f"{'page':44} {'labelled':>8} {'found':>6}  missing / extra")
        for p in self.pages:
            mark = "" if p.exact else f"  {p.missing} / {p.extra}"
            rows.append(f"{p.name:44} {p.labelled:8} {p.found:6}{mark}")
        return "\n".join(rows)


def score(providers: Iterable[str] | None = None) -> Score:
    chosen = list(providers) if providers is not None else None
    result = Score()
    for name in page_names():
        want, got = expected(name, chosen), found(name, chosen)
        matched, missing, extra = want & got, want - got, got - want
        for counter, attr in (
            (matched, "true_positives"),
            (extra, "false_positives"),
            (missing, "false_negatives"),
        ):
            for (provider, _), n in counter.items():
                for tally in (result.overall, result.by_provider.setdefault(provider, Tally())):
                    setattr(tally, attr, getattr(tally, attr) + n)
        result.pages.append(
            PageScore(
                name,
                sum(want.values()),
                sum(got.values()),
                sorted(missing.elements()),
                sorted(extra.elements()),
            )
        )
    return result
