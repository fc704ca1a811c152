"""rewrite: broken embeds become archived fallback cards in their articles; journaled, verified, undoable.

    recover(sessions, deps)                       settle what a crash left half done (run first, always)
    plan_article(session, deps, article)          what would change in one article; nothing is written
    run(sessions, deps, ...)                      every article with broken embeds, as its source's mode says
    pending(session) / approve(...) / reject(...) the editors' queue
    apply_article(sessions, deps, article_id)     write the approved rewrites of one article
    restore_article(sessions, deps, article_id)   undo applied rewrites, byte for byte
    restore_returned(sessions, deps)              undo the rewrites of embeds that came back alive

Modes, per source (`[[sources]] mode`):

    monitor  report only: `run` plans and reports, and writes nothing (no journal rows either).
    approve  `run` journals each verified rewrite as `planned`; an editor approves it (`approve`), and
             the next `run` (or `apply_article`) writes exactly the bytes that were approved.
    apply    `run` writes verified rewrites at once.

A rewrite replaces only the byte span of an embed unit (`splice`), after `verify` has re-parsed the
page; what does not verify is refused and journaled as `refused` with its reason: the article is
flagged for an editor. Every journal row keeps the unit's exact original bytes.

Crash safety: the rows of a write are committed as `applying` (or `restoring`) with the article's
sha256 before and after, then the article is replaced atomically (`sources.store`), then the rows
become `applied` (`restored`). `recover` settles rows a crash left in between by the article's
current hash: the old bytes put them back to `approved` (`applied`), the new bytes finish them. So
every article is wholly old or wholly new, and the journal says which.

Idempotence: a unit that already holds one of our cards (recognised by its marker, `archived`) is
never planned again, and re-running changes nothing. An editor's restore or rejection is sticky: that
embed is not rewritten again in that article. An applied card an editor removed by hand counts as
restored by hand.
"""

from __future__ import annotations

import difflib
import hashlib
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from sqlalchemy.orm import Session, joinedload, sessionmaker

from archiver.clock import Clock
from archiver.config import Settings, SourceSettings
from archiver.errors import ArchiverError, ArticleError
from archiver.pipeline.rewrite import splice, verify
from archiver.pipeline.rewrite.fallback import CardData, CardRenderer, Variant
from archiver.pipeline.rewrite.residue import ResidueTargets, repairable_articles
from archiver.pipeline.scan import scan_article
from archiver.pipeline.scan.archived import archived_cards
from archiver.pipeline.scan.offsets import byte_offsets
from archiver.providers import PROVIDERS
from archiver.providers.common.base import Provider
from archiver.records import Article as ArticleRecord
from archiver.records import Span
from archiver.sources.sql import SqlStore
from archiver.sources.store import ArticleStore, FileStore, WriteConflict, stale_temp_files
from archiver.sources.wordpress import wordpress_store
from archiver.storage import queries
from archiver.storage.models import Article, Embed, Rewrite

Mode = Literal["monitor", "approve", "apply"]

PLANNED = "planned"
APPROVED = "approved"
APPLYING = "applying"
APPLIED = "applied"
REFUSED = "refused"
REJECTED = "rejected"
RESTORING = "restoring"
RESTORED = "restored"
STATES = (PLANNED, APPROVED, APPLYING, APPLIED, REFUSED, REJECTED, RESTORING, RESTORED)
# Who approves in mode apply, and who restores an embed that came back alive.
AUTO_APPROVER = "archiver (mode apply)"
AUTO_RESTORER = "archiver (embed came back alive)"
BY_HAND = "an editor (card removed by hand)"
_BROKEN = "broken"
_ALIVE = "live"


# ---------------------------------------------------------------- dependencies


@dataclass(frozen=True, slots=True)
class Policy:
    """What a source allows: its mode and whether a returned embed is restored by itself."""

    mode: Mode = "approve"
    restore_on_return: bool = True


@dataclass
class RewriteDeps:
    """What the rewrite stage needs; `RewriteDeps.from_settings` builds the usual one."""

    settings: Settings
    clock: Clock
    renderer: CardRenderer
    providers: tuple[Provider, ...] = PROVIDERS
    # Stores by source name; otherwise a configured sql source is a `SqlStore`, a wordpress source a
    # `WordPressStore`, any other source files.
    stores: dict[str, ArticleStore] = field(default_factory=dict)
    # More targets for an article than its broken embeds (residue matched to a snapshot), asked each
    # time an article is planned; `run(article_ids=...)` brings articles that only have those.
    extra_targets: Callable[[Session, Article], Sequence[Target]] | None = None
    # The environment a sql source's `url_env` is read from.
    env: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        clock: Clock,
        providers: tuple[Provider, ...] = PROVIDERS,
        env: Mapping[str, str] | None = None,
    ) -> RewriteDeps:
        renderer = CardRenderer(settings.rewrite.template_dir)
        return cls(
            settings,
            clock,
            renderer,
            providers,
            env=dict(env or {}),
            extra_targets=ResidueTargets(settings.rewrite),
        )

    def source_settings(self, name: str) -> SourceSettings | None:
        return next((source for source in self.settings.sources if source.name == name), None)

    def policy(self, source: str) -> Policy:
        """The configured source's policy; ad-hoc sources (paths on the command line) approve."""
        configured = self.source_settings(source)
        if configured is None:
            return Policy()
        return Policy(configured.mode, configured.restore_on_return)

    def store(self, source: str) -> ArticleStore:
        store = self.stores.get(source)
        if store is None:
            configured = self.source_settings(source)
            if configured is not None and configured.kind == "sql":
                store = SqlStore(configured, self.settings.scan, self.env, self.clock.now)
            elif configured is not None and configured.kind == "wordpress":
                store = wordpress_store(configured, self.settings, self.clock, self.env)
            else:
                store = FileStore(source, self.settings.scan)
            self.stores[source] = store
        return store


