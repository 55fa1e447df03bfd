"""Whatever the API accepts, everything downstream of the log can carry.

Hypothesis sends extreme text (every Unicode category, the longest allowed), dates at the
edges of the allowed years and every IANA zone through sign-up, case, development and
action endpoints. What the API accepts must then go all the way: every subscription runs
without failing or parking an event, the partner receives every webhook and verifies its
signature with the reference library, the partner feed answers, and every e-mail is made
and sent (no recipient set aside). Values the API refuses never reach this far; the
containment tests show what happens to such values when they were stored before.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from campaign.application.supporters import find_supporter_by_email
from campaign.bootstrap import Container
from campaign.infra.clock import utc_now
from campaign.infra.tables import mail_batches, mail_recipient_failures
from campaign.partners.admin import Issued
from events import SubscriptionRunner
from tests.fakes.partner_receiver import PartnerReceiver
from tests.integration.api.conftest import action_body, resolve_requests, sign_up_body
from tests.integration.api.test_boundary_properties import (
    days,
    occurrences,
    texts,
    zone_names,
    zones,
)
from tests.integration.webhooks.conftest import Clock, Pipeline, register

Headers = dict[str, str]
EXAMPLES = settings(max_examples=20, deadline=None, suppress_health_check=[
    HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# Mostly what the API takes (any letter, mark, number, punctuation, symbol or space, and the
# invisible marks of bidirectional text), sometimes anything at all.
PRINTABLE = st.characters(categories=("L", "M", "N", "P", "S", "Zs"))
MARKS = st.sampled_from(["\u200e", "\u200f", "\u2066", "\u2069", "\u200d", "\u0301",
                         "\U0001f469\u200d\U0001f52c", "-name-", "<script>", "{{ name }}"])
names = st.lists(st.text(PRINTABLE, min_size=1, max_size=20) | MARKS, min_size=1,
                 max_size=5).map("".join).map(str.strip).filter(bool) | texts
long_texts = names | st.sampled_from([199, 200, 500, 20_000]).map(lambda n: "é" * n)
valid_zones = st.sampled_from(zone_names()) | zones
sane_days = st.dates(date(1900, 1, 1), date(2200, 12, 31)).map(date.isoformat) | days
sane_times = st.datetimes(datetime(1900, 1, 1), datetime(2200, 12, 31, 23, 59, 59)).map(
    datetime.isoformat)
sane_occurrences = st.fixed_dictionaries({"on": sane_days}) | st.fixed_dictionaries(
    {"at": sane_times, "timezone": valid_zones}) | occurrences
future_days = st.dates(date.today() + timedelta(days=2), date(2200, 12, 31)).map(
    date.isoformat) | sane_days


@pytest.fixture
def partner(container: Container, receiver: PartnerReceiver, clock: Clock) -> Issued:
    """A partner following every case in Kyrgyzstan, every event type."""
    return register(container, receiver, clock(), case_ids=(), countries=("KG",))


def if_match(client: FlaskClient, url: str, headers: Headers) -> Headers:
    current = client.get(url, headers=headers)
    return {**headers, "If-Match": current.headers.get("ETag", '"0"')}


def accepted(response: Any) -> bool:
    """True for a 2xx; a 4xx is a refusal; a 5xx fails the test."""
    assert response.status_code < 500, response.get_data(as_text=True)
    return bool(response.status_code < 300)


def join(client: FlaskClient, container: Container, name: str, zone: str) -> str | None:
    """Sign up and confirm, when the API takes the name and zone; the address, if it did."""
    email = f"reader.{uuid.uuid4().hex[:12]}@example.org"
    if not accepted(client.post("/api/v1/supporters",
                                json=sign_up_body(email, name, timezone=zone))):
        return None
    resolve_requests(container)
    with container.engine.connect() as conn:
        supporter_id = find_supporter_by_email(conn, container.blind_index, email)
    assert supporter_id is not None
    token = container.links.sign("confirm", supporter_id)
    assert accepted(client.post("/api/v1/supporters/confirm", json={"token": token}))
    return email


def publish(client: FlaskClient, campaigner: Headers, summary: str, happened: str,
            occurred: dict[str, str], title: str, deadline: dict[str, str]
            ) -> tuple[str | None, bool]:
    """Open a case, record a development and launch an action, as far as the API takes it:
    the development's id if it was recorded, and whether the action was launched."""
    opened = client.post("/api/v1/cases", headers=campaigner, json={
        "subject_name": "Azimzhan Askarov", "country": "KG", "summary": summary})
    if not accepted(opened):
        opened = client.post("/api/v1/cases", headers=campaigner, json={
            "subject_name": "Azimzhan Askarov", "country": "KG", "summary": "Detained."})
    case_id = opened.get_json()["case_id"]
    case_url = f"/api/v1/cases/{case_id}"
    developed = client.post(f"{case_url}/developments",
                            headers=if_match(client, case_url, campaigner),
                            json={"kind": "hearing_scheduled", "occurred": occurred,
                                  "summary": happened})
    development_id = developed.get_json()["timeline"][-1]["development_id"] \
        if accepted(developed) else None
    drafted = client.post("/api/v1/actions", headers=campaigner, json={
        **action_body(), "case_id": case_id, "title": title, "deadline": deadline})
    if not accepted(drafted):
        return development_id, False
    url = f"/api/v1/actions/{drafted.get_json()['action_id']}"
    return development_id, accepted(client.post(f"{url}/launch",
                                                headers=if_match(client, url, campaigner)))


