"""The capture stage: climb each due embed's provider ladder and record snapshots."""

from __future__ import annotations

from archiver.pipeline.capture.due import (
    FIRST_RETRY,
    MAX_RETRY,
    STOP_GRACE,
    CaptureDeps,
    CaptureItem,
    CaptureReport,
    Work,
    capture_due,
    capture_one,
    climb,
    record,
    run_climbs,
    settle,
    store_media,
    work_for,
)

__all__ = [
    "FIRST_RETRY",
    "MAX_RETRY",
    "STOP_GRACE",
    "CaptureDeps",
    "CaptureItem",
    "CaptureReport",
    "Work",
    "capture_due",
    "capture_one",
    "climb",
    "record",
    "run_climbs",
    "settle",
    "store_media",
    "work_for",
]
