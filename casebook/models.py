"""Imports every table so the metadata (and Alembic) sees the whole schema."""

from casebook.audit import AuditEvent, AuditHead
from casebook.db import Base
from casebook.users import User
from lifecycle.models import Case, CaseVersion
from redaction.models import RedactionOverride
from review.models import PrecheckResult, ReviewDecision, ReviewTask

__all__ = ["AuditEvent", "AuditHead", "Base", "Case", "CaseVersion", "PrecheckResult", "RedactionOverride", "ReviewDecision", "ReviewTask",
           "User"]
