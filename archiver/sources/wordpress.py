"""The `wordpress` source: posts and pages of a WordPress site, read and written through its REST API.

    [[sources]]
    name = "news"
    kind = "wordpress"
    url = "https://news.example.org"        # the site root (its Site Address)
    user = "archiver"
    password_env = "NEWS_WP_APP_PASSWORD"   # an application password, from the environment only
    post_types = ["post", "page"]
    statuses = ["publish"]
    rate = "5/s"
    concurrency = 2

Requests go to `URL/?rest_route=/wp/v2/...` (it works with and without pretty permalinks) with HTTP
Basic auth (the user and the application password), through the guarded `HttpClient` the caller
hands in. `rate` is set on that client's budgets under the key `wordpress:NAME`: the app's client
keeps them in the database, so every daemon and command spends the one budget. Redirects are
never followed: the REST API does not redirect, so one means a wrong `url` (http for https, another
host) or something in front of the site, and is said in one line.

Reading asks for `context=edit` and `content.raw`, the text as stored (block comments and shortcodes
byte for byte), never the rendered HTML; `per_page=100`, pages up to `X-WP-TotalPages`, ordered by id
so pages stay put while a scan reads them. An article is the UTF-8 bytes of `content.raw`, named
`wordpress:NAME#ID`, with the post's `link` as its URL.

Incremental scans list only the posts modified after the source's cursor (`modified_after`). The
cursor is the site's own time (its `Date` header) when a listing began, less a minute for posts saved
in that second, and it moves only after every listed post was scanned and the totals did not change
while listing (a post deleted in between shifts the pages). `archive scan NAME --full` lists all.

`concurrency` bounds the requests one store has in flight, whatever threads make them: a scan's
listing fetches that many pages ahead; a rewrite reads and writes one post at a time. Each run (a
command, the daemon's scan job, its rewrite job) opens its own store; together they are held to `rate`.

Writing (a rewrite or a restore): the post is read again and its `content.raw` hashed. A hash other
than the planned one means an editor saved it since: `WriteConflict`, nothing written, and the next run
plans from the new content. Otherwise `content` (raw) is POSTed, so WordPress stores a revision as for
any save (editors can revert there too), and the answer's `content.raw` must be the bytes sent; when a
filter on the site changed them, the original is put back and the write fails. The REST API has no
conditional write: the window for an editor's save to be lost is the one round trip between the read
and the POST.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, quote_plus, urlencode, urlsplit

from archiver.config import ScanSettings, SourceSettings, parse_rate
from archiver.errors import ArticleError, ArticleGone, ConfigError, SourceError, WriteConflict
from archiver.http import REDIRECT_STATUSES, FetchErrorKind, FetchResult, HttpClient
from archiver.records import Article

PER_PAGE = 100
_FIELDS = "id,type,link,content.raw"
_JSON = "application/json"
# A post saved in the same second as the listing began is listed again next time, never missed.
_CURSOR_OVERLAP = timedelta(minutes=1)
# How long one request may wait for the source's own rate budget before the run gives up.
_MAX_BUDGET_WAIT = 60.0
# Shorter passwords are not looked for in what a site wrote: replacing them could mangle any text.
_MIN_SECRET = 8
_PERMISSIONS = "edit_posts, edit_others_posts and edit_published_posts (the Editor role has them)"
_TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True, slots=True)
class Post:
    """One post as the REST API gave it (context=edit): its id, type, public link and raw content."""

    id: int
    type: str
    link: str | None
    raw: str


@dataclass(frozen=True, slots=True)
class Route:
    """Where a post type lives in the REST API: `wp/v2` and `posts`, say."""

    namespace: str
    base: str

    @property
    def path(self) -> str:
        return f"/{self.namespace}/{self.base}"


class WordPressStore:
    """A WordPress site's posts: listed, read and written back by key (an `ArticleStore`)."""

    def __init__(
        self, source: SourceSettings, scan: ScanSettings, http: HttpClient, env: Mapping[str, str]
    ) -> None:
        self.source = source
        self.scan = scan
        self.http = http
        self.root = source.url.strip().rstrip("/")
        self.budget_key = f"wordpress:{source.name}"
        http.budgets.set_limit(self.budget_key, *parse_rate(source.rate))
        self._env = env
        # At most `concurrency` requests of this store in flight, whichever threads make them.
        self._slots = threading.BoundedSemaphore(source.concurrency)
        self._routes: dict[str, Route] | None = None
        self._type_of: dict[int, str] = {}

    # --- names

    def key_of(self, post_id: int) -> str:
        return f"wordpress:{self.source.name}#{post_id}"

    def label(self, key: str) -> str:
        return key

    def post_id(self, key: str) -> int:
        prefix = f"wordpress:{self.source.name}#"
        number = key.removeprefix(prefix)
        if not key.startswith(prefix) or not number.isdigit():
            raise ArticleError(f"{key}: not a post of the wordpress source {self.source.name!r}")
        return int(number)

    # --- listing

    def listing(
        self, since: datetime | None = None, on_complete: Callable[[datetime], None] | None = None
    ) -> PostListing:
        """The posts of the configured types and statuses (modified after `since`, when given), the
        first page of each type read now: `SourceError` when the site cannot be listed."""
        return PostListing(self, since, on_complete)

    def page(self, post_type: str, number: int, since: datetime | None) -> tuple[list[Post], FetchResult]:
        """One page of a post type's listing, and the response (for its totals and Date)."""
        params: dict[str, str | int] = {
            "context": "edit",
            "per_page": PER_PAGE,
            "page": number,
            "status": ",".join(self.source.statuses),
            "orderby": "id",
            "order": "asc",
            "_fields": _FIELDS,
        }
        if since is not None:
            params["modified_after"] = since.astimezone(UTC).isoformat(timespec="seconds")
        route = self.route(post_type)
        what = f"listing {post_type} (page {number})"
        result = self._get(route.path, params)
        body = self._json(result, what)
        if not isinstance(body, list):
            raise SourceError(f"{self._site}: {what}: the answer is not a list of posts")
        posts = [self._post(item, post_type, what) for item in body]
        for post in posts:
            self._type_of[post.id] = post.type
        return posts, result

    def route(self, post_type: str) -> Route:
        """The REST route of a post type, asked of the site once."""
        if self._routes is None:
            body = self._json(self._get("/wp/v2/types", {}), "listing post types")
            if not isinstance(body, dict):
                raise SourceError(f"{self._site}: listing post types: the answer is not an object")
            self._routes = {
                slug: Route(str(info.get("rest_namespace") or "wp/v2"), str(info["rest_base"]))
                for slug, info in body.items()
                if isinstance(info, dict) and info.get("rest_base")
            }
        route = self._routes.get(post_type)
        if route is None:
            known = ", ".join(sorted(self._routes)) or "none"
            raise ConfigError(
                f"source {self.source.name!r}: post type {post_type!r} is not in the REST API of "
                f"{self.root} (it has: {known})"
            )
        return route

    # --- reading and writing one post

    def read(self, key: str) -> Article:
        try:
            return self.article(self._fetch(key))
        except (SourceError, ConfigError) as exc:
            raise ArticleError(str(exc)) from None

    def article(self, post: Post) -> Article:
        """The article of a post: the UTF-8 bytes of its raw content."""
        key = self.key_of(post.id)
        try:
            data = post.raw.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise ArticleError(f"{key}: content.raw is not valid text ({exc.reason})") from None
        if len(data) > self.scan.max_article_bytes:
            raise ArticleError(
                f"{key}: skipped, {len(data) / 1e6:.1f} MB is larger than "
                f"scan.max_article_bytes ({self.scan.max_article_bytes / 1e6:.1f} MB)"
            )
        sha256 = hashlib.sha256(data).hexdigest()
        return Article(key, self.source.name, data, post.raw, "utf-8", sha256, post.link)

    def write(self, key: str, data: bytes, expected_sha256: str) -> None:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise SourceError(f"{key}: the new content is not UTF-8; nothing written") from None
        try:
            current = self._fetch(key)
        except ArticleGone:
            raise WriteConflict(f"{key}: no longer exists; nothing written") from None
        before = current.raw.encode("utf-8", "surrogatepass")
        if hashlib.sha256(before).hexdigest() != expected_sha256:
            raise WriteConflict(f"{key}: changed in WordPress since it was read; nothing written")
        saved = self._save(current, text)
        if saved != text:
            try:
                undone = self._save(current, current.raw) == current.raw
                put_back = "the original was put back" if undone else "putting the original back failed too"
            except SourceError as exc:
                put_back = f"putting the original back failed too ({exc})"
            raise SourceError(
                f"{key}: WordPress changed the content while saving it (a content filter or plugin); "
                f"{put_back}"
            )

    def _fetch(self, key: str) -> Post:
        """The post `key` now; `ArticleGone` when no configured type has it, `SourceError` for the rest."""
        post_id = self.post_id(key)
        known = self._type_of.get(post_id)
        types = [known] if known else list(self.source.post_types)
        for post_type in types:
            route = self.route(post_type)
            result = self._get(f"{route.path}/{post_id}", {"context": "edit", "_fields": _FIELDS})
            if result.status == 404 and self._code(result) == "rest_post_invalid_id":
                continue
            post = self._post(self._json(result, f"{key}: reading it"), post_type, key)
            self._type_of[post_id] = post.type
            return post
        raise ArticleGone(f"{key}: no such {' or '.join(types)} (deleted in WordPress?)")

    def _save(self, post: Post, text: str) -> str:
        """POST `text` as the post's raw content; the raw content WordPress saved."""
        key = self.key_of(post.id)
        route = self.route(post.type)
        body = json.dumps({"content": text}).encode("utf-8")
        url = self._url(f"{route.path}/{post.id}", {"context": "edit", "_fields": _FIELDS})
        result = self._send(lambda: self.http.post(url, body, content_type=_JSON, **self._request_args()))
        saved = self._post(self._json(result, f"{key}: writing it"), post.type, key)
        return saved.raw

    # --- HTTP

    @property
    def _site(self) -> str:
        return f"wordpress:{self.source.name} ({self.root})"

    def _url(self, route: str, params: Mapping[str, str | int]) -> str:
        query = urlencode({"rest_route": route, **params}, safe="/,")
        return f"{self.root}/?{query}"

    def _request_args(self) -> dict[str, Any]:
        return {
            "headers": {"Authorization": self._authorization()},
            "budget_key": self.budget_key,
            "accept": _JSON,
            # A listing page holds up to PER_PAGE posts; each one is bounded by max_article_bytes.
            "max_bytes": 4 * self.scan.max_article_bytes,
        }

    def _get(self, route: str, params: Mapping[str, str | int]) -> FetchResult:
        url = self._url(route, params)
        return self._send(lambda: self.http.get(url, follow_redirects=False, **self._request_args()))

    def _send(self, request: Callable[[], FetchResult]) -> FetchResult:
        """One request, in one of the store's `concurrency` slots, waiting (a while, outside the slot)
        for the source's rate budget rather than failing at once."""
        waited = 0.0
        while True:
            with self._slots:
                result = request()
            if result.error is None or result.error.kind is not FetchErrorKind.BUDGET:
                return result
            wait = max(self.http.budgets.retry_after(self.budget_key) or 0.0, 0.05)
            if waited + wait > _MAX_BUDGET_WAIT or not self.http.clock.runs:  # pinned: it never frees
                return result
            time.sleep(wait)
            waited += wait

    def _authorization(self) -> str:
        variable = self.source.password_env
        password = self._env.get(variable, "").strip()
        if not password:
            raise ConfigError(f"source {self.source.name!r}: environment variable {variable} is not set")
        token = base64.b64encode(f"{self.source.user}:{password}".encode()).decode("ascii")
        return f"Basic {token}"

    def _hidden(self, text: str) -> str:
        """`text` the site wrote with our credential in it replaced by "REDACTED": an error page, a proxy
        or a redirect may echo the request, Authorization header and all. Done before any cut, so no
        part of a credential is left either."""
        password = self._env.get(self.source.password_env, "").strip()
        if len(password) < _MIN_SECRET:
            return text
        token = base64.b64encode(f"{self.source.user}:{password}".encode()).decode("ascii")
        for secret in (token, password, password.replace(" ", "")):
            for form in (secret, quote(secret, safe=""), quote_plus(secret)):
                text = text.replace(form, "REDACTED")
        return text

    def _code(self, result: FetchResult) -> str | None:
        try:
            body = result.json()
        except ValueError:
            return None
        return str(body.get("code")) if isinstance(body, dict) and body.get("code") else None

    def _json(self, result: FetchResult, what: str) -> Any:
        """The JSON of a successful answer; `SourceError` (`ArticleGone` for a deleted post) in one line."""
        where = f"{self._site}: {what}" if not what.startswith("wordpress:") else what
        if result.error is not None:
            raise SourceError(f"{where}: {self._hidden(result.error.message)}")
        status = result.status or 0
        if status in REDIRECT_STATUSES:
            raise SourceError(f"{where}: {self._redirect(result)}")
        try:
            body = result.json() if result.content_type.endswith("json") else None
        except ValueError:
            body = None
        if isinstance(body, dict) and "code" in body and status >= 400:
            problem = self._api_error(status, str(body.get("code")), str(body.get("message") or ""))
            error = (
                ArticleGone if status == 404 and body.get("code") == "rest_post_invalid_id" else SourceError
            )
            raise error(f"{where}: {problem}")
        if body is None or status >= 300:
            raise SourceError(f"{where}: {self._not_json(result, status)}")
        return body

    def _api_error(self, status: int, code: str, message: str) -> str:
        code = self._hidden(code)
        text = " ".join(_TAG.sub(" ", self._hidden(message)).split())[
            :200
        ]  # WordPress messages may hold HTML
        said = f"HTTP {status} {code}" + (f" ({text})" if text else "")
        if status >= 500:
            return f"{said}: the site failed with a server error"
        if code == "rest_disabled":
            return f"the REST API is switched off on this site: {said}"
        if status == 401:
            return (
                f"{said}: the application password of user {self.source.user!r} was refused (wrong or "
                f"revoked; it is read from {self.source.password_env})"
            )
        if status == 403:
            return f"{said}: user {self.source.user!r} lacks the permissions needed: {_PERMISSIONS}"
        if code == "rest_no_route":
            return (
                f"{said}: the site has no such REST route (a plugin may hide it, or url is not the site root)"
            )
        if status == 404:
            return f"{said}: not found"
        return said

    def _redirect(self, result: FetchResult) -> str:
        location = self._hidden(result.headers.get("location", ""))
        there = urlsplit(location)
        here = urlsplit(self.root)
        if there.netloc and (there.hostname or "").lower() != (here.hostname or "").lower():
            whom = f"another host ({there.hostname})"
        else:
            whom = location or "somewhere"
        return (
            f"HTTP {result.status}: the site redirects to {whom}, not followed; url must be the "
            "site's own address as WordPress knows it"
        )

    def _not_json(self, result: FetchResult, status: int) -> str:
        found = _TITLE.search(result.body[:65536])
        title = (
            " ".join(self._hidden(found.group(1).decode("utf-8", "replace")).split())[:120] if found else ""
        )
        page = f" (page title: {title!r})" if title else ""
        kind = result.content_type or "no content type"
        if status == 503 and b"maintenance" in result.body[:65536].lower():
            return f"HTTP 503: the site is in maintenance mode{page}; try again later"
        if status >= 500:
            return f"HTTP {status}: the site failed with a server error ({kind}){page}"
        if kind == "text/html" or result.body.lstrip()[:1] == b"<":
            return (
                f"HTTP {status}: an HTML page instead of the REST API's JSON{page}: a security plugin's "
                "challenge, a firewall or a login page is in front of the API"
            )
        return f"HTTP {status}: not the REST API's JSON ({kind})"

    def _post(self, item: Any, post_type: str, what: str) -> Post:
        try:
            content = item["content"]
            raw = content["raw"]
            post_id = int(item["id"])
        except (KeyError, TypeError, ValueError):
            raise SourceError(
                f"{self._site}: {what}: a post without content.raw; the user may lack {_PERMISSIONS}"
            ) from None
        if not isinstance(raw, str):
            raise SourceError(f"{self._site}: {what}: content.raw is not text")
        link = item.get("link")
        return Post(post_id, str(item.get("type") or post_type), link if isinstance(link, str) else None, raw)


