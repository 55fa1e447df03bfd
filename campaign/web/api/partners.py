"""The partner registry: admins register partners, rotate their secrets and API keys,
switch endpoints and change what partners follow.

The signing secret and API key are in the response that creates them and nowhere else:
no `Idempotency-Key` on those operations, since a stored response would keep them in clear.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import g
from flask_smorest import abort
from sqlalchemy import Connection, select

from campaign.application.errors import NotFound
from campaign.domain.partner import FOLLOW_FIELDS, Follows, partner_stream
from campaign.infra.clock import utc_now
from campaign.infra.event_mapping import reveal
from campaign.infra.tables import partners
from campaign.partners.admin import (
    PartnerForm,
    change_follows,
    register_partner,
    rotate_api_key,
    rotate_secret,
    set_endpoint,
    unknown_follows,
)
from campaign.partners.ssrf import UnsafeWebhookUrl
from campaign.web.api.common import (
    CAMPAIGNER,
    PageQuerySchema,
    etag,
    expected_version,
    if_match_required,
    list_page,
    maybe_utc,
    meta,
    reading,
    require_row,
)
from campaign.web.api.json_body import Blueprint
from campaign.web.api.partner_schemas import (
    CreatedPartnerSchema,
    FollowsSchema,
    NewPartnerSchema,
    PartnerPageSchema,
    PartnerSchema,
    RotatedApiKeySchema,
    RotatedSecretSchema,
    RotateSecretSchema,
)
from campaign.web.api.responses import conflict, link, links
from campaign.web.auth import require_role
from campaign.web.context import container

blueprint = Blueprint("partners", __name__, url_prefix="/api/v1/partners",
                      description="Solidarity partners (admin only): registry and secrets.")
Reply = tuple[dict[str, Any], int, dict[str, str]]
ETAG_HEADER = {"ETag": {"schema": {"type": "string"}}}
PARTNER_ID = "$response.body#/partner_id"
MANAGED = {  # what an admin does next with a partner
    "GetPartner": link("partners.get", partner_id=PARTNER_ID),
    "RotateSecret": link("partners.rotate", partner_id=PARTNER_ID),
    "RotateApiKey": link("partners.rotate_key", partner_id=PARTNER_ID),
    "ChangeFollows": link("partners.follow", if_match=True, partner_id=PARTNER_ID),
    "Disable": link("partners.disable", partner_id=PARTNER_ID),
    "Enable": link("partners.enable", partner_id=PARTNER_ID),
    "Deliveries": link("partner_deliveries.list_deliveries", partner_id=PARTNER_ID),
    "Replay": link("partner_deliveries.replay", partner_id=PARTNER_ID),
}


@blueprint.route("", methods=["POST"])
@require_role("admin")
@blueprint.arguments(NewPartnerSchema)
@blueprint.response(201, CreatedPartnerSchema)
@blueprint.doc(security=CAMPAIGNER,
               responses={**conflict("already_exists"), **links(201, **MANAGED)})
def create(body: dict[str, Any]) -> Reply:
    """Register a partner; the response is the only time its secret and API key are shown.

    The webhook URL must be https and resolve to public addresses only (422 otherwise).
    """
    _require_known(body["case_ids"], body["action_ids"])
    try:
        c = container()
        issued = register_partner(c.commands, c.vault, PartnerForm(**body), meta(), utc_now(),
                                  allow_private=c.settings.webhook_allow_private)
    except UnsafeWebhookUrl as exc:
        abort(422, messages={"json": {"webhook_url": [str(exc)]}})
    found = representation(issued.partner_id)
    created = {**found, "signing_secret": issued.signing_secret, "api_key": issued.api_key}
    return created, 201, {"Location": f"/api/v1/partners/{issued.partner_id}"}


@blueprint.route("", methods=["GET"])
@require_role("admin")
@blueprint.arguments(PageQuerySchema, location="query")
@blueprint.response(200, PartnerPageSchema)
@blueprint.doc(security=CAMPAIGNER)
def list_partners(query: dict[str, Any]) -> dict[str, Any]:
    """Partners by id, a page at a time, without their credentials."""
    return list_page(partners.c.partner_id, query, {}, _representation)


@blueprint.route("/<partner_id>", methods=["GET"])
@require_role("admin")
@blueprint.response(200, PartnerSchema, headers=ETAG_HEADER)
@blueprint.doc(security=CAMPAIGNER, responses=links(200, **MANAGED))
def get(partner_id: str) -> Reply:
    """One partner: what it follows and whether its endpoint is enabled."""
    body = representation(partner_id)
    return body, 200, {"ETag": f'"{body["version"]}"'}


@blueprint.route("/<partner_id>/rotate-secret", methods=["POST"])
@require_role("admin")
@blueprint.arguments(RotateSecretSchema, required=False)
@blueprint.response(200, RotatedSecretSchema)
@blueprint.doc(security=CAMPAIGNER)
def rotate(body: dict[str, Any], partner_id: str) -> dict[str, Any]:
    """Issue a new signing secret, shown once. During the overlap (24 hours unless said
    otherwise) webhooks carry signatures made with both, and both verify inbound calls."""
    require_row(partners.c.partner_id, partner_id, "partner")
    c = container()
    issued = rotate_secret(c.commands, c.vault, partner_id,
                           timedelta(hours=body["overlap_hours"]), meta(), utc_now())
    return {"partner_id": partner_id, "secret_id": issued.secret_id,
            "signing_secret": issued.signing_secret, "overlap_until": issued.overlap_until}


@blueprint.route("/<partner_id>/rotate-api-key", methods=["POST"])
@require_role("admin")
@blueprint.response(200, RotatedApiKeySchema)
@blueprint.doc(security=CAMPAIGNER)
def rotate_key(partner_id: str) -> dict[str, Any]:
    """Issue a new API key, shown once; the old key stops working at once (no overlap: a
    key is rotated because it may have leaked). Only the new key's hash is kept."""
    require_row(partners.c.partner_id, partner_id, "partner")
    issued = rotate_api_key(container().commands, partner_id, meta(), utc_now())
    return {"partner_id": partner_id, "api_key": issued.api_key, "version": issued.version}


