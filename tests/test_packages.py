"""All six top-level names also exist on PyPI: each must import from this repository."""

import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", ["casebook", "access", "library", "lifecycle", "review", "redaction", "notifications", "flows", "policies"])
def test_package_comes_from_this_repository(name: str) -> None:
    module = importlib.import_module(name)
    assert Path(module.__file__).resolve().parent == ROOT / name


def test_prefect_analytics_are_off() -> None:
    import os

    import casebook.core.settings  # noqa: F401

    assert os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
