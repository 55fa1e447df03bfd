"""Issue 11's findings at the boundary: each bad value is a clear 4xx and stores nothing.

Dates outside the sane years, text with line breaks where a header would carry it, an
action about no case, a launch after the deadline, a letter sent before the action was
issued, numbers that are not whole, and a superscript digit in the act page's form.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from campaign.mail.links import MailLinks
from tests.integration.api.conftest import (
    Headers,
    Person,
    action_body,
    assert_problem,
    error_fields,
    event_count,
    if_match,
    sign_up_body,
)

CRLF = "Urgent\r\nBcc: everyone@example.org"


def open_case(client: FlaskClient, campaigner: Headers) -> str:
    response = client.post("/api/v1/cases", headers=campaigner, json={
        "subject_name": "Azimzhan Askarov", "country": "KG",
        "summary": "Human rights defender sentenced to life after an unfair trial."})
    assert response.status_code == 201, response.get_json()
    case_id: str = response.get_json()["case_id"]
    return case_id


def act_url(container: Container, action_id: str, person: Person) -> str:
    """The act page's link as an action e-mail carries it."""
    return MailLinks("", container.links).pledge(action_id, person.supporter_id)


def every_read_answers(client: FlaskClient, viewer: Headers) -> None:
    """The reads a poisoned row used to break all answer 200."""
    cases = client.get("/api/v1/cases?limit=200", headers=viewer)
    assert cases.status_code == 200, cases.get_json()
    for case in cases.get_json()["items"]:
        assert client.get(f"/api/v1/cases/{case['case_id']}", headers=viewer).status_code == 200
    actions = client.get("/api/v1/actions?limit=200", headers=viewer)
    assert actions.status_code == 200, actions.get_json()
    for found in actions.get_json()["items"]:
        url = f"/api/v1/actions/{found['action_id']}"
        assert client.get(url, headers=viewer).status_code == 200
        assert client.get(f"{url}/stats", headers=viewer).status_code == 200


# Dates every zone can convert


@pytest.mark.parametrize("occurred", [
    {"at": "0001-01-01T00:00:00", "timezone": "Asia/Tokyo"},
    {"at": "9999-12-31T23:59:59", "timezone": "America/Los_Angeles"},
    {"on": "0001-01-01"},
    {"at": "1899-12-31T23:00:00", "timezone": "Pacific/Kiritimati"},
])
def test_a_development_dated_outside_the_sane_years_is_a_422_and_every_read_still_answers(
    client: FlaskClient, campaigner: Headers, viewer: Headers, container: Container,
    occurred: dict[str, str],
) -> None:
    case_id = open_case(client, campaigner)
    before = event_count(container)

    response = client.post(f"/api/v1/cases/{case_id}/developments",
                           headers=if_match(client, f"/api/v1/cases/{case_id}", campaigner), json={
        "kind": "hearing_scheduled", "occurred": occurred, "summary": "A hearing."})

    field = "at" if "at" in occurred else "on"
    assert error_fields(response) == {f"occurred.{field}"}
    assert event_count(container) == before
    every_read_answers(client, viewer)


@pytest.mark.parametrize("on", ["9999-12-31", "0001-01-01", "2201-01-01"])
def test_a_deadline_outside_the_sane_years_is_a_422_naming_it(
    client: FlaskClient, campaigner: Headers, viewer: Headers, container: Container,
    seed_case: str, on: str,
) -> None:
    before = event_count(container)
    body = {**action_body(), "deadline": {"on": on, "timezone": "Pacific/Kiritimati"}}

    response = client.post("/api/v1/actions", json=body, headers=campaigner)

    assert error_fields(response) == {"deadline.on"}
    assert event_count(container) == before
    every_read_answers(client, viewer)


def test_an_issue_date_outside_the_sane_years_is_a_422_naming_it(
    client: FlaskClient, campaigner: Headers, seed_case: str
) -> None:
    response = client.post("/api/v1/actions", json={**action_body(), "issued_on": "0001-01-01"},
                           headers=campaigner)

    assert error_fields(response) == {"issued_on"}


# Single-line text where a header or subject would carry it


@pytest.mark.parametrize("field", ["title", "index_number"])
def test_a_title_with_a_line_break_is_a_422_and_nothing_is_stored(
    client: FlaskClient, campaigner: Headers, container: Container, seed_case: str,
    field: str,
) -> None:
    before = event_count(container)

    response = client.post("/api/v1/actions", json={**action_body(), field: CRLF},
                           headers=campaigner)

    assert error_fields(response) == {field}
    assert event_count(container) == before


