"""The audit: who did what to which stream, newest first, from the actor on each event."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient

from campaign.application.access import Role, create_token
from campaign.application.commands import Meta
from campaign.application.console_sessions import end_session, open_session
from campaign.application.operations import skip
from campaign.bootstrap import Container
from campaign.domain.operations import SubscriptionEventSkipped, operations_stream
from campaign.infra.clock import utc_now
from campaign.mail.sending import DISPATCHER
from events import SubscriptionRunner
from tests.integration.api.conftest import EMAIL, NAME, Headers, assert_problem, if_match
from tests.stuck import stick_the_mail_dispatcher

AUDIT = "/api/v1/audit"


def follow_the_log(container: Container) -> None:
    """What the clock does within seconds: bring the catch-up audit up to date."""
    SubscriptionRunner(container.store, container.subscriptions["audit"]).run()


def audit(client: FlaskClient, admin: Headers, **query: Any) -> dict[str, Any]:
    response = client.get(AUDIT, query_string=query, headers=admin)
    assert response.status_code == 200, response.get_json()
    found: dict[str, Any] = response.get_json()
    return found


def token_of(client: FlaskClient, admin: Headers, role: Role) -> str:
    (token_id,) = [t["token_id"] for t in client.get("/api/v1/tokens", headers=admin).get_json()
                   if t["role"] == role]
    return str(token_id)


def test_the_audit_names_who_did_what_to_which_stream_newest_first_without_personal_data(
    client: FlaskClient, token_headers: Callable[[Role], Headers], container: Container,
    sign_up: Callable[..., str],
) -> None:
    campaigner, admin = token_headers("campaigner"), token_headers("admin")
    opened = client.post("/api/v1/cases", headers=campaigner, json={
        "subject_name": "Azimzhan Askarov", "country": "KG", "summary": "At risk."})
    case_url = f"/api/v1/cases/{opened.get_json()['case_id']}"
    client.post(f"{case_url}/close", json={"outcome": "Released."},
                headers=if_match(client, case_url, campaigner))
    supporter_id = sign_up()
    follow_the_log(container)

    items = audit(client, admin)["items"]

    token = f"token:{token_of(client, admin, 'campaigner')}"
    positions = [i["position"] for i in items]
    assert positions == sorted(positions, reverse=True)
    by_token = [(i["actor"], i["event_type"], i["stream_id"]) for i in items
                if i["actor"] == token]
    assert by_token == [(token, "CaseClosed", f"case-{opened.get_json()['case_id']}"),
                        (token, "CaseOpened", f"case-{opened.get_json()['case_id']}")]
    assert f"supporter-{supporter_id}" in {i["stream_id"] for i in items}
    text = client.get(AUDIT, headers=admin).get_data(as_text=True)
    assert EMAIL not in text and NAME not in text


def test_the_audit_pages_back_by_position_and_filters_by_actor_and_type(
    client: FlaskClient, token_headers: Callable[[Role], Headers], container: Container
) -> None:
    campaigner, admin = token_headers("campaigner"), token_headers("admin")
    for n in range(5):
        client.post("/api/v1/cases", headers=campaigner, json={
            "subject_name": f"Person {n}", "country": "KG", "summary": "At risk."})
    follow_the_log(container)
    token = f"token:{token_of(client, admin, 'campaigner')}"

    first = audit(client, admin, limit=2, actor=token)
    second = audit(client, admin, limit=2, actor=token, before=first["next_before"])
    last = audit(client, admin, limit=2, actor=token, before=second["next_before"])

    pages = [first["items"], second["items"], last["items"]]
    assert [len(p) for p in pages] == [2, 2, 1] and last["next_before"] is None
    seen = [i["position"] for p in pages for i in p]
    assert seen == sorted(set(seen), reverse=True)
    assert {i["event_type"] for i in audit(client, admin, event_type="CaseOpened")["items"]} == {
        "CaseOpened"}
    assert audit(client, admin, actor="token:nobody")["items"] == []


def test_console_sign_ins_and_sign_outs_are_listed_newest_first(
    client: FlaskClient, token_headers: Callable[[Role], Headers], container: Container
) -> None:
    admin = token_headers("admin")
    token_id, token = create_token(container.engine, "Maria", "campaigner")
    first = open_session(container.engine, token, utc_now() - timedelta(hours=1))
    assert first is not None
    end_session(container.engine, first.session_id, utc_now() - timedelta(minutes=30))
    open_session(container.engine, token, utc_now())

    found = client.get("/api/v1/audit/sign-ins", query_string={"token_id": token_id},
                       headers=admin)

    assert found.status_code == 200, found.get_json()
    assert [(s["token_name"], s["ended_reason"]) for s in found.get_json()] == [
        ("Maria", None), ("Maria", "logout")]
    assert token not in found.get_data(as_text=True)
    assert_problem(client.get("/api/v1/audit/sign-ins", headers=token_headers("viewer")), 403)


def test_only_admins_read_the_audit(
    client: FlaskClient, token_headers: Callable[[Role], Headers]
) -> None:
    assert_problem(client.get(AUDIT, headers=token_headers("campaigner")), 403)
    assert_problem(client.get(AUDIT), 401)
    assert_problem(client.get(AUDIT, query_string={"before": "x"},
                              headers=token_headers("admin")), 422)


def test_the_audit_shows_who_skipped_which_event_of_a_stuck_subscription_and_why(
    client: FlaskClient, token_headers: Callable[[Role], Headers], container: Container
) -> None:
    position = stick_the_mail_dispatcher(container)
    skipped = skip(container.commands, DISPATCHER, position, "Ana (on call)",
                   "planned for a withdrawn action", Meta(actor="cli", correlation_id="ops"),
                   utc_now())
    follow_the_log(container)

    [entry] = audit(client, token_headers("admin"),
                    event_type=SubscriptionEventSkipped.type_name)["items"]

    assert (entry["actor"], entry["stream_id"]) == ("cli", operations_stream(DISPATCHER))
    assert entry["note"] == (f"{DISPATCHER} skipped position {position} (MailingPlanned "
                             f"{skipped.event_id}), by Ana (on call): planned for a withdrawn "
                             "action")
    others = audit(client, token_headers("admin"))["items"]
    assert {i["note"] for i in others if i["position"] != entry["position"]} == {None}
