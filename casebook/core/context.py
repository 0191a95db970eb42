"""The application context: settings, policy, clock, calendar, store, audit key and the hooks the domain
packages installed. Built by ``casebook.assembly.build_context``, which installs those hooks; ``make_context``
here refuses a registry that was not sealed, so a context without them is not built by accident."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from sqlalchemy import Table
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from casebook.core import crypto
from casebook.core.access_log import AccessLog
from casebook.core.audit import AuditContext
from casebook.core.clock import Clock, make_clock
from casebook.core.db import make_engine, make_session_factory
from casebook.core.hooks import Hooks
from casebook.core.queued import QueuedRows
from casebook.core.settings import Settings, get_settings
from casebook.core.workdays import WorkCalendar
from policies.loader import Policy, load_policy


@dataclass
class AppContext:
    settings: Settings
    policy: Policy
    clock: Clock
    engine: Engine
    hooks: Hooks
    sessions: sessionmaker[Session] = field(init=False)

    def __post_init__(self) -> None:
        if not self.hooks.sealed:
            raise RuntimeError("an AppContext needs sealed hooks: build it with casebook.assembly.build_context")
        self.sessions = make_session_factory(self.engine)

    @cached_property
    def calendar(self) -> WorkCalendar:
        return WorkCalendar(self.policy.doc.calendar)

    @cached_property
    def audit(self) -> AuditContext:
        return AuditContext(key=audit_key(self.settings), policy_version=self.policy.version_tag,
                            shards=self.settings.audit_shards)

    @cached_property
    def access_log(self) -> AccessLog:
        """This process's queue of page views and downloads (written in batches; see casebook.core.access_log)."""
        return AccessLog(self.engine, self.audit.key, shards=self.settings.audit_shards,
                         batch=self.settings.access_log_batch, interval=self.settings.access_log_flush_seconds)

    def queue(self, table: Table) -> QueuedRows:
        """This process's batched writer for ``table`` (statistics only; see casebook.core.queued)."""
        queues = self.__dict__.setdefault("_queues", {})
        if table.name not in queues:
            queues[table.name] = QueuedRows(self.engine, table, batch=self.settings.access_log_batch,
                                            interval=self.settings.access_log_flush_seconds)
        return queues[table.name]

    def flush_queues(self) -> None:
        """Write every queued row now (before counting what they record)."""
        for queue in self.__dict__.get("_queues", {}).values():
            queue.flush()

    def close(self) -> None:
        if "access_log" in self.__dict__:
            self.access_log.close()
        for queue in self.__dict__.get("_queues", {}).values():
            queue.close()
        self.engine.dispose()


def audit_key(settings: Settings) -> bytes:
    """The audit HMAC key: ``CASEBOOK_AUDIT_KEY``, else a key file under ``CASEBOOK_HOME`` made on first use."""
    if settings.audit_key:
        return settings.audit_key.encode()
    path = Path(settings.home) / "audit.key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
    return path.read_text().strip().encode()


def make_context(*, hooks: Hooks, now: str | None = None, settings: Settings | None = None,
                 clock: Clock | None = None, policy: Policy | None = None) -> AppContext:
    """A context over the given (sealed) hooks; settings, policy and clock default to the process's."""
    settings = settings or get_settings()
    policy = policy or load_policy(settings.policy_path, cache_dir=Path(settings.home) / "cache")
    clock = clock or make_clock(policy.doc.timezone, now)
    engine = make_engine(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous,
                         sqlite_wal_autocheckpoint=settings.sqlite_wal_autocheckpoint)
    crypto.install(engine, crypto.load_keyring(settings, set(policy.doc.security.encrypted_classifications)))
    return AppContext(settings=settings, policy=policy, clock=clock, hooks=hooks, engine=engine)
