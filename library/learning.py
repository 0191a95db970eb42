"""Learning: each role's path of cases (policy ``learning.paths``) as learning tasks with due dates, their
completion (the case opened, then confirmed by the learner), reminders when due, the progress a department head
sees, and the case of the day for those who opted in.

Decisions are pure functions of policy, rows and the clock (``due_dates``, ``reminder_stage``, ``pick_daily``);
the effects are idempotent: a task is unique per learner and case, a reminder is an outbox row whose key holds
the task and its due date, the case of the day is unique per learner and day. Only cases the learner may read
(at their tier, in a live state) are ever assigned or shown; titles are rendered at the reader's tier."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy import case as when
from sqlalchemy.engine import Connection

from casebook.core import audit
from casebook.core.access_log import AccessEntry
from casebook.core.context import AppContext
from casebook.core.db import insert_if_absent, upsert
from casebook.core.errors import Forbidden, InvalidInput, NotFound, Problem
from casebook.core.users import Actor, User
from library.learning_models import CaseOfDayChoice, CaseOfDayShown, LearningTask
from lifecycle import states as S
from lifecycle.models import Case, CaseVersion
from lifecycle.service import CaseService
from notifications.audience import case_ref
from notifications.outbox import enqueue
from policies.learning import LearningPath
from library.titles import reader_title

TASKS = LearningTask.__table__
OPTINS = CaseOfDayChoice.__table__
SHOWN = CaseOfDayShown.__table__
CASES = Case.__table__
VERSIONS = CaseVersion.__table__
USERS = User.__table__
LOG = AccessEntry.__table__
#: States whose published version readers read: what a path or the case of the day may offer (never a retired,
#: archived or withdrawn case, nor one not yet published).
READABLE = (S.PUBLISHED, S.UPDATE_DUE, S.UPDATING)
DUE_SOON, OVERDUE = "due_soon", "overdue"


# -- pure decisions ----------------------------------------------------------------------------------------------

def due_dates(path: LearningPath, assigned_at: datetime, count: int) -> list[datetime]:
    """When each of ``count`` items is due: ``days_per_item`` after the one before, or all ``total_days`` after
    the assignment."""
    if path.days_per_item is not None:
        return [assigned_at + timedelta(days=path.days_per_item * (i + 1)) for i in range(count)]
    return [assigned_at + timedelta(days=path.total_days or 0)] * count


def reminder_stage(due_at: datetime, confirmed: bool, now: datetime, days_before: int) -> str | None:
    """Which reminder an unconfirmed task owes at ``now``: ``overdue`` once past due, ``due_soon`` within the
    policy's days before it, otherwise none (a confirmed task owes none)."""
    if confirmed:
        return None
    if now >= due_at:
        return OVERDUE
    if now >= due_at - timedelta(days=days_before):
        return DUE_SOON
    return None


def pick_daily(candidates: Sequence[int], recent: set[int], username: str, day: str) -> int | None:
    """One case id for one learner on one day: among the candidates not shown within the no-repeat window, a
    stable choice seeded by learner and day (a rerun picks the same; learners get different cases)."""
    fresh = sorted(c for c in candidates if c not in recent)
    if not fresh:
        return None
    seed = int.from_bytes(hashlib.sha256(f"{username}|{day}".encode()).digest()[:8], "big")
    return fresh[seed % len(fresh)]


def tags_match(query: dict[str, list[str]], tags: dict[str, Any] | None) -> bool:
    """A tag query holds when every facet of the query has one of its values among the case's tags."""
    tags = tags or {}
    return all(set(values) & set(tags.get(facet) or []) for facet, values in query.items())


# -- reading -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LearningItem:
    """One learning task as its learner sees it."""

    id: int
    case: str
    title: str
    position: int
    due: datetime
    opened: bool
    confirmed_at: datetime | None
    status: str          # open | overdue | done

    def as_json(self, tz: Any) -> dict[str, Any]:
        return {"id": self.id, "case": self.case, "title": self.title, "position": self.position,
                "due": self.due.astimezone(tz).isoformat(), "opened": self.opened, "status": self.status,
                "confirmed_at": self.confirmed_at.astimezone(tz).isoformat() if self.confirmed_at else None}


