"""The one HTTP client of the archiver: SSRF guard, size caps, deadlines, budgets, user agent.

URLs come from untrusted articles, so every request (and every redirect hop) is vetted before a socket
is opened, and the connection goes to the address that was vetted, never to a second DNS answer::

    get(url) ── budget? ── vet_url: scheme, host -> every address public (or in [http] allow_networks),
      ▲                    port allowed ── connect to that address (Host header and TLS SNI stay the name)
      └── redirect hop ◄── status + headers ── body read in small pieces: decoded bytes counted against
                                               max_bytes, the total deadline checked between pieces

What lives here, one kind of knowledge a module:

- `results`    FetchResult, FetchError, FetchErrorKind; `redact_url` and the one-line reason of an exception
- `budgets`    Budgets / Backoffs (the interfaces), RateBudgets and MemoryHostBackoffs (one process)
- `guard`      the SSRF guard: resolve_addresses, vet_url -> Destination or FetchError
- `transport`  requests' adapter that vets and pins each connection; the deadline's watchdog
- `client`     HttpClient: get (redirects, retries for blips) and post (once, never redirected), caps,
               budgets and backoffs

Import from this front door (`from archiver.http import HttpClient`). The package may import the standard
library, requests, urllib3, `archiver.clock` and `archiver.config`, nothing else of the archiver. Inside
it, each module imports only those listed above it (results first; budgets stands alone).
"""

from __future__ import annotations

from archiver.http.budgets import Backoffs, Budgets, MemoryHostBackoffs, RateBudgets
from archiver.http.client import REDIRECT_STATUSES, HttpClient
from archiver.http.guard import Destination, Resolver, resolve_addresses, vet_url
from archiver.http.results import FetchError, FetchErrorKind, FetchResult, redact_url

__all__ = [
    "REDIRECT_STATUSES",
    "Backoffs",
    "Budgets",
    "Destination",
    "FetchError",
    "FetchErrorKind",
    "FetchResult",
    "HttpClient",
    "MemoryHostBackoffs",
    "RateBudgets",
    "Resolver",
    "redact_url",
    "resolve_addresses",
    "vet_url",
]