# ---------------------------------------------------------------- the pure core: bytes in, bytes out


@dataclass(frozen=True, slots=True)
class Target:
    """One unit to replace: its byte span in the article, and the card to put there.

    `fixed` pins the exact card bytes and variant (an approved rewrite is written as approved).
    `note` says why a target that is not the embed's own unit is there (residue matched to a post); it
    becomes the journal row's reason. `review`: an editor approves it even where the mode is apply.
    """

    span: Span
    card: CardData
    embed_id: int | None = None
    fixed: tuple[Variant, bytes] | None = None
    note: str | None = None
    review: bool = False

    @property
    def key(self) -> str:
        return self.card.marker


@dataclass(frozen=True, slots=True)
class Change:
    """A verified replacement: the target, the variant used, the edit, where the card starts after."""

    target: Target
    variant: Variant
    edit: splice.Edit
    card_start: int


@dataclass(frozen=True, slots=True)
class Spliced:
    """The article before and after its verified changes, and the targets refused (with why)."""

    before: bytes
    after: bytes
    changes: tuple[Change, ...]
    refused: tuple[tuple[Target, str], ...]


def rewrite_bytes(article: ArticleRecord, targets: Sequence[Target], renderer: CardRenderer) -> Spliced:
    """Replace each target's unit by its card, verified; every other byte is copied.

    The card variant is the one the unit's place calls for (`verify.survey`); when the page does not
    verify with it, the other variant is tried, then the target is refused. Targets that fail are
    refused one by one, so one odd embed never blocks the rest of the article.
    """
    data = article.data
    refused: list[tuple[Target, str]] = []
    try:
        codec = splice.codec_for(article)
    except LookupError:
        return Spliced(data, data, (), tuple((t, f"unknown encoding {article.encoding!r}") for t in targets))
    by_key = {f"{index}": target for index, target in enumerate(targets)}
    checked = splice.plan(article, [splice.Replacement(t.span, "", key) for key, t in by_key.items()])
    refused += [(by_key[r.key], r.reason) for r in checked.refused]
    live = {edit.key: by_key[edit.key] for edit in checked.edits}
    if not live:
        return Spliced(data, data, (), tuple(refused))
    survey = verify.survey(data, codec, [target.span for target in live.values()])
    variants: dict[str, Variant] = {}
    tried: dict[str, set[Variant]] = {}
    rendered: dict[tuple[str, Variant], bytes] = {}
    for key, target in list(live.items()):
        context = survey.context(target.span)
        if isinstance(context, str):
            refused.append((target, context))
            del live[key]
            continue
        variants[key] = target.fixed[0] if target.fixed else context.variant
        tried[key] = {variants[key]}

    def card_bytes(key: str) -> bytes:
        target, variant = live[key], variants[key]
        if target.fixed is not None:
            return target.fixed[1]
        if (key, variant) not in rendered:
            rendered[(key, variant)] = splice.encode_markup(renderer.render(target.card, variant), codec)
        return rendered[(key, variant)]

    def edits_for(keys: Iterable[str]) -> list[splice.Edit]:
        chosen = sorted(keys, key=lambda k: live[k].span.start)
        return [
            splice.Edit(
                live[k].span.start,
                live[k].span.end,
                data[live[k].span.start : live[k].span.end],
                card_bytes(k),
                k,
            )
            for k in chosen
        ]

    while live:
        edits = edits_for(live)
        after = splice.apply(data, splice.Plan(tuple(edits)))
        outcome = verify.verify(survey, after, codec, edits)
        if outcome.ok:
            plan = splice.Plan(tuple(edits))
            changes = tuple(
                Change(live[e.key], variants[e.key], replace(e, key=live[e.key].key), at)
                for e, at in zip(edits, plan.positions(), strict=True)
            )
            return Spliced(data, after, changes, tuple(refused))
        blamed = {edits[index].key: reason for index, reason in outcome.failures.items()}
        if not blamed:
            for edit in edits:
                alone = verify.verify(survey, splice.apply(data, splice.Plan((edit,))), codec, [edit])
                if not alone.ok:
                    blamed[edit.key] = next(iter(alone.failures.values()), alone.overall or "does not verify")
        if not blamed:
            # Each verifies alone, not all together: refuse them all rather than guess.
            for key in list(live):
                refused.append((live.pop(key), outcome.overall or "the rewrites do not verify together"))
            break
        for key, reason in blamed.items():
            other: Variant = "block" if variants[key] == "inline" else "inline"
            if live[key].fixed is None and other not in tried[key]:
                variants[key] = other
                tried[key].add(other)
            else:
                refused.append((live.pop(key), reason))
    return Spliced(data, data, (), tuple(refused))


# ---------------------------------------------------------------- plans of stored articles


@dataclass(frozen=True, slots=True)
class PlannedChange:
    """One rewrite of a plan: which embed, where (in the bytes before), the bytes out and in."""

    embed_id: int | None
    provider: str
    post_id: str
    span: Span
    variant: Variant
    snapshot_version: int
    original: bytes
    replacement: bytes
    card_start: int
    note: str | None = None
    review: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "embed": self.embed_id,
            "provider": self.provider,
            "id": self.post_id,
            "span": [self.span.start, self.span.end],
            "variant": self.variant,
            "version": self.snapshot_version,
        }
        if self.note is not None:
            out["note"] = self.note
        if self.review:
            out["review"] = True
        return out


