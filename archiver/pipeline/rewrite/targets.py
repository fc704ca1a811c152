"""The pure core of a rewrite, bytes in and bytes out: `rewrite_bytes(article, targets, renderer)`.

A `Target` is one unit of an article (a byte span) and the card to put there; `rewrite_bytes` splices
every target's card in (`splice`), verifies the page still parses as it did around them (`verify`),
tries the other card variant where one does not verify, and refuses what still does not. Nothing here
reads a database or a source: planning (`plan`), applying (`apply`) and residue repair (`residue`)
build targets and call it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from archiver.pipeline.rewrite import splice, verify
from archiver.pipeline.rewrite.fallback import CardData, CardRenderer, Variant
from archiver.records import Article, Span


@dataclass(frozen=True, slots=True)
class Target:
    """One unit to replace: its byte span in the article, and the card to put there.

    `fixed` pins the exact card bytes and variant (an approved rewrite is written as approved).
    `note` says why a target that is not the embed's own unit is there (residue matched to a post); it
    becomes the journal row's reason. `review`: an editor approves it even where the mode is apply.
    `put_back`: the bytes are a live post's original embed markup, not a card (`putback`): `markup` when
    planned (encoded in the article's encoding), `fixed` once journaled. `refusal`: why the target
    cannot be done, known before splicing (it is refused with that reason).
    """

    span: Span
    card: CardData
    embed_id: int | None = None
    fixed: tuple[Variant, bytes] | None = None
    note: str | None = None
    review: bool = False
    put_back: bool = False
    markup: str | None = None
    refusal: str | None = None

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


def rewrite_bytes(article: Article, targets: Sequence[Target], renderer: CardRenderer) -> Spliced:
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
    refused += [(target, target.refusal) for target in targets if target.refusal is not None]
    targets = [target for target in targets if target.refusal is None]
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
        if target.markup is not None:
            return splice.encode_markup(target.markup, codec)
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
            if live[key].fixed is None and live[key].markup is None and other not in tried[key]:
                variants[key] = other
                tried[key].add(other)
            else:
                refused.append((live.pop(key), reason))
    return Spliced(data, data, (), tuple(refused))
