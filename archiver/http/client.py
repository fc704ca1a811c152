"""`HttpClient`: GETs (and POSTs: once, never redirected) through the guard with size caps, deadlines,
retries for blips, budgets and backoffs.

Network and HTTP problems are results, never exceptions: `FetchResult.error` says what went wrong in one
line with secrets redacted. 4xx/5xx answers are not errors, they are statuses; 429 and 503 come back at
once with their Retry-After for the caller to honour (an in-request sleep could park a worker for hours).
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from http.client import HTTPException
from http.cookiejar import DefaultCookiePolicy
from types import MappingProxyType, TracebackType
from urllib.parse import urljoin, urlsplit

import requests
from urllib3._version import __version__ as URLLIB3_VERSION
from urllib3.exceptions import DecodeError, LocationParseError, NewConnectionError, ProtocolError
from urllib3.exceptions import HTTPError as Urllib3Error
from urllib3.exceptions import ReadTimeoutError as Urllib3ReadTimeout

from archiver.clock import Clock
from archiver.config import HttpSettings
from archiver.http.budgets import Backoffs, Budgets, MemoryHostBackoffs, RateBudgets
from archiver.http.guard import Resolver, resolve_addresses, scheme_error
from archiver.http.results import (
    FetchError,
    FetchErrorKind,
    FetchResult,
    reason_of,
    redact_library_logs,
    redact_url,
    redact_values,
    secret_values,
)
from archiver.http.transport import GuardedAdapter, Refused, Watchdog, watch_this_thread

if tuple(int(p) for p in re.findall(r"\d+", URLLIB3_VERSION)[:2]) < (2, 7):  # pragma: no cover
    # 2.7 bounds decompression per read; older versions inflate a gzip bomb in one go.
    raise ImportError(f"archiver.http needs urllib3>=2.7.0, found {URLLIB3_VERSION}")

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
RETRY_STATUSES = frozenset({500, 502, 504})  # blips; 429 and 503 carry Retry-After and go back at once
RETRIES = 2
RETRY_BACKOFF = 0.2  # seconds, doubled per retry
READ_CHUNK = 64 * 1024
_CROSS_ORIGIN_DROPPED = ("authorization", "proxy-authorization", "cookie")
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
        redact_library_logs()

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
        secrets = set(secret_values(url))  # sent with any hop: never handed on in a body
        for hop in range(self.settings.max_redirects + 1):
            refused = scheme_error(_scheme_of(current), current)
            if refused is not None:  # before requests, which would only say "no connection adapters"
                return failed(current, refused)
            result, location = self._attempts(method, body, current, extra, cap, started, deadline_at)
            if location is None or not follow_redirects:
                self._note_backoff(current, result)
                if secrets and result.body:
                    return replace(result, body=redact_values(result.body, secrets))
                return result
            following = urljoin(current, location)
            secrets |= secret_values(following)
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
        watchdog = Watchdog(remaining)
        watch_this_thread(watchdog)
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
            except Refused as exc:
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
            watch_this_thread(None)
            if response is not None:
                response.close()  # not fully read: drop the connection rather than drain it

    def _read_body(
        self, response: requests.Response, cap: int, host: str, deadline_at: float, watchdog: Watchdog
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
                FetchErrorKind.TRUNCATED, f"the body from {host} cannot be decoded ({reason_of(exc)})"
            )
        except (ProtocolError, Urllib3Error, HTTPException, OSError) as exc:
            if watchdog.expired:
                return self._deadline_error(host)
            return FetchError.of(
                FetchErrorKind.TRUNCATED, f"the body from {host} ended early ({reason_of(exc)})"
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
            return FetchError.of(
                FetchErrorKind.CONNECTION, f"TLS error with {host} ({reason_of(exc)})"
            ), False
        if isinstance(exc, requests.exceptions.InvalidSchema):
            return FetchError.of(
                FetchErrorKind.BLOCKED, f"only http and https URLs are fetched ({host})"
            ), False
        if isinstance(
            exc, (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema, LocationParseError)
        ):
            return FetchError.of(FetchErrorKind.INVALID_URL, f"{host}: {reason_of(exc)}"), False
        unconnected = _caused_by(exc, NewConnectionError)
        detail = f"cannot connect to {host}" if unconnected else f"lost the connection to {host}"
        return FetchError.of(FetchErrorKind.CONNECTION, f"{detail} ({reason_of(exc)})"), unconnected

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
            adapter = GuardedAdapter(self.settings, self._resolve)
            session.adapters.clear()  # nothing but http(s) through the guard
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            self._local.session = session
            with self._lock:
                self._sessions.append(session)
        return session


def _backoff_host(url: str) -> str:
    """The lower-cased host of `url`, or "" when it has none or cannot be parsed (vetting reports it)."""
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


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
