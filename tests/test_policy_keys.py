"""Policy is data that code reads: every key of the policy schema is read somewhere outside the schema."""

from __future__ import annotations

import re
import typing
from pathlib import Path

from pydantic import BaseModel

from policies.schema import PolicyDocument

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("casebook", "lifecycle", "review", "redaction", "notifications", "access", "library", "flows",
            "policies")


def _models(annotation: typing.Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in typing.get_args(annotation) for m in _models(arg)]


def schema_keys(model: type[BaseModel], seen: set[type] | None = None) -> set[tuple[str, str]]:
    """(model, field) for every field of the schema, walking nested models."""
    seen = set() if seen is None else seen
    if model in seen:
        return set()
    seen.add(model)
    out = set()
    for name, info in model.model_fields.items():
        out.add((model.__name__, name))
        for inner in _models(info.annotation):
            out |= schema_keys(inner, seen)
    return out


def test_every_policy_key_is_read_by_code() -> None:
    sources = "\n".join(p.read_text(encoding="utf-8") for pkg in PACKAGES for p in (ROOT / pkg).rglob("*")
                        if p.suffix in (".py", ".html", ".j2") and p.name != "schema.py"
                        and "migrations" not in p.parts)
    unread = sorted(f"{model}.{name}" for model, name in schema_keys(PolicyDocument)
                    if not re.search(rf"(\.{name}\b|[\"']{name}[\"'])", sources))
    assert unread == [], f"policy keys no code reads: {unread}"
