"""The HTTP API over a real database (SQLite and PostgreSQL): an app, tokens, an action, people.

Everything here goes through the API itself, except what only an e-mail would carry: the
tokens of the confirmation link, of an action e-mail's link and of a "manage my data" link
are signed with the app's own `links`, as the workers do when they send those e-mails, and
what the clock would do within a second (resolve sign-ups) is done by running it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, inspect, select, text

from campaign.application.access import Role, SupporterLinks, create_token
from campaign.application.commands import Meta
from campaign.application.supporters import ADDRESS_REQUESTS, find_supporter_by_email
from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed
from campaign.domain.codec import to_plain
from campaign.infra.clock import utc_now
from campaign.web.app import create_app
from events import SubscriptionRunner
from events.schema import events

PROBLEM_JSON = "application/problem+json"
EMAIL = "ada.lovelace.7f3a@example.org"
NAME = "Ada Byron-Lovelace"

Headers = dict[str, str]


@dataclass(frozen=True)
class Person:
    """A signed-up supporter, and what the links of our e-mails let them send."""

    supporter_id: str
    email: str
    name: str
    links: SupporterLinks

    @property
    def manage(self) -> Headers:
        """The headers a "manage my data" e-mail's link gives: their own data, for an hour."""
        return supporter_headers(self.links.sign("manage", self.supporter_id))

    def on(self, action_id: str) -> Headers:
        """The headers the link in an e-mail about `action_id` gives: that pledge only."""
        return supporter_headers(self.links.sign_action(self.supporter_id, action_id))


def supporter_headers(token: str) -> Headers:
    return {"Authorization": f"Supporter {token}"}


def resolve_requests(container: Container) -> None:
    """What the clock does within a second: resolve public sign-ups and manage requests."""
    SubscriptionRunner(container.store, container.subscriptions[ADDRESS_REQUESTS]).run()


def sign_up_body(email: str = EMAIL, name: str = NAME, **fields: str) -> dict[str, str]:
    return {"email": email, "name": name, "locale": "en", "country": "GB",
            "timezone": "Europe/London", **fields}


def action_body() -> dict[str, Any]:
    """The seed's UA 135/10, issued a week ago with a deadline a month away.

    Letters may be dated from the issue date on, so a week ago leaves days to date them.
    Its case is the seed's: draft it with the `seed_case` fixture, since an action's
    case must exist.
    """
    body = to_plain(seed.CONTENT)
    today = utc_now().date()
    body["issued_on"] = (today - timedelta(days=7)).isoformat()
    body["deadline"] = {"on": (today + timedelta(days=30)).isoformat(),
                        "timezone": seed.TIMEZONE}
    return body


def event_count(container: Container) -> int:
    with container.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(events)).scalar_one())


def every_row_as_text(container: Container) -> str:
    """Every row of every table, one line each: what a database dump would show."""
    lines = []
    with container.engine.connect() as conn:
        for table in inspect(conn).get_table_names():
            for row in conn.execute(text(f'SELECT * FROM "{table}"')):
                lines.append(f"{table}: {tuple(row)!r}")
    return "\n".join(lines)


def if_match(client: FlaskClient, url: str, headers: Headers) -> Headers:
    """`headers` plus If-Match with the ETag `url` has now: what a careful client writes with."""
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return {**headers, "If-Match": response.headers["ETag"]}


def assert_problem(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == PROBLEM_JSON
    body: dict[str, Any] = response.get_json()
    assert body["status"] == status
    if code is not None:
        assert body.get("code") == code, body
    return body


def error_fields(response: Any) -> set[str]:
    body = assert_problem(response, 422)
    return {e["field"] for e in body["errors"]}


@pytest.fixture
def app(container: Container) -> Flask:
    return create_app(container)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def token_headers(container: Container) -> Callable[[Role], Headers]:
    def make(role: Role) -> Headers:
        _, token = create_token(container.engine, f"test {role}", role)
        return {"Authorization": f"Bearer {token}"}

    return make


@pytest.fixture
def admin(token_headers: Callable[[Role], Headers]) -> Headers:
    return token_headers("admin")


@pytest.fixture
def campaigner(token_headers: Callable[[Role], Headers]) -> Headers:
    return token_headers("campaigner")


@pytest.fixture
def viewer(token_headers: Callable[[Role], Headers]) -> Headers:
    return token_headers("viewer")


@pytest.fixture
def seed_case(container: Container) -> str:
    """The seed's case, opened (without its developments), for actions to be about."""
    container.commands.handle(seed.OPEN_CASE, Meta(actor="test", correlation_id="seed-case"))
    return seed.CASE_ID


@pytest.fixture
def drafted_action(client: FlaskClient, campaigner: Headers, seed_case: str) -> str:
    response = client.post("/api/v1/actions", json=action_body(), headers=campaigner)
    assert response.status_code == 201, response.get_json()
    action_id: str = response.get_json()["action_id"]
    return action_id


@pytest.fixture
def launched_action(client: FlaskClient, campaigner: Headers, drafted_action: str) -> str:
    url = f"/api/v1/actions/{drafted_action}"
    response = client.post(f"{url}/launch", headers=if_match(client, url, campaigner))
    assert response.status_code == 200, response.get_json()
    return drafted_action


@pytest.fixture
def sign_up(client: FlaskClient, container: Container) -> Callable[..., str]:
    """Sign up over the API; the supporter's id as the confirmation e-mail would carry it."""

    def register(email: str = EMAIL, name: str = NAME, **fields: str) -> str:
        response = client.post("/api/v1/supporters", json=sign_up_body(email, name, **fields))
        assert response.status_code == 202, response.get_json()
        resolve_requests(container)
        with container.engine.connect() as conn:
            found = find_supporter_by_email(conn, container.blind_index, email)
        assert found is not None
        return found

    return register


@pytest.fixture
def confirmed(client: FlaskClient, container: Container,
              sign_up: Callable[..., str]) -> Callable[..., Person]:
    """Sign up and click the confirmation link: a supporter who may pledge."""

    def register(email: str = EMAIL, name: str = NAME, **fields: str) -> Person:
        supporter_id = sign_up(email, name, **fields)
        token = container.links.sign("confirm", supporter_id)
        response = client.post("/api/v1/supporters/confirm", json={"token": token})
        assert response.status_code == 200, response.get_json()
        assert response.get_json() == {"supporter_id": supporter_id, "consented": True}
        return Person(supporter_id, email, name, container.links)

    return register


@pytest.fixture
def supporter(confirmed: Callable[..., Person]) -> Person:
    return confirmed()


def count_letters(container: Container) -> None:
    """What the clock does within a second: bring the catch-up letter counts up to date."""
    from events import SubscriptionRunner

    SubscriptionRunner(container.store, container.subscriptions["letter_counts"]).run()
