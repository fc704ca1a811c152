"""The one HTTP client of the archiver: SSRF guard, size caps, deadlines, budgets, user agent.

URLs come from untrusted articles, so every request (and every redirect hop) is vetted before a socket
is opened, and the connection goes to the address that was vetted, never to a second DNS answer::

    get(url) ── budget? ── vet_url: scheme, host -> every address public (or in [http] allow_networks),
      ▲                    port allowed ── connect to that address (Host header and TLS SNI stay the name)
      └── redirect hop ◄── status + headers ── body read in small pieces: decoded bytes counted against
                                               max_bytes, the total deadline checked between pieces

Network and HTTP problems are results, never exceptions: `FetchResult.error` says what went wrong in one
line with secrets redacted. 4xx/5xx answers are not errors, they are statuses; 429 and 503 come back at
once with their Retry-After for the caller to honour (an in-request sleep could park a worker for hours).
"""

from __future__ import annotations

import codecs
import contextlib
import ipaddress
import json
import math
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from http.client import HTTPException
from http.cookiejar import DefaultCookiePolicy
from types import MappingProxyType, TracebackType
from typing import TYPE_CHECKING, Any, Protocol, cast
from urllib.parse import unquote, urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3._version import __version__ as URLLIB3_VERSION
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import DecodeError, LocationParseError, NewConnectionError, ProtocolError
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import ReadTimeoutError as Urllib3ReadTimeout
from urllib3.util import parse_url

from archiver.clock import Clock
from archiver.config import HttpSettings

if TYPE_CHECKING:
    from requests.adapters import _HostParams, _PoolKwargs

if tuple(int(p) for p in re.findall(r"\d+", URLLIB3_VERSION)[:2]) < (2, 7):  # pragma: no cover
    # 2.7 bounds decompression per read; older versions inflate a gzip bomb in one go.
    raise ImportError(f"archiver.http needs urllib3>=2.7.0, found {URLLIB3_VERSION}")

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RETRY_STATUSES = frozenset({500, 502, 504})  # blips; 429 and 503 carry Retry-After and go back at once
RETRIES = 2
RETRY_BACKOFF = 0.2  # seconds, doubled per retry
READ_CHUNK = 64 * 1024
_SECRET_PARAM = re.compile(
    r"(?:^|[_.-])(?:token|secret|key|sig|signature|password|passwd|credential|auth)$", re.IGNORECASE
)
_CROSS_ORIGIN_DROPPED = ("authorization", "proxy-authorization", "cookie")

Resolver = Callable[[str, int], list[str]]
"""host, port -> the IP addresses (as text) the host resolves to; raises OSError when it cannot."""


class FetchErrorKind(StrEnum):
    BLOCKED = "blocked"  # address/scheme/port refused by the SSRF guard
    INVALID_URL = "invalid_url"
    TIMEOUT = "timeout"  # connect/read timeout or total deadline exceeded
    CONNECTION = "connection"  # refused, reset, DNS failure, TLS error
    TOO_LARGE = "too_large"  # Content-Length or decoded body over max_bytes
    TRUNCATED = "truncated"  # body shorter than Content-Length, incomplete chunked read, undecodable gzip
    TOO_MANY_REDIRECTS = "too_many_redirects"
    BUDGET = "budget"  # our own per-host rate budget is used up (never sleeps)
    BACKOFF = "backoff"  # the host asked us to wait (429/503 + Retry-After) and that time has not passed


_LABELS = {
    FetchErrorKind.INVALID_URL: "invalid URL",
    FetchErrorKind.TOO_LARGE: "too large",
    FetchErrorKind.TOO_MANY_REDIRECTS: "too many redirects",
}


@dataclass(frozen=True, slots=True)
class FetchError:
    kind: FetchErrorKind
    message: str  # one readable line, secrets redacted

    @classmethod
    def of(cls, kind: FetchErrorKind, detail: str) -> FetchError:
        """An error whose message starts with its kind: "timeout: no response from ..."."""
        return cls(kind, f"{_LABELS.get(kind, kind.value)}: {detail}")


