"""The replay server: a loopback HTTP server, in a thread of the demo's process, that plays the providers
by answering each request with a recorded real response.

A request's first path segment names the provider (the demo's settings point every endpoint of
provider NAME at `{url}/NAME/...`); the post it asks about is read from its `url` parameter with the
provider's own URL parser. The post answers its `alive` recording until the simulated clock reaches the
day it is deleted, then its `then` recording (a recorded 404, a recorded 403). What the recordings do
not hold is answered `503 not recorded`: a transient failure, which never counts towards a verdict.
"""

from __future__ import annotations

import threading
from collections import Counter
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

from archiver.clock import Clock
from archiver.demo.scenario import Post, Recording, Scenario
from archiver.providers import PROVIDERS

# The server frames each answer itself; recorded framing headers would contradict it.
_FRAMING = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive", "content-encoding"})
NOT_RECORDED = Recording(
    "not recorded",
    503,
    {"Content-Type": "text/plain; charset=utf-8"},
    b"not recorded: the demo replays recorded answers only\n",
)
_PROVIDERS = {provider.name: provider for provider in PROVIDERS}


class ReplayServer:
    """Replays `scenario`'s recordings on 127.0.0.1 (a free port) while used as a context manager."""

    def __init__(self, scenario: Scenario, clock: Clock, start: datetime) -> None:
        self.scenario = scenario
        self.clock = clock
        self.start = start
        self.url = ""
        # (provider, recording name) -> requests answered with it; "not recorded" counts the misses.
        self.served: Counter[tuple[str, str]] = Counter()
        self._lock = threading.Lock()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> ReplayServer:
        httpd = _Server(("127.0.0.1", 0), _Handler)
        httpd.replay = self
        self._httpd = httpd
        self.url = f"http://127.0.0.1:{httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="demo-replay", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            httpd.shutdown()
            httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[str, Recording]:
        """The provider a request is for and the recording it is answered with."""
        provider_name = path.lstrip("/").split("/", 1)[0]
        post = self._post_asked(provider_name, query)
        recording = post.answer(self.start, self.clock.now()) if post is not None else NOT_RECORDED
        with self._lock:
            self.served[(provider_name, recording.name)] += 1
        return provider_name, recording

    def _post_asked(self, provider_name: str, query: dict[str, list[str]]) -> Post | None:
        provider = _PROVIDERS.get(provider_name)
        asked = (query.get("url") or [""])[0]
        if provider is None or not asked:
            return None
        parsed = provider.parse_url(asked)
        return self.scenario.post(provider_name, parsed.post_id) if parsed is not None else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64
    replay: ReplayServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the demo reports what it does itself

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        _, recording = self.server.replay.answer(parts.path, parse_qs(parts.query))
        self.send_response(recording.status)
        for name, value in recording.headers.items():
            if name.lower() not in _FRAMING:
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(recording.body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(recording.body)
        self.close_connection = True
