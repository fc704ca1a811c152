"""Media garbage collection: delete what no snapshot shows any more, after a grace period.

Two sweeps, each safe to run twice and alongside captures:

1. media records that no snapshot references, created more than `grace` ago, are deleted (the delete
   re-checks "unreferenced" in the same statement, and the foreign key refuses it if a capture linked
   the record meanwhile);
2. files in the blob store that no media record names, written more than `grace` ago, are deleted, and
   so are in-flight temp files older than that (left by a crash). The grace covers a capture that has
   stored its file but not yet committed its record. Left open: a capture that stores again, in the
   very moment it is collected, an old file whose record was collected (the file is then missing; the
   next capture of that post stores it again).
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from archiver.clock import Clock
from archiver.storage import queries
from archiver.storage.blobs import BlobEntry, BlobStore

log = logging.getLogger("archiver.gc")

_BATCH = 500


@dataclass(frozen=True, slots=True)
class GcReport:
    media_records: int = 0
    blobs: int = 0
    temp_files: int = 0
    stopped: bool = False


def collect_media(
    sessions: sessionmaker[Session],
    blobs: BlobStore,
    clock: Clock,
    grace: timedelta,
    stop: threading.Event | None = None,
) -> GcReport:
    """Delete unreferenced media records, then unreferenced blobs and stale temp files; see above."""
    cutoff = clock.now() - grace
    records = 0
    while not _stopped(stop):
        with sessions() as session:
            stale = queries.unreferenced_media(session, cutoff, _BATCH)
        if not stale:
            break
        try:
            with sessions() as session, session.begin():
                deleted = queries.delete_unreferenced_media(session, [m.id for m in stale])
        except IntegrityError:  # a capture linked one of them meanwhile: try again next time
            log.info("media records in use again; left for the next collection")
            break
        records += deleted
        if deleted < len(stale):
            break  # the rest were linked again meanwhile; nothing more to gain now

    blobs_deleted = temps = 0
    pending: list[BlobEntry] = []
    for entry in blobs.entries():
        if _stopped(stop):
            break
        if entry.modified >= cutoff:
            continue
        if entry.sha256 is None:
            temps += blobs.delete(entry.key, cutoff)
            continue
        pending.append(entry)
        if len(pending) >= _BATCH:
            blobs_deleted += _delete_unknown(sessions, blobs, pending, cutoff)
            pending = []
    if pending and not _stopped(stop):
        blobs_deleted += _delete_unknown(sessions, blobs, pending, cutoff)
    return GcReport(records, blobs_deleted, temps, stopped=_stopped(stop))


def _delete_unknown(
    sessions: sessionmaker[Session], blobs: BlobStore, entries: list[BlobEntry], cutoff: datetime
) -> int:
    with sessions() as session:
        known = queries.known_media(session, [e.sha256 for e in entries if e.sha256 is not None])
    deleted = 0
    for entry in entries:
        if entry.sha256 not in known:
            deleted += blobs.delete(entry.key, cutoff)  # skipped if stored again since it was listed
    return deleted


def _stopped(stop: threading.Event | None) -> bool:
    return stop is not None and stop.is_set()
