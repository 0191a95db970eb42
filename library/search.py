"""Search and "similar cases": Chinese-aware keyword matching (jieba segmentation on Simplified-normalised
text) plus tag filters, over what the viewer may see. Matching and snippets use the viewer's rendering, so
a search can never reveal a figure the viewer is shown only as a range."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from casebook.core.context import AppContext
from casebook.core.errors import CasebookError
from casebook.core.textnorm import jaccard, to_simplified, trigrams
from casebook.core.users import Actor
from lifecycle import states as S
from lifecycle.document import text_fields
from lifecycle.models import Case
from redaction.views import rendered_view

CASES = Case.__table__
VISIBLE_STATES = (S.PUBLISHED, S.UPDATE_DUE, S.UPDATING, S.PENDING_EVALUATION)


@dataclass(frozen=True)
class Hit:
    key: str
    title: str
    snippet: str
    score: float
    state: str

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "title": self.title, "snippet": self.snippet, "score": round(self.score, 3),
                "state": self.state}


def terms(query: str) -> list[str]:
    """Search terms: jieba's search-mode segmentation of the Simplified query, plus Latin words."""
    import jieba

    simplified = to_simplified(query.strip().lower())
    words = [w.strip() for w in jieba.cut_for_search(simplified) if w.strip() and not re.fullmatch(r"\W+", w)]
    return list(dict.fromkeys(words))


def _readable(ctx: AppContext, actor: Actor, key: str) -> Any:
    try:
        return rendered_view(ctx, actor, key, published=True)[0]
    except CasebookError:  # not readable by this actor, or no published version: not searchable
        return None


def _flat(doc: dict[str, Any]) -> str:
    return "\n".join(t for _, t in text_fields(doc))


def search(ctx: AppContext, actor: Actor, query: str = "", tags: dict[str, str] | None = None,
           limit: int = 20) -> list[Hit]:
    words = terms(query) if query else []
    with ctx.engine.connect() as conn:
        keys = list(conn.execute(select(CASES.c.key).where(CASES.c.state.in_(VISIBLE_STATES),
                                                           CASES.c.published_version_no.is_not(None))
                                 .order_by(CASES.c.id.desc()).limit(2000)).scalars())
    hits: list[Hit] = []
    for key in keys:
        view = _readable(ctx, actor, key)
        if view is None:
            continue
        doc = view.document
        if tags and any(value not in (doc.get("tags") or {}).get(facet, []) for facet, value in tags.items()):
            continue
        text = _flat(doc)
        haystack = to_simplified(text.lower())
        score = sum(haystack.count(w) for w in words) if words else 1
        if words and not all(w in haystack for w in words):
            continue
        pos = min((haystack.find(w) for w in words if w in haystack), default=0)
        snippet = text[max(0, pos - 30):pos + 60].replace("\n", " ")
        hits.append(Hit(key, doc.get("title") or "", snippet, float(score), view.state))
    hits.sort(key=lambda h: (-h.score, h.key))
    return hits[:limit]


def similar(ctx: AppContext, actor: Actor, key: str, limit: int = 5) -> list[Hit]:
    """Cases whose (viewer-rendered) text shares the most character trigrams with this one."""
    base = rendered_view(ctx, actor, key)[0]
    mine = trigrams(_flat(base.document))
    out = []
    for hit in search(ctx, actor, "", limit=2000):
        if hit.key == key:
            continue
        view = _readable(ctx, actor, hit.key)
        theirs = trigrams(_flat(view.document)) if view else set()
        if mine and theirs:
            out.append(Hit(hit.key, hit.title, hit.snippet, jaccard(mine, theirs), hit.state))
    out.sort(key=lambda h: -h.score)
    return out[:limit]
