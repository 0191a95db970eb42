"""Partner access: a key printed once, scoped, expiring, revocable and rate-limited; public published cases at
the public tier only; every call audited; documented in the OpenAPI schema."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from access.partners import add_partner
from casebook.core import audit
from casebook.core.errors import Forbidden, InvalidInput
from casebook.core.users import Actor
from tests.web_helpers import FIGURE, client, people, published_case

OPS = Actor.system("test")


@pytest.fixture(autouse=True)
def _fresh_limiter(monkeypatch):
    from access import partners

    monkeypatch.setattr(partners, "LIMITER", partners._Limiter())


def test_partner_reads_public_cases_at_the_public_tier_only(ctx, full_case, cli) -> None:
    users = people(ctx)
    public = published_case(ctx, users, full_case, "public")
    internal = published_case(ctx, users, full_case, "internal")
    code, out, err = cli("partners", "add", "agency-a", "--scope", "cases:read", "--as", "ops", "--json")
    assert code == 0, err
    key = json.loads(out)["key"]
    listed = cli("partners", "list", "--as", "ops", "--json")[1]
    assert key not in listed and json.loads(listed)[0]["status"] == "active"   # the key itself is never shown again

    c = client(ctx)
    page = c.get("/api/partner/v1/cases", headers={"X-Partner-Key": key})
    assert page.status_code == 200, page.text
    body = page.json()
    assert body["total"] == 1 and [i["key"] for i in body["items"]] == [public]
    one = c.get(f"/api/partner/v1/cases/{public}", headers={"X-Partner-Key": key})
    assert one.status_code == 200 and FIGURE not in one.text and "五十" not in one.text   # a range, never the figure
    assert c.get(f"/api/partner/v1/cases/{internal}", headers={"X-Partner-Key": key}).status_code == 404
    assert c.get("/api/partner/v1/cases").status_code == 401
    assert c.get("/api/partner/v1/cases", headers={"X-Partner-Key": key + "x"}).status_code == 401
    # a partner key is no user session: the staff API refuses it
    assert c.get(f"/api/v1/cases/{public}", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    with ctx.sessions() as s:
        actions = [e.action for e in audit.events_for(s, "partner", "agency-a")]
    assert actions == ["partner.add", "partner.list", "partner.read"]

    assert cli("partners", "revoke", "agency-a", "--as", "ops")[0] == 0
    assert c.get("/api/partner/v1/cases", headers={"X-Partner-Key": key}).status_code == 401
    schema = client(ctx, "ops").get("/api/v1/openapi.json").json()   # the schema is for signed-in users
    assert "/api/partner/v1/cases" in schema["paths"] and "APIKeyHeader" in json.dumps(schema["components"])


def test_keys_expire_are_rate_limited_and_refuse_unknown_scopes(ctx, full_case, clock) -> None:
    people(ctx)
    with pytest.raises(InvalidInput, match="scope: 'cases:write' is not a partner scope"):
        add_partner(ctx, OPS, "b", ["cases:write"])
    with pytest.raises(InvalidInput, match="days: must be between 1 and 365"):
        add_partner(ctx, OPS, "b", ["cases:read"], days=10_000)
    with pytest.raises(Forbidden, match="partners.manage"):
        add_partner(ctx, Actor("intern", "intern", "marketing", "public", 1), "b", ["cases:read"])
    _, key = add_partner(ctx, OPS, "b", ["cases:read"], days=1)
    c = client(ctx)
    limit = ctx.policy.doc.partners.requests_per_minute
    answers = [c.get("/api/partner/v1/cases", headers={"X-Partner-Key": key}).status_code for _ in range(limit + 1)]
    assert answers[:limit] == [200] * limit and answers[-1] == 429
    # served by two worker processes, each admits half the rate: together never more than the policy's
    from access import partners

    partners.LIMITER = partners._Limiter(processes=2)
    answers = [c.get("/api/partner/v1/cases", headers={"X-Partner-Key": key}).status_code for _ in range(limit)]
    assert answers.count(200) == max(1, limit // 2) and answers[-1] == 429
    clock.advance(timedelta(days=1, seconds=1))
    assert c.get("/api/partner/v1/cases", headers={"X-Partner-Key": key}).status_code == 401