@dataclass(frozen=True, slots=True)
class FetchResult:
    url: str  # final URL after redirects, secrets redacted
    status: int | None  # None when no response arrived
    headers: Mapping[str, str]  # lower-cased names
    body: bytes  # decoded (gunzipped) bytes, at most max_bytes; empty when `error` is set
    elapsed: float  # seconds
    error: FetchError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None and 200 <= self.status < 300

    @property
    def content_type(self) -> str:
        """The media type, lower-cased, without parameters; "" when there is none."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()

    def text(self) -> str:
        """The body decoded with the charset of Content-Type, else UTF-8; bad bytes are replaced."""
        return self.body.decode(self._charset(), errors="replace")

    def json(self) -> object:
        """The body as JSON; raises ValueError when it is not JSON."""
        return json.loads(self.text().removeprefix("\ufeff"))

    def _charset(self) -> str:
        for param in self.headers.get("content-type", "").split(";")[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "charset":
                charset = value.strip().strip("\"'")
                try:
                    return codecs.lookup(charset).name
                except LookupError:
                    break
        return "utf-8"


def redact_url(url: str) -> str:
    """The URL with the values of credential-like parameters (access_token, key, sig, ...) in its query
    and fragment, and any password in it, replaced by "REDACTED"; every other byte is kept as it was."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, hostport = netloc.rpartition("@")
        user, colon, _password = userinfo.partition(":")
        netloc = f"{user}{':REDACTED' if colon else ''}@{hostport}"
    query, fragment = _redact_params(parts.query), _redact_params(parts.fragment)
    if (netloc, query, fragment) == (parts.netloc, parts.query, parts.fragment):
        return url
    return parts._replace(netloc=netloc, query=query, fragment=fragment).geturl()


def _redact_params(text: str) -> str:
    fields = []
    for field in text.split("&") if text else []:
        name, eq, value = field.partition("=")
        if eq and value and _SECRET_PARAM.search(unquote(name.replace("+", " "))):
            field = f"{name}=REDACTED"
        fields.append(field)
    return "&".join(fields)


