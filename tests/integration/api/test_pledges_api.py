"""Pledges over HTTP: one per supporter per action, letters confirmed, the numbers follow."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event

from campaign.bootstrap import Container
from campaign.domain.pledge import AGGREGATE
from campaign.infra.clock import utc_now
from campaign.web.api.pledges import PledgeSchema, _from_state
from tests.integration.api.conftest import (
    Headers,
    Person,
    action_body,
    assert_problem,
    count_letters,
    error_fields,
    event_count,
    if_match,
)

MINISTER, PROSECUTOR, PRESIDENT = "minister-interior", "general-prosecutor", "president"


def pledges_url(action_id: str) -> str:
    return f"/api/v1/actions/{action_id}/pledges"


def pledge(client: FlaskClient, action_id: str, person: Person, **body: Any) -> Any:
    return client.post(pledges_url(action_id), json={"letters_promised": 1, **body},
                       headers=person.on(action_id))


def days_ago(days: int) -> str:
    """A day after the test action's issue (a week ago) and not in the future."""
    return (utc_now().date() - timedelta(days=days)).isoformat()


def letter(target_id: str = MINISTER, channel: str = "post", sent_on: str | None = None,
           **extra: str) -> dict[str, str]:
    return {"target_id": target_id, "channel": channel, "sent_on": sent_on or days_ago(0),
            **extra}


@pytest.fixture
def other(confirmed: Callable[..., Person]) -> Person:
    return confirmed("grace.hopper.91c2@example.org", "Grace Hopper")


@pytest.fixture
def pledge_id(client: FlaskClient, launched_action: str, supporter: Person) -> str:
    response = pledge(client, launched_action, supporter, target_ids=[MINISTER, PROSECUTOR],
                      letters_promised=2)
    assert response.status_code == 201, response.get_json()
    found: str = response.get_json()["pledge_id"]
    return found


def test_pledging_answers_201_with_the_pledge_and_where_it_lives(
    client: FlaskClient, launched_action: str, supporter: Person
) -> None:
    response = pledge(client, launched_action, supporter, letters_promised=3)

    assert response.status_code == 201
    body = response.get_json()
    assert body["pledge_id"] == f"{launched_action}-{supporter.supporter_id}"
    assert response.headers["Location"] == f"/api/v1/pledges/{body['pledge_id']}"
    assert response.headers["ETag"] == '"1"'
    assert body["action_id"] == launched_action
    assert body["supporter_id"] == supporter.supporter_id
    assert body["status"] == "open"
    assert body["target_ids"] == [MINISTER, PROSECUTOR, PRESIDENT]  # none named: all
    assert (body["letters_promised"], body["letters_confirmed"], body["letters"]) == (3, 0, [])
    assert body["due_at"].endswith("+00:00")
    read = client.get(response.headers["Location"], headers=supporter.on(launched_action))
    assert read.get_json() == body
    assert read.headers["ETag"] == '"1"'


def test_confirming_every_promised_letter_fulfils_the_pledge_and_counts_per_target_and_day(
    client: FlaskClient, launched_action: str, supporter: Person, pledge_id: str,
    viewer: Headers, container: Container,
) -> None:
    url = f"/api/v1/pledges/{pledge_id}/letters"

    first_day, second_day = days_ago(2), days_ago(1)
    first = client.post(url, json=letter(MINISTER, "post", first_day, letter_id="l-1"),
                        headers=supporter.on(launched_action))
    second = client.post(url, json=letter(PROSECUTOR, "fax", second_day),
                         headers=supporter.on(launched_action))

    assert first.status_code == second.status_code == 201
    assert first.get_json()["status"] == "open"
    assert first.get_json()["letters"][0]["letter_id"] == "l-1"
    done = second.get_json()
    assert done["status"] == "fulfilled"
    assert done["letters_confirmed"] == 2
    assert [(x["target_id"], x["channel"], x["sent_on"]) for x in done["letters"]] == [
        (MINISTER, "post", first_day), (PROSECUTOR, "fax", second_day)]
    assert done["letters"][1]["letter_id"]  # generated when not given
    count_letters(container)
    stats = client.get(f"/api/v1/actions/{launched_action}/stats", headers=viewer).get_json()
    assert (stats["pledges"], stats["letters"]) == (1, 2)
    assert stats["pledges_by_status"] == {"fulfilled": 1}
    assert {t["target_id"]: t["letters"] for t in stats["targets"]} == {
        MINISTER: 1, PROSECUTOR: 1, PRESIDENT: 0}
    assert stats["letters_per_day"] == [
        {"day": first_day, "target_id": MINISTER, "letters": 1},
        {"day": second_day, "target_id": PROSECUTOR, "letters": 1},
    ]


