"""The content-addressed media store: a file's name is the sha256 of its bytes.

`BlobStore` is what the pipeline and the viewer use; `blob_store(settings.media)` picks the backend:

    LocalBlobStore   files on local disk as `root/ab/cd/<sha256>` (the default)
    S3BlobStore      objects in an S3-compatible bucket as `[prefix/]ab/cd/<sha256>` (extra `s3`)

A write is durable before `put` returns (locally: temp file in the same folder, fsync, rename, fsync of
the folder; on S3 a PUT is atomic), so the database row that points at a blob can be inserted after it,
and a crash never leaves a half-written blob under a final name. Sniffing types and capping sizes is the
caller's job.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from archiver.errors import NotFound, StorageError

if TYPE_CHECKING:
    from archiver.config import MediaSettings

# Prefix of in-flight files; a garbage collector may delete old ones (they are never final names).
TEMP_PREFIX = ".tmp-"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
# Where a blob or an in-flight file may be, relative to the store's root (or prefix).
_STORED_KEY = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{2}/(?:[0-9a-f]{64}|" + re.escape(TEMP_PREFIX) + r"[\w.-]+)$")


@dataclass(frozen=True, slots=True)
class StoredBlob:
    """A blob in the store: its hash, its size, and where the backend keeps it (path or key)."""

    sha256: str
    size: int
    path: str


@dataclass(frozen=True, slots=True)
class BlobEntry:
    """One thing in the store, as the garbage collector sees it: a blob (`sha256`) or a leftover
    in-flight file (`sha256` None), its key relative to the store, and when it was last written."""

    key: str
    sha256: str | None
    modified: datetime


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

    def entries(self) -> Iterator[BlobEntry]:
        """Every blob and leftover in-flight file in the store (for the garbage collector)."""
        ...

    def delete(self, key: str, written_before: datetime) -> bool:
        """Delete the entry `key` unless it was written at or after `written_before` (a capture stored
        it again meanwhile); whether it was deleted. An entry already gone is not an error."""
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

    def entries(self) -> Iterator[BlobEntry]:
        if not self.root.is_dir():
            return
        for first in sorted(self.root.iterdir()):
            if not first.is_dir() or len(first.name) != 2:
                continue
            for second in sorted(first.iterdir()):
                if not second.is_dir():
                    continue
                for path in sorted(second.iterdir()):
                    key = f"{first.name}/{second.name}/{path.name}"
                    if not _STORED_KEY.match(key):
                        continue
                    try:
                        modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
                    except OSError:
                        continue  # deleted meanwhile
                    yield BlobEntry(key, None if path.name.startswith(TEMP_PREFIX) else path.name, modified)

    def delete(self, key: str, written_before: datetime) -> bool:
        if not _STORED_KEY.match(key):
            raise ValueError(f"not a key of the media store: {key[:120]!r}")
        path = self.root / key
        try:
            if datetime.fromtimestamp(path.stat().st_mtime, UTC) >= written_before:
                return False
            path.unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise StorageError(f"cannot delete media file {path}: {exc.strerror or exc}") from exc
        return True

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


# S3 error codes that mean "no such object" (HEAD answers with the bare status, GET with NoSuchKey).
_S3_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})


class S3BlobStore:
    """Blobs as objects of an S3-compatible bucket, keyed `[prefix/]ab/cd/<sha256>` like the local store.

    Credentials come only from the standard AWS chain (environment, shared files, instance roles), never
    from the archiver's settings. boto3 is imported here, not at the top, because it is the optional
    extra `s3`. Every transport or service error becomes a one-line `StorageError`.
    """

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        client: Any = None,
    ) -> None:
        try:
            import boto3
            from botocore.exceptions import BotoCoreError, ClientError
        except ImportError:
            raise StorageError(
                "media.backend = \"s3\" needs boto3: pip install 'embed-archiver[s3]'"
            ) from None
        self.bucket = bucket
        self.prefix = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
        self._client_error: type[Exception] = ClientError
        self._errors: tuple[type[Exception], ...] = (ClientError, BotoCoreError)
        self._where = f"s3://{bucket}/{self.prefix}"
        if client is None:
            try:
                # A session of our own: boto3's default session is shared and not safe across threads.
                client = boto3.session.Session().client(
                    "s3", endpoint_url=endpoint_url or None, region_name=region or None
                )
            except (BotoCoreError, ValueError) as exc:
                raise StorageError(f"cannot use S3 media store {self._where}: {_one_line(exc)}") from None
        self._client = client

    def path_for(self, sha256: str) -> str:
        return f"s3://{self.bucket}/{self._key(sha256)}"

    def exists(self, sha256: str) -> bool:
        return self._size_of(self._key(sha256), forbidden_means_missing=False) is not None

    def open(self, sha256: str) -> bytes:
        key = self._key(sha256)
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=key)
            body = response["Body"]
            try:
                # StreamingBody.read checks the length against Content-Length (IncompleteReadError).
                data: bytes = body.read()
            finally:
                body.close()
        except self._errors as exc:
            if self._code(exc) in _S3_MISSING:
                raise NotFound(f"no media file {sha256} in {self._where}") from None
            raise StorageError(f"cannot read media file {self.path_for(sha256)}: {_one_line(exc)}") from exc
        return data

    def put(self, data: bytes) -> StoredBlob:
        sha256 = hashlib.sha256(data).hexdigest()
        key = self._key(sha256)
        stored = StoredBlob(sha256=sha256, size=len(data), path=f"s3://{self.bucket}/{key}")
        # Same key means same content; a size mismatch can only be damage, which an upload repairs.
        if self._size_of(key, forbidden_means_missing=True) == len(data):
            return stored
        try:
            self._client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=data,
                ContentType="application/octet-stream",
                Metadata={"sha256": sha256},
            )
        except self._errors as exc:
            raise StorageError(f"cannot store media file in {self._where}: {_one_line(exc)}") from exc
        return stored

    def entries(self) -> Iterator[BlobEntry]:
        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=self.prefix
            )
            for page in pages:
                for item in page.get("Contents", []):
                    key = str(item["Key"])[len(self.prefix) :]
                    if _STORED_KEY.match(key):
                        name = key.rsplit("/", 1)[1]
                        sha256 = None if name.startswith(TEMP_PREFIX) else name
                        yield BlobEntry(key, sha256, item["LastModified"].astimezone(UTC))
        except self._errors as exc:
            raise StorageError(f"cannot list media files in {self._where}: {_one_line(exc)}") from exc

    def delete(self, key: str, written_before: datetime) -> bool:
        if not _STORED_KEY.match(key):
            raise ValueError(f"not a key of the media store: {key[:120]!r}")
        try:
            head = self._client.head_object(Bucket=self.bucket, Key=self.prefix + key)
            if head["LastModified"].astimezone(UTC) >= written_before:
                return False
            self._client.delete_object(Bucket=self.bucket, Key=self.prefix + key)
        except self._errors as exc:
            if self._code(exc) in _S3_MISSING:
                return False
            raise StorageError(f"cannot delete media file {self._where}{key}: {_one_line(exc)}") from exc
        return True

    def _key(self, sha256: str) -> str:
        check_sha256(sha256)
        return f"{self.prefix}{sha256[:2]}/{sha256[2:4]}/{sha256}"

    def _size_of(self, key: str, *, forbidden_means_missing: bool) -> int | None:
        """The stored object's size; None when there is none.

        S3 answers 403 rather than 404 for a missing key when the caller may not list the bucket; `put`
        takes that as "missing" and lets the upload succeed or fail on its own.
        """
        try:
            head = self._client.head_object(Bucket=self.bucket, Key=key)
        except self._errors as exc:
            code = self._code(exc)
            if code in _S3_MISSING or (forbidden_means_missing and code == "403"):
                return None
            raise StorageError(
                f"cannot look up media file s3://{self.bucket}/{key}: {_one_line(exc)}"
            ) from exc
        return int(head.get("ContentLength", -1))

    def _code(self, exc: Exception) -> str | None:
        if not isinstance(exc, self._client_error):
            return None
        response: dict[str, Any] = getattr(exc, "response", None) or {}
        return str(response.get("Error", {}).get("Code", "")) or None


def blob_store(media: MediaSettings) -> BlobStore:
    """The media store the settings choose: the local folder `media.dir`, or an S3-compatible bucket."""
    if media.backend == "s3":
        if not media.s3_bucket:  # the settings validator refuses this; kept for hand-built settings
            raise StorageError("media.s3_bucket is required when media.backend is s3")
        return S3BlobStore(
            media.s3_bucket,
            prefix=media.s3_prefix,
            endpoint_url=media.s3_endpoint_url,
            region=media.s3_region,
        )
    return LocalBlobStore(media.dir)


def _one_line(exc: BaseException) -> str:
    """The first line of an error's message (botocore messages can span lines)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
