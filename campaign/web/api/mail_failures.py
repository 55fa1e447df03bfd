"""Recipients left out of their mail batch, as operators see them.

A recipient whose e-mail cannot be made (a name with a line break stored before the rule,
a deadline their timezone cannot show) is left out so the rest of the batch is sent, and
recorded with a reason that names no one. This lists them, newest first; the CLI shows the
same (`campaign mail failures`).
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import marshmallow as ma

from campaign.read_models.mail_recipient_failures import recipient_failures
from campaign.web.api.common import CAMPAIGNER, ApiSchema
from campaign.web.api.json_body import Blueprint
from campaign.web.auth import require_role
from campaign.web.context import container

blueprint = Blueprint("mail_failures", __name__, url_prefix="/api/v1/mail/failures",
                      description="Recipients left out of their mail batch (admin only).")
F = ma.fields


class RecipientFailureSchema(ApiSchema):
    delivery_id = F.String(required=True)
    mailing_id = F.String(required=True)
    batch_id = F.String(required=True)
    supporter_id = F.String(required=True)
    reason = F.String(required=True, metadata={"description": "Why, naming no one"})
    failed_at = F.AwareDateTime(required=True)


class FailuresQuerySchema(ApiSchema):
    mailing_id = F.String(load_default=None, validate=ma.validate.Length(min=1, max=200),
                          metadata={"description": "Only this mailing's recipients"})
    limit = F.Integer(load_default=100, validate=ma.validate.Range(min=1, max=500))


class FailuresSchema(ApiSchema):
    total = F.Integer(required=True, metadata={"description": "How many were left out"})
    items = F.List(F.Nested(RecipientFailureSchema), required=True,
                   metadata={"description": "The latest `limit` of them, newest first"})


@blueprint.route("", methods=["GET"])
@require_role("admin")
@blueprint.arguments(FailuresQuerySchema, location="query")
@blueprint.response(200, FailuresSchema)
@blueprint.doc(security=CAMPAIGNER)
def list_failures(query: dict[str, Any]) -> dict[str, Any]:
    """Recipients left out of their batch (of one mailing, or of every one), newest first."""
    with container().engine.connect() as conn:
        total, found = recipient_failures(conn, query["mailing_id"], query["limit"])
    return {"total": total, "items": [asdict(f) for f in found]}
