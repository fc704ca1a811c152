"""The scan stage: articles in, embeds (and residue, and our own cards) out."""

from __future__ import annotations

from archiver.pipeline.scan.page import (
    COPY_KINDS,
    MARKUP_RANK,
    scan_article,
)

__all__ = [
    "COPY_KINDS",
    "MARKUP_RANK",
    "scan_article",
]
