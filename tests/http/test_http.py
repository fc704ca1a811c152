"""archiver.http against a real loopback server: statuses as results, faults as errors, the SSRF guard,
caps, deadlines and budgets. Connections are observed with an audit hook, never by patching requests."""

from __future__ import annotations

import gzip
import json
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import tracemalloc
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from support.fake_server import (
    FIXTURES,
    Canned,
    FakeServer,
    Recorded,
    canned_from_response_json,
    canned_from_vcr,
)

from archiver.clock import FixedClock
from archiver.config import HttpSettings
from archiver.http import (
    Destination,
    FetchError,
    FetchErrorKind,
    FetchResult,
    HttpClient,
    RateBudgets,
    redact_url,
    vet_url,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)
MiB = 1024 * 1024
JSON = {"Content-Type": "application/json; charset=utf-8"}


def settings(**overrides: Any) -> HttpSettings:
    values: dict[str, Any] = {
        "allow_networks": ("127.0.0.0/8",),
        "connect_timeout": 2.0,
        "read_timeout": 2.0,
        "deadline": 5.0,
    }
    values.update(overrides)
    return HttpSettings(**values)


@pytest.fixture
def client() -> Iterator[HttpClient]:
    with HttpClient(settings(), FixedClock(NOW)) as http:
        yield http


# --- observing connections: an audit hook sees every socket.connect, whoever makes it ---------------------

_connects: list[tuple[str, int]] = []
_recording = threading.Event()


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "socket.connect" and _recording.is_set() and isinstance(args[1], tuple):
        _connects.append((str(args[1][0]), int(args[1][1])))


sys.addaudithook(_audit)


@pytest.fixture
def connects() -> Iterator[list[tuple[str, int]]]:
    """The (address, port) of every connection attempted during the test."""
    _connects.clear()
    _recording.set()
    yield _connects
    _recording.clear()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def kind(result: FetchResult) -> FetchErrorKind | None:
    return result.error.kind if result.error else None


# --- answers are results ----------------------------------------------------------------------------------


def test_ok_json_sends_our_user_agent_and_accept(client: HttpClient, fake_server: FakeServer) -> None:
    fake_server.route("/oembed", Canned(200, JSON, b'{"type": "rich", "html": "<p>hi</p>"}'))
    result = client.get(f"{fake_server.url}/oembed?url=x", accept="application/json")
    assert result.ok and result.error is None and result.status == 200
    assert result.json() == {"type": "rich", "html": "<p>hi</p>"}
    assert result.content_type == "application/json"
    assert result.headers["content-type"] == "application/json; charset=utf-8"
    assert result.url == f"{fake_server.url}/oembed?url=x"
    (seen,) = fake_server.requests
    assert seen.headers["user-agent"] == settings().user_agent
    assert seen.headers["accept"] == "application/json"
    assert seen.headers["host"] == fake_server.url.removeprefix("http://")
    assert seen.query == {"url": ["x"]}


def test_404_is_a_status_with_its_body(client: HttpClient, fake_server: FakeServer) -> None:
    fake_server.route("/gone", Canned(404, JSON, b'{"error": "not found"}'))
    result = client.get(f"{fake_server.url}/gone")
    assert result.error is None and result.status == 404 and not result.ok
    assert result.json() == {"error": "not found"}
    assert len(fake_server.requests) == 1


def test_500_is_retried_in_request_then_returned_with_its_body(
    client: HttpClient, fake_server: FakeServer
) -> None:
    fake_server.route("/flaky", Canned(500, {}, b"server error"))
    result = client.get(f"{fake_server.url}/flaky")
    assert result.error is None and result.status == 500 and result.body == b"server error"
    assert len(fake_server.requests) == 3  # one try and two retries
    assert result.elapsed < 2


def test_a_500_blip_recovers(client: HttpClient, fake_server: FakeServer) -> None:
    answers = iter([Canned(502), Canned(200, body=b"fine")])
    fake_server.route("/blip", lambda _: next(answers))
    result = client.get(f"{fake_server.url}/blip")
    assert result.ok and result.body == b"fine"