@dataclass(frozen=True)
class Progress:
    """One learner's progress, as a department head sees it (counts, no case content)."""

    username: str
    display_name: str
    department: str
    total: int
    done: int
    overdue: int
    next_due: datetime | None

    def as_json(self, tz: Any) -> dict[str, Any]:
        return {"username": self.username, "name": self.display_name, "department": self.department,
                "total": self.total, "done": self.done, "overdue": self.overdue,
                "next_due": self.next_due.astimezone(tz).isoformat() if self.next_due else None}


def _actor(conn: Connection, username: str) -> tuple[Actor, Any]:
    user = conn.execute(select(USERS).where(USERS.c.username == username)).one_or_none()
    if user is None or not user.active:
        raise NotFound.of("err_no_active_user", user=username)
    return Actor.of(user), user


def path_candidates(ctx: AppContext, conn: Connection, role: str) -> list[Any]:
    """Every case row ``role``'s path could offer, in path order, before the reader's rights are asked: listed
    keys in their order (a key not found or not readable now is skipped), or a tag query's matches newest first."""
    path = ctx.policy.doc.learning.paths.get(role)
    if path is None:
        return []
    live = and_(CASES.c.state.in_(READABLE), CASES.c.withdrawn_at.is_(None),
                CASES.c.published_version_no.is_not(None))
    if path.cases:
        rows = {r.key: r for r in conn.execute(select(CASES).where(CASES.c.key.in_(path.cases), live))}
        return [rows[k] for k in path.cases if k in rows]
    found = conn.execute(select(CASES, VERSIONS.c.document)
                         .join(VERSIONS, (VERSIONS.c.case_id == CASES.c.id)
                               & (VERSIONS.c.number == CASES.c.published_version_no))
                         .where(live).order_by(CASES.c.published_at.desc(), CASES.c.id.desc())).all()
    return [r for r in found if tags_match(path.tags, (r.document or {}).get("tags"))]


def path_cases(ctx: AppContext, conn: Connection, role: str, learner: Actor,
               candidates: list[Any] | None = None) -> list[Any]:
    """The first ``max_items`` of ``role``'s path that ``learner`` may read (``candidates``: the role's
    ``path_candidates`` when already known, e.g. for several new users of one role)."""
    path = ctx.policy.doc.learning.paths.get(role)
    if path is None:
        return []
    service = CaseService(ctx)
    rows = path_candidates(ctx, conn, role) if candidates is None else candidates
    return [r for r in rows if service.may_view(conn, r, learner)][:path.max_items]


def path_problems(ctx: AppContext) -> list[Problem]:
    """The policy's listed path cases that the store cannot offer (no such case, or not in a readable state):
    the part of the path references only the store can check (the schema checks roles, facets and key format)."""
    listed = {(role, i, key) for role, path in ctx.policy.doc.learning.paths.items() for i, key in enumerate(path.cases)}
    if not listed:
        return []
    with ctx.engine.connect() as conn:
        states = dict(conn.execute(select(CASES.c.key, CASES.c.state)
                                   .where(CASES.c.key.in_({k for _, _, k in listed}))).all())
    out = []
    for role, i, key in sorted(listed):
        if key not in states:
            out.append(Problem.of(f"learning.paths.{role}.cases.{i}", "err_no_case", case=key))
        elif states[key] not in READABLE:
            out.append(Problem.of(f"learning.paths.{role}.cases.{i}", "err_case_not_for_learners",
                                  case=key, state=states[key]))
    return out


def assign_path(ctx: AppContext, username: str, *, by: str = "system", ip: str | None = None,
                cache: dict[str, list[Any]] | None = None) -> int:
    """Give ``username`` their role's path as learning tasks (due dates from now); how many tasks are new.
    Running it again adds nothing already assigned. ``cache`` keeps each role's candidates across calls."""
    now = ctx.clock.now()
    with ctx.engine.begin() as conn:
        learner, user = _actor(conn, username)
        path = ctx.policy.doc.learning.paths.get(user.role)
        if path is None:
            return 0
        if cache is not None and user.role not in cache:
            cache[user.role] = path_candidates(ctx, conn, user.role)
        cases = path_cases(ctx, conn, user.role, learner, None if cache is None else cache[user.role])
        new = []
        for position, (case, due) in enumerate(zip(cases, due_dates(path, now, len(cases))), start=1):
            if insert_if_absent(conn, TASKS, {"username": username, "department": user.department, "path": user.role,
                                              "position": position, "case_id": case.id, "case_key": case.key,
                                              "assigned_at": now, "due_at": due, "opened_at": None,
                                              "confirmed_at": None, "policy_version": ctx.policy.version_tag},
                                ["username", "case_id"]):
                new.append(case.key)
        if new:
            audit.record(conn, ctx.audit, at=now, actor=by, action="learning.assign", subject_type="user",
                         subject_id=username, ip=ip, before=None, after={"path": user.role, "cases": new})
    return len(new)


