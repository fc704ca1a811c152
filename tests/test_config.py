"""Settings: file < environment, one readable error naming the key, tokens only from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from archiver.clock import FixedClock, SystemClock, clock_from_env
from archiver.config import Settings, find_config, load_settings, parse_rate
from archiver.errors import ConfigError

KNOWN = frozenset({"instagram"})


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "archiver.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_without_a_file() -> None:
    settings = load_settings(None, {})
    assert settings.database.url == "sqlite:///archive.db"
    assert settings.http.allow_networks == ()
    assert settings.provider("instagram").enabled is True


def test_file_values_and_relative_paths_resolve_against_the_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[database]\nurl = "sqlite:///a.db"\n[media]\ndir = "m"\n'
        '[[sources]]\nname = "site"\npath = "articles"\n',
    )
    settings = load_settings(path, {})
    assert settings.database.url == f"sqlite:///{tmp_path.resolve()}/a.db"
    assert settings.media.dir == tmp_path.resolve() / "m"
    assert settings.sources[0].path == str(tmp_path.resolve() / "articles")


def test_environment_overrides_the_file_and_merges_nested_tables(tmp_path: Path) -> None:
    path = write(tmp_path, '[providers.instagram]\nrate = "10/s"\n[http]\nread_timeout = 3\n')
    env = {
        "ARCHIVER_HTTP__READ_TIMEOUT": "7.5",
        "ARCHIVER_PROVIDERS__INSTAGRAM__OEMBED_ENDPOINT": "http://127.0.0.1:9/oembed",
    }
    settings = load_settings(path, env, KNOWN)
    assert settings.http.read_timeout == 7.5
    instagram = settings.provider("instagram")
    assert instagram.rate == "10/s"
    assert instagram.url("oembed_endpoint", "default") == "http://127.0.0.1:9/oembed"


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("[http]\nconnect_timeout = -1\n", "http.connect_timeout"),
        ("[databse]\nurl = 'x'\n", "databse"),
        ("[http]\nallow_networks = ['not-a-network']\n", "http.allow_networks"),
        ("[providers.instagram]\nrate = 'lots'\n", "providers.instagram"),
        ("[providers.instagram]\nembed_page_base = 'ftp://x'\n", "providers.instagram"),
        ("[providers.nosuch]\nenabled = true\n", "providers.nosuch"),
        ("[[sources]]\nname = 'a'\npath = 'x'\n[[sources]]\nname = 'a'\npath = 'y'\n", "sources"),
        ("[scan]\nfallback_encoding = 'klingon'\n", "scan.fallback_encoding"),
    ],
)
def test_bad_values_give_one_line_naming_the_key(tmp_path: Path, text: str, key: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(write(tmp_path, text), {}, KNOWN)
    message = str(info.value)
    assert key in message
    assert "\n" not in message


def test_broken_toml_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(write(tmp_path, "[database\nurl=1"), {})


def test_tokens_are_refused_in_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, '[providers.instagram]\naccess_token = "123|abc"\n')
    with pytest.raises(ConfigError, match="tokens come from the environment"):
        load_settings(path, {}, KNOWN)


def test_bad_environment_value_names_the_key() -> None:
    with pytest.raises(ConfigError, match="http"):
        load_settings(None, {"ARCHIVER_HTTP__READ_TIMEOUT": "soon"})


def test_loading_does_not_leak_the_given_environment() -> None:
    import os

    load_settings(None, {"ARCHIVER_HTTP__READ_TIMEOUT": "4"})
    assert "ARCHIVER_HTTP__READ_TIMEOUT" not in os.environ
    assert Settings().http.read_timeout == 15.0


def test_find_config_prefers_explicit_then_working_directory(tmp_path: Path) -> None:
    assert find_config(None, tmp_path) is None
    local = write(tmp_path, "")
    assert find_config(None, tmp_path) == local
    with pytest.raises(ConfigError, match="does not exist"):
        find_config(tmp_path / "missing.toml", tmp_path)


def test_parse_rate() -> None:
    assert parse_rate("1000/h") == (1000, 3600.0)
    assert parse_rate("10 / s") == (10, 1.0)
    with pytest.raises(ValueError):
        parse_rate("0/h")


def test_archiver_now_pins_the_clock() -> None:
    clock = clock_from_env({"ARCHIVER_NOW": "2026-01-01T00:00:00Z"})
    assert isinstance(clock, FixedClock)
    assert clock.now().isoformat() == "2026-01-01T00:00:00+00:00"
    assert isinstance(clock_from_env({}), SystemClock)
    with pytest.raises(ConfigError, match="ARCHIVER_NOW"):
        clock_from_env({"ARCHIVER_NOW": "yesterday"})
