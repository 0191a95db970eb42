"""Detect once per version, render once per display tier: what read paths use instead of the analyzer.

A version's findings are stored when it is written (capture, edit, ``casebook redact backfill``) with
``redaction.api.detection_version`` (``ANALYZER_VERSION`` plus the policy lexicon's digest), detected with
``redaction.api.detect_fields`` (analyzer and strategy lexicon); its renderings are stored per display tier, as changes against the version's document.
A display tier is the tier table's answer for one audience (an action per entity type): audiences the policy
treats alike share one rendering, so a case has a handful of renderings whatever the number of readers.
Reading a version = its document + the tier's stored patch. Sign-off overrides re-render (``refresh``).
Renderings mask people with the case's pseudonyms (``redaction.pseudonyms.for_case`` over this version and the
ones before it), so a person keeps one mask across versions.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from datetime import datetime
from typing import Any

from sqlalchemy import and_, bindparam, delete, select, tuple_
from sqlalchemy.engine import Connection

from casebook.core.crypto import seal_for
from lifecycle.document import text_fields
from policies.loader import Policy
from policies.schema import ENTITY_NAMES
from redaction import pseudonyms as names
from redaction.api import as_json, detect_document, detect_fields, detection_version
from redaction.findings import Finding
from redaction.models import VersionFindings, VersionRendering
from redaction.overrides import load_overrides, load_overrides_many
from redaction.render import (Override, apply_overrides, apply_patch, document_findings, field_overrides,
                              render_document, render_patch, render_text)
from redaction.tiers import Audience, action_for

FINDINGS = VersionFindings.__table__
RENDERINGS = VersionRendering.__table__
_CODE = {"keep": "k", "generalise": "g", "mask": "m", "remove": "r"}


def tier_key(policy: Policy, audience: Audience) -> str:
    """The display tier: one letter per entity type (keep, generalise, mask, remove), in ``ENTITY_NAMES`` order."""
    return "".join(_CODE[action_for(policy, entity, audience)] for entity in ENTITY_NAMES)


def tiers_for(policy: Policy, classification: str) -> dict[str, Audience]:
    """Every display tier the policy distinguishes for a case of this classification (one audience each)."""
    memo = policy._cache.setdefault("display_tiers", {})
    if classification in memo:
        return memo[classification]
    out: dict[str, Audience] = {}
    memo[classification] = out
    for clearance in reversed(policy.doc.clearances):
        for own in (False, True):
            for author in (False, True):
                audience = Audience(clearance, classification, own, author)
                out.setdefault(tier_key(policy, audience), audience)
    return out


def is_exact(tier: str) -> bool:
    """Whether a tier shows some sensitive entity exactly."""
    return _CODE["keep"] in tier


# ----- findings -----
def _encode(found: dict[str, list[Finding]]) -> dict[str, Any]:
    """[[entity, start, end, score]] per field, with the span's parse as a fifth item where it has one."""
    return {path: [[f.entity_type, f.start, f.end, round(f.score, 3)] if f.shape is None
                   else [f.entity_type, f.start, f.end, round(f.score, 3), f.shape] for f in items]
            for path, items in found.items() if items}


def _decode(document: dict[str, Any], stored: dict[str, Any]) -> dict[str, list[Finding]]:
    """Stored findings with their parse (findings stored before parses were have none: rendered from the text)."""
    texts = dict(text_fields(document))
    out = {}
    for path, items in stored.items():
        text = texts.get(path, "")
        out[path] = [Finding(item[0], item[1], item[2], text[item[1]:item[2]], item[3],
                             item[4] if len(item) > 4 else None) for item in items]
    return out


# ----- renderings -----
def case_pseudonyms(document: dict[str, Any], versions: list[list[tuple[str, str, list[Finding]]]]) -> dict[str, str]:
    """The case's pseudonyms from its versions in order (the owner counts as a mention, as in ``render_patch``)."""
    owner = [document["owner"]] if document.get("owner") else []
    return names.assign(owner + [m for fields in versions for m in names.mentions_in(fields)])


def earlier_fields(conn: Connection, policy: Policy, case_id: int,
                   version_no: int) -> list[list[tuple[str, str, list[Finding]]]]:
    """(path, text, findings after overrides) of every earlier version of the case with stored findings."""
    from lifecycle.models import CaseVersion

    versions = CaseVersion.__table__
    rows = conn.execute(select(versions.c.number, versions.c.document, FINDINGS.c.findings)
                        .join(FINDINGS, and_(FINDINGS.c.case_id == versions.c.case_id,
                                             FINDINGS.c.version_no == versions.c.number))
                        .where(versions.c.case_id == case_id, versions.c.number < version_no)
                        .order_by(versions.c.number)).all()
    return [document_findings(policy, r.document, load_overrides(conn, case_id, r.number), _decode(r.document, r.findings))
            for r in rows]


