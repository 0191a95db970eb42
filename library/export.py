"""Exports: a case as Markdown at the viewer's tier (the one rendering path), recorded as a download."""

from __future__ import annotations

from access.accounts import record_download
from casebook.core.context import AppContext
from casebook.core.users import Actor
from lifecycle.document import SECTIONS
from redaction.render import shown_budget, shown_metric
from redaction.views import rendered_view


def export_markdown(ctx: AppContext, actor: Actor, key: str, *, ip: str | None = None, via: str = "api") -> str:
    view, audience = rendered_view(ctx, actor, key)
    doc = view.document
    lines = [f"# {doc.get('title')}", "", f"- case: {view.key} (version {view.version_no}, {view.state})",
             f"- library: {doc.get('library')} / {doc.get('scenario')} / {doc.get('outcome')}",
             f"- owner: {doc.get('owner')}", f"- shown at the {audience.clearance} tier"]
    budget = doc.get("budget")
    if budget:
        lines.append(f"- budget: {shown_budget(budget)}")
    for metric in doc.get("metrics") or []:
        lines.append(f"- {metric.get('name')}: {shown_metric(metric)}")
    for section in SECTIONS:
        text = (doc.get("body") or {}).get(section)
        if text:
            lines += ["", f"## {section}", "", text]
    body = "\n".join(lines) + "\n"
    record_download(ctx, actor, key, len(body.encode()), ip, version=view.version_no, via=via)
    return body
