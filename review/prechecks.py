"""Automatic pre-checks on submit, stored per case version and shown to reviewers.

Each check returns pass, fail or not_run (never a silent pass); its severity (block / warn / off) comes
from policy. A failed blocking check refuses the submit; when none blocks, review starts by itself.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.engine import Connection

from casebook.core.hooks import Hooks
from casebook.core.textnorm import fingerprint_set, jaccard, to_simplified
from casebook.core.users import Actor
from lifecycle import hooks
from lifecycle import states as S
from lifecycle.document import document_fingerprint, submit_problems, text_fields
from lifecycle.models import Case, CaseVersion
from policies.loader import Policy
from review.models import PrecheckResult

PASS, FAIL, NOT_RUN = "pass", "fail", "not_run"


@dataclass(frozen=True)
class CheckResult:
    check: str
    status: str
    findings: list[dict[str, Any]] = field(default_factory=list)


def check_mandatory_fields(policy: Policy, conn: Connection, case: Any, document: dict[str, Any]) -> CheckResult:
    problems = submit_problems(policy, document)
    return CheckResult("mandatory_fields", FAIL if problems else PASS,
                       [{"field": p.field, "rule": p.rule} for p in problems])


def _metric(document: dict[str, Any], kind: str) -> dict[str, Any] | None:
    return next((m for m in document.get("metrics") or [] if (m.get("kind") or "").lower() == kind), None)


def _as_ratio(metric: dict[str, Any]) -> float:
    value = float(metric["value"])
    return value / 100 if (metric.get("unit") or "").strip() in ("%", "％", "percent") else value


def check_figure_consistency(policy: Policy, conn: Connection, case: Any, document: dict[str, Any]) -> CheckResult:
    """Stated ROI vs (revenue - cost) / cost within tolerance; shares within 0-100 %; dates in order."""
    findings: list[dict[str, Any]] = []
    roi, revenue, cost = _metric(document, "roi"), _metric(document, "revenue"), _metric(document, "cost")
    if roi and revenue and cost and float(cost["value"]) > 0:
        computed = (float(revenue["value"]) - float(cost["value"])) / float(cost["value"])
        stated = _as_ratio(roi)
        if abs(stated - computed) > policy.doc.review.prechecks.roi_tolerance:
            findings.append({"field": "metrics", "rule": f"stated ROI {stated:.2%} differs from (revenue - cost) / cost"
                                                         f" = {computed:.2%}"})
    for i, m in enumerate(document.get("metrics") or []):
        is_share = (m.get("kind") or "").lower() == "share" or (m.get("unit") or "").strip() in ("%", "％")
        if is_share and (m.get("kind") or "").lower() != "roi" and not 0 <= float(m["value"]) <= 100:
            findings.append({"field": f"metrics.{i}.value", "rule": f"a share must be within 0-100 % (got {m['value']})"})
    start, end = document.get("project_start"), document.get("project_end")
    if start and end and end < start:
        findings.append({"field": "project_end", "rule": "must not be before project_start"})
    return CheckResult("figure_consistency", FAIL if findings else PASS, findings)


@lru_cache(maxsize=16)
def _term_patterns(terms: tuple[str, ...]) -> list[re.Pattern[str]]:
    return [re.compile(to_simplified(t)) for t in terms]


def check_absolute_terms(policy: Policy, conn: Connection, case: Any, document: dict[str, Any]) -> CheckResult:
    """Advertising-law absolute terms, matched on Simplified-normalised text (offsets into the original)."""
    findings = []
    for path, text in text_fields(document):
        normalised = to_simplified(text)
        for pattern in _term_patterns(tuple(policy.doc.review.prechecks.absolute_terms)):
            for m in pattern.finditer(normalised):
                findings.append({"field": path, "start": m.start(), "end": m.end(), "text": text[m.start():m.end()],
                                 "rule": f"advertising-law absolute term (pattern '{pattern.pattern}')"})
    return CheckResult("absolute_terms", FAIL if findings else PASS, findings)


def check_sensitive_information(policy: Policy, conn: Connection, case: Any, document: dict[str, Any]) -> CheckResult:
    """Sensitive figures and personal data found by ``redaction``; says so when the detector cannot run."""
    try:
        from redaction.stored import version_findings
    except ImportError:
        return CheckResult("sensitive_information", NOT_RUN,
                           [{"rule": "the redaction detector is not installed in this build; check by hand"}])
    findings = version_findings(conn, policy, case.id, case.current_version_no, document)  # stored when written
    return CheckResult("sensitive_information", FAIL if findings else PASS, findings)


_VERSIONS = CaseVersion.__table__
_OTHERS = (select(Case.__table__.c.key, _VERSIONS.c.id, _VERSIONS.c.shingles)
           .join(_VERSIONS, (_VERSIONS.c.case_id == Case.__table__.c.id)
                 & (_VERSIONS.c.number == Case.__table__.c.current_version_no))
           .where(Case.__table__.c.library == bindparam("b_lib"), Case.__table__.c.id != bindparam("b_id"),
                  Case.__table__.c.state.not_in([S.WITHDRAWN, S.REJECTED]))
           .order_by(Case.__table__.c.id.desc()).limit(2000))
_VERSION_DOCUMENT = select(_VERSIONS.c.document).where(_VERSIONS.c.id == bindparam("b_id"))


def check_near_duplicate(policy: Policy, conn: Connection, case: Any, document: dict[str, Any]) -> CheckResult:
    """Character-trigram Jaccard similarity against the newest cases of the same library, on the fingerprints
    stored with each version (older versions without one are fingerprinted here)."""
    mine = fingerprint_set(document_fingerprint(document))
    threshold = policy.doc.review.prechecks.near_duplicate_threshold
    findings = []
    if mine:
        for key, version_id, blob in conn.execute(_OTHERS, {"b_lib": case.library, "b_id": case.id}):
            if blob is None:
                blob = document_fingerprint(conn.execute(_VERSION_DOCUMENT, {"b_id": version_id}).scalar_one())
            similarity = jaccard(mine, fingerprint_set(blob))
            if similarity >= threshold:
                findings.append({"case": key, "similarity": round(similarity, 3),
                                 "rule": f"similar to {key} ({similarity:.0%} >= {threshold:.0%})"})
    return CheckResult("near_duplicate", FAIL if findings else PASS, findings)


CHECKS: dict[str, Callable[[Policy, Connection, Any, dict[str, Any]], CheckResult]] = {
    "mandatory_fields": check_mandatory_fields,
    "figure_consistency": check_figure_consistency,
    "absolute_terms": check_absolute_terms,
    "sensitive_information": check_sensitive_information,
    "near_duplicate": check_near_duplicate,
}


def run_checks(policy: Policy, conn: Connection, case: Any, document: dict[str, Any],
               scratch: dict[str, Any] | None = None) -> list[CheckResult]:
    """Every check the policy does not switch off; computed once per transition (guard and listener share)."""
    scratch = {} if scratch is None else scratch
    if "prechecks" not in scratch:
        severity = policy.doc.review.prechecks.severity
        scratch["prechecks"] = [fn(policy, conn, case, document) for name, fn in CHECKS.items()
                                if severity[name] != "off"]
    return scratch["prechecks"]


def blocking(policy: Policy, results: list[CheckResult]) -> list[CheckResult]:
    severity = policy.doc.review.prechecks.severity
    return [r for r in results if r.status == FAIL and severity[r.check] == "block"]


def _guard(conn: Connection, service: Any, case: Any, document: dict[str, Any], scratch: dict[str, Any]) -> list[str]:
    failed = blocking(service.policy, run_checks(service.policy, conn, case, document, scratch))
    return [f"pre-check {r.check} blocks: " + "; ".join(f"{f.get('field', '')}: {f['rule']}".lstrip(": ")
                                                         for f in r.findings) for r in failed]



_RESULTS = PrecheckResult.__table__
_DOCUMENT = select(CaseVersion.__table__.c.document).where(
    CaseVersion.__table__.c.case_id == bindparam("b_id"), CaseVersion.__table__.c.number == bindparam("b_no"))


def record_and_start(t: hooks.TransitionEvent) -> None:
    """On submit: store the results for reviewers, then start review when nothing blocks."""
    if t.dest != S.SUBMITTED:
        return
    policy = t.service.policy
    document = t.conn.execute(_DOCUMENT, {"b_id": t.case.id, "b_no": t.case.current_version_no}).scalar_one()
    results = run_checks(policy, t.conn, t.case, document, t.scratch)
    t.conn.execute(delete(_RESULTS).where(_RESULTS.c.case_id == t.case.id,
                                          _RESULTS.c.version_no == t.case.current_version_no))
    severity = policy.doc.review.prechecks.severity
    t.conn.execute(_RESULTS.insert(), [
        {"case_id": t.case.id, "version_no": t.case.current_version_no, "check": r.check, "status": r.status,
         "severity": severity[r.check], "findings": r.findings, "created_at": t.now,
         "policy_version": policy.version_tag} for r in results])
    if policy.doc.review.auto_start_after_prechecks and not blocking(policy, results):
        t.service.fire(Actor.system("prechecks"), t.case.key, "start_review", conn=t.conn)


def stored_results(conn: Connection, case_id: int, version_no: int) -> list[dict[str, Any]]:
    rows = conn.execute(select(_RESULTS).where(_RESULTS.c.case_id == case_id, _RESULTS.c.version_no == version_no)
                        .order_by(_RESULTS.c.id)).all()
    return [{"check": r.check, "status": r.status, "severity": r.severity, "findings": r.findings} for r in rows]


def shown_results(ctx: Any, actor: Actor, key: str, *, via: str, ip: str | None = None) -> tuple[int, list[dict[str, Any]]]:
    """The pre-check results of a case's current version as ``actor`` may see them (the version number and
    the results): read access checked and audited like any view of the case, every sensitive finding's text
    rendered at the actor's tier and each finding given a readable rule."""
    from redaction.analyzer import Finding
    from redaction.render import render_text
    from redaction.views import read_case

    view, audience = read_case(ctx, actor, key, via=via, ip=ip)
    with ctx.engine.connect() as conn:
        results = stored_results(conn, view.case_id, view.version_no)
    for result in results:
        shown = []
        for f in result["findings"]:
            f = dict(f)
            if result["check"] == "sensitive_information" and isinstance(f.get("text"), str):
                text = f["text"]
                f["text"] = render_text(ctx.policy, text, audience,
                                        findings=[Finding(f.get("entity_type", ""), 0, len(text), text,
                                                          float(f.get("score") or 1.0))])
                f.setdefault("rule", f"{f.get('entity_type', 'sensitive information')}: {f['text']}")
            shown.append(f)
        result["findings"] = shown
    return view.version_no, results


def install(registry: Hooks) -> None:
    """The pre-check guard on submit and resubmit, and the listener that stores results and starts review."""
    registry.guard("submit", _guard)
    registry.guard("resubmit", _guard)
    registry.on_transition(record_and_start)
