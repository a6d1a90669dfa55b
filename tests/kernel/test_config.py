"""Every setting is documented in docs/configuration.md, with its environment variable and description."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from zerotrip.config import Settings

DOC = Path(__file__).parents[2] / "docs" / "configuration.md"


def env_vars(model: type[BaseModel], prefix: str = "ZEROTRIP_") -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found.extend(env_vars(annotation, f"{prefix}{name.upper()}__"))
        else:
            found.append((f"{prefix}{name.upper()}", field.description or ""))
    return found


def test_every_setting_has_a_description() -> None:
    missing = [name for name, description in env_vars(Settings) if not description]
    assert missing == []


def test_every_setting_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    undocumented = [name for name, _ in env_vars(Settings) if f"`{name}`" not in text]
    assert undocumented == [], f"add these to docs/configuration.md: {undocumented}"


def test_documentation_names_no_setting_that_does_not_exist() -> None:
    import re

    known = {name for name, _ in env_vars(Settings)}
    mentioned = set(re.findall(r"`(ZEROTRIP_[A-Z_]+)`", DOC.read_text(encoding="utf-8")))
    assert mentioned - known == set()


def test_environment_overrides_nested_settings(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("ZEROTRIP_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ZEROTRIP_IDENTITY__LOGIN_MAX_FAILURES", "3")
    settings = Settings()
    assert settings.data_dir == tmp_path
    assert settings.identity.login_max_failures == 3
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'zerotrip.db'}"
