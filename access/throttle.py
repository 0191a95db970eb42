"""Sign-in throttling: failed attempts counted per account name and per client address within the policy's
window; reaching a limit locks that name or address for the policy's lockout time, with an audit event and a
notice to the account's owner (when the name is a real user) and to the policy's operations role.

Unknown names are counted and locked exactly like known ones, so neither the answer nor its timing tells
whether an account exists."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection, Index, String, delete, func, select
from sqlalchemy.orm import Mapped, mapped_column

from casebook.core import audit
from casebook.core.context import AppContext
from casebook.core.db import Base, UTCDateTime
from casebook.core.users import User

ACCOUNT, ADDRESS = "account", "address"


class SignInFailure(Base):
    """One failed sign-in, counted once for the account name and once for the client address."""

    __tablename__ = "sign_in_failures"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))       # account | address
    subject: Mapped[str] = mapped_column(String(64))     # the name as typed, or the client address
    at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_sign_in_failures_subject", "scope", "subject", "at"),)


class SignInLockout(Base):
    """A temporary lockout of an account name or a client address."""

    __tablename__ = "sign_in_lockouts"

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    until: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("ix_sign_in_lockouts_subject", "scope", "subject", "until"),)


FAILURES = SignInFailure.__table__
LOCKOUTS = SignInLockout.__table__
USERS = User.__table__


def _subjects(username: str, ip: str | None) -> list[tuple[str, str]]:
    return [(ACCOUNT, username[:64])] + ([(ADDRESS, ip[:64])] if ip else [])


def locked_until(conn: Connection, username: str, ip: str | None, now: datetime) -> datetime | None:
    """When the lockout on this name or address ends, or None if neither is locked now."""
    ends = [conn.execute(select(func.max(LOCKOUTS.c.until)).where(
        LOCKOUTS.c.scope == scope, LOCKOUTS.c.subject == subject, LOCKOUTS.c.until > now)).scalar_one_or_none()
        for scope, subject in _subjects(username, ip)]
    found = [e for e in ends if e is not None]
    return max(found) if found else None


def record_failure(ctx: AppContext, conn: Connection, username: str, ip: str | None, now: datetime) -> None:
    """Count one failure for the name and the address; lock whichever reached its limit (in this transaction,
    with its audit event and notices, so a lockout is never without its alert)."""
    rule = ctx.policy.doc.security.sign_in
    limits = {ACCOUNT: rule.account_failures, ADDRESS: rule.address_failures}
    since = now - timedelta(minutes=rule.window_minutes)
    for scope, subject in _subjects(username, ip):
        mine = (FAILURES.c.scope == scope) & (FAILURES.c.subject == subject)
        conn.execute(delete(FAILURES).where(mine, FAILURES.c.at <= since))
        conn.execute(FAILURES.insert(), {"scope": scope, "subject": subject, "at": now})
        count = conn.execute(select(func.count()).select_from(FAILURES).where(mine)).scalar_one()
        if count >= limits[scope]:
            _lock(ctx, conn, scope, subject, count, ip, now)
            conn.execute(delete(FAILURES).where(mine))


def _lock(ctx: AppContext, conn: Connection, scope: str, subject: str, failures: int, ip: str | None,
          now: datetime) -> None:
    from notifications.audience import users_with_role
    from notifications.outbox import enqueue

    sp = ctx.policy.doc.security
    until = now + timedelta(minutes=sp.sign_in.lockout_minutes)
    conn.execute(LOCKOUTS.insert(), {"scope": scope, "subject": subject, "started_at": now, "until": until})
    audit.record(conn, ctx.audit, at=now, actor="system", action="auth.locked",
                 subject_type="user" if scope == ACCOUNT else "address", subject_id=subject, ip=ip,
                 details={"scope": scope, "failures": failures, "until": until.isoformat()})
    recipients = users_with_role(conn, ctx.policy, ctx.policy.doc.operations_role)
    if scope == ACCOUNT and conn.execute(select(USERS.c.id).where(USERS.c.username == subject)).first():
        recipients.append(subject)
    payload = {"scope": scope, "subject": subject, "failures": failures, "minutes": sp.sign_in.lockout_minutes,
               "window": sp.sign_in.window_minutes}
    for user in dict.fromkeys(recipients):
        enqueue(conn, kind="sign_in_locked", subject_id=f"{scope}:{subject}", recipient=user,
                period=now.isoformat(timespec="seconds"), payload=payload, now=now, digestible=False)


def forget_account_failures(conn: Connection, username: str) -> None:
    """A successful sign-in starts the name's count afresh (an address's count is kept: one attacker may own
    an account of their own)."""
    conn.execute(delete(FAILURES).where(FAILURES.c.scope == ACCOUNT, FAILURES.c.subject == username[:64]))