def run_every_subscription(container: Container) -> None:
    """Every subscription, twice (some follow what others wrote): none fails or parks."""
    for _ in range(2):
        for name, subscription in container.subscriptions.items():
            result = SubscriptionRunner(container.store, subscription).run()
            assert not result.failed and result.parked == 0, (name, result)


def send_every_batch(container: Container) -> None:
    with container.engine.connect() as conn:
        waiting = conn.execute(select(mail_batches.c.batch_id)
                               .where(mail_batches.c.outcome.is_(None))).scalars().all()
    for batch_id in waiting:
        container.batches.send(batch_id, utc_now())


@EXAMPLES
@given(name=names, zone=valid_zones, summary=long_texts, happened=long_texts,
       occurred=sane_occurrences, title=names, deadline_on=future_days,
       deadline_zone=valid_zones)
@example(name="Zoë \u202eevil\u202c \U0001f469\u200d\U0001f52c", zone="Pacific/Kiritimati",
         summary="é" * 20_000, happened="Hearing.",
         occurred={"at": "1900-01-01T00:00:00", "timezone": "Pacific/Kiritimati"},
         title="<script>-name-</script>", deadline_on="2200-12-31",
         deadline_zone="Pacific/Kiritimati")
@example(name="Teuea", zone="Etc/GMT+12", summary="", happened="x",
         occurred={"at": "2200-12-31T23:59:59", "timezone": "Etc/GMT+12"},
         title="t", deadline_on="2200-12-31", deadline_zone="Etc/GMT+12")
def test_what_the_api_accepts_reaches_partners_and_supporters(
    container: Container, client: FlaskClient, token_headers: Callable[[str], Headers],
    pipeline: Pipeline, receiver: PartnerReceiver, partner: Issued, name: str, zone: str,
    summary: str, happened: str, occurred: dict[str, str], title: str, deadline_on: str,
    deadline_zone: str,
) -> None:
    campaigner = token_headers("campaigner")
    email = join(client, container, name, zone)
    development_id, launched = publish(client, campaigner, summary, happened or "Hearing.",
                                       occurred, title,
                                       {"on": deadline_on, "timezone": deadline_zone})

    run_every_subscription(container)
    attempts = pipeline.run()
    send_every_batch(container)

    assert all(a.outcome == "succeeded" for a in attempts), attempts
    assert all(d.verified for d in receiver.deliveries())
    feed = client.get("/api/v1/feed?after=0&limit=200",
                      headers={"Authorization": f"Bearer {partner.api_key}"})
    assert feed.status_code == 200, feed.get_json()
    with container.engine.connect() as conn:
        failures = conn.execute(select(func.count()).select_from(mail_recipient_failures))
        assert failures.scalar_one() == 0
        outcomes = conn.execute(select(mail_batches.c.outcome)).scalars().all()
    assert "failed" not in outcomes
    for url in ("/api/v1/cases?limit=200", "/api/v1/actions?limit=200"):
        assert client.get(url, headers=campaigner).status_code == 200, url
    if development_id is not None:
        sent = [d.payload["data"].get("development_id") for d in receiver.deliveries()]
        assert development_id in sent
    if email is not None and launched:
        assert any(email in path.read_text(errors="replace")
                   for path in (container.settings.var_dir / "outbox").glob("*.eml"))
