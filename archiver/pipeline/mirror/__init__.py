"""The mirror stage: each post, on its first capture, pushed to the Wayback Machine's Save Page Now
(`[mirror]`, off by default), so that a second, independent archive holds a copy of it.

    capture (first snapshot of a post) -> a `queued` Mirror row (no request: capture is never slowed)
    mirror_due(...) -> MirrorReport      poll the `pending` jobs, then ask for the `queued` posts

Asking is left to `mirror_due`, run by `archive mirror` and the daemon's `mirror` job: a capture only
queues its post in the transaction that records the snapshot, so whatever Save Page Now answers (or
does not), the capture is the same. Save Page Now answers with a job, which a later run polls; a job
that succeeded gives the copy's URI-M ({base}/web/{timestamp}/{original_url}) and Memento-Datetime,
which fallback cards and the public pages name as a second archived copy. "Later" answers keep the row
for a later run; refusals are kept with a readable reason (`status_ext`).

Verbs: mirror_due, spn_keys (the keys from the environment, or the one line saying which is missing).
Records: MirrorItem, MirrorReport, SpnKeys, SpnAnswer; SavePageNow (the SPN2 client).
Inside: `spn` (the protocol), `run` (the run over the rows).
May import: config, clock, http, storage. Never another stage.
"""

from __future__ import annotations

from archiver.pipeline.mirror.run import MirrorItem, MirrorReport, mirror_due
from archiver.pipeline.mirror.spn import SavePageNow, SpnAnswer, SpnKeys, spn_keys

__all__ = [
    "MirrorItem",
    "MirrorReport",
    "SavePageNow",
    "SpnAnswer",
    "SpnKeys",
    "mirror_due",
    "spn_keys",
]
