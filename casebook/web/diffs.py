"""What changed between two renderings of a case, per section, as marked-up text (``<del>``/``<ins>``).

Characters are compared, not words: Chinese text has no spaces to split on. Both sides are renderings at the
viewer's tier, so the diff shows nothing the viewer may not see.
"""

from __future__ import annotations

import difflib
from typing import Any

from markupsafe import Markup, escape

from lifecycle.document import SECTIONS


def marked(old: str, new: str) -> Markup:
    """``new`` with deletions from ``old`` in ``<del>`` and insertions in ``<ins>`` (all text escaped)."""
    out: list[str] = []
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if op == "equal":
            out.append(str(escape(new[b1:b2])))
            continue
        if a2 > a1:
            out.append(f"<del>{escape(old[a1:a2])}</del>")
        if b2 > b1:
            out.append(f"<ins>{escape(new[b1:b2])}</ins>")
    return Markup("".join(out))


def _fields(document: dict[str, Any]) -> dict[str, str]:
    body = document.get("body") or {}
    out = {"title": str(document.get("title") or ""), "target_users": str(document.get("target_users") or "")}
    out |= {s: str(body.get(s) or "") for s in SECTIONS}
    out["metrics"] = "\n".join(f"{m.get('name')}: {m.get('value')} {m.get('unit') or ''} ({m.get('source') or ''})"
                               for m in document.get("metrics") or [])
    out["data_sources"] = "\n".join(f"{d.get('name')}: {d.get('validation_method') or ''}"
                                    for d in document.get("data_sources") or [])
    return out


def section_diffs(old: dict[str, Any], new: dict[str, Any]) -> list[tuple[str, Markup]]:
    """[(section, marked-up text)] for every section whose text changed."""
    a, b = _fields(old), _fields(new)
    return [(name, marked(a[name], b[name])) for name in b if a[name] != b[name]]
