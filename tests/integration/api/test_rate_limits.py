"""Abuse controls: public endpoints answer 429 with Retry-After past their limits.

Per client (its address), and for sign-ups and "manage my data" requests, which may each
send an e-mail to an address a stranger typed, one hourly budget shared by everyone.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import redis
from dramatiq.brokers.stub import StubBroker
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select

from campaign.bootstrap import build
from campaign.settings import Settings
from campaign.web.app import create_app
from events.schema import events
from tests.integration.api.conftest import (
    Person,
    assert_problem,
    sign_up_body,
)

BASE = "/api/v1/supporters"
REDIS_DB = 6  # away from the db 0 the queue tests use

AppFactory = Callable[..., Flask]


@pytest.fixture
def limited_app(tmp_path: Path, database_url: str, engine: Engine, broker: StubBroker
                ) -> AppFactory:
    """An app whose settings say `environment` on top of the tests' own."""

    def make(**environment: str) -> Flask:
        settings = Settings.from_env({
            "DATABASE_URL": database_url, "SECRET_KEY": "test-secret-key-" + "x" * 32,
            "VAR_DIR": str(tmp_path / "var"), **environment,
        })
        return create_app(build(settings, engine=engine, broker=broker))

    return make


def from_address(address: str) -> dict[str, Any]:
    return {"environ_base": {"REMOTE_ADDR": address}}


def assert_too_many(response: Any) -> None:
    assert_problem(response, 429)
    assert 0 < int(response.headers["Retry-After"]) <= 3600


def received(engine: Engine, event_type: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(events)
                                .where(events.c.type == event_type)).scalar_one())


def test_one_client_signing_up_a_hundred_addresses_is_stopped_after_ten(
    client: FlaskClient, engine: Engine,
) -> None:
    answers = [client.post(BASE, json=sign_up_body(f"person.{n}@example.org"))
               for n in range(100)]

    assert [a.status_code for a in answers[:10]] == [202] * 10
    for refused in answers[10:]:
        assert_too_many(refused)
    assert received(engine, "SignUpReceived") == 10  # and so ten confirmation e-mails at most
    other = client.post(BASE, json=sign_up_body("someone@example.org"),
                        **from_address("192.0.2.7"))
    assert other.status_code == 202  # another client is not held back


def test_the_hourly_mail_budget_is_shared_by_every_client(
    limited_app: AppFactory, engine: Engine,
) -> None:
    client = limited_app(RATE_LIMIT_PUBLIC_MAIL="3 per hour").test_client()
    assert client.post(BASE, json={"email": "broken"}).status_code == 422  # spends nothing

    accepted = [client.post(BASE, json=sign_up_body(f"p{n}@example.org"),
                            **from_address(f"192.0.2.{n}")) for n in range(2)]
    accepted.append(client.post(f"{BASE}/manage-link", json={"email": "p9@example.org"},
                                **from_address("192.0.2.9")))

    assert [a.status_code for a in accepted] == [202, 202, 202]
    assert_too_many(client.post(BASE, json=sign_up_body("late@example.org"),
                                **from_address("198.51.100.1")))
    assert_too_many(client.post(f"{BASE}/manage-link", json={"email": "late@example.org"},
                                **from_address("198.51.100.2")))
    assert_too_many(client.post("/manage", data={"email": "late@example.org"},
                                **from_address("198.51.100.3")))
    assert received(engine, "SignUpReceived") + received(engine, "ManageRequestReceived") == 3


@pytest.mark.parametrize("endpoint", [
    "api-confirm", "api-erase", "confirm-page", "unsubscribe", "resubscribe", "api-manage",
    "manage-page"])