@blueprint.route("/<partner_id>/follows", methods=["PUT"])
@require_role("admin")
@if_match_required
@blueprint.arguments(FollowsSchema)
@blueprint.response(200, PartnerSchema, headers=ETAG_HEADER)
@blueprint.doc(security=CAMPAIGNER, responses=links(200, **MANAGED))
def follow(body: dict[str, Any], partner_id: str) -> Reply:
    """Change what the partner follows: cases, actions, countries and event types.

    Events the webhook outbox reads from now on, and every feed read, go by the new lists.
    Deliveries already made (sent, pending or retrying) are kept and sent as made; a replay
    (`POST …/replay`) sends again what the partner follows now.
    """
    require_row(partners.c.partner_id, partner_id, "partner")
    _require_known(body["case_ids"], body["action_ids"])
    follows = Follows(**{name: body[name] for name in FOLLOW_FIELDS})
    outcome = change_follows(container().commands, partner_id, follows, meta(), utc_now(),
                             expected_version=expected_version(), conn=g.get("conn"))
    return representation(partner_id), 200, etag(outcome.version)


@blueprint.route("/<partner_id>/disable", methods=["POST"])
@require_role("admin")
@blueprint.response(200, PartnerSchema)
@blueprint.doc(security=CAMPAIGNER, responses=links(200, **MANAGED))
def disable(partner_id: str) -> dict[str, Any]:
    """Stop sending webhooks to the partner; its feed and inbound calls keep working."""
    return _switch(partner_id, enabled=False)


@blueprint.route("/<partner_id>/enable", methods=["POST"])
@require_role("admin")
@blueprint.response(200, PartnerSchema)
@blueprint.doc(security=CAMPAIGNER)
def enable(partner_id: str) -> dict[str, Any]:
    """Send webhooks to the partner again (after a 410, failures, or a campaigner's pause)."""
    return _switch(partner_id, enabled=True)


def _switch(partner_id: str, enabled: bool) -> dict[str, Any]:
    require_row(partners.c.partner_id, partner_id, "partner")
    set_endpoint(container().commands, partner_id, enabled, meta(), utc_now())
    return representation(partner_id)


def _require_known(case_ids: tuple[str, ...], action_ids: tuple[str, ...]) -> None:
    """422 naming every followed case or action that does not exist."""
    with reading() as conn:
        errors = unknown_follows(conn, case_ids, action_ids)
    if errors:
        abort(422, messages={"json": errors})


def representation(partner_id: str) -> dict[str, Any]:
    """The API's view of one partner, without credentials."""
    with reading() as conn:
        return _representation(conn, partner_id)


def _representation(conn: Connection, partner_id: str) -> dict[str, Any]:
    row = conn.execute(select(partners).where(partners.c.partner_id == partner_id)).one_or_none()
    if row is None:
        raise NotFound(f"no partner {partner_id}")
    body = {k: row._mapping[k] for k in PartnerSchema().fields if k in row._mapping}
    # The read model keeps the address as the log holds it: sealed (or clear, from v1).
    contact = reveal(container().vault, conn, partner_stream(partner_id), "contact_email",
                     row.contact_email)
    return {**body, "contact_email": contact, "registered_at": maybe_utc(row.registered_at)}