@dataclass(frozen=True, slots=True)
class NotPlanned:
    """An embed of the article that is not rewritten, and why (refused, or nothing to do)."""

    embed_id: int | None
    provider: str
    post_id: str
    span: Span | None
    reason: str
    original: bytes = b""
    replacement: bytes | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "embed": self.embed_id,
            "provider": self.provider,
            "id": self.post_id,
            "span": [self.span.start, self.span.end] if self.span else None,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class ArticlePlan:
    """What a rewrite of one article would do: nothing is written by planning."""

    article_id: int
    key: str
    source: str
    mode: Mode
    encoding: str
    before: bytes
    after: bytes
    changes: tuple[PlannedChange, ...] = ()
    # Rewrites that cannot be done (the article is flagged): verification failed, no snapshot...
    refused: tuple[NotPlanned, ...] = ()
    # Nothing to do: already archived, restored or rejected by an editor.
    skipped: tuple[NotPlanned, ...] = ()
    error: str | None = None
    # Worked out from `before` and `after` when not given.
    before_sha256: str = ""
    after_sha256: str = ""

    def __post_init__(self) -> None:
        if not self.before_sha256:
            object.__setattr__(self, "before_sha256", hashlib.sha256(self.before).hexdigest())
        if not self.after_sha256:
            same = self.after is self.before or self.after == self.before
            digest = self.before_sha256 if same else hashlib.sha256(self.after).hexdigest()
            object.__setattr__(self, "after_sha256", digest)

    def diff(self, context: int = 3) -> str:
        """A unified diff of the article before and after (empty when nothing changes)."""
        if self.before == self.after:
            return ""
        old = self.before.decode(self.encoding, "replace").splitlines(keepends=True)
        new = self.after.decode(self.encoding, "replace").splitlines(keepends=True)
        lines = difflib.unified_diff(old, new, f"a/{self.key}", f"b/{self.key}", n=context)
        return "".join(
            line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
        )

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "article": self.key,
            "source": self.source,
            "mode": self.mode,
            "changes": [c.to_json() for c in self.changes],
            "refused": [r.to_json() for r in self.refused],
            "skipped": [s.to_json() for s in self.skipped],
        }
        if self.error is not None:
            out["error"] = self.error
        return out


def plan_article(
    session: Session, deps: RewriteDeps, article: Article, extra: Sequence[Target] = ()
) -> ArticlePlan:
    """Plan the rewrite of one article from its broken embeds and their latest snapshots.

    The article is read from its source as it is now. When its bytes are not those of the last scan,
    it is scanned again first (the occurrences are updated in `session`; the caller commits), so spans
    always refer to the current bytes. `extra` adds targets found otherwise (residue matched to a
    snapshot; `RewriteDeps.extra_targets` when not given). Units that already hold our card are
    skipped. Only `session`'s rows change.
    """
    return _plan(session, deps, article, extra)[0]


def _plan(
    session: Session, deps: RewriteDeps, article: Article, extra: Sequence[Target] = ()
) -> tuple[ArticlePlan, list[Rewrite]]:
    """`plan_article`, and the article's journal rows (oldest first) as they are now."""
    source = article.source.name
    mode = deps.policy(source).mode
    store = deps.store(source)
    try:
        current = store.read(article.key)
    except ArchiverError as exc:  # unreadable, or its source (a sql database) is not reachable
        return ArticlePlan(article.id, article.key, source, mode, "utf-8", b"", b"", error=str(exc)), []
    if current.sha256 != article.content_sha256:
        result = scan_article(current, deps.providers)
        if result.error is not None:
            return _plan_error(article, source, mode, current, result.error), []
        queries.save_scan(session, article.source, current, result.embeds, deps.clock.now())
        session.refresh(article, ["occurrences"])
    journal = queries.article_rewrites(session, article.id)
    _settle_removed_cards(deps, [row for row in journal if row.state == APPLIED], current)
    cards = _card_spans(current)
    sticky = {
        (row.embed_id, row.original_bytes)
        for row in journal
        if row.state == REJECTED or (row.state == RESTORED and (row.restored_by or "") != AUTO_RESTORER)
    }
    candidates = queries.broken_occurrences(session, article.id, _BROKEN)
    snapshots = queries.latest_snapshots(session, {embed.id for _, embed in candidates})
    targets: list[Target] = []
    skipped: list[NotPlanned] = []
    refused: list[NotPlanned] = []
    for occurrence, embed in candidates:
        if occurrence.span_start is None or occurrence.span_end is None:
            continue
        span = Span(occurrence.span_start, occurrence.span_end)
        original = current.data[span.start : span.end]
        if any(start < span.end and span.start < end for start, end in cards):
            skipped.append(_not_planned(embed, span, "already archived (the unit holds our card)", original))
            continue
        if (embed.id, original) in sticky:
            skipped.append(
                _not_planned(embed, span, "restored or rejected by an editor: not rewritten again", original)
            )
            continue
        snapshot = snapshots.get(embed.id)
        if snapshot is None:
            skipped.append(_not_planned(embed, span, "no snapshot of the post to show yet", original))
            continue
        card = CardData.from_snapshot(embed, snapshot, deps.settings.rewrite)
        targets.append(Target(span, card, embed.id))
    if not extra and deps.extra_targets is not None:
        extra = deps.extra_targets(session, article)
    taken = [target.span for target in targets]
    for target in extra:
        if any(s.start < target.span.end and target.span.start < s.end for s in taken):
            continue  # an embed's own unit wins over residue found around it
        if any(start < target.span.end and target.span.start < end for start, end in cards):
            continue
        if (target.embed_id, current.data[target.span.start : target.span.end]) in sticky:
            continue
        targets.append(target)
    spliced = rewrite_bytes(current, targets, deps.renderer)
    changes = tuple(
        PlannedChange(
            embed_id=change.target.embed_id,
            provider=change.target.card.provider,
            post_id=change.target.card.post_id,
            span=change.target.span,
            variant=change.variant,
            snapshot_version=change.target.card.version,
            original=change.edit.old,
            replacement=change.edit.new,
            card_start=change.card_start,
            note=change.target.note,
            review=change.target.review,
        )
        for change in spliced.changes
    )
    for target, reason in spliced.refused:
        refused.append(
            NotPlanned(
                target.embed_id,
                target.card.provider,
                target.card.post_id,
                target.span,
                reason,
                current.data[target.span.start : target.span.end],
            )
        )
    plan = ArticlePlan(
        article.id,
        article.key,
        source,
        mode,
        current.encoding,
        current.data,
        spliced.after,
        changes,
        tuple(refused),
        tuple(skipped),
        before_sha256=current.sha256,
    )
    return plan, journal


