"""The logs of a whole journey, as an operator's log pipeline reads them.

The Procfile's web, worker and clock run on PostgreSQL and Redis with `LOG_FORMAT=json` and
`LOG_LEVEL=DEBUG` (the most they ever say): a supporter signs up, confirms, gets the launch
e-mail, pledges and confirms a letter; a partner gets a webhook. Every line of every
process must be a JSON object with the agreed fields, and none may hold anything that
names or acts for a person: the address, the name, the supporter's id, link tokens, API
tokens, the partner's signing secret and contact address (all distinctive, so a match is
never a coincidence).
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import text

from campaign.infra.clock import utc_now
from tests.commands import SECRET_KEY
from tests.databases import PostgresDatabases
from tests.e2e.production import Production, links_in, production
from tests.e2e.test_hostile_input import launch, open_case, supporter_header, with_etag
from tests.integration.api.conftest import sign_up_body

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

EMAIL = "zephyrine.quillfeather@example.org"
NAME = "Zephyrine Quillfeather"
PARTNER_CONTACT = "xanthippe.contact@birduino.example.org"
LAUNCH_REQUEST = "launch-req-7f3a"
FIELDS = {"time", "level", "logger", "message", "correlation_id"}


def test_every_line_of_a_journey_is_json_with_a_correlation_id_and_names_nobody(
    postgres_databases: PostgresDatabases, tmp_path: Path,
) -> None:
    with production(postgres_databases, os.environ["TEST_REDIS_URL"], tmp_path,
                    settings={"LOG_FORMAT": "json", "LOG_LEVEL": "DEBUG"}) as stack:
        secrets = journey(stack)
        launched_with = launch_correlation(stack)
    lines = [line for p in stack.processes for line in p.output().splitlines() if line.strip()]

    records = [parsed(line) for line in lines]
    assert all(FIELDS <= record.keys() for record in records)
    everything = "\n".join(lines)
    leaked = {name: value for name, value in secrets.items()
              if value.lower() in everything.lower()}
    assert leaked == {}
    assert launched_with == LAUNCH_REQUEST  # the request's id is its events' correlation id
    [launch_line] = [r for r in records if r["logger"] == "campaign.web.requests"
                     and r["route"] == "/api/v1/actions/<action_id>/launch"]
    assert (launch_line["correlation_id"], launch_line["status"]) == (LAUNCH_REQUEST, 200)
    worker = [r for r in records if r["logger"].startswith("workers.")]
    assert worker and all(r["correlation_id"] for r in worker)
    # The launch e-mail's batch is logged under the launch request's id, from the worker.
    assert any(r["message"].startswith("batch ") and "accepted" in r["message"]
               and r["correlation_id"] == LAUNCH_REQUEST for r in worker)


def journey(stack: Production) -> dict[str, str]:
    """Sign up, confirm, launch, pledge, confirm a letter, send a partner a webhook;
    return everything that must never appear in a log, by name."""
    session = stack.client()
    case_id = open_case(stack, session)
    partner = session.post(stack.url("/api/v1/partners"), headers=stack.admin, json={
        "name": "Bir Duino", "contact_email": PARTNER_CONTACT, "webhook_url": stack.partner.url,
        "case_ids": [case_id], "event_types": ["case.development_recorded"]}).json()
    stack.partner.secrets = [partner["signing_secret"]]

    signed = session.post(stack.url("/api/v1/supporters"), json=sign_up_body(EMAIL, NAME))
    assert signed.status_code == 202, signed.text
    [confirm] = [link for link in links_in(stack.mail_to(EMAIL, "signup_confirmation"))
                 if "/confirm/" in link]
    confirm_token = urlsplit(confirm).path.rsplit("/", 1)[1]
    confirmed = session.post(stack.url("/api/v1/supporters/confirm"),
                             json={"token": confirm_token})
    assert confirmed.status_code == 200, confirmed.text
    supporter_id = confirmed.json()["supporter_id"]

    session.headers["X-Request-ID"] = LAUNCH_REQUEST
    action_id = launch(stack, session, case_id)
    del session.headers["X-Request-ID"]
    [act_link] = [link for link in links_in(stack.mail_to(EMAIL, "action_launched"))
                  if "/act/" in link]
    as_supporter = supporter_header(act_link)
    pledged = session.post(stack.url(f"/api/v1/actions/{action_id}/pledges"),
                           headers=as_supporter, json={"letters_promised": 1})
    assert pledged.status_code == 201, pledged.text
    letter = session.post(stack.url(f"/api/v1/pledges/{pledged.json()['pledge_id']}/letters"),
                          headers=as_supporter, json={
                              "target_id": "minister-interior", "channel": "post",
                              "sent_on": (utc_now().date() - timedelta(days=1)).isoformat()})
    assert letter.status_code == 201, letter.text

    case_path = f"/api/v1/cases/{case_id}"
    development = session.post(
        stack.url(f"{case_path}/developments"),
        headers=with_etag(stack, session, case_path, stack.campaigner),
        json={"kind": "released", "summary": "Released.",
              "occurred": {"on": utc_now().date().isoformat()}})
    assert development.status_code == 201, development.text
    stack.wait(lambda: [d for d in stack.partner.deliveries() if d.verified] or None,
               "the partner to receive the development")
    return {
        "e-mail": EMAIL, "name": NAME, "first name": NAME.split()[0],
        "family name": NAME.split()[1], "supporter id": supporter_id,
        "confirmation token": confirm_token,
        "action link token": as_supporter["Authorization"].split()[1],
        "partner contact": PARTNER_CONTACT, "partner signing secret": partner["signing_secret"],
        "partner api key": partner["api_key"],
        "admin token": stack.admin["Authorization"].split()[1],
        "campaigner token": stack.campaigner["Authorization"].split()[1],
        "secret key": SECRET_KEY, "sendgrid api key": stack.env["SENDGRID_API_KEY"],
    }


def launch_correlation(stack: Production) -> str:
    with stack.container.engine.connect() as conn:
        return str(conn.execute(text(
            "SELECT metadata->>'correlation_id' FROM events WHERE type = 'ActionLaunched'"
        )).scalar_one())


def parsed(line: str) -> dict[str, Any]:
    try:
        record = json.loads(line)
    except ValueError:
        raise AssertionError(f"not a JSON line: {line!r}") from None
    assert isinstance(record, dict), line
    return record