def other_versions(conn: Connection, policy: Policy, case_id: int,
                   version_no: int) -> list[tuple[int, dict[str, Any], list[tuple[str, str, list[Finding]]]]]:
    """(number, document, (path, text, findings after overrides)) of the case's other versions with stored
    findings, in order."""
    from lifecycle.models import CaseVersion

    versions = CaseVersion.__table__
    rows = conn.execute(select(versions.c.number, versions.c.document, FINDINGS.c.findings)
                        .join(FINDINGS, and_(FINDINGS.c.case_id == versions.c.case_id,
                                             FINDINGS.c.version_no == versions.c.number))
                        .where(versions.c.case_id == case_id, versions.c.number != version_no)
                        .order_by(versions.c.number)).all()
    return [(r.number, r.document, document_findings(policy, r.document, load_overrides(conn, case_id, r.number),
                                                     _decode(r.document, r.findings))) for r in rows]


def store_version(conn: Connection, policy: Policy, case_id: int, version_no: int, document: dict[str, Any],
                  classification: str, *, now: datetime, memo: dict[str, list[Finding]] | None = None) -> None:
    """Detect, store the findings and every tier's rendering of one version (replacing what was stored)."""
    found = detect_fields(policy, document, memo)
    conn.execute(delete(FINDINGS).where(FINDINGS.c.case_id == case_id, FINDINGS.c.version_no == version_no))
    conn.execute(FINDINGS.insert(), {"case_id": case_id, "version_no": version_no,
                                     "analyzer_version": detection_version(policy), "findings": _encode(found),
                                     "detected_at": now})
    _store_renderings(conn, policy, case_id, version_no, document, classification, found)


def _store_renderings(conn: Connection, policy: Policy, case_id: int, version_no: int, document: dict[str, Any],
                      classification: str, found: dict[str, list[Finding]]) -> None:
    """Every tier of this version, masked with the pseudonyms of the whole case; the case's other versions are
    re-rendered where that changed one of their people's masks (a second 張 turns the first 張某 into 張某甲)."""
    fields = document_findings(policy, document, load_overrides(conn, case_id, version_no), found)
    others = other_versions(conn, policy, case_id, version_no)
    mapping = case_pseudonyms(document, [f for n, _d, f in others if n < version_no] + [fields]
                              + [f for n, _d, f in others if n > version_no])
    _write_tiers(conn, policy, case_id, version_no, document, classification, fields, mapping, only_changed=False)
    for number, other, other_fields in others:
        if any(f.entity_type == "PERSON" for _p, _t, items in other_fields for f in items):
            _write_tiers(conn, policy, case_id, number, other, other.get("classification") or classification,
                         other_fields, mapping, only_changed=True)


def _write_tiers(conn: Connection, policy: Policy, case_id: int, version_no: int, document: dict[str, Any],
                 classification: str, fields: list[tuple[str, str, list[Finding]]], mapping: dict[str, str], *,
                 only_changed: bool) -> None:
    patches = {tier: render_patch(policy, document, audience, fields=fields, pseudonyms=mapping)
               for tier, audience in tiers_for(policy, classification).items()}
    where = (RENDERINGS.c.case_id == case_id, RENDERINGS.c.version_no == version_no)
    if only_changed and dict(conn.execute(select(RENDERINGS.c.tier, RENDERINGS.c.patch).where(*where)).all()) \
            == patches:
        return
    conn.execute(delete(RENDERINGS).where(*where))
    conn.execute(RENDERINGS.insert(), [{"case_id": case_id, "version_no": version_no, "tier": tier,
                                        "patch": seal_for(conn, classification, patch)}   # encrypted at rest
                                       for tier, patch in patches.items()])


