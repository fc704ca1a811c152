"""Transport: requests' adapter with the guard in it, and connections pinned to the vetted address and
watched by the request's total deadline.

`HttpClient` makes one `Watchdog` per request and hands it to `watch_this_thread`; every socket this
thread then opens or reuses is shut down when that deadline passes.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from typing import TYPE_CHECKING, Any, cast

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from archiver.config import HttpSettings
from archiver.http.guard import Destination, Resolver, vet_url
from archiver.http.results import FetchError, FetchErrorKind

if TYPE_CHECKING:
    from requests.adapters import _HostParams, _PoolKwargs


class Refused(requests.exceptions.RequestException):
    """Raised inside the adapter when the guard refuses; carries the FetchError out of requests."""

    def __init__(self, error: FetchError) -> None:
        super().__init__(error.message)
        self.error = error


class Watchdog:
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


_current = threading.local()  # .watchdog: the Watchdog of the request this thread is making


def watch_this_thread(watchdog: Watchdog | None) -> None:
    """Make `watchdog` the one that sees the sockets this thread opens or reuses (None: no request)."""
    _current.watchdog = watchdog


def _watch(sock: socket.socket | None) -> None:
    watchdog: Watchdog | None = getattr(_current, "watchdog", None)
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


class GuardedAdapter(HTTPAdapter):
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
            raise Refused(destination)
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
            raise Refused(FetchError.of(FetchErrorKind.BLOCKED, "request was not vetted"))
        host_params["scheme"] = destination.scheme
        host_params["host"] = destination.address
        host_params["port"] = destination.port
        if destination.scheme == "https":
            cast("dict[str, Any]", pool_kwargs)["server_hostname"] = destination.host
        return host_params, pool_kwargs