class RateBudgets:
    """Per-key sliding-window budgets in this process, read from the injected Clock (archiver.clock.Clock).

    A key is usually one provider endpoint (Meta's tokenless oEmbed: 1,000 requests an hour). Keys with no
    limit set are not counted and never run out. Budgets shared across daemons live in the database; this
    one only stops a single process from overrunning.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._limits: dict[str, tuple[int, timedelta]] = {}
        self._used: dict[str, deque[datetime]] = {}

    def set_limit(self, key: str, count: int, window_seconds: float) -> None:
        if count <= 0 or window_seconds <= 0:
            raise ValueError(
                f"a rate budget needs a positive count and window, got {count}/{window_seconds}s"
            )
        with self._lock:
            self._limits[key] = (count, timedelta(seconds=window_seconds))
            self._used.setdefault(key, deque())

    def try_acquire(self, key: str) -> bool:
        """True and counts one request, or False when the budget is used up. Never waits."""
        with self._lock:
            if key not in self._limits:
                return True
            count, _ = self._limits[key]
            now = self._clock.now()
            used = self._prune(key, now)
            if len(used) >= count:
                return False
            used.append(now)
            return True

    def remaining(self, key: str) -> int | None:
        """Requests left in the current window, or None when the key has no limit."""
        with self._lock:
            if key not in self._limits:
                return None
            return max(self._limits[key][0] - len(self._prune(key, self._clock.now())), 0)

    def retry_after(self, key: str) -> float | None:
        """Seconds until one request may be made (0.0 when one may be made now); None if not limited."""
        with self._lock:
            if key not in self._limits:
                return None
            count, window = self._limits[key]
            now = self._clock.now()
            used = self._prune(key, now)
            if len(used) < count:
                return 0.0
            # The window must drop enough old requests to leave one slot free.
            frees_at = used[len(used) - count] + window
            return max((frees_at - now).total_seconds(), 0.0)

    def _prune(self, key: str, now: datetime) -> deque[datetime]:
        used = self._used[key]
        window = self._limits[key][1]
        while used and used[0] <= now - window:
            used.popleft()
        return used


# --- the SSRF guard ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Destination:
    """A vetted place to connect to: `address` is what the socket connects to, `host` what the server is
    told (Host header, TLS SNI and certificate name)."""

    scheme: str
    host: str
    port: int
    address: str

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


def resolve_addresses(host: str, port: int) -> list[str]:
    """Every A and AAAA address of `host`, in the resolver's order of preference."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def vet_url(
    url: str, settings: HttpSettings, resolve: Resolver = resolve_addresses
) -> Destination | FetchError:
    """Where a request for `url` may connect, or why it may not. Resolves the host once (IP literals are
    not resolved) and refuses unless every address is public and the port allowed, or the address lies in
    `settings.allow_networks` (any port)."""
    try:
        parsed = parse_url(url)
    except (LocationParseError, ValueError):
        return FetchError.of(FetchErrorKind.INVALID_URL, f"cannot parse {redact_url(url)}")
    scheme = (parsed.scheme or "").lower()
    if (refused := _scheme_error(scheme, url)) is not None:
        return refused
    host = (parsed.host or "").strip("[]").rstrip(".")
    if not host:
        return FetchError.of(FetchErrorKind.INVALID_URL, f"no host in {redact_url(url)}")
    if parsed.auth is not None:
        return FetchError.of(FetchErrorKind.INVALID_URL, f"URLs with credentials are not fetched ({host})")
    port = parsed.port or (443 if scheme == "https" else 80)
    if _literal_ip(host) is not None:
        addresses = [host]
    else:
        try:
            addresses = resolve(host, port)
        except (OSError, UnicodeError) as exc:
            return FetchError.of(FetchErrorKind.CONNECTION, f"cannot resolve {host} ({_reason(exc)})")
        if not addresses:
            return FetchError.of(FetchErrorKind.CONNECTION, f"cannot resolve {host} (no addresses)")
    networks = [ipaddress.ip_network(cidr, strict=False) for cidr in settings.allow_networks]
    chosen: str | None = None
    for text in addresses:
        ip = _literal_ip(text)
        if ip is None:
            return FetchError.of(FetchErrorKind.BLOCKED, f"{host} resolves to {text!r}, not an IP address")
        subject = f"{ip} is" if text == host else f"{host} resolves to {ip},"
        if any(_in_network(ip, net) for net in networks):
            pass  # explicitly allowed, on any port
        elif (kind := _non_public(ip)) is not None:
            article = "an" if kind[0] in "aeiou" else "a"
            return FetchError.of(
                FetchErrorKind.BLOCKED,
                f"{subject} {article} {kind} address (allow it with [http] allow_networks)",
            )
        elif port not in settings.allowed_ports:
            allowed = ", ".join(str(p) for p in settings.allowed_ports) or "none"
            return FetchError.of(
                FetchErrorKind.BLOCKED,
                f"port {port} of public host {host} is not allowed"
                f" (allowed: {allowed}; see [http] allowed_ports)",
            )
        chosen = chosen or str(_unwrapped(ip))
    assert chosen is not None
    return Destination(scheme=scheme, host=host, port=port, address=chosen)


def _scheme_error(scheme: str, url: str) -> FetchError | None:
    if scheme in ("http", "https"):
        return None
    if not scheme:
        return FetchError.of(
            FetchErrorKind.INVALID_URL, f"{redact_url(url)[:200]!r} is not an absolute http(s) URL"
        )
    return FetchError.of(FetchErrorKind.BLOCKED, f"only http and https URLs are fetched, not {scheme}:")


def _literal_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _unwrapped(
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address,
) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The IPv4 address an IPv4-mapped IPv6 address (::ffff:a.b.c.d) stands for; else the address."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


_NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address a 6to4 or NAT64 address leads to (Python 3.11 calls those addresses global)."""
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _non_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """What kind of non-public address `ip` is ("loopback", "private", ...), or None when it is public."""
    ip = _unwrapped(ip)
    if isinstance(ip, ipaddress.IPv6Address) and (inner := _embedded_ipv4(ip)) is not None:
        return _non_public(inner)
    for kind, flag in (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("reserved", ip.is_reserved),
        ("private", ip.is_private),
        ("site-local", isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local),
    ):
        if flag:
            return kind
    return None if ip.is_global else "non-public"


def _in_network(
    ip: ipaddress.IPv4Address | ipaddress.IPv6Address, net: ipaddress.IPv4Network | ipaddress.IPv6Network
) -> bool:
    return ip in net or _unwrapped(ip) in net


# --- transport: connections pinned to the vetted address, watched by the deadline -------------------


class _Refused(requests.exceptions.RequestException):
    """Raised inside the adapter when the guard refuses; carries the FetchError out of requests."""

    def __init__(self, error: FetchError) -> None:
        super().__init__(error.message)
        self.error = error


class _Watchdog:
    """Shuts the sockets of one request down when the total deadline passes.

    Read timeouts bound each wait for data, not the whole exchange: a server dripping a byte per second
    (in the body, the headers or a chunk-size line) never trips them. A shut-down socket makes the read
    that is blocked, wherever it is, return at once.
    """

    def __init__(self, seconds: float) -> None:
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []
        self._disarmed = False
        self.expired = False
        self._timer = threading.Timer(max(seconds, 0.0), self._expire)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket) -> None:
        with self._lock:
            if self.expired:
                _shutdown(sock)
            elif not self._disarmed:
                self._sockets.append(sock)

    def disarm(self) -> None:
        """Stop watching; a connection handed back to the pool must not be shut down later."""
        self._timer.cancel()
        with self._lock:
            self._disarmed = True
            self._sockets.clear()

    def _expire(self) -> None:
        with self._lock:
            if self._disarmed:
                return
            self.expired = True
            for sock in self._sockets:
                _shutdown(sock)


def _shutdown(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):  # already closed
        sock.shutdown(socket.SHUT_RDWR)


_current = threading.local()  # .watchdog: the _Watchdog of the request this thread is making


def _watch(sock: socket.socket | None) -> None:
    watchdog: _Watchdog | None = getattr(_current, "watchdog", None)
    if watchdog is not None and sock is not None:
        watchdog.watch(sock)


class _WatchedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _watch(sock)
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self.sock)  # a kept-alive connection from the pool
        super().request(*args, **kwargs)


class _WatchedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        sock = super()._new_conn()
        _watch(sock)  # before the TLS handshake, which a slow server could also drip
        return sock

    def request(self, *args: Any, **kwargs: Any) -> None:
        _watch(self.sock)
        super().request(*args, **kwargs)


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    """Vets every request it sends and connects to the vetted address (no second DNS lookup: DNS
    rebinding), keeping the host name for the Host header, TLS SNI and the certificate check."""

    def __init__(self, settings: HttpSettings, resolve: Resolver) -> None:
        self._settings = settings
        self._resolve = resolve
        self._pinned = threading.local()
        super().__init__(max_retries=0)  # retries happen in HttpClient, inside the deadline

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **pool_kwargs: Any
    ) -> None:
        super().init_poolmanager(connections, maxsize, block, **pool_kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}

    def send(
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: Any = None,
        verify: Any = True,
        cert: Any = None,
        proxies: Any = None,
    ) -> requests.Response:
        destination = vet_url(request.url or "", self._settings, self._resolve)
        if isinstance(destination, FetchError):
            raise _Refused(destination)
        request.headers["Host"] = destination.host_header
        self._pinned.destination = destination
        try:
            return super().send(request, stream=stream, timeout=timeout, verify=verify, cert=cert, proxies={})
        finally:
            self._pinned.destination = None

    def build_connection_pool_key_attributes(
        self, request: requests.PreparedRequest, verify: Any, cert: Any = None
    ) -> tuple[_HostParams, _PoolKwargs]:
        host_params, pool_kwargs = super().build_connection_pool_key_attributes(request, verify, cert)
        destination: Destination | None = getattr(self._pinned, "destination", None)
        if destination is None:  # only send() may open connections; fail closed
            raise _Refused(FetchError.of(FetchErrorKind.BLOCKED, "request was not vetted"))
        host_params["scheme"] = destination.scheme
        host_params["host"] = destination.address
        host_params["port"] = destination.port
        if destination.scheme == "https":
            cast("dict[str, Any]", pool_kwargs)["server_hostname"] = destination.host
        return host_params, pool_kwargs


# --- the client ----------------------------------------------------------------------------------------


class Budgets(Protocol):
    """Request budgets per key: `RateBudgets` in one process, `storage.throttle.DbRateBudgets` shared."""

    def set_limit(self, key: str, count: int, window_seconds: float) -> None: ...
    def try_acquire(self, key: str) -> bool: ...
    def remaining(self, key: str) -> int | None: ...
    def retry_after(self, key: str) -> float | None: ...


class Backoffs(Protocol):
    """Per-host "not before" instants that hosts asked for (429 or 503 with Retry-After)."""

    def until(self, host: str) -> tuple[datetime, str] | None: ...
    def defer(self, host: str, delay: timedelta, reason: str) -> None: ...


class MemoryHostBackoffs:
    """`Backoffs` in this process only (the CLI shares them through the database instead)."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._until: dict[str, tuple[datetime, str]] = {}
        self._lock = threading.Lock()

    def until(self, host: str) -> tuple[datetime, str] | None:
        with self._lock:
            found = self._until.get(host)
        return found if found is not None and found[0] > self._clock.now() else None

    def defer(self, host: str, delay: timedelta, reason: str) -> None:
        until = self._clock.now() + delay
        with self._lock:
            current = self._until.get(host)
            if current is None or current[0] < until:
                self._until[host] = (until, reason)


