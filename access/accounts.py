"""Authentication: argon2 password hashes, opaque session and API tokens (only their SHA-256 is stored),
and the abuse rule that freezes an account downloading in bulk outside working hours."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ForeignKey, Index, Integer, String, delete, func, select, update
from sqlalchemy.orm import Mapped, mapped_column

from casebook.core import audit
from casebook.core.context import AppContext
from casebook.core.db import Base, UTCDateTime
from casebook.core.errors import Forbidden, InvalidInput, NotFound, Problem
from casebook.core.users import Actor, User

_hasher = PasswordHasher()
USERS = User.__table__
MIN_PASSWORD = 10


class AuthToken(Base):
    """A signed-in session (cookie) or an API bearer token."""

    __tablename__ = "auth_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    username: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))          # session | api
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ip: Mapped[str | None] = mapped_column(String(64))


class Download(Base):
    """One export or download, for the bulk-download rule (also audited with IP)."""

    __tablename__ = "downloads"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    subject: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_downloads_user_at", "user_id", "at"),)


TOKENS = AuthToken.__table__
DOWNLOADS = Download.__table__


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def set_password(ctx: AppContext, actor: Actor, username: str, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput([Problem("password", f"must be at least {MIN_PASSWORD} characters")], "password")
    with ctx.engine.begin() as conn:
        done = conn.execute(update(USERS).where(USERS.c.username == username)
                            .values(password_hash=_hasher.hash(password))).rowcount
        if not done:
            raise NotFound(f"no user '{username}'")
        conn.execute(delete(TOKENS).where(TOKENS.c.username == username))   # a new password ends old sessions
        audit.record(conn, ctx.audit, at=ctx.clock.now(), actor=actor.username, action="user.password",
                     subject_type="user", subject_id=username)


def sign_in(ctx: AppContext, username: str, password: str, *, kind: str, ip: str | None) -> str:
    """A new token for valid credentials of an active, unfrozen user; every attempt is audited."""
    now = ctx.clock.now()
    with ctx.engine.begin() as conn:
        row = conn.execute(select(USERS).where(USERS.c.username == username)).first()
        ok = False
        if row is not None and row.password_hash:
            try:
                ok = _hasher.verify(row.password_hash, password)
            except (VerificationError, InvalidHashError):
                ok = False
        if ok and (not row.active or row.frozen_reason):
            audit.record(conn, ctx.audit, at=now, actor=username, action="auth.refused_frozen", subject_type="user",
                         subject_id=username, ip=ip)
            raise Forbidden(f"account '{username}' is frozen: {row.frozen_reason or 'inactive'}")
        if not ok:
            audit.record(conn, ctx.audit, at=now, actor=username or "?", action="auth.failed", subject_type="user",
                         subject_id=username or "?", ip=ip)
    if not ok:
        raise Forbidden("wrong user name or password")
    token = secrets.token_urlsafe(32)
    sp = ctx.policy.doc.security
    life = timedelta(hours=sp.session_hours) if kind == "session" else timedelta(days=sp.api_token_days)
    with ctx.engine.begin() as conn:
        conn.execute(TOKENS.insert(), {"token_hash": _digest(token), "username": username, "kind": kind,
                                       "created_at": now, "expires_at": now + life, "ip": ip})
        audit.record(conn, ctx.audit, at=now, actor=username, action=f"auth.{kind}", subject_type="user",
                     subject_id=username, ip=ip)
    return token


def actor_for_token(ctx: AppContext, token: str | None) -> Actor | None:
    """The signed-in actor, or None for a missing, unknown, expired token or a frozen account."""
    if not token:
        return None
    with ctx.engine.connect() as conn:
        row = conn.execute(select(USERS).join(TOKENS, TOKENS.c.username == USERS.c.username).where(
            TOKENS.c.token_hash == _digest(token), TOKENS.c.expires_at > ctx.clock.now())).first()
    if row is None or not row.active or row.frozen_reason:
        return None
    return Actor.of(row)


def sign_out(ctx: AppContext, token: str) -> None:
    with ctx.engine.begin() as conn:
        conn.execute(delete(TOKENS).where(TOKENS.c.token_hash == _digest(token)))


def record_download(ctx: AppContext, actor: Actor, subject: str, size: int, ip: str | None, *,
                    version: int | None = None, via: str = "api") -> None:
    """Record a download (its ``downloads`` row at once, its access-log entry with the next batch: no audit head
    is taken); beyond the policy's count in its window outside working hours, freeze the account and alert
    operations (in the same transaction, so the alert is never lost)."""
    from notifications.audience import users_with_role
    from notifications.outbox import enqueue

    now = ctx.clock.now()
    sp = ctx.policy.doc.security
    with ctx.engine.begin() as conn:
        conn.execute(DOWNLOADS.insert(), {"user_id": actor.user_id, "at": now, "subject": subject, "size": size})
        ctx.access_log.add(at=now, actor=actor.username, action="download", case_key=subject, version=version,
                           ip=ip, via=via)
        if ctx.calendar.within_working_hours(now.astimezone(ctx.clock.tz)):
            return
        recent = conn.execute(select(func.count()).select_from(DOWNLOADS).where(
            DOWNLOADS.c.user_id == actor.user_id,
            DOWNLOADS.c.at > now - timedelta(minutes=sp.bulk_download_window_minutes))).scalar_one()
        if recent <= sp.bulk_download_max:
            return
        reason = (f"{recent} downloads within {sp.bulk_download_window_minutes} minutes outside working hours "
                  f"(policy allows {sp.bulk_download_max})")
        conn.execute(update(USERS).where(USERS.c.id == actor.user_id).values(frozen_reason=reason))
        conn.execute(delete(TOKENS).where(TOKENS.c.username == actor.username))
        audit.record(conn, ctx.audit, at=now, actor="system", action="user.frozen", subject_type="user",
                     subject_id=actor.username, ip=ip, details={"reason": reason})
        for user in users_with_role(conn, ctx.policy, ctx.policy.doc.operations_role):
            enqueue(conn, kind="account_frozen", subject_id=actor.username, recipient=user,
                    period=now.isoformat(timespec="minutes"), payload={"user": actor.username, "reason": reason},
                    now=now, digestible=False)
    raise Forbidden(f"account '{actor.username}' frozen: {reason}")