@pytest.mark.parametrize("status", [429, 503])
def test_429_and_503_come_back_at_once_with_retry_after(
    client: HttpClient, fake_server: FakeServer, status: int
) -> None:
    fake_server.route("/limited", Canned(status, {"Retry-After": "3600"}, b"slow down"))
    result = client.get(f"{fake_server.url}/limited")
    assert result.error is None and result.status == status and not result.ok
    assert result.headers["retry-after"] == "3600"
    assert result.body == b"slow down"
    assert result.elapsed < 1
    assert len(fake_server.requests) == 1


# --- faults are errors ------------------------------------------------------------------------------------


def test_no_response_within_the_read_timeout(fake_server: FakeServer) -> None:
    fake_server.route("/slow", Canned(delay=3.0))
    with HttpClient(settings(read_timeout=0.3), FixedClock(NOW)) as http:
        result = http.get(f"{fake_server.url}/slow")
    assert kind(result) is FetchErrorKind.TIMEOUT and result.status is None
    assert (
        result.error is not None and result.error.message == "timeout: no response from 127.0.0.1 within 0.3s"
    )
    assert result.elapsed < 1.5


def test_a_slow_drip_body_is_cut_at_the_total_deadline(fake_server: FakeServer) -> None:
    fake_server.route("/drip", Canned(body=b"x" * 100, drip_seconds_per_byte=0.2))
    with HttpClient(settings(deadline=1.0, read_timeout=5.0), FixedClock(NOW)) as http:
        result = http.get(f"{fake_server.url}/drip")
    assert kind(result) is FetchErrorKind.TIMEOUT and result.status == 200 and result.body == b""
    assert result.error is not None and "1s deadline" in result.error.message
    assert 0.9 < result.elapsed < 1.6


def test_a_slow_drip_chunked_body_is_cut_at_the_total_deadline(fake_server: FakeServer) -> None:
    fake_server.route("/drip", Canned(body=b"x" * 100, drip_seconds_per_byte=0.2, chunked=True))
    with HttpClient(settings(deadline=1.0, read_timeout=5.0), FixedClock(NOW)) as http:
        result = http.get(f"{fake_server.url}/drip")
    assert kind(result) is FetchErrorKind.TIMEOUT
    assert 0.9 < result.elapsed < 1.6


def test_a_late_status_line_is_cut_at_the_total_deadline(fake_server: FakeServer) -> None:
    fake_server.route("/late", Canned(delay=3.0))
    with HttpClient(settings(deadline=0.5, read_timeout=10.0), FixedClock(NOW)) as http:
        result = http.get(f"{fake_server.url}/late")
    assert kind(result) is FetchErrorKind.TIMEOUT
    assert result.error is not None and "deadline" in result.error.message
    assert result.elapsed < 1.2


def test_a_reset_is_a_connection_error(client: HttpClient, fake_server: FakeServer) -> None:
    fake_server.route("/reset", Canned(reset=True))
    result = client.get(f"{fake_server.url}/reset")
    assert kind(result) is FetchErrorKind.CONNECTION and result.status is None
    assert result.error is not None and result.error.message.startswith(
        "connection: lost the connection to 127.0.0.1 ("
    )


def test_a_refused_connection_is_retried_then_a_connection_error(
    client: HttpClient, connects: list[tuple[str, int]]
) -> None:
    port = free_port()
    result = client.get(f"http://127.0.0.1:{port}/")
    assert kind(result) is FetchErrorKind.CONNECTION
    assert result.error is not None and "refused" in result.error.message
    assert connects.count(("127.0.0.1", port)) == 3


@pytest.mark.parametrize("chunked", [False, True])
def test_a_truncated_body_is_never_a_success(
    client: HttpClient, fake_server: FakeServer, chunked: bool
) -> None:
    fake_server.route(
        "/cut", Canned(200, JSON, b'{"html": "' + b"x" * 5000 + b'"}', truncate_to=100, chunked=chunked)
    )
    result = client.get(f"{fake_server.url}/cut")
    assert kind(result) is FetchErrorKind.TRUNCATED and not result.ok
    assert result.status == 200 and result.body == b""


