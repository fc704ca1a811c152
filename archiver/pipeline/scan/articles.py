"""Read articles from their sources, scan them, and (unless dry-running) store what was found.

Each article is its own unit: one that cannot be read is reported in one line and the run goes on;
an article whose bytes did not change since its last scan is skipped. With `workers` above 1, files are
read and scanned in that many processes (`pool`); results are stored here, in the files' order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from archiver.clock import Clock
from archiver.config import ScanSettings, SourceSettings
from archiver.errors import ArticleError
from archiver.http import HttpClient
from archiver.pipeline.scan.page import scan_article
from archiver.pipeline.scan.pool import FileJob, scan_files
from archiver.providers.common.base import Provider
from archiver.records import Article, EmbedRef, ScanResult
from archiver.sources.files import ArticleFile, files_of, read_article
from archiver.sources.kinds import open_store
from archiver.sources.store import FileStore, ListedStore
from archiver.sources.wordpress import PostListing, WordPressStore
from archiver.storage import queries
from archiver.storage.models import Source

AD_HOC_SOURCE = "local"


class ArticleStatus(StrEnum):
    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    SCANNED = "scanned"  # dry run: read and scanned, nothing stored
    ERROR = "error"


class ArticleItem(Protocol):
    """One article of a source, not read yet: a file, or a row of a sql source."""

    @property
    def key(self) -> str:
        """The article's key in its source (what the database stores)."""
        ...

    @property
    def label(self) -> str:
        """How reports name it."""
        ...

    def read(self, source: str, settings: ScanSettings, digest: bool) -> Article:
        """The article's bytes now; `ArticleError` in one line when it cannot be read."""
        ...


@dataclass(frozen=True, slots=True)
class FileItem:
    file: ArticleFile

    @property
    def key(self) -> str:
        return self.file.label

    @property
    def label(self) -> str:
        return self.file.label

    def read(self, source: str, settings: ScanSettings, digest: bool) -> Article:
        return read_article(self.file, source, settings, digest=digest)


@dataclass(frozen=True, slots=True)
class RowItem:
    store: ListedStore
    key: str

    @property
    def label(self) -> str:
        return self.store.label(self.key)

    def read(self, source: str, settings: ScanSettings, digest: bool) -> Article:
        return self.store.read(self.key)


class ArticleItems(Protocol):
    """The articles of a target: a tuple, or a listing read page by page as it is iterated."""

    def __iter__(self) -> Iterator[ArticleItem]: ...

    def __len__(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Target:
    """The articles of one source (files, rows of a sql source, posts of a WordPress site) and the
    source's name."""

    source: str
    kind: str
    items: ArticleItems


@dataclass(frozen=True, slots=True)
class SourceAccess:
    """What listing a wordpress source needs besides its settings: the HTTP client it is reached
    through, and the database its incremental scan cursor is kept in (`sessions`; None, as in a dry
    run: every post is listed and no cursor is read or moved)."""

    http: HttpClient
    clock: Clock
    sessions: sessionmaker[Session] | None = None
    full: bool = False  # list every post, not only those modified since the last scan


@dataclass(frozen=True, slots=True)
class ArticleReport:
    article: str
    status: ArticleStatus
    embeds: tuple[EmbedRef, ...] = ()
    error: str | None = None
    new_embeds: int = 0

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"article": self.article, "embeds": [e.to_json() for e in self.embeds]}
        if self.error is not None:
            out["error"] = self.error
        if self.status is not ArticleStatus.SCANNED:
            out["status"] = self.status.value
        return out


def resolve_targets(
    args: Iterable[str],
    sources: Iterable[SourceSettings],
    scan_settings: ScanSettings | None = None,
    env: Mapping[str, str] | None = None,
    access: SourceAccess | None = None,
) -> list[Target]:
    """Command-line words to targets: a configured source by name, else a path, folder or glob.

    A sql source is listed now (its keys); `ConfigError` or `StorageError` when it cannot be. A
    wordpress source (which needs `access`) has its first pages read now, `SourceError` when they
    cannot be, and the rest as it is scanned."""
    by_name = {s.name: s for s in sources}
    targets: list[Target] = []
    loose: list[ArticleItem] = []
    for arg in args:
        if arg in by_name:
            source = by_name[arg]
            items: ArticleItems
            http = access.http if access is not None else None
            store = open_store(source, scan_settings or ScanSettings(), env=env, http=http)
            if isinstance(store, FileStore):  # files are read by path (in worker processes, with --workers)
                items = tuple(FileItem(f) for f in store.files())
            elif isinstance(store, WordPressStore):
                assert access is not None  # open_store refuses a wordpress source without a client
                items = _wordpress_listing(store, access)
            else:
                items = tuple(RowItem(store, key) for key in store.article_keys())
            targets.append(Target(source.name, source.kind, items))
        else:
            found = tuple(files_of(arg))
            loose.extend(FileItem(f) for f in found or (ArticleFile(Path(arg), arg),))
    if loose:
        targets.append(Target(AD_HOC_SOURCE, "files", tuple(loose)))
    return targets


