"""Each request is one log line by its route, under its correlation id; a request id that is
long or odd is replaced rather than echoed into the logs."""

from __future__ import annotations

import logging
import uuid

import pytest
from flask.testing import FlaskClient

from tests.integration.api.conftest import Headers

SUPPORTER = "b10aa1a7-5775-44b6-be01-1017519cd4c8"


@pytest.mark.parametrize("offered", ["r" * 65, "two words", "ada@example.org", "id\u00e9"])
def test_a_long_or_unsafe_request_id_is_replaced_by_a_fresh_one(
    client: FlaskClient, offered: str,
) -> None:
    answered = client.get("/healthz", headers={"X-Request-ID": offered})

    assert answered.headers["X-Request-ID"] != offered
    assert uuid.UUID(answered.headers["X-Request-ID"])


def test_a_request_is_logged_by_its_route_and_status_never_by_its_path(
    client: FlaskClient, viewer: Headers, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="campaign.web.requests")

    client.get(f"/api/v1/supporters/{SUPPORTER}/export",
               headers={**viewer, "X-Request-ID": "req-7"})

    [line] = [r for r in caplog.records if r.name == "campaign.web.requests"]
    assert line.getMessage() == "GET /api/v1/supporters/<supporter_id>/export 403"
    assert (line.route, line.status, line.method) == (  # type: ignore[attr-defined]
        "/api/v1/supporters/<supporter_id>/export", 403, "GET")
    assert SUPPORTER not in caplog.text
