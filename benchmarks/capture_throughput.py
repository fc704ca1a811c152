"""Capture throughput under rate limits: 5 providers on a loopback fake, 50 ms latency, 10 req/s each.

    .venv/bin/python benchmarks/capture_throughput.py [--captures 1000] [--memory-embeds 10000]

The rate bound is 5 x 10 = 50 captures per second (one oEmbed request per capture). The target is at
least 90% of it (45 per second) with no provider over its cap in any second, counted by the server.
A second run captures `--memory-embeds` embeds against a server without latency or caps and reports
the peak resident memory of this process (target: under 200 MB).
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from figures import Figure
from rich.console import Console
from rich.table import Table

from archiver.app import App
from archiver.clock import SystemClock
from archiver.config import Settings
from archiver.pipeline.capture import capture_due
from archiver.records import Article, EmbedRef, MarkupKind
from archiver.storage import queries

PROVIDERS = {
    "youtube": "https://www.youtube.com/watch?v={:011d}",
    "vimeo": "https://vimeo.com/{}",
    "spotify": "https://open.spotify.com/track/{:022d}",
    "soundcloud": "https://api.soundcloud.com/tracks/{}",
    "dailymotion": "https://www.dailymotion.com/video/x{:07d}",
}
CAP_PER_SECOND = 10
LATENCY = 0.05


class FakeProviders(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, latency: float, cap: int | None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.latency = latency
        self.cap = cap
        self.lock = threading.Lock()
        self.per_second: Counter[tuple[str, int]] = Counter()
        self.refused = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: FakeProviders

    def do_GET(self) -> None:
        provider = urlsplit(self.path).path.strip("/").split("/")[0]
        second = int(time.time())
        with self.server.lock:
            self.server.per_second[(provider, second)] += 1
            over = (
                self.server.cap is not None and self.server.per_second[(provider, second)] > self.server.cap
            )
            if over:
                self.server.refused += 1
        time.sleep(self.server.latency)
        post = parse_qs(urlsplit(self.path).query).get("url", [""])[0]
        body = json.dumps(
            {
                "version": "1.0",
                "type": "video",
                "html": "<iframe></iframe>",
                "title": f"Title of {post}",
                "author_name": provider,
                "author_url": f"https://{provider}.example/",
            }
        ).encode()
        self.send_response(429 if over else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        return


def settings_for(server: FakeProviders, folder: Path, rate: str | None) -> Settings:
    providers = {
        name: {"oembed_endpoint": f"{server.url}/{name}/oembed", **({"rate": rate} if rate else {})}
        for name in PROVIDERS
    }
    return Settings(
        database={"url": f"sqlite:///{folder / 'archive.db'}"},  # type: ignore[arg-type]
        media={"dir": str(folder / "media")},  # type: ignore[arg-type]
        http={"allow_networks": ["127.0.0.0/8"]},  # type: ignore[arg-type]
        capture={"workers": 16, "per_provider": 3, "max_defer_wait": 5.0},  # type: ignore[arg-type]
        providers=providers,  # type: ignore[arg-type]
    )


def seed(app: App, count: int) -> None:
    names = list(PROVIDERS)
    now = datetime.now(UTC)
    refs = [
        EmbedRef(names[i % len(names)], str(i), PROVIDERS[names[i % len(names)]].format(i), MarkupKind.IFRAME)
        for i in range(count)
    ]
    with app.sessions() as session, session.begin():
        source = queries.ensure_source(session, "bench", "files", now)
        for start in range(0, count, 500):
            article = Article(f"a{start}.html", "bench", b"", "", "utf-8", "0" * 64)
            queries.save_scan(session, source, article, refs[start : start + 500], now)


def run(captures: int, latency: float, cap: int | None, rate: str | None) -> tuple[float, int, FakeProviders]:
    server = FakeProviders(latency, cap)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        app = App(settings_for(server, Path(tmp), rate), SystemClock(), {})
        seed(app, captures)
        started = time.perf_counter()
        done = 0
        while True:  # a run leaves what its budgets deferred for the next: run until all are captured
            report = capture_due(app.sessions, app.capture_deps())
            done += report.attempted - report.deferred
            if report.attempted == 0 or done >= captures:
                break
        elapsed = time.perf_counter() - started
        app.close()
    server.shutdown()
    return elapsed, done, server


def ci_figures(captures: int = 300, memory_embeds: int = 2000) -> list[Figure]:
    """The target figures at a CI-friendly size (`benchmarks/run`). The memory target is for 10,000
    embeds: at this size the figure is information."""
    elapsed, done, server = run(captures, LATENCY, CAP_PER_SECOND, f"{CAP_PER_SECOND}/s")
    worst = max(server.per_second.values(), default=0)
    rate = done / elapsed
    bound = CAP_PER_SECOND * len(PROVIDERS)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    _, done_memory, _ = run(memory_embeds, 0.0, None, None)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    name = "capture_throughput"
    return [
        Figure(
            name,
            f"captures per second, {done} captures, {len(PROVIDERS)} providers capped at {CAP_PER_SECOND}/s",
            f"{rate:.1f}/s = {rate / bound:.0%} of the bound",
            f"{bound}/s: the caps' bound (computed, not measured)",
            ">= 90% of the bound",
            rate >= 0.9 * bound,
        ),
        Figure(
            name,
            "most requests one provider got in one second (counted by the server)",
            str(worst),
            f"the cap, {CAP_PER_SECOND}",
            f"<= {CAP_PER_SECOND}",
            worst <= CAP_PER_SECOND and server.refused == 0,
        ),
        Figure(
            name,
            f"peak memory after {done_memory} captures",
            f"{peak:.0f} MB",
            f"{before:.0f} MB peak before that run",
            "< 200 MB at 10,000 (information here)",
            None,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--captures", type=int, default=1000)
    parser.add_argument("--memory-embeds", type=int, default=10_000)
    args = parser.parse_args()

    elapsed, done, server = run(args.captures, LATENCY, CAP_PER_SECOND, f"{CAP_PER_SECOND}/s")
    worst = max(server.per_second.values(), default=0)
    rate = done / elapsed
    bound = CAP_PER_SECOND * len(PROVIDERS)
    table = Table(
        title=f"Capture throughput: {done} captures, {len(PROVIDERS)} providers, "
        f"{LATENCY * 1000:.0f} ms latency, {CAP_PER_SECOND}/s each"
    )
    for column in ("measure", "value", "target"):
        table.add_column(column)
    table.add_row("captures per second", f"{rate:.1f}", f">= {0.9 * bound:.0f} (90% of {bound})")
    table.add_row("share of the rate bound", f"{rate / bound:.0%}", ">= 90%")
    table.add_row("most requests one provider got in one second", str(worst), f"<= {CAP_PER_SECOND}")
    table.add_row("requests the fake refused (over cap)", str(server.refused), "0")

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    _, done_memory, _ = run(args.memory_embeds, 0.0, None, None)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    table.add_row(f"peak memory after {done_memory} captures (MB)", f"{peak:.0f}", "< 200")
    table.add_row("peak memory before that run (MB)", f"{before:.0f}", "")
    Console().print(table)


if __name__ == "__main__":
    main()
