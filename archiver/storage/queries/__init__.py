"""Every query the archiver runs, as named functions over a `Session`, one module per room.

The rest of the code calls these and never builds a query itself: `from archiver.storage import queries`,
then `queries.NAME` (every name is re-exported here). Each function flushes what it changed but never
commits: the caller owns the transaction, so one unit of work (a scanned article, a capture with its
snapshot and check) commits or rolls back as a whole.

articles   sources and articles: get-or-create, what a scan found, scan errors, finding an article,
           a source's scan cursor
embeds     the capture queue, finding an embed by id or URL, the articles that show it
aliases    one post kept under its lasting id (a Bluesky handle id merged into its DID id)
snapshots  recording a capture or check, content hashes, media records, export batches, media GC
liveness   the check queue, counted outcomes, embed states, provider health and alerts
leases     due work leased to one daemon of several
jobs       the daemon's jobs: last runs and job leases
rewrites   the rewrite journal and the snapshots its cards are made from
residue    residue occurrences and the embeds whose snapshots may match them
recovery   the articles with residue or lost spots, what the web archives showed, archived snapshots
postpages  a recovered post's own pages looked up in web archives
mirrors    the Save Page Now mirror: posts queued by their first capture, jobs to poll, copies made
           (imported as a module: `from archiver.storage.queries import mirrors`)
reports    the numbers of `archive status` and `archive embeds`, the daemon's metrics
_common    what several rooms share (chunk size, get-or-create's insert, LIKE escaping)

The modules import SQLAlchemy, `archiver.records`, `archiver.storage.models` and `_common`, never each
other and nothing above storage.
"""

from __future__ import annotations

from archiver.storage.queries.aliases import aliases_of, keep_under
from archiver.storage.queries.articles import (
    SavedScan,
    article_unchanged,
    ensure_source,
    find_article,
    get_article,
    record_article_error,
    save_scan,
    scan_cursor,
    scanned_digests,
    set_scan_cursor,
)
from archiver.storage.queries.embeds import (
    embed_articles,
    embeds_due_for_capture,
    embeds_for_refresh,
    find_embed,
    markup_fields_for,
)
from archiver.storage.queries.jobs import claim_job, job_runs, mark_job_run, release_job
from archiver.storage.queries.leases import (
    checked_since_due,
    claim_due_captures,
    claim_due_checks,
    hold_lease,
    lease_is_free,
    leases_held,
    release,
    release_all,
    renew_leases,
)
from archiver.storage.queries.liveness import (
    alerts,
    all_provider_health,
    counted_outcomes_since_ok,
    embeds_due_for_check,
    last_counted_ok,
    latest_check_outcomes,
    pause_provider,
    paused_providers,
    provider_health,
    resume_provider,
    set_state,
    transient_streak,
    uncount_checks,
)
from archiver.storage.queries.postpages import (
    archived_snapshots,
    post_page_lookup,
    post_page_lookups,
    save_post_page_lookup,
)
from archiver.storage.queries.recovery import (
    add_archived_snapshot,
    articles_with_recovered_posts,
    articles_with_spots,
    ensure_embed,
    paired_recoveries,
    recoveries,
    recovery_of,
    save_recovery,
    spots_of,
)
from archiver.storage.queries.reports import (
    EmbedRow,
    due_counts,
    embed_state_counts,
    list_embeds,
    rewrite_counts,
    rewrite_state_counts,
    status_counts,
)
from archiver.storage.queries.residue import (
    embeds_with_author_name,
    embeds_with_handle,
    embeds_with_handles,
    residue_counts,
    residue_occurrences,
    save_residue_counts,
    snapshot_versions,
)
from archiver.storage.queries.rewrites import (
    add_rewrite,
    applied_card_starts,
    applied_card_starts_of,
    article_rewrites,
    articles_to_rewrite,
    broken_occurrences,
    latest_snapshots,
    returned_rewrites,
    rewrites_by_id,
    rewrites_with_articles,
    unsettled_rewrites,
)
from archiver.storage.queries.snapshots import (
    SNAPSHOT_FIELDS,
    StoredMediaRef,
    content_sha256,
    delete_unreferenced_media,
    known_media,
    latest_snapshot,
    record_capture,
    save_media,
    snapshot_media_row,
    snapshots_for_export,
    unreferenced_media,
)

__all__ = [
    "SNAPSHOT_FIELDS",
    "EmbedRow",
    "SavedScan",
    "StoredMediaRef",
    "add_archived_snapshot",
    "add_rewrite",
    "alerts",
    "aliases_of",
    "all_provider_health",
    "applied_card_starts",
    "applied_card_starts_of",
    "archived_snapshots",
    "article_rewrites",
    "article_unchanged",
    "articles_to_rewrite",
    "articles_with_recovered_posts",
    "articles_with_spots",
    "broken_occurrences",
    "checked_since_due",
    "claim_due_captures",
    "claim_due_checks",
    "claim_job",
    "content_sha256",
    "counted_outcomes_since_ok",
    "delete_unreferenced_media",
    "due_counts",
    "embed_articles",
    "embed_state_counts",
    "embeds_due_for_capture",
    "embeds_due_for_check",
    "embeds_for_refresh",
    "embeds_with_author_name",
    "embeds_with_handle",
    "embeds_with_handles",
    "ensure_embed",
    "ensure_source",
    "find_article",
    "find_embed",
    "get_article",
    "hold_lease",
    "job_runs",
    "keep_under",
    "known_media",
    "last_counted_ok",
    "latest_check_outcomes",
    "latest_snapshot",
    "latest_snapshots",
    "lease_is_free",
    "leases_held",
    "list_embeds",
    "mark_job_run",
    "markup_fields_for",
    "paired_recoveries",
    "pause_provider",
    "paused_providers",
    "post_page_lookup",
    "post_page_lookups",
    "provider_health",
    "record_article_error",
    "record_capture",
    "recoveries",
    "recovery_of",
    "release",
    "release_all",
    "release_job",
    "renew_leases",
    "residue_counts",
    "residue_occurrences",
    "resume_provider",
    "returned_rewrites",
    "rewrite_counts",
    "rewrite_state_counts",
    "rewrites_by_id",
    "rewrites_with_articles",
    "save_media",
    "save_post_page_lookup",
    "save_recovery",
    "save_residue_counts",
    "save_scan",
    "scan_cursor",
    "scanned_digests",
    "set_scan_cursor",
    "set_state",
    "snapshot_media_row",
    "snapshot_versions",
    "snapshots_for_export",
    "spots_of",
    "status_counts",
    "transient_streak",
    "uncount_checks",
    "unreferenced_media",
    "unsettled_rewrites",
]
