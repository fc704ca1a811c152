"""A simulated world for liveness tests: a loopback provider whose every answer a test decides, and a
clock the test moves (ARCHIVER_NOW-style), so weeks of checks run in seconds.

The provider is YouTube (any path: oEmbed or other rungs), keyed on the 11-character video id found
in the request; the behaviour function returns what the server answers for that post at that instant.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

from archiver.app import App
from archiver.clock import FixedClock
from archiver.config import Settings
from archiver.pipeline.capture import capture_due
from archiver.pipeline.check import CheckReport, check_due
from archiver.records import Article, EmbedRef, MarkupKind
from archiver.storage import queries
from archiver.storage.models import Embed

START = datetime(2026, 1, 1, tzinfo=UTC)
CANARY = "CANARYxx00A"  # a valid id: YouTube ids end in one of 16 characters
_VIDEO_ID = re.compile(r"(?:v=|youtu\.be/|embed/|vi/)([A-Za-z0-9_-]{11})")


@dataclass
class Answer:
    status: int = 200
    body: bytes | None = None  # None: a valid oEmbed object for the post
    content_type: str = "application/json"
    delay: float = 0.0
    reset: bool = False
    truncate: bool = False


def alive(post_id: str) -> bytes:
    return json.dumps(
        {
            "version": "1.0",
            "type": "video",
            "html": f"<iframe src='https://www.youtube.com/embed/{post_id}'></iframe>",
            "title": f"Video {post_id}",
            "author_name": "Someone",
            "author_url": "https://www.youtube.com/@someone",
        }
    ).encode()


Behaviour = Callable[[str, datetime], Answer]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128
    behaviour: Behaviour
    clock: FixedClock
    requests: list[tuple[str, datetime]]


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        found = _VIDEO_ID.search(unquote(unquote(self.path)))
        post_id = found.group(1) if found else ""
        now = self.server.clock.now()
        self.server.requests.append((post_id, now))
        answer = self.server.behaviour(post_id, now)
        if answer.delay:
            time.sleep(answer.delay)
        if answer.reset:
            import socket
            import struct

            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            return
        body = alive(post_id) if answer.body is None else answer.body
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        with suppress(ConnectionError, OSError):
            self.wfile.write(body[: len(body) // 2] if answer.truncate else body)
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        return


@dataclass
class World:
    app: App
    clock: FixedClock
    server: _Server
    ids: list[str] = field(default_factory=list)

    def set_behaviour(self, behaviour: Behaviour) -> None:
        self.server.behaviour = behaviour

    def add_posts(self, ids: list[str]) -> None:
        refs = [
            EmbedRef("youtube", i, f"https://www.youtube.com/watch?v={i}", MarkupKind.IFRAME) for i in ids
        ]
        with self.app.sessions() as session, session.begin():
            source = queries.ensure_source(session, "sim", "files", self.clock.now())
            article = Article(f"a{len(self.ids)}.html", "sim", b"", "", "utf-8", "0" * 64)
            queries.save_scan(session, source, article, refs, self.clock.now())
        self.ids += ids
        capture_due(self.app.sessions, self.app.capture_deps())

    def tick(self, hours: float = 1.0) -> CheckReport:
        self.clock.advance(timedelta(hours=hours))
        return check_due(self.app.sessions, self.app.capture_deps())

    def states(self) -> dict[str, str]:
        with self.app.sessions() as session:
            return {e.post_id: e.state for e in session.query(Embed)}


@contextmanager
def world(
    tmp_path: Path, behaviour: Behaviour, *, canaries: bool = True, **settings: object
) -> Iterator[World]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.behaviour = behaviour
    clock = FixedClock(START)
    server.clock = clock
    server.requests = []
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    youtube: dict[str, object] = {"oembed_endpoint": f"{url}/oembed"}
    youtube["canaries"] = [f"https://www.youtube.com/watch?v={CANARY}"] if canaries else []
    data: dict[str, object] = {
        "database": {"url": f"sqlite:///{tmp_path / 'sim.db'}"},
        "media": {"dir": str(tmp_path / "media"), "download": False},
        "http": {"allow_networks": ["127.0.0.0/8"], "read_timeout": 0.3, "deadline": 1.0},
        "capture": {"workers": 8, "per_provider": 8, "max_defer_wait": 0.0},
        "providers": {"youtube": youtube},
    }
    data.update(settings)
    app = App(Settings(**data), clock, {})  # type: ignore[arg-type]
    try:
        yield World(app, clock, server)
    finally:
        app.close()
        server.shutdown()
        server.server_close()
