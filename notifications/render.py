"""Turning an outbox row into a message for its recipient: locale, jinja2 template, and every case text
rendered through ``redaction`` at the recipient's clearance (the one rendering path)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from casebook.core.reasons import render as render_reason
from casebook.core.users import Actor
from notifications.audience import may_read
from policies.loader import Policy
from redaction.render import render_text
from redaction.stored import decode_spans, tier_key
from redaction.tiers import audience_for
from casebook.core.locales import LOCALES

if TYPE_CHECKING:   # jinja2 is imported when the first message is rendered: most commands never render one
    from jinja2 import Environment

TEMPLATES = Path(__file__).with_name("templates")


@dataclass(frozen=True)
class Recipient:
    actor: Actor
    email: str | None
    locale: str
    chat_url: str | None = None
    channel: str = "email"


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    html: str


def msg(key: str, locale: str, default: str | None = None, **params: Any) -> str:
    """A catalog message for templates (``messages/notifications.yaml``); ``default`` when the catalog lacks it."""
    from casebook.core import i18n

    if default is not None and not i18n.has(key):
        return default
    return i18n.gettext(key, locale, **params)


@lru_cache(maxsize=1)
def _env() -> Environment:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined, keep_trailing_newline=True,
                      autoescape=select_autoescape(enabled_extensions=("html.j2",), default=False))
    env.globals["msg"] = msg
    env.globals["reason_text"] = render_reason      # a reason the system stored (coded), in the template's locale
    return env


def redact_payload(policy: Policy, value: Any, actor: Actor) -> Any:
    """Every case reference (a dict with a title and a classification) shown at the recipient's tier."""
    if isinstance(value, list):
        return [redact_payload(policy, v, actor) for v in value]
    if not isinstance(value, dict):
        return value
    out = {k: redact_payload(policy, v, actor) for k, v in value.items()}
    if "classification" in value and ("title" in value or "snippet" in value):
        audience = audience_for(policy, actor, classification=value.get("classification"),
                                department=value.get("department"),
                                is_author=actor.user_id is not None and actor.user_id in (value.get("author_id"),
                                                                                        value.get("owner_id")))
        hidden = "state" in value and not may_read(policy, actor, value)  # e.g. taken down since it was queued
        titles = value.get("titles") if isinstance(value.get("titles"), dict) else {}
        stored = titles.get(tier_key(policy, audience))
        for field in ("title", "snippet"):
            if field == "title" and isinstance(stored, str):  # the case's own rendering at the recipient's tier
                out[field] = str(value.get("key") or "") if hidden else stored
            elif isinstance(value.get(field), str):
                spans = value.get(f"{field}_findings")
                found = decode_spans(value[field], spans) if isinstance(spans, list) else None
                out[field] = str(value.get("key") or "") if hidden else \
                    render_text(policy, value[field], audience, findings=found)
        for field in ("title_findings", "snippet_findings", "titles"):
            out.pop(field, None)
    return out


def _prepared(policy: Policy, kind: str, payload: dict[str, Any], recipient: Recipient) -> tuple[Any, Any, str, str]:
    """The kind's template, its context with the payload redacted for the recipient, the locale and its tag."""
    locale = recipient.locale if recipient.locale in LOCALES else "en"
    template = _env().get_template(f"{kind}.j2")
    return template, template.new_context(redact_payload(policy, payload, recipient.actor)), locale, \
        locale.replace("-", "_")


def _block(template: Any, name: str, context: Any) -> str:
    """One block of a kind's template rendered in ``context``, stripped."""
    return "".join(template.blocks[name](context)).strip()


def render_subject(policy: Policy, kind: str, payload: dict[str, Any], recipient: Recipient) -> str:
    """Only the subject line (a digest lists folded notifications by subject; text and HTML would be thrown away)."""
    template, context, _, tag = _prepared(policy, kind, payload, recipient)
    return _block(template, f"subject_{tag}", context)


def render_message(policy: Policy, kind: str, payload: dict[str, Any], recipient: Recipient) -> Message:
    """Subject, text and HTML of one notification in the recipient's locale."""
    template, context, locale, tag = _prepared(policy, kind, payload, recipient)
    subject = _block(template, f"subject_{tag}", context)
    text = _block(template, f"text_{tag}", context) + "\n"
    html = _env().get_template("_layout.html.j2").render(locale=locale, subject=subject, text=text)
    return Message(subject, text, html)
