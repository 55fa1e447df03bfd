"""The audit: who did what to which stream, when, newest first (admin only)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from campaign.read_models.audit import audit_page, sign_ins
from campaign.web.api.common import CAMPAIGNER, ApiSchema, reading, single_line
from campaign.web.api.json_body import Blueprint
from campaign.web.auth import require_role

blueprint = Blueprint("audit", __name__, url_prefix="/api/v1/audit",
                      description="Who did what, from the actor recorded on each event.")
F = ma.fields


class AuditQuerySchema(ApiSchema):
    limit = F.Integer(load_default=50, validate=ma.validate.Range(min=1, max=200))
    before = F.Integer(validate=ma.validate.Range(min=1, max=2**62), metadata={
        "description": "`next_before` of the previous page: entries older than this position"})
    actor = F.String(validate=single_line(200), metadata={
        "description": "Only this actor: `token:<id>`, `partner:<id>`, `supporter:<id>`, "
                       "`public`, `cli`, `policy:<name>`"})
    event_type = F.String(validate=single_line(200), metadata={"example": "ActionLaunched"})


class AuditEntrySchema(ApiSchema):
    position = F.Integer(required=True, metadata={"description": "The event's place in the log"})
    recorded_at = F.AwareDateTime(required=True)
    actor = F.String(required=True)
    event_type = F.String(required=True)
    stream_id = F.String(required=True)
    note = F.String(allow_none=True, required=True, metadata={
        "description": "What an operator did and why (a skipped event); null otherwise"})


class AuditPageSchema(ApiSchema):
    items = F.List(F.Nested(AuditEntrySchema), required=True)
    next_before = F.Integer(allow_none=True, required=True, metadata={
        "description": "Pass as `before` for the next (older) page; null on the last page"})


@blueprint.route("", methods=["GET"])
@require_role("admin")
@blueprint.arguments(AuditQuerySchema, location="query")
@blueprint.response(200, AuditPageSchema)
@blueprint.doc(security=CAMPAIGNER)
def audit(query: dict[str, Any]) -> dict[str, Any]:
    """What happened, newest first: event types and stream ids only, never an event's data."""
    with reading() as conn:
        page = audit_page(conn, query["limit"], query.get("before"), query.get("actor"),
                          query.get("event_type"))
    return {"items": [vars(entry) for entry in page.entries], "next_before": page.before}


class SignInQuerySchema(ApiSchema):
    limit = F.Integer(load_default=50, validate=ma.validate.Range(min=1, max=200))
    token_id = F.String(validate=single_line(200))


class SignInSchema(ApiSchema):
    token_id = F.String(required=True)
    token_name = F.String(allow_none=True, required=True)
    signed_in_at = F.AwareDateTime(required=True)
    ended_at = F.AwareDateTime(allow_none=True, required=True, metadata={
        "description": "Null while the session is live"})
    ended_reason = F.String(allow_none=True, required=True, metadata={
        "description": "logout, idle, expired, token revoked, role changed"})


@blueprint.route("/sign-ins", methods=["GET"])
@require_role("admin")
@blueprint.arguments(SignInQuerySchema, location="query")
@blueprint.response(200, SignInSchema(many=True))
@blueprint.doc(security=CAMPAIGNER)
def console_sign_ins(query: dict[str, Any]) -> list[dict[str, Any]]:
    """Console sign-ins and sign-outs, newest first."""
    with reading() as conn:
        return [vars(s) for s in sign_ins(conn, query["limit"], query.get("token_id"))]
