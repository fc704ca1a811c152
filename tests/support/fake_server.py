"""A real HTTP server on loopback that plays a provider: canned responses, recorded requests, faults.

Tests point the archiver at `FakeServer.url` (with `[http] allow_networks = ["127.0.0.0/8"]`) and never
patch the HTTP library. Canned responses come from recorded real responses in
`../shared/fixtures/providers/` (`canned_from_vcr`, `canned_from_response_json`) or are written inline,
with fault injection: delays, slow drips, resets, truncated bodies, chunked and gzip bodies.
"""

from __future__ import annotations

import base64
import gzip as gzip_codec
import json
import re
import socket
import struct
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "providers"

# The server frames each response itself; recorded framing headers would contradict it.
_FRAMING = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})
_RECORDED_DROPPED = _FRAMING | {"content-encoding"}  # recorded bodies are stored decoded
_STEP = 0.02  # seconds: how often delays and drips look at the stop flag


@dataclass
class Canned:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    delay: float = 0.0  # seconds before the status line
    drip_seconds_per_byte: float | None = None  # slow-drip the body
    reset: bool = False  # close the socket without any response (a TCP reset)
    truncate_to: int | None = (
        None  # send Content-Length of the full body but only this many bytes, then close
    )
    gzip: bool = False  # gzip-encode body, set Content-Encoding
    chunked: bool = False  # Transfer-Encoding: chunked instead of Content-Length
    # Claim this Content-Length (e.g. 2 GB) and stream `body` over and over until the client hangs up,
    # the claimed length is sent or `endless_limit` bytes went out (a hostile or huge response).
    declared_length: int | None = None
    # With `chunked`: stream `body` (or zeros) chunk after chunk the same way, with no length at all.
    endless: bool = False
    endless_limit: int = 64 * 1024 * 1024


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    body: bytes = b""


Responder = Canned | Callable[[Recorded], Canned]
NO_ROUTE = Canned(404, {"Content-Type": "application/json"}, b'{"error": "no route"}')


