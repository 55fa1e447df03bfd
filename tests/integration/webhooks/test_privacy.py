"""Partners never receive supporters' personal data: an end-to-end run, every payload scanned.

Supporters with known names and addresses sign up, pledge and confirm letters over the
API; an action is launched, updated and closed; a partner reports a development that a
campaigner approves; letter milestones and a day's counts are reported. Every byte that
left for the two partners — webhook bodies and headers, the stored messages, and every
page of the feed — is then searched for those people's addresses, names and ids.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from campaign.application.access import Role
from campaign.application.supporters import (
    ADDRESS_REQUESTS,
    export_supporter,
    find_supporter_by_email,
)
from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from campaign.infra.tables import webhook_messages
from campaign.partners.letter_reports import report_daily_letter_counts
from events import SubscriptionRunner
from tests.fakes.partner_receiver import PartnerReceiver
from tests.integration.api.conftest import action_body, if_match
from tests.integration.api.partners import (
    as_body,
    hearing_report,
    key_headers,
    open_seed_case,
    post_inbound,
    signed,
)
from tests.integration.webhooks.conftest import Clock, Pipeline

PEOPLE = [
    ("Zofia Quillfeather", "zofia.quillfeather.c41@example.org"),
    ("Tamerlan Oskonbaevich", "t.oskonbaevich.77@example.net"),
    ("Inès Vauquelin-Moreau", "ines.vauquelin@example.fr"),
    ("Kwame Asantewaa-Boateng", "kwame.asantewaa@example.com"),
    ("Rūta Žemaitytė", "ruta.zemaityte.5@example.lt"),
]
LETTERS_EACH = 20
EXPECTED_TYPES = {"action.launched", "action.updated", "action.closed",
                  "case.development_recorded", "action.letters_milestone",
                  "action.daily_letter_counts"}


def supporter_journey(client: FlaskClient, container: Container, action_id: str,
                      name: str, email: str) -> dict[str, Any]:
    """Sign up, confirm, pledge and confirm letters, over the API; the person's ids."""
    answer = client.post("/api/v1/supporters", json={
        "email": email, "name": name, "locale": "en", "country": "GB",
        "timezone": "Europe/London"})
    assert answer.status_code == 202, answer.get_json()
    SubscriptionRunner(container.store, container.subscriptions[ADDRESS_REQUESTS]).run()
    with container.engine.connect() as conn:
        supporter_id = find_supporter_by_email(conn, container.blind_index, email)
    assert supporter_id is not None
    confirmed = client.post("/api/v1/supporters/confirm", json={
        "token": container.links.sign("confirm", supporter_id)})
    assert confirmed.status_code == 200, confirmed.get_json()
    # The token of the link in the action's e-mail, as the workers sign it.
    token = container.links.sign_action(supporter_id, action_id)
    headers = {"Authorization": f"Supporter {token}"}
    pledged = client.post(f"/api/v1/actions/{action_id}/pledges", headers=headers,
                          json={"target_ids": [], "letters_promised": LETTERS_EACH})
    assert pledged.status_code == 201, pledged.get_json()
    pledge_id = pledged.get_json()["pledge_id"]
    targets = [t.target_id for t in seed.TARGETS]
    for n in range(LETTERS_EACH):
        sent = client.post(f"/api/v1/pledges/{pledge_id}/letters", headers=headers, json={
            "letter_id": f"{supporter_id[:8]}-{n}", "target_id": targets[n % len(targets)],
            "channel": "email", "sent_on": datetime.now(UTC).date().isoformat()})
        assert sent.status_code == 201, sent.get_json()
    return {"supporter_id": supporter_id, "pledge_id": pledge_id}


def catch_up(container: Container, pipeline: Pipeline) -> None:
    """What the workers do: every subscription, then the outbox and the deliveries."""
    for subscription in container.subscriptions.values():
        SubscriptionRunner(container.store, subscription).run()
    pipeline.run()


