"""Subscriptions as operators see them: where each stands, and the events it set aside.

A subscription that stops at an event (a broker down) shows `failed_position` and its error
until a run gets past it; an event no retry could fix is parked and listed here, with the
error's class and code only (never its message, which may quote personal data). An admin
can skip the event a subscription is stuck at (`POST …/skip`); retrying is the clock's job
(every second), or `campaign subscriptions retry NAME` to see the outcome at once: a web
process runs no subscription itself.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import g

from campaign.application.errors import NotFound
from campaign.application.operations import skip
from campaign.domain.operations import MAX_REASON
from campaign.infra.clock import utc_now
from campaign.web.api.common import CAMPAIGNER, ApiSchema, meta, single_line
from campaign.web.api.json_body import Blueprint
from campaign.web.api.responses import conflict, link, links
from campaign.web.auth import require_role
from campaign.web.context import container
from campaign.web.problems import problem
from events.status import parked, subscription_states
from events.subscriptions import NotStuckThere

blueprint = Blueprint("subscriptions", __name__, url_prefix="/api/v1/subscriptions",
                      description="Subscriptions that follow the log (admin only).")
F = ma.fields


class SubscriptionSchema(ApiSchema):
    """One subscription: its checkpoint, how far behind the log it is, what went wrong."""

    name = F.String(required=True)
    position = F.Integer(allow_none=True, required=True, metadata={
        "description": "The last position handled; null for a projection that has no "
                       "checkpoint (an inline one, which parked events while rebuilt)"})
    lag = F.Integer(allow_none=True, required=True,
                    metadata={"description": "Events of the log after it"})
    failed_position = F.Integer(allow_none=True, required=True, metadata={
        "description": "Where it stopped on a temporary failure; null when it is not stopped"})
    last_error = F.String(allow_none=True, required=True)
    updated_at = F.AwareDateTime(allow_none=True, required=True)
    parked = F.Integer(required=True, metadata={"description": "Events it set aside"})


class ParkedEventSchema(ApiSchema):
    position = F.Integer(required=True)
    event_id = F.String(required=True)
    event_type = F.String(required=True)
    error = F.String(required=True, metadata={"description": "The error's class and code"})
    parked_at = F.AwareDateTime(required=True)


class ParkedQuerySchema(ApiSchema):
    after = F.Integer(load_default=0,
                      validate=ma.validate.Range(min=0, max=2**63 - 1),
                      metadata={"description": "A log position: parked events after it"})
    limit = F.Integer(load_default=100, validate=ma.validate.Range(min=1, max=500))


class ParkedPageSchema(ApiSchema):
    items = F.List(F.Nested(ParkedEventSchema), required=True)
    next_after = F.Integer(allow_none=True, required=True,
                           metadata={"description": "Pass as `after` for the next page"})


@blueprint.route("", methods=["GET"])
@require_role("admin")
@blueprint.response(200, SubscriptionSchema(many=True))
@blueprint.doc(security=CAMPAIGNER, responses=links(200, Parked=link(
    "subscriptions.list_parked", name="$response.body#/0/name")))
def list_subscriptions() -> list[dict[str, Any]]:
    """Every subscription that has run, with its position, lag, failure and parked events."""
    c = container()
    with c.engine.connect() as conn:
        head = c.store.head(conn=conn)
        states = subscription_states(conn)
    return [{"name": s.name, "position": s.position,
             "lag": None if s.position is None else max(head - s.position, 0),
             "failed_position": s.failed_position, "last_error": s.last_error,
             "updated_at": s.updated_at, "parked": s.parked} for s in states]


@blueprint.route("/<name>/parked", methods=["GET"])
@require_role("admin")
@blueprint.arguments(ParkedQuerySchema, location="query")
@blueprint.response(200, ParkedPageSchema)
@blueprint.doc(security=CAMPAIGNER)
def list_parked(query: dict[str, Any], name: str) -> dict[str, Any]:
    """The events a subscription (or a rebuild of that projection) set aside, oldest first."""
    with container().engine.connect() as conn:
        if name not in {s.name for s in subscription_states(conn)}:
            raise NotFound(f"no subscription {name}")
        page = parked(conn, name, query["after"], query["limit"] + 1)
    more = len(page) > query["limit"]
    items = page[:query["limit"]]
    return {"items": [{"position": p.position, "event_id": p.event_id,
                       "event_type": p.event_type, "error": p.error,
                       "parked_at": p.parked_at} for p in items],
            "next_after": items[-1].position if more else None}


class SkipSchema(ApiSchema):
    position = F.Integer(required=True, validate=ma.validate.Range(min=1, max=2**63 - 1),
                         metadata={"description": "The position it is stuck at "
                                                  "(`failed_position`): nothing moves otherwise"})
    reason = F.String(required=True, validate=single_line(MAX_REASON, visible=True), metadata={
        "description": "Why the event may never be handled; the audit shows it, so name nobody"})


class SkippedSchema(ApiSchema):
    subscription = F.String(required=True)
    position = F.Integer(required=True)
    event_id = F.String(required=True)
    event_type = F.String(required=True)
    skipped_by = F.String(required=True, metadata={"description": "`token:<id>`"})


@blueprint.route("/<name>/skip", methods=["POST"])
@require_role("admin")
@blueprint.arguments(SkipSchema)
@blueprint.response(200, SkippedSchema)
@blueprint.doc(security=CAMPAIGNER, responses=conflict("not_stuck_there"))
def skip_stuck(body: dict[str, Any], name: str) -> Any:
    """Skip the event a stuck subscription stopped at: it is parked with who and why, the
    subscription goes on after it, and `SubscriptionEventSkipped` records it for the audit.
    What the subscription would have done with it is never done."""
    c = container()
    with c.engine.connect() as conn:
        if name not in {s.name for s in subscription_states(conn)}:
            raise NotFound(f"no subscription {name}")
    who = g.caller.actor
    try:
        event = skip(c.commands, name, body["position"], who, body["reason"], meta(), utc_now(),
                     conn=g.get("conn"))
    except NotStuckThere as exc:
        return problem(409, "Conflict", str(exc), code="not_stuck_there")
    return {"subscription": name, "position": event.position, "event_id": str(event.event_id),
            "event_type": event.type, "skipped_by": who}
