"""The archive's tables, as SQLAlchemy 2 typed ORM classes.

    Source ─< Article ─< Occurrence >─ Embed ─< Snapshot ─< SnapshotMedia >─ Media
                                             └─< Check

An `Occurrence` says which article holds which embed, how (markup) and where (byte span); residue of a
dead embed is an occurrence without an embed. A `Snapshot` is an immutable version of what a post said;
`Check` rows log every capture and check attempt. Media files live in the blob store, keyed by sha256;
`Media` records what is stored, `SnapshotMedia` what a snapshot showed (stored or not).

`StateChange`, `ProviderHealth` and `Alert` carry the verdicts: every change of an embed's state, the
providers whose verdicts are paused, and what operators were told.
`RateWindow` and `HostBackoff` hold the HTTP manners every process shares: request budgets per host
and the backoffs hosts asked for. `Embed.lease_owner`/`lease_until` and `JobRun` let several daemons
share the due work (`archiver.daemon`).
`EmbedAlias` keeps the other ids of a post (a Bluesky handle-form id merged into the DID-form one).
`Recovery` records what recovery from web archives found for one residue line or lost spot of an article:
the post that stood there in an earlier copy (and which memento showed it), or the copies looked at;
`PostPageLookup` what the archives held of such a post's own pages. `Mirror` is a post pushed to the
Wayback Machine's Save Page Now on its first capture, and the copy made.
`Rewrite` is the rewrite journal: the exact original bytes of every embed unit replaced by a card, so
that every rewrite can be undone byte for byte (`archiver.pipeline.rewrite`).
`Tally` keeps the dashboard's row counts current on PostgreSQL (by triggers); `ResidueCount` what the
last whole-archive rewrite run found of the residue lines (matched, ambiguous, orphaned, repaired).
`User`, `ApiToken` and `LoginFailure` are the viewer's accounts, API tokens and sign-in throttle
(`archiver.accounts`, `archiver.web`).

The schema is built by the Alembic migrations only; the drift test keeps these classes and the
migrations equal. Every timestamp is a timezone-aware UTC `datetime` (`UTCDateTime`).
"""

from archiver.storage.models.accounts import ApiToken, LoginFailure, User
from archiver.storage.models.archive import (
    Alert,
    Article,
    Check,
    Embed,
    EmbedAlias,
    HostBackoff,
    JobRun,
    Media,
    Mirror,
    Occurrence,
    PostPageLookup,
    ProviderHealth,
    RateWindow,
    Recovery,
    ResidueCount,
    Rewrite,
    Snapshot,
    SnapshotMedia,
    Source,
    StateChange,
    Tally,
)
from archiver.storage.models.base import NAMING_CONVENTION, Base, UTCDateTime

__all__ = [
    "NAMING_CONVENTION",
    "Alert",
    "ApiToken",
    "Article",
    "Base",
    "Check",
    "Embed",
    "EmbedAlias",
    "HostBackoff",
    "JobRun",
    "LoginFailure",
    "Media",
    "Mirror",
    "Occurrence",
    "PostPageLookup",
    "ProviderHealth",
    "RateWindow",
    "Recovery",
    "ResidueCount",
    "Rewrite",
    "Snapshot",
    "SnapshotMedia",
    "Source",
    "StateChange",
    "Tally",
    "UTCDateTime",
    "User",
]
