"""A reader in Debian's chromium: an article rewritten by the real rewrite stage, opened from its file,
whose fallback card's "View the archived copy" link leads to the public page of that version, served
by waitress with `[rewrite] archive_base_url` pointing at it."""

from __future__ import annotations

from pathlib import Path

from browser import browser_page, served, xss_markers
from support.rewrite_world import break_everything, make_world, scan
from support.viewer_world import SECRET, page

from archiver.app import App
from archiver.pipeline import rewrite
from archiver.web import create_app


def test_a_reader_follows_the_card_to_the_archived_version(tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "harbour.html").write_text(page("Harbour", "CODE111", "CODE222"), encoding="utf-8")
    world = make_world(tmp_path / "w", [source / "harbour.html"], mode="apply")
    app = App(world.settings, world.clock, {"ARCHIVER_WEB_SECRET": SECRET}, world.config)
    try:
        scan(world)
        break_everything(world, "Boats in the harbour\nat dawn")
        with served(create_app(app)) as base, browser_page() as (browser, watch):
            settings = world.settings.model_copy(
                update={"rewrite": world.settings.rewrite.model_copy(update={"archive_base_url": base})}
            )
            report = rewrite.run(world.sessions, rewrite.RewriteDeps.from_settings(settings, world.clock))
            article = world.articles / "harbour.html"
            written = article.read_text(encoding="utf-8")
            assert f'href="{base}/embeds/instagram/CODE111/v1"' in written, report

            browser.goto(article.as_uri())
            cards = browser.locator("figure.archiver-fallback")
            assert cards.count() == 2
            with browser.expect_navigation() as navigation:
                cards.first.get_by_role("link", name="View the archived copy").click()
            response = navigation.value
            assert browser.url == f"{base}/embeds/instagram/CODE111/v1"
            assert response is not None and response.status == 200
            assert response.headers["memento-datetime"] == "Sun, 01 Mar 2026 12:00:00 GMT"
            assert browser.get_by_role("heading", name="Instagram post by Author of CODE111").is_visible()
            assert browser.get_by_text("The original post is gone.").is_visible()
            assert "Boats in the harbour\nat dawn" in browser.inner_text("blockquote.caption")
            # The original is one click away, and the page's own resources all loaded.
            original = browser.get_by_role("link", name="https://www.instagram.com/p/CODE111/")
            assert original.get_attribute("href") == "https://www.instagram.com/p/CODE111/"
            assert xss_markers(browser) == []
        assert watch.dialogs == [] and watch.page_errors == []
        assert [url for url in watch.failed_responses if url.startswith(base)] == []
    finally:
        app.close()
        world.close()