def assign_new_users(ctx: AppContext) -> int:
    """Paths for active users created within the policy's ``new_user_days`` who have no learning task yet."""
    since = ctx.clock.now() - timedelta(days=ctx.policy.doc.learning.new_user_days)
    roles = list(ctx.policy.doc.learning.paths)
    with ctx.engine.connect() as conn:
        has_tasks = select(TASKS.c.id).where(TASKS.c.username == USERS.c.username).exists()
        names = list(conn.execute(select(USERS.c.username).where(
            USERS.c.active.is_(True), USERS.c.created_at >= since, USERS.c.role.in_(roles), ~has_tasks)
            .order_by(USERS.c.username)).scalars())
    cache: dict[str, list[Any]] = {}
    return sum(assign_path(ctx, name, cache=cache) for name in names)


def my_learning(ctx: AppContext, actor: Actor) -> list[LearningItem]:
    """The actor's learning tasks in path order; a case the actor may no longer read is left out."""
    now = ctx.clock.now()
    service = CaseService(ctx)
    out = []
    with ctx.engine.connect() as conn:
        rows = conn.execute(select(TASKS).where(TASKS.c.username == actor.username)
                            .order_by(TASKS.c.position, TASKS.c.id)).all()
        cases = _cases(conn, {r.case_id for r in rows})
        for r in rows:
            case = cases[r.case_id]
            if not service.may_view(conn, case, actor):
                continue
            status = "done" if r.confirmed_at else ("overdue" if r.due_at < now else "open")
            out.append(LearningItem(r.id, r.case_key, reader_title(ctx, conn, service, actor, case), r.position,
                                    r.due_at, r.opened_at is not None, r.confirmed_at, status))
    return out


def _cases(conn: Connection, ids: set[int]) -> dict[int, Any]:
    """Case rows by id (one query for a list of tasks)."""
    return {c.id: c for c in conn.execute(select(CASES).where(CASES.c.id.in_(ids)))} if ids else {}


def _task(conn: Connection, actor: Actor, task_id: int) -> Any:
    row = conn.execute(select(TASKS).where(TASKS.c.id == task_id)).one_or_none()
    if row is None or row.username != actor.username:
        raise NotFound.of("err_no_learning_task", task=task_id)
    return row


def mark_opened(ctx: AppContext, actor: Actor, task_id: int) -> str:
    """Record that the learner opened the task's case (the learning page's open link); the case key."""
    now = ctx.clock.now()
    with ctx.engine.begin() as conn:
        task = _task(conn, actor, task_id)
        case = conn.execute(select(CASES).where(CASES.c.id == task.case_id)).one()
        if not CaseService(ctx).may_view(conn, case, actor):
            raise Forbidden.of("err_no_longer_readable", user=actor.username, case=task.case_key)
        conn.execute(TASKS.update().where(TASKS.c.id == task_id, TASKS.c.opened_at.is_(None))
                     .values(opened_at=now))
    return task.case_key


def _viewed_since(conn: Connection, username: str, key: str, since: datetime) -> datetime | None:
    """The first read of ``key`` by ``username`` since ``since`` in the access log (page, API or CLI)."""
    return conn.execute(select(func.min(LOG.c.at)).where(LOG.c.actor == username, LOG.c.case_key == key,
                                                          LOG.c.action == "view", LOG.c.at >= since)).scalar()


