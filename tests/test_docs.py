"""The docs tell the truth: every command, setting and provider is in the README, every setting is in
config.example.toml with a comment, and the example file loads."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import click
from pydantic import BaseModel

from archiver.cli import cli
from archiver.config import ProviderSettings, Settings, load_settings
from archiver.providers import PROVIDERS, names

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
EXAMPLE = ROOT / "config.example.toml"


def command_paths(group: click.Group, prefix: str = "archive") -> list[str]:
    paths = []
    for name, command in sorted(group.commands.items()):
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            paths.extend(command_paths(command, path))
        else:
            paths.append(path)
    return paths


def setting_keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        listed = name in ("sources", "archives")  # arrays of tables: [[sources]], [[archives]]
        inner = getattr(annotation, "__args__", (annotation,))[0] if listed else annotation
        if isinstance(inner, type) and issubclass(inner, BaseModel) and inner is not ProviderSettings:
            keys.extend(setting_keys(inner, f"{prefix}{name}{'[]' if listed else ''}."))
        elif name == "providers":
            keys.extend(f"providers.NAME.{key}" for key in ProviderSettings.model_fields)
        else:
            keys.append(f"{prefix}{name}")
    return keys


def test_every_command_is_in_the_readme() -> None:
    paths = command_paths(cli)
    assert "archive scan" in paths
    missing = [p for p in paths if f"`{p}" not in README]
    assert not missing, f"commands missing from README: {missing}"


def test_every_command_has_help() -> None:
    for name, command in cli.commands.items():
        assert command.help, f"archive {name} has no help text"


def test_every_setting_is_in_the_readme() -> None:
    keys = setting_keys(Settings)
    assert "http.allow_networks" in keys and "providers.NAME.rate" in keys
    missing = [k for k in keys if f"`{k}`" not in README]
    assert not missing, f"settings missing from README: {missing}"


def test_every_setting_is_in_the_example_config_with_a_comment() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    lines = text.splitlines()
    for key in setting_keys(Settings):
        leaf = key.rsplit(".", 1)[-1]
        index = next((i for i, line in enumerate(lines) if re.match(rf"\s*{leaf}\s*=", line)), None)
        assert index is not None, f"{key} is not in config.example.toml"
        assert lines[index - 1].lstrip().startswith("#"), f"{key} has no comment above it"


def test_example_config_loads_and_covers_each_provider_endpoint(tmp_path: Path) -> None:
    settings = load_settings(EXAMPLE, {}, known_providers=names())
    data = tomllib.loads(EXAMPLE.read_text(encoding="utf-8"))
    for provider in PROVIDERS:
        table = data["providers"][provider.name]
        for key, default in provider.endpoints.items():
            assert table.get(key) == default, f"config.example.toml: providers.{provider.name}.{key}"
            assert f"`{key}`" in README
        assert settings.provider(provider.name).enabled


def test_every_provider_is_in_the_readme() -> None:
    for provider in PROVIDERS:
        assert f"| `{provider.name}` |" in README, provider.name


def test_changelog_exists() -> None:
    assert "## [Unreleased]" in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")


def test_the_code_layout_lists_every_package_and_no_other() -> None:
    section = README.split("## How the code is laid out", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `(archiver/[\w/]*)` \|", section, re.MULTILINE))
    packages = {
        str(init.parent.relative_to(ROOT)) + "/"
        for init in (ROOT / "archiver").rglob("__init__.py")
        if "_migrations" not in init.parts
    }
    assert listed == packages, f"not in the README: {packages - listed}; no longer there: {listed - packages}"