def test_content_length_over_the_cap_is_refused_before_reading(
    client: HttpClient, fake_server: FakeServer
) -> None:
    fake_server.route("/big", Canned(body=b"x" * 5000))
    result = client.get(f"{fake_server.url}/big", max_bytes=1000)
    assert kind(result) is FetchErrorKind.TOO_LARGE and result.body == b""
    assert result.error is not None and "Content-Length 5000" in result.error.message


def test_a_body_of_exactly_the_cap_is_fine(client: HttpClient, fake_server: FakeServer) -> None:
    fake_server.route("/exact", Canned(body=b"x" * 1000, chunked=True))
    assert client.get(f"{fake_server.url}/exact", max_bytes=1000).body == b"x" * 1000


def test_a_chunked_body_over_the_cap_is_cut(client: HttpClient, fake_server: FakeServer) -> None:
    fake_server.route("/big", Canned(body=b"x" * 200_000, chunked=True))
    result = client.get(f"{fake_server.url}/big", max_bytes=1000)
    assert kind(result) is FetchErrorKind.TOO_LARGE


def test_the_default_cap_is_max_page_bytes(fake_server: FakeServer) -> None:
    fake_server.route("/big", Canned(body=b"x" * 3000, chunked=True))
    with HttpClient(settings(max_page_bytes=2000), FixedClock(NOW)) as http:
        assert kind(http.get(f"{fake_server.url}/big")) is FetchErrorKind.TOO_LARGE


def test_gzip_is_decoded(client: HttpClient, fake_server: FakeServer) -> None:
    fake_server.route("/gz", Canned(200, JSON, b'{"a": 1}', gzip=True))
    result = client.get(f"{fake_server.url}/gz")
    assert result.ok and result.json() == {"a": 1} and result.headers["content-encoding"] == "gzip"
    assert "gzip" in fake_server.requests[0].headers["accept-encoding"]


def test_a_gzip_bomb_is_cut_at_the_decoded_cap_with_bounded_memory(
    client: HttpClient, fake_server: FakeServer
) -> None:
    bomb = gzip.compress(bytes(50 * MiB), compresslevel=9)
    assert len(bomb) < MiB  # the Content-Length check cannot catch it
    fake_server.route("/bomb", Canned(200, {"Content-Encoding": "gzip"}, bomb))
    tracemalloc.start()
    try:
        started = time.monotonic()
        result = client.get(f"{fake_server.url}/bomb", max_bytes=MiB)
        took = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert kind(result) is FetchErrorKind.TOO_LARGE
    assert took < 2
    assert peak < 8 * MiB


def test_undecodable_gzip_is_an_error(client: HttpClient, fake_server: FakeServer) -> None:
    fake_server.route("/bad", Canned(200, {"Content-Encoding": "gzip"}, b"not gzip at all"))
    assert kind(client.get(f"{fake_server.url}/bad")) is FetchErrorKind.TRUNCATED


# --- redirects --------------------------------------------------------------------------------------------


def test_a_redirect_chain_is_followed(client: HttpClient, fake_server: FakeServer) -> None:
    fake_server.route("/a", Canned(302, {"Location": "/b?x=1"}))
    fake_server.route("/b", Canned(301, {"Location": f"{fake_server.url}/c/"}))
    fake_server.route("/c/", Canned(307, {"Location": "d"}))
    fake_server.route("/c/d", Canned(200, body=b"here"))
    result = client.get(f"{fake_server.url}/a")
    assert result.ok and result.body == b"here"
    assert result.url == f"{fake_server.url}/c/d"
    assert [r.path for r in fake_server.requests] == ["/a", "/b", "/c/", "/c/d"]


def test_a_redirect_loop_stops(client: HttpClient, fake_server: FakeServer) -> None:
    fake_server.route("/loop", Canned(302, {"Location": "/loop"}))
    result = client.get(f"{fake_server.url}/loop")
    assert kind(result) is FetchErrorKind.TOO_MANY_REDIRECTS and result.status == 302
    assert len(fake_server.requests) == settings().max_redirects + 1


