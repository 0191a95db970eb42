"""The message catalog: every message in every locale, one definition per key, Babel formats per locale."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import yaml

from casebook.core import i18n
from casebook.core.locales import LOCALES


def test_catalog_loads_with_every_locale_for_every_key() -> None:
    messages = i18n.catalog()
    assert messages, "the catalog is empty"
    for key, texts in messages.items():
        assert set(texts) == set(LOCALES), key


def test_libyaml_and_the_pure_parser_read_every_catalog_file_alike() -> None:
    """The catalog is read with libyaml's parser where PyYAML has it (start-up time); it must mean the same."""
    loader = getattr(yaml, "CSafeLoader", None)
    if loader is None:
        pytest.skip("this PyYAML has no libyaml: the catalog is read with the pure parser")
    files = sorted(i18n.MESSAGES_DIR.glob("*.yaml"))
    assert files
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert yaml.load(text, Loader=loader) == yaml.safe_load(text), path.name  # noqa: S506 - a safe loader


def test_a_key_in_two_files_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text(yaml.safe_dump({"same": {loc: "x" for loc in LOCALES}}), encoding="utf-8")
    monkeypatch.setattr(i18n, "MESSAGES_DIR", tmp_path)
    i18n.catalog.cache_clear()
    try:
        with pytest.raises(i18n.CatalogError, match="same"):
            i18n.catalog()
    finally:
        monkeypatch.undo()
        i18n.catalog.cache_clear()


def test_a_missing_locale_or_a_different_placeholder_is_refused(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(i18n, "MESSAGES_DIR", tmp_path)
    try:
        (tmp_path / "a.yaml").write_text(yaml.safe_dump({"k": {"en": "x", "zh-Hant": "y"}}), encoding="utf-8")
        i18n.catalog.cache_clear()
        with pytest.raises(i18n.CatalogError, match="exactly"):
            i18n.catalog()
        (tmp_path / "a.yaml").write_text(yaml.safe_dump(
            {"k": {"en": "{n} cases", "zh-Hant": "{n} 個", "zh-Hans": "{m} 个"}}), encoding="utf-8")
        i18n.catalog.cache_clear()
        with pytest.raises(i18n.CatalogError, match="placeholders"):
            i18n.catalog()
    finally:
        monkeypatch.undo()
        i18n.catalog.cache_clear()


@pytest.mark.parametrize(("header", "expected"), [
    ("zh-TW,zh;q=0.9,en;q=0.8", "zh-Hant"), ("zh-CN", "zh-Hans"), ("en-GB,en;q=0.9", "en"),
    ("fr-FR,en;q=0.5", "en"), ("fr-FR", "zh-Hant"), (None, "zh-Hant"), ("en;q=0.2,zh-Hans;q=0.9", "zh-Hans"),
])
def test_accept_language_picks_one_of_our_locales(header: str | None, expected: str) -> None:
    assert i18n.negotiate(header) == expected


def test_money_and_dates_per_locale() -> None:
    assert i18n.format_money(320000, "CNY", "zh-Hans") == "¥320,000"
    assert i18n.format_money(320000, "CNY", "zh-Hant", style="wan") == "32萬元"
    assert i18n.format_money(320000, "CNY", "zh-Hans", style="wan") == "32万元"
    assert i18n.format_money(1_250_000_000, "CNY", "zh-Hans", style="wan") == "12.5亿元"
    assert i18n.format_date(date(2026, 12, 3), "zh-Hans") == "2026年12月3日"
    assert i18n.format_date(date(2026, 12, 3), "en") == "December 3, 2026"
    assert i18n.format_number(1234567.5, "en") == "1,234,567.5"
