"""A scratch store for a benchmark run: a temporary SQLite file, or a private PostgreSQL database."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine


@contextmanager
def scratch_store(db_url: str | None, prefix: str) -> Iterator[tuple[str, str]]:
    """Yield (database URL, home folder); a PostgreSQL URL is only used to create and drop a private database."""
    home = tempfile.mkdtemp(prefix=f"cb-{prefix}-")
    if not db_url or not db_url.startswith("postgresql"):
        yield db_url or f"sqlite:///{home}/bench.db", home
        return
    name = f"casebook_{prefix}_{os.getpid()}"
    admin = create_engine(db_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield db_url.rsplit("/", 1)[0] + "/" + name, home
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
