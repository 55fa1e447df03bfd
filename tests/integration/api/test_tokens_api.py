"""Tokens over HTTP: who made each, its address, when last used, its role changed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from campaign.application.access import Role, caller_for_token, create_token
from campaign.application.console_sessions import live_session, open_session
from campaign.bootstrap import Container
from campaign.infra.clock import utc_now
from campaign.infra.tables import api_tokens
from events import as_utc
from tests.integration.api.conftest import Headers, assert_problem, error_fields

TOKENS = "/api/v1/tokens"


def listed(client: FlaskClient, admin: Headers, token_id: str) -> dict[str, Any]:
    (found,) = [t for t in client.get(TOKENS, headers=admin).get_json()
                if t["token_id"] == token_id]
    return dict(found)


def admin_with_id(container: Container) -> tuple[str, Headers]:
    token_id, token = create_token(container.engine, "the admin", "admin")
    return token_id, {"Authorization": f"Bearer {token}"}


def test_a_token_is_made_with_an_address_and_the_list_shows_who_made_it_never_the_secret(
    client: FlaskClient, container: Container
) -> None:
    admin_id, admin = admin_with_id(container)

    created = client.post(TOKENS, headers=admin, json={
        "name": "Maria", "role": "campaigner", "email": "maria@example.org"})

    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["token"].startswith("uat_")
    shown = listed(client, admin, body["token_id"])
    assert {k: shown[k] for k in ("name", "role", "email", "created_by", "last_used_at",
                                  "revoked", "revoked_at")} == {
        "name": "Maria", "role": "campaigner", "email": "maria@example.org",
        "created_by": f"token:{admin_id}", "last_used_at": None, "revoked": False,
        "revoked_at": None}
    assert shown["created_at"] and "token" not in shown
    assert body["token"] not in client.get(TOKENS, headers=admin).get_data(as_text=True)
    assert "email" in error_fields(client.post(TOKENS, headers=admin, json={
        "name": "Bad", "role": "viewer", "email": "not an address"}))


def test_last_use_is_noted_at_most_once_per_five_minutes(container: Container) -> None:
    token_id, token = create_token(container.engine, "busy integration", "viewer")
    start = utc_now()

    def last_used() -> Any:
        with container.engine.connect() as conn:
            found = conn.execute(select(api_tokens.c.last_used_at)
                                 .where(api_tokens.c.token_id == token_id)).scalar_one()
        return None if found is None else as_utc(found)

    caller_for_token(container.engine, token, start)
    caller_for_token(container.engine, token, start + timedelta(minutes=4))
    assert last_used() == start
    caller_for_token(container.engine, token, start + timedelta(minutes=6))
    assert last_used() == start + timedelta(minutes=6)


def test_changing_the_role_takes_effect_on_the_next_call_and_ends_console_sessions(
    client: FlaskClient, container: Container
) -> None:
    _, admin = admin_with_id(container)
    token_id, token = create_token(container.engine, "promoted", "viewer")
    holder = {"Authorization": f"Bearer {token}"}
    session = open_session(container.engine, token, utc_now())
    assert session is not None
    case = {"subject_name": "A Person", "country": "KG", "summary": "At risk."}
    assert_problem(client.post("/api/v1/cases", headers=holder, json=case), 403)

    changed = client.patch(f"{TOKENS}/{token_id}", headers=admin, json={"role": "campaigner"})

    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json()["role"] == "campaigner"
    assert client.post("/api/v1/cases", headers=holder, json=case).status_code == 201
    assert live_session(container.engine, session.session_id, utc_now()) is None


def test_a_role_change_needs_an_admin_a_known_role_and_an_active_token(
    client: FlaskClient, container: Container, token_headers: Callable[[Role], Headers]
) -> None:
    _, admin = admin_with_id(container)
    token_id, _ = create_token(container.engine, "soon revoked", "viewer")
    url = f"{TOKENS}/{token_id}"

    assert_problem(client.patch(url, headers=token_headers("campaigner"),
                                json={"role": "admin"}), 403)
    assert "role" in error_fields(client.patch(url, headers=admin, json={"role": "owner"}))
    assert client.delete(url, headers=admin).status_code == 204
    assert_problem(client.patch(url, headers=admin, json={"role": "admin"}), 404)
    assert_problem(client.patch(f"{TOKENS}/nope", headers=admin, json={"role": "admin"}), 404)
    revoked = listed(client, admin, token_id)
    assert revoked["revoked"] is True and revoked["revoked_at"] is not None
    assert revoked["role"] == "viewer"