@dataclass(frozen=True, slots=True)
class PostItem:
    """One listed post, its content already read (an `ArticleItem` of the scan)."""

    store: WordPressStore
    post: Post

    @property
    def key(self) -> str:
        return self.store.key_of(self.post.id)

    @property
    def label(self) -> str:
        return self.key

    def read(self, source: str, settings: ScanSettings, digest: bool) -> Article:
        return self.store.article(self.post)


class PostListing:
    """The posts of a listing, fetched page by page as they are scanned (`concurrency` pages at once);
    its length is known from the first pages. `on_complete` gets the next cursor once every post was
    handed out and the listing held still."""

    def __init__(
        self,
        store: WordPressStore,
        since: datetime | None,
        on_complete: Callable[[datetime], None] | None,
    ) -> None:
        self.store = store
        self.since = since
        self.on_complete = on_complete
        self.first: dict[str, tuple[list[Post], int, int]] = {}
        began: datetime | None = None
        for post_type in store.source.post_types:
            posts, result = store.page(post_type, 1, since)
            self.first[post_type] = (posts, _header_int(result, "x-wp-total"), _pages(result))
            began = began or _server_time(result)
        self.began = began

    def __len__(self) -> int:
        return sum(total for _, total, _ in self.first.values())

    def __iter__(self) -> Iterator[PostItem]:
        store = self.store
        steady = True
        with ThreadPoolExecutor(max_workers=store.source.concurrency) as pool:
            for post_type, (posts, total, pages) in self.first.items():
                yield from (PostItem(store, post) for post in posts)
                ahead: dict[int, Future[tuple[list[Post], FetchResult]]] = {}
                for number in range(2, pages + 1):
                    for later in range(number, min(pages, number + store.source.concurrency - 1) + 1):
                        if later not in ahead:
                            ahead[later] = pool.submit(store.page, post_type, later, self.since)
                    page_posts, result = ahead.pop(number).result()
                    steady = steady and _header_int(result, "x-wp-total") == total
                    yield from (PostItem(store, post) for post in page_posts)
        if self.on_complete is not None and steady and self.began is not None:
            self.on_complete(self.began - _CURSOR_OVERLAP)


def _header_int(result: FetchResult, name: str) -> int:
    value = result.headers.get(name, "").strip()
    return int(value) if value.isdigit() else 0


def _pages(result: FetchResult) -> int:
    return _header_int(result, "x-wp-totalpages")


def _server_time(result: FetchResult) -> datetime | None:
    """The site's clock, from the response's Date header."""
    try:
        when = parsedate_to_datetime(result.headers.get("date", ""))
    except (TypeError, ValueError, IndexError):
        return None
    return when.astimezone(UTC) if when.tzinfo is not None else when.replace(tzinfo=UTC)
