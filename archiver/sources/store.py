"""Sources that take articles back: reading the current bytes and writing new ones, atomically.

    ArticleStore.read(key)                          the article as it is now (`records.Article`)
    ArticleStore.write(key, data, expected_sha256)  replace it, unless it is no longer `expected_sha256`
    ListedStore.article_keys() / .label(key)         a store that lists its articles by key (sql)

`write` is a compare-and-swap: when the article changed since it was read (an editor saved it), it
raises `WriteConflict` and writes nothing, so an editor's change is never overwritten. A store never
leaves a half-written article: the old bytes or the new ones, whatever happens.

`FileStore` is the `files` source: keys are the paths the scan stored (relative ones are relative to
the working directory, or to `root`); `files()` lists a configured source's folder or glob. The new
bytes go to a temporary file in the same folder (`.NAME.archiver-XXXX.tmp`, never an *.html name, so
no scan reads it), which is fsynced, given the original's permission bits and owner, renamed over the
original (`os.replace`, atomic on POSIX), and the folder is fsynced. A symlinked article is written
where the link points; the link stays.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from archiver.config import ScanSettings
from archiver.errors import StorageError, WriteConflict
from archiver.records import Article
from archiver.sources.files import ArticleFile, files_with_urls, read_article

TEMP_SUFFIX = ".archiver.tmp"


class ArticleStore(Protocol):
    def read(self, key: str) -> Article:
        """The article `key` as it is now; `ArticleError` when it cannot be read."""
        ...

    def write(self, key: str, data: bytes, expected_sha256: str) -> None:
        """Replace the article with `data` if it still has the hash `expected_sha256`, atomically.

        Raises `WriteConflict` (nothing written) when it changed, `StorageError` when it cannot be
        written (nothing written either)."""
        ...


class ListedStore(ArticleStore, Protocol):
    """A store that lists its articles by key (a scan reads them one by one, by key)."""

    def article_keys(self) -> Iterator[str]:
        """The keys of the articles, in a stable order."""
        ...

    def label(self, key: str) -> str:
        """How reports name the article `key`."""
        ...


class FileStore:
    """Articles as files: the `files` source."""

    def __init__(
        self,
        source: str,
        settings: ScanSettings,
        root: Path | None = None,
        pattern: str = "",
        url_template: str | None = None,
    ) -> None:
        self.source = source
        self.settings = settings
        self.root = root
        # The configured folder, glob or file (`[[sources]] path`); empty for paths named ad hoc.
        self.pattern = pattern
        # The source's `url_template`: where each file is published (a page's own canonical URL wins).
        self.url_template = url_template

    def files(self) -> Iterator[ArticleFile]:
        """The HTML files of the configured `pattern`, in a stable order (none without one), each with
        the public URL the source's `url_template` gives it."""
        if self.pattern:
            yield from files_with_urls(self.pattern, self.url_template)

    def path(self, key: str) -> Path:
        path = Path(key)
        return path if path.is_absolute() or self.root is None else self.root / path

    def read(self, key: str) -> Article:
        return read_article(ArticleFile(self.path(key), key), self.source, self.settings)

    def write(self, key: str, data: bytes, expected_sha256: str) -> None:
        path = Path(os.path.realpath(self.path(key)))
        folder = path.parent
        try:
            info = path.stat()
            if _sha256_of(path) != expected_sha256:
                raise WriteConflict(f"{key}: changed since it was read; nothing written")
            handle, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=folder)
        except FileNotFoundError:
            raise WriteConflict(f"{key}: no longer exists; nothing written") from None
        except OSError as exc:
            raise StorageError(f"{key}: cannot write: {exc.strerror or exc}") from None
        temp = Path(temp_name)
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
                out.flush()
                os.fchmod(out.fileno(), info.st_mode & 0o7777)
                if (info.st_uid, info.st_gid) != (os.geteuid(), os.getegid()):
                    with contextlib.suppress(PermissionError):
                        os.fchown(out.fileno(), info.st_uid, info.st_gid)
                os.fsync(out.fileno())
            # The last look before the swap: an editor's save since the first look wins.
            if _identity(path.stat()) != _identity(info):
                raise WriteConflict(f"{key}: changed while it was being written; nothing written")
            os.replace(temp, path)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                temp.unlink()
            if isinstance(exc, OSError):
                raise StorageError(f"{key}: cannot write: {exc.strerror or exc}") from None
            raise
        _fsync_folder(folder)


def stale_temp_files(path: Path) -> list[Path]:
    """Temporary files a crashed write of the article at `path` may have left next to it."""
    real = Path(os.path.realpath(path))
    return sorted(real.parent.glob(f".{real.name}.*{TEMP_SUFFIX}"))


def _identity(info: os.stat_result) -> tuple[int, int, int, int]:
    """What changes when a file is saved again (in place or by rename)."""
    return (info.st_ino, info.st_dev, info.st_size, info.st_mtime_ns)


def _sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