def _plan_error(article: Article, source: str, mode: Mode, current: ArticleRecord, error: str) -> ArticlePlan:
    return ArticlePlan(
        article.id,
        article.key,
        source,
        mode,
        current.encoding,
        current.data,
        current.data,
        error=error,
        before_sha256=current.sha256,
    )


def _not_planned(embed: Embed, span: Span, reason: str, original: bytes) -> NotPlanned:
    return NotPlanned(embed.id, embed.provider, embed.post_id, span, reason, original)


def _card_spans(article: ArticleRecord) -> list[tuple[int, int]]:
    """Byte spans of our cards in the article (a card whose end is lost reaches to its marker)."""
    cards = archived_cards(article.text)
    if not cards:
        return []
    offsets = [c.start for c in cards] + [c.end if c.end is not None else c.start + 1 for c in cards]
    mapped = byte_offsets(article.text, article.data, article.encoding, offsets) or {}
    spans = []
    for card in cards:
        end = card.end if card.end is not None else card.start + 1
        if card.start in mapped and end in mapped:
            spans.append((mapped[card.start], mapped[end]))
    return spans


# ---------------------------------------------------------------- run: every article, by mode


@dataclass(frozen=True, slots=True)
class ArticleOutcome:
    """What `run` did with one article."""

    plan: ArticlePlan
    # planned, applied, reported (monitor or dry run), unchanged, refused, conflict, error
    status: str
    rewrite_ids: tuple[int, ...] = ()
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        out = self.plan.to_json()
        out["status"] = self.status
        out["rewrites"] = list(self.rewrite_ids)
        if self.error is not None:
            out["error"] = self.error
        return out


@dataclass
class RunReport:
    articles: list[ArticleOutcome] = field(default_factory=list)
    recovered: RecoverReport | None = None
    restored: list[RestoreResult] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(a.status in ("error", "conflict") for a in self.articles) or any(
            r.error for r in self.restored
        )


def run(
    sessions: sessionmaker[Session],
    deps: RewriteDeps,
    *,
    article_ids: Iterable[int] | None = None,
    sources: Iterable[str] | None = None,
    dry_run: bool = False,
    on_article: Callable[[ArticleOutcome], None] | None = None,
    stop: threading.Event | None = None,
) -> RunReport:
    """Rewrite the articles holding broken embeds (or `article_ids`), each as its source's mode says.

    First settles what a crash left (`recover`); then per article: monitor and `dry_run` only report
    (the plan has the unified diff); approve journals `planned` rows and writes rows editors approved;
    apply writes at once. Finally, rewrites of embeds that came back alive are undone where the
    source's policy says so (not in a dry run). One article's failure never stops the run; `stop`
    (the daemon stopping) does, between two articles: every article is written whole or not at all.
    """
    report = RunReport()
    if not dry_run:
        report.recovered = recover(sessions, deps)
    wanted = set(sources) if sources is not None else None
    with sessions() as session:
        if article_ids is not None:
            ids = sorted(set(article_ids))
        else:
            named = sorted(wanted) if wanted is not None else None
            # Articles holding broken embeds, and those showing only residue a snapshot matches.
            ids = sorted(
                set(queries.articles_to_rewrite(session, named)) | set(repairable_articles(session, wanted))
            )
    for article_id in ids:
        if stop is not None and stop.is_set():
            return report
        outcome = _run_article(sessions, deps, article_id, dry_run)
        if outcome is None:
            continue
        report.articles.append(outcome)
        if on_article is not None:
            on_article(outcome)
    if not dry_run:
        report.restored = restore_returned(sessions, deps, sources=wanted, stop=stop)
    return report


def _run_article(
    sessions: sessionmaker[Session], deps: RewriteDeps, article_id: int, dry_run: bool
) -> ArticleOutcome | None:
    with sessions() as session:
        article = session.get(Article, article_id, options=[joinedload(Article.source)])
        if article is None:
            return None
        plan, journal = _plan(session, deps, article)
        if plan.error is not None:
            session.rollback()
            return ArticleOutcome(plan, "error", error=plan.error)
        if dry_run or plan.mode == "monitor":
            session.rollback()
            return ArticleOutcome(plan, "reported")
        now = deps.clock.now()
        refused = _journal_refusals(session, article, plan, journal, now)
        writes_at_once = not any(change.review for change in plan.changes)
        if plan.mode == "apply" and writes_at_once and not any(row.state == APPROVED for row in journal):
            # The plan was verified against the article's bytes of this very moment: write it.
            rows = _journal_open_rows(session, article, plan, journal, APPLYING, now)
            session.commit()
            refused_ids = tuple(row.id for row in refused)
            if not rows:
                return ArticleOutcome(plan, "refused" if plan.refused else "unchanged", refused_ids)
            others = [row for row in journal if row.state == APPLIED]
            result = _write(session, deps, rows, plan, others)
            return ArticleOutcome(plan, result.status, tuple(r.id for r in rows) + refused_ids, result.error)
        state = APPROVED if plan.mode == "apply" else PLANNED
        planned = _journal_open_rows(session, article, plan, journal, state, now)
        has_approved = any(row.state == APPROVED for row in [*journal, *planned])
        session.commit()
        ids = tuple(row.id for row in [*planned, *refused])
    if has_approved:
        applied = apply_article(sessions, deps, article_id)
        return ArticleOutcome(
            plan, applied.status, tuple(dict.fromkeys(applied.rewrite_ids + ids)), applied.error
        )
    status = "planned" if planned else "refused" if plan.refused else "unchanged"
    return ArticleOutcome(plan, status, ids)