class FakeServer:
    """A ThreadingHTTPServer on 127.0.0.1 (random port) in a background thread; a context manager.

    `host` puts it on another loopback address (127.0.0.2, ...): another host to the archiver, with its
    own backoffs and budgets."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.url = ""
        self.requests: list[Recorded] = []
        self._routes: dict[tuple[str, str], Responder] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    def __enter__(self) -> FakeServer:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        if self._httpd is not None:
            return
        self._stopping.clear()
        httpd = _Server((self.host, 0), _Handler)
        httpd.fake = self
        self._httpd = httpd
        self.url = f"http://{self.host}:{httpd.server_address[1]}"
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving; delays and drips in progress give up within a few hundredths of a second."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def route(self, path: str, response: Responder, *, method: str = "GET") -> None:
        """Answer `method path` (exact path, query ignored) with `response`; replaces an earlier route."""
        with self._lock:
            self._routes[(method.upper(), path)] = response

    def clear(self) -> None:
        """Forget routes and recorded requests."""
        with self._lock:
            self._routes.clear()
            self.requests.clear()

    def _respond(self, recorded: Recorded) -> Canned:
        with self._lock:
            self.requests.append(recorded)
            responder = self._routes.get((recorded.method, recorded.path))
        if responder is None:
            return NO_ROUTE
        return responder(recorded) if callable(responder) else responder

    def _wait(self, seconds: float) -> bool:
        """Sleep, unless the server stops first; True when it did."""
        return self._stopping.wait(seconds)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # the default 5 drops SYNs under a thread pool: one-second stalls
    fake: FakeServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hangs up mid-response (the cap, the deadline) is what half the tests do.
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def do_GET(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def _serve(self) -> None:
        fake = self.server.fake
        self.close_connection = True  # one request per connection keeps the fake simple
        length = int(self.headers.get("Content-Length") or 0)
        parts = urlsplit(self.path)
        recorded = Recorded(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={name.lower(): value for name, value in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        canned = fake._respond(recorded)
        if canned.delay and fake._wait(canned.delay):
            return
        if canned.reset:
            # SO_LINGER 0: close() sends RST, so the client sees a reset rather than a clean close.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
            return
        body = gzip_codec.compress(canned.body) if canned.gzip else canned.body
        self.send_response(canned.status)
        for name, value in canned.headers.items():
            if name.lower() not in _FRAMING:
                self.send_header(name, value)
        if canned.gzip:
            self.send_header("Content-Encoding", "gzip")
        if canned.chunked:
            self.send_header("Transfer-Encoding", "chunked")
        elif canned.declared_length is not None:
            self.send_header("Content-Length", str(canned.declared_length))
        else:
            self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD":
            return
        if canned.truncate_to is not None:
            body = body[: canned.truncate_to]
        if canned.declared_length is not None or canned.endless:
            self._stream_endlessly(canned, chunked=canned.chunked)
            return
        if canned.drip_seconds_per_byte is not None:
            self._drip(body, canned.drip_seconds_per_byte, chunked=canned.chunked)
        elif canned.chunked:
            for start in range(0, len(body), 16 * 1024):
                self._write_chunk(body[start : start + 16 * 1024])
            if canned.truncate_to is None:
                self._write_chunk(b"")
        else:
            self.wfile.write(body)

    def _drip(self, body: bytes, seconds_per_byte: float, *, chunked: bool) -> None:
        fake = self.server.fake
        for index in range(len(body)):
            if fake._wait(seconds_per_byte):
                return
            piece = body[index : index + 1]
            if chunked:
                self._write_chunk(piece)
            else:
                self.wfile.write(piece)
        if chunked:
            self._write_chunk(b"")

    def _stream_endlessly(self, canned: Canned, *, chunked: bool) -> None:
        piece = canned.body or bytes(64 * 1024)
        limit = min(canned.declared_length or canned.endless_limit, canned.endless_limit)
        sent = 0
        while sent < limit and not self.server.fake._stopping.is_set():
            try:
                if chunked:
                    self._write_chunk(piece)
                else:
                    self.wfile.write(piece)
            except (ConnectionError, OSError):
                return  # the client hung up: what a size cap does
            sent += len(piece)

    def _write_chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))


# --- recorded real responses ------------------------------------------------------------------------------


def canned_from_vcr(path: Path) -> Canned:
    """The response of a ruby-oembed VCR cassette `*.vcr.yml` holding one interaction."""
    document = _parse_yaml_subset(path.read_text(encoding="utf-8"))
    response = document["http_interactions"][0]["response"]
    headers = {
        name: ", ".join(str(v) for v in values) if isinstance(values, list) else str(values)
        for name, values in (response.get("headers") or {}).items()
        if name.lower() not in _RECORDED_DROPPED
    }
    string = response["body"].get("string", "")
    body = string if isinstance(string, bytes) else str(string).encode("utf-8")
    return Canned(status=int(response["status"]["code"]), headers=headers, body=body)


def canned_from_response_json(path: Path) -> Canned:
    """A php-embed recorded response `*.response.json` (statusCode, headers, body_json or body).

    Header values are lists; recordings that followed redirects hold one value per hop, so the last value
    (the final response's) is kept, and a leftover Location is dropped from a non-redirect answer."""
    data = json.loads(path.read_text(encoding="utf-8"))
    status = int(data["statusCode"])
    headers: dict[str, str] = {}
    for name, values in (data.get("headers") or {}).items():
        if name.lower() in _RECORDED_DROPPED or (name.lower() == "location" and not 300 <= status < 400):
            continue
        values = values if isinstance(values, list) else [values]
        if values:
            headers[name] = str(values[-1])
    if "body_json" in data:
        body = json.dumps(data["body_json"], ensure_ascii=False).encode("utf-8")
    else:
        body = str(data.get("body", "")).encode("utf-8")
    return Canned(status=status, headers=headers, body=body)


def _parse_yaml_subset(text: str) -> Any:
    """Enough YAML for VCR cassettes: block mappings and sequences, plain, quoted and folded multi-line
    scalars, literal blocks and `!binary` (base64) blocks. PyYAML is not a dependency of the project."""
    lines = [line for line in text.splitlines() if line.strip() and line.strip() != "---"]
    value, _ = _node(lines, 0, 0)
    return value


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _node(lines: list[str], i: int, indent: int) -> tuple[Any, int]:
    """The block node starting at line i (indented `indent`), and the index of the line after it."""
    if lines[i].lstrip().startswith("- ") or lines[i].strip() == "-":
        return _sequence(lines, i, indent)
    return _mapping(lines, i, indent)


def _sequence(lines: list[str], i: int, indent: int) -> tuple[list[Any], int]:
    items: list[Any] = []
    while i < len(lines) and _indent(lines[i]) == indent and lines[i].lstrip().startswith("-"):
        rest = lines[i][indent + 1 :]
        inner = indent + 1 + (len(rest) - len(rest.lstrip(" ")))
        if not rest.strip():
            value, i = _node(lines, i + 1, _indent(lines[i + 1]))
        elif re.match(r"[^'\"][^:]*:(\s|$)", rest.strip()):
            # "- key: value" opens a mapping whose keys sit at the column of "key".
            lines[i] = " " * inner + rest.strip()
            value, i = _mapping(lines, i, inner)
        else:
            value, i = _scalar(lines, i, rest.strip(), indent)
        items.append(value)
    return items, i


def _mapping(lines: list[str], i: int, indent: int) -> tuple[dict[str, Any], int]:
    result: dict[str, Any] = {}
    while i < len(lines) and _indent(lines[i]) == indent and not lines[i].lstrip().startswith("- "):
        key, _, rest = lines[i].strip().partition(":")
        key = key.strip().strip("'\"")
        rest = rest.strip()
        if rest:
            result[key], i = _scalar(lines, i, rest, indent)
        elif i + 1 < len(lines) and (
            _indent(lines[i + 1]) > indent
            or (_indent(lines[i + 1]) == indent and lines[i + 1].lstrip().startswith("-"))
        ):
            result[key], i = _node(lines, i + 1, _indent(lines[i + 1]))
        else:
            result[key], i = None, i + 1
    return result, i


def _scalar(lines: list[str], i: int, first: str, indent: int) -> tuple[Any, int]:
    """A scalar that starts with `first` on line i and may continue on more-indented lines."""
    if first.startswith(("!binary |", "|", ">")):
        block: list[str] = []
        j = i + 1
        while j < len(lines) and _indent(lines[j]) > indent:
            block.append(lines[j].strip())
            j += 1
        if first.startswith("!binary"):
            return base64.b64decode("".join(block)), j
        return "\n".join(block) + ("" if first.endswith("-") else "\n"), j
    if first[0] in "'\"":
        quote = first[0]
        pieces = [first]
        j = i + 1
        while not _closes(" ".join(pieces), quote):
            pieces.append(lines[j].strip())
            j += 1
        return _unquote(_fold(pieces), quote), j
    pieces = [first]
    j = i + 1
    while j < len(lines) and _indent(lines[j]) > indent and not lines[j].lstrip().startswith("- "):
        pieces.append(lines[j].strip())
        j += 1
    value = _fold(pieces)
    return (int(value) if re.fullmatch(r"-?\d+", value) else value), j


def _fold(pieces: list[str]) -> str:
    """YAML line folding: a line break between two non-empty lines becomes one space."""
    return " ".join(piece.strip() for piece in pieces)


def _closes(text: str, quote: str) -> bool:
    body = text[1:]
    if quote == "'":
        return re.fullmatch(r"(?:[^']|'')*'", body, re.DOTALL) is not None
    return re.fullmatch(r'(?:[^"\\]|\\.)*"', body, re.DOTALL) is not None


_ESCAPES = {
    "0": "\0",
    "a": "\a",
    "b": "\b",
    "t": "\t",
    "n": "\n",
    "v": "\v",
    "f": "\f",
    "r": "\r",
    "e": "\x1b",
    " ": " ",
    '"': '"',
    "/": "/",
    "\\": "\\",
    "N": "\x85",
    "_": "\xa0",
}


def _unquote(text: str, quote: str) -> str:
    inner = text[1:-1]
    if quote == "'":
        return inner.replace("''", "'")

    def escape(match: re.Match[str]) -> str:
        code = match.group(1)
        if code[0] in "xuU":
            return chr(int(code[1:], 16))
        return _ESCAPES[code]

    return re.sub(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)", escape, inner)
