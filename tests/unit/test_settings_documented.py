"""Every setting is documented in the README, so the docs cannot fall behind the code."""

from __future__ import annotations

from pathlib import Path

import pytest

from listdock.settings import Settings

README = Path(__file__).resolve().parents[2] / "README.md"


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_setting_in_readme(name: str) -> None:
    assert f"`LISTDOCK_{name.upper()}`" in README.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_setting_has_description(name: str) -> None:
    assert Settings.model_fields[name].description
