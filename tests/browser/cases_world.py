"""Cases for the console's browser tests, made over the API as a campaigner and a partner
would make them: each test names its cases with a tag of its own (the product lives for the
whole session, and other tests make cases too) and searches the list by that tag."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from standardwebhooks.webhooks import Webhook

from campaign.infra.clock import utc_now
from tests.browser.product import Api, Product

PUBLIC_WEBHOOK_URL = "https://1.1.1.1/hooks"  # a literal public address: no DNS needed


def new_tag() -> str:
    """A word no other test's case names contain."""
    return f"t{uuid.uuid4().hex[:10]}"


def open_case(product: Product, name: str, country: str = "KG") -> str:
    """Open a case over the API; its id."""
    opened = product.campaigner.post("/api/v1/cases", json={
        "subject_name": name, "country": country, "summary": f"{name} is at risk."})
    assert opened.status_code == 201, opened.text
    return str(opened.json()["case_id"])


def launch_on(product: Product, case_id: str, days: int) -> dict[str, Any]:
    """UA 135/10's text, about `case_id`, launched with its deadline `days` days ahead."""
    deadline = {"on": (utc_now().date() + timedelta(days=days)).isoformat(),
                "timezone": "Asia/Bishkek"}
    return product.launch(product.draft_seed_action(case_id=case_id, deadline=deadline))


def partner_reports(product: Product, case_id: str, *summaries: str) -> list[str]:
    """A partner following `case_id` reports developments, held for approval; their ids.

    Its webhook endpoint is switched off first: what it would be sent is not under test.
    """
    admin: Api = product.admin
    registered = admin.post("/api/v1/partners", json={
        "name": "Bir Duino", "contact_email": "info@birduino.example.org",
        "webhook_url": PUBLIC_WEBHOOK_URL, "case_ids": [case_id]})
    assert registered.status_code == 201, registered.text
    partner = registered.json()
    off = admin.post(f"/api/v1/partners/{partner['partner_id']}/disable")
    assert off.status_code == 200, off.text
    ids = []
    for summary in summaries:
        development_id = f"dev-{uuid.uuid4().hex[:12]}"
        body = json.dumps({"type": "case.development_recorded",
                           "timestamp": datetime.now(UTC).isoformat(), "data": {
                               "case_id": case_id, "development_id": development_id,
                               "kind": "hearing_scheduled", "occurred": {"on": "2026-12-01"},
                               "summary": summary}})
        message_id, now = f"msg_{uuid.uuid4().hex}", datetime.now(UTC)
        sent = product.public.post(
            f"/api/v1/partners/{partner['partner_id']}/inbound", data=body.encode(), headers={
                "Authorization": f"Bearer {partner['api_key']}",
                "Content-Type": "application/json", "webhook-id": message_id,
                "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": Webhook(partner["signing_secret"]).sign(
                    message_id, now, body)})
        assert sent.status_code == 202, sent.text
        ids.append(development_id)
    return ids
