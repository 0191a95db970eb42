"""The policy schema: every number and rule of SPEC.md as a typed, validated document."""

from __future__ import annotations

from datetime import date, time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from casebook.core.locales import LOCALES, Locale
from policies.learning import LearningPolicy, LinkPolicy, learning_problems
from policies.tier_rules import rule_matches as _matches


class Strict(BaseModel):
    """Policy models refuse unknown keys so a typo is an error, not a silently ignored rule."""

    # defer_build: a model builds its validator when it first validates, not at import; a command answered by
    # the validated policy cache (policies.parsed_cache) validates nothing and saves building them.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


Labels = dict[str, str]


class CalendarPolicy(Strict):
    """Working days: the Chinese statutory calendar (with make-up working days) or plain weekends."""

    mode: Literal["cn_statutory", "weekends"] = "cn_statutory"
    holidays: dict[int, list[date]] = Field(default_factory=dict)
    makeup_workdays: dict[int, list[date]] = Field(default_factory=dict)
    working_hours_start: time = time(9, 0)
    working_hours_end: time = time(18, 0)

    @model_validator(mode="after")
    def _years_match(self) -> "CalendarPolicy":
        for table in (self.holidays, self.makeup_workdays):
            for year, days in table.items():
                for d in days:
                    if d.year != year:
                        raise ValueError(f"date {d} is listed under year {year}")
        return self


class LibraryPolicy(Strict):
    labels: Labels
    validity_months: int = Field(gt=0)
    publish_channel: Literal["instant", "monthly_batch"]
    review_chain: str


class DepartmentPolicy(Strict):
    """A department users and cases belong to; readers see its label, never its code."""

    labels: Labels


class TagFacet(Strict):
    open: bool = True
    values: list[str] = Field(default_factory=list)


class IntakePolicy(Strict):
    """Which fields a capture needs to be saved, and which a case needs before it may be submitted."""

    required_on_create: list[str]
    mandatory_on_submit: dict[str, str]  # intake item -> field path in the case document
    micro_mandatory_on_submit: dict[str, str]
    traceability_required: bool = True


class SubmissionPolicy(Strict):
    days_after_project_end: int = Field(gt=0)
    reminder_offsets_days: list[int]
    escalation_chain: list[str]
    escalation_interval_days: int = Field(gt=0)


class DeadlinePolicy(Strict):
    submission: SubmissionPolicy
    micro_case_live_hours: int = Field(gt=0)


class ReviewLevel(Strict):
    """One level of a review chain: who may decide it, where scoped, and its SLA."""

    name: str
    labels: Labels
    role: str
    scope: Literal["any", "case_department"] = "any"
    sla_working_days: float = Field(gt=0)
    backup_role: str
    manager_role: str
    redaction_signoff: bool = False


class RubricPolicy(Strict):
    criteria: list[str]
    levels: int = Field(ge=2)
    pass_min: int = Field(ge=1)


Severity = Literal["block", "warn", "off"]


class PrecheckPolicy(Strict):
    """Automatic checks run on submit; a failed 'block' check refuses the submit, 'warn' is shown to reviewers."""

    severity: dict[Literal["mandatory_fields", "figure_consistency", "absolute_terms", "sensitive_information",
                           "near_duplicate"], Severity]
    roi_tolerance: float = Field(ge=0)
    near_duplicate_threshold: float = Field(gt=0, le=1)
    # Regular expressions in Simplified script; text is matched after Traditional->Simplified normalisation.
    absolute_terms: list[str]

    @field_validator("absolute_terms")
    @classmethod
    def _compiles(cls, terms: list[str]) -> list[str]:
        import re

        for i, term in enumerate(terms):
            try:
                re.compile(term)
            except re.error as exc:
                raise ValueError(f"absolute_terms.{i}: not a valid pattern ({exc})") from None
        return terms


