"""A skewed case store for due-work plans and benchmarks, bulk-inserted into the project's own schema.

``build(ctx, cases=N)`` fills a migrated, empty store with N cases of which about 1 % are due for each scheduled
job at ``NOW`` (drafts past or near their submission deadline, live cases past their validity, stale published
cases, approved cases, scheduled cases, overdue review tasks) and the rest are not: most published and fresh,
others archived, in review on time, or drafts with a distant deadline. The due sets are disjoint, so every job
can run on one copy of the store without changing another job's due set. Rows are written with multi-row
INSERTs (executemany) in chunks, never through the state machine: this builds the *shape* of a large library in
seconds; the audit chain starts empty (each shard's head is made by its first append). Every version gets its stored
findings and per-tier renderings, as capture gives a real store (``redaction.stored.bulk_rows``): otherwise
publishing would detect the version first and the publish figures would measure detection. The texts come from a
small pool with figures and names in it, so the analyzer runs once per distinct text. Deterministic for a given
``seed``. Statistics are refreshed afterwards, as after any bulk load.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from casebook.core.clock import add_months
from casebook.core.context import AppContext
from casebook.core.db import refresh_statistics
from casebook.core.users import User
from lifecycle import states as S
from lifecycle.models import Case, CaseVersion
from notifications.models import OutboxMessage
from redaction import stored
from review.models import ReviewTask

TZ = ZoneInfo("Asia/Shanghai")
#: The moment the store is due at: a Monday morning (a working day in the policy's calendar).
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=TZ)
DEPARTMENTS = [f"dept{i:02d}" for i in range(20)]
#: Kinds of due work, each ``share`` of the store (1 % by default).
DUE_KINDS = ("reminders", "expiry", "staleness", "approved", "scheduled", "review")
CHUNK = 5_000
#: The pool version texts come from: a figure and a person to redact in most of them.
TITLES = [f"{place}門店會員活動覆盤 {n}" for place in ("華東", "華南", "西南", "華北") for n in range(1, 6)]
BACKGROUNDS = [f"活動預算{budget}萬元,由{name}負責執行,轉化率提升{rate}%。"
               for budget in (30, 45, 80, 120) for name in ("陳經理", "李主管", "王總監") for rate in (8, 12.5)]


@dataclass(frozen=True)
class Layout:
    """How many cases of each kind the store holds (``due[kind]`` rows are due for that job at NOW)."""

    cases: int
    due: dict[str, int]


def _users(ctx: AppContext, now: datetime) -> list[dict[str, Any]]:
    """Authors in every department, a head per department and the central roles the jobs notify."""
    clearance = {name: role.clearance for name, role in ctx.policy.doc.roles.items()}
    specs = [(f"staff{i:04d}", "staff", DEPARTMENTS[i % len(DEPARTMENTS)]) for i in range(1_000)]
    specs += [(f"head_{d}", "department_head", d) for d in DEPARTMENTS]
    specs += [(f"spec{i}", "case_specialist", "ops") for i in range(10)]
    specs += [(f"committee{i}", "committee_member", "committee") for i in range(5)]
    specs += [(f"ops{i}", "operations", "ops") for i in range(3)]
    return [{"id": n + 1, "username": u, "display_name": u, "role": r, "department": d, "clearance": clearance[r],
             "locale": "zh-Hant", "email": f"{u}@example.test", "active": True, "created_at": now,
             "password_hash": None, "frozen_reason": None} for n, (u, r, d) in enumerate(specs)]


def build(ctx: AppContext, cases: int, *, share: float = 0.01, seed: int = 7, now: datetime = NOW,
          versions: bool = True) -> Layout:
    """Fill the (migrated, empty) store; returns what it holds. ``versions`` adds one small version per case."""
    rng = random.Random(seed)
    policy = ctx.policy
    libraries = list(policy.doc.libraries)
    stale_months = policy.doc.lifecycle.staleness_months
    due_n = max(1, int(cases * share))
    kinds = [k for k in DUE_KINDS for _ in range(due_n)]
    rest = cases - len(kinds)
    # Not due: drafts with a distant deadline, reviews on time, archived, the bulk published and fresh.
    kinds += ["draft_later"] * (rest * 4 // 100) + ["review_later"] * (rest * 3 // 100)
    kinds += ["archived"] * (rest * 10 // 100)
    kinds += ["published"] * (cases - len(kinds))
    rng.shuffle(kinds)
    users = _users(ctx, now)
    staff = [u for u in users if u["role"] == "staff"]
    tasks: list[dict[str, Any]] = []
    rows: list[dict[str, Any]] = []
    docs: list[dict[str, Any]] = []
    minute = timedelta(minutes=1)
    for n, kind in enumerate(kinds, start=1):
        author = staff[n % len(staff)]
        library = libraries[n % len(libraries)]
        created = now - timedelta(days=400 + n % 300)
        row: dict[str, Any] = {
            "id": n, "key": f"CB-{n:07d}", "title": TITLES[n % len(TITLES)], "review_level": 0, "reentry_level": 1,
            "review_round": 1, "library": library, "classification": "internal", "department": author["department"],
            "owner_id": author["id"], "author_id": author["id"], "micro": False, "project_start": None,
            "project_end": None, "submission_due": None, "submitted_at": None, "current_version_no": 1,
            "published_version_no": None, "published_at": None, "content_updated_at": created, "expires_at": None,
            "state_changed_at": created, "policy_version": policy.version_tag, "created_at": created,
            "updated_at": created, "row_version": 1}
        if kind in ("reminders", "draft_later"):
            offset = -rng.randint(0, 20 * 1440) if kind == "reminders" else rng.randint(30 * 1440, 300 * 1440)
            row |= {"state": S.DRAFT, "submission_due": now + offset * minute}
        elif kind in ("review", "review_later"):
            due = now - rng.randint(1, 20 * 1440) * minute if kind == "review" else \
                now + rng.randint(20 * 1440, 60 * 1440) * minute
            row |= {"state": S.review_state(1), "review_level": 1, "submitted_at": created}
            tasks.append({"case_id": n, "case_key": row["key"], "round": 1, "level": 1,
                          "level_name": "case_specialist", "candidate_role": "case_specialist",
                          "candidate_department": None, "status": "open", "claimed_by": None, "claimed_at": None,
                          "created_at": created, "due_at": due, "decided_at": None, "decision": None,
                          "policy_version": policy.version_tag})
        elif kind in ("approved", "scheduled"):
            row |= {"state": S.APPROVED if kind == "approved" else S.SCHEDULED,
                    "state_changed_at": now - rng.randint(1, 30 * 1440) * minute}
        elif kind == "archived":
            row |= {"state": S.ARCHIVED}
        else:  # published: due for expiry, due for a staleness flag, or neither
            published = now - timedelta(days=rng.randint(1, 150))
            updated = published
            expires = add_months(published, 24)
            if kind == "expiry":
                expires = now - rng.randint(1, 60 * 1440) * minute
            elif kind == "staleness":
                updated = add_months(now, -stale_months) - rng.randint(1, 300 * 1440) * minute
                published = updated
            row |= {"state": S.PUBLISHED, "published_version_no": 1, "published_at": published,
                    "content_updated_at": updated, "expires_at": expires}
        rows.append(row)
        if versions:
            docs.append({"id": n, "case_id": n, "number": 1, "created_by": author["username"], "created_at": created,
                         "note": "captured", "policy_version": policy.version_tag, "shingles": None,
                         "document": {"title": row["title"], "library": library, "department": row["department"],
                                      "background": BACKGROUNDS[n % len(BACKGROUNDS)]}})
    findings, renderings = stored.bulk_rows(policy, ((d["case_id"], 1, d["document"], "internal") for d in docs),
                                            now, {}, {})
    tables = [(User.__table__, users), (Case.__table__, rows), (CaseVersion.__table__, docs),
              (stored.FINDINGS, findings), (stored.RENDERINGS, renderings),
              (ReviewTask.__table__, tasks), (OutboxMessage.__table__, _sent_outbox(cases // 10, now, users))]
    with ctx.engine.begin() as conn:
        for table, data in tables:
            for i in range(0, len(data), CHUNK):
                conn.execute(table.insert(), data[i:i + CHUNK])
        if conn.dialect.name == "postgresql":  # explicit ids: move the sequences past them
            for table, data in tables[1:]:
                if data and "id" in data[0]:
                    conn.exec_driver_sql(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                                         f"{max(r.get('id', 0) for r in data) or len(data)})")
    refresh_statistics(ctx.engine)
    return Layout(cases, {k: due_n for k in DUE_KINDS})


def _sent_outbox(n: int, now: datetime, users: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Delivered history: the bulk of a real outbox, which due picking must not walk."""
    return [{"id": i + 1, "key": f"history|CB-{i:07d}|{users[i % len(users)]['username']}|p", "kind": "history",
             "recipient": users[i % len(users)]["username"], "subject_id": f"CB-{i:07d}", "period": "p",
             "payload": {}, "digest": False, "status": "sent", "attempts": 1,
             "next_attempt_at": now - timedelta(days=1 + i % 300), "lease_until": None, "claimed_by": None,
             "last_error": None, "channel": "email", "created_at": now - timedelta(days=1 + i % 300),
             "sent_at": now - timedelta(days=1 + i % 300)} for i in range(n)]
