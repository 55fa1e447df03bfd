"""Partners authenticate with their own API key (`Authorization: Bearer uap_…`).

Partner keys and campaigner tokens live in different tables and are never interchangeable:
a campaigner token opens no partner endpoint, and a partner key no campaigner one.
"""

from __future__ import annotations

from flask import g, request

from campaign.api.common import services
from campaign.auth import AuthError, Caller
from campaign.partners.registry import PartnerRecord, partner_for_api_key

PARTNER_KEY: list[dict[str, list[str]]] = [{"partnerKey": []}]
PARTNER_SIGNED: list[dict[str, list[str]]] = [{"partnerKey": [], "partnerSignature": []}]
UNAUTHORIZED = {"401": "UNAUTHORIZED"}


def authenticate_partner() -> PartnerRecord:
    """The partner whose API key the request carries; AuthError for a missing or unknown key.

    Sets `g.caller`, so events the request appends record `partner:<id>` as their actor.
    """
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        raise AuthError("a partner API key is required: Authorization: Bearer <key>")
    with services().engine.connect() as conn:
        partner = partner_for_api_key(conn, header.removeprefix("Bearer ").strip())
    if partner is None:
        raise AuthError("the partner API key is unknown")
    g.caller = Caller("partner", partner.partner_id)
    return partner