def test_a_redirect_without_location_is_returned(client: HttpClient, fake_server: FakeServer) -> None:
    fake_server.route("/odd", Canned(302))
    result = client.get(f"{fake_server.url}/odd")
    assert result.error is None and result.status == 302


@pytest.mark.parametrize(
    "target",
    ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://[::1]/", "file:///etc/passwd"],
)
def test_a_redirect_to_a_forbidden_place_is_blocked_before_connecting(
    client: HttpClient, fake_server: FakeServer, connects: list[tuple[str, int]], target: str
) -> None:
    fake_server.route("/hop", Canned(302, {"Location": target}))
    result = client.get(f"{fake_server.url}/hop")
    assert kind(result) is FetchErrorKind.BLOCKED
    assert {address for address, _ in connects} == {"127.0.0.1"}


def test_credentials_are_not_forwarded_to_another_origin(fake_server: FakeServer) -> None:
    port = fake_server.url.rsplit(":", 1)[1]
    resolve = {"first.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]}
    with HttpClient(settings(), FixedClock(NOW), resolve=lambda host, _: resolve[host]) as http:
        fake_server.route("/a", Canned(302, {"Location": f"http://other.test:{port}/b"}))
        fake_server.route("/b", Canned(200))
        result = http.get(f"http://first.test:{port}/a", headers={"Authorization": "Bearer s3cret"})
    assert result.ok
    first, second = fake_server.requests
    assert first.headers["authorization"] == "Bearer s3cret" and first.headers["host"] == f"first.test:{port}"
    assert "authorization" not in second.headers and second.headers["host"] == f"other.test:{port}"


# --- the SSRF guard ---------------------------------------------------------------------------------------


def test_loopback_is_refused_by_default(fake_server: FakeServer, connects: list[tuple[str, int]]) -> None:
    fake_server.route("/", Canned(200))
    with HttpClient(HttpSettings(), FixedClock(NOW)) as http:
        result = http.get(f"{fake_server.url}/")
    assert kind(result) is FetchErrorKind.BLOCKED
    assert result.error is not None and "[http] allow_networks" in result.error.message
    assert result.error.message.startswith("blocked: 127.0.0.1 is a loopback address")
    assert fake_server.requests == [] and connects == []


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.com/x", "gopher://127.0.0.1/", "javascript:alert(1)"]
)
def test_other_schemes_are_refused(client: HttpClient, url: str) -> None:
    result = client.get(url)
    assert kind(result) is FetchErrorKind.BLOCKED and result.status is None


@pytest.mark.parametrize("url", ["not a url", "/relative/path", "http://", "http://[::1/"])
def test_malformed_urls_are_invalid(client: HttpClient, url: str) -> None:
    assert kind(client.get(url)) is FetchErrorKind.INVALID_URL


def test_the_ipv4_mapped_form_of_loopback_is_refused(
    fake_server: FakeServer, connects: list[tuple[str, int]]
) -> None:
    port = fake_server.url.rsplit(":", 1)[1]
    with HttpClient(HttpSettings(), FixedClock(NOW)) as http:
        result = http.get(f"http://[::ffff:127.0.0.1]:{port}/")
    assert kind(result) is FetchErrorKind.BLOCKED and connects == []


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://127.1.2.3/",
        "http://[::1]/",
        "http://0.0.0.0/",
        "http://[::]/",
        "http://10.1.2.3/",
        "http://172.16.0.1/",
        "http://192.168.1.1/",
        "http://169.254.169.254/",
        "http://100.64.0.1/",
        "http://224.0.0.1/",
        "http://255.255.255.255/",
        "http://240.0.0.1/",
        "http://[fc00::1]/",
        "http://[fe80::1]/",
        "http://[ff02::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[::ffff:10.0.0.1]/",
        "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
        "http://[64:ff9b::a00:1]/",  # NAT64 of 10.0.0.1
        "http://2130706433/",  # 127.0.0.1 as one number
        "http://0x7f.1/",
        "http://017700000001/",
    ],
)
def test_non_public_addresses_are_refused(url: str, connects: list[tuple[str, int]]) -> None:
    verdict = vet_url(url, HttpSettings())
    assert isinstance(verdict, FetchError) and verdict.kind is FetchErrorKind.BLOCKED, verdict
    assert "[http] allow_networks" in verdict.message
    assert connects == []


