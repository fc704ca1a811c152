"""Aliases: one post kept under its lasting id whatever id its articles wrote (a Bluesky post written with
its author's handle, `handle/RKEY`, and with the DID, `did:plc:.../RKEY`, is one embed).

    keep_under(session, embed, lasting_id, lasting_url, now) -> Embed   the embed that keeps the post now
    aliases_of(session, embed_id) -> [EmbedAlias]                       the other ids it is known by

When a capture finds `embed`'s post under another id, the post is kept under that one: `embed` is renamed
when no embed has the lasting id yet, or else merged into the one that has it. Merging moves everything
that names the embed: occurrences, snapshot versions (numbered after the lasting embed's own), checks,
state changes, rewrite journal rows, recoveries and aliases (the full-text index follows the snapshot
rows by itself), and its Save Page Now copy and archived-pages lookup where the kept embed has none.
The old id becomes an alias (`EmbedAlias`): scans map it to the kept embed and public pages of the old
id redirect there.

Verdicts: the merged embed's checks decide its state from then on, and nothing the merged-in embed saw
may cry wolf: its outcomes other than `ok` stop counting (they were seen through a handle, which may
since have moved to another account); an `ok` still counts, since it can only hold a verdict back.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archiver.storage.models import (
    Check,
    Embed,
    EmbedAlias,
    Mirror,
    Occurrence,
    PostPageLookup,
    Recovery,
    Rewrite,
    Snapshot,
    StateChange,
)


def keep_under(session: Session, embed: Embed, lasting_id: str, lasting_url: str, now: datetime) -> Embed:
    """The embed that keeps `embed`'s post under `lasting_id` (see the module): `embed` itself renamed,
    or the embed that already had that id, with `embed` merged into it. `embed`'s old id becomes an
    alias of the one returned."""
    if embed.post_id == lasting_id:
        return embed
    provider, old_id, old_url = embed.provider, embed.post_id, embed.canonical_url
    session.flush()
    kept = _embed_named(session, provider, lasting_id)
    offset = 0
    if kept is None:
        try:
            # A savepoint: a scan may have stored the lasting id meanwhile (then merge after all).
            with session.begin_nested():
                embed.post_id, embed.canonical_url = lasting_id, lasting_url
                session.flush()
            kept = embed
        except IntegrityError:
            kept = _embed_named(session, provider, lasting_id)
            assert kept is not None
    if kept is not embed:
        offset = _merge(session, embed, kept)
    _save_alias(session, provider, old_id, old_url, kept.id, offset, now)
    return kept


def aliases_of(session: Session, embed_id: int) -> list[EmbedAlias]:
    """The other ids the embed's post is known by, oldest first."""
    return list(
        session.scalars(
            select(EmbedAlias)
            .where(EmbedAlias.embed_id == embed_id)
            .order_by(EmbedAlias.created_at, EmbedAlias.id)
        )
    )


def _embed_named(session: Session, provider: str, post_id: str) -> Embed | None:
    return session.scalars(
        select(Embed).where(Embed.provider == provider, Embed.post_id == post_id)
    ).one_or_none()


def _merge(session: Session, merged: Embed, kept: Embed) -> int:
    """Move everything of `merged` into `kept`, delete `merged`; the offset its versions were moved by."""
    old, new = merged.id, kept.id
    # On PostgreSQL a scan adding an occurrence of the merged embed holds a key-share lock on its row: wait
    # for it, so the moves below see that occurrence instead of the delete's cascade dropping it; a scan
    # after this lock waits for the merge and then fails on the deleted row, and a later scan retries.
    session.execute(select(Embed.id).where(Embed.id == old).with_for_update())
    # Versions of its own (none when it was merged at its first capture) go after the kept embed's; with
    # none, the alias's version N is the kept embed's version N.
    has_versions = session.scalar(select(Snapshot.id).where(Snapshot.embed_id == old).limit(1)) is not None
    latest = session.scalar(select(func.max(Snapshot.version)).where(Snapshot.embed_id == new))
    offset = (latest or 0) if has_versions else 0
    # Journal rows keep their post id and version: they describe the card bytes, whose archive link
    # names the old id (the alias answers there).
    for model in (Occurrence, StateChange, Rewrite, Recovery):
        session.execute(
            update(model).where(model.embed_id == old).values(embed_id=new),
            execution_options={"synchronize_session": False},
        )
    session.execute(
        update(Snapshot)
        .where(Snapshot.embed_id == old)
        .values(embed_id=new, version=Snapshot.version + offset),
        execution_options={"synchronize_session": False},
    )
    session.execute(
        update(Check)
        .where(Check.embed_id == old)
        .values(embed_id=new, counted=case((Check.outcome == "ok", Check.counted), else_=False)),
        execution_options={"synchronize_session": False},
    )
    # One row per post: the merged embed's moves over only when the kept embed has none (a Save Page Now
    # copy, what the archives held of the post's pages); otherwise the kept one's stands.
    for single in (Mirror, PostPageLookup):
        if session.scalar(select(single.id).where(single.embed_id == new)) is None:
            session.execute(
                update(single).where(single.embed_id == old).values(embed_id=new),
                execution_options={"synchronize_session": False},
            )
    session.execute(
        update(EmbedAlias)
        .where(EmbedAlias.embed_id == old)
        .values(embed_id=new, version_offset=EmbedAlias.version_offset + offset),
        execution_options={"synchronize_session": False},
    )
    # What the merged embed knew that the kept one did not: when it was first seen, its captures, and a
    # telling state (a captured post never reads as `new`, "not captured yet"; the verdict comes next).
    kept.first_seen_at = min(kept.first_seen_at, merged.first_seen_at)
    captured = [at for at in (kept.last_captured_at, merged.last_captured_at) if at is not None]
    kept.last_captured_at = max(captured) if captured else None
    kept.capture_attempts = (kept.capture_attempts or 0) + (merged.capture_attempts or 0)
    if kept.state == "new" and merged.state != "new":
        kept.state, kept.state_changed_at = merged.state, merged.state_changed_at
    session.flush()
    session.expunge(merged)
    session.execute(delete(Embed).where(Embed.id == old), execution_options={"synchronize_session": False})
    # The kept embed's collections (snapshots, checks, ...) were loaded before the moves, if at all.
    session.expire(kept, ["occurrences", "snapshots", "checks", "state_changes", "mirror"])
    return offset


def _save_alias(
    session: Session, provider: str, post_id: str, url: str, embed_id: int, offset: int, now: datetime
) -> None:
    alias = session.scalars(
        select(EmbedAlias).where(EmbedAlias.provider == provider, EmbedAlias.post_id == post_id)
    ).one_or_none()
    if alias is None:
        session.add(
            EmbedAlias(
                provider=provider,
                post_id=post_id,
                canonical_url=url,
                embed_id=embed_id,
                version_offset=offset,
                created_at=now,
            )
        )
    else:
        # The old id was stored again meanwhile (a scan that had not seen the alias yet) and merged at
        # its first capture, before it had versions of its own: the versions the alias names stay put.
        alias.embed_id = embed_id
    session.flush()
