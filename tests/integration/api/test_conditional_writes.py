"""Writes to an existing action or case name the version they read: If-Match, or 428.

Two campaigners editing one action is the common conflict: a write that does not say which
version it read could silently undo the other's. A stale ETag is 412, a malformed one 400.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from campaign.demo.loader import load_demo
from tests.integration.api.conftest import Headers, action_body, assert_problem, event_count

CASE_CLOSE = {"outcome": "Released on appeal."}
DEVELOPMENT = {"kind": "released", "occurred": {"on": "2020-05-13"}, "summary": "Released."}



def _writes(action_id: str) -> dict[str, tuple[str, str, dict[str, Any] | None]]:
    hearing = seed.SUPREME_COURT_HEARING.development_id
    case = f"/api/v1/cases/{seed.CASE_ID}"
    return {
        "revise": ("PUT", f"/api/v1/actions/{action_id}", action_body()),
        "launch": ("POST", f"/api/v1/actions/{action_id}/launch", None),
        "updates": ("POST", f"/api/v1/actions/{action_id}/updates", {"number": 6}),
        "close": ("POST", f"/api/v1/actions/{action_id}/close", {"reason": "released"}),
        "developments": ("POST", f"{case}/developments", DEVELOPMENT),
        "approve": ("POST", f"{case}/developments/{hearing}/approve", None),
        "case close": ("POST", f"{case}/close", CASE_CLOSE),
    }


WRITES = list(_writes("x"))


@pytest.fixture
def seeded(container: Container, client: FlaskClient, campaigner: Headers) -> str:
    """The seed case (with the partner's hearing waiting) and a fresh draft action for it."""
    load_demo(container)
    created = client.post("/api/v1/actions", json=action_body(), headers=campaigner)
    assert created.status_code == 201, created.get_json()
    action_id: str = created.get_json()["action_id"]
    return action_id


def send(client: FlaskClient, write: str, action_id: str, headers: Headers) -> Any:
    method, path, body = _writes(action_id)[write]
    return client.open(path, method=method, json=body, headers=headers)


@pytest.mark.parametrize("write", WRITES)
def test_a_write_without_if_match_is_428_and_changes_nothing(
    client: FlaskClient, container: Container, campaigner: Headers, seeded: str, write: str
) -> None:
    before = event_count(container)

    response = send(client, write, seeded, campaigner)

    body = assert_problem(response, 428, "if_match_required")
    assert "If-Match" in body["detail"]
    assert event_count(container) == before


@pytest.mark.parametrize("etag", ['W/"²"', '"²"', '"1.0"', '"-1"', "1", '"1", "2"', '""',
                                  '"١"', '"' + "9" * 40 + '"'])
@pytest.mark.parametrize("write", ["revise", "launch", "developments", "case close"])
def test_a_malformed_if_match_is_400_never_500(
    client: FlaskClient, container: Container, campaigner: Headers, seeded: str, write: str,
    etag: str,
) -> None:
    before = event_count(container)

    response = send(client, write, seeded, {**campaigner, "If-Match": etag})

    body = assert_problem(response, 400)
    assert "If-Match" in body["detail"]
    assert event_count(container) == before


def test_a_stale_if_match_is_still_412(
    client: FlaskClient, campaigner: Headers, seeded: str
) -> None:
    response = send(client, "revise", seeded, {**campaigner, "If-Match": '"7"'})

    assert_problem(response, 412, "version_mismatch")


@pytest.mark.parametrize("write", WRITES)
def test_a_write_with_the_etag_just_read_succeeds(
    client: FlaskClient, campaigner: Headers, seeded: str, write: str
) -> None:
    if write in ("updates", "close"):
        launched = send(client, "launch", seeded, {**campaigner, "If-Match": '"1"'})
        assert launched.status_code == 200, launched.get_json()
    method, path, _ = _writes(seeded)[write]
    resource = path.split("/developments")[0].removesuffix("/close").removesuffix("/launch")
    resource = resource.removesuffix("/updates")
    etag = client.get(resource, headers=campaigner).headers["ETag"]

    response = send(client, write, seeded, {**campaigner, "If-Match": etag})

    assert response.status_code in (200, 201), response.get_json()


def test_a_weak_etag_and_a_star_are_accepted(
    client: FlaskClient, campaigner: Headers, seeded: str
) -> None:
    weak = send(client, "revise", seeded, {**campaigner, "If-Match": 'W/"1"'})
    assert weak.status_code == 200, weak.get_json()

    star = send(client, "revise", seeded, {**campaigner, "If-Match": "*"})
    assert star.status_code == 200, star.get_json()


def test_the_spec_says_which_writes_need_if_match_and_documents_428(
    client: FlaskClient,
) -> None:
    spec = client.get("/api/openapi.json").get_json()
    for write in WRITES:
        method, path, _ = _writes("{action_id}")[write]
        path = path.replace(seed.CASE_ID, "{case_id}").replace(
            seed.SUPREME_COURT_HEARING.development_id, "{development_id}")
        operation = spec["paths"][path][method.lower()]
        if_match = [p for p in operation["parameters"] if p["name"] == "If-Match"]
        assert [p["required"] for p in if_match] == [True], (write, operation["parameters"])
        assert {"400", "412", "428"} <= set(operation["responses"]), write
