"""Process settings read from the environment (``CASEBOOK_*``); policy lives in policy files, not here."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Nothing in Casebook phones home: Prefect's analytics are off before Prefect is ever imported.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")
# A temporary Prefect server (``casebook flows run`` without PREFECT_API_URL) creates its database on first start;
# on a loaded two-core machine that took 20-21 s, right at Prefect's 20 s default, and the run failed.
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")


#: The prefix of every setting's environment variable (``CASEBOOK_HOME`` is ``home``).
PREFIX = "casebook_"
#: Settings whose variable holds JSON (a list or a mapping).
JSON_FIELDS = ("chat_groups", "trusted_origins")


class Settings(BaseModel):
    """Where the store, the policy and the audit key live.

    Each field not given is read from ``CASEBOOK_<NAME>`` (any letter case), as pydantic-settings read them before:
    a list or mapping as JSON, everything else validated from its text by the field's own rules. A plain model
    with the environment merged in, because importing pydantic-settings (and python-dotenv) cost every command
    about 0.05 s of CPU."""

    model_config = ConfigDict(extra="ignore")

    @model_validator(mode="before")
    @classmethod
    def _environment(cls, given: Any) -> Any:
        """The given values over the environment's ``CASEBOOK_*`` variables."""
        if not isinstance(given, dict):
            return given
        found = {k.lower().removeprefix(PREFIX): v for k, v in os.environ.items() if k.lower().startswith(PREFIX)}
        merged = dict(given)
        for name in cls.model_fields:
            if name in merged or name not in found:
                continue
            value = found[name]
            if name in JSON_FIELDS:
                try:
                    value = json.loads(value)
                except ValueError:
                    pass   # refused by the field's own type, naming the setting
            merged[name] = value
        return merged

    home: Path = Field(default_factory=lambda: Path.home() / ".casebook")
    db_url: str | None = None
    policy: Path | None = None
    audit_key: str | None = None
    # Data keys for encryption at rest (comma-separated base64 AES-256 keys, the first encrypts); unset: the key
    # file CASEBOOK_HOME/data.keys (casebook.core.crypto).
    data_key: str | None = None
    # Audit chains kept side by side (one head row each): writers of unrelated subjects never wait on one row.
    audit_shards: int = Field(default=32, ge=1, le=1024)
    # Page views and downloads are queued and written to the access log in batches of this many entries, or
    # after this many seconds, whichever comes first.
    access_log_batch: int = Field(default=200, ge=1, le=10_000)
    access_log_flush_seconds: float = Field(default=1.0, gt=0, le=60)
    # SQLite durability: FULL (every commit on disk) unless a throw-away store (the simulation's) says otherwise.
    sqlite_synchronous: Literal["FULL", "NORMAL", "OFF"] = "FULL"
    # WAL pages written before SQLite copies them back into the database file (its default is 1,000).
    sqlite_wal_autocheckpoint: int = Field(default=10_000, ge=100, le=1_000_000)
    # Mail (aiosmtplib): one connection per delivery batch.
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_tls: Literal["none", "starttls", "ssl"] = "none"
    smtp_timeout: float = 30.0
    mail_from: str = "casebook@localhost"
    # Chat groups: role -> apprise URL (wecombot://…, dingtalk://…, feishu://…, lark://…, slack://…), as JSON.
    chat_groups: dict[str, str] = Field(default_factory=dict)
    # Web server processes for ``casebook up`` (casebook.web.serving); 0 means one per core.
    web_workers: int = Field(default=0, ge=0, le=64)
    # The session cookie's Secure flag: unset means on, unless the web server listens on loopback only.
    cookie_secure: bool | None = None
    # Origins (scheme://host[:port]) besides the request's own that may post forms, e.g. behind a proxy.
    trusted_origins: list[str] = Field(default_factory=list)
    # argon2id cost for new password hashes (argon2-cffi's RFC 9106 low-memory profile by default).
    password_time_cost: int = Field(default=3, ge=1, le=50)
    password_memory_kib: int = Field(default=65_536, ge=1_024, le=4_194_304)
    # Where generated reports (health checks) are written; default CASEBOOK_HOME/reports.
    reports_dir: Path | None = None

    @property
    def database_url(self) -> str:
        """The configured URL, or the embedded SQLite file under ``home``."""
        return self.db_url or f"sqlite:///{self.home / 'casebook.db'}"

    @property
    def policy_path(self) -> Path:
        """The policy file in force: ``CASEBOOK_POLICY`` or the packaged default."""
        if self.policy is not None:
            return self.policy
        from policies import DEFAULT_POLICY_PATH

        return DEFAULT_POLICY_PATH


def get_settings() -> Settings:
    """Settings read from the environment now (cheap; not cached so tests and commands see changes)."""
    return Settings()