def test_confirming_the_same_letter_again_changes_nothing(
    client: FlaskClient, launched_action: str, container: Container, supporter: Person,
    pledge_id: str,
) -> None:
    url = f"/api/v1/pledges/{pledge_id}/letters"
    client.post(url, json=letter(letter_id="l-1"), headers=supporter.on(launched_action))
    before = event_count(container)

    again = client.post(url, json=letter(letter_id="l-1"), headers=supporter.on(launched_action))
    changed = client.post(url, json=letter(channel="email", letter_id="l-1"),
                          headers=supporter.on(launched_action))

    assert again.status_code == 200
    assert again.get_json()["letters_confirmed"] == 1
    assert_problem(changed, 409, "duplicate_letter")
    assert event_count(container) == before


def test_a_letter_to_an_official_outside_the_pledge_is_409(
    client: FlaskClient, launched_action: str, supporter: Person, pledge_id: str
) -> None:
    response = client.post(f"/api/v1/pledges/{pledge_id}/letters", json=letter(PRESIDENT),
                           headers=supporter.on(launched_action))

    assert_problem(response, 409, "unknown_target")


def test_letters_are_checked_field_by_field(
    client: FlaskClient, launched_action: str, supporter: Person, pledge_id: str
) -> None:
    response = client.post(f"/api/v1/pledges/{pledge_id}/letters",
                           json={"channel": "pigeon", "sent_on": "yesterday", "letter_id": ""},
                           headers=supporter.on(launched_action))

    assert error_fields(response) == {"target_id", "channel", "sent_on", "letter_id"}


def test_one_pledge_per_supporter_per_action(
    client: FlaskClient, container: Container, launched_action: str, supporter: Person
) -> None:
    first = pledge(client, launched_action, supporter, target_ids=[MINISTER])
    before = event_count(container)

    same = pledge(client, launched_action, supporter, target_ids=[MINISTER])
    different = pledge(client, launched_action, supporter, target_ids=[MINISTER],
                       letters_promised=2)

    assert first.status_code == 201
    assert same.status_code == 200
    assert same.get_json() == first.get_json()
    assert same.headers["Location"] == first.headers["Location"]
    assert_problem(different, 409, "already_pledged")
    assert event_count(container) == before


def test_an_idempotency_key_retry_returns_the_first_response_and_appends_nothing(
    client: FlaskClient, container: Container, launched_action: str, supporter: Person
) -> None:
    headers = {**supporter.on(launched_action), "Idempotency-Key": "pledge-once"}
    first = client.post(pledges_url(launched_action), json={"letters_promised": 2},
                        headers=headers)
    before = event_count(container)

    retry = client.post(pledges_url(launched_action), json={"letters_promised": 2},
                        headers=headers)
    reused = client.post(pledges_url(launched_action), json={"letters_promised": 3},
                         headers=headers)

    assert first.status_code == retry.status_code == 201
    assert retry.get_data() == first.get_data()
    assert retry.headers["Location"] == first.headers["Location"]
    assert retry.headers["ETag"] == first.headers["ETag"]
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert_problem(reused, 422)
    assert event_count(container) == before


def test_an_idempotency_key_retry_of_a_letter_appends_nothing(
    client: FlaskClient, launched_action: str, container: Container, supporter: Person,
    pledge_id: str,
) -> None:
    headers = {**supporter.on(launched_action), "Idempotency-Key": "letter-once"}
    url = f"/api/v1/pledges/{pledge_id}/letters"
    first = client.post(url, json=letter(), headers=headers)  # no letter_id: generated
    before = event_count(container)

    retry = client.post(url, json=letter(), headers=headers)

    assert retry.status_code == 201
    assert retry.get_data() == first.get_data()
    assert event_count(container) == before


