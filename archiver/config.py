"""Typed settings, declared once: defaults < TOML file < `ARCHIVER_*` environment variables.

Settings are loaded by the edges (CLI, daemon) and passed in; nothing here is read at import time.
Tokens never live in the file: a provider names the environment variable that holds its token
(`access_token_env`), and the file loader refuses keys that look like secrets.
"""

from __future__ import annotations

import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from archiver import __version__
from archiver.errors import ConfigError

DEFAULT_CONFIG_NAME = "archiver.toml"
MiB = 1024 * 1024
_SECRET_KEY = re.compile(r"(^|_)(token|secret|password|api_key)$")
_S3_CREDENTIAL_KEY = re.compile(r"access_key|secret|session_token|password", re.IGNORECASE)
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(s|sec|m|min|h|hour|d|day)\s*$")
_RATE_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_DURATION_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """`"48h"` -> 48 hours; units s, m, h, d, w."""
    match = _DURATION.match(text)
    if not match or float(match.group(1)) <= 0:
        raise ValueError(f'{text!r} is not a duration such as "30m", "48h" or "7d"')
    return timedelta(seconds=float(match.group(1)) * _DURATION_SECONDS[match.group(2)])


_EVERY = re.compile(r"^\s*every\s+(\d+(?:\.\d+)?\s*[smhdw])\s*$")
_CRON = re.compile(r"^\s*cron\s+(\S+(?:\s+\S+){4})\s*$")


def parse_schedule(text: str) -> timedelta | str:
    """`"every 15m"` -> 15 minutes; `"cron */15 * * * *"` -> the crontab fields (checked, UTC)."""
    every = _EVERY.match(text)
    if every:
        return parse_duration(every.group(1))
    cron = _CRON.match(text)
    if cron:
        from apscheduler.triggers.cron import CronTrigger

        try:
            CronTrigger.from_crontab(cron.group(1), timezone="UTC")
        except ValueError as exc:
            raise ValueError(f"{text!r}: {exc}") from None
        return " ".join(cron.group(1).split())
    raise ValueError(f'{text!r} is not a schedule such as "every 15m" or "cron */15 * * * *"')


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseSettings(_Section):
    url: str = Field("sqlite:///archive.db", description="SQLAlchemy URL of the archive database.")


