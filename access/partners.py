"""Partner access, the plan's open API limited to non-sensitive data: named API keys with scopes, an expiry, a
rate limit and revocation. A key acts as the policy's partner role (lowest clearance) and reads only published
cases of the lowest classification; every call is audited. Only a hash of each key is stored: the key itself is
shown once, when it is made."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import JSON, Integer, String, select, update
from sqlalchemy.orm import Mapped, mapped_column

from access.rules import require
from casebook.core import audit
from casebook.core.context import AppContext
from casebook.core.db import Base, UTCDateTime
from casebook.core.errors import CasebookError, Forbidden, InvalidInput, NotFound, Problem
from casebook.core.users import Actor

#: Scopes this code implements; policy chooses which of them may be granted.
IMPLEMENTED_SCOPES = frozenset({"cases:read"})
KEY_PREFIX = "cbp_"


class PartnerKey(Base):
    __tablename__ = "partner_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hint: Mapped[str] = mapped_column(String(16))          # the key's first characters, to tell keys apart
    scopes: Mapped[list[str]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    requests_per_minute: Mapped[int] = mapped_column(Integer)


TABLE = PartnerKey.__table__


class RateLimited(CasebookError):
    """Too many calls for this key within the minute."""

    exit_code = 6
    http_status = 429


class BadPartnerKey(CasebookError):
    """No such key, or expired, or revoked: one answer for all, so keys cannot be probed."""

    exit_code = 6
    http_status = 401
    challenge = 'APIKey header="X-Partner-Key"'


@dataclass(frozen=True)
class Partner:
    key_id: int
    name: str
    scopes: tuple[str, ...]
    actor: Actor


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def add_partner(ctx: AppContext, actor: Actor, name: str, scopes: list[str], *, days: int | None = None
                ) -> tuple[int, str]:
    """A new key for ``name``; returns (id, the key). The key is never stored or shown again."""
    require(ctx.policy, actor, "partners.manage")
    pp = ctx.policy.doc.partners
    problems: list[Problem] = []
    if not name or len(name) > 64 or not name.replace("-", "").replace("_", "").replace(".", "").isalnum():
        problems.append(Problem.of("name", "err_name_chars"))
    if not scopes:
        problems.append(Problem.of("scope", "err_scope_required"))
    for scope in scopes:
        if scope not in pp.scopes or scope not in IMPLEMENTED_SCOPES:
            problems.append(Problem.of("scope", "err_not_partner_scope", scope=scope, allowed=list(pp.scopes)))
    days = pp.key_days if days is None else days
    if not 1 <= days <= pp.max_key_days:
        problems.append(Problem.of("days", "err_between_policy", low=1, high=pp.max_key_days,
                                   setting="partners.max_key_days"))
    if problems:
        raise InvalidInput(problems, "partner key")
    now = ctx.clock.now()
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    with ctx.engine.begin() as conn:
        if conn.execute(select(TABLE.c.id).where(TABLE.c.name == name)).first():
            raise InvalidInput([Problem.of("name", "err_partner_exists", name=name)], "partner key")
        key_id = int(conn.execute(TABLE.insert().returning(TABLE.c.id), {
            "name": name, "key_hash": _hash(secret), "hint": secret[:10], "scopes": sorted(set(scopes)),
            "created_by": actor.username, "created_at": now, "expires_at": now + timedelta(days=days),
            "revoked_at": None, "requests_per_minute": pp.requests_per_minute}).scalar_one())
        audit.record(conn, ctx.audit, at=now, actor=actor.username, action="partner.add", subject_type="partner",
                     subject_id=name, after={"scopes": sorted(set(scopes)), "days": days})
    return key_id, secret


def revoke_partner(ctx: AppContext, actor: Actor, name: str) -> None:
    require(ctx.policy, actor, "partners.manage")
    now = ctx.clock.now()
    with ctx.engine.begin() as conn:
        done = conn.execute(update(TABLE).where(TABLE.c.name == name, TABLE.c.revoked_at.is_(None))
                            .values(revoked_at=now)).rowcount
        if not done:
            raise NotFound.of("err_no_partner_key", name=name)
        audit.record(conn, ctx.audit, at=now, actor=actor.username, action="partner.revoke", subject_type="partner",
                     subject_id=name)


def list_partners(ctx: AppContext, actor: Actor) -> list[dict[str, Any]]:
    require(ctx.policy, actor, "partners.manage")
    now = ctx.clock.now()
    with ctx.engine.connect() as conn:
        rows = conn.execute(select(TABLE).order_by(TABLE.c.name)).all()
    return [{"name": r.name, "hint": r.hint + "…", "scopes": r.scopes, "expires_at": r.expires_at.isoformat(),
             "status": "revoked" if r.revoked_at else ("expired" if r.expires_at <= now else "active")}
            for r in rows]


class _Limiter:
    """A moving one-minute window per key, in this process's memory. When the web is served by several worker
    processes (``casebook.web.serving`` sets ``processes``), each admits its share of the key's rate, so together
    they never admit more than the policy says (a little less when one worker gets most of a key's calls)."""

    def __init__(self, processes: int = 1) -> None:
        self._limiter = MovingWindowRateLimiter(MemoryStorage())
        self.processes = processes

    def hit(self, key_id: int, per_minute: int) -> bool:
        share = max(1, per_minute // max(1, self.processes))
        return self._limiter.hit(RateLimitItemPerMinute(share), "partner", str(key_id))


LIMITER = _Limiter()


def authenticate(ctx: AppContext, secret: str | None, scope: str) -> Partner:
    """The partner a key belongs to, when it is active, holds ``scope`` and is within its rate."""
    if not secret or not secret.startswith(KEY_PREFIX):
        raise BadPartnerKey.of("err_partner_key_required")
    now = ctx.clock.now()
    with ctx.engine.connect() as conn:
        row = conn.execute(select(TABLE).where(TABLE.c.key_hash == _hash(secret))).one_or_none()
    if row is None or not hmac.compare_digest(row.key_hash, _hash(secret)) or row.revoked_at is not None \
            or row.expires_at <= now:
        raise BadPartnerKey.of("err_partner_key_required")
    if scope not in row.scopes:
        raise Forbidden.of("err_key_lacks_scope", scope=scope)
    if not LIMITER.hit(row.id, row.requests_per_minute):
        raise RateLimited.of("err_rate_limited", limit=row.requests_per_minute)
    pp = ctx.policy.doc.partners
    role = ctx.policy.role(pp.role)
    actor = Actor(f"partner:{row.name}", pp.role, "", role.clearance, None, False)
    return Partner(row.id, row.name, tuple(row.scopes), actor)
