"""Users and the acting identity: role, department and clearance come from policy-defined roles."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, String, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Session, mapped_column

from casebook.core import audit
from casebook.core.audit import AuditContext
from casebook.core.db import Base, UTCDateTime, reading
from casebook.core.errors import InvalidInput, NotFound, Problem
from policies.loader import Policy
from casebook.core.locales import LOCALES



class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(64))
    department: Mapped[str] = mapped_column(String(120))
    clearance: Mapped[str] = mapped_column(String(32))
    locale: Mapped[str] = mapped_column(String(16))
    email: Mapped[str | None] = mapped_column(String(254))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    password_hash: Mapped[str | None] = mapped_column(String(200))     # argon2id; None: cannot sign in
    frozen_reason: Mapped[str | None] = mapped_column(String(300))     # set when abuse rules freeze the account


@dataclass(frozen=True)
class Actor:
    """Who is acting: a user, or the system itself (flows) which holds every permission."""

    username: str
    role: str
    department: str
    clearance: str
    user_id: int | None = None
    is_system: bool = False

    @classmethod
    def of(cls, user: Any) -> "Actor":
        """From a ``User`` or any users row (ORM object or Core row)."""
        return cls(user.username, user.role, user.department, user.clearance, user.id)

    @classmethod
    def system(cls, name: str = "system") -> "Actor":
        return cls(name, "system", "", "", None, True)


def display_names(conn: Any, usernames: Iterable[str]) -> dict[str, str]:
    """username -> display name of those users that exist (an empty name falls back to the username)."""
    wanted = sorted({u for u in usernames if u})
    if not wanted:
        return {}
    users = User.__table__
    rows = conn.execute(select(users.c.username, users.c.display_name).where(users.c.username.in_(wanted))).all()
    return {r.username: (r.display_name or "").strip() or r.username for r in rows}


def owner_choices(conn: Any) -> list[tuple[str, str]]:
    """(username, display name) of every active user, by display name: the people a case's owner is chosen from
    (the capture form shows names; the domain checks the chosen one as it checks the API's and the CLI's)."""
    users = User.__table__
    rows = conn.execute(select(users.c.username, users.c.display_name).where(users.c.active.is_(True))).all()
    named = [(r.username, (r.display_name or "").strip() or r.username) for r in rows]
    return sorted(named, key=lambda pair: (pair[1], pair[0]))


class People:
    """Display names looked up when first asked for and kept, for one page or one export: readers see a
    person's name, never the sign-in name (an unknown name is shown as it is)."""

    def __init__(self, engine: Any) -> None:
        self._engine = engine
        self._known: dict[str, str] = {}

    def name(self, username: str | None) -> str:
        if not username:
            return ""
        if username not in self._known:
            with reading(), self._engine.connect() as conn:
                self._known[username] = display_names(conn, [username]).get(username, username)
        return self._known[username]


def validate_user(policy: Policy, *, username: str, role: str, department: str,
                  clearance: str | None, locale: str, email: str | None) -> list[Problem]:
    """Every problem with a user record, each naming its field and the rule."""
    problems: list[Problem] = []
    if not username or len(username) > 64 or not username.replace("_", "").replace("-", "").replace(".", "").isalnum():
        problems.append(Problem.of("username", "err_name_chars"))
    if role not in policy.doc.roles:
        problems.append(Problem.of("role", "err_one_of", allowed=[policy.coded(r) for r in policy.doc.roles]))
    if not department.strip():
        problems.append(Problem.of("department", "err_not_empty"))
    if clearance is not None and clearance not in policy.doc.clearances:
        problems.append(Problem.of("clearance", "err_one_of", allowed=list(policy.doc.clearances)))
    if clearance is not None and role in policy.doc.roles and clearance in policy.doc.clearances:
        if policy.clearance_rank(clearance) > policy.clearance_rank(policy.role(role).clearance):
            problems.append(Problem.of("clearance", "err_clearance_exceeds", clearance=policy.role(role).clearance))
    if locale not in LOCALES:
        problems.append(Problem.of("locale", "err_one_of", allowed=list(LOCALES)))
    if email is not None and ("@" not in email or email.startswith("@") or email.endswith("@")):
        problems.append(Problem.of("email", "err_email"))
    return problems


def _active(user: Any, username: str) -> Any:
    """``user`` (an ORM object or a users row) when it exists and is active; else the refusal naming it."""
    if user is None:
        raise NotFound.of("err_no_user", user=username)
    if not user.active:
        raise NotFound.of("err_user_deactivated", user=username)
    return user


def get_user(session: Session, username: str) -> User:
    return _active(session.scalar(select(User).where(User.username == username)), username)


def get_user_row(conn: Connection, username: str) -> Any:
    """The active user's row, read with Core: for a read-only command it spares configuring every ORM mapper
    (a tenth of a second of a CLI run)."""
    users = User.__table__
    return _active(conn.execute(select(users).where(users.c.username == username)).one_or_none(), username)


def add_user(session: Session, policy: Policy, audit_ctx: AuditContext, now: datetime, *, actor: str, username: str,
             role: str, department: str, display_name: str | None = None, clearance: str | None = None,
             locale: str = "zh-Hans", email: str | None = None) -> User:
    """Create a user (audited in the same transaction); the clearance defaults to the role's and never exceeds it."""
    problems = validate_user(policy, username=username, role=role, department=department,
                             clearance=clearance, locale=locale, email=email)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        problems.append(Problem.of("username", "err_exists", value=username))
    if problems:
        raise InvalidInput(problems, "user")
    user = User(username=username, display_name=display_name or username, role=role, department=department,
                clearance=clearance or policy.role(role).clearance, locale=locale, email=email, active=True,
                created_at=now)
    session.add(user)
    session.flush()
    audit.record(session, audit_ctx, at=now, actor=actor, action="user.add", subject_type="user",
                 subject_id=username, before=None,
                 after={"role": user.role, "department": user.department, "clearance": user.clearance,
                        "locale": user.locale})
    return user