def _backoff_host(url: str) -> str:
    """The lower-cased host of `url`, or "" when it has none or cannot be parsed (vetting reports it)."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


# A 429 without Retry-After still means "slow down"; one minute, then the caller's own backoff.
DEFAULT_429_BACKOFF = timedelta(seconds=60)
MAX_BACKOFF = timedelta(hours=6)


class HttpClient:
    """GETs with the guard, caps, deadline and budgets. Thread-safe: one requests.Session per thread."""

    def __init__(
        self,
        settings: HttpSettings,
        clock: Clock,
        budgets: Budgets | None = None,
        *,
        backoffs: Backoffs | None = None,
        resolve: Resolver = resolve_addresses,
    ) -> None:
        self.settings = settings
        self.budgets: Budgets = budgets if budgets is not None else RateBudgets(clock)
        self.backoffs: Backoffs = backoffs if backoffs is not None else MemoryHostBackoffs(clock)
        self._resolve = resolve
        self._local = threading.local()
        self._sessions: list[requests.Session] = []
        self._lock = threading.Lock()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        with self._lock:
            sessions, self._sessions = self._sessions, []
        for session in sessions:
            session.close()
        self._local = threading.local()

    def get(
        self,
        url: str,
        *,
        max_bytes: int | None = None,
        headers: Mapping[str, str] | None = None,
        budget_key: str | None = None,
        accept: str | None = None,
        follow_redirects: bool = True,
    ) -> FetchResult:
        """GET `url`, following up to `settings.max_redirects` redirects, each one vetted. Never raises
        for network or HTTP trouble: see `FetchResult.error`. Without `follow_redirects` a redirect
        comes back as it is (its status, and its Location in the headers)."""
        return self._request("GET", url, None, max_bytes, headers, budget_key, accept, follow_redirects)

    def post(
        self,
        url: str,
        body: bytes,
        *,
        content_type: str,
        max_bytes: int | None = None,
        headers: Mapping[str, str] | None = None,
        budget_key: str | None = None,
        accept: str | None = None,
    ) -> FetchResult:
        """POST `body` to `url` once, vetted like a GET. Never retried (a write sent twice is two
        writes) and never redirected: a redirect comes back as it is."""
        extra = {**(headers or {}), "Content-Type": content_type}
        return self._request("POST", url, body, max_bytes, extra, budget_key, accept, False)

    def _request(
        self,
        method: str,
        url: str,
        body: bytes | None,
        max_bytes: int | None,
        headers: Mapping[str, str] | None,
        budget_key: str | None,
        accept: str | None,
        follow_redirects: bool,
    ) -> FetchResult:
        started = time.monotonic()
        cap = max_bytes if max_bytes is not None else self.settings.max_page_bytes
        extra = {k: v for k, v in (headers or {}).items() if k.lower() != "host"}
        if accept is not None:
            extra["Accept"] = accept

        def failed(at: str, error: FetchError) -> FetchResult:
            return FetchResult(
                redact_url(at), None, MappingProxyType({}), b"", time.monotonic() - started, error
            )

        host = _backoff_host(url)
        waiting = self.backoffs.until(host) if host else None
        if waiting is not None:
            until, why = waiting
            message = f"backing off {host} until {until.isoformat(timespec='seconds')} ({why})"
            return failed(url, FetchError(FetchErrorKind.BACKOFF, message))
        if budget_key is not None and not self.budgets.try_acquire(budget_key):
            wait = self.budgets.retry_after(budget_key) or 0.0
            message = f"rate budget for {budget_key} used up; retry in {math.ceil(wait)}s"
            return failed(url, FetchError(FetchErrorKind.BUDGET, message))
        deadline_at = started + self.settings.deadline
        current = url
        for hop in range(self.settings.max_redirects + 1):
            refused = _scheme_error(_scheme_of(current), current)
            if refused is not None:  # before requests, which would only say "no connection adapters"
                return failed(current, refused)
            result, location = self._attempts(method, body, current, extra, cap, started, deadline_at)
            if location is None or not follow_redirects:
                self._note_backoff(current, result)
                return result
            following = urljoin(current, location)
            if hop == self.settings.max_redirects:
                return FetchResult(
                    result.url,
                    result.status,
                    result.headers,
                    b"",
                    result.elapsed,
                    FetchError.of(
                        FetchErrorKind.TOO_MANY_REDIRECTS,
                        f"more than {self.settings.max_redirects} redirects from {redact_url(url)}",
                    ),
                )
            if _origin(following) != _origin(current):
                extra = {k: v for k, v in extra.items() if k.lower() not in _CROSS_ORIGIN_DROPPED}
            current = following
        raise AssertionError("unreachable: the loop returns")  # pragma: no cover

    def _note_backoff(self, url: str, result: FetchResult) -> None:
        """A 429, or a 503 with Retry-After, keeps every request away from that host for a while."""
        if result.status not in (429, 503):
            return
        host = _backoff_host(url)
        value = result.headers.get("retry-after", "").strip()
        if value.isdigit():
            delay = min(timedelta(seconds=int(value)), MAX_BACKOFF)
        elif result.status == 429:
            delay = DEFAULT_429_BACKOFF
        else:
            return
        self.backoffs.defer(host, delay, f"{result.status} with Retry-After {value or 'none'}")

    def _attempts(
        self,
        method: str,
        body: bytes | None,
        url: str,
        headers: Mapping[str, str],
        cap: int,
        started: float,
        deadline_at: float,
    ) -> tuple[FetchResult, str | None]:
        """One hop with its retries for blips (GETs only): the result, and the Location to follow when
        it redirects."""
        attempt = 0
        while True:
            backoff = RETRY_BACKOFF * 2**attempt
            may_retry = method == "GET" and attempt < RETRIES and time.monotonic() + backoff < deadline_at
            result, location, retry = self._once(
                method, body, url, headers, cap, started, deadline_at, may_retry=may_retry
            )
            if not (retry and may_retry) or time.monotonic() + backoff >= deadline_at:
                return result, location
            time.sleep(backoff)
            attempt += 1

    def _once(
        self,
        method: str,
        payload: bytes | None,
        url: str,
        headers: Mapping[str, str],
        cap: int,
        started: float,
        deadline_at: float,
        *,
        may_retry: bool,
    ) -> tuple[FetchResult, str | None, bool]:
        """One request: (result, Location to follow or None, worth retrying). A status worth retrying
        comes back without its body unless this is the last try."""
        host = _host_of(url)
        remaining = deadline_at - time.monotonic()

        def result(
            status: int | None = None,
            head: Mapping[str, str] | None = None,
            body: bytes = b"",
            error: FetchError | None = None,
        ) -> FetchResult:
            return FetchResult(
                redact_url(url),
                status,
                MappingProxyType(dict(head or {})),
                body,
                time.monotonic() - started,
                error,
            )

        if remaining <= 0:
            return result(error=self._deadline_error(host)), None, False
        watchdog = _Watchdog(remaining)
        _current.watchdog = watchdog
        response: requests.Response | None = None
        try:
            timeout = (
                min(self.settings.connect_timeout, remaining),
                min(self.settings.read_timeout, remaining),
            )
            try:
                response = self._session().request(
                    method,
                    url,
                    data=payload,
                    headers=dict(headers),
                    timeout=timeout,
                    allow_redirects=False,
                    stream=True,
                )
            except _Refused as exc:
                return result(error=exc.error), None, False
            except (requests.RequestException, Urllib3Error, HTTPException, OSError) as exc:
                if watchdog.expired or time.monotonic() >= deadline_at:
                    return result(error=self._deadline_error(host)), None, False
                error, connect_failed = self._request_error(exc, host)
                return result(error=error), None, connect_failed
            head = {name.lower(): value for name, value in response.headers.items()}
            status = response.status_code
            location = head.get("location")
            if status in REDIRECT_STATUSES and location:
                return result(status, head), location, False
            if status in RETRY_STATUSES and may_retry:
                return result(status, head), None, True
            declared = _content_length(head)
            if declared is not None and declared > cap:
                error = FetchError.of(
                    FetchErrorKind.TOO_LARGE,
                    f"{host} sent Content-Length {declared}, over the cap of {cap} bytes",
                )
                return result(status, head, error=error), None, False
            body = self._read_body(response, cap, host, deadline_at, watchdog)
            if isinstance(body, FetchError):
                return result(status, head, error=body), None, False
            response.raw.release_conn()  # fully read: the connection may be kept alive
            response = None
            return result(status, head, body), None, False
        finally:
            watchdog.disarm()
            _current.watchdog = None
            if response is not None:
                response.close()  # not fully read: drop the connection rather than drain it

    def _read_body(
        self, response: requests.Response, cap: int, host: str, deadline_at: float, watchdog: _Watchdog
    ) -> bytes | FetchError:
        """The decoded body, read one network read at a time (read1), so that neither a slow drip nor a
        decompression bomb gets past the deadline or the cap."""
        chunks: list[bytes] = []
        total = 0
        try:
            while True:
                if watchdog.expired or time.monotonic() >= deadline_at:
                    return self._deadline_error(host)
                chunk: bytes = response.raw.read1(min(READ_CHUNK, cap - total + 1), decode_content=True)
                if not chunk:
                    break
                total += len(chunk)
                if total > cap:
                    return FetchError.of(
                        FetchErrorKind.TOO_LARGE, f"{host} sent more than the cap of {cap} bytes"
                    )
                chunks.append(chunk)
        except Urllib3ReadTimeout:
            return self._deadline_error(host) if watchdog.expired else self._read_timeout_error(host)
        except DecodeError as exc:
            return FetchError.of(
                FetchErrorKind.TRUNCATED, f"the body from {host} cannot be decoded ({_reason(exc)})"
            )
        except (ProtocolError, Urllib3Error, HTTPException, OSError) as exc:
            if watchdog.expired:
                return self._deadline_error(host)
            return FetchError.of(
                FetchErrorKind.TRUNCATED, f"the body from {host} ended early ({_reason(exc)})"
            )
        if watchdog.expired:  # a shut-down socket can look like the end of a body without a length
            return self._deadline_error(host)
        return b"".join(chunks)

    def _request_error(self, exc: BaseException, host: str) -> tuple[FetchError, bool]:
        """The error for an exception before any response arrived, and whether it failed to connect."""
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            seconds = f"{self.settings.connect_timeout:g}s"
            return FetchError.of(FetchErrorKind.TIMEOUT, f"no connection to {host} within {seconds}"), True
        if isinstance(exc, requests.exceptions.ReadTimeout):
            return self._read_timeout_error(host), False
        if isinstance(exc, requests.exceptions.SSLError):
            return FetchError.of(FetchErrorKind.CONNECTION, f"TLS error with {host} ({_reason(exc)})"), False
        if isinstance(exc, requests.exceptions.InvalidSchema):
            return FetchError.of(
                FetchErrorKind.BLOCKED, f"only http and https URLs are fetched ({host})"
            ), False
        if isinstance(
            exc, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema, LocationParseError)
        ):
            return FetchError.of(FetchErrorKind.INVALID_URL, f"{host}: {_reason(exc)}"), False
        unconnected = _caused_by(exc, NewConnectionError)
        detail = f"cannot connect to {host}" if unconnected else f"lost the connection to {host}"
        return FetchError.of(FetchErrorKind.CONNECTION, f"{detail} ({_reason(exc)})"), unconnected

    def _read_timeout_error(self, host: str) -> FetchError:
        return FetchError.of(
            FetchErrorKind.TIMEOUT, f"no response from {host} within {self.settings.read_timeout:g}s"
        )

    def _deadline_error(self, host: str) -> FetchError:
        return FetchError.of(
            FetchErrorKind.TIMEOUT, f"{host} did not finish within the {self.settings.deadline:g}s deadline"
        )

    def _session(self) -> requests.Session:
        session: requests.Session | None = getattr(self._local, "session", None)
        if session is None:
            session = requests.Session()
            session.trust_env = False  # no ambient proxies or .netrc: they could route around the guard
            session.proxies = {}
            session.cookies.set_policy(DefaultCookiePolicy(allowed_domains=[]))  # stateless: no cookies kept
            session.headers["User-Agent"] = self.settings.user_agent
            session.headers["Accept-Encoding"] = "gzip, deflate"
            adapter = _GuardedAdapter(self.settings, self._resolve)
            session.adapters.clear()  # nothing but http(s) through the guard
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session


def _scheme_of(url: str) -> str:
    try:
        return urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return ""


def _host_of(url: str) -> str:
    try:
        return urlsplit(url).hostname or "the server"
    except ValueError:
        return "the server"


def _origin(url: str) -> tuple[str, str, int | None]:
    try:
        parts = urlsplit(url)
        return parts.scheme.lower(), (parts.hostname or ""), parts.port
    except ValueError:
        return ("", url, None)


def _content_length(headers: Mapping[str, str]) -> int | None:
    value = headers.get("content-length", "").split(",")[0].strip()
    return int(value) if value.isdigit() else None


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    """Whether `kind` is anywhere in the chain of causes, arguments and urllib3 `reason`s of `exc`."""
    seen: set[int] = set()
    stack: list[object] = [exc]
    while stack:
        item = stack.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, kind):
            return True
        stack.extend([item.__cause__, item.__context__, getattr(item, "reason", None), *item.args])
    return False


def _reason(exc: BaseException) -> str:
    """The innermost cause of an exception on one line, without URLs (they may hold tokens)."""
    inner = _innermost(exc)
    text = inner.strerror if isinstance(inner, OSError) and inner.strerror else str(inner)
    text = re.sub(r"https?://\S+", lambda m: redact_url(m.group(0)), text or type(inner).__name__)
    return " ".join(text.split())[:200]


def _innermost(exc: BaseException) -> BaseException:
    """Follow requests' and urllib3's wrapping (`reason`, `args`, `__cause__`) down to the first cause."""
    for _ in range(10):
        nested = [exc.__cause__, getattr(exc, "reason", None), *exc.args]
        nested += [item for arg in exc.args if isinstance(arg, tuple) for item in arg]
        inner = next((e for e in nested if isinstance(e, BaseException) and e is not exc), None)
        if inner is None:
            break
        exc = inner
    return exc
