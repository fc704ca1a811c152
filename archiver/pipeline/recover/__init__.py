"""The recover stage: residue lines and lost spots paired with the posts that stood there, from earlier
copies of the article in public web archives (Memento TimeMaps, Wayback layout).

    recover(deps, sources=None, keys=None) -> RecoverReport      one run over the articles with spots

For each article with residue lines or lost spots and a public URL (`Article.url`), each configured
archive (`[[archives]]`) is asked for the article's TimeMap; copies are walked from the newest to the
oldest (`recover.max_copies` at most per run), each raw copy is scanned with our own scanner and every
spot not yet paired is paired when exactly one post of the copy fits it (`pairing`). A paired spot
gives: the post (an `Embed`, due for capture: its live ladder is climbed by `archive fetch` or the
daemon like any new post), a snapshot of what the copy's markup said of it (provenance: the rung
`memento:ARCHIVE`, the raw entry names the URI-M and its Memento-Datetime), and the embed's original
markup, kept on the `Recovery` row. A spot no copy pairs stays `unpaired`, listing the copies looked at
and why each did not pair. When an archive asks us to wait (429, Retry-After, 5xx, timeouts, a
truncated body, our own rate budget), the spots stay `pending` and a later run goes on: nothing here
sleeps. Copies that are not the article (the archive's error page, a login wall, a consent page) are
ignored and listed.

Then each paired post's own pages are looked up in the archives too (`postpages`: Instagram's captioned
embed page and the post page; other providers' post pages): the first copy that shows the post fills
the fields the markup lacked and gives its image, stored as a snapshot with the memento's provenance.
A post page says nothing of whether the post is alive today.

A paired spot whose post is confirmed gone gets its card from the rewrite stage
(`archiver.pipeline.rewrite.recovered`); one whose post answered live gets the original embed markup
kept on its `Recovery` row back (`archiver.pipeline.rewrite.putback`). The daemon runs `recover` as its
`recover` job.

Asking Save Page Now to archive posts is `archiver.pipeline.mirror`.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from archiver.clock import Clock
from archiver.config import Settings
from archiver.http import HttpClient
from archiver.pipeline.recover.memento import Archive, Copy
from archiver.pipeline.recover.pairing import Spot, pair
from archiver.pipeline.recover.postpages import look_up_post_pages, post_page_report
from archiver.pipeline.scan import scan_article
from archiver.providers import PROVIDERS
from archiver.providers.common.base import Provider
from archiver.records import Article as ArticleRecord
from archiver.records import EmbedRef, MarkupKind
from archiver.sources.files import decode_html
from archiver.storage import queries
from archiver.storage.blobs import BlobStore
from archiver.storage.models import Article, Embed, Occurrence, Snapshot

PAIRED = "paired"
UNPAIRED = "unpaired"
PENDING = "pending"


@dataclass(frozen=True, slots=True)
class RecoverDeps:
    sessions: sessionmaker[Session]
    http: HttpClient
    settings: Settings
    clock: Clock
    # Where the images of archived post pages go (`postpages`).
    blobs: BlobStore
    providers: tuple[Provider, ...] = PROVIDERS


@dataclass(frozen=True, slots=True)
class SpotReport:
    article: str
    url: str | None
    markup: str
    provider: str
    anchor: str
    state: str
    post: str | None = None
    post_url: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    archive: str | None = None
    memento_url: str | None = None
    memento_datetime: str | None = None
    reason: str | None = None
    copies: list[dict[str, Any]] = field(default_factory=list)
    # Whether this run looked the spot up (it was new or pending); the others were settled before.
    looked: bool = False
    # The paired post's own pages in the archives (`postpages.post_page_report`), once looked up.
    post_page: dict[str, Any] | None = None

    @property
    def waiting(self) -> bool:
        """Whether an archive left work for a later run: the spot, or its post's pages."""
        return self.state == PENDING or (self.post_page or {}).get("state") == PENDING

    def to_json(self) -> dict[str, Any]:
        return {
            "article": self.article,
            "article_url": self.url,
            "markup": self.markup,
            "provider": self.provider,
            "anchor": self.anchor,
            "state": self.state,
            "post": self.post,
            "post_url": self.post_url,
            "fields": self.fields,
            "archive": self.archive,
            "memento": self.memento_url,
            "memento_datetime": self.memento_datetime,
            "reason": self.reason,
            "copies": self.copies,
            "looked": self.looked,
            "post_page": self.post_page,
        }


@dataclass(frozen=True, slots=True)
class RecoverReport:
    spots: tuple[SpotReport, ...]

    @property
    def pending(self) -> int:
        return sum(1 for s in self.spots if s.waiting)