def test_pledging_on_a_closed_action_is_409(
    client: FlaskClient, launched_action: str, campaigner: Headers, supporter: Person
) -> None:
    url = f"/api/v1/actions/{launched_action}"
    closed = client.post(f"{url}/close", json={"reason": "released"},
                         headers=if_match(client, url, campaigner))
    assert closed.status_code == 200

    assert_problem(pledge(client, launched_action, supporter), 409, "action_not_open")


def test_pledging_on_a_draft_is_409_and_on_an_unknown_action_404(
    client: FlaskClient, drafted_action: str, supporter: Person
) -> None:
    assert_problem(pledge(client, drafted_action, supporter), 409, "action_not_open")
    assert_problem(pledge(client, "no-such-action", supporter), 404)


def test_pledging_needs_confirmed_consent(
    client: FlaskClient, container: Container, launched_action: str, sign_up: Callable[..., str]
) -> None:
    unconfirmed = Person(sign_up(), "", "", container.links)

    assert_problem(pledge(client, launched_action, unconfirmed), 409, "consent_required")


def test_pledging_to_an_official_not_in_the_action_is_409(
    client: FlaskClient, launched_action: str, supporter: Person
) -> None:
    response = pledge(client, launched_action, supporter, target_ids=["someone-else"])

    assert_problem(response, 409, "unknown_target")


def test_pledges_are_checked_field_by_field(
    client: FlaskClient, launched_action: str, supporter: Person
) -> None:
    response = client.post(pledges_url(launched_action),
                           json={"target_ids": ["Not An Id"], "letters_promised": 0},
                           headers=supporter.on(launched_action))

    assert error_fields(response) == {"target_ids.0", "letters_promised"}
    assert error_fields(client.post(pledges_url(launched_action), json={},
                                    headers=supporter.on(launched_action))) == {"letters_promised"}


# Whose pledge it is


def test_an_action_e_mail_link_pledges_for_that_action_only(
    client: FlaskClient, container: Container, launched_action: str, supporter: Person,
    campaigner: Headers,
) -> None:
    drafted = client.post("/api/v1/actions", json=action_body(), headers=campaigner)
    another = drafted.get_json()["action_id"]
    launch = if_match(client, f"/api/v1/actions/{another}", campaigner)
    assert client.post(f"/api/v1/actions/{another}/launch", headers=launch).status_code == 200
    theirs = pledge(client, another, supporter).get_json()["pledge_id"]
    forwarded = supporter.on(launched_action)  # the link of one e-mail, passed on
    before = event_count(container)

    elsewhere = client.post(pledges_url(another), json={"letters_promised": 1},
                            headers=forwarded)
    read = client.get(f"/api/v1/pledges/{theirs}", headers=forwarded)
    write = client.post(f"/api/v1/pledges/{theirs}/letters", json=letter(), headers=forwarded)

    assert_problem(elsewhere, 403)
    assert_problem(read, 403)
    assert_problem(write, 403)
    assert event_count(container) == before


def test_another_supporter_can_neither_confirm_letters_on_my_pledge_nor_read_it(
    client: FlaskClient, launched_action: str, container: Container, pledge_id: str,
    other: Person,
) -> None:
    before = event_count(container)

    write = client.post(f"/api/v1/pledges/{pledge_id}/letters", json=letter(),
                        headers=other.on(launched_action))
    read = client.get(f"/api/v1/pledges/{pledge_id}", headers=other.on(launched_action))

    assert_problem(write, 403)
    assert_problem(read, 403)
    assert event_count(container) == before


def test_campaigners_of_any_role_may_read_a_pledge_but_not_confirm_letters(
    client: FlaskClient, pledge_id: str, viewer: Headers, campaigner: Headers
) -> None:
    assert client.get(f"/api/v1/pledges/{pledge_id}", headers=viewer).status_code == 200
    write = client.post(f"/api/v1/pledges/{pledge_id}/letters", json=letter(),
                        headers=campaigner)
    assert_problem(write, 401)


