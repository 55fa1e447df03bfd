"""An action's e-mail before anyone gets it (preview, test send), and what a stop cancels."""

from __future__ import annotations

import re
from email import message_from_bytes, policy

from flask.testing import FlaskClient
from sqlalchemy import select

from campaign.application.access import create_token
from campaign.bootstrap import Container
from campaign.demo import ua_135_10_ru as ru
from campaign.infra.clock import utc_now
from campaign.infra.tables import mail_batches
from events import SubscriptionRunner
from tests.integration.api.conftest import Headers, Person, action_body, assert_problem, if_match
from tests.integration.api.test_action_languages_api import translate
from tests.mail_reading import html_language, html_text


def preview(client: FlaskClient, action_id: str, headers: Headers, **query: str) -> dict[str, str]:
    response = client.get(f"/api/v1/actions/{action_id}/preview", query_string=query,
                          headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    body: dict[str, str] = response.get_json()
    return body


def timed_draft(client: FlaskClient, campaigner: Headers) -> str:
    """The seed's action with a deadline at 17:00 in Bishkek, drafted."""
    body = action_body()
    body["deadline"]["time"] = "17:00"
    response = client.post("/api/v1/actions", json=body, headers=campaigner)
    assert response.status_code == 201, response.get_json()
    action_id: str = response.get_json()["action_id"]
    return action_id


def run(container: Container, *names: str) -> None:
    """What the clock does within a second: run these subscriptions."""
    for name in names:
        SubscriptionRunner(container.store, container.subscriptions[name]).run()


def test_a_draft_previews_in_russian_with_the_deadline_on_the_readers_clock(
    client: FlaskClient, campaigner: Headers, viewer: Headers, seed_case: str,
) -> None:
    action_id = timed_draft(client, campaigner)
    assert translate(client, action_id, campaigner).status_code == 200

    shown = preview(client, action_id, viewer, language="ru", timezone="Europe/Moscow")

    assert shown["language"] == "ru" and shown["kind"] == "action_launched"
    assert ru.TITLE in shown["subject"] and ru.TITLE in shown["text"]
    assert ru.ASKS[1] in html_text(shown["html"])
    assert html_language(shown["html"])[0] == "ru"
    # 17:00 in Bishkek (UTC+6) is 14:00 in Moscow (UTC+3): the reader's clock, named.
    assert "14:00" in shown["text"] and "17:00" not in shown["text"]
    assert f"/act/{action_id}?token=preview-only" in shown["text"]
    assert "-name-" not in shown["text"] and "-pledge_url-" not in shown["html"]


def test_a_preview_in_a_language_the_action_lacks_is_in_its_own_language(
    client: FlaskClient, viewer: Headers, drafted_action: str,
) -> None:
    shown = preview(client, drafted_action, viewer, language="ky", timezone="Asia/Bishkek")

    assert shown["language"] == "en"
    assert shown["subject"].startswith("URGENT ACTION 135/10:")


def test_a_preview_names_a_bad_timezone_kind_or_action(
    client: FlaskClient, viewer: Headers, drafted_action: str,
) -> None:
    url = f"/api/v1/actions/{drafted_action}/preview"
    bad = client.get(url, query_string={"timezone": "Mars/Olympus", "kind": "spam"},
                     headers=viewer)
    fields = {e["field"] for e in assert_problem(bad, 422)["errors"]}
    assert fields == {"timezone", "kind"}
    assert_problem(client.get("/api/v1/actions/nope/preview", headers=viewer), 404)
    assert_problem(client.get(url), 401)


def test_the_stop_preview_counts_open_pledges_pending_reminders_and_queued_mail(
    client: FlaskClient, container: Container, campaigner: Headers, viewer: Headers,
    launched_action: str, supporter: Person,
) -> None:
    run(container, "mailing_planner")  # the launch mailing is planned, not yet sent
    pledged = client.post(f"/api/v1/actions/{launched_action}/pledges",
                          json={"letters_promised": 1}, headers=supporter.on(launched_action))
    assert pledged.status_code == 201, pledged.get_json()
    run(container, "reminder_schedule")

    counts = client.get(f"/api/v1/actions/{launched_action}/close-preview", headers=viewer)

    assert counts.status_code == 200, counts.get_json()
    assert counts.get_json() == {
        "action_id": launched_action, "status": "launched", "open_pledges": 1,
        "pending_reminders": 2, "queued_batches": 1, "queued_emails": 1}


def test_stopping_an_action_cancels_its_queued_mail(
    client: FlaskClient, container: Container, campaigner: Headers, launched_action: str,
    supporter: Person,
) -> None:
    run(container, "mailing_planner")
    with container.engine.connect() as conn:
        queued = conn.execute(select(mail_batches.c.batch_id)).scalars().all()
    url = f"/api/v1/actions/{launched_action}"
    closed = client.post(f"{url}/close", json={"reason": "released"},
                         headers=if_match(client, url, campaigner))
    assert closed.status_code == 200, closed.get_json()

    outcome = container.batches.send(queued[0], utc_now())

    assert (outcome.sent, outcome.recipients) == (False, 0)
    assert not list((container.settings.var_dir / "outbox").glob("*.eml"))
    after = client.get(f"{url}/close-preview", headers=campaigner).get_json()
    assert (after["status"], after["queued_batches"], after["open_pledges"]) == ("closed", 0, 0)



def test_a_test_send_reaches_the_tokens_own_address_alone_marked_as_a_test(
    client: FlaskClient, container: Container, seed_case: str, drafted_action: str,
    supporter: Person,
) -> None:
    _, token = create_token(container.engine, "ada's token", "campaigner",
                            email="campaigner.3c1d@example.org")

    sent = client.post(f"/api/v1/actions/{drafted_action}/test-send",
                       query_string={"language": "en", "timezone": "Asia/Bishkek"},
                       headers={"Authorization": f"Bearer {token}"})

    assert sent.status_code == 202, sent.get_json()
    assert sent.get_json()["to"] == "campaigner.3c1d@example.org"
    [mail] = [message_from_bytes(p.read_bytes(), policy=policy.default)
              for p in (container.settings.var_dir / "outbox").glob("*.eml")]
    assert mail["To"] == "campaigner.3c1d@example.org"
    assert str(mail["Subject"]).startswith("[TEST] URGENT ACTION 135/10:")
    assert supporter.email not in mail.as_string()


def test_a_test_send_from_a_token_without_an_address_is_a_409_saying_so(
    client: FlaskClient, container: Container, campaigner: Headers, viewer: Headers,
    drafted_action: str,
) -> None:
    url = f"/api/v1/actions/{drafted_action}/test-send"
    assert_problem(client.post(url, headers=viewer), 403)
    refused = client.post(f"/api/v1/actions/{drafted_action}/test-send", headers=campaigner)

    body = assert_problem(refused, 409, "token_has_no_email")
    assert "no e-mail address" in body["detail"]
    assert not list((container.settings.var_dir / "outbox").glob("*.eml"))


def test_test_sends_are_rate_limited(
    client: FlaskClient, container: Container, drafted_action: str,
) -> None:
    _, token = create_token(container.engine, "busy", "campaigner", email="busy.9e@example.org")
    url = f"/api/v1/actions/{drafted_action}/test-send"
    answers = [client.post(url, headers={"Authorization": f"Bearer {token}"}).status_code
               for _ in range(6)]

    assert answers == [202] * 5 + [429]


def test_the_preview_is_the_email_a_supporter_receives_but_for_name_and_links(
    client: FlaskClient, container: Container, viewer: Headers, launched_action: str,
    supporter: Person,
) -> None:
    run(container, "mailing_planner")
    with container.engine.connect() as conn:
        [batch_id] = conn.execute(select(mail_batches.c.batch_id)).scalars().all()
    container.batches.send(batch_id, utc_now())
    [path] = (container.settings.var_dir / "outbox").glob("*.eml")
    received = message_from_bytes(path.read_bytes(), policy=policy.default)
    body = received.get_body(preferencelist=("plain",))
    assert body is not None

    shown = preview(client, launched_action, viewer, language="en", timezone="Europe/London")

    def general(text: str) -> str:
        return re.sub(r"https?://\S+", "LINK", text.replace(supporter.name, "friend"))

    assert shown["subject"] == str(received["Subject"])
    assert general(shown["text"]) == general(body.get_content())
