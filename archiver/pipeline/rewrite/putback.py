"""putback: a recovered post that is still alive gets its original embed markup back, so the live post
shows again where the archived copy showed it.

    putback_targets(session, article, settings, providers)   rewrite targets for the article's
                                                               recovered spots whose post answers live
    answered_live(row)                                        the rule below, for one recovery row

The rule (conservative: a memento says nothing of the post today, and "not broken yet" is not alive):
the spot is paired (`archive recover`), its post's state is `live`, and a counted `ok` check of the
post (its live ladder: `archive fetch` or the daemon's capture and check) came at or after the pairing
(`Embed.last_ok_at` >= the recovery row's `updated_at`: a paired row is never looked up again). A post
that is `new` (never asked), `suspect`, `needs_review` or `broken` gets nothing from here; a broken one
gets its card (`recovered`).

The markup is the copy's embed unit kept on the recovery row, reduced to the provider's own markup
(`original.embed_unit`: the blockquote or iframe, and its loader script; archive URLs turned back,
anything hostile refused) and scanned with our own scanner, which must find in it the very post
recovery paired: otherwise it is refused. A post the article already embeds elsewhere is not put back.
It goes where the card would (`recovered.place`): in place of the residue line's block or the empty
shell, or inserted right after the lead-in's block (a zero-length span: restore takes exactly the
markup out). The page is verified like a card's (`verify`: the parser must read the markup where it was
written, under the unit's place), journaled with variant `embed`, and waits for an editor (`planned`)
whatever the source's mode unless `recover.repairs = "apply"`. A refusal is journaled with its one-line
reason (the article is flagged). Once written, the markup is an ordinary embed of the article: a later
scan finds it, and if the post breaks the verdict and its card take over.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from sqlalchemy.orm import Session

from archiver.config import Settings
from archiver.pipeline.rewrite.fallback import CardData
from archiver.pipeline.rewrite.original import embed_unit
from archiver.pipeline.rewrite.recovered import place, recovered_spots
from archiver.pipeline.rewrite.targets import Target
from archiver.pipeline.scan import scan_article
from archiver.providers.common.base import Provider
from archiver.records import Article as ArticleRecord
from archiver.records import EmbedState
from archiver.storage import queries
from archiver.storage.models import Article, Recovery

_LIVE = EmbedState.LIVE.value


def answered_live(row: Recovery) -> bool:
    """Whether the row's post answered live since recovery paired it (see the module docstring)."""
    embed = row.embed
    return (
        row.state == "paired"
        and embed is not None
        and embed.state == _LIVE
        and embed.last_ok_at is not None
        and embed.last_ok_at >= row.updated_at
    )


def putback_targets(
    session: Session, article: Article, settings: Settings, providers: Sequence[Provider]
) -> list[Target]:
    """The original markup of the article's recovered spots whose post answered live, as targets."""
    shown = {occurrence.embed_id for occurrence in article.occurrences if occurrence.embed_id is not None}
    rows = [
        row
        for row in queries.paired_recoveries(session, article.id)
        # A post the article embeds elsewhere already shows: it is not put back a second time.
        if answered_live(row) and row.embed_id not in shown
    ]
    if not rows:
        return []
    spots = recovered_spots(session, article)
    by_name = {provider.name: provider for provider in providers}
    bases = [archive.base for archive in settings.archives]
    review = settings.recover.repairs == "approve"
    targets = []
    for row in rows:
        spot = spots.get((row.markup, row.anchor))
        embed = row.embed
        if spot is None or embed is None or spot.span_start is None or spot.span_end is None:
            continue
        span, what = place(spot)
        provider = by_name.get(embed.provider)
        stand_in = CardData(
            embed.provider,
            provider.title if provider is not None else embed.provider,
            embed.post_id,
            embed.canonical_url,
            0,
            "",
            "",
            "",
        )
        when = row.memento_datetime.strftime("%Y-%m-%dT%H:%M:%SZ") if row.memento_datetime else "undated"
        note = f"original embed put back from {row.archive} {row.memento_url} of {when}: {what}"
        if review:
            note += "; an editor approves it"
        markup, refusal = _markup(row, provider, bases, providers)
        if refusal is not None:
            refusal = f"original embed from {row.archive} {row.memento_url} not put back: {refusal}"
        targets.append(
            Target(
                span,
                stand_in,
                embed.id,
                note=note,
                review=review,
                put_back=True,
                markup=markup,
                refusal=refusal,
            )
        )
    return targets


def _markup(
    row: Recovery, provider: Provider | None, bases: Sequence[str], providers: Sequence[Provider]
) -> tuple[str | None, str | None]:
    """The markup to put back for `row`, or the one-line reason it is refused."""
    embed = row.embed
    assert embed is not None
    if provider is None:
        return None, f"no provider {embed.provider!r} is enabled"
    if not row.original_markup:
        return None, "recovery kept no markup of it"
    unit = embed_unit(row.original_markup, provider, bases)
    if unit.markup is None:
        return None, unit.reason
    data = unit.markup.encode()
    scanned = scan_article(
        ArticleRecord("put-back", "memento", data, unit.markup, "utf-8", hashlib.sha256(data).hexdigest()),
        providers,
    )
    found = {(ref.provider, ref.post_id) for ref in scanned.embeds if ref.post_id}
    if found != {(embed.provider, embed.post_id)}:
        names = ", ".join(sorted(f"{p}:{i}" for p, i in found)) or "no post"
        return None, f"our scanner reads {names} in it, not {embed.provider}:{embed.post_id}"
    return unit.markup, None
