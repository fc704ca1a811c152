"""Browser tests' helpers: the viewer served by waitress on 127.0.0.1 in a thread, and Debian's chromium
driven by Playwright (`executable_path`, never a browser download). Every request that is not to
loopback or a local file is aborted: tests never reach the network."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import flask
import pytest
import waitress
from waitress.server import BaseWSGIServer

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

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is a test dependency")


def require_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing (Debian package chromium; .ci/run installs it with apt)")


@contextmanager
def served(app: flask.Flask) -> Iterator[str]:
    """The app under waitress on a free loopback port; yields its base URL."""
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
    assert isinstance(server, BaseWSGIServer)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        server.close()
        thread.join(timeout=5)


@dataclass
class Watch:
    """What would show that a script ran, or that the page broke its own policy."""

    dialogs: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    # URLs of the site that answered 4xx or 5xx.
    failed_responses: list[str] = field(default_factory=list)


def _local_only(route: object, request: object) -> None:
    url = request.url  # type: ignore[attr-defined]
    if url.startswith(("http://127.0.0.1", "file://", "data:", "about:")):
        route.continue_()  # type: ignore[attr-defined]
    else:
        route.abort()  # type: ignore[attr-defined]


@contextmanager
def browser_page() -> Iterator[tuple[object, Watch]]:
    """A fresh chromium page with dialog, console and error listeners, and the network cut off."""
    require_chromium()
    watch = Watch()
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context()
            context.route("**/*", _local_only)
            page = context.new_page()

            def on_dialog(dialog: object) -> None:
                watch.dialogs.append(dialog.message)  # type: ignore[attr-defined]
                dialog.dismiss()  # type: ignore[attr-defined]

            def on_console(message: object) -> None:
                if message.type == "error":  # type: ignore[attr-defined]
                    watch.console_errors.append(message.text)  # type: ignore[attr-defined]

            def on_response(response: object) -> None:
                if response.status >= 400:  # type: ignore[attr-defined]
                    watch.failed_responses.append(response.url)  # type: ignore[attr-defined]

            page.on("dialog", on_dialog)
            page.on("response", on_response)
            page.on("console", on_console)
            page.on("pageerror", lambda error: watch.page_errors.append(str(error)))
            page.set_default_timeout(15_000)
            yield page, watch
        finally:
            browser.close()


def xss_markers(page: object) -> list[str]:
    """Signs that a payload ran or got out of its box: `window.__xss` set in the page (payloads in
    frames set `top.__xss` too), or an iframe the page did not sandbox. Sandboxed frames are not asked
    themselves: with scripts off there, an evaluation would wait for a context that never comes."""
    signs = []
    if page.evaluate("() => Boolean(window.__xss)"):  # type: ignore[attr-defined]
        signs.append("window.__xss is set")
    loose = page.evaluate(
        "() => document.querySelectorAll('iframe:not([sandbox]), frame, object, embed').length"
    )  # type: ignore[attr-defined]
    if loose:
        signs.append(f"{loose} frame(s) or object(s) outside a sandbox")
    return signs


def sign_in(page: object, base: str, name: str, password: str) -> None:
    page.goto(f"{base}/login")  # type: ignore[attr-defined]
    page.get_by_label("Name").fill(name)  # type: ignore[attr-defined]
    page.get_by_label("Password").fill(password)  # type: ignore[attr-defined]
    page.get_by_role("button", name="Sign in").click()  # type: ignore[attr-defined]
    page.wait_for_url(f"{base}/editors/")  # type: ignore[attr-defined]