class ReviewPolicy(Strict):
    chains: dict[str, list[ReviewLevel]]
    micro_chain: str
    due_soon_working_days: float = Field(ge=0)
    escalate_to_manager_after_working_days: float = Field(ge=0)
    rubric: RubricPolicy
    return_reentry: Literal["same_level", "first_level"] = "same_level"
    auto_start_after_prechecks: bool = True
    prechecks: PrecheckPolicy

    @field_validator("chains")
    @classmethod
    def _non_empty(cls, chains: dict[str, list[ReviewLevel]]) -> dict[str, list[ReviewLevel]]:
        for name, levels in chains.items():
            if not levels:
                raise ValueError(f"chain '{name}' has no levels")
        return chains


class LifecyclePolicy(Strict):
    staleness_months: int = Field(gt=0)
    evaluation_task_working_days: float = Field(gt=0)
    archive_after_retired_days: int = Field(ge=0)
    #: A case flagged for update and still not updated this many days later gets a re-check task for operations.
    stale_recheck_grace_days: int = Field(gt=0)


class RatingPolicy(Strict):
    scale_max: int = Field(gt=1)
    rectification_below: float
    rectification_start_hours: int = Field(gt=0)
    correction_answer_hours: int = Field(gt=0)
    #: Correction answers and rectification starts: the assignee is reminded this many hours before the due time;
    #: once overdue, the chain's roles are told in turn, one step every ``escalation_interval_hours``.
    due_reminder_hours: int = Field(gt=0)
    escalation_chain: list[str] = Field(min_length=1)
    escalation_interval_hours: int = Field(gt=0)


class OutdatedWeights(Strict):
    """How much each sign of an outdated case counts when ranking retirement candidates (normalised)."""

    age: float = Field(ge=0)
    staleness: float = Field(ge=0)
    usage: float = Field(ge=0)
    rating: float = Field(ge=0)
    #: A case another case supersedes (a ``supersedes`` link): proposed for retirement by the next quarterly
    #: review whatever its share; 0 turns the supersession reason off.
    superseded: float = Field(default=0.0, ge=0)


class HealthCheckPolicy(Strict):
    quarterly_retire_share: float = Field(ge=0, le=1)
    yearly_retire_share: float = Field(ge=0, le=1)
    yearly_update_share: float = Field(ge=0, le=1)
    yearly_restructure_share: float = Field(ge=0, le=1)
    weights: OutdatedWeights
    #: Views and downloads counted as usage over this many months before the run.
    usage_window_months: int = Field(gt=0)
    #: Data (the content) older than this is proposed for an update.
    data_max_age_months: int = Field(gt=0)


class RolePolicy(Strict):
    labels: Labels
    clearance: str
    department_scoped: bool = True
    permissions: list[str] = Field(default_factory=list)


class FlowSchedule(Strict):
    cron: str


class SignInThrottle(Strict):
    """Failed sign-ins counted per account name and per client address within a window; reaching either limit
    locks that account name (known or not, so a lockout tells nothing about existence) or address for a while."""

    account_failures: int = Field(gt=0, le=1000)
    address_failures: int = Field(gt=0, le=100_000)
    window_minutes: int = Field(gt=0, le=7 * 24 * 60)
    lockout_minutes: int = Field(gt=0, le=7 * 24 * 60)


class SecurityPolicy(Strict):
    sign_in: SignInThrottle
    # A request body larger than this is refused with 413 before any handler reads it.
    max_request_bytes: int = Field(gt=1024, le=1_000_000_000)
    bulk_download_max: int = Field(gt=0)
    bulk_download_window_minutes: int = Field(gt=0)
    session_hours: int = Field(gt=0)
    api_token_days: int = Field(gt=0)
    access_request_classifications: list[str]      # viewing these across departments needs an approval
    access_request_approver_role: str
    access_request_working_days: float = Field(gt=0)
    # Case content by lifecycle state (every read path asks access.rules): a withdrawn case is read by these
    # roles only; a draft by its owner and author only.
    withdrawn_readers: list[str]
    #: Besides the author, owner and the reviewers of its open task, these roles read a case's content before its
    #: publication and its working version while its published version is what everyone else reads.
    working_version_roles: list[str] = Field(default_factory=list)
    #: Roles that find archived cases in search (marked archived, never recommended).
    archived_read_roles: list[str] = Field(default_factory=list)
    #: Classifications whose content (version documents, stored renderings, titles, the outbox payloads that
    #: quote them) is encrypted at rest, and whose search index holds keyed hashes only (casebook.core.crypto).
    encrypted_classifications: list[str] = Field(default_factory=list)