def _journal_refusals(
    session: Session, article: Article, plan: ArticlePlan, journal: Sequence[Rewrite], now: Any
) -> list[Rewrite]:
    """A `refused` row per refusal, unless the latest row of that unit says the same already."""
    latest: dict[tuple[int | None, bytes], Rewrite] = {}
    for row in journal:
        latest[(row.embed_id, row.original_bytes)] = row  # oldest first: the last one wins
    added = []
    for refusal in plan.refused:
        previous = latest.get((refusal.embed_id, refusal.original))
        if previous is not None and previous.state == REFUSED and previous.reason == refusal.reason:
            continue
        row = queries.add_rewrite(
            session,
            article_id=article.id,
            embed_id=refusal.embed_id,
            provider=refusal.provider,
            post_id=refusal.post_id,
            mode=plan.mode,
            state=REFUSED,
            reason=refusal.reason,
            span_start=refusal.span.start if refusal.span else 0,
            span_end=refusal.span.end if refusal.span else 0,
            original_bytes=refusal.original,
            replacement_bytes=refusal.replacement,
            article_sha256_before=plan.before_sha256,
            created_at=now,
        )
        added.append(row)
    session.flush()
    return added


def _journal_open_rows(
    session: Session, article: Article, plan: ArticlePlan, journal: Sequence[Rewrite], state: str, now: Any
) -> list[Rewrite]:
    """A row in `state` (planned, approved or applying) per change of the plan.

    Rows still open for the same unit (same embed, same original bytes) are reused: a planned row is
    brought up to date (or, in mode apply, taken over); an approved row keeps what the editor approved
    unless the plan writes at once. A change for review is planned whatever `state` says. Planned rows
    the plan no longer has are superseded (refused).
    """
    open_rows: dict[tuple[int | None, bytes], list[Rewrite]] = {}
    for row in journal:
        if row.state in (PLANNED, APPROVED):
            open_rows.setdefault((row.embed_id, row.original_bytes), []).append(row)
    rows = []
    for change in plan.changes:
        candidates = open_rows.get((change.embed_id, change.original))
        existing = candidates.pop(0) if candidates else None
        if existing is not None and existing.state == APPROVED and state != APPLYING:
            continue  # approved as it was: apply_article writes exactly that
        row_state = PLANNED if change.review else state
        values = _row_values(article, plan, change, row_state, now)
        if row_state in (APPROVED, APPLYING):
            values.update(approved_at=now, approved_by=AUTO_APPROVER)
        if row_state == APPLYING:
            values["card_start"] = change.card_start
        if existing is None:
            rows.append(queries.add_rewrite(session, **values))
            continue
        for name, value in values.items():
            if name != "created_at":
                setattr(existing, name, value)
        rows.append(existing)
    for leftovers in open_rows.values():
        for row in leftovers:
            if row.state == PLANNED:
                row.state, row.reason = (
                    REFUSED,
                    "superseded: the embed is no longer broken there, or its unit changed",
                )
    session.flush()
    return rows


def _row_values(
    article: Article, plan: ArticlePlan, change: PlannedChange, state: str, now: Any
) -> dict[str, Any]:
    return {
        "article_id": article.id,
        "embed_id": change.embed_id,
        "provider": change.provider,
        "post_id": change.post_id,
        "mode": plan.mode,
        "state": state,
        "variant": change.variant,
        "snapshot_version": change.snapshot_version,
        "span_start": change.span.start,
        "span_end": change.span.end,
        "original_bytes": change.original,
        "replacement_bytes": change.replacement,
        "article_sha256_before": plan.before_sha256,
        "article_sha256_after": plan.after_sha256,
        "reason": change.note,
        "created_at": now,
    }


# ---------------------------------------------------------------- the editors' queue


@dataclass(frozen=True, slots=True)
class PendingRewrite:
    """One line of `archive rewrite --pending`."""

    id: int
    article: str
    source: str
    provider: str
    post_id: str
    state: str
    variant: str | None
    version: int | None
    reason: str | None
    created_at: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "article": self.article,
            "source": self.source,
            "provider": self.provider,
            "post_id": self.post_id,
            "state": self.state,
            "variant": self.variant,
            "version": self.version,
            "reason": self.reason,
            "created_at": self.created_at,
        }


