"""Imports every table so the metadata (and Alembic) sees the whole schema."""

from casebook.access_requests import AccessRequest
from casebook.audit import AuditEvent, AuditHead
from casebook.auth import AuthToken, Download
from casebook.runlog import JobRun
from casebook.db import Base
from casebook.users import User
from lifecycle.models import Case, CaseVersion
from lifecycle.worklist import Rating, WorkItem
from notifications.models import OutboxMessage, Preference
from redaction.models import RedactionOverride
from review.models import PrecheckResult, ReviewDecision, ReviewTask

__all__ = ["JobRun", "AccessRequest", "AuthToken", "Download", "OutboxMessage", "Preference", "Rating", "WorkItem", "AuditEvent", "AuditHead", "Base", "Case", "CaseVersion", "PrecheckResult", "RedactionOverride", "ReviewDecision", "ReviewTask",
           "User"]
