"""Webhook deliveries to a partner: every attempt, redelivery of one, replay from a point.

Redeliveries and replays re-arm delivery rows rather than making new ones: an event keeps
one `webhook-id` per partner for good, so a partner that dedupes on it never processes an
event twice, and a replay is safe to ask for generously. The clock's scan queues re-armed
rows within a second; this request only writes them (requests never enqueue).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from flask import g
from sqlalchemy import Connection, and_, or_, select

from campaign.application.errors import NotFound
from campaign.domain.base import DomainError
from campaign.infra.clock import utc_now
from campaign.infra.tables import webhook_attempts, webhook_deliveries
from campaign.partners.registry import PartnerRecord, get_partner
from campaign.partners.webhooks import deliveries
from campaign.web.api.common import (
    CAMPAIGNER,
    maybe_utc,
    reading,
)
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
from events import as_utc

blueprint = Blueprint("partner_deliveries", __name__, url_prefix="/api/v1/partners",
                      description="Webhooks sent to partners: deliveries, attempts, replays.")
d = webhook_deliveries.c


@blueprint.route("/<partner_id>/deliveries", methods=["GET"])
@require_role("campaigner")
@blueprint.arguments(DeliveryFilterSchema, location="query")
@blueprint.response(200, DeliveryPageSchema)
@blueprint.doc(security=CAMPAIGNER, responses=links(200, Redeliver=link(
    "partner_deliveries.redeliver", partner_id="$request.path.partner_id",
    delivery_id="$response.body#/items/0/delivery_id")))
def list_deliveries(query: dict[str, Any], partner_id: str) -> dict[str, Any]:
    """The partner's deliveries, newest event first, each with every attempt made."""
    limit = query["limit"]
    statement = (select(webhook_deliveries).where(d.partner_id == partner_id)
                 .order_by(d.position.desc(), d.delivery_id.desc()).limit(limit + 1))
    if query["status"] is not None:
        statement = statement.where(d.status == query["status"])
    after = _position_cursor(query["cursor"])
    if after is not None:
        position, delivery_id = after
        statement = statement.where(or_(d.position < position, and_(
            d.position == position, d.delivery_id < delivery_id)))
    with reading() as conn:
        _require_partner(conn, partner_id)
        rows = conn.execute(statement).all()
        items = _represent(conn, rows[:limit])
    last = rows[limit - 1] if len(rows) > limit else None
    cursor = f"{last.position}:{last.delivery_id}" if last is not None else None
    return {"items": items, "next_cursor": cursor}


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
        row = conn.execute(select(webhook_deliveries).where(
            d.delivery_id == delivery_id, d.partner_id == partner_id)).one_or_none()
        if row is None:
            raise NotFound(f"no delivery {delivery_id} to partner {partner_id}")
        deliveries.rearm(conn, [delivery_id], utc_now())
        (item,) = _represent(conn, conn.execute(select(webhook_deliveries).where(
            d.delivery_id == delivery_id)).all())
    return item


@blueprint.route("/<partner_id>/replay", methods=["POST"])
@require_role("admin")
@idempotent
@blueprint.arguments(ReplaySchema)
@blueprint.response(202, ReplayResultSchema)
@blueprint.doc(security=CAMPAIGNER, parameters=[HEADER_PARAMETER],
               responses=conflict("endpoint_disabled"))
def replay(body: dict[str, Any], partner_id: str) -> dict[str, Any]:
    """Send again everything the partner follows from a log position or an instant on."""
    with container().commands.transaction(_request_conn()) as conn:
        partner = _require_partner(conn, partner_id)
        _require_enabled(partner)
        done = deliveries.replay(conn, partner, body["since"], utc_now())
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


def _position_cursor(cursor: str | None) -> tuple[int, str] | None:
    """The (position, delivery id) a cursor points after (its format checked on the way in)."""
    if cursor is None:
        return None
    position, _, delivery_id = cursor.partition(":")
    return int(position), delivery_id


def _represent(conn: Connection, rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Deliveries as the API shows them, with their attempts (one query for all)."""
    ids = [row.delivery_id for row in rows]
    tried: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for attempt in conn.execute(select(webhook_attempts)
                                .where(webhook_attempts.c.delivery_id.in_(ids))
                                .order_by(webhook_attempts.c.delivery_id,
                                          webhook_attempts.c.attempt)):
        tried[attempt.delivery_id].append({
            "attempt": attempt.attempt, "attempted_at": as_utc(attempt.attempted_at),
            "outcome": attempt.outcome, "status_code": attempt.status_code,
            "latency_ms": attempt.latency_ms, "error": attempt.error})
    return [{
        "delivery_id": row.delivery_id, "partner_id": row.partner_id,
        "event_id": row.event_id, "position": row.position, "type": row.type,
        "status": row.status, "failures": row.failures,
        "next_attempt_at": maybe_utc(row.next_attempt_at),
        "last_status_code": row.last_status_code, "last_error": row.last_error,
        "created_at": as_utc(row.created_at), "updated_at": as_utc(row.updated_at),
        "attempts": tried[row.delivery_id],
    } for row in rows]

