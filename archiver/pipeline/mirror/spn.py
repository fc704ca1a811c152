"""Save Page Now 2 (SPN2), the Wayback Machine's capture API, spoken to through the guarded client.

    SavePageNow(settings, keys, http).submit(url)     POST {base}/save: url=..., skip_first_archive=1
                                                      (and if_not_archived_within) -> a job id
    SavePageNow(settings, keys, http).status(job_id)  GET {base}/save/status/JOB_ID -> pending, success
                                                      (timestamp, original_url) or error (status_ext)

Both send `Accept: application/json` and `Authorization: LOW ACCESS:SECRET` (the S3-style keys of an
archive.org account), within the mirror's own rate budget (key `mirror:spn`), never redirected (the keys
go to `base` and nowhere else). Every answer becomes an `SpnAnswer`:

    job        a capture job was started (its id)
    pending    the job is still running
    archived   the copy exists: {base}/web/{timestamp}/{original_url}
    failed     Save Page Now refused the URL for good (its `status_ext`: not-found, blocked, ...)
    later      ask again later: 429, Retry-After, 5xx, timeouts, its own overload and daily limits
               (`error:too-many-daily-captures`, `error:user-session-limit`, ...), a refused key
    unreadable an answer that is not Save Page Now's (not JSON, no job id, a malformed field): one line,
               and nothing of it is kept
    held       our own manners stopped the request (the rate budget, a host backoff): nothing was asked

Nothing taken from an answer is kept unless it passed a strict shape (job ids, 14-digit timestamps,
http(s) URLs, `error:` codes); messages are cut to one line, with the keys redacted should an answer
echo them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from urllib.parse import quote, urlencode, urlsplit

from archiver.config import MirrorSettings, parse_rate
from archiver.http import FetchErrorKind, FetchResult, HttpClient

Kind = Literal["job", "pending", "archived", "failed", "later", "unreadable", "held"]
BUDGET_KEY = "mirror:spn"
MAX_ANSWER_BYTES = 64 * 1024
_JOB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}")
_TIMESTAMP = re.compile(r"\d{14}")
_STATUS_EXT = re.compile(r"error:[a-z0-9-]{1,60}")
# Its own overload, the account's limits, the target's passing trouble: the same URL may be asked again.
LATER_STATUS_EXT = frozenset(
    {
        "error:too-many-daily-captures",
        "error:user-session-limit",
        "error:service-unavailable",
        "error:celery",
        "error:cannot-fetch",
        "error:capture-location-error",
        "error:internal-server-error",
        "error:soft-time-limit-exceeded",
        "error:browsing-timeout",
        "error:gateway-timeout",
        "error:bad-gateway",
        "error:read-timeout",
        "error:proxy-error",
        "error:no-browsers-available",
        "error:too-many-requests",
    }
)
# The refusals worth a sentence of their own (SPN2's error codes); any other is named by its code.
_SAYS = {
    "error:not-found": "the page was not found (404)",
    "error:blocked": "the site blocks the Wayback Machine",
    "error:blocked-url": "the URL is on the Wayback Machine's block list",
    "error:no-access": "the page is behind a login or paywall",
    "error:unauthorized": "the page needs a login (401)",
    "error:forbidden": "the site refused it (403)",
    "error:invalid-url-syntax": "the URL is not valid",
    "error:invalid-host-resolution": "the host name does not resolve",
    "error:too-many-redirects": "the page redirects too many times",
    "error:filesize-limit": "the page is over 2 GB",
    "error:method-not-allowed": "the site refused the request method (405)",
    "error:not-implemented": "the site cannot answer it (501)",
    "error:bandwidth-limit-exceeded": "the site is over its bandwidth limit (509)",
    "error:too-many-daily-captures": "this URL or account reached Save Page Now's daily capture limit",
    "error:user-session-limit": "the account has too many captures running",
}


@dataclass(frozen=True, slots=True)
class SpnKeys:
    """The S3-style keys of an archive.org account; never printed (their repr hides them)."""

    access: str
    secret: str

    def __repr__(self) -> str:
        return "SpnKeys(REDACTED)"

    def header(self) -> str:
        return f"LOW {self.access}:{self.secret}"

    def redact(self, text: str) -> str:
        """`text` with either key, should an answer echo it, replaced by REDACTED."""
        for value in (self.access, self.secret, f"{self.access}:{self.secret}"):
            if value:
                text = text.replace(value, "REDACTED")
        return text


def spn_keys(settings: MirrorSettings, env: Mapping[str, str]) -> SpnKeys | str:
    """The keys from the variables `[mirror]` names, or the one line saying which is missing."""
    access = env.get(settings.access_key_env, "").strip()
    secret = env.get(settings.secret_key_env, "").strip()
    missing = [n for n, v in ((settings.access_key_env, access), (settings.secret_key_env, secret)) if not v]
    if missing:
        return (
            f"[mirror] is enabled but {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not "
            "set: Save Page Now needs the S3 keys of an archive.org account in the environment; captures "
            "go on and queue their posts, which are asked once the keys are there"
        )
    return SpnKeys(access, secret)


@dataclass(frozen=True, slots=True)
class SpnAnswer:
    """What one request to Save Page Now came to (see the module's docstring for the kinds)."""

    kind: Kind
    reason: str = ""
    job_id: str | None = None
    timestamp: str | None = None
    original_url: str | None = None
    status_ext: str | None = None
    retry_after: float | None = None

    @property
    def memento_datetime(self) -> datetime | None:
        if self.timestamp is None:
            return None
        return datetime.strptime(self.timestamp, "%Y%m%d%H%M%S").replace(tzinfo=UTC)


class SavePageNow:
    """Save Page Now at `[mirror] base`, asked with `keys` through `http` within the mirror's budget."""

    def __init__(self, settings: MirrorSettings, keys: SpnKeys, http: HttpClient) -> None:
        self.settings = settings
        self.keys = keys
        self.http = http
        http.budgets.set_limit(BUDGET_KEY, *parse_rate(settings.rate))

    def memento_url(self, timestamp: str, original_url: str) -> str:
        """The copy's URI-M: {base}/web/{timestamp}/{original_url}."""
        return f"{self.settings.base}/web/{timestamp}/{original_url}"

    def submit(self, url: str) -> SpnAnswer:
        """Ask for a capture of `url`: a job id, or why not."""
        form = {"url": url, "skip_first_archive": "1"}
        if self.settings.if_not_archived_within:
            form["if_not_archived_within"] = self.settings.if_not_archived_within
        fetched = self.http.post(
            f"{self.settings.base}/save",
            urlencode(form).encode("ascii"),
            content_type="application/x-www-form-urlencoded",
            headers={"Authorization": self.keys.header()},
            accept="application/json",
            budget_key=BUDGET_KEY,
            max_bytes=MAX_ANSWER_BYTES,
        )
        early = self._trouble(fetched, "capture request")
        if early is not None:
            return early
        body = self._json(fetched, "capture request")
        if isinstance(body, SpnAnswer):
            return body
        job_id = body.get("job_id")
        if isinstance(job_id, str) and _JOB_ID.fullmatch(job_id):
            return SpnAnswer("job", job_id=job_id)
        if body.get("status") == "error" or "status_ext" in body:
            return self._error(body, "capture request")
        return self._unreadable(fetched, "capture request", "no job_id in it")

    def status(self, job_id: str) -> SpnAnswer:
        """How the capture job `job_id` goes: pending, archived (with its timestamp), or why not."""
        fetched = self.http.get(
            f"{self.settings.base}/save/status/{quote(job_id, safe='')}",
            headers={"Authorization": self.keys.header()},
            accept="application/json",
            budget_key=BUDGET_KEY,
            max_bytes=MAX_ANSWER_BYTES,
            follow_redirects=False,
        )
        early = self._trouble(fetched, "job status")
        if early is not None:
            return early
        body = self._json(fetched, "job status")
        if isinstance(body, SpnAnswer):
            return body
        status = body.get("status")
        if status == "pending":
            return SpnAnswer("pending", reason="Save Page Now is still archiving it", job_id=job_id)
        if status == "error":
            return self._error(body, "job")
        if status != "success":
            return self._unreadable(fetched, "job status", f"status {_shown(status)}")
        timestamp = body.get("timestamp")
        if not isinstance(timestamp, str) or not _TIMESTAMP.fullmatch(timestamp) or not _real(timestamp):
            return self._unreadable(fetched, "job status", "success without a 14-digit timestamp")
        given = body.get("original_url")
        if given is not None and not _http_url(given):
            return self._unreadable(
                fetched, "job status", "success with an original_url that is no http(s) URL"
            )
        original = given if isinstance(given, str) else None
        return SpnAnswer("archived", job_id=job_id, timestamp=timestamp, original_url=original)

    def _trouble(self, fetched: FetchResult, what: str) -> SpnAnswer | None:
        """`held` (our budget or a backoff), `later` (429, 5xx, timeouts, a refused key, a redirect), or
        None when the answer is worth reading."""
        error = fetched.error
        if error is not None:
            if error.kind in (FetchErrorKind.BUDGET, FetchErrorKind.BACKOFF):
                return SpnAnswer("held", reason=f"Save Page Now not asked: {self.keys.redact(error.message)}")
            return SpnAnswer("later", reason=f"Save Page Now {what}: {self.keys.redact(error.message)}")
        status = fetched.status or 0
        after = fetched.headers.get("retry-after", "").strip()
        retry_after = float(after) if after.isdigit() else None
        if status == 429 or status >= 500:
            told = f" (Retry-After {after[:20]})" if after else ""
            return SpnAnswer(
                "later", reason=f"Save Page Now {what}: HTTP {status}{told}", retry_after=retry_after
            )
        if status in (401, 403):
            return SpnAnswer(
                "later",
                reason=f"Save Page Now {what}: HTTP {status}: the keys were refused (check them; the post "
                "is kept for a later run)",
            )
        if 300 <= status < 400:
            return self._unreadable(fetched, what, "a redirect (not followed: the keys go to base only)")
        return None

    def _json(self, fetched: FetchResult, what: str) -> dict[str, object] | SpnAnswer:
        try:
            body = fetched.json()
        except (ValueError, RecursionError):  # RecursionError: a hostile nesting of brackets
            return self._unreadable(fetched, what, "not JSON")
        if not isinstance(body, dict):
            return self._unreadable(fetched, what, "not a JSON object")
        return body

    def _error(self, body: Mapping[str, object], what: str) -> SpnAnswer:
        ext = body.get("status_ext")
        if not isinstance(ext, str) or not _STATUS_EXT.fullmatch(ext):
            return SpnAnswer(
                "unreadable", reason=f"Save Page Now {what}: an error without a readable status_ext"
            )
        said = _SAYS.get(ext, "")
        message = self._message(body.get("message"))
        detail = "; ".join(part for part in (said, message) if part)
        reason = f"Save Page Now {what}: {ext}" + (f" ({detail})" if detail else "")
        kind: Kind = "later" if ext in LATER_STATUS_EXT else "failed"
        return SpnAnswer(kind, reason=reason, status_ext=ext)

    def _message(self, value: object) -> str:
        """A message of an answer on one short line, keys redacted; "" when it is no text."""
        if not isinstance(value, str):
            return ""
        text = " ".join(self.keys.redact(value).split())
        text = "".join(ch for ch in text if ch.isprintable())
        return text[:197] + "..." if len(text) > 200 else text

    def _unreadable(self, fetched: FetchResult, what: str, why: str) -> SpnAnswer:
        kind = fetched.content_type or "no type"
        return SpnAnswer(
            "unreadable",
            reason=f"Save Page Now {what}: HTTP {fetched.status} is not an answer of Save Page Now "
            f"({why}; {kind}); nothing of it was kept",
        )


def _real(timestamp: str) -> bool:
    try:
        datetime.strptime(timestamp, "%Y%m%d%H%M%S")
    except ValueError:
        return False
    return True


def _http_url(value: object) -> bool:
    if not isinstance(value, str) or len(value) > 2048 or any(ch.isspace() or ord(ch) < 32 for ch in value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def _shown(value: object) -> str:
    """A value of an answer named in a reason: a short word as it is, anything else by its type."""
    if isinstance(value, str) and re.fullmatch(r"[a-z_-]{1,20}", value):
        return repr(value)
    return "missing" if value is None else f"of type {type(value).__name__}"