def pending(session: Session, *, include_refused: bool = False) -> list[PendingRewrite]:
    """Rewrites waiting for an editor (`planned`), oldest first; with `include_refused`, also the
    latest refusal of each unit (the flagged articles)."""
    states = (PLANNED, REFUSED) if include_refused else (PLANNED,)
    out = []
    for row, article, source in queries.rewrites_with_articles(session, states):
        out.append(
            PendingRewrite(
                row.id,
                article.key,
                source,
                row.provider,
                row.post_id,
                row.state,
                row.variant,
                row.snapshot_version,
                row.reason,
                row.created_at.isoformat(),
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class Decision:
    """What `approve` or `reject` did with one rewrite id."""

    id: int
    ok: bool
    state: str | None
    reason: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "ok": self.ok, "state": self.state, "reason": self.reason}


def approve(session: Session, rewrite_ids: Iterable[int], by: str, now: Any) -> list[Decision]:
    """Approve planned rewrites (the next `run` or `apply_article` writes them). The caller commits."""
    return _decide(session, rewrite_ids, by, now, APPROVED, None)


def reject(
    session: Session, rewrite_ids: Iterable[int], by: str, now: Any, reason: str | None = None
) -> list[Decision]:
    """Reject planned (or approved, not yet written) rewrites: that embed is not rewritten again in
    that article. The caller commits."""
    return _decide(session, rewrite_ids, by, now, REJECTED, reason or f"rejected by {by}")


def _decide(
    session: Session, rewrite_ids: Iterable[int], by: str, now: Any, state: str, reason: str | None
) -> list[Decision]:
    decisions = []
    allowed = (PLANNED,) if state == APPROVED else (PLANNED, APPROVED)
    for rewrite_id in rewrite_ids:
        row = session.get(Rewrite, rewrite_id)
        if row is None:
            decisions.append(Decision(rewrite_id, False, None, "no such rewrite"))
            continue
        if row.state not in allowed:
            decisions.append(
                Decision(rewrite_id, False, row.state, f"it is {row.state}, not {' or '.join(allowed)}")
            )
            continue
        row.state = state
        row.approved_by, row.approved_at = by, now
        if reason is not None:
            row.reason = reason
        decisions.append(Decision(rewrite_id, True, state))
    session.flush()
    return decisions


# ---------------------------------------------------------------- writing approved rewrites


@dataclass(frozen=True, slots=True)
class WriteResult:
    """What writing one article did: applied, refused, conflict (changed meanwhile), unchanged, error."""

    article_id: int
    status: str
    rewrite_ids: tuple[int, ...] = ()
    error: str | None = None


def apply_article(sessions: sessionmaker[Session], deps: RewriteDeps, article_id: int) -> WriteResult:
    """Write the approved rewrites of one article, exactly as approved, verified against its bytes now.

    A unit whose bytes moved (the article was edited elsewhere) is found again by its exact bytes; one
    that changed, or that no longer verifies, is refused.
    """
    with sessions() as session:
        article = session.get(Article, article_id)
        if article is None:
            return WriteResult(article_id, "error", error=f"no article {article_id}")
        rows = queries.article_rewrites(session, article_id, (APPROVED,))
        if not rows:
            return WriteResult(article_id, "unchanged")
        store = deps.store(article.source.name)
        try:
            current = store.read(article.key)
        except ArticleError as exc:
            return WriteResult(article_id, "error", tuple(r.id for r in rows), str(exc))
        targets: dict[int, Target] = {}
        for row in rows:
            at = splice.locate(current.data, row.original_bytes, row.span_start)
            if at is None or row.replacement_bytes is None:
                row.state, row.reason = REFUSED, "the embed's markup changed since it was approved"
                continue
            span = Span(at, at + len(row.original_bytes))
            card = _row_card(row)
            targets[row.id] = Target(span, card, row.embed_id, (_variant(row.variant), row.replacement_bytes))
        spliced = rewrite_bytes(current, list(targets.values()), deps.renderer)
        by_target = {id(target): row_id for row_id, target in targets.items()}
        row_by_id = {row.id: row for row in rows}
        for target, reason in spliced.refused:
            row = row_by_id[by_target[id(target)]]
            row.state, row.reason = REFUSED, reason
        if not spliced.changes:
            session.commit()
            return WriteResult(article_id, "refused", tuple(row_by_id))
        after_sha = hashlib.sha256(spliced.after).hexdigest()
        applying = []
        for change in spliced.changes:
            row = row_by_id[by_target[id(change.target)]]
            row.state = APPLYING
            row.span_start, row.span_end = change.edit.start, change.edit.end
            row.card_start = change.card_start
            row.article_sha256_before, row.article_sha256_after = current.sha256, after_sha
            applying.append(row)
        session.commit()
        plan = ArticlePlan(
            article.id,
            article.key,
            article.source.name,
            "approve",
            current.encoding,
            current.data,
            spliced.after,
            before_sha256=current.sha256,
            after_sha256=after_sha,
        )
        result = _write(session, deps, applying, plan)
    return replace(result, rewrite_ids=tuple(row_by_id))


def _row_card(row: Rewrite) -> CardData:
    """A stand-in card for a journal row (only its marker is read: the bytes are fixed)."""
    return CardData(row.provider, row.provider, row.post_id, "", row.snapshot_version or 0, "", "", "")


def _variant(value: str | None) -> Variant:
    return "inline" if value == "inline" else "block"


def _write(
    session: Session,
    deps: RewriteDeps,
    rows: Sequence[Rewrite],
    plan: ArticlePlan,
    applied: Sequence[Rewrite] | None = None,
) -> WriteResult:
    """Write the new bytes of rows just committed as `applying` in `session`, then mark them applied
    (`applied`: the article's rows applied before, when the caller knows them)."""
    ids = tuple(row.id for row in rows)
    try:
        deps.store(plan.source).write(plan.key, plan.after, plan.before_sha256)
    except (WriteConflict, ArchiverError, OSError) as exc:
        for row in rows:
            if row.state == APPLYING:
                row.state = APPROVED
                row.reason = f"not written: {exc}"
        session.commit()
        status = "conflict" if isinstance(exc, WriteConflict) else "error"
        return WriteResult(plan.article_id, status, ids, str(exc))
    _finish_apply(session, deps, plan.article_id, rows, plan.after, plan.after_sha256, applied)
    session.commit()
    return WriteResult(plan.article_id, "applied", ids)


def _finish_apply(
    session: Session,
    deps: RewriteDeps,
    article_id: int,
    rows: Sequence[Rewrite],
    after: bytes,
    after_sha256: str | None = None,
    applied: Sequence[Rewrite] | None = None,
) -> None:
    """Rows written: applied; the other applied cards and the occurrences move with the new bytes."""
    now = deps.clock.now()
    edits = _edits_of(rows)
    if applied is None:
        applied = queries.article_rewrites(session, article_id, (APPLIED,))
    moving = [row for row in applied if row not in rows]
    for row in moving:
        if row.card_start is not None:
            row.card_start = splice.shifted(row.card_start, edits)
    for row in rows:
        row.state = APPLIED
        row.applied_at = now  # `reason` stays: a residue card's note says which line it replaced
    article = session.get(Article, article_id)
    if article is not None:
        _move_occurrences(article, edits)
        article.content_sha256 = after_sha256 or hashlib.sha256(after).hexdigest()
        article.size_bytes = len(after)
    session.flush()


def _edits_of(rows: Sequence[Rewrite]) -> list[splice.Edit]:
    """The edits a set of applying rows made (old = unit, new = card), in byte order."""
    return sorted(
        (
            splice.Edit(
                row.span_start, row.span_end, row.original_bytes, row.replacement_bytes or b"", row.post_id
            )
            for row in rows
        ),
        key=lambda edit: edit.start,
    )


def _move_occurrences(article: Article, edits: Sequence[splice.Edit]) -> None:
    """Occurrence spans after `edits`: a replaced unit's span becomes its card's; others shift."""
    shifts = 0
    new_start = {}
    for edit in edits:
        new_start[(edit.start, edit.end)] = edit.start + shifts
        shifts += edit.delta
    for occurrence in article.occurrences:
        if occurrence.span_start is None or occurrence.span_end is None:
            continue
        start, end = occurrence.span_start, occurrence.span_end
        replaced = next((e for e in edits if (e.start, e.end) == (start, end)), None)
        if replaced is not None:
            occurrence.span_start = new_start[(start, end)]
            occurrence.span_end = occurrence.span_start + len(replaced.new)
        elif any(e.start < end and start < e.end for e in edits):
            occurrence.span_start = occurrence.span_end = None
        else:
            occurrence.span_start = splice.shifted(start, edits)
            occurrence.span_end = occurrence.span_start + (end - start)


# ---------------------------------------------------------------- restore


@dataclass(frozen=True, slots=True)
class RestoreResult:
    """What undoing rewrites of one article did."""

    article_id: int
    key: str
    rewrite_ids: tuple[int, ...] = ()
    before_sha256: str | None = None
    after_sha256: str | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "article": self.key,
            "restored": list(self.rewrite_ids),
            "sha256": self.after_sha256,
        }
        if self.error is not None:
            out["error"] = self.error
        return out


