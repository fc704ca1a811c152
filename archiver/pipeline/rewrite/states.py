"""Who approves or restores on their own (the journal states are `records.JournalState`)."""

from __future__ import annotations

# Who approves in mode apply, and who restores an embed that came back alive.
AUTO_APPROVER = "archiver (mode apply)"
AUTO_RESTORER = "archiver (embed came back alive)"
BY_HAND = "an editor (card removed by hand)"
