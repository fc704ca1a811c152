"""The public archive, the pages a reader reaches from a fallback card (no login):

    /embeds/PROVIDER/POST_ID/vN        one archived version of a post (a Memento), naming the copy the
                                       Wayback Machine's Save Page Now made, when there is one (`[mirror]`)
    /embeds/PROVIDER/POST_ID           302 to the newest version
    /timemap/link/ORIGINAL_URL         every version, application/link-format (Memento TimeMap)
    /timegate/ORIGINAL_URL             Accept-Datetime in, 302 to the nearest version (Memento TimeGate)
    /media/ab/cd/SHA256                a stored file (`archiver.web.media`)

POST_ID may hold "/" (Mastodon, Bluesky): cards percent-encode it (`%2F`), the server decodes it, and
the path converter takes it whole. A POST_ID that is now an alias of another (a Bluesky post by handle,
kept under its DID) answers 301 to the same version under the id it is kept under. `[web] public = false`
answers 404 on all of these (media still load for signed-in editors); `[web] robots = "noindex"` adds
`X-Robots-Tag: noindex` and a robots meta.
Absolute links (Memento headers, TimeMaps) start at `[web] base_url`, else at the address asked.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import flask
from werkzeug.exceptions import BadRequest, NotFound

from archiver.providers import PROVIDERS
from archiver.storage.models import Embed
from archiver.storage.queries import mirrors as mirror_queries
from archiver.storage.queries import public as public_queries
from archiver.web import media, memento
from archiver.web.common import current_archive, db_session

bp = flask.Blueprint("public", __name__)
GONE_STATES = frozenset({"broken"})
# Pages may change when a post breaks or a new version arrives; a short cache keeps them fresh.
PAGE_CACHE_SECONDS = 300
_TITLES = {provider.name: provider.title for provider in PROVIDERS}


def version_path(provider: str, post_id: str, version: int) -> str:
    """The path of one version, written exactly as fallback cards write their archived-copy link."""
    return f"/embeds/{quote(provider, safe='')}/{quote(post_id, safe='')}/v{version}"


def absolute(path: str) -> str:
    base = current_archive().settings.web.base_url.rstrip("/") or flask.request.host_url.rstrip("/")
    return base + path


def timemap_uri(original: str) -> str:
    return absolute("/timemap/link/") + original


def timegate_uri(original: str) -> str:
    return absolute("/timegate/") + original


def provider_title(name: str) -> str:
    return _TITLES.get(name, name.replace("_", " ").title())


@bp.before_request
def public_pages_on() -> None:
    """`[web] public = false` hides the archive; media stay visible to signed-in users (the viewer)."""
    if current_archive().settings.web.public:
        return
    if flask.request.endpoint == "public.media" and flask.g.get("user") is not None:
        return
    raise NotFound()


@bp.after_request
def robots(response: flask.Response) -> flask.Response:
    if current_archive().settings.web.robots == "noindex":
        response.headers["X-Robots-Tag"] = "noindex"
    return response


@dataclass(frozen=True, slots=True)
class _Moved:
    """The post asked for is kept under another id now (an alias): which, and the version shift."""

    provider: str
    post_id: str
    offset: int


def _embed(provider: str, post_id: str) -> tuple[Embed, list[public_queries.VersionLine]] | _Moved:
    with db_session() as session:
        embed = public_queries.embed_by_post(session, provider, post_id)
        if embed is None:
            alias = public_queries.alias_by_post(session, provider, post_id)
            if alias is not None:
                return _Moved(alias[0].provider, alias[0].post_id, alias[1])
            raise NotFound("We keep no archived copy of that post.")
        versions = public_queries.versions(session, embed.id)
        session.expunge(embed)
    if not versions:
        raise NotFound("We keep no archived copy of that post yet.")
    return embed, versions


def _versions(embed: Embed, lines: list[public_queries.VersionLine]) -> list[memento.Version]:
    return [
        memento.Version(
            line.version,
            line.captured_at,
            absolute(version_path(embed.provider, embed.post_id, line.version)),
        )
        for line in lines
    ]


def _moved(to: str) -> Any:
    response = flask.redirect(to, code=301)
    response.cache_control.public = True
    response.cache_control.max_age = PAGE_CACHE_SECONDS
    return response


@bp.route("/embeds/<provider>/<path:post_id>/v<int:version>")
def version(provider: str, post_id: str, version: int) -> Any:
    found = _embed(provider, post_id)
    if isinstance(found, _Moved):
        return _moved(version_path(found.provider, found.post_id, version + found.offset))
    embed, lines = found
    with db_session() as session:
        snapshot = public_queries.snapshot_version(session, embed.id, version)
        if snapshot is None:
            raise NotFound(f"This post has no version {version} in the archive.")
        page = flask.render_template(
            "public/version.html",
            embed=embed,
            snapshot=snapshot,
            versions=lines,
            provider_title=provider_title(embed.provider),
            gone=embed.state in GONE_STATES,
            version_path=version_path,
            noindex=current_archive().settings.web.robots == "noindex",
            # The copy Save Page Now made on the post's first capture (`[mirror]`), when there is one.
            mirror=mirror_queries.mirror_of(session, embed.id),
        )
        captured_at = snapshot.captured_at
    response = flask.make_response(page)
    original = embed.canonical_url
    response.headers["Memento-Datetime"] = memento.http_date(captured_at)
    response.headers["Link"] = memento.memento_links(original, timegate_uri(original), timemap_uri(original))
    response.cache_control.public = True
    response.cache_control.max_age = PAGE_CACHE_SECONDS
    return response


@bp.route("/embeds/<provider>/<path:post_id>")
def newest(provider: str, post_id: str) -> Any:
    found = _embed(provider, post_id)
    if isinstance(found, _Moved):
        return _moved(f"/embeds/{quote(found.provider, safe='')}/{quote(found.post_id, safe='')}")
    embed, lines = found
    response = flask.redirect(version_path(embed.provider, embed.post_id, lines[-1].version), code=302)
    response.cache_control.no_cache = True
    return response


def _original_url(given: str) -> str:
    """The URI-R a TimeMap or TimeGate URL names: its path after the prefix, its query put back, and a
    scheme's second slash restored (proxies merge `https://` into `https:/`)."""
    for scheme in ("https:/", "http:/"):
        if given.startswith(scheme) and not given.startswith(scheme + "/"):
            given = scheme + "/" + given[len(scheme) :]
    query = flask.request.query_string.decode("utf-8", errors="replace")
    return f"{given}?{query}" if query else given


