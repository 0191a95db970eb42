"""A case's title as one reader sees it in a list (learning tasks, linked cases): the version that reader reads
(working or published), rendered at the reader's tier from its stored findings; no document is loaded."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from casebook.core.context import AppContext
from casebook.core.users import Actor
from lifecycle.service import CaseService
from redaction.stored import stored_title
from redaction.tiers import Audience, audience_for


def reader_audience(ctx: AppContext, actor: Actor, case: Any) -> Audience:
    return audience_for(ctx.policy, actor, classification=case.classification, department=case.department,
                        is_author=actor.user_id is not None and actor.user_id in (case.owner_id, case.author_id))


def reader_title(ctx: AppContext, conn: Connection, service: CaseService, actor: Actor, case: Any,
                 audience: Audience | None = None) -> str:
    """The title of the version ``actor`` reads of ``case`` (a case row), at the actor's tier."""
    working = case.published_version_no is None or service.reads_working_version(conn, case, actor)
    number = case.current_version_no if working else case.published_version_no
    return stored_title(conn, ctx.policy, case.id, number, case.title, audience or reader_audience(ctx, actor, case))