def _wordpress_listing(store: WordPressStore, access: SourceAccess) -> PostListing:
    """The posts of a wordpress source: modified since its cursor, or all of them (`full`, or no
    database); the cursor moves once the whole listing was scanned."""
    name, kind = store.source.name, store.source.kind
    sessions = access.sessions
    if sessions is None:
        return store.listing(None, None)
    since = None
    if not access.full:
        with sessions() as session:
            cursor = queries.scan_cursor(session, name)
        since = datetime.fromisoformat(cursor) if cursor else None

    def remember(cursor: datetime) -> None:
        with sessions() as session, session.begin():
            queries.set_scan_cursor(session, name, kind, cursor.isoformat(), access.clock.now())

    return store.listing(since, remember)


def scan_targets(
    targets: Iterable[Target],
    scan_settings: ScanSettings,
    providers: tuple[Provider, ...],
    *,
    sessions: sessionmaker[Session] | None,
    clock: Clock,
    on_article: Callable[[ArticleReport], None] | None = None,
    workers: int = 1,
) -> list[ArticleReport]:
    """Scan every article of the targets; store results unless `sessions` is None (dry run).

    `workers` > 1 scans files in that many processes (`ScanPoolError` if one dies); rows of a sql
    source are always read and scanned here."""
    reports: list[ArticleReport] = []
    for target in targets:
        # Only files go to workers; `target.kind` first: a wordpress listing is read as it is iterated.
        if workers > 1 and target.kind == "files" and all(isinstance(i, FileItem) for i in target.items):
            found = _scan_files_pooled(target, scan_settings, providers, sessions, clock, workers)
        else:
            found = _scan_target(target, scan_settings, providers, sessions, clock)
        for report in found:
            reports.append(report)
            if on_article is not None:
                on_article(report)
    return reports


def _scan_target(
    target: Target,
    scan_settings: ScanSettings,
    providers: tuple[Provider, ...],
    sessions: sessionmaker[Session] | None,
    clock: Clock,
) -> Iterator[ArticleReport]:
    for item in target.items:
        try:
            article = item.read(target.source, scan_settings, sessions is not None)
        except ArticleError as exc:
            yield _unreadable(target, item.key, item.label, str(exc), sessions, clock)
            continue
        if sessions is None:
            result = scan_article(article, providers)
            yield _report(item.label, ArticleStatus.SCANNED, result)
            continue
        with sessions() as session, session.begin():
            source = queries.ensure_source(session, target.source, target.kind, clock.now())
            if queries.article_unchanged(session, source, article.key, article.sha256):
                yield ArticleReport(item.label, ArticleStatus.UNCHANGED)
                continue
            yield _store(session, source, item.label, article, scan_article(article, providers), clock)


def _scan_files_pooled(
    target: Target,
    scan_settings: ScanSettings,
    providers: tuple[Provider, ...],
    sessions: sessionmaker[Session] | None,
    clock: Clock,
    workers: int,
) -> Iterator[ArticleReport]:
    """`_scan_target` for files, read and scanned by `workers` processes; stored here, in order."""

    def stored(batch: Sequence[FileJob]) -> list[FileJob]:
        assert sessions is not None
        with sessions() as session:
            digests = queries.scanned_digests(session, target.source, [job.file.label for job in batch])
        return [replace(job, stored_sha256=digests.get(job.file.label)) for job in batch]

    jobs = (FileJob(item.file, target.source) for item in target.items if isinstance(item, FileItem))
    digest = sessions is not None
    for done in scan_files(
        jobs, scan_settings, providers, workers, digest=digest, stored=stored if digest else None
    ):
        label = done.file.label
        if done.error is not None:
            yield _unreadable(target, label, label, done.error, sessions, clock)
        elif done.unchanged:
            yield ArticleReport(label, ArticleStatus.UNCHANGED)
        elif done.article is None or done.result is None:
            raise AssertionError("a scanned file comes back with its article and result")
        elif sessions is None:
            yield _report(label, ArticleStatus.SCANNED, done.result)
        else:
            with sessions() as session, session.begin():
                source = queries.ensure_source(session, target.source, target.kind, clock.now())
                yield _store(session, source, label, done.article, done.result, clock)


def _unreadable(
    target: Target, key: str, label: str, error: str, sessions: sessionmaker[Session] | None, clock: Clock
) -> ArticleReport:
    """An article that could not be read: recorded (unless dry-running) and reported in one line."""
    if sessions is not None:
        with sessions() as session, session.begin():
            source = queries.ensure_source(session, target.source, target.kind, clock.now())
            queries.record_article_error(session, source, key, error, clock.now())
    return ArticleReport(label, ArticleStatus.ERROR, error=error)


def _store(
    session: Session, source: Source, label: str, article: Article, result: ScanResult, clock: Clock
) -> ArticleReport:
    """Store one article's scan (or its scan error) in `session`; the caller commits."""
    known = queries.get_article(session, source, article.key) is not None
    if result.error is not None:
        queries.record_article_error(session, source, article.key, result.error, clock.now())
        return _report(label, ArticleStatus.ERROR, result)
    saved = queries.save_scan(session, source, article, result.embeds, clock.now())
    status = ArticleStatus.CHANGED if known else ArticleStatus.NEW
    return ArticleReport(label, status, result.embeds, new_embeds=saved.new_embeds)


def _report(label: str, status: ArticleStatus, result: ScanResult) -> ArticleReport:
    if result.error is not None:
        return ArticleReport(label, ArticleStatus.ERROR, error=result.error)
    return ArticleReport(label, status, result.embeds)
