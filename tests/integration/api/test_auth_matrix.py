"""Every operation the spec says is protected refuses no token (401) and a lower role (403).

The operations and their roles come from /api/openapi.json itself, so a new endpoint is
covered the moment it is documented.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient

from campaign.application.access import ROLES, Role
from tests.integration.api.conftest import Headers, assert_problem

METHODS = ("get", "post", "put", "patch", "delete")


def operations(client: FlaskClient) -> list[tuple[str, str, dict[str, Any]]]:
    spec = client.get("/api/openapi.json").get_json()
    return [(method, re.sub(r"\{[^}]+\}", "nosuch", path), operation)
            for path, item in spec["paths"].items()
            for method, operation in item.items() if method in METHODS]


def schemes(operation: dict[str, Any]) -> set[str]:
    return {name for requirement in operation.get("security") or [] for name in requirement}


def test_the_spec_documents_a_guard_for_every_operation(client: FlaskClient) -> None:
    unguarded = [(m, p) for m, p, op in operations(client) if "security" not in op]
    assert unguarded == []


def test_every_protected_operation_refuses_a_request_without_a_token(
    client: FlaskClient,
) -> None:
    protected = [(m, p) for m, p, op in operations(client) if schemes(op)]
    assert len(protected) > 15
    for method, path in protected:
        response = client.open(path, method=method.upper(), json={})
        assert_problem(response, 401)


def test_every_campaigner_operation_refuses_the_roles_below_the_one_it_needs(
    client: FlaskClient, token_headers: Callable[[Role], Headers]
) -> None:
    headers = {role: token_headers(role) for role in ROLES}
    checked = 0
    for method, path, operation in operations(client):
        needed = operation.get("x-required-role")
        for role in ROLES[: ROLES.index(needed)] if needed else ():
            response = client.open(path, method=method.upper(), json={}, headers=headers[role])
            assert_problem(response, 403)
            checked += 1
    assert checked > 10


def test_a_revoked_or_made_up_token_is_refused(
    client: FlaskClient, admin: Headers
) -> None:
    created = client.post("/api/v1/tokens", json={"name": "temp", "role": "viewer"},
                          headers=admin).get_json()
    temp = {"Authorization": f"Bearer {created['token']}"}
    assert client.get("/api/v1/actions", headers=temp).status_code == 200

    assert client.delete(f"/api/v1/tokens/{created['token_id']}", headers=admin).status_code == 204

    assert_problem(client.get("/api/v1/actions", headers=temp), 401)
    assert_problem(client.get("/api/v1/actions",
                              headers={"Authorization": "Bearer uat_made-up"}), 401)


def test_text_that_no_database_can_store_is_refused_with_a_4xx(
    client: FlaskClient, admin: Headers
) -> None:
    assert_problem(client.get("/api/v1/actions/%00", headers=admin), 400)
    assert_problem(client.get("/api/v1/actions?country=%00", headers=admin), 400)
    body = client.post("/api/v1/tokens", json={"name": "nul\u0000here", "role": "viewer"},
                       headers=admin)
    assert assert_problem(body, 422)["errors"] == [
        {"field": "name", "message": "contains a NUL character or invalid Unicode"}]
    surrogate = client.post("/api/v1/cases", headers={**admin, "Content-Type": "application/json"},
                            data=b'{"subject_name": "\\ud800", "country": "KG", "summary": "x"}')
    assert_problem(surrogate, 422)
