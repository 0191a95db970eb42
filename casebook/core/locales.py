"""The interface languages Casebook speaks, in one place: policy, users, templates and the CLI check against it."""

from __future__ import annotations

from typing import Literal, get_args

Locale = Literal["zh-Hant", "zh-Hans", "en"]
LOCALES: tuple[str, ...] = get_args(Locale)