def restore_article(
    sessions: sessionmaker[Session],
    deps: RewriteDeps,
    article_id: int,
    embed_id: int | None = None,
    *,
    by: str,
) -> RestoreResult:
    """Undo the applied rewrites of one article (or only those of `embed_id`): every card is put back
    to the exact original bytes of its unit. With all of them undone and no other edit since, the
    article's sha256 is what it was before the first rewrite. An editor's restore is sticky (`by` is
    who asked; `AUTO_RESTORER` for embeds that came back alive, which may be rewritten again)."""
    with sessions() as session:
        article = session.get(Article, article_id)
        if article is None:
            return RestoreResult(article_id, str(article_id), error=f"no article {article_id}")
        rows = [
            row
            for row in queries.article_rewrites(session, article_id, (APPLIED,))
            if embed_id is None or row.embed_id == embed_id
        ]
        key = article.key
        if not rows:
            return RestoreResult(article_id, key)
        store = deps.store(article.source.name)
        try:
            current = store.read(key)
            edits = _restore_edits(current.data, rows)
        except (ArticleError, splice.RestoreError) as exc:
            return RestoreResult(article_id, key, tuple(r.id for r in rows), error=str(exc))
        restored = splice.apply(current.data, splice.Plan(tuple(edits)))
        after_sha = hashlib.sha256(restored).hexdigest()
        for row in rows:
            row.state = RESTORING
            row.restore_sha256_before, row.restore_sha256_after = current.sha256, after_sha
            row.restored_by = by
        session.commit()
        ids = tuple(row.id for row in rows)
        try:
            store.write(key, restored, current.sha256)
        except (ArchiverError, OSError) as exc:
            for row in rows:
                row.state = APPLIED
                row.restored_by = None
                row.reason = f"restore not written: {exc}"
            session.commit()
            return RestoreResult(article_id, key, ids, error=str(exc))
        _finish_restore(session, deps, article, rows, edits, restored)
        session.commit()
    return RestoreResult(article_id, key, ids, current.sha256, after_sha)


def _restore_edits(data: bytes, rows: Sequence[Rewrite]) -> list[splice.Edit]:
    """Where each row's card is now, as an edit putting its original bytes back."""
    entries = [
        splice.JournalEntry(
            row.card_start if row.card_start is not None else row.span_start,
            row.replacement_bytes or b"",
            row.original_bytes,
        )
        for row in rows
    ]
    return splice.restore_edits(data, entries)


def _finish_restore(
    session: Session,
    deps: RewriteDeps,
    article: Article,
    rows: Sequence[Rewrite],
    edits: Sequence[splice.Edit],
    restored: bytes,
) -> None:
    now = deps.clock.now()
    for row in queries.article_rewrites(session, article.id, (APPLIED,)):
        if row not in rows and row.card_start is not None:
            row.card_start = splice.shifted(row.card_start, edits)
    for row in rows:
        row.state = RESTORED
        row.restored_at = now
        row.card_start = None
    _move_occurrences(article, edits)
    article.content_sha256 = hashlib.sha256(restored).hexdigest()
    article.size_bytes = len(restored)
    session.flush()


