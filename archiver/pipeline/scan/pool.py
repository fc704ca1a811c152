"""Scanning files in worker processes, so that a backfill of many articles uses every core.

Workers read, hash and scan files; the calling process keeps the database. It tells each worker the
sha256 stored for each file (an unchanged article is read and hashed, not scanned again), and gets the
results back in the files' order, a batch at a time, with only a few batches in flight: a million files
never become a million pending tasks. Worker processes are spawned, not forked, since the caller may
hold threads (a progress bar) and database connections that a fork would copy half-way; so a script
that calls this must guard its own work with `if __name__ == "__main__":` (the `archive` command does).
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from itertools import islice

from archiver.config import ScanSettings
from archiver.errors import ArticleError, ScanPoolError
from archiver.pipeline.scan.page import scan_article
from archiver.providers import PROVIDERS
from archiver.providers.common.base import Provider
from archiver.records import Article, ScanResult
from archiver.sources.files import ArticleFile, read_article

# Files per task: large enough that a task's round trip is small beside its scans (~2 ms a page).
BATCH = 32
# Batches in flight per worker: enough to keep every worker busy while the caller saves results.
AHEAD = 3


@dataclass(frozen=True, slots=True)
class FileJob:
    """One file to read and scan; `stored_sha256` is the digest of its last good scan, if any."""

    file: ArticleFile
    source: str
    stored_sha256: str | None = None


@dataclass(frozen=True, slots=True)
class FileScanned:
    """What a worker made of one file: an error line, unchanged, or the article and its scan.

    The article comes back without its decoded text (the caller stores its bytes' digest, size and
    encoding, never the text), and in a dry run without its bytes too: only what the caller uses
    crosses between processes."""

    file: ArticleFile
    article: Article | None = None
    result: ScanResult | None = None
    error: str | None = None
    unchanged: bool = False


# One set per worker process, set by `_start_worker`.
_settings: ScanSettings | None = None
_providers: tuple[Provider, ...] = ()
_digest = True


def _start_worker(settings: ScanSettings, provider_names: tuple[str, ...], digest: bool) -> None:
    global _settings, _providers, _digest
    _settings = settings
    _providers = tuple(p for p in PROVIDERS if p.name in provider_names)
    _digest = digest


def _scan_batch(jobs: Sequence[FileJob]) -> list[FileScanned]:
    assert _settings is not None, "worker not started"
    return [scan_file(job, _settings, _providers, _digest) for job in jobs]


def scan_file(
    job: FileJob, settings: ScanSettings, providers: tuple[Provider, ...], digest: bool
) -> FileScanned:
    """Read, hash and scan one file: a worker's task."""
    try:
        article = read_article(job.file, job.source, settings, digest=digest)
    except ArticleError as exc:
        return FileScanned(job.file, error=str(exc))
    if job.stored_sha256 is not None and job.stored_sha256 == article.sha256:
        return FileScanned(job.file, unchanged=True)
    result = scan_article(article, providers)
    return FileScanned(job.file, replace(article, text="", data=article.data if digest else b""), result)


def scan_files(
    jobs: Iterable[FileJob],
    settings: ScanSettings,
    providers: tuple[Provider, ...],
    workers: int,
    *,
    digest: bool,
    stored: Callable[[Sequence[FileJob]], Sequence[FileJob]] | None = None,
) -> Iterator[FileScanned]:
    """Scan `jobs` in `workers` processes; results come in the jobs' order.

    `stored` fills in each batch's stored digests just before the batch is sent (one query a batch,
    in the caller's process). `ScanPoolError` when a worker dies: results yielded before it stand.
    """
    names = tuple(p.name for p in providers)
    pending: deque[Future[list[FileScanned]]] = deque()
    batches = _batches(jobs)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, context, _start_worker, (settings, names, digest)) as pool:
        try:
            for batch in batches:
                pending.append(pool.submit(_scan_batch, stored(batch) if stored else batch))
                if len(pending) >= workers * AHEAD:
                    yield from pending.popleft().result()
            while pending:
                yield from pending.popleft().result()
        except BrokenProcessPool as exc:
            raise ScanPoolError(
                f"a scan worker process died ({exc or 'killed, or out of memory'}); what was scanned "
                "before is stored: scan again, with --workers 1 to see which article it was"
            ) from None
        finally:
            for future in pending:
                future.cancel()


def _batches(jobs: Iterable[FileJob]) -> Iterator[list[FileJob]]:
    it = iter(jobs)
    while batch := list(islice(it, BATCH)):
        yield batch
