"""Schemathesis over every operation of /api/openapi.json: no 5xx, responses as documented.

Runs against the WSGI app on a real database holding the seed case, with a valid token
for whichever scheme each operation declares.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from campaign.application.access import create_token
from campaign.application.commands import Meta
from campaign.application.supporters import Registration, register_supporter
from campaign.bootstrap import Container
from campaign.demo.loader import load_demo
from campaign.domain import supporter
from campaign.infra.clock import utc_now
from campaign.partners.admin import PartnerForm, register_partner
from campaign.web.app import create_app

CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance,
          status_code_conformance]


@pytest.fixture
def credentials(container: Container) -> dict[str, str]:
    """A seeded database, an admin token, a supporter's manage-link token, a partner's key."""
    load_demo(container)
    meta = Meta(actor="test", correlation_id="contract")
    supporter_id = register_supporter(container.commands, container.blind_index, Registration(
        "contract@example.org", "Contract Tester", "en", "GB", "Europe/London"), meta, utc_now())
    container.commands.handle(
        supporter.ConfirmConsent(supporter_id=supporter_id, confirmed_at=utc_now()), meta)
    _, token = create_token(container.engine, "contract", "admin")
    partner = register_partner(container.commands, container.vault, PartnerForm(
        name="Contract Partner", contact_email="partner@example.org",
        webhook_url="https://1.1.1.1/hooks", case_ids=("azimzhan-askarov",),
        partner_id="bir-duino-kyrgyzstan"), meta, utc_now())
    return {"campaignerToken": f"Bearer {token}",
            # A "manage my data" link's token: /me and its kin (pledges answer 401 to it).
            "supporterToken": f"Supporter {container.links.sign('manage', supporter_id)}",
            "partnerKey": f"Bearer {partner.api_key}"}


def test_every_operation_answers_as_documented_and_never_with_a_5xx(
    container: Container, credentials: dict[str, str]
) -> None:
    app = create_app(container)
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 25
    for operation in operations:
        exercise(operation, credentials)


def exercise(operation: Any, credentials: dict[str, str]) -> None:
    """Generated requests for one operation, sent with the credentials it declares."""
    schemes = [name for requirement in operation.definition.raw.get("security") or []
               for name in requirement]
    headers = {"Authorization": credentials[schemes[0]]} if schemes else {}

    @given(case=operation.as_strategy())
    @settings(max_examples=60, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    check()
