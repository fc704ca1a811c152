"""`[mirror]`: pushing a copy of each newly captured post to the Wayback Machine's Save Page Now, so that
a second, independent archive holds it (off by default)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, model_validator

from archiver.config.values import Section, parse_duration, parse_rate

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEY_IN_FILE = re.compile(r"^(access|secret)(_key)?$|^keys?$|password|token", re.IGNORECASE)


class MirrorSettings(Section):
    """`[mirror]`: Save Page Now (SPN2) asked to archive each post on its first capture."""

    enabled: bool = Field(
        False,
        description="Ask Save Page Now to archive each post's URL on its first capture, and name the copy "
        "it made on fallback cards and the public pages.",
    )
    base: str = Field(
        "https://web.archive.org",
        description="Base URL of the Wayback Machine: captures are asked at {base}/save, their jobs at "
        "{base}/save/status/JOB_ID, and the copies are {base}/web/TIMESTAMP/URL.",
    )
    access_key_env: str = Field(
        "ARCHIVER_SPN_ACCESS_KEY",
        description="Name of the environment variable holding the archive.org S3 access key.",
    )
    secret_key_env: str = Field(
        "ARCHIVER_SPN_SECRET_KEY",
        description="Name of the environment variable holding the archive.org S3 secret key.",
    )
    rate: str = Field(
        "6/m", description='Request budget for Save Page Now (captures and job polls together), e.g. "6/m".'
    )
    if_not_archived_within: str = Field(
        "",
        description='Ask Save Page Now to skip a post it archived less than this long ago ("30d", "12h"); '
        '"" always asks for a fresh copy.',
    )

    @model_validator(mode="before")
    @classmethod
    def _no_keys_in_file(cls, data: Any) -> Any:
        for key in data if isinstance(data, dict) else ():
            if _KEY_IN_FILE.search(str(key)) and not str(key).endswith("_env"):
                raise ValueError(
                    f"{key}: Save Page Now keys come from the environment, never from this file; "
                    "name the variables with access_key_env and secret_key_env"
                )
        return data

    @model_validator(mode="after")
    def _valid(self) -> MirrorSettings:
        parts = urlsplit(self.base.strip())
        if "@" in parts.netloc:  # never echoed: it may hold a password
            raise ValueError("base: credentials in the URL are refused; the keys come from the environment")
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"base: {self.base!r} is not an http(s) base URL")
        object.__setattr__(self, "base", self.base.strip().rstrip("/"))
        for name in ("access_key_env", "secret_key_env"):
            if not _ENV_NAME.fullmatch(getattr(self, name)):
                raise ValueError(f"{name}: {getattr(self, name)!r} is not an environment variable name")
        parse_rate(self.rate)
        within = self.if_not_archived_within.strip()
        if within:
            # Save Page Now reads seconds, minutes, hours and days ("3d", "5h"); weeks it does not.
            if within[-1:] not in ("s", "m", "h", "d"):
                raise ValueError(f'if_not_archived_within: {within!r} is not a duration such as "30d"')
            parse_duration(within)
        object.__setattr__(self, "if_not_archived_within", within)
        return self
