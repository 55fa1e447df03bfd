"""Console pages through Flask's test client, signed in as each role.

The API's fixtures (an app per test, the seed's case, drafted and launched actions, sign-ups)
serve the console's tests as they are.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask

from campaign.application.access import Role
from campaign.bootstrap import Container
from tests.integration.api.conftest import (  # noqa: F401 (fixtures)
    admin,
    app,
    campaigner,
    client,
    drafted_action,
    launched_action,
    seed_case,
    sign_up,
    token_headers,
    viewer,
)
from tests.integration.console.signing_in import ConsoleClient, sign_in


@pytest.fixture
def console_as(request: pytest.FixtureRequest,
               container: Container) -> Callable[..., ConsoleClient]:
    """`console_as("viewer")`: a browser of its own, signed in with a new token of that role."""
    flask_app: Flask = request.getfixturevalue("app")

    def make(role: Role, email: str | None = None) -> ConsoleClient:
        return sign_in(flask_app.test_client(), container, role, email)

    return make
