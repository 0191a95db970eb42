"""Delivering the outbox after commit: claim a batch (SKIP LOCKED on PostgreSQL), render, send, record each
result at once. A crash mid-batch leaves claimed rows that come back after their lease; a failure is retried
with exponential backoff and, after the policy's attempts, dead-lettered with an alert to operations. A poison
row (its template cannot render it, the channel refuses it for good) is dead-lettered at once with its error,
and the rest of its batch is delivered."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.engine import Connection

from casebook.core.context import AppContext
from casebook.core.db import skip_locked
from casebook.core.users import Actor, User
from notifications.announce import group_as_recipient, is_group
from notifications.channels import Envelope, send_chat, send_email_batch
from notifications.models import DEAD, PENDING, SENDING, SENT, OutboxMessage, Preference, picked
from notifications.outbox import enqueue
from notifications.render import Recipient, render_message
from policies.loader import Policy

OUTBOX = OutboxMessage.__table__
USERS = User.__table__
PREFS = Preference.__table__


@dataclass
class DeliveryReport:
    sent: int = 0
    failed: int = 0
    dead: int = 0
    deferred: int = 0
    batches: int = 0
    errors: list[str] = field(default_factory=list)


def recipients(conn: Connection, usernames: set[str]) -> dict[str, Recipient]:
    rows = conn.execute(select(USERS, PREFS.c.channel, PREFS.c.locale.label("pref_locale"), PREFS.c.chat_url)
                        .outerjoin(PREFS, PREFS.c.username == USERS.c.username)
                        .where(USERS.c.username.in_(usernames))).all()
    return {r.username: Recipient(Actor.of(r), r.email,
                                  r.pref_locale or r.locale, r.chat_url, r.channel or "email") for r in rows}


def quiet_until(conn: Connection, username: str, local_now: datetime) -> datetime | None:
    """The end of the recipient's quiet hours if ``local_now`` falls inside them."""
    row = conn.execute(select(PREFS.c.quiet_start, PREFS.c.quiet_end).where(PREFS.c.username == username)).first()
    if not row or not row.quiet_start or not row.quiet_end:
        return None
    start, end = time.fromisoformat(row.quiet_start), time.fromisoformat(row.quiet_end)
    t = local_now.time()
    inside = (start <= t < end) if start < end else (t >= start or t < end)
    if not inside:
        return None
    day = local_now.date() if t < end else local_now.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=local_now.tzinfo)


def pick_statement(conn: Connection, now: datetime, limit: int) -> Any:
    """The next ``limit`` due rows in (next attempt, id) order: a walk of ix_outbox_due within the pending status
    (delivered history, most of the table, is never read)."""
    pick = (select(OUTBOX.c.id).where(OUTBOX.c.status == PENDING, OUTBOX.c.digest.is_(False),
                                      OUTBOX.c.next_attempt_at <= now)
            .order_by(OUTBOX.c.next_attempt_at, OUTBOX.c.id).limit(limit))
    return skip_locked(conn, pick)


def _claim(ctx: AppContext, now: datetime, limit: int) -> list[Any]:
    """Take up to ``limit`` due rows for this worker (after returning rows whose lease ran out)."""
    token = uuid.uuid4().hex
    with ctx.engine.begin() as conn:
        conn.execute(update(OUTBOX).where(OUTBOX.c.status == SENDING, OUTBOX.c.lease_until < now)
                     .values(status=PENDING, claimed_by=None))
        ids = list(conn.execute(pick_statement(conn, now, limit)).scalars())
        if not ids:
            return []
        conn.execute(update(OUTBOX).where(picked(ids, PENDING)).values(
            status=SENDING, claimed_by=token,
            lease_until=now + timedelta(seconds=ctx.policy.doc.notifications.lease_seconds)))
        # By id first (claimed_by has no index): the rows of this batch that this worker's update took.
        return list(conn.execute(select(OUTBOX).where(OUTBOX.c.id.in_(ids), OUTBOX.c.claimed_by == token)
                                 .order_by(OUTBOX.c.id)))


def dead_letter(conn: Connection, policy: Policy, row: Any, attempts: int, error: str, now: datetime) -> None:
    """Give up on one row: it is marked dead with its error, and the policy's dead-letter role is alerted."""
    role = policy.doc.notifications.dead_letter_role
    conn.execute(update(OUTBOX).where(OUTBOX.c.id == row.id).values(
        status=DEAD, attempts=attempts, last_error=error, lease_until=None))
    ops = conn.execute(select(USERS.c.username).where(USERS.c.role == role, USERS.c.active.is_(True))).scalars()
    for username in ops:
        if row.kind != "dead_letter" or row.recipient != username:
            enqueue(conn, kind="dead_letter", subject_id=row.key[:300], recipient=username, period="dead",
                    payload={"failed_key": row.key, "failed_kind": row.kind, "failed_recipient": row.recipient,
                             "attempts": attempts, "error": error[:500]}, now=now, digestible=False)


