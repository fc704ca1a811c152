"""recovered: the spots recovery from web archives paired with a post (`archive recover`), as cards.

    recovered_targets(session, article, settings)   the cards of the article's recovered spots whose
                                                    post is broken, as rewrite targets
    recovered_spots(session, article)                the article's spots by (markup, anchor)
    place(occurrence), evidence(row)                 where a spot's repair goes; what the copy showed

A recovered post still alive gets its original embed markup back instead (`putback`); `repairs` puts
both together with residue matched to snapshots (`RewriteDeps.extra_targets`).

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

from sqlalchemy.orm import Session

from archiver.config import Settings
from archiver.pipeline.rewrite.fallback import CardData
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
    spots = recovered_spots(session, article)
    snapshots = queries.latest_snapshots(session, {row.embed_id for row in rows if row.embed_id})
    review = settings.recover.repairs == "approve"
    targets = []
    for row in rows:
        spot = spots.get((row.markup, row.anchor))
        snapshot = snapshots.get(row.embed_id or 0)
        if spot is None or snapshot is None or spot.span_start is None or spot.span_end is None:
            continue
        span, what = place(spot)
        card = CardData.from_snapshot(snapshot.embed, snapshot, settings.rewrite)
        note = f"recovered from web archive {row.archive}: {what}; {evidence(row)}"
        if review:
            note += "; an editor approves it"
        targets.append(Target(span, card, snapshot.embed_id, note=note, review=review))
    return targets


def recovered_spots(session: Session, article: Article) -> dict[tuple[str, str], Occurrence]:
    """The article's residue lines and lost spots by (markup, anchor), as recovery rows name them."""
    spots: dict[tuple[str, str], Occurrence] = {}
    for occurrence in queries.spots_of(session, article):
        key = (occurrence.markup, spot_anchor(occurrence.markup, occurrence.found or {}))
        spots.setdefault(key, occurrence)  # a second spot with the same anchor is not this row's
    return spots


def _broken(row: Recovery) -> bool:
    return row.embed is not None and row.embed.state == _BROKEN


def place(occurrence: Occurrence) -> tuple[Span, str]:
    """Where the card goes for a spot, and what it does there (for the journal's reason)."""
    start, end = occurrence.span_start or 0, occurrence.span_end or 0
    found = occurrence.found or {}
    if occurrence.markup == MarkupKind.RESIDUE.value:
        return Span(start, end), f"the residue line @{found.get('handle')} replaced"
    if found.get("shell"):
        return Span(start, end), f"the empty {found['shell']} replaced"
    return Span(end, end), f"inserted after the lead-in {found.get('lead_in')!r}"


def evidence(row: Recovery) -> str:
    when = row.memento_datetime.strftime("%Y-%m-%dT%H:%M:%SZ") if row.memento_datetime else "undated"
    return f"the copy of {when} ({row.memento_url}) showed the post there"
