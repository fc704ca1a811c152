"""The SSRF guard: where a request for a URL may connect, or why it may not.

URLs come from untrusted articles. `vet_url` resolves the host once and refuses unless every address is
public and the port allowed (or the address lies in `[http] allow_networks`); the transport then connects
to the address that was vetted, never to a second DNS answer.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass

from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from archiver.config import HttpSettings
from archiver.http.results import FetchError, FetchErrorKind, reason_of, redact_url

Resolver = Callable[[str, int], list[str]]
"""host, port -> the IP addresses (as text) the host resolves to; raises OSError when it cannot."""


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
    if (refused := scheme_error(scheme, url)) is not None:
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
            return FetchError.of(FetchErrorKind.CONNECTION, f"cannot resolve {host} ({reason_of(exc)})")
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


def scheme_error(scheme: str, url: str) -> FetchError | None:
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
