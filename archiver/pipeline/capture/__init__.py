"""The capture stage: climb each due embed's provider ladder, store its media, record snapshot versions.

Verbs:
    capture_due(sessions, deps, ...) -> CaptureReport    every due embed (or, `refresh`, a recapture)
    capture_one(sessions, deps, embed_id, ref)           one embed, now, on this thread
Records: CaptureDeps (what capturing needs, built once by the edge), CaptureItem (one embed's result),
CaptureReport.

The climbing machinery, public because the check stage climbs the same way (a check is a recapture
that revalidates the stored responses): `work_for` (what to climb for each embed), `run_climbs` (on the
thread pool, recorded as checks of a kind), `climb` (one ladder and its media, no database), `record`
(a check row and maybe a snapshot version), `settle` (the verdicts of the embeds asked about), `Work`,
`Climbed`, `STOP_GRACE`, `RunBound` (when a run ends: nothing starts after it, whatever providers
do). Leases for sharing due work between daemons: `Claims`,
`new_owner`, `DEFAULT_BATCH`, `DEFAULT_LEASE`, `LEASE_LOST`.

Inside: `due` (capture_due, capture_one), `climbs` (the machinery), `bound` (RunBound), `leases`,
`media` (what bytes are: `sniff_media_type`, `refusal_reason`, also used by recovery's archived images).
May import: records, config, clock, http, providers (the registry and `providers.common`), storage, and
`pipeline.verdict`. Never scan, check or rewrite.
"""

from __future__ import annotations

from archiver.pipeline.capture.bound import RunBound
from archiver.pipeline.capture.climbs import (
    STOP_GRACE,
    CaptureDeps,
    CaptureItem,
    Climbed,
    Work,
    climb,
    record,
    run_climbs,
    settle,
    work_for,
)
from archiver.pipeline.capture.due import CaptureReport, capture_due, capture_one
from archiver.pipeline.capture.leases import DEFAULT_BATCH, DEFAULT_LEASE, LEASE_LOST, Claims, new_owner
from archiver.pipeline.capture.media import refusal_reason, sniff_media_type

__all__ = [
    "DEFAULT_BATCH",
    "DEFAULT_LEASE",
    "LEASE_LOST",
    "STOP_GRACE",
    "CaptureDeps",
    "CaptureItem",
    "CaptureReport",
    "Claims",
    "Climbed",
    "RunBound",
    "Work",
    "capture_due",
    "capture_one",
    "climb",
    "new_owner",
    "record",
    "refusal_reason",
    "run_climbs",
    "settle",
    "sniff_media_type",
    "work_for",
]
