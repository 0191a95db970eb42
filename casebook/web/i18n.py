"""The pages' view of the message catalog (``casebook.core.i18n``): templates call ``t(key)``."""

from __future__ import annotations

from casebook.core.i18n import has, translator

__all__ = ["has", "translator"]
