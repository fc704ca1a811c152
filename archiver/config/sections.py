"""The settings tables: database, media, http, scan, capture, verdicts, checks, daemon, web, rewrite,
providers."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from archiver import __version__
from archiver.config.values import (
    S3_CREDENTIAL_KEY,
    SECRET_KEY,
    MiB,
    Section,
    parse_duration,
    parse_rate,
    parse_schedule,
)


class DatabaseSettings(Section):
    url: str = Field("sqlite:///archive.db", description="SQLAlchemy URL of the archive database.")


class MediaSettings(Section):
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
            if S3_CREDENTIAL_KEY.search(str(key)):
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


class HttpSettings(Section):
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


class ScanSettings(Section):
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


class CaptureSettings(Section):
    workers: int = Field(8, ge=1, le=64, description="Captures running at once, over all providers.")
    per_provider: int = Field(2, ge=1, le=32, description="Captures running at once for one provider.")
    max_defer_wait: float = Field(
        5.0,
        ge=0,
        description="Seconds a run waits for a provider's rate budget before leaving its posts for later.",
    )
    max_run: float = Field(3600.0, gt=0, description="Seconds a capture run goes on; the rest stays due.")


class VerdictSettings(Section):
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


class CheckSettings(Section):
    young: str = Field("2h", description="Check interval in an embed's first day (posts vanish most then).")
    recent: str = Field("12h", description="Check interval from its second day to the end of its first week.")
    month: str = Field("1d", description="Check interval in the rest of its first month.")
    settled: str = Field("7d", description="Check interval from its second month to its third.")
    old: str = Field("30d", description="Check interval after its third month.")
    retry: str = Field("1h", description="First retry after a transient failure (doubles, at most a day).")
    broken: str = Field("7d", description="Check interval of a broken embed (it may come back).")
    review: str = Field("1d", description="Check interval of an embed that needs review.")
    jitter: float = Field(0.1, ge=0, le=0.5, description="Spread of each interval, as a share of it.")
    max_run: float = Field(3600.0, gt=0, description="Seconds a check run goes on; the rest stays due.")

    @model_validator(mode="after")
    def _durations(self) -> CheckSettings:
        for name in ("young", "recent", "month", "settled", "old", "retry", "broken", "review"):
            try:
                parse_duration(getattr(self, name))
            except ValueError as exc:
                raise ValueError(f"{name}: {exc}") from None
        return self


class DaemonSettings(Section):
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
    recover: str = Field(
        "every 6h", description="When to look residue and lost embeds up in web archives (archive recover)."
    )
    mirror: str = Field(
        "every 2m",
        description="When to ask Save Page Now for the posts queued by their first capture and poll its "
        "jobs (only with [mirror] enabled).",
    )
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
        for name in ("scan", "capture", "check", "rewrite", "gc", "recover", "mirror"):
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


class WebSettings(Section):
    """`[web]`: the editors' viewer and the public archive that `archive serve` runs."""

    host: str = Field("127.0.0.1", description="Address `archive serve` listens on.")
    port: int = Field(8080, ge=1, le=65535, description="Port `archive serve` listens on.")
    public: bool = Field(
        True, description="Serve the public archive pages (/embeds/...) that fallback cards link to."
    )
    robots: Literal["index", "noindex"] = Field(
        "index", description='"noindex" asks search engines not to index the public pages.'
    )
    secret_env: str = Field(
        "ARCHIVER_WEB_SECRET",
        description="Name of the environment variable holding the session-signing secret; when unset, "
        "secret_file is read.",
    )
    secret_file: Path = Field(
        Path("web-secret.key"),
        description="File holding the session-signing secret (random bytes, mode 0600); `archive init` "
        "writes it.",
    )
    base_url: str = Field("", description="Public URL of the viewer, e.g. https://archive.example.org.")
    session_hours: float = Field(12.0, gt=0, le=24 * 30, description="Hours a login lasts.")

    @model_validator(mode="after")
    def _web_values(self) -> WebSettings:
        parts = urlsplit(self.base_url)
        if self.base_url and (parts.scheme not in ("http", "https") or not parts.hostname):
            raise ValueError(f"base_url: {self.base_url!r} is not an http(s) URL")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", self.secret_env):
            raise ValueError(f"secret_env: {self.secret_env!r} is not an environment variable name")
        return self


class RewriteSettings(Section):
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
            if SECRET_KEY.search(key):
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
