"""schemathesis against the OpenAPI schema: no generated request, signed in or not, gets a 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from casebook.web.app import create_app
from tests.web_helpers import client, people, published_case


@pytest.mark.slow
def test_no_generated_request_gets_a_server_error(ctx, full_case) -> None:
    users = people(ctx)
    published_case(ctx, users, full_case, "public")
    token = client(ctx, "ops").headers["Authorization"]
    # The schema is served to signed-in callers only.
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app(ctx, listen_host="127.0.0.1"),
                                            headers={"Authorization": token})
    failures: list[str] = []
    statuses: set[int] = set()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        @given(case=operation.as_strategy())
        def probe(case) -> None:  # type: ignore[no-untyped-def]
            for headers in ({"Authorization": token}, {}):
                response = case.call(headers=headers)
                statuses.add(response.status_code)
                if response.status_code >= 500:
                    failures.append(f"{case.method} {case.formatted_path} -> {response.status_code}: "
                                    f"{response.text[:200]}")

        probe()
    assert not failures, failures[:5]
    assert {200, 401} <= statuses and statuses & {403, 404, 409, 422}      # it reached real handlers
