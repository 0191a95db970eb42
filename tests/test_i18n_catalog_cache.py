"""The merged catalog is kept under the store's home for the exact bytes of the message files: a command does
not parse 100 kB of YAML again, a changed file is read anew, and a cache that is not plain strings is ignored."""

from __future__ import annotations

import marshal
from pathlib import Path

import pytest

from casebook.core import i18n


@pytest.fixture()
def messages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    folder = tmp_path / "messages"
    folder.mkdir()
    (folder / "a.yaml").write_text('hello: {zh-Hant: 你好, zh-Hans: 你好, en: "hello"}\n', encoding="utf-8")
    monkeypatch.setattr(i18n, "MESSAGES_DIR", folder)
    monkeypatch.setenv("CASEBOOK_HOME", str(tmp_path / "home"))
    i18n.catalog.cache_clear()
    yield folder
    i18n.catalog.cache_clear()


def _texts(folder: Path) -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in sorted(folder.glob("*.yaml"))]


def test_the_catalog_is_kept_and_a_changed_file_is_read_again(messages: Path) -> None:
    assert i18n.catalog()["hello"]["en"] == "hello"
    kept = i18n._cache_file(_texts(messages))
    assert marshal.loads(kept.read_bytes())["hello"]["zh-Hant"] == "你好"
    (messages / "a.yaml").write_text('hello: {zh-Hant: 您好, zh-Hans: 您好, en: "hi"}\n', encoding="utf-8")
    i18n.catalog.cache_clear()
    assert i18n.catalog()["hello"]["en"] == "hi"            # another file's bytes: another entry


def test_a_cache_that_is_not_plain_strings_is_ignored(messages: Path) -> None:
    kept = i18n._cache_file(_texts(messages))
    kept.parent.mkdir(parents=True)
    kept.write_bytes(marshal.dumps({"hello": {"en": 1}}))
    assert i18n.catalog()["hello"]["en"] == "hello"
    kept.write_bytes(b"not marshal at all")
    i18n.catalog.cache_clear()
    assert i18n.catalog()["hello"]["zh-Hans"] == "你好"