def test_an_update_cannot_bring_a_line_break_into_the_title(
    client: FlaskClient, campaigner: Headers, launched_action: str
) -> None:
    url = f"/api/v1/actions/{launched_action}"
    response = client.post(f"{url}/updates", headers=if_match(client, url, campaigner),
                           json={"number": 6, "title": CRLF})

    assert error_fields(response) == {"title"}


@pytest.mark.parametrize(("field", "value"), [
    ("name", CRLF), ("salutation", "Dear Minister\n"), ("title", "Minister\u2028of Interior"),
    ("target_id", "minister\n"), ("fax", "+996\t312"), ("organisation", "\u202eMinistry"),
])
def test_a_target_field_that_would_reach_a_header_must_be_one_line(
    client: FlaskClient, campaigner: Headers, seed_case: str, field: str, value: str
) -> None:
    body = action_body()
    body["targets"][0][field] = value

    response = client.post("/api/v1/actions", json=body, headers=campaigner)

    assert error_fields(response) == {f"targets.0.{field}"}


@pytest.mark.parametrize(("field", "value"), [
    ("ua_number", "135/10\n"), ("ua_number", "١٣٥/١٠"), ("languages", ["ru\n"]),
])
def test_codes_are_matched_whole_and_in_ascii(
    client: FlaskClient, campaigner: Headers, seed_case: str, field: str, value: Any
) -> None:
    response = client.post("/api/v1/actions", json={**action_body(), field: value},
                           headers=campaigner)

    assert {f.split(".")[0] for f in error_fields(response)} == {field}


def test_a_supporter_name_with_a_line_break_is_a_422_and_nothing_is_stored(
    client: FlaskClient, container: Container
) -> None:
    before = event_count(container)

    response = client.post("/api/v1/supporters", json=sign_up_body(name="Ada\r\nBcc: x@y.org"))

    assert error_fields(response) == {"name"}
    assert "Bcc" not in response.get_data(as_text=True)  # personal data is never echoed
    assert event_count(container) == before


def test_names_keep_the_marks_and_joiners_real_names_are_written_with(
    client: FlaskClient, campaigner: Headers, container: Container
) -> None:
    # Persian with a zero-width non-joiner, Hebrew with a right-to-left mark, an emoji ZWJ.
    for name in ("\u0645\u06cc\u200c\u0631\u062d\u06cc\u0645\u06cc", "\u200f\u05d3\u05e0\u05d4",
                 "Zo\u00eb \U0001f469\u200d\U0001f4bb"):
        signed_up = client.post("/api/v1/supporters",
                                json=sign_up_body(f"{len(name)}@example.org", name))
        opened = client.post("/api/v1/cases", headers=campaigner, json={
            "subject_name": name, "country": "IR", "summary": "Line one.\r\n\tLine two."})
        assert (signed_up.status_code, opened.status_code) == (202, 201), opened.get_json()


def test_multi_line_text_takes_line_breaks_but_no_other_control_characters(
    client: FlaskClient, campaigner: Headers, seed_case: str
) -> None:
    fine = client.post("/api/v1/actions", headers=campaigner,
                       json={**action_body(), "body": "First.\r\n\r\n\tSecond."})
    bell = client.post("/api/v1/actions", headers=campaigner,
                       json={**action_body(), "body": "Ring\x07", "asks": ["Free\x1bhim"]})

    assert fine.status_code == 201
    assert error_fields(bell) == {"body", "asks.0"}


# References and time


def test_an_action_about_a_case_that_does_not_exist_is_a_422_and_nothing_is_stored(
    client: FlaskClient, campaigner: Headers, viewer: Headers, container: Container
) -> None:
    before = event_count(container)

    response = client.post("/api/v1/actions", json={**action_body(), "case_id": "no-such-case"},
                           headers={**campaigner, "Idempotency-Key": "draft-no-case"})

    assert error_fields(response) == {"case_id"}
    assert event_count(container) == before
    assert client.get("/api/v1/actions", headers=viewer).get_json()["items"] == []


def test_a_draft_cannot_be_revised_to_a_case_that_does_not_exist(
    client: FlaskClient, campaigner: Headers, container: Container, drafted_action: str
) -> None:
    before = event_count(container)

    response = client.put(f"/api/v1/actions/{drafted_action}",
                          headers=if_match(client, f"/api/v1/actions/{drafted_action}", campaigner),
                          json={**action_body(), "case_id": "no-such-case"})

    assert error_fields(response) == {"case_id"}
    assert event_count(container) == before


