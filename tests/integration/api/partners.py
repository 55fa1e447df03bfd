"""Partners in API tests: registering one over the API, and signing as a partner would.

Signatures are made with the `standardwebhooks` library, as a partner's own code would.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from flask.testing import FlaskClient
from standardwebhooks.webhooks import Webhook

from campaign.application.commands import Meta
from campaign.bootstrap import Container
from campaign.demo import ua_135_10 as seed

PUBLIC_WEBHOOK_URL = "https://1.1.1.1/hooks"  # a literal public address: no DNS needed
HEARING_ID = seed.SUPREME_COURT_HEARING.development_id


def open_seed_case(container: Container) -> None:
    """The seed case with its 2010 developments, before the partner reports the 2020 hearing."""
    meta = Meta(actor="test", correlation_id="partners")
    for command in (seed.OPEN_CASE, *seed.DEVELOPMENTS_2010):
        container.commands.handle(command, meta)


def register(client: FlaskClient, admin: dict[str, str], **fields: Any) -> dict[str, Any]:
    """Register a partner over the API; the response with its secret and API key."""
    body = {"name": "Human Rights Movement Bir Duino-Kyrgyzstan",
            "contact_email": "info@birduino.example.org", "webhook_url": PUBLIC_WEBHOOK_URL,
            "case_ids": [seed.CASE_ID], **fields}
    response = client.post("/api/v1/partners", json=body, headers=admin)
    assert response.status_code == 201, response.get_json()
    created: dict[str, Any] = response.get_json()
    return created


def key_headers(partner: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {partner['api_key']}"}


def signed(
    secret: str, body: bytes, webhook_id: str | None = None, at: datetime | None = None,
) -> dict[str, str]:
    """Standard Webhooks headers for `body`, signed with `secret` by the library."""
    message_id = webhook_id or f"msg_{uuid.uuid4().hex}"
    moment = at or datetime.now(UTC)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign(message_id, moment, body.decode()),
        "Content-Type": "application/json",
    }


def hearing_report(**changes: Any) -> dict[str, Any]:
    """The seed's Supreme Court hearing, as the partner reports it."""
    data = {
        "case_id": seed.CASE_ID,
        "development_id": HEARING_ID,
        "kind": "hearing_scheduled",
        "occurred": {"at": "2020-05-13T14:00:00", "timezone": "Asia/Bishkek"},
        "summary": seed.SUPREME_COURT_HEARING.summary,
        "source_url": "https://birduino.example.org/2020/05/12/supreme-court",
        **changes,
    }
    return {"type": "case.development_recorded", "timestamp": "2020-05-12T10:00:00Z",
            "data": data}


def as_body(document: Any) -> bytes:
    return json.dumps(document).encode()


def post_inbound(
    client: FlaskClient, partner: dict[str, Any], body: bytes, headers: dict[str, str],
    partner_id: str | None = None,
) -> Any:
    return client.post(f"/api/v1/partners/{partner_id or partner['partner_id']}/inbound",
                       data=body, headers={**key_headers(partner), **headers})
