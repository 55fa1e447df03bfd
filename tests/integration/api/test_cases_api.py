"""Cases over HTTP: the Askarov timeline from 2010 to the 2020 Supreme Court hearing."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from campaign.demo.loader import load_demo
from tests.integration.api.conftest import Headers, assert_problem, error_fields, if_match


@pytest.fixture
def case_id(client: FlaskClient, campaigner: Headers) -> str:
    response = client.post("/api/v1/cases", headers=campaigner, json={
        "subject_name": "Azimzhan Askarov", "country": "KG", "tags": ["prisoner-of-conscience"],
        "summary": "Human rights defender sentenced to life after an unfair trial."})
    assert response.status_code == 201, response.get_json()
    found: str = response.get_json()["case_id"]
    return found


def develop(client: FlaskClient, headers: Headers, case_id: str, **body: Any) -> Any:
    url = f"/api/v1/cases/{case_id}"
    return client.post(f"{url}/developments", json=body, headers=if_match(client, url, headers))


def test_developments_form_a_timeline_in_the_order_they_happened(
    client: FlaskClient, campaigner: Headers, case_id: str
) -> None:
    develop(client, campaigner, case_id, kind="sentenced", occurred={"on": "2010-09-15"},
            summary="Sentenced to life imprisonment by the Nooken district court.")
    hearing = develop(client, campaigner, case_id, kind="hearing_scheduled",
                      occurred={"at": "2020-05-13T14:00:00", "timezone": "Asia/Bishkek"},
                      summary="Supreme Court hearing on the cassation appeal.",
                      source_url="http://birduino.kg/")
    detained = develop(client, campaigner, case_id, kind="detained",
                       occurred={"on": "2010-06-15"}, summary="Detained by police.")

    assert hearing.status_code == 201
    timeline = detained.get_json()["timeline"]
    assert [d["kind"] for d in timeline] == ["detained", "sentenced", "hearing_scheduled"]
    assert timeline[2]["occurred"] == {"at": "2020-05-13T14:00:00", "timezone": "Asia/Bishkek",
                                       "instant": "2020-05-13T08:00:00+00:00"}
    assert timeline[2]["source"] == {"kind": "campaigner", "partner_id": None,
                                     "url": "http://birduino.kg/"}
    assert detained.headers["ETag"] == '"4"'


def test_the_partners_hearing_waits_for_approval_then_is_published(
    client: FlaskClient, campaigner: Headers, container: Container
) -> None:
    load_demo(container)
    url = f"/api/v1/cases/{seed.CASE_ID}"
    hearing = client.get(url, headers=campaigner).get_json()["timeline"][-1]
    assert (hearing["kind"], hearing["pending_approval"]) == ("hearing_scheduled", True)
    assert hearing["source"]["partner_id"] == seed.PARTNER_ID

    approved = client.post(f"{url}/developments/{hearing['development_id']}/approve",
                           headers=if_match(client, url, campaigner))

    published = approved.get_json()["timeline"][-1]
    assert (published["pending_approval"], published["approved_at"] is not None) == (False, True)
    assert_problem(client.post(f"{url}/developments/{hearing['development_id']}/approve",
                               headers=if_match(client, url, campaigner)), 409, "not_pending")


def test_the_partners_hearing_can_be_rejected_with_a_reason_and_then_never_approved(
    client: FlaskClient, token_headers: Any, container: Container
) -> None:
    load_demo(container)
    campaigner = token_headers("campaigner")
    url = f"/api/v1/cases/{seed.CASE_ID}"
    hearing_id = seed.SUPREME_COURT_HEARING.development_id
    (token_id,) = [t["token_id"] for t in client.get(
        "/api/v1/tokens", headers=token_headers("admin")).get_json() if t["role"] == "campaigner"]

    rejected = client.post(f"{url}/developments/{hearing_id}/reject",
                           json={"reason": "Not confirmed by a second source."},
                           headers={**if_match(client, url, campaigner),
                                    "Idempotency-Key": "reject-hearing-1"})

    assert rejected.status_code == 200, rejected.get_json()
    entry = rejected.get_json()["timeline"][-1]
    assert (entry["development_id"], entry["pending_approval"], entry["approved_at"]) == (
        hearing_id, False, None)
    assert entry["rejection_reason"] == "Not confirmed by a second source."
    assert entry["rejected_at"] is not None and entry["rejected_by"] == f"token:{token_id}"
    assert entry["recorded_by"] == "demo"
    assert_problem(client.post(f"{url}/developments/{hearing_id}/approve",
                               headers=if_match(client, url, campaigner)), 409, "not_pending")


def test_the_history_joins_decisions_and_actions_newest_first_with_their_actors(
    client: FlaskClient, campaigner: Headers, viewer: Headers, container: Container
) -> None:
    load_demo(container)
    url = f"/api/v1/cases/{seed.CASE_ID}"
    hearing_id = seed.SUPREME_COURT_HEARING.development_id
    client.post(f"{url}/developments/{hearing_id}/approve",
                headers=if_match(client, url, campaigner))

    found = client.get(f"{url}/history", headers=viewer)

    assert found.status_code == 200, found.get_json()
    entries = found.get_json()["entries"]
    assert entries[0]["kind"] == "development_approved"
    assert entries[0]["actor"].startswith("token:") and entries[0]["partner_id"] == seed.PARTNER_ID
    hearing = next(e for e in entries if e["kind"] == "development_recorded"
                   and e["development_id"] == hearing_id)
    assert (hearing["status"], hearing["decided_by"]) == ("approved", entries[0]["actor"])
    assert entries[-1]["kind"] == "case_opened"
    assert [e["reference"] for e in entries if e["kind"] == "action_launched"] == [
        f"UA {seed.UA_NUMBER}"]
    assert found.headers["ETag"] == client.get(url, headers=viewer).headers["ETag"]
    assert_problem(client.get("/api/v1/cases/nope/history", headers=viewer), 404)


def test_a_rejection_needs_a_reason_if_match_and_the_campaigner_role(
    client: FlaskClient, campaigner: Headers, viewer: Headers, container: Container
) -> None:
    load_demo(container)
    url = f"/api/v1/cases/{seed.CASE_ID}"
    reject = f"{url}/developments/{seed.SUPREME_COURT_HEARING.development_id}/reject"
    reason = {"reason": "Duplicate of an earlier report."}

    assert "reason" in error_fields(client.post(reject, json={"reason": " "},
                                                headers=if_match(client, url, campaigner)))
    assert_problem(client.post(reject, json=reason, headers=campaigner), 428)
    assert_problem(client.post(reject, json=reason, headers=if_match(client, url, viewer)), 403)
    assert_problem(client.post(f"{url}/developments/nope/reject", json=reason,
                               headers=if_match(client, url, campaigner)), 409,
                   "unknown_development")
    assert client.get(url, headers=viewer).get_json()["timeline"][-1]["pending_approval"]


def test_an_occurrence_is_a_date_or_a_local_time_with_its_zone_never_both(
    client: FlaskClient, campaigner: Headers, case_id: str
) -> None:
    both = develop(client, campaigner, case_id, kind="charged", summary="Charged.",
                   occurred={"on": "2010-08-13", "at": "2010-08-13T10:00:00",
                             "timezone": "Asia/Bishkek"})
    no_zone = develop(client, campaigner, case_id, kind="charged", summary="Charged.",
                      occurred={"at": "2010-08-13T10:00:00"})
    unknown_kind = develop(client, campaigner, case_id, kind="vanished", summary="?",
                           occurred={"on": "2010-08-13"})

    assert error_fields(both) == {"occurred.at", "occurred.timezone"}  # not with `on`
    assert "occurred.timezone" in error_fields(no_zone)
    assert error_fields(unknown_kind) == {"kind"}


def test_a_closed_case_takes_no_more_developments(
    client: FlaskClient, campaigner: Headers, case_id: str
) -> None:
    closed = client.post(f"/api/v1/cases/{case_id}/close", json={"outcome": "Died in custody"},
                         headers=if_match(client, f"/api/v1/cases/{case_id}", campaigner))

    assert closed.get_json()["status"] == "closed"
    assert_problem(develop(client, campaigner, case_id, kind="other", summary="Late news",
                           occurred={"on": "2020-07-25"}), 409, "case_closed")


def test_cases_filter_by_country_and_unknown_ones_are_404(
    client: FlaskClient, viewer: Headers, case_id: str
) -> None:
    kyrgyz = client.get("/api/v1/cases?country=KG", headers=viewer).get_json()["items"]

    assert [c["case_id"] for c in kyrgyz] == [case_id]
    assert client.get("/api/v1/cases?country=FR", headers=viewer).get_json()["items"] == []
    assert_problem(client.get("/api/v1/cases/nosuch", headers=viewer), 404)
