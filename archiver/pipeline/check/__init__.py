"""The check stage: look again at due embeds and decide, carefully, which are gone.

Verb:
    check_due(sessions, deps, ...) -> CheckReport    provider health first (canaries, breakers), then
                                                     every due embed of a healthy provider, then verdicts
Records: CheckReport (the items checked, each provider's Health, the state changes), Health.

Inside: `due` (check_due, probing providers, pausing and resuming them, the breaker).
May import: records, config, providers (the registry), storage, and the capture stage's front door (a
check climbs like a recapture: `capture.work_for`, `run_climbs`, `climb`, `settle`, the leases); the
verdicts themselves are `pipeline.verdict`, applied through `capture.settle`. Never scan or rewrite.
"""

from __future__ import annotations

from archiver.pipeline.check.due import CheckReport, Health, check_due

__all__ = [
    "CheckReport",
    "Health",
    "check_due",
]