def feed_pages(client: FlaskClient, partner: dict[str, Any]) -> list[str]:
    pages, after = [], "0"
    while True:
        response = client.get("/api/v1/feed", query_string={"after": after, "limit": 3},
                              headers=key_headers(partner))
        assert response.status_code == 200, response.get_json()
        pages.append(response.get_data(as_text=True))
        body = response.get_json()
        if not body["has_more"]:
            return pages
        after = body["next_cursor"]


def test_nothing_partners_receive_names_or_identifies_a_supporter(
    container: Container, client: FlaskClient, token_headers: Callable[[Role], dict[str, str]],
    pipeline: Pipeline, receiver: PartnerReceiver, other_receiver: PartnerReceiver,
    clock: Clock,
) -> None:
    admin, campaigner = token_headers("admin"), token_headers("campaigner")
    open_seed_case(container)
    partners = []
    for server, follows in ((receiver, {"case_ids": [seed.CASE_ID]}),
                            (other_receiver, {"countries": ["KG"]})):
        created = client.post("/api/v1/partners", headers=admin, json={
            "name": f"Partner at {server.url}", "contact_email": "info@partner.example.org",
            "webhook_url": server.url, **follows})
        assert created.status_code == 201, created.get_json()
        server.secrets = [created.get_json()["signing_secret"]]
        partners.append(created.get_json())
    drafted = client.post("/api/v1/actions", json=action_body(), headers=campaigner)
    action_id = drafted.get_json()["action_id"]
    url = f"/api/v1/actions/{action_id}"
    assert client.post(f"{url}/launch",
                       headers=if_match(client, url, campaigner)).status_code == 200
    people = [supporter_journey(client, container, action_id, name, email)
              for name, email in PEOPLE]
    report = as_body(hearing_report())
    inbound = post_inbound(client, partners[0], report, signed(partners[0]["signing_secret"],
                                                               report))
    assert inbound.status_code == 202, inbound.get_json()
    approved = client.post(f"/api/v1/cases/{seed.CASE_ID}/developments/"
                           f"{seed.SUPREME_COURT_HEARING.development_id}/approve",
                           headers=if_match(client, f"/api/v1/cases/{seed.CASE_ID}", campaigner))
    assert approved.status_code == 200, approved.get_json()
    assert client.post(f"{url}/updates", headers=if_match(client, url, campaigner), json={
        "number": 1, "summary": "The appeal hearing was moved."}).status_code == 201
    catch_up(container, pipeline)  # letters counted, the 100th announced
    tomorrow = datetime.combine(datetime.now(UTC).date() + timedelta(days=1), time(1), UTC)
    assert report_daily_letter_counts(container.commands, tomorrow) == 1
    assert client.post(f"{url}/close", headers=if_match(client, url, campaigner), json={
        "reason": "released", "note": "Released on 15 May."}).status_code == 200
    catch_up(container, pipeline)

    sent = receiver.requests() + other_receiver.requests()
    assert all(r.verified and r.answered == 200 for r in sent)
    assert {r.payload["type"] for r in receiver.requests()} == EXPECTED_TYPES
    assert {r.payload["type"] for r in other_receiver.requests()} == EXPECTED_TYPES
    with container.engine.connect() as conn:
        stored = conn.execute(select(webhook_messages.c.body)).scalars().all()
    outbound = [r.body.decode() for r in sent] + [repr(r.headers) for r in sent] \
        + list(stored) + feed_pages(client, partners[0]) + feed_pages(client, partners[1])
    corpus = "\n".join(outbound).lower()

    # The scan can find things: the campaign's own words are there.
    assert seed.TITLE.lower()[:40] in corpus and "supreme court" in corpus
    for (name, email), ids in zip(PEOPLE, people, strict=True):
        # The data exists in the system (an export decrypts it) ...
        assert email in repr(export_supporter(container.commands, ids["supporter_id"]))
        # ... and none of it reached a partner.
        needles = [email, email.split("@")[0], name, *name.replace("-", " ").split(),
                   ids["supporter_id"], ids["pledge_id"]]
        found = [n for n in needles if n.lower() in corpus]
        assert found == [], f"{name}'s data reached a partner: {found}"
