"""The parsed policy cache (``policies.parsed_cache``): a load reuses the file's parsed YAML while the text is
unchanged, and a changed file is parsed and validated anew, so an invalid change is refused even with a cache."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest

from casebook.core.errors import InvalidInput
from policies import DEFAULT_POLICY_PATH
from policies.loader import load_policy, parse_policy
from policies.parsed_cache import ParsedPolicyCache


def _policy_file(tmp_path: Path, text: str | None = None) -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(text if text is not None else DEFAULT_POLICY_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    return path


def test_a_cached_load_gives_the_policy_a_parse_gives(tmp_path: Path) -> None:
    path, cache_dir = _policy_file(tmp_path), tmp_path / "cache"
    parsed = parse_policy(path.read_text(encoding="utf-8"), str(path))
    first = load_policy(path, cache_dir=cache_dir)
    entry = ParsedPolicyCache(cache_dir, path)
    assert entry.file.exists()
    assert entry.get(path.read_text(encoding="utf-8"))[0], "the entry answers for the unchanged text"
    second = load_policy(path, cache_dir=cache_dir)
    assert first.doc == second.doc == parsed.doc
    assert first.version_tag == second.version_tag == parsed.version_tag


def test_an_invalid_change_is_refused_although_a_cache_exists(tmp_path: Path) -> None:
    path, cache_dir = _policy_file(tmp_path), tmp_path / "cache"
    load_policy(path, cache_dir=cache_dir)
    text = path.read_text(encoding="utf-8")
    assert "clearance: internal" in text
    path.write_text(text.replace("clearance: internal", "clearance: top-secret", 1), encoding="utf-8")
    with pytest.raises(InvalidInput) as refused:
        load_policy(path, cache_dir=cache_dir)
    assert any(p.rule == "unknown clearance 'top-secret'" for p in refused.value.problems), refused.value.problems
    path.write_text(text + "\nnot yaml: [unclosed\n", encoding="utf-8")
    with pytest.raises(InvalidInput) as broken:
        load_policy(path, cache_dir=cache_dir)
    assert broken.value.problems[0].field.startswith("line ")


def test_a_valid_change_is_seen_at_once(tmp_path: Path) -> None:
    path, cache_dir = _policy_file(tmp_path), tmp_path / "cache"
    before = load_policy(path, cache_dir=cache_dir)
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("days_after_project_end: 15", "days_after_project_end: 14"), encoding="utf-8")
    after = load_policy(path, cache_dir=cache_dir)
    assert after.doc.deadlines.submission.days_after_project_end == 14
    assert after.version_tag != before.version_tag
    path.write_text(text, encoding="utf-8")   # and back: the old text's policy again, never a stale one
    assert load_policy(path, cache_dir=cache_dir).doc == before.doc


def _planted(tmp_path: Path, cache: type[ParsedPolicyCache]) -> tuple[Path, Path, Any, ParsedPolicyCache, Path, Any]:
    """A policy file, its cache directory, the policy parsed without a cache, an entry of ``cache`` for the file,
    a marker path and an object whose unpickling would touch the marker (code an entry must never run)."""
    path, cache_dir = _policy_file(tmp_path), tmp_path / "cache"
    expected = parse_policy(path.read_text(encoding="utf-8"), str(path))
    marker = tmp_path / "ran"

    class Planted:
        def __reduce__(self) -> tuple[object, tuple[Path]]:
            return (Path.touch, (marker,))

    cache_dir.mkdir()
    return path, cache_dir, expected, cache(cache_dir, path), marker, Planted()


def test_a_planted_entry_runs_no_code_and_a_broken_one_is_ignored(tmp_path: Path) -> None:
    path, cache_dir, expected, entry, marker, planted = _planted(tmp_path, ParsedPolicyCache)
    entry.file.write_bytes(pickle.dumps((entry.key(path.read_text(encoding="utf-8")), planted)))
    assert load_policy(path, cache_dir=cache_dir).doc == expected.doc
    assert not marker.exists()
    entry.file.write_bytes(b"\x80\x05not a pickle")
    for validated in cache_dir.glob("policy-validated-*"):   # so that the load reads the parsed entry
        validated.unlink()
    assert load_policy(path, cache_dir=cache_dir).doc == expected.doc
    assert entry.get(path.read_text(encoding="utf-8"))[0], "a broken entry is replaced by a good one"


def test_an_unwritable_cache_directory_only_costs_a_parse(tmp_path: Path) -> None:
    path = _policy_file(tmp_path)
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x", encoding="utf-8")
    policy = load_policy(path, cache_dir=blocker / "cache")
    assert policy.doc == parse_policy(path.read_text(encoding="utf-8")).doc


def test_the_validated_document_is_kept_and_answers_only_for_the_same_text_and_schema(tmp_path: Path,
                                                                                    monkeypatch) -> None:
    """The validated policy is reused while the file and the schema's code are unchanged; either change misses."""
    from policies import parsed_cache
    from policies.parsed_cache import ValidatedPolicyCache

    path, cache_dir = _policy_file(tmp_path), tmp_path / "cache"
    text = path.read_text(encoding="utf-8")
    parsed = parse_policy(text, str(path))
    load_policy(path, cache_dir=cache_dir)
    entry = ValidatedPolicyCache(cache_dir, path)
    hit, doc = entry.get(text)
    assert hit and doc == parsed.doc
    cached = load_policy(path, cache_dir=cache_dir)
    assert cached.doc == parsed.doc and cached.version_tag == parsed.version_tag
    monkeypatch.setattr(parsed_cache, "_schema_identity", lambda: "another schema")
    assert not entry.get(text)[0], "a changed schema misses"
    monkeypatch.undo()
    assert entry.get(text)[0] and not entry.get(text + "\n# edited\n")[0]


def test_a_validated_entry_is_refused_by_what_the_schema_refuses(tmp_path: Path) -> None:
    """An entry that answers for a text holds what the schema accepted: one planted for an invalid text (a
    document that never passed validation) is never made by the loader, and an invalid edit is refused."""
    from policies.parsed_cache import ValidatedPolicyCache

    path, cache_dir = _policy_file(tmp_path), tmp_path / "cache"
    load_policy(path, cache_dir=cache_dir)
    text = path.read_text(encoding="utf-8")
    bad = text.replace("clearance: internal", "clearance: top-secret", 1)
    path.write_text(bad, encoding="utf-8")
    with pytest.raises(InvalidInput):
        load_policy(path, cache_dir=cache_dir)
    assert not ValidatedPolicyCache(cache_dir, path).get(bad)[0]


def test_a_planted_validated_entry_runs_no_code(tmp_path: Path) -> None:
    from policies.parsed_cache import ValidatedPolicyCache

    path, cache_dir, expected, entry, marker, code = _planted(tmp_path, ValidatedPolicyCache)
    for planted in (code, {"not": "a policy"}):
        entry.file.write_bytes(pickle.dumps((entry.key(path.read_text(encoding="utf-8")), planted)))
        assert load_policy(path, cache_dir=cache_dir).doc == expected.doc
        assert not marker.exists()
