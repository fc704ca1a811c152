"""repairs: the targets an article has besides its broken embeds, asked each time it is planned.

RepairTargets(settings, providers)(session, article)   `RewriteDeps.extra_targets`: spots recovered
                                                        from web archives (a card for a broken post,
                                                        `recovered`; the original markup for a live
                                                        one, `putback`), then residue matched to
                                                        archived snapshots (`residue`)
repair_articles(session, sources) -> RepairSurvey      the articles `rewrite.run` visits for them, and
                                                        the residue lines by status
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy.orm import Session

from archiver.config import Settings
from archiver.pipeline.rewrite.putback import putback_targets
from archiver.pipeline.rewrite.recovered import recovered_targets
from archiver.pipeline.rewrite.residue import (
    count_lines,
    repairable_articles,
    residue_report,
    residue_targets,
)
from archiver.pipeline.rewrite.targets import Target
from archiver.providers import PROVIDERS
from archiver.providers.common.base import Provider
from archiver.records import EmbedState, Span
from archiver.storage import queries
from archiver.storage.models import Article


@dataclass(frozen=True, slots=True)
class RepairTargets:
    """`RewriteDeps.extra_targets`: recovered spots (cards, or the original markup put back), then
    residue matched to archived snapshots that no recovered spot already covers (recovery's evidence
    names the post that stood there; a match by handle only says that one archived post fits)."""

    settings: Settings
    providers: tuple[Provider, ...] = PROVIDERS

    def __call__(self, session: Session, article: Article) -> list[Target]:
        targets = recovered_targets(session, article, self.settings)
        targets += putback_targets(session, article, self.settings, self.providers)
        taken = [target.span for target in targets]
        for target in residue_targets(session, article, self.settings.rewrite):
            if not any(_meets(span, target.span) for span in taken):
                targets.append(target)
        return targets


@dataclass(frozen=True, slots=True)
class RepairSurvey:
    """What `repair_articles` found: the articles to visit, and every residue line (of the sources
    asked) by status, matched on the way (`residue.count_lines`)."""

    article_ids: tuple[int, ...]
    residue_lines: dict[str, int]


def repair_articles(session: Session, sources: Collection[str] | None = None) -> RepairSurvey:
    """The articles with residue a snapshot matches, or a recovered spot whose post is broken (a card
    is due) or live (its markup may go back), in id order; and the residue lines by status."""
    matches = residue_report(session, sources)
    found = set(repairable_articles(matches))
    for state in (EmbedState.BROKEN.value, EmbedState.LIVE.value):
        found.update(queries.articles_with_recovered_posts(session, state, sources))
    return RepairSurvey(tuple(sorted(found)), count_lines(matches))


def _meets(a: Span, b: Span) -> bool:
    """Whether two spans overlap, or one is an insertion point at or inside the other."""
    if a.start == a.end or b.start == b.end:
        return a.start <= b.end and b.start <= a.end
    return a.start < b.end and b.start < a.end
