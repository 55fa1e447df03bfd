"""Webhook delivery health per partner (admin only): the numbers the console's partner
list shows, from the same function."""

from __future__ import annotations

from typing import Any

from campaign.application.errors import NotFound
from campaign.infra.clock import utc_now
from campaign.partners.webhooks.health import PartnerHealth, every_partner_health, partner_health
from campaign.web.api.common import CAMPAIGNER, reading
from campaign.web.api.health_schemas import PartnerHealthListSchema, PartnerHealthSchema
from campaign.web.api.json_body import Blueprint
from campaign.web.auth import require_role

blueprint = Blueprint("partner_health", __name__, url_prefix="/api/v1/partner-health",
                      description="How webhook delivery to each partner is doing.")


@blueprint.route("", methods=["GET"])
@require_role("admin")
@blueprint.response(200, PartnerHealthListSchema)
@blueprint.doc(security=CAMPAIGNER)
def list_health() -> dict[str, Any]:
    """Every partner's delivery health, by name: last success and failure, the last 24
    hours' success rate, p95 latency and attempts per hour, backlog and its age, secret age."""
    now = utc_now()
    with reading() as conn:
        found = every_partner_health(conn, now)
    return {"as_of": now, "items": [represent(h) for h in found]}


@blueprint.route("/<partner_id>", methods=["GET"])
@require_role("admin")
@blueprint.response(200, PartnerHealthSchema)
@blueprint.doc(security=CAMPAIGNER)
def get_health(partner_id: str) -> dict[str, Any]:
    """One partner's delivery health."""
    with reading() as conn:
        found = partner_health(conn, partner_id, utc_now())
    if found is None:
        raise NotFound(f"no partner {partner_id}")
    return represent(found)


def represent(health: PartnerHealth) -> dict[str, Any]:
    """A partner's health as the API shows it; ages in whole seconds."""
    undelivered, secret = health.oldest_undelivered_age, health.secret_age
    return {
        "partner_id": health.partner_id, "name": health.name,
        "endpoint_enabled": health.endpoint_enabled, "disabled_reason": health.disabled_reason,
        "last_success_at": health.last_success_at, "last_failure_at": health.last_failure_at,
        "last_failure_status": health.last_failure_status,
        "failing_since": health.failing_since, "paused_until": health.paused_until,
        "attempts_24h": health.attempts, "succeeded_24h": health.succeeded,
        "success_rate_24h": health.success_rate, "p95_latency_ms_24h": health.p95_latency_ms,
        "hours": [{"start": h.start, "attempts": h.attempts, "failures": h.failures}
                  for h in health.hours],
        "backlog": health.backlog, "oldest_undelivered_at": health.oldest_undelivered_at,
        "oldest_undelivered_age_seconds": None if undelivered is None
        else int(undelivered.total_seconds()),
        "failed_deliveries": health.failed_deliveries,
        "signing_secret_created_at": health.secret_created_at,
        "signing_secret_age_seconds": None if secret is None else int(secret.total_seconds()),
        "as_of": health.now,
    }
