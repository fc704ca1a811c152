"""No script runs: 60+ payloads (xss_payloads.py) put in captions, caption HTML, author names, handles,
author and media URLs, oEmbed `html`, article paths, residue lines, journal notes and check reasons are
shown on every editors' page (and the public and search pages when they exist), and rendered into
fallback cards by the real rewrite stage; chromium must see no dialog and no `window.__xss` in any
frame."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import flask
import pytest
from browser import browser_page, served, sign_in, xss_markers
from sqlalchemy import select
from support.rewrite_world import NOW, PNG
from support.viewer_world import EDITOR, PASSWORD, Viewer, build_world
from werkzeug.routing import BuildError
from xss_payloads import PAYLOADS

from archiver.pipeline import rewrite
from archiver.storage.blobs import LocalBlobStore
from archiver.storage.models import (
    Alert,
    Article,
    Check,
    Embed,
    Occurrence,
    ProviderHealth,
    Rewrite,
    Snapshot,
    SnapshotMedia,
    Source,
    StateChange,
)
from archiver.storage.queries import save_media


def test_the_detector_sees_a_payload_that_runs() -> None:
    with browser_page() as (page, watch):
        page.set_content(f"<p>{PAYLOADS[8]}</p><iframe srcdoc='x'></iframe>")  # type: ignore[attr-defined]
        page.wait_for_function("() => window.__xss === 1")  # type: ignore[attr-defined]
        assert xss_markers(page) == ["window.__xss is set", "1 frame(s) or object(s) outside a sandbox"]
        page.set_content("<script>alert('dialog')</script>")  # type: ignore[attr-defined]
    assert watch.dialogs == ["dialog"]


def test_there_are_enough_payloads() -> None:
    assert len(PAYLOADS) >= 50
    assert len(set(PAYLOADS)) == len(PAYLOADS)


def plant(viewer: Viewer) -> dict[str, list[int]]:
    """Every payload in every field the viewer shows; returns the ids of the rows made."""
    made: dict[str, list[int]] = {"articles": [], "embeds": []}
    with viewer.world.sessions() as session, session.begin():
        media = save_media(session, hashlib.sha256(PNG).hexdigest(), "image/png", len(PNG), NOW)
        source = session.scalars(select(Source)).one()
        target = session.scalars(select(Embed).where(Embed.post_id == "CODE111")).one()
        made["embeds"].append(target.id)
        session.add(ProviderHealth(provider="instagram", paused=True, reason=PAYLOADS[0], since=NOW))
        for n, payload in enumerate(PAYLOADS):
            snapshot = Snapshot(
                embed=target,
                version=n + 2,
                captured_at=NOW + timedelta(minutes=n),
                content_sha256=hashlib.sha256(payload.encode()).hexdigest(),
                author_name=payload,
                handle=payload,
                author_url=payload,
                text=payload,
                text_html=payload,
                published=payload[:40],
                title=payload,
                provenance={"text": payload, payload[:30]: "oembed"},
                raw=[
                    {"rung": "oembed", "url": payload, "status": 200, "body": json.dumps({"html": payload})}
                ],
            )
            snapshot.media.append(
                SnapshotMedia(
                    kind="image", original_url=payload, rung=payload[:32], position=0, media_file=media
                )
            )
            snapshot.media.append(
                SnapshotMedia(kind="video", original_url=payload, rung="x", position=1, error=payload)
            )
            session.add(snapshot)
            extra = Embed(
                provider="instagram",
                post_id=f"{payload[:200]}#{n}",
                canonical_url=payload,
                state="broken",
                first_seen_at=NOW,
                last_reason=payload,
            )
            session.add(extra)
            article = Article(
                source=source, key=payload, first_seen_at=NOW, scanned_at=NOW, scan_error=payload
            )
            session.add(article)
            session.flush()
            made["embeds"].append(extra.id)
            made["articles"].append(article.id)
            found = {"author_name": payload, "handle": payload, "text": payload, "published": payload}
            session.add_all(
                [
                    Occurrence(
                        article=article, embed=extra, provider="instagram", markup="blockquote", position=0
                    ),
                    Occurrence(
                        article=article, provider="instagram", markup="residue", position=1, found=found
                    ),
                    Check(
                        embed=extra,
                        checked_at=NOW,
                        kind="check",
                        outcome="gone",
                        http_status=404,
                        reason=payload,
                    ),
                    StateChange(
                        embed=extra, changed_at=NOW, from_state="live", to_state="broken", reason=payload
                    ),
                    Alert(provider="instagram", kind=payload[:32], message=payload, raised_at=NOW),
                    Rewrite(
                        article_id=article.id,
                        embed_id=extra.id,
                        provider="instagram",
                        post_id=payload[:255],
                        mode="approve",
                        state="planned" if n % 2 else "applied",
                        reason=payload,
                        span_start=0,
                        span_end=len(payload.encode()),
                        original_bytes=payload.encode(),
                        replacement_bytes=payload.encode(),
                        article_sha256_before="0" * 64,
                        created_at=NOW,
                        approved_by=payload[:200],
                        approved_at=NOW,
                    ),
                ]
            )
    return made


def viewer_urls(viewer: Viewer, made: dict[str, list[int]]) -> list[str]:
    urls = ["/editors/", "/editors/queue", "/editors/queue?after=30", "/editors/residue"]
    urls += ["/editors/articles", f"/editors/articles?after={made['articles'][20]}"]
    urls += [f"/editors/articles/{i}" for i in made["articles"]]
    urls += [f"/editors/embeds/{i}" for i in made["embeds"]]
    urls += [f"/editors/accounts/instagram/{quote(p, safe='')}" for p in PAYLOADS]
    urls += [f"/no/such/{quote(p, safe='')}" for p in PAYLOADS[:5]]
    return urls + other_parts_urls(viewer.flask_app, made)


def other_parts_urls(app: flask.Flask, made: dict[str, list[int]]) -> list[str]:
    """The search and public pages, once the blueprints serving them exist."""
    urls: list[str] = []
    with app.test_request_context():
        if "search.search" in app.view_functions:
            urls += [flask.url_for("search.search", q=p) for p in PAYLOADS]
        if "public.version" in app.view_functions:
            for version in (1, 2, len(PAYLOADS) + 1):
                try:
                    urls.append(
                        flask.url_for(
                            "public.version", provider="instagram", post_id="CODE111", version=version
                        )
                    )
                except BuildError:
                    break
    return urls


@pytest.mark.slow
def test_no_payload_runs_on_any_page_of_the_viewer(viewer: Viewer) -> None:
    made = plant(viewer)
    urls = viewer_urls(viewer, made)
    ran: list[str] = []
    with served(viewer.flask_app) as base, browser_page() as (page, watch):
        sign_in(page, base, EDITOR, PASSWORD)
        for url in urls:
            page.goto(base + url, wait_until="load")
            ran += [f"{url}: {frame}" for frame in xss_markers(page)]
        shown = page.goto(f"{base}/editors/embeds/{made['embeds'][0]}")
        assert shown is not None and shown.status == 200
        # The payloads are there, as text: the page shows them, it does not run them.
        assert page.get_by_text(PAYLOADS[0], exact=True).count() >= 1
        assert page.locator("iframe.oembed").count() == len(PAYLOADS)
    assert ran == [], ran
    assert watch.dialogs == [], watch.dialogs
    assert watch.page_errors == [], watch.page_errors
    # Blocked attempts show as refusals ("Refused to refresh about:srcdoc to a javascript: URL", CSP
    # reports): the defences at work. A payload that ran and failed would throw with its marker.
    assert not [e for e in watch.console_errors if "__xss" in e], watch.console_errors


def test_no_payload_runs_in_a_fallback_card(tmp_path: Path) -> None:
    """The real rewrite stage writes cards from snapshots full of payloads; the article opens clean."""
    codes = [f"XSS{n:03d}" for n in range(len(PAYLOADS))]
    blocks = "\n".join(
        f'<blockquote class="instagram-media" data-instgrm-permalink="https://www.instagram.com/p/{c}/" '
        f'data-instgrm-version="14"><a href="https://www.instagram.com/p/{c}/">A post</a></blockquote>'
        for c in codes
    )
    page_text = (
        f"<!DOCTYPE html><html><head><meta charset=utf-8><title>x</title></head><body>{blocks}</body></html>"
    )
    world = build_world(tmp_path, {"cards.html": page_text})
    try:
        blobs = LocalBlobStore(world.settings.media.dir)
        blobs.put(PNG)
        with world.sessions() as session, session.begin():
            for embed in session.scalars(select(Embed)):
                payload = PAYLOADS[codes.index(embed.post_id)]
                snapshot = session.scalars(select(Snapshot).where(Snapshot.embed_id == embed.id)).one()
                snapshot.author_name = snapshot.handle = snapshot.text = snapshot.title = payload
                snapshot.text_html, snapshot.author_url, snapshot.published = payload, payload, payload[:40]
            session.execute(Rewrite.__table__.delete())
        with world.sessions() as session, session.begin():
            ids = [row.id for row in rewrite.pending(session)]
            assert ids == []
        settings = world.settings.model_copy(
            update={"sources": tuple(s.model_copy(update={"mode": "apply"}) for s in world.settings.sources)}
        )
        report = rewrite.run(world.sessions, rewrite.RewriteDeps.from_settings(settings, world.clock))
        assert report.articles and report.articles[0].status == "applied", report.articles
        written = (world.articles / "cards.html").read_text(encoding="utf-8")
        assert written.count("archiver-fallback--") >= len(PAYLOADS) - 2
        with browser_page() as (page, watch):
            page.goto((world.articles / "cards.html").as_uri(), wait_until="load")
            assert xss_markers(page) == []
            assert page.locator("figure.archiver-fallback").count() >= len(PAYLOADS) - 2
        assert watch.dialogs == [] and watch.page_errors == []
    finally:
        world.close()
