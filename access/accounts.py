"""Authentication: argon2 password hashes, opaque session and API tokens (only their SHA-256 is stored),
sign-in throttling (``access.throttle``), and the abuse rule that freezes an account downloading in bulk
outside working hours."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ForeignKey, Index, Integer, String, delete, func, select, update
from sqlalchemy.orm import Mapped, mapped_column

from casebook.core import audit
from casebook.core.context import AppContext
from casebook.core.db import Base, UTCDateTime, reads
from access import throttle
from casebook.core.errors import Forbidden, InvalidInput, NotFound, Problem, Reason
from casebook.core.reasons import StoredReason
from casebook.core.reasons import reason as coded_reason
from casebook.core.settings import Settings
from casebook.core.users import Actor, User, display_names

USERS = User.__table__
MIN_PASSWORD = 10


class BadCredentials(Forbidden):
    """Wrong user name or password (one answer for both, so names cannot be told apart)."""

    http_status = 401
    challenge = "Bearer"


class SignInLocked(Forbidden):
    """Too many failed sign-ins for this name or from this address: refused, right password or not."""

    http_status = 429

    def __init__(self, until: datetime, now: datetime) -> None:
        self.until = until
        self.retry_after = max(1, int((until - now).total_seconds()))
        super().__init__(Reason("err_sign_in_locked"))


@lru_cache(maxsize=4)
def _hasher_with(time_cost: int, memory_kib: int) -> tuple[PasswordHasher, str]:
    """A hasher for these costs and a hash of a random password made with it (verified for unknown users so
    they cost the same time as known ones)."""
    hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
    return hasher, hasher.hash(secrets.token_urlsafe(16))


def hasher(settings: Settings) -> tuple[PasswordHasher, str]:
    return _hasher_with(settings.password_time_cost, settings.password_memory_kib)


def _verify(settings: Settings, stored: str | None, password: str) -> bool:
    """argon2 verification; a missing hash verifies the dummy one, so the time spent is the same."""
    ph, dummy = hasher(settings)
    try:
        return ph.verify(stored or dummy, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


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
        raise InvalidInput([Problem.of("password", "err_password_short", min=MIN_PASSWORD)], "password")
    with ctx.engine.begin() as conn:
        done = conn.execute(update(USERS).where(USERS.c.username == username)
                            .values(password_hash=hasher(ctx.settings)[0].hash(password))).rowcount
        if not done:
            raise NotFound.of("err_no_user", user=username)
        conn.execute(delete(TOKENS).where(TOKENS.c.username == username))   # a new password ends old sessions
        audit.record(conn, ctx.audit, at=ctx.clock.now(), actor=actor.username, action="user.password",
                     subject_type="user", subject_id=username)


def sign_in(ctx: AppContext, username: str, password: str, *, kind: str, ip: str | None) -> str:
    """A new token for valid credentials of an active, unfrozen user; every attempt is audited.

    The password is checked (against a dummy hash for unknown names) before any answer, locked or not, so the
    time taken tells nothing; failures count towards the policy's lockouts (``access.throttle``)."""
    now = ctx.clock.now()
    with ctx.engine.connect() as conn:
        row = conn.execute(select(USERS).where(USERS.c.username == username)).first()
        locked = throttle.locked_until(conn, username, ip, now)
    ok = _verify(ctx.settings, row.password_hash if row is not None else None, password)
    with ctx.engine.begin() as conn:
        if locked is not None:
            audit.record(conn, ctx.audit, at=now, actor=username or "?", action="auth.refused_locked",
                         subject_type="user", subject_id=username or "?", ip=ip, details={"until": locked.isoformat()})
        elif not ok:
            audit.record(conn, ctx.audit, at=now, actor=username or "?", action="auth.failed", subject_type="user",
                         subject_id=username or "?", ip=ip)
            throttle.record_failure(ctx, conn, username, ip, now)
        elif not row.active or row.frozen_reason:
            audit.record(conn, ctx.audit, at=now, actor=username, action="auth.refused_frozen", subject_type="user",
                         subject_id=username, ip=ip)
        else:
            throttle.forget_account_failures(conn, username)
    if locked is not None:
        raise SignInLocked(locked, now)
    if not ok:
        raise BadCredentials.of("err_bad_credentials")
    if not row.active or row.frozen_reason:
        why = row.frozen_reason or coded_reason("account_inactive")
        raise Forbidden.of("err_account_frozen", user=username, reason=StoredReason(why))
    token = secrets.token_urlsafe(32)
    sp = ctx.policy.doc.security
    life = timedelta(hours=sp.session_hours) if kind == "session" else timedelta(days=sp.api_token_days)
    with ctx.engine.begin() as conn:
        conn.execute(TOKENS.insert(), {"token_hash": _digest(token), "username": username, "kind": kind,
                                       "created_at": now, "expires_at": now + life, "ip": ip})
        audit.record(conn, ctx.audit, at=now, actor=username, action=f"auth.{kind}", subject_type="user",
                     subject_id=username, ip=ip)
    return token


