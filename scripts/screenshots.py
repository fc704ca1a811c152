"""The README's screenshots of the viewer, made again from scratch:

    .venv/bin/python scripts/screenshots.py [OUT_DIR]     (default docs/screenshots/)
    .venv/bin/python scripts/screenshots.py --check       (visits every page, writes nothing)

Runs `archive demo` in a temporary folder (offline, its own editor password), serves that demo's viewer
with waitress on a free loopback port in a thread, signs in as the demo's editor in Debian's chromium
driven by Playwright (`executable_path`, never a browser download; every request not to loopback is
aborted), and saves PNGs of the dashboard, the review queue with the demo's planned rewrite, that embed's
timeline and its public archived version page (1280 wide), and the public page again at phone width.

Each page must answer 200, not be the sign-in page, and show what it is there for (the planned rewrite's
post, the "original is gone" note), or the script stops with one line saying which page and exits 1;
nothing is written then. Needs the test dependencies (`pip install -e '.[test]'`: playwright) and
/usr/bin/chromium (Debian package chromium).
"""

from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from playwright.sync_api import Page, Route, ViewportSize, sync_playwright
from waitress.server import BaseWSGIServer, create_server

from archiver.app import App
from archiver.web import create_app

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "docs" / "screenshots"
ARCHIVE = Path(sys.executable).parent / "archive"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
# The bottom of the page's own content, where a screenshot ends (the rest is empty background).
CONTENT_BOTTOM = "() => Math.ceil(document.querySelector('main').getBoundingClientRect().bottom) + 24"
EDITOR = "editor"


class ShotFailed(Exception):
    """A page did not show what its screenshot is for."""


@dataclass(frozen=True)
class Shot:
    name: str
    path: str
    # Text the page must show: what the screenshot is there to show.
    expect: str
    viewport: ViewportSize
    # A longer page is cut here: the timeline's check history grows with the data, the README needs the top.
    max_height: int = 1600


def run_demo(folder: Path, password: str) -> None:
    env = {name: value for name, value in os.environ.items() if not name.startswith("ARCHIVER_")}
    done = subprocess.run(
        [str(ARCHIVE), "demo", "--password-stdin", str(folder)],
        input=password + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise ShotFailed(
            f"archive demo exited {done.returncode}: {(done.stderr or done.stdout).strip()[-500:]}"
        )


@contextmanager
def served(folder: Path) -> Iterator[str]:
    """The demo's viewer under waitress on a free loopback port; yields its base URL."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("ARCHIVER_")}
    app = App.from_environment(folder / "archiver.toml", env, folder)
    server = create_server(create_app(app), host="127.0.0.1", port=0, threads=4)
    assert isinstance(server, BaseWSGIServer)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        # waitress's stubs lack `effective_port`, the port the system picked for port 0.
        yield f"http://127.0.0.1:{server.effective_port}"  # type: ignore[attr-defined]
    finally:
        server.close()
        thread.join(timeout=5)
        app.close()


def loopback_only(route: Route) -> None:
    if route.request.url.startswith(("http://127.0.0.1", "data:", "about:")):
        route.continue_()
    else:
        route.abort()


def sign_in(page: Page, base: str, password: str) -> None:
    page.goto(f"{base}/login")
    page.get_by_label("Name").fill(EDITOR)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/editors/")


def planned_shots(page: Page, base: str) -> list[Shot]:
    """The pages to show, found through the viewer's JSON API: the demo's planned rewrite and its embed."""
    rewrites = page.request.get(f"{base}/api/rewrites").json()
    planned = next((r for r in rewrites if r["state"] == "planned"), None)
    if planned is None:
        raise ShotFailed("the demo left no planned rewrite to show in the review queue")
    provider, post_id = planned["provider"], planned["post_id"]
    embeds = page.request.get(f"{base}/api/embeds?provider={quote(provider)}").json()
    embed_id = next(e["id"] for e in embeds if e["post_id"] == post_id)
    public = f"/embeds/{provider}/{quote(post_id, safe='')}/v{planned['version']}"
    return [
        Shot("dashboard", "/editors/", "Review queue", DESKTOP),
        Shot("review-queue", "/editors/queue", f"{provider}:{post_id}", DESKTOP),
        Shot("embed-timeline", f"/editors/embeds/{embed_id}", post_id, DESKTOP, max_height=980),
        Shot("public-page", public, "gone", DESKTOP),
        Shot("public-page-phone", public, "gone", PHONE),
    ]


def visit(page: Page, base: str, shot: Shot) -> None:
    page.set_viewport_size(shot.viewport)
    response = page.goto(base + shot.path)
    page.wait_for_load_state("load")
    status = response.status if response is not None else 0
    if status != 200:
        raise ShotFailed(f"{shot.name}: {shot.path} answered {status}")
    if "/login" in page.url or page.locator("input[type=password]").count():
        raise ShotFailed(f"{shot.name}: {shot.path} showed the sign-in page")
    if shot.expect not in page.inner_text("body"):
        raise ShotFailed(f"{shot.name}: {shot.path} does not show {shot.expect!r}")


def picture(page: Page, shot: Shot) -> bytes:
    """The page from its top to the end of its content (at most `max_height`) as a PNG. The viewport is
    made that tall first: chromium does not paint a sandboxed frame (the card in the review queue) that
    lies below the viewport, so a full-page capture would show it empty."""
    height = min(shot.max_height, page.evaluate(CONTENT_BOTTOM))
    page.set_viewport_size({"width": shot.viewport["width"], "height": height})
    # Two animation frames: the resized page and its frames are painted before the capture.
    page.evaluate("() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")
    return page.screenshot()


def make_shots(out: Path | None) -> list[Path]:
    """Visits every page; saves the PNGs into `out` only when every page passed (None: check only)."""
    if not CHROMIUM.exists():
        raise ShotFailed(f"{CHROMIUM} is missing (Debian package chromium)")
    password = secrets.token_urlsafe(16)
    pictures: list[tuple[Shot, bytes]] = []
    with tempfile.TemporaryDirectory(prefix="archiver-shots-") as temp:
        folder = Path(temp) / "archiver-demo"
        run_demo(folder, password)
        with served(folder) as base, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                context = browser.new_context(viewport=DESKTOP, color_scheme="light")
                context.route("**/*", loopback_only)
                page = context.new_page()
                page.set_default_timeout(20_000)
                sign_in(page, base, password)
                shots = planned_shots(page, base)
                for shot in shots:
                    visit(page, base, shot)
                    if out is not None:
                        pictures.append((shot, picture(page, shot)))
            finally:
                browser.close()
    if out is None:
        return []
    out.mkdir(parents=True, exist_ok=True)
    saved = []
    for shot, png in pictures:
        path = out / f"{shot.name}.png"
        path.write_bytes(png)
        saved.append(path)
    return saved


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Screenshots of the viewer over a fresh `archive demo`.")
    parser.add_argument("out", nargs="?", type=Path, default=DEFAULT_OUT, help="folder for the PNGs")
    parser.add_argument("--check", action="store_true", help="visit and check every page, write nothing")
    args = parser.parse_args(argv)
    try:
        saved = make_shots(None if args.check else args.out)
    except ShotFailed as failure:
        print(f"screenshots: {failure}", file=sys.stderr)
        return 1
    if args.check:
        print("screenshots: every page answered 200 and showed what it is for")
    for path in saved:
        print(f"{path} ({path.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
