"""What the monthly usage and effect reports count that nothing else records: searches (query, time taken,
result count), "I reused this case" marks with their outcome, and the monthly NPS answer.

Views and downloads are already in the access log (``casebook.core.access_log``), ratings in ``case_ratings``.
Each record here is one plain INSERT (or an upsert for a mark or an answer that may be changed): no audit head is
taken, so recording never serialises with case writes. Pages, API and CLI all call these functions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, select
from sqlalchemy.orm import Mapped, mapped_column

from casebook.core.access_log import AccessEntry
from casebook.core.context import AppContext
from casebook.core.db import Base, UTCDateTime, upsert
from casebook.core.errors import InvalidInput, Problem
from casebook.core.users import Actor
from lifecycle.bounds import text_problem
from lifecycle.service import CaseService

#: A query is kept to this many characters (enough to see what people look for; the index caps queries anyway).
QUERY_MAX_CHARS = 200
NPS_MIN, NPS_MAX = 0, 10


class SearchRecord(Base):
    """One search a person ran (the first page only: paging through the same results is not a new search)."""

    __tablename__ = "search_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(64))
    query: Mapped[str] = mapped_column(String(QUERY_MAX_CHARS))
    ms: Mapped[int] = mapped_column(Integer)
    results: Mapped[int] = mapped_column(Integer)

    __table_args__ = (Index("ix_search_log_at", "at"),)


class ReuseMark(Base):
    """A reader's "I reused this case" with how it went (policy ``reports.reuse_outcomes``); one per reader and
    case, a new mark replaces the old."""

    __tablename__ = "reuse_marks"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    username: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text)
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("uq_reuse_marks_case_user", "case_id", "username", unique=True),
                      Index("ix_reuse_marks_at", "marked_at"))


class NpsAnswer(Base):
    """A person's answer (0-10) to "how likely are you to recommend the case library to a colleague?", one per
    person and month (in the policy's timezone); answering again the same month replaces it."""

    __tablename__ = "nps_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    month: Mapped[str] = mapped_column(String(7))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime] = mapped_column(UTCDateTime())

    __table_args__ = (Index("uq_nps_answers_user_month", "username", "month", unique=True),)


SEARCHES, REUSE, NPS = SearchRecord.__table__, ReuseMark.__table__, NpsAnswer.__table__
#: The reports count views and downloads per month: the access log needs its time indexed for that (declared
#: here, beside the other tables the reports read, so that the access log's own module stays about writing).
Index("ix_access_log_at", AccessEntry.__table__.c.at)


def record_search(ctx: AppContext, actor: Actor, query: str, ms: float, results: int) -> None:
    """One search in the log, queued and written with the next batch (``casebook.core.queued``): a search never
    waits for the write lock."""
    if actor.is_system:
        return
    ctx.queue(SEARCHES).add({"at": ctx.clock.now(), "actor": actor.username,
                             "query": query.strip()[:QUERY_MAX_CHARS], "ms": max(0, round(ms)),
                             "results": max(0, int(results))})


def mark_reuse(ctx: AppContext, actor: Actor, key: str, outcome: str, note: str | None = None) -> dict[str, Any]:
    """Record that ``actor`` reused the published case ``key`` and how it went; refused for an unknown
    outcome, a note over the limit, a case the actor may not read or one that is not published."""
    outcomes = ctx.policy.doc.reports.reuse_outcomes
    note = (note or "").strip() or None
    problems = []
    if outcome not in outcomes:
        problems.append(Problem.of("outcome", "err_one_of_got", allowed=[ctx.policy.coded(o) for o in outcomes],
                                   value=outcome))
    if note is not None and (problem := text_problem(ctx.policy.doc.limits, "note", note)):
        problems.append(problem)
    if problems:
        raise InvalidInput(problems, "reuse mark")
    view = CaseService(ctx).view(actor, key)       # the read rule: only a reader of the case may mark it
    if view.published_version_no is None:
        raise InvalidInput([Problem.of("case", "err_reuse_published_only")], "reuse mark")
    now = ctx.clock.now()
    with ctx.engine.begin() as conn:
        upsert(conn, REUSE, {"case_id": view.case_id, "username": actor.username, "outcome": outcome,
                             "note": note, "marked_at": now}, ["case_id", "username"])
    return {"case": key, "outcome": outcome, "marked_at": now.isoformat()}


def my_reuse(ctx: AppContext, actor: Actor, case_id: int) -> str | None:
    """The outcome ``actor`` last marked on a case (None if never): the case page shows it."""
    with ctx.engine.connect() as conn:
        return conn.execute(select(REUSE.c.outcome).where(REUSE.c.case_id == case_id,
                                                          REUSE.c.username == actor.username)).scalar_one_or_none()


def current_month(ctx: AppContext) -> str:
    """YYYY-MM of the clock's time in the policy's timezone."""
    return f"{ctx.clock.now().astimezone(ctx.clock.tz):%Y-%m}"


def answer_nps(ctx: AppContext, actor: Actor, score: int, comment: str | None = None) -> dict[str, Any]:
    """Record this month's NPS answer (0-10) for ``actor``; a second answer the same month replaces the first."""
    comment = (comment or "").strip() or None
    problems = []
    if not isinstance(score, int) or isinstance(score, bool) or not NPS_MIN <= score <= NPS_MAX:
        problems.append(Problem.of("score", "err_whole_number_between", low=NPS_MIN, high=NPS_MAX))
    if comment is not None and (problem := text_problem(ctx.policy.doc.limits, "comment", comment)):
        problems.append(problem)
    if problems:
        raise InvalidInput(problems, "NPS answer")
    month = current_month(ctx)
    with ctx.engine.begin() as conn:
        upsert(conn, NPS, {"username": actor.username, "month": month, "score": score, "comment": comment,
                           "answered_at": ctx.clock.now()}, ["username", "month"])
    return {"month": month, "score": score}


def nps_answer(ctx: AppContext, actor: Actor, month: str | None = None) -> int | None:
    """The score ``actor`` gave for ``month`` (this month by default), None if not yet asked or answered."""
    with ctx.engine.connect() as conn:
        return conn.execute(select(NPS.c.score).where(NPS.c.username == actor.username,
                                                      NPS.c.month == (month or current_month(ctx)))
                            ).scalar_one_or_none()
