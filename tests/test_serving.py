"""How ``casebook up`` serves the web: the worker count from settings, and settings handed to worker processes."""

from __future__ import annotations

import os

from casebook.core.settings import Settings
from casebook.web.serving import settings_environment, worker_count


def test_worker_count_defaults_to_one_per_core() -> None:
    assert worker_count(Settings(web_workers=0)) == (os.cpu_count() or 1)
    assert worker_count(Settings(web_workers=3)) == 3


def test_workers_rebuild_the_serving_settings_from_the_environment(tmp_path, monkeypatch) -> None:
    given = Settings(home=tmp_path, db_url=f"sqlite:///{tmp_path}/x.db", audit_key="k", web_workers=2,
                     chat_groups={"operations": "json://localhost"}, trusted_origins=["https://casebook.example"],
                     cookie_secure=False)
    for name in [n for n in os.environ if n.startswith("CASEBOOK_")]:
        monkeypatch.delenv(name)
    for name, value in settings_environment(given).items():
        monkeypatch.setenv(name, value)
    assert Settings() == given


def test_each_worker_admits_its_share_of_a_partners_rate(tmp_path, monkeypatch) -> None:
    """A worker built by uvicorn's factory knows how many workers there are, so partner rate limits (counted in
    each process's memory) hold across them."""
    from access import partners
    from casebook import store
    from casebook.web import serving

    monkeypatch.setattr(partners, "LIMITER", partners._Limiter())
    for name in [n for n in os.environ if n.startswith("CASEBOOK_")]:
        monkeypatch.delenv(name)
    given = Settings(home=tmp_path, db_url=f"sqlite:///{tmp_path}/x.db", audit_key="k", web_workers=2)
    for name, value in (settings_environment(given) | {serving.ENV_WORKERS: "2"}).items():
        monkeypatch.setenv(name, value)
    from casebook.assembly import build_context

    store.upgrade(build_context(settings=given).engine)
    serving.worker_app()
    assert partners.LIMITER.processes == 2
    assert [partners.LIMITER.hit(7, 4) for _ in range(3)] == [True, True, False]
