"""Imports every table so the metadata (and Alembic) sees the whole schema."""

from access.grants import AccessRequest
from access.partners import PartnerKey
from casebook.core.access_log import AccessEntry, AccessHead
from casebook.core.audit import AuditEvent, AuditHead
from casebook.core.checkpoint import AuditCheckpoint
from access.accounts import AuthToken, Download
from access.throttle import SignInFailure, SignInLockout
from flows.runlog import JobRun
from casebook.core.db import Base
from casebook.core.users import User
from lifecycle.models import Case, CaseVersion
from lifecycle.worklist import Rating, WorkItem
from notifications.models import CaseFollow, OutboxMessage, Preference
from library.models import SearchEntry
from library.similar_models import SimilarBand, SimilarSignature
from library.usage import NpsAnswer, ReuseMark, SearchRecord
from library.learning_models import CaseLink, CaseOfDayChoice, CaseOfDayShown, LearningTask
from redaction.models import RedactionOverride, VersionFindings, VersionRendering
from review.models import PrecheckResult, ReviewDecision, ReviewTask

__all__ = ["CaseLink", "CaseOfDayChoice", "CaseOfDayShown", "LearningTask", "AccessEntry", "CaseFollow", "AccessHead", "AuditCheckpoint", "JobRun", "PartnerKey", "AccessRequest", "AuthToken", "Download", "OutboxMessage", "Preference", "Rating", "WorkItem", "AuditEvent", "AuditHead", "Base", "Case", "CaseVersion", "PrecheckResult", "RedactionOverride", "SearchEntry", "SimilarBand", "SimilarSignature", "VersionFindings", "VersionRendering", "ReviewDecision", "ReviewTask",
           "SignInFailure", "SignInLockout", "User", "NpsAnswer", "ReuseMark", "SearchRecord"]
