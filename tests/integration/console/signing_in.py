"""Signing the test client in to the console, as a browser does: the form, its CSRF token."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from campaign.application.access import Role, create_token
from campaign.bootstrap import Container

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(html: str) -> str:
    """The CSRF token of the first form on a console page."""
    found = _CSRF.search(html)
    assert found, "the page has no form with a CSRF token"
    return found[1]


@dataclass
class ConsoleClient:
    """A test client with a live console session; `post` sends the session's CSRF token."""

    client: FlaskClient
    token_id: str
    token: str
    csrf: str

    def get(self, url: str, **kwargs: Any) -> TestResponse:
        return self.client.get(url, **kwargs)

    def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> TestResponse:
        """POST a form as the console's pages do, CSRF token included."""
        return self.client.post(url, data={"csrf_token": self.csrf, **(data or {})}, **kwargs)


def sign_in(client: FlaskClient, container: Container, role: Role,
            email: str | None = None) -> ConsoleClient:
    """Make a token of `role` and sign in with it through the login form."""
    token_id, token = create_token(container.engine, f"console {role}", role, email=email)
    form = client.get("/console/login")
    csrf = csrf_token(form.get_data(as_text=True))
    signed = client.post("/console/login", data={"csrf_token": csrf, "token": token})
    assert signed.status_code == 303, signed.get_data(as_text=True)
    # Signing in starts a new session, CSRF secret included: read the new one.
    home = client.get("/console/")
    return ConsoleClient(client, token_id, token, csrf_token(home.get_data(as_text=True)))
