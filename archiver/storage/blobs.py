"""The content-addressed media store: a file's name is the sha256 of its bytes.

`BlobStore` is what the pipeline and the viewer use; `LocalBlobStore` keeps files on local disk as
`root/ab/cd/<sha256>`. An S3-compatible backend can implement the same four methods later.

A write is atomic and durable before `put` returns (temp file in the same folder, fsync, rename,
fsync of the folder), so the database row that points at a blob can be inserted after it, and a crash
never leaves a half-written file under a final name. Sniffing types and capping sizes is the caller's job.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from archiver.errors import NotFound, StorageError

# Prefix of in-flight files; a garbage collector may delete old ones (they are never final names).
TEMP_PREFIX = ".tmp-"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class StoredBlob:
    """A blob in the store: its hash, its size, and where the backend keeps it (path or key)."""

    sha256: str
    size: int
    path: str


class BlobStore(Protocol):
    def put(self, data: bytes) -> StoredBlob:
        """Store `data` under its sha256 (a no-op when already stored) and return where it is."""
        ...

    def exists(self, sha256: str) -> bool:
        """Whether a blob with this hash is stored."""
        ...

    def open(self, sha256: str) -> bytes:
        """The bytes of a stored blob; `NotFound` when there is none."""
        ...

    def path_for(self, sha256: str) -> str:
        """Where the blob with this hash is (or would be) kept."""
        ...


def check_sha256(sha256: str) -> str:
    """`sha256` if it is 64 lower-case hex digits; anything else could walk out of the store."""
    if not _SHA256.match(sha256):
        raise ValueError(f"not a sha256 hex digest: {sha256[:80]!r}")
    return sha256


class LocalBlobStore:
    """Blobs as files under `root`, fanned out by the first two byte pairs of their hash."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str) -> str:
        return str(self._path(sha256))

    def exists(self, sha256: str) -> bool:
        return self._path(sha256).is_file()

    def open(self, sha256: str) -> bytes:
        path = self._path(sha256)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise NotFound(f"no media file {sha256} in {self.root}") from None
        except OSError as exc:
            raise StorageError(f"cannot read media file {path}: {exc.strerror or exc}") from exc

    def put(self, data: bytes) -> StoredBlob:
        sha256 = hashlib.sha256(data).hexdigest()
        path = self._path(sha256)
        stored = StoredBlob(sha256=sha256, size=len(data), path=str(path))
        with suppress(OSError):
            # Same name means same content; a size mismatch can only be damage, which a rewrite repairs.
            if path.stat().st_size == len(data):
                return stored
        try:
            created = self._make_folders(path.parent)
            self._write_atomically(path, data)
            for folder in created:
                _fsync_folder(folder.parent)
        except OSError as exc:
            raise StorageError(f"cannot store media file in {self.root}: {exc.strerror or exc}") from exc
        return stored

    def _path(self, sha256: str) -> Path:
        check_sha256(sha256)
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def _make_folders(self, folder: Path) -> list[Path]:
        """Create `folder` and missing parents; return the ones created, deepest last."""
        missing: list[Path] = []
        current = folder
        while not current.is_dir():
            missing.append(current)
            if current.parent == current:
                break
            current = current.parent
        created: list[Path] = []
        for each in reversed(missing):
            with suppress(FileExistsError):  # another process made it first
                each.mkdir()
                created.append(each)
        return created

    def _write_atomically(self, path: Path, data: bytes) -> None:
        fd, temp_name = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as temp:
                # mkstemp makes files private; media is served to readers of the archive.
                os.fchmod(temp.fileno(), 0o644)
                temp.write(data)
                temp.flush()
                os.fsync(temp.fileno())
            os.replace(temp_name, path)
        except BaseException:
            with suppress(OSError):
                os.unlink(temp_name)
            raise
        _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    """Make a rename or a new entry in `folder` survive a power loss."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