@reads
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
    record_downloads(ctx, actor, [(subject, version)], size, ip, via=via)


def record_downloads(ctx: AppContext, actor: Actor, cases: list[tuple[str, int | None]], size: int,
                     ip: str | None, *, via: str = "api") -> None:
    """``record_download`` for one export holding several cases (key, version): each case counts as one
    download towards the bulk-download rule (a list export of 50 cases is 50 downloads), with its own
    access-log entry; ``size`` is the export's size, spread over its rows."""
    from notifications.audience import users_with_role
    from notifications.outbox import enqueue

    now = ctx.clock.now()
    sp = ctx.policy.doc.security
    with ctx.engine.begin() as conn:
        if not cases:
            return
        share = size // len(cases)
        conn.execute(DOWNLOADS.insert(), [{"user_id": actor.user_id, "at": now, "subject": subject, "size": share}
                                          for subject, _version in cases])
        for subject, version in cases:
            ctx.access_log.add(at=now, actor=actor.username, action="download", case_key=subject, version=version,
                               ip=ip, via=via)
        if ctx.calendar.within_working_hours(now.astimezone(ctx.clock.tz)):
            return
        recent = conn.execute(select(func.count()).select_from(DOWNLOADS).where(
            DOWNLOADS.c.user_id == actor.user_id,
            DOWNLOADS.c.at > now - timedelta(minutes=sp.bulk_download_window_minutes))).scalar_one()
        if recent <= sp.bulk_download_max:
            return
        reason = coded_reason("bulk_download", downloads=recent, minutes=sp.bulk_download_window_minutes,
                              allowed=sp.bulk_download_max)
        conn.execute(update(USERS).where(USERS.c.id == actor.user_id).values(frozen_reason=reason))
        conn.execute(delete(TOKENS).where(TOKENS.c.username == actor.username))
        audit.record(conn, ctx.audit, at=now, actor="system", action="user.frozen", subject_type="user",
                     subject_id=actor.username, ip=ip, details={"reason": reason})
        for user in users_with_role(conn, ctx.policy, ctx.policy.doc.operations_role):
            enqueue(conn, kind="account_frozen", subject_id=actor.username, recipient=user,
                    period=now.isoformat(timespec="minutes"), payload={"user": actor.username, "reason": reason,
                             "user_name": display_names(conn, [actor.username]).get(actor.username)},
                    now=now, digestible=False)
    raise Forbidden.of("err_account_frozen_now", user=actor.username, reason=StoredReason(reason))


def unfreeze(ctx: AppContext, actor: Actor, username: str, reason: str, *, ip: str | None = None) -> None:
    """Operations (or a user manager) lifts a freeze, saying why; audited with the freeze it lifts."""
    if not actor.is_system and actor.role != ctx.policy.doc.operations_role \
            and not ctx.policy.may(actor.role, "users.manage", own=False):
        raise Forbidden.of("err_may_not_unfreeze", role=actor.role)
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput([Problem.of("reason", "err_unfreeze_reason_required")], "unfreeze")
    now = ctx.clock.now()
    with ctx.engine.begin() as conn:
        row = conn.execute(select(USERS).where(USERS.c.username == username)).first()
        if row is None:
            raise NotFound.of("err_no_user", user=username)
        if not row.frozen_reason:
            raise InvalidInput([Problem.of("username", "err_not_frozen", user=username)], "unfreeze")
        conn.execute(update(USERS).where(USERS.c.id == row.id).values(frozen_reason=None))
        audit.record(conn, ctx.audit, at=now, actor=actor.username, action="user.unfrozen", subject_type="user",
                     subject_id=username, ip=ip, before={"frozen_reason": row.frozen_reason},
                     after={"frozen_reason": None}, details={"reason": reason})


def frozen_accounts(ctx: AppContext) -> list[tuple[str, str]]:
    """(username, why) of every frozen account, for operations' inbox."""
    with ctx.engine.connect() as conn:
        rows = conn.execute(select(USERS.c.username, USERS.c.frozen_reason)
                            .where(USERS.c.frozen_reason.is_not(None)).order_by(USERS.c.username)).all()
    return [(r.username, r.frozen_reason) for r in rows]
