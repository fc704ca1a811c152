"""All settings together, and how they are loaded: defaults < TOML file < `ARCHIVER_*` environment
variables."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from archiver.config.archives import WAYBACK, ArchiveSettings, RecoverSettings
from archiver.config.mirror import MirrorSettings
from archiver.config.sections import (
    CaptureSettings,
    CheckSettings,
    DaemonSettings,
    DatabaseSettings,
    HttpSettings,
    MediaSettings,
    ProviderSettings,
    RewriteSettings,
    ScanSettings,
    VerdictSettings,
    WebSettings,
)
from archiver.config.sources import SourceSettings
from archiver.config.values import DEFAULT_CONFIG_NAME
from archiver.errors import ConfigError


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
    web: WebSettings = WebSettings()
    providers: dict[str, ProviderSettings] = Field(default_factory=dict)
    archives: tuple[ArchiveSettings, ...] = (WAYBACK,)
    recover: RecoverSettings = RecoverSettings()
    mirror: MirrorSettings = MirrorSettings()

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

    @field_validator("archives")
    @classmethod
    def _unique_archives(cls, value: tuple[ArchiveSettings, ...]) -> tuple[ArchiveSettings, ...]:
        names = [a.name for a in value]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"archive names must be unique: {', '.join(dupes)}")
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
        secret_file = self.web.secret_file
        if not secret_file.is_absolute():
            secret_file = base / secret_file
        return self.model_copy(
            update={
                "media": self.media.model_copy(update={"dir": media_dir}),
                "database": self.database.model_copy(update={"url": url}),
                "sources": sources,
                "rewrite": self.rewrite.model_copy(update={"template_dir": templates}),
                "web": self.web.model_copy(update={"secret_file": secret_file}),
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
