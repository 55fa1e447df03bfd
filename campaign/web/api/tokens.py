"""Campaigner API tokens: admins create, list and revoke them."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from sqlalchemy import select

from campaign.application.access import ROLES, create_token, revoke_token
from campaign.application.errors import NotFound
from campaign.infra.tables import api_tokens
from campaign.web.api.common import ApiSchema
from campaign.web.api.json_body import Blueprint
from campaign.web.api.responses import link, links
from campaign.web.auth import require_role
from campaign.web.context import container

blueprint = Blueprint("tokens", __name__, url_prefix="/api/v1/tokens",
                      description="Campaigner API tokens (admin only).")
ADMIN: list[dict[str, list[str]]] = [{"campaignerToken": []}]


class NewTokenSchema(ApiSchema):
    name = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=200))
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(ROLES))


class TokenSchema(ApiSchema):
    token_id = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    role = ma.fields.String(required=True)
    revoked = ma.fields.Boolean(required=True)


class CreatedTokenSchema(TokenSchema):
    token = ma.fields.String(required=True, metadata={"description": "Shown once; store it now."})


@blueprint.route("", methods=["POST"])
@require_role("admin")
@blueprint.arguments(NewTokenSchema)
@blueprint.response(201, CreatedTokenSchema)
@blueprint.doc(security=ADMIN, responses=links(201, Revoke=link(
    "tokens.revoke", token_id="$response.body#/token_id")))
def create(body: dict[str, Any]) -> dict[str, Any]:
    """Create a token; the response is the only time it is shown."""
    token_id, token = create_token(container().engine, body["name"], body["role"])
    return {"token_id": token_id, "name": body["name"], "role": body["role"],
            "revoked": False, "token": token}


@blueprint.route("", methods=["GET"])
@require_role("admin")
@blueprint.response(200, TokenSchema(many=True))
@blueprint.doc(security=ADMIN)
def list_tokens() -> list[dict[str, Any]]:
    """Every token, without its secret."""
    with container().engine.connect() as conn:
        rows = conn.execute(select(api_tokens).order_by(api_tokens.c.created_at)).mappings()
        return [dict(r) for r in rows]


@blueprint.route("/<token_id>", methods=["DELETE"])
@require_role("admin")
@blueprint.response(204)
@blueprint.doc(security=ADMIN)
def revoke(token_id: str) -> None:
    """Revoke a token at once."""
    with container().engine.begin() as conn:
        if not revoke_token(conn, token_id):
            raise NotFound(f"no active token {token_id}")
