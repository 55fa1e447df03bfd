"""Signing in to the console (S0): a token traded for a server-side session, roles, CSRF."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from dramatiq.brokers.stub import StubBroker
from flask import Flask, g
from flask.testing import FlaskClient
from sqlalchemy import Engine, select
from werkzeug.test import TestResponse

from campaign.application.access import create_token, revoke_token
from campaign.application.console_sessions import (
    ABSOLUTE_LIMIT,
    IDLE_LIMIT,
    live_session,
    open_session,
)
from campaign.bootstrap import Container, build
from campaign.infra.clock import utc_now
from campaign.infra.tables import api_tokens, console_sessions
from campaign.settings import Settings
from campaign.web.app import create_app
from campaign.web.console.blueprint import console_blueprint
from campaign.web.console.session import console_view
from tests.integration.console.signing_in import ConsoleClient, csrf_token


def cookie_header(response: TestResponse) -> str:
    found = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("console=")]
    assert found, "no console cookie was set"
    return str(found[-1])


def session_payload(set_cookie: str) -> dict[str, object]:
    """What Flask's signed cookie carries (signed, not encrypted: anyone can read it)."""
    value = set_cookie.split(";")[0].split("=", 1)[1].strip('"')
    compressed = value.startswith(".")
    data = value.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    if compressed:
        import zlib
        raw = zlib.decompress(raw)
    payload: dict[str, object] = json.loads(raw)
    return payload


def test_a_campaigner_token_opens_a_session_whose_cookie_holds_no_token(
        client: FlaskClient, container: Container) -> None:
    _, token = create_token(container.engine, "Maria at the Kyiv section", "campaigner")
    form = client.get("/console/login")
    assert form.status_code == 200
    signed = client.post("/console/login", data={
        "csrf_token": csrf_token(form.get_data(as_text=True)), "token": token})
    assert signed.status_code == 303
    assert signed.headers["Location"] == "/console/"
    cookie = cookie_header(signed)
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/console" in cookie
    assert token not in cookie
    session_id = session_payload(cookie)["console_session"]
    assert isinstance(session_id, str) and token not in json.dumps(session_payload(cookie))
    with container.engine.connect() as conn:
        stored = conn.execute(select(console_sessions.c.session_hash)).scalars().all()
    assert len(stored) == 1 and stored[0] != session_id  # only its hash is kept
    home = client.get("/console/")
    assert home.status_code == 200
    page = home.get_data(as_text=True)
    assert 'data-testid="role-badge">campaigner<' in page
    assert "Maria at the Kyiv section" in page


@pytest.mark.parametrize("token", ["uat_not-a-token", "", "x" * 5000])
def test_a_wrong_token_gets_one_generic_answer_and_no_session(
        client: FlaskClient, token: str) -> None:
    form = client.get("/console/login")
    refused = client.post("/console/login", data={
        "csrf_token": csrf_token(form.get_data(as_text=True)), "token": token})
    assert refused.status_code == 401
    assert "did not open the console" in refused.get_data(as_text=True)
    assert client.get("/console/").status_code == 303


def test_a_revoked_token_neither_signs_in_nor_keeps_its_sessions(
        console_as: Callable[..., ConsoleClient], client: FlaskClient,
        container: Container) -> None:
    console = console_as("campaigner")
    assert console.get("/console/").status_code == 200
    with container.engine.begin() as conn:
        assert revoke_token(conn, console.token_id)
    again = console.get("/console/")
    assert again.status_code == 303
    assert again.headers["Location"].startswith("/console/login?next=")
    with container.engine.connect() as conn:
        reasons = conn.execute(select(console_sessions.c.ended_reason)).scalars().all()
        revoked_at = conn.execute(select(api_tokens.c.revoked_at)).scalar_one()
    assert reasons == ["token revoked"] and revoked_at is not None
    form = client.get("/console/login")
    refused = client.post("/console/login", data={
        "csrf_token": csrf_token(form.get_data(as_text=True)), "token": console.token})
    assert refused.status_code == 401


