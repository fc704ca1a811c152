"""The check stage: look again at due embeds and decide, carefully, which are gone."""

from __future__ import annotations

from archiver.pipeline.check.due import (
    CheckReport,
    Health,
    check_due,
    probe,
)

__all__ = [
    "CheckReport",
    "Health",
    "check_due",
    "probe",
]