class MediaSettings(_Section):
    dir: Path = Field(Path("media"), description="Folder of the content-addressed media store.")
    max_bytes: int = Field(20 * MiB, gt=0, description="Largest media file downloaded, in bytes.")
    download: bool = Field(True, description="Download images and thumbnails into the media store.")
    backend: Literal["local", "s3"] = Field(
        "local", description="Where media files are kept: local (`dir`) or s3 (an S3-compatible bucket)."
    )
    # TOML has no null: an empty string in the file means "not set" for the optional S3 keys.
    s3_bucket: str | None = Field(None, description="Bucket of the s3 backend; required when backend = s3.")
    s3_prefix: str = Field("", description="Key prefix (folder) of the media objects in the bucket.")
    s3_endpoint_url: str | None = Field(
        None, description="Endpoint of an S3-compatible service (MinIO, ...); none means AWS S3."
    )
    s3_region: str | None = Field(None, description="Region of the bucket; none means the AWS default chain.")

    @model_validator(mode="before")
    @classmethod
    def _no_credentials(cls, data: Any) -> Any:
        # Keys are refused anyway (extra="forbid"); this says where credentials belong instead.
        for key in data if isinstance(data, dict) else ():
            if _S3_CREDENTIAL_KEY.search(str(key)):
                raise ValueError(
                    f"{key}: S3 credentials come from the standard AWS chain (AWS_ACCESS_KEY_ID and "
                    "AWS_SECRET_ACCESS_KEY, AWS_PROFILE, an instance role), never from this file"
                )
        return data

    @field_validator("s3_bucket", "s3_endpoint_url", "s3_region", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("s3_bucket")
    @classmethod
    def _bucket_name(cls, value: str | None) -> str | None:
        if value is not None and re.search(r"[/\s]", value):
            raise ValueError(f"{value!r} is not a bucket name (give the name only, e.g. my-media)")
        return value

    @field_validator("s3_endpoint_url")
    @classmethod
    def _endpoint(cls, value: str | None) -> str | None:
        if value is None:
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http(s) URL")
        if "@" in parts.netloc:
            raise ValueError("credentials in the endpoint URL are refused; use the AWS environment")
        return value

    @model_validator(mode="after")
    def _s3_needs_a_bucket(self) -> MediaSettings:
        if self.backend == "s3" and not self.s3_bucket:
            raise ValueError('media.s3_bucket is required when backend = "s3"')
        return self


class HttpSettings(_Section):
    user_agent: str = Field(
        f"embed-archiver/{__version__} (+https://github.com/embed-archiver)",
        description="User-Agent header sent with every request.",
    )
    connect_timeout: float = Field(5.0, gt=0, description="Seconds to wait for a TCP/TLS connection.")
    read_timeout: float = Field(15.0, gt=0, description="Seconds to wait between bytes of a response.")
    deadline: float = Field(
        30.0, gt=0, description="Seconds one request may take in total, redirects included."
    )
    max_redirects: int = Field(5, ge=0, le=20, description="Redirect hops followed (each one re-vetted).")
    max_json_bytes: int = Field(1 * MiB, gt=0, description="Largest oEmbed/API response read, in bytes.")
    max_page_bytes: int = Field(5 * MiB, gt=0, description="Largest HTML page response read, in bytes.")
    allowed_ports: tuple[int, ...] = Field((80, 443), description="Ports public hosts may be reached on.")
    allow_networks: tuple[str, ...] = Field(
        (), description="CIDRs the client may reach although private or loopback (any port)."
    )

    @field_validator("allow_networks")
    @classmethod
    def _cidrs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for cidr in value:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError as exc:
                raise ValueError(f"{cidr!r} is not a CIDR network") from exc
        return value


class ScanSettings(_Section):
    max_article_bytes: int = Field(32 * MiB, gt=0, description="Articles larger than this are skipped.")
    fallback_encoding: str = Field(
        "cp1252", description="Encoding used when neither a BOM, <meta charset> nor UTF-8 fits."
    )

    @field_validator("fallback_encoding")
    @classmethod
    def _known_codec(cls, value: str) -> str:
        import codecs

        try:
            codecs.lookup(value)
        except LookupError as exc:
            raise ValueError(f"unknown encoding {value!r}") from exc
        return value


class CaptureSettings(_Section):
    workers: int = Field(8, ge=1, le=64, description="Captures running at once, over all providers.")
    per_provider: int = Field(2, ge=1, le=32, description="Captures running at once for one provider.")
    max_defer_wait: float = Field(
        5.0,
        ge=0,
        description="Seconds a run waits for a provider's rate budget before leaving its posts for later.",
    )


class VerdictSettings(_Section):
    gone_checks: int = Field(3, ge=2, le=20, description="Gone outcomes needed before an embed is broken.")
    gone_span: str = Field("48h", description="Time the gone outcomes must span at least, e.g. 48h or 3d.")
    breaker_min_checks: int = Field(
        10, ge=2, description="Checks of one provider in the window before the mass-failure breaker may trip."
    )
    breaker_share: float = Field(
        0.8,
        gt=0,
        le=1,
        description="Share of gone or ambiguous outcomes in the window that pauses the provider.",
    )
    breaker_window: str = Field("24h", description="How far back the mass-failure breaker looks.")

    @field_validator("gone_span", "breaker_window")
    @classmethod
    def _span(cls, value: str) -> str:
        parse_duration(value)
        return value


class CheckSettings(_Section):
    young: str = Field("2h", description="Check interval in an embed's first day (posts vanish most then).")
    recent: str = Field("12h", description="Check interval from its second day to the end of its first week.")
    month: str = Field("1d", description="Check interval in the rest of its first month.")
    settled: str = Field("7d", description="Check interval from its second month to its third.")
    old: str = Field("30d", description="Check interval after its third month.")
    retry: str = Field("1h", description="First retry after a transient failure (doubles, at most a day).")
    broken: str = Field("7d", description="Check interval of a broken embed (it may come back).")
    review: str = Field("1d", description="Check interval of an embed that needs review.")
    jitter: float = Field(0.1, ge=0, le=0.5, description="Spread of each interval, as a share of it.")

    @model_validator(mode="after")
    def _durations(self) -> CheckSettings:
        for name in ("young", "recent", "month", "settled", "old", "retry", "broken", "review"):
            try:
                parse_duration(getattr(self, name))
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
        return self


class DaemonSettings(_Section):
    """`[daemon]`: when `archive daemon` runs each job, how it shares work, where it answers probes."""

    scan: str = Field(
        "every 15m", description='When to scan the sources: "every 15m" or "cron */15 * * * *".'
    )
    capture: str = Field(
        "every 1m", description="When to capture new embeds (also right after a scan finds some)."
    )
    check: str = Field("every 5m", description="When to check the embeds that are due.")
    rewrite: str = Field(
        "every 15m",
        description="When to rewrite articles per their source's mode and undo rewrites of embeds that "
        "came back (also right after a check turns an embed broken or back).",
    )
    gc: str = Field("every 1d", description="When to delete media files and records no snapshot uses.")
    gc_grace: str = Field("1d", description="Media unused for less than this is kept (captures in flight).")
    lease: str = Field(
        "10m",
        description="How long a daemon holds the embeds it works on; a dead daemon's are freed after it.",
    )
    batch: int = Field(100, ge=1, le=10_000, description="Embeds a daemon claims at once.")
    http_port: int = Field(
        9464, ge=0, le=65535, description="Port of /healthz and /metrics; 0 turns them off."
    )
    http_host: str = Field("127.0.0.1", description="Address /healthz and /metrics listen on.")

    @model_validator(mode="after")
    def _schedules(self) -> DaemonSettings:
        for name in ("scan", "capture", "check", "rewrite", "gc"):
            try:
                parse_schedule(getattr(self, name))
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
        for name in ("gc_grace", "lease"):
            try:
                parse_duration(getattr(self, name))
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
        return self


class SourceSettings(_Section):
    name: str = Field(description="Name of the source, unique; shown in reports.")
    kind: Literal["files", "sql", "wordpress"] = Field(
        "files",
        description="Where articles come from: files, a table of a SQL database (sql), or a WordPress "
        "site through its REST API (wordpress).",
    )
    path: str = Field(
        "", description="files: a folder (all *.html below it) or a glob such as articles/**/*.html."
    )
    url: str = Field(
        "",
        description="sql: SQLAlchemy URL of the database holding the articles, without a password "
        "(put a URL with one in the variable named by url_env). wordpress: the site's root URL, as "
        "WordPress knows it (its Site Address), e.g. https://news.example.org.",
    )
    url_env: str = Field(
        "", description="sql: environment variable holding the database URL (wins over url)."
    )
    table: str = Field("", description='sql: the articles table, e.g. "wp_posts" or "cms.articles".')
    key_column: str = Field("", description="sql: the column that names an article (its primary key).")
    body_column: str = Field("", description="sql: the column holding the article's HTML.")
    version_column: str = Field(
        "",
        description="sql: a column the CMS changes on every save (an integer revision, bumped by one "
        "on a rewrite, or a timestamp, set to now); empty: writes compare the whole body instead.",
    )
    where: str = Field(
        "",
        description="sql: a SQL condition choosing the rows that are articles, e.g. "
        "\"post_status = 'publish'\" (trusted text from your config, pasted into the query).",
    )
    user: str = Field("", description="wordpress: the WordPress user name the archiver works as.")
    password_env: str = Field(
        "",
        description="wordpress: environment variable holding that user's application password "
        "(Users > Profile > Application Passwords); never in this file.",
    )
    post_types: tuple[str, ...] = Field(
        ("post", "page"), description="wordpress: the post types scanned (their REST routes are asked for)."
    )
    statuses: tuple[str, ...] = Field(
        ("publish",), description='wordpress: the post statuses scanned, e.g. ["publish", "future"].'
    )
    rate: str = Field(
        "5/s", description='wordpress: the site\'s request budget ("5/s", "3000/h"), one for all processes.'
    )
    concurrency: int = Field(
        2, ge=1, le=16, description="wordpress: requests a run (a scan, a rewrite) has in flight at once."
    )
    mode: Literal["monitor", "approve", "apply"] = Field(
        "approve",
        description="What a rewrite (`archive rewrite`, the daemon) does with broken embeds: monitor "
        "(report only), approve (an editor approves each rewrite), apply (rewrite at once).",
    )
    restore_on_return: bool = Field(
        True, description="Undo a rewrite by itself when its embed comes back alive."
    )

    @model_validator(mode="after")
    def _kind_keys(self) -> SourceSettings:
        if self.kind == "files":
            if not self.path.strip():
                raise ValueError(f"source {self.name!r}: path is required for a files source")
            return self
        if self.kind == "wordpress":
            return self._wordpress_keys()
        missing = [k for k in ("table", "key_column", "body_column") if not getattr(self, k).strip()]
        if not self.url.strip() and not self.url_env.strip():
            missing.insert(0, "url (or url_env)")
        if missing:
            raise ValueError(f"source {self.name!r}: a sql source needs {', '.join(missing)}")
        if urlsplit(self.url.strip()).password:
            raise ValueError(
                f"source {self.name!r}: url holds a password; put the URL in an environment variable "
                "and name it in url_env"
            )
        return self

    def _wordpress_keys(self) -> SourceSettings:
        missing = [k for k in ("url", "user", "password_env") if not getattr(self, k).strip()]
        if missing:
            raise ValueError(f"source {self.name!r}: a wordpress source needs {', '.join(missing)}")
        parts = urlsplit(self.url.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"source {self.name!r}: url {self.url!r} is not an http(s) URL")
        if parts.username or parts.password:
            raise ValueError(
                f"source {self.name!r}: url holds credentials; give the user in user and the "
                "application password in the variable named by password_env"
            )
        if parts.query or parts.fragment:
            raise ValueError(f"source {self.name!r}: url is the site root, without ?query or #fragment")
        try:
            parse_rate(self.rate)
        except ValueError as exc:
            raise ValueError(f"source {self.name!r}: rate: {exc}") from None
        if not self.post_types or not self.statuses:
            raise ValueError(f"source {self.name!r}: post_types and statuses must not be empty")
        return self


class RewriteSettings(_Section):
    template_dir: Path | None = Field(
        None,
        description="Folder of templates overriding the fallback card's (fallback_block.html, "
        "fallback_inline.html), by file name.",
    )
    archive_base_url: str = Field(
        "",
        description="Public base URL of the archive viewer; cards link the archived copy at "
        "BASE/embeds/PROVIDER/POST_ID/vN. Empty: site-relative links.",
    )
    media_base_url: str = Field(
        "",
        description="Public base URL of the media store; card images are BASE/ab/cd/SHA256. "
        "Empty: ARCHIVE_BASE_URL/media.",
    )
    residue_by_handle_alone: Literal["approve", "apply"] = Field(
        "approve",
        description="A residue line matched by its handle alone (no date or caption to confirm it): "
        "'approve' waits for an editor even where the source's mode is apply, since the one archived "
        "post of that handle may be another post by the same person; 'apply' follows the mode.",
    )

    @field_validator("template_dir", mode="before")
    @classmethod
    def _no_template_dir(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("archive_base_url", "media_base_url")
    @classmethod
    def _base_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value or (value.startswith("/") and not value.startswith("//")):
            return value
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{value!r} is not an http(s) URL or a path starting with /")
        return value


class ProviderSettings(BaseModel):
    """One `[providers.NAME]` table. Besides the common keys, `<what>_base` and `<what>_endpoint`
    keys override a provider's public base URLs; which ones exist is declared by the provider."""

    model_config = ConfigDict(extra="allow", frozen=True)

    enabled: bool = Field(True, description="Scan for and capture this provider's embeds.")
    rate: str | None = Field(None, description='Request budget per host, e.g. "1000/h" (provider default).')
    access_token_env: str | None = Field(
        None, description="Name of the environment variable holding this provider's token."
    )
    canaries: tuple[str, ...] | None = Field(
        None,
        description="Known-good post URLs checked first; when they fail, verdicts pause (provider default).",
    )

    @field_validator("rate")
    @classmethod
    def _rate(cls, value: str | None) -> str | None:
        if value is not None:
            parse_rate(value)
        return value

    @model_validator(mode="after")
    def _extras_are_urls(self) -> ProviderSettings:
        for key, value in (self.model_extra or {}).items():
            if _SECRET_KEY.search(key):
                raise ValueError(f"{key}: tokens come from the environment; set access_token_env instead")
            if not (key.endswith("_base") or key.endswith("_endpoint")):
                raise ValueError(f"{key}: unknown key")
            if not isinstance(value, str) or not re.match(r"^https?://[^\s/]+", value):
                raise ValueError(f"{key}: must be an http(s) URL")
        return self

    def url(self, key: str, default: str) -> str:
        """An endpoint or base URL: the configured one, else the provider's default."""
        value = (self.model_extra or {}).get(key)
        return str(value).rstrip("/") if key.endswith("_base") and value else str(value or default)

    def extras(self) -> dict[str, str]:
        return {k: str(v) for k, v in (self.model_extra or {}).items()}


class Settings(BaseSettings):
    """Every setting of the archiver. See config.example.toml for the file form."""

    model_config = SettingsConfigDict(
        env_prefix="ARCHIVER_", env_nested_delimiter="__", extra="forbid", frozen=True
    )

    database: DatabaseSettings = DatabaseSettings()
    media: MediaSettings = MediaSettings()
    http: HttpSettings = HttpSettings()
    scan: ScanSettings = ScanSettings()
    capture: CaptureSettings = CaptureSettings()
    checks: CheckSettings = CheckSettings()
    verdicts: VerdictSettings = VerdictSettings()
    sources: tuple[SourceSettings, ...] = ()
    rewrite: RewriteSettings = RewriteSettings()
    daemon: DaemonSettings = DaemonSettings()
    providers: dict[str, ProviderSettings] = Field(default_factory=dict)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The TOML file arrives as init kwargs; the environment must win over it.
        return (env_settings, init_settings)

    @field_validator("sources")
    @classmethod
    def _unique_sources(cls, value: tuple[SourceSettings, ...]) -> tuple[SourceSettings, ...]:
        names = [s.name for s in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"source names must be unique: {', '.join(dupes)}")
        return value

    def provider(self, name: str) -> ProviderSettings:
        return self.providers.get(name) or ProviderSettings()

    def with_base_dir(self, base: Path) -> Settings:
        """Relative paths in a config file are relative to the file's folder."""
        media_dir = self.media.dir if self.media.dir.is_absolute() else base / self.media.dir
        url = sqlite_url_with_base_dir(self.database.url, base)
        sources = tuple(_source_with_base_dir(s, base) for s in self.sources)
        templates = self.rewrite.template_dir
        if templates is not None and not templates.is_absolute():
            templates = base / templates
        return self.model_copy(
            update={
                "media": self.media.model_copy(update={"dir": media_dir}),
                "database": self.database.model_copy(update={"url": url}),
                "sources": sources,
                "rewrite": self.rewrite.model_copy(update={"template_dir": templates}),
            }
        )


def _source_with_base_dir(source: SourceSettings, base: Path) -> SourceSettings:
    if source.kind == "files":
        path = source.path if os.path.isabs(source.path) else str(base / source.path)
        return source.model_copy(update={"path": path})
    if source.kind == "wordpress":
        return source
    return source.model_copy(update={"url": sqlite_url_with_base_dir(source.url, base)})


def sqlite_url_with_base_dir(url: str, base: Path) -> str:
    """A relative SQLite file URL made relative to `base`; any other URL as it is."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/") and ":memory:" not in url:
        return prefix + str(base / url[len(prefix) :])
    return url


def parse_rate(text: str) -> tuple[int, float]:
    """`"1000/h"` -> (1000, 3600.0): a count and the window in seconds."""
    match = _RATE.match(text)
    if not match or int(match.group(1)) <= 0:
        raise ValueError(f'{text!r} is not a rate such as "1000/h" or "10/s"')
    return int(match.group(1)), float(_RATE_SECONDS[match.group(2)])


def find_config(explicit: Path | None, cwd: Path) -> Path | None:
    """`--config PATH`, else `archiver.toml` in the working directory, else None (defaults)."""
    if explicit is not None:
        if not explicit.is_file():
            raise ConfigError(f"config file {explicit} does not exist")
        return explicit
    candidate = cwd / DEFAULT_CONFIG_NAME
    return candidate if candidate.is_file() else None


def load_settings(
    path: Path | None, env: Mapping[str, str] | None = None, known_providers: frozenset[str] | None = None
) -> Settings:
    """Read the TOML file (if any) and the environment into `Settings`, or raise one `ConfigError`."""
    data: dict[str, Any] = {}
    if path is not None:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read config file {path}: {exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    saved = None
    if env is not None:
        # pydantic-settings reads os.environ; give it exactly the mapping we were handed.
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(env)
    try:
        settings = Settings(**data)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path)) from None
    except ValueError as exc:  # pydantic-settings raises this for undecodable env values
        raise ConfigError(f"config error: {exc}") from None
    finally:
        if saved is not None:
            os.environ.clear()
            os.environ.update(saved)
    if known_providers is not None:
        unknown = sorted(set(settings.providers) - known_providers)
        if unknown:
            raise ConfigError(f"config error at providers.{unknown[0]}: no such provider")
    return settings.with_base_dir(path.parent.resolve()) if path is not None else settings


def _describe(exc: ValidationError, path: Path | None) -> str:
    err = exc.errors()[0]
    key = ".".join(str(p) for p in err["loc"]) or "(top level)"
    message = err["msg"].removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        message = "unknown key"
    where = f" in {path}" if path is not None else ""
    more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
    return f"config error{where} at {key}: {message}{more}"