def restore_returned(
    sessions: sessionmaker[Session],
    deps: RewriteDeps,
    *,
    sources: Iterable[str] | None = None,
    stop: threading.Event | None = None,
) -> list[RestoreResult]:
    """Undo the rewrites of embeds that came back alive, in sources whose `restore_on_return` is on."""
    wanted = set(sources) if sources is not None else None
    with sessions() as session:
        pairs = queries.returned_rewrites(session, _ALIVE)
        todo = sorted(
            {
                (article_id, embed_id)
                for article_id, embed_id, source in pairs
                if (wanted is None or source in wanted) and deps.policy(source).restore_on_return
            }
        )
    results = []
    for article_id, embed_id in todo:
        if stop is not None and stop.is_set():
            break
        results.append(restore_article(sessions, deps, article_id, embed_id, by=AUTO_RESTORER))
    return results


def _settle_removed_cards(deps: RewriteDeps, applied: Sequence[Rewrite], current: ArticleRecord) -> None:
    """Applied rows whose card is no longer in the article were undone by hand: restored, sticky."""
    for row in applied:
        card = row.replacement_bytes or b""
        if card and splice.locate(current.data, card, row.card_start or 0) is None:
            row.state = RESTORED
            row.restored_at = deps.clock.now()
            row.restored_by = BY_HAND
            row.card_start = None


# ---------------------------------------------------------------- recovery after a crash


@dataclass
class RecoverReport:
    """What `recover` settled: rewrite ids finished, rolled back, and refused; articles it could not read."""

    finished: list[int] = field(default_factory=list)
    rolled_back: list[int] = field(default_factory=list)
    refused: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "finished": self.finished,
            "rolled_back": self.rolled_back,
            "refused": self.refused,
            "errors": self.errors,
        }


def recover(sessions: sessionmaker[Session], deps: RewriteDeps) -> RecoverReport:
    """Settle rows left `applying` or `restoring` by a crash, by the article's bytes now.

    applying:  article == after  -> applied (finished);  == before -> approved (rolled back, written
               again by the next run); else its card found -> applied, its unit found -> approved, else
               refused (changed beyond recognition).
    restoring: article == after  -> restored;  == before -> applied; else likewise by the bytes.
    Leftover temporary files of interrupted writes are removed.
    """
    report = RecoverReport()
    with sessions() as session:
        groups = queries.unsettled_rewrites(session, (APPLYING, RESTORING))
    for article_id in sorted(groups):
        with sessions() as session, session.begin():
            article = session.get(Article, article_id)
            rows = queries.rewrites_by_id(session, groups[article_id])
            if article is None:
                continue
            store = deps.store(article.source.name)
            if isinstance(store, FileStore):
                for temp in stale_temp_files(store.path(article.key)):
                    temp.unlink(missing_ok=True)
            try:
                current = store.read(article.key)
            except ArchiverError as exc:
                report.errors.append(str(exc))
                continue
            _recover_applying(
                session, deps, article, [r for r in rows if r.state == APPLYING], current, report
            )
            _recover_restoring(
                session, deps, article, [r for r in rows if r.state == RESTORING], current, report
            )
    return report


def _recover_applying(
    session: Session,
    deps: RewriteDeps,
    article: Article,
    rows: list[Rewrite],
    current: ArticleRecord,
    report: RecoverReport,
) -> None:
    if not rows:
        return
    by_after: dict[str | None, list[Rewrite]] = {}
    for row in rows:
        by_after.setdefault(row.article_sha256_after, []).append(row)
    for after_sha, group in by_after.items():
        if current.sha256 == after_sha:
            _finish_apply(session, deps, article.id, group, current.data)
            report.finished += [row.id for row in group]
            continue
        for row in group:
            if current.sha256 == row.article_sha256_before:
                state = APPROVED
            elif (
                row.replacement_bytes
                and splice.locate(current.data, row.replacement_bytes, row.card_start or 0) is not None
            ):
                state = APPLIED
            elif splice.locate(current.data, row.original_bytes, row.span_start) is not None:
                state = APPROVED
            else:
                state = REFUSED
            if state == APPLIED:
                at = splice.locate(current.data, row.replacement_bytes or b"", row.card_start or 0)
                row.state, row.card_start, row.applied_at = APPLIED, at, deps.clock.now()
                report.finished.append(row.id)
            elif state == APPROVED:
                row.state, row.reason = (
                    APPROVED,
                    "the write was interrupted; it is written again by the next run",
                )
                report.rolled_back.append(row.id)
            else:
                row.state, row.reason = REFUSED, "the article changed while it was being rewritten"
                report.refused.append(row.id)


def _recover_restoring(
    session: Session,
    deps: RewriteDeps,
    article: Article,
    rows: list[Rewrite],
    current: ArticleRecord,
    report: RecoverReport,
) -> None:
    if not rows:
        return
    by_after: dict[str | None, list[Rewrite]] = {}
    for row in rows:
        by_after.setdefault(row.restore_sha256_after, []).append(row)
    for after_sha, group in by_after.items():
        if current.sha256 == after_sha:
            positions = [row.card_start for row in group]
            edits = sorted(
                (
                    splice.Edit(
                        at or 0,
                        (at or 0) + len(row.replacement_bytes or b""),
                        row.replacement_bytes or b"",
                        row.original_bytes,
                        row.post_id,
                    )
                    for row, at in zip(group, positions, strict=True)
                ),
                key=lambda edit: edit.start,
            )
            _finish_restore(session, deps, article, group, edits, current.data)
            report.finished += [row.id for row in group]
            continue
        for row in group:
            card_there = (
                row.replacement_bytes
                and splice.locate(current.data, row.replacement_bytes, row.card_start or 0) is not None
            )
            if current.sha256 == row.restore_sha256_before or card_there:
                row.state, row.restored_by = APPLIED, None
                row.reason = "the restore was interrupted; run it again"
                report.rolled_back.append(row.id)
            else:
                row.state, row.restored_at = RESTORED, deps.clock.now()
                report.finished.append(row.id)
