"""Policy as data: the pydantic schema and the default policy files (deadlines, SLAs, validity, chains, tiers, roles)."""

from __future__ import annotations

from pathlib import Path

DEFAULT_POLICY_PATH = Path(__file__).with_name("default.yaml")

from policies.loader import Policy, load_policy, check_policy_file  # noqa: E402

__all__ = ["DEFAULT_POLICY_PATH", "Policy", "load_policy", "check_policy_file"]
