"""The demo seen in a browser (Debian's chromium through Playwright, network cut off): after
`archive demo`, the viewer shows the planned rewrite in the review queue, approving it rewrites the
article file, and the card's "archived copy" link in that file opens the public page of the post.

The demo's cards link to `archive serve` on its default address (http://127.0.0.1:8080); the viewer
here runs on a free port, so the browser's requests to the default address are sent to it."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from archiver.app import App
from archiver.web import create_app
from tests.web.browser import browser_page, served, sign_in

ARCHIVE = Path(sys.executable).parent / "archive"
PASSWORD = "demo-editor-password"
ALBUM = "7s66wU1XJ2NsUuWM2NKiUV"


def test_approve_in_the_queue_then_follow_the_card_to_the_public_page(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVER_")}
    done = subprocess.run(
        [str(ARCHIVE), "demo", "--password-stdin"],
        cwd=tmp_path,
        env=env,
        input=PASSWORD + "\n",
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    folder = tmp_path / "archiver-demo"
    article = folder / "articles" / "newsroom" / "music-week.html"
    app = App.from_environment(folder / "archiver.toml", env, tmp_path)
    try:
        with served(create_app(app)) as base, browser_page() as (page, watch):
            page.context.route(  # type: ignore[attr-defined]
                "http://127.0.0.1:8080/**",
                lambda route: route.continue_(url=route.request.url.replace("http://127.0.0.1:8080", base)),
            )
            sign_in(page, base, "editor", PASSWORD)
            page.goto(f"{base}/editors/queue")  # type: ignore[attr-defined]
            assert f"spotify:{ALBUM}" in page.inner_text("main")  # type: ignore[attr-defined]
            assert "archiver-fallback" not in article.read_text(encoding="utf-8")
            page.get_by_role("button", name=re.compile(r"^Approve rewrite \d+$")).first.click()  # type: ignore[attr-defined]
            page.locator(".flash.ok").wait_for()  # type: ignore[attr-defined]
            rewritten = article.read_text(encoding="utf-8")
            assert f'data-archiver-embed="spotify:{ALBUM}"' in rewritten
            assert "open.spotify.com/embed/album" not in rewritten

            page.goto(article.as_uri())  # type: ignore[attr-defined]
            link = page.locator(f'a[href="http://127.0.0.1:8080/embeds/spotify/{ALBUM}/v1"]').first  # type: ignore[attr-defined]
            link.click()
            page.wait_for_load_state()  # type: ignore[attr-defined]
            text = page.inner_text("body")  # type: ignore[attr-defined]
            assert "A Cantar con Xabarin (Vol. I & II)" in text
            assert f"https://open.spotify.com/album/{ALBUM}" in page.content()  # type: ignore[attr-defined]
        assert watch.dialogs == [] and watch.page_errors == []
    finally:
        app.close()
