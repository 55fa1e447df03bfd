"""What any request must get past before a view reads it: size, nesting, content type, scheme.

The operations that take a JSON body come from /api/openapi.json itself, so a new endpoint
is covered the moment it is documented. The two signed webhooks (partner inbound and
SendGrid) are tested with their own signatures in their own test modules.
"""

from __future__ import annotations

import json
import re

import pytest
from flask.testing import FlaskClient

from tests.integration.api.conftest import (
    PROBLEM_JSON,
    Headers,
    Person,
    assert_problem,
    error_fields,
    sign_up_body,
)
from tests.integration.api.test_auth_matrix import METHODS, schemes

DEEP = 5_000
SIGNED = {"partnerSignature"}


def json_operations(client: FlaskClient) -> list[tuple[str, str, set[str]]]:
    """(method, path, security schemes) of every operation with a JSON request body."""
    spec = client.get("/api/openapi.json").get_json()
    found = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            content = (operation.get("requestBody") or {}).get("content", {})
            if "application/json" in content and not schemes(operation) & SIGNED \
                    and "/webhooks/" not in path:
                found.append((method, re.sub(r"\{[^}]+\}", "nosuch", path), schemes(operation)))
    return found


@pytest.fixture
def credentials(admin: Headers, supporter: Person) -> dict[str, Headers]:
    """A campaigner token, a manage link's token, and an action link's for the paths'
    `nosuch` action (pledging takes only that link)."""
    return {"campaignerToken": admin, "supporterToken": supporter.manage,
            "actionLink": supporter.on("nosuch")}


def headers_for(needed: set[str], credentials: dict[str, Headers], path: str) -> Headers:
    for scheme in sorted(needed):
        if scheme == "supporterToken" and "pledge" in path:
            scheme = "actionLink"
        if scheme in credentials:
            return {**credentials[scheme], "If-Match": '"1"'}
    return {"If-Match": '"1"'}


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def test_json_nested_thousands_deep_is_a_400_naming_the_nesting_on_every_json_operation(
    client: FlaskClient, credentials: dict[str, Headers]
) -> None:
    operations = json_operations(client)
    assert len(operations) > 12
    for method, path, needed in operations:
        response = client.open(path, method=method.upper(), data=nested(DEEP),
                               headers={**headers_for(needed, credentials, path),
                                        "Content-Type": "application/json"})
        body = assert_problem(response, 400)
        assert "nest" in body["detail"], (method, path, body)


def test_json_nested_within_the_limit_is_parsed_as_usual(client: FlaskClient) -> None:
    fields = sign_up_body()
    document = (
        b'{"email": "%s", "name": "%s", "locale": "en", "country": "GB", '
        b'"timezone": "Europe/London", "extra": %s}'
        % (fields["email"].encode(), fields["name"].encode(), nested(30))
    )

    response = client.post("/api/v1/supporters", data=document,
                           headers={"Content-Type": "application/json"})

    assert response.status_code in (202, 422), response.get_json()
    assert "nest" not in (response.get_json().get("detail") or "")


def test_brackets_inside_strings_do_not_count_as_nesting(client: FlaskClient) -> None:
    name = "Ada " + "[{" * 40 + '\\"['

    response = client.post("/api/v1/supporters", json=sign_up_body(name=name))

    assert response.status_code == 202, response.get_json()


def test_a_cursor_is_plain_text_never_parsed_and_a_longer_one_is_a_422(
    client: FlaskClient, admin: Headers
) -> None:
    brackets = nested(300).decode()  # under 1,000 characters: a place to start after
    too_long = "x" * 1_001

    page = client.get("/api/v1/actions", query_string={"cursor": brackets}, headers=admin)
    assert page.status_code == 200, page.get_json()
    assert error_fields(client.get(f"/api/v1/actions?cursor={too_long}", headers=admin)) == {
        "cursor"}


def test_a_body_over_a_megabyte_is_a_413_problem(client: FlaskClient) -> None:
    body = {**sign_up_body(), "padding": "x" * (1024 * 1024 + 1)}

    response = client.post("/api/v1/supporters", json=body)

    assert_problem(response, 413)


def test_a_body_just_under_a_megabyte_is_read(client: FlaskClient) -> None:
    body = {**sign_up_body(), "padding": "x" * (1000 * 1000)}

    response = client.post("/api/v1/supporters", json=body)

    assert response.status_code != 413


def test_a_body_that_is_not_json_is_a_415_problem_on_every_json_operation(
    client: FlaskClient, credentials: dict[str, Headers]
) -> None:
    for method, path, needed in json_operations(client):
        for content_type in ("text/plain", "application/x-www-form-urlencoded"):
            response = client.open(path, method=method.upper(), data=b'{"name": "x"}',
                                   headers={**headers_for(needed, credentials, path),
                                            "Content-Type": content_type})
            body = assert_problem(response, 415)
            assert "application/json" in body["detail"], (method, path, body)


def test_a_json_body_with_a_charset_or_a_plus_json_type_is_accepted(client: FlaskClient) -> None:
    for content_type in ("application/json; charset=utf-8", "application/merge-patch+json"):
        response = client.post("/api/v1/supporters", data=json.dumps(sign_up_body()),
                               headers={"Content-Type": content_type})
        assert response.status_code == 202, (content_type, response.get_json())


@pytest.mark.parametrize("scheme", ["bearer", "BEARER", "BeArEr"])
def test_the_bearer_scheme_is_matched_whatever_its_case(
    client: FlaskClient, admin: Headers, scheme: str
) -> None:
    token = admin["Authorization"].split(" ", 1)[1]

    response = client.get("/api/v1/actions", headers={"Authorization": f"{scheme} {token}"})

    assert response.status_code == 200, response.get_json()


@pytest.mark.parametrize("scheme", ["supporter", "SUPPORTER"])
def test_the_supporter_scheme_is_matched_whatever_its_case(
    client: FlaskClient, supporter: Person, scheme: str
) -> None:
    token = supporter.manage["Authorization"].split(" ", 1)[1]

    response = client.get("/api/v1/supporters/me",
                          headers={"Authorization": f"{scheme} {token}"})

    assert response.status_code == 200, response.get_json()


def test_a_scheme_that_only_starts_like_bearer_is_still_refused(
    client: FlaskClient, admin: Headers
) -> None:
    token = admin["Authorization"].split(" ", 1)[1]

    assert_problem(client.get("/api/v1/actions", headers={"Authorization": f"Bearerx {token}"}),
                   401)
    assert_problem(client.get("/api/v1/actions", headers={"Authorization": token}), 401)


def test_json_responses_and_problems_say_nosniff(client: FlaskClient, admin: Headers) -> None:
    listed = client.get("/api/v1/actions", headers=admin)
    missing = client.get("/api/v1/nothing-here")
    spec = client.get("/api/openapi.json")

    for response in (listed, missing, spec):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert missing.mimetype == PROBLEM_JSON
