"""Webhook deliveries to a partner: every attempt, redelivery of one, replay from a point.

Redeliveries and replays re-arm delivery rows rather than making new ones: an event keeps
one `webhook-id` per partner for good, so a partner that dedupes on it never processes an
event twice, and a replay is safe to ask for generously. The clock's scan queues re-armed
rows within a second; this request only writes them (requests never enqueue).
"""

from __future__ import annotations

from typing import Any

from flask import g
from sqlalchemy import Connection

from campaign.application.errors import NotFound
from campaign.domain.base import DomainError
from campaign.infra.clock import utc_now
from campaign.partners.registry import PartnerRecord, get_partner
from campaign.partners.webhooks import deliveries
from campaign.partners.webhooks.log import delivery_log, one_delivery
from campaign.web.api.common import CAMPAIGNER, reading
from campaign.web.api.delivery_schemas import (
    DeliveryFilterSchema,
    DeliveryPageSchema,
    DeliverySchema,
    ReplayResultSchema,
    ReplaySchema,
)
from campaign.web.api.idempotency import HEADER_PARAMETER, idempotent
from campaign.web.api.json_body import Blueprint
from campaign.web.api.responses import conflict, link, links
from campaign.web.auth import require_role
from campaign.web.context import container

blueprint = Blueprint("partner_deliveries", __name__, url_prefix="/api/v1/partners",
                      description="Webhooks sent to partners: deliveries, attempts, replays.")


@blueprint.route("/<partner_id>/deliveries", methods=["GET"])
@require_role("campaigner")
@blueprint.arguments(DeliveryFilterSchema, location="query")
@blueprint.response(200, DeliveryPageSchema)
@blueprint.doc(security=CAMPAIGNER, responses=links(200, Redeliver=link(
    "partner_deliveries.redeliver", partner_id="$request.path.partner_id",
    delivery_id="$response.body#/items/0/delivery_id")))
def list_deliveries(query: dict[str, Any], partner_id: str) -> dict[str, Any]:
    """The partner's deliveries, newest event first, each with every attempt made."""
    with reading() as conn:
        _require_partner(conn, partner_id)
        page = delivery_log(conn, partner_id, query["limit"], status=query["status"],
                            event_type=query["type"], after=query["cursor"])
    return {"items": page.items, "next_cursor": page.next_cursor}


@blueprint.route("/<partner_id>/deliveries/<delivery_id>/redeliver", methods=["POST"])
@require_role("campaigner")
@idempotent
@blueprint.response(202, DeliverySchema)
@blueprint.doc(security=CAMPAIGNER, parameters=[HEADER_PARAMETER],
               responses=conflict("endpoint_disabled"))
def redeliver(partner_id: str, delivery_id: str) -> dict[str, Any]:
    """Send one delivery again, from the first step of the retry schedule, with its id."""
    with container().commands.transaction(_request_conn()) as conn:
        _require_enabled(_require_partner(conn, partner_id))
        if one_delivery(conn, partner_id, delivery_id) is None:
            raise NotFound(f"no delivery {delivery_id} to partner {partner_id}")
        deliveries.rearm(conn, [delivery_id], utc_now())
        item = one_delivery(conn, partner_id, delivery_id)
    assert item is not None
    return item


@blueprint.route("/<partner_id>/replay", methods=["POST"])
@require_role("admin")
@idempotent
@blueprint.arguments(ReplaySchema)
@blueprint.response(202, ReplayResultSchema)
@blueprint.doc(security=CAMPAIGNER, parameters=[HEADER_PARAMETER],
               responses=conflict("endpoint_disabled"))
def replay(body: dict[str, Any], partner_id: str) -> dict[str, Any]:
    """Send again everything the partner follows from a log position or an instant on, up
    to another (`until`, inclusive for a position, exclusive for an instant) if given."""
    with container().commands.transaction(_request_conn()) as conn:
        partner = _require_partner(conn, partner_id)
        _require_enabled(partner)
        done = deliveries.replay(conn, partner, body["since"], utc_now(), body["until"])
    return {"partner_id": partner_id, "from_position": done.from_position,
            "through_position": done.through_position, "deliveries": done.deliveries}


def _request_conn() -> Connection | None:
    """The idempotency transaction of this request, if it has one."""
    conn: Connection | None = g.get("conn")
    return conn


def _require_partner(conn: Connection, partner_id: str) -> PartnerRecord:
    partner = get_partner(conn, partner_id)
    if partner is None:
        raise NotFound(f"no partner {partner_id}")
    return partner


def _require_enabled(partner: PartnerRecord) -> None:
    if not partner.endpoint_enabled:
        raise DomainError("endpoint_disabled", "the partner's endpoint is disabled: enable "
                          "it first (POST /api/v1/partners/{id}/enable)")
