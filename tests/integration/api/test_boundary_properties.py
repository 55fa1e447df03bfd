"""Whatever a client sends, the API answers 2xx or 4xx, and every read keeps answering.

Hypothesis pushes extreme dates (years 1 to 9999) in every IANA zone, text from every
Unicode category (NUL, CR/LF, separators, right-to-left marks and overrides, combining
characters, emoji, lone surrogates) and lengths at and past the limits through the case,
action, pledge and supporter endpoints; after each example the case list, the action
list, the action and its numbers are read again and must not answer 5xx.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import available_timezones

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from campaign.domain.base import DomainError
from campaign.domain.values import validate_timezone
from campaign.infra.clock import utc_now
from tests.integration.api.conftest import (
    Headers,
    Person,
    action_body,
    if_match,
    sign_up_body,
)

EXAMPLES = settings(max_examples=30, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
SPECIAL = ("\r\n", "\n", "\t", "\x00", "\x85", "\u2028", "\u2029", "\u200e", "\u200f",
           "\u202e", "\u2066", "\u200c", "\u200d", "e\u0301", "\U0001f469\u200d\U0001f52c",
           "\ud800", "\ufeff", "-name-", "<script>")


@cache
def zone_names() -> list[str]:
    names = []
    for name in sorted(available_timezones()):
        try:
            names.append(validate_timezone(name))
        except DomainError:
            continue
    return names


characters = st.characters(exclude_categories=())
pieces = st.text(characters, max_size=12) | st.sampled_from(SPECIAL)
texts = st.lists(pieces, max_size=4).map("".join) | st.sampled_from(
    [1, 199, 200, 201, 499, 500, 501, 20_000, 20_001]).map(lambda n: "é" * n)
zones = st.sampled_from([*zone_names(), "", "Mars/Olympus", "UTC\n"])
EDGES = [date.min, date(1899, 12, 31), date(1900, 1, 1), date(2200, 12, 31), date(2201, 1, 1),
         date.max]
near_day = st.integers(-30, 60).map(lambda n: utc_now().date() + timedelta(days=n))
days = (st.sampled_from(EDGES) | st.dates() | near_day).map(date.isoformat)
local_times = (st.sampled_from([datetime.min, datetime.max]) | st.datetimes()).map(
    datetime.isoformat)
occurrences = st.fixed_dictionaries({"on": days}) | st.fixed_dictionaries(
    {"at": local_times, "timezone": zones})
json_values = (st.integers() | st.floats(allow_nan=False) | st.text(max_size=5)
               | st.booleans() | st.none())


def answered(response: Any) -> Any:
    """The response, after checking it is not a server error."""
    assert response.status_code < 500, response.get_data(as_text=True)
    return response


def every_read_answers(client: FlaskClient, viewer: Headers, action_id: str | None) -> None:
    """The case list, the action list (each rendering every row), one action, its numbers."""
    for url in ("/api/v1/cases?limit=200", "/api/v1/actions?limit=200"):
        assert client.get(url, headers=viewer).status_code == 200, url
    if action_id is not None:
        for url in (f"/api/v1/actions/{action_id}", f"/api/v1/actions/{action_id}/stats"):
            assert client.get(url, headers=viewer).status_code == 200, url


@EXAMPLES
@given(subject=texts, summary=texts, tags=st.lists(texts, max_size=3), occurred=occurrences,
       happened=texts)
@example(subject="Azimzhan Askarov", summary="Detained.", tags=[], happened="Hearing.",
         occurred={"at": "0001-01-01T00:00:00", "timezone": "Asia/Tokyo"})
def test_cases_and_developments_take_any_text_and_date_without_breaking_a_read(
    client: FlaskClient, campaigner: Headers, viewer: Headers, subject: str, summary: str,
    tags: list[str], occurred: dict[str, str], happened: str,
) -> None:
    opened = answered(client.post("/api/v1/cases", headers=campaigner, json={
        "subject_name": subject or "Azimzhan Askarov", "country": "KG", "summary": summary,
        "tags": tags}))
    if opened.status_code != 201:
        opened = answered(client.post("/api/v1/cases", headers=campaigner, json={
            "subject_name": "Azimzhan Askarov", "country": "KG", "summary": "Detained."}))
    case_id = opened.get_json()["case_id"]

    url = f"/api/v1/cases/{case_id}"
    answered(client.post(f"{url}/developments", headers=if_match(client, url, campaigner),
                         json={"kind": "hearing_scheduled", "occurred": occurred,
                               "summary": happened or "Hearing."}))

    assert client.get(f"/api/v1/cases/{case_id}", headers=viewer).status_code == 200
    every_read_answers(client, viewer, None)


@EXAMPLES
@given(title=texts, body=texts, salutation=texts, issued_on=days, deadline_on=days,
       zone=zones)
@example(title="Urgent", body="", salutation="Dear Minister", issued_on="2010-09-15",
         deadline_on="9999-12-31", zone="Pacific/Kiritimati")
def test_actions_take_any_text_date_and_zone_without_breaking_a_read(
    client: FlaskClient, campaigner: Headers, viewer: Headers, seed_case: str, title: str,
    body: str, salutation: str, issued_on: str, deadline_on: str, zone: str,
) -> None:
    document = {**action_body(), "title": title, "body": body, "issued_on": issued_on,
                "deadline": {"on": deadline_on, "timezone": zone}}
    document["targets"][0]["salutation"] = salutation

    drafted = answered(client.post("/api/v1/actions", json=document, headers=campaigner))
    action_id = drafted.get_json()["action_id"] if drafted.status_code == 201 else None
    if action_id is not None:
        url = f"/api/v1/actions/{action_id}"
        answered(client.post(f"{url}/launch", headers=if_match(client, url, campaigner)))

    every_read_answers(client, viewer, action_id)


@EXAMPLES
@given(letters=json_values, sent_on=days, target=texts)
def test_pledges_and_letters_take_any_json_without_breaking_a_read(
    client: FlaskClient, viewer: Headers, launched_action: str, supporter: Person,
    letters: Any, sent_on: str, target: str,
) -> None:
    pledged = answered(client.post(f"/api/v1/actions/{launched_action}/pledges",
                                   json={"letters_promised": letters},
                                   headers=supporter.on(launched_action)))
    if pledged.status_code in (200, 201):
        pledge_id = pledged.get_json()["pledge_id"]
        answered(client.post(f"/api/v1/pledges/{pledge_id}/letters",
                             headers=supporter.on(launched_action),
                             json={"target_id": target, "channel": "post", "sent_on": sent_on}))

    every_read_answers(client, viewer, launched_action)


@EXAMPLES
@given(name=texts, zone=zones, email=texts)
def test_sign_up_takes_any_name_zone_and_address_without_a_server_error(
    client: FlaskClient, admin: Headers, name: str, zone: str, email: str,
) -> None:
    answered(client.post("/api/v1/supporters", json=sign_up_body(name=name, timezone=zone)))
    answered(client.post("/api/v1/supporters", json=sign_up_body(email=email)))

    assert client.get("/api/v1/supporters?limit=200", headers=admin).status_code == 200


@pytest.mark.parametrize(("url", "field", "limit", "body"), [
    ("/api/v1/cases", "subject_name", 500,
     {"subject_name": "x", "country": "KG", "summary": "Detained."}),
    ("/api/v1/cases", "summary", 20_000,
     {"subject_name": "Azimzhan Askarov", "country": "KG", "summary": "x"}),
    ("/api/v1/supporters", "name", 200, sign_up_body()),
])
def test_text_up_to_its_limit_is_taken_and_one_character_more_is_a_422(
    client: FlaskClient, campaigner: Headers, url: str, field: str, limit: int,
    body: dict[str, Any],
) -> None:
    at_limit = client.post(url, headers=campaigner, json={**body, field: "é" * limit})
    past_it = client.post(url, headers=campaigner, json={**body, field: "é" * (limit + 1)})

    assert at_limit.status_code in (201, 202), at_limit.get_json()
    assert past_it.status_code == 422
    assert {e["field"] for e in past_it.get_json()["errors"]} == {field}


@pytest.mark.parametrize(("field", "limit", "make"), [
    ("title", 500, lambda n: "é" * n),
    ("body", 100_000, lambda n: "é" * n),
    ("asks", 50, lambda n: ["Release him."] * n),
    ("targets", 50, lambda n: [{**action_body()["targets"][0], "target_id": f"t-{i}"}
                               for i in range(n)]),
    ("source_links", 50, lambda n: ["https://example.org/"] * n),
])
def test_an_action_field_up_to_its_limit_is_taken_and_one_more_is_a_422(
    client: FlaskClient, campaigner: Headers, seed_case: str, field: str, limit: int,
    make: Any,
) -> None:
    at_limit = client.post("/api/v1/actions", headers=campaigner,
                           json={**action_body(), field: make(limit)})
    past_it = client.post("/api/v1/actions", headers=campaigner,
                          json={**action_body(), field: make(limit + 1)})

    assert at_limit.status_code == 201, at_limit.get_json()
    assert past_it.status_code == 422
    assert {e["field"] for e in past_it.get_json()["errors"]} == {field}
