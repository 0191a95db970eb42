"""A log of scheduled job runs: which flow, which worker process, when, and what it did — what operations
watch when flows run on several workers (and how a test sees that both workers took runs)."""

from __future__ import annotations

import os
import socket
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, update
from sqlalchemy.orm import Mapped, mapped_column

from casebook.core.context import AppContext
from casebook.core.db import Base, UTCDateTime


class JobRun(Base):
    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    job: Mapped[str] = mapped_column(String(64))
    flow_run_id: Mapped[str | None] = mapped_column(String(64))
    worker: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16))
    counts: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    __table_args__ = (Index("ix_job_runs_job_started", "job", "started_at"),)


TABLE = JobRun.__table__


def worker_identity() -> str:
    """``CASEBOOK_WORKER_NAME`` when set, else host and the parent process (a Prefect worker's flow runs are
    its child processes)."""
    return os.environ.get("CASEBOOK_WORKER_NAME") or f"{socket.gethostname()}:{os.getppid()}"


def start(ctx: AppContext, job: str, flow_run_id: str | None) -> int:
    with ctx.engine.begin() as conn:
        return int(conn.execute(TABLE.insert().returning(TABLE.c.id), {
            "job": job, "flow_run_id": flow_run_id, "worker": worker_identity(),
            "started_at": datetime.now().astimezone(), "status": "running"}).scalar_one())


def finish(ctx: AppContext, run_id: int, status: str, counts: dict[str, Any] | None) -> None:
    with ctx.engine.begin() as conn:
        conn.execute(update(TABLE).where(TABLE.c.id == run_id).values(
            finished_at=datetime.now().astimezone(), status=status, counts=counts))
