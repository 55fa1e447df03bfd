"""The cases list: nearest appeal deadline first, with counts read from the read models."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient

from campaign.application.commands import Meta
from campaign.bootstrap import Container
from campaign.domain import case
from campaign.domain.values import OnDate
from campaign.infra.clock import utc_now
from tests.integration.api.conftest import (
    Headers,
    Person,
    action_body,
    assert_problem,
    count_letters,
    error_fields,
    if_match,
)

OVERVIEW = "/api/v1/case-overview"


def open_case(client: FlaskClient, headers: Headers, name: str, country: str = "KG") -> str:
    response = client.post("/api/v1/cases", headers=headers, json={
        "subject_name": name, "country": country, "summary": f"{name} is at risk."})
    assert response.status_code == 201, response.get_json()
    return str(response.get_json()["case_id"])


def launch(client: FlaskClient, headers: Headers, case_id: str, days: int,
           ua_number: str = "135/10") -> str:
    body = {**action_body(), "case_id": case_id, "ua_number": ua_number,
            "deadline": {"on": (utc_now().date() + timedelta(days=days)).isoformat(),
                         "timezone": "Asia/Bishkek"}}
    drafted = client.post("/api/v1/actions", json=body, headers=headers)
    assert drafted.status_code == 201, drafted.get_json()
    url = f"/api/v1/actions/{drafted.get_json()['action_id']}"
    assert client.post(f"{url}/launch", headers=if_match(client, url, headers)).status_code == 200
    return str(drafted.get_json()["action_id"])


def pending_news(container: Container, case_id: str) -> None:
    container.commands.handle(case.RecordDevelopment(
        case_id=case_id, development_id="partner-news", kind="other",
        occurred=OnDate(utc_now().date()), summary="A partner heard of a transfer.",
        source=case.DevelopmentSource(kind="partner", partner_id="amnesty-kg"),
        recorded_at=utc_now(), requires_approval=True), Meta(actor="partner:amnesty-kg",
                                                              correlation_id="news"))


def listed(client: FlaskClient, headers: Headers, **query: Any) -> list[dict[str, Any]]:
    response = client.get(OVERVIEW, query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    items: list[dict[str, Any]] = response.get_json()["items"]
    return items


def test_cases_come_by_nearest_deadline_with_their_newest_action_and_time_left(
    client: FlaskClient, campaigner: Headers, viewer: Headers
) -> None:
    later = open_case(client, campaigner, "Later Case")
    soon = open_case(client, campaigner, "Soon Case")
    none = open_case(client, campaigner, "Quiet Case")
    middle = open_case(client, campaigner, "Middle Case")
    launch(client, campaigner, later, 30)
    launch(client, campaigner, soon, 40, ua_number="1/26")
    launch(client, campaigner, soon, 1, ua_number="2/26")
    launch(client, campaigner, middle, 10)

    items = listed(client, viewer)

    assert [i["case_id"] for i in items] == [soon, middle, later, none]
    first = items[0]
    assert (first["actions"], first["newest_action_status"]) == (2, "launched")
    assert 0 < first["seconds_left"] <= 2 * 86400
    assert first["ua_number"] in ("1/26", "2/26")
    assert items[3]["next_deadline"] is None and items[3]["actions"] == 0
    assert [i["case_id"] for i in listed(client, viewer, deadline_within_hours=48)] == [soon]


def test_filters_and_search_narrow_the_list_and_pending_developments_are_counted(
    client: FlaskClient, campaigner: Headers, viewer: Headers, container: Container
) -> None:
    kyrgyz = open_case(client, campaigner, "Azimzhan Askarov")
    french = open_case(client, campaigner, "Other Person", country="FR")
    launch(client, campaigner, french, 5, ua_number="77/26")
    pending_news(container, kyrgyz)

    pending = listed(client, viewer, has_pending="true")
    assert [(i["case_id"], i["pending_developments"]) for i in pending] == [(kyrgyz, 1)]
    assert [i["case_id"] for i in listed(client, viewer, has_pending="false")] == [french]
    assert [i["case_id"] for i in listed(client, viewer, country="FR")] == [french]
    assert [i["case_id"] for i in listed(client, viewer, q="askarov")] == [kyrgyz]
    assert [i["case_id"] for i in listed(client, viewer, q="UA 77/26")] == [french]
    assert listed(client, viewer, q="100%_") == []
    assert [i["case_id"] for i in listed(client, viewer, status="open")] == [french, kyrgyz]
    assert "country" in error_fields(client.get(OVERVIEW, query_string={"country": "France"},
                                                headers=viewer))
    assert_problem(client.get(OVERVIEW), 401)


def test_pledges_and_confirmed_letters_add_up_across_a_cases_actions_with_a_daily_line(
    client: FlaskClient, campaigner: Headers, viewer: Headers, container: Container,
    supporter: Person,
) -> None:
    case_id = open_case(client, campaigner, "Counted Case")
    first, second = launch(client, campaigner, case_id, 5), launch(client, campaigner, case_id, 9)
    for action_id in (first, second):
        pledged = client.post(f"/api/v1/actions/{action_id}/pledges",
                              json={"letters_promised": 1}, headers=supporter.on(action_id))
        assert pledged.status_code == 201, pledged.get_json()
        letter = client.post(f"/api/v1/pledges/{pledged.get_json()['pledge_id']}/letters",
                             json={"target_id": "minister-interior", "channel": "post",
                                   "sent_on": utc_now().date().isoformat()},
                             headers=supporter.on(action_id))
        assert letter.status_code == 201, letter.get_json()
    count_letters(container)

    (row,) = listed(client, viewer, q="Counted")

    assert (row["pledges"], row["letters"]) == (2, 2)
    assert len(row["letters_per_day"]) == 14 and row["letters_per_day"][-1] == 2
    assert sum(row["letters_per_day"]) == 2
