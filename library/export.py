"""Exports of one case: Markdown (here) and PDF (``library.export_pdf``); a search result as CSV is
``library.export_csv``. Every export is the case at the viewer's tier from its stored rendering (read access
checked by ``rendered_view``: withdrawn and forbidden cases are refused), recorded as a download (access log,
bulk-download rule)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from access.accounts import record_download
from casebook.core.context import AppContext
from casebook.core.i18n import gettext, has, normalise_locale
from casebook.core.users import Actor, User, display_names
from lifecycle.document import SECTIONS
from lifecycle.service import CaseView
from redaction.render import shown_budget, shown_metric
from redaction.tiers import Audience
from redaction.views import rendered_view


def locale_of(ctx: AppContext, actor: Actor, locale: str | None = None) -> str:
    """The export's language: the one asked for, else the user's own, else the default."""
    if locale:
        return normalise_locale(locale)
    if actor.user_id is None:
        return normalise_locale(None)
    with ctx.engine.connect() as conn:
        found = conn.execute(select(User.__table__.c.locale).where(User.__table__.c.id == actor.user_id)).scalar()
    return normalise_locale(found)


@dataclass(frozen=True)
class Shown:
    """One case as an export shows it: title, facts (label, value) and sections (label, text), all rendered."""

    key: str
    version: int
    title: str
    facts: list[tuple[str, str]]
    sections: list[tuple[str, str]]


def label(ctx: AppContext, code: Any, locale: str, prefix: str = "") -> str:
    """A code (library, state with ``prefix`` "state_", section) in the reader's language: the catalog's, the
    policy's label, or the code itself."""
    if code in (None, ""):
        return ""
    if has(prefix + str(code)):
        return gettext(prefix + str(code), locale)
    return ctx.policy.label(str(code), locale) or str(code)


def person(ctx: AppContext, username: Any) -> str:
    """A user by display name (the sign-in name when the user is unknown)."""
    if not username:
        return ""
    with ctx.engine.connect() as conn:
        return display_names(conn, [str(username)]).get(str(username), str(username))


def shown_case(ctx: AppContext, view: CaseView, audience: Audience, locale: str) -> Shown:
    """What every case export prints, from an already rendered view."""
    doc = view.document

    def t(name: str, /, **params: Any) -> str:
        return gettext(f"export.{name}", locale, **params)

    facts = [(t("case"), t("case_version", key=view.key, version=view.version_no,
                                        state=label(ctx, view.state, locale, "state_"))),
             (t("library"), " / ".join(label(ctx, doc.get(k), locale) for k in ("library", "scenario", "outcome"))),
             (t("owner"), person(ctx, doc.get("owner"))),
             (t("tier"), t("tier_value", tier=label(ctx, audience.clearance, locale)))]
    if doc.get("budget"):
        facts.append((t("budget"), shown_budget(doc["budget"])))
    facts += [(str(m.get("name")), shown_metric(m)) for m in doc.get("metrics") or []]
    body = doc.get("body") or {}
    sections = [(label(ctx, s, locale), body[s]) for s in SECTIONS if body.get(s)]
    return Shown(view.key, view.version_no, str(doc.get("title") or ""), facts, sections)


def markdown_of(shown: Shown) -> str:
    lines = [f"# {shown.title}", ""] + [f"- {name}: {value}" for name, value in shown.facts]
    for name, text in shown.sections:
        lines += ["", f"## {name}", "", text]
    return "\n".join(lines) + "\n"


def export_markdown(ctx: AppContext, actor: Actor, key: str, *, ip: str | None = None, via: str = "api",
                    locale: str | None = None) -> str:
    """The case as Markdown at the viewer's tier (counted as a download)."""
    view, audience = rendered_view(ctx, actor, key)
    body = markdown_of(shown_case(ctx, view, audience, locale_of(ctx, actor, locale)))
    record_download(ctx, actor, key, len(body.encode()), ip, version=view.version_no, via=via)
    return body
