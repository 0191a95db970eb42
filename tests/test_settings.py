"""Settings come from ``CASEBOOK_*`` variables (read without pydantic-settings, as it read them): any letter case,
JSON for lists and mappings, each value checked by its field's rules, given values over the environment."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from casebook.core.settings import Settings


def test_settings_read_the_environment_as_typed_values(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("CASEBOOK_HOME", str(tmp_path))
    monkeypatch.setenv("CASEBOOK_AUDIT_SHARDS", "4")
    monkeypatch.setenv("casebook_Cookie_Secure", "true")
    monkeypatch.setenv("CASEBOOK_CHAT_GROUPS", '{"operations": "json://localhost"}')
    monkeypatch.setenv("CASEBOOK_TRUSTED_ORIGINS", '["https://cases.example"]')
    monkeypatch.setenv("CASEBOOK_NO_SUCH_SETTING", "ignored")
    settings = Settings()
    assert settings.home == tmp_path and settings.audit_shards == 4 and settings.cookie_secure is True
    assert settings.chat_groups == {"operations": "json://localhost"}
    assert settings.trusted_origins == ["https://cases.example"]
    assert settings.database_url == f"sqlite:///{tmp_path / 'casebook.db'}"
    assert Settings(audit_shards=9).audit_shards == 9   # a given value wins over the environment


@pytest.mark.parametrize(("name", "value"), [("CASEBOOK_AUDIT_SHARDS", "0"), ("CASEBOOK_SMTP_TLS", "sometimes"),
                                             ("CASEBOOK_CHAT_GROUPS", "operations=json://x"),
                                             ("CASEBOOK_WEB_WORKERS", "many")])
def test_a_setting_that_breaks_its_rule_is_refused_naming_it(monkeypatch, name, value) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as caught:
        Settings()
    assert [e["loc"] for e in caught.value.errors()] == [(name.removeprefix("CASEBOOK_").lower(),)]


def test_unset_settings_take_their_defaults(monkeypatch) -> None:
    for name in ("CASEBOOK_DB_URL", "CASEBOOK_SMTP_PORT", "CASEBOOK_CHAT_GROUPS"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.db_url is None and settings.smtp_port == 25 and settings.chat_groups == {}