def recover(
    deps: RecoverDeps,
    sources: Collection[str] | None = None,
    keys: Collection[str] | None = None,
    *,
    stop: threading.Event | None = None,
    on_article: Callable[[list[SpotReport]], None] | None = None,
) -> RecoverReport:
    """One recovery run over the articles with spots (of `sources`, or with keys in `keys`), one
    transaction an article; `stop` (the daemon stopping) ends it between two articles."""
    archives = [Archive(settings, deps.http) for settings in deps.settings.archives]
    with deps.sessions() as session:
        article_ids = [a.id for a in queries.articles_with_spots(session, sources, keys)]
    reports: list[SpotReport] = []
    visited: list[int] = []
    for article_id in article_ids:
        if stop is not None and stop.is_set():
            break
        with deps.sessions() as session, session.begin():
            article = session.get(Article, article_id)
            found = _recover_article(session, deps, archives, article) if article is not None else []
        reports += found
        visited.append(article_id)
        if on_article is not None and found:
            on_article(found)
    if visited and not (stop is not None and stop.is_set()):
        # After every article's spots: pairing a spot is what makes a card possible at all, the posts'
        # pages add to it; the archives' budgets go to the spots first.
        reports = _post_pages(deps, archives, visited, reports, stop)
    return RecoverReport(tuple(reports))


def spot_reports(session: Session, sources: Collection[str] | None = None) -> list[SpotReport]:
    """What recovery knows of every spot (`archive recover --list`): the recovery rows, and the spots
    never looked up (no URL, or not run yet) as `new`."""
    reports: list[SpotReport] = []
    for article in queries.articles_with_spots(session, sources):
        for occurrence in queries.spots_of(session, article):
            spot = _spot(occurrence)
            row = queries.recovery_of(session, article.id, spot.markup.value, spot.anchor)
            report = _report(article, spot, row.state if row else "new", row)
            reports.append(_with_post_page(session, report, row))
    return reports


def _recover_article(
    session: Session, deps: RecoverDeps, archives: list[Archive], article: Article
) -> list[SpotReport]:
    now = deps.clock.now()
    spots = [_spot(o) for o in queries.spots_of(session, article)]
    open_spots: dict[str, Spot] = {}
    for spot in spots:
        row = queries.recovery_of(session, article.id, spot.markup.value, spot.anchor)
        if row is None or row.state == PENDING:
            open_spots[spot.anchor] = spot
    if not article.url:
        return [
            _report(article, s, "new", None, "the article has no public URL (url_template, url_column)")
            for s in spots
        ]
    looked: dict[str, list[dict[str, Any]]] = {anchor: [] for anchor in open_spots}
    waiting: str | None = None
    for archive in archives:
        if not open_spots:
            break
        timemap = archive.timemap(article.url)
        if timemap.result == "wait":
            waiting = timemap.reason
            continue
        newest_first = sorted(timemap.mementos, key=lambda m: m.datetime, reverse=True)
        for memento in newest_first[: deps.settings.recover.max_copies]:
            if not open_spots:
                break
            copy = archive.copy(memento, article.url, deps.settings.http.max_page_bytes)
            if copy.result == "wait":
                waiting = f"{archive.name}: {copy.reason}"
                break
            _look(session, deps, archive, article, copy, open_spots, looked, now)
    for anchor, spot in open_spots.items():
        state = PENDING if waiting else UNPAIRED
        reason = f"waiting: {waiting}" if waiting else "no copy showed an embed here"
        queries.save_recovery(
            session, article.id, spot.markup.value, anchor, now,
            provider=spot.hint or spot.provider, state=state, reason=reason, copies=looked[anchor],
        )  # fmt: skip
    reports = []
    for spot in spots:
        row = queries.recovery_of(session, article.id, spot.markup.value, spot.anchor)
        report = _report(article, spot, row.state if row else "new", row)
        reports.append(replace(report, looked=spot.anchor in looked))
    return reports


def _post_pages(
    deps: RecoverDeps,
    archives: list[Archive],
    article_ids: list[int],
    found: list[SpotReport],
    stop: threading.Event | None,
) -> list[SpotReport]:
    """The paired posts' own pages looked up (outside any article's transaction: see `postpages`), and
    what was found said on their spots' reports."""
    rows: dict[tuple[str, str, str], int | None] = {}
    with deps.sessions() as session:
        for article_id in article_ids:
            for row in queries.paired_recoveries(session, article_id):
                rows[(row.article.key, row.markup, row.anchor)] = row.embed_id
    look_up_post_pages(
        deps.sessions, archives, {e for e in rows.values() if e}, deps.clock.now(),
        settings=deps.settings, blobs=deps.blobs, providers=deps.providers, stop=stop,
    )  # fmt: skip
    with deps.sessions() as session:
        lookups = queries.post_page_lookups(session, {e for e in rows.values() if e})
        reports = []
        for report in found:
            embed_id = rows.get((report.article, report.markup, report.anchor))
            embed = session.get(Embed, embed_id) if embed_id else None
            if embed is None:
                reports.append(report)
                continue
            # The pages may have filled fields the markup lacked: say what the newest snapshot holds.
            latest = queries.latest_snapshot(session, embed)
            fields = _fields(latest) if latest is not None else report.fields
            reports.append(replace(report, fields=fields, post_page=post_page_report(lookups.get(embed.id))))
        return reports