def confirm(ctx: AppContext, actor: Actor, task_id: int, *, ip: str | None = None) -> bool:
    """The learner confirms a task whose case they opened (from the learning page, or any read of the case since
    it was assigned); True when newly done, False when it was done already. Unopened: refused, naming the rule."""
    now = ctx.clock.now()
    ctx.access_log.flush()  # reads still queued in this process count (written before this transaction begins)
    with ctx.engine.begin() as conn:
        task = _task(conn, actor, task_id)
        if task.confirmed_at is not None:
            return False
        case = conn.execute(select(CASES).where(CASES.c.id == task.case_id)).one()
        if not CaseService(ctx).may_view(conn, case, actor):
            raise Forbidden.of("err_no_longer_readable", user=actor.username, case=task.case_key)
        opened = task.opened_at or _viewed_since(conn, actor.username, task.case_key, task.assigned_at)
        if opened is None:
            raise InvalidInput([Problem.of("case", "err_open_before_confirming", case=task.case_key)],
                               "confirmation")
        won = conn.execute(TASKS.update().where(TASKS.c.id == task_id, TASKS.c.confirmed_at.is_(None))
                           .values(opened_at=opened, confirmed_at=now)).rowcount
        if won == 1:
            audit.record(conn, ctx.audit, at=now, actor=actor.username, action="learning.confirm",
                         subject_type="user", subject_id=actor.username, ip=ip, before=None,
                         after={"case": task.case_key, "task": task_id})
    return won == 1


def confirm_case(ctx: AppContext, actor: Actor, key: str, *, ip: str | None = None) -> bool:
    """``confirm`` by case key (the CLI and API name the case)."""
    with ctx.engine.connect() as conn:
        task_id = conn.execute(select(TASKS.c.id).where(TASKS.c.username == actor.username,
                                                        TASKS.c.case_key == key)).scalar()
    if task_id is None:
        raise NotFound.of("err_not_on_learning_path", case=key)
    return confirm(ctx, actor, task_id, ip=ip)


def may_see_progress(ctx: AppContext, actor: Actor) -> bool:
    return actor.is_system or actor.role in ctx.policy.doc.learning.progress_roles


def team_progress(ctx: AppContext, actor: Actor) -> list[Progress]:
    """Every learner's progress the actor may see: their department's when the role is department-scoped,
    everyone's otherwise (roles of policy ``learning.progress_roles``)."""
    if not may_see_progress(ctx, actor):
        raise Forbidden.of("err_may_not_see_progress", role=actor.role)
    now = ctx.clock.now()
    stmt = (select(TASKS.c.username, USERS.c.display_name, USERS.c.department,
                   func.count().label("total"),
                   func.count(TASKS.c.confirmed_at).label("done"),
                   func.sum(when((TASKS.c.confirmed_at.is_(None) & (TASKS.c.due_at < now), 1), else_=0))
                   .label("late"))
            .join(USERS, USERS.c.username == TASKS.c.username)
            .group_by(TASKS.c.username, USERS.c.display_name, USERS.c.department).order_by(TASKS.c.username))
    if not actor.is_system and ctx.policy.role(actor.role).department_scoped:
        stmt = stmt.where(USERS.c.department == actor.department)
    with ctx.engine.connect() as conn:
        rows = conn.execute(stmt).all()
        pending = dict(conn.execute(select(TASKS.c.username, func.min(TASKS.c.due_at))
                                    .where(TASKS.c.confirmed_at.is_(None)).group_by(TASKS.c.username)).all())
    return [Progress(r.username, r.display_name, r.department, int(r.total), int(r.done), int(r.late or 0),
                     pending.get(r.username)) for r in rows]


# -- reminders (flow) --------------------------------------------------------------------------------------------

def remind_due(ctx: AppContext) -> int:
    """Outbox reminders for unconfirmed tasks due soon or overdue (one per task, stage and due date)."""
    now = ctx.clock.now()
    days = ctx.policy.doc.learning.remind_days_before
    queued = 0
    with ctx.engine.begin() as conn:
        rows = conn.execute(select(TASKS).where(TASKS.c.confirmed_at.is_(None),
                                                TASKS.c.due_at <= now + timedelta(days=days))
                            .order_by(TASKS.c.due_at, TASKS.c.id)).all()
        cases = _cases(conn, {r.case_id for r in rows})
        for r in rows:
            stage = reminder_stage(r.due_at, False, now, days)
            if stage is None:
                continue
            case = cases[r.case_id]
            local_due = r.due_at.astimezone(ctx.clock.tz)
            queued += enqueue(conn, kind="learning_due", subject_id=r.case_key, recipient=r.username,
                              period=f"learning-{r.id}-{stage}-{local_due.date().isoformat()}", now=now,
                              payload={"case": case_ref(case, conn), "stage": stage,
                                       "due": local_due.strftime("%Y-%m-%d %H:%M")})
    return queued


