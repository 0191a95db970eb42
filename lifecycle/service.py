"""Case operations: create, edit (new version), fire lifecycle events, list allowed events.

Each operation is one transaction: the row change and its audit event commit together or not at all.
Racing writers on one case are stopped by the row's version column: exactly one wins.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import bindparam, case as when, literal, select, tuple_
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from casebook.core import audit
from casebook.core.db import Prepared, reads
from access.grants import has_grant
from access.rules import can_fire, can_view, reads_working_version, state_allows
from casebook.core.clock import add_months
from casebook.core.context import AppContext
from casebook.core.errors import (ConcurrentModification, Forbidden, IllegalTransition, InvalidInput, NotFound, Problem,
                                   Reason)
from casebook.core.users import Actor, User, get_user
from lifecycle import hooks
from lifecycle import states as S
from lifecycle.bounds import text_problem
from casebook.core.crypto import SealedStr, seal_for
from lifecycle.document import CaseDocument, document_fingerprint, merge_changes, parse_document
from lifecycle.machine import Outcome, defined_events, try_event
from lifecycle.models import Case, CaseVersion


@dataclass(frozen=True)
class CaseView:
    """A case as a caller sees it: the row's lifecycle facts plus one version's document."""

    key: str
    state: str
    review_level: int
    version_no: int
    published_version_no: int | None
    document: dict[str, Any]
    facts: dict[str, Any]
    case_id: int = 0
    viewer_is_author: bool = False


def _load(session: Session, key: str) -> Case:
    case = session.scalar(select(Case).where(Case.key == key))
    if case is None:
        raise NotFound.of("err_no_case", case=key)
    return case


def _version(session: Session, case: Case, number: int) -> CaseVersion:
    version = session.scalar(select(CaseVersion).where(CaseVersion.case_id == case.id, CaseVersion.number == number))
    if version is None:
        raise NotFound.of("err_no_version", case=case.key, number=number)
    return version


def _facts(case: Any) -> dict[str, Any]:
    """The lifecycle facts recorded before and after each change (works on ORM rows and Core rows)."""
    return {"state": case.state, "review_level": case.review_level, "version": case.current_version_no}


def _after(case: Any, changes: dict[str, Any]) -> dict[str, Any]:
    """The facts recorded after a transition: the row's before, with what the change sets."""
    return _facts(case) | {k: changes[k] for k in ("review_level", "state") if k in changes}


CASES = Case.__table__
# Built once so their compiled forms are cached (transitions are the hot path).
#: The columns a transition reads (of the dates only withdrawn_at, which the read rule of a refusal needs).
_TRANSITION_COLUMNS = ("id", "key", "state", "review_level", "reentry_level", "review_round", "library", "micro",
                       "department",
                       "classification", "owner_id", "author_id", "current_version_no", "published_version_no",
                       "withdrawn_at", "row_version")
_READ_CASE = Prepared(select(*(CASES.c[name] for name in _TRANSITION_COLUMNS)).where(CASES.c.key == bindparam("b_key")))
_READ_DOCUMENT = select(CaseVersion.__table__.c.document).where(
    CaseVersion.__table__.c.case_id == bindparam("b_id"), CaseVersion.__table__.c.number == bindparam("b_no"))
_UPDATE_CASE = Prepared(CASES.update().where(CASES.c.id == bindparam("b_id"),
                                             CASES.c.row_version == bindparam("b_rv")))