def test_a_session_ends_when_idle_too_long_and_at_its_absolute_age(
        container: Container) -> None:
    _, token = create_token(container.engine, "someone", "viewer")
    start = utc_now()
    idle = open_session(container.engine, token, start)
    assert idle is not None
    assert live_session(container.engine, idle.session_id, start + IDLE_LIMIT / 2) is not None
    assert live_session(container.engine, idle.session_id,
                        start + IDLE_LIMIT / 2 + IDLE_LIMIT) is None
    busy = open_session(container.engine, token, start)
    assert busy is not None
    moment = start
    while moment < start + ABSOLUTE_LIMIT - timedelta(hours=1):  # used every few hours
        assert live_session(container.engine, busy.session_id, moment) is not None
        moment += timedelta(hours=6)
    assert live_session(container.engine, busy.session_id, start + ABSOLUTE_LIMIT) is None
    with container.engine.connect() as conn:
        reasons = sorted(conn.execute(select(console_sessions.c.ended_reason)).scalars())
    assert reasons == ["expired", "idle"]


def test_logout_ends_the_session_on_the_server(
        console_as: Callable[..., ConsoleClient], container: Container) -> None:
    console = console_as("viewer")
    out = console.post("/console/logout")
    assert out.status_code == 303
    with container.engine.connect() as conn:
        assert conn.execute(select(console_sessions.c.ended_reason)).scalar_one() == "logout"
    assert console.get("/console/").status_code == 303


def test_a_post_without_the_sessions_csrf_token_is_refused(
        console_as: Callable[..., ConsoleClient], container: Container) -> None:
    console = console_as("admin")
    forged = console.client.post("/console/logout", data={})
    assert forged.status_code == 403
    assert "not valid any more" in forged.get_data(as_text=True)
    wrong = console.client.post("/console/logout", data={"csrf_token": "made-up"})
    assert wrong.status_code == 403
    assert console.get("/console/").status_code == 200  # still signed in


def test_roles_are_enforced_on_the_server_whatever_the_page_showed(
        app: Flask, console_as: Callable[..., ConsoleClient]) -> None:
    probe = console_blueprint("probe", __name__)

    @probe.route("/probe", methods=["POST"])
    @console_view("campaigner")
    def act() -> str:
        return f"done by {g.caller.actor}"

    app.register_blueprint(probe)
    viewer = console_as("viewer")
    assert viewer.post("/console/probe").status_code == 403
    campaigner = console_as("campaigner")
    done = campaigner.post("/console/probe")
    assert done.status_code == 200
    assert done.get_data(as_text=True) == f"done by token:{campaigner.token_id}"


def test_signing_in_goes_back_to_the_console_page_asked_for_and_nowhere_else(
        client: FlaskClient, container: Container) -> None:
    _, token = create_token(container.engine, "someone", "viewer")
    asked = client.get("/console/?x=1")
    assert asked.status_code == 303
    for target, lands in [("/console/?x=1", "/console/?x=1"),
                          ("https://evil.example/", "/console/"),
                          ("//evil.example/console/", "/console/"),
                          ("/console/../../x", "/console/")]:
        form = client.get(f"/console/login?next={target}")
        if form.status_code == 303:  # still signed in from the loop before: sign out first
            home = client.get("/console/")
            client.post("/console/logout",
                        data={"csrf_token": csrf_token(home.get_data(as_text=True))})
            form = client.get(f"/console/login?next={target}")
        signed = client.post("/console/login", data={
            "csrf_token": csrf_token(form.get_data(as_text=True)), "token": token,
            "next": target})
        assert signed.headers["Location"] == lands


def test_failed_sign_ins_are_limited_per_client_and_successes_are_not(
        tmp_path: Path, database_url: str, engine: Engine, broker: StubBroker) -> None:
    settings = Settings.from_env({
        "DATABASE_URL": database_url, "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "VAR_DIR": str(tmp_path / "var"), "RATE_LIMIT_CONSOLE_LOGIN": "3 per minute"})
    limited = build(settings, engine=engine, broker=broker)
    client = create_app(limited).test_client()
    _, token = create_token(limited.engine, "someone", "viewer")

    def attempt(value: str) -> int:
        form = client.get("/console/login")
        if form.status_code == 303:
            home = client.get("/console/")
            client.post("/console/logout",
                        data={"csrf_token": csrf_token(home.get_data(as_text=True))})
            form = client.get("/console/login")
        return client.post("/console/login", data={
            "csrf_token": csrf_token(form.get_data(as_text=True)), "token": value}).status_code

    assert [attempt(token) for _ in range(4)] == [303] * 4
    assert [attempt("uat_guess") for _ in range(4)] == [401, 401, 401, 429]