def _look(
    session: Session,
    deps: RecoverDeps,
    archive: Archive,
    article: Article,
    copy: Copy,
    open_spots: dict[str, Spot],
    looked: dict[str, list[dict[str, Any]]],
    now: datetime,
) -> None:
    """Pair the open spots with the embeds of one copy; what was learned goes on the spots' lists."""
    entry: dict[str, Any] = {
        "archive": archive.name,
        "memento": copy.memento.uri,
        "datetime": (copy.datetime or copy.memento.datetime).isoformat(),
    }
    if copy.result != "ok":
        for anchor in open_spots:
            looked[anchor].append({**entry, "result": f"ignored: {copy.reason}"})
        return
    text, encoding = decode_html(copy.data)
    record = ArticleRecord(
        article.key, "memento", copy.data, text, encoding, hashlib.sha256(copy.data).hexdigest(), article.url
    )
    scanned = scan_article(record, deps.providers)
    if scanned.error is not None:
        for anchor in open_spots:
            looked[anchor].append({**entry, "result": f"ignored: {scanned.error}"})
        return
    for anchor, spot in list(open_spots.items()):
        pairing = pair(spot, record, scanned.embeds)
        looked[anchor].append({**entry, "result": pairing.reason})
        if pairing.ref is None:
            continue
        _store_pairing(session, archive, article, copy, spot, pairing.ref, pairing.original_markup, now)
        queries.save_recovery(
            session, article.id, spot.markup.value, anchor, now,
            provider=pairing.ref.provider, state=PAIRED, reason=pairing.reason, copies=looked[anchor],
        )  # fmt: skip
        del open_spots[anchor]


def _store_pairing(
    session: Session,
    archive: Archive,
    article: Article,
    copy: Copy,
    spot: Spot,
    ref: EmbedRef,
    original_markup: str | None,
    now: datetime,
) -> None:
    assert ref.post_id is not None and ref.url is not None
    embed, _ = queries.ensure_embed(session, ref.provider, ref.post_id, ref.url, now)
    values = ref.markup_fields()
    rung = f"memento:{archive.name}"
    stated = copy.datetime or copy.memento.datetime
    if values:
        raw = {
            "rung": rung,
            "url": copy.memento.uri,
            "status": 200,
            "content_type": copy.content_type,
            "body": original_markup or "",
            "error": None,
            "headers": {
                "memento-datetime": copy.headers.get("memento-datetime", ""),
                "x-archive": archive.name,
                "x-raw-copy": copy.raw_url,
            },
            "fetched_at": now.isoformat(),
        }
        digest = queries.content_sha256(values, [])
        provenance = dict.fromkeys(values, rung)
        # Dated by the copy: the card says when the archive saw the post, not when we found it.
        queries.add_archived_snapshot(session, embed, values, digest, provenance, [raw], stated)
    queries.save_recovery(
        session, article.id, spot.markup.value, spot.anchor, now,
        provider=ref.provider, state=PAIRED, embed_id=embed.id, archive=archive.name,
        memento_url=copy.memento.uri, memento_datetime=stated, original_markup=original_markup,
    )  # fmt: skip


def _with_post_page(session: Session, report: SpotReport, row: Any) -> SpotReport:
    if row is None or row.embed_id is None:
        return report
    return replace(report, post_page=post_page_report(queries.post_page_lookup(session, row.embed_id)))


def _fields(snapshot: Snapshot) -> dict[str, str]:
    """The fields a spot's report shows of its post's snapshot."""
    names = ("author_name", "handle", "text", "published")
    return {name: value for name in names if (value := getattr(snapshot, name))}


def _spot(occurrence: Occurrence) -> Spot:
    found = occurrence.found or {}
    return Spot(
        markup=MarkupKind(occurrence.markup),
        provider=occurrence.provider,
        hint=found.get("hint") if occurrence.markup == MarkupKind.LOST.value else occurrence.provider,
        handle=found.get("handle"),
        lead_in=found.get("lead_in"),
        shell=found.get("shell"),
        shell_number=found.get("shell_number"),
    )


def _report(article: Article, spot: Spot, state: str, row: Any, reason: str | None = None) -> SpotReport:
    embed = row.embed if row is not None else None
    snapshot_fields = _fields(embed.snapshots[-1]) if embed is not None and embed.snapshots else {}
    when = row.memento_datetime.isoformat() if row is not None and row.memento_datetime else None
    return SpotReport(
        article=article.key,
        url=article.url,
        markup=spot.markup.value,
        provider=row.provider if row is not None else (spot.hint or spot.provider),
        anchor=spot.anchor,
        state=state,
        post=f"{embed.provider}:{embed.post_id}" if embed is not None else None,
        post_url=embed.canonical_url if embed is not None else None,
        fields=snapshot_fields,
        archive=row.archive if row is not None else None,
        memento_url=row.memento_url if row is not None else None,
        memento_datetime=when,
        reason=reason or (row.reason if row is not None else None),
        copies=list(row.copies) if row is not None else [],
    )


__all__ = [
    "PAIRED",
    "PENDING",
    "UNPAIRED",
    "RecoverDeps",
    "RecoverReport",
    "SpotReport",
    "recover",
    "spot_reports",
]