class CaseService:
    """The only code that changes a case row."""

    def __init__(self, ctx: AppContext) -> None:
        self.ctx = ctx
        self.policy = ctx.policy

    # ----- helpers -----
    def _submission_due(self, doc: CaseDocument) -> datetime | None:
        if doc.project_end is None:
            return None
        days = self.policy.doc.deadlines.submission.days_after_project_end
        tz = self.ctx.clock.tz
        return datetime.combine(doc.project_end + timedelta(days=days), time(23, 59, 59), tz)

    def _may_see(self, conn: Connection, case: Any, actor: Actor) -> bool:
        """Read access: the policy's rule, or an approved access request within the actor's clearance."""

        own = self._is_owner(case, actor)
        published, withdrawn = case.published_version_no is not None, case.withdrawn_at is not None
        if can_view(self.policy, actor, classification=case.classification, department=case.department,
                    is_owner=own, state=case.state, published=published, withdrawn=withdrawn):
            return True
        if not published and not withdrawn and case.state != S.DRAFT and self._reviews(conn, case, actor) and \
                can_view(self.policy, actor, classification=case.classification, department=case.department,
                         is_owner=own, state=case.state, published=published, reviews=True):
            return True  # the reviewers of its open task read a case before its publication
        if actor.is_system or not self.policy.may(actor.role, "case.read", own=False):
            return False
        if not state_allows(self.policy, actor, state=case.state, is_owner=own, published=published,
                            withdrawn=withdrawn):
            return False
        if self.policy.clearance_rank(actor.clearance) < self.policy.classification_rank(case.classification):
            return False
        return has_grant(conn, case.id, actor.username)

    def may_view(self, conn: Connection, case: Any, actor: Actor) -> bool:
        """The read rule for a case row already loaded (lists check each row without loading its content)."""
        return self._may_see(conn, case, actor)

    def _is_owner(self, case: Any, actor: Actor) -> bool:
        return actor.user_id is not None and actor.user_id in (case.owner_id, case.author_id)

    def _audit(self, db: Session | Connection, actor: Actor, action: str, case: Any, *, before: dict[str, Any] | None,
               after: dict[str, Any] | None, details: dict[str, Any] | None = None, ip: str | None = None,
               at: datetime | None = None) -> None:
        audit.record(db, self.ctx.audit, at=at or self.ctx.clock.now(), actor=actor.username, action=action,
                     subject_type="case", subject_id=case.key or str(case.id), before=before, after=after,
                     details=details, ip=ip)

    def _version_written(self, conn: Connection, case_id: int, number: int, document: dict[str, Any],
                         classification: str) -> None:
        for listener in self.ctx.hooks.version_listeners():
            listener(conn, self, case_id, number, document, classification)

    def _apply_document(self, case: Case, doc: CaseDocument, owner: User) -> None:
        case.title = doc.title or case.title
        case.library = doc.library or case.library
        case.classification = doc.classification or case.classification
        case.department = doc.department or case.department
        case.owner_id = owner.id
        case.micro = doc.micro
        case.project_start, case.project_end = doc.project_start, doc.project_end
        case.submission_due = self._submission_due(doc)
        was = case.title
        case.title = seal_for(self.ctx.engine, case.classification, str(case.title))  # encrypted at rest if policy says
        if isinstance(case.title, SealedStr) and not isinstance(was, SealedStr) and case.id is not None:
            flag_modified(case, "title")  # reclassified into an encrypted class: the same title, now sealed

    # ----- create / edit -----
    def create(self, actor: Actor, raw: Any, *, ip: str | None = None) -> str:
        """Capture a new case as a draft (version 1)."""
        if not actor.is_system and not self.policy.may(actor.role, "case.create", own=False):
            raise Forbidden.of("err_lacks_permission", role=actor.role, permission="case.create")
        doc = parse_document(self.policy, raw, required=self.policy.doc.intake.required_on_create)
        now = self.ctx.clock.now()
        with self.ctx.sessions.begin() as session:
            owner = self._owner(session, doc, actor)
            document = doc.model_dump(mode="json")
            document["owner"] = owner.username
            case = Case(title=doc.title or "", state=S.DRAFT, review_level=0, reentry_level=1, review_round=0,
                        library=doc.library or "", classification=doc.classification or "",
                        department=doc.department or "", owner_id=owner.id,
                        author_id=actor.user_id if actor.user_id is not None else owner.id, micro=doc.micro,
                        current_version_no=1, state_changed_at=now, policy_version=self.policy.version_tag,
                        created_at=now, updated_at=now, content_updated_at=now)
            self._apply_document(case, doc, owner)
            session.add(case)
            session.flush()
            case.key = f"CB-{case.id:06d}"
            session.add(CaseVersion(case_id=case.id, number=1, created_by=actor.username,
                                    document=seal_for(self.ctx.engine, case.classification, document),
                                    created_at=now, note="captured", policy_version=self.policy.version_tag,
                                    shingles=document_fingerprint(document)))
            session.flush()
            self._version_written(session.connection(), case.id, 1, document, case.classification)
            self._audit(session, actor, "case.create", case, before=None, after=_facts(case) | {"key": case.key},
                        ip=ip, at=now)
            return case.key

    def _owner(self, session: Session, doc: CaseDocument, actor: Actor) -> User:
        name = doc.owner or actor.username
        try:
            return get_user(session, name)
        except NotFound:
            raise InvalidInput([Problem.of("owner", "err_not_active_user", user=name)], "case") from None

    def edit(self, actor: Actor, key: str, changes: Any, *, note: str | None = None, ip: str | None = None) -> int:
        """Save changed fields as a new version; the published version stays readable meanwhile."""
        if not isinstance(changes, dict):
            raise InvalidInput([Problem.of("(document)", "err_document_mapping")], "case")
        if note is not None and (problem := text_problem(self.policy.doc.limits, "note", note)):
            raise InvalidInput([problem], "edit")
        now = self.ctx.clock.now()
        try:
            with self.ctx.sessions.begin() as session:
                case = _load(session, key)
                own = self._is_owner(case, actor)
                if not actor.is_system and not self.policy.may(actor.role, "case.edit", own=own):
                    raise Forbidden.of("err_lacks_permission_on", role=actor.role, permission="case.edit", case=key)
                if case.state not in S.EDITABLE_STATES:
                    raise IllegalTransition(key, "edit", case.state, self._allowed(session.connection(), case, actor),
                                            Reason("err_edit_states", states=sorted(S.EDITABLE_STATES)))
                current = _version(session, case, case.current_version_no).document
                merged = merge_changes(current, changes)
                doc = parse_document(self.policy, merged, required=self.policy.doc.intake.required_on_create)
                owner = self._owner(session, doc, actor)
                document = doc.model_dump(mode="json") | {"owner": owner.username}
                if document == current:
                    raise InvalidInput([Problem.of("(document)", "err_no_change")], "edit")
                before = _facts(case)
                case.current_version_no += 1
                self._apply_document(case, doc, owner)
                case.updated_at = case.content_updated_at = now
                session.add(CaseVersion(case_id=case.id, number=case.current_version_no,
                                        document=seal_for(self.ctx.engine, case.classification, document),
                                        created_by=actor.username, created_at=now, note=note,
                                        policy_version=self.policy.version_tag, shingles=document_fingerprint(document)))
                changed = sorted(k for k in set(document) | set(current) if document.get(k) != current.get(k))
                session.flush()
                self._version_written(session.connection(), case.id, case.current_version_no, document,
                                      case.classification)
                self._audit(session, actor, "case.edit", case, before=before, after=_facts(case),
                            details={"fields": changed, "note": note}, ip=ip, at=now)
                return case.current_version_no
        except StaleDataError:
            raise ConcurrentModification.of("err_changed_meanwhile", case=key) from None

    # ----- lifecycle events -----
    def _try(self, conn: Connection, case: Any, event: str, reason: str | None,
             scratch: dict[str, Any] | None = None) -> Outcome:
        """The machine's verdict, then the guards other packages contribute (e.g. blocking pre-checks)."""
        loaded: list[dict[str, Any]] = []

        def document() -> dict[str, Any]:
            if not loaded:
                loaded.append(conn.execute(_READ_DOCUMENT, {"b_id": case.id,
                                                            "b_no": case.current_version_no}).scalar_one())
            return loaded[0]

        outcome = try_event(self.policy, case.state, event, library=case.library, micro=case.micro,
                            review_level=case.review_level, reentry_level=case.reentry_level, document=document,
                            reason=reason)
        if outcome.ok:
            scratch = {} if scratch is None else scratch
            problems = [p for check in self.ctx.hooks.guards_for(event) for p in check(conn, self, case, document(), scratch)]
            if problems:
                return Outcome(False, outcome.source, outcome.source, "; ".join(problems))
        return outcome

    def _allowed(self, conn: Connection, case: Any, actor: Actor) -> list[str]:
        own = self._is_owner(case, actor)
        out = []
        for event in defined_events(self.policy, case.state):
            if not can_fire(self.policy, actor, event, department=case.department, is_owner=own)[0]:
                continue
            if self._refusal(conn, case, actor, event):
                continue
            if self._try(conn, case, event, "(listing)", {"listing": True}).ok:
                out.append(event)
        return out

    @reads
    def allowed_events(self, actor: Actor, key: str) -> list[str]:
        with self.ctx.sessions() as session:
            return self._allowed(session.connection(), _load(session, key), actor)

    def _refusal(self, conn: Connection, case: Any, actor: Actor, event: str) -> str:
        """The first refusal an installed package has for this actor and event (e.g. separation of duties)."""
        for refuse in self.ctx.hooks.refusals():
            reason = refuse(conn, self, case, actor, event)
            if reason:
                return reason
        return ""

    def fire(self, actor: Actor, key: str, event: str, *, reason: str | None = None, ip: str | None = None,
             conn: Connection | None = None, details: dict[str, Any] | None = None) -> str:
        """Apply one lifecycle event; refuse with the current state and the allowed events if it may not happen.

        Given ``conn``, it runs inside the caller's transaction (a review decision, a flow batch).
        """
        if reason is not None and (problem := text_problem(self.policy.doc.limits, "reason", reason)):
            raise InvalidInput([problem], "event")
        if conn is not None:
            return self._fire(conn, actor, key, event, reason, ip, details)
        with self.ctx.engine.begin() as own:
            return self._fire(own, actor, key, event, reason, ip, details)

    def _fire(self, conn: Connection, actor: Actor, key: str, event: str, reason: str | None,
              ip: str | None, details: dict[str, Any] | None = None) -> str:
        """The hot path, in Core: read the row, run the machine, versioned UPDATE, append the audit event."""
        case = _READ_CASE.one_or_none(conn, {"b_key": key})
        if case is None:
            raise NotFound.of("err_no_case", case=key)
        refusal = ""
        if event in self.policy.doc.event_permissions:
            own = self._is_owner(case, actor)
            refusal = can_fire(self.policy, actor, event, department=case.department, is_owner=own)[1]
        else:
            refusal = Reason("err_unknown_event", event=event)
        refusal = refusal or self._refusal(conn, case, actor, event)
        scratch: dict[str, Any] = {"details": details or {}}
        if not refusal:
            outcome = self._try(conn, case, event, reason, scratch)
            refusal = "" if outcome.ok else outcome.reason
        if refusal:
            if not actor.is_system and not self._may_see(conn, case, actor):
                # Someone who may not read the case learns nothing about it, not even its state.
                raise Forbidden.of("err_may_not_view", user=actor.username, case=key)
            raise IllegalTransition(key, event, case.state, self._allowed(conn, case, actor), refusal)
        now = self.ctx.clock.now()
        changes = self._effects(case, outcome.source, outcome.dest, now) | {
            "state": outcome.dest, "state_changed_at": now, "updated_at": now,
            "policy_version": self.policy.version_tag, "row_version": case.row_version + 1}
        if _UPDATE_CASE.execute(conn, changes | {"b_id": case.id, "b_rv": case.row_version}) != 1:
            raise ConcurrentModification.of("err_changed_event_not_applied", case=key, event=event)
        before, after = _facts(case), _after(case, changes)
        extra = (details or {}) | ({"reason": reason} if reason else {})
        self._audit(conn, actor, f"case.{event}", case, before=before, after=after, details=extra or None, ip=ip,
                    at=now)  # the event's time is the transition's, as stored on the row
        applied = hooks.TransitionEvent(conn, self, case, event, outcome.source, outcome.dest, actor, now, reason,
                                        details or {}, scratch)
        for listener in self.ctx.hooks.listeners():
            listener(applied)
        for batch_listener in self.ctx.hooks.batch_listeners():
            batch_listener([applied])
        return outcome.dest

    def fire_batch(self, actor: Actor, rows: Sequence[Any], event: str, *, conn: Connection,
                   reason: str | None = None) -> list[tuple[Any, str]]:
        """Apply one event to many cases in the caller's transaction, set-based (the scheduled jobs' batches).

        Each case is decided on its own exactly as ``fire`` decides (permission, machine, guards); then one UPDATE
        moves every case that may go (each by its id and row version), one multi-row INSERT appends their audit
        events (one per transition, chained in row order) and the listeners see each transition. ``rows`` are
        full case rows the caller read in this transaction and holds (FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE
        on SQLite); a case that may not go, or changed meanwhile, is skipped as a refused flow transition is.
        Returns [(row before the change, destination)] of the cases moved, in row order.
        """
        now = self.ctx.clock.now()
        if event not in self.policy.doc.event_permissions:
            raise ValueError(f"unknown event '{event}'")
        decided: list[tuple[Any, Outcome, dict[str, Any], dict[str, Any]]] = []
        for case in rows:
            own = self._is_owner(case, actor)
            if can_fire(self.policy, actor, event, department=case.department, is_owner=own)[1] or \
                    self._refusal(conn, case, actor, event):
                continue
            scratch: dict[str, Any] = {"details": {}}
            outcome = self._try(conn, case, event, reason, scratch)
            if outcome.ok:
                decided.append((case, outcome, self._effects(case, outcome.source, outcome.dest, now)
                                | {"state": outcome.dest}, scratch))
        if not decided:
            return []
        moved = set(conn.execute(self._batch_update(decided, now)).scalars())
        done = [d for d in decided if d[0].id in moved]
        details = {"reason": reason} if reason else None
        audit.record_many(conn, self.ctx.audit, [
            {"at": now, "actor": actor.username, "action": f"case.{event}", "subject_type": "case",
             "subject_id": case.key or str(case.id), "before": _facts(case), "after": _after(case, changes),
             "details": details} for case, _, changes, _ in done])
        applied = [hooks.TransitionEvent(conn, self, case, event, outcome.source, outcome.dest, actor, now, reason, {},
                                         scratch) for case, outcome, _, scratch in done]
        for one in applied:
            for listener in self.ctx.hooks.listeners():
                listener(one)
        for batch_listener in self.ctx.hooks.batch_listeners():
            batch_listener(applied)
        return [(case, outcome.dest) for case, outcome, _, _ in done]

    def _batch_update(self, decided: list[tuple[Any, Outcome, dict[str, Any], dict[str, Any]]], now: datetime) -> Any:
        """One UPDATE for a batch of decided transitions: a column every case sets alike gets one value, one that
        differs (e.g. expiry by library) a CASE by id; each case only at the row version it was read with."""
        ids = [case.id for case, *_ in decided]
        values: dict[str, Any] = {"state_changed_at": now, "updated_at": now,
                                  "policy_version": self.policy.version_tag, "row_version": CASES.c.row_version + 1}
        for name in dict.fromkeys(k for _, _, changes, _ in decided for k in changes):
            column = CASES.c[name]
            groups: dict[Any, list[int]] = {}
            for case, _, changes, _ in decided:
                if name in changes:
                    groups.setdefault(changes[name], []).append(case.id)
            if len(groups) == 1 and len(next(iter(groups.values()))) == len(ids):
                values[name] = literal(next(iter(groups)), column.type)
            else:
                values[name] = when(*[(CASES.c.id.in_(group), literal(value, column.type))
                                      for value, group in groups.items()], else_=column)
        versions = [(case.id, case.row_version) for case, *_ in decided]
        return (CASES.update().where(CASES.c.id.in_(ids), tuple_(CASES.c.id, CASES.c.row_version).in_(versions))
                .values(values).returning(CASES.c.id))

    def _effects(self, case: Any, source: str, dest: str, now: datetime) -> dict[str, Any]:
        """Row facts that follow from entering ``dest`` (dates the flows read live in columns)."""
        changes: dict[str, Any] = {}
        if dest == S.SUBMITTED:
            changes["submitted_at"] = now
            if source != S.RETURNED:  # a resubmit continues the round; a new submit starts one
                changes["reentry_level"] = 1
                changes["review_round"] = case.review_round + 1
        if dest.startswith("review_l"):
            changes["review_level"] = int(dest.removeprefix("review_l"))
        if dest == S.RETURNED:
            same = self.policy.doc.review.return_reentry == "same_level"
            changes["reentry_level"] = case.review_level if same else 1
        if dest == S.WITHDRAWN:
            changes["withdrawn_at"] = now
        if dest == S.PUBLISHED:
            months = self.policy.doc.libraries[case.library].validity_months
            changes |= {"published_version_no": case.current_version_no, "published_at": now,
                        "expires_at": add_months(now, months), "content_updated_at": now}
        return changes

    # ----- reading -----
    def reads_working_version(self, conn: Connection, case: Any, actor: Actor) -> bool:
        """Whether the actor reads a case's working version (author, owner, reviewers of its open task, the roles
        policy names); everyone else reads its published version while the next one is prepared."""
        own = self._is_owner(case, actor)
        return reads_working_version(self.policy, actor, is_owner=own) or \
            reads_working_version(self.policy, actor, is_owner=own, reviews=self._reviews(conn, case, actor))

    def _reviews(self, conn: Connection, case: Any, actor: Actor) -> bool:
        """Whether the actor reviews the case's open task (the review package's hook says)."""
        return any(check(conn, case, actor) for check in self.ctx.hooks.working_readers())

    @reads
    def view(self, actor: Actor, key: str, *, version: int | None = None, published: bool = False) -> CaseView:
        with self.ctx.sessions() as session:
            case = _load(session, key)
            if not self._may_see(session.connection(), case, actor):
                raise Forbidden.of("err_may_not_view_scope", user=actor.username, case=key,
                                   classification=case.classification, department=case.department)
            if self.reads_working_version(session.connection(), case, actor):
                number = version or (case.published_version_no if published else case.current_version_no)
            else:  # readers: the published version, nothing in progress and no other version
                number = case.published_version_no
                if version is not None and version != number:
                    raise (Forbidden.of("err_published_only_prep", user=actor.username, case=key, number=number,
                                        version=version) if number else
                           Forbidden.of("err_published_only", user=actor.username, case=key))
            if number is None:
                raise NotFound.of("err_no_published", case=key)
            doc = _version(session, case, number).document
            facts = {"title": case.title, "library": case.library, "classification": case.classification,
                     "department": case.department, "micro": case.micro,
                     "submission_due": case.submission_due.isoformat() if case.submission_due else None,
                     "published_at": case.published_at.isoformat() if case.published_at else None,
                     "expires_at": case.expires_at.isoformat() if case.expires_at else None,
                     "policy_version": case.policy_version}
            return CaseView(case.key or "", case.state, case.review_level, number, case.published_version_no, doc,
                            facts, case.id, self._is_owner(case, actor))

    @reads
    def history(self, actor: Actor, key: str, *,
                events: bool = True) -> tuple[list[CaseVersion], list[audit.AuditEvent]]:
        """The versions and (unless ``events`` is False: readers without the audit permission) the audit trail;
        a reader who sees only the published version lists only that one."""
        shown = self.view(actor, key)  # same read check
        with self.ctx.sessions() as session:
            case = _load(session, key)
            stmt = select(CaseVersion).where(CaseVersion.case_id == case.id).order_by(CaseVersion.number)
            if not self.reads_working_version(session.connection(), case, actor):
                stmt = stmt.where(CaseVersion.number == shown.version_no)
            versions = list(session.scalars(stmt))
            return versions, audit.events_for(session, "case", key) if events else []