def _record(ctx: AppContext, row: Any, error: str | None, now: datetime, report: DeliveryReport, channel: str,
            *, permanent: bool = False) -> None:
    """One result, committed on its own so a crash right after never resends what was accepted."""
    policy = ctx.policy.doc.notifications
    with ctx.engine.begin() as conn:
        if error is None:
            done = conn.execute(update(OUTBOX).where(OUTBOX.c.id == row.id, OUTBOX.c.status == SENDING).values(
                status=SENT, sent_at=now, channel=channel, attempts=row.attempts + 1, lease_until=None,
                last_error=None)).rowcount
            report.sent += done
            return
        attempts = row.attempts + 1
        report.errors.append(f"{row.key}: {error}")
        if permanent or attempts >= policy.max_attempts:
            dead_letter(conn, ctx.policy, row, attempts, error, now)
            report.dead += 1
            return
        delay = min(policy.backoff_seconds * 2 ** (attempts - 1), policy.backoff_max_seconds)
        conn.execute(update(OUTBOX).where(OUTBOX.c.id == row.id).values(
            status=PENDING, attempts=attempts, last_error=error, lease_until=None, claimed_by=None,
            next_attempt_at=now + timedelta(seconds=delay)))
        report.failed += 1


def deliver(ctx: AppContext, *, max_batches: int | None = None, crash_after: int | None = None) -> DeliveryReport:
    """Send everything due now, batch by batch. ``crash_after`` (tests) stops the process after that many
    accepted messages, as a kill would."""
    report = DeliveryReport()
    now = ctx.clock.now()
    local_now = now.astimezone(ctx.clock.tz)
    size = ctx.policy.doc.notifications.batch_size
    while max_batches is None or report.batches < max_batches:
        rows = _claim(ctx, now, size)
        if not rows:
            break
        report.batches += 1
        groups = {r.recipient for r in rows if is_group(r.recipient)}
        with ctx.engine.connect() as conn:
            people = recipients(conn, {r.recipient for r in rows} - groups)
            quiet = {u: quiet_until(conn, u, local_now) for u in people}
        for group in groups:   # role chat groups: their URL, the announcement locale, the role's tier
            if (as_recipient := group_as_recipient(ctx.policy, ctx.settings, group)) is not None:
                people[group] = as_recipient
        mail: list[tuple[Any, Envelope]] = []
        for row in rows:
            person = people.get(row.recipient)
            if person is None:
                why = (f"no chat group is configured for role '{row.recipient.split(':', 1)[1]}' "
                       "(CASEBOOK_CHAT_GROUPS)" if is_group(row.recipient) else f"unknown recipient '{row.recipient}'")
                _record(ctx, row, why, now, report, "none", permanent=True)
                continue
            if quiet.get(row.recipient) and row.kind != "dead_letter":
                with ctx.engine.begin() as conn:
                    conn.execute(update(OUTBOX).where(OUTBOX.c.id == row.id).values(
                        status=PENDING, claimed_by=None, lease_until=None, next_attempt_at=quiet[row.recipient]))
                report.deferred += 1
                continue
            try:
                message = render_message(ctx.policy, row.kind, row.payload, person)
            except Exception as exc:  # noqa: BLE001 - a poison row is dead-lettered, the batch goes on
                _record(ctx, row, f"cannot be rendered: {type(exc).__name__}: {exc}", now, report, "none",
                        permanent=True)
                continue
            if person.channel in ("chat", "both") and person.chat_url:
                error = send_chat(person.chat_url, message)
                if person.channel == "chat" or error:
                    _record(ctx, row, error, now, report, "chat", permanent=getattr(error, "permanent", False))
                    continue
            if not person.email:
                _record(ctx, row, f"user '{row.recipient}' has no e-mail address", now, report, "email",
                        permanent=True)
                continue
            mail.append((row, Envelope(row.key, person.email, message)))
        accepted = [0]

        def on_result(i: int, error: str | None) -> None:
            _record(ctx, mail[i][0], error, now, report, "email", permanent=getattr(error, "permanent", False))
            if error is None:
                accepted[0] += 1
                if crash_after is not None and accepted[0] >= crash_after:
                    raise SystemExit("simulated crash in the middle of a delivery batch")

        send_email_batch(ctx.settings, [env for _, env in mail], on_result)
    return report