class InputLimits(Strict):
    """Bounds on every input: past them a value is refused naming the field, and nothing is written."""

    text_max_chars: int = Field(gt=0)                    # one text field not named in field_max_chars
    field_max_chars: dict[str, int] = Field(default_factory=dict)  # by path without list indices: body, title …
    document_max_chars: int = Field(gt=0)                # every text of one case document together
    list_max_items: int = Field(gt=0)                    # channels, metrics, data sources, tag values, interviewees
    number_max: float = Field(gt=0)                      # |any amount or figure|, in its own unit
    date_earliest: date
    date_latest: date
    case_file_max_bytes: int = Field(gt=0)               # a case document read by the CLI

    @model_validator(mode="after")
    def _window(self) -> "InputLimits":
        if self.date_latest <= self.date_earliest:
            raise ValueError("date_latest must be after date_earliest")
        if any(v <= 0 for v in self.field_max_chars.values()):
            raise ValueError("field_max_chars values must be positive")
        return self


class PartnerPolicy(Strict):
    """The open API for partners (the plan's non-sensitive data only): keys act in ``role``, whose clearance must
    be the lowest, and see only cases of the lowest classification, at that tier."""

    role: str
    scopes: list[str] = Field(min_length=1)
    key_days: int = Field(gt=0)
    max_key_days: int = Field(gt=0)
    requests_per_minute: int = Field(gt=0)
    page_size_max: int = Field(gt=0, le=500)


Entity = Literal["MONEY", "PERCENTAGE", "PERSON", "PHONE_NUMBER", "EMAIL_ADDRESS", "CN_ID_CARD", "BANK_CARD",
                 "STRATEGY"]
ENTITY_NAMES: tuple[str, ...] = Entity.__args__  # type: ignore[attr-defined]
Action = Literal["keep", "generalise", "mask", "remove"]


class RedactionRule(Strict):
    """One row of the tier table; an omitted condition matches anything. The first matching rule wins."""

    entities: list[Entity] | None = None
    classifications: list[str] | None = None
    clearances: list[str] | None = None
    own_department: bool | None = None
    viewer_is_author: bool | None = None
    action: Action


class MaskSpec(Strict):
    """How many significant characters (digits, or the mailbox name) stay visible at each end."""

    keep_start: int = Field(ge=0)
    keep_end: int = Field(ge=0)


class LexiconEntry(Strict):
    """Undisclosed strategy or technology (SPEC §4): product code names, unreleased features, partners under NDA.
    Matched in either script and any letter case; shown per the tier table as the label of its ``kind``."""

    kind: str
    terms: list[str] = Field(min_length=1)

    @field_validator("terms")
    @classmethod
    def _terms(cls, v: list[str]) -> list[str]:
        if any(not t.strip() for t in v):
            raise ValueError("must not hold an empty term")
        return v


class LexiconLabel(Strict):
    """What a generalised term of one kind reads as, per script."""

    zh_hant: str = Field(alias="zh-Hant", min_length=1)
    zh_hans: str = Field(alias="zh-Hans", min_length=1)
    en: str = Field(min_length=1)


