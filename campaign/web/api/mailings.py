"""The mailings of an action as funnels of unique people, and their send progress.

The console's mailings page reads the same function (campaign.read_models.mailing_funnel),
so the two cannot disagree. Recipient failures name their supporter for admins only.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import marshmallow as ma
from flask import g
from sqlalchemy import select
from werkzeug.exceptions import NotFound

from campaign.infra.clock import utc_now
from campaign.infra.tables import actions
from campaign.read_models.mailing_funnel import action_mailings
from campaign.web.api.common import CAMPAIGNER, ApiSchema, reading
from campaign.web.api.json_body import Blueprint
from campaign.web.auth import require_role

blueprint = Blueprint("mailings", __name__, url_prefix="/api/v1/actions",
                      description="Each mailing of an action: a funnel of unique people.")
F = ma.fields
PEOPLE = "people (unique): each person at most once, however many events"


class MailingStageSchema(ApiSchema):
    name = F.String(required=True, metadata={"enum": [
        "planned", "sent", "delivered", "clicked", "pledged", "confirmed"]})
    label = F.String(required=True)
    people = F.Integer(required=True, metadata={"description": PEOPLE})
    of_previous = F.Float(required=True, allow_none=True,
                          metadata={"description": "people ÷ the previous stage's people"})


class MailingProblemSchema(ApiSchema):
    name = F.String(required=True, metadata={"enum": [
        "bounced_hard", "bounced_soft", "dropped", "spam_report", "unsubscribed"]})
    label = F.String(required=True)
    people = F.Integer(required=True, metadata={"description": PEOPLE})
    rate_of_sent = F.Float(required=True, allow_none=True,
                           metadata={"description": "people ÷ people sent"})


class MailingProgressSchema(ApiSchema):
    batches_planned = F.Integer(required=True)
    batches_accepted = F.Integer(required=True)
    batches_failed = F.Integer(required=True)
    recipients_planned = F.Integer(required=True, metadata={"description": PEOPLE})
    recipients_sent = F.Integer(required=True, metadata={"description": PEOPLE})
    recipients_failed = F.Integer(required=True, metadata={"description": PEOPLE})
    running = F.Boolean(required=True, metadata={"description": "batches still to send"})
    rate_per_minute = F.Float(required=True, allow_none=True,
                              metadata={"description": "people sent or failed per minute"})
    eta = F.AwareDateTime(required=True, allow_none=True)
    completed_at = F.AwareDateTime(required=True, allow_none=True)


class MailingBatchFailureSchema(ApiSchema):
    batch_id = F.String(required=True)
    status = F.Integer(required=True, metadata={"description": "0: refused before sending"})
    reason = F.String(required=True)
    recipients = F.Integer(required=True, metadata={"description": PEOPLE})
    failed_at = F.AwareDateTime(required=True)


class MailingRecipientFailureSchema(ApiSchema):
    delivery_id = F.String(required=True)
    batch_id = F.String(required=True)
    supporter_id = F.String(required=True, allow_none=True,
                            metadata={"description": "null unless the caller is an admin"})
    reason = F.String(required=True, metadata={"description": "Why, naming no one"})
    failed_at = F.AwareDateTime(required=True)


class MailingHourSchema(ApiSchema):
    hour = F.AwareDateTime(required=True, metadata={"description": "The UTC hour's start"})
    offset = F.Integer(required=True, metadata={
        "description": "Hours since the hour the mailing was planned in (0–71)"})
    delivered = F.Integer(required=True, metadata={"description": PEOPLE})
    clicked = F.Integer(required=True, metadata={"description": PEOPLE})
    pledged = F.Integer(required=True, metadata={"description": PEOPLE})
    bounced = F.Integer(required=True, metadata={"description": PEOPLE + "; hard and soft"})


class MailingSchema(ApiSchema):
    mailing_id = F.String(required=True)
    kind = F.String(required=True, metadata={"enum": [
        "action_launched", "action_updated", "action_closed", "case_development",
        "pledge_reminder"]})
    label = F.String(required=True, metadata={"description": "Launch, Update 2, Reminder 1…"})
    planned_at = F.AwareDateTime(required=True)
    status = F.String(required=True, metadata={"enum": [
        "planned", "sending", "sent", "partly_failed", "failed", "empty"]})
    progress = F.Nested(MailingProgressSchema, required=True)
    funnel = F.List(F.Nested(MailingStageSchema), required=True,
                    metadata={"description": "planned → sent → delivered → clicked → pledged "
                                             "→ confirmed ≥ 1 letter, in people"})
    opened = F.Integer(required=True, metadata={
        "description": "Indicative only, never a funnel step: people with an open SendGrid "
                       "did not flag as a machine's"})
    opened_machine = F.Integer(required=True, metadata={
        "description": "People whose only sign of opening could be a machine's "
                       "(SendGrid's sg_machine_open)"})
    problems = F.List(F.Nested(MailingProblemSchema), required=True)
    batch_failures = F.List(F.Nested(MailingBatchFailureSchema), required=True)
    recipient_failures_total = F.Integer(required=True, metadata={"description": PEOPLE})
    recipient_failures = F.List(F.Nested(MailingRecipientFailureSchema), required=True,
                                metadata={"description": "The latest 50, newest first"})
    first_hours = F.List(F.Nested(MailingHourSchema), required=True, metadata={
        "description": "People who first reached a stage in each hour of the first 72 "
                       "(hours with nobody left out), oldest first"})


class MailingsSchema(ApiSchema):
    action_id = F.String(required=True)
    mailings = F.List(F.Nested(MailingSchema), required=True,
                      metadata={"description": "Oldest first"})


@blueprint.route("/<action_id>/mailings", methods=["GET"])
@require_role("viewer")
@blueprint.response(200, MailingsSchema)
@blueprint.doc(security=CAMPAIGNER)
def list_mailings(action_id: str) -> dict[str, Any]:
    """Each mailing of the action (launch, updates, reminders, stop notice) as a funnel of
    unique people, with its send progress, bounces and failures."""
    with reading() as conn:
        if conn.execute(select(actions.c.action_id)
                        .where(actions.c.action_id == action_id)).first() is None:
            raise NotFound(f"no action {action_id}")
        found = action_mailings(conn, action_id, utc_now(),
                                supporter_ids=g.caller.role == "admin")
    return {"action_id": action_id, "mailings": [asdict(m) for m in found]}