def test_every_public_endpoint_is_limited_per_client(
    limited_app: AppFactory, confirmed: Callable[..., Person], endpoint: str,
) -> None:
    app = limited_app(RATE_LIMIT_LINKS="2 per minute", RATE_LIMIT_UNSUBSCRIBE="2 per minute",
                      RATE_LIMIT_MANAGE_REQUEST="2 per minute")
    client = app.test_client()
    links = app.extensions["campaign"].links
    who = confirmed().supporter_id
    send: dict[str, Callable[[], Any]] = {
        "api-confirm": lambda: client.post(f"{BASE}/confirm",
                                           json={"token": links.sign("confirm", who)}),
        "api-erase": lambda: client.post(f"{BASE}/erase", json={"token": "forged"}),
        "confirm-page": lambda: client.post(f"/confirm/{links.sign('confirm', who)}"),
        "unsubscribe": lambda: client.post(f"/unsubscribe/{links.sign('unsubscribe', who)}"),
        "resubscribe": lambda: client.post(
            f"/unsubscribe/{links.sign('unsubscribe', who)}/resubscribe"),
        "api-manage": lambda: client.post(f"{BASE}/manage-link",
                                          json={"email": "ada@example.org"}),
        "manage-page": lambda: client.post("/manage", data={"email": "ada@example.org"}),
    }

    first, second, third = (send[endpoint]() for _ in range(3))

    assert first.status_code < 429 and second.status_code < 429
    assert_too_many(third)


def test_behind_a_trusted_proxy_the_address_it_saw_is_the_client(
    limited_app: AppFactory,
) -> None:
    client = limited_app(TRUSTED_PROXY_HOPS="1", RATE_LIMIT_SIGN_UP="1 per minute").test_client()

    def sign_up(forwarded: str, n: int) -> int:
        return client.post(BASE, json=sign_up_body(f"p{n}@example.org"),
                           headers={"X-Forwarded-For": forwarded}).status_code

    assert sign_up("203.0.113.1", 1) == 202
    assert sign_up("203.0.113.2", 2) == 202  # another client behind the same proxy
    assert sign_up("made-up, 203.0.113.1", 3) == 429  # what the client claims is not trusted


@pytest.mark.redis
def test_with_redis_every_web_process_counts_together(
    limited_app: AppFactory,
) -> None:
    url = os.environ["TEST_REDIS_URL"].rsplit("/", 1)[0] + f"/{REDIS_DB}"
    redis.Redis.from_url(url).flushdb()
    one, two = (limited_app(REDIS_URL=url, RATE_LIMIT_SIGN_UP="2 per minute").test_client()
                for _ in range(2))

    assert one.post(BASE, json=sign_up_body("a@example.org")).status_code == 202
    assert two.post(BASE, json=sign_up_body("b@example.org")).status_code == 202
    assert_too_many(one.post(BASE, json=sign_up_body("c@example.org")))
    assert_too_many(two.post(BASE, json=sign_up_body("d@example.org")))
    assert redis.Redis.from_url(url).keys("*campaign-limits*")


def test_the_sign_up_form_counts_with_the_api_and_answers_a_page_past_the_limit(
    limited_app: AppFactory, engine: Engine,
) -> None:
    client = limited_app(RATE_LIMIT_SIGN_UP="2 per minute",
                         RATE_LIMIT_PUBLIC_MAIL="1000 per hour").test_client()
    form = {"name": "Ainura", "locale": "ky", "country": "KG", "timezone": "Asia/Bishkek",
            "consent": "yes"}

    assert client.post(BASE, json=sign_up_body("api@example.org")).status_code == 202
    assert client.post("/join", data={**form, "email": "form@example.org"}).status_code == 303
    refused = client.post("/join?lang=ru", data={**form, "email": "late@example.org"})

    assert refused.status_code == 429 and refused.mimetype == "text/html"
    assert "Слишком много подписок" in refused.get_data(as_text=True)
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert client.get("/join").status_code == 200  # the form itself is never refused
    assert received(engine, "SignUpReceived") == 2


def test_the_sign_up_form_spends_the_hourly_mail_budget_shared_by_everyone(
    limited_app: AppFactory, engine: Engine,
) -> None:
    client = limited_app(RATE_LIMIT_PUBLIC_MAIL="1 per hour").test_client()
    form = {"name": "Ainura", "locale": "ky", "country": "KG", "timezone": "Asia/Bishkek",
            "consent": "yes"}
    assert client.post("/join", data={**form, "email": "bad"}).status_code == 422  # free

    assert client.post("/join", data={**form, "email": "a@example.org"}).status_code == 303
    assert client.post(BASE, json=sign_up_body("b@example.org"),
                       **from_address("192.0.2.8")).status_code == 429
    assert received(engine, "SignUpReceived") == 1