def test_userinfo_urls_are_refused() -> None:
    verdict = vet_url("http://a@127.0.0.1/", settings())
    assert isinstance(verdict, FetchError) and verdict.kind is FetchErrorKind.INVALID_URL


def test_a_public_address_only_on_allowed_ports(connects: list[tuple[str, int]]) -> None:
    refused = vet_url("http://93.184.216.34:8080/", HttpSettings())
    assert isinstance(refused, FetchError) and refused.kind is FetchErrorKind.BLOCKED
    assert "port 8080" in refused.message and "allowed_ports" in refused.message
    assert vet_url("https://93.184.216.34/", HttpSettings()) == Destination(
        "https", "93.184.216.34", 443, "93.184.216.34"
    )
    assert isinstance(vet_url("http://93.184.216.34:8080/", HttpSettings(allowed_ports=(8080,))), Destination)
    assert connects == []


def test_allowed_networks_may_use_any_port() -> None:
    assert vet_url("http://127.0.0.1:8999/", settings()) == Destination(
        "http", "127.0.0.1", 8999, "127.0.0.1"
    )


def test_every_resolved_address_must_be_public() -> None:
    def resolve(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "10.0.0.5"]

    verdict = vet_url("https://mixed.example/", HttpSettings(), resolve)
    assert isinstance(verdict, FetchError)
    assert verdict.message == (
        "blocked: mixed.example resolves to 10.0.0.5, a private address (allow it with [http] allow_networks)"
    )
    public = vet_url("https://one.example/", HttpSettings(), lambda host, port: ["2606:2800:220:1::1"])
    assert public == Destination("https", "one.example", 443, "2606:2800:220:1::1")


