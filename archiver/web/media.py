"""Stored media as the public archive serves it: `/media/ab/cd/SHA256`, the blob store's own layout, so
the images of a fallback card (`[rewrite] media_base_url`, by default ARCHIVE_BASE_URL/media) load here.

A file is served with the type the capture stored for it, and never as something a browser would run:
pictures, video and sound of the usual kinds are shown inline; anything else (HTML, SVG, XML, scripts,
types nobody stored) is sent as an `application/octet-stream` attachment. The name is the content's
hash, so a response never changes: it is cached for a year as immutable, with the hash as its ETag.
"""

from __future__ import annotations

import io
import re

import flask
from werkzeug.exceptions import NotFound as HttpNotFound

from archiver.errors import NotFound
from archiver.storage.blobs import BlobStore
from archiver.storage.queries import public as public_queries
from archiver.web.common import db_session

SHA256 = re.compile(r"^[0-9a-f]{64}$")
ONE_YEAR = 365 * 24 * 3600
INLINE_TYPES = frozenset(
    {
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "image/avif",
        "image/bmp",
        "video/mp4",
        "video/webm",
        "video/ogg",
        "video/quicktime",
        "audio/mpeg",
        "audio/mp4",
        "audio/ogg",
        "audio/wav",
        "audio/webm",
        "audio/aac",
        "audio/flac",
    }
)
DOWNLOAD_TYPE = "application/octet-stream"


def valid_name(first: str, second: str, sha256: str) -> bool:
    """Whether `/media/FIRST/SECOND/SHA256` names a blob the way the store does (ab/cd/abcd...)."""
    return bool(SHA256.match(sha256)) and first == sha256[:2] and second == sha256[2:4]


def inline_type(stored: str) -> str | None:
    """The type to serve `stored` inline as, or None when it must be a download."""
    essence = stored.split(";", 1)[0].strip().lower()
    return essence if essence in INLINE_TYPES else None


def media_response(blobs: BlobStore, first: str, second: str, sha256: str) -> flask.Response:
    """The stored file, or 404 for a malformed name, a hash we never stored, or a file gone from the store."""
    if not valid_name(first, second, sha256):
        raise HttpNotFound("No media file has that name.")
    with db_session() as session:
        row = public_queries.media_file(session, sha256)
        stored_type = row.mime if row is not None else None
    if stored_type is None:
        raise HttpNotFound("No media file has that name.")
    try:
        data = blobs.open(sha256)
    except NotFound:
        raise HttpNotFound("That media file is no longer in the store.") from None
    shown = inline_type(stored_type)
    response = flask.send_file(
        io.BytesIO(data),
        mimetype=shown or DOWNLOAD_TYPE,
        as_attachment=shown is None,
        download_name=sha256,
        etag=sha256,
        conditional=True,
        max_age=ONE_YEAR,
    )
    response.cache_control.public = True
    response.cache_control.immutable = True
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