def test_an_unknown_pledge_is_404(
    client: FlaskClient, launched_action: str, supporter: Person
) -> None:
    assert_problem(client.get("/api/v1/pledges/nope", headers=supporter.on(launched_action)), 404)
    assert_problem(client.post("/api/v1/pledges/nope/letters", json=letter(),
                               headers=supporter.on(launched_action)), 404)


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/api/v1/actions/{action}/pledges"),
    ("GET", "/api/v1/pledges/{pledge}"),
    ("POST", "/api/v1/pledges/{pledge}/letters"),
])
def test_pledge_endpoints_need_a_valid_token(
    client: FlaskClient, container: Container, launched_action: str, pledge_id: str,
    supporter: Person, method: str, path: str,
) -> None:
    url = path.format(action=launched_action, pledge=pledge_id)
    body = letter() if "letters" in path else {"letters_promised": 1}
    erase_link = container.links.sign("erase", supporter.supporter_id)

    for headers in ({}, {"Authorization": "Supporter forged"},
                    {"Authorization": f"Supporter {erase_link}"}, supporter.manage,
                    {"Authorization": "Bearer uat_unknown"}):
        assert_problem(client.open(url, method=method, json=body, headers=headers), 401)


def test_a_pledge_is_read_from_its_row_as_its_stream_would_give_it(
    client: FlaskClient, container: Container, launched_action: str, supporter: Person,
    pledge_id: str,
) -> None:
    url, headers = f"/api/v1/pledges/{pledge_id}", supporter.on(launched_action)
    for n, target in enumerate((MINISTER, PROSECUTOR, MINISTER)):  # fulfilled, then a late one
        sent = client.post(f"{url}/letters", json=letter(target, "email", days_ago(n),
                                                        letter_id=f"l{n}"), headers=headers)
        assert sent.status_code == 201
    sent_sql: list[str] = []

    def cursor(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        sent_sql.append(statement)

    event.listen(container.engine, "before_cursor_execute", cursor)
    try:
        read = client.get(url, headers=headers)
    finally:
        event.remove(container.engine, "before_cursor_execute", cursor)

    with container.engine.connect() as conn:
        state, version = container.commands.load(conn, f"pledge-{pledge_id}", AGGREGATE)
    replayed = PledgeSchema().dump(_from_state(pledge_id, state, version))
    assert read.status_code == 200
    assert read.get_json() == replayed
    assert (replayed["status"], replayed["letters_confirmed"]) == ("fulfilled", 3)
    assert read.headers["ETag"] == f'"{version}"'
    assert not [s for s in sent_sql if "events" in s]  # the stream is not replayed


def test_once_erased_a_supporter_s_action_link_confirms_no_letter_and_tells_nothing(
    client: FlaskClient, container: Container, launched_action: str, pledge_id: str,
    supporter: Person, admin: Headers,
) -> None:
    erased = client.post(f"/api/v1/supporters/{supporter.supporter_id}/erase", headers=admin)
    assert erased.status_code == 204
    before = event_count(container)

    for path in (f"/api/v1/pledges/{pledge_id}/letters", "/api/v1/pledges/nope/letters"):
        assert_problem(client.post(path, json=letter(), headers=supporter.on(launched_action)),
                       401)
    assert_problem(pledge(client, launched_action, supporter), 401)
    assert_problem(pledge(client, "no-such-action", supporter), 401)
    assert_problem(client.post(pledges_url("another-action"), json={"letters_promised": 1},
                               headers=supporter.on(launched_action)), 401)
    assert event_count(container) == before


def test_a_letter_dated_in_the_future_is_refused(
    client: FlaskClient, launched_action: str, supporter: Person, pledge_id: str
) -> None:
    response = client.post(f"/api/v1/pledges/{pledge_id}/letters",
                           json=letter(sent_on="2099-01-01"), headers=supporter.on(launched_action))

    assert error_fields(response) == {"sent_on"}


def test_a_malformed_if_match_is_400_only_once_the_pledge_is_found_and_the_callers(
    client: FlaskClient, launched_action: str, container: Container, pledge_id: str,
    supporter: Person, other: Person,
) -> None:
    before = event_count(container)
    malformed = {"If-Match": "three"}

    unknown = client.post("/api/v1/pledges/nope/letters", json=letter(),
                          headers={**supporter.on(launched_action), **malformed})
    foreign = client.post(f"/api/v1/pledges/{pledge_id}/letters", json=letter(),
                          headers={**other.on(launched_action), **malformed})
    own = client.post(f"/api/v1/pledges/{pledge_id}/letters", json=letter(),
                      headers={**supporter.on(launched_action), **malformed})

    assert_problem(unknown, 404)
    assert_problem(foreign, 403)
    assert_problem(own, 400)
    assert event_count(container) == before