def test_an_unresolvable_host_is_a_connection_error() -> None:
    def resolve(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    verdict = vet_url("https://nowhere.example/", HttpSettings(), resolve)
    assert isinstance(verdict, FetchError) and verdict.kind is FetchErrorKind.CONNECTION
    assert "nowhere.example" in verdict.message


def test_the_connection_goes_to_the_vetted_address_resolved_once(
    fake_server: FakeServer, connects: list[tuple[str, int]]
) -> None:
    # A name the system cannot resolve: reaching the server proves no second DNS lookup happened.
    lookups: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["127.0.0.1"]

    port = int(fake_server.url.rsplit(":", 1)[1])
    fake_server.route("/pinned", Canned(200, body=b"pinned"))
    with HttpClient(settings(), FixedClock(NOW), resolve=resolve) as http:
        result = http.get(f"http://rebind.invalid:{port}/pinned")
    assert result.ok and result.body == b"pinned"
    assert lookups == ["rebind.invalid"]
    assert connects == [("127.0.0.1", port)]
    assert fake_server.requests[0].headers["host"] == f"rebind.invalid:{port}"


def test_tls_sni_is_the_host_name_while_connecting_to_the_vetted_address(
    tmp_path: Path, connects: list[tuple[str, int]]
) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("openssl is not installed")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-subj", "/CN=pinned.test", "-days", "1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    names: list[str | None] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: names.append(name)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        conn, _ = listener.accept()
        try:
            context.wrap_socket(conn, server_side=True).close()
        except (ssl.SSLError, OSError):
            conn.close()  # our client refuses the self-signed certificate

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    try:
        with HttpClient(settings(), FixedClock(NOW), resolve=lambda host, _: ["127.0.0.1"]) as http:
            result = http.get(f"https://pinned.test:{port}/")
    finally:
        server.join(timeout=5)
        listener.close()
    assert kind(result) is FetchErrorKind.CONNECTION
    assert result.error is not None and "TLS" in result.error.message
    assert names == ["pinned.test"]
    assert connects == [("127.0.0.1", port)]


def test_ambient_proxies_are_ignored(
    client: HttpClient, fake_server: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    fake_server.route("/", Canned(200, body=b"direct"))
    assert client.get(f"{fake_server.url}/").body == b"direct"


def test_cookies_are_not_kept_between_requests(client: HttpClient, fake_server: FakeServer) -> None:
    fake_server.route("/set", Canned(200, {"Set-Cookie": "track=1; Path=/"}))
    fake_server.route("/next", Canned(200))
    client.get(f"{fake_server.url}/set")
    client.get(f"{fake_server.url}/next")
    assert "cookie" not in fake_server.requests[1].headers


# --- budgets ----------------------------------------------------------------------------------------------


def test_a_used_up_budget_answers_at_once_without_touching_the_server(fake_server: FakeServer) -> None:
    clock = FixedClock(NOW)
    budgets = RateBudgets(clock)
    budgets.set_limit("graph.facebook.com", 3, 60)
    fake_server.route("/o", Canned(200))
    with HttpClient(settings(), clock, budgets) as http:
        results = [http.get(f"{fake_server.url}/o", budget_key="graph.facebook.com") for _ in range(3)]
        assert all(r.ok for r in results)
        clock.advance(timedelta(seconds=20))
        refused = http.get(f"{fake_server.url}/o?access_token=s3cret", budget_key="graph.facebook.com")
        assert kind(refused) is FetchErrorKind.BUDGET and refused.status is None
        assert refused.error is not None
        assert refused.error.message == "rate budget for graph.facebook.com used up; retry in 40s"
        assert "s3cret" not in refused.url
        assert len(fake_server.requests) == 3
        clock.advance(timedelta(seconds=41))
        assert http.get(f"{fake_server.url}/o", budget_key="graph.facebook.com").ok
        assert http.get(f"{fake_server.url}/o", budget_key="unlimited").ok
    assert len(fake_server.requests) == 5


def test_rate_budgets_slide() -> None:
    clock = FixedClock(NOW)
    budgets = RateBudgets(clock)
    assert (
        budgets.try_acquire("free")
        and budgets.remaining("free") is None
        and budgets.retry_after("free") is None
    )
    budgets.set_limit("k", 2, 10)
    assert budgets.remaining("k") == 2 and budgets.retry_after("k") == 0.0
    assert budgets.try_acquire("k")
    clock.advance(timedelta(seconds=4))
    assert budgets.try_acquire("k") and not budgets.try_acquire("k")
    assert budgets.remaining("k") == 0 and budgets.retry_after("k") == 6.0
    clock.advance(timedelta(seconds=6))
    assert budgets.remaining("k") == 1 and budgets.retry_after("k") == 0.0
    with pytest.raises(ValueError):
        budgets.set_limit("k", 0, 10)


def test_rate_budgets_are_thread_safe() -> None:
    budgets = RateBudgets(FixedClock(NOW))
    budgets.set_limit("k", 500, 3600)
    with ThreadPoolExecutor(8) as pool:
        granted = sum(pool.map(lambda _: budgets.try_acquire("k"), range(2000)))
    assert granted == 500


# --- secrets, text, threads -------------------------------------------------------------------------------


def test_redact_url_hides_credentials_and_keeps_the_rest() -> None:
    url = "https://graph.facebook.com/v26.0/instagram_oembed?url=https%3A%2F%2Fwww.instagram.com%2Fp%2FX%2F&access_token=123%7Cabc"
    assert redact_url(url) == (
        "https://graph.facebook.com/v26.0/instagram_oembed?url=https%3A%2F%2Fwww.instagram.com%2Fp%2FX%2F"
        "&access_token=REDACTED"
    )
    assert redact_url("https://x.test/a?key=1&api_key=2&client_secret=3&sig=4&Signature=5&monkey=6") == (
        "https://x.test/a?key=REDACTED&api_key=REDACTED&client_secret=REDACTED&sig=REDACTED&Signature=REDACTED"
        "&monkey=6"
    )
    assert redact_url("https://user:pw@x.test/") == "https://user:REDACTED@x.test/"
    assert (
        redact_url("https://x.test/cb#access_token=abc&type=bearer")
        == "https://x.test/cb#access_token=REDACTED&type=bearer"
    )
    assert redact_url(redact_url(url)) == redact_url(url)


def test_a_body_that_echoes_the_token_comes_back_redacted(
    client: HttpClient, fake_server: FakeServer, caplog: pytest.LogCaptureFixture
) -> None:
    token = "123|secretPART"
    echoed = "asked with access_token=123%7CsecretPART, that is 123|secretPART; sig=4 stays"
    fake_server.route("/start", Canned(302, {"Location": "/echo?sig=longSIGNATURE1"}))
    fake_server.route(
        "/echo", Canned(500, {"Content-Type": "text/plain"}, echoed.encode() + b" longSIGNATURE1")
    )
    caplog.set_level("DEBUG", logger="urllib3")
    result = client.get(f"{fake_server.url}/start?access_token=123%7CsecretPART")
    assert result.status == 500
    # The token of the first hop and the signature of the second: their values are gone, in every form.
    assert result.text() == ("asked with access_token=REDACTED, that is REDACTED; sig=4 stays REDACTED")
    lines = [record.getMessage() for record in caplog.records if record.name.startswith("urllib3")]
    assert any("/echo?sig=REDACTED" in line for line in lines), lines  # urllib3's request lines
    assert not [line for line in lines if "secretPART" in line or "longSIGNATURE1" in line]
    assert token not in result.url and "secretPART" not in result.url
    assert redact_url("https://x.test/plain?a=1") == "https://x.test/plain?a=1"


def test_errors_and_urls_never_carry_the_token(fake_server: FakeServer) -> None:
    fake_server.route("/slow", Canned(delay=2.0))
    with HttpClient(settings(read_timeout=0.2), FixedClock(NOW)) as http:
        result = http.get(f"{fake_server.url}/slow?access_token=s3cret")
    assert result.error is not None and "s3cret" not in result.error.message
    assert result.url == f"{fake_server.url}/slow?access_token=REDACTED"


def test_text_uses_the_declared_charset() -> None:
    latin = FetchResult(
        "u", 200, {"content-type": "text/html; charset=ISO-8859-1"}, "café".encode("latin-1"), 0.1
    )
    assert latin.text() == "café" and latin.content_type == "text/html"
    unknown = FetchResult("u", 200, {"content-type": 'text/plain; charset="no-such"'}, "é".encode(), 0.1)
    assert unknown.text() == "é"
    broken = FetchResult("u", 200, {}, b"\xff{", 0.1)
    assert broken.text() == "\ufffd{" and broken.content_type == ""
    with pytest.raises(ValueError):
        broken.json()
    assert FetchResult("u", 200, {}, b"\xef\xbb\xbf[1]", 0.1).json() == [1]


def test_the_client_serves_many_threads(client: HttpClient, fake_server: FakeServer) -> None:
    fake_server.route("/t", lambda rec: Canned(200, body=rec.query["n"][0].encode()))
    with ThreadPoolExecutor(8) as pool:
        bodies = list(pool.map(lambda n: client.get(f"{fake_server.url}/t?n={n}").body, range(40)))
    assert bodies == [str(n).encode() for n in range(40)]


# --- the fake server itself -------------------------------------------------------------------------------


def test_unrouted_paths_are_404_json(client: HttpClient, fake_server: FakeServer) -> None:
    result = client.get(f"{fake_server.url}/nothing-here")
    assert result.status == 404 and result.json() == {"error": "no route"}


def test_routes_replace_and_clear(client: HttpClient, fake_server: FakeServer) -> None:
    fake_server.route("/r", Canned(200, body=b"one"))
    fake_server.route("/r", Canned(200, body=b"two"))
    assert client.get(f"{fake_server.url}/r").body == b"two"
    fake_server.clear()
    assert fake_server.requests == [] and client.get(f"{fake_server.url}/r").status == 404


def test_stopping_does_not_wait_for_a_drip() -> None:
    server = FakeServer()
    server.start()
    server.route("/drip", Canned(body=b"x" * 10, drip_seconds_per_byte=30))
    sock = socket.create_connection(("127.0.0.1", int(server.url.rsplit(":", 1)[1])))
    try:
        sock.sendall(b"GET /drip HTTP/1.1\r\nHost: x\r\n\r\n")
        assert sock.recv(100).startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 1
    finally:
        sock.close()


def test_a_recorded_vcr_response_is_served(client: HttpClient, fake_server: FakeServer) -> None:
    canned = canned_from_vcr(FIXTURES / "instagram" / "oembed-graph-v8-p-200.vcr.yml")
    assert canned.status == 200 and "Content-Length" not in canned.headers
    fake_server.route("/v8.0/instagram_oembed", canned)
    result = client.get(f"{fake_server.url}/v8.0/instagram_oembed?url=x&access_token=A_FAKE_TOKEN_FOR_TESTS")
    assert result.ok and result.content_type == "application/json"
    data = result.json()
    assert isinstance(data, dict) and data["author_name"] == "ruby_eloquent"
    assert result.headers["etag"] == '"17a47eb5a818191edf810e2092f31ae46c3973e5"'


@pytest.mark.parametrize(
    "path", sorted(FIXTURES.glob("*/*.vcr.yml")), ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_every_vcr_fixture_parses_to_its_recorded_body(path: Path) -> None:
    canned = canned_from_vcr(path)
    stem = path.name.removesuffix(".vcr.yml")
    as_json, as_text = path.with_name(f"{stem}.body.json"), path.with_name(f"{stem}.body.txt")
    if as_json.exists():
        assert json.loads(canned.body) == json.loads(as_json.read_text(encoding="utf-8"))
    else:
        assert canned.body.decode("utf-8") == as_text.read_text(encoding="utf-8")
    assert not {"content-length", "transfer-encoding", "content-encoding"} & {
        h.lower() for h in canned.headers
    }


def test_binary_vcr_bodies_are_decoded() -> None:
    canned = canned_from_vcr(FIXTURES / "twitter" / "oembed-publish-twitter-status-200.vcr.yml")
    assert json.loads(canned.body)["provider_name"] == "Twitter"


def test_a_403_vcr_keeps_its_status_and_text() -> None:
    canned = canned_from_vcr(FIXTURES / "youtube" / "oembed-private-video-403.vcr.yml")
    assert (canned.status, canned.body) == (403, b"Forbidden")
    assert canned.headers["Vary"] == "Origin,Accept-Encoding, Referer, X-Origin"


def test_a_recorded_php_embed_response_is_served(client: HttpClient, fake_server: FakeServer) -> None:
    canned = canned_from_response_json(FIXTURES / "vimeo" / "oembed-video-200-2021.response.json")
    fake_server.route("/api/oembed.json", canned)
    result = client.get(f"{fake_server.url}/api/oembed.json")
    assert result.ok and result.content_type == "application/json"
    data = result.json()
    assert isinstance(data, dict) and data["provider_name"] == "Vimeo"


def test_a_php_embed_recording_through_redirects_keeps_the_final_response() -> None:
    canned = canned_from_response_json(
        FIXTURES / "spotify" / "oembed-legacy-embed-spotify-com-redirect-200-2021.response.json"
    )
    assert canned.status == 200
    assert canned.headers["content-type"] == "application/json; charset=utf-8"
    assert "location" not in canned.headers and "content-encoding" not in canned.headers
    assert json.loads(canned.body)["provider_name"] == "Spotify"


def test_a_responder_sees_the_recorded_request(client: HttpClient, fake_server: FakeServer) -> None:
    seen: list[Recorded] = []

    def answer(recorded: Recorded) -> Canned:
        seen.append(recorded)
        return Canned(201)

    fake_server.route("/echo", answer)
    assert client.get(f"{fake_server.url}/echo?a=1&a=2&b=").status == 201
    assert seen[0].query == {"a": ["1", "2"], "b": [""]} and seen[0].method == "GET"
