"""What a fetch comes back as: `FetchResult`, with `FetchError` when it went wrong, and the redaction
that keeps tokens out of every URL and message it carries, out of the bodies that echo them back, and
out of the request lines urllib3 logs."""

from __future__ import annotations

import codecs
import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import parse_qsl, quote, quote_plus, unquote, urlsplit

_SECRET_PARAM = re.compile(
    r"(?:^|[_.-])(?:token|secret|key|sig|signature|password|passwd|credential|auth)$", re.IGNORECASE
)


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


# Shorter values of credential-like parameters (`sig=1`) are left in bodies: replacing them there could
# corrupt any text that happens to hold them, and a real credential is longer.
MIN_SECRET_IN_BODY = 8


def secret_values(url: str) -> frozenset[str]:
    """What `redact_url` hides in `url`: the values of its credential-like parameters, its password."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return frozenset()
    found = {password} if password else set()
    for text in (parts.query, parts.fragment):
        found.update(value for name, value in parse_qsl(text) if value and _SECRET_PARAM.search(name))
    return frozenset(found)


def redact_values(body: bytes, secrets: Iterable[str]) -> bytes:
    """`body` with each secret, as it is and URL-encoded, replaced by "REDACTED" (a provider's error
    page may echo the URL it was asked, token and all)."""
    for secret in secrets:
        if len(secret) < MIN_SECRET_IN_BODY:
            continue
        for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
            body = body.replace(form.encode(), b"REDACTED")
    return body


class RedactingLogFilter(logging.Filter):
    """Redacts the URLs a library logs (urllib3 logs each request line, query and token included, at
    DEBUG) before any handler sees them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_url(arg) if isinstance(arg, str) and any(c in arg for c in "?#@") else arg
                for arg in record.args
            )
        if isinstance(record.msg, str) and "://" in record.msg:
            record.msg = re.sub(r"https?://\S+", lambda m: redact_url(m.group(0)), record.msg)
        return True


# The loggers of the HTTP libraries under the client that write URLs.
LIBRARY_LOGGERS = ("urllib3.connectionpool", "urllib3.poolmanager", "urllib3.util.retry")


def redact_library_logs() -> None:
    """Put a `RedactingLogFilter` on each of `LIBRARY_LOGGERS` (once)."""
    for name in LIBRARY_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingLogFilter) for f in logger.filters):
            logger.addFilter(RedactingLogFilter())


def _redact_params(text: str) -> str:
    fields = []
    for field in text.split("&") if text else []:
        name, eq, value = field.partition("=")
        if eq and value and _SECRET_PARAM.search(unquote(name.replace("+", " "))):
            field = f"{name}=REDACTED"
        fields.append(field)
    return "&".join(fields)


def reason_of(exc: BaseException) -> str:
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
