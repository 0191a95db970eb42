"""A person's notification preferences: channel, instant or digest, quiet hours, locale, and the scenarios of
interest the weekly scenario pack is narrowed to. The preferences page and delivery read the same row (defaults
when there is none: e-mail, instant, no quiet hours, user locale, every scenario)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select, update

from casebook.core import audit
from casebook.core.context import AppContext
from casebook.core.db import upsert
from casebook.core.errors import InvalidInput, Problem
from casebook.core.locales import LOCALES
from casebook.core.users import Actor, User
from notifications.models import Preference

PREFS = Preference.__table__
USERS = User.__table__
CHANNELS = ("email", "chat", "both")
MODES = ("instant", "digest")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def preferences(ctx: AppContext, actor: Actor) -> dict[str, Any]:
    with ctx.engine.connect() as conn:
        row = conn.execute(select(PREFS).where(PREFS.c.username == actor.username)).first()
        locale = conn.execute(select(USERS.c.locale).where(USERS.c.username == actor.username)).scalar()
    base = {"channel": "email", "mode": "instant", "quiet_start": None, "quiet_end": None, "locale": locale,
            "chat_url": None, "scenarios": []}
    return base | ({k: getattr(row, k) for k in base if getattr(row, k) is not None} if row else {})


def set_preferences(ctx: AppContext, actor: Actor, raw: dict[str, Any]) -> dict[str, Any]:
    """Validate and save; the locale is also the interface language. Every problem is listed at once.
    ``scenarios`` (a list, or names separated by commas; empty: every scenario) is kept when not given."""
    problems = []
    scenarios, problem = _scenarios(ctx, raw.get("scenarios"))
    if problem:
        problems.append(problem)
    clean = {k: (str(v).strip() or None) if v is not None else None for k, v in raw.items() if k != "scenarios"}
    if clean.get("channel") not in CHANNELS:
        problems.append(Problem.of("channel", "err_one_of", allowed=list(CHANNELS)))
    if clean.get("mode") not in MODES:
        problems.append(Problem.of("mode", "err_one_of", allowed=list(MODES)))
    if clean.get("locale") not in LOCALES:
        problems.append(Problem.of("locale", "err_one_of", allowed=list(LOCALES)))
    for name in ("quiet_start", "quiet_end"):
        if clean.get(name) and not _HHMM.match(clean[name]):
            problems.append(Problem.of(name, "err_hhmm"))
    if bool(clean.get("quiet_start")) != bool(clean.get("quiet_end")):
        problems.append(Problem.of("quiet_end", "err_quiet_both"))
    if clean.get("channel") in ("chat", "both") and not clean.get("chat_url"):
        problems.append(Problem.of("chat_url", "err_chat_needs_url"))
    if problems:
        raise InvalidInput(problems, "preferences")
    row = {"username": actor.username, "channel": clean["channel"], "mode": clean["mode"],
           "quiet_start": clean.get("quiet_start"), "quiet_end": clean.get("quiet_end"), "locale": clean["locale"],
           "chat_url": clean.get("chat_url")}
    with ctx.engine.begin() as conn:
        before = conn.execute(select(PREFS).where(PREFS.c.username == actor.username)).first()
        row["scenarios"] = scenarios if scenarios is not None else (before.scenarios if before else None)
        upsert(conn, PREFS, row, ["username"])
        conn.execute(update(USERS).where(USERS.c.username == actor.username).values(locale=clean["locale"]))
        audit.record(conn, ctx.audit, at=ctx.clock.now(), actor=actor.username, action="user.preferences",
                     subject_type="user", subject_id=actor.username,
                     before={k: getattr(before, k) for k in row if k != "username"} if before else None,
                     after={k: v for k, v in row.items() if k != "username"})
    return row


def _scenarios(ctx: AppContext, value: Any) -> tuple[list[str] | None, Problem | None]:
    """The scenarios of interest given (None: not given), or the problem naming the unknown ones."""
    if value is None:
        return None, None
    names = [v.strip() for v in value.split(",")] if isinstance(value, str) else \
        [str(v).strip() for v in value] if isinstance(value, (list, tuple)) else None
    if names is None:
        return None, Problem.of("scenarios", "err_scenario_list")
    names = list(dict.fromkeys(n for n in names if n))
    known = ctx.policy.doc.scenarios
    unknown = [n for n in names if n not in known]
    if unknown:
        return None, Problem.of("scenarios", "err_unknown_scenarios", unknown=unknown,
                                      known=[ctx.policy.coded(k) for k in known])
    return names, None


def set_scenarios(ctx: AppContext, actor: Actor, value: Any) -> list[str]:
    """Change only the scenarios of interest (empty: every scenario); audited. What the CLI and API call."""
    scenarios, problem = _scenarios(ctx, value if value is not None else [])
    if problem:
        raise InvalidInput([problem], "preferences")
    with ctx.engine.begin() as conn:
        before = conn.execute(select(PREFS.c.scenarios).where(PREFS.c.username == actor.username)).first()
        if before is None:
            conn.execute(PREFS.insert().values(username=actor.username, channel="email",
                                               mode=ctx.policy.doc.notifications.default_mode, scenarios=scenarios))
        else:
            conn.execute(update(PREFS).where(PREFS.c.username == actor.username).values(scenarios=scenarios))
        audit.record(conn, ctx.audit, at=ctx.clock.now(), actor=actor.username, action="user.preferences",
                     subject_type="user", subject_id=actor.username,
                     before={"scenarios": before.scenarios} if before else None, after={"scenarios": scenarios})
    return scenarios or []
