"""The rewrite stage: broken embeds become archived fallback cards; journaled, verified, undoable.

    recover(sessions, deps)                       settle what a crash left half done (run first, always)
    plan_article(session, deps, article)          what would change in one article; nothing is written
    run(sessions, deps, ...)                      every article with broken embeds, as its source's mode says
    pending(session) / approve(...) / reject(...) the editors' queue
    apply_article(sessions, deps, article_id)     write the approved rewrites of one article
    restore_article(sessions, deps, article_id)   undo applied rewrites, byte for byte
    restore_returned(sessions, deps)              undo the rewrites of embeds that came back alive
    rewrite_bytes(article, targets, renderer)     the pure core: cards spliced in, verified, bytes out

What lives here, one job a module (importers use this front door; the modules import each other
directly, never this package):

    deps       RewriteDeps (settings, clock, renderer, providers, stores) and a source's Policy
    states     who approves or restores on their own (the journal states are records.JournalState)
    targets    Target, rewrite_bytes: the byte core (uses splice, verify, fallback)
    splice     byte spans replaced and put back; verify: the page re-parsed around them
    fallback   the card: its data from a snapshot, its templates (templates/), its renderer
    plan       ArticlePlan, plan_article: one article's rewrite worked out, nothing written
    runs       run: every article, by its source's mode; the journal rows a run writes
    queue      pending, approve, reject: the editors' queue
    apply      apply_article and the crash-safe write of approved rewrites
    restore    restore_article, restore_returned: cards put back to their units' bytes
    recovery   recover: rows a crash left applying or restoring, settled by the bytes
    residue    residue lines matched to archived posts, as more targets (RewriteDeps.extra_targets)
    recovered  spots paired with a post by recovery from web archives: cards in place of residue or
               shells, inserted after lead-ins (zero-length spans)
    putback    the same spots when their post answered live: its original embed markup put back
               (original: that markup reduced to the provider's own, archive URLs turned back)
    repairs    RepairTargets: recovered cards and put-backs, then residue (RewriteDeps.extra_targets)

The stage may import the scan stage (a changed article is scanned again before it is planned),
`sources` (stores, through `sources.kinds.open_store`), `storage` (queries, models), `providers`
(the registry), `verdict`, config, clock, errors, records, sanitize, and the HTTP client's type (a
wordpress source's store is reached through the one in `RewriteDeps.http`); never capture, check, the
CLI or the daemon.

Modes, per source (`[[sources]] mode`):

    monitor  report only: `run` plans and reports, and writes nothing (no journal rows either).
    approve  `run` journals each verified rewrite as `planned`; an editor approves it (`approve`), and
             the next `run` (or `apply_article`) writes exactly the bytes that were approved.
    apply    `run` writes verified rewrites at once.

A rewrite replaces only the byte span of an embed unit (`splice`), after `verify` has re-parsed the
page; what does not verify is refused and journaled as `refused` with its reason: the article is
flagged for an editor. Every journal row keeps the unit's exact original bytes.

Crash safety: the rows of a write are committed as `applying` (or `restoring`) with the article's
sha256 before and after, then the article is replaced atomically (its store, `sources`), then the rows
become `applied` (`restored`). `recover` settles rows a crash left in between by the article's
current hash: the old bytes put them back to `approved` (`applied`), the new bytes finish them. So
every article is wholly old or wholly new, and the journal says which.

Idempotence: a unit that already holds one of our cards (recognised by its marker, `archived`) is
never planned again, and re-running changes nothing. An editor's restore or rejection is sticky: that
embed is not rewritten again in that article. An applied card an editor removed by hand counts as
restored by hand.
"""

from __future__ import annotations

from archiver.pipeline.rewrite.apply import WriteResult, apply_article
from archiver.pipeline.rewrite.deps import Mode, Policy, RewriteDeps
from archiver.pipeline.rewrite.plan import ArticlePlan, NotPlanned, PlannedChange, plan_article
from archiver.pipeline.rewrite.queue import Decision, PendingRewrite, approve, pending, reject
from archiver.pipeline.rewrite.recovery import RecoverReport, recover
from archiver.pipeline.rewrite.restore import RestoreResult, restore_article, restore_returned
from archiver.pipeline.rewrite.runs import ArticleOutcome, RunReport, run
from archiver.pipeline.rewrite.states import (
    AUTO_APPROVER,
    AUTO_RESTORER,
    BY_HAND,
)
from archiver.pipeline.rewrite.targets import Change, Spliced, Target, rewrite_bytes

__all__ = [
    "AUTO_APPROVER",
    "AUTO_RESTORER",
    "BY_HAND",
    "ArticleOutcome",
    "ArticlePlan",
    "Change",
    "Decision",
    "Mode",
    "NotPlanned",
    "PendingRewrite",
    "PlannedChange",
    "Policy",
    "RecoverReport",
    "RestoreResult",
    "RewriteDeps",
    "RunReport",
    "Spliced",
    "Target",
    "WriteResult",
    "apply_article",
    "approve",
    "pending",
    "plan_article",
    "recover",
    "reject",
    "restore_article",
    "restore_returned",
    "rewrite_bytes",
    "run",
]
