"""Helpers for the lease and daemon tests: a loopback YouTube that counts what it is asked, due embeds
written straight into a database, daemon settings, and daemon processes with their JSON logs."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from sqlalchemy import func, insert, select

from archiver.storage import db
from archiver.storage.models import Check, Embed, Snapshot

ROOT = Path(__file__).resolve().parents[2]
_VIDEO_ID = re.compile(r"(?:v=|youtu\.be/|embed/|vi/)([A-Za-z0-9_-]{11})")


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


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    fake: FakeYouTube


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        fake = self.server.fake
        found = _VIDEO_ID.search(unquote(unquote(self.path)))
        post_id = found.group(1) if found else ""
        with fake.lock:
            fake.asked[post_id] += 1
        if fake.delay and fake.stopping.wait(fake.delay):
            return
        body = alive(post_id)
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        with suppress(OSError):
            self.wfile.write(body)
        self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:
        return


@dataclass
class FakeYouTube:
    """A loopback YouTube oEmbed endpoint: every post is alive; answers after `delay` seconds."""

    delay: float = 0.0
    asked: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    url: str = ""

    @contextmanager
    def running(self) -> Iterator[FakeYouTube]:
        server = _Server(("127.0.0.1", 0), _Handler)
        server.fake = self
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.stopping.set()
            server.shutdown()
            server.server_close()


def post_ids(n: int, prefix: str = "d") -> list[str]:
    """Valid-looking YouTube ids (11 characters, the last one of the 16 YouTube allows)."""
    return [f"{prefix}{i:0{10 - len(prefix)}d}A" for i in range(n)]


def add_due_checks(url: str, n: int, now: datetime, prefix: str = "d") -> list[str]:
    """`n` captured (one snapshot each), live YouTube embeds whose check is due at `now`, in bulk."""
    db.upgrade(url)
    ids = post_ids(n, prefix)
    seen = now - timedelta(days=1)
    rows = [
        {
            "provider": "youtube",
            "post_id": post_id,
            "canonical_url": f"https://www.youtube.com/watch?v={post_id}",
            "state": "live",
            "first_seen_at": seen,
            "last_captured_at": seen,
            "last_ok_at": seen,
            "capture_attempts": 1,
            "last_outcome": "ok",
            "next_check_at": now - timedelta(minutes=1),
        }
        for post_id in ids
    ]
    engine = db.make_engine(url)
    try:
        with engine.begin() as connection:
            for start in range(0, len(rows), 500):
                connection.execute(insert(Embed), rows[start : start + 500])
            wanted = set(ids)
            embed_ids = [
                embed_id
                for embed_id, post_id in connection.execute(select(Embed.id, Embed.post_id))
                if post_id in wanted
            ]
            snapshots = [
                {"embed_id": embed_id, "version": 1, "captured_at": seen, "content_sha256": "0" * 64}
                for embed_id in embed_ids
            ]
            for start in range(0, len(snapshots), 500):
                connection.execute(insert(Snapshot), snapshots[start : start + 500])
    finally:
        engine.dispose()
    return ids


def check_counts(url: str) -> dict[str, int]:
    """Check rows (kind "check") per post id."""
    engine = db.make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(Embed.post_id, func.count(Check.id))
                .join(Check, (Check.embed_id == Embed.id) & (Check.kind == "check"), isouter=True)
                .group_by(Embed.post_id)
            )
            return {post_id: int(n) for post_id, n in rows}
    finally:
        engine.dispose()


def scalar(url: str, stmt: Any) -> Any:
    engine = db.make_engine(url)
    try:
        with engine.connect() as connection:
            return connection.execute(stmt).scalar()
    finally:
        engine.dispose()


def settings_data(
    url: str, tmp_path: Path, provider_url: str, *, http: dict[str, Any] | None = None, **daemon: object
) -> dict[str, Any]:
    """Settings for a test daemon: the database, YouTube on the loopback provider, short schedules."""
    return {
        "database": {"url": url},
        "media": {"dir": str(tmp_path / "media"), "download": False},
        "http": {"allow_networks": ["127.0.0.0/8"], "read_timeout": 5.0, "deadline": 30.0, **(http or {})},
        "capture": {"workers": 2, "per_provider": 2, "max_defer_wait": 0.0},
        "providers": {"youtube": {"oembed_endpoint": f"{provider_url}/oembed", "canaries": []}},
        "daemon": {"http_port": 0, **daemon},
    }


def write_config(path: Path, data: dict[str, Any]) -> Path:
    """A TOML file of nested tables of strings, numbers, booleans and lists of strings."""
    lines: list[str] = []

    def value(v: object) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, int | float):
            return repr(v)
        if isinstance(v, list | tuple):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return json.dumps(str(v))

    def table(name: str, content: dict[str, Any]) -> None:
        plain = {k: v for k, v in content.items() if not isinstance(v, dict)}
        if plain:
            lines.append(f"[{name}]")
            lines.extend(f"{k} = {value(v)}" for k, v in plain.items())
        for k, v in content.items():
            if isinstance(v, dict):
                table(f"{name}.{k}", v)

    for name, content in data.items():
        table(name, content)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class DaemonProcess:
    """`python -m archiver.daemon --config PATH` in a process of its own, logs in a file."""

    config: Path
    log_path: Path
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None

    def start(self) -> DaemonProcess:
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "archiver.daemon", "--config", str(self.config)],
            cwd=self.config.parent,
            env={**os.environ, **self.env},
            stdout=log,
            stderr=log,
        )
        log.close()
        return self

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def signal(self, signum: int) -> None:
        assert self.process is not None
        self.process.send_signal(signum)

    def wait(self, timeout: float) -> int:
        assert self.process is not None
        return self.process.wait(timeout=timeout)

    def stop(self, timeout: float = 15.0) -> int:
        """SIGTERM, and the exit code (SIGKILL after `timeout`)."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise

    def kill(self) -> None:
        """SIGKILL if still running, and reap the process (no zombie, no unraisable warning later)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def tail(self, lines: int = 25) -> str:
        return "\n".join(self.raw_log().splitlines()[-lines:])

    def logs(self) -> list[dict[str, Any]]:
        lines = []
        for line in self.log_path.read_text(encoding="utf-8", errors="replace").splitlines():
            with suppress(ValueError):
                lines.append(json.loads(line))
        return lines

    def raw_log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


def wait_for(condition: Callable[[], bool], timeout: float, interval: float = 0.05) -> float:
    """Seconds until `condition()` held; AssertionError after `timeout`."""
    started = time.monotonic()
    while True:
        if condition():
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)


def now_utc() -> datetime:
    return datetime.now(UTC)