class RedactionPolicy(Strict):
    """What the analyzer reports and how each audience sees it (SPEC §4)."""

    threshold: float = Field(gt=0, le=1)
    money_bucket_mantissas: list[float] = Field(min_length=1)  # bucket edges per power of ten, e.g. 1, 3, 7
    percentage_band_edges: list[float] = Field(min_length=2)
    ratio_band_edges: list[float] = Field(min_length=2)    # ROI 1:3.5 → 1:3-5
    masks: dict[Entity, MaskSpec]
    metric_kinds: dict[Entity, list[str]] = Field(default_factory=dict)  # metric kind -> entity it is
    metric_units: dict[Entity, list[str]] = Field(default_factory=dict)
    rules: list[RedactionRule] = Field(min_length=1)
    strategy_lexicon: list[LexiconEntry] = Field(default_factory=list)
    strategy_labels: dict[str, LexiconLabel] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _lexicon(self) -> "RedactionPolicy":
        """Every lexicon kind has its labels, and no term is listed twice (in either script or letter case)."""
        from casebook.core.textnorm import to_simplified

        errors, seen = [], {}
        for i, entry in enumerate(self.strategy_lexicon):
            if entry.kind not in self.strategy_labels:
                errors.append(f"strategy_lexicon.{i}.kind: no strategy_labels entry for '{entry.kind}'")
            for term in entry.terms:
                key = to_simplified(term).casefold()
                if key in seen:
                    errors.append(f"strategy_lexicon.{i}.terms: '{term}' is already listed in entry {seen[key]}")
                seen[key] = i
        if errors:
            raise ValueError("; ".join(errors))
        return self

    @field_validator("money_bucket_mantissas")
    @classmethod
    def _mantissas(cls, v: list[float]) -> list[float]:
        if v != sorted(set(v)) or v[0] < 1 or v[-1] >= 10:
            raise ValueError("must be strictly increasing values in [1, 10)")
        return v

    @field_validator("percentage_band_edges", "ratio_band_edges")
    @classmethod
    def _edges(cls, v: list[float]) -> list[float]:
        if v != sorted(set(v)) or v[0] < 0:
            raise ValueError("must be strictly increasing and not negative")
        return v


class NotificationPolicy(Strict):
    """Delivery: batches, retries with exponential backoff, dead letters; digests; the brief's value score."""

    batch_size: int = Field(gt=0)
    max_attempts: int = Field(gt=0)
    backoff_seconds: int = Field(gt=0)
    backoff_max_seconds: int = Field(gt=0)
    lease_seconds: int = Field(gt=0)
    default_mode: Literal["instant", "digest"] = "instant"
    dead_letter_role: str
    reviewer_digest_roles: list[str]
    brief_roles: list[str]
    brief_top: int = Field(gt=0)
    value_score: dict[Literal["rating", "ratings_count", "freshness"], float]
    rectification_min_ratings: int = Field(gt=0)
    #: Who hears of a takedown: whoever viewed, rated or downloaded the case within this many days (and its followers).
    takedown_window_days: int = Field(gt=0)
    #: Roles that receive the weekly scenario pack (each reader narrowed to their scenarios of interest).
    scenario_pack_roles: list[str]
    #: Announcements posted to role chat groups (``CASEBOOK_CHAT_GROUPS``): announcement kind -> roles.
    announcements: dict[Literal["batch_published", "case_withdrawn"], list[str]] = Field(default_factory=dict)
    #: The language of chat-group posts (a group has no locale of its own).
    announcement_locale: Locale = "zh-Hant"


class DisplayPolicy(Strict):
    """How figures are written for readers: money with its symbol (¥320,000) or counted in 萬/万 (32萬元)."""

    money: Literal["symbol", "wan"] = "symbol"
    #: The sign written before an amount, per currency and locale (Babel's own would give CN¥ outside China).
    currency_symbols: dict[str, Labels] = Field(
        default_factory=lambda: {"CNY": {loc: "¥" for loc in LOCALES}})

    @model_validator(mode="after")
    def _symbols_complete(self) -> "DisplayPolicy":
        """Every currency's symbol is given for every interface locale."""
        errors = [f"display.currency_symbols.{code}: missing {', '.join(sorted(set(LOCALES) - set(signs)))}"
                  for code, signs in self.currency_symbols.items() if not set(LOCALES) <= set(signs)]
        if errors:
            raise ValueError("; ".join(errors))
        return self

    def symbol(self, currency: str, locale: str) -> str | None:
        """The policy's sign for ``currency`` in ``locale``; None leaves it to Babel."""
        return (self.currency_symbols.get(currency.upper()) or {}).get(locale)