def test_an_action_about_a_case_opened_over_the_api_is_drafted(
    client: FlaskClient, campaigner: Headers
) -> None:
    case_id = open_case(client, campaigner)

    response = client.post("/api/v1/actions", json={**action_body(), "case_id": case_id},
                           headers=campaigner)

    assert response.status_code == 201
    assert response.get_json()["case_id"] == case_id


def test_an_action_whose_deadline_has_passed_is_not_launched(
    client: FlaskClient, campaigner: Headers, container: Container, seed_case: str
) -> None:
    body = {**action_body(), "issued_on": "2010-09-15",
            "deadline": {"on": "2010-10-27", "timezone": seed.TIMEZONE}}
    action_id = client.post("/api/v1/actions", json=body, headers=campaigner).get_json()[
        "action_id"]
    before = event_count(container)

    launched = client.post(f"/api/v1/actions/{action_id}/launch",
                           headers=if_match(client, f"/api/v1/actions/{action_id}", campaigner))

    assert_problem(launched, 409, "deadline_passed")
    assert event_count(container) == before
    after = client.get(f"/api/v1/actions/{action_id}", headers=campaigner).get_json()
    assert after["status"] == "drafted"


@pytest.fixture
def pledge_url(client: FlaskClient, launched_action: str, supporter: Person) -> str:
    response = client.post(f"/api/v1/actions/{launched_action}/pledges",
                           json={"letters_promised": 2}, headers=supporter.on(launched_action))
    assert response.status_code == 201, response.get_json()
    return f"/api/v1/pledges/{response.get_json()['pledge_id']}/letters"


@pytest.mark.parametrize("sent_on", ["2010-09-15", "0001-01-01"])
def test_a_letter_sent_before_the_action_was_issued_is_a_422_naming_sent_on(
    client: FlaskClient, container: Container, supporter: Person, pledge_url: str,
    launched_action: str, sent_on: str,
) -> None:
    before = event_count(container)

    response = client.post(pledge_url, headers=supporter.on(launched_action), json={
        "target_id": "minister-interior", "channel": "post", "sent_on": sent_on})

    assert error_fields(response) == {"sent_on"}
    assert event_count(container) == before


def test_a_letter_sent_on_the_day_the_action_was_issued_counts(
    client: FlaskClient, supporter: Person, pledge_url: str, launched_action: str,
) -> None:
    issued_on = action_body()["issued_on"]

    response = client.post(pledge_url, headers=supporter.on(launched_action), json={
        "target_id": "minister-interior", "channel": "post", "sent_on": issued_on})

    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize("letters", ["5", 5.5, 5.0, True, 0, 101, None])
def test_letters_promised_is_a_whole_json_number_in_range(
    client: FlaskClient, container: Container, launched_action: str, supporter: Person,
    letters: Any,
) -> None:
    before = event_count(container)

    response = client.post(f"/api/v1/actions/{launched_action}/pledges",
                           json={"letters_promised": letters},
                           headers=supporter.on(launched_action))

    assert error_fields(response) == {"letters_promised"}
    assert event_count(container) == before


def test_an_update_number_is_a_whole_json_number(
    client: FlaskClient, campaigner: Headers, launched_action: str
) -> None:
    for number in ("6", 6.5):
        url = f"/api/v1/actions/{launched_action}"
        response = client.post(f"{url}/updates", headers=if_match(client, url, campaigner),
                               json={"number": number})
        assert error_fields(response) == {"number"}


@pytest.mark.parametrize("letters", ["²", "١", "0", "101", " 1", "1\n", "+1"])
def test_the_act_pages_pledge_form_takes_ascii_digits_only(
    client: FlaskClient, container: Container, launched_action: str, supporter: Person,
    letters: str,
) -> None:
    url = act_url(container, launched_action, supporter)
    before = event_count(container)

    response = client.post(url, data={"do": "pledge", "letters": letters})

    assert response.status_code == 422
    assert "Say how many letters you will write: from 1 to 100." in response.get_data(as_text=True)
    assert event_count(container) == before


def test_the_act_pages_letter_form_refuses_a_day_before_the_issue_date(
    client: FlaskClient, container: Container, launched_action: str, supporter: Person,
) -> None:
    url = act_url(container, launched_action, supporter)
    assert client.post(url, data={"do": "pledge", "letters": "1"}).status_code == 303
    before = event_count(container)

    response = client.post(url, data={
        "do": "letter", "letter_id": "6f1c8f52-3d5e-4f0e-9a57-3f1b1f0e2a11",
        "target_id": "minister-interior", "channel": "post", "sent_on": "2010-09-15"})

    assert response.status_code == 422
    assert "before the action was issued" in response.get_data(as_text=True)
    assert event_count(container) == before
