"""recovered: the spots recovery from web archives paired with a post (`archive recover`), as cards.

    recovered_targets(session, article, settings)   the cards of the article's recovered spots whose
                                                    post is broken, as rewrite targets
    RepairTargets(settings)(session, article)        recovered spots first, then residue matched to
                                                    snapshots: `RewriteDeps.extra_targets`
    recovered_articles(session, sources)             the articles `rewrite.run` should visit for them

A recovered post is an embed like any other: its live ladder is climbed, and only the verdict rule
(gone outcomes over time, no ok between) makes it broken. Then its spot gets a card from its latest
snapshot (the one the archived copy's markup gave, unless a live capture came later):

* a residue line: the card replaces the line's block;
* an empty embed shell: the card replaces the shell;
* a lead-in over nothing: the card is inserted right after the lead-in's block (a zero-length span:
  the journal row's original bytes are empty, and a restore takes exactly the card out again).

The spot must still be in the article as the recovery row names it (same markup, same anchor: the
residue's handle or the lead-in sentence). Every such card waits for an editor (`planned`) whatever
the source's mode, unless `recover.repairs = "apply"`: the evidence is an old copy of the page, not the
article itself. The journal row's reason names the archive, the memento and its date.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy.orm import Session

from archiver.config import Settings
from archiver.pipeline.rewrite.fallback import CardData
from archiver.pipeline.rewrite.residue import residue_targets
from archiver.pipeline.rewrite.targets import Target
from archiver.records import EmbedState, MarkupKind, Span, spot_anchor
from archiver.storage import queries
from archiver.storage.models import Article, Occurrence, Recovery

_BROKEN = EmbedState.BROKEN.value


def recovered_targets(session: Session, article: Article, settings: Settings) -> list[Target]:
    """The cards of the article's recovered spots whose post is broken (see the module docstring)."""
    rows = [row for row in queries.paired_recoveries(session, article.id) if _broken(row)]
    if not rows:
        return []
    spots: dict[tuple[str, str], Occurrence] = {}
    for occurrence in queries.spots_of(session, article):
        key = (occurrence.markup, spot_anchor(occurrence.markup, occurrence.found or {}))
        spots.setdefault(key, occurrence)  # a second spot with the same anchor is not this row's
    snapshots = queries.latest_snapshots(session, {row.embed_id for row in rows if row.embed_id})
    review = settings.recover.repairs == "approve"
    targets = []
    for row in rows:
        spot = spots.get((row.markup, row.anchor))
        snapshot = snapshots.get(row.embed_id or 0)
        if spot is None or snapshot is None or spot.span_start is None or spot.span_end is None:
            continue
        span, what = _place(spot)
        card = CardData.from_snapshot(snapshot.embed, snapshot, settings.rewrite)
        note = f"recovered from web archive {row.archive}: {what}; {_evidence(row)}"
        if review:
            note += "; an editor approves it"
        targets.append(Target(span, card, snapshot.embed_id, note=note, review=review))
    return targets


def recovered_articles(session: Session, sources: Collection[str] | None = None) -> list[int]:
    """Ids of the articles with a recovered spot whose post is broken, in id order."""
    return queries.articles_with_recovered_posts(session, _BROKEN, sources)


@dataclass(frozen=True, slots=True)
class RepairTargets:
    """`RewriteDeps.extra_targets`: recovered spots, then residue matched to archived snapshots that no
    recovered spot already covers (recovery's evidence names the post that stood there; a match by
    handle only says that one archived post fits)."""

    settings: Settings

    def __call__(self, session: Session, article: Article) -> list[Target]:
        targets = recovered_targets(session, article, self.settings)
        taken = [target.span for target in targets]
        for target in residue_targets(session, article, self.settings.rewrite):
            if not any(_meets(span, target.span) for span in taken):
                targets.append(target)
        return targets


def _broken(row: Recovery) -> bool:
    return row.embed is not None and row.embed.state == _BROKEN


def _place(occurrence: Occurrence) -> tuple[Span, str]:
    """Where the card goes for a spot, and what it does there (for the journal's reason)."""
    start, end = occurrence.span_start or 0, occurrence.span_end or 0
    found = occurrence.found or {}
    if occurrence.markup == MarkupKind.RESIDUE.value:
        return Span(start, end), f"the residue line @{found.get('handle')} replaced"
    if found.get("shell"):
        return Span(start, end), f"the empty {found['shell']} replaced"
    return Span(end, end), f"inserted after the lead-in {found.get('lead_in')!r}"


def _evidence(row: Recovery) -> str:
    when = row.memento_datetime.strftime("%Y-%m-%dT%H:%M:%SZ") if row.memento_datetime else "undated"
    return f"the copy of {when} ({row.memento_url}) showed the post there"


def _meets(a: Span, b: Span) -> bool:
    """Whether two spans overlap, or one is an insertion point at or inside the other."""
    if a.start == a.end or b.start == b.end:
        return a.start <= b.end and b.start <= a.end
    return a.start < b.end and b.start < a.end