def _embed_for_original(given: str) -> tuple[Embed, list[memento.Version]]:
    original = _original_url(given)
    with db_session() as session:
        embed = public_queries.embed_by_original(session, original)
        if embed is None:
            raise NotFound("We keep no archived copy of that URL.")
        lines = public_queries.versions(session, embed.id)
        session.expunge(embed)
    if not lines:
        raise NotFound("We keep no archived copy of that URL yet.")
    return embed, _versions(embed, lines)


@bp.route("/timemap/link/<path:original>")
def timemap(original: str) -> Any:
    embed, versions = _embed_for_original(original)
    uri_r = embed.canonical_url
    body = memento.timemap(uri_r, timegate_uri(uri_r), timemap_uri(uri_r), versions)
    response = flask.Response(body, mimetype=memento.LINK_FORMAT)
    response.cache_control.public = True
    response.cache_control.max_age = PAGE_CACHE_SECONDS
    return response


@bp.route("/timegate/<path:original>")
def timegate(original: str) -> Any:
    asked = flask.request.headers.get("Accept-Datetime")
    wanted = memento.parse_accept_datetime(asked) if asked is not None else None
    if asked is not None and wanted is None:
        raise BadRequest(
            "Accept-Datetime must be an RFC 1123 date in GMT, such as Sun, 01 Mar 2026 12:00:00 GMT."
        )
    embed, versions = _embed_for_original(original)
    chosen = versions[-1] if wanted is None else memento.nearest(versions, wanted)
    uri_r = embed.canonical_url
    response = flask.redirect(chosen.uri, code=302)
    response.headers["Link"] = memento.timegate_links(uri_r, timemap_uri(uri_r), chosen)
    response.vary.add("Accept-Datetime")
    return response


@bp.route("/media/<first>/<second>/<sha256>", endpoint="media")
def media_file(first: str, second: str, sha256: str) -> Any:
    return media.media_response(current_archive().blobs, first, second, sha256)
