"""Typed settings, declared once: defaults < TOML file < `ARCHIVER_*` environment variables.

Settings are loaded by the edges (CLI, daemon, viewer) and passed in; nothing here is read at import time.
Tokens never live in the file: a provider names the environment variable that holds its token
(`access_token_env`), and the file loader refuses keys that look like secrets.

    values      how values are written (durations, schedules, rates) and the base of every table
    sections    the settings tables ([database], [media], [http], [scan], ..., [providers.NAME])
    sources     [[sources]]: files, sql, wordpress
    archives    [[archives]] and [recover]: recovery from web archives
    mirror      [mirror]: Save Page Now asked to archive each newly captured post
    settings    `Settings` (all of them) and `load_settings` / `find_config`

This package imports only pydantic, the standard library and `archiver.errors`.
"""

from __future__ import annotations

from archiver.config.archives import ArchiveSettings, RecoverSettings
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
from archiver.config.settings import Settings, find_config, load_settings
from archiver.config.sources import SourceSettings
from archiver.config.values import DEFAULT_CONFIG_NAME, parse_duration, parse_rate, parse_schedule

__all__ = [
    "DEFAULT_CONFIG_NAME",
    "ArchiveSettings",
    "CaptureSettings",
    "CheckSettings",
    "DaemonSettings",
    "DatabaseSettings",
    "HttpSettings",
    "MediaSettings",
    "MirrorSettings",
    "ProviderSettings",
    "RecoverSettings",
    "RewriteSettings",
    "ScanSettings",
    "Settings",
    "SourceSettings",
    "VerdictSettings",
    "WebSettings",
    "find_config",
    "load_settings",
    "parse_duration",
    "parse_rate",
    "parse_schedule",
]
