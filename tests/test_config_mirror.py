"""`[mirror]` settings (the Save Page Now mirror): off by default, keys only ever named, never given, and
each bad value one readable line naming its key."""

from __future__ import annotations

from pathlib import Path

import pytest

from archiver.config import load_settings
from archiver.errors import ConfigError


def load(tmp_path: Path, table: str) -> object:
    path = tmp_path / "archiver.toml"
    path.write_text(f"[mirror]\n{table}\n", encoding="utf-8")
    return load_settings(path, {})


def test_the_mirror_is_off_by_default_and_points_at_the_wayback_machine() -> None:
    mirror = load_settings(None, {}).mirror
    assert (mirror.enabled, mirror.base, mirror.rate, mirror.if_not_archived_within) == (
        False,
        "https://web.archive.org",
        "6/m",
        "",
    )
    assert (mirror.access_key_env, mirror.secret_key_env) == (
        "ARCHIVER_SPN_ACCESS_KEY",
        "ARCHIVER_SPN_SECRET_KEY",
    )


def test_the_environment_turns_it_on() -> None:
    settings = load_settings(
        None, {"ARCHIVER_MIRROR__ENABLED": "true", "ARCHIVER_MIRROR__BASE": "http://x.test/"}
    )
    assert settings.mirror.enabled and settings.mirror.base == "http://x.test"


@pytest.mark.parametrize(
    ("table", "says"),
    [
        ('access_key = "AKIA123"', "at mirror: access_key: Save Page Now keys come from the environment"),
        ('secret = "s3cr3t"', "at mirror: secret: Save Page Now keys come from the environment"),
        ('base = "ftp://web.archive.org"', "is not an http(s) base URL"),
        ('base = "https://user:pw@web.archive.org"', "credentials in the URL are refused"),
        ('access_key_env = "NOT A NAME"', "is not an environment variable name"),
        ('rate = "lots"', "is not a rate"),
        ('if_not_archived_within = "2w"', 'is not a duration such as "30d"'),
        ('if_not_archived_within = "soon"', 'is not a duration such as "30d"'),
    ],
)
def test_a_bad_value_is_one_line_naming_its_key(tmp_path: Path, table: str, says: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, table)
    message = str(raised.value)
    assert "\n" not in message and "at mirror" in message and says in message
    assert "AKIA123" not in message and "s3cr3t" not in message and "pw@" not in message
