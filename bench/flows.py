"""Flows at scale: (1) ``simulate`` wall time for N cases over D days; (2) delivering M notifications as
digests to U users on a local SMTP server: messages/s over one connection per batch vs one connection per
message, measured side by side in one run.

Usage: python bench/flows.py [--cases 10000 --days 400] [--messages 100000 --users 10000] [--skip-simulate]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert, select  # noqa: E402

from casebook import store  # noqa: E402
from casebook.core.clock import FixedClock  # noqa: E402
from casebook.assembly import build_context  # noqa: E402
from casebook.core.settings import Settings  # noqa: E402
from casebook.simulate import simulate  # noqa: E402
from casebook.core.users import User  # noqa: E402
from notifications import channels  # noqa: E402
from notifications.delivery import deliver, recipients  # noqa: E402
from notifications.render import render_message  # noqa: E402
from notifications.digests import daily_digests  # noqa: E402
from notifications.models import OutboxMessage, Preference  # noqa: E402
from notifications.sink import SinkProcess  # noqa: E402

OUTBOX = OutboxMessage.__table__


def seed(ctx, messages: int, users: int) -> None:
    now = ctx.clock.now()
    with ctx.engine.begin() as conn:
        conn.execute(insert(User.__table__), [
            {"username": f"u{i}", "display_name": f"u{i}", "role": "staff", "department": "marketing",
             "clearance": "internal", "locale": "zh-Hans", "email": f"u{i}@example.test", "active": True,
             "created_at": now} for i in range(users)])
        conn.execute(insert(Preference.__table__), [{"username": f"u{i}", "channel": "email", "mode": "digest"}
                                                    for i in range(users)])
        ref = {"key": "CB-1", "title": "社群快閃店復盤", "classification": "public", "department": "marketing",
               "author_id": 0, "owner_id": 0}
        for start in range(0, messages, 10000):
            conn.execute(insert(OutboxMessage.__table__), [
                {"key": f"stale_case|CB-{n}|u{n % users}|p", "kind": "stale_case", "recipient": f"u{n % users}",
                 "subject_id": f"CB-{n}", "period": "p", "payload": {"case": ref, "last_update": "2026-05-01"},
                 "digest": True, "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now}
                for n in range(start, min(messages, start + 10000))])


def mail_bench(messages: int, users: int) -> None:
    home = Path(tempfile.mkdtemp(prefix="cb-flows-"))
    with SinkProcess() as sink:
        settings = Settings(home=home, db_url=f"sqlite:///{home}/b.db", audit_key="bench", smtp_port=sink.port)
        ctx = build_context(settings=settings, clock=FixedClock(datetime(2026, 11, 2, 8)))
        store.upgrade(ctx.engine)
        seed(ctx, messages, users)
        start = time.perf_counter()
        digests = daily_digests(ctx)
        folded = time.perf_counter() - start
        start = time.perf_counter()
        report = deliver(ctx)
        batched = time.perf_counter() - start
        assert report.sent == digests == users and sink.duplicates() == 0, (report, digests)
        # SMTP alone, same real digests (rendered for their recipients beforehand), no database work: one
        # connection per batch of the policy's size against one connection per message.
        with ctx.engine.connect() as conn:
            rows = conn.execute(select(OUTBOX).where(OUTBOX.c.kind == "reviewer_digest")).all()
            people = recipients(conn, {r.recipient for r in rows})
        rendered = [(r, render_message(ctx.policy, r.kind, r.payload, people[r.recipient])) for r in rows]
        envs = [channels.Envelope(r.key + "|batch", people[r.recipient].email, m) for r, m in rendered]
        size = ctx.policy.doc.notifications.batch_size
        start = time.perf_counter()
        for i in range(0, len(envs), size):
            channels.send_email_batch(settings, envs[i:i + size], lambda i, e: None)
        smtp_batched = time.perf_counter() - start
        start = time.perf_counter()
        for r, m in rendered:
            channels.send_email_batch(settings, [channels.Envelope(r.key + "|single", people[r.recipient].email, m)],
                                      lambda i, e: None)
        single = time.perf_counter() - start
        assert sink.count() == 3 * users and sink.duplicates() == 0, (sink.count(), sink.duplicates())
        ctx.close()
    print(f"{messages} notifications to {users} users folded into {digests} digests in {folded:.1f} s")
    print(f"full delivery path (claim, recipients, render through redaction, SMTP, commit each result): "
          f"{users / batched:.0f} messages/s")
    print(f"SMTP only, one connection per batch of {size}: {users / smtp_batched:8.0f} messages/s")
    print(f"SMTP only, one connection per message:   {users / single:8.0f} messages/s")
    print(f"ratio per batch / per message (SMTP only): {single / smtp_batched:8.2f}")
    print(f"notifications covered per second (folding + full delivery): {messages / (folded + batched):.0f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=10000)
    parser.add_argument("--days", type=int, default=400)
    parser.add_argument("--messages", type=int, default=100000)
    parser.add_argument("--users", type=int, default=10000)
    parser.add_argument("--skip-simulate", action="store_true")
    args = parser.parse_args()
    if not args.skip_simulate:
        start = time.perf_counter()
        result = simulate(args.cases, args.days, seed=1)
        wall = time.perf_counter() - start
        print(f"simulate {args.cases} cases x {args.days} days: {wall:.0f} s wall "
              f"({wall / args.days:.2f} s per simulated day); {result}")
    mail_bench(args.messages, args.users)


if __name__ == "__main__":
    main()
