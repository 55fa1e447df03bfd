"""Partners push case developments: Standard Webhooks signed, verified before parsing.

Refusals, in the order they are checked: no or unknown API key, or a key of another
partner → 401; a body over 256 KB → 413; a missing, malformed, stale (over 5 minutes) or
wrong signature → 401; a body not sent as application/json → 415, or nested too deep → 400;
a body that is not a valid report → 422 naming the fields; a case the partner is not linked
to → 403. The same `webhook-id` again → 200, nothing appended.
"""

from __future__ import annotations

import logging
from typing import Any

import marshmallow as ma
from flask import request
from flask_smorest import abort

from campaign.application.errors import AuthError, Forbidden
from campaign.infra.clock import utc_now
from campaign.partners.inbound import (
    HEADERS,
    Report,
    SignatureRefused,
    record_report,
    verify_signature,
)
from campaign.partners.registry import signing_secrets
from campaign.web.api import json_body
from campaign.web.api.json_body import Blueprint, require_json
from campaign.web.api.partner_schemas import InboundMessageSchema, InboundResultSchema
from campaign.web.auth import PARTNER_SIGNED, UNAUTHORIZED, authenticate_partner
from campaign.web.context import container, correlation_id

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024

blueprint = Blueprint("partner_inbound", __name__, url_prefix="/api/v1/partners",
                      description="Case developments pushed by partners (signed webhooks).")

HEADER_DOCS = [
    {"in": "header", "name": "webhook-id", "required": True, "schema": {"type": "string"},
     "description": "The message's id; a repeat is accepted once."},
    {"in": "header", "name": "webhook-timestamp", "required": True,
     "schema": {"type": "string"}, "description": "Unix seconds; over 5 minutes off is refused."},
    {"in": "header", "name": "webhook-signature", "required": True,
     "schema": {"type": "string"},
     "description": "`v1,<base64 HMAC-SHA256 of id.timestamp.body>` with the partner's secret."},
]


@blueprint.route("/<partner_id>/inbound", methods=["POST"])
@blueprint.response(202, InboundResultSchema, description="Recorded")
@blueprint.alt_response(200, schema=InboundResultSchema, description="Already received")
@blueprint.alt_response(400, description="The JSON body nests too deep")
@blueprint.alt_response(403, description="The partner is not linked to the case")
@blueprint.alt_response(409, description="The case refuses the development")
@blueprint.alt_response(413, description="The body is over 256 KB")
@blueprint.alt_response(415, description="The body is not sent as application/json")
@blueprint.alt_response(422, description="The report has invalid fields")
@blueprint.doc(security=PARTNER_SIGNED, parameters=HEADER_DOCS, responses=UNAUTHORIZED,
               requestBody={"required": True, "content": {"application/json": {
                   "schema": InboundMessageSchema}}})
def receive(partner_id: str) -> Any:
    """Report a case development, e.g. a hearing that has been scheduled.

    Signed like a Standard Webhooks delivery with the partner's current secret (or the
    previous one during a rotation's overlap), and sent with the partner's API key. It
    joins the case's timeline at once, waiting for a campaigner's approval unless the
    partner's developments are approved automatically.
    """
    request.max_content_length = MAX_BODY_BYTES
    partner = authenticate_partner()
    if partner.partner_id != partner_id:
        raise AuthError(f"the API key is not partner {partner_id}'s")
    raw = request.get_data()
    now = utc_now()
    c = container()
    with c.engine.connect() as conn:
        secrets = signing_secrets(conn, c.vault, partner_id, now)
    headers = {name: request.headers.get(name, "") for name in HEADERS}
    try:
        webhook_id = verify_signature(raw, headers, secrets, now)
    except SignatureRefused as exc:
        log.warning("inbound webhook from partner %s refused: %s", partner_id, exc)
        raise AuthError(str(exc)) from None
    require_json(request)
    report = _parse(raw)
    if report.case_id not in partner.follows.case_ids:
        raise Forbidden(f"partner {partner_id} is not linked to case {report.case_id}")
    received = record_report(c.commands, partner, webhook_id, report, correlation_id(), now)
    body = {"case_id": received.case_id, "development_id": received.development_id,
            "status": "duplicate" if received.duplicate else "recorded",
            "pending_approval": received.pending_approval}
    return body, 200 if received.duplicate else 202


def _parse(raw: bytes) -> Report:
    """The report in a verified body; 422 naming what is wrong."""
    try:
        document = json_body.parse(raw)
    except ValueError:
        abort(422, messages={"json": {"(body)": ["the body is not JSON"]}})
    try:
        loaded = InboundMessageSchema().load(document)
    except ma.ValidationError as exc:
        abort(422, messages={"json": exc.messages})
    data = loaded["data"]
    return Report(case_id=data["case_id"], kind=data["kind"], occurred=data["occurred"],
                  summary=data["summary"], source_url=data["source_url"],
                  development_id=data.get("development_id"))