def learning_tasks(ctx: AppContext) -> dict[str, int]:
    """The daily learning job: paths for new users, then reminders of due and overdue tasks."""
    return {"learning_assigned": assign_new_users(ctx), "learning_reminders": remind_due(ctx)}


# -- case of the day ---------------------------------------------------------------------------------------------

def case_of_day_enabled(ctx: AppContext, actor: Actor) -> bool:
    with ctx.engine.connect() as conn:
        return bool(conn.execute(select(OPTINS.c.enabled).where(OPTINS.c.username == actor.username)).scalar())


def set_case_of_day(ctx: AppContext, actor: Actor, enabled: bool, *, ip: str | None = None) -> bool:
    """Opt in to (or out of) the case of the day; audited when it changes. Returns the new setting."""
    now = ctx.clock.now()
    with ctx.engine.begin() as conn:
        before = conn.execute(select(OPTINS.c.enabled).where(OPTINS.c.username == actor.username)).scalar()
        if bool(before) != enabled:
            upsert(conn, OPTINS, {"username": actor.username, "enabled": enabled, "changed_at": now}, ["username"])
            audit.record(conn, ctx.audit, at=now, actor=actor.username, action="user.case_of_day",
                         subject_type="user", subject_id=actor.username, ip=ip,
                         before={"case_of_day": bool(before)}, after={"case_of_day": enabled})
    return enabled


def _day(ctx: AppContext) -> str:
    return ctx.clock.now().astimezone(ctx.clock.tz).date().isoformat()


def case_of_the_day(ctx: AppContext) -> dict[str, int]:
    """The daily flow: for each opted-in active user, one live case they may read that they were not shown within
    the policy's days, recorded for the day and sent through the outbox (a rerun the same day adds nothing)."""
    now = ctx.clock.now()
    day = _day(ctx)
    window = (now.astimezone(ctx.clock.tz) - timedelta(days=ctx.policy.doc.learning.case_of_day_no_repeat_days)
              ).date().isoformat()
    service = CaseService(ctx)
    picked = 0
    with ctx.engine.begin() as conn:
        people = conn.execute(select(USERS).join(OPTINS, OPTINS.c.username == USERS.c.username)
                              .where(OPTINS.c.enabled.is_(True), USERS.c.active.is_(True))
                              .order_by(USERS.c.username)).all()
        live = conn.execute(select(CASES).where(CASES.c.state.in_(READABLE), CASES.c.withdrawn_at.is_(None),
                                                CASES.c.published_version_no.is_not(None))
                            .order_by(CASES.c.id)).all()
        for user in people:
            if conn.execute(select(SHOWN.c.id).where(SHOWN.c.username == user.username, SHOWN.c.day == day)).first():
                continue
            actor = Actor.of(user)
            recent = set(conn.execute(select(SHOWN.c.case_id).where(SHOWN.c.username == user.username,
                                                                    SHOWN.c.day > window)).scalars())
            readable = {c.id: c for c in live if service.may_view(conn, c, actor)}
            chosen = pick_daily(list(readable), recent, user.username, day)
            if chosen is None:
                continue
            case = readable[chosen]
            if insert_if_absent(conn, SHOWN, {"username": user.username, "day": day, "case_id": case.id,
                                              "case_key": case.key, "shown_at": now}, ["username", "day"]):
                picked += 1
                enqueue(conn, kind="case_of_day", subject_id=case.key, recipient=user.username, period=day, now=now,
                        payload={"case": case_ref(case, conn), "day": day})
    return {"cases_of_the_day": picked}


@dataclass(frozen=True)
class DailyCase:
    key: str
    title: str
    day: str


def todays_case(ctx: AppContext, actor: Actor) -> DailyCase | None:
    """Today's case for the actor, if one was picked and the actor may still read it in a live state."""
    with ctx.engine.connect() as conn:
        row = conn.execute(select(CASES).join(SHOWN, SHOWN.c.case_id == CASES.c.id)
                           .where(SHOWN.c.username == actor.username, SHOWN.c.day == _day(ctx))).one_or_none()
        service = CaseService(ctx)
        if row is None or row.state not in READABLE or row.withdrawn_at is not None \
                or not service.may_view(conn, row, actor):
            return None
        return DailyCase(row.key, reader_title(ctx, conn, service, actor, row), _day(ctx))
