"""The composition root: a context carries the hooks its packages installed, explicitly, and cannot be built
without them; flows are plain module-level functions, one per job."""

from __future__ import annotations

from pathlib import Path

import pytest

from casebook.assembly import application_hooks, build_context
from casebook.core.context import make_context
from casebook.core.hooks import Hooks
from casebook.core.settings import Settings
from review import duties, prechecks, tasks


def _settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path, db_url=f"sqlite:///{tmp_path / 'c.db'}", audit_key="k")


def test_built_context_carries_review_hooks(tmp_path: Path) -> None:
    ctx = build_context(settings=_settings(tmp_path))
    try:
        assert ctx.hooks.sealed and "review" in ctx.hooks.names
        assert prechecks.record_and_start in ctx.hooks.listeners()
        assert tasks.follow_case in ctx.hooks.listeners()
        assert duties.decision_refusal in ctx.hooks.refusals()
        assert ctx.hooks.guards_for("submit") and ctx.hooks.guards_for("resubmit")
        assert ctx.hooks.guards_for("approve")
    finally:
        ctx.close()


def test_a_context_without_its_hooks_is_refused(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="sealed hooks"):
        make_context(hooks=Hooks(), settings=_settings(tmp_path))
    with pytest.raises(RuntimeError, match="not installed: review"):
        Hooks().seal(require=("review",))
    with pytest.raises(RuntimeError, match="sealed"):
        application_hooks().on_transition(lambda t: None)


def test_two_contexts_do_not_share_a_registry(tmp_path: Path) -> None:
    a, b = application_hooks(), application_hooks()
    assert a is not b and a.listeners() is not b.listeners()


def test_flows_are_module_level_functions_one_per_job() -> None:
    from prefect import Flow

    from flows import definitions, registry

    assert set(definitions.FLOWS) == set(registry.JOBS)
    for name, fl in definitions.FLOWS.items():
        assert isinstance(fl, Flow) and fl.name == name
        assert getattr(definitions, name) is fl and fl.fn.__module__ == "flows.definitions"
        assert fl.description, f"flow {name} has no description"