def bulk_rows(policy: Policy, versions: Iterable[tuple[int, int, dict[str, Any], str]], now: datetime,
              memo: dict[str, list[Finding]], render_memo: dict[Any, Any]
              ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Findings and rendering rows for many new versions (case id, number, document, classification) without
    overrides (``casebook seed``: the same rows ``store_version`` writes)."""
    findings, rendered = [], []
    version = detection_version(policy)
    by_case: dict[int, list[tuple[int, dict[str, Any], str]]] = {}
    for case_id, number, document, classification in sorted(versions, key=lambda v: (v[0], v[1])):
        by_case.setdefault(case_id, []).append((number, document, classification))
    for case_id, written in by_case.items():
        fields = []
        for number, document, _classification in written:
            found = detect_fields(policy, document, memo)
            findings.append({"case_id": case_id, "version_no": number, "analyzer_version": version,
                             "findings": _encode(found), "detected_at": now})
            fields.append(document_findings(policy, document, [], found))
        mapping = case_pseudonyms(written[-1][1], fields)  # every version masks with the whole case's pseudonyms
        for (number, document, classification), version_fields in zip(written, fields):
            for tier, audience in tiers_for(policy, classification).items():
                rendered.append({"case_id": case_id, "version_no": number, "tier": tier,
                                 "patch": render_patch(policy, document, audience, fields=version_fields,
                                                       pseudonyms=mapping, memo=render_memo)})
    return findings, rendered


def stored_findings(conn: Connection, case_id: int, version_no: int,
                    document: dict[str, Any]) -> dict[str, list[Finding]] | None:
    row = conn.execute(select(FINDINGS.c.findings).where(FINDINGS.c.case_id == case_id,
                                                         FINDINGS.c.version_no == version_no)).first()
    return None if row is None else _decode(document, row.findings)


def version_findings(conn: Connection, policy: Policy, case_id: int, version_no: int,
                     document: dict[str, Any]) -> list[dict[str, Any]]:
    """A version's findings as JSON objects naming their fields: the ones stored when it was written, or a fresh
    detection (analyzer and lexicon) for a version stored before findings were."""
    stored = stored_findings(conn, case_id, version_no, document)
    if stored is None:
        return detect_document(policy, document)
    return as_json({path: stored.get(path, []) for path, _text in text_fields(document)})


def title_findings(conn: Connection, case_id: int, version_no: int) -> tuple[str, list[list[Any]]] | None:
    """A version's title and its findings after overrides, as [[entity, start, end, score]] (for payloads that
    travel through the outbox), or None when the version has no stored findings."""
    row = conn.execute(_title_statement(), {"b_case": case_id, "b_version": version_no}).first()
    if row is None or row.findings is None:
        return None
    return _title_spans(row.document, row.findings, load_overrides(conn, case_id, version_no))


def titles_many(conn: Connection, versions: list[tuple[int, int]]
                ) -> dict[tuple[int, int], tuple[str, list[list[Any]], dict[str, str]]]:
    """For many (case id, version) pairs, in three queries: the title with its findings after overrides (as
    ``title_findings``) and the title in each stored rendering by display tier (the case's pseudonyms and
    sign-off overrides included, as its page shows it): what a job needs for the notices of one batch, which
    travel without the document. Pairs without stored findings are left out."""
    from lifecycle.models import CaseVersion

    if not versions:
        return {}
    table = CaseVersion.__table__
    wanted, ids = set(versions), {case_id for case_id, _ in versions}
    # by case id, then the version picked here: a row-value IN would not walk the primary keys on SQLite
    rows = [r for r in conn.execute(
        select(table.c.case_id, table.c.number, table.c.document, FINDINGS.c.findings)
        .join(FINDINGS, and_(FINDINGS.c.case_id == table.c.case_id, FINDINGS.c.version_no == table.c.number))
        .where(FINDINGS.c.case_id.in_(ids))) if (r.case_id, r.number) in wanted]
    overrides = load_overrides_many(conn, [(r.case_id, r.number) for r in rows])
    tiers: dict[tuple[int, int], dict[str, Any]] = {}
    for r in conn.execute(select(RENDERINGS.c.case_id, RENDERINGS.c.version_no, RENDERINGS.c.tier, RENDERINGS.c.patch)
                          .where(RENDERINGS.c.case_id.in_(ids))):
        if (r.case_id, r.version_no) in wanted:
            tiers.setdefault((r.case_id, r.version_no), {})[r.tier] = r.patch or {}
    out = {}
    for r in rows:
        title, spans = _title_spans(r.document, r.findings, overrides[(r.case_id, r.number)])
        out[(r.case_id, r.number)] = (title, spans, {tier: patch.get("title", title)
                                                     for tier, patch in tiers.get((r.case_id, r.number), {}).items()})
    return out


def _title_spans(document: dict[str, Any], findings: dict[str, Any],
                 overrides: list[Override]) -> tuple[str, list[list[Any]]]:
    title = document.get("title") or ""
    found = [Finding(e, s, t, title[s:t], score) for e, s, t, score, *_shape in findings.get("title", [])]
    mine = field_overrides(overrides, "title")
    items = apply_overrides(title, found, mine) if mine else found
    return title, [[f.entity_type, f.start, f.end, f.score] for f in items]


@cache
def _title_statement() -> Any:
    """A version's document with its stored findings (one outer join), with bound parameters so SQLAlchemy
    compiles it once (built on first use: lifecycle.models imports this package)."""
    from lifecycle.models import CaseVersion

    versions = CaseVersion.__table__
    return select(versions.c.document, FINDINGS.c.findings) \
        .select_from(versions.outerjoin(FINDINGS, and_(FINDINGS.c.case_id == versions.c.case_id,
                                                       FINDINGS.c.version_no == versions.c.number))) \
        .where(versions.c.case_id == bindparam("b_case"), versions.c.number == bindparam("b_version"))


def decode_spans(text: str, spans: list[list[Any]]) -> list[Finding]:
    return [Finding(e, s, t, text[s:t], score) for e, s, t, score in spans]


def stored_title(conn: Connection, policy: Policy, case_id: int, version_no: int, title: str,
                 audience: Audience) -> str:
    """A version's title at an audience's tier from its stored findings (lists that load no document); ``title``
    (the case row's) is analysed only for a version with no stored findings yet."""
    found = title_findings(conn, case_id, version_no)
    text, spans = found if found is not None else (title, None)
    return render_text(policy, text, audience, findings=None if spans is None else decode_spans(text, spans))


def refresh(conn: Connection, policy: Policy, case_id: int, version_no: int, document: dict[str, Any],
            classification: str, *, now: datetime) -> None:
    """Re-render a version from its stored findings (after a sign-off override): no new detection."""
    found = stored_findings(conn, case_id, version_no, document)
    if found is None:
        store_version(conn, policy, case_id, version_no, document, classification, now=now)
    else:
        _store_renderings(conn, policy, case_id, version_no, document, classification, found)


def rendered(conn: Connection, policy: Policy, case_id: int, version_no: int, document: dict[str, Any],
             audience: Audience, *, classification: str, now: datetime) -> dict[str, Any]:
    """One version at an audience's tier, from the stored rendering.

    A tier with no stored rendering (the policy's tier table changed since) is rendered from the stored
    findings. A version with no findings at all (written before findings were stored and not yet backfilled)
    is detected and stored once, with a warning: ``casebook redact backfill`` after an upgrade avoids it.
    """
    tier = tier_key(policy, audience)
    row = conn.execute(select(RENDERINGS.c.patch).where(RENDERINGS.c.case_id == case_id,
                                                        RENDERINGS.c.version_no == version_no,
                                                        RENDERINGS.c.tier == tier)).first()
    if row is not None:
        return apply_patch(document, row.patch)
    found = stored_findings(conn, case_id, version_no, document)
    if found is None:
        import structlog   # imported where it logs: a quarter second the read path rarely needs

        structlog.get_logger(__name__).warning("version without stored findings: detecting once", case_id=case_id, version=version_no)
        with conn.engine.begin() as own:
            store_version(own, policy, case_id, version_no, document, classification, now=now)
            found = stored_findings(own, case_id, version_no, document)
    overrides = load_overrides(conn, case_id, version_no)
    fields = document_findings(policy, document, overrides, found or {})
    others = other_versions(conn, policy, case_id, version_no)
    mapping = case_pseudonyms(document, [f for n, _d, f in others if n < version_no] + [fields]
                              + [f for n, _d, f in others if n > version_no])
    return render_document(policy, document, audience, fields=fields, pseudonyms=mapping)


def stale_versions(conn: Connection, policy: Policy, after: tuple[int, int], limit: int) -> list[tuple[int, int]]:
    """(case id, version) pairs after ``after`` whose findings are missing or from an older analyzer or lexicon."""
    from lifecycle.models import CaseVersion

    versions = CaseVersion.__table__
    query = (select(versions.c.case_id, versions.c.number)
             .select_from(versions.outerjoin(FINDINGS, and_(FINDINGS.c.case_id == versions.c.case_id,
                                                            FINDINGS.c.version_no == versions.c.number)))
             .where(tuple_(versions.c.case_id, versions.c.number) > tuple_(*after),
                    (FINDINGS.c.analyzer_version.is_(None)) | (FINDINGS.c.analyzer_version != detection_version(policy)))
             .order_by(versions.c.case_id, versions.c.number).limit(limit))
    return [(r.case_id, r.number) for r in conn.execute(query)]


def store_written_version(conn: Connection, service: Any, case_id: int, number: int, document: dict[str, Any],
                          classification: str) -> None:
    """Detection once per version, when it is written: findings and every tier's rendering stored."""
    store_version(conn, service.policy, case_id, number, document, document.get("classification")
                         or classification, now=service.ctx.clock.now())