class ReportsPolicy(Strict):
    """Monthly usage and effect reports: who reads them, in which language the files are written, what a
    reuse mark may say, and how many months the dashboard's trend charts show."""

    #: Roles that may open the monthly reports (page, API, CLI); the management brief links them.
    readers: list[str]
    #: The language of the written files (HTML, Markdown, CSV); the reports page shows each reader's own.
    locale: Literal["zh-Hant", "zh-Hans", "en"]
    #: The outcomes a reader may give with "I reused this case" (each labelled in the message catalog).
    reuse_outcomes: list[str] = Field(min_length=1)
    #: The outcomes that count as a successful reuse in the effect report.
    reuse_success: list[str]
    #: Months of history in the dashboard's trend charts.
    trend_months: int = Field(gt=0, le=36)


class PolicyDocument(Strict):
    """The whole policy file."""

    version: str
    timezone: str
    calendar: CalendarPolicy
    classifications: list[str]
    clearances: list[str]
    libraries: dict[str, LibraryPolicy]
    scenarios: list[str]
    outcomes: list[str]
    tag_facets: dict[str, TagFacet]
    intake: IntakePolicy
    deadlines: DeadlinePolicy
    review: ReviewPolicy
    lifecycle: LifecyclePolicy
    ratings: RatingPolicy
    health_check: HealthCheckPolicy
    roles: dict[str, RolePolicy]
    #: The role that runs the library: expiry evaluations, rectifications, health-check tasks, alerts.
    operations_role: str
    event_permissions: dict[str, str]
    flows: dict[str, FlowSchedule]
    security: SecurityPolicy
    partners: PartnerPolicy
    limits: InputLimits
    redaction: RedactionPolicy
    notifications: NotificationPolicy
    learning: LearningPolicy
    links: LinkPolicy
    reports: ReportsPolicy
    display: DisplayPolicy = Field(default_factory=DisplayPolicy)
    #: What readers see instead of a code (scenario, outcome, classification, clearance, tag facet or value):
    #: code -> {locale: text}. Libraries, roles and review levels carry their labels where they are defined.
    labels: dict[str, Labels] = Field(default_factory=dict)
    #: The departments users and cases belong to (code -> labels); a department not listed is shown as stored.
    departments: dict[str, DepartmentPolicy] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _labels_complete(self) -> "PolicyDocument":
        """Every label (the table's and each department's) gives every interface locale, so no reader falls
        back to a raw code."""

        labelled = [(f"labels.{code}", texts) for code, texts in self.labels.items()]
        labelled += [(f"departments.{code}.labels", d.labels) for code, d in self.departments.items()]
        errors = [f"{where}: missing {', '.join(sorted(set(LOCALES) - set(texts)))}"
                  for where, texts in labelled if not set(LOCALES) <= set(texts)]
        if errors:
            raise ValueError("; ".join(errors))
        return self

    @model_validator(mode="after")
    def _cross_references(self) -> "PolicyDocument":
        """Names that point elsewhere in the document must resolve; each broken reference is reported."""
        errors: list[str] = []
        for name, lib in self.libraries.items():
            if lib.review_chain not in self.review.chains:
                errors.append(f"libraries.{name}.review_chain: unknown chain '{lib.review_chain}'")
        if self.review.micro_chain not in self.review.chains:
            errors.append(f"review.micro_chain: unknown chain '{self.review.micro_chain}'")
        for cname, levels in self.review.chains.items():
            for i, level in enumerate(levels):
                for attr in ("role", "backup_role", "manager_role"):
                    if getattr(level, attr) not in self.roles:
                        errors.append(f"review.chains.{cname}.{i}.{attr}: unknown role '{getattr(level, attr)}'")
        for rname, role in self.roles.items():
            if role.clearance not in self.clearances:
                errors.append(f"roles.{rname}.clearance: unknown clearance '{role.clearance}'")
        for i, role in enumerate(self.deadlines.submission.escalation_chain):
            if role not in self.roles:
                errors.append(f"deadlines.submission.escalation_chain.{i}: unknown role '{role}'")
        n = self.notifications
        for path, role in [("operations_role", self.operations_role),
                           ("security.access_request_approver_role", self.security.access_request_approver_role),
                           ("notifications.dead_letter_role", n.dead_letter_role),
                           *((f"notifications.reviewer_digest_roles.{i}", r) for i, r in enumerate(n.reviewer_digest_roles)),
                           *((f"notifications.brief_roles.{i}", r) for i, r in enumerate(n.brief_roles)),
                           *((f"notifications.scenario_pack_roles.{i}", r)
                             for i, r in enumerate(n.scenario_pack_roles)),
                           *((f"notifications.announcements.{kind}.{i}", r)
                             for kind, roles in n.announcements.items() for i, r in enumerate(roles)),
                           *((f"ratings.escalation_chain.{i}", r)
                             for i, r in enumerate(self.ratings.escalation_chain)),
                           *((f"reports.readers.{i}", r) for i, r in enumerate(self.reports.readers)),
                           *((f"security.{attr}.{i}", r)
                             for attr in ("withdrawn_readers", "working_version_roles", "archived_read_roles")
                             for i, r in enumerate(getattr(self.security, attr)))]:
            if role not in self.roles:
                errors.append(f"{path}: unknown role '{role}'")
        partner = self.roles.get(self.partners.role)
        if partner is None:
            errors.append(f"partners.role: unknown role '{self.partners.role}'")
        elif self.clearances and partner.clearance != self.clearances[0]:
            errors.append(f"partners.role: role '{self.partners.role}' must have the lowest clearance "
                          f"'{self.clearances[0]}', not '{partner.clearance}'")
        if self.partners.key_days > self.partners.max_key_days:
            errors.append("partners.key_days: must not exceed partners.max_key_days")
        for i, c in enumerate(self.security.access_request_classifications):
            if c not in self.classifications:
                errors.append(f"security.access_request_classifications.{i}: unknown classification '{c}'")
        for i, c in enumerate(self.security.encrypted_classifications):
            if c not in self.classifications:
                errors.append(f"security.encrypted_classifications.{i}: unknown classification '{c}'")
        errors += self._redaction_problems()
        errors += learning_problems(self)
        if self.review.rubric.pass_min > self.review.rubric.levels:
            errors.append("review.rubric.pass_min: must not exceed review.rubric.levels")
        try:
            from zoneinfo import ZoneInfo

            ZoneInfo(self.timezone)
        except Exception:
            errors.append(f"timezone: unknown timezone '{self.timezone}'")
        if errors:
            raise ValueError("; ".join(errors))
        return self

    def _redaction_problems(self) -> list[str]:
        """Rules name known levels, and every combination has a rule: the tier table never fails open."""
        errors: list[str] = []
        for i, rule in enumerate(self.redaction.rules):
            for attr, known in (("classifications", self.classifications), ("clearances", self.clearances)):
                for value in getattr(rule, attr) or []:
                    if value not in known:
                        errors.append(f"redaction.rules.{i}.{attr}: unknown level '{value}'")
        if errors:
            return errors
        for entity in ENTITY_NAMES:
            for classification in self.classifications:
                for clearance in self.clearances:
                    for own in (True, False):
                        for author in (True, False):
                            if not any(_matches(r, entity, classification, clearance, own, author)
                                       for r in self.redaction.rules):
                                errors.append(f"redaction.rules: no rule covers {entity} in a {classification} case "
                                              f"for {clearance} clearance (own department {own}, author {author})")
                                return errors
        return errors


def redaction_action(policy: "PolicyDocument", entity: str, classification: str, clearance: str, *,
                     own_department: bool, viewer_is_author: bool) -> str:
    """The tier table as a pure function: the first matching rule's action (``remove`` if none, never keep)."""
    for rule in policy.redaction.rules:
        if _matches(rule, entity, classification, clearance, own_department, viewer_is_author):
            return rule.action
    return "remove"
